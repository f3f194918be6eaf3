"""Metrics tab: a summary across tasks and, per task, the figures its evaluation measured.

Everything shown is read from model_cards/<task>/metrics.json, written by the training and
evaluation code; this module only renders it.
"""
from __future__ import annotations

import html
from pathlib import Path

import gradio as gr
import pandas as pd
import plotly.graph_objects as go
from PIL import Image

from core import plots
from core.artifacts import load_metrics
from core.errors import InputError
from core.registry import TASKS, get_task
from demos.common import user_errors

SUMMARY_COLUMNS = ["task", "model", "headline metric", "value", "better", "parameters", "size (MB)", "latency (ms)",
                   "data set"]
ACRONYMS = {"mae": "MAE", "rmse": "RMSE", "smape": "sMAPE (%)", "mase": "MASE", "f1": "F1", "auroc": "AUROC",
            "map": "mAP", "wer": "WER", "cer": "CER", "ndcg": "NDCG", "rmsle": "RMSLE", "iou": "IoU", "miou": "mIoU",
            "bleu": "BLEU", "chrf": "chrF", "roc": "ROC", "auc": "AUC"}
LOWER_IS_BETTER = ("mae", "rmse", "smape", "mase", "loss", "wer", "cer", "perplexity", "latency", "error", "real_time")


def metric_label(name: str) -> str:
    """"held_out_mase" -> "held-out MASE": the words a reader expects, acronyms in capitals."""
    words = name.replace("held_out", "held-out").split("_")
    return " ".join(ACRONYMS.get(word.lower(), word) for word in words)


def better(name: str) -> str:
    """Which way a metric is better, from its name (coverage: closest to its nominal level)."""
    lowered = name.lower()
    if "coverage" in lowered:
        return "closest to nominal"
    if any(word in lowered.split("_") for word in ("forecasts", "support", "count", "n")):
        return ""
    return "lower" if any(part in lowered for part in LOWER_IS_BETTER) else "higher"


def format_value(value: object) -> str:
    """Counts as integers, fractions to 4 significant digits, large numbers with separators."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.1f}"


def summary_rows() -> list[list[str]]:
    """One row per task variant that has a metrics.json: its headline metric, in words."""
    rows = []
    for spec in sorted(TASKS.values(), key=lambda s: s.number):
        metrics = load_metrics(spec.card_dir)
        if not metrics:
            continue
        headline = metrics["headline"]
        for variant, block in metrics["variants"].items():
            model = block.get("model", {})
            value = block.get("metrics", {}).get(headline["metric"])
            parameters = model.get("parameters")
            rows.append([
                spec.title, variant, metric_label(headline["metric"]), "-" if value is None else format_value(value),
                "higher" if headline.get("higher_is_better") else "lower",
                "fitted per request" if parameters is None else format_value(parameters),
                "-" if model.get("size_mb") is None else format_value(model["size_mb"]),
                "-" if model.get("latency_ms") is None else format_value(model["latency_ms"]),
                block.get("data", {}).get("name", "-"),
            ])
    return rows


def summary_table() -> pd.DataFrame:
    """The summary as a table (what /model_metrics clients and the tests read)."""
    return pd.DataFrame(summary_rows(), columns=SUMMARY_COLUMNS)


def summary_html() -> str:
    """The summary as a responsive HTML table: columns on a desktop, one labelled card per row on a phone."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in SUMMARY_COLUMNS)
    body = "".join("<tr>" + "".join(f'<td data-label="{html.escape(c)}">{html.escape(str(v))}</td>'
                                    for c, v in zip(SUMMARY_COLUMNS, row)) + "</tr>" for row in summary_rows())
    return f'<table class="summary-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def model_metrics(task: str) -> dict:
    """Return the task's whole metrics.json (the /model_metrics endpoint)."""
    if not task:
        raise InputError("Choose a task from the list.")
    try:
        spec = get_task(task)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    metrics = load_metrics(spec.card_dir)
    if metrics is None:
        raise InputError(f"{task} has not been evaluated yet: run `python -m core.train {task}`.")
    return metrics


def _variant_block(task: str, variant: str | None) -> tuple[dict, dict, str]:
    metrics = model_metrics(task)
    variants = metrics["variants"]
    variant = variant if variant in variants else next(iter(variants))
    return metrics, variants[variant], variant


def _data_markdown(block: dict) -> str:
    data = block.get("data", {})
    model = block.get("model", {})
    lines = [f"**Data:** {data.get('name', '?')} (licence: {data.get('license', '?')})"]
    if data.get("splits"):
        lines.append("**Splits:** " + ", ".join(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in data["splits"].items()))
    if data.get("augmentation"):
        lines.append("**Augmentation:** " + "; ".join(data["augmentation"]))
    if model:
        lines.append(f"**Model:** {model.get('name', '')}: {model.get('architecture', '')}")
        if model.get("latency_ms") is not None:
            lines.append(f"**Latency:** {model['latency_ms']} ms ({model.get('latency_note', 'measured at evaluation time')})")
    scores = block.get("metrics", {})
    if scores:
        lines.append("\n| metric | value | better |\n|---|---|---|\n" + "\n".join(
            f"| {metric_label(k)} | {format_value(v)} | {better(k)} |" for k, v in scores.items()))
    return "\n\n".join(lines)


