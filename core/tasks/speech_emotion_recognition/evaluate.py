"""Export task 07's two models and measure them on the test split (voices never heard in training).

Both are measured as served: the exported files are loaded by the adapter, the stored test
windows (computed by `features.analysis_windows`, as a request does) go through the adapter's
`feature_probabilities`, and a recording's prediction is the mean of its windows, as the tab's
whole-clip result. Figures: accuracy, macro F1, the confusion matrix, accuracy per emotion, per
recording condition (clean, noise, reverberation), per test voice and per accent (or data set),
and the most confident mistakes.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.tasks.speech_emotion_recognition.corpus import EMOTIONS
from core.tasks.speech_emotion_recognition.data import Split

VARIANT_NAMES = {"cnn": "log-mel CNN (trained here)", "mfcc": "MFCC / pitch / energy statistics + logistic regression"}


def export(cfg, run: Path, splits: dict[str, Split], out_dir: Path, data_dir: Path | None) -> dict:
    """The best epoch's CNN, the baseline (C chosen on validation) and config.json, into `out_dir`."""
    from safetensors.torch import load_file

    from core.tasks.speech_emotion_recognition import baseline
    from core.tasks.speech_emotion_recognition.features import (HOP_SECONDS, N_MELS, SAMPLE_RATE, STAT_NAMES,
                                                                WINDOW_SECONDS)
    from core.tasks.speech_emotion_recognition.model import CNNConfig, EmotionCNN, save
    from core.tasks.speech_emotion_recognition.train import fit_baseline

    out_dir.mkdir(parents=True, exist_ok=True)
    model = EmotionCNN(CNNConfig(channels=tuple(cfg.channels), n_classes=len(EMOTIONS), dropout=cfg.dropout))
    model.load_state_dict(load_file(str(run / "best.safetensors")))
    save(model, out_dir)
    pipeline, c, scores = fit_baseline(splits, cfg.c_grid)
    baseline.save(pipeline, out_dir)
    config = {"task": "speech_emotion_recognition", "labels": list(EMOTIONS), "variants": list(VARIANT_NAMES),
              "sample_rate": SAMPLE_RATE, "window_s": WINDOW_SECONDS, "hop_s": HOP_SECONDS, "n_mels": N_MELS,
              "synthetic": data_dir is None,
              "trained_on": "synthetic acted prosody (eSpeak NG)" if data_dir is None else
              f"real acted speech from {data_dir.name} ({', '.join(sorted({m['dataset'] for m in splits['train'].meta}))})",
              "baseline_c": c, "baseline_validation_f1_by_c": {str(k): round(v, 4) for k, v in scores.items()},
              "baseline_features": list(STAT_NAMES), "version": 1}
    (out_dir / "config.json").write_text(json.dumps(config, indent=1))
    return config


def predict(out_dir: Path, split: Split) -> dict[str, np.ndarray]:
    """Per variant, each recording's probabilities (mean of its windows), through the served adapter."""
    from core.tasks.speech_emotion_recognition.adapter import load
    from core.tasks.speech_emotion_recognition.train import recording_probabilities

    out = {}
    for variant in VARIANT_NAMES:
        served = load(variant, out_dir)
        features = split.stats if variant == "mfcc" else split.mel
        windows = np.concatenate([served.feature_probabilities(features[i:i + 256].astype(np.float32))
                                  for i in range(0, len(split), 256)])
        out[variant] = recording_probabilities(windows, split.groups)
    return out


def scores(truth: np.ndarray, probabilities: np.ndarray) -> dict:
    """Accuracy, macro F1 (and precision / recall), the confusion matrix and per-emotion rows; the
    per-emotion accuracy (recall) is also in the flat metrics as accuracy_<emotion>."""
    from core.metrics import classification_metrics

    out = classification_metrics(truth, probabilities.argmax(1), list(EMOTIONS))
    metrics = {k: out["metrics"][k] for k in ("accuracy", "f1_macro", "precision_macro", "recall_macro")}
    metrics.update({f"accuracy_{row['label']}": row["recall"] for row in out["per_class"]})
    out["metrics"] = metrics
    return out


def grouped_accuracy(meta: list[dict], truth: np.ndarray, probabilities: dict[str, np.ndarray], key: str) -> list[list]:
    """Rows [value of `key`, recordings, accuracy per variant...] over the test recordings."""
    values = np.array([str(m.get(key)) for m in meta])
    rows = []
    for value in sorted(set(values)):
        chosen = values == value
        rows.append([value, int(chosen.sum())] + [round(float((p[chosen].argmax(1) == truth[chosen]).mean()), 4)
                                                  for p in probabilities.values()])
    return rows


