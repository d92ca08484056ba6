"""ISO 8601 text → naive UTC datetimes, by the rules of spec/data-contract.md.

A timestamp with an offset (`+02:00`, `+0200`, `+02`, `Z`) is exact. A naive one is local
wall-clock time in a time zone given per row (the site's, or `--timezone` for the file)
and is converted by `dashboard.localtime.localize`, which owns the DST rule (repeated
autumn hour → first occurrence; spring gap → offset in force before the gap).

Each parsed column comes with a status: "ok", "missing" (empty), "unparseable" (not ISO
8601 date and time) or "impossible" (ISO-shaped but no such instant: 2015-02-30, 25:00,
an offset beyond ±14:00, a year outside 1900-2100).
"""

from __future__ import annotations

import polars as pl

from dashboard.core.localtime import localize

ISO_PATTERN = (
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2})(:\d{2}(?:[.,]\d+)?)?\s*"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
NAIVE_FORMAT = "%Y-%m-%dT%H:%M:%S%.f"
MIN_YEAR, MAX_YEAR = 1900, 2100
OK, MISSING, UNPARSEABLE, IMPOSSIBLE = "ok", "missing", "unparseable", "impossible"


def status_col(name: str) -> str:
    """Name of the status column that parse_timestamps adds beside NAME."""
    return f"__{name}_status"


def _parts(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(matched, naive wall-clock datetime, offset in seconds or null) of ISO text."""
    groups = text.str.extract_groups(ISO_PATTERN)
    date, hm, sec, off = (groups.struct.field(str(i)) for i in range(1, 5))
    matched = date.is_not_null()
    naive_text = pl.concat_str(
        [date, pl.lit("T"), hm, pl.coalesce(sec, pl.lit(":00"))]
    ).str.replace(",", ".", literal=True)
    naive = naive_text.str.to_datetime(NAIVE_FORMAT, strict=False, time_unit="us")
    sign = pl.when(off.str.starts_with("-")).then(-1).otherwise(1)
    digits = off.str.replace_all(r"[^0-9]", "")
    hours = digits.str.slice(0, 2).cast(pl.Int64, strict=False)
    minutes = pl.when(digits.str.len_chars() > 2).then(
        digits.str.slice(2, 2).cast(pl.Int64, strict=False)
    ).otherwise(0)
    offset = (
        pl.when(off.str.to_uppercase() == "Z")
        .then(pl.lit(0, pl.Int64))
        .when(off.is_not_null() & (hours <= 14) & (minutes <= 59))
        .then(sign * (hours * 3600 + minutes * 60))
        .otherwise(pl.lit(None, pl.Int64))
    )
    bad_offset = off.is_not_null() & offset.is_null()
    return matched, pl.when(bad_offset).then(None).otherwise(naive), offset


def _simple(text: pl.Expr) -> pl.Expr:
    """True where TEXT is null or exactly `YYYY-MM-DDTHH:MM:SS` (or with a space): no
    fraction, no offset — what nearly every export writes."""
    return text.is_null() | (
        (text.str.len_chars() == 19) & text.str.slice(10, 1).is_in(["T", " "])
        & text.str.contains(ISO_PATTERN)
    )


def _simple_parts(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """_parts for a column whose values are all _simple: one parse, no regex groups."""
    naive = text.str.replace(" ", "T", literal=True).str.to_datetime(
        "%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us")
    return text.is_not_null(), naive, pl.lit(None, pl.Int64)


def _parse_in_zone(frame: pl.DataFrame, columns: list[str], tz: str,
                   fast: bool = True) -> pl.DataFrame:
    # A column whose values all have the plain shape is parsed in one step; the result
    # is the general path's (tests/test_ingest_time.py checks both on the same values).
    simple = set()
    if fast and frame.height:
        flags = frame.select([_simple(pl.col(c)).all().alias(c) for c in columns]).row(0)
        simple = {c for c, flag in zip(columns, flags) if flag}
    exprs = []
    for name in columns:
        text = pl.col(name)
        matched, naive, offset = (_simple_parts(text) if name in simple else _parts(text))
        utc = (
            pl.when(offset.is_not_null())
            .then(naive - pl.duration(seconds=offset))
            .otherwise(localize(naive, tz))
        )
        year = naive.dt.year()
        possible = naive.is_not_null() & (year >= MIN_YEAR) & (year <= MAX_YEAR)
        status = (
            pl.when(text.is_null()).then(pl.lit(MISSING))
            .when(~matched).then(pl.lit(UNPARSEABLE))
            .when(~possible).then(pl.lit(IMPOSSIBLE))
            .otherwise(pl.lit(OK))
        )
        exprs.append(pl.when(status == OK).then(utc).otherwise(None)
                     .cast(pl.Datetime("us")).alias(name))
        exprs.append(status.alias(status_col(name)))
    return frame.with_columns(exprs)


def parse_timestamps(frame: pl.DataFrame, columns: list[str], tz_col: str) -> pl.DataFrame:
    """Replace each text column in COLUMNS by naive UTC datetimes, adding its status column.

    Naive values are read in the time zone named by TZ_COL on each row. Row order is kept.
    """
    columns = [c for c in columns if c in frame.columns]
    if not columns:
        return frame
    if frame.height == 0:
        return frame.with_columns(
            [pl.lit(None, pl.Datetime("us")).alias(c) for c in columns]
            + [pl.lit(None, pl.String).alias(status_col(c)) for c in columns]
        )
    order = "__ts_order"
    frame = frame.with_row_index(order)
    parts = [
        _parse_in_zone(frame.filter(pl.col(tz_col) == tz), columns, tz)
        for tz in frame.get_column(tz_col).unique().to_list()
    ]
    return pl.concat(parts).sort(order).drop(order)
