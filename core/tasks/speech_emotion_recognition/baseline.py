"""The classical baseline: standardised MFCC / pitch / energy statistics (features.prosodic_stats)
and a multinomial logistic regression, trained with scikit-learn and served from numpy arrays
(`mfcc_baseline.npz`: the scaler's mean and scale, the coefficients and intercepts; no pickle).
`LinearBaseline.probabilities` computes exactly what scikit-learn's predict_proba does (tested).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

WEIGHTS = "mfcc_baseline.npz"


def fit(stats: np.ndarray, labels: np.ndarray, c: float = 1.0):
    """A fitted scikit-learn Pipeline(StandardScaler, LogisticRegression(C=c))."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000)).fit(stats, labels)


def save(pipeline, folder: Path) -> Path:
    """The fitted pipeline's numbers as .npz."""
    scaler, classifier = pipeline[0], pipeline[-1]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / WEIGHTS
    np.savez(path, mean=scaler.mean_.astype(np.float64), scale=scaler.scale_.astype(np.float64),
             coef=classifier.coef_.astype(np.float64), intercept=classifier.intercept_.astype(np.float64),
             classes=classifier.classes_.astype(np.int64))
    return path


class LinearBaseline:
    """Serving side: standardise, linear scores, softmax."""

    def __init__(self, folder: Path) -> None:
        with np.load(Path(folder) / WEIGHTS, allow_pickle=False) as weights:
            self.mean, self.scale = weights["mean"], weights["scale"]
            self.coef, self.intercept = weights["coef"], weights["intercept"]
            self.classes = weights["classes"]
        if not np.array_equal(self.classes, np.arange(len(self.classes))):
            raise ValueError(f"{WEIGHTS} was fitted on classes {self.classes.tolist()}, expected 0..n-1")

    def probabilities(self, stats: np.ndarray) -> np.ndarray:
        """(n, n_features) statistics -> (n, n_classes) probabilities."""
        scores = ((np.atleast_2d(stats).astype(np.float64) - self.mean) / self.scale) @ self.coef.T + self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)
