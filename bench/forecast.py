"""The forecast the pages read (Aujourd'hui's next days and the eve's, Effectifs' four
weeks): dashboard.ui.cache.forecast for the busiest site's supervisor, timed like a page.

- cold: empty caches, the whole read (history through the engine's rollups, the model,
  Erlang C, the planned rota); the median of pages.COLD_RUNS runs;
- warm: the same through st.cache_data, as a page reads it again;
- db_warm: again bypassing every result cache (database buffers warm);
- naive: the same forecast with its history read from the raw contacts (compute_kpis'
  "raw" source: no rollups), what a dashboard without them would pay;
- floor: the model and Erlang C alone, on histories already in memory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import polars as pl

from dashboard.core import config
from dashboard.core.access import Scope
from dashboard.engine import forecasting, period_cache
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics import forecast as fc
from dashboard.store import database as dbmod
from queries import forecast as q_forecast

from bench import pages


def _direct(url: str, site: str, source: str = "auto") -> float:
    """The body of cache.forecast, no result cache, history read from SOURCE."""
    engine = dbmod.get_engine(url)
    scope = Scope("supervisor", site=site)
    began = time.perf_counter()
    filters, ref = forecasting.history_filters(engine, scope, (site,))
    forecasting.forecast_for(engine, filters, ref, 28, source=source)
    future = dataclasses.replace(filters, start=filters.end + dt.timedelta(days=1),
                                 end=filters.end + dt.timedelta(days=28))
    forecasting.planned_agents(engine, future)
    return time.perf_counter() - began


def _cached(url: str, site: str, last: dt.date) -> float:
    from dashboard.ui import cache

    began = time.perf_counter()
    cache.forecast(url, Scope("supervisor", site=site), (site,), last, cache.FORECAST_HORIZON)
    return time.perf_counter() - began


def _floor(url: str, site: str) -> float:
    engine = dbmod.get_engine(url)
    filters, ref = forecasting.history_filters(engine, Scope("supervisor", site=site), (site,))

    def kpis(f, by, metrics):
        return compute_kpis(engine, f, by, metrics=metrics)

    days = q_forecast.day_history(kpis, filters)
    slots = q_forecast.slot_history(kpis, filters)
    handle = q_forecast.handle_history(kpis, filters)
    defaults = config.default_thresholds()
    targets = ref.sites.select("site", pl.col("sl_target").fill_null(defaults.sl_target),
                               pl.col("sl_seconds").fill_null(defaults.sl_seconds))
    began = time.perf_counter()
    _, slot_fc = fc.forecast(days, slots, ref, 28)
    fc.agents_needed(slot_fc, fc.handle_times(handle, filters.end), targets)
    return time.perf_counter() - began


def measure_forecast(url: str, db_kind: str, log=print) -> dict:
    """{"prevision": [one result row]} for the database at URL (pages._result's columns)."""
    pages._URLS.add(url)
    ctx = pages.Context(url)
    cold = pages._cold(lambda: _cached(url, ctx.site, ctx.last))
    period_cache.clear()
    db_warm = _direct(url, ctx.site)
    pages._clear_caches()
    _cached(url, ctx.site, ctx.last)
    warm = _cached(url, ctx.site, ctx.last)
    naive = _direct(url, ctx.site, source="raw")
    floor = _floor(url, ctx.site)
    return {"prevision": [pages._result(log, "prevision", db_kind, "default", ctx.contacts,
                                        None, (cold, warm, db_warm, naive, floor))]}
