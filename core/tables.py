"""Reading an uploaded table (CSV or .xlsx), shared by every tab that takes one.

`read_table(path, limits)` refuses what is too large before parsing it: the file's size, then
rows (newlines) and header columns of a CSV, or the unpacked size and declared dimensions of a
workbook; the parse itself is bounded by `nrows` in case a header lies. CSVs may use any common
delimiter; a European spreadsheet's CSV (";" between fields, "1,5" for one and a half) is read
with a decimal comma. Every refusal is an InputError that says what to upload instead, in the
words of the task (`TableLimits.expected`, `fewer_rows`, ...).
"""
from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from core.errors import InputError

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
SNIFF_BYTES = 65_536
DECIMAL_COMMA = re.compile(r"(?:^|;)\s*-?\d+,\d+\s*(?=;|$)", re.MULTILINE)
DECIMAL_POINT = re.compile(r"(?:^|;)\s*-?\d+\.\d+\s*(?=;|$)", re.MULTILINE)
NOT_TEXT = (b"\x89PNG", b"PK\x03\x04", b"%PDF", b"\xff\xd8")


@dataclass(frozen=True)
class TableLimits:
    """What one tab accepts, and how its messages say what to do instead."""

    max_rows: int
    max_columns: int
    min_rows: int = 2
    max_file_bytes: int = 32 * 2**20
    max_workbook_bytes: int = 24 * 2**20  # unpacked .xlsx: about 50,000 rows x 10 columns, parsed in ~5 s
    expected: str = "a header row and one row per record"
    fewer_rows: str = "Upload a sample of the rows and try again."
    fewer_columns: str = "Keep the columns you need and upload again."


def short_list(items: Iterable[object], limit: int = 5, width: int = 40) -> str:
    """'a, b, c, d, e and 9,995 more': at most `limit` items, each cut to `width` characters."""
    items = list(items)
    shown = [str(i) if len(str(i)) <= width else str(i)[: width - 3] + "..." for i in items[:limit]]
    rest = len(items) - len(shown)
    return ", ".join(shown) + (f" and {rest:,} more" if rest > 0 else "")


def read_table(path: str | Path, limits: TableLimits) -> pd.DataFrame:
    """Read a CSV or the first sheet of an .xlsx/.xlsm within `limits`. Empty rows and columns are
    dropped; the index keeps the file's row positions (0 = first data row); column names are
    stripped and made unique."""
    path = Path(path)
    _check_file(path, limits)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputError(f"{path.name} is a legacy .xls workbook, which this demo cannot read. Open it in a "
                         "spreadsheet program, save it as .xlsx or CSV, and upload that.")
    frame = _read_excel(path, limits) if suffix in EXCEL_SUFFIXES else _read_csv(path, limits)
    return _tidy(frame, path.name, limits)


def _check_file(path: Path, limits: TableLimits) -> None:
    if not path.exists():
        raise InputError("The uploaded file could not be found; please upload it again.")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"The file is empty. Upload a CSV or Excel file with {limits.expected}.")
    if size > limits.max_file_bytes:
        raise InputError(f"{path.name} is {size / 2**20:,.0f} MB; this demo reads files up to "
                         f"{limits.max_file_bytes / 2**20:.0f} MB. {limits.fewer_columns}")


def _too_many_rows(name: str, rows: int | None, limits: TableLimits) -> InputError:
    count = f"{rows:,} rows" if rows is not None else f"more than {limits.max_rows:,} rows"
    return InputError(f"{name} has {count}; this demo reads up to {limits.max_rows:,}. {limits.fewer_rows}")


def _too_many_columns(name: str, columns: int, limits: TableLimits) -> InputError:
    return InputError(f"{name} has {columns:,} columns; this demo reads up to {limits.max_columns}. "
                      f"{limits.fewer_columns}")


def _check_csv_shape(data: bytes, name: str, limits: TableLimits) -> None:
    """Refuse too many rows (newlines) or header columns before pandas parses anything."""
    body = data.rstrip()
    rows = body.count(b"\n")  # lines after the header line
    if rows > limits.max_rows:
        raise _too_many_rows(name, rows, limits)
    header = body.lstrip().split(b"\n", 1)[0].decode("utf-8", errors="replace")
    columns = max(len(next(csv.reader([header], delimiter=sep), [])) for sep in ",;\t|")
    if columns > limits.max_columns:
        raise _too_many_columns(name, columns, limits)


