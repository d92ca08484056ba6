"""The anonymous median of a site's team, the yardstick of the agent's own page.

An agent sees its own figures (read with its own scope) against the median of its site's
team. That median needs every agent's figures, which the agent may not read; so it is
computed here, in a privileged but pure way:

- `team_medians` reads the site with a supervisor's scope (the site comes from the
  agent's own user row, never from the request), groups by (agent, day|week|period) and
  reduces at once to **one row per period and metric**: the median and how many agents
  it was taken over. The per-agent rows never leave this module: no agent id, name or
  individual figure is in what it returns, so neither the page, its CSV nor the cache
  (`dashboard.cache.team_medians`) holds them.
- A median over few values gives individuals away: over 1 agent it *is* that agent's
  figure; over 2 it is their mean, so an agent who knows its own figure computes its
  colleague's exactly (2 × median − own). From MIN_AGENTS = 3 values on, the median is a
  value that at least two colleagues could have, and nothing more is derivable from it
  by arithmetic. Below that the median is withheld (null, "—" on screen) and `agents`
  says why. The rule applies per metric: a handle time exists only for agents who
  answered calls, so three active agents of whom one answered calls give no AHT median.

Which agents count: those *active* in the period — at least one handled contact
(answered call or replied e-mail) or act, or some logged-in time. An agent who was not
working that day is not a zero in the median; one who was logged in and handled nothing
is. Counts are then taken as they are (0 included); rates and means over the agents
for whom they are defined (not null).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from sqlalchemy import Engine

from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.engine.page_reads import AGENT_OWN

# The agent's page: handled calls and e-mails, handle time, acts, online promotion.
AGENT_METRICS = ("answered", "emails_replied", "aht_seconds", "acts", "online_promotion_rate")
MIN_AGENTS = 3
# What a channel filter leaves measurable: acts carry no channel (dashboard.metrics), a
# handle time is the calls', replies are the e-mails'.
_CHANNEL_METRICS = {
    "phone": ("answered", "aht_seconds", "online_promotion_rate"),
    "email": ("emails_replied", "online_promotion_rate"),
}
GRAINS = ("day", "week", "period")


def metrics_for(channels: Sequence[str] = ()) -> tuple[str, ...]:
    """AGENT_METRICS that mean something under a filter on CHANNELS (none: all of them)."""
    if len(set(channels)) != 1:
        return AGENT_METRICS
    keep = _CHANNEL_METRICS[next(iter(channels))]
    return tuple(m for m in AGENT_METRICS if m in keep)


def _by(grain: str) -> tuple[str, ...]:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    return () if grain == "period" else (grain,)


def is_active() -> pl.Expr:
    """Rows (one agent, one period) where the agent worked: handled, acted or logged in."""
    def zero(name: str) -> pl.Expr:
        return pl.col(name).fill_null(0)

    return (zero("answered") + zero("emails_replied") + zero("acts") > 0) | (
        zero("agent_hours") > 0
    )


def medians(
    per_agent: pl.DataFrame,
    by: Sequence[str] = (),
    metrics: Sequence[str] = AGENT_METRICS,
    min_agents: int = MIN_AGENTS,
) -> pl.DataFrame:
    """Per-agent KPI rows (`agent`, BY keys, metrics) → BY keys, `metric`, `median`, `agents`.

    Only active rows with an agent count; `agents` is the number of values the median is
    taken over, `median` is null when that is below MIN_AGENTS. The `agent` column is
    dropped before anything is grouped, so no identity can reach the result.
    """
    by = list(by)
    values = (
        per_agent.filter(pl.col("agent").is_not_null() & is_active())
        .select(*by, *[pl.col(m).cast(pl.Float64) for m in metrics])
        .unpivot(index=by, on=list(metrics), variable_name="metric", value_name="value")
        .drop_nulls("value")
    )
    grouped = values.group_by(*by, "metric").agg(
        pl.col("value").median().alias("median"), pl.len().cast(pl.Int64).alias("agents")
    )
    # Every (period, metric) of an active period is present, with 0 agents if need be.
    periods = (
        per_agent.filter(pl.col("agent").is_not_null() & is_active()).select(by).unique()
        if by else pl.DataFrame({"_one": [1]})
    )
    grid = periods.join(pl.DataFrame({"metric": list(metrics)}), how="cross").drop(
        "_one", strict=False
    )
    out = grid.join(grouped, on=[*by, "metric"], how="left", nulls_equal=True).with_columns(
        pl.col("agents").fill_null(0)
    )
    out = out.with_columns(
        pl.when(pl.col("agents") >= min_agents).then(pl.col("median")).otherwise(None)
        .alias("median")
    )
    order = {m: i for i, m in enumerate(metrics)}
    return (
        out.with_columns(pl.col("metric").replace_strict(order, return_dtype=pl.Int32)
                         .alias("_order"))
        .sort([*by, "_order"])
        .select(*by, "metric", "median", "agents")
    )


def team_medians(
    engine: Engine,
    site: str,
    start: dt.date,
    end: dt.date,
    grain: str = "day",
    channels: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Medians of SITE's active agents per GRAIN (day, ISO week or the whole period).

    One row per period and metric of AGENT_METRICS: the period key (`day` or `week`, none
    for `period`), `metric`, `median` (null below MIN_AGENTS agents) and `agents`.
    """
    by = _by(grain)
    filters = Filters(start=start, end=end, channels=channels,
                      scope=Scope("supervisor", site=site))
    per_agent = compute_kpis(engine, filters, ("agent", *by), metrics=AGENT_OWN)
    return medians(per_agent, by)


def own_rows(own: pl.DataFrame) -> pl.DataFrame:
    """The agent's own KPI rows (read with its own scope) for the periods it worked."""
    return own.filter(is_active())


def compare(own: pl.DataFrame, team: pl.DataFrame, grain: str, metric: str) -> pl.DataFrame:
    """One metric, own vs team: period key (unless GRAIN is period), `own`, `median`, `agents`.

    OWN is the agent's KPI frame for GRAIN (its own scope), TEAM the result of
    team_medians for the same grain. Only the periods the agent worked are kept.
    """
    by = list(_by(grain))
    mine = own_rows(own).select(*by, pl.col(metric).cast(pl.Float64).alias("own"))
    theirs = team.filter(pl.col("metric") == metric).select(*by, "median", "agents")
    if not by:
        row = theirs.row(0, named=True) if theirs.height else {"median": None, "agents": 0}
        value = mine["own"][0] if mine.height else None
        return pl.DataFrame(
            {"own": [value], "median": [row["median"]], "agents": [row["agents"]]},
            schema={"own": pl.Float64, "median": pl.Float64, "agents": pl.Int64},
        )
    return (
        mine.join(theirs, on=by, how="left")
        .with_columns(pl.col("agents").fill_null(0))
        .sort(by)
    )
