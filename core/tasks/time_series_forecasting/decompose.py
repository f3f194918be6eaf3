"""STL decomposition of a series for display (observed, trend, seasonal, remainder), bounded
so that it costs well under a second for any accepted series and season length."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_POINTS = 2000         # only the most recent points are decomposed and shown
ROBUST_WORK = 120_000     # STL costs ~points x season (x6 when robust): robust only below this


@dataclass
class Decomposition:
    """The parts of the (most recent part of the) series; only "observed" when there is no season."""

    index: pd.Index
    parts: dict[str, np.ndarray]
    season_length: int
    full_length: int
    robust: bool = True

    @property
    def title(self) -> str:
        if self.season_length < 2:
            return "No seasonal period (season length 1): STL needs a season"
        shown = len(self.index)
        return (f"STL decomposition (season length {self.season_length})"
                + (f", last {shown:,} of {self.full_length:,} points" if shown < self.full_length else "")
                + ("" if self.robust else ", non-robust fit"))


def stl_decomposition(series: pd.Series, m: int, max_points: int = MAX_POINTS,
                      robust_work: int = ROBUST_WORK) -> Decomposition:
    """STL of the last `max_points` points (at least two seasons) with season length `m`."""
    from statsmodels.tsa.seasonal import STL

    if m < 2:
        return Decomposition(series.index, {"observed": series.to_numpy()}, 1, len(series))
    recent = series.iloc[-max(max_points, 2 * m + 1):]
    robust = len(recent) * m <= robust_work
    stl = STL(recent.to_numpy(), period=m, robust=robust).fit()
    parts = {"observed": recent.to_numpy(), "trend": np.asarray(stl.trend), "seasonal": np.asarray(stl.seasonal),
             "remainder": np.asarray(stl.resid)}
    return Decomposition(recent.index, parts, m, len(series), robust)