def _cut_in_a_character(chunk: bytes) -> bool:
    """True when `chunk` is UTF-8 except for a character cut at its end."""
    try:
        chunk[:-3].decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _read_csv(path: Path, limits: TableLimits) -> pd.DataFrame:
    data = path.read_bytes()
    head = data[:4096]
    not_utf8 = InputError(f"{path.name} is not UTF-8 text. Save it as a UTF-8 CSV and try again.")
    if b"\x00" in head or head.startswith(NOT_TEXT):
        raise InputError(f"{path.name} is not a text CSV file. Upload a CSV (or .xlsx) with {limits.expected}.")
    _check_csv_shape(data, path.name, limits)
    try:
        sample = data[:SNIFF_BYTES].decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(data) <= SNIFF_BYTES or not _cut_in_a_character(data[:SNIFF_BYTES]):
            raise not_utf8 from exc
        sample = data[:SNIFF_BYTES].decode("utf-8", errors="ignore")
    try:
        sep = csv.Sniffer().sniff("\n".join(sample.splitlines()[:20]), delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    # "1,5" with ";" between fields is a decimal comma (a European spreadsheet's CSV), not a thousands separator
    decimal = "," if sep == ";" and len(DECIMAL_COMMA.findall(sample)) > len(DECIMAL_POINT.findall(sample)) else "."
    try:
        return pd.read_csv(path, sep=sep, decimal=decimal, skipinitialspace=True, nrows=limits.max_rows + 1,
                           low_memory=False)
    except UnicodeDecodeError as exc:
        raise not_utf8 from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure is the user's file
        raise InputError(f"Could not parse {path.name} as CSV ({str(exc)[:200]}). Use one header row and one column "
                         "per field.") from exc


def _check_workbook_size(path: Path, limits: TableLimits) -> None:
    """Refuse a workbook whose members unpack to more than the limit (zip bombs too: zipfile stops
    reading a member at its declared size)."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path.name} is not a valid .xlsx workbook. Save it as .xlsx or CSV and try again.") from exc
    if unpacked > limits.max_workbook_bytes:
        raise InputError(f"{path.name} unpacks to {unpacked / 2**20:,.0f} MB; this demo reads workbooks up to "
                         f"{limits.max_workbook_bytes / 2**20:.0f} MB unpacked. Delete unused sheets, rows and "
                         "columns, or save the sheet as CSV, and upload again.")


def _check_sheet_dimensions(sheet, name: str, limits: TableLimits) -> None:
    """Refuse too many rows or columns from the sheet's declared <dimension> (read without loading
    cells). It can be missing or wrong: the parse is bounded again by nrows."""
    if sheet.max_row is not None and sheet.max_row - (sheet.min_row or 1) > limits.max_rows:
        raise _too_many_rows(name, sheet.max_row - (sheet.min_row or 1), limits)
    if sheet.max_column is not None and sheet.max_column - (sheet.min_column or 1) + 1 > limits.max_columns:
        raise _too_many_columns(name, sheet.max_column - (sheet.min_column or 1) + 1, limits)


def _read_excel(path: Path, limits: TableLimits) -> pd.DataFrame:
    _check_workbook_size(path, limits)
    try:
        with pd.ExcelFile(path, engine="openpyxl") as workbook:  # read-only openpyxl: cells load lazily
            sheets = workbook.book.worksheets
            if not sheets:
                raise InputError(f"{path.name} has no worksheet. Put the data on the first sheet and upload again.")
            _check_sheet_dimensions(sheets[0], path.name, limits)
            return workbook.parse(0, nrows=limits.max_rows + 1)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is the user's file
        raise InputError(f"Could not read {path.name} as an Excel workbook ({type(exc).__name__}). "
                         "Save it as .xlsx or CSV and try again.") from exc


def _tidy(frame: pd.DataFrame, name: str, limits: TableLimits) -> pd.DataFrame:
    """Drop empty rows and columns, check the bounds again on what was parsed, strip and dedupe names."""
    if len(frame) > limits.max_rows:  # the parser stopped at nrows: there is more
        raise _too_many_rows(name, None, limits)
    frame = frame.dropna(axis=0, how="all").dropna(axis=1, how="all")
    if frame.shape[1] > limits.max_columns:
        raise _too_many_columns(name, frame.shape[1], limits)
    if frame.empty or frame.shape[1] == 0:
        raise InputError(f"{name} has no data rows. It needs {limits.expected}, at least {limits.min_rows} rows.")
    names, seen = [], set()
    for column in frame.columns:
        base = str(column).strip() or "column"
        unique, k = base, 2
        while unique in seen:
            unique, k = f"{base}_{k}", k + 1
        seen.add(unique)
        names.append(unique)
    frame.columns = names
    return frame
