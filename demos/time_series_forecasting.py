"""Tab 10: forecast an uploaded CSV/Excel series or a bundled one.

UI wiring only: parsing, models and backtests live in core/tasks/time_series_forecasting/.
Public endpoint: /forecast(file, series=..., date_column="", value_column="", model="auto",
horizon=12, season_length=0).
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.errors import InputError
from core.registry import EXAMPLES_DIR
from core.workers import run_heavy
from core.tasks.time_series_forecasting.data import BUNDLED
from core.tasks.time_series_forecasting.decompose import Decomposition, stl_decomposition
from demos.common import HEAVY_CONCURRENCY_LIMIT, card_link, output_file, user_errors

TASK = "time_series_forecasting"
MODEL_CHOICES = [("auto (best backtest)", "auto"), ("seasonal naive (baseline)", "seasonal_naive"),
                 ("ETS / Holt-Winters", "ets"), ("SARIMA (auto order)", "sarima"), ("Theta", "theta")]
AUTO = ("(detect)", "")
EXAMPLES = EXAMPLES_DIR / TASK
MAX_HORIZON = 120
MAX_PLOTTED_HISTORY = 2000


def plot_decomposition(decomposition: Decomposition) -> go.Figure:
    """The STL parts, one panel each (just the series when it has no season)."""
    parts = decomposition.parts
    if len(parts) == 1:
        fig = go.Figure(go.Scatter(x=decomposition.index, y=parts["observed"], name="observed"))
        fig.update_layout(title=decomposition.title, height=300, margin=dict(l=10, r=10, t=50, b=10))
        return fig
    fig = make_subplots(rows=len(parts), cols=1, shared_xaxes=True, subplot_titles=list(parts), vertical_spacing=0.05)
    for row, (name, values) in enumerate(parts.items(), start=1):
        fig.add_trace(go.Scatter(x=decomposition.index, y=values, name=name, showlegend=False,
                                 mode="lines" if name != "remainder" else "markers", marker=dict(size=3)), row=row, col=1)
    fig.update_layout(title=decomposition.title, height=620, margin=dict(l=10, r=10, t=60, b=10))
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
    fig.update_layout(title=f"{result.history.name}: {result.spec}{shown}", height=460, hovermode="x unified",
                      margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.15))
    return fig


def _csv(table: pd.DataFrame, name: str) -> str:
    path = output_file(f"forecast_{Path(name).stem or 'series'}.csv")
    table.to_csv(path, index=False)
    return str(path)


@user_errors
def forecast(file: str | None, series: str = "air_passengers", date_column: str = "", value_column: str = "",
             model: str = "auto", horizon: float = 12, season_length: float = 0) -> tuple:
    """Forecast `horizon` steps of the uploaded file (or the bundled `series` when no file).

    Reading the file, fitting and decomposing run in the task's worker pool (core/workers.py),
    within its time budget; this process only draws the figures."""
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
    summary = (f"**{info.name}**: {info.n} points, frequency `{info.frequency}`, season length {result.season_length}. "
               f"Model: **{result.model}** ({result.spec}), {payload['latency_ms']:.0f} ms."
               + ("".join(f"\n- {note}" for note in payload["notes"])))
    return (plot_decomposition(response.decomposition), forecast_figure(result), table.round(4),
            _csv(table, info.name), result.candidates_table(), summary, payload)


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


def _examples() -> list[list]:
    files = sorted(p for p in EXAMPLES.glob("*") if p.suffix in {".csv", ".xlsx"}) if EXAMPLES.exists() else []
    return [[str(p), "", "auto", 12] for p in files]


def build() -> gr.Blocks:
    """The forecasting tab (loads nothing until a request)."""
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown(
            "### Forecast a time series\nUpload a CSV or Excel file with a date column and a numeric column, or pick a "
            "bundled real series. Seasonal naive, ETS, SARIMA and Theta are fitted on your data; **auto** backtests them "
            "on the series' own tail and keeps the best. Gaps are filled by interpolation. " + card_link(TASK)
        )
        with gr.Row():
            with gr.Column(scale=1):
                file = gr.File(label="CSV / Excel file (optional)", file_types=[".csv", ".txt", ".xlsx", ".xls"],
                               type="filepath")
                series = gr.Dropdown([(label, key) for key, (label, _, _) in BUNDLED.items()], value="air_passengers",
                                     label="...or a bundled series (used when no file is uploaded)")
                detected = gr.Markdown()
                with gr.Row():
                    date_column = gr.Dropdown([AUTO], value="", label="Date column", allow_custom_value=True)
                    value_column = gr.Dropdown([AUTO], value="", label="Value column", allow_custom_value=True)
                model = gr.Dropdown(MODEL_CHOICES, value="auto", label="Model")
                horizon = gr.Slider(1, MAX_HORIZON, value=12, step=1, label="Horizon (steps ahead)")
                season_length = gr.Number(0, precision=0, minimum=0, maximum=366,
                                          label="Season length (0 = infer from the frequency)")
                run = gr.Button("Forecast", variant="primary")
            with gr.Column(scale=2):
                summary = gr.Markdown()
                chart = gr.Plot(label="Forecast")
                metrics = gr.Dataframe(label="Backtest on the series' tail (vs seasonal naive)", interactive=False)
        with gr.Row():
            with gr.Column():
                table = gr.Dataframe(label="Forecast table", interactive=False)
                download = gr.File(label="Forecast as CSV")
            with gr.Column():
                stl = gr.Plot(label="STL decomposition")
        result = gr.JSON(label="Result (API JSON)")
        if _examples():
            gr.Examples(_examples(), inputs=[file, value_column, model, horizon], label="Example files (real data)",
                        api_name="load_forecast_example", api_visibility="private")
        file.change(inspect_file, [file], [date_column, value_column, detected], api_name="inspect_forecast_file",
                    api_visibility="private", concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        run.click(forecast, [file, series, date_column, value_column, model, horizon, season_length],
                  [stl, chart, table, download, metrics, summary, result], api_name="forecast",
                  concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
    return demo
