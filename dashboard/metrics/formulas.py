"""Stage 2: statistics → KPIs, every ratio, mean and median of spec/metrics.md, null
whenever a denominator is 0.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import polars as pl

from dashboard.metrics.definitions import INTEGER_METRICS, METRICS
from dashboard.metrics.grouping import complete_stats


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """NUM / DEN as a float, null when DEN is 0 (or null)."""
    return pl.when(den > 0).then(num.cast(pl.Float64) / den.cast(pl.Float64)).otherwise(None)


def _formulas() -> dict[str, pl.Expr]:
    c = pl.col
    handled = c("ph_answered") + c("em_replied")
    agent_hours = c("st_logged_us").cast(pl.Float64) / 3_600_000_000
    logged_in = _ratio(c("st_base_logged_us"), c("st_base_us"))
    required = (
        pl.when(c("st_required_unknown") > 0).then(None)
        .otherwise(_ratio(c("st_required_us"), c("st_base_us")))
    )
    return {
        "received": c("ph_received"),
        "ivr_ended": c("ph_ivr"),
        "deflected": c("ph_deflected"),
        "offered": c("ph_answered") + c("ph_abandoned"),
        "answered": c("ph_answered"),
        "abandoned": c("ph_abandoned"),
        "short_abandoned": c("ph_short_abandoned"),
        "answer_rate": _ratio(c("ph_answered"), c("ph_received") - c("ph_short_abandoned")),
        "abandon_rate": _ratio(
            c("ph_abandoned") - c("ph_short_abandoned"),
            c("ph_answered") + c("ph_abandoned") - c("ph_short_abandoned"),
        ),
        "service_level": _ratio(
            c("ph_answered_in_sl"),
            c("ph_answered") + c("ph_abandoned") - c("ph_short_abandoned"),
        ),
        "asa_seconds": _ratio(c("ph_answered_wait_sum"), c("ph_answered_wait_n")),
        "aht_seconds": _ratio(c("ph_handle_sum"), c("ph_answered")),
        "abandon_wait_seconds": _ratio(
            c("ph_long_abandon_wait_sum"), c("ph_long_abandon_wait_n")
        ),
        "max_wait_seconds": c("ph_max_wait"),
        "patience_seconds": _ratio(
            c("ph_answered_wait_sum") + c("ph_long_abandon_wait_sum"),
            c("ph_long_abandon_wait_n"),
        ),
        "emails_received": c("em_received"),
        "emails_replied": c("em_replied"),
        "reply_within_48h_rate": _ratio(c("em_within_48h"), c("em_received")),
        "reply_within_5wd_rate": _ratio(c("em_within_5wd"), c("em_received")),
        "median_reply_hours": c("em_reply_us").list.median() / 3_600_000_000,
        "backlog": c("em_backlog"),
        "acts": c("act_count"),
        "acts_per_100_handled": 100 * _ratio(c("act_count"), handled),
        "online_promotion_rate": _ratio(c("hd_promoted"), c("hd_handled")),
        "repeat_contact_rate": _ratio(c("hd_repeat"), c("hd_with_key")),
        "agent_hours": agent_hours,
        "occupancy": _ratio(c("ph_handle_sum").cast(pl.Float64) * 1e6, c("st_logged_us")),
        "handled_per_agent_hour": _ratio(
            handled.cast(pl.Float64) * 3.6e9, c("st_logged_us")
        ),
        "agents_logged_in": logged_in,
        "required_agents": required,
        "staffing_gap": logged_in - required,
        "survey_responses": c("sv_responses"),
        "csat_rate": _ratio(c("sv_satisfied"), c("sv_responses")),
        "mean_satisfaction": _ratio(c("sv_score_sum"), c("sv_responses")),
        "perceived_resolution_rate": _ratio(c("sv_resolved"), c("sv_resolved_given")),
        "survey_response_rate": _ratio(c("sv_responses"), handled),
    }


def kpis_from_stats(
    stats: pl.DataFrame, by: Sequence[str], unavailable: Collection[str] = ()
) -> pl.DataFrame:
    """Statistics per group → KPIs: BY keys then METRICS in order, rows sorted by BY.

    Metrics in UNAVAILABLE (see unavailable_metrics) are null; every other rate is null
    exactly when its denominator is 0. Null keys sort last.
    """
    stats = complete_stats(stats, by)
    formulas = _formulas()
    exprs = []
    for m in METRICS:
        dtype = pl.Int64 if m.key in INTEGER_METRICS else pl.Float64
        expr = pl.lit(None, dtype=dtype) if m.key in unavailable else formulas[m.key]
        exprs.append(expr.cast(dtype).alias(m.key))
    out = stats.select(*[pl.col(d).cast(pl.String) for d in by], *exprs)
    if by:
        out = out.sort(list(by), nulls_last=True)
    return out
