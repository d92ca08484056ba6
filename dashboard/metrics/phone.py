"""Phone statistics: the calls' counts, waits and handle times per group (spec/metrics.md,
phone), and the callers' patience Erlang A takes.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dashboard.core.contact_stats import PHONE_STATS, raw_phone_agg
from dashboard.metrics.formulas import _formulas
from dashboard.metrics.grouping import aggregate, cast_stats, complete_stats


def phone_stats(rows: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed calls → phone statistics per group.

    ROWS carry `outcome`, `wait_seconds` (null when unknown: counted in the totals, not
    in means, never within the SL nor short), `handle_seconds` (talk + wrap) and the
    row's thresholds `sl_s`, `short_s`. The statistics are those of
    core.contact_stats.PHONE_STATS, as declared there.
    """
    outcome = pl.col("outcome")
    wait = pl.col("wait_seconds")
    aggs = [raw_phone_agg(s, pl.col("sl_s"), pl.col("short_s")) for s in PHONE_STATS]
    aggs.append(wait.filter((outcome == "answered") | (outcome == "abandoned")).max()
                .alias("ph_max_wait"))
    return cast_stats(aggregate(rows, by, aggs))


def site_patience(phone: pl.DataFrame) -> pl.DataFrame:
    """Calls with thresholds (with_thresholds) → per `site` its `patience_s`, the
    `patience_seconds` metric of its calls (null without a long abandon)."""
    return patience_from_stats(phone_stats(phone, ("site",)))


def patience_from_stats(stats: pl.DataFrame) -> pl.DataFrame:
    """Phone statistics per `site` → per `site` its `patience_s` (see site_patience)."""
    stats = complete_stats(stats, ("site",))
    return stats.select("site", _formulas()["patience_seconds"].alias("patience_s"))
