"""The forecasting models: seasonal naive (baseline), ETS, SARIMA with a bounded automatic
order search, and Theta. Each takes a plain float array and returns a `ModelForecast` with
the mean and 80 % / 95 % prediction intervals.

`fit_predict` wraps them with the optional log transform (chosen by `use_log`): models are
fitted on log values and the forecast quantiles are transformed back, which turns additive
seasonality into multiplicative seasonality for series whose swings grow with their level.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm, spearmanr
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel
from statsmodels.tsa.seasonal import STL
from statsmodels.tsa.statespace.sarimax import SARIMAX
from statsmodels.tsa.stattools import kpss
from threadpoolctl import threadpool_limits

MODELS = ("seasonal_naive", "ets", "sarima", "theta")
LEVELS = (80, 95)
MAX_SEASONAL_PERIOD = 24  # ETS / SARIMA seasonal terms only up to this season length (bounded cost)


class ModelFitError(RuntimeError):
    """A model could not be fitted to this series."""


@dataclass
class ModelForecast:
    """Point forecast, interval bounds per level and (when the model has one) the in-sample fit."""

    mean: np.ndarray
    lower: dict[int, np.ndarray]
    upper: dict[int, np.ndarray]
    fitted: np.ndarray | None = None
    spec: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def transformed(self, fn) -> "ModelForecast":
        """Apply a monotone increasing function to every quantity (e.g. np.exp)."""
        return ModelForecast(
            mean=fn(self.mean), lower={k: fn(v) for k, v in self.lower.items()},
            upper={k: fn(v) for k, v in self.upper.items()},
            fitted=None if self.fitted is None else fn(self.fitted), spec=self.spec, details=self.details,
        )


def _z(level: int) -> float:
    return float(norm.ppf(0.5 + level / 200))


def _check_finite(forecast: ModelForecast, name: str) -> ModelForecast:
    arrays = [forecast.mean, *forecast.lower.values(), *forecast.upper.values()]
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise ModelFitError(f"{name} produced non-finite forecasts for this series")
    return forecast


# ---------------------------------------------------------------- transform choice
def use_log(y: np.ndarray, m: int, min_corr: float = 0.6, min_level_ratio: float = 1.5) -> bool:
    """True when the series is positive and its seasonal swings grow with its level.

    Splits the series into whole seasons, and asks whether each season's spread rises with its
    mean (Spearman correlation >= `min_corr`) over a level range of at least `min_level_ratio`."""
    y = np.asarray(y, float)
    if m < 2 or np.any(y <= 0) or len(y) < 3 * m:
        return False
    seasons = len(y) // m
    blocks = y[len(y) - seasons * m:].reshape(seasons, m)
    level, spread = blocks.mean(axis=1), blocks.std(axis=1)
    if level.max() / level.min() < min_level_ratio or np.allclose(spread, spread[0]):
        return False
    corr = spearmanr(level, spread).statistic
    return bool(np.isfinite(corr) and corr >= min_corr)


# ---------------------------------------------------------------- models
def seasonal_naive(y: np.ndarray, m: int, h: int) -> ModelForecast:
    """Repeat the last season; intervals from the spread of in-sample seasonal differences,
    widening with the number of seasons ahead (Hyndman & Athanasopoulos, FPP3 5.5)."""
    lag = m if len(y) > m else 1
    last = y[-lag:]
    steps = np.arange(h)
    mean = last[steps % lag]
    residuals = y[lag:] - y[:-lag]
    sigma = float(np.std(residuals, ddof=1)) if len(residuals) > 1 else 0.0
    k = steps // lag + 1
    fitted = np.concatenate([np.full(lag, np.nan), y[:-lag]])
    lower = {lv: mean - _z(lv) * sigma * np.sqrt(k) for lv in LEVELS}
    upper = {lv: mean + _z(lv) * sigma * np.sqrt(k) for lv in LEVELS}
    name = f"seasonal naive (lag {lag})" if lag > 1 else "naive (last value)"
    return ModelForecast(mean, lower, upper, fitted, spec=name)


def ets(y: np.ndarray, m: int, h: int, trends: tuple[str, ...] = ("none", "add_damped")) -> ModelForecast:
    """Additive-error ETS (statsmodels ETSModel), trend chosen among `trends` by AICc,
    additive seasonality when 1 < m <= MAX_SEASONAL_PERIOD and there are two full seasons."""
    seasonal = "add" if 1 < m <= MAX_SEASONAL_PERIOD and len(y) >= 2 * m + 2 else None
    best, best_spec = None, ""
    for trend in trends:
        kwargs = {"trend": None} if trend == "none" else {"trend": "add", "damped_trend": trend == "add_damped"}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = ETSModel(pd.Series(y), error="add", seasonal=seasonal, seasonal_periods=m if seasonal else None,
                                  **kwargs).fit(disp=False, maxiter=200)
        except Exception:  # noqa: BLE001 - try the next configuration
            continue
        if np.isfinite(result.aicc) and (best is None or result.aicc < best.aicc):
            best = result
            best_spec = f"ETS(A,{'N' if trend == 'none' else 'Ad' if trend == 'add_damped' else 'A'},{'A' if seasonal else 'N'})"
    if best is None:
        raise ModelFitError("ETS could not be fitted to this series")
    prediction = best.get_prediction(start=len(y), end=len(y) + h - 1)
    mean = np.asarray(prediction.predicted_mean, float)
    lower, upper = {}, {}
    for level in LEVELS:
        frame = prediction.summary_frame(alpha=1 - level / 100)
        lower[level], upper[level] = frame["pi_lower"].to_numpy(float), frame["pi_upper"].to_numpy(float)
    return _check_finite(ModelForecast(mean, lower, upper, np.asarray(best.fittedvalues, float), spec=best_spec,
                                       details={"aicc": float(best.aicc)}), "ETS")


def seasonal_strength(y: np.ndarray, m: int) -> float:
    """STL seasonal strength F_s = max(0, 1 - Var(R) / Var(S + R)) (Wang, Smith & Hyndman 2006)."""
    if m < 2 or len(y) < 2 * m + 1:
        return 0.0
    result = STL(y, period=m, robust=True).fit()
    remainder, seasonal = np.asarray(result.resid), np.asarray(result.seasonal)
    denominator = np.var(seasonal + remainder)
    return float(max(0.0, 1 - np.var(remainder) / denominator)) if denominator > 0 else 0.0


def _needs_difference(y: np.ndarray) -> bool:
    """KPSS level-stationarity test at 5 % (the auto.arima rule)."""
    if len(y) < 10 or np.allclose(y, y[0]):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, p_value, *_ = kpss(y, regression="c", nlags="auto")
    return bool(p_value < 0.05)


@dataclass(frozen=True)
class SarimaOrder:
    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    trend: str

    def __str__(self) -> str:
        p, d, q = self.order
        P, D, Q, m = self.seasonal_order
        seasonal = f"({P},{D},{Q})[{m}]" if m > 1 else ""
        drift = " with constant" if self.trend == "c" else ""
        return f"SARIMA({p},{d},{q}){seasonal}{drift}"

    def to_dict(self) -> dict:
        return {"order": list(self.order), "seasonal_order": list(self.seasonal_order), "trend": self.trend}


# The state-space models multiply tiny matrices: multi-threaded BLAS only adds overhead and
# becomes 10x slower when the CPU is shared, so these entry points hold BLAS to one thread.
_one_blas_thread = threadpool_limits.wrap(limits=1, user_api="blas")


def _sarima_window(max_points: int, m: int) -> int:
    """Points SARIMA looks at: `max_points`, or ten seasons when the season is modelled."""
    return max(max_points, 10 * m if 1 < m <= MAX_SEASONAL_PERIOD else 0)


@_one_blas_thread
def select_sarima_order(y: np.ndarray, m: int, grid: list[list[int]], seasonal_threshold: float = 0.64,
                        max_points: int = 240) -> SarimaOrder:
    """Bounded automatic SARIMA order choice.

    Differencing orders come from tests (seasonal D=1 when STL seasonal strength >= 0.64, then
    d=1 when KPSS rejects stationarity), as in Hyndman & Khandakar's auto.arima; the ARMA
    orders (p, q, P, Q) are the member of the small fixed `grid` with the lowest AIC, each
    fitted by exact likelihood on the differenced series (fast). At most len(grid) fits."""
    y = np.asarray(y, float)[-_sarima_window(max_points, m):]
    seasonal = 1 < m <= MAX_SEASONAL_PERIOD and len(y) >= 3 * m
    D = int(seasonal and seasonal_strength(y, m) >= seasonal_threshold)
    work = y[m:] - y[:-m] if D else y
    d = int(_needs_difference(work))
    trend = "c" if d + D <= 1 else "n"
    best, best_aic = None, np.inf
    for p, q, P, Q in grid:
        if not seasonal:
            P = Q = 0
        candidate = SarimaOrder((p, d, q), (P, D, Q, m if seasonal else 0), trend)
        if candidate == best:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = SARIMAX(y, order=candidate.order, seasonal_order=candidate.seasonal_order, trend=trend,
                                 simple_differencing=True, concentrate_scale=True).fit(disp=False, maxiter=50,
                                                                                       cov_type="none")
        except Exception:  # noqa: BLE001
            continue
        if np.isfinite(result.aic) and result.aic < best_aic:
            best, best_aic = candidate, result.aic
    if best is None:
        best = SarimaOrder((0, d, 1), (0, D, 1 if seasonal else 0, m if seasonal else 0), trend)
    return best


def sarima(y: np.ndarray, m: int, h: int, order: SarimaOrder | None = None, grid: list[list[int]] | None = None,
           max_points: int = 240) -> ModelForecast:
    """SARIMA fitted on (at most) the last `max_points` observations; the order is selected
    by `select_sarima_order` unless given."""
    order = order or select_sarima_order(y, m, grid or [[0, 1, 0, 1]], max_points=max_points)
    window = np.asarray(y, float)[-_sarima_window(max_points, m):]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Estimate on the differenced series (fast, exact likelihood of the ARMA part), then
            # run the Kalman filter of the integrated model with those parameters: forecasts and
            # intervals in levels, identical to a full fit to ~4 digits at a fraction of the cost.
            kwargs = dict(order=order.order, seasonal_order=order.seasonal_order, trend=order.trend,
                          concentrate_scale=True)
            params = SARIMAX(window, simple_differencing=True, **kwargs).fit(disp=False, maxiter=50,
                                                                             cov_type="none").params
            result = SARIMAX(window, **kwargs).filter(params)
    except Exception as exc:  # noqa: BLE001
        raise ModelFitError(f"{order} could not be fitted: {exc}") from exc
    prediction = result.get_forecast(h)
    mean = np.asarray(prediction.predicted_mean, float)
    lower, upper = {}, {}
    for level in LEVELS:
        bounds = np.asarray(prediction.conf_int(alpha=1 - level / 100), float)
        lower[level], upper[level] = bounds[:, 0], bounds[:, 1]
    fitted = np.full(len(y), np.nan)
    burn = order.order[1] + order.seasonal_order[1] * max(order.seasonal_order[3], 1)
    fitted_window = np.asarray(result.fittedvalues, float)
    fitted_window[:burn] = np.nan
    fitted[len(y) - len(window):] = fitted_window
    return _check_finite(ModelForecast(mean, lower, upper, fitted, spec=str(order),
                                       details={"aic": float(result.aic), **order.to_dict()}), "SARIMA")


def theta(y: np.ndarray, m: int, h: int, additive: bool = False) -> ModelForecast:
    """The Theta method (Assimakopoulos & Nikolopoulos 2000; statsmodels ThetaModel): SES with
    drift on the seasonally adjusted series; classical decomposition when a seasonality test
    finds seasonality (multiplicative for positive series unless `additive`)."""
    seasonal = m > 1 and len(y) >= 2 * m
    method = "additive" if additive or np.any(y <= 0) else "auto"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = ThetaModel(y, period=m if seasonal else 1, deseasonalize=seasonal, method=method).fit()
            mean = np.asarray(result.forecast(h), float)
            lower, upper = {}, {}
            for level in LEVELS:
                bounds = np.asarray(result.prediction_intervals(h, alpha=1 - level / 100), float)
                lower[level], upper[level] = bounds[:, 0], bounds[:, 1]
    except Exception as exc:  # noqa: BLE001
        raise ModelFitError(f"Theta could not be fitted: {exc}") from exc
    return _check_finite(ModelForecast(mean, lower, upper, None, spec="Theta (SES with drift)"), "Theta")


@_one_blas_thread
def fit_predict(name: str, y: np.ndarray, m: int, h: int, log: bool = False,
                sarima_order: SarimaOrder | None = None, settings: dict | None = None) -> ModelForecast:
    """Fit model `name` to `y` (on log scale when `log`) and forecast `h` steps."""
    settings = settings or {}
    y = np.asarray(y, float)
    work = np.log(y) if log else y
    if name == "seasonal_naive":
        result = seasonal_naive(work, m, h)
    elif name == "ets":
        result = ets(work, m, h, trends=tuple(settings.get("ets_trends", ("none", "add_damped"))))
    elif name == "sarima":
        result = sarima(work, m, h, order=sarima_order, grid=settings.get("sarima_grid"),
                        max_points=int(settings.get("sarima_max_points", 240)))
    elif name == "theta":
        result = theta(work, m, h, additive=log)
    else:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return result.transformed(np.exp) if log else result
