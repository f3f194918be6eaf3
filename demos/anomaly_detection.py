"""Tab 11: find the unusual rows of an uploaded CSV/Excel table or of a bundled labelled data set.

UI wiring only: reading, column detection, detectors and explanations live in
core/tasks/anomaly_detection/. Public endpoint: /detect_anomalies(file, detector="auto",
contamination=0.05, label_column="", dataset="sensor_single_hop", scaling="robust").

The detection (read + fit + score + explain) runs in the task's worker pool; its result, with
every row's score, stays in the session (gr.State), so moving the contamination slider re-flags
the rows at once without fitting again. Only the scored CSV is rewritten, in the worker.
"""
from __future__ import annotations

import functools
import time
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.errors import InputError
from core.tasks.anomaly_detection.adapter import Detection, payload
from core.tasks.anomaly_detection.data import BUNDLED
from core.tasks.anomaly_detection.detectors import LABELS, VARIANTS
from core.tasks.anomaly_detection.evaluate import threshold_for
from core.tasks.anomaly_detection.explain import describe
from core.tasks.anomaly_detection.table import SCALINGS
from core.workers import run_heavy
from demos.common import (HEAVY_CONCURRENCY_LIMIT, api_json, card_link, output_file, rerun_on, show_first_result,
                          timing, user_errors)

TASK = "anomaly_detection"
DEFAULT_DATASET = "sensor_single_hop"
DETECTOR_CHOICES = [(LABELS[v], v) for v in VARIANTS]
DATASET_CHOICES = [(spec.label, key) for key, spec in BUNDLED.items()]
SOURCES = [("a bundled data set", "bundled"), ("my file", "file")]
DETECT, NO_LABEL = ("(detect)", ""), ("(none)", "none")
PCA_AXES = ("PCA 1", "PCA 2")
TOP_ROWS = 20
HISTOGRAM_BINS = 60
TITLE_SIZE = 14
MIN_CONTAMINATION, MAX_CONTAMINATION = 0.001, 0.5
FLAG_COLOUR, NORMAL_COLOUR = "rgb(214,39,40)", "rgba(31,119,180,0.45)"
N_OUTPUTS = 6  # summary, scatter, histogram, top rows, CSV, JSON


# ---------------------------------------------------------------- figures and tables
def _axis(detection: Detection, name: str) -> tuple[np.ndarray, str]:
    """The plotted rows' values on one axis: a principal component or a feature."""
    plot = detection.plot
    if name in PCA_AXES:
        k = PCA_AXES.index(name)
        return plot.pca[:, k], f"{name} ({plot.pca_variance[k]:.0%} of the variance)"
    if name not in detection.feature_names:
        raise InputError(f"{name!r} is not a feature of this table; choose PCA or one of its features.")
    return plot.values[:, detection.feature_names.index(name)], name


def scatter_figure(detection: Detection, flags: np.ndarray, x: str | None = None, y: str | None = None) -> go.Figure:
    """Two features (or the first two principal components) of the plotted rows, flagged rows in red;
    rows labelled as anomalies in the file are drawn as crosses. Long tables show a sample of
    PLOT_POINTS rows that always holds the highest scores."""
    x, y = x or detection.plot.default_axes[0], y or detection.plot.default_axes[1]
    positions = detection.plot.positions
    xs, x_title = _axis(detection, x)
    ys, y_title = _axis(detection, y)
    flagged = flags[positions]
    labelled = detection.label[positions] == 1 if detection.label is not None else np.zeros(len(positions), bool)
    rows, scores = detection.rows[positions], detection.scores[positions]
    fig = go.Figure()
    for name, mask, colour, size in (("normal", ~flagged, NORMAL_COLOUR, 5), ("flagged", flagged, FLAG_COLOUR, 8)):
        fig.add_trace(go.Scatter(
            x=xs[mask], y=ys[mask], mode="markers", name=f"{name} ({int(mask.sum()):,} shown)",
            marker=dict(color=colour, size=size, symbol=np.where(labelled[mask], "x", "circle"),
                        line=dict(width=0)),
            customdata=np.c_[rows[mask], scores[mask]],
            hovertemplate="row %{customdata[0]:.0f}<br>score %{customdata[1]:.4g}<extra></extra>"))
    if labelled.any():  # a legend entry for the crosses
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="labelled anomaly",
                                 marker=dict(color="grey", size=8, symbol="x")))
    shown = (f"{len(positions):,} of {detection.n_rows:,} rows shown" if len(positions) < detection.n_rows
             else f"all {detection.n_rows:,} rows")
    fig.update_layout(title=dict(text=f"{int(flags.sum()):,} rows flagged<br><sup>{shown}</sup>", font_size=TITLE_SIZE),
                      xaxis_title=x_title, yaxis_title=y_title, height=460, margin=dict(l=10, r=10, t=64, b=10),
                      legend=dict(orientation="h", y=-0.18))
    return fig


