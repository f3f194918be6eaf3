"""Task 12 tab: one model reads a picture, a text and a spoken description, alone or together.

UI wiring only: the model lives in core/tasks/multimodal_fusion/. The request (decoding, both
encoders, fusion, explanations) runs in the task's worker pool (core/workers.py). Public endpoint:

    /fuse(image=None, text=None, audio=None) -> (summary, category probabilities, modality importance
        plot, picture heat map, word weights, speech weights plot, JSON with predictions [{label,
        score}], modality_weights {image, text, audio}, ablation {modality: prediction without it},
        single_modality, explanations)

A drawing (the Draw tab) becomes the picture input through a private event, so the public API keeps
one picture parameter.
"""
from __future__ import annotations

import json
import time

import gradio as gr
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.errors import InputError
from core.registry import EXAMPLES_DIR
from core.tasks.multimodal_fusion.data import CATEGORIES
from core.workers import run_heavy
from demos.common import (HEAVY_CONCURRENCY_LIMIT, api_json, card_link, image_file, select_brush_js, show_first_result,
                          timing, user_errors)

TASK = "multimodal_fusion"
EXAMPLES = EXAMPLES_DIR / TASK
MANIFEST = json.loads((EXAMPLES / "examples.json").read_text(encoding="utf-8"))  # scripts/make_examples_multimodal_fusion.py
EXAMPLE_ROWS = [[str(EXAMPLES / e["image"]) if e.get("image") else None, e.get("text") or "",
                 str(EXAMPLES / e["audio"]) if e.get("audio") else None] for e in MANIFEST]
EXAMPLE_LABELS = [e["caption"] for e in MANIFEST]
FIRST = EXAMPLE_ROWS[0]
COLOURS = {"image": "#2563eb", "text": "#d97706", "audio": "#059669"}
SKETCHPAD = "fusion-sketchpad"
CAVEAT = ("**Synthetic speech.** The spoken-description branch learned from eSpeak NG's synthetic voices: it reads a "
          "person's voice through the same Whisper encoder, but never heard one in training. Categories are Unicode's "
          "emoji categories, with their quirks (a red heart is a *smiley*).")


def importance_figure(result: dict) -> go.Figure:
    """Per modality given: its gate weight, and the drop in the predicted category's probability
    when it is removed (the ablation)."""
    used = result["inputs"]
    weights = [result["modality_weights"][m] for m in used]
    drops = [result["ablation"][m]["confidence_drop"] if m in result["ablation"] else None for m in used]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=used, y=weights, name="fusion weight (gate)", marker_color=[COLOURS[m] for m in used],
                         text=[f"{w:.0%}" for w in weights], textposition="outside",
                         hovertemplate="%{x}: gate weight %{y:.0%}<extra></extra>"))
    if result["ablation"]:
        fig.add_trace(go.Bar(x=used, y=drops, name="confidence lost without it", marker_color="#9ca3af",
                             text=[f"{d:+.0%}" for d in drops], textposition="outside",
                             hovertemplate="without %{x}: the prediction's probability changes by -%{y:.0%}<extra></extra>"))
    fig.update_layout(title="How much each input counted", barmode="group", height=300,
                      yaxis=dict(tickformat=".0%", range=[min(0, *(d for d in drops if d is not None)) - 0.05
                                                          if result["ablation"] else 0, 1.15]),
                      margin=dict(l=10, r=10, t=50, b=60),
                      legend=dict(orientation="h", yanchor="top", y=-0.15, x=0, title=None))
    return fig


def heat_map(display: dict) -> np.ndarray:
    """The 64 px picture the model saw with its Grad-CAM overlaid (red: what drove the prediction), 256 px."""
    picture, cam = display["picture"], display["cam"]
    red = np.zeros_like(picture)
    red[..., 0] = 1.0
    alpha = 0.6 * cam[..., None]
    blended = picture * (1 - alpha) + red * alpha
    return np.kron(np.clip(blended * 255, 0, 255), np.ones((4, 4, 1))).astype(np.uint8)


