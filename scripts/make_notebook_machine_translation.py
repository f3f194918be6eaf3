"""Build notebooks/06_machine_translation.ipynb with nbformat (then execute it with nbclient).

    python scripts/make_notebook_machine_translation.py            # write the notebook
    python scripts/make_notebook_machine_translation.py --execute  # write and execute it in place
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.notebook_builder import write_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "notebooks" / "06_machine_translation.ipynb"

CELLS = [
    ("md", """# 06 Machine translation: Apertium, and a small transformer distilled from it

Apertium, a rule-based translation system (Debian packages), translates between 10 languages, through a pivot
language where no direct pair is installed. No neural translation model and no parallel corpus install offline, so the
project trains its own English ↔ Spanish Marian transformer by **sequence-level distillation**: it learns to reproduce
Apertium's output on English sentences of public-domain books and speeches (and, for Spanish → English, Apertium's
English of Apertium's Spanish). This notebook shows the distilled corpus, the routes, the training curves, the scores
against the teacher, where the student fails, and inference through the app's adapter.

* `ML_PORTFOLIO_QUICK=1`: a seconds-long smoke run (a tiny model trained on the committed 400-pair sample).
* default: the shipped model and its training history; evaluation on the held-out sentences.
* `NOTEBOOK_RETRAIN=1`: retrains exactly as `python -m core.train machine_translation` (about 40 minutes on 2 cores)."""),
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
pd.set_option("display.max_colwidth", 120)

from core.artifacts import load_json
from core.registry import TASKS
from core.tasks.machine_translation.adapter import load, translate, word_diff
from core.tasks.machine_translation.apertium import LANGUAGES, find_route, installed_pairs, route_text
from core.tasks.machine_translation.corpus import DATA_DIR, DISTILLED_DIR, build, sample_pairs
from core.tasks.machine_translation.detect import detect
from core.tasks.machine_translation.train import FULL

QUICK = quick_mode()
RETRAIN = os.environ.get("NOTEBOOK_RETRAIN") == "1"
SPEC = TASKS["machine_translation"]
PAIRS = installed_pairs()
print(f"quick={QUICK} retrain={RETRAIN}; Apertium pairs installed: {len(PAIRS)}")"""),
    ("md", """## The distilled corpus
English sentences (4-32 words) of Moby-Dick and the State of the Union addresses, split by whole document as in task 05;
`es` is Apertium's Spanish of the English, `en_back` Apertium's English of that Spanish (the target of es → en)."""),
    ("code", """corpus = sample_pairs() if QUICK or not (DISTILLED_DIR / "test.jsonl").exists() else build()
rows = pd.DataFrame([{"split": name, "en words": len(p.en.split()), "es words": len(p.es.split()),
                      "source": p.doc.split("/")[0]} for name, pairs in corpus.items() for p in pairs])
print(rows.groupby(["split", "source"]).size().unstack(fill_value=0))
px.histogram(rows, x="en words", color="split", barmode="overlay", nbins=29,
             title="Sentence length (English words)").update_layout(height=320)"""),
    ("code", """pd.DataFrame([{"English": p.en, "Apertium es": p.es, "Apertium en (of the es)": p.en_back}
              for p in corpus["train"][:6]])"""),
    ("md", """Spanish from Apertium is longer than the English (articles, prepositions), and Apertium leaves words it does not
know untranslated; the student will learn both habits."""),
    ("code", """ratio = rows["es words"] / rows["en words"]
english_words = {w.lower().strip(".,;:!?\\"'()") for p in corpus["train"] for w in p.en.split()}
kept = np.mean([np.mean([w.lower().strip(".,;:!?\\"'()") in english_words for w in p.es.split()]) for p in corpus["train"]])
print(f"Spanish / English words: median {ratio.median():.2f}; share of Spanish words that are also English words: {kept:.1%}")"""),
    ("md", "## Routes through pivot languages\nNumber of Apertium calls from each language (rows) to each other (columns), on this machine."),
    ("code", """codes = list(LANGUAGES)
hops = pd.DataFrame([[len(r) if (r := find_route(PAIRS, a, b)) is not None else np.nan for b in codes] for a in codes],
                    index=codes, columns=codes)
if PAIRS:
    display(px.imshow(hops, text_auto=True, color_continuous_scale="Blues", title="Apertium calls per translation (blank: no route)",
                      labels={"x": "to", "y": "from"}).update_layout(height=420))
    print("gl → it:", route_text(find_route(PAIRS, "gl", "it")), "| pt → en:", route_text(find_route(PAIRS, "pt", "en")))
else:
    print("Apertium is not installed here: only the neural model (en <-> es) can translate.")"""),
    ("md", "## The model and its training\nTrained by `python -m core.train machine_translation` (a quick run trains a tiny one here)."),
    ("code", """if QUICK or RETRAIN:
    from core.train import run as train_run
    out = Path(tempfile.mkdtemp(prefix="nb_machine_translation_")) if QUICK else None
    metrics, model_dir, card_dir = train_run("machine_translation", quick=QUICK, out=out)
    run = (out / "runs" / "quick") if QUICK else DATA_DIR / FULL.name
else:
    metrics = load_json(SPEC.card_dir / "metrics.json")
    model_dir, card_dir, run = SPEC.model_dir, SPEC.card_dir, DATA_DIR / FULL.name
history = pd.DataFrame(metrics["training_history"])
print({k: v for k, v in metrics["variants"]["neural"]["model"].items() if k not in ("latency_note",)})
if len(history):
    fig = go.Figure([go.Scatter(x=history["step"], y=history[k], name=k) for k in ("train_loss", "val_loss")])
    fig.update_layout(title="Cross-entropy (nats per token) during training", xaxis_title="step", height=320).show()
    fig = go.Figure([go.Scatter(x=history["step"], y=history[k], name=k) for k in ("chrf_en_es", "chrf_es_en", "bleu_en_es", "bleu_es_en")])
    fig.update_layout(title="Validation scores against Apertium (greedy decoding)", xaxis_title="step", height=320).show()"""),
    ("md", """## Held-out scores
BLEU and chrF measure agreement with Apertium (the teacher) on sentences of test documents; the round trip translates
English to Spanish and back and compares it with the original English, for each engine."""),
    ("code", """scores = metrics["variants"]["neural"]["metrics"]
print(metrics["headline"]["split"])
px.bar(x=list(scores), y=list(scores.values()), title="Held-out scores (0-100, higher is better)",
       labels={"x": "metric", "y": "score"}).update_layout(height=340)"""),
    ("md", "## Error analysis\nPer-sentence chrF against Apertium, by sentence length, and the sentences where the student differs most."),
    ("code", """evaluation_file = run / "evaluation.json"
if evaluation_file.exists():
    sentences = pd.DataFrame(load_json(evaluation_file)["sentences"])
    sentences["en words"] = sentences["en"].str.split().str.len()
    sentences["length"] = pd.cut(sentences["en words"], [0, 8, 14, 20, 32], labels=["4-8", "9-14", "15-20", "21-32"])
    display(sentences.groupby("length", observed=True)[["chrf_en_es", "neural_round_trip_chrf", "apertium_round_trip_chrf"]].mean().round(1))
    display(px.histogram(sentences.melt(value_vars=["neural_round_trip_chrf", "apertium_round_trip_chrf"]), x="value", color="variable",
                         barmode="overlay", nbins=20, title="Round-trip chrF per test sentence").update_layout(height=320))
    worst = sentences.nsmallest(6, "chrf_en_es")[["en", "apertium_es", "neural_es", "chrf_en_es"]]
else:  # a fresh clone without the run folder: the examples the card keeps
    table = metrics["variants"]["neural"]["tables"][1]
    worst = pd.DataFrame(table["rows"], columns=table["columns"])
worst"""),
    ("md", "## Inference through the adapter\nWhat the tab and `/translate` run: detection, the route, the translation, the back-translation and its chrF."),
    ("code", """neural = load("neural", model_dir)
engines = {"neural": neural, "apertium": load("apertium", model_dir)}
texts = [("The committee will meet again next week to discuss the new budget.", "es"),
         ("¿Dónde está la estación de tren más cercana?", "en"),
         ("The whale swam slowly towards the ship.", "pt")]
results = []
for text, target in texts:
    for engine in ("neural", "apertium"):
        try:
            r = translate(text, "auto", target, engine, engines.__getitem__)
            results.append({"engine": engine, "route": r["route"], "translation": r["translation"],
                            "back-translation": r["back_translation"], "round-trip chrF": r["round_trip_chrf"]})
        except Exception as exc:  # Apertium missing, or a pair the neural model does not cover
            results.append({"engine": engine, "route": "-", "translation": f"({exc})"})
pd.DataFrame(results)"""),
    ("code", """r = translate("The whale swam slowly towards the ship, and the sailors watched in silence.", "en", "es", "neural", engines.__getitem__)
print(r["translation"]); print(r["back_translation"])
[(text, label) for text, label in word_diff("The whale swam slowly towards the ship, and the sailors watched in silence.", r["back_translation"]) if label]"""),
    ("md", "## Language detection\npy3langid restricted to the 10 languages, with its normalised probability; short texts are flagged as unsure."),
    ("code", """samples = ["The weather is lovely today.", "El tiempo es estupendo hoy.", "Avui fa un temps magnífic.",
           "Hoxe vai un tempo estupendo.", "O tempo está ótimo hoje.", "Il fait un temps magnifique aujourd'hui.",
           "Oggi il tempo è splendido.", "Astăzi vremea este minunată.", "Uèi fa un temps magnific.", "La vetero estas bela hodiaŭ.", "ok"]
pd.DataFrame([{"text": s, "detected": (d := detect(s)).language, "confidence": d.confidence, "unsure": d.unsure,
               "next": ", ".join(f"{c} {p:.2f}" for c, p in d.alternatives)} for s in samples])"""),
    ("md", "## Export\nfloat16 safetensors (the shared embedding stored once), the model config and the tokenizer as JSON: nothing is unpickled."),
    ("code", """for path in sorted(Path(model_dir).iterdir()):
    print(f"{path.name:28s} {path.stat().st_size / 1e6:.2f} MB")"""),
]


def main() -> None:
    write_notebook(CELLS, PATH)


if __name__ == "__main__":
    main()
