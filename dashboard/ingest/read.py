"""Read an import file (CSV or Parquet) into a frame of text columns, one row per record.

Every value is kept as text exactly as read (Parquet values are rendered as ISO text), so
validation sees one representation and the quarantine file can give the rows back as
they were. Two bookkeeping columns are added: `__line`, the 1-based line of the record in
the file (header = line 1, first data row = line 2; a Parquet row i counts as line i + 2,
as the same rows written to CSV would), and `__read_error`, a reason for a record that
cannot be split into the header's columns.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

LINE = "__line"
READ_ERROR = "__read_error"
PARQUET_MAGIC = b"PAR1"
ENCODINGS = ("utf-8", "cp1252")
# Rows are gathered in Python lists this many at a time, then packed into Arrow columns,
# so a large CSV never sits in memory as Python objects.
CHUNK_ROWS = 50_000
# The delimiters a header line is tested with, most expected first.
DELIMITERS = (",", ";", "\t")


class ReadError(Exception):
    """The file cannot be read as a whole; the message is one line."""


@dataclass
class RawTable:
    """A file read as text: columns named as in its header, plus LINE and READ_ERROR."""

    frame: pl.DataFrame
    columns: list[str]
    format: str  # "csv" | "parquet"
    delimiter: str | None = None
    warnings: list[str] = field(default_factory=list)


def read_table(path: Path | str, encoding: str = "utf-8") -> RawTable:
    """Read PATH (CSV or Parquet, told apart by content) as text columns."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise ReadError(f"cannot open {path}: {exc.strerror or exc}") from exc
    if head.startswith(PARQUET_MAGIC):
        return _read_parquet(path)
    if b"\x00" in head:
        raise ReadError(f"{path.name} is neither a CSV nor a Parquet file (binary content)")
    return _read_csv(path, encoding)


def _codec(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    if name not in ("utf-8", "cp1252"):
        raise ReadError(f"unsupported encoding {encoding!r} (use utf-8 or cp1252)")
    # utf-8-sig reads files with and without a byte-order mark alike.
    return "utf-8-sig" if name == "utf-8" else name


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a header line: the most frequent of , ; TAB outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path, encoding: str) -> RawTable:
    codec = _codec(encoding)
    with path.open("rb") as raw:
        if codec == "cp1252" and raw.read(3) == codecs.BOM_UTF8:
            raise ReadError(
                f"{path.name} starts with a UTF-8 byte-order mark: read it with --encoding utf-8"
            )
    text = path.open("r", encoding=codec, errors="strict", newline="")
    try:
        return _parse_csv(path, text, encoding)
    except UnicodeDecodeError as exc:
        hint = " (try --encoding cp1252)" if codec == "utf-8-sig" else ""
        raise ReadError(
            f"{path.name} is not valid {encoding}: byte 0x{exc.object[exc.start]:02x} "
            f"cannot be decoded{hint}"
        ) from None
    except csv.Error as exc:
        raise ReadError(f"{path.name} is not a readable CSV file: {exc}") from None
    finally:
        text.close()


def _parse_csv(path: Path, text: io.TextIOBase, encoding: str) -> RawTable:
    first = text.readline()
    header_lines = 1
    while first and not first.strip():
        first = text.readline()
        header_lines += 1
    if not first.strip():
        raise ReadError(f"{path.name} has no header row (the file is empty)")
    delimiter = sniff_delimiter(first)
    header_reader = csv.reader([first], delimiter=delimiter)
    header = [h.strip() for h in next(header_reader)]
    _check_header(path, header)
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    ncol = len(header)
    chunks: list[pl.DataFrame] = []
    cols: list[list[str | None]] = [[] for _ in range(ncol)]
    lines: list[int] = []
    errors: list[str | None] = []
    last_line = header_lines
    for record in reader:
        # A record starts on the line after the previous one ended (quoted fields may
        # span lines); reader.line_num counts the lines read since the header.
        start = last_line + 1
        last_line = header_lines + reader.line_num
        if not record or (len(record) == 1 and record[0] == ""):
            continue  # a blank line is not a record
        extra = len(record) - ncol
        if extra > 0:
            errors.append(f"too many fields: {len(record)} fields, header has {ncol}")
            record = record[:ncol]
        else:
            errors.append(None)
            # Spreadsheets drop trailing empty fields; a short record is padded.
            record = record + [""] * (-extra)
        for i, value in enumerate(record):
            cols[i].append(value)
        lines.append(start)
        if len(lines) >= CHUNK_ROWS:
            chunks.append(_pack(header, cols, lines, errors))
            cols = [[] for _ in range(ncol)]
            lines, errors = [], []
    chunks.append(_pack(header, cols, lines, errors))
    frame = pl.concat(chunks, how="vertical")
    return RawTable(frame=frame, columns=header, format="csv", delimiter=delimiter)


def _pack(header, cols, lines, errors) -> pl.DataFrame:
    data = {name: pl.Series(name, values, dtype=pl.String) for name, values in zip(header, cols)}
    data[LINE] = pl.Series(LINE, lines, dtype=pl.Int64)
    data[READ_ERROR] = pl.Series(READ_ERROR, errors, dtype=pl.String)
    return pl.DataFrame(data)


def _check_header(path: Path, header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        key = name.lower()
        if key and key in seen:
            raise ReadError(f"{path.name}: column {name!r} appears twice in the header")
        seen.add(key)
    if not any(header):
        raise ReadError(f"{path.name} has no header row")


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # any failure of the Parquet reader means an unreadable file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ReadError(f"{path.name} is not a readable Parquet file: {first}") from None
    header = [str(c).strip() for c in frame.columns]
    _check_header(path, header)
    frame = frame.rename(dict(zip(frame.columns, header)))
    frame = frame.with_columns([_as_text(frame.get_column(c)).alias(c) for c in header])
    frame = frame.with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias(LINE),
        pl.lit(None, pl.String).alias(READ_ERROR),
    )
    return RawTable(frame=frame, columns=header, format="parquet")


def _as_text(series: pl.Series) -> pl.Series:
    """A Parquet column rendered as the text a CSV export would hold."""
    dtype = series.dtype
    if dtype == pl.String:
        return series
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            utc = series.dt.convert_time_zone("UTC")
            return utc.dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")
        return series.dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
    if dtype == pl.Date:
        return series.dt.to_string("%Y-%m-%d")
    if dtype == pl.Boolean:
        return series.cast(pl.String).str.to_lowercase()
    if dtype.is_numeric():
        return series.cast(pl.String)
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return series.cast(pl.String)
    # Anything else (lists, structs, binary) is not a value of the import format.
    return pl.Series(series.name, [None if v is None else str(v) for v in series.to_list()],
                     dtype=pl.String)

