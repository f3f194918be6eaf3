"""The forecaster the app serves, configured from assets/models/time_series_forecasting/config.json.

Nothing is pre-trained: each request fits the models on the user's series. The shipped
"model" is the configuration (candidate models, SARIMA search grid, backtest settings) that
`train.py` evaluated. `load(variant, model_dir)` returns a `Forecaster` for one variant:
"auto" (pick by backtest on the series' own tail) or a fixed model.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from core.artifacts import load_json
from core.errors import InputError
from core.tasks.time_series_forecasting.backtest import BacktestResult, rolling_origin
from core.tasks.time_series_forecasting.data import (MAX_SEASON_LENGTH, MIN_POINTS, SeriesInfo, detect_columns,
                                                     future_index, load_input, read_table, short_list)
from core.tasks.time_series_forecasting.decompose import Decomposition, stl_decomposition
from core.tasks.time_series_forecasting.models import (LEVELS, MAX_SEASONAL_PERIOD, MODELS, ModelFitError,
                                                       ModelForecast, select_sarima_order, fit_predict, use_log)

DEFAULT_CONFIG: dict = {
    "version": 1,
    "candidates": list(MODELS),
    "baseline": "seasonal_naive",
    "selection_metric": "mase",
    "backtest": {"n_origins": 2, "min_horizon": 6},
    "sarima_grid": [[0, 1, 0, 1], [1, 0, 1, 0], [1, 1, 0, 1], [2, 0, 0, 1], [0, 2, 0, 1], [1, 0, 0, 1]],
    "sarima_max_points": 180,
    "max_fit_points": 1000,  # longer series: backtest and fit on the last max(this, 3 seasons) points
    "ets_trends": ["none", "add_damped"],
    "log_transform": {"min_corr": 0.6, "min_level_ratio": 1.5},
    "default_horizon": 12,
    "max_horizon": 120,
}
MODEL_LABELS = {"auto": "auto (best backtest)", "seasonal_naive": "seasonal naive", "ets": "ETS / Holt-Winters",
                "sarima": "SARIMA (auto order)", "theta": "Theta"}


@dataclass
class ForecastResult:
    """Everything one request produces; `to_json()` is the API's machine-readable result."""

    model: str
    requested: str
    forecast: pd.DataFrame            # timestamp, mean, lower_80, upper_80, lower_95, upper_95
    fitted: pd.Series | None
    history: pd.Series
    spec: str
    log_transform: bool
    backtest: BacktestResult | None
    season_length: int
    notes: list[str] = field(default_factory=list)
    latency_ms: float = 0.0

    def candidates_table(self) -> pd.DataFrame:
        """Backtest scores per model (best first), the chosen model and the baseline marked."""
        if self.backtest is None or not self.backtest.scores:
            return pd.DataFrame(columns=["model", "MAE", "RMSE", "sMAPE %", "MASE", "80% coverage", "95% coverage"])
        rows = []
        for name in self.backtest.ranking():
            s = self.backtest.scores[name]
            label = name + (" (chosen)" if name == self.model else "") + (" (baseline)" if name == "seasonal_naive" else "")
            rows.append([label, s["mae"], s["rmse"], s["smape"], s["mase"], s["coverage_80"], s["coverage_95"]])
        frame = pd.DataFrame(rows, columns=["model", "MAE", "RMSE", "sMAPE %", "MASE", "80% coverage", "95% coverage"])
        return frame.round(4)

    def to_json(self) -> dict:
        def stamp(value) -> str | int:
            return value.isoformat() if isinstance(value, pd.Timestamp) else int(value)

        records = [
            {"timestamp": stamp(row.timestamp), **{k: float(getattr(row, k)) for k in
                                                    ("mean", "lower_80", "upper_80", "lower_95", "upper_95")}}
            for row in self.forecast.itertuples(index=False)
        ]
        backtest = None
        if self.backtest is not None:
            backtest = {"origins": self.backtest.origins, "horizon": self.backtest.horizon,
                        "failures": self.backtest.failures}
        candidates = [] if self.backtest is None else [
            {"model": name, **{k: round(v, 6) for k, v in self.backtest.scores[name].items()}}
            for name in self.backtest.ranking()
        ]
        return {"model": self.model, "requested_model": self.requested, "model_spec": self.spec,
                "log_transform": self.log_transform, "season_length": self.season_length,
                "horizon": len(records), "forecast": records, "candidates": candidates,
                "baseline": "seasonal_naive", "backtest": backtest, "notes": self.notes,
                "latency_ms": round(self.latency_ms, 1)}


@dataclass
class ForecastResponse:
    """What one /forecast request computes (in a worker process): what was read (the series
    itself is `result.history`), the forecast and the decomposition to display."""

    info: SeriesInfo
    result: ForecastResult
    decomposition: Decomposition


