"""What the forecast reads: the reference calendar, and the history of contacts per day
and half-hour, whose counts come from the KPI engine (one definition per metric:
`received` for calls, `emails_received` for e-mails, `aht_seconds`), passed in as KPIS
(compute_kpis with its engine bound) so that this layer imports no engine.

Grain: `calendar` one frame per reference table; `history_span` one row for the scope;
`day_history` one row per site × département × channel × local day with contacts;
`slot_history` one row per site × local day × half-hour with calls; `handle_history` one
row per site × local day × half-hour with answered calls.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence

import polars as pl
from sqlalchemy import Connection, func, select

from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import fetch
from queries.staffing import site_hours

# compute_kpis(filters, by, metrics) → one row per group (dashboard.engine.kpis).
KpiReader = Callable[[Filters, Sequence[str], Sequence[str]], pl.DataFrame]


def calendar(conn: Connection) -> dict[str, pl.DataFrame]:
    """The reference data the model reads (dashboard.metrics.forecast.Reference's fields):
    `sites` (opening hours and days, service-level target and threshold), `coverage`,
    `campaigns` and their `deadlines`."""
    cov, camp, dl = schema.coverage, schema.campaigns, schema.deadlines
    return {
        "sites": site_hours(conn),
        "coverage": fetch(conn, select(cov.c.site, cov.c.department, cov.c.start_date,
                                       cov.c.end_date).order_by(cov.c.site, cov.c.start_date),
                          {"site": pl.String, "department": pl.String,
                           "start_date": pl.Date, "end_date": pl.Date}),
        "campaigns": fetch(conn, select(camp.c.name, camp.c.kind, camp.c.start_date,
                                        camp.c.end_date, camp.c.department
                                        ).order_by(camp.c.start_date, camp.c.name),
                           {"name": pl.String, "kind": pl.String, "start_date": pl.Date,
                            "end_date": pl.Date, "department": pl.String}),
        "deadlines": fetch(conn, select(dl.c.campaign, dl.c.day, dl.c.department, dl.c.label
                                        ).order_by(dl.c.day, dl.c.campaign, dl.c.department),
                           {"campaign": pl.String, "day": pl.Date, "department": pl.String,
                            "label": pl.String}),
    }


def history_span(conn: Connection, scope: Scope, sites: Sequence[str] = ()
                 ) -> tuple[dt.date, dt.date] | None:
    """First and last local day with a contact in SCOPE (and SITES when given)."""
    c = schema.contacts
    stmt = select(func.min(c.c.local_date), func.max(c.c.local_date)).where(
        *scope.conditions(c))
    if sites:
        stmt = stmt.where(c.c.site.in_(list(sites)))
    first, last = conn.execute(stmt).one()
    if first is None:
        return None
    # SQLite hands dates back as text from aggregate functions.
    return tuple(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10])
                 for d in (first, last))


def _slot(text: pl.Expr) -> pl.Expr:
    """The engine's slot key "HH:MM" → the local half-hour 0..47."""
    return (text.str.slice(0, 2).cast(pl.Int64) * 2
            + text.str.slice(3, 2).cast(pl.Int64) // 30).alias("local_slot")


def day_history(kpis: KpiReader, filters: Filters) -> pl.DataFrame:
    """Contacts per site, département, channel and local day of FILTERS (its scope
    applied): `received` calls, `emails_received` e-mails."""
    frame = kpis(filters, ("site", "department", "channel", "day"),
                 ("received", "emails_received"))
    return frame.select(
        "site", "department", "channel", pl.col("day").str.to_date().alias("local_date"),
        pl.when(pl.col("channel") == "phone").then(pl.col("received"))
        .otherwise(pl.col("emails_received")).fill_null(0).cast(pl.Float64).alias("contacts"),
    ).sort("site", "department", "channel", "local_date")


def slot_history(kpis: KpiReader, filters: Filters) -> pl.DataFrame:
    """Calls received per site, local day and half-hour of FILTERS (its scope applied)."""
    phone = dataclasses.replace(filters, channels=("phone",))
    frame = kpis(phone, ("site", "day", "slot"), ("received",))
    return frame.select(
        "site", pl.col("day").str.to_date().alias("local_date"), _slot(pl.col("slot")),
        pl.col("received").fill_null(0).cast(pl.Float64).alias("calls"),
    ).sort("site", "local_date", "local_slot")


def handle_history(kpis: KpiReader, filters: Filters) -> pl.DataFrame:
    """Answered calls and their mean handle time per site, local day and half-hour of
    FILTERS (its scope applied)."""
    phone = dataclasses.replace(filters, channels=("phone",))
    frame = kpis(phone, ("site", "day", "slot"), ("answered", "aht_seconds"))
    return frame.select(
        "site", pl.col("day").str.to_date().alias("local_date"), _slot(pl.col("slot")),
        pl.col("answered").fill_null(0).cast(pl.Int64), pl.col("aht_seconds"),
    ).sort("site", "local_date", "local_slot")
