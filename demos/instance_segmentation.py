"""Task 03 tab: outline every object of the 12 kinds in a picture, pixel by pixel.

UI wiring only: the same YOLO11n-seg model as the detection tab (core/tasks/object_detection/),
run in that task's worker processes. Public endpoint:
/segment_instances(image, conf=0.25, iou=0.7, opacity=0.5).
"""
from __future__ import annotations

import json
import time

import gradio as gr
import pandas as pd

from core.errors import InputError
from core.workers import run_heavy
from demos.common import (HEAVY_CONCURRENCY_LIMIT, api_json, card_link, example_gallery, image_file, output_file,
                          rerun_on, run_example_on_select, show_first_result, timing, user_errors)
from demos.object_detection import check_inputs, example_captions, example_files, model_choice, picture_and_thresholds

TASK = "instance_segmentation"
MODEL_TASK = "object_detection"  # one model serves both tabs
COLUMNS = ["#", "label", "score", "area (px)", "area (%)", "x1", "y1", "x2", "y2"]


@user_errors
def segment_instances(image: str | None, conf: float = 0.25, iou: float = 0.7, opacity: float = 0.5,
                      model: str = "scenes") -> tuple:
    """Instance masks of the objects in `image` with a confidence of at least `conf`, drawn at `opacity`;
    the JSON gives each instance's label, score, box, area and COCO RLE mask."""
    started = time.perf_counter()
    if image is None:
        raise InputError("No image received: upload a picture first.")
    check_inputs(model, conf, iou)
    if not 0 <= float(opacity) <= 1:
        raise InputError("Opacity must be between 0 and 1.")
    response = run_heavy(MODEL_TASK, model, "segment", image, float(conf), float(iou), float(opacity))
    payload = response.payload
    found = payload["instances"]
    table = pd.DataFrame([[i + 1, d["label"], d["score"], d["area"], d["area_percent"], *d["box"]]
                          for i, d in enumerate(found)], columns=COLUMNS)
    summary = (f"**{len(found)} instance{'s' if len(found) != 1 else ''}** at confidence >= {conf:.2f}, covering "
               f"{sum(d['area_percent'] for d in found):.1f}% of the picture. "
               f"Time: {timing(payload['latency_ms'], started)}.")
    masks = image_file(response.instance_map, "instance_masks")
    result_path = output_file("instances.json")
    result_path.write_text(json.dumps(payload))
    return summary, image_file(response.overlay, "instances"), table, masks, str(result_path), payload


def build() -> gr.Blocks:
    """The segmentation tab (loads no model until a request)."""
    examples = example_files()
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown(
            "### Instance segmentation\nThe same YOLO11n-seg model as the detection tab gives each object's exact "
            "outline: every instance gets its own mask, even where objects overlap. " + card_link(TASK))
        with gr.Row():
            with gr.Column(scale=2, min_width=280):
                image, conf, iou = picture_and_thresholds("segmented", "instance merging")
                model = model_choice()
                opacity = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="Mask opacity")
                run = gr.Button("Segment", variant="primary")
                if examples:
                    gallery = example_gallery(examples, example_captions(examples),
                                              label="**Examples**: held-out scenes (click one to run it)")
            with gr.Column(scale=3, min_width=300):
                summary = gr.Markdown(elem_classes="result-summary")
                overlay = gr.Image(label="Instances", type="filepath", interactive=False, height=420,
                                   buttons=["download", "fullscreen"])
                table = gr.Dataframe(headers=COLUMNS, label="Instances (pixels of your picture)", interactive=False,
                                     max_height=300)
                with gr.Row():
                    masks = gr.File(label="Masks (PNG: 0 background, n = instance n)", height=60)
                    json_file = gr.File(label="Result (JSON, masks as COCO RLE)", height=60)
                result = api_json()
        outputs = [summary, overlay, table, masks, json_file, result]
        inputs = [image, conf, iou, opacity, model]
        run.click(segment_instances, inputs, outputs, api_name="segment_instances",
                  concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        rerun_on({"upload": image.upload, "conf": conf.release, "iou": iou.release, "opacity": opacity.release,
                  "model": model.input},
                 "segment_on_new", fn=segment_instances, inputs=inputs, outputs=outputs,
                 concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
        if examples:
            run_example_on_select(gallery, examples, image, segment_instances, inputs, outputs, "segmentation_example",
                                  HEAVY_CONCURRENCY_LIMIT)
            show_first_result(demo, segment_instances, [image], [str(examples[-1])], outputs,
                              name="first_segmentation")
    return demo