@dataclass
class TableColumns:
    """The columns of an uploaded table and the detected date / value columns."""

    columns: list[str]
    date_column: str | None
    value_column: str | None
    ambiguous: bool


class Forecaster:
    """Fits the configured models on a series and forecasts it.

    Args:
        config: the shipped configuration (see DEFAULT_CONFIG for the keys).
        model: "auto" or one of MODELS.
    """

    def __init__(self, config: dict | None = None, model: str = "auto") -> None:
        self.config = {**DEFAULT_CONFIG, **(config or {})}
        if model != "auto" and model not in MODELS:
            raise KeyError(f"unknown model {model!r}; choose auto or one of {', '.join(MODELS)}")
        self.model = model

    # -- pieces, each usable alone (train.py and the tests call them)
    def backtest_horizon(self, horizon: int, m: int) -> int:
        return int(min(horizon, max(m, self.config["backtest"]["min_horizon"])))

    def min_train(self, m: int) -> int:
        return max(2 * m + 2, MIN_POINTS)

    def fit_window(self, n: int, m: int) -> int:
        """How many of the last points the models see: bounds the work of a request (ETS and
        Theta cost grows with the length) while keeping three seasons."""
        return int(min(n, max(int(self.config["max_fit_points"]), 3 * m)))

    def choose_log(self, y: np.ndarray, m: int) -> bool:
        return use_log(y, m, **self.config["log_transform"])

    def sarima_order(self, y: np.ndarray, m: int, log: bool):
        work = np.log(y) if log else y
        return select_sarima_order(work, m, self.config["sarima_grid"],
                                   max_points=int(self.config["sarima_max_points"]))

    def backtest(self, y: np.ndarray, m: int, models: list[str], horizon: int, log: bool, n_origins: int | None = None,
                 sarima_order=None) -> BacktestResult:
        """Rolling-origin backtest of `models` on the tail of `y`. The SARIMA order is chosen
        once, on the data before the first origin, and reused at every origin."""
        n_origins = n_origins or int(self.config["backtest"]["n_origins"])
        min_train = self.min_train(m)
        first = len(y) - horizon * n_origins
        if "sarima" in models and sarima_order is None and first >= min_train:
            sarima_order = self.sarima_order(y[:first], m, log)
        elif "sarima" in models and sarima_order is None:
            sarima_order = self.sarima_order(y[: max(len(y) - horizon, min_train)], m, log)
        return rolling_origin(y, m, models, horizon, n_origins, min_train, log=log, sarima_order=sarima_order,
                              settings=self.config)

    # -- the requests (core.workers runs them in the task's worker pool)
    def serve(self, file: str | None, series: str | None, date_column: str = "", value_column: str = "",
              horizon: int | None = None, season_length: int = 0) -> ForecastResponse:
        """Read the input (an uploaded file or a bundled series), forecast it and decompose it."""
        history, info = load_input(file, series, date_column, value_column, season_length)
        result = self.forecast(history, horizon, info.season_length)
        return ForecastResponse(info, result, stl_decomposition(history, result.season_length))

    @staticmethod
    def inspect(file: str) -> TableColumns:
        """The columns of an uploaded table and the ones `to_series` would pick."""
        frame = read_table(file)
        guess = detect_columns(frame)
        return TableColumns(list(frame.columns), guess.date_column, guess.value_column, guess.ambiguous)

    def forecast(self, series: pd.Series, horizon: int | None = None, season_length: int = 1) -> ForecastResult:
        """Backtest, pick (for "auto"), refit on the whole series and forecast `horizon` steps.

        BLAS is held to one thread meanwhile: the state-space models multiply tiny matrices,
        and multi-threaded BLAS makes them 10x slower when the CPU is shared."""
        with threadpool_limits(limits=1, user_api="blas"):
            return self._forecast(series, horizon, season_length)

    def _forecast(self, series: pd.Series, horizon: int | None, season_length: int) -> ForecastResult:
        start = time.perf_counter()
        horizon = int(self.config["default_horizon"] if horizon is None else horizon)
        if not 1 <= horizon <= int(self.config["max_horizon"]):
            raise InputError(f"Horizon must be between 1 and {self.config['max_horizon']} steps; got {horizon}.")
        history = _finite_values(series)
        m = _season(season_length, len(history))
        y = history[-self.fit_window(len(history), m):]
        models = list(self.config["candidates"]) if self.model == "auto" else sorted({self.model, "seasonal_naive"},
                                                                                   key=MODELS.index)
        notes = _bound_notes(len(history), len(y), m, models)
        log = self.choose_log(y, m)
        bt_horizon = self.backtest_horizon(horizon, m)
        result, sarima_order = None, None
        if len(y) - bt_horizon >= self.min_train(m):
            if "sarima" in models:
                first = max(len(y) - bt_horizon * int(self.config["backtest"]["n_origins"]), self.min_train(m))
                sarima_order = self.sarima_order(y[:first], m, log)
            result = self.backtest(y, m, models, bt_horizon, log, sarima_order=sarima_order)
        else:
            notes.append("series too short to backtest: no model comparison")
        chosen = self.model
        if self.model == "auto":
            ranking = result.ranking(self.config["selection_metric"]) if result else []
            chosen = ranking[0] if ranking else "ets"
        try:
            final = fit_predict(chosen, y, m, horizon, log=log, sarima_order=sarima_order, settings=self.config)
        except ModelFitError as exc:
            if self.model != "auto":
                raise InputError(f"{MODEL_LABELS[chosen]} could not be fitted to this series ({exc}). "
                                 "Try 'auto' or another model.") from exc
            notes.append(f"{chosen} failed on the full series ({exc}); fell back to seasonal naive")
            chosen = "seasonal_naive"
            final = fit_predict(chosen, y, m, horizon, log=log, settings=self.config)
        table = self._table(series, final, horizon)
        if history.min() >= 0 and (table.drop(columns="timestamp") < 0).any().any():
            numbers = table.columns.drop("timestamp")
            table[numbers] = table[numbers].clip(lower=0.0)
            notes.append("the series is never negative, so the forecast and its intervals are floored at 0")
        scores = result.scores.get(chosen) if result else None
        if scores and scores["mase"] >= POOR_MASE:
            notes.append(f"hard to forecast: on the series' own tail the chosen model's errors were {scores['mase']:.1f}x "
                         "a seasonal naive's in-sample errors (MASE): read the forecast as a rough guide")
        fitted = None if final.fitted is None else pd.Series(
            np.r_[np.full(len(history) - len(y), np.nan), final.fitted], index=series.index)
        if log:
            notes.append("fitted on log values (seasonal swings grow with the level); forecasts are back-transformed medians")
        latency = (time.perf_counter() - start) * 1000
        return ForecastResult(model=chosen, requested=self.model, forecast=table, fitted=fitted, history=series,
                              spec=final.spec, log_transform=log, backtest=result, season_length=m,
                              notes=notes, latency_ms=latency)

    @staticmethod
    def _table(series: pd.Series, forecast: ModelForecast, horizon: int) -> pd.DataFrame:
        frame = pd.DataFrame({"timestamp": future_index(series, horizon), "mean": forecast.mean})
        for level in LEVELS:
            frame[f"lower_{level}"] = forecast.lower[level]
            frame[f"upper_{level}"] = forecast.upper[level]
        return frame


