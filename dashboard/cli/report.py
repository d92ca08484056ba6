"""`python -m dashboard report`: the review report for a period, as one self-contained HTML,
built from the same Review as `python -m dashboard review` (dashboard.review.assessment)."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from dashboard.cli.kpis import BadArgument, _codes, _date, _OneLineErrors
from dashboard.cli.options import db_option, resolve_db
from dashboard.core.access import ALL_ROWS, scope_for
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.review import assessment
from dashboard.review import report as report_mod
from dashboard.store import database as dbmod
from dashboard.store import users as users_mod
from queries import overview, reference


@click.command("report", cls=_OneLineErrors)
@click.option("--from", "start", default=None, metavar="YYYY-MM-DD",
              help="first local day [default: the perimeter's first coverage start]")
@click.option("--to", "end", default=None, metavar="YYYY-MM-DD",
              help="last local day, inclusive [default: the last day with data]")
@click.option("--site", "sites", multiple=True, metavar="S", help="only these sites")
@click.option("--out", "out", required=True, metavar="FILE.html",
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="where to write the report")
@db_option
@click.option("--as-user", "as_user", default=None, metavar="LOGIN",
              help="apply this user's scope (a supervisor: own site only)")
def report(start, end, sites, out, db_url, as_user) -> None:
    """The review report for --from..--to (the whole pilot by default): a summary of the
    four objectives and five questions, then tools, volumes and team calibration, acts and
    online promotion, users' reaction, staff's experience and the relief of local
    services; charts inlined, readable offline.

    Ramp-up and campaign peaks are read from the first coverage start of the perimeter up
    to --to; the relief from the first local reception record.
    """
    start_day = _date(start, "--from") if start else None
    end_day = _date(end, "--to") if end else None
    if start_day and end_day and end_day < start_day:
        raise BadArgument(f"--to {end_day} is before --from {start_day}")
    url = resolve_db(db_url)
    try:
        engine = dbmod.get_engine(url)
        if not dbmod.is_initialised(engine):
            raise click.ClickException(
                f"no dashboard schema in {engine.url.render_as_string()}: "
                "run `python -m dashboard db upgrade` first")
        scope = ALL_ROWS  # no --as-user: the operator reads every row
        with engine.connect() as conn:
            if as_user is not None:
                user = users_mod.active_user(conn, as_user)
                if user is None:
                    raise BadArgument(f"--as-user {as_user!r}: no such active user")
                scope = scope_for(user)
            coverage = overview.coverage_periods(conn)
            campaigns = reference.campaign_rows(conn)
            known = set(coverage.get_column("site").to_list())
            unknown = [s for s in _codes(sites) if s not in known]
            if unknown:
                raise BadArgument(f"--site {unknown[0]!r}: no such site; known: "
                                  f"{', '.join(sorted(known))}")
            if start_day is None or end_day is None:
                span = assessment.whole_pilot(
                    coverage, overview.last_day_with_data(conn, scope, _codes(sites)),
                    _codes(sites), scope)
                if span is None:
                    raise click.ClickException("no data in this perimeter: give --from and --to")
                start_day = start_day or span[0]
                end_day = end_day or span[1]
                if end_day < start_day:
                    raise BadArgument(f"--to {end_day} is before --from {start_day}")
            filters = Filters(start=start_day, end=end_day, sites=_codes(sites), scope=scope)

            def kpis(f, by, metrics):
                return compute_kpis(engine, f, by, metrics=metrics)

            data, _ = report_mod.read_report(conn, kpis, filters, coverage, campaigns)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"database error: {first}") from exc
    html = report_mod.render_html(data)
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from exc
    click.echo(str(out))
