"""Build notebooks/02_object_detection.ipynb with nbformat (then execute it with nbclient).

    python scripts/make_notebook_object_detection.py            # write the notebook
    python scripts/make_notebook_object_detection.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "02_object_detection.ipynb"

SETUP = """import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio

from core.settings import apply_offline_defaults, quick_mode
apply_offline_defaults()
pio.renderers.default = "plotly_mimetype"

from core.artifacts import load_json
from core.registry import TASKS
from core.tasks.object_detection import render
from core.tasks.object_detection.adapter import load
from core.tasks.object_detection.scenes import BACKGROUNDS, CLASSES, make_scene
from core.tasks.object_detection.train import FULL, FULL_STAGES, QUICK as QUICK_CONFIG, prepare_scenes

QUICK = quick_mode()
RETRAIN = os.environ.get("NOTEBOOK_RETRAIN") == "1"
SPEC = TASKS["object_detection"]
print(f"quick={QUICK} retrain={RETRAIN}")"""

CELLS = [
    ("md", """# 02 Object detection: YOLO11n trained on generated scenes with exact ground truth

No detection data set with ground truth installs offline, so this project makes its own: emoji pictures of 12 COCO
classes composited onto real photographs, where every box and mask is exact. This notebook tells the whole story
with the project's code from `core/tasks/object_detection/`: scene generation, statistics, training, evaluation on
held-out scenes (photographs no training scene used), errors, inference through the app's adapter, export.

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run (a tiny model trained into a temporary folder).
* default: the shipped model and its training history; evaluation on the held-out test scenes.
* `NOTEBOOK_RETRAIN=1`: retrains exactly as `python -m core.train object_detection`: two stages (40 epochs from scratch, then 25 on new scenes from those weights), about 100 minutes on 2 cores."""),
    ("code", SETUP),
    ("md", """## Scenes