POOR_MASE = 1.0  # a backtest MASE from here up gets a "hard to forecast" note


def _finite_values(series: pd.Series) -> np.ndarray:
    """The series as floats; too short or non-finite (NaN, inf) is a clear InputError."""
    y = series.to_numpy(float)
    if len(y) < MIN_POINTS:
        raise InputError(f"Need at least {MIN_POINTS} observations to forecast; got {len(y)}.")
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        where = short_list(series.index[bad], 3)
        raise InputError(f"The series has {len(bad):,} missing or infinite value(s) (at {where}). Replace them with "
                         "finite numbers, or leave them empty in the file to have them interpolated.")
    return y


def _season(season_length: int, n: int) -> int:
    """A valid season length: 1..MAX_SEASON_LENGTH, and 1 when the series holds < 2 seasons."""
    m = int(season_length)
    if not 1 <= m <= MAX_SEASON_LENGTH:
        raise InputError(f"Season length must be between 1 and {MAX_SEASON_LENGTH}; got {m}.")
    return m if n >= 2 * m + 2 else 1


def _bound_notes(n: int, window: int, m: int, models: list[str]) -> list[str]:
    """Say when the work bounds changed what the models see."""
    notes = []
    if window < n:
        notes.append(f"long series: the models were backtested and fitted on the last {window:,} of {n:,} points")
    unseasonal = [name for name in ("ets", "sarima") if name in models]
    if m > MAX_SEASONAL_PERIOD and unseasonal:
        names = " and ".join(name.upper() for name in unseasonal)
        notes.append(f"season length {m} > {MAX_SEASONAL_PERIOD}: {names} {'is' if len(unseasonal) == 1 else 'are'} "
                     "fitted without a seasonal component (seasonal naive and Theta use the season)")
    return notes


def load_config(model_dir: Path) -> dict:
    path = Path(model_dir) / "config.json"
    return {**DEFAULT_CONFIG, **load_json(path)} if path.exists() else dict(DEFAULT_CONFIG)


def load(variant: str, model_dir: Path) -> Forecaster:
    """Registry loader: a Forecaster for `variant` ("auto" or a model name)."""
    return Forecaster(load_config(model_dir), model=variant)
