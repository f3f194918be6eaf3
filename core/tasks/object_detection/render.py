"""Pictures of a prediction: boxes with label and score, and instance masks over the image."""
from __future__ import annotations

import zlib

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# one colour per class (Okabe-Ito and Tableau hues: distinct, readable on photographs)
PALETTE = [(230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178), (213, 94, 0),
           (204, 121, 167), (31, 119, 180), (214, 39, 40), (148, 103, 189), (140, 86, 75), (127, 127, 127)]


def colour(name: str) -> tuple[int, int, int]:
    """The colour of a class, by name: the 12 scene classes each get their own; the COCO model's
    other classes share the palette (by a stable hash of their name)."""
    from core.tasks.object_detection.scenes import CLASSES

    index = CLASSES.index(name) if name in CLASSES else zlib.crc32(name.encode())
    return PALETTE[index % len(PALETTE)]


def css_colour(name: str) -> str:
    return "rgb({}, {}, {})".format(*colour(name))


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without a scalable default font
        return ImageFont.load_default()


def draw_boxes(image: np.ndarray, boxes: np.ndarray, labels: np.ndarray, scores: np.ndarray, names: list[str]) -> np.ndarray:
    """The image with each box outlined in its class colour and tagged "label score"."""
    picture = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(picture)
    width = max(2, round(max(picture.size) / 300))
    font = _font(max(11, round(max(picture.size) / 45)))
    for box, label, score in sorted(zip(boxes, labels, scores), key=lambda item: item[2]):
        x1, y1, x2, y2 = (float(v) for v in box)
        tag = f"{names[int(label)]} {score:.2f}"
        tint = colour(names[int(label)])
        draw.rectangle((x1, y1, x2, y2), outline=tint, width=width)
        left, top, right, bottom = draw.textbbox((x1, y1), tag, font=font)
        lift = bottom - top + 4
        y = y1 - lift if y1 - lift >= 0 else y1
        draw.rectangle((x1, y, x1 + right - left + 6, y + lift), fill=tint)
        draw.text((x1 + 3, y + 2 - (top - y1)), tag, fill=(0, 0, 0) if sum(tint) > 380 else (255, 255, 255),
                  font=font)
    return np.asarray(picture)


def draw_masks(image: np.ndarray, masks: np.ndarray, labels: np.ndarray, names: list[str],
               opacity: float = 0.5) -> np.ndarray:
    """The image with each instance mask filled in its class colour at `opacity`, outlined fully."""
    from scipy import ndimage

    out = image.astype(np.float32).copy()
    for mask, label in zip(masks, labels):
        tint = np.array(colour(names[int(label)]), dtype=np.float32)
        out[mask] = (1 - opacity) * out[mask] + opacity * tint
        edge = mask & ~ndimage.binary_erosion(mask, iterations=2)
        out[edge] = tint
    return np.clip(out, 0, 255).astype(np.uint8)


def instance_map(masks: np.ndarray, scores: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) uint8 map: 0 background, i + 1 for the i-th instance (best first) where it is on top."""
    out = np.zeros(shape, dtype=np.uint8)
    order = np.argsort(-scores)
    for rank in reversed(range(min(len(order), 254))):  # the best instance painted last, on top
        out[masks[order[rank]]] = rank + 1
    return out
