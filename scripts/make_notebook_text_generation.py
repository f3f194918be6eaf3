"""Build notebooks/05_text_generation.ipynb with nbformat (then execute it with nbclient).

    python scripts/make_notebook_text_generation.py            # write the notebook
    python scripts/make_notebook_text_generation.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "05_text_generation.ipynb"

CELLS = [
    ("md", """# 05 Text generation: a small GPT-2 trained from scratch, and how decoding shapes its text

No pretrained generative language model installs offline, so the project trains its own: a 2.6 M-parameter GPT-2
(transformers) with a byte-level BPE tokenizer (tokenizers), on public-domain English (Moby-Dick and the State of the
Union addresses). This notebook shows the data, the tokenizer, the training curves, the held-out perplexity against a
Kneser-Ney trigram baseline, and what each decoding strategy does with the same prompt.

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run (a tiny model trained on a 20,000-character sample).
* default: the shipped model and its training history; evaluation on the held-out documents.
* `NOTEBOOK_RETRAIN=1`: retrains exactly as `python -m core.train text_generation` (two stages, about 75 minutes on 2 cores)."""),
    ("code", """import os
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
from core.tasks.text_generation.adapter import STRATEGIES, Settings, load
from core.tasks.text_generation.corpus import DATA_DIR, read_documents, split
from core.tasks.text_generation.train import FULL, sample_documents

QUICK = quick_mode()
RETRAIN = os.environ.get("NOTEBOOK_RETRAIN") == "1"
SPEC = TASKS["text_generation"]
print(f"quick={QUICK} retrain={RETRAIN}")"""),
    ("md", "## Data\nWhole documents (a chapter, an address) go to one split: every 20th is test, the next one validation."),
    ("code", """corpus = DATA_DIR / "npm"
documents = sample_documents() if QUICK or not corpus.exists() else read_documents(corpus)
parts = split(documents)
table = pd.DataFrame([{"split": name, "source": d.source, "characters": len(d.text)} for name, docs in parts.items() for d in docs])
print(table.groupby(["split", "source"]).agg(documents=("characters", "size"), characters=("characters", "sum")))
px.histogram(table, x="characters", color="source", nbins=40, title="Document lengths (characters)").update_layout(height=320)"""),
    ("md", "## The model and its training\nTrained by `python -m core.train text_generation` (a quick run trains a tiny one here)."),
    ("code", """if QUICK or RETRAIN:
    from core.train import run
    out = Path(tempfile.mkdtemp(prefix="nb_text_generation_")) if QUICK else None
    metrics, model_dir, card_dir = run("text_generation", quick=QUICK, out=out)
else:
    metrics = load_json(SPEC.card_dir / "metrics.json")
    model_dir, card_dir = SPEC.model_dir, SPEC.card_dir
history = pd.DataFrame(metrics["training_history"])
print(metrics["variants"]["scratch"]["model"])
if len(history):
    fig = go.Figure([go.Scatter(x=history["step"], y=history[k], name=k) for k in ("train_loss", "val_loss")])
    fig.update_layout(title="Cross-entropy (nats per token) during training", xaxis_title="step", height=320).show()"""),
    ("md", "## The tokenizer\nByte-level BPE learned from the training documents: frequent words are one token, rare ones split."),
    ("code", """model = load("scratch", model_dir)
sentence = "Call me Ishmael. The Congress shall have power to regulate commerce."
ids = model.tokenizer.encode(sentence).ids
pd.DataFrame({"token": [model.tokenizer.decode([i]) for i in ids], "id": ids}).T"""),
    ("md", "## Held-out perplexity\nPer token of the same tokenizer on the test documents, against an interpolated Kneser-Ney trigram model."),
    ("code", """scores = metrics["variants"]["scratch"]["metrics"]
px.bar(x=["GPT-2 (this project)", "Kneser-Ney trigram"], y=[scores["perplexity"], scores["trigram_perplexity"]],
       title=f"Test perplexity on {scores['test_tokens']:,} tokens (lower is better)").update_layout(height=320, yaxis_title="perplexity")"""),
    ("md", "## Decoding strategies\nThe same prompt through each strategy of the tab (and `/generate_text`)."),
    ("code", """prompt = "Call me" if QUICK else "Call me Ishmael. Some years ago"  # the quick model reads 32 tokens
rows = []
for strategy in STRATEGIES:
    result = model.generate(prompt, Settings(strategy=strategy, max_new_tokens=8 if QUICK else 40, seed=1))
    tokens = result["tokens"][0]
    rows.append({"strategy": strategy, "text": result["texts"][0][len(prompt):],
                 "mean token probability": round(float(np.mean([t["probability"] for t in tokens])) if tokens else 0, 3),
                 "tokens/s": result["tokens_per_s"]})
pd.set_option("display.max_colwidth", 200)
pd.DataFrame(rows)"""),
    ("md", "## What the model weighed\nEach generated token with its probability and the top alternatives (the tab colours tokens by this probability)."),
    ("code", """result = model.generate(prompt, Settings(strategy="nucleus", max_new_tokens=8 if QUICK else 20, seed=3))
tokens = result["tokens"][0]
pd.DataFrame([{"token": t["text"], "probability": t["probability"],
               "alternatives": ", ".join(f"{a!r} {p:.2f}" for a, p in t["alternatives"])} for t in tokens])"""),
    ("md", "## Export\nfloat16 safetensors (the tied embedding stored once), the model config and the tokenizer as JSON: nothing is unpickled."),
    ("code", """for path in sorted(Path(model_dir).iterdir()):
    print(f"{path.name:28s} {path.stat().st_size / 1e6:.2f} MB")"""),
]


def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
