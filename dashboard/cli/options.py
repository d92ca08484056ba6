"""Options shared by every subcommand."""

from __future__ import annotations

import click
from sqlalchemy import Engine

from dashboard.core import config, dburl
from dashboard.store import database


def db_option(func):
    """`--db URL`, default from DASHBOARD_DB_URL, else the demo SQLite file."""
    return click.option(
        "--db",
        "db_url",
        default=None,
        metavar="URL",
        help="database URL, sqlite:///FILE or postgresql://user:password@host/name "
        "[default: $DASHBOARD_DB_URL, else $DATABASE_URL, else sqlite:///data/demo.sqlite]",
    )(func)


def resolve_db(db_url: str | None) -> str:
    """The URL given on the command line, else the configured one, normalised and checked
    by opening a connection: one that cannot be used stops the command in one line."""
    try:
        return database.check_url(db_url or config.db_url())
    except dburl.DatabaseUrlError as exc:
        raise click.ClickException(str(exc)) from None


def initialised_engine(url: str) -> Engine:
    """The engine of URL, once its schema is known to be there (else one line)."""
    engine = database.get_engine(url)
    if not database.is_initialised(engine):
        raise click.ClickException(
            f"no dashboard schema in {engine.url.render_as_string()}: "
            "run `python -m dashboard db upgrade` first")
    return engine
