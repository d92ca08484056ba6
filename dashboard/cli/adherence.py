"""`python -m dashboard adherence`: schedule adherence and conformance per agent and per
site over a period (definitions: dashboard.metrics.adherence)."""

from __future__ import annotations

import datetime as dt

import click
import polars as pl
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from dashboard.cli.kpis import (BadArgument, _date, _OneLineErrors, as_user_scope,
                                checked_sites, to_csv, to_json)
from dashboard.cli.options import db_option, initialised_engine, resolve_db
from dashboard.core.access import present_agents
from dashboard.core.filters import Filters
from dashboard.metrics import adherence as m_adherence
from dashboard.metrics.grouping import site_period_bounds
from queries import reference as q_reference
from queries import schedules as q_schedules
from queries import sessions as q_sessions

COLUMNS = ("grain", "site", "agent_id", *m_adherence.MINUTES, "adherence", "conformance")


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


@click.command("adherence", cls=_OneLineErrors)
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD",
              help="first local day of the period")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD",
              help="last local day of the period (inclusive)")
@click.option("--site", "sites", multiple=True, metavar="S",
              help="only these sites [default: every site in scope]")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True)
@db_option
@click.option("--as-user", "as_user", default=None, metavar="LOGIN",
              help="apply this user's scope (agent: own rows; supervisor: own site)")
def adherence(start, end, sites, fmt, db_url, as_user) -> None:
    """Schedule adherence over the local days --from..--to: one object (JSON) or line
    (CSV) per agent (`grain` agent) and per site (`grain` site) with the planned and
    logged-in minutes, `adherence` and `conformance` (null where nothing was planned)."""
    start_day = _date(start, "--from")
    end_day = _date(end, "--to")
    if end_day < start_day:
        raise BadArgument(f"--to {end_day} is before --from {start_day}")
    try:
        engine = initialised_engine(resolve_db(db_url))
        with engine.connect() as conn:
            scope = as_user_scope(conn, as_user)
            codes = checked_sites(
                q_reference.site_settings(conn).get_column("site").to_list(), sites, scope)
            filters = Filters(start=start_day, end=end_day, sites=codes, scope=scope)
            table = adherence_table(adherence_slots(conn, filters))
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"database error: {first}") from exc
    table = present_agents(table, scope, column="agent_id")
    click.echo(to_json(table) if fmt == "json" else to_csv(table), nl=fmt == "json")
