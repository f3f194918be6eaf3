"""Train the YOLO11n-seg model of tasks 02 (detection) and 03 (instance segmentation).

    .venv/bin/python -m core.tasks.object_detection.train            # full run (~100 min on 2 cores)
    .venv/bin/python -m core.tasks.object_detection.train --quick    # seconds-long smoke run

The full run has two stages (`FULL_STAGES`): 40 epochs from scratch on 2,400 scenes, then 25
epochs that continue from its best weights on 2,400 *new* scenes at a lower learning rate. A
stage whose run already finished is skipped, so an interrupted recipe picks up where it stood.

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
import json
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
    first_train_seed: int = 0  # the training scenes are seeds first_train_seed .. + train_scenes
    start_from: str | None = None  # a previous stage's run name: continue from its best weights
    lr0: float | None = None  # None: ultralytics' "auto" (AdamW, 0.000625 for 12 classes here)
    warmup_epochs: float = 3.0


STAGE_1 = TrainConfig()
STAGE_2 = TrainConfig(epochs=25, first_train_seed=2400, start_from="scenes_v1", lr0=0.0004, warmup_epochs=1.0,
                      name="scenes_v2")
FULL_STAGES = (STAGE_1, STAGE_2)
# input sizes tried at inference, on the validation scenes (upscaling helps the small objects)
INFERENCE_SIZES = (256, 288, 320, 352, 384)
FULL = FULL_STAGES[-1]  # the configuration of the shipped weights
QUICK = TrainConfig(imgsz=128, epochs=1, batch=8, train_scenes=16, val_scenes=8, test_scenes=8, close_mosaic=0,
                    name="quick")


def prepare_scenes(cfg: TrainConfig, root: Path = DATA_ROOT) -> Path:
    """Write the scenes of every split (skipped when the folder already holds them); return the data yaml."""
    folder = root / f"{cfg.name}_data_{cfg.imgsz}"
    for split, count, first in (("train", cfg.train_scenes, cfg.first_train_seed), ("val", cfg.val_scenes, 0),
                                ("test", cfg.test_scenes, 0)):
        images = folder / split / "images"
        if not images.exists() or len(list(images.glob("*.jpg"))) != count:
            write_yolo_split(folder, split, count, size=cfg.imgsz, first_seed=first)
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

    if resume:
        model = YOLO(str(run / "weights" / "last.pt"))
    elif cfg.start_from:
        model = YOLO(str(root / cfg.start_from / "weights" / "best.pt"))
    else:
        model = YOLO("yolo11n-seg.yaml")
    schedule = {"optimizer": "AdamW", "lr0": cfg.lr0} if cfg.lr0 else {}
    model.add_callback("on_train_start", use_both_cores)
    model.add_callback("on_fit_epoch_end", progress)
    # pretrained=True is what makes ultralytics copy a loaded checkpoint's weights into the new run
    model.train(data=str(data), imgsz=cfg.imgsz, epochs=cfg.epochs, batch=cfg.batch, device="cpu", workers=0,
                pretrained=cfg.start_from is not None, amp=False, plots=False, project=str(root), name=cfg.name, exist_ok=True,
                seed=SEED, deterministic=True, close_mosaic=cfg.close_mosaic, patience=cfg.epochs, verbose=False,
                warmup_epochs=cfg.warmup_epochs, resume=resume, **schedule)
    log.info("training finished after %.1f min; weights in %s", (time.time() - started) / 60, run / "weights")
    return run


def finished(cfg: TrainConfig, root: Path = DATA_ROOT) -> bool:
    """True when the run of `cfg` completed all its epochs (its best weights and every results row exist)."""
    run = root / cfg.name
    results = run / "results.csv"
    return (run / "weights" / "best.pt").exists() and results.exists() and \
        len(results.read_text().strip().splitlines()) - 1 >= cfg.epochs


def fit_stages(stages: tuple[TrainConfig, ...], root: Path = DATA_ROOT, resume: bool = False) -> Path:
    """Run each stage that has not finished yet (resuming the interrupted one); return the last run folder."""
    for cfg in stages:
        if finished(cfg, root):
            continue
        interrupted = resume and (root / cfg.name / "weights" / "last.pt").exists()
        fit(cfg, root, resume=interrupted)
    return root / stages[-1].name


def evaluate_and_write(model_dir: Path, card_dir: Path, stages: tuple[TrainConfig, ...], root: Path,
                       quick: bool) -> dict[str, dict]:
    """Evaluate the exported model on the held-out test scenes and write metrics, figures and the
    cards of both tasks (`card_dir` is detection's; segmentation's is its sibling). `stages` are the
    training runs that made the weights, the last one's settings being those of the model. Returns
    {"object_detection": metrics, "instance_segmentation": metrics}."""
    import ultralytics

    from core.artifacts import file_size_mb, hardware, measure_latency_ms, save_json
    from core.tasks.object_detection import card
    from core.tasks.object_detection.adapter import load
    from core.tasks.object_detection.evaluate import choose_inference_size, detection_metrics, segmentation_scores
    from core.tasks.object_detection.export import WEIGHTS, set_inference_size
    from core.tasks.object_detection.scenes import make_scene

    cfg = stages[-1]
    data = prepare_scenes(cfg, root)
    eager = load("scenes", model_dir, backend="torch")
    imgsz, size_scores = choose_inference_size(eager.yolo, data, (cfg.imgsz,) if quick else INFERENCE_SIZES)
    set_inference_size(model_dir, imgsz)
    eager.imgsz = imgsz
    model = load("scenes", model_dir)  # as served: ONNX Runtime, exported at the chosen size
    scores = detection_metrics(model.yolo, data, imgsz)
    scores.update(segmentation_scores(model.yolo, range(cfg.test_scenes), imgsz, scene_size=cfg.imgsz))
    example = make_scene(9001, "test", 480).image
    repeats = 3 if quick else 20
    eager_scores = detection_metrics(eager.yolo, data, imgsz)
    backends = {name: {"latency_ms": measure_latency_ms(lambda m=served: m.detect(example), repeats=repeats),
                       "box_map50_95": result["box_map50_95"], "box_map50": result["box_map50"],
                       "mask_map50_95": result["mask_map50_95"]}
                for name, served, result in (("onnx", model, scores), ("torch", eager, eager_scores))}
    info = {"name": "YOLO11n-seg (scenes)", "architecture": "YOLO11n-seg from ultralytics' YAML, trained from scratch",
            "parameters": int(sum(p.numel() for p in eager.yolo.model.parameters())),
            "size_mb": file_size_mb(model_dir / WEIGHTS),
            "latency_ms": backends["onnx"]["latency_ms"],
            "latency_note": f"one 480 px picture at {imgsz} px: reading + forward + drawing, ONNX Runtime on "
                            f"{hardware()}, median",
            "backends": backends,
            "hardware": hardware(), "epochs": sum(stage.epochs for stage in stages),
            "stages": [f"{stage.epochs} epochs on training scenes {stage.first_train_seed}-"
                       f"{stage.first_train_seed + stage.train_scenes - 1}"
                       + (f", continuing at lr {stage.lr0}" if stage.start_from else " from scratch")
                       for stage in stages], "imgsz": cfg.imgsz, "inference_imgsz": imgsz,
            "inference_size_on_validation": {str(k): v for k, v in size_scores.items()}, "batch": cfg.batch,
            "ultralytics": ultralytics.__version__}
    splits = {"train": sum(stage.train_scenes for stage in stages), "validation": cfg.val_scenes, "test": cfg.test_scenes}
    rows = card.history([root / stage.name / "results.csv" for stage in stages])
    out = {}
    for task, task_card_dir in (("object_detection", card_dir), ("instance_segmentation", card_dir.parent / "instance_segmentation")):
        figures = []
        if rows:
            card.curves_figure(rows, task_card_dir / "figures" / "training_curves.png")
            figures.append("figures/training_curves.png")
        pictures = [(model.detect(make_scene(seed, "test", 480).image, 0.25).annotated if task == "object_detection"
                     else model.segment(make_scene(seed, "test", 480).image, 0.25).overlay) for seed in (9000, 9003, 9014)]
        card.examples_figure(pictures, task_card_dir / "figures" / "held_out_examples.png")
        figures.append("figures/held_out_examples.png")
        metrics = card.build_metrics(task, scores, info, splits, rows, figures, quick)
        card.write_card(task, metrics, task_card_dir)
        out[task] = metrics
    shared = model_dir.parent / "instance_segmentation"
    shared.mkdir(parents=True, exist_ok=True)
    save_json({"task": "instance_segmentation", "shares_model_of": "object_detection",
               "note": "the segmentation tab runs the object_detection model (one YOLO11n-seg for both)"},
              shared / "config.json")
    return out


def train(out_dir: Path, card_dir: Path, quick: bool = False) -> dict:
    """`python -m core.train object_detection`: generate scenes, train, export the weights into
    `out_dir`, evaluate on held-out scenes, write both tasks' metrics and cards."""
    from core.tasks.object_detection.export import export

    cfg = QUICK if quick else FULL
    out_dir, card_dir = Path(out_dir), Path(card_dir)
    root = out_dir.parent.parent / "scenes" if quick else DATA_ROOT  # a quick run stays in its temporary folder
    run = fit(cfg, root) if quick else fit_stages(FULL_STAGES, root)
    export(run / "weights" / "best.pt", out_dir, cfg.imgsz, onnx=False)  # ONNX: made by the benchmark when needed
    return evaluate_and_write(out_dir, card_dir, (QUICK,) if quick else FULL_STAGES, root, quick)["object_detection"]


def train_segmentation(out_dir: Path, card_dir: Path, quick: bool = False) -> dict:
    """`python -m core.train instance_segmentation`: the segmentation tab uses the detection model, so this
    evaluates the shipped one (a quick run trains a tiny one first) and writes the segmentation card."""
    out_dir, card_dir = Path(out_dir), Path(card_dir)
    detection_dir, detection_cards = out_dir.parent / "object_detection", card_dir.parent / "object_detection"
    if quick:
        train(detection_dir, detection_cards, quick=True)
        return json.loads((card_dir / "metrics.json").read_text())
    return evaluate_and_write(detection_dir, detection_cards, FULL_STAGES, DATA_ROOT, quick)["instance_segmentation"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run from last.pt")
    args = parser.parse_args()
    if args.quick:
        fit(QUICK, resume=args.resume)
    else:
        fit_stages(FULL_STAGES, resume=args.resume)


if __name__ == "__main__":
    main()
