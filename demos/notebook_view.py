"""A task's notebook shown in the app, as it was last executed: its text, code, printed output,
tables and interactive charts. Rendered only when a visitor opens it (the Overview tab)."""
from __future__ import annotations

import html
from pathlib import Path

import gradio as gr
import nbformat
import plotly.graph_objects as go

MAX_OUTPUT_CHARS = 4000  # printed output longer than this is cut (the notebook file has it all)
PLOTLY = "application/vnd.plotly.v1+json"


def _fence(text: str, language: str = "") -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS] + "\n... (cut; see the notebook file)"


def notebook_blocks(path: Path) -> list[tuple[str, object]]:
    """The notebook as ("markdown", text), ("html", table) and ("plot", figure) blocks, in order;
    consecutive text is merged so a notebook becomes a few dozen components, not hundreds."""
    notebook = nbformat.read(str(path), as_version=4)
    blocks: list[tuple[str, object]] = []
    text: list[str] = []

    def flush() -> None:
        if text:
            blocks.append(("markdown", "\n\n".join(text)))
            text.clear()

    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            text.append(cell.source)
        elif cell.cell_type == "code":
            text.append(_fence(cell.source, "python"))
            for output in cell.get("outputs", []):
                if output.output_type == "stream":
                    text.append(_fence(_clip(output.text)))
                elif output.output_type == "error":
                    text.append(_fence(f"{output.ename}: {output.evalue}"))
                else:
                    data = output.get("data", {})
                    if PLOTLY in data:
                        flush()
                        blocks.append(("plot", go.Figure(data[PLOTLY])))
                    elif "text/html" in data:
                        flush()
                        blocks.append(("html", data["text/html"]))
                    elif "text/plain" in data:
                        text.append(_fence(_clip(data["text/plain"])))
    flush()
    return blocks


def render_notebook(path: Path) -> None:
    """Create the notebook's components inside the current Blocks context (a gr.render function)."""
    if not path.exists():
        gr.Markdown(f"No notebook yet ({html.escape(path.name)}).")
        return
    for kind, content in notebook_blocks(path):
        if kind == "markdown":
            gr.Markdown(content)
        elif kind == "html":
            gr.HTML(content, elem_classes="notebook-table")
        else:
            gr.Plot(content, show_label=False)
