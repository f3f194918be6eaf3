"""Task 01 tab: classify an uploaded product photo (Fashion-MNIST) or a sketched digit (MNIST)."""
from __future__ import annotations

import time

import gradio as gr

from core.errors import InputError
from core.registry import EXAMPLES_DIR, get_model
from core.tasks.image_classification.preprocess import preprocess_sketch, to_preview
from demos.common import (CONCURRENCY_LIMIT, api_json, card_link, example_gallery, image_file, rerun_on,
                          run_example_on_select, select_brush_js, show_first_result, timing, user_errors)

TASK = "image_classification"
MODEL_CHOICES = [("auto: picks the model from the picture", "auto"), ("fashion: products", "fashion"),
                 ("digits: handwriting", "digits")]
MODELS = [value for _, value in MODEL_CHOICES]
EXAMPLES = EXAMPLES_DIR / TASK
FIRST_EXAMPLE = EXAMPLES / "fashion_on_white_sandal.jpg"
SKETCH_HELP = "Draw one digit 0-9 with the mouse or a finger, as large as the pad"
SKETCHPAD = "digit-sketchpad"


def _summary(result: dict, started: float, loading_ms: float) -> str:
    top = result["predictions"][0]
    routing = result.get("routing")
    chosen = (f"the **{routing['model']}** model, chosen automatically ({routing['probability']:.0%} sure the picture is "
              f"{'a handwritten digit' if routing['model'] == 'digits' else 'a product photo'})"
              if routing else f"the **{result['variant']}** model")
    lines = [f"**{top['label']}** ({top['score']:.0%}), read by {chosen}.", f"Time: {timing(result['latency_ms'], started, loading_ms)}."]
    if result.get("warning"):
        lines.insert(1, f"⚠️ {result['warning']}")
    return "\n\n".join(lines)


def _classify(variant: str, image: str | None, frame=None) -> tuple:
    """Run `variant` on the image (or a ready frame) and return the tab's outputs."""
    started = time.perf_counter()
    model = get_model(TASK, variant)
    loading_ms = (time.perf_counter() - started) * 1000
    result = model.predict(image, explain=True) if frame is None else model.predict(None, frame=frame, explain=True)
    frame, explanation = result.pop("frame"), result.pop("explanation")
    label = {p["label"]: p["score"] for p in result["predictions"]}
    return (_summary(result, started, loading_ms), label, image_file(to_preview(frame), "preview"),
            image_file(explanation, "grad_cam"), result)


@user_errors
def classify_image(image: str | None, model: str = "auto") -> tuple:
    """Classify an uploaded image: "auto" sends it to the model it is for, or force "fashion"
    (products) or "digits" (handwriting). Top-5 classes, Grad-CAM, and a warning when the
    picture looks unlike the model's training images."""
    if image is None:
        raise InputError("No image received: upload an image first.")
    if model not in MODELS:
        raise InputError(f"Unknown model {model!r}; choose one of {', '.join(MODELS)}.")
    return _classify(model, image)


@user_errors
def classify_sketch(sketch: dict | None) -> tuple:
    """Read a digit drawn on the sketchpad (MNIST model): top-5 digits."""
    frame = preprocess_sketch(sketch)  # empty canvas -> InputError asking to draw
    return _classify("digits", None, frame)


def _caption(path) -> str:
    kind, *words = path.stem.split("_")
    return " ".join(w for w in words if w not in {"test", "on"}) if kind != "digit" else f"digit {words[0]}"


def _example_files() -> list:
    if not EXAMPLES.exists():
        return []
    return sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".png", ".jpg"))


def _results_column() -> tuple:
    """The outputs both sub-tabs show: a summary, top-5, what the model saw, Grad-CAM, the JSON."""
    summary = gr.Markdown(elem_classes="result-summary")
    top5 = gr.Label(num_top_classes=5, label="Top-5")
    with gr.Row(equal_height=True):
        preview = gr.Image(label="What the model saw (28x28)", type="numpy", height=200, interactive=False,
                           buttons=["download"])
        cam = gr.Image(label="Grad-CAM: where it looked", type="numpy", height=200, interactive=False,
                       buttons=["download"])
    result = api_json()
    return summary, top5, preview, cam, result


