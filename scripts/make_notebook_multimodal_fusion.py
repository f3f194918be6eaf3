"""Build notebooks/12_multimodal_fusion.ipynb with nbformat (then execute it with nbclient).

    python scripts/make_notebook_multimodal_fusion.py            # write the notebook
    python scripts/make_notebook_multimodal_fusion.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "12_multimodal_fusion.ipynb"

CELLS = [
    ("md", """# 12 Multimodal fusion: a picture, a text and a spoken description, read together

Every emoji has a **picture** (Google's Noto design), **words** (its CLDR name, Unicode name, short names and
keywords) and, synthesised here with eSpeak NG, a **spoken name**. One model reads any non-empty subset of the three
and names the emoji's Unicode category (9 of them). Each modality has its own encoder (a small CNN trained here;
the frozen MiniLM sentence encoder of task 04; the frozen Whisper tiny.en encoder of task 08), and a learned gate
decides how much each one counts. Training drops modalities at random, so any subset works.

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run of the whole recipe on the committed 45-emoji fixture.
* default: the shipped model and its evaluation.
* `NOTEBOOK_RETRAIN=1`: retrains exactly as `python -m core.train multimodal_fusion`."""),
    ("code", """import os
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from core.settings import REPO_ROOT, apply_offline_defaults, quick_mode
apply_offline_defaults()
pio.renderers.default = "plotly_mimetype"

from core.artifacts import load_json
from core.plots import confusion_matrix_figure
from core.registry import EXAMPLES_DIR, TASKS
from core.tasks.multimodal_fusion import data
from core.tasks.multimodal_fusion.adapter import load
from core.tasks.multimodal_fusion.data import CATEGORIES

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm's notebook check, no widgets here
QUICK = quick_mode()
RETRAIN = os.environ.get("NOTEBOOK_RETRAIN") == "1"
SPEC = TASKS["multimodal_fusion"]
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "multimodal_fusion" / "npm"
FULL = data.DATA_DIR / "npm"
# the whole data set once fetched (python -m core.train multimodal_fusion fetches it); else the committed sample
FOLDER = FULL if (FULL / "datasource" / "package" / "emoji.json").exists() and not QUICK else FIXTURE
print(f"quick={QUICK} retrain={RETRAIN}; data from {FOLDER.relative_to(REPO_ROOT)}")"""),
    ("md", """## The data: 9 categories, one item per emoji
