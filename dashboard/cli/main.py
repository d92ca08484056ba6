"""`python -m dashboard …`: the command-line interface (click)."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from dashboard.cli.adherence import adherence
from dashboard.cli.deliver import deliver
from dashboard.cli.demo import demo
from dashboard.cli.forecast import forecast
from dashboard.cli.ingest import ingest
from dashboard.cli.kpis import kpis
from dashboard.cli.options import db_option, resolve_db
from dashboard.cli.report import report
from dashboard.cli.review import review
from dashboard.cli.rollups import rollups
from dashboard.cli.staffing import staffing
from dashboard.cli.subscriptions import subscriptions
from dashboard.cli.users import users
from dashboard.store import database as dbmod
from dashboard.store import reference


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Supervisor analytics dashboard for public-service contact centres."""


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@db_option
@click.option("--revision", default="head", show_default=True)
def db_upgrade(db_url: str | None, revision: str) -> None:
    """Create or upgrade the schema (Alembic migrations)."""
    url = resolve_db(db_url)
    dbmod.upgrade(url, revision)
    click.echo(f"schema at {revision}")


@main.group("reference")
def reference_group() -> None:
    """Reference data: sites, départements, coverage, campaigns."""


@reference_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                default=reference.PILOT_FILE)
@db_option
def reference_load(file: Path, db_url: str | None) -> None:
    """Load (insert or update) reference data from a TOML FILE [default: the pilot's]."""
    url = resolve_db(db_url)
    dbmod.upgrade(url)
    try:
        counts = reference.load_reference(dbmod.get_engine(url), file)
    except reference.ReferenceError as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:  # a database the file's rows do not fit
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"database error: {first}") from exc
    click.echo(", ".join(f"{name}: {n}" for name, n in counts.items()))


for _command in (adherence, deliver, demo, forecast, ingest, kpis, report, review, rollups,
                 staffing, subscriptions, users):
    main.add_command(_command)
