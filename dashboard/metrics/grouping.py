"""Group keys and the plumbing of stage 1: dimensions to key columns (day, week, month,
slot, campaign…), the per-row thresholds, and merging statistics frames of several
families into one row per group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import reduce

import polars as pl

from dashboard.core.config import Thresholds
from dashboard.core.localtime import localize
from dashboard.metrics.definitions import (
    DIM_SOURCES,
    DIMENSIONS,
    HORS_CAMPAGNE,
    STATS,
    STATS_BY_NAME,
)


def check_by(by: Sequence[str]) -> tuple[str, ...]:
    """BY as a tuple, or ValueError for an unknown or repeated dimension."""
    by = tuple(by)
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s) {unknown}; known: {', '.join(DIMENSIONS)}")
    if len(set(by)) != len(by):
        raise ValueError(f"dimension repeated in {list(by)}")
    return by


def source_columns(by: Sequence[str]) -> tuple[str, ...]:
    """Raw columns the dimensions BY are computed from, deduplicated, in order."""
    return tuple(dict.fromkeys(col for dim in by for col in DIM_SOURCES[dim]))


def campaign_names(frame: pl.DataFrame, campaigns: pl.DataFrame | None) -> pl.Series:
    """Campaign name of each row (`local_date`, `department`), HORS_CAMPAGNE outside any.

    A campaign with a département covers only that département. Where campaigns overlap,
    one with a département wins over a national one, then the latest start, then the name.
    """
    if frame.height == 0 or campaigns is None or campaigns.height == 0:
        return pl.Series("campaign", [HORS_CAMPAGNE] * frame.height, dtype=pl.String)
    pairs = frame.select("local_date", "department").unique()
    cands = (
        pairs.join(
            campaigns.select(
                pl.col("name").alias("_c_name"),
                pl.col("start_date").alias("_c_start"),
                pl.col("end_date").alias("_c_end"),
                pl.col("department").alias("_c_dept"),
            ),
            how="cross",
        )
        .filter(
            pl.col("local_date").is_between(pl.col("_c_start"), pl.col("_c_end")),
            pl.col("_c_dept").is_null() | (pl.col("_c_dept") == pl.col("department")),
        )
        .sort(
            [pl.col("_c_dept").is_not_null(), "_c_start", "_c_name"],
            descending=[True, True, False],
        )
        .group_by("local_date", "department", maintain_order=True)
        .agg(pl.col("_c_name").first().alias("campaign"))
    )
    keyed = frame.select("local_date", "department").join(
        cands, on=["local_date", "department"], how="left", nulls_equal=True,
        maintain_order="left",
    )
    return keyed.get_column("campaign").fill_null(HORS_CAMPAGNE)


def _key_expr(dim: str) -> pl.Expr:
    date = pl.col("local_date")
    if dim == "day":
        return date.dt.strftime("%Y-%m-%d")
    if dim == "week":
        return pl.format(
            "{}-W{}", date.dt.iso_year(), date.dt.week().cast(pl.String).str.zfill(2)
        )
    if dim == "month":
        return date.dt.strftime("%Y-%m")
    if dim == "slot":
        slot = pl.col("local_slot").cast(pl.Int32)
        return pl.format(
            "{}:{}",
            (slot // 2).cast(pl.String).str.zfill(2),
            pl.when(slot % 2 == 1).then(pl.lit("30")).otherwise(pl.lit("00")),
        )
    if dim == "agent":
        return pl.col("agent_id")
    return pl.col(dim)


def with_group_keys(
    frame: pl.DataFrame, by: Sequence[str], campaigns: pl.DataFrame | None = None
) -> pl.DataFrame:
    """FRAME plus one text key column per dimension of BY, named after it.

    Keys are computed from the raw columns of DIM_SOURCES; CAMPAIGNS is needed only for
    the `campaign` dimension.
    """
    cols = []
    for dim in by:
        if dim == "campaign":
            cols.append(campaign_names(frame, campaigns).alias("campaign"))
        else:
            cols.append(_key_expr(dim).cast(pl.String).alias(dim))
    return frame.with_columns(cols) if cols else frame


def aggregate(frame: pl.DataFrame, by: Sequence[str], aggs: list[pl.Expr]) -> pl.DataFrame:
    if by:
        return frame.group_by(list(by)).agg(aggs)
    return frame.select(aggs)


def cast_stats(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(name).cast(STATS_BY_NAME[name].dtype) for name in frame.columns
        if name in STATS_BY_NAME
    )


def with_thresholds(
    rows: pl.DataFrame,
    sites: pl.DataFrame,
    defaults: Thresholds,
    sl_seconds: int | None = None,
    short_abandon_seconds: int | None = None,
) -> pl.DataFrame:
    """ROWS (with `site`) plus each row's thresholds `sl_s` and `short_s`.

    Precedence: the override given here, else the site's own column in SITES, else
    DEFAULTS (the settings).
    """
    per_site = sites.select(
        "site",
        pl.col("sl_seconds").fill_null(defaults.sl_seconds).alias("_site_sl"),
        pl.col("short_abandon_seconds")
        .fill_null(defaults.short_abandon_seconds)
        .alias("_site_short"),
    )
    out = rows.join(per_site, on="site", how="left", maintain_order="left")
    sl = pl.lit(sl_seconds) if sl_seconds is not None else pl.col("_site_sl").fill_null(
        defaults.sl_seconds
    )
    short = (
        pl.lit(short_abandon_seconds)
        if short_abandon_seconds is not None
        else pl.col("_site_short").fill_null(defaults.short_abandon_seconds)
    )
    return out.with_columns(
        sl.cast(pl.Int64).alias("sl_s"), short.cast(pl.Int64).alias("short_s")
    ).drop("_site_sl", "_site_short")


def site_period_bounds(sites: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per site: `lo`, `hi`, the naive UTC instants where local START begins and END ends.

    Local midnights are converted by the house rule of dashboard.localtime.
    """
    if sites.height == 0:
        return pl.DataFrame(
            schema={"site": pl.String, "lo": pl.Datetime("us"), "hi": pl.Datetime("us")}
        )
    frame = sites.select("site", "timezone").with_columns(
        pl.lit(dt.datetime.combine(start, dt.time())).cast(pl.Datetime("us")).alias("_lo"),
        pl.lit(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
        .cast(pl.Datetime("us"))
        .alias("_hi"),
    )
    return localize_columns(frame, {"_lo": "lo", "_hi": "hi"}).select("site", "lo", "hi")


def localize_columns(frame: pl.DataFrame, cols: dict[str, str]) -> pl.DataFrame:
    """Naive local columns (keys of COLS) → naive UTC columns (values), per row's `timezone`."""
    if frame.height == 0:
        return frame.with_columns(pl.col(src).alias(dst) for src, dst in cols.items())
    parts = []
    for tz in frame.get_column("timezone").unique().to_list():
        part = frame.filter(pl.col("timezone") == tz)
        parts.append(part.with_columns(localize(pl.col(src), tz).alias(dst)
                                       for src, dst in cols.items()))
    return pl.concat(parts)


def empty_stats(by: Sequence[str]) -> pl.DataFrame:
    """A statistics frame with no group: the shape merge_stats starts from."""
    return pl.DataFrame(schema={d: pl.String for d in by})


def merge_stats(frames: Sequence[pl.DataFrame], by: Sequence[str]) -> pl.DataFrame:
    """Statistics frames of several families → one frame, a row per group found in any.

    With BY empty each frame has one row (or none) and the result at most one.
    """
    frames = [f for f in frames if f is not None]
    if not by:
        # One row per family; an empty family frame means "nothing": complete_stats fills it.
        cols = [f for f in frames if f.width and f.height]
        if any(f.height != 1 for f in cols):
            raise ValueError("ungrouped statistics must have exactly one row")
        return pl.concat(cols, how="horizontal") if cols else pl.DataFrame()

    def join(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
        """Full join on the group keys, null keys matching each other."""
        return a.join(b, on=list(by), how="full", coalesce=True, nulls_equal=True)

    frames = [f.with_columns(pl.col(d).cast(pl.String) for d in by) for f in frames]
    return reduce(join, frames) if frames else empty_stats(by)


def complete_stats(stats: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """STATS with every statistic present: absent sums 0, absent max null, absent lists [].

    With BY empty the result has exactly one row.
    """
    if not by and stats.height == 0:
        stats = pl.DataFrame({"_one": [1]})
    fill = []
    for s in STATS:
        if s.name in stats.columns:
            col = pl.col(s.name)
        else:
            col = pl.lit(None, dtype=s.dtype)
        if s.merge in ("sum", "stock", "span"):
            col = col.fill_null(0)
        elif s.merge == "concat":
            col = col.fill_null(pl.lit([], dtype=s.dtype))
        fill.append(col.cast(s.dtype).alias(s.name))
    return stats.with_columns(fill).select(*by, *[s.name for s in STATS])
