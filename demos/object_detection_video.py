"""Task 02, the Video sub-tab: objects found frame by frame, an annotated H.264 video and counts over time.

The video is probed and decoded here (core/tasks/object_detection/video.py); its frames go to the
task's worker pool in small batches, so each batch has the usual time budget and the page shows
progress between them. Public endpoint:
/detect_objects_video(video, conf=0.25, iou=0.7, classes=[]).
"""
from __future__ import annotations

import functools
import time
from pathlib import Path

import gradio as gr
import plotly.graph_objects as go

from core.errors import InputError
from core.registry import EXAMPLES_DIR
from core.settings import Settings
from core.tasks.object_detection.render import css_colour
from core.tasks.object_detection.scenes import CLASSES
from core.tasks.object_detection.video import H264Writer, frames, probe
from core.workers import run_heavy
from demos.common import HEAVY_CONCURRENCY_LIMIT, api_json, output_file, show_first_result, timing, user_errors

TASK = "object_detection"
FRAMES_PER_CALL = 8  # frames sent to the worker at once (progress is updated between batches)


def example_videos() -> list[Path]:
    folder = EXAMPLES_DIR / TASK
    return sorted(folder.glob("*.mp4")) if folder.exists() else []


def class_order(label: str) -> tuple[int, str]:
    """The scene classes in their usual order, then any other (COCO) class alphabetically."""
    return (CLASSES.index(label), "") if label in CLASSES else (len(CLASSES), label)


def counts_over_time(records: list[dict]) -> go.Figure:
    """One line per class found: how many of it each analysed frame holds."""
    times = [r["time_s"] for r in records]
    found = sorted({d["label"] for r in records for d in r["detections"]}, key=class_order)
    fig = go.Figure()
    for label in found:
        fig.add_trace(go.Scatter(x=times, y=[sum(d["label"] == label for d in r["detections"]) for r in records],
                                 mode="lines", name=label, line_shape="hv",
                                 line_color=css_colour(label)))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=50, b=10), xaxis_title="time (s)",
                      yaxis_title="objects in the frame", yaxis_rangemode="tozero",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig


@user_errors
def detect_objects_video(video: str | None, conf: float = 0.25, iou: float = 0.7, classes: list[str] | None = None,
                         model: str = "scenes", progress: gr.Progress = gr.Progress()) -> tuple:
    """Objects in each analysed frame of `video` (up to 10 per second), the annotated video
    (H.264 MP4) and the counts per class over time."""
    from demos.object_detection import check_inputs

    started = time.perf_counter()
    if video is None:
        raise InputError("No video received: upload a video first.")
    check_inputs(model, conf, iou)
    settings = Settings.from_env()
    path = Path(video)
    if not path.is_file():
        raise InputError("The video file was not found: upload it again.")
    if path.stat().st_size > settings.max_bytes:
        raise InputError(f"The video is larger than the {settings.max_file_size} upload limit.")
    info = probe(path, settings.max_video_seconds)
    total = info.expected_frames
    writer = H264Writer(output_file("detections.mp4"), info.out_size, info.out_fps)
    records: list[dict] = []
    model_ms = 0.0

    def analyse(batch: list) -> None:
        nonlocal model_ms
        batch_started = time.perf_counter()
        for detections, annotated in run_heavy(TASK, model, "detect_frames", batch, float(conf), float(iou),
                                               list(classes or []), info.scale):
            index = len(records)
            records.append({"index": index, "time_s": round(index / info.out_fps, 3), "detections": detections})
            writer.write(annotated)
        model_ms += (time.perf_counter() - batch_started) * 1000
        progress((len(records), max(total, len(records))), desc="Detecting objects", unit="frames")

    progress((0, total), desc="Detecting objects", unit="frames")
    try:
        batch: list = []
        for frame in frames(path, info):
            batch.append(frame)
            if len(batch) == FRAMES_PER_CALL:
                analyse(batch)
                batch = []
        if batch:
            analyse(batch)
    finally:
        annotated_video = writer.close()
    if not records:
        raise InputError("The video has no frames that could be decoded: upload a video that plays.")
    counts: dict[str, int] = {}
    for record in records:
        for label in {d["label"] for d in record["detections"]}:
            counts[label] = counts.get(label, 0) + 1
    payload = {"frames": records, "model": f"{TASK}/{model}", "variant": model,
               "latency_ms": round(model_ms, 1), "duration_s": round(info.duration_s, 2),
               "analysed_fps": info.out_fps, "video_size": list(info.size),
               "frames_with_class": dict(sorted(counts.items(), key=lambda kv: class_order(kv[0])))}
    seen = ", ".join(f"{k} in {n}" for k, n in payload["frames_with_class"].items()) or "nothing"
    summary = (f"**{len(records)} frames analysed** ({info.out_fps:g} per second of a {info.duration_s:.1f} s video): "
               f"{seen}{' frames' if counts else ''}. Time: {timing(model_ms, started)}.")
    return summary, str(annotated_video), counts_over_time(records), str(annotated_video), payload


def build_section(demo: gr.Blocks) -> None:
    """The Video sub-tab's components and events (inside the detection tab's Blocks `demo`); the
    example video's result is shown on first load."""
    from demos.object_detection import model_choice  # that module imports this one

    examples = example_videos()
    with gr.Row():
        with gr.Column(scale=2, min_width=280):
            video = gr.Video(label="Video (up to a minute; analysed at 10 frames per second)", sources=["upload"],
                             height=260)
            conf = gr.Slider(0.05, 0.95, value=0.25, step=0.05, label="Confidence threshold")
            iou = gr.Slider(0.1, 0.95, value=0.7, step=0.05, label="IoU threshold (box merging)")
            classes = gr.Dropdown(CLASSES, value=[], multiselect=True, label="Only these classes (empty: all)")
            model = model_choice()
            run = gr.Button("Detect in video", variant="primary")
            if examples:
                gr.Examples([[str(p)] for p in examples], [video], label="Example: a camera panning over a held-out scene",
                            api_name="load_video_example", api_visibility="private")
        with gr.Column(scale=3, min_width=300):
            summary = gr.Markdown(elem_classes="result-summary")
            annotated = gr.Video(label="Annotated video (H.264 MP4)", interactive=False, height=360)
            counts = gr.Plot(label="Objects per class over time")
            download = gr.File(label="Annotated video (MP4)", height=60)
            result = api_json()
    outputs = [summary, annotated, counts, download, result]
    run.click(detect_objects_video, [video, conf, iou, classes, model], outputs,
              api_name="detect_objects_video", concurrency_limit=HEAVY_CONCURRENCY_LIMIT)
    if examples:
        # the first-load result is computed once for every visitor, outside any visitor's progress bar
        first = functools.partial(detect_objects_video, progress=lambda *args, **kwargs: None)
        show_first_result(demo, first, [video], [str(examples[0])], outputs, name="first_video")
