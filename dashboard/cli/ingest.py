"""`python -m dashboard ingest KIND FILE`: import contacts, acts, agents, agent sessions, or
the review's local reception, surveys, staff surveys, incidents and training."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from dashboard.cli.options import db_option, resolve_db
from dashboard.ingest import KINDS, ingest_file
from dashboard.ingest.core import Progress
from dashboard.ingest.read import ENCODINGS
from dashboard.store import database as dbmod


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers; the import is still recorded
        return None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _kinds_with(column: str, default: str) -> str:
    """The kinds for which --site (or --department) stands in for an empty COLUMN."""
    return ", ".join(name for name, kind in KINDS.items()
                     if column in kind.columns and getattr(kind, default))


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class _Bar:
    """Progress on stderr: a bar on a terminal, else (with --progress) one line per step."""

    def __init__(self, file: Path, lines: bool) -> None:
        self.file = file
        self.lines = lines
        self.bar = None
        self.done = 0

    def __call__(self, p: Progress) -> None:
        if self.lines:
            if p.phase == "read":
                share = f", {100 * p.done_bytes / p.total_bytes:.0f} %" if p.total_bytes else ""
                click.echo(f"progress: read {p.rows} rows ({_mb(p.done_bytes)} of "
                           f"{_mb(p.total_bytes)}{share})", err=True)
            elif p.phase == "wait":
                click.echo("progress: waiting for another import to finish", err=True)
            elif p.phase == "merge":
                click.echo(f"progress: merging {p.rows} rows", err=True)
            return
        if p.phase == "read":
            if self.bar is None:
                self.bar = click.progressbar(length=max(p.total_bytes, 1),
                                             label=f"importing {self.file.name}",
                                             file=sys.stderr, show_eta=True)
                self.bar.__enter__()
            self.bar.update(p.done_bytes - self.done)
            self.done = p.done_bytes
        else:
            self.close()
            if p.phase == "wait":
                click.echo("waiting for another import to finish…", err=True)
            elif p.phase == "merge":
                click.echo(f"merging {p.rows} rows…", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("ingest")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@db_option
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML file mapping a vendor export to the import format "
                   "(see examples/anonymous-bank.toml)")
@click.option("--timezone", "timezone", metavar="TZ",
              help="time zone of naive timestamps in FILE (and of sites it creates) "
                   "[default: the mapping's, else each site's, else Europe/Paris]")
@click.option("--site", metavar="CODE",
              help="site of rows whose site is empty or absent (kinds: "
                   f"{_kinds_with('site', 'site_default')})")
@click.option("--department", metavar="CODE",
              help="département of rows whose department is empty or absent (kinds: "
                   f"{_kinds_with('department', 'department_default')})")
@click.option("--source", metavar="NAME",
              help="source name [default: the mapping's, else FILE's stem]")
@click.option("--encoding", type=click.Choice(ENCODINGS), default=None,
              help="CSV text encoding [default: the mapping's, else utf-8]")
@click.option("--quarantine-dir", type=click.Path(file_okay=False, path_type=Path),
              help="where rejected rows go [default: DASHBOARD_QUARANTINE_DIR, quarantine/]")
@click.option("--progress/--no-progress", default=None,
              help="show progress on stderr [default: a bar when stderr is a terminal]; "
                   "--progress off a terminal prints one line per batch")
@click.option("--batch-rows", type=click.IntRange(min=1), default=None, metavar="N",
              help="rows handled at once (memory use grows with it) [default: 100000]")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="how long to wait for another import to finish [default: 3600]")
def ingest(kind: str, file: Path, db_url: str | None, mapping: Path | None,
           timezone: str | None, site: str | None, department: str | None,
           source: str | None, encoding: str | None, quarantine_dir: Path | None,
           progress: bool | None, batch_rows: int | None,
           lock_timeout: float | None) -> None:
    """Import FILE (CSV or Parquet) of KIND; exit 0 all loaded, 1 some rejected, 2 none.

    \b
    KIND is one of:
      contacts         calls and e-mails
      acts             acts of management done remotely
      agents           the agents of each site
      agent-sessions   agents' logged-in periods
      local-reception  what the local services received, per day and channel
      surveys          users' answers to the post-contact survey
      staff-surveys    the staff barometer (anonymous: no agent id accepted)
      incidents        outages of the contact tools
      training         agents' training days
      schedules        planned shifts (the rota), read by schedule adherence
    Columns of each kind: README, "Import your data".
    """
    terminal = sys.stderr.isatty()
    bar = _Bar(file, lines=not terminal) if (progress or (progress is None and terminal)) \
        else None
    try:
        url = resolve_db(db_url)
        dbmod.upgrade(url)
        report = ingest_file(url, kind, file, timezone=timezone, site=site,
                             department=department, source=source, encoding=encoding,
                             quarantine_dir=quarantine_dir, imported_by=_user(),
                             mapping=mapping, batch_rows=batch_rows, progress=bar,
                             lock_timeout=lock_timeout)
    except KeyboardInterrupt:
        # The load is one transaction: an interruption rolls all of it back.
        if bar:
            bar.close()
        click.echo("error: interrupted: nothing was loaded", err=True)
        raise SystemExit(2) from None
    except Exception as exc:  # the CLI's contract: one line on stderr, no traceback
        if bar:
            bar.close()
        click.echo(f"error: {type(exc).__name__}: {_one_line(exc)}", err=True)
        raise SystemExit(2) from None
    if bar:
        bar.close()
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.error:
        click.echo(f"error: {report.error}", err=True)
    if report.exit_code != 2 or report.rejected:
        click.echo(report.summary())
    raise SystemExit(report.exit_code)
