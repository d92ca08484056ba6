"""The files a table is downloaded as: CSV for tools, `.xlsx` for spreadsheets (no Streamlit).

- CSV: UTF-8 (a BOM for the pages, so spreadsheets read the accents), comma-separated,
  raw numbers (rates as fractions, `.` decimals), dates as on screen (29/03/2015).
- Excel: a real workbook written by xlsxwriter: French headers in a frozen first row,
  dates as dates, seconds and counts as numbers, rates as fractions shown as percentages.

Exports carry imported text (queue labels, act types, agents' names, raw rejected lines).
A spreadsheet runs a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return as
a formula (CSV injection), so every text cell of a CSV that starts so is prefixed with `'`
(OWASP's rule), unless it is a plain number such as `-3`, which a spreadsheet reads as a
number and never runs. The workbook stores text as text (write_string, and xlsxwriter's
string-to-formula, -number and -URL conversions off), so it needs no prefix. Numeric and
date columns are never touched.

Column kinds (KINDS) say how a number is shown; for metric columns they come from the
metric registry (the unit of dashboard.metrics.definitions.METRICS), so one definition
per metric holds; other columns get theirs from their Polars type unless told.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl
import xlsxwriter

from dashboard.charts.tables import DIMENSION_LABELS
from dashboard.metrics.definitions import METRICS_BY_KEY

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"

# Kind → Excel number format. Excel shows them in the reader's locale: "1 234", "87,3 %".
KINDS = {
    "text": None,
    "count": "#,##0",
    "seconds": "#,##0",
    "hours": "#,##0.0",
    "decimal": "#,##0.0",
    "rate": "0.0%",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
}
# The metric registry's units → kinds.
UNIT_KINDS = {"count": "count", "rate": "rate", "seconds": "seconds", "hours": "hours",
              "ratio": "decimal", "agents": "decimal"}
CSV_DATE = "%d/%m/%Y"
CSV_DATETIME = "%d/%m/%Y %H:%M"

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$"
_PLAIN_NUMBER_RE = re.compile(_PLAIN_NUMBER)
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
MAX_WIDTH = 50


@dataclass(frozen=True)
class Table:
    """A table to download: typed columns under their French headers, and their kinds
    (a column not in KINDS_BY_COLUMN gets the kind of its Polars type)."""

    frame: pl.DataFrame
    kinds_by_column: Mapping[str, str] = field(default_factory=dict)

    def kind(self, column: str) -> str:
        """The kind of COLUMN: as told, else from its type (date, count, decimal, text)."""
        if column in self.kinds_by_column:
            return self.kinds_by_column[column]
        dtype = self.frame.schema[column]
        if dtype == pl.Date:
            return "date"
        if isinstance(dtype, pl.Datetime):
            return "datetime"
        if dtype.is_integer():
            return "count"
        if dtype.is_float() or dtype.is_decimal():
            return "decimal"
        return "text"


def as_table(table: Table | pl.DataFrame) -> Table:
    """TABLE as a Table (a bare frame gets the kinds of its types)."""
    return table if isinstance(table, Table) else Table(table)


def metric_kind(key: str) -> str:
    """The kind of metric KEY, from its unit in the registry."""
    return UNIT_KINDS[METRICS_BY_KEY[key].unit]


def metric_table(frame: pl.DataFrame, by: Sequence[str], metrics: Sequence[str],
                 shown: pl.DataFrame) -> Table:
    """The typed twin of SHOWN (tables.display_table(FRAME, BY, METRICS, …)) for download.

    Group columns are SHOWN's (labels as the user may see them: names, pseudonyms), a day
    as a date; each metric is FRAME's raw value under its French label, with its kind.
    """
    columns: list[pl.Series] = []
    for dim in by:
        label = DIMENSION_LABELS[dim]
        if dim == "day":
            columns.append(frame[dim].cast(pl.String).str.to_date("%Y-%m-%d").alias(label))
        else:
            columns.append(shown[label])
    kinds = {}
    for key in metrics:
        metric = METRICS_BY_KEY[key]
        values = frame[key]
        if not values.dtype.is_numeric():  # an all-null column
            values = values.cast(pl.Float64)
        columns.append(values.alias(metric.label))
        kinds[metric.label] = metric_kind(key)
    return Table(pl.DataFrame(columns), kinds)


def neutralise(text: str) -> str:
    """TEXT made inert for a spreadsheet: `'` before a leading = + - @ tab or CR (OWASP),
    except a plain number ("-3")."""
    if text.startswith(DANGEROUS_START) and not _PLAIN_NUMBER_RE.match(text):
        return "'" + text
    return text


def _neutralised(column: str) -> pl.Expr:
    col = pl.col(column)
    risky = col.str.contains(r"^[=+\-@\t\r]") & ~col.str.contains(_PLAIN_NUMBER)
    return pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(column)


def csv_text(table: Table | pl.DataFrame, *, bom: bool = True) -> str:
    """TABLE as CSV: comma, raw numbers, dates as 29/03/2015, text cells neutralised;
    a leading BOM (BOM) so spreadsheets read the accents."""
    table = as_table(table)
    frame = table.frame
    text = [c for c, dtype in frame.schema.items()
            if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)]
    frame = frame.with_columns(pl.col(text).cast(pl.String)).with_columns(
        _neutralised(c) for c in text)
    body = frame.write_csv(date_format=CSV_DATE, datetime_format=CSV_DATETIME)
    return (BOM if bom else "") + body


def neutralise_csv(content: bytes) -> bytes:
    """Raw CSV bytes (UTF-8, any usual delimiter) with every cell neutralised, rewritten
    with the same delimiter, UTF-8 with a BOM."""
    header, rows, delimiter = read_csv(content)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    for row in [header, *rows] if header else rows:
        writer.writerow([neutralise(cell) for cell in row])
    return (BOM + out.getvalue()).encode("utf-8")


def read_csv(content: bytes) -> tuple[list[str], list[list[str]], str]:
    """Raw CSV bytes → (header, rows, delimiter), by the standard csv module."""
    text = content.decode("utf-8-sig", errors="replace")
    first = text.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows:
        return [], [], delimiter
    return rows[0], rows[1:], delimiter


def csv_lines_table(content: bytes, numbers: Sequence[str] = ("line",)) -> Table:
    """Raw CSV bytes as a Table of text cells (the rejected rows as read); the columns
    named in NUMBERS (the line number) are whole numbers where they parse."""
    header, rows, _ = read_csv(content)
    width = max([len(header), *(len(r) for r in rows)]) if header or rows else 0
    names = _unique([*header, *(f"colonne {i + 1}" for i in range(len(header), width))])
    columns: dict[str, list] = {name: [] for name in names}
    for row in rows:
        cells = row + [None] * (width - len(row))
        for name, cell in zip(names, cells):
            columns[name].append(cell)
    series = []
    for name, values in columns.items():
        if name in numbers and all(v is None or re.fullmatch(r"\d+", v) for v in values):
            series.append(pl.Series(name, [int(v) if v else None for v in values], pl.Int64))
        else:
            series.append(pl.Series(name, values, pl.String))
    return Table(pl.DataFrame(series))


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        name = name or "colonne"
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name} ({n + 1})")
    return out


def xlsx_bytes(table: Table | pl.DataFrame, sheet: str = "Données") -> bytes:
    """TABLE as an .xlsx workbook: French headers in a frozen first row with filters,
    numbers and dates typed and formatted by kind, text stored as text."""
    table = as_table(table)
    frame = table.frame
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {
        "in_memory": True,
        # Text stays text: never a formula, a number or a link.
        "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
        "remove_timezone": True,
    })
    worksheet = workbook.add_worksheet(_sheet_name(sheet))
    header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                  "bottom": 1})
    formats = {kind: workbook.add_format({"num_format": number_format})
               for kind, number_format in KINDS.items() if number_format}
    for col, name in enumerate(frame.columns):
        kind = table.kind(name)
        if kind not in KINDS:
            raise ValueError(f"unknown column kind {kind!r} for {name!r}")
        worksheet.write_string(0, col, name, header)
        cell_format = formats.get(kind)
        width = len(name)
        for row, value in enumerate(frame[name].to_list(), start=1):
            width = max(width, _write(worksheet, row, col, value, cell_format, kind))
        worksheet.set_column(col, col, min(width + 2, MAX_WIDTH))
    worksheet.freeze_panes(1, 0)
    if frame.width:
        worksheet.autofilter(0, 0, max(frame.height, 1), frame.width - 1)
    workbook.close()
    return buffer.getvalue()


def _write(worksheet, row: int, col: int, value, cell_format, kind: str) -> int:
    """Write one cell by its value's type; the width it needs (in characters)."""
    if value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
        return 0  # a missing value is an empty cell
    if isinstance(value, bool):
        worksheet.write_string(row, col, "oui" if value else "non")
        return 3
    if isinstance(value, (int, float)) and kind != "text":
        worksheet.write_number(row, col, value, cell_format)
        return 12 if kind == "datetime" else len(f"{value:,.1f}") + (2 if kind == "rate" else 0)
    if isinstance(value, (dt.date, dt.datetime)) and kind in ("date", "datetime"):
        worksheet.write_datetime(row, col, value, cell_format)
        return 16 if kind == "datetime" else 10
    text = value.isoformat() if isinstance(value, (dt.date, dt.time)) else str(value)
    worksheet.write_string(row, col, text)
    return max((len(line) for line in text.splitlines()), default=0)


def _sheet_name(name: str) -> str:
    """A valid worksheet name (31 characters, none of []:*?/\\)."""
    return (_SHEET_BAD.sub(" ", name).strip("'") or "Données")[:31]


def xlsx_name(file_name: str) -> str:
    """"bilan-sites.csv" → "bilan-sites.xlsx"."""
    stem = file_name[:-4] if file_name.lower().endswith(".csv") else file_name
    return f"{stem}.xlsx"
