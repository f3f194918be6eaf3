"""Tab 10: forecast an uploaded CSV/Excel series or a bundled one.

UI wiring only: parsing, models and backtests live in core/tasks/time_series_forecasting/.
Public endpoint: /forecast(file, series=..., date_column="", value_column="", model="auto",
horizon=12, season_length=0).
"""
from __future__ import annotations

import functools
import time
from pathlib import Path

import gradio as gr
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.errors import InputError
from core.registry import EXAMPLES_DIR
from core.workers import run_heavy
from core.tasks.time_series_forecasting.adapter import MODEL_LABELS
from core.tasks.time_series_forecasting.data import BUNDLED, FREQUENCY_NAMES
from core.tasks.time_series_forecasting.decompose import Decomposition, stl_decomposition
from demos.common import (HEAVY_CONCURRENCY_LIMIT, api_json, card_link, expected_error, output_file, rerun_on,
                          show_first_result, timing, user_errors)

TASK = "time_series_forecasting"
MODEL_CHOICES = [("auto (best backtest)", "auto"), ("seasonal naive (baseline)", "seasonal_naive"),
                 ("ETS / Holt-Winters", "ets"), ("SARIMA (auto order)", "sarima"), ("Theta", "theta")]
AUTO = ("(detect)", "")
EXAMPLES = EXAMPLES_DIR / TASK
MAX_HORIZON = 120
MAX_PLOTTED_HISTORY = 2000
TITLE_SIZE = 14  # chart titles that fit a phone's width


def plot_decomposition(decomposition: Decomposition) -> go.Figure:
    """The STL parts, one panel each (just the series when it has no season)."""
    parts = decomposition.parts
    if len(parts) == 1:
        fig = go.Figure(go.Scatter(x=decomposition.index, y=parts["observed"], name="observed"))
        fig.update_layout(title=dict(text=decomposition.title, font_size=TITLE_SIZE), height=300,
                          margin=dict(l=10, r=10, t=50, b=10))
        return fig
    fig = make_subplots(rows=len(parts), cols=1, shared_xaxes=True, subplot_titles=list(parts), vertical_spacing=0.05)
    for row, (name, values) in enumerate(parts.items(), start=1):
        fig.add_trace(go.Scatter(x=decomposition.index, y=values, name=name, showlegend=False,
                                 mode="lines" if name != "remainder" else "markers", marker=dict(size=3)), row=row, col=1)
    fig.update_layout(title=dict(text=decomposition.title, font_size=TITLE_SIZE), height=620,
                      margin=dict(l=10, r=10, t=60, b=10))
    return fig


def decomposition_figure(series: pd.Series, m: int) -> go.Figure:
    """STL decomposition figure of a series (bounded: see core/tasks/time_series_forecasting/decompose.py)."""
    return plot_decomposition(stl_decomposition(series, m))


def forecast_figure(result, max_history: int = MAX_PLOTTED_HISTORY) -> go.Figure:
    """The most recent `max_history` points of history and in-sample fit, the forecast and the
    80 % / 95 % bands (a chart of 20,000 points is slow to send and draw, and unreadable)."""
    table = result.forecast
    history = result.history.iloc[-max_history:]
    fitted = None if result.fitted is None else result.fitted.iloc[-max_history:]
    x = list(table["timestamp"])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=list(table["upper_95"]) + list(table["lower_95"])[::-1], fill="toself",
                             fillcolor="rgba(255,127,14,0.15)", line=dict(width=0), name="95% interval", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x + x[::-1], y=list(table["upper_80"]) + list(table["lower_80"])[::-1], fill="toself",
                             fillcolor="rgba(255,127,14,0.3)", line=dict(width=0), name="80% interval", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=history.index, y=history.to_numpy(), name="history", line=dict(color="black")))
    if fitted is not None:
        fig.add_trace(go.Scatter(x=fitted.index, y=fitted.to_numpy(), name="in-sample fit",
                                 line=dict(color="rgba(31,119,180,0.7)", dash="dot")))
    fig.add_trace(go.Scatter(x=x, y=table["mean"], name=f"forecast ({result.model})", line=dict(color="rgb(255,127,14)")))
    shown = f" (last {len(history):,} of {len(result.history):,} points shown)" if len(history) < len(result.history) else ""
    # the series' name, and the model under it in small type: both fit a phone's width
    fig.update_layout(title=dict(text=f"{result.history.name}<br><sup>{result.spec}{shown}</sup>", font_size=TITLE_SIZE),
                      height=460, hovermode="x unified",
                      margin=dict(l=10, r=10, t=64, b=10), legend=dict(orientation="h", y=-0.15))
    return fig


