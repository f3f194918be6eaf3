"""Latency of the image-classification pipeline on this machine (CPU): preprocessing per input kind,
the forward pass per model (batch 1 and batch 256), and the full adapter call.

    python benchmarks/image_classification.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.artifacts import measure_latency_ms  # noqa: E402
from core.registry import get_model  # noqa: E402
from core.tasks.image_classification import preprocess as pp  # noqa: E402
from core.tasks.image_classification import render  # noqa: E402
from core.tasks.image_classification.data import load_digits, load_fashion  # noqa: E402


def main() -> None:
    import torch

    fashion, digits = load_fashion(), load_digits()
    photo_small = render.product_photo(fashion.x_test[0], 320)
    photo_large = render.product_photo(fashion.x_test[0], 1600)
    sketch = {"background": None, "layers": [], "composite": render.drawn_digit(digits.x_test[0], 800, 0.5, (0.2, 0.1), 6)}
    print(f"torch threads: {torch.get_num_threads()}")
    rows = [
        ("preprocess product photo 320 px", lambda: pp.preprocess_product(photo_small)),
        ("preprocess product photo 1600 px", lambda: pp.preprocess_product(photo_large)),
        ("preprocess sketch 800 px", lambda: pp.preprocess_sketch(sketch)),
    ]
    for variant, splits in (("fashion", fashion), ("digits", digits)):
        adapter = get_model("image_classification", variant)
        one = splits.x_test[:1]
        batch = splits.x_test[:256]
        frame = adapter.preprocess(photo_small) if variant == "fashion" else pp.preprocess_sketch(sketch)
        rows += [
            (f"{variant}: forward, 1 image", lambda a=adapter, x=one: a.forward(x)),
            (f"{variant}: forward, 256 images (per image)", lambda a=adapter, x=batch: a.forward(x)),
            (f"{variant}: full predict (preprocess+forward+top-5)",
             (lambda a=adapter: a.predict(photo_small)) if variant == "fashion"
             else (lambda a=adapter: a.predict(None, frame=pp.preprocess_sketch(sketch)))),
            (f"{variant}: Grad-CAM overlay", lambda a=adapter, fr=frame: a.explain(fr, 0)),
        ]
    for name, fn in rows:
        ms = measure_latency_ms(fn, repeats=20, warmup=3)
        if "256 images" in name:
            ms /= 256
        print(f"{name:52s} {ms:8.3f} ms")
    print_request_latency_by_torch_threads(photo_small)


def print_request_latency_by_torch_threads(photo) -> None:
    """What one /classify_image request costs in the app (preprocess, predict + Grad-CAM in one pass,
    both output images written), with 1 torch thread (what app.launch sets) and with 2."""
    import tempfile

    import torch

    from demos.image_classification import classify_image

    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/photo.png"
        photo.save(path)
        for threads in (1, 2):
            torch.set_num_threads(threads)
            ms = measure_latency_ms(lambda: classify_image(path, "fashion"), repeats=30, warmup=3)
            print(f"{f'classify_image request, {threads} torch thread(s)':52s} {ms:8.3f} ms")


if __name__ == "__main__":
    np.random.seed(0)
    main()
