"""Overview tab, the app's front page: one card per task, built from the registry and the
metrics each task's evaluation wrote, and every model card rendered in the app. It grows
with every task added to core/registry.py; nothing here is typed by hand."""
from __future__ import annotations

import html
import json
import re

import gradio as gr

from core.artifacts import load_metrics
from core.registry import TASKS, TaskSpec
from core.settings import REPO_ROOT
from demos.metrics import metric_label
from demos.notebook_view import render_notebook

_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_RELATIVE_IMAGE = re.compile(r"(!\[[^\]]*\]\()(?!https?:|/)([^)\s]+)\)")


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
    metric = (f'<p class="metric">{html.escape(metric_label(headline.get("metric", "")))} = '
              f'{_number(headline.get("value"))}</p><p>{html.escape(direction)}; model <code>{html.escape(str(headline.get("variant")))}'
              f'</code>, measured on {html.escape(str(headline.get("split", "held-out data")))}</p>') if headline else "<p>Not evaluated yet.</p>"
    latency = model.get("latency_ms")
    endpoints = ", ".join(f"<code>{html.escape(e)}</code>" for e in spec.endpoints)
    return (f'<div><h3>{html.escape(spec.title)}</h3><p>{html.escape(spec.summary)}</p>{metric}'
            + (f"<p>Latency: {_number(latency)} ms ({html.escape(model.get('latency_note', ''))})</p>" if latency else "")
            + f"<p>API: {endpoints}. Model card and notebook: below.</p></div>")


def card_markdown(spec: TaskSpec) -> str:
    """The task's model card as shown in the app: without the YAML header, figures served by the app."""
    path = spec.card_dir / "README.md"
    if not path.exists():
        return f"No model card yet: run `python -m core.train {spec.name}`."
    text = _FRONT_MATTER.sub("", path.read_text(encoding="utf-8"), count=1)
    return _RELATIVE_IMAGE.sub(lambda m: f"{m.group(1)}/gradio_api/file={spec.card_dir / m.group(2)})", text)


def open_tab_js(title: str) -> str:
    """Browser-side: select the tab called `title` (from the tab bar, or its overflow menu)."""
    return ("() => { const name = %s; const button = [...document.querySelectorAll('button')]"
            ".find(b => b.innerText.trim() === name && (b.getAttribute('role') === 'tab' || b.closest('.overflow-dropdown')));"
            " if (button) { button.click(); window.scrollTo({top: 0}); } }") % json.dumps(title)


def build() -> gr.Blocks:
    """The Overview tab (reads metrics.json and the cards when the app is built; loads no model;
    a notebook is rendered only when its accordion is opened)."""
    specs = sorted(TASKS.values(), key=lambda spec: spec.number)
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown("Every model here was trained or fine-tuned by this project's own code, except three that are "
                    "served as published (Apertium, the rule-based translator; Whisper tiny.en and PocketSphinx, "
                    "the speech recognisers), and every figure was measured on held-out data by the project's "
                    "evaluation. Everything runs offline on a CPU.")
        with gr.Row(elem_classes="task-cards"):
            for spec in specs:
                with gr.Column(elem_classes="task-card", min_width=260):
                    gr.HTML(task_card(spec), padding=False)
                    gr.Button(f"Try {spec.title.lower()}", variant="primary", size="sm").click(
                        None, js=open_tab_js(spec.title), api_name=f"open_{spec.name}_tab", api_visibility="private")
        gr.Markdown("### Model cards and notebooks")
        for spec in specs:
            with gr.Accordion(f"Model card: {spec.title}", open=False):
                gr.Markdown(card_markdown(spec))
            with gr.Accordion(f"Notebook: {spec.title}", open=False) as notebook:
                gr.Markdown(f"`{spec.notebook.relative_to(REPO_ROOT)}`, as last executed "
                            f"([download the .ipynb](/gradio_api/file={spec.notebook})). It trains and evaluates "
                            f"the model: `python -m core.train {spec.name}` runs the same code.")

                @gr.render(triggers=[notebook.expand])
                def show_notebook(path=spec.notebook) -> None:
                    render_notebook(path)
    return demo
