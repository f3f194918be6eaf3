"""Build notebooks/03_instance_segmentation.ipynb with nbformat (then execute it with nbclient).

    python scripts/make_notebook_instance_segmentation.py            # write the notebook
    python scripts/make_notebook_instance_segmentation.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.make_notebook_object_detection import SETUP  # noqa: E402
from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "03_instance_segmentation.ipynb"

CELLS = [
    ("md", """# 03 Instance segmentation: one mask per object, from the detection model

The YOLO11n-seg model of notebook 02 also predicts a mask for every instance. The scenes' ground truth is exact: the
alpha channel of each emoji picture, minus what the objects in front of it hide. This notebook shows the masks, measures
them on held-out scenes (mask mAP, mIoU, pixel accuracy) and runs the segmentation tab's adapter call.

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run (a tiny model trained into a temporary folder).
* default: the shipped model, evaluated on the held-out test scenes.
* `NOTEBOOK_RETRAIN=1`: retrains exactly as `python -m core.train object_detection` (two stages, about 100 minutes on 2 cores)."""),
    ("code", SETUP.replace('SPEC = TASKS["object_detection"]', 'SPEC = TASKS["instance_segmentation"]')),
    ("md", "## Exact masks\nEach instance's visible pixels; where objects overlap, the one in front keeps them."),
    ("code", """tiles = []
for seed in range(6):
    scene = make_scene(seed, "train", 256)
    masks = np.array(scene.masks, dtype=bool).reshape(-1, 256, 256)
    tiles.append(render.draw_masks(scene.image, masks, np.array(scene.labels, dtype=int), CLASSES, 0.6))
fig = px.imshow(np.stack(tiles), binary_string=True, binary_format="jpg", facet_col=0, facet_col_wrap=3, title="True instance masks, one colour per class")
fig.update_xaxes(visible=False).update_yaxes(visible=False).update_layout(height=520)"""),
    ("code", """n = 60 if QUICK else 600
stats = [make_scene(seed, "train", 256) for seed in range(n)]
visible = [m.sum() / ((b[2] - b[0]) * (b[3] - b[1])) for s in stats for m, b in zip(s.masks, s.boxes)]
px.histogram(x=visible, nbins=40, title="Mask area / box area (how much of its box an object fills)").update_layout(height=300)"""),
    ("md", "## The model\nTrained with the detection task (`python -m core.train object_detection`); a quick run trains a tiny one here."),
    ("code", """if QUICK or RETRAIN:
    from core.train import run
    out = Path(tempfile.mkdtemp(prefix="nb_instance_segmentation_")) if QUICK else None
    metrics, _, card_dir = run("instance_segmentation", quick=QUICK, out=out)
    model_dir = (Path(out) / "models" / "object_detection") if QUICK else TASKS["object_detection"].model_dir
else:
    metrics = load_json(SPEC.card_dir / "metrics.json")
    model_dir, card_dir = TASKS["object_detection"].model_dir, SPEC.card_dir
print(metrics["headline"])
print(metrics["variants"]["scenes"]["metrics"])"""),
    ("md", "## Evaluation on held-out scenes\nMask mAP from ultralytics' validator; mIoU and pixel accuracy from class maps (`evaluate.py`)."),
    ("code", """from core.tasks.object_detection.evaluate import segmentation_scores
cfg = QUICK_CONFIG if QUICK else FULL
model = load("scenes", model_dir)
scores = segmentation_scores(model.yolo, range(10 if QUICK else cfg.test_scenes), model.imgsz, scene_size=cfg.imgsz)
print({k: scores[k] for k in ("miou", "pixel_accuracy", "background_iou", "scenes")})
iou = scores["iou_per_class"]
px.bar(x=list(iou), y=list(iou.values()), title="IoU per class (class maps, held-out scenes)").update_layout(height=320, yaxis_range=[0, 1])"""),
    ("code", """overlays = []
for seed in (9000, 9003, 9014):
    scene = make_scene(seed, "test", 480)
    truth = render.draw_masks(scene.image, np.array(scene.masks, dtype=bool).reshape(-1, 480, 480), np.array(scene.labels, dtype=int), CLASSES, 0.6)
    overlays += [truth, model.segment(scene.image, 0.25, opacity=0.6).overlay]
fig = px.imshow(np.stack(overlays), binary_string=True, binary_format="jpg", facet_col=0, facet_col_wrap=2, title="Held-out scenes: truth (left) and prediction (right)")
fig.update_xaxes(visible=False).update_yaxes(visible=False).update_layout(height=900)"""),
    ("md", "## Inference through the app's adapter\nThe call `/segment_instances` makes: each instance with its area and its mask as COCO RLE."),
    ("code", """from pycocotools import mask as coco_mask
from core.registry import EXAMPLES_DIR
example = sorted((EXAMPLES_DIR / "object_detection").glob("*.jpg"))[-1]
response = model.segment(str(example), conf=0.25)
first = response.payload["instances"][0] if response.payload["instances"] else None
if first:
    decoded = coco_mask.decode({"size": first["mask"]["size"], "counts": first["mask"]["counts"].encode()})
    print({k: v for k, v in first.items() if k != "mask"}, "RLE decodes to", decoded.shape, int(decoded.sum()), "pixels")
px.imshow(response.overlay, binary_string=True, binary_format="jpg", title=example.name).update_xaxes(visible=False).update_yaxes(visible=False)"""),
]


def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
