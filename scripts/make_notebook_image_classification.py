"""Build notebooks/01_image_classification.ipynb with nbformat (run it, then execute it with nbclient).

    python scripts/make_notebook_image_classification.py            # write the notebook
    python scripts/make_notebook_image_classification.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "01_image_classification.ipynb"

CELLS = [
    ("md", """# 01 Image classification: Fashion-MNIST and MNIST digits

Two compact CNNs trained from scratch by this project: **fashion** (Fashion-MNIST, used for image uploads in the app)
and **digits** (MNIST 5k subset, used for the sketchpad). This notebook tells the whole story with the project's own
code from `core/tasks/image_classification/`: data and EDA, model, augmentation, training, evaluation on held-out
data, error analysis, robustness to user-style inputs, Grad-CAM, inference through the app's adapter, export.

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run (tiny training into a temporary folder).
* default: loads the shipped model and its training history; evaluates the shipped model (no retraining).
* `NOTEBOOK_RETRAIN=1`: retrains exactly as `python -m core.train image_classification` (the slow path: full training on the CPU)."""),
    ("code", """import os
import numpy as np
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
import torch
from PIL import Image

from core.settings import apply_offline_defaults, quick_mode
apply_offline_defaults()
pio.renderers.default = "plotly_mimetype"

from core import plots
from core.artifacts import load_json, file_size_mb
from core.metrics import classification_metrics
from core.registry import TASKS, get_model
from core.tasks.image_classification import render
from core.tasks.image_classification.adapter import load
from core.tasks.image_classification.augmentation import FASHION_AUGMENT, DIGITS_AUGMENT, augment
from core.tasks.image_classification.data import DATASET_INFO, load_fashion, load_digits
from core.tasks.image_classification.model import CompactCNN, count_parameters

QUICK = quick_mode()
RETRAIN = os.environ.get("NOTEBOOK_RETRAIN") == "1"
SPEC = TASKS["image_classification"]
torch.manual_seed(0)
print(f"quick={QUICK} retrain={RETRAIN}")"""),
    ("md", "## Data\nFashion-MNIST uses the official 10,000-image test set; a stratified validation split is carved from the 60,000 training images. The MNIST subset is split 70/15/15, stratified, with a fixed seed."),
    ("code", """data = {"fashion": load_fashion(), "digits": load_digits()}
for variant, splits in data.items():
    print(f"{variant:8s} {splits.sizes()}  licence: {DATASET_INFO[variant]['license']}")