def _csv(table: pd.DataFrame, name: str) -> str:
    path = output_file(f"forecast_{Path(name).stem or 'series'}.csv")
    table.to_csv(path, index=False)
    return str(path)


SOURCES = [("a bundled series", "bundled"), ("my file", "file")]
N_OUTPUTS = 7  # summary, chart, backtest table, forecast table, CSV, STL, JSON


@user_errors
def forecast(file: str | None, series: str = "air_passengers", date_column: str = "", value_column: str = "",
             model: str = "auto", horizon: float = 12, season_length: float = 0) -> tuple:
    """Forecast `horizon` steps of the uploaded file (or the bundled `series` when no file).

    Reading the file, fitting and decomposing run in the task's worker pool (core/workers.py),
    within its time budget; this process only draws the figures."""
    started = time.perf_counter()
    if model not in dict((v, k) for k, v in MODEL_CHOICES):
        raise InputError(f"Unknown model {model!r}; choose one of {', '.join(v for _, v in MODEL_CHOICES)}.")
    horizon = int(horizon)
    if not 1 <= horizon <= MAX_HORIZON:
        raise InputError(f"Horizon must be between 1 and {MAX_HORIZON} steps; got {horizon}.")
    response = run_heavy(TASK, model, "serve", file, series, date_column, value_column, horizon, int(season_length or 0))
    info, result = response.info, response.result
    payload = result.to_json()
    payload["series"] = info.to_dict()
    payload["notes"] = info.notes + payload["notes"]
    table = result.forecast.copy()
    table["timestamp"] = table["timestamp"].astype(str)
    frequency = FREQUENCY_NAMES.get(info.frequency, info.frequency)
    summary = (f"**{info.name}**: {info.n:,} points, {frequency}, season length {result.season_length}. "
               f"Model: **{MODEL_LABELS.get(result.model, result.model)}** ({result.spec}). "
               f"Time: {timing(payload['latency_ms'], started)}."
               + ("".join(f"\n- {note}" for note in payload["notes"])))
    return (summary, forecast_figure(result), result.candidates_table(), table.round(4), _csv(table, info.name),
            plot_decomposition(response.decomposition), payload)


def forecast_source(source: str, file: str | None, series: str, date_column: str, value_column: str, model: str,
                    horizon: float, season_length: float) -> tuple:
    """The tab's forecast: of the file or of the bundled series, as the source choice says (never
    silently the other one)."""
    if source == "file":
        if not file:
            raise expected_error(InputError("Upload a CSV or Excel file first (or choose a bundled series)."),
                                 "forecast_source")
        return forecast(file, "", date_column, value_column, model, horizon, season_length)
    return forecast(None, series, "", "", model, horizon, season_length)


def forecast_on_change(source: str, file: str | None, *rest) -> tuple:
    """The forecast after a choice changed: as `forecast_source`, except that choosing "my file"
    before uploading one waits for the upload instead of reporting an error."""
    if source == "file" and not file:
        return tuple(gr.skip() for _ in range(N_OUTPUTS))
    return forecast_source(source, file, *rest)


@user_errors
def inspect_file(file: str | None) -> tuple:
    """After an upload: offer the detected date/value columns (the user can override them)."""
    if not file:
        return gr.update(choices=[AUTO], value=""), gr.update(choices=[AUTO], value=""), ""
    table = run_heavy(TASK, "auto", "inspect", file)
    columns = [AUTO] + [(c, c) for c in table.columns]
    note = (f"Detected date column **{table.date_column or 'none'}** and value column **{table.value_column or 'none'}**."
            + (" Several candidates: pick the right ones below." if table.ambiguous else ""))
    return (gr.update(choices=columns, value=table.date_column or ""),
            gr.update(choices=columns, value=table.value_column or ""), note)


def _example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*") if p.suffix in {".csv", ".xlsx"}) if EXAMPLES.exists() else []


