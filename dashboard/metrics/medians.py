"""Exact medians of reply delays from bin counts: pure functions, no I/O.

The rollups count replied e-mails per reply-delay bin (schema.REPLY_BIN_EDGES). A group's
median is the mean of its delays of rank ⌊(N+1)/2⌋ and ⌊(N+2)/2⌋ (one delay when N is
odd): the counts tell which bin holds each of those ranks and its position inside the
bin, so only the delays of those bins need to be read, then ranked.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dashboard.metrics.grouping import cast_stats

_ALL = "_all"  # a constant key, so that "no grouping" is one group like any other


def middle_positions(hist: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed bin counts (BY keys, `reply_bin`, `n`, and `_lo`, `_hi`: first and last
    local date of those delays) → per group the bin of each middle rank and the rank
    inside that bin (`pos`, from 1), with the group's `_lo`, `_hi` in that bin."""
    keys = [*by, _ALL]
    per_bin = (
        hist.with_columns(pl.lit(1).alias(_ALL))
        .group_by([*keys, "reply_bin"])
        .agg(pl.col("n").sum(), pl.col("_lo").min(), pl.col("_hi").max())
        .sort([*keys, "reply_bin"], nulls_last=True)
        .with_columns(pl.col("n").cum_sum().over(keys).alias("_cum"),
                      pl.col("n").sum().over(keys).alias("_total"))
    )
    before = pl.col("_cum") - pl.col("n")
    parts = []
    for rank in ((pl.col("_total") + 1) // 2, (pl.col("_total") + 2) // 2):
        parts.append(per_bin.filter((before < rank) & (rank <= pl.col("_cum")))
                     .with_columns((rank - before).cast(pl.Int64).alias("pos")))
    return pl.concat(parts).unique([*keys, "reply_bin", "pos"]).select(
        *keys, "reply_bin", "pos", "_lo", "_hi")


def pick_middles(rows: pl.DataFrame, wanted: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed delays of the wanted bins (BY keys, `reply_bin`, `reply_us`) and
    middle_positions' WANTED → per group `em_reply_us`, the list of its middle delays."""
    keys = [*by, _ALL]
    ranked = rows.with_columns(pl.lit(1).alias(_ALL)).with_columns(
        pl.col("reply_us").rank("ordinal").over([*keys, "reply_bin"]).cast(pl.Int64)
        .alias("pos"))
    picked = wanted.select(*keys, "reply_bin", "pos").join(
        ranked.select(*keys, "reply_bin", "pos", "reply_us"),
        on=[*keys, "reply_bin", "pos"], how="inner", nulls_equal=True)
    if not by:
        return cast_stats(picked.select(pl.col("reply_us").implode().alias("em_reply_us")))
    return cast_stats(picked.group_by(list(by)).agg(pl.col("reply_us").alias("em_reply_us")))


def bin_ranges(wanted: pl.DataFrame, limit: int = 400) -> list[tuple[int, object, object]]:
    """(reply_bin, first date, last date) ranges covering every wanted group's delays in
    its bins: per bin the groups' date ranges merged where they touch, or one range per
    bin beyond LIMIT ranges (SQLite parses a chain of N ORs N levels deep, at most 1000)."""
    per_bin = wanted.group_by("reply_bin").agg(pl.col("_lo").min(), pl.col("_hi").max())
    out: list[tuple[int, object, object]] = []
    for b, lo, hi in wanted.select("reply_bin", "_lo", "_hi").sort(pl.all()).rows():
        if out and out[-1][0] == b and (lo - out[-1][2]).days <= 1:
            out[-1] = (b, out[-1][1], max(hi, out[-1][2]))
        else:
            out.append((b, lo, hi))
    return out if len(out) <= limit else per_bin.sort("reply_bin").rows()
