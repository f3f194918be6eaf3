"""Write the example inputs of the image-classification tab (assets/examples/image_classification/).

Held-out test images only: a few Fashion-MNIST test images as they are (28x28), a few
re-rendered as colour product photos on a white or black background at 320 px, and a few
MNIST test-split digits drawn as a sketch would be (ink on white). Run:
`python scripts/make_examples_image_classification.py`.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.registry import EXAMPLES_DIR  # noqa: E402
from core.tasks.image_classification import render  # noqa: E402
from core.tasks.image_classification.data import load_digits, load_fashion  # noqa: E402

OUT = EXAMPLES_DIR / "image_classification"


def _first(y: np.ndarray, label: int, skip: int = 0) -> int:
    return int(np.flatnonzero(y == label)[skip])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    fashion, digits = load_fashion(), load_digits()
    slug = lambda label: label.lower().replace("/", "_").replace(" ", "_").replace("-", "_")  # noqa: E731
    for cls in (1, 3, 7, 8, 9):  # trouser, dress, sneaker, bag, ankle boot: plain 28x28 test images
        i = _first(fashion.y_test, cls)
        Image.fromarray(fashion.x_test[i]).save(OUT / f"fashion_test_{slug(fashion.labels[cls])}.png")
    rng = np.random.default_rng(7)
    for cls, background, tint in ((0, "white", (200, 40, 40)), (5, "white", (40, 90, 200)), (2, "black", (230, 200, 60))):
        i = _first(fashion.y_test, cls, skip=1)
        photo = render.product_photo(fashion.x_test[i], 320, background, tint, rng)
        photo.save(OUT / f"fashion_on_{background}_{slug(fashion.labels[cls])}.jpg", quality=85)
    for digit, scale, offset, thickness in ((3, 0.5, (0.2, -0.2), 2), (7, 0.3, (-0.25, 0.25), 0)):
        i = _first(digits.y_test, digit)
        drawn = render.drawn_digit(digits.x_test[i], 300, scale, offset, thickness, transparent=False)
        drawn.convert("L").save(OUT / f"digit_{digit}_drawn.png", optimize=True)
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(OUT.parent.parent.parent)}  {path.stat().st_size / 1000:.1f} kB")


if __name__ == "__main__":
    main()
