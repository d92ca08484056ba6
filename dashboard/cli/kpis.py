"""`python -m dashboard kpis`: the KPIs of spec/metrics.md for a period, as JSON, CSV or a table."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence

import click
import polars as pl
from sqlalchemy.exc import SQLAlchemyError

from dashboard.charts import exports
from dashboard.cli.options import db_option, initialised_engine, resolve_db
from dashboard.core import formatting
from dashboard.core.access import ALL_ROWS, Scope, present_agents, scope_for
from dashboard.core.filters import Filters, Overrides
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics.definitions import DIMENSIONS, METRICS
from dashboard.store import users as users_mod

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DIM_LABELS = {
    "day": "Jour", "week": "Semaine", "month": "Mois", "slot": "Créneau", "site": "Site",
    "department": "Département", "channel": "Canal", "queue": "File", "agent": "Agent",
    "campaign": "Campagne",
}


class BadArgument(click.UsageError):
    """A bad command-line argument: shown as one line, exit status 2."""

    def show(self, file=None) -> None:
        """Print the one-line error to stderr."""
        click.echo(f"Error: {self.format_message()}", err=True)


def one_line(ctx: click.Context, call):
    """CALL(), any click usage error it raises re-raised as a one-line BadArgument."""
    try:
        return call()
    except BadArgument:
        raise
    except click.UsageError as exc:
        raise BadArgument(exc.format_message(), ctx) from exc


class _OneLineErrors(click.Command):
    """A command whose argument errors (click's own included) print one line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as click does, re-raising any usage error as a one-line BadArgument."""
        return one_line(ctx, lambda: super(_OneLineErrors, self).parse_args(ctx, args))


def as_user_scope(conn, as_user: str | None) -> Scope:
    """The scope of `--as-user LOGIN` (an active user), or every row without it."""
    if as_user is None:
        return ALL_ROWS  # no --as-user: the operator reads every row
    user = users_mod.active_user(conn, as_user)
    if user is None:
        raise BadArgument(f"--as-user {as_user!r}: no such active user")
    return scope_for(user)


def checked_sites(known: Iterable[str], sites: Iterable[str], scope: Scope | None = None
                  ) -> tuple[str, ...]:
    """`--site` values, each one of the KNOWN sites and, with SCOPE, one it allows (else
    one line)."""
    known = sorted(set(known))
    codes = _codes(sites)
    for code in codes:
        if code not in known:
            raise BadArgument(f"--site {code!r}: no such site; known: {', '.join(known)}")
        if scope is not None and not scope.allows_site(code):
            raise BadArgument(f"--site {code!r}: outside the scope of --as-user")
    return codes


def _date(value: str, option: str) -> dt.date:
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadArgument(f"{option} must be a date YYYY-MM-DD, got {value!r}") from None


def _codes(values: Iterable[str]) -> tuple[str, ...]:
    """Repeated and/or comma-separated option values → a tuple of codes."""
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(dict.fromkeys(out))


def to_json(frame: pl.DataFrame) -> str:
    """KPI frame → a JSON array of objects (null where undefined, full-precision floats)."""
    return json.dumps(frame.to_dicts(), ensure_ascii=False, indent=2)


def to_csv(frame: pl.DataFrame) -> str:
    """KPI frame → CSV: same columns as JSON, `.` decimals, empty cell for null; a text
    key a spreadsheet would run as a formula (`=…`, `@…`) gets a leading `'` (exports)."""
    return exports.csv_text(frame, bom=False)


def to_table(frame: pl.DataFrame, by: Sequence[str]) -> str:
    """KPI frame → a text table for people, in French.

    One line per metric (its French label), one column per group, values formatted by
    dashboard.core.formatting according to the metric's unit.
    """
    if by:
        headers = [
            " · ".join(formatting.format_key(row[d], d) for d in by)
            for row in frame.select(by).iter_rows(named=True)
        ]
        corner = " · ".join(_DIM_LABELS[d] for d in by)
    else:
        headers = ["Valeur"]
        corner = "Indicateur"
    lines = [[corner, *headers]]
    for metric in METRICS:
        values = frame.get_column(metric.key).to_list()
        lines.append([metric.label, *(formatting.format_value(v, metric.unit) for v in values)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for n, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


@click.command("kpis", cls=_OneLineErrors)
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD",
              help="first local day of the period")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD",
              help="last local day of the period (inclusive)")
@db_option
@click.option("--by", "by", multiple=True, metavar="DIM[,DIM…]",
              help=f"group by these dimensions: {', '.join(DIMENSIONS)}")
@click.option("--site", "sites", multiple=True, metavar="S", help="only these sites")
@click.option("--department", "departments", multiple=True, metavar="D",
              help="only these départements")
@click.option("--channel", "channels", multiple=True, metavar="phone|email",
              help="only this channel")
@click.option("--queue", "queues", multiple=True, metavar="Q", help="only these queues")
@click.option("--agent", "agents", multiple=True, metavar="A", help="only these agents")
@click.option("--sl-seconds", type=click.IntRange(min=0), default=None,
              help="service-level threshold for every site (overrides the sites' own)")
@click.option("--short-abandon-seconds", type=click.IntRange(min=0), default=None,
              help="short-abandon threshold for every site (overrides the sites' own)")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "table"]), default="json",
              show_default=True)
@click.option("--as-user", "as_user", default=None, metavar="LOGIN",
              help="apply this user's scope (agent: own rows; supervisor: own site)")
def kpis(start, end, db_url, by, sites, departments, channels, queues, agents, sl_seconds,
         short_abandon_seconds, fmt, as_user) -> None:
    """KPIs of spec/metrics.md for the local days --from..--to, optionally grouped."""
    start_day = _date(start, "--from")
    end_day = _date(end, "--to")
    if end_day < start_day:
        raise BadArgument(f"--to {end_day} is before --from {start_day}")
    dims = _codes(by)
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise BadArgument(f"unknown --by dimension {unknown[0]!r}; known: {', '.join(DIMENSIONS)}")
    if len(set(_codes(by))) != len([p for v in by for p in v.split(",") if p.strip()]):
        raise BadArgument("a --by dimension is repeated")
    chans = _codes(channels)
    bad = [c for c in chans if c not in ("phone", "email")]
    if bad:
        raise BadArgument(f"--channel must be phone or email, got {bad[0]!r}")
    overrides = Overrides(sl_seconds=sl_seconds, short_abandon_seconds=short_abandon_seconds)
    url = resolve_db(db_url)
    try:
        engine = initialised_engine(url)
        with engine.connect() as conn:
            scope = as_user_scope(conn, as_user)
        filters = Filters(
            start=start_day, end=end_day, sites=_codes(sites), departments=_codes(departments),
            channels=chans, queues=_codes(queues), agents=_codes(agents), scope=scope,
        )
        frame = compute_kpis(engine, filters, dims, overrides)
        frame = present_agents(frame, scope)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"database error: {first}") from exc
    if fmt == "json":
        click.echo(to_json(frame))
    elif fmt == "csv":
        click.echo(to_csv(frame), nl=False)
    else:
        click.echo(to_table(frame, dims))