def histogram_figure(detection: Detection, threshold: float) -> go.Figure:
    """The scores of every row (binned on the server), log count, and the threshold."""
    counts, edges = np.histogram(detection.scores, bins=HISTOGRAM_BINS)
    centres = (edges[:-1] + edges[1:]) / 2
    above = centres >= threshold
    fig = go.Figure()
    for name, mask, colour in (("below the threshold", ~above, NORMAL_COLOUR), ("flagged", above, FLAG_COLOUR)):
        fig.add_trace(go.Bar(x=centres[mask], y=counts[mask], width=float(edges[1] - edges[0]), name=name,
                             marker_color=colour, hovertemplate="score %{x:.4g}: %{y:,} rows<extra></extra>"))
    fig.add_vline(x=threshold, line_dash="dash", line_color="black",
                  annotation_text=f"threshold {threshold:.4g}", annotation_position="top right")
    fig.update_layout(title=dict(text=f"Anomaly scores ({LABELS[detection.detector]})", font_size=TITLE_SIZE),
                      xaxis_title="score (higher = more unusual)", yaxis_title="rows", yaxis_type="log", height=320,
                      bargap=0, margin=dict(l=10, r=10, t=50, b=10), showlegend=False)
    return fig


def top_table(detection: Detection, flags: np.ndarray, n: int = TOP_ROWS) -> pd.DataFrame:
    """The `n` highest-scoring rows: row, score, flagged, the features that make each one unusual."""
    records = []
    for rank, item in enumerate(detection.top[:n], start=1):
        position = item["position"]
        record = {"rank": rank, "row": int(detection.rows[position]), "score": float(f"{detection.scores[position]:.4g}"),
                  "flagged": "yes" if flags[position] else "no", "why (feature value, direction, contribution)":
                  describe(item["features"])}
        if detection.label is not None:
            record["labelled"] = {1: "anomaly", 0: "normal"}.get(int(detection.label[position]), "?")
        records.append(record)
    return pd.DataFrame(records)


def columns_table(detection: Detection) -> pd.DataFrame:
    """How each column of the table was read."""
    return pd.DataFrame([{"column": r["name"], "used as": r["role"], "why": r["reason"],
                          "empty cells": r["missing"]} for r in detection.roles])


def summary(detection: Detection, result: dict, started: float) -> str:
    """The sentence above the results, with the metrics when the table has labels, and the notes."""
    columns = detection.columns
    used = len(columns["features"]) + len(columns["categorical"])
    text = (f"**{detection.name}**: {detection.n_rows:,} rows, {used} column(s) used "
            f"({len(detection.feature_names)} features). Detector: **{LABELS[detection.detector]}**. "
            f"Flagged **{result['n_flagged']:,}** rows ({result['n_flagged'] / detection.n_rows:.1%}) with a score of "
            f"at least {result['threshold']:.4g}.")
    metrics = result["metrics"]
    if metrics:
        at = metrics["at_threshold"] or {}
        text += (f"\n\nAgainst the labels in **{detection.label_column}** ({metrics['n_anomalies']:,} anomalies): "
                 f"ROC-AUC **{metrics['roc_auc']:.3f}**, average precision {metrics['average_precision']:.3f}, "
                 f"precision@{metrics['n_anomalies']:,} {metrics['precision_at_n']:.3f}"
                 + (f"; at this threshold precision {at['precision']:.3f}, recall {at['recall']:.3f}." if at else "."))
    text += f"\n\nTime: {timing(detection.fit_ms + detection.score_ms, started)}."
    return text + "".join(f"\n- {note}" for note in detection.notes)


def _outputs(detection: Detection, contamination: float, started: float, x: str | None = None,
             y: str | None = None) -> tuple:
    """summary, scatter, histogram, top rows and JSON of a detection flagged at `contamination`."""
    result = payload(detection, contamination)
    _, flags = threshold_for(detection.scores, contamination)
    axes = _axis_choices(detection)
    x, y = (x if x in axes else None), (y if y in axes else None)  # axes of an earlier table: the defaults
    return (summary(detection, result, started), scatter_figure(detection, flags, x, y),
            histogram_figure(detection, result["threshold"]), top_table(detection, flags), result)