def _tables_markdown(block: dict) -> str:
    parts = []
    for table in block.get("tables", []):
        header = "| " + " | ".join(table["columns"]) + " |\n|" + "---|" * len(table["columns"])
        body = "\n".join("| " + " | ".join(format_value(c) for c in row) + " |" for row in table["rows"])
        parts.append(f"#### {table['title']}\n\n{header}\n{body}")
    return "\n\n".join(parts)


def _figures(task: str, metrics: dict) -> list[tuple[Image.Image, str]]:
    """The evaluation's own PNG figures (listed in metrics.json) as (image, caption) pairs."""
    card_dir = get_task(task).card_dir
    return [(Image.open(card_dir / rel).convert("RGB"), Path(rel).stem.replace("_", " "))
            for rel in metrics.get("figures", []) if (card_dir / rel).exists()]


def _samples(task: str, block: dict, kind: str) -> list[tuple[Image.Image, str]]:
    card_dir = get_task(task).card_dir
    items = []
    for sample in block.get("samples", {}).get(kind, []):
        path = card_dir / sample["image"]
        if path.exists():
            caption = f"{sample.get('label')} → {sample.get('predicted')}"
            if sample.get("score") is not None:
                caption += f" ({sample['score']:.0%})"
            items.append((Image.open(path).convert("RGB"), caption))
    return items


def _plot(figure: go.Figure | None) -> dict:
    """A figure for the tab: its title is the component's label (a plot title under the toolbar,
    or overlapping the legend on a phone, is hard to read); hidden when there is nothing to plot."""
    if figure is None:
        return gr.update(value=None, visible=False)
    figure.update_layout(title=None, margin=dict(t=30), legend=dict(orientation="h", y=-0.2))
    return gr.update(value=figure, visible=True)


def render(task: str, variant: str | None):
    """All the views of one task/variant for the UI."""
    metrics, block, variant = _variant_block(task, variant)
    cm = block.get("confusion_matrix")
    history = block.get("history")
    per_class = block.get("per_class")
    distribution = block.get("data", {}).get("class_distribution")
    return (
        gr.update(choices=list(metrics["variants"]), value=variant),
        _data_markdown(block),
        _plot(plots.confusion_matrix_figure(cm["labels"], cm["matrix"]) if cm else None),
        _plot(plots.training_curves_figure(history) if history else None),
        _plot(plots.per_class_figure(per_class) if per_class else None),
        _plot(plots.class_distribution_figure(distribution) if distribution else None),
        "\n\n".join(filter(None, [_tables_markdown(block), _tables_markdown(metrics.get("domain_check", {}))])),
        gr.update(value=_samples(task, block, "correct"), visible=bool(block.get("samples"))),
        gr.update(value=_samples(task, block, "misclassified"), visible=bool(block.get("samples"))),
        gr.update(value=_figures(task, metrics), visible=bool(metrics.get("figures"))),
    )


def build() -> gr.Blocks:
    """The Metrics tab."""
    tasks = [(spec.title, spec.name) for spec in sorted(TASKS.values(), key=lambda s: s.number) if load_metrics(spec.card_dir)]
    with gr.Blocks() as demo:
        gr.Markdown("## Model metrics\nEvery figure here was measured on held-out data by the project's own evaluation code "
                    "(`python -m core.train TASK`) and read from `model_cards/<task>/metrics.json`.")
        gr.Markdown("#### Summary across tasks")
        gr.HTML(summary_html(), elem_id="metrics-summary", padding=False)
        with gr.Row():
            task = gr.Dropdown(tasks, value=tasks[0][1] if tasks else None, label="Task")
            variant = gr.Dropdown([], label="Model variant")
        details = gr.Markdown()
        with gr.Row():
            cm_plot = gr.Plot(label="Confusion matrix")
            per_class_plot = gr.Plot(label="Per-class figures")
        curves_plot = gr.Plot(label="Training curves")
        distribution_plot = gr.Plot(label="Class distribution")
        tables = gr.Markdown()
        correct = gr.Gallery(label="Correct predictions (held-out)", columns=8, height=230, object_fit="contain")
        wrong = gr.Gallery(label="Misclassified (held-out)", columns=8, height=230, object_fit="contain")
        figures = gr.Gallery(label="Evaluation figures", columns=2, height=420, object_fit="contain")
        with gr.Accordion("metrics.json", open=False):
            raw = gr.JSON(label="metrics.json")

        views = [variant, details, cm_plot, curves_plot, per_class_plot, distribution_plot, tables, correct, wrong, figures]
        task.change(user_errors(model_metrics), inputs=task, outputs=raw, api_name="model_metrics").then(
            user_errors(render), inputs=[task, gr.State(None)], outputs=views, api_name="render_metrics_task",
            api_visibility="private")
        variant.input(user_errors(render), inputs=[task, variant], outputs=views, api_name="render_metrics_variant",
                      api_visibility="private")
        demo.load(user_errors(render), inputs=[task, gr.State(None)], outputs=views, api_name="render_metrics",
                  api_visibility="private")
        demo.load(user_errors(model_metrics), inputs=task, outputs=raw, api_name="load_metrics_json", api_visibility="private")
    return demo