def build() -> gr.Blocks:
    """The tab's UI. Loads no model; the adapters load on first request."""
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown(
            "### Image classification\nTwo compact CNNs trained by this project: **fashion** (Fashion-MNIST: 10 kinds "
            "of clothing, shoes and bags, one product on a plain background) and **digits** (MNIST handwriting). "
            "**auto** picks the model from the picture and warns when a picture looks unlike anything either was "
            "trained on. The model sees a 28x28 greyscale image; the preview shows exactly that. " + card_link(TASK))
        with gr.Tab("Upload"):
            with gr.Row():
                with gr.Column(scale=2):
                    # image_mode=None: Gradio hands over the uploaded file as it is, instead of decoding
                    # and re-encoding it to RGB into a shared cache path (a race under load; alpha lost)
                    image = gr.Image(type="filepath", image_mode=None, sources=["upload", "clipboard"],
                                     label="Image (PNG, JPEG, WebP...): it is classified as soon as it is uploaded",
                                     height=280)
                    model = gr.Dropdown(MODEL_CHOICES, value="auto", label="Model")
                    run = gr.Button("Classify", variant="primary")
                    examples = _example_files()
                    if examples:
                        gallery = example_gallery(examples, [_caption(p) for p in examples], columns=5,
                                                  label="**Examples**: held-out test images and re-photographed ones "
                                                        "(click one to classify it)")
                with gr.Column(scale=3):
                    outputs = _results_column()
            if examples:
                run_example_on_select(gallery, examples, image, classify_image, [image, model], list(outputs),
                                      "image_example", CONCURRENCY_LIMIT, also=("auto",), also_to=(model,))
            run.click(classify_image, [image, model], list(outputs), api_name="classify_image",
                      concurrency_limit=CONCURRENCY_LIMIT)
            rerun_on({"upload": image.upload, "model": model.input}, "classify_on_new", fn=classify_image,
                     inputs=[image, model], outputs=list(outputs), concurrency_limit=CONCURRENCY_LIMIT)
            if FIRST_EXAMPLE.exists():
                show_first_result(demo, classify_image, [image, model], [str(FIRST_EXAMPLE), "auto"], list(outputs),
                                  name="first_image_result")
        with gr.Tab("Sketch") as sketch_tab:
            with gr.Row():
                with gr.Column(scale=2):
                    gr.Markdown(SKETCH_HELP + ", then press **Read digit**.")
                    sketch = gr.Sketchpad(type="pil", label=SKETCH_HELP, show_label=False, canvas_size=(400, 400),
                                          format="png", height=420, layers=False, transforms=(), elem_id=SKETCHPAD,
                                          brush=gr.Brush(default_size=14, colors=["#000000"], color_mode="fixed"))
                    draw_run = gr.Button("Read digit", variant="primary")
                with gr.Column(scale=3):
                    waiting = gr.Markdown("The model's reading of your digit appears here.")
                    with gr.Column(visible=False) as sketch_results:
                        sketch_outputs = _results_column()
            draw_run.click(classify_sketch, [sketch], list(sketch_outputs), api_name="classify_sketch",
                           concurrency_limit=CONCURRENCY_LIMIT).success(
                lambda: (gr.update(visible=True), gr.update(visible=False)), None, [sketch_results, waiting],
                queue=False, api_name="show_sketch_results", api_visibility="private", show_progress="hidden")
            # the pad works with the first stroke, also after "Clear"
            sketch_tab.select(None, js=select_brush_js(SKETCHPAD), api_name="select_brush_on_open", api_visibility="private")
            sketch.clear(None, js=select_brush_js(SKETCHPAD), api_name="select_brush_after_clear", api_visibility="private")
    return demo
