"""Overview tab, the app's front page: one card per task, built from the registry and the
metrics each task's evaluation wrote, and every model card rendered in the app. It grows
with every task added to core/registry.py; nothing here is typed by hand."""
from __future__ import annotations

import html
import re

import gradio as gr

from core.artifacts import load_metrics
from core.registry import TASKS, TaskSpec

_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_RELATIVE_IMAGE = re.compile(r"(!\[[^\]]*\]\()(?!https?:|/)([^)\s]+)\)")

CSS = """
.task-cards {display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px;}
.task-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 12px 14px;}
.task-card h3 {margin: 0 0 4px 0;}
.task-card .metric {font-size: 1.4em; font-weight: 600; margin: 6px 0 2px 0;}
.task-card p {margin: 4px 0;}
"""


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}" if abs(value) < 10 else f"{value:,.0f}"


def task_card(spec: TaskSpec) -> str:
    """HTML card for one task: what it does, its headline metric (and which way is better),
    latency, the API endpoints, and where its model card is."""
    metrics = load_metrics(spec.card_dir) or {}
    headline = metrics.get("headline", {})
    block = metrics.get("variants", {}).get(headline.get("variant"), {})
    model = block.get("model", {})
    direction = {True: "higher is better", False: "lower is better"}.get(headline.get("higher_is_better"), "")
    metric = (f'<p class="metric">{html.escape(headline.get("label", headline.get("metric", "")))} = '
              f'{_number(headline.get("value"))}</p><p>{html.escape(direction)}; measured on '
              f'{html.escape(str(headline.get("split", "held-out data")))}</p>') if headline else "<p>Not evaluated yet.</p>"
    latency = model.get("latency_ms")
    endpoints = ", ".join(f"<code>{html.escape(e)}</code>" for e in spec.endpoints)
    return (f'<div class="task-card"><h3>{html.escape(spec.title)}</h3><p>{html.escape(spec.summary)}</p>{metric}'
            + (f"<p>Latency: {_number(latency)} ms ({html.escape(model.get('latency_note', ''))})</p>" if latency else "")
            + f"<p>Try it in the <b>{html.escape(spec.title)}</b> tab. API: {endpoints}. "
              f"Model card: below.</p></div>")


def card_markdown(spec: TaskSpec) -> str:
    """The task's model card as shown in the app: without the YAML header, figures served by the app."""
    path = spec.card_dir / "README.md"
    if not path.exists():
        return f"No model card yet: run `python -m core.train {spec.name}`."
    text = _FRONT_MATTER.sub("", path.read_text(encoding="utf-8"), count=1)
    return _RELATIVE_IMAGE.sub(lambda m: f"{m.group(1)}/gradio_api/file={spec.card_dir / m.group(2)})", text)


def build() -> gr.Blocks:
    """The Overview tab (reads metrics.json and the cards when the app is built; loads no model)."""
    specs = sorted(TASKS.values(), key=lambda spec: spec.number)
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown("Every model here was trained by this project's own code on a real data set, and every "
                    "figure was measured on held-out data by its evaluation. Everything runs offline on a CPU.")
        gr.HTML(f'<style>{CSS}</style><div class="task-cards">{"".join(task_card(s) for s in specs)}</div>',
                label="Tasks")
        gr.Markdown("### Model cards")
        for spec in specs:
            with gr.Accordion(f"Model card: {spec.title}", open=False):
                gr.Markdown(card_markdown(spec))
    return demo