def word_weights(result: dict) -> list[tuple[str, float | None]]:
    """(word, weight scaled to [-1, 1]) pairs for gr.HighlightedText."""
    rows = result["explanations"].get("text") or []
    if not rows:
        return []
    scale = max(abs(r["weight"]) for r in rows) or 1.0
    out: list[tuple[str, float | None]] = []
    for r in rows:
        out += [(r["token"], round(r["weight"] / scale, 3)), (" ", None)]
    return out[:-1]


def speech_figure(result: dict, display: dict) -> go.Figure:
    """The speech as the encoder hears it (Whisper's log-mel spectrogram), under a bar per stretch: how much
    the prediction's probability drops when that stretch is silenced."""
    mel, offset = display["mel"], display["offset_s"]
    bands = result["explanations"]["audio"]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.35, 0.65], vertical_spacing=0.04)
    fig.add_trace(go.Bar(x=[(b["start"] + b["end"]) / 2 for b in bands], y=[b["weight"] for b in bands],
                         width=[0.95 * (b["end"] - b["start"]) for b in bands], marker_color="#059669",
                         customdata=[[b["start"], b["end"]] for b in bands],
                         hovertemplate="silencing %{customdata[0]:.2f}-%{customdata[1]:.2f} s lowers the prediction "
                                       "by %{y:.1%}<extra></extra>"), row=1, col=1)
    times = offset + np.arange(mel.shape[1]) * 0.01
    fig.add_trace(go.Heatmap(z=mel.round(2), x=times.round(3), colorscale="Magma", showscale=False,
                             hovertemplate="%{x:.2f} s, mel band %{y}<extra></extra>"), row=2, col=1)
    fig.update_yaxes(title_text="weight", tickformat=".1%", nticks=3, row=1, col=1)
    fig.update_yaxes(title_text="mel band", row=2, col=1)
    fig.update_xaxes(title_text="time (s)", row=2, col=1)
    fig.update_layout(title="Which stretches of speech mattered", height=330, showlegend=False,
                      margin=dict(l=10, r=10, t=45, b=40))
    return fig


def summary(result: dict, started: float) -> str:
    top, runner = result["predictions"][0], result["predictions"][1]
    used = result["inputs"]
    lines = [f"**{top['label']}** ({top['score']:.0%}); next: {runner['label']} ({runner['score']:.0%}). Read from "
             f"{', '.join(used)}."]
    if len(used) > 1:
        alone = "; ".join(f"{m} alone: {v['label']} ({v['score']:.0%})" for m, v in result["single_modality"].items())
        lines.append(f"Each input alone would say: {alone}.")
        changed = [m for m, a in result["ablation"].items() if a["label"] != top["label"]]
        if changed:
            lines.append("Without " + " or ".join(changed) + " the answer would change.")
    lines += [f"_{note}_" for note in result["notes"] if "synthetic speech" not in note]
    lines.append(f"Time: {timing(result['latency_ms'], started)}.")
    return "\n\n".join(lines)


@user_errors
def fuse(image: str | None = None, text: str | None = None, audio: str | None = None) -> tuple:
    """The emoji category of any non-empty combination of a picture, a text and a spoken description:
    (summary, probabilities, modality importance plot, picture heat map, word weights, speech plot, JSON)."""
    started = time.perf_counter()
    if not image and not (text or "").strip() and not audio:
        raise InputError("Give at least one input: a picture (upload or draw), a text, or a spoken description "
                         "(upload or record).")
    result = run_heavy(TASK, "fusion", "fuse", image, text, audio, True)
    display = result.pop("display")
    label = {p["label"]: p["score"] for p in result["predictions"]}
    return (summary(result, started), label, importance_figure(result),
            image_file(heat_map(display["image"]), "grad_cam") if "image" in display else None,
            word_weights(result),
            speech_figure(result, display["audio"]) if "audio" in display else None,
            result)


@user_errors
def drawing_to_picture(sketch: dict | None) -> str:
    """The drawing as a PNG file for the picture input (an empty canvas asks to draw)."""
    from core.images import editor_image

    image = editor_image(sketch, "The canvas is empty: draw something first, then press “Use the drawing”.")
    canvas = np.asarray(image.convert("RGBA"))
    if canvas[..., 3].max() == 0 or (canvas[..., :3].min() > 250 and canvas[..., 3].min() == 255):
        raise InputError("The canvas is empty: draw something first, then press “Use the drawing”.")
    white = np.full(canvas.shape[:2] + (3,), 255.0)
    alpha = canvas[..., 3:] / 255.0
    return image_file(canvas[..., :3] * alpha + white * (1 - alpha), "drawing")


