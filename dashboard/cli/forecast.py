"""`python -m dashboard forecast`: the contacts expected in the coming days with their
80 % interval and the agents needed per half-hour; `forecast backtest`: the model's
measured accuracy against the seasonal naive forecast (dashboard.metrics.forecast)."""

from __future__ import annotations

import dataclasses
import json

import click
import polars as pl
from sqlalchemy.exc import SQLAlchemyError

from dashboard.cli.kpis import (BadArgument, _date, _OneLineErrors, as_user_scope,
                                checked_sites, one_line, to_csv, to_json)
from dashboard.cli.options import db_option, initialised_engine, resolve_db
from dashboard.engine import forecasting
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics import forecast as fc
from queries import forecast as q_forecast

_FORMATS = ("json", "csv")


class _OneLineGroup(click.Group):
    """A command group whose argument errors (an unknown subcommand too) print one line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as click does, re-raising any usage error as a one-line BadArgument."""
        return one_line(ctx, lambda: super(_OneLineGroup, self).parse_args(ctx, args))

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """The subcommand ARGS name, an unknown one as a one-line BadArgument."""
        return one_line(ctx, lambda: super(_OneLineGroup, self).resolve_command(ctx, args))


def _site_option(func):
    return click.option("--site", "sites", multiple=True, metavar="S",
                        help="only these sites (repeat or separate with commas) "
                             "[default: every site in scope]")(func)


def _as_user_option(func):
    return click.option("--as-user", "as_user", default=None, metavar="LOGIN",
                        help="apply this user's scope (a supervisor: own site only)")(func)


def _inputs(db_url: str | None, sites: tuple[str, ...], as_user: str | None):
    """Engine, filters over the whole history in scope, and the reference calendar."""
    url = resolve_db(db_url)
    engine = initialised_engine(url)
    with engine.connect() as conn:
        scope = as_user_scope(conn, as_user)
        if scope.role == "agent":
            raise BadArgument("--as-user: an agent's own contacts have no forecast")
        known = q_forecast.calendar(conn)["sites"].get_column("site").to_list()
        codes = checked_sites(known, sites, scope)
    found = forecasting.history_filters(engine, scope, codes)
    if found is None:
        raise click.ClickException("no contacts in this perimeter: nothing to forecast from")
    return engine, *found


def _kpis(engine):
    return lambda filters, by, metrics: compute_kpis(engine, filters, by, metrics=metrics)


def _rounded(frame: pl.DataFrame, digits: int) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).round(digits) for c, t in frame.schema.items()
                              if t == pl.Float64)


def _day_key(col: str) -> pl.Expr:
    return pl.col(col).dt.strftime("%Y-%m-%d")


def _slot_key() -> pl.Expr:
    minutes = pl.col("local_slot") * 30
    return pl.format("{}:{}", (minutes // 60).cast(pl.String).str.zfill(2),
                     (minutes % 60).cast(pl.String).str.zfill(2)).alias("slot")


@click.group("forecast", cls=_OneLineGroup, invoke_without_command=True)
@_site_option
@click.option("--days", "horizon", type=click.IntRange(1, fc.HORIZON), default=fc.HORIZON,
              show_default=True, help="days after the last day with data")
@click.option("--aht-seconds", type=click.FloatRange(min=0, min_open=True), default=None,
              help="handle time for every half-hour [default: the recent weeks' AHT of "
                   "the same weekday and half-hour]")
@click.option("--origin", "origin", default=None, metavar="YYYY-MM-DD",
              help="forecast as made at the end of this day, from the data up to it (the "
                   "eve's forecast of the next day, to set beside what happened) "
                   "[default: the last day with data]")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="json",
              show_default=True)
@db_option
@_as_user_option
@click.pass_context
def forecast(ctx, sites, horizon, aht_seconds, origin, fmt, db_url, as_user) -> None:
    """Contacts expected per day (each site, channel and département) and calls per
    half-hour of the opening hours (each site) for the --days after the last day with
    data, with the 80 % interval, and the agents Erlang C needs per half-hour for the
    site's service-level target; with --origin D, the forecast made from the data up to
    D. One object (JSON) or line (CSV) per row: `grain` day or
    slot, `site`, `channel`, `department` (day rows), `origin`, `day`, `slot` (slot
    rows), `horizon_days`, `expected`, `low`, `high`, and on slot rows `aht_seconds`,
    `agents_needed`, `agents_needed_low`, `agents_needed_high`."""
    if ctx.invoked_subcommand is not None:
        return
    origin_day = _date(origin, "--origin") if origin else None
    try:
        engine, filters, ref = _inputs(db_url, sites, as_user)
        if origin_day is not None:
            if not filters.start <= origin_day <= filters.end:
                raise BadArgument(f"--origin {origin_day}: outside the history, "
                                  f"{filters.start} to {filters.end}")
            filters = dataclasses.replace(filters, end=origin_day)
        result = forecasting.forecast_for(engine, filters, ref, horizon, aht_seconds)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"database error: {first}") from exc
    day_fc, staffed = result.days, result.slots
    if day_fc.height == 0:
        raise click.ClickException(f"no département has {fc.MIN_HISTORY} days of history "
                                   "yet: nothing to forecast")
    rows = pl.concat([
        day_fc.select(pl.lit("day").alias("grain"), "site", "channel", "department",
                      _day_key("origin").alias("origin"), _day_key("local_date").alias("day"),
                      pl.lit(None, dtype=pl.String).alias("slot"), "horizon_days",
                      "expected", "low", "high"),
        staffed.select(pl.lit("slot").alias("grain"), "site",
                       pl.lit("phone").alias("channel"),
                       pl.lit(None, dtype=pl.String).alias("department"),
                       _day_key("origin").alias("origin"),
                       _day_key("local_date").alias("day"), _slot_key(), "horizon_days",
                       "expected", "low", "high", "aht_seconds", "agents_needed",
                       "agents_needed_low", "agents_needed_high"),
    ], how="diagonal_relaxed")
    rows = _rounded(rows, 2)
    if fmt == "json":
        click.echo(to_json(rows))
    else:
        click.echo(to_csv(rows), nl=False)


@forecast.command("backtest", cls=_OneLineErrors)
@_site_option
@click.option("--every", type=click.IntRange(min=1), default=1, show_default=True,
              help="days between two forecast origins")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json",
              show_default=True)
@db_option
@_as_user_option
def backtest(sites, every, fmt, db_url, as_user) -> None:
    """Rolling-origin backtest over the whole history: one object per site, channel,
    grain (`day`: each département's day totals; `slot`: the site's calls per half-hour
    of its opening hours) and `horizon_days` (1, 7, 28) with `origins`, `model_wape`,
    `naive_wape` (the seasonal naive forecast, on the same targets), `interval_coverage`
    (day grain: share of actual days inside the 80 % interval; null for slot), and
    `campaign_model_wape`, `campaign_naive_wape` (over the days a campaign covers)."""
    try:
        engine, filters, ref = _inputs(db_url, sites, as_user)
        kpis = _kpis(engine)
        result = fc.backtest(q_forecast.day_history(kpis, filters),
                             q_forecast.slot_history(kpis, filters), ref, every)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"database error: {first}") from exc
    click.echo(json.dumps(_rounded(result, 4).to_dicts(), ensure_ascii=False, indent=2))
