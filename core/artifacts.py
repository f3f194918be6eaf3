"""Reading and writing the files a task ships: config.json, metrics.json, figures.

metrics.json schema (shared by every task; the Metrics tab and README read it):

    {
      "task": str, "title": str, "generated_at": ISO time, "quick": bool,
      "headline": {"metric": str,   # a key of variants[variant]["metrics"]
                   "label": str,    # optional human-readable name, defaults to metric
                   "value": float, "variant": str, "split": str, "higher_is_better": bool},
      "figures": [str],             # optional PNGs, paths relative to the card folder
      "variants": {
        "<variant>": {
          "model": {"name", "architecture", "parameters" (null when fitted per request), "size_mb",
                    "latency_ms", "latency_note"},
          "data": {"name", "license", "splits": {split: n}, "class_distribution": {split: {label: n}},
                   "augmentation": [str]},
          "metrics": {name: float},                          # flat, all measured on held-out data
          "confusion_matrix": {"labels": [str], "matrix": [[int]]},      # optional
          "per_class": [{"label", "precision", "recall", "f1", "support"}],  # optional
          "history": [{"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr"}],
          "samples": {"correct": [...], "misclassified": [...]},  # items: {"image": path relative
                                                                 #  to the card folder, "label",
                                                                 #  "predicted", "score"}
          "tables": [{"title", "columns": [str], "rows": [[...]]}],  # optional, task-specific
        }
      }
    }
"""
from __future__ import annotations

import json
import logging
import math
import os
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and paths so json.dump accepts them; NaN becomes null."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Path):
        return value.as_posix()
    return value


def save_json(data: Any, path: Path) -> Path:
    """Write `data` as pretty JSON (creating folders); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def hardware() -> str:
    """What trained or measured a model, for its card: "N-core CPU (model name)"."""
    name = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        name = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                     if line.startswith("model name")), "")
    return f"{len(os.sched_getaffinity(0))}-core CPU ({name or 'unknown model'})"


def file_size_mb(*paths: Path) -> float:
    return round(sum(Path(p).stat().st_size for p in paths) / 1e6, 3)


def measure_latency_ms(fn: Callable[[], Any], repeats: int = 20, warmup: int = 3) -> float:
    """Median wall time of `fn()` in milliseconds, after a few warm-up calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 3)


def load_metrics(card_dir: Path) -> dict | None:
    """Return a task's metrics.json, or None when the task has not been evaluated yet."""
    path = Path(card_dir) / "metrics.json"
    return load_json(path) if path.exists() else None


def training_log(name: str, path: Path) -> logging.Logger:
    """A logger that writes a training run's progress to `path` (train.log, timestamped, flushed per
    line, so a later session can see where a run stood) and to stdout."""
    import sys

    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    logger.addHandler(logging.StreamHandler(sys.stdout))
    return logger
