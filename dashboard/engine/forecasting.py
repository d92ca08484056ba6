"""The forecast of a perimeter, as the CLI and the pages read it: the reads (the engine's
history, the reference calendar), the model (dashboard.metrics.forecast) and the agents
Erlang C needs per half-hour. One definition for `python -m dashboard forecast` and for
Aujourd'hui's "Demain et les jours suivants"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Engine

from dashboard.core import config
from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics import adherence
from dashboard.metrics import forecast as fc
from queries import forecast as q_forecast
from queries import reference as q_reference
from queries import schedules as q_schedules


@dataclass(frozen=True)
class Forecast:
    """The days after ORIGIN (the last day with data): per series and day, and per site
    and half-hour with the agents needed (metrics.forecast.agents_needed's columns)."""

    origin: dt.date
    days: pl.DataFrame
    slots: pl.DataFrame


def history_filters(engine: Engine, scope: Scope, sites: Sequence[str] = ()
                    ) -> tuple[Filters, fc.Reference] | None:
    """The whole history of the perimeter (SITES within SCOPE) and the reference calendar;
    None without any contact."""
    with engine.connect() as conn:
        calendar = q_forecast.calendar(conn)
        span = q_forecast.history_span(conn, scope, tuple(sites))
    if span is None:
        return None
    return Filters(start=span[0], end=span[1], sites=tuple(sites), scope=scope), \
        fc.Reference(**calendar)


def forecast_for(engine: Engine, filters: Filters, ref: fc.Reference, horizon: int,
                 aht_seconds: float | None = None, source: str = "auto") -> Forecast:
    """The HORIZON days after FILTERS' last day, from the history FILTERS spans (SOURCE:
    compute_kpis', "raw" for the benchmark's reading without rollups)."""
    def kpis(f, by, metrics):
        return compute_kpis(engine, f, by, metrics=metrics, source=source)

    day_fc, slot_fc = fc.forecast(q_forecast.day_history(kpis, filters),
                                  q_forecast.slot_history(kpis, filters), ref, horizon)
    aht = fc.handle_times(q_forecast.handle_history(kpis, filters), filters.end)
    defaults = config.default_thresholds()
    targets = ref.sites.select(
        "site", pl.col("sl_target").fill_null(defaults.sl_target),
        pl.col("sl_seconds").fill_null(defaults.sl_seconds))
    return Forecast(filters.end, day_fc, fc.agents_needed(slot_fc, aht, targets, aht_seconds))


def planned_agents(engine: Engine, filters: Filters) -> pl.DataFrame:
    """Agents planned on a contact activity per site, local date and half-hour of FILTERS'
    days (the imported schedules: planned contact minutes / 30): `site`, `local_date`,
    `local_slot`, `agents_planned`."""
    margin = dt.timedelta(days=1)
    after = dt.datetime.combine(filters.start, dt.time()) - margin
    before = dt.datetime.combine(filters.end, dt.time()) + 2 * margin
    with engine.connect() as conn:
        plan = q_schedules.schedule_rows(conn, filters, after, before)
        sites = q_reference.site_settings(conn).select("site", "timezone")
    none = pl.DataFrame(schema={"agent_id": pl.String, "site": pl.String,
                                "start_at": pl.Datetime("us"), "end_at": pl.Datetime("us")})
    slots = adherence.slot_adherence(plan, none, sites, filters.start, filters.end)
    return (slots.group_by("site", "local_date", "local_slot")
            .agg((pl.col("planned_contact_minutes").sum() / 30).alias("agents_planned"))
            .with_columns(pl.col("local_slot").cast(pl.Int64))
            .sort("site", "local_date", "local_slot"))
