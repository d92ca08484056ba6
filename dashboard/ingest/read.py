"""Read an import file (CSV or Parquet) as batches of text columns, in bounded memory.

Every value is kept as text exactly as read (Parquet values are rendered as ISO text), so
validation sees one representation and the quarantine file can give the rows back as
they were. Two bookkeeping columns are added: `__line`, the 1-based line of the record in
the file (header = line 1, first data row = line 2; a Parquet row i counts as line i + 2,
as the same rows written to CSV would), and `__read_error`, a reason for a record that
cannot be split into the header's columns.

How a CSV is streamed: the file is read in blocks of BLOCK_BYTES, each cut after the last
line end that is outside quotes (an even number of `"` before it). A block is parsed by
Polars' CSV reader (fast, multi-threaded); the line where each record starts is the
block's first line plus the line ends inside the previous records' quoted values. A block
Polars cannot take exactly as Python's csv module would — a record with too many fields,
a blank line, a stray quote, old Mac line ends — is parsed by the csv module instead, so
the rules never depend on which parser ran. A file whose quotes never balance (a literal
`"` inside a field) is read by the csv module from there on. Memory is bounded by the
block size and the batch size, whatever the file's size.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

LINE = "__line"
READ_ERROR = "__read_error"
PARQUET_MAGIC = b"PAR1"
ENCODINGS = ("utf-8", "cp1252")
# A block of the file parsed at once, and the most a block may grow to while looking for
# the end of a quoted value before the csv module takes over.
BLOCK_BYTES = 4 << 20
MAX_CARRY_BYTES = 64 << 20
# Rows handed to validation at once (the batch of the import).
BATCH_ROWS = 100_000
# A line holding only "": one empty field, which the csv module skips as a blank line.
_EMPTY_QUOTED_LINE = re.compile(rb'(?:^|\n)""\r?(?:\n|$)')
# The delimiters a header line is tested with, most expected first.
DELIMITERS = (",", ";", "\t")


class ReadError(Exception):
    """The file cannot be read as a whole; the message is one line."""


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


def _codec(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        name = encoding
    if name not in ("utf-8", "cp1252"):
        raise ReadError(f"unsupported encoding {encoding!r} (use utf-8 or cp1252)")
    return name


def _column_names(header: list[str]) -> list[str]:
    """Frame names for the header: unnamed columns become "(column N)"."""
    return [name or f"(column {i + 1})" for i, name in enumerate(header)]


def is_unnamed(name: str) -> bool:
    """True for the stand-in name of a column the header leaves unnamed."""
    return name.startswith("(column ") and name.endswith(")")


def _check_header(path: Path, header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        key = name.lower()
        if key and key in seen:
            raise ReadError(f"{path.name}: column {name!r} appears twice in the header")
        seen.add(key)
    if not any(header):
        raise ReadError(f"{path.name} has no header row")


class TableReader:
    """An open import file: its header, and its records as batches of text columns."""

    path: Path
    format: str
    columns: list[str]  # frame column names, in header order
    delimiter: str | None = None
    size: int = 0  # bytes

    def batches(self, batch_rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
        """Frames of at most BATCH_ROWS records: the columns, LINE and READ_ERROR."""
        raise NotImplementedError

    @property
    def position(self) -> int:
        """Bytes of the file consumed so far (for progress)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""

    def __enter__(self) -> TableReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_table(path: Path | str, encoding: str = "utf-8",
               delimiter: str | None = None) -> TableReader:
    """Open PATH (CSV or Parquet, told apart by content) and read its header."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise ReadError(f"cannot open {path}: {exc.strerror or exc}") from exc
    if head.startswith(PARQUET_MAGIC):
        return _ParquetReader(path)
    if b"\x00" in head:
        raise ReadError(f"{path.name} is neither a CSV nor a Parquet file (binary content)")
    return _CsvReader(path, encoding, delimiter)


def _empty(columns: list[str]) -> pl.DataFrame:
    data = {name: pl.Series(name, [], dtype=pl.String) for name in columns}
    data[LINE] = pl.Series(LINE, [], dtype=pl.Int64)
    data[READ_ERROR] = pl.Series(READ_ERROR, [], dtype=pl.String)
    return pl.DataFrame(data)


# -- CSV -------------------------------------------------------------------------------------

class _Chain(io.RawIOBase):
    """Bytes already read, then the rest of an open binary file."""

    def __init__(self, first: bytes, rest) -> None:
        self._first = memoryview(first)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if len(self._first):
            n = min(len(buffer), len(self._first))
            buffer[:n] = self._first[:n]
            self._first = self._first[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _record_end(buf: bytes) -> int:
    """Index just after the last line end of BUF outside quotes, or -1."""
    pos = buf.rfind(b"\n")
    if pos < 0:
        return -1
    quotes = buf.count(b'"', 0, pos)
    while quotes % 2:
        prev = buf.rfind(b"\n", 0, pos)
        if prev < 0:
            return -1
        quotes -= buf.count(b'"', prev, pos)
        pos = prev
    return pos + 1


class _CsvReader(TableReader):
    format = "csv"

    def __init__(self, path: Path, encoding: str, delimiter: str | None) -> None:
        self.path = path
        self.encoding = encoding
        self._codec = _codec(encoding)
        self._fh = path.open("rb")
        self.size = path.stat().st_size
        self._carry = b""
        try:
            self._read_header(delimiter)
        except BaseException:
            self._fh.close()
            raise

    def close(self) -> None:
        self._fh.close()

    @property
    def position(self) -> int:
        try:
            return self._fh.tell() - len(self._carry)
        except (OSError, ValueError):
            return self.size

    def _decode(self, data: bytes) -> str:
        try:
            return data.decode(self._codec)
        except UnicodeDecodeError as exc:
            hint = " (try --encoding cp1252)" if self._codec == "utf-8" else ""
            raise ReadError(
                f"{self.path.name} is not valid {self.encoding}: byte "
                f"0x{exc.object[exc.start]:02x} cannot be decoded{hint}"
            ) from None

    def _read_header(self, delimiter: str | None) -> None:
        fh = self._fh
        start = fh.read(3)
        if start == codecs.BOM_UTF8:
            if self._codec == "cp1252":
                raise ReadError(f"{self.path.name} starts with a UTF-8 byte-order mark: "
                                "read it with --encoding utf-8")
        else:
            fh.seek(0)
        header_lines = 0
        while True:
            raw = fh.readline()
            if not raw:
                raise ReadError(f"{self.path.name} has no header row (the file is empty)")
            header_lines += 1
            text = self._decode(raw)
            if text.strip():
                break
        text = text.rstrip("\r\n")
        self.delimiter = delimiter or sniff_delimiter(text)
        try:
            header = [h.strip() for h in next(csv.reader([text], delimiter=self.delimiter))]
        except csv.Error as exc:
            raise ReadError(f"{self.path.name} is not a readable CSV file: {exc}") from None
        _check_header(self.path, header)
        self.header = header
        self.columns = _column_names(header)
        self._first_line = header_lines + 1

    def batches(self, batch_rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
        line = self._first_line
        fh = self._fh
        while True:
            data = fh.read(BLOCK_BYTES)
            buf = self._carry + data if self._carry else data
            if not data:
                block, self._carry = buf, b""
            else:
                cut = _record_end(buf)
                if cut < 0:
                    if len(buf) > MAX_CARRY_BYTES:
                        # Quotes that never balance: the csv module reads the rest.
                        self._carry = b""
                        yield from self._python_stream(_Chain(buf, fh), line, batch_rows)
                        return
                    self._carry = buf
                    continue
                block, self._carry = buf[:cut], buf[cut:]
            if block:
                frame, lines = self._parse_block(block, line)
                line += lines
                yield from frame.iter_slices(batch_rows)
            if not data:
                return

    def _parse_block(self, block: bytes, first_line: int) -> tuple[pl.DataFrame, int]:
        """The records of BLOCK, and the lines it holds (as the csv module counts them)."""
        text = self._decode(block)
        data = block if self._codec == "utf-8" else text.encode("utf-8")
        newlines = data.count(b"\n")
        cr = data.count(b"\r")
        lone_cr = cr - data.count(b"\r\n") if cr else 0
        frame = None if lone_cr else self._polars_block(data, first_line, newlines)
        # A lone CR ends a line too, for the csv module.
        lines = newlines + lone_cr
        if frame is not None:
            return frame, lines
        parts = list(self._python_records(io.StringIO(text, newline=""), first_line, None))
        return (pl.concat(parts, how="vertical") if parts else _empty(self.columns)), lines

    def _polars_block(self, data: bytes, first_line: int,
                      newlines: int) -> pl.DataFrame | None:
        """Parse DATA with Polars when it gives what the csv module would; else None."""
        quotes = data.count(b'"')
        if (b"\n\n" in data or b"\n\r\n" in data or data.startswith((b"\n", b"\r"))
                or quotes % 2 or (quotes and _EMPTY_QUOTED_LINE.search(data))):
            # Blank lines (and `""` lines, which the csv module also skips), a quote left
            # open at the end of the file: the csv module's way.
            return None
        names = [f"c{i}" for i in range(len(self.columns))]
        try:
            frame = pl.read_csv(
                io.BytesIO(data), has_header=False, schema=dict.fromkeys(names, pl.String),
                separator=self.delimiter, quote_char='"', infer_schema=False,
                truncate_ragged_lines=False, raise_if_empty=False, try_parse_dates=False,
            )
        except Exception:  # ragged rows, stray quotes: the csv module decides
            return None
        expected = newlines + (0 if data.endswith(b"\n") else 1)
        if quotes:
            # A record spans one line plus the line ends inside its quoted values.
            spans = pl.sum_horizontal(
                [pl.col(n).str.count_matches("\n", literal=True).fill_null(0) for n in names]
            ) + 1
            lines = frame.select(spans.cast(pl.Int64).alias("span")).get_column("span")
            starts = lines.cum_sum() - lines + first_line
            total = int(lines.sum())
        else:
            starts = pl.int_range(first_line, first_line + frame.height, eager=True,
                                  dtype=pl.Int64)
            total = frame.height
        if total != expected:
            return None
        frame = frame.rename(dict(zip(names, self.columns)))
        return frame.with_columns(
            starts.alias(LINE), pl.lit(None, pl.String).alias(READ_ERROR)
        )

    def _python_stream(self, raw, first_line: int, batch_rows: int) -> Iterator[pl.DataFrame]:
        text = io.TextIOWrapper(io.BufferedReader(raw), encoding=self._codec,
                                errors="strict", newline="")
        try:
            yield from self._python_records(text, first_line, batch_rows)
        except UnicodeDecodeError as exc:
            hint = " (try --encoding cp1252)" if self._codec == "utf-8" else ""
            raise ReadError(
                f"{self.path.name} is not valid {self.encoding}: byte "
                f"0x{exc.object[exc.start]:02x} cannot be decoded{hint}"
            ) from None

    def _python_records(self, text, first_line: int,
                        batch_rows: int | None) -> Iterator[pl.DataFrame]:
        """Records read by the csv module from TEXT, whose first line is FIRST_LINE."""
        reader = csv.reader(text, delimiter=self.delimiter, strict=True)
        ncol = len(self.columns)
        rows: list[list[str]] = []
        lines: list[int] = []
        errors: list[str | None] = []
        last_line = first_line - 1
        try:
            for record in reader:
                # A record starts on the line after the previous one ended (quoted fields
                # may span lines); reader.line_num counts the lines read so far.
                start = last_line + 1
                last_line = first_line - 1 + reader.line_num
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
                rows.append(record)
                lines.append(start)
                if batch_rows and len(rows) >= batch_rows:
                    yield self._pack(rows, lines, errors)
                    rows, lines, errors = [], [], []
        except csv.Error as exc:
            raise ReadError(f"{self.path.name} is not a readable CSV file "
                            f"(line {last_line + 1}): {exc}") from None
        if rows:
            yield self._pack(rows, lines, errors)

    def _pack(self, rows, lines, errors) -> pl.DataFrame:
        cols = list(zip(*rows))
        data = {name: pl.Series(name, values, dtype=pl.String)
                for name, values in zip(self.columns, cols)}
        data[LINE] = pl.Series(LINE, lines, dtype=pl.Int64)
        data[READ_ERROR] = pl.Series(READ_ERROR, errors, dtype=pl.String)
        return pl.DataFrame(data)


# -- Parquet ---------------------------------------------------------------------------------

class _ParquetReader(TableReader):
    format = "parquet"

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self.size = path.stat().st_size
        try:
            self._file = pq.ParquetFile(path)
            names = list(self._file.schema_arrow.names)
        except Exception as exc:  # any failure of the Parquet reader means an unreadable file
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ReadError(f"{path.name} is not a readable Parquet file: {first}") from None
        header = [str(c).strip() for c in names]
        _check_header(path, header)
        self.header = header
        self.columns = _column_names(header)
        self._rows_total = max(self._file.metadata.num_rows, 1)
        self._rows_done = 0

    @property
    def position(self) -> int:
        return int(self.size * self._rows_done / self._rows_total)

    def close(self) -> None:
        self._file.close()

    def batches(self, batch_rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
        offset = 0
        try:
            for batch in self._file.iter_batches(batch_size=batch_rows):
                frame = pl.from_arrow(batch)
                frame = frame.rename(dict(zip(frame.columns, self.columns)))
                frame = frame.with_columns(
                    [_as_text(frame.get_column(c)).alias(c) for c in self.columns]
                )
                frame = frame.with_columns(
                    (pl.int_range(pl.len(), dtype=pl.Int64) + offset + 2).alias(LINE),
                    pl.lit(None, pl.String).alias(READ_ERROR),
                )
                offset += frame.height
                self._rows_done = offset
                yield frame
        except ReadError:
            raise
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ReadError(f"{self.path.name} is not a readable Parquet file: {first}") from None


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
    if dtype == pl.Null:
        return series.cast(pl.String)
    # Anything else (lists, structs, binary) is not a value of the import format.
    return pl.Series(series.name, [None if v is None else str(v) for v in series.to_list()],
                     dtype=pl.String)
