"""The quarantine file: rejected rows as read, with their line number and reason.

It is written batch by batch while the file streams, under a temporary name, and takes
its final name only when the import has read the whole file; an import that fails
(Ctrl-C, a database error, a missing secret) removes it. Each import gets its own file,
`<stem>.<YYYYmmdd-HHMMSS>.rejected.csv` (with `-2`, `-3`… if that name is taken), so the
history of imports can offer each one's rejected rows later.

Rows are in line order. Duplicates found across batches are only known at the end of the
file; their rows are read again and merged into place.
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
import os
from pathlib import Path

import polars as pl

from dashboard.core import config
from dashboard.ingest.read import LINE
BOM = "\ufeff".encode()


def quarantine_path(source_path: Path, quarantine_dir: Path | None,
                    started: dt.datetime | None = None) -> Path:
    """`<stem>.<YYYYmmdd-HHMMSS>.rejected.csv` in QUARANTINE_DIR (default: the setting
    DASHBOARD_QUARANTINE_DIR, the folder the Données page serves rejected rows from)."""
    folder = Path(quarantine_dir) if quarantine_dir else config.quarantine_dir()
    stamp = (started or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")
    return (folder / f"{Path(source_path).stem}.{stamp}.rejected.csv").absolute()


class QuarantineWriter:
    """Rejected rows of one import, appended batch by batch.

    COLUMNS are the file's columns as read; those named in BLANK (the caller id and the
    columns a mapping makes it from) are left empty: raw identifiers never leave the
    importer. The file is UTF-8 with a byte-order mark, so spreadsheets read the accents,
    and uses the delimiter of the file it came from.
    """

    def __init__(self, target: Path, columns: list[str], delimiter: str | None,
                 blank: set[str] = frozenset()) -> None:
        self.target = target
        self.delimiter = delimiter or ","
        # A re-imported quarantine file has line and reason columns of its own: replaced.
        self.original = [c for c in columns if c.lower() not in ("line", "reason")]
        self.hidden = {c.lower() for c in blank} | {"caller_id"}
        tag = f".{os.getpid()}.partial"
        self._main = target.with_name(target.name + tag)
        self._late = target.with_name(target.name + ".late" + tag)
        self._files: dict[Path, object] = {}
        self._finished: Path | None = None
        self.rows = 0

    def _out(self, raw: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
        picked = (raw.join(rejected.select(pl.col("line").alias(LINE), "reason"), on=LINE,
                           how="inner")
                  .sort(LINE))
        out = picked.select(
            pl.col(LINE).alias("line"), pl.col("reason"),
            *[(pl.lit(None, pl.String) if c.lower() in self.hidden else pl.col(c)).alias(c)
              for c in self.original],
        )
        # Polars quotes empty strings to tell them from nulls; the file is plainer without.
        return out.with_columns(
            pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
            for c in self.original)

    def _append(self, path: Path, out: pl.DataFrame) -> None:
        fh = self._files.get(path)
        first = fh is None
        if first:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = path.open("wb")
            fh.write(BOM)
            self._files[path] = fh
        out.write_csv(fh, separator=self.delimiter, include_header=first)

    def write(self, raw: pl.DataFrame, rejected: pl.DataFrame, late: bool = False) -> None:
        """Append the rows of RAW (a batch as read) whose line is in REJECTED (line, reason).

        LATE rows (found after the whole file was read) may come before rows written
        already; they are merged into line order by finish().
        """
        if rejected.height == 0:
            return
        out = self._out(raw, rejected)
        self._append(self._late if late else self._main, out)
        self.rows += out.height

    def finish(self) -> Path | None:
        """Close the file and give it its final name; None when no row was rejected."""
        self._close()
        if not self._main.exists() and not self._late.exists():
            return None
        if self._late.exists():
            self._merge()
        target = self._reserve()
        os.replace(self._main, target)
        self._finished = target
        return target

    def abort(self) -> None:
        """Close and remove what was written (the import loaded nothing)."""
        self._close()
        for path in (self._main, self._late, self._finished):
            if path is not None:
                path.unlink(missing_ok=True)

    def _close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()

    def _rows(self, path: Path):
        if not path.exists():
            return
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=self.delimiter)
            next(reader, None)  # header
            for row in reader:
                yield int(row[0]), row

    def _merge(self) -> None:
        merged = self._main.with_name(self._main.name + ".merged")
        header = ["line", "reason", *self.original]
        with merged.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out, delimiter=self.delimiter, lineterminator="\n")
            writer.writerow(header)
            for _, row in heapq.merge(self._rows(self._main), self._rows(self._late),
                                      key=lambda pair: pair[0]):
                writer.writerow(row)
        os.replace(merged, self._main)
        self._late.unlink()

    def _reserve(self) -> Path:
        """The first free name among TARGET, TARGET-2, … (created empty, exclusively)."""
        stem = self.target.name[: -len(".rejected.csv")]
        n = 1
        while True:
            name = f"{stem}.rejected.csv" if n == 1 else f"{stem}-{n}.rejected.csv"
            path = self.target.with_name(name)
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                return path
            except FileExistsError:
                n += 1
