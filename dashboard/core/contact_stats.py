"""The contact sums, each declared once: which channel and outcomes it counts, under which
wait rule, what it adds, and which column of a coarse rollup holds it.

Every path derives its statistic from these declarations: the raw calls
(metrics.phone.phone_stats), the rollup refresh (engine.rollups.compute: the threshold
columns of the coarse rollups), the SQL over rollup_contacts' wait bins
(queries.rollups.contact_stats) and the picking from the coarse rollups
(queries.rollups.pick_stats); the rollup tables' columns follow (store.schema).
Adding a contact statistic is one line here (and its StatDef in metrics.definitions).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# A wait rule, against the row's thresholds (SL seconds, short-abandon seconds); a
# statistic with a rule never counts a call whose wait is unknown.
WAIT_RULES = ("in_sl", "short", "long")  # wait ≤ SL; wait < short; wait ≥ short


@dataclass(frozen=True)
class ContactStat:
    """One sum over contacts per group."""

    name: str
    channel: str | None  # "phone", "email", or None: both channels
    outcomes: tuple[str, ...] | None  # None: any outcome
    wait: str | None  # one of WAIT_RULES, or None
    adds: str  # "count", or the measure it sums: wait, wait_n, handle, a flag's count
    coarse: str  # the coarse rollups' column it sums (at their baked thresholds)


CONTACT_STATS: tuple[ContactStat, ...] = (
    # Calls that asked for an agent or were refused; ended in the voice server (ivr) apart.
    ContactStat("ph_received", "phone", ("answered", "abandoned", "deflected"), None, "count",
                "n"),
    ContactStat("ph_ivr", "phone", ("ivr",), None, "count", "n"),
    ContactStat("ph_deflected", "phone", ("deflected",), None, "count", "n"),
    ContactStat("ph_answered", "phone", ("answered",), None, "count", "n"),
    ContactStat("ph_abandoned", "phone", ("abandoned",), None, "count", "n"),
    ContactStat("ph_short_abandoned", "phone", ("abandoned",), "short", "count", "short"),
    ContactStat("ph_answered_in_sl", "phone", ("answered",), "in_sl", "count", "in_sl"),
    ContactStat("ph_answered_wait_sum", "phone", ("answered",), None, "wait", "wait_sum"),
    ContactStat("ph_answered_wait_n", "phone", ("answered",), None, "wait_n", "wait_n"),
    ContactStat("ph_handle_sum", "phone", ("answered",), None, "handle", "handle_sum"),
    ContactStat("ph_long_abandon_wait_sum", "phone", ("abandoned",), "long", "wait",
                "long_wait_sum"),
    ContactStat("ph_long_abandon_wait_n", "phone", ("abandoned",), "long", "wait_n",
                "long_wait_n"),
    ContactStat("em_received", "email", None, None, "count", "n"),
    ContactStat("em_replied", "email", None, None, "replied", "replied"),
    ContactStat("em_within_48h", "email", None, None, "within_48h", "within_48h"),
    ContactStat("em_within_5wd", "email", None, None, "within_5wd", "within_5wd"),
    ContactStat("hd_handled", None, None, None, "handled", "handled"),
    ContactStat("hd_promoted", None, None, None, "promoted", "promoted"),
    ContactStat("hd_with_key", None, None, None, "with_key", "with_key"),
    ContactStat("hd_repeat", None, None, None, "repeats", "repeats"),
)
CONTACT_SUMS = tuple(s.name for s in CONTACT_STATS)
PHONE_STATS = tuple(s for s in CONTACT_STATS if s.channel == "phone")
# The coarse rollups' columns that hold a count at their baked thresholds.
THRESHOLD_STATS = tuple(s for s in CONTACT_STATS if s.wait is not None)

# The raw measure each `adds` sums, over keyed calls (wait_seconds, handle_seconds).
_RAW_MEASURE = {"wait": "wait_seconds", "wait_n": "wait_seconds", "handle": "handle_seconds"}


def wait_condition(rule: str, wait: pl.Expr, sl: pl.Expr, short: pl.Expr) -> pl.Expr:
    """The wait rule RULE over WAIT as a Polars condition (false when the wait is unknown)."""
    if rule == "in_sl":
        return (wait <= sl).fill_null(False)
    if rule == "short":
        return (wait < short).fill_null(False)
    if rule == "long":
        return (wait >= short).fill_null(False)
    raise ValueError(f"unknown wait rule {rule!r}")


def raw_phone_agg(stat: ContactStat, sl: pl.Expr, short: pl.Expr) -> pl.Expr:
    """STAT over keyed calls (`outcome`, `wait_seconds`, `handle_seconds`), as a Polars
    aggregation per group, thresholds SL and SHORT per row."""
    cond = None
    if stat.outcomes is not None:
        cond = pl.col("outcome").is_in(list(stat.outcomes))
    if stat.wait is not None:
        rule = wait_condition(stat.wait, pl.col("wait_seconds"), sl, short)
        cond = rule if cond is None else cond & rule
    if stat.adds == "count":
        expr = pl.len() if cond is None else cond.sum()
    else:
        measure = pl.col(_RAW_MEASURE[stat.adds])
        picked = measure if cond is None else measure.filter(cond)
        expr = picked.count() if stat.adds == "wait_n" else picked.sum()
    return expr.alias(stat.name)