A random crop of a photograph, 0-8 objects at random sizes, rotations and places, overlapping; what an object hides
of the one behind it leaves that one's box and mask. Train, validation and test scenes use different photographs."""),
    ("code", """print({split: names for split, names in BACKGROUNDS.items()})
grid = []
for seed in range(8):
    scene = make_scene(seed, "train" if seed < 6 else "test", 256)
    grid.append(render.draw_boxes(scene.image, np.array(scene.boxes, dtype=float), np.array(scene.labels),
                                  np.ones(len(scene.labels)), CLASSES))
fig = px.imshow(np.stack(grid), binary_string=True, binary_format="jpg", facet_col=0, facet_col_wrap=4, title="Generated scenes with their exact boxes (last two: test photographs)")
fig.update_xaxes(visible=False).update_yaxes(visible=False).update_layout(height=520)"""),
    ("code", """n = 60 if QUICK else 600
stats = [make_scene(seed, "train", 256) for seed in range(n)]
labels = [CLASSES[l] for s in stats for l in s.labels]
sides = [np.sqrt((b[2] - b[0]) * (b[3] - b[1])) for s in stats for b in s.boxes]
fig = px.histogram(x=labels, title=f"Objects per class in {n} training scenes").update_layout(height=300, xaxis_title="class")
fig.show()
px.histogram(x=sides, nbins=40, title="Box size (square root of the box area, px of a 256 px scene)").update_layout(height=300)"""),
    ("code", """px.histogram(x=[len(s.labels) for s in stats], title="Objects per scene").update_layout(height=280, xaxis_title="objects")"""),
    ("md", "## Training\nYOLO11n-seg built from ultralytics' YAML, no pretrained weights, trained on CPU (`train.py`); one model serves detection and segmentation."),
    ("code", """if QUICK or RETRAIN:
    from core.train import run
    out = Path(tempfile.mkdtemp(prefix="nb_object_detection_")) if QUICK else None
    metrics, model_dir, card_dir = run("object_detection", quick=QUICK, out=out)
else:
    metrics = load_json(SPEC.card_dir / "metrics.json")
    model_dir, card_dir = SPEC.model_dir, SPEC.card_dir
rows = metrics["training_history"]
print(metrics["variants"]["scenes"]["model"])
if rows:
    fig = go.Figure([go.Scatter(x=[r["epoch"] for r in rows], y=[r[k] for r in rows], name=k)
                     for k in ("val_box_map50_95", "val_mask_map50_95")])
    fig.update_layout(title="Validation mAP50-95 per epoch (both training stages)", height=320, xaxis_title="epoch")
    if not QUICK:
        fig.add_vline(x=FULL_STAGES[0].epochs + 0.5, line_dash="dot", annotation_text="stage 2: new scenes, lower lr")
    fig.show()"""),
    ("md", "## Evaluation on held-out scenes\nCOCO-style mAP with ultralytics' validator on the test split (photographs no training scene used), at the input size the app serves (chosen on the validation scenes: see the card), through ONNX Runtime as the app runs it."),
    ("code", """cfg = QUICK_CONFIG if QUICK else FULL
data_root = (Path(model_dir).parent.parent / "scenes") if QUICK else None
data_yaml = prepare_scenes(cfg, data_root) if QUICK else prepare_scenes(cfg)
model = load("scenes", model_dir)
result = model.yolo.val(data=str(data_yaml), split="test", imgsz=model.imgsz, batch=16, plots=False, verbose=False, device="cpu")
print({"box mAP50-95": round(float(result.box.map), 4), "box mAP50": round(float(result.box.map50), 4),
       "precision": round(float(result.box.mp), 4), "recall": round(float(result.box.mr), 4)})
recall, precision = result.curves_results[0][0], result.curves_results[0][1]
fig = go.Figure([go.Scatter(x=recall, y=precision[i], name=CLASSES[int(c)]) for i, c in enumerate(result.box.ap_class_index)])
fig.update_layout(title="Precision-recall curves (boxes, IoU 0.5)", xaxis_title="recall", yaxis_title="precision", height=380)"""),
    ("code", """matrix = result.confusion_matrix.matrix.astype(int)  # rows: predicted, columns: true; last: background
names = CLASSES + ["background"]
px.imshow(matrix, x=names, y=names, text_auto=True, color_continuous_scale="Blues",
          labels=dict(x="true", y="predicted"), title="Confusion matrix (IoU 0.45, confidence 0.25)").update_layout(height=520)"""),
    ("md", "## Errors: missed and false detections\nPredictions at confidence 0.25 matched to the truth at IoU 0.5, class by class."),
    ("code", """def iou(a, b):
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)

missed, false, shown = {c: 0 for c in CLASSES}, {c: 0 for c in CLASSES}, []
for seed in range(20 if QUICK else 200):
    scene = make_scene(seed, "test", cfg.imgsz)
    prediction, _ = model.predict(scene.image, conf=0.25, masks=False)
    used, wrong = set(), []
    for box, label, score in zip(prediction.boxes, prediction.labels, prediction.scores):
        match = [i for i, (b, l) in enumerate(zip(scene.boxes, scene.labels)) if l == label and i not in used and iou(box, b) >= 0.5]
        if match:
            used.add(match[0])
        else:
            false[CLASSES[label]] += 1
            wrong.append((box, label, score))
    lost = [i for i in range(len(scene.labels)) if i not in used]
    for i in lost:
        missed[CLASSES[scene.labels[i]]] += 1
    if (lost or wrong) and len(shown) < 4:
        picture = render.draw_boxes(scene.image, np.array([scene.boxes[i] for i in lost], dtype=float).reshape(-1, 4),
                                    np.array([scene.labels[i] for i in lost], dtype=int), np.zeros(len(lost)), [f"MISSED {c}" for c in CLASSES])
        picture = render.draw_boxes(picture, np.array([w[0] for w in wrong]).reshape(-1, 4), np.array([w[1] for w in wrong], dtype=int),
                                    np.array([w[2] for w in wrong]), [f"FALSE {c}" for c in CLASSES])
        shown.append(picture)
fig = go.Figure([go.Bar(x=CLASSES, y=[missed[c] for c in CLASSES], name="missed"),
                 go.Bar(x=CLASSES, y=[false[c] for c in CLASSES], name="false detections")])
fig.update_layout(barmode="group", title="Errors per class on held-out scenes", height=320)
fig.show()
if shown:
    px.imshow(np.stack(shown), binary_string=True, binary_format="jpg", facet_col=0, facet_col_wrap=4, title="Scenes with errors (MISSED: true objects not found; FALSE: wrong boxes)").update_xaxes(visible=False).update_yaxes(visible=False)"""),
    ("md", "## Inference through the app's adapter\nThe call `/detect_objects` makes (in the task's worker process)."),
    ("code", """from core.registry import EXAMPLES_DIR
example = sorted((EXAMPLES_DIR / "object_detection").glob("*.jpg"))[0]
response = model.detect(str(example), conf=0.25)
print({k: v for k, v in response.payload.items() if k != "detections"})
print(response.payload["detections"][:3])
px.imshow(response.annotated, binary_string=True, binary_format="jpg", title=example.name).update_xaxes(visible=False).update_yaxes(visible=False)"""),
    ("md", "## Video\nWhat `/detect_objects_video` does: probe the header (refusing long videos before decoding), decode 10 frames per second, detect in batches, count per class over time."),
    ("code", """from core.registry import EXAMPLES_DIR
from core.tasks.object_detection.video import frames, probe
video = EXAMPLES_DIR / "object_detection" / "pan_9014.mp4"
info = probe(video, max_seconds=60)
print(info)
results = model.detect_frames(list(frames(video, info)), conf=0.25, scale=info.scale)
counts = pd.DataFrame([(i / info.out_fps, d["label"]) for i, (dets, _) in enumerate(results) for d in dets], columns=["time_s", "label"])
px.histogram(counts, x="time_s", color="label", nbins=len(results), title="Detections per frame over time").update_layout(height=320).show()
px.imshow(results[len(results) // 2][1], title="An annotated frame (middle of the video)").update_xaxes(visible=False).update_yaxes(visible=False)"""),
    ("md", "## Export and serving\n`export.py` wrote float16 safetensors (loaded back without unpickling) and `config.json`. The app serves them through ONNX Runtime: an export made once per machine into the cache. The evaluation measured both runtimes on the same test scenes:"),
    ("code", """for path in sorted(Path(model_dir).iterdir()):
    print(f"{path.name:28s} {path.stat().st_size / 1e6:.2f} MB")
backends = metrics["variants"]["scenes"]["model"].get("backends", {})
pd.DataFrame(backends).T"""),
]


def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
