"""Held-out evaluation of the YOLO11n-seg model on test scenes (photographs no training scene used).

* Detection and instance masks: COCO-style mAP50-95 and mAP50 of boxes and of masks, per class
  too, with ultralytics' validator on the written test split.
* Segmentation as a picture: mean IoU over the 12 classes and pixel accuracy (background
  included), from a confusion matrix of class maps. The predicted map paints each detected
  mask (at the image's resolution) in score order, the best last; the true map paints the exact
  visible masks.

    .venv/bin/python -m core.tasks.object_detection.evaluate --model-dir assets/models/object_detection
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from core.tasks.object_detection.adapter import bgr
from core.tasks.object_detection.scenes import CLASSES, make_scene


def detection_metrics(yolo: Any, data_yaml: Path, imgsz: int, split: str = "test") -> dict:
    """Box and mask mAP (overall and per class) from ultralytics' validator."""
    result = yolo.val(data=str(data_yaml), split=split, imgsz=imgsz, batch=16, plots=False, verbose=False,
                      device="cpu", conf=0.001, iou=0.7)
    per_class = []
    for i, index in enumerate(result.box.ap_class_index):
        per_class.append({"label": CLASSES[int(index)], "box_map50_95": round(float(result.box.maps[int(index)]), 4),
                          "mask_map50_95": round(float(result.seg.maps[int(index)]), 4)})
    return {
        "box_map50_95": round(float(result.box.map), 4), "box_map50": round(float(result.box.map50), 4),
        "box_precision": round(float(result.box.mp), 4), "box_recall": round(float(result.box.mr), 4),
        "mask_map50_95": round(float(result.seg.map), 4), "mask_map50": round(float(result.seg.map50), 4),
        "per_class": per_class,
    }


def choose_inference_size(yolo: Any, data_yaml: Path, sizes: tuple[int, ...]) -> tuple[int, dict]:
    """The input size (of `sizes`) at which the model scores the best box mAP50-95 on the
    *validation* scenes, and every size's validation scores: chosen there, reported on test."""
    scores = {}
    for size in sizes:
        result = detection_metrics(yolo, data_yaml, size, split="val")
        scores[size] = {k: result[k] for k in ("box_map50_95", "box_map50", "mask_map50_95")}
    return max(sizes, key=lambda size: scores[size]["box_map50_95"]), scores


def class_map(masks: list[np.ndarray], labels: list[int], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) map: 0 background, c + 1 where an instance of class c is (later instances on top)."""
    out = np.zeros(shape, dtype=np.int64)
    for mask, label in zip(masks, labels):
        out[mask] = label + 1
    return out


def segmentation_scores(yolo: Any, seeds: range, imgsz: int, conf: float = 0.25, scene_size: int | None = None) -> dict:
    """Mean IoU over the 12 classes and pixel accuracy on test scenes `seeds` (generated at
    `scene_size` pixels, by default `imgsz`; the model sees them at `imgsz`)."""
    k = len(CLASSES) + 1
    confusion = np.zeros((k, k), dtype=np.int64)
    for seed in seeds:
        scene = make_scene(seed, "test", scene_size or imgsz)
        truth = class_map(scene.masks, scene.labels, scene.image.shape[:2])
        result = yolo.predict(bgr(scene.image), imgsz=imgsz, conf=conf, retina_masks=True, verbose=False)[0]
        predicted = np.zeros_like(truth)
        if result.masks is not None:
            masks = result.masks.data.cpu().numpy() > 0.5
            scores = result.boxes.conf.cpu().numpy()
            labels = result.boxes.cls.cpu().numpy().astype(int)
            order = np.argsort(scores)  # the most confident instance painted last
            predicted = class_map([masks[i] for i in order], [labels[i] for i in order], truth.shape)
        confusion += np.bincount(truth.ravel() * k + predicted.ravel(), minlength=k * k).reshape(k, k)
    intersection = np.diag(confusion).astype(float)
    union = confusion.sum(0) + confusion.sum(1) - intersection
    iou = np.divide(intersection, union, out=np.full(k, np.nan), where=union > 0)
    return {"miou": round(float(np.nanmean(iou[1:])), 4), "pixel_accuracy": round(float(intersection.sum() / confusion.sum()), 4),
            "iou_per_class": {CLASSES[c - 1]: round(float(iou[c]), 4) for c in range(1, k) if np.isfinite(iou[c])},
            "background_iou": round(float(iou[0]), 4), "scenes": len(seeds), "conf": conf}


def main() -> None:
    from core.tasks.object_detection.export import load_yolo
    from core.tasks.object_detection.train import FULL, prepare_scenes

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    args = parser.parse_args()
    config = json.loads((args.model_dir / "config.json").read_text())
    yolo = load_yolo(args.model_dir)
    scores = detection_metrics(yolo, prepare_scenes(FULL), config["imgsz"])
    scores.update(segmentation_scores(yolo, range(FULL.test_scenes), config["imgsz"], scene_size=FULL.imgsz))
    print(json.dumps(scores, indent=2))


if __name__ == "__main__":
    main()
