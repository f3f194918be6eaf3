"""Re-render held-out data-set images as the kind of pictures users upload or draw.

Used by the evaluation (the card's robustness table), the tests and the benchmark, to check
that a prediction survives the app's preprocessing for inputs unlike the data set's own pixels.
"""
from __future__ import annotations

import numpy as np
from PIL import Image


def product_photo(image28: np.ndarray, size: int = 320, background: str = "white", tint: tuple[int, int, int] = (180, 60, 40),
                  rng: np.random.Generator | None = None) -> Image.Image:
    """A Fashion-MNIST image as a colour "product photo": object `tint`-coloured, upscaled ~8x,
    placed off-centre on a larger white (or black) canvas, with mild noise; RGB."""
    rng = rng or np.random.default_rng(0)
    obj = Image.fromarray(image28).resize((size * 2 // 3, size * 2 // 3), Image.Resampling.BICUBIC)
    a = np.asarray(obj, dtype=np.float32) / 255.0                  # 1 = object
    canvas_a = np.zeros((size, size), dtype=np.float32)
    oy, ox = rng.integers(0, size - a.shape[0] + 1, size=2)
    canvas_a[oy:oy + a.shape[0], ox:ox + a.shape[1]] = a
    tint_arr = np.array(tint, dtype=np.float32)
    if background == "white":
        # Fashion-MNIST is a negated photo: bright pixels were dark product pixels
        rgb = 255.0 - canvas_a[..., None] * (255.0 - tint_arr * 0.5)
    else:
        rgb = canvas_a[..., None] * np.maximum(tint_arr, 90) / np.maximum(tint_arr, 90).max() * 255.0
    rgb = rgb + rng.normal(0, 3.0, rgb.shape)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), mode="RGB")


def drawn_digit(image28: np.ndarray, canvas: int = 400, scale: float = 0.5, offset: tuple[float, float] = (0.2, -0.25),
                thickness: int = 0, ink: tuple[int, int, int, int] = (0, 0, 0, 255), transparent: bool = True) -> Image.Image:
    """An MNIST digit as a Sketchpad drawing: ink strokes on a transparent (or white) canvas, the digit
    `scale` of the canvas tall, moved by `offset` (fractions of the canvas), thickened by `thickness` px."""
    from scipy import ndimage

    side = max(8, int(canvas * scale))
    digit = np.asarray(Image.fromarray(image28).resize((side, side), Image.Resampling.BICUBIC), dtype=np.float32) / 255.0
    if thickness > 0:
        digit = ndimage.grey_dilation(digit, size=(2 * thickness + 1, 2 * thickness + 1))
    elif thickness < 0:
        digit = ndimage.grey_erosion(digit, size=(-2 * thickness + 1, -2 * thickness + 1))
    alpha = np.zeros((canvas, canvas), dtype=np.float32)
    cy = int(canvas / 2 + offset[1] * canvas - side / 2)
    cx = int(canvas / 2 + offset[0] * canvas - side / 2)
    cy, cx = int(np.clip(cy, 0, canvas - side)), int(np.clip(cx, 0, canvas - side))
    alpha[cy:cy + side, cx:cx + side] = (digit > 0.4).astype(np.float32)   # a brush has hard edges
    rgba = np.zeros((canvas, canvas, 4), dtype=np.uint8)
    rgba[..., :3] = ink[:3]
    rgba[..., 3] = (alpha * ink[3]).astype(np.uint8)
    image = Image.fromarray(rgba, mode="RGBA")
    if not transparent:
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image).convert("RGB")
    return image