def build() -> gr.Blocks:
    """The tab's UI (loads no model until a request)."""
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown("### Multimodal fusion\nGive a picture, a text, a spoken description, or any two or all three: "
                    "one model says which emoji category (" + ", ".join(CATEGORIES) + ") the thing belongs to, how "
                    "much each input counted, and what it would say without each one. " + card_link(TASK))
        gr.Markdown(CAVEAT, elem_classes="synthetic-caveat")
        with gr.Row():
            with gr.Column(scale=2, min_width=280):
                with gr.Tab("Picture"):
                    image = gr.Image(None, type="filepath", image_mode=None, sources=["upload", "clipboard"],
                                     label="Picture", height=220, elem_id="fusion-image")
                with gr.Tab("Draw") as draw_tab:
                    sketch = gr.Sketchpad(type="pil", label="Draw something", canvas_size=(320, 320), format="png",
                                          height=340, layers=False, transforms=(), elem_id=SKETCHPAD,
                                          brush=gr.Brush(default_size=6, colors=["#000000"], color_mode="fixed"))
                    use_drawing = gr.Button("Use the drawing")
                text = gr.Textbox("", label="Text: a name, a description or keywords", lines=1, max_lines=4,
                                  elem_id="fusion-text")
                audio = gr.Audio(None, sources=["upload", "microphone"], type="filepath",
                                 label="Spoken description: upload or record", elem_id="fusion-audio")
                run = gr.Button("Fuse", variant="primary")
                examples = gr.Examples(EXAMPLE_ROWS, [image, text, audio], label="Examples (emoji never seen in "
                                       "training, in any modality)", example_labels=EXAMPLE_LABELS,
                                       api_name="load_fusion_example", api_visibility="private")
            with gr.Column(scale=3, min_width=300):
                info = gr.Markdown(elem_classes="result-summary")
                probabilities = gr.Label(label="Category probabilities", num_top_classes=5)
                importance = gr.Plot(label="Modality importance")
                with gr.Row():
                    cam = gr.Image(label="Picture: where the model looked (Grad-CAM)", type="filepath", height=256,
                                   interactive=False, min_width=200, elem_id="fusion-cam")
                    with gr.Column(min_width=200):
                        words = gr.HighlightedText(label="Text: word weights (red: supports the answer)",
                                                   combine_adjacent=False, show_legend=False,
                                                   show_inline_category=False)
                speech = gr.Plot(label="Speech: which stretches mattered")
                result = api_json()
        outputs = [info, probabilities, importance, cam, words, speech, result]
        # the inputs start empty, so the API's defaults are None ("any input may be left out"); the page
        # fills them with the first example on load (show_first_result)
        run.click(fuse, [image, text, audio], outputs, api_name="fuse", concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        text.submit(fuse, [image, text, audio], outputs, api_name="fuse_on_enter", api_visibility="private",
                    concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        for name, trigger in (("upload", image.upload), ("audio_upload", audio.upload), ("recording", audio.stop_recording)):
            trigger(fuse, [image, text, audio], outputs, api_name=f"fuse_on_{name}", api_visibility="private",
                    concurrency_limit=HEAVY_CONCURRENCY_LIMIT, trigger_mode="always_last")
        use_drawing.click(drawing_to_picture, [sketch], [image], api_name="use_drawing", api_visibility="private").success(
            fuse, [image, text, audio], outputs, api_name="fuse_drawing", api_visibility="private",
            concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        draw_tab.select(None, js=select_brush_js(SKETCHPAD), api_name="select_fusion_brush", api_visibility="private")
        sketch.clear(None, js=select_brush_js(SKETCHPAD), api_name="select_fusion_brush_after_clear",
                     api_visibility="private")
        examples.load_input_event.then(fuse, [image, text, audio], outputs, api_name="run_fusion_example",
                                       api_visibility="private", concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        show_first_result(demo, fuse, [image, text, audio], FIRST, outputs, name="first_fusion")
    return demo
