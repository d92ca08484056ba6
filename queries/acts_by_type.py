"""Acts of management per type, for the charts of acts over time.

Grain: one row per local date × site × département × act type, with `n` acts performed
that day. Honours the dates, sites, départements and agents of a Filters and the user's
row scope (queries._common.row_conditions). Acts carry no channel or queue: a filter on
those is not applied here; the caller decides what to show (the metrics engine shows
acts as unavailable then, see dashboard.metrics).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, func, select

from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import fetch, row_conditions

A = schema.acts
SCHEMA = {
    "local_date": pl.Date,
    "site": pl.String,
    "department": pl.String,
    "act_type": pl.String,
    "n": pl.Int64,
}


def acts_by_type(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Acts performed on a local date of the period, per day, site, département and type."""
    keys = (A.c.local_date, A.c.site, A.c.department, A.c.act_type)
    stmt = (
        select(*keys, func.count().label("n"))
        .where(
            A.c.local_date.between(filters.start, filters.end),
            *row_conditions(A, filters, fields=("sites", "departments", "agents")),
        )
        .group_by(*keys)
        .order_by(*keys)
    )
    return fetch(conn, stmt, SCHEMA)
