"""Metrics tab: a summary across tasks and, per task, the figures its evaluation measured.

Everything shown is read from model_cards/<task>/metrics.json, written by the training and
evaluation code; this module only renders it.
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd
from PIL import Image

from core import plots
from core.artifacts import load_metrics
from core.errors import InputError
from core.registry import TASKS, get_task
from demos.common import user_errors

SUMMARY_COLUMNS = ["task", "variant", "headline metric", "value", "parameters", "size (MB)", "latency (ms)", "data set"]


def summary_table() -> pd.DataFrame:
    """One row per task variant that has a metrics.json."""
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
                spec.name, variant, headline.get("label", headline["metric"]), None if value is None else round(value, 4),
                "fitted per request" if parameters is None else f"{parameters:,}",
                model.get("size_mb"), model.get("latency_ms"), block.get("data", {}).get("name"),
            ])
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


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
        lines.append(f"**Model:** {model.get('name', '')} — {model.get('architecture', '')}")
        if model.get("latency_ms") is not None:
            lines.append(f"**Latency:** {model['latency_ms']} ms ({model.get('latency_note', 'measured at evaluation time')})")
    scores = block.get("metrics", {})
    if scores:
        lines.append("\n| metric | value |\n|---|---|\n" + "\n".join(
            f"| {k} | {v:.4f} |" if isinstance(v, (int, float)) else f"| {k} | {v} |" for k, v in scores.items()))
    return "\n\n".join(lines)


def _tables_markdown(block: dict) -> str:
    parts = []
    for table in block.get("tables", []):
        header = "| " + " | ".join(table["columns"]) + " |\n|" + "---|" * len(table["columns"])
        body = "\n".join("| " + " | ".join(f"{c:.4g}" if isinstance(c, float) else str(c) for c in row) + " |" for row in table["rows"])
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
        gr.update(value=plots.confusion_matrix_figure(cm["labels"], cm["matrix"]) if cm else None, visible=bool(cm)),
        gr.update(value=plots.training_curves_figure(history) if history else None, visible=bool(history)),
        gr.update(value=plots.per_class_figure(per_class) if per_class else None, visible=bool(per_class)),
        gr.update(value=plots.class_distribution_figure(distribution) if distribution else None, visible=bool(distribution)),
        _tables_markdown(block),
        gr.update(value=_samples(task, block, "correct"), visible=bool(block.get("samples"))),
        gr.update(value=_samples(task, block, "misclassified"), visible=bool(block.get("samples"))),
        gr.update(value=_figures(task, metrics), visible=bool(metrics.get("figures"))),
    )


def build() -> gr.Blocks:
    """The Metrics tab."""
    tasks = [spec.name for spec in sorted(TASKS.values(), key=lambda s: s.number) if load_metrics(spec.card_dir)]
    with gr.Blocks() as demo:
        gr.Markdown("## Model metrics\nEvery figure here was measured on held-out data by the project's own evaluation code "
                    "(`python -m core.train TASK`) and read from `model_cards/<task>/metrics.json`.")
        summary = gr.Dataframe(label="Summary across tasks", interactive=False)
        with gr.Row():
            task = gr.Dropdown(tasks, value=tasks[0] if tasks else None, label="Task")
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
        demo.load(summary_table, outputs=summary, api_name="summary_table", api_visibility="private")
    return demo
