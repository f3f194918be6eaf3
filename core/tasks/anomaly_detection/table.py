"""Reading an uploaded table and turning it into a feature matrix: one job, in two steps.

`read_table(path)` reads a CSV (any common delimiter) or the first sheet of an .xlsx with the
shared reader (core/tables.py: size, then rows and columns counted before parsing, then the parse
bounded by nrows) and this task's limits: MAX_TABLE_ROWS (100,000) and MAX_TABLE_COLUMNS (200)
from the settings.

`prepare(frame, label_column, scaling)` decides what every column is and builds the matrix the
detectors read. Each column gets one role, and the reason is reported to the user:

* label: named like label/target/class/anomaly/outlier/is_anomaly... and binary (or the column
  the user names); kept out of the features and used only to score the detector;
* feature: numbers (text cells in a mostly numeric column are an error naming the cells); empty
  cells are filled with the column's median and counted;
* categorical: text (or an integer column named like an id with few values, such as `mote_id`)
  with at most MAX_CATEGORIES values, one-hot encoded;
* dropped: empty, constant, more than half missing, timestamps (dates say *when*, not *what*),
  row counters (integers going up by one from row to row) and ids (unique per row), free text
  with many distinct values.

Features are then scaled: "robust" (median and interquartile range, the default: the anomalies
themselves barely move the scale) or "standard" (mean and standard deviation).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core import tables
from core.errors import InputError
from core.settings import Settings
from core.tables import TableLimits, short_list

MAX_FILE_BYTES = 32 * 2**20
MIN_ROWS = 10
MAX_CATEGORIES = 10
MAX_FEATURES = 400  # after one-hot encoding
MAX_MISSING_FRACTION = 0.5
DETECT_SAMPLE = 500  # non-empty cells per column looked at when guessing its kind
SCALINGS = ("robust", "standard")
LABEL_NAME = re.compile(r"^(label|labels|target|class|y|anomaly|anomalous|outlier|is_?anomal(y|ous)|is_?outlier|"
                        r"ground_?truth|gt|fraud|is_?fraud|attack|fault|defect(ive)?)$", re.IGNORECASE)
ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key|index|idx|row|record|serial)([_\s-]|$)|id$|^unnamed", re.IGNORECASE)
POSITIVE = {"1", "1.0", "true", "yes", "y", "anomaly", "anomalous", "outlier", "abnormal", "attack", "fraud",
            "fault", "malignant", "bad", "positive", "pos"}
MISSING_MARKERS = {"", "na", "n/a", "nan", "null", "none", "-", "?"}


def limits() -> TableLimits:
    """This tab's table bounds, from the settings (MAX_TABLE_ROWS, MAX_TABLE_COLUMNS; read on each call,
    so tests and deployments can set them)."""
    settings = Settings.from_env()
    return TableLimits(max_rows=settings.max_table_rows, max_columns=settings.max_table_columns, min_rows=MIN_ROWS,
                       max_file_bytes=MAX_FILE_BYTES, expected="a header row and one row per record",
                       fewer_rows="Upload a sample or a shorter period of the data.",
                       fewer_columns="Keep the columns that describe each record and upload again.")


def read_table(path: str | Path, bounds: TableLimits | None = None) -> pd.DataFrame:
    """Read a CSV or the first sheet of an .xlsx/.xlsm; refuse what is too large before parsing it
    (core.tables). The frame keeps the file's row positions as its index (0 = first data row)."""
    return tables.read_table(path, bounds or limits())


