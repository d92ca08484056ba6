"""Handled contacts and acts: handled, promoted and repeat counts per group (the repeat
flag of a contact followed by another within REPEAT_WINDOW), and acts of management.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dashboard.metrics.definitions import REPEAT_WINDOW
from dashboard.metrics.grouping import aggregate, cast_stats, merge_stats


def handled_stats(
    phone: pl.DataFrame, emails: pl.DataFrame, followups: pl.DataFrame, by: Sequence[str]
) -> pl.DataFrame:
    """Handled contacts → online-promotion and repeat-contact statistics per group.

    PHONE are keyed calls, EMAILS keyed flagged e-mails of the cohort; the handled ones
    are answered calls and replied e-mails. FOLLOWUPS (`caller_key`, `received_at`) are
    every contact of their callers up to 7 days after the last one (any channel or site).
    A handled contact repeats when its caller has a contact received strictly after it
    and at most 7 × 24 h later.
    """
    cols = [*by, "online_service_promoted", "caller_key", "received_at"]
    handled = pl.concat(
        [
            phone.filter(pl.col("outcome") == "answered").select(cols),
            emails.filter(pl.col("replied")).select(cols),
        ]
    )
    repeat = with_repeat_flags(handled.filter(pl.col("caller_key").is_not_null()), followups)
    base = aggregate(
        handled,
        by,
        [
            pl.len().alias("hd_handled"),
            pl.col("online_service_promoted").fill_null(False).sum().alias("hd_promoted"),
            pl.col("caller_key").is_not_null().sum().alias("hd_with_key"),
        ],
    )
    rep = aggregate(repeat, by, [pl.col("_repeat").sum().alias("hd_repeat")])
    return cast_stats(merge_stats([base, rep], by))


def with_repeat_flags(rows: pl.DataFrame, followups: pl.DataFrame) -> pl.DataFrame:
    """ROWS (`caller_key`, `received_at`) plus `_repeat`: the caller has a contact in
    FOLLOWUPS received strictly after and at most 7 × 24 h later (false without a key).
    Row order is not kept."""
    later = (
        followups.filter(pl.col("caller_key").is_not_null())
        .select("caller_key", pl.col("received_at").alias("_next"))
        .sort("_next")
    )
    matched = rows.sort("received_at").join_asof(
        later,
        left_on="received_at",
        right_on="_next",
        by="caller_key",
        strategy="forward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    return matched.with_columns(
        ((pl.col("_next") - pl.col("received_at")) <= REPEAT_WINDOW)
        .fill_null(False)
        .alias("_repeat")
    ).drop("_next")


def act_stats(counts: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed act counts (`n` per combination of raw columns) → `act_count` per group."""
    return cast_stats(aggregate(counts, by, [pl.col("n").sum().alias("act_count")]))
