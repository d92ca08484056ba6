"""The figures a threshold alert is decided on (dashboard.metrics.alerts), read from the KPI
engine: one definition for `deliver` (dashboard.delivery.alerts) and for Aujourd'hui's
alerts of the day (dashboard.ui.cache.day_alerts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Engine

from dashboard.core.access import ALL_ROWS, Scope
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics import alerts as rules
from queries import alerts as q_alerts
from queries import freshness, staffing


def thresholds_of(frame: pl.DataFrame) -> list[rules.Threshold]:
    """queries.alerts.thresholds rows → Threshold."""
    return [rules.Threshold(r["site"], r["metric"], r["threshold"], r["minutes"])
            for r in frame.iter_rows(named=True)]


# compute_kpis(filters, by, metrics) with its engine bound; a page passes its cached one.
KpiReader = Callable[[Filters, Sequence[str], Sequence[str]], pl.DataFrame]


def _engine_reader(engine: Engine) -> KpiReader:
    return lambda filters, by, metrics: compute_kpis(engine, filters, by, metrics=metrics)


def site_day(engine: Engine, site: str, day: dt.date, hours: dict, metrics: set[str],
             scope: Scope = ALL_ROWS, kpis: KpiReader | None = None
             ) -> tuple[dict[str, dict], list[int], float | None]:
    """The engine's figures of SITE on DAY within SCOPE (read through KPIS, default the
    engine itself): values by slot per metric, the complete half-hours of opening (HOURS:
    the site's queries.staffing.site_hours row), the day's backlog."""
    kpis = kpis or _engine_reader(engine)
    filters = Filters(day, day, sites=(site,), scope=scope)
    with engine.connect() as conn:
        latest = freshness.latest_received_at(conn, filters)
    local = None if latest is None else (
        latest.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(hours["timezone"]))
        .replace(tzinfo=None))
    complete = rules.complete_slots(day, hours["opens_at"], hours["closes_at"],
                                    hours["open_weekdays"], local)
    by_slot = [m for m in rules.SLOT_METRICS if m in metrics]  # slot_metrics' order
    values: dict[str, dict] = {}
    if by_slot and complete:
        frame = kpis(filters, ("slot",), tuple(by_slot))
        values = {m: rules.slot_values(frame, m) for m in by_slot}
    backlog = None
    if "backlog" in metrics and complete:
        backlog = kpis(filters, (), ("backlog",))["backlog"][0]
    return values, complete, backlog


def slot_metrics(thresholds: Sequence[rules.Threshold]) -> tuple[str, ...]:
    """The metrics site_day reads by slot for THRESHOLDS, in the order it asks for them."""
    wanted = {t.metric for t in thresholds}
    return tuple(m for m in rules.SLOT_METRICS if m in wanted)


def day_alerts(engine: Engine, scope: Scope, sites: Sequence[str], day: dt.date,
               kpis: KpiReader | None = None) -> list[rules.Episode]:
    """The threshold alerts of DAY for SITES within SCOPE: the ones `deliver` stored, else
    the thresholds replayed on the day's figures with the same pure rules (so a page shows
    crossings where no `deliver` ran)."""
    filters = Filters(day, day, sites=tuple(sites), scope=scope)
    with engine.connect() as conn:
        found = q_alerts.thresholds(conn, filters)
        stored = q_alerts.day_alerts(conn, filters)
        hours = {r["site"]: r for r in staffing.site_hours(conn).iter_rows(named=True)}
    minutes = {(r["site"], r["metric"]): r["minutes"] for r in found.iter_rows(named=True)}
    kept = [rules.stored_episode(r, minutes.get((r["site"], r["metric"]), 60))
            for r in stored.iter_rows(named=True)]
    replayed: list[rules.Episode] = []
    for site in sorted(set(found["site"])):
        if site not in hours:
            continue
        mine = thresholds_of(found.filter(pl.col("site") == site))
        values, complete, backlog = site_day(engine, site, day, hours[site],
                                             {t.metric for t in mine}, scope, kpis)
        for threshold in mine if complete else ():
            replayed += rules.replay(threshold, values.get(threshold.metric, {}), complete,
                                     backlog)
    return rules.day_view(kept, replayed)