# ---------------------------------------------------------------- events
def _run(file: str | None, detector: str, contamination: float, label_column: str | None, dataset: str | None,
         scaling: str) -> tuple[Detection, float]:
    if detector not in VARIANTS:
        raise InputError(f"Unknown detector {detector!r}; choose one of {', '.join(VARIANTS)}.")
    if scaling not in SCALINGS:
        raise InputError(f"Unknown scaling {scaling!r}; choose one of {', '.join(SCALINGS)}.")
    if dataset and dataset not in BUNDLED and not file:
        raise InputError(f"Unknown data set {dataset!r}; choose one of {', '.join(BUNDLED)}.")
    started = time.perf_counter()
    stem = Path(file).stem if file else (dataset or "table")
    csv_path = str(output_file(f"anomalies_{stem}.csv"))
    detection = run_heavy(TASK, detector, "serve", file, dataset, label_column or "", float(contamination), scaling,
                          csv_path)
    return detection, started


@user_errors
def detect_anomalies(file: str | None, detector: str = "auto", contamination: float = 0.05, label_column: str = "",
                     dataset: str = DEFAULT_DATASET, scaling: str = "robust") -> tuple:
    """Score every row of the uploaded file (or of the bundled `dataset` when no file) and flag the
    `contamination` share with the highest scores. Runs in the task's worker pool."""
    detection, started = _run(file, detector, contamination, label_column, dataset, scaling)
    text, scatter, histogram, table, result = _outputs(detection, contamination, started)
    return text, scatter, histogram, table, detection.csv_path, result


def _axis_choices(detection: Detection) -> list:
    return list(PCA_AXES) + detection.feature_names


@user_errors
def detect_source(source: str, file: str | None, dataset: str, detector: str, contamination: float,
                  label_column: str, scaling: str) -> tuple:
    """The tab's detection: of the file or of the bundled data set, as the source choice says
    (never silently the other one); also the session state and the column choices."""
    if source == "file" and not file:
        raise InputError("Upload a CSV or Excel file first (or choose a bundled data set).")
    detection, started = _run(file if source == "file" else None, detector, contamination, label_column,
                              None if source == "file" else dataset, scaling)
    text, scatter, histogram, table, result = _outputs(detection, contamination, started)
    axes = _axis_choices(detection)
    x, y = detection.plot.default_axes
    labels = [DETECT, NO_LABEL] + [(c, c) for c in detection.table_columns]
    return (text, scatter, histogram, table, detection.csv_path, result, detection, columns_table(detection),
            gr.update(choices=axes, value=x), gr.update(choices=axes, value=y),
            gr.update(choices=labels, value=label_column or ""))


N_TAB_OUTPUTS = N_OUTPUTS + 5  # + state, columns table, x axis, y axis, label column


def detect_on_change(source: str, file: str | None, *rest) -> tuple:
    """As `detect_source`, except that choosing "my file" before uploading one waits for the upload."""
    if source == "file" and not file:
        return tuple(gr.skip() for _ in range(N_TAB_OUTPUTS))
    return detect_source(source, file, *rest)


@user_errors
def reflag(detection: Detection | None, contamination: float, x: str, y: str) -> tuple:
    """Flag the rows again at another contamination: the kept scores, no new fit (fast, in this process)."""
    if detection is None:
        return tuple(gr.skip() for _ in range(5))
    started = time.perf_counter()
    return _outputs(detection, contamination, started, x or None, y or None)


@user_errors
def export_csv(detection: Detection | None, contamination: float) -> str | None:
    """The scored CSV with the flags of the current contamination (rewritten in the worker)."""
    if detection is None or not detection.csv_path:
        return gr.skip()
    if detection.csv_contamination == float(contamination):
        return detection.csv_path
    target = str(output_file(Path(detection.csv_path).name))
    return run_heavy(TASK, detection.detector, "export", detection.csv_path, target, detection.scores,
                     float(contamination))


@user_errors
def redraw(detection: Detection | None, contamination: float, x: str, y: str) -> go.Figure:
    """The scatter plot on other axes."""
    if detection is None:
        return gr.skip()
    _, flags = threshold_for(detection.scores, contamination)
    return scatter_figure(detection, flags, x or None, y or None)


