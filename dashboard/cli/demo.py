"""`python -m dashboard demo`: fill a database with the simulated pilot history."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dashboard.cli.options import db_option, resolve_db
from dashboard.demo import simulation as demomod
from dashboard.store.reference import PILOT_FILE

_STEPS = 1000


@click.command("demo")
@db_option
@click.option("--seed", default=2015, show_default=True, type=int,
              help="random seed: the same seed gives the same database")
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(min=0.001),
              help="volume multiplier (1 = a few hundred thousand contacts; 30 = millions)")
@click.option("--replace", is_flag=True,
              help="delete the demo's earlier rows (source 'demo') instead of refusing")
@click.option("--reference", "reference_file", type=click.Path(exists=True, dir_okay=False,
                                                              path_type=Path),
              default=str(PILOT_FILE), show_default="dashboard/pilot.toml",
              help="reference file of the simulated network (sites, départements, "
                   "coverage, campaigns), e.g. bench/national.toml")
def demo(db_url: str | None, seed: int, scale: float, replace: bool,
         reference_file: Path) -> None:
    """Fill a database with the simulated history of the Rouen and Chartres pilots (or of
    the network of --reference)."""
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
                                         replace=replace, reference_file=reference_file)
        except demomod.DemoExistsError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(
        f"demo: {summary.contacts:,} contacts ({summary.phone:,} calls, "
        f"{summary.email:,} e-mails), {summary.acts:,} acts, {summary.agents} agents, "
        f"{summary.sessions:,} sessions, {summary.users} users in {summary.seconds:.1f} s"
    )
