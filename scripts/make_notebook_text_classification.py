"""Build notebooks/04_text_classification.ipynb with nbformat (then execute it with nbclient).

    python scripts/make_notebook_text_classification.py            # write the notebook
    python scripts/make_notebook_text_classification.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "04_text_classification.ipynb"

CELLS = [
    ("md", """# 04 Text classification: spam or ham, with a LoRA-tuned MiniLM and a TF-IDF baseline

Real e-mails (the SpamAssassin public corpus, 6,046 messages of 2002-2003), a split that keeps threads and
near-duplicates out of the test set, two models trained by the same code (a pretrained sentence encoder with LoRA
adapters, and TF-IDF + logistic regression), their errors, and the words each one relies on.

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run on 40 committed held-out e-mails.
* default: the shipped models and their evaluation; the corpus is read when it has been fetched.
* `NOTEBOOK_RETRAIN=1`: retrains exactly as `python -m core.train text_classification`."""),
    ("code", """import html
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
from IPython.display import HTML, display

from core.settings import apply_offline_defaults, quick_mode
apply_offline_defaults()
pio.renderers.default = "plotly_mimetype"

from core.artifacts import load_json
from core.plots import confusion_matrix_figure, training_curves_figure
from core.registry import TASKS
from core.tasks.text_classification.adapter import load
from core.tasks.text_classification.data import DATA_DIR, LABELS, grouped_split, groups, read_corpus
from core.tasks.text_classification.train import sample_messages

QUICK = quick_mode()
RETRAIN = os.environ.get("NOTEBOOK_RETRAIN") == "1"
SPEC = TASKS["text_classification"]
print(f"quick={QUICK} retrain={RETRAIN}")"""),
    ("md", "## Data\nThe models read the subject and the text body (HTML converted to text); headers and attachments are dropped."),
    ("code", """corpus_there = (DATA_DIR / "npm" / "spam-assassin").exists()
messages = sample_messages() if QUICK or not corpus_there else read_corpus()
frame = pd.DataFrame({"folder": [m.folder for m in messages], "label": [LABELS[m.label] for m in messages],
                      "characters": [len(m.text) for m in messages]})
print(f"{len(messages):,} messages" + ("" if corpus_there and not QUICK else " (the committed sample)"))
print(frame.groupby(["label", "folder"]).size().rename("messages"))
px.histogram(frame, x="characters", color="label", nbins=60, log_y=True, range_x=[0, 20000],
             title="Message length (characters)").update_layout(height=320)"""),
    ("md", """## A split that does not leak
Mailing-list threads and spam campaigns produce many near-copies. On a random split, copies of a test message sit in
the training set and the score is inflated. Messages that share a thread subject or whose texts are near-identical
(TF-IDF cosine >= 0.8) form one group; whole groups go to test."""),
    ("code", """group_ids = groups(messages)
sizes = pd.Series(group_ids).value_counts()
print(f"{len(sizes):,} groups for {len(messages):,} messages; {int((sizes > 1).sum()):,} groups hold more than one message")
print("largest groups:", sizes.head(5).tolist())
parts = grouped_split(messages)
labels = np.array([m.label for m in messages])
pd.DataFrame({name: {"messages": len(idx), "spam share": round(labels[idx].mean(), 3)} for name, idx in parts.items()}).T"""),
    ("md", "## Training\nBoth models are trained by `python -m core.train text_classification` (a quick run trains on the sample here)."),
    ("code", """if QUICK or RETRAIN:
    from core.train import run
    out = Path(tempfile.mkdtemp(prefix="nb_text_classification_")) if QUICK else None
    metrics, model_dir, card_dir = run("text_classification", quick=QUICK, out=out)
else:
    metrics = load_json(SPEC.card_dir / "metrics.json")
    model_dir, card_dir = SPEC.model_dir, SPEC.card_dir
minilm, tfidf = metrics["variants"]["minilm"], metrics["variants"]["tfidf"]
print(minilm["model"]["architecture"])
print(f"trained in {minilm['model']['minutes']} min on {minilm['model']['hardware']}")
training_curves_figure(minilm["history"], title="MiniLM + LoRA: loss and validation accuracy per epoch")"""),
    ("md", "## Evaluation on the held-out groups"),
    ("code", """table = pd.DataFrame({"MiniLM + LoRA": minilm["metrics"], "TF-IDF baseline": tfidf["metrics"]})
if metrics.get("random_split_baseline_accuracy"):
    print(f"the baseline on a leaky random split: accuracy {metrics['random_split_baseline_accuracy']:.4f}")
table"""),
    ("code", """for name, block in (("MiniLM + LoRA", minilm), ("TF-IDF baseline", tfidf)):
    cm = block["confusion_matrix"]
    confusion_matrix_figure(cm["labels"], cm["matrix"], title=f"{name}: confusion matrix").update_layout(height=340).show()"""),
    ("md", "## Error analysis\nAccuracy per source folder (hard ham is commercial mail that people wanted), and the most confident mistakes."),
    ("code", """for block in (minilm, tfidf):
    for t in block["tables"][1 if block is tfidf else 0:]:
        print(t["title"])
        display(pd.DataFrame(t["rows"], columns=t["columns"]))"""),
    ("md", """## Interpretability: which words pushed the decision
MiniLM: integrated gradients of the spam-minus-ham logit with respect to the input embeddings. TF-IDF: each feature's
exact share of the logit. Red pushes towards spam, blue towards ham."""),
    ("code", """def shade(result):
    parts, position, text = [], 0, result["text"]
    for (start, end), item in zip(result["spans"], result["importance"]):
        parts.append(html.escape(text[position:start]))
        s = item["score"]
        colour = f"rgba(220,50,47,{abs(s):.2f})" if s > 0 else f"rgba(38,139,210,{abs(s):.2f})"
        parts.append(f'<span style="background:{colour}">{html.escape(text[start:end])}</span>')
        position = end
    return "<div style='white-space:pre-wrap;font-family:sans-serif;max-height:260px;overflow:auto'>" + "".join(parts) + "</div>"

example = next(m for m in messages if m.label == 1 and 200 < len(m.text) < 1500)
for variant in ("minilm", "tfidf"):
    result = load(variant, Path(model_dir)).classify(example.text)
    print(variant, result["predictions"], result["notes"])
    display(HTML(shade(result)))"""),
    ("md", "## Inference through the adapter\nWhat the tab and `/classify_text` return: probabilities, word importance, the tokens read."),
    ("code", """served = load("minilm", Path(model_dir))
result = served.classify("Subject: meeting notes\\n\\nHi all, the notes from Tuesday are on the wiki. Thanks, Bob")
{k: result[k] for k in ("model", "predictions", "tokens_seen", "truncated_at", "latency_ms")}"""),
    ("md", "## Export\nOnly what training changed ships: the LoRA matrices and the head (safetensors), and the baseline as JSON + numpy."),
    ("code", """for path in sorted(Path(model_dir).iterdir()):
    print(f"{path.name:28s} {path.stat().st_size / 1e6:.3f} MB")"""),
]


def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