def build() -> gr.Blocks:
    """The anomaly-detection tab (loads nothing until a request)."""
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown(
            "### Find the unusual rows of a table\nChoose a bundled data set with known anomalies, or upload a CSV or "
            "Excel file: numeric columns are used, text columns with few values are one-hot encoded, ids, counters "
            "and timestamps are left out, empty cells are filled with the median. A detector scores every row "
            "(higher = more unusual); the slider sets the share of rows flagged, and moving it re-flags at once "
            "without fitting again. When the table has a label column (label, class, anomaly...), the result is "
            "scored against it. " + card_link(TASK))
        state = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                source = gr.Radio(SOURCES, value="bundled", label="Check")
                dataset = gr.Dropdown(DATASET_CHOICES, value=DEFAULT_DATASET, label="Bundled data set")
                with gr.Group(visible=False) as file_group:
                    file = gr.File(label="CSV / Excel file", file_types=[".csv", ".txt", ".xlsx", ".xls"],
                                   type="filepath", height=120, elem_id="anomaly-file")
                detector = gr.Dropdown(DETECTOR_CHOICES, value="auto", label="Detector")
                contamination = gr.Slider(MIN_CONTAMINATION, MAX_CONTAMINATION, value=0.05, step=0.001,
                                          label="Share of rows to flag (contamination)")
                with gr.Accordion("Columns, scaling and plot axes", open=False):
                    label_column = gr.Dropdown([DETECT, NO_LABEL], value="", label="Label column (ground truth)",
                                               allow_custom_value=True)
                    scaling = gr.Radio(list(SCALINGS), value="robust", label="Scaling")
                    with gr.Row():
                        x_axis = gr.Dropdown(list(PCA_AXES), value=PCA_AXES[0], label="Plot x", allow_custom_value=True)
                        y_axis = gr.Dropdown(list(PCA_AXES), value=PCA_AXES[1], label="Plot y", allow_custom_value=True)
                run = gr.Button("Detect anomalies", variant="primary")
            with gr.Column(scale=2, min_width=300):
                summary_md = gr.Markdown(elem_classes="result-summary")
                scatter = gr.Plot(label="Rows (flagged in red)")
                histogram = gr.Plot(label="Score histogram")
        top = gr.Dataframe(label="Most unusual rows, and the features that make them unusual", interactive=False,
                           wrap=True, max_height=420)
        download = gr.File(label="Every row with its score and flag (CSV)", height=60)
        with gr.Accordion("How the columns were read", open=False):
            columns = gr.Dataframe(label="Columns", interactive=False, wrap=True)
        result = api_json()

        outputs = [summary_md, scatter, histogram, top, download, result]
        tab_outputs = outputs + [state, columns, x_axis, y_axis, label_column]
        inputs = [source, file, dataset, detector, contamination, label_column, scaling]
        events = dict(fn=detect_source, inputs=inputs, outputs=tab_outputs, concurrency_limit=HEAVY_CONCURRENCY_LIMIT,
                      trigger_mode="always_last", api_visibility="private")

        source.change(lambda s: (gr.update(visible=s == "bundled"), gr.update(visible=s == "file")), source,
                      [dataset, file_group], queue=False, api_name="toggle_anomaly_source", api_visibility="private",
                      show_progress="hidden")
        run.click(**events, api_name="detect_selected_source")
        on_change = {**{k: v for k, v in events.items() if k not in ("trigger_mode", "api_visibility")},
                     "fn": detect_on_change}
        rerun_on({"detector": detector.input, "label_column": label_column.input, "scaling": scaling.input},
                 "detect_on_new", **on_change)
        # a new data set or file: its own label column is detected again
        dataset.input(lambda: "", outputs=label_column, queue=False, api_name="reset_label_for_dataset",
                      api_visibility="private", show_progress="hidden").then(**events, api_name="detect_new_dataset")
        file.upload(lambda: ("file", ""), outputs=[source, label_column], queue=False, api_name="choose_anomaly_file",
                    api_visibility="private", show_progress="hidden").then(**events, api_name="detect_uploaded_file")
        # the slider re-flags from the kept scores (no fit), then the CSV follows in the worker
        contamination.release(reflag, [state, contamination, x_axis, y_axis], [summary_md, scatter, histogram, top, result],
                              api_name="reflag_anomalies", api_visibility="private", trigger_mode="always_last",
                              show_progress="minimal").then(
            export_csv, [state, contamination], download, api_name="export_anomalies_csv", api_visibility="private",
            concurrency_limit=HEAVY_CONCURRENCY_LIMIT, show_progress="hidden")
        for name, axis in (("x", x_axis), ("y", y_axis)):
            axis.input(redraw, [state, contamination, x_axis, y_axis], scatter, api_name=f"redraw_anomalies_{name}",
                       api_visibility="private", trigger_mode="always_last", show_progress="minimal")
        # The public endpoint, /detect_anomalies(file, detector, contamination, label_column, dataset, scaling):
        # the file when one is given, else the bundled data set. API-only: its trigger is a button nobody sees.
        gr.Button(visible=False).click(detect_anomalies, [file, detector, contamination, label_column, dataset, scaling],
                                       outputs, api_name="detect_anomalies", concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        show_first_result(demo, functools.partial(detect_source, "bundled", None, DEFAULT_DATASET, "auto", 0.05, "",
                                                  "robust"), [], [], tab_outputs, name="first_anomalies")
    return demo

