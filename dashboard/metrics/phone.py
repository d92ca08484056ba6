"""Phone statistics: the calls' counts, waits and handle times per group (spec/metrics.md,
phone), and the callers' patience Erlang A takes.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dashboard.metrics.formulas import _formulas
from dashboard.metrics.grouping import aggregate, cast_stats, complete_stats


def phone_stats(rows: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed calls → phone statistics per group.

    ROWS carry `outcome`, `wait_seconds` (null when unknown: counted in the totals, not
    in means, never within the SL nor short), `handle_seconds` (talk + wrap) and the
    row's thresholds `sl_s`, `short_s`.
    """
    outcome = pl.col("outcome")
    wait = pl.col("wait_seconds")
    answered = outcome == "answered"
    abandoned = outcome == "abandoned"
    short = (abandoned & (wait < pl.col("short_s"))).fill_null(False)
    long_abandon = abandoned & ~short
    aggs = [
        pl.len().alias("ph_received"),
        (outcome == "deflected").sum().alias("ph_deflected"),
        answered.sum().alias("ph_answered"),
        abandoned.sum().alias("ph_abandoned"),
        short.sum().alias("ph_short_abandoned"),
        (answered & (wait <= pl.col("sl_s"))).fill_null(False).sum().alias("ph_answered_in_sl"),
        wait.filter(answered).sum().alias("ph_answered_wait_sum"),
        wait.filter(answered).count().alias("ph_answered_wait_n"),
        pl.col("handle_seconds").filter(answered).sum().alias("ph_handle_sum"),
        wait.filter(long_abandon).sum().alias("ph_long_abandon_wait_sum"),
        wait.filter(long_abandon).count().alias("ph_long_abandon_wait_n"),
        wait.filter(answered | abandoned).max().alias("ph_max_wait"),
    ]
    return cast_stats(aggregate(rows, by, aggs))


def site_patience(phone: pl.DataFrame) -> pl.DataFrame:
    """Calls with thresholds (with_thresholds) → per `site` its `patience_s`, the
    `patience_seconds` metric of its calls (null without a long abandon)."""
    return patience_from_stats(phone_stats(phone, ("site",)))


def patience_from_stats(stats: pl.DataFrame) -> pl.DataFrame:
    """Phone statistics per `site` → per `site` its `patience_s` (see site_patience)."""
    stats = complete_stats(stats, ("site",))
    return stats.select("site", _formulas()["patience_seconds"].alias("patience_s"))
