"""Task 01 tab: classify an uploaded product photo (Fashion-MNIST) or a sketched digit (MNIST)."""
from __future__ import annotations

from typing import Any

import gradio as gr

from core.errors import InputError
from core.registry import EXAMPLES_DIR, get_model
from core.tasks.image_classification.preprocess import SUPPORTED, preprocess_sketch, to_preview
from demos.common import CONCURRENCY_LIMIT, card_link, image_file, user_errors

TASK = "image_classification"
MODELS = ["fashion", "digits"]
EXAMPLES = EXAMPLES_DIR / TASK


def _clear_decoding_errors(component: Any, message: str) -> Any:
    """Make `component` report decoding failures (truncated or non-image uploads) as `message`
    instead of Gradio's generic error. Wraps the instance's preprocess; no subclass needed."""
    original = component.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return original(payload)
        except Exception as exc:  # noqa: BLE001 - PIL raises many types for broken files
            raise gr.Error(message, title="Please check your input", print_exception=False) from exc

    component.preprocess = preprocess
    return component


UNREADABLE = f"Could not read this file as an image (it may be truncated or not an image at all). Upload a {SUPPORTED} file."


def _outputs(result: dict) -> tuple:
    frame, explanation = result.pop("frame"), result.pop("explanation")
    label = {p["label"]: p["score"] for p in result["predictions"]}
    return image_file(to_preview(frame), "preview"), label, image_file(explanation, "grad_cam"), result


@user_errors
def classify_image(image: str | None, model: str = "fashion") -> tuple:
    """Classify an uploaded image with the "fashion" (products) or "digits" model: top-5 classes."""
    if image is None:
        raise InputError("No image received: upload an image first.")
    if model not in MODELS:
        raise InputError(f"Unknown model {model!r}; choose one of {', '.join(MODELS)}.")
    return _outputs(get_model(TASK, model).predict(image, explain=True))


@user_errors
def classify_sketch(sketch: dict | None) -> tuple:
    """Read a digit drawn on the sketchpad (MNIST model): top-5 digits."""
    frame = preprocess_sketch(sketch)  # empty canvas -> InputError asking to draw
    return _outputs(get_model(TASK, "digits").predict(None, frame=frame, explain=True))


def _example_files() -> list[list[str]]:
    if not EXAMPLES.exists():
        return []
    return [[str(p), "digits" if p.name.startswith("digit") else "fashion"] for p in sorted(EXAMPLES.iterdir()) if p.suffix in (".png", ".jpg")]


def build() -> gr.Blocks:
    """The tab's UI. Loads no model; the adapters load on first request."""
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown(
            "### Image classification\nTwo compact CNNs trained by this project: **fashion** (Fashion-MNIST, 10 kinds "
            "of clothing and shoes; a product photo on a plain background, white or black) and **digits** (MNIST). "
            "The model sees a 28x28 greyscale image; the preview shows exactly that. " + card_link(TASK))
        with gr.Tab("Upload"):
            with gr.Row():
                with gr.Column():
                    # image_mode=None: Gradio hands over the uploaded file as it is, instead of decoding
                    # and re-encoding it to RGB into a shared cache path (a race under load; alpha lost)
                    image = _clear_decoding_errors(gr.Image(type="filepath", image_mode=None, sources=["upload", "clipboard"],
                                                           label="Image (any size: PNG, JPEG, WebP...)", height=320),
                                                   UNREADABLE)
                    model = gr.Dropdown(MODELS, value="fashion", label="Model")
                    run = gr.Button("Classify", variant="primary")
                with gr.Column():
                    preview = gr.Image(label="What the model saw (28x28, upscaled)", type="numpy", height=224,
                                       interactive=False)
                    cam = gr.Image(label="Grad-CAM: where the top class was found", type="numpy", height=224,
                                   interactive=False)
                with gr.Column():
                    top5 = gr.Label(num_top_classes=5, label="Top-5")
                    result = gr.JSON(label="Result (API JSON)")
            examples = _example_files()
            if examples:
                gr.Examples(examples, inputs=[image, model], label="Held-out test images (and re-rendered ones)",
                            examples_per_page=12, api_name="load_image_example", api_visibility="private")
            run.click(classify_image, [image, model], [preview, top5, cam, result], api_name="classify_image",
                      concurrency_limit=CONCURRENCY_LIMIT)
        with gr.Tab("Sketch"):
            with gr.Row():
                with gr.Column():
                    sketch = _clear_decoding_errors(
                        gr.Sketchpad(type="pil", label="Pick the brush (✎, left toolbar), then draw one digit 0-9", canvas_size=(400, 400), format="png",
                                     height=420),
                        "Could not read the drawing; clear the canvas and draw the digit again.")
                    draw_run = gr.Button("Read digit", variant="primary")
                with gr.Column():
                    sketch_preview = gr.Image(label="What the model saw (28x28, upscaled)", type="numpy", height=224,
                                              interactive=False)
                    sketch_cam = gr.Image(label="Grad-CAM", type="numpy", height=224, interactive=False)
                with gr.Column():
                    sketch_top5 = gr.Label(num_top_classes=5, label="Top-5")
                    sketch_result = gr.JSON(label="Result (API JSON)")
            draw_run.click(classify_sketch, [sketch], [sketch_preview, sketch_top5, sketch_cam, sketch_result],
                           api_name="classify_sketch", concurrency_limit=CONCURRENCY_LIMIT)
    return demo
