"""Scenes with exact ground truth for detection and instance segmentation (tasks 02 and 03).

Objects are Noto Color Emoji pictures of 12 COCO classes (`assets/sprites/`, extracted by
scripts/extract_emoji_sprites.py; the alpha channel is the exact mask). They are composited
onto real photographs (scikit-image's bundled images: random crops, flips and colour changes),
0-8 per scene, at random scales, rotations and places, overlapping each other. Boxes and masks
come from what stays visible: an occluded part is removed from the object behind it. Blur,
noise, colour jitter and JPEG artefacts follow.

Everything is deterministic from a seed. Train, validation and test scenes use different
seeds and *different photographs* (`BACKGROUNDS`), so the test set measures unseen scenes.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from core.settings import REPO_ROOT

SPRITES_DIR = REPO_ROOT / "assets" / "sprites"
CLASSES = ["dog", "cat", "bird", "horse", "car", "bicycle", "airplane", "apple", "banana", "pizza", "sports ball",
           "umbrella"]
# Photographs per split (skimage.data names; all ship with scikit-image). No photograph is in two splits.
# (skimage's "chelsea", a real cat, is left out: an unlabelled cat would teach the "cat" class wrong.)
BACKGROUNDS = {
    "train": ["astronaut", "camera", "coins", "rocket", "page", "text", "brick", "grass", "gravel",
              "immunohistochemistry", "stereo_motorcycle", "moon"],
    "val": ["retina"],
    "test": ["coffee", "hubble_deep_field", "clock"],
}
MAX_OBJECTS = 8
MIN_VISIBLE = 0.35     # an object less visible than this (fraction of its pixels) is left out of the scene
MIN_AREA_PX = 24       # and so is one smaller than this many visible pixels


@dataclass
class Scene:
    """One generated image and its ground truth (instances in drawing order, back to front)."""

    image: np.ndarray                                   # (H, W, 3) uint8
    labels: list[int] = field(default_factory=list)     # class indices into CLASSES
    masks: list[np.ndarray] = field(default_factory=list)  # (H, W) bool, visible pixels only
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # x1, y1, x2, y2 (exclusive)

    def yolo_segments(self, epsilon: float = 1.0) -> list[tuple[int, np.ndarray]]:
        """(class, polygon as (N, 2) coordinates normalised to [0, 1]) per instance, for YOLO
        segmentation labels: the outline of each visible mask (its largest piece when an
        occluder cut it in two)."""
        import cv2

        height, width = self.image.shape[:2]
        out = []
        for label, mask in zip(self.labels, self.masks):
            contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            if not contours:
                continue
            contour = cv2.approxPolyDP(max(contours, key=cv2.contourArea), epsilon, True).reshape(-1, 2)
            if len(contour) < 3:
                continue
            out.append((label, contour.astype(np.float32) / np.array([width, height], dtype=np.float32)))
        return out


@lru_cache(maxsize=1)
def sprites() -> dict[int, list[Image.Image]]:
    """Class index -> its RGBA pictures."""
    out: dict[int, list[Image.Image]] = {i: [] for i in range(len(CLASSES))}
    for path in sorted(SPRITES_DIR.glob("*.png")):
        name = path.stem.rsplit("_", 1)[0].replace("_", " ")
        out[CLASSES.index(name)].append(Image.open(path).convert("RGBA"))
    missing = [CLASSES[i] for i, pictures in out.items() if not pictures]
    if missing:
        raise FileNotFoundError(f"No sprites for {missing} in {SPRITES_DIR}: run scripts/extract_emoji_sprites.py")
    return out


@lru_cache(maxsize=None)
def photograph(name: str) -> Image.Image:
    """A scikit-image bundled photograph as RGB (greyscale ones are repeated on three channels)."""
    import skimage.data

    picture = getattr(skimage.data, name)()
    if isinstance(picture, tuple):  # stereo pairs: the left view
        picture = picture[0]
    picture = np.asarray(picture)
    if picture.ndim == 2:
        picture = np.repeat(picture[..., None], 3, axis=2)
    return Image.fromarray(picture[..., :3].astype(np.uint8))


def _background(rng: np.random.Generator, split: str, size: int) -> Image.Image:
    photo = photograph(str(rng.choice(BACKGROUNDS[split])))
    width, height = photo.size
    side = int(min(width, height) * rng.uniform(0.35, 1.0))
    left, top = int(rng.integers(0, width - side + 1)), int(rng.integers(0, height - side + 1))
    picture = photo.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        picture = picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    picture = ImageEnhance.Color(picture).enhance(rng.uniform(0.4, 1.5))
    picture = ImageEnhance.Brightness(picture).enhance(rng.uniform(0.7, 1.25))
    return ImageEnhance.Contrast(picture).enhance(rng.uniform(0.7, 1.3))


def _object(rng: np.random.Generator, label: int, size: int) -> Image.Image:
    """One object's RGBA picture, scaled (small to large), maybe mirrored, rotated and recoloured."""
    picture = sprites()[label][int(rng.integers(len(sprites()[label])))]
    longest = size * float(np.exp(rng.uniform(np.log(0.08), np.log(0.55))))
    scale = longest / max(picture.size)
    picture = picture.resize((max(4, round(picture.width * scale)), max(4, round(picture.height * scale))),
                             Image.Resampling.LANCZOS)
    if rng.random() < 0.5:
        picture = picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    picture = picture.rotate(float(rng.uniform(-30, 30)), resample=Image.Resampling.BICUBIC, expand=True)
    rgb, alpha = picture.convert("RGB"), picture.getchannel("A")
    rgb = ImageEnhance.Color(rgb).enhance(rng.uniform(0.6, 1.3))
    rgb = ImageEnhance.Brightness(rgb).enhance(rng.uniform(0.75, 1.2))
    picture = rgb.convert("RGBA")
    picture.putalpha(alpha)
    return picture


