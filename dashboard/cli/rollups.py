"""`python -m dashboard rollups …`: the rollup tables the pages read (dashboard.engine.rollups)."""

from __future__ import annotations

import time

import click

from dashboard.cli.options import db_option, resolve_db
from dashboard.engine import rollups as rollmod
from dashboard.store import database as dbmod


@click.group("rollups")
def rollups() -> None:
    """Rollup tables: per-day statistics of the contacts."""


@rollups.command("rebuild")
@db_option
def rebuild(db_url: str | None) -> None:
    """Recompute every rollup from the raw contacts (after a bulk load or a change of
    their definition); ingest keeps them up to date day by day afterwards."""
    url = resolve_db(db_url)
    dbmod.upgrade(url)
    started = time.perf_counter()
    counts = rollmod.rebuild(dbmod.get_engine(url))
    click.echo(", ".join(f"{name}: {n:,} rows" for name, n in counts.items())
               + f" in {time.perf_counter() - started:.1f} s")
