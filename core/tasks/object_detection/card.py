"""metrics.json, figures and model cards of tasks 02 (detection) and 03 (segmentation), from one
evaluation of the shared YOLO11n-seg model (evaluate.py)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from core.artifacts import now_iso, save_json
from core.model_card import metrics_table, write_model_card
from core.tasks.object_detection.scenes import BACKGROUNDS

DATA = {
    "name": "generated scenes: Noto Color Emoji objects (12 COCO classes) on scikit-image photographs",
    "license": "Noto Emoji Apache-2.0; scikit-image data BSD-3-Clause (photographs: see skimage.data)",
}
DETECTION_KEYS = ("box_map50_95", "box_map50", "box_precision", "box_recall")
SEGMENTATION_KEYS = ("mask_map50_95", "mask_map50", "miou", "pixel_accuracy")
TARGETS = {"box_map50_95": 0.60, "box_map50": 0.85, "mask_map50_95": 0.50}  # the project's goals for this model


def history(results_csvs: list[Path]) -> list[dict]:
    """Per-epoch losses and validation mAP from ultralytics' results.csv of each training stage, in
    order, numbered on from one stage to the next (missing files are skipped)."""
    rows: list[dict] = []
    for results_csv in results_csvs:
        if results_csv.exists():
            rows.extend(_stage_history(results_csv, first_epoch=len(rows)))
    return rows


def _stage_history(results_csv: Path, first_epoch: int) -> list[dict]:
    rows = []
    with results_csv.open() as handle:
        for row in csv.DictReader(handle):
            row = {k.strip(): v for k, v in row.items()}
            rows.append({"epoch": first_epoch + int(float(row["epoch"])),
                         "train_box_loss": float(row["train/box_loss"]), "train_seg_loss": float(row["train/seg_loss"]),
                         "val_box_loss": float(row["val/box_loss"]), "val_seg_loss": float(row["val/seg_loss"]),
                         "val_box_map50_95": float(row["metrics/mAP50-95(B)"]),
                         "val_mask_map50_95": float(row["metrics/mAP50-95(M)"])})
    return rows


def curves_figure(rows: list[dict], path: Path) -> None:
    """Training losses and validation mAP per epoch (matplotlib PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in rows]
    fig, (loss, score) = plt.subplots(1, 2, figsize=(9, 3.2))
    for key in ("train_box_loss", "val_box_loss", "train_seg_loss", "val_seg_loss"):
        loss.plot(epochs, [r[key] for r in rows], label=key.replace("_", " "))
    loss.set_xlabel("epoch"), loss.set_title("losses"), loss.legend(fontsize=7)
    for key in ("val_box_map50_95", "val_mask_map50_95"):
        score.plot(epochs, [r[key] for r in rows], label=key.replace("_", " ").replace("map50 95", "mAP50-95"))
    score.set_xlabel("epoch"), score.set_title("validation mAP50-95"), score.set_ylim(0, 1), score.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def examples_figure(pictures: list[np.ndarray], path: Path) -> None:
    """A row of annotated held-out scenes."""
    from PIL import Image

    tiles = [Image.fromarray(p).resize((320, 320)) for p in pictures]
    sheet = Image.new("RGB", (330 * len(tiles) - 10, 320), "white")
    for i, tile in enumerate(tiles):
        sheet.paste(tile, (330 * i, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def build_metrics(task: str, scores: dict, model: dict, splits: dict, rows: list[dict], figures: list[str],
                  quick: bool) -> dict:
    """The metrics.json of `task` ("object_detection" or "instance_segmentation")."""
    detection = task == "object_detection"
    keys = DETECTION_KEYS if detection else SEGMENTATION_KEYS
    headline = "box_map50_95" if detection else "mask_map50_95"
    per_class_key = "box_map50_95" if detection else "mask_map50_95"
    table = {"title": f"Per class on the held-out test scenes ({'boxes' if detection else 'masks'})",
             "columns": ["class", "mAP50-95"] + ([] if detection else ["IoU (class maps)"]),
             "rows": [[row["label"], row[per_class_key]] + ([] if detection else [scores["iou_per_class"].get(row["label"])])
                      for row in scores["per_class"]]}
    return {
        "task": task, "title": "Object detection" if detection else "Instance segmentation", "generated_at": now_iso(),
        "quick": quick,
        "headline": {"metric": headline, "value": scores[headline], "variant": "scenes", "higher_is_better": True,
                     "split": f"{splits['test']:,} held-out scenes on photographs no training scene used"},
        "variants": {"scenes": {"model": model, "data": {**DATA, "splits": splits},
                                "metrics": {k: scores[k] for k in keys}, "history": [], "tables": [table]}},
        "training_history": rows,
        "figures": figures,
    }


def card_body(task: str, metrics: dict, other_task_metrics: dict | None = None) -> str:
    block = metrics["variants"]["scenes"]
    model, data = block["model"], block["data"]
    detection = task == "object_detection"
    lines = [
        ("Finds 12 kinds of objects in a picture and draws their boxes." if detection else
         "Outlines every object of 12 kinds in a picture, pixel by pixel, one mask per instance."),
        "",
        "## Model",
        f"- YOLO11n-seg (ultralytics {model.get('ultralytics', '')}), built from its YAML and trained from scratch by "
        f"this project (no pretrained weights); {model['parameters']:,} parameters; shipped as float16 safetensors "
        f"({model['size_mb']} MB) and loaded without unpickling. One model serves both the detection and the "
        "segmentation tab.",
        f"- Trained on {model['hardware']}: {model['epochs']} epochs at {model['imgsz']} px, batch {model['batch']}, "
        "ultralytics' default augmentation (mosaic, HSV, flips, scale, translation)"
        + (f"; in stages: {'; then '.join(model['stages'])}." if model.get("stages") else "."),
        f"- Latency: {model['latency_ms']} ms per picture ({model['latency_note']}).",
        "",
    ] + size_lines(model) + backend_lines(model.get("backends")) + [
        "## Data",
        f"- {data['name']}. Licences: {data['license']}.",
        "- Each scene: a random crop of a photograph (flipped, recoloured), 0-8 objects at random sizes (8-55 % of the "
        "picture), rotations (+-30 degrees) and places, overlapping; what an object hides of the one behind it is "
        "removed from that one's mask and box. Then blur, noise and JPEG artefacts on some scenes.",
        f"- Splits by photograph: train {', '.join(BACKGROUNDS['train'])}; validation {', '.join(BACKGROUNDS['val'])}; "
        f"test {', '.join(BACKGROUNDS['test'])}. Scenes: {', '.join(f'{k} {v:,}' for k, v in data['splits'].items())}.",
        "",
        "## Held-out test metrics",
        "",
        metrics_table(block["metrics"]),
        "",
    ]
    goals = [(k, v) for k, v in TARGETS.items() if k in block["metrics"]]
    if goals:
        lines += ["Against the project's targets: " + "; ".join(
            f"{k} {block['metrics'][k]:.3f} vs {v:.2f} ({'met' if block['metrics'][k] >= v else 'not met yet'})"
            for k, v in goals) + ".", ""]
    if not detection:
        lines += ["mIoU is the mean over the 12 classes of the IoU between predicted and true class maps (each "
                  "detected mask painted in score order at confidence 0.25); pixel accuracy counts background pixels "
                  "too.", ""]
    for table in block["tables"]:
        lines += [f"### {table['title']}", "", "| " + " | ".join(table["columns"]) + " |",
                  "|" + "---|" * len(table["columns"])]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in table["rows"]]
        lines.append("")
    for figure in metrics["figures"]:
        lines += [f"![{Path(figure).stem.replace('_', ' ')}]({figure})", ""]
    lines += [
        "## Limits",
        "- It knows the 12 emoji-style objects it was trained on (cartoon pictures composited onto photographs). Real "
        "dogs, cars or pizzas in photographs are outside what it learned; it may miss them or give low scores.",
        "- For real photographs use the opt-in COCO variant (Ultralytics' official YOLO11n-seg, 80 classes), installed "
        "by one command (`python -m core.tasks.object_detection.coco`, see the README); this card does not evaluate it.",
        "- The training photographs are few (12), so unusual backgrounds can give false detections; the test set uses "
        "three other photographs to measure that.",
        "- Objects smaller than about 20 px in the model's 256 px view are hard to find: use multi-scale (tiles) on "
        "large pictures.",
        "",
        "Licence of this model: AGPL-3.0 (project licence). Data licences as stated above.",
    ]
    return "\n".join(lines)


def size_lines(model: dict) -> list[str]:
    """How the served input size was chosen: every size tried, scored on the validation scenes."""
    tried = model.get("inference_size_on_validation")
    if not tried or len(tried) < 2:
        return []
    lines = ["### Input size, chosen on the validation scenes", "",
             f"Trained at {model['imgsz']} px; served at **{model['inference_imgsz']} px**, the size with the best box "
             "mAP50-95 on the validation scenes (a photograph neither training nor test uses). Upscaling gives the "
             "small objects more pixels. The test metrics below were measured once, at the chosen size.", "",
             "| input size | val box mAP50-95 | val box mAP50 | val mask mAP50-95 |", "|---|---|---|---|"]
    lines += [f"| {size}{' (chosen)' if int(size) == model['inference_imgsz'] else ''} | {v['box_map50_95']:.3f} | "
              f"{v['box_map50']:.3f} | {v['mask_map50_95']:.3f} |" for size, v in tried.items()]
    return lines + [""]


def backend_lines(backends: dict | None) -> list[str]:
    """The card's eager-PyTorch-against-ONNX-Runtime table (the tabs serve the faster one)."""
    if not backends:
        return []
    names = {"onnx": "ONNX Runtime (served)", "torch": "eager PyTorch"}
    lines = ["### Serving: ONNX Runtime against eager PyTorch", "",
             "Same weights, same held-out test scenes, same machine; latency of one /detect_objects call on a 480 px "
             "picture (median).", "",
             "| runtime | ms per picture | box mAP50-95 | box mAP50 | mask mAP50-95 |", "|---|---|---|---|---|"]
    lines += [f"| {names.get(k, k)} | {v['latency_ms']:.1f} | {v['box_map50_95']:.3f} | {v['box_map50']:.3f} | "
              f"{v['mask_map50_95']:.3f} |" for k, v in backends.items()]
    return lines + [""]


def write_card(task: str, metrics: dict, card_dir: Path) -> Path:
    card_dir.mkdir(parents=True, exist_ok=True)
    save_json(metrics, card_dir / "metrics.json")
    block = metrics["variants"]["scenes"]
    rows = [("scenes", "generated scenes (held-out photographs)", k, v) for k, v in block["metrics"].items()]
    return write_model_card(card_dir, task_name=task,
                            title=f"{metrics['title']}: YOLO11n-seg trained on generated scenes",
                            pipeline_tag="object-detection" if task == "object_detection" else "image-segmentation",
                            license="agpl-3.0", datasets=["generated-emoji-scenes"], metrics=metrics, eval_metrics=rows,
                            body=card_body(task, metrics), tags=["yolo", "ultralytics", "synthetic-data"])
