"""`python -m dashboard review`: the whole pilot review's figures (objectives and their
verdicts, the five questions, the relief of local services, tools, surveys, staff)."""

from __future__ import annotations

import json

import click
from sqlalchemy.exc import SQLAlchemyError

from dashboard.cli.kpis import BadArgument, _date, _OneLineErrors, as_user_scope, checked_sites
from dashboard.cli.options import db_option, initialised_engine, resolve_db
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.review import assessment
from queries import overview


@click.command("review", cls=_OneLineErrors)
@click.option("--from", "start", default=None, metavar="YYYY-MM-DD",
              help="first local day [default: the perimeter's first coverage start]")
@click.option("--to", "end", default=None, metavar="YYYY-MM-DD",
              help="last local day, inclusive [default: the last day with data]")
@click.option("--site", "sites", multiple=True, metavar="S", help="only these sites")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json",
              show_default=True)
@db_option
@click.option("--as-user", "as_user", default=None, metavar="LOGIN",
              help="apply this user's scope (a supervisor: own site only)")
def review(start, end, sites, fmt, db_url, as_user) -> None:
    """The review's figures for --from..--to, as the Bilan page and the report show them:
    `objectives` (key, verdict, target, value), `questions`, `relief` (one object per
    pilot département), `tools`, `surveys`, `staff` (groups under 5 answers hidden)."""
    start_day = _date(start, "--from") if start else None
    end_day = _date(end, "--to") if end else None
    if start_day and end_day and end_day < start_day:
        raise BadArgument(f"--to {end_day} is before --from {start_day}")
    url = resolve_db(db_url)
    try:
        engine = initialised_engine(url)
        with engine.connect() as conn:
            scope = as_user_scope(conn, as_user)
            coverage = overview.coverage_periods(conn)
            sites = checked_sites(coverage.get_column("site").to_list(), sites)
            if start_day is None or end_day is None:
                span = assessment.whole_pilot(
                    coverage, overview.last_day_with_data(conn, scope, sites), sites, scope)
                if span is None:
                    raise click.ClickException("no data in this perimeter: give --from and --to")
                start_day = start_day or span[0]
                end_day = end_day or span[1]
                if end_day < start_day:
                    raise BadArgument(f"--to {end_day} is before --from {start_day}")
            filters = Filters(start=start_day, end=end_day, sites=sites, scope=scope)
            inputs = assessment.gather(
                conn, lambda f, by, metrics: compute_kpis(engine, f, by, metrics=metrics),
                filters)
        result = assessment.build(inputs)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"database error: {first}") from exc
    click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))

