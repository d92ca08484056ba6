"""`python -m dashboard demo`: fill a database with the simulated pilot history."""

from __future__ import annotations

import sys

import click

from dashboard import demo as demomod
from dashboard.commands.options import db_option, resolve_db

_STEPS = 1000


@click.command("demo")
@db_option
@click.option("--seed", default=2015, show_default=True, type=int,
              help="random seed: the same seed gives the same database")
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(min=0.001),
              help="volume multiplier (1 = a few hundred thousand contacts; 30 = millions)")
@click.option("--replace", is_flag=True,
              help="delete the demo's earlier rows (source 'demo') instead of refusing")
def demo(db_url: str | None, seed: int, scale: float, replace: bool) -> None:
    """Fill a database with the simulated history of the Rouen and Chartres pilots."""
    url = resolve_db(db_url)
    with click.progressbar(length=_STEPS, label="simulating", file=sys.stderr, show_eta=True,
                           show_percent=True) as bar:
        done = 0

        def progress(label: str, fraction: float) -> None:
            nonlocal done
            target = min(_STEPS, int(round(fraction * _STEPS)))
            bar.label = f"simulating {label}"
            if target > done:
                bar.update(target - done)
                done = target

        try:
            summary = demomod.build_demo(url, seed=seed, scale=scale, progress=progress,
                                         replace=replace)
        except demomod.DemoExistsError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(
        f"demo: {summary.contacts:,} contacts ({summary.phone:,} calls, "
        f"{summary.email:,} e-mails), {summary.acts:,} acts, {summary.agents} agents, "
        f"{summary.sessions:,} sessions, {summary.users} users in {summary.seconds:.1f} s"
    )
