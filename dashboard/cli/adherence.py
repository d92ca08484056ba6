"""`python -m dashboard adherence`: schedule adherence and conformance per agent and per
site over a period (definitions: dashboard.metrics.adherence)."""

from __future__ import annotations

import click
from sqlalchemy.exc import SQLAlchemyError

from dashboard.cli.kpis import (BadArgument, _date, _OneLineErrors, as_user_scope,
                                checked_sites, to_csv, to_json)
from dashboard.cli.options import db_option, initialised_engine, resolve_db
from dashboard.core.access import present_agents
from dashboard.core.filters import Filters
from dashboard.engine.schedule_adherence import period_adherence
from queries import reference as q_reference


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
        table = period_adherence(engine, filters)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"database error: {first}") from exc
    table = present_agents(table, scope, column="agent_id")
    click.echo(to_json(table) if fmt == "json" else to_csv(table), nl=fmt == "json")
