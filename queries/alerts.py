"""Threshold alerts: the sites' thresholds (reference data) and the alerts stored by
`deliver` (dashboard.delivery.alerts).

Grain: thresholds, one row per site × metric; alerts, one row per alert episode (site ×
metric × local day × first half-hour of its window). Both obey the reader's Scope.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select

from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import fetch, row_conditions

T = schema.alert_thresholds
A = schema.alerts

THRESHOLDS = {"site": pl.String, "metric": pl.String, "threshold": pl.Float64,
              "minutes": pl.Int64}
ALERTS = {"id": pl.Int64, "site": pl.String, "metric": pl.String, "local_date": pl.Date,
          "threshold": pl.Float64, "opened_slot": pl.Int64, "opened_value": pl.Float64,
          "opened_at": pl.Datetime("us"), "closed_slot": pl.Int64,
          "closed_value": pl.Float64, "closed_at": pl.Datetime("us")}


def thresholds(conn: Connection, filters: Filters) -> pl.DataFrame:
    """The thresholds of the sites FILTERS select (its sites, its scope), by site and
    metric."""
    stmt = (select(T.c.site, T.c.metric, T.c.threshold, T.c.minutes)
            .where(*row_conditions(T, filters, fields=("sites",)))
            .order_by(T.c.site, T.c.metric))
    return fetch(conn, stmt, THRESHOLDS)


def day_alerts(conn: Connection, filters: Filters) -> pl.DataFrame:
    """The alerts stored for the local days of FILTERS (its sites, its scope), by site,
    metric and opening half-hour."""
    stmt = (select(*[A.c[name] for name in ALERTS])
            .where(A.c.local_date.between(filters.start, filters.end),
                   *row_conditions(A, filters, fields=("sites",)))
            .order_by(A.c.site, A.c.metric, A.c.local_date, A.c.opened_slot))
    return fetch(conn, stmt, ALERTS)
