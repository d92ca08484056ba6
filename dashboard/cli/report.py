"""`python -m dashboard report`: the review report for a period, as one self-contained HTML."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from dashboard.cli.kpis import BadArgument, _codes, _date, _OneLineErrors
from dashboard.cli.options import db_option, resolve_db
from dashboard.core.access import ALL_ROWS, scope_for
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.review import report as report_mod
from dashboard.store import database as dbmod
from dashboard.store import users as users_mod
from queries import overview, reference


@click.command("report", cls=_OneLineErrors)
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD",
              help="first local day of the period")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD",
              help="last local day of the period (inclusive)")
@click.option("--site", "sites", multiple=True, metavar="S", help="only these sites")
@click.option("--out", "out", required=True, metavar="FILE.html",
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="where to write the report")
@db_option
@click.option("--as-user", "as_user", default=None, metavar="LOGIN",
              help="apply this user's scope (a supervisor: own site only)")
def report(start, end, sites, out, db_url, as_user) -> None:
    """The review report for --from..--to: volumes and team calibration, service quality,
    acts and online promotion, repeat contacts; charts inlined, readable offline.

    Ramp-up and campaign peaks are read from the first coverage start of the perimeter up
    to --to.
    """
    start_day = _date(start, "--from")
    end_day = _date(end, "--to")
    if end_day < start_day:
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
        filters = Filters(start=start_day, end=end_day, sites=_codes(sites), scope=scope)
        names = dict(zip(coverage["site"], coverage["site_name"]))
        data = report_mod.collect(
            lambda f, by, metrics: compute_kpis(engine, f, by, metrics=metrics), filters,
            coverage, campaigns, report_mod.perimeter_label(filters, names))
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"database error: {first}") from exc
    html = report_mod.render_html(data)
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from exc
    click.echo(str(out))