def _degrade(rng: np.random.Generator, picture: Image.Image) -> Image.Image:
    """Blur, sensor noise and JPEG artefacts, each on some scenes."""
    if rng.random() < 0.3:
        picture = picture.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.4, 1.4))))
    if rng.random() < 0.5:
        pixels = np.asarray(picture, dtype=np.float32)
        pixels += rng.normal(0, rng.uniform(2, 10), pixels.shape)
        picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=int(rng.integers(30, 90)))
        picture = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return picture


def make_scene(seed: int, split: str = "train", size: int = 320) -> Scene:
    """Scene number `seed` of `split`: a photograph with 0-8 objects and their exact ground truth."""
    rng = np.random.default_rng([seed, ("train", "val", "test").index(split)])
    canvas = _background(rng, split, size).convert("RGBA")
    count = int(rng.choice(MAX_OBJECTS + 1, p=_COUNT_PROBABILITIES))
    labels: list[int] = []
    masks: list[np.ndarray] = []
    full_areas: list[int] = []
    for _ in range(count):
        label = int(rng.integers(len(CLASSES)))
        picture = _object(rng, label, size)
        # mostly inside the image; up to a quarter of the object may fall outside
        x = int(rng.integers(-picture.width // 4, size - picture.width * 3 // 4 + 1))
        y = int(rng.integers(-picture.height // 4, size - picture.height * 3 // 4 + 1))
        layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        layer.paste(picture, (x, y))
        mask = np.asarray(layer.getchannel("A")) > 127
        if mask.sum() < MIN_AREA_PX:
            continue
        canvas.alpha_composite(layer)
        masks = [previous & ~mask for previous in masks]  # the new object hides what is behind it
        labels.append(label)
        masks.append(mask)
        full_areas.append(int(np.asarray(picture.getchannel("A")).__gt__(127).sum()))
    scene = Scene(np.asarray(_degrade(rng, canvas.convert("RGB"))))
    for label, mask, full in zip(labels, masks, full_areas):
        visible = int(mask.sum())
        if visible < MIN_AREA_PX or visible < MIN_VISIBLE * full:
            continue
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        scene.labels.append(label)
        scene.masks.append(mask)
        scene.boxes.append((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1))
    return scene


# 0 objects now and then (a detector must also say "nothing"), mostly 2-5
_COUNT_PROBABILITIES = np.array([0.04, 0.1, 0.14, 0.16, 0.16, 0.14, 0.1, 0.08, 0.08])
_COUNT_PROBABILITIES = _COUNT_PROBABILITIES / _COUNT_PROBABILITIES.sum()


def write_yolo_split(directory: Path, split: str, count: int, size: int = 320, first_seed: int = 0) -> Path:
    """Write `count` scenes of `split` in the YOLO segmentation layout: images/<n>.jpg and
    labels/<n>.txt ("class x1 y1 x2 y2 ..." normalised polygon per line). Returns the folder."""
    folder = Path(directory) / split
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    for seed in range(first_seed, first_seed + count):
        scene = make_scene(seed, split, size)
        Image.fromarray(scene.image).save(folder / "images" / f"{seed:06d}.jpg", quality=95)
        lines = [f"{label} " + " ".join(f"{v:.5f}" for v in polygon.ravel()) for label, polygon in scene.yolo_segments()]
        (folder / "labels" / f"{seed:06d}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
    return folder


def write_dataset_yaml(directory: Path) -> Path:
    """The ultralytics data file for a folder written by `write_yolo_split`."""
    directory = Path(directory)
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASSES))
    path = directory / "scenes.yaml"
    path.write_text(f"path: {directory.resolve()}\ntrain: train/images\nval: val/images\ntest: test/images\nnames:\n{names}\n")
    return path