def mistakes(meta: list[dict], truth: np.ndarray, probability: np.ndarray, limit: int = 12) -> list[list]:
    """The most confident mistakes: [voice, accent or data set, condition, sentence or file, true, predicted, score]."""
    predicted = probability.argmax(1)
    wrong = np.flatnonzero(predicted != truth)
    wrong = wrong[np.argsort(-probability[wrong, predicted[wrong]])][:limit]
    return [[meta[k]["voice"], meta[k].get("accent", meta[k].get("dataset", "")), meta[k].get("condition", ""),
             meta[k].get("sentence", meta[k].get("file", "")), EMOTIONS[truth[k]], EMOTIONS[predicted[k]],
             round(float(probability[k, predicted[k]]), 3)] for k in wrong]


def latency(out_dir: Path, split: Split, quick: bool) -> tuple[dict[str, float], float]:
    """Median time of a whole request (decode, features, model, timeline) on a 3-second test clip
    written as a WAV file, per variant; and the clip's length."""
    import soundfile

    from core.artifacts import measure_latency_ms
    from core.tasks.speech_emotion_recognition.adapter import load

    clip = _first_test_clip(split)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.wav"
        soundfile.write(path, clip, 16_000, subtype="PCM_16")
        out = {}
        for variant in VARIANT_NAMES:
            served = load(variant, out_dir)
            out[variant] = measure_latency_ms(lambda: served.recognize(str(path)), repeats=3 if quick else 15)
    return out, len(clip) / 16_000


def _first_test_clip(split: Split) -> np.ndarray:
    """The audio of the first test recording: re-rendered from its spec (synthetic), else read from its file."""
    meta = split.meta[0]
    if "seed" in meta:
        from core.tasks.speech_emotion_recognition.corpus import ClipSpec, render

        fields = {k: meta[k] for k in ("index", "split", "emotion", "voice", "accent", "sentence", "seed")}
        return render(ClipSpec(**fields))[0]
    from core.audio import load
    from core.registry import EXAMPLES_DIR

    path = Path(meta.get("path", ""))
    return load(path if path.is_file() else EXAMPLES_DIR / "speech_emotion_recognition" / "neutral.wav", 16_000)


def evaluate_and_export(cfg, run: Path, splits: dict[str, Split], out_dir: Path, card_dir: Path, quick: bool,
                        data_dir: Path | None = None, data_minutes: float = 0.0) -> dict:
    """Export, evaluate both variants on the test split, write metrics.json, figures and the card."""
    from core.artifacts import file_size_mb, hardware
    from core.tasks.speech_emotion_recognition import card
    from core.tasks.speech_emotion_recognition.baseline import WEIGHTS as BASELINE
    from core.tasks.speech_emotion_recognition.espeak import version as espeak_version
    from core.tasks.speech_emotion_recognition.model import WEIGHTS as CNN

    config = export(cfg, run, splits, out_dir, data_dir)
    test = splits["test"]
    probabilities = predict(out_dir, test)
    truth = test.recording_labels
    results = {variant: scores(truth, p) for variant, p in probabilities.items()}
    latencies, clip_seconds = latency(out_dir, test, quick)
    history = json.loads((run / "history.json").read_text())
    synthetic = data_dir is None
    groupings = ([("condition", "recording condition"), ("voice", "test voice"), ("accent", "accent")] if synthetic
                 else [("dataset", "data set"), ("speaker", "test speaker")])
    tables = [{"title": f"Accuracy per {label} (test)", "columns": [label, "recordings", *VARIANT_NAMES],
               "rows": grouped_accuracy(test.meta, truth, probabilities, key)} for key, label in groupings]
    extra = {
        "hardware": hardware(), "config": config, "espeak": espeak_version() if synthetic else None, "train_config": asdict(cfg), "synthetic": synthetic,
        "data_dir": data_dir.name if data_dir else None, "data_minutes": round(data_minutes, 2),
        "sizes": {"cnn": file_size_mb(out_dir / CNN, out_dir / "cnn_config.json"), "mfcc": file_size_mb(out_dir / BASELINE)},
        "latency": latencies, "latency_clip_s": clip_seconds, "tables": tables,
        "mistakes": {v: mistakes(test.meta, truth, p) for v, p in probabilities.items()},
        "voices": {name: sorted({m["voice"] for m in split.meta}) for name, split in splits.items()},
        "accents": sorted({m.get("accent", "") for m in test.meta}) if synthetic else [],
        "windows": {name: len(split) for name, split in splits.items()}, "model_dir": out_dir,
    }
    metrics = card.build_metrics(splits, results, history, extra, quick)
    card.write_card(metrics, card_dir)
    return metrics