plots.class_distribution_figure(data["fashion"].class_distribution(), "Fashion-MNIST: images per class and split")"""),
    ("code", """def grid(images, titles=None, cols=10, title=""):
    fig = px.imshow(np.stack(images), facet_col=0, facet_col_wrap=cols, binary_string=True, title=title)
    for i, annotation in enumerate(fig.layout.annotations):
        annotation.text = titles[i] if titles else ""
    fig.update_xaxes(visible=False).update_yaxes(visible=False)
    return fig.update_layout(height=140 * ((len(images) + cols - 1) // cols) + 60, margin=dict(l=5, r=5, t=60, b=5))

f = data["fashion"]
first = [int(np.flatnonzero(f.y_train == c)[0]) for c in range(10)]
grid([f.x_train[i] for i in first], [f.labels[f.y_train[i]] for i in first], title="One training image per class")"""),
    ("code", """d = data["digits"]
print("mean pixel (train):", round(float(f.x_train.mean()) / 255, 3), "fashion;", round(float(d.x_train.mean()) / 255, 3), "digits")
plots.class_distribution_figure(d.class_distribution(), "MNIST subset: images per class and split")"""),
    ("md", "## Model\nFive 3x3 convolutions (32-64-64-128-128 channels, BatchNorm, ReLU, two max-pools), global average and max pooling, dropout and one linear layer: about 0.28 M parameters, 1.1 MB as float32 safetensors."),
    ("code", """model = CompactCNN()
print(model)
print(f"parameters: {count_parameters(model):,}")"""),
    ("md", "## Augmentation\nApplied on the fly to each batch so that the models meet shifted, rescaled, rotated, differently lit, partly occluded images (and, for digits, thicker and thinner strokes), as real uploads and sketches are."),
    ("code", """x = torch.from_numpy(f.x_train[first].astype(np.float32) / 255).unsqueeze(1)
gen = torch.Generator().manual_seed(0)
print("fashion:", FASHION_AUGMENT.describe())
print("digits: ", DIGITS_AUGMENT.describe())
aug_f = augment(x, FASHION_AUGMENT, gen)[:, 0].numpy()
xd = torch.from_numpy(d.x_train[:10].astype(np.float32) / 255).unsqueeze(1)
aug_d = augment(xd, DIGITS_AUGMENT, gen)[:, 0].numpy()
grid([(a * 255).astype(np.uint8) for a in list(aug_f) + list(aug_d)], cols=10, title="Augmented training batches (top: fashion, bottom: digits)")"""),
    ("md", "## Training\nSeeded AdamW + OneCycle, label smoothing, batch 128; the epoch with the best validation accuracy is kept. The same `train()` as `python -m core.train image_classification`; tqdm shows progress."),
    ("code", """import tempfile
from pathlib import Path
from core.train import run

if QUICK or RETRAIN:
    out = Path(tempfile.mkdtemp(prefix="nb_image_classification_")) if QUICK else None
    metrics, model_dir, card_dir = run("image_classification", quick=QUICK, out=out)
else:
    model_dir, card_dir = SPEC.model_dir, SPEC.card_dir
    metrics = load_json(card_dir / "metrics.json")
    print("Loaded the shipped model and its metrics (set NOTEBOOK_RETRAIN=1 to retrain).")
print(f"{metrics['headline']['metric']} = {metrics['headline']['value']:.4f} ({metrics['headline']['variant']}, {metrics['headline']['split']})")"""),
    ("code", """plots.training_curves_figure(metrics["variants"]["fashion"]["history"], "fashion: training curves")"""),
    ("code", """plots.training_curves_figure(metrics["variants"]["digits"]["history"], "digits: training curves")"""),
    ("md", "## Evaluation on held-out data\nThe adapter below is the one the app uses (`core.registry.get_model` loads the shipped files; in quick mode the freshly trained files are loaded the same way)."),
    ("code", """adapters = {v: (load(v, model_dir) if (QUICK or RETRAIN) else get_model("image_classification", v)) for v in ("fashion", "digits")}
n_eval = 500 if QUICK else None
results = {}
for variant, splits in data.items():
    probs = adapters[variant].forward(splits.x_test[:n_eval])
    y = splits.y_test[:n_eval]
    results[variant] = (probs, classification_metrics(y, probs.argmax(1), splits.labels))
    print(variant, {k: round(v, 4) for k, v in results[variant][1]["metrics"].items()})"""),
    ("code", """cm = results["fashion"][1]["confusion_matrix"]
plots.confusion_matrix_figure(cm["labels"], cm["matrix"], "fashion: confusion matrix (official test set)")"""),
    ("code", """plots.per_class_figure(results["fashion"][1]["per_class"], "fashion: per-class precision / recall / F1")"""),
    ("code", """cm = results["digits"][1]["confusion_matrix"]
plots.confusion_matrix_figure(cm["labels"], cm["matrix"], "digits: confusion matrix (held-out split)")"""),
    ("md", "## Error analysis\nThe most confident mistakes, and which pairs of classes get confused most."),
    ("code", """probs, _ = results["fashion"]
y = f.y_test[:len(probs)]
pred = probs.argmax(1)
wrong = np.flatnonzero(pred != y)
worst = wrong[np.argsort(-probs[wrong].max(1))][:20]
grid([f.x_test[i] for i in worst], [f"{f.labels[y[i]][:7]}->{f.labels[pred[i]][:7]}" for i in worst], title="Most confident fashion mistakes (true -> predicted)")"""),
    ("code", """matrix = np.array(results["fashion"][1]["confusion_matrix"]["matrix"])
np.fill_diagonal(matrix, 0)
pairs = sorted(((matrix[i, j], f.labels[i], f.labels[j]) for i in range(10) for j in range(10) if matrix[i, j]), reverse=True)[:6]
for n, true, predicted in pairs:
    print(f"{n:4d} x {true} predicted as {predicted}")"""),
    ("md", "## Inputs the model has never seen\nHeld-out test images re-rendered as users would upload them (colour product on white or black, 320 px, off-centre) or draw them (small in a corner, large and thick, on paper), then passed through the app's own preprocessing. The training run records the same check on 400 images in the card's robustness table."),
    ("code", """rng = np.random.default_rng(0)
n = 40 if QUICK else 300
rows = []
for background in ("white", "black"):
    frames = np.stack([adapters["fashion"].preprocess(render.product_photo(f.x_test[i], 320, background, (200, 60, 40), rng)) for i in range(n)])
    rows.append((f"fashion, product on {background}", float((adapters["fashion"].forward(frames).argmax(1) == f.y_test[:n]).mean())))
for name, kwargs in (("digits, small in a corner", dict(scale=0.25, offset=(-0.3, 0.3))), ("digits, large and thick", dict(scale=0.8, offset=(0, 0), thickness=8))):
    frames = np.stack([adapters["digits"].preprocess(render.drawn_digit(d.x_test[i], 400, **kwargs)) for i in range(min(n, len(d.x_test)))])
    rows.append((name, float((adapters["digits"].forward(frames).argmax(1) == d.y_test[:len(frames)]).mean())))
for name, accuracy in rows:
    print(f"{name:32s} accuracy {accuracy:.3f}")"""),
    ("code", """photo = render.product_photo(f.x_test[5], 320, "white", (40, 90, 200), rng)
frame = adapters["fashion"].preprocess(photo)
grid([np.asarray(photo.convert("L").resize((112, 112))), (np.kron(frame, np.ones((4, 4))) * 255).astype(np.uint8)],
     ["user-style upload", "what the model sees (28x28)"], cols=2, title="Preprocessing: background removed, cropped, squared, resized")"""),
    ("md", "## Grad-CAM\nWhich parts of the 28x28 input the last convolutional block used for the predicted class."),
    ("code", """overlays, titles = [], []
for i in range(6):
    frame = f.x_test[i].astype(np.float32) / 255
    top = adapters["fashion"].postprocess(adapters["fashion"].forward(frame)[0])[0]
    overlays.append(adapters["fashion"].explain(frame, f.labels.index(top["label"]), size=112))
    titles.append(f"{top['label']} {top['score']:.2f}")
fig = px.imshow(np.stack(overlays), facet_col=0, facet_col_wrap=6, title="Grad-CAM overlays (fashion)")
for i, annotation in enumerate(fig.layout.annotations):
    annotation.text = titles[i]
fig.update_xaxes(visible=False).update_yaxes(visible=False).update_layout(height=260)"""),
    ("md", "## Inference through the app's adapter\nThe same calls the Gradio endpoints `/classify_image` and `/classify_sketch` make."),
    ("code", """from core.registry import EXAMPLES_DIR
from core.tasks.image_classification.preprocess import preprocess_sketch
example = EXAMPLES_DIR / "image_classification" / "fashion_on_white_sandal.jpg"
result = adapters["fashion"].predict(str(example))
result.pop("frame")
print(result)
sketch = {"background": None, "layers": [], "composite": render.drawn_digit(d.x_test[0], 400, 0.4, (0.2, 0.2), 3)}
result = adapters["digits"].predict(None, frame=preprocess_sketch(sketch))
result.pop("frame")
print("true digit", d.y_test[0], "->", result["predictions"][:3])"""),
    ("md", """## Which model? Auto routing and unusual inputs
The app's default model, **auto**, sends each picture to `fashion` or `digits` with a small perceptron on its product
framing (`core/tasks/image_classification/domain.py`), trained on both training sets, as stored and re-drawn as users
send them. Each model also warns when its top-class probability is under its *confidence floor*, the 5th percentile of
that probability on its own validation images. Here both are measured on the held-out test sets."""),
    ("code", """from core.tasks.image_classification import domain
from core.tasks.image_classification.data import Splits
# quick mode: a slice of each split (re-drawing 10,000 test images as user pictures takes a while)
small = {v: Splits(s.x_train[:1500], s.y_train[:1500], s.x_val[:300], s.y_val[:300], s.x_test[:300], s.y_test[:300],
                   s.labels) for v, s in data.items()}
check, domain_metrics = domain.fit(small if QUICK else data, adapters, max_train=1500 if QUICK else 12000)
for table in domain_metrics["tables"]:
    print(table["title"])
    for row in table["rows"]:
        print("   ", dict(zip(table["columns"], row)))
tops = {(model, shown): adapters[model].forward(data[shown].x_test).max(1) for model in adapters for shown in adapters}
fig = go.Figure([go.Histogram(x=tops[("fashion", shown)], name=f"{shown} test images", opacity=0.6, nbinsx=40,
                              histnorm="probability") for shown in ("fashion", "digits")])
fig.add_vline(x=check.confidence_floor["fashion"], line_dash="dash", annotation_text="confidence floor")
fig.update_layout(barmode="overlay", title="fashion model: top-class probability, own vs other test images",
                  xaxis_title="top-class probability", height=320)"""),
    ("md", "## Export\n`train()` wrote the weights (safetensors, no pickle), `config.json` (labels, normalisation, framing, version), `metrics.json`, the model card and figures."),
    ("code", """for path in sorted(Path(model_dir).iterdir()):
    print(f"{path.name:22s} {file_size_mb(path):.3f} MB")
print(sorted(p.name for p in Path(card_dir).iterdir()))"""),
]



def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
