"""Evaluation metrics shared by tasks (scikit-learn does the arithmetic)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> dict:
    """Accuracy, macro/weighted precision-recall-F1, confusion matrix and per-class figures."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    ids = list(range(len(labels)))
    summary: dict[str, float] = {"accuracy": float(accuracy_score(y_true, y_pred))}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=ids, average=average, zero_division=0)
        summary.update({f"precision_{average}": float(p), f"recall_{average}": float(r), f"f1_{average}": float(f)})
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=ids, zero_division=0)
    per_class = [
        {"label": labels[i], "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i in ids
    ]
    matrix = confusion_matrix(y_true, y_pred, labels=ids)
    return {
        "metrics": summary,
        "per_class": per_class,
        "confusion_matrix": {"labels": list(labels), "matrix": matrix.tolist()},
    }


def forecast_errors(actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray, season_length: int) -> dict:
    """MAE, RMSE, sMAPE (%) and MASE of a forecast against held-out actuals.

    MASE scales by the in-sample MAE of the seasonal-naive forecast (lag `season_length`,
    falling back to lag 1 when the history is shorter than two seasons).
    """
    actual = np.asarray(actual, dtype=float)
    forecast = np.asarray(forecast, dtype=float)
    insample = np.asarray(insample, dtype=float)
    error = actual - forecast
    mae = float(np.mean(np.abs(error)))
    rmse = float(np.sqrt(np.mean(error**2)))
    denom = np.abs(actual) + np.abs(forecast)
    smape = float(np.mean(np.where(denom == 0, 0.0, 2 * np.abs(error) / np.where(denom == 0, 1, denom))) * 100)
    lag = season_length if len(insample) > 2 * season_length else 1
    scale = float(np.mean(np.abs(insample[lag:] - insample[:-lag]))) if len(insample) > lag else float("nan")
    mase = mae / scale if scale and scale > 0 else float("nan")
    return {"mae": mae, "rmse": rmse, "smape": smape, "mase": mase}
