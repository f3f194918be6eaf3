"""Train the YOLO11n-seg model of tasks 02 (detection) and 03 (instance segmentation).

    .venv/bin/python -m core.tasks.object_detection.train            # full run (~75 min on 2 cores)
    .venv/bin/python -m core.tasks.object_detection.train --quick    # seconds-long smoke run

Scenes come from `scenes.py` (train, validation and test on different photographs), written in
the YOLO layout under data/object_detection/ (kept out of git; regenerated when missing). The
model is built from ultralytics' YAML, with no pretrained weights, offline. Progress goes to
data/object_detection/<run>/train.log and ultralytics' results.csv (one row per epoch), so a
later session can see where a run stood; `--resume` continues an interrupted run.

Ultralytics checkpoints (.pt) are pickles: they stay in data/ and only training reads them.
The shipped weights are exported from them (see export.py).
"""
from __future__ import annotations

import argparse
import os
import logging
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.settings import REPO_ROOT, apply_offline_defaults

apply_offline_defaults()

from core.tasks.object_detection.scenes import write_dataset_yaml, write_yolo_split  # noqa: E402

DATA_ROOT = REPO_ROOT / "data" / "object_detection"
SEED = 0


@dataclass(frozen=True)
class TrainConfig:
    imgsz: int = 256
    epochs: int = 40
    batch: int = 16
    train_scenes: int = 2400
    val_scenes: int = 300
    test_scenes: int = 500
    close_mosaic: int = 5
    name: str = "scenes_v1"


FULL = TrainConfig()
QUICK = TrainConfig(imgsz=128, epochs=1, batch=8, train_scenes=16, val_scenes=8, test_scenes=8, close_mosaic=0,
                    name="quick")


def prepare_scenes(cfg: TrainConfig, root: Path = DATA_ROOT) -> Path:
    """Write the scenes of every split (skipped when the folder already holds them); return the data yaml."""
    folder = root / f"{cfg.name}_data_{cfg.imgsz}"
    for split, count in (("train", cfg.train_scenes), ("val", cfg.val_scenes), ("test", cfg.test_scenes)):
        images = folder / split / "images"
        if not images.exists() or len(list(images.glob("*.jpg"))) != count:
            write_yolo_split(folder, split, count, size=cfg.imgsz)
    return write_dataset_yaml(folder)


def _log_to(path: Path) -> logging.Logger:
    logger = logging.getLogger("object_detection.train")
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    logger.addHandler(logging.StreamHandler(sys.stdout))
    return logger


def fit(cfg: TrainConfig, root: Path = DATA_ROOT, resume: bool = False) -> Path:
    """Train (or resume) and return the run folder (weights/best.pt, results.csv, train.log)."""
    import torch
    from ultralytics import YOLO

    data = prepare_scenes(cfg, root)
    run = root / cfg.name
    run.mkdir(parents=True, exist_ok=True)
    log = _log_to(run / "train.log")
    log.info("config %s", asdict(cfg))
    started = time.time()

    def use_both_cores(_trainer) -> None:  # ultralytics sets torch to one thread on a 2-core machine
        torch.set_num_threads(len(os.sched_getaffinity(0)))

    def progress(trainer) -> None:
        metrics = {k: round(float(v), 4) for k, v in (trainer.metrics or {}).items() if "mAP" in k}
        done = min(trainer.epoch + 1, trainer.epochs)  # called once more for the final validation
        log.info("epoch %d/%d done after %.1f min: %s", done, trainer.epochs, (time.time() - started) / 60, metrics)

    model = YOLO(str(run / "weights" / "last.pt")) if resume else YOLO("yolo11n-seg.yaml")
    model.add_callback("on_train_start", use_both_cores)
    model.add_callback("on_fit_epoch_end", progress)
    model.train(data=str(data), imgsz=cfg.imgsz, epochs=cfg.epochs, batch=cfg.batch, device="cpu", workers=0,
                pretrained=False, amp=False, plots=False, project=str(root), name=cfg.name, exist_ok=True,
                seed=SEED, deterministic=True, close_mosaic=cfg.close_mosaic, patience=cfg.epochs, verbose=False,
                resume=resume)
    log.info("training finished after %.1f min; weights in %s", (time.time() - started) / 60, run / "weights")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run from last.pt")
    args = parser.parse_args()
    fit(QUICK if args.quick else FULL, resume=args.resume)


if __name__ == "__main__":
    main()
