"""`python -m dashboard staffing`: Erlang C / Erlang A staffing for one interval, as JSON."""

from __future__ import annotations

import json
import math

import click

from dashboard.core import config
from dashboard.metrics import erlang


class _InputError(click.ClickException):
    """Bad input: one line on stderr and exit status 2, like a usage error."""

    exit_code = 2


class _OneLineErrorsCommand(click.Command):
    """A command whose usage errors print one line, not the usage block."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as usual, turning a usage error into a one-line input error."""
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _InputError(exc.format_message()) from exc


class _TargetFraction(click.ParamType):
    """A service-level target as a fraction (0.8) or a percentage (80 or 80%)."""

    name = "FRACTION|PERCENT"

    def convert(self, value, param, ctx):
        """0.8, 80 and 80% all mean 0.8; the result must lie strictly between 0 and 1."""
        if isinstance(value, float):
            return value
        text = str(value).strip()
        percent = text.endswith("%")
        try:
            number = float(text.removesuffix("%"))
        except ValueError:
            self.fail(f"{value!r} is not a number", param, ctx)
        # Values above 1 cannot be fractions, so they are percentages; 1 itself is 100 %.
        if percent or number > 1:
            number /= 100
        if not (math.isfinite(number) and 0 < number < 1):
            self.fail(f"{value!r} must be a fraction in (0, 1) or a percentage in (0, 100)",
                      param, ctx)
        return number


def _json_number(value):
    # Six decimals are finer than any staffing decision and keep the output readable.
    return round(value, 6) if isinstance(value, float) else value


@click.command("staffing", cls=_OneLineErrorsCommand)
@click.option("--calls", type=float, required=True,
              help="Calls offered in the interval (short abandons excluded); may be a forecast "
              "with decimals.")
@click.option("--interval-minutes", type=float, default=30.0, show_default=True,
              help="Length of the interval.")
@click.option("--aht-seconds", type=float, required=True,
              help="Average handle time (talk + wrap-up) in seconds.")
@click.option("--target-sl", type=_TargetFraction(), default=None,
              help="Service-level target: a fraction (0.8) or a percentage (80 or 80%); values "
              "above 1 are read as percentages [default: $DASHBOARD_SL_TARGET, else 0.8].")
@click.option("--target-seconds", type=float, default=None,
              help="Service-level threshold in seconds [default: $DASHBOARD_SL_SECONDS, else 20].")
@click.option("--patience-seconds", type=float, default=None,
              help="Mean caller patience: switches from Erlang C to Erlang A (with abandonment).")
@click.option("--agents", type=click.IntRange(min=0), default=None,
              help="Report the figures for this many agents instead of the required number.")
def staffing(calls, interval_minutes, aht_seconds, target_sl, target_seconds,
             patience_seconds, agents) -> None:
    """Agents required to reach a service level for one interval (Erlang C, or Erlang A).

    Prints JSON: required_agents, offered_load_erlangs, and for the required staffing (or
    --agents) the service level, ASA, occupancy and probability of waiting; with
    --patience-seconds also the abandonment rate. Erlang A's service level counts an
    abandoning caller as not answered in time.
    """
    thresholds = config.default_thresholds()
    if target_sl is None:
        target_sl = thresholds.sl_target
    if target_seconds is None:
        target_seconds = float(thresholds.sl_seconds)
    try:
        result = erlang.staffing(calls, interval_minutes, aht_seconds, target_sl,
                                 target_seconds, patience_seconds=patience_seconds,
                                 agents=agents)
    except ValueError as exc:
        raise _InputError(str(exc)) from exc

    out = result.to_dict()
    if result.abandon_rate is None:
        del out["abandon_rate"]  # Erlang C has no abandonment: the key would mislead
    out["target_sl"] = target_sl
    out["target_seconds"] = target_seconds
    if patience_seconds is not None:
        out["patience_seconds"] = patience_seconds
    click.echo(json.dumps({k: _json_number(v) for k, v in out.items()}, indent=2))

    load = result.offered_load_erlangs
    if not result.stable:
        click.echo(
            f"warning: {result.agents} agents cannot carry an offered load of {load:.2f} "
            "erlangs: under Erlang C the queue grows without bound (service level 0, "
            f"unbounded wait); a stable queue needs at least {math.floor(load) + 1} agents",
            err=True,
        )
    elif result.model == "erlang_a" and 0 < load and result.agents <= load:
        click.echo(
            f"note: {result.agents} agents are below the offered load of {load:.2f} erlangs; "
            f"only abandonment ({result.abandon_rate:.1%} of callers) keeps the queue finite",
            err=True,
        )
