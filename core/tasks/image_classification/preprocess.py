"""Turn any user image into the 28x28 greyscale frame the models were trained on.

Two framings, both ending in float32 arrays in [0, 1] with a bright object on black:

* ``frame_product`` (Fashion-MNIST): Zalando trimmed each product photo to its bounding box,
  resized the longest edge to 28 px, centred it on a square canvas and negated the
  intensities. We do the same: the background colour is read from the border pixels, every
  pixel becomes its distance in luminance from that background (so a product on white is
  inverted and a product on black is not), then the object is cropped, padded to a square and
  resized to 28x28.
* ``frame_digit`` (MNIST): strokes are cropped, their thickness is brought to MNIST's
  (about 3 px in a 20 px box) by dilation or erosion, the digit is scaled to fit a 20x20 box
  and pasted in the 28x28 frame so that its centre of mass is at the centre.

Unreadable, truncated, tiny and empty inputs raise `InputError` with a message for the user.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from core import images
from core.errors import InputError
from core.images import SUPPORTED, editor_image  # noqa: F401 - SUPPORTED: the tab's messages name the formats

MIN_SIDE = 8            # smaller images carry no usable shape
MAX_WORK_SIDE = 1024    # larger images are downscaled first (speed; no loss at 28 px)
MNIST_STROKE_PX = 3.0   # median MNIST stroke width (2*area/perimeter at threshold 0.3), 20 px box


# ----------------------------------------------------------------------------- reading

def open_image(source: Any) -> Image.Image:
    """Open a path, bytes, numpy array or PIL image (any bit depth, pixel count checked before
    decoding: see core/images.py); raise `InputError` when it is not a usable image."""
    image = images.open_image(source, work_side=MAX_WORK_SIDE)
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        raise InputError(f"The image is only {width}x{height} pixels; upload one at least {MIN_SIDE}x{MIN_SIDE} "
                         "pixels so the object's shape is visible.")
    if max(image.size) > MAX_WORK_SIDE:
        image = image.copy()
        image.thumbnail((MAX_WORK_SIDE, MAX_WORK_SIDE), Image.Resampling.BOX)
    return image


def _border(a: np.ndarray, width: int) -> np.ndarray:
    return np.concatenate([a[:width].ravel(), a[-width:].ravel(), a[:, :width].ravel(), a[:, -width:].ravel()])


def to_intensity(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Object intensity in [0, 1] (bright object on black) and, for transparent images, the alpha mask.

    Opaque images: intensity = |luminance - background luminance| / headroom, where the
    background is the median of the border pixels. Transparent images (cut-outs, sketch
    layers) are flattened on white as a product photo would be, and alpha marks the object.
    """
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba, dtype=np.float32)[..., 3] / 255.0
        if alpha.min() < 0.98:  # really transparent somewhere
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            lum = np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.float32) / 255.0
            intensity = (1.0 - lum) * (alpha > 0.05)
            mask = alpha > 0.1
            if not mask.any():
                return np.zeros_like(alpha), mask
            if intensity[mask].max() < 0.15:  # a white object on transparency: use its silhouette
                intensity = alpha
            return intensity.astype(np.float32), mask
        image = rgba.convert("RGB")
    lum = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    width = max(1, min(lum.shape) // 25)
    background = float(np.median(_border(lum, width)))
    headroom = max(background, 1.0 - background)
    intensity = np.abs(lum - background) / headroom
    # JPEG noise and paper texture: drop what is within the border's own spread
    # (a robust spread, so an object touching the border does not count as noise)
    noise = min(0.15, 3.0 * 1.4826 * float(np.median(np.abs(_border(lum, width) - background))) / headroom)
    intensity = np.clip((intensity - noise) / max(1e-6, 1.0 - noise), 0.0, 1.0)
    return intensity.astype(np.float32), None


def _object_box(intensity: np.ndarray, mask: np.ndarray | None, threshold: float) -> tuple[int, int, int, int] | None:
    """Bounding box (top, bottom, left, right) of the object, ignoring isolated specks."""
    if mask is None:
        smooth = ndimage.uniform_filter(intensity, size=3)
        peak = float(smooth.max())
        if peak < 0.08:
            return None
        mask = smooth > max(threshold * peak, 0.04)
    if mask.sum() < 4:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _resize(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float [0, 1] array to (width, height) with anti-aliasing."""
    img = Image.fromarray(np.clip(a * 255.0, 0, 255).astype(np.uint8), mode="L")
    return np.asarray(img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0), dtype=np.float32) / 255.0


def _normalise(a: np.ndarray) -> np.ndarray:
    peak = float(np.percentile(a, 99.5)) if a.size else 0.0
    peak = max(peak, float(a.max()) * 0.6, 1e-6)
    return np.clip(a / peak, 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------- products

def frame_product(intensity: np.ndarray, mask: np.ndarray | None = None, size: int = 28) -> np.ndarray:
    """Crop to the object, pad to a square (object centred) and resize to size x size, like Fashion-MNIST."""
    box = _object_box(intensity, mask, threshold=0.12)
    if box is None:
        raise InputError("No object found: the image looks like one flat colour. Upload a photo of a single "
                         "product on a plain (white, black or any uniform) background.")
    top, bottom, left, right = box
    crop = intensity[top:bottom, left:right]
    h, w = crop.shape
    side = max(h, w)
    square = np.zeros((side, side), dtype=np.float32)
    square[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = crop
    return _normalise(_resize(square, (size, size)))


def preprocess_product(source: Any) -> np.ndarray:
    """Any user image -> 28x28 Fashion-MNIST-style frame."""
    return frame_product(*to_intensity(open_image(source)))


# ----------------------------------------------------------------------------- digits

def stroke_width(binary: np.ndarray) -> float:
    """Mean stroke width of a binary drawing: 2 * area / perimeter (a stroke of length L, width w)."""
    area = float(binary.sum())
    if area == 0:
        return 0.0
    edge = binary & ~ndimage.binary_erosion(binary, border_value=0)
    return 2.0 * area / max(float(edge.sum()), 1.0)


def _normalise_thickness(crop: np.ndarray, long_side: int, box: int) -> np.ndarray:
    """Dilate thin strokes / erode thick ones so that after scaling to `box` px they are MNIST-thick."""
    binary = crop > 0.3
    width = stroke_width(binary)
    target = MNIST_STROKE_PX * long_side / box
    if width <= 0:
        return crop
    if width < 0.65 * target:
        radius = int(round((target - width) / 2))
        if radius >= 1:
            size = 2 * radius + 1
            disk = np.hypot(*np.mgrid[-radius:radius + 1, -radius:radius + 1]) <= radius + 0.5
            crop = ndimage.grey_dilation(crop, footprint=disk, mode="constant", cval=0.0) if size > 1 else crop
    elif width > 1.35 * target:
        radius = int(round((width - target) / 2))
        while radius >= 1:
            disk = np.hypot(*np.mgrid[-radius:radius + 1, -radius:radius + 1]) <= radius + 0.5
            eroded = ndimage.grey_erosion(crop, footprint=disk, mode="constant", cval=0.0)
            if (eroded > 0.3).sum() >= 0.3 * binary.sum():
                crop = eroded
                break
            radius //= 2
    return crop


def frame_digit(intensity: np.ndarray, mask: np.ndarray | None = None, size: int = 28, box: int = 20) -> np.ndarray:
    """Crop the strokes, normalise their thickness, fit them in a box x box square and centre
    the result by centre of mass in a size x size frame, as MNIST was made."""
    found = _object_box(intensity, mask, threshold=0.25)
    if found is None or float(intensity.max()) < 0.1:
        raise InputError("The canvas is empty: draw a digit (0-9) first, large and in one colour.")
    top, bottom, left, right = found
    pad = 2
    crop = np.pad(intensity[top:bottom, left:right], pad)
    crop = _normalise(crop)
    long_side = max(crop.shape) - 2 * pad
    crop = _normalise_thickness(crop, max(long_side, 1), box)
    binary = crop > 0.05
    rows = np.flatnonzero(binary.any(axis=1))
    cols = np.flatnonzero(binary.any(axis=0))
    crop = crop[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = box / max(h, w)
    new_w, new_h = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    digit = _resize(crop, (new_w, new_h))
    frame = np.zeros((size, size), dtype=np.float32)
    cy, cx = ndimage.center_of_mass(digit) if digit.sum() > 0 else (new_h / 2, new_w / 2)
    top_left_y = int(np.clip(round(size / 2 - cy), 0, size - new_h))
    top_left_x = int(np.clip(round(size / 2 - cx), 0, size - new_w))
    frame[top_left_y:top_left_y + new_h, top_left_x:top_left_x + new_w] = digit
    return _normalise(frame)


def preprocess_digit(source: Any) -> np.ndarray:
    """Any image of a handwritten digit (dark on light or light on dark) -> 28x28 MNIST-style frame."""
    return frame_digit(*to_intensity(open_image(source)))


# ----------------------------------------------------------------------------- sketches

def sketch_to_image(sketch: Any) -> Image.Image:
    """The picture drawn on a gr.Sketchpad / gr.ImageEditor value (core.images.editor_image)."""
    return editor_image(sketch, "The canvas is empty: draw a digit (0-9) first.")


def preprocess_sketch(sketch: Any) -> np.ndarray:
    """A Sketchpad value -> 28x28 MNIST-style frame; an empty canvas raises `InputError`."""
    return frame_digit(*to_intensity(sketch_to_image(sketch)))


def to_preview(frame: np.ndarray, scale: int = 8) -> np.ndarray:
    """The 28x28 frame upscaled (nearest neighbour) as uint8 so users see what the model saw."""
    return np.kron(np.clip(frame, 0, 1) * 255.0, np.ones((scale, scale))).astype(np.uint8)
