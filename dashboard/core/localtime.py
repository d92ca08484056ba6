"""Local time: naive wall clock ⇄ UTC, and the local day and half-hour slot of an instant.

The house rule for naive local times (spec/data-contract.md):
- an ambiguous time (the autumn repeated hour) is the *first* occurrence (summer time);
- a non-existent time (the spring gap) is read with the offset in force just before the
  gap, so 02:30 on the last Sunday of March in Paris becomes 03:30 CEST (01:30 UTC), as
  Python's zoneinfo (fold=0) and PostgreSQL do. It is moved once, by the gap's length.
"""

from __future__ import annotations

import polars as pl

SLOTS_PER_DAY = 48


def localize(naive: pl.Expr, tz: str) -> pl.Expr:
    """Naive local wall-clock datetimes in TZ → naive UTC datetimes, by the house rule."""
    aware = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    # Three hours back is always before a gap of at most two hours, so its offset is the
    # one in force just before the gap.
    before = (naive - pl.duration(hours=3)).dt.replace_time_zone(
        tz, ambiguous="earliest", non_existent="null"
    )
    offset_before = before.dt.base_utc_offset() + before.dt.dst_offset()
    in_gap = (naive - offset_before).dt.cast_time_unit("us")
    exact = aware.dt.convert_time_zone("UTC").dt.replace_time_zone(None).dt.cast_time_unit("us")
    return pl.when(aware.is_null() & naive.is_not_null()).then(in_gap).otherwise(exact)


def to_local(utc: pl.Expr, tz: str) -> pl.Expr:
    """Naive UTC datetimes → naive local wall-clock datetimes in TZ."""
    return utc.dt.replace_time_zone("UTC").dt.convert_time_zone(tz).dt.replace_time_zone(None)


def local_date(utc: pl.Expr, tz: str) -> pl.Expr:
    """Local calendar date of naive UTC datetimes."""
    return to_local(utc, tz).dt.date()


def local_slot(utc: pl.Expr, tz: str) -> pl.Expr:
    """Local half-hour slot (0 = 00:00-00:30) of naive UTC datetimes."""
    local = to_local(utc, tz)
    return (local.dt.hour().cast(pl.Int16) * 2 + local.dt.minute().cast(pl.Int16) // 30).cast(
        pl.Int16
    )


def slot_label(slot: int) -> str:
    """'HH:MM' start of a half-hour slot."""
    return f"{slot // 2:02d}:{30 * (slot % 2):02d}"


def with_local_columns(
    frame: pl.DataFrame, utc_col: str, tz_col: str, date_col: str = "local_date",
    slot_col: str | None = "local_slot",
) -> pl.DataFrame:
    """Add the local date (and slot) of UTC_COL, each row in the time zone named in TZ_COL."""
    if frame.height == 0:
        extra = [pl.lit(None, pl.Date).alias(date_col)]
        if slot_col:
            extra.append(pl.lit(None, pl.Int16).alias(slot_col))
        return frame.with_columns(extra)
    parts = []
    for tz in frame.get_column(tz_col).unique().to_list():
        part = frame.filter(pl.col(tz_col) == tz)
        cols = [local_date(pl.col(utc_col), tz).alias(date_col)]
        if slot_col:
            cols.append(local_slot(pl.col(utc_col), tz).alias(slot_col))
        parts.append(part.with_columns(cols))
    return pl.concat(parts)
