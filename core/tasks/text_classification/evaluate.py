"""Export task 04's two classifiers and measure them on the grouped test split.

Both are measured as served (through the adapter, from the exported files): accuracy, spam
precision / recall / F1, macro F1, ROC-AUC, confusion matrices, per-source-folder accuracy
(hard ham is the interesting one) and the misclassified messages. For context, the baseline is
also scored on a plain stratified random split, where near-duplicates and threads leak across.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.tasks.text_classification.data import LABELS

VARIANT_NAMES = {"minilm": "all-MiniLM-L6-v2 + LoRA (fine-tuned)", "tfidf": "TF-IDF + logistic regression (baseline)"}


def export(run: Path, data: dict, out_dir: Path, max_length: int) -> dict:
    """Encoder (best epoch's LoRA + head), baseline (refitted with validation's C) and config.json."""
    from core.tasks.text_classification import baseline
    from core.tasks.text_classification.encoder import ADAPTER, CONFIG, EncoderConfig
    from core.tasks.text_classification.train import fit_baseline

    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run / "best.safetensors", out_dir / ADAPTER)
    (out_dir / CONFIG).write_text(json.dumps(asdict(EncoderConfig(max_length=max_length)), indent=1))
    vectorizer, classifier, c = fit_baseline(data)
    baseline.save(vectorizer, classifier, out_dir)
    config = {"task": "text_classification", "labels": list(LABELS), "variants": list(VARIANT_NAMES),
              "baseline_c": c, "baseline_features": len(vectorizer.vocabulary_)}
    (out_dir / "config.json").write_text(json.dumps(config, indent=1))
    return config


def scores(labels: np.ndarray, spam_probability: np.ndarray) -> dict:
    """Accuracy, spam precision/recall/F1, macro F1, ROC-AUC, confusion matrix and per-class rows."""
    from sklearn.metrics import roc_auc_score

    from core.metrics import classification_metrics

    predicted = (spam_probability >= 0.5).astype(int)
    out = classification_metrics(labels, predicted, list(LABELS))
    spam = out["per_class"][1]
    out["metrics"] = {"accuracy": out["metrics"]["accuracy"], "spam_precision": spam["precision"],
                      "spam_recall": spam["recall"], "spam_f1": spam["f1"], "f1_macro": out["metrics"]["f1_macro"],
                      "roc_auc": float(roc_auc_score(labels, spam_probability))}
    return out


def random_split_accuracy(data: dict, seed: int = 0) -> float:
    """The baseline's accuracy on a stratified random 80/20 split of the same corpus (leaky)."""
    from sklearn.model_selection import train_test_split

    from core.tasks.text_classification import baseline

    labels, texts = np.array(data["labels"]), data["texts"]
    train, test = train_test_split(np.arange(len(labels)), test_size=0.2, random_state=seed, stratify=labels)
    vectorizer, classifier = baseline.fit([texts[i] for i in train], labels[train])
    return float((classifier.predict(vectorizer.transform([texts[i] for i in test])) == labels[test]).mean())


def predict_test(out_dir: Path, data: dict) -> dict[str, np.ndarray]:
    """P(spam) of every test message for each served variant (explanations off)."""
    from core.tasks.text_classification.adapter import load
    from core.tasks.text_classification.encoder import spam_probabilities

    texts = [data["texts"][i] for i in data["test"]]
    out = {}
    for variant in VARIANT_NAMES:
        served = load(variant, out_dir)
        if variant == "minilm":  # batched: same network and truncation as one request at a time
            out[variant] = spam_probabilities(served.model, served.tokenizer, texts)
        else:
            out[variant] = served.model.spam_probabilities(texts)
    return out


def folder_accuracy(data: dict, probabilities: dict[str, np.ndarray]) -> list[list]:
    """Rows [folder, messages, accuracy per variant...] over the test split."""
    folders = np.array([data["folders"][i] for i in data["test"]])
    labels = np.array([data["labels"][i] for i in data["test"]])
    rows = []
    for folder in sorted(set(folders)):
        chosen = folders == folder
        rows.append([folder, int(chosen.sum())] + [round(float(((p[chosen] >= 0.5) == labels[chosen]).mean()), 4)
                                                   for p in probabilities.values()])
    return rows


def misclassified(data: dict, probability: np.ndarray, limit: int = 12) -> list[list]:
    """The most confident mistakes: [folder, subject line, true, predicted, P(spam)]."""
    labels = np.array([data["labels"][i] for i in data["test"]])
    wrong = np.flatnonzero((probability >= 0.5) != labels)
    wrong = wrong[np.argsort(-np.abs(probability[wrong] - 0.5))][:limit]
    rows = []
    for k in wrong:
        i = data["test"][k]
        first_line = data["texts"][i].split("\n", 1)[0][:70]
        rows.append([data["folders"][i], first_line, LABELS[labels[k]], LABELS[int(probability[k] >= 0.5)],
                     round(float(probability[k]), 3)])
    return rows


def evaluate_and_export(cfg, run: Path, data: dict, out_dir: Path, card_dir: Path, quick: bool) -> dict:
    """Export, evaluate both variants on the test split, write metrics.json, figures and the card."""
    from core.artifacts import file_size_mb, hardware, measure_latency_ms
    from core.tasks.text_classification import card
    from core.tasks.text_classification.adapter import load
    from core.tasks.text_classification.encoder import ADAPTER

    config = export(run, data, out_dir, cfg.max_length)
    probabilities = predict_test(out_dir, data)
    labels = np.array([data["labels"][i] for i in data["test"]])
    results = {variant: scores(labels, p) for variant, p in probabilities.items()}
    example = data["texts"][data["test"][0]]
    latency = {}
    for variant in VARIANT_NAMES:
        served = load(variant, out_dir)
        latency[variant] = measure_latency_ms(lambda: served.classify(example), repeats=3 if quick else 15)
    history = json.loads((run / "history.json").read_text())
    sizes = {"minilm": file_size_mb(out_dir / ADAPTER), "tfidf": file_size_mb(out_dir / "tfidf_vocabulary.json",
                                                                                out_dir / "tfidf_weights.npz")}
    extra = {"random_split_baseline_accuracy": random_split_accuracy(data) if not quick else None,
             "folders": folder_accuracy(data, probabilities),
             "misclassified": {v: misclassified(data, p) for v, p in probabilities.items()},
             "hardware": hardware(), "config": config, "train_config": cfg}
    metrics = card.build_metrics(data, results, history, latency, sizes, extra, quick)
    card.write_card(metrics, card_dir)
    return metrics