# ---------------------------------------------------------------- column detection
@dataclass
class ColumnRole:
    """What was decided about one column of the table, and why."""

    name: str
    role: str        # "feature", "categorical", "label" or "dropped"
    reason: str
    missing: int = 0  # empty cells (filled with the median for features)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Prepared:
    """The feature matrix the detectors read, and what was done to get it."""

    X: np.ndarray                 # (n, d) scaled features
    values: np.ndarray            # (n, d) the same features before scaling (missing cells filled)
    feature_names: list[str]      # d names; one-hot features are "column=value"
    feature_columns: list[str]    # d source columns
    rows: np.ndarray              # (n,) the rows' positions in the table (0 = first data row)
    label: np.ndarray | None      # (n,) 1 = anomaly, 0 = normal, -1 = unknown; None without a label column
    label_column: str | None
    columns: list[ColumnRole]
    scaling: str
    notes: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    def column_summary(self) -> dict:
        """Columns by role, for the API."""
        out: dict[str, list] = {"features": [], "categorical": [], "label": [], "dropped": []}
        for column in self.columns:
            if column.role == "dropped":
                out["dropped"].append({"column": column.name, "reason": column.reason})
            elif column.role == "label":
                out["label"].append(column.name)
            else:
                out["features" if column.role == "feature" else "categorical"].append(column.name)
        out["label"] = out["label"][0] if out["label"] else None
        out["imputed"] = {c.name: c.missing for c in self.columns if c.role == "feature" and c.missing}
        return out


