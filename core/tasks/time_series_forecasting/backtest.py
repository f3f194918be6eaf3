"""Rolling-origin backtests: refit at several forecast origins on the series' own tail and
score each model's forecasts (MAE, RMSE, sMAPE, MASE via core.metrics) and the share of
actuals inside its 80 % / 95 % intervals."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.metrics import forecast_errors
from core.tasks.time_series_forecasting.models import LEVELS, ModelFitError, SarimaOrder, fit_predict

METRIC_NAMES = ("mae", "rmse", "smape", "mase")


def origins(n: int, horizon: int, n_origins: int, min_train: int) -> list[int]:
    """Forecast origins (training lengths), latest last, spaced `horizon` apart, each leaving
    `horizon` actuals to score and at least `min_train` points to fit. May be empty."""
    points = [n - horizon - k * horizon for k in range(n_origins)]
    return sorted(p for p in points if p >= min_train)


@dataclass
class BacktestResult:
    """Per-model scores averaged over origins, plus the raw per-origin rows."""

    scores: dict[str, dict[str, float]]
    folds: list[dict]
    origins: list[int]
    horizon: int
    failures: dict[str, str]

    def ranking(self, metric: str = "mase") -> list[str]:
        """Models that ran on every origin, best first (ties keep the candidate order)."""
        usable = [m for m, s in self.scores.items() if np.isfinite(s.get(metric, np.nan))]
        return sorted(usable, key=lambda m: self.scores[m][metric])


def interval_coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    return float(np.mean((actual >= lower) & (actual <= upper)))


def rolling_origin(y: np.ndarray, m: int, models: list[str], horizon: int, n_origins: int, min_train: int,
                   log: bool = False, sarima_order: SarimaOrder | None = None,
                   settings: dict | None = None) -> BacktestResult:
    """Backtest every model in `models` at up to `n_origins` origins.

    Scores use the original scale; MASE is scaled by each origin's in-sample seasonal-naive
    error. A model that fails on any origin is left out of `scores` and reported in `failures`."""
    y = np.asarray(y, float)
    points = origins(len(y), horizon, n_origins, min_train)
    folds: list[dict] = []
    failures: dict[str, str] = {}
    for model in models:
        rows = []
        for origin in points:
            train, actual = y[:origin], y[origin:origin + horizon]
            try:
                forecast = fit_predict(model, train, m, horizon, log=log, sarima_order=sarima_order, settings=settings)
            except (ModelFitError, ValueError, np.linalg.LinAlgError) as exc:
                failures[model] = str(exc)
                rows = []
                break
            row = {"model": model, "origin": origin, **forecast_errors(actual, forecast.mean, train, m)}
            for level in LEVELS:
                row[f"coverage_{level}"] = interval_coverage(actual, forecast.lower[level], forecast.upper[level])
                row[f"inside_{level}"] = int(np.sum((actual >= forecast.lower[level]) & (actual <= forecast.upper[level])))
            row["n"] = len(actual)
            rows.append(row)
        folds.extend(rows)
    scores = {}
    for model in models:
        rows = [r for r in folds if r["model"] == model]
        if not rows:
            continue
        scores[model] = {name: float(np.mean([r[name] for r in rows])) for name in METRIC_NAMES}
        for level in LEVELS:
            scores[model][f"coverage_{level}"] = sum(r[f"inside_{level}"] for r in rows) / sum(r["n"] for r in rows)
    return BacktestResult(scores=scores, folds=folds, origins=points, horizon=horizon, failures=failures)