def build() -> gr.Blocks:
    """The forecasting tab (loads nothing until a request)."""
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown(
            "### Forecast a time series\nForecast a bundled real series, or your own CSV or Excel file with a date "
            "column and a numeric column. Seasonal naive, ETS, SARIMA and Theta are fitted to the data; **auto** "
            "backtests them on the series' own tail and keeps the best, and the table under the chart shows how each "
            "did. The shaded bands are 80% and 95% prediction intervals. Gaps are filled by interpolation. "
            + card_link(TASK))
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                source = gr.Radio(SOURCES, value="bundled", label="Forecast")
                series = gr.Dropdown([(label, key) for key, (label, _, _) in BUNDLED.items()], value="air_passengers",
                                     label="Bundled series")
                with gr.Group(visible=False) as file_group:
                    file = gr.File(label="CSV / Excel file", file_types=[".csv", ".txt", ".xlsx", ".xls"],
                                   type="filepath", height=120)
                    detected = gr.Markdown()
                    with gr.Row():
                        date_column = gr.Dropdown([AUTO], value="", label="Date column", allow_custom_value=True)
                        value_column = gr.Dropdown([AUTO], value="", label="Value column", allow_custom_value=True)
                model = gr.Dropdown(MODEL_CHOICES, value="auto", label="Model")
                horizon = gr.Slider(1, MAX_HORIZON, value=12, step=1, label="Horizon (steps ahead)")
                season_length = gr.Number(0, precision=0, minimum=0, maximum=366,
                                          label="Season length (0 = from the frequency, or a cycle found in the data)")
                run = gr.Button("Forecast", variant="primary")
            with gr.Column(scale=2, min_width=300):
                summary = gr.Markdown(elem_classes="result-summary")
                chart = gr.Plot(label="Forecast")
                metrics = gr.Dataframe(label="Backtest on the series' tail (best first; MASE < 1 beats a naive forecast)",
                                       interactive=False, wrap=True)
        with gr.Row():
            with gr.Column(min_width=300):
                table = gr.Dataframe(label="Forecast table", interactive=False, max_height=360)
                download = gr.File(label="Forecast as CSV", height=60)
            with gr.Column(min_width=300):
                stl = gr.Plot(label="STL decomposition")
        result = api_json()
        outputs = [summary, chart, metrics, table, download, stl, result]
        inputs = [source, file, series, date_column, value_column, model, horizon, season_length]
        events = dict(fn=forecast_source, inputs=inputs, outputs=outputs, concurrency_limit=HEAVY_CONCURRENCY_LIMIT,
                      trigger_mode="always_last", api_visibility="private")

        source.change(lambda s: (gr.update(visible=s == "bundled"), gr.update(visible=s == "file")), source,
                      [series, file_group], queue=False, api_name="toggle_forecast_source", api_visibility="private",
                      show_progress="hidden")
        run.click(**events, api_name="forecast_selected_source")
        controls = {"source": source, "series": series, "date_column": date_column, "value_column": value_column,
                    "model": model, "season_length": season_length}
        on_change = {**{k: v for k, v in events.items() if k not in ("trigger_mode", "api_visibility")},
                     "fn": forecast_on_change}
        rerun_on({**{name: control.input for name, control in controls.items()}, "horizon": horizon.release},
                 "forecast_on_new", **on_change)

        def forecast_new_file(event, name: str) -> None:  # a new file: detect its columns, then forecast it
            event.then(inspect_file, [file], [date_column, value_column, detected], api_name=f"inspect_{name}",
                       api_visibility="private", concurrency_limit=HEAVY_CONCURRENCY_LIMIT).success(
                **events, api_name=f"forecast_{name}")

        forecast_new_file(file.upload(lambda: "file", outputs=source, queue=False, api_name="choose_file_source",
                                      api_visibility="private", show_progress="hidden"), "uploaded_file")
        examples = _example_files()
        if examples:
            forecast_new_file(gr.Examples(
                [[str(p), "file"] for p in examples], inputs=[file, source], examples_per_page=6,
                label="Example files (real data): click one to forecast it",
                example_labels=[p.stem.replace("_", " ") for p in examples], api_name="load_forecast_example",
                api_visibility="private").load_input_event, "example_file")
        # The public endpoint keeps its documented signature, /forecast(file, series=..., ...): the file
        # when one is given, else the bundled series. API-only, so its trigger is a button nobody sees.
        gr.Button(visible=False).click(forecast, [file, series, date_column, value_column, model, horizon, season_length],
                                       outputs, api_name="forecast", concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        show_first_result(demo, functools.partial(forecast, None, "air_passengers"), [], [], outputs,
                          name="first_forecast")
    return demo
