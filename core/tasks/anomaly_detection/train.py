"""Benchmark the detectors and export the configuration: `python -m core.train anomaly_detection`.

Nothing is fitted ahead of time (the app fits on each request), so "training" means: run the
benchmark (`benchmark.py`: every detector on every bundled labelled set, the tab's own
preprocessing, several seeds where the detector is random), let it choose the members of "auto",
write that configuration (config.json), time a whole request per detector, and write the card
(metrics.json, README.md and figures) from those measurements.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from core.artifacts import file_size_mb, hardware, measure_latency_ms, now_iso, save_json
from core.tasks.anomaly_detection import card
from core.tasks.anomaly_detection.adapter import AnomalyDetector
from core.tasks.anomaly_detection.benchmark import (DESIGN_SETS, HELD_OUT_SETS, METRICS, SEEDS, BenchmarkResult,
                                                    run_benchmark)
from core.tasks.anomaly_detection.detectors import DEFAULT_CONFIG, DETECTORS, LABELS, RULE_WORDS, VARIANTS, merged_config

TASK = "anomaly_detection"
LATENCY_SET = "sensor_single_hop"


def architecture(variant: str, config: dict) -> str:
    """One line on what `variant` is, with the configured settings."""
    if variant == "auto":
        return (f"mean of the {RULE_WORDS[config['auto']['combine']]} scores of " + ", ".join(LABELS[m] for m in config["auto"]["members"])
                + " (members and rule chosen by the benchmark)")
    s = config["detectors"][variant]
    describe = {
        "iforest": lambda: f"pyod IForest, {s['n_estimators']} trees of {s['max_samples']} rows",
        "lof": lambda: f"pyod LOF, {s['n_neighbors']} neighbours, fitted on at most {s['max_fit_rows']:,} rows",
        "knn": lambda: f"pyod KNN, distance to the {s['n_neighbors']}th neighbour, fitted on at most "
                       f"{s['max_fit_rows']:,} rows",
        "ecod": lambda: "pyod ECOD: sum over features of empirical-CDF tail probabilities (no parameters)",
        "copod": lambda: "pyod COPOD: empirical-copula tail probabilities per feature (no parameters)",
        "hbos": lambda: f"pyod HBOS, {s['n_bins']} bins per feature",
        "ocsvm": lambda: f"pyod OCSVM, RBF kernel, nu={s['nu']}, fitted on at most {s['max_fit_rows']:,} rows",
        "autoencoder": lambda: f"pyod AutoEncoder (torch): MLP d-h-h/2-h/2-h-d, h = min({s['max_hidden']}, max(8, d)), "
                               f"{s['epochs']} epochs of batches of {s['batch_size']}, trained on at most "
                               f"{s['max_fit_rows']:,} rows; score = reconstruction error",
    }
    return describe[variant]()


def variant_metrics(result: BenchmarkResult, variant: str) -> dict:
    """Flat metrics of one variant: per data set (mean over seeds) and means over sets."""
    out: dict[str, float] = {}
    for dataset in result.datasets:
        for metric in METRICS:
            out[f"{metric}_{dataset}"] = result.mean(dataset, variant, metric)
        out[f"fit_score_latency_ms_{dataset}"] = result.mean(dataset, variant, "total_ms")
    for metric in METRICS:
        out[f"{metric}_mean"] = float(np.mean([out[f"{metric}_{ds}"] for ds in result.datasets]))
    design = [ds for ds in result.datasets if ds in DESIGN_SETS]
    held = [ds for ds in result.datasets if ds in HELD_OUT_SETS]
    if design:
        out["roc_auc_design_mean"] = float(np.mean([out[f"roc_auc_{ds}"] for ds in design]))
    if held:
        out["roc_auc_held_out_mean"] = float(np.mean([out[f"roc_auc_{ds}"] for ds in held]))
    return out


def train(out_dir: Path, card_dir: Path, quick: bool = False) -> dict:
    """Benchmark, write config.json, time a request per detector, write metrics.json and the card."""
    out_dir, card_dir = Path(out_dir), Path(card_dir)
    datasets = ("wbc",) if quick else DESIGN_SETS + HELD_OUT_SETS
    seeds = SEEDS[:1] if quick else SEEDS
    result = run_benchmark(datasets, DETECTORS, seeds, DEFAULT_CONFIG, progress=lambda ds: print(f"benchmark: {ds}",
                                                                                                 flush=True))
    members, rule = result.auto
    config = {**DEFAULT_CONFIG, "auto": {"members": list(members), "combine": rule},
              "benchmark": {"datasets": list(datasets), "design_sets": [d for d in datasets if d in DESIGN_SETS],
                            "seeds": list(seeds), "auto_candidates": result.candidates}}
    out_dir.mkdir(parents=True, exist_ok=True)
    config_path = save_json(config, out_dir / "config.json")
    served = merged_config(config)

    latency_set = "wbc" if quick else LATENCY_SET
    variants = {}
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = str(Path(tmp) / "scored.csv")
        for variant in VARIANTS:
            service = AnomalyDetector(served, variant)
            latency = measure_latency_ms(lambda: service.serve(None, latency_set, csv_path=csv_path),
                                         repeats=1 if quick else 3, warmup=0 if quick else 1)
            variants[variant] = {
                "model": {"name": LABELS[variant], "architecture": architecture(variant, served), "parameters": None,
                          "size_mb": file_size_mb(config_path), "latency_ms": latency,
                          "latency_note": f"one /detect_anomalies request on the bundled {latency_set} table "
                                          f"({result.datasets.get(latency_set, {}).get('rows', '?')} rows): read, "
                                          f"column detection, fit, score, explanations and CSV, one thread, "
                                          f"{hardware()}, measured during training"},
                "data": {"name": ", ".join(datasets), "license": card.LICENSES,
                         "splits": {ds: info["rows"] for ds, info in result.datasets.items()},
                         "class_distribution": {ds: {"normal": info["rows"] - info["anomalies"],
                                                     "anomaly": info["anomalies"]} for ds, info in result.datasets.items()}},
                "metrics": variant_metrics(result, variant),
            }
    variants["auto"]["tables"] = card.tables(result)
    metrics = {
        "task": TASK, "title": "Anomaly detection", "generated_at": now_iso(), "quick": quick,
        "headline": {"metric": "roc_auc_mean", "label": "mean ROC-AUC over the labelled sets (auto)",
                     "value": variants["auto"]["metrics"]["roc_auc_mean"], "variant": "auto",
                     "split": f"{len(datasets)} labelled sets, every row scored, mean over {len(seeds)} seed(s)",
                     "higher_is_better": True},
        "variants": variants,
    }
    metrics["figures"] = card.figures(card_dir, result)
    save_json(metrics, card_dir / "metrics.json")
    card.write(card_dir, metrics, result, served)
    return metrics

