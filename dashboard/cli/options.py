"""Options shared by every subcommand."""

from __future__ import annotations

import click

from dashboard.core import config


def db_option(func):
    """`--db URL`, default from DASHBOARD_DB_URL, else the demo SQLite file."""
    return click.option(
        "--db",
        "db_url",
        default=None,
        metavar="URL",
        help="SQLAlchemy database URL [default: $DASHBOARD_DB_URL, else "
        "sqlite:///data/demo.sqlite]",
    )(func)


def resolve_db(db_url: str | None) -> str:
    """The URL given on the command line, else the configured one."""
    if db_url:
        return db_url
    return config.db_url()
