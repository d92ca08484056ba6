"""`python -m dashboard ingest KIND FILE`: import contacts, acts, agents or agent sessions."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from dashboard import db as dbmod
from dashboard.commands.options import db_option, resolve_db
from dashboard.ingest import KINDS, ingest_file
from dashboard.ingest.read import ENCODINGS


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers; the import is still recorded
        return None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@click.command("ingest")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@db_option
@click.option("--timezone", "timezone", metavar="TZ",
              help="time zone of naive timestamps in FILE (and of sites it creates) "
                   "[default: each site's, else Europe/Paris]")
@click.option("--site", metavar="CODE", help="site of rows whose site is empty or absent")
@click.option("--department", metavar="CODE",
              help="département of rows whose department is empty or absent")
@click.option("--source", metavar="NAME", help="source name [default: FILE's stem]")
@click.option("--encoding", type=click.Choice(ENCODINGS), default="utf-8", show_default=True,
              help="CSV text encoding")
@click.option("--quarantine-dir", type=click.Path(file_okay=False, path_type=Path),
              help="where rejected rows go [default: ./quarantine]")
def ingest(kind: str, file: Path, db_url: str | None, timezone: str | None, site: str | None,
           department: str | None, source: str | None, encoding: str,
           quarantine_dir: Path | None) -> None:
    """Import FILE (CSV or Parquet) of KIND; exit 0 all loaded, 1 some rejected, 2 none."""
    try:
        url = resolve_db(db_url)
        dbmod.upgrade(url)
        report = ingest_file(url, kind, file, timezone=timezone, site=site,
                             department=department, source=source, encoding=encoding,
                             quarantine_dir=quarantine_dir, imported_by=_user())
    except KeyboardInterrupt:
        # The load is one transaction: an interruption rolls all of it back.
        click.echo("error: interrupted: nothing was loaded", err=True)
        raise SystemExit(2) from None
    except Exception as exc:  # the CLI's contract: one line on stderr, no traceback
        click.echo(f"error: {type(exc).__name__}: {_one_line(exc)}", err=True)
        raise SystemExit(2) from None
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.error:
        click.echo(f"error: {report.error}", err=True)
    if report.exit_code != 2 or report.rejected:
        click.echo(report.summary())
    raise SystemExit(report.exit_code)
