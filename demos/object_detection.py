"""Task 02 tab: find the 12 kinds of objects in a picture, with boxes, scores and counts.

UI wiring only: the model, its inputs and its drawings live in core/tasks/object_detection/.
The model runs in the task's worker processes (one model per process; core/workers.py).
Public endpoints: /detect_objects(image, conf=0.25, iou=0.7, classes=[], multiscale=False), and
/detect_objects_video(video, ...) from the Video sub-tab (demos/object_detection_video.py).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from core.errors import InputError
from core.registry import EXAMPLES_DIR
from core.tasks.object_detection.render import css_colour
from core.tasks.object_detection.scenes import CLASSES
from core.workers import run_heavy
from demos.object_detection_video import build_section
from demos.common import (HEAVY_CONCURRENCY_LIMIT, api_json, card_link, example_gallery, image_file, rerun_on,
                          run_example_on_select, show_first_result, timing, user_errors)

TASK = "object_detection"
VARIANTS = ("scenes", "coco")
EXAMPLES = EXAMPLES_DIR / TASK
COLUMNS = ["label", "score", "x1", "y1", "x2", "y2"]


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*.jpg")) if EXAMPLES.exists() else []


def example_captions(paths: list[Path]) -> list[str]:
    """What each example scene holds ("2 cats, dog"), from captions.json written with the examples."""
    known = json.loads((EXAMPLES / "captions.json").read_text()) if (EXAMPLES / "captions.json").exists() else {}
    return [known.get(p.name, p.stem.replace("_", " ")) for p in paths]


def counts_figure(counts: dict[str, int]) -> go.Figure:
    """Objects per class, as bars in the classes' box colours."""
    labels = list(counts)
    fig = go.Figure(go.Bar(x=labels, y=[counts[k] for k in labels],
                           marker_color=[css_colour(k) for k in labels]))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="objects", yaxis_dtick=1)
    if not labels:
        fig.update_layout(xaxis_visible=False, yaxis_visible=False, annotations=[dict(
            text="No objects at this confidence threshold", showarrow=False, font_size=14)])
    return fig


def picture_and_thresholds(action: str, merging: str) -> tuple[gr.Image, gr.Slider, gr.Slider]:
    """The inputs both tabs of this model start with: a picture (run as soon as it is uploaded, with
    `action` saying what happens), the confidence threshold and the IoU threshold for `merging`."""
    image = gr.Image(type="filepath", image_mode=None, sources=["upload", "clipboard", "webcam"],
                     label=f"Picture: {action} as soon as it is uploaded", height=280)
    conf = gr.Slider(0.05, 0.95, value=0.25, step=0.05, label="Confidence threshold")
    iou = gr.Slider(0.1, 0.95, value=0.7, step=0.05, label=f"IoU threshold ({merging})")
    return image, conf, iou


def model_choice() -> gr.Radio:
    """Which model: the project's (shipped) or the opt-in COCO one, marked when it is not installed."""
    from core.tasks.object_detection import coco

    coco_label = "COCO, 80 classes (official Ultralytics)" + ("" if coco.available() else ": not installed")
    return gr.Radio([("Trained here: 12 kinds of emoji objects", "scenes"), (coco_label, "coco")], value="scenes",
                    label="Model", info=None if coco.available() else
                    "The COCO model is opt-in; choosing it says how to install it.")


def check_inputs(model: str, conf: float, iou: float) -> None:
    """The options every endpoint of this model shares: a known model and thresholds in [0, 1]."""
    if model not in VARIANTS:
        raise InputError(f"Unknown model {model!r}: choose {' or '.join(VARIANTS)}.")
    if not (0 <= float(conf) <= 1 and 0 <= float(iou) <= 1):
        raise InputError("Confidence and IoU thresholds must be between 0 and 1.")


@user_errors
def detect_objects(image: str | None, conf: float = 0.25, iou: float = 0.7, classes: list[str] | None = None,
                   multiscale: bool = False, model: str = "scenes") -> tuple:
    """Boxes of the objects in `image` (with a confidence of at least `conf`; `iou`: overlap above which
    two boxes of a class are merged; `classes`: keep only these; `multiscale`: test-time augmentation
    and tiles for large images)."""
    started = time.perf_counter()
    if image is None:
        raise InputError("No image received: upload a picture first.")
    check_inputs(model, conf, iou)
    response = run_heavy(TASK, model, "detect", image, float(conf), float(iou), list(classes or []), bool(multiscale))
    payload = response.payload
    found = payload["detections"]
    table = pd.DataFrame([[d["label"], d["score"], *d["box"]] for d in found], columns=COLUMNS)
    summary = (f"**{len(found)} object{'s' if len(found) != 1 else ''}** "
               + (f"({', '.join(f'{n} {k}' for k, n in payload['counts'].items())}) " if found else "")
               + f"at confidence >= {conf:.2f}. Time: {timing(payload['latency_ms'], started)}.")
    annotated = image_file(response.annotated, "detections")
    return summary, annotated, table, counts_figure(payload["counts"]), annotated, payload


def build() -> gr.Blocks:
    """The detection tab (loads no model until a request)."""
    examples = example_files()
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown(
            "### Object detection\nA YOLO11n model trained by this project, from scratch, on generated scenes: emoji "
            "pictures of 12 kinds of objects (dog, cat, bird, horse, car, bicycle, airplane, apple, banana, pizza, sports "
            "ball, umbrella) on real photographs. It finds those cartoon objects, not real animals in photos. "
            + card_link(TASK))
        with gr.Tab("Picture"):
            with gr.Row():
                with gr.Column(scale=2, min_width=280):
                    image, conf, iou = picture_and_thresholds("objects are found", "box merging")
                    model = model_choice()
                    classes = gr.Dropdown(CLASSES, value=[], multiselect=True, label="Only these classes (empty: all)")
                    multiscale = gr.Checkbox(False, label="Multi-scale (test-time augmentation; tiles for large pictures)")
                    run = gr.Button("Detect", variant="primary")
                    if examples:
                        gallery = example_gallery(examples, example_captions(examples),
                                                  label="**Examples**: held-out scenes on photographs no training scene "
                                                        "used (click one to run it)")
                with gr.Column(scale=3, min_width=300):
                    summary = gr.Markdown(elem_classes="result-summary")
                    annotated = gr.Image(label="Detections", type="filepath", interactive=False, height=420,
                                         buttons=["download", "fullscreen"])
                    table = gr.Dataframe(headers=COLUMNS, label="Detections (pixels of your picture)", interactive=False,
                                         max_height=300)
                    counts = gr.Plot(label="Objects per class")
                    download = gr.File(label="Annotated picture (PNG)", height=60)
                    result = api_json()
        with gr.Tab("Video"):
            build_section(demo)
        outputs = [summary, annotated, table, counts, download, result]
        inputs = [image, conf, iou, classes, multiscale, model]
        run.click(detect_objects, inputs, outputs, api_name="detect_objects", concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        rerun_on({"upload": image.upload, "conf": conf.release, "iou": iou.release, "classes": classes.input,
                  "multiscale": multiscale.input, "model": model.input}, "detect_on_new", fn=detect_objects, inputs=inputs, outputs=outputs,
                 concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        if examples:
            run_example_on_select(gallery, examples, image, detect_objects, inputs, outputs, "detection_example",
                                  HEAVY_CONCURRENCY_LIMIT)
            show_first_result(demo, detect_objects, [image], [str(examples[0])], outputs, name="first_detection")
    return demo
