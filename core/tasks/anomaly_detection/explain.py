"""Which features make a row unusual.

* ECOD and COPOD score a row as the sum of one tail score per feature (minus the log of the
  probability of a value at least that extreme, under that feature's empirical distribution),
  so their own per-feature terms are the explanation and add up to the score.
* Every other detector (and "auto") gets a robust z-score per feature: the distance of the row's
  value from the feature's median, in units of 1.4826 x the median absolute deviation (the
  standard deviation of normal data). It is detector-agnostic: it says which values are far from
  typical, not how the detector weighed them.
"""
from __future__ import annotations

import numpy as np

MAD_TO_SD = 1.4826
TOP_FEATURES = 3


def robust_z(values: np.ndarray) -> np.ndarray:
    """Signed robust z-scores per feature: (x - median) / (1.4826 MAD); a zero MAD falls back to the
    standard deviation, then to 1 (a feature that is constant except for a few rows still shows them)."""
    values = np.asarray(values, dtype=float)
    median = np.median(values, axis=0)
    spread = MAD_TO_SD * np.median(np.abs(values - median), axis=0)
    std = values.std(axis=0)
    spread = np.where(spread > 0, spread, np.where(std > 0, std, 1.0))
    return (values - median) / spread


def contributions(detector: str, values: np.ndarray, per_feature: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(contribution >= 0 per row and feature, signed direction per row and feature, method name)."""
    z = robust_z(values)
    if per_feature is not None and per_feature.shape == z.shape:
        return np.asarray(per_feature, dtype=float), np.sign(z), f"{detector.upper()} per-feature tail scores"
    return np.abs(z), np.sign(z), "robust z-score per feature (|value - median| / (1.4826 MAD))"


def top_features(contribution: np.ndarray, direction: np.ndarray, values: np.ndarray, names: list[str],
                 rows: np.ndarray, k: int = TOP_FEATURES) -> list[list[dict]]:
    """For each of `rows` (positions in the matrix), its `k` largest contributions: feature, value,
    contribution and whether the value is high or low for that feature."""
    out = []
    for row in rows:
        order = np.argsort(-contribution[row], kind="stable")[:k]
        out.append([{"feature": names[j], "value": float(values[row, j]), "contribution": float(contribution[row, j]),
                     "direction": "high" if direction[row, j] > 0 else "low" if direction[row, j] < 0 else "typical"}
                     for j in order if contribution[row, j] > 0])
    return out


def describe(features: list[dict]) -> str:
    """'temperature 41.2 (high, 6.3); humidity 12 (low, 4.1)' for a table cell."""
    return "; ".join(f"{f['feature']} {f['value']:.4g} ({f['direction']}, {f['contribution']:.1f})" for f in features)