npm `emoji-datasource-google` gives the pictures and categories, `emojibase-data` the CLDR labels and keywords.
The categories are Unicode's, and they are uneven: people outnumber activities four to one."""),
    ("code", """items = data.load_items(FOLDER)
counts = Counter(item.category for item in items)
px.bar(x=list(CATEGORIES), y=[counts[c] for c in CATEGORIES], labels={"x": "category", "y": "emoji"},
       title=f"{len(items):,} emoji").update_layout(height=320)"""),
    ("code", """from PIL import Image
fig = make_subplots(rows=len(CATEGORIES), cols=6, horizontal_spacing=0.01, vertical_spacing=0.012)
rows = []
for r, category in enumerate(CATEGORIES):
    members = [i for i in items if i.category == category]
    for c, item in enumerate(members[:: max(1, len(members) // 6)][:6]):
        picture = np.asarray(Image.open(data.image_folder(FOLDER) / item.images[0]).convert("RGBA").resize((48, 48)))
        alpha = picture[..., 3:] / 255
        fig.add_trace(go.Image(z=(picture[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)), row=r + 1, col=c + 1)
        if c < 2:
            rows.append({"category": category, "label": item.label, "texts": " | ".join(item.texts[1:3]),
                         "keywords": ", ".join(item.keywords[:6])})
fig.update_xaxes(visible=False).update_yaxes(visible=False)
fig.update_layout(height=720, width=430, margin=dict(l=0, r=0, t=10, b=0))
fig.show()
pd.DataFrame(rows)"""),
    ("md", """## An honest split: whole groups of near-identical emoji
"man running", "woman running", "person running" and "person running: facing right" are one group, as is every
family emoji; a group lands on one side only. Test emoji are therefore unseen as pictures, as words and as sounds."""),
    ("code", """parts = data.split(items)
groups = Counter(item.group for item in items)
print(f"{len(groups):,} groups; the largest:", groups.most_common(4))
pd.DataFrame({name: Counter(i.category for i in part) for name, part in parts.items()}).loc[list(CATEGORIES)]"""),
    ("md", """## Spoken names (synthetic)
eSpeak NG speaks a description with a random voice, speed and pitch, through task 07's random recording
conditions. Training emoji use training voices; validation and test emoji use voices never heard in training.
The speech encoder sees Whisper's log-mel features of up to 6 s of speech."""),
    ("code", """from core.tasks.multimodal_fusion.corpus import spoken_clip
from core.tasks.multimodal_fusion.encoders import SpeechEncoder, trim_speech
speech_encoder = SpeechEncoder()
item = parts["test"][0]
samples, _, _ = trim_speech(spoken_clip(item.label, "en-us+m2", np.random.default_rng(0)))
mel = speech_encoder.mel(samples)[:, : int(np.ceil(len(samples) / 160))]
fig = make_subplots(rows=2, cols=1, row_heights=[0.3, 0.7], vertical_spacing=0.05)
fig.add_trace(go.Scatter(y=samples[::40], line_width=0.6, line_color="#374151"), row=1, col=1)
fig.add_trace(go.Heatmap(z=mel.round(2), colorscale="Magma", showscale=False), row=2, col=1)
fig.update_layout(height=360, showlegend=False, title=f"“{item.label}”, {len(samples) / 16000:.2f} s: waveform and Whisper log-mel")"""),
    ("md", """## The model
Three encoders give 128-d vectors; the gate scores each present vector, a softmax over the present modalities
turns the scores into weights, and the weighted sum goes to one head. Each modality also has its own head, whose
loss (half the weight of the fused loss) keeps every encoder useful alone."""),
    ("code", """from core.tasks.multimodal_fusion.model import FusionModel
model = FusionModel()
print(model)
pd.Series({name: sum(p.numel() for p in part.parameters()) for name, part in model.named_children()}, name="parameters")"""),
    ("md", """## Training
`python -m core.train multimodal_fusion` fetches and encodes the data once (kept in `data/`), then trains with
modality dropout: all three inputs in 40 % of the samples, otherwise any of the 7 non-empty subsets. Pictures are
augmented on the fly (position, size, rotation, mirror, backgrounds, colour, blur, line drawings)."""),
    ("code", """from core.tasks.multimodal_fusion.pictures import augment, load_rgba
import torch
rgba = torch.from_numpy(np.stack([load_rgba(data.image_folder(FOLDER) / i.images[0]) for i in parts["train"][:8]]))
views = augment(rgba.repeat(3, 1, 1, 1), torch.Generator().manual_seed(0), sketch_share=0.25)
px.imshow(np.concatenate(list((views.permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8).reshape(3, 8, 64, 64, 3)
                              .transpose(0, 2, 1, 3, 4).reshape(3 * 64, 8 * 64, 3)[None]), 0),
          title="Training views of 8 emoji").update_layout(height=300).update_xaxes(visible=False).update_yaxes(visible=False)"""),
    ("code", """if QUICK or RETRAIN:
    from core.train import run
    out = Path(tempfile.mkdtemp(prefix="nb_fusion_")) if QUICK else None
    metrics, model_dir, card_dir = run("multimodal_fusion", quick=QUICK, out=out, data=FIXTURE if QUICK else None)
else:
    metrics = load_json(SPEC.card_dir / "metrics.json")
    model_dir, card_dir = SPEC.model_dir, SPEC.card_dir
block = metrics["variants"]["fusion"]
m = block["metrics"]
print(block["model"]["architecture"])
print(f"trained in {block['model']['minutes']} min (+ {block['model']['data_minutes']} min of synthesis and encoding) "
      f"on {block['model']['hardware']}; {block['model']['size_mb']} MB")
history = pd.DataFrame(block["history"])
px.line(history, x="epoch", y=["train_accuracy", "val_accuracy"], title="Accuracy per epoch (validation: all three inputs)",
        markers=True).update_layout(height=320)"""),
    ("md", "## Evaluation on emoji unseen in every modality\nEvery subset of inputs, through the exported model and the adapter's own scoring function."),
    ("code", """subsets = next(t for t in block["tables"] if t["title"].startswith("Every modality subset"))
table = pd.DataFrame(subsets["rows"], columns=subsets["columns"]).set_index("inputs")
best = block["best_single_modality"]
print(f"all three: {m['accuracy']:.3f}; best single modality ({best}): {m['accuracy_' + best]:.3f}; "
      f"gain {m['fusion_gain']:+.3f} (95 % bootstrap interval {m['fusion_gain_low']:+.3f} to {m['fusion_gain_high']:+.3f})")
px.bar(table.reset_index(), x="inputs", y=["accuracy", "macro F1"], barmode="group", range_y=[0, 1],
       title="Every input subset").update_layout(height=340)"""),
    ("code", """cm = block["confusion_matrix"]
confusion_matrix_figure([c.split(" ")[0] for c in cm["labels"]], cm["matrix"],
                        title="All three inputs: confusion matrix").update_layout(height=460)"""),
    ("md", """## Calibration
One temperature per input subset, fitted on the validation emoji, scales the logits; the expected calibration
error (15 bins) of every subset before and after, on the test emoji (the reliability diagram is in the card)."""),
    ("code", """print("temperatures:", block["model"]["temperatures"])
pd.DataFrame({"raw logits": {k.replace("ece_uncalibrated", "ece"): v for k, v in m.items() if k.startswith("ece_uncalibrated")},
              "calibrated": {k: v for k, v in m.items() if k.startswith("ece") and "uncalibrated" not in k}})"""),
    ("md", """## What each modality adds
The gate's mean weights per true category, then the ablation (each modality removed from all three), and the hard
cases where the three single modalities disagree."""),
    ("code", """from IPython.display import display
for table in block["tables"][1:]:
    print(table["title"])
    display(pd.DataFrame(table["rows"], columns=table["columns"]))"""),
    ("md", """## Interpretability, and inference through the adapter
What the tab and `/fuse` return for the committed examples (test emoji): predictions, gate weights, the ablation,
and an explanation per modality: Grad-CAM of the fused score on the picture, each word's weight (the score lost
without it), and each stretch of speech's weight (the score lost when it is silenced)."""),
    ("code", """served = load("fusion", Path(model_dir))
manifest = load_json(EXAMPLES_DIR / "multimodal_fusion" / "examples.json")
rows = []
for entry in manifest:
    args = [str(EXAMPLES_DIR / "multimodal_fusion" / entry[k]) if entry.get(k) else None for k in ("image", "audio")]
    result = served.fuse(args[0], entry.get("text"), args[1])
    rows.append({"example": entry["caption"], "true": entry["category"], "predicted": result["predictions"][0]["label"],
                 "score": result["predictions"][0]["score"],
                 **{f"weight {k}": v for k, v in result["modality_weights"].items()},
                 **{f"without {k}": f"{a['label']} ({a['score']:.2f})" for k, a in result["ablation"].items()}})
pd.DataFrame(rows)"""),
    ("code", """entry = manifest[0]
result = served.fuse(str(EXAMPLES_DIR / "multimodal_fusion" / entry["image"]), "a big cat with a mane",
                     str(EXAMPLES_DIR / "multimodal_fusion" / entry["audio"]), display=True)
shown = result["display"]
fig = make_subplots(rows=1, cols=3, subplot_titles=("picture", "Grad-CAM", "speech: weight per stretch"),
                    column_widths=[0.25, 0.25, 0.5])
fig.add_trace(go.Image(z=(shown["image"]["picture"] * 255).astype(np.uint8)), row=1, col=1)
fig.add_trace(go.Heatmap(z=shown["image"]["cam"][::-1].round(3), colorscale="Reds", showscale=False), row=1, col=2)
bands = result["explanations"]["audio"]
fig.add_trace(go.Bar(x=[(b["start"] + b["end"]) / 2 for b in bands], y=[b["weight"] for b in bands],
                     width=[b["end"] - b["start"] for b in bands], marker_color="#059669"), row=1, col=3)
fig.update_layout(height=300, showlegend=False, margin=dict(l=10, r=10, t=40, b=10))
fig.show()
pd.DataFrame(result["explanations"]["text"]).set_index("token").T"""),
    ("md", "## Export\nThe trained parts as safetensors, with config.json; the two frozen encoders come from pip wheels."),
    ("code", """for path in sorted(Path(model_dir).iterdir()):
    print(f"{path.name:24s} {path.stat().st_size / 1e6:.3f} MB")"""),
]


def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
