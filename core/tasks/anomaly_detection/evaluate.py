"""Thresholds and metrics: from scores to flags, and from labels to ROC-AUC, AP and precision@n.

The threshold is a share of rows (the contamination): the ceil(contamination x n) highest scores
are flagged (rows tied with the last one too). Re-flagging at another share needs only the
scores, never a new fit; the tab keeps the scores in the session for that.
"""
from __future__ import annotations

import math

import numpy as np

from core.errors import InputError

MAX_CONTAMINATION = 0.5


def check_contamination(contamination: float) -> float:
    """The share of rows to flag, which must be in (0, 0.5]."""
    try:
        value = float(contamination)
    except (TypeError, ValueError):
        raise InputError(f"Contamination must be a number between 0 and {MAX_CONTAMINATION}; got {contamination!r}.") from None
    if not (0 < value <= MAX_CONTAMINATION) or math.isnan(value):
        raise InputError(f"Contamination (the share of rows to flag) must be more than 0 and at most {MAX_CONTAMINATION}; "
                         f"got {contamination}. For example 0.05 flags the 5% most unusual rows.")
    return value


def threshold_for(scores: np.ndarray, contamination: float) -> tuple[float, np.ndarray]:
    """(threshold, flags): the score of the k-th most anomalous row, k = ceil(contamination x n), and
    which rows reach it."""
    contamination = check_contamination(contamination)
    scores = np.asarray(scores, dtype=float)
    k = max(1, min(len(scores), math.ceil(contamination * len(scores) - 1e-9)))
    threshold = float(np.partition(scores, len(scores) - k)[len(scores) - k])
    return threshold, scores >= threshold


def ranking_metrics(label: np.ndarray | None, scores: np.ndarray) -> dict | None:
    """ROC-AUC, average precision and precision@n (n = number of true anomalies) on the rows that have
    a label (label >= 0); None without labels or when only one class is present."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    if label is None:
        return None
    known = np.asarray(label) >= 0
    y, s = np.asarray(label)[known].astype(int), np.asarray(scores, dtype=float)[known]
    n_anomalies = int(y.sum())
    if n_anomalies == 0 or n_anomalies == len(y):
        return None
    top = np.argsort(-s, kind="stable")[:n_anomalies]
    return {"roc_auc": float(roc_auc_score(y, s)), "average_precision": float(average_precision_score(y, s)),
            "precision_at_n": float(y[top].mean()), "n_anomalies": n_anomalies, "n_labelled": int(len(y))}


def flag_metrics(label: np.ndarray | None, flags: np.ndarray) -> dict | None:
    """Precision, recall and F1 of the flags at the current threshold (rows with a label only)."""
    if label is None:
        return None
    known = np.asarray(label) >= 0
    y, f = np.asarray(label)[known] == 1, np.asarray(flags, dtype=bool)[known]
    if not y.any():
        return None
    hits = int((y & f).sum())
    precision = hits / f.sum() if f.sum() else 0.0
    recall = hits / y.sum()
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1), "true_positives": hits,
            "flagged": int(f.sum())}
