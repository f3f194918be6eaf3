"""Inference adapter of tasks 02 and 03: one YOLO11n-seg model gives boxes and instance masks.

preprocess (read any image safely, downscale huge ones) -> forward (ultralytics predict, or
overlapping tiles for a large image with small objects) -> postprocess (JSON in the input
image's pixel coordinates; COCO RLE masks for segmentation). Each step is usable on its own.

The network runs on ONNX Runtime (BACKEND; measured faster than eager PyTorch on 2 cores at the
same accuracy, see the card); test-time augmentation needs the PyTorch network, loaded on first use.
The ultralytics predictor keeps state between calls, so one `SceneModel` serves one request at
a time: the tabs run it in the task's worker processes (core/workers.py), one model per process.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core import images
from core.errors import InputError
from core.tasks.object_detection import render

BACKEND = "onnx"         # or "torch": eager PyTorch
MAX_SIDE = 2048          # larger images are downscaled first (the model sees imgsz pixels anyway)
TILE_OVERLAP = 0.25      # tiles overlap by this fraction of their side


@dataclass
class Prediction:
    """Instances found in one image, in its pixel coordinates (after any downscaling: `scale`)."""

    boxes: np.ndarray        # (N, 4) float x1, y1, x2, y2
    scores: np.ndarray       # (N,)
    labels: np.ndarray       # (N,) class indices
    masks: np.ndarray | None  # (N, H, W) bool, or None for detection only
    image: np.ndarray        # (H, W, 3) uint8, what the model was given
    scale: float = 1.0       # input pixels per model-image pixel (1 unless a huge image was downscaled)


def read_image(source: Any) -> tuple[np.ndarray, float]:
    """Any image (path, bytes, PIL, array) as RGB uint8, downscaled to MAX_SIDE; and the scale factor."""
    picture = images.open_image(source, work_side=MAX_SIDE)
    original = max(picture.size)
    if original > MAX_SIDE:
        picture = picture.copy()
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
    if min(picture.size) < 16:
        raise InputError(f"The image is only {picture.width}x{picture.height} pixels; upload one at least 16x16.")
    return np.asarray(picture.convert("RGB")), original / max(picture.size)


def bgr(image: np.ndarray) -> np.ndarray:
    """Ultralytics reads a numpy picture as OpenCV does, in BGR order: an RGB array must be flipped
    (without it, colours swap and the classes with them)."""
    return np.ascontiguousarray(image[..., ::-1])


def mask_rle(mask: np.ndarray) -> dict:
    """COCO run-length encoding of a binary mask: {"size": [h, w], "counts": str}."""
    from pycocotools import mask as coco_mask

    encoded = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in encoded["size"]], "counts": encoded["counts"].decode("ascii")}


class SceneModel:
    """The shipped YOLO11n-seg with its class names and input size."""

    def __init__(self, yolo: Any, classes: list[str], imgsz: int, variant: str = "scenes",
                 backend: str = "torch", model_dir: Path | None = None) -> None:
        self.yolo = yolo
        self.classes = list(classes)
        self.imgsz = int(imgsz)
        self.variant = variant
        self.backend = backend
        self.model_dir = model_dir
        self._eager = yolo if backend == "torch" else None

    @property
    def eager(self) -> Any:
        """The PyTorch network (test-time augmentation needs it), loaded on first use."""
        if self._eager is None:
            from core.tasks.object_detection.export import load_yolo

            self._eager = load_yolo(self.model_dir)
        return self._eager

    def warm(self) -> None:
        """One inference on a blank picture: ultralytics sets its predictor up on the first call."""
        self.forward(np.zeros((64, 64, 3), dtype=np.uint8), masks=True)

    def class_ids(self, names: list[str] | None) -> list[int] | None:
        """Indices of `names` (None or empty: every class); unknown names are an InputError."""
        if not names:
            return None
        unknown = [n for n in names if n not in self.classes]
        if unknown:
            raise InputError(f"Unknown class(es) {', '.join(map(repr, unknown))}; choose from {', '.join(self.classes)}.")
        return [self.classes.index(n) for n in names]

    def forward(self, image: np.ndarray, conf: float = 0.25, iou: float = 0.7, classes: list[int] | None = None,
                masks: bool = True, augment: bool = False) -> Prediction:
        """One pass of the model over the whole image."""
        yolo = self.eager if augment else self.yolo
        result = yolo.predict(bgr(image), imgsz=self.imgsz, conf=conf, iou=iou, classes=classes,
                              retina_masks=masks, augment=augment, verbose=False)[0]
        boxes = result.boxes
        found = None
        if masks:
            found = (result.masks.data.cpu().numpy() > 0.5 if result.masks is not None
                     else np.zeros((0, *image.shape[:2]), dtype=bool))
        return Prediction(boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy(), boxes.cls.cpu().numpy().astype(int),
                          found, image)

    def forward_tiled(self, image: np.ndarray, conf: float = 0.25, iou: float = 0.7,
                      classes: list[int] | None = None, masks: bool = True) -> Prediction:
        """The whole image and overlapping tiles of it (each seen at the model's resolution, so small
        objects get more pixels), merged with class-wise non-maximum suppression."""
        import torch
        from torchvision.ops import batched_nms

        height, width = image.shape[:2]
        parts = [self.forward(image, conf, iou, classes, masks)]
        tile = max(self.imgsz, int(min(height, width) / 2))
        if max(height, width) >= 1.5 * self.imgsz:
            step = max(1, int(tile * (1 - TILE_OVERLAP)))
            for top in sorted({*range(0, max(1, height - tile + 1), step), max(0, height - tile)}):
                for left in sorted({*range(0, max(1, width - tile + 1), step), max(0, width - tile)}):
                    crop = image[top:top + tile, left:left + tile]
                    part = self.forward(np.ascontiguousarray(crop), conf, iou, classes, masks)
                    part.boxes = part.boxes + np.array([left, top, left, top], dtype=np.float32)
                    if masks:
                        full = np.zeros((len(part.labels), height, width), dtype=bool)
                        full[:, top:top + crop.shape[0], left:left + crop.shape[1]] = part.masks
                        part.masks = full
                    parts.append(part)
        boxes = np.concatenate([p.boxes for p in parts]).reshape(-1, 4)
        scores = np.concatenate([p.scores for p in parts])
        labels = np.concatenate([p.labels for p in parts])
        keep = batched_nms(torch.as_tensor(boxes), torch.as_tensor(scores), torch.as_tensor(labels), iou).numpy()
        all_masks = np.concatenate([p.masks for p in parts]) if masks else None
        return Prediction(boxes[keep], scores[keep], labels[keep], all_masks[keep] if masks else None, image)

    def predict(self, source: Any, conf: float = 0.25, iou: float = 0.7, classes: list[str] | None = None,
                masks: bool = True, multiscale: bool = False) -> tuple[Prediction, float]:
        """Read `source` and find its objects; returns the prediction and the milliseconds it took.
        `multiscale`: test-time augmentation and, for a large image, overlapping tiles."""
        if not 0.0 <= conf <= 1.0 or not 0.0 <= iou <= 1.0:
            raise InputError("Confidence and IoU thresholds must be between 0 and 1.")
        start = time.perf_counter()
        image, scale = read_image(source)
        ids = self.class_ids(classes)
        if multiscale and max(image.shape[:2]) >= 1.5 * self.imgsz:
            prediction = self.forward_tiled(image, conf, iou, ids, masks)
        else:
            prediction = self.forward(image, conf, iou, ids, masks, augment=multiscale)
        prediction.scale = scale
        return prediction, (time.perf_counter() - start) * 1000

    def detections(self, prediction: Prediction) -> list[dict]:
        """[{"label", "score", "box": [x1, y1, x2, y2]}] in the input image's pixels, best first."""
        order = np.argsort(-prediction.scores)
        return [{"label": self.classes[int(prediction.labels[i])], "score": round(float(prediction.scores[i]), 4),
                 "box": [round(float(v) * prediction.scale, 1) for v in prediction.boxes[i]]} for i in order]

    def instances(self, prediction: Prediction) -> list[dict]:
        """The detections plus each instance's area (pixels and % of the image) and COCO RLE mask
        (at the resolution the model was given: `size` says which)."""
        order = np.argsort(-prediction.scores)
        total = prediction.image.shape[0] * prediction.image.shape[1]
        out = []
        for det, i in zip(self.detections(prediction), order):
            area = int(prediction.masks[i].sum())
            out.append({**det, "area": round(area * prediction.scale ** 2), "area_percent": round(100 * area / total, 2),
                        "mask": mask_rle(prediction.masks[i])})
        return out


    # -- what the tabs and the API return ------------------------------------------------------
    def _payload(self, prediction: Prediction, latency_ms: float, task: str) -> dict:
        height, width = prediction.image.shape[:2]
        counts: dict[str, int] = {}
        for label in prediction.labels:
            counts[self.classes[int(label)]] = counts.get(self.classes[int(label)], 0) + 1
        return {"model": f"{task}/{self.variant}", "variant": self.variant, "latency_ms": round(latency_ms, 1),
                "image_size": [round(width * prediction.scale), round(height * prediction.scale)],
                "counts": dict(sorted(counts.items()))}

    def detect(self, source: Any, conf: float = 0.25, iou: float = 0.7, classes: list[str] | None = None,
               multiscale: bool = False) -> "DetectionResponse":
        """Boxes for /detect_objects: the JSON and the annotated image."""
        prediction, latency = self.predict(source, conf, iou, classes, masks=False, multiscale=multiscale)
        payload = {"detections": self.detections(prediction), **self._payload(prediction, latency, "object_detection")}
        annotated = render.draw_boxes(prediction.image, prediction.boxes, prediction.labels, prediction.scores,
                                      self.classes)
        return DetectionResponse(payload, annotated)

    def detect_frames(self, frames: list[np.ndarray], conf: float = 0.25, iou: float = 0.7,
                      classes: list[str] | None = None, scale: float = 1.0) -> list[tuple[list[dict], np.ndarray]]:
        """Video frames (RGB arrays) to [(detections in source-video pixels, annotated frame)]: the
        detection tab sends a video's frames in small batches, so it can show progress between them."""
        if not 0.0 <= conf <= 1.0 or not 0.0 <= iou <= 1.0:
            raise InputError("Confidence and IoU thresholds must be between 0 and 1.")
        ids = self.class_ids(classes)
        out = []
        for frame in frames:
            prediction = self.forward(frame, conf, iou, ids, masks=False)
            prediction.scale = scale
            out.append((self.detections(prediction), render.draw_boxes(frame, prediction.boxes, prediction.labels,
                                                                       prediction.scores, self.classes)))
        return out

    def segment(self, source: Any, conf: float = 0.25, iou: float = 0.7, opacity: float = 0.5) -> "SegmentationResponse":
        """Instances for /segment_instances: the JSON (with RLE masks), the overlay and the instance map."""
        if not 0.0 <= opacity <= 1.0:
            raise InputError("Opacity must be between 0 and 1.")
        prediction, latency = self.predict(source, conf, iou, masks=True)
        payload = {"instances": self.instances(prediction), **self._payload(prediction, latency, "instance_segmentation")}
        overlay = render.draw_masks(prediction.image, prediction.masks, prediction.labels, self.classes, opacity)
        overlay = render.draw_boxes(overlay, prediction.boxes, prediction.labels, prediction.scores, self.classes)
        return SegmentationResponse(payload, overlay, render.instance_map(prediction.masks, prediction.scores,
                                                                          prediction.image.shape[:2]))