def _sample(column: pd.Series, size: int = DETECT_SAMPLE) -> pd.Series:
    values = column.dropna()
    return values.iloc[:: max(1, len(values) // size)]


def _as_text(column: pd.Series) -> pd.Series:
    return column.astype("string").str.strip()


def _missing_mask(column: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
        return column.isna()
    return column.isna() | _as_text(column).str.lower().isin(MISSING_MARKERS).fillna(True)


def _numbers(column: pd.Series) -> pd.Series:
    """Numbers parsed from text (thousands commas removed); NaN where a cell is not a number."""
    if pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    text = _as_text(column).str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def _numeric_fraction(column: pd.Series) -> float:
    values = _sample(column[~_missing_mask(column)])
    if values.empty:
        return 0.0
    return float(_numbers(values).notna().mean())


def _date_fraction(column: pd.Series) -> float:
    values = _sample(column[~_missing_mask(column)])
    if values.empty:
        return 0.0
    if pd.api.types.is_datetime64_any_dtype(values):
        return 1.0
    text = values.astype(str)
    if not text.str.contains(r"\d[-/.:T ]\d|\d{4}|[A-Za-z]{3}", regex=True).mean() > 0.9:
        return 0.0
    parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    return float(parsed.notna().mean())


def _binary_label(column: pd.Series) -> np.ndarray | None:
    """1 / 0 / -1 (unknown) when the column holds exactly two values, else None. The positive class
    is 1, True, yes, anomaly, outlier... or, for other names, the rarer value."""
    missing = _missing_mask(column).to_numpy()
    text = _as_text(column).str.lower().to_numpy(dtype=object)
    present = text[~missing]
    numbers = _numbers(column[~missing])
    if numbers.notna().all() and len(present):
        keys = np.where(numbers.to_numpy() == np.round(numbers.to_numpy()), numbers.round().astype("int64").astype(str),
                        numbers.astype(str))
        text = text.copy()
        text[~missing] = keys
        present = text[~missing]
    values, counts = np.unique(present.astype(str), return_counts=True)
    if len(values) != 2:
        return None
    positive = [v for v in values if v in POSITIVE]
    anomaly = positive[0] if len(positive) == 1 else values[int(np.argmin(counts))]
    label = np.where(text == anomaly, 1, 0)
    label[missing] = -1
    return label.astype(np.int8)


def _is_counter(numbers: pd.Series) -> bool:
    """Integers going up by the same step from one row to the next (a row number, a reading counter)."""
    values = numbers.dropna().to_numpy()
    if len(values) < MIN_ROWS or not np.all(values == np.round(values)):
        return False
    steps = np.diff(values)
    if not len(steps):
        return False
    step = np.median(steps)
    return step > 0 and float(np.mean(steps == step)) >= 0.95


def _numeric_role(name: str, numbers: pd.Series, n: int) -> tuple[str, str]:
    present = numbers.dropna()
    distinct = present.nunique()
    if distinct <= 1:
        return "dropped", "constant: the same value in every row"
    integers = bool(np.all(present.to_numpy() == np.round(present.to_numpy())))
    if integers and _is_counter(numbers):
        return "dropped", "a row counter (goes up by one from row to row), not a measurement"
    if ID_NAME.search(name):
        if distinct >= 0.9 * len(present):
            return "dropped", "an id (a different value in nearly every row)"
        if integers and distinct <= MAX_CATEGORIES:
            return "categorical", f"an id with {distinct} values: one-hot encoded"
    return "feature", "numeric"


def _text_role(name: str, column: pd.Series, n: int) -> tuple[str, str]:
    present = _as_text(column[~_missing_mask(column)])
    distinct = present.nunique()
    if distinct <= 1:
        return "dropped", "constant: the same value in every row"
    if distinct <= MAX_CATEGORIES:
        return "categorical", f"text with {distinct} values: one-hot encoded"
    if distinct >= 0.9 * len(present):
        kind = "an id" if ID_NAME.search(name) else "free text or an id"
        return "dropped", f"{kind} (a different value in nearly every row)"
    return "dropped", f"text with {distinct:,} different values (at most {MAX_CATEGORIES} are one-hot encoded)"


def _bad_cells(column: pd.Series, name: str) -> None:
    """Text (or infinite numbers) in a mostly numeric column: an error naming the cells."""
    numbers = _numbers(column)
    bad = (numbers.isna() & ~_missing_mask(column)).to_numpy()
    if bad.any():
        cells = column[bad]
        raise InputError(f"Column {name!r} is numeric but has text in {bad.sum():,} cell(s) "
                         f"({short_list([repr(str(v)) for v in cells], 3)} on line(s) "
                         f"{short_list([int(i) + 2 for i in cells.index], 3)}). Fix those cells, or empty them to "
                         "have them filled with the column's median, and upload again.")
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        lines = short_list([int(i) + 2 for i in column.index[infinite]], 3)
        raise InputError(f"Column {name!r} has {infinite.sum():,} infinite value(s) (line(s) {lines}). Replace them "
                         "with finite numbers, or empty those cells to have them filled with the median.")


def detect_roles(frame: pd.DataFrame, label_column: str | None = None) -> tuple[list[ColumnRole], np.ndarray | None]:
    """The role of every column (see the module docstring) and the label vector, if any.

    `label_column`: None or "" to detect one by name, "none" for no label, or a column name
    (which must exist and hold two values)."""
    requested = (label_column or "").strip()
    if requested and requested.lower() != "none" and requested not in frame.columns:
        raise InputError(f"Label column {requested!r} is not in the table; its columns are "
                         f"{short_list(frame.columns)}. Pick one of those, or leave it empty to detect it.")
    roles: list[ColumnRole] = []
    label: np.ndarray | None = None
    n = len(frame)
    for name in frame.columns:
        column = frame[name]
        missing = int(_missing_mask(column).sum())
        if label is None and (name == requested or (not requested and LABEL_NAME.match(name))):
            label = _binary_label(column)
            if label is not None:
                unknown = int((label < 0).sum())
                roles.append(ColumnRole(name, "label", "ground truth: kept out of the features" +
                                        (f" ({unknown} rows without a label are left out of the metrics)" if unknown else ""),
                                        missing))
                continue
            if name == requested:
                values = short_list(_as_text(column.dropna()).unique(), 4)
                raise InputError(f"Label column {name!r} must hold two values (e.g. 0 and 1, or normal and anomaly); "
                                 f"it holds {values}. Choose another column or none.")
        if missing == n:
            roles.append(ColumnRole(name, "dropped", "empty", missing))
            continue
        if pd.api.types.is_datetime64_any_dtype(column) or (_numeric_fraction(column) < 0.9 and _date_fraction(column) >= 0.9):
            roles.append(ColumnRole(name, "dropped", "timestamps: when a row happened is not one of its measurements "
                                                     "(to find unusual moments in a series, use the forecasting tab)",
                                    missing))
            continue
        if _numeric_fraction(column) >= 0.9:
            _bad_cells(column, name)
            role, reason = _numeric_role(name, _numbers(column), n)
        else:
            role, reason = _text_role(name, column, n)
        if role != "dropped" and missing > MAX_MISSING_FRACTION * n:
            role, reason = "dropped", f"{missing:,} of {n:,} cells are empty (more than half)"
        roles.append(ColumnRole(name, role, reason, missing))
    return roles, label


def _one_hot(column: pd.Series, name: str) -> tuple[list[np.ndarray], list[str]]:
    numbers = _numbers(column) if pd.api.types.is_numeric_dtype(column) else None
    text = (numbers.map(lambda v: "" if pd.isna(v) else (str(int(v)) if v == int(v) else str(v)))
            if numbers is not None else _as_text(column).fillna(""))
    missing = _missing_mask(column).to_numpy()
    levels = sorted(set(text[~missing]), key=str)
    return [((text.to_numpy() == level) & ~missing).astype(float) for level in levels], [f"{name}={lv}" for lv in levels]


def scale(values: np.ndarray, method: str = "robust") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scaled, center, scale). robust: median and interquartile range; standard: mean and standard
    deviation. A zero spread falls back to the standard deviation, then to 1."""
    if method not in SCALINGS:
        raise InputError(f"Unknown scaling {method!r}; choose one of {', '.join(SCALINGS)}.")
    if method == "robust":
        center = np.median(values, axis=0)
        q75, q25 = np.percentile(values, [75, 25], axis=0)
        spread = q75 - q25
    else:
        center = values.mean(axis=0)
        spread = values.std(axis=0)
    std = values.std(axis=0)
    spread = np.where(spread > 0, spread, np.where(std > 0, std, 1.0))
    return (values - center) / spread, center, spread


def prepare(frame: pd.DataFrame, label_column: str | None = None, scaling: str = "robust") -> Prepared:
    """The feature matrix of a table (roles, imputation, one-hot encoding, scaling; module docstring)."""
    if scaling not in SCALINGS:
        raise InputError(f"Unknown scaling {scaling!r}; choose one of {', '.join(SCALINGS)}.")
    bounds = limits()
    if len(frame) > bounds.max_rows or frame.shape[1] > bounds.max_columns:
        raise InputError(f"The table has {len(frame):,} rows and {frame.shape[1]:,} columns; this demo reads up to "
                         f"{bounds.max_rows:,} rows and {bounds.max_columns} columns. {bounds.fewer_rows}")
    if len(frame) < MIN_ROWS:
        raise InputError(f"Anomaly detection compares rows with each other, so it needs at least {MIN_ROWS} rows; "
                         f"this table has {len(frame)}. Upload more rows.")
    roles, label = detect_roles(frame, label_column)
    blocks: list[np.ndarray] = []
    names: list[str] = []
    sources: list[str] = []
    notes: list[str] = []
    for role in roles:
        column = frame[role.name]
        if role.role == "feature":
            numbers = _numbers(column).to_numpy(float)
            if role.missing:
                numbers = np.where(np.isnan(numbers), np.nanmedian(numbers), numbers)
            blocks.append(numbers)
            names.append(role.name)
            sources.append(role.name)
        elif role.role == "categorical":
            encoded, encoded_names = _one_hot(column, role.name)
            blocks += encoded
            names += encoded_names
            sources += [role.name] * len(encoded)
    if not any(r.role == "feature" for r in roles):
        others = "; ".join(f"{r.name}: {r.role}" + (f" ({r.reason})" if r.role == "dropped" else "") for r in roles)
        raise InputError("The table has no numeric column to check (" + short_list([others], 1, 400) + "). Anomaly "
                         "detection needs at least one column of measurements, such as amounts, sensor readings or "
                         "counts.")
    if len(names) > MAX_FEATURES:
        raise InputError(f"The table gives {len(names):,} features after one-hot encoding its text columns; this demo "
                         f"uses up to {MAX_FEATURES}. Drop some columns and upload again.")
    values = np.column_stack(blocks)
    scaled, _, _ = scale(values, scaling)
    imputed = {r.name: r.missing for r in roles if r.role == "feature" and r.missing}
    if imputed:
        notes.append("filled " + ", ".join(f"{count:,} empty cell(s) of {name}" for name, count in imputed.items())
                     + " with the column's median")
    for role in roles:
        if role.role == "dropped":
            notes.append(f"dropped {role.name}: {role.reason}")
        elif role.role == "categorical":
            notes.append(f"{role.name}: {role.reason}")
        elif role.role == "label":
            notes.append(f"label column {role.name}: {role.reason}")
    return Prepared(X=scaled, values=values, feature_names=names, feature_columns=sources,
                    rows=frame.index.to_numpy(dtype=np.int64), label=label,
                    label_column=next((r.name for r in roles if r.role == "label"), None), columns=roles,
                    scaling=scaling, notes=notes)
