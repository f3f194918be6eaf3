"""Task 01, image classification: preprocessing, adapters on the shipped weights, Grad-CAM,
metrics, the two API endpoints through gradio_client, bad input, and a quick training run.

Fashion-MNIST images come from the committed sample of its first 1,000 official test images
(tests/fixtures/, see conftest.py), so these tests run without the data set; the two that need
the complete data set (split sizes, quick training) are skipped without the Debian package
dataset-fashion-mnist, unless DATASETS_REQUIRED=1."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from core.artifacts import load_json
from core.errors import InputError
from core.registry import EXAMPLES_DIR, TASKS, get_model
from core.tasks.image_classification import preprocess as pp
from core.tasks.image_classification import render
from core.tasks.image_classification.data import load_digits, load_fashion
from core.tasks.image_classification.gradcam import grad_cam, overlay

SPEC = TASKS["image_classification"]
EXAMPLES = EXAMPLES_DIR / "image_classification"


@pytest.fixture(scope="module")
def fashion(fashion_mnist_test_sample):
    """x_test, y_test, labels: the first 1,000 official Fashion-MNIST test images (committed sample)."""
    return fashion_mnist_test_sample


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# ----------------------------------------------------------------------------- data

@pytest.mark.usefixtures("requires_fashion_mnist")
def test_fashion_splits_are_official_and_sized(fashion):
    full = load_fashion()
    assert full.sizes() == {"train": 55000, "validation": 5000, "test": 10000}
    assert (np.bincount(full.y_val, minlength=10) == 500).all()  # stratified validation split
    # the committed sample is the first images of the official test set, unchanged
    n = len(fashion.y_test)
    assert np.array_equal(full.x_test[:n], fashion.x_test) and np.array_equal(full.y_test[:n], fashion.y_test)


def test_digit_splits_are_sized_and_stratified(digits):
    assert sum(digits.sizes().values()) == 5000
    assert set(np.unique(digits.y_test)) == set(range(10))
    # stratified: every digit class has the same share in each split (+-1 image)
    counts = np.bincount(digits.y_test, minlength=10)
    assert counts.max() - counts.min() <= 1


# ----------------------------------------------------------------------------- product preprocessing

@pytest.mark.parametrize("background", ["white", "black"])
def test_product_on_any_background_matches_dataset_framing(fashion, background):
    rng = np.random.default_rng(0)
    scores = []
    for i in range(20):
        photo = render.product_photo(fashion.x_test[i], 320, background, (200, 40, 40), rng)
        frame = pp.preprocess_product(photo)
        assert frame.shape == (28, 28) and frame.dtype == np.float32
        assert 0.0 <= frame.min() and frame.max() <= 1.0
        scores.append(_corr(frame, fashion.x_test[i] / 255.0))
    assert np.median(scores) > 0.85, scores


def test_light_background_is_inverted_and_dark_is_not(fashion):
    on_white = pp.preprocess_product(render.product_photo(fashion.x_test[1], 200, "white"))
    on_black = pp.preprocess_product(render.product_photo(fashion.x_test[1], 200, "black"))
    for frame in (on_white, on_black):  # object bright, corners (background) black
        assert frame[[0, 0, -1, -1], [0, -1, 0, -1]].max() < 0.05
        assert frame.max() > 0.9
    assert _corr(on_white, on_black) > 0.8


def test_rgba_cutout_greyscale_and_tiny_but_valid_images(fashion):
    x = fashion.x_test[2]
    rgba = np.zeros((140, 100, 4), dtype=np.uint8)
    obj = np.asarray(Image.fromarray(x).resize((100, 100)))
    rgba[20:120, :, :3] = (255 - obj)[..., None]            # dark product pixels ...
    rgba[20:120, :, 3] = np.where(obj > 10, 255, 0)          # ... on a transparent background
    frames = [pp.preprocess_product(Image.fromarray(rgba, "RGBA")),
              pp.preprocess_product(Image.fromarray(255 - x, "L")),                 # greyscale, white background
              pp.preprocess_product(Image.fromarray(x).resize((16, 16)))]           # tiny but usable
    for frame in frames:
        assert frame.shape == (28, 28)
    assert _corr(frames[0], x) > 0.8 and _corr(frames[2], x) > 0.6
    # a greyscale image on white is the negative of the data-set image: same frame as the data-set pixels
    assert _corr(frames[1], pp.preprocess_product(Image.fromarray(x))) > 0.98


def test_numpy_and_path_inputs(tmp_path, fashion):
    path = tmp_path / "item.jpg"
    render.product_photo(fashion.x_test[3], 256, "white").save(path, quality=80)
    from_path = pp.preprocess_product(str(path))
    from_array = pp.preprocess_product(np.asarray(Image.open(path)))
    assert np.allclose(from_path, from_array, atol=1e-6)


@pytest.mark.parametrize("payload, message", [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "Could not read"),       # truncated PNG
    (b"date,value\n2020-01-01,3\n", "Could not read"),               # not an image
    (_png_bytes(Image.new("RGB", (3, 3), "white")), "at least 8x8"),  # tiny
    (_png_bytes(Image.new("RGB", (64, 64), (30, 120, 200))), "No object found"),  # flat colour
], ids=["truncated", "not-an-image", "tiny", "flat-colour"])
def test_bad_images_raise_clear_input_errors(payload, message):
    with pytest.raises(InputError, match=message):
        pp.preprocess_product(payload)


def test_truncated_real_jpeg_is_rejected(tmp_path, fashion):
    good = io.BytesIO()
    render.product_photo(fashion.x_test[0], 256).save(good, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    with pytest.raises(InputError, match="truncated"):
        pp.preprocess_product(str(path))


# ----------------------------------------------------------------------------- sketch preprocessing

def _check_mnist_framing(frame: np.ndarray) -> None:
    assert frame.shape == (28, 28)
    cy, cx = ndimage.center_of_mass(frame)
    assert abs(cy - 13.5) < 1.5 and abs(cx - 13.5) < 1.5, (cy, cx)
    rows = np.flatnonzero((frame > 0.1).any(axis=1))
    cols = np.flatnonzero((frame > 0.1).any(axis=0))
    assert 18 <= max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 22
    assert 1.8 <= pp.stroke_width(frame > 0.3) <= 5.0


@pytest.mark.parametrize("scale, offset, thickness", [
    (0.2, (-0.35, 0.35), 0),    # small, bottom-left corner, thin
    (0.9, (0.0, 0.0), 12),      # fills the canvas, very thick
    (0.5, (0.25, -0.2), -1),    # off-centre, thinner than usual
])
def test_sketches_are_centred_scaled_and_thickness_normalised(digits, scale, offset, thickness):
    for i in range(5):
        drawn = render.drawn_digit(digits.x_test[i], 400, scale, offset, thickness)
        frame = pp.preprocess_sketch({"background": None, "layers": [drawn], "composite": drawn})
        _check_mnist_framing(frame)
        assert _corr(frame, digits.x_test[i]) > 0.5


def test_sketch_from_layers_only_and_flattened_composite(digits):
    drawn = render.drawn_digit(digits.x_test[0], 300, 0.5, (0.1, 0.1), 2)
    from_layers = pp.preprocess_sketch({"background": None, "layers": [drawn], "composite": None})
    flattened = Image.alpha_composite(Image.new("RGBA", drawn.size, "white"), drawn).convert("RGB")
    from_composite = pp.preprocess_sketch({"background": None, "layers": [], "composite": flattened})
    assert np.allclose(from_layers, from_composite, atol=0.05)


@pytest.mark.parametrize("sketch", [
    None,
    {"background": None, "layers": [], "composite": None},
    {"background": None, "layers": [], "composite": Image.new("RGBA", (400, 400), (0, 0, 0, 0))},
    {"background": Image.new("RGB", (400, 400), "white"), "layers": [], "composite": Image.new("RGB", (400, 400), "white")},
], ids=["none", "no-images", "transparent", "white"])
def test_empty_sketch_asks_to_draw(sketch):
    with pytest.raises(InputError, match="draw a digit"):
        pp.preprocess_sketch(sketch)


# ----------------------------------------------------------------------------- shipped models

def test_shipped_artifacts_are_small_and_complete():
    config = load_json(SPEC.model_dir / "config.json")
    assert set(SPEC.variants) == {"auto", *config["variants"]}  # auto = the trained models, routed
    for variant, cfg in config["variants"].items():
        assert len(cfg["labels"]) == 10 and cfg["normalisation"]["std"] > 0
        assert (SPEC.model_dir / cfg["weights"]).stat().st_size < 2_000_000
    assert (SPEC.model_dir / "domain.npz").stat().st_size < 500_000


def test_fashion_adapter_on_held_out_test_images(fashion):
    adapter = get_model("image_classification", "fashion")
    probs = adapter.forward(fashion.x_test[:1000])
    assert probs.shape == (1000, 10) and np.allclose(probs.sum(1), 1, atol=1e-4)
    assert (probs.argmax(1) == fashion.y_test[:1000]).mean() >= 0.9
    top5 = adapter.postprocess(probs[0])
    assert len(top5) == 5 and [p["score"] for p in top5] == sorted((p["score"] for p in top5), reverse=True)
    assert top5[0]["label"] == fashion.labels[fashion.y_test[0]]


def test_fashion_predictions_survive_user_style_renderings(fashion):
    adapter = get_model("image_classification", "fashion")
    rng = np.random.default_rng(1)
    idx = range(100, 200)
    reference = adapter.forward(fashion.x_test[list(idx)]).argmax(1)
    for background in ("white", "black"):
        frames = np.stack([adapter.preprocess(render.product_photo(fashion.x_test[i], 300, background,
                                                                   (60, 160, 60), rng)) for i in idx])
        predicted = adapter.forward(frames).argmax(1)
        assert (predicted == fashion.y_test[list(idx)]).mean() >= 0.8
        assert (predicted == reference).mean() >= 0.85


def test_digits_adapter_on_held_out_split_and_drawn_digits(digits):
    adapter = get_model("image_classification", "digits")
    assert (adapter.forward(digits.x_test).argmax(1) == digits.y_test).mean() >= 0.96
    cases = [(0.25, (-0.3, 0.3), 0), (0.85, (0.0, 0.0), 10), (0.45, (0.25, -0.25), 3)]
    correct = total = 0
    for i in range(40):
        scale, offset, thickness = cases[i % 3]
        drawn = render.drawn_digit(digits.x_test[i], 400, scale, offset, thickness)
        result = adapter.predict(None, frame=pp.preprocess_sketch({"background": None, "layers": [], "composite": drawn}))
        correct += result["predictions"][0]["label"] == str(digits.y_test[i])
        total += 1
    assert correct / total >= 0.9


def test_predict_result_shape_and_grad_cam(fashion):
    adapter = get_model("image_classification", "fashion")
    result = adapter.predict(render.product_photo(fashion.x_test[0], 256))
    assert result["model"] == "image_classification/fashion" and result["latency_ms"] >= 0
    assert len(result["predictions"]) == 5
    frame = result["frame"]
    cam, probs = grad_cam(adapter.model, adapter.to_tensor(frame), 9)
    assert cam.shape == (28, 28) and cam.min() >= 0 and cam.max() <= 1.0 + 1e-6
    assert np.allclose(probs, adapter.forward(frame)[0], atol=1e-5)  # the same pass gives the prediction
    # the model looks at the object, not at the empty background
    assert cam[frame > 0.2].mean() > cam[frame < 0.02].mean()
    image = overlay(frame, cam)
    assert image.shape == (224, 224, 3) and image.dtype == np.uint8
    assert adapter.explain(frame, 9, size=112).shape == (112, 112, 3)


def test_auto_sends_held_out_products_and_digits_to_their_model(fashion, digits):
    from core.tasks.image_classification import domain

    check = domain.load(SPEC.model_dir)
    products = domain.product_frames(fashion.x_test[:300])
    handwriting = domain.product_frames(digits.x_test[:300])
    assert np.mean([check.route(f)[0] == "fashion" for f in products]) >= 0.98
    assert np.mean([check.route(f)[0] == "digits" for f in handwriting]) >= 0.98
    auto = get_model("image_classification", "auto")
    result = auto.predict(EXAMPLES / "digit_7_drawn.png")
    assert result["routing"]["model"] == "digits" and result["predictions"][0]["label"] == "7"
    result = auto.predict(render.product_photo(fashion.x_test[0], 256), explain=True)
    assert result["routing"]["model"] == "fashion" and result["explanation"].shape == (224, 224, 3)


def test_an_unusual_picture_gets_a_warning_and_a_typical_one_does_not(fashion):
    adapter = get_model("image_classification", "fashion")
    typical = adapter.predict(None, frame=fashion.x_test[1].astype(np.float32) / 255)
    assert typical["warning"] is None
    noise = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    unusual = adapter.predict(None, frame=noise)
    assert unusual["predictions"][0]["score"] < adapter.confidence_floor
    assert "unusual" in unusual["warning"] and "product" in unusual["warning"]
    # the floor is what the evaluation measured and the card reports
    floors = load_json(SPEC.card_dir / "metrics.json")["domain_check"]["confidence_floor"]
    assert adapter.confidence_floor == pytest.approx(floors["fashion"])


def test_metrics_json_meets_targets_and_schema():
    metrics = load_json(SPEC.card_dir / "metrics.json")
    assert metrics["quick"] is False
    assert metrics["headline"]["variant"] == "fashion" and metrics["headline"]["value"] >= 0.92
    assert metrics["variants"]["digits"]["metrics"]["accuracy"] >= 0.97
    for name, variant in metrics["variants"].items():
        m = variant["metrics"]
        for key in ("accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted"):
            assert 0 <= m[key] <= 1
        matrix = np.array(variant["confusion_matrix"]["matrix"])
        assert matrix.sum() == variant["data"]["splits"]["test"]
        assert np.isclose(np.trace(matrix) / matrix.sum(), m["accuracy"])
        assert len(variant["per_class"]) == 10
        assert {"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr"} <= set(variant["history"][0])
        assert variant["model"]["parameters"] < 500_000 and variant["model"]["size_mb"] < 2
        for sample in variant["samples"]["correct"] + variant["samples"]["misclassified"]:
            assert (SPEC.card_dir / sample["image"]).exists()
    assert "model-index" in (SPEC.card_dir / "README.md").read_text()
    routing = metrics["domain_check"]["routing_accuracy"]
    assert routing["fashion"] >= 0.99 and routing["digits"] >= 0.98


# ----------------------------------------------------------------------------- API

def _json(result) -> dict:
    summary, label, preview, cam, payload = result
    assert Path(preview).exists() and Path(cam).exists()
    assert payload["predictions"][0]["label"] in summary and "model" in summary and "handling the request on the server" in summary
    return payload


def test_api_classify_image(client):
    from gradio_client import handle_file

    payload = _json(client.predict(image=handle_file(str(EXAMPLES / "fashion_test_trouser.png")), api_name="/classify_image"))
    assert payload["model"] == "image_classification/fashion" and payload["latency_ms"] > 0
    predictions = payload["predictions"]
    assert len(predictions) == 5 and predictions[0]["label"] == "Trouser"
    assert all(a["score"] >= b["score"] for a, b in zip(predictions, predictions[1:]))
    on_white = _json(client.predict(image=handle_file(str(EXAMPLES / "fashion_on_white_sandal.jpg")),
                                    api_name="/classify_image"))
    assert on_white["predictions"][0]["label"] == "Sandal"
    digit = _json(client.predict(image=handle_file(str(EXAMPLES / "digit_3_drawn.png")), model="digits",
                                 api_name="/classify_image"))
    assert digit["model"] == "image_classification/digits" and digit["predictions"][0]["label"] == "3"
    routed = _json(client.predict(image=handle_file(str(EXAMPLES / "digit_3_drawn.png")), api_name="/classify_image"))
    assert routed["routing"]["model"] == "digits" and routed["predictions"][0]["label"] == "3"  # model="auto"


def test_api_classify_sketch(client, tmp_path, digits):
    from gradio_client import handle_file

    path = tmp_path / "sketch.png"
    i = int(np.flatnonzero(digits.y_test == 4)[0])
    render.drawn_digit(digits.x_test[i], 400, 0.35, (0.2, 0.25), 4).save(path)   # transparent, like the canvas
    payload = _json(client.predict(sketch={"background": None, "layers": [], "composite": handle_file(str(path))},
                                   api_name="/classify_sketch"))
    assert payload["model"] == "image_classification/digits"
    assert payload["predictions"][0]["label"] == "4" and len(payload["predictions"]) == 5


@pytest.mark.parametrize("content, name, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20, "truncated.png", "Could not read"),
    (b"this is not an image\n", "notes.png", "Could not read"),
    (_png_bytes(Image.new("RGB", (4, 4), "black")), "tiny.png", "at least 8x8"),
], ids=["truncated", "not-an-image", "tiny"])
def test_api_bad_images_get_clear_errors_and_app_keeps_serving(client, tmp_path, content, name, message):
    from gradio_client import handle_file

    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(Exception, match=message):
        client.predict(image=handle_file(str(bad)), api_name="/classify_image")
    good = _json(client.predict(image=handle_file(str(EXAMPLES / "fashion_test_bag.png")), api_name="/classify_image"))
    assert good["predictions"][0]["label"] == "Bag"


def test_api_empty_sketch_asks_to_draw_and_app_keeps_serving(client, tmp_path):
    from gradio_client import handle_file

    empty = tmp_path / "empty.png"
    Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(empty)
    with pytest.raises(Exception, match="draw a digit"):
        client.predict(sketch={"background": None, "layers": [], "composite": handle_file(str(empty))},
                       api_name="/classify_sketch")
    good = _json(client.predict(sketch={"background": None, "layers": [],
                                        "composite": handle_file(str(EXAMPLES / "digit_7_drawn.png"))},
                                api_name="/classify_sketch"))
    assert good["predictions"][0]["label"] == "7"


# ----------------------------------------------------------------------------- training smoke test

@pytest.mark.usefixtures("requires_fashion_mnist")
def test_quick_training_writes_loadable_artifacts(tmp_path):
    from core.tasks.image_classification.adapter import load
    from core.train import run

    metrics, model_dir, card_dir = run("image_classification", quick=True, out=tmp_path)
    assert metrics["quick"] is True and set(metrics["variants"]) == {"fashion", "digits"}
    assert set(metrics["domain_check"]["routing_accuracy"]) == {"fashion", "digits"}
    assert load("auto", model_dir).predict(EXAMPLES / "fashion_test_bag.png")["routing"]["model"] == "fashion"
    assert (card_dir / "metrics.json").exists() and (card_dir / "README.md").exists()
    adapter = load("digits", model_dir)
    assert adapter.forward(np.zeros((2, 28, 28), dtype=np.float32)).shape == (2, 10)
