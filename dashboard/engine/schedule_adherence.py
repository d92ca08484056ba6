"""Schedule adherence as the pages and the CLI read it: the scope's planned shifts and
sessions over a period through dashboard.metrics.adherence, per agent and per site, and
the anonymous team median of an agent's site (the rule of dashboard.engine.team)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import Connection, Engine

from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.engine.team import MIN_AGENTS
from dashboard.metrics import adherence as m_adherence
from dashboard.metrics.grouping import site_period_bounds
from queries import reference as q_reference
from queries import schedules as q_schedules
from queries import sessions as q_sessions

COLUMNS = ("grain", "site", "agent_id", *m_adherence.MINUTES, "adherence", "conformance")
RATES = ("adherence", "conformance")


def adherence_slots(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Per agent, local day and half-hour of FILTERS' period and scope: planned and
    logged-in minutes (dashboard.metrics.adherence.slot_adherence)."""
    sites = q_reference.site_settings(conn).select("site", "timezone")
    if filters.sites:
        sites = sites.filter(pl.col("site").is_in(list(filters.sites)))
    bounds = site_period_bounds(sites, filters.start, filters.end)
    if bounds.height == 0:  # no such site: nothing planned
        lo = hi = dt.datetime.combine(filters.start, dt.time())
    else:
        lo, hi = bounds["lo"].min(), bounds["hi"].max()
    plan = q_schedules.schedule_rows(conn, filters, lo, hi)
    sessions = q_sessions.session_rows(conn, filters, lo, hi)
    return m_adherence.slot_adherence(plan, sessions, sites, filters.start, filters.end)


def adherence_table(slots: pl.DataFrame) -> pl.DataFrame:
    """SLOTS → one row per agent (`grain` agent) then per site (`grain` site), COLUMNS."""
    agents = m_adherence.agent_adherence(slots).with_columns(pl.lit("agent").alias("grain"))
    sites = m_adherence.site_adherence(slots).with_columns(
        pl.lit("site").alias("grain"), pl.lit(None, pl.String).alias("agent_id"))
    return pl.concat([agents.select(COLUMNS), sites.select(COLUMNS)])


def period_adherence(engine: Engine, filters: Filters) -> pl.DataFrame:
    """Adherence of FILTERS' period and scope: adherence_table's rows (raw agent ids)."""
    with engine.connect() as conn:
        return adherence_table(adherence_slots(conn, filters))


def team_adherence_medians(engine: Engine, site: str, start: dt.date, end: dt.date
                           ) -> pl.DataFrame:
    """`metric` (adherence, conformance), `median`, `agents` over SITE's planned agents;
    the median is null below MIN_AGENTS agents. Read with a supervisor's scope of SITE
    (the caller passes the site of the user's own row); no agent row leaves here."""
    filters = Filters(start=start, end=end, scope=Scope("supervisor", site=site))
    per_agent = period_adherence(engine, filters).filter(pl.col("grain") == "agent")
    return team_rate_medians(per_agent)


def team_rate_medians(per_agent: pl.DataFrame) -> pl.DataFrame:
    """Per-agent adherence rows → the median of each rate over the agents it is defined
    for, withheld (null) below MIN_AGENTS of them."""
    rows = []
    for metric in RATES:
        values = per_agent.get_column(metric).drop_nulls()
        rows.append({"metric": metric, "agents": values.len(),
                     "median": values.median() if values.len() >= MIN_AGENTS else None})
    return pl.DataFrame(rows, schema={"metric": pl.String, "agents": pl.Int64,
                                      "median": pl.Float64}).select("metric", "median",
                                                                    "agents")
