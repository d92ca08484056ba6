"""Planned shifts (the `schedules` import kind) overlapping an interval of UTC time.

Grain: one row per shift, UTC bounds as stored; clipping to local days and slots is the
metrics' job (dashboard.metrics.adherence). Scoped like the sessions: a supervisor reads
their own site's shifts, an agent their own, national and admin users every one.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import Connection, select

from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import fetch, row_conditions

S = schema.schedules


def schedule_rows(
    conn: Connection, filters: Filters, after: dt.datetime, before: dt.datetime
) -> pl.DataFrame:
    """Shifts of the scope's sites and agents that overlap the UTC interval (AFTER, BEFORE)."""
    stmt = select(S.c.site, S.c.agent_id, S.c.shift_id, S.c.start_at, S.c.end_at,
                  S.c.activity).where(
        S.c.start_at < before,
        S.c.end_at > after,
        # A shift overlapping the period started on or before its last local date: the
        # (site, local_date) index bounds the scan.
        S.c.local_date <= filters.end,
        *row_conditions(S, filters, fields=("sites", "agents")),
    ).order_by(S.c.agent_id, S.c.start_at, S.c.shift_id)
    return fetch(conn, stmt, {
        "site": pl.String,
        "agent_id": pl.String,
        "shift_id": pl.String,
        "start_at": pl.Datetime("us"),
        "end_at": pl.Datetime("us"),
        "activity": pl.String,
    })
