"""The quarantine file: rejected rows as read, with their line number and reason."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dashboard.ingest.read import RawTable
from dashboard.ingest.validate import ROW

DEFAULT_DIR = "quarantine"


def quarantine_path(source_path: Path, quarantine_dir: Path | None) -> Path:
    """`<stem>.rejected.csv` in QUARANTINE_DIR (default: ./quarantine)."""
    folder = Path(quarantine_dir) if quarantine_dir else Path.cwd() / DEFAULT_DIR
    return folder / f"{Path(source_path).stem}.rejected.csv"


def write_quarantine(raw: RawTable, rejected: pl.DataFrame, target: Path,
                     blank: tuple[str, ...] = ()) -> Path:
    """Write the rejected rows (columns: line, reason, then the file's own) to TARGET.

    Columns named in BLANK (caller_id) are emptied: raw identifiers never leave the
    importer. The file is UTF-8 with a byte-order mark, so spreadsheets read the accents,
    and uses the delimiter of the file it came from.
    """
    # A re-imported quarantine file has line and reason columns of its own: replaced.
    original = [c for c in raw.columns if c and c.lower() not in ("line", "reason")]
    picked = (
        raw.frame.with_row_index(ROW)
        .join(rejected.select(ROW, "line", "reason"), on=ROW, how="inner",
              maintain_order="right")
        .sort(ROW)
    )
    hidden = {c.lower() for c in blank}
    out = picked.select(
        pl.col("line"), pl.col("reason"),
        *[(pl.lit(None, pl.String) if c.lower() in hidden else pl.col(c)).alias(c)
          for c in original],
    )
    # Polars quotes empty strings to tell them from nulls; the file is plainer without.
    out = out.with_columns(pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
                           for c in original)
    target.parent.mkdir(parents=True, exist_ok=True)
    out.write_csv(target, separator=raw.delimiter or ",", include_bom=True)
    return target