@dataclass
class DetectionResponse:
    payload: dict
    annotated: np.ndarray


@dataclass
class SegmentationResponse:
    payload: dict
    overlay: np.ndarray
    instance_map: np.ndarray  # 0 background, i + 1 = the i-th instance of payload["instances"]


def load(variant: str, model_dir: Path, backend: str = BACKEND) -> SceneModel:
    """`variant` "scenes" (shipped: trained by this project on generated scenes) or "coco" (opt-in,
    installed by core.tasks.object_detection.coco; an InputError saying how while it is not), run by
    `backend` ("onnx" or "torch")."""
    from core.tasks.object_detection import coco
    from core.tasks.object_detection.export import load_onnx, load_yolo

    if variant == "coco":
        if not coco.available():
            raise InputError(coco.unavailable_reason())
        model_dir = coco.coco_dir()
    elif variant != "scenes":
        raise KeyError(f"Unknown variant {variant!r}")
    config = json.loads((Path(model_dir) / "config.json").read_text())
    yolo = load_onnx(model_dir) if backend == "onnx" else load_yolo(model_dir)
    return SceneModel(yolo, config["classes"], config["imgsz"], variant, backend, Path(model_dir))


def load_shared(variant: str, model_dir: Path) -> SceneModel:
    """Instance segmentation's loader: the detection task's model (one YOLO11n-seg for both)."""
    return load(variant, Path(model_dir).parent / "object_detection")
