"""Agent sessions (logged-in periods) overlapping an interval of UTC time.

Grain: one row per session, with the UTC bounds as stored; clipping to the local days and
slots of the period is the metrics' job. Sessions carry a site and an agent only.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import Connection, select

from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import fetch, row_conditions

S = schema.agent_sessions


def session_rows(
    conn: Connection, filters: Filters, after: dt.datetime, before: dt.datetime
) -> pl.DataFrame:
    """Sessions of the scope's sites and agents that overlap the UTC interval (AFTER, BEFORE)."""
    stmt = select(S.c.site, S.c.agent_id, S.c.start_at, S.c.end_at).where(
        S.c.start_at < before,
        S.c.end_at > after,
        # A session overlapping the period started on or before its last local date; this
        # lets the (site, local_date) index bound the scan.
        S.c.local_date <= filters.end,
        *row_conditions(S, filters, fields=("sites", "agents")),
    )
    return fetch(
        conn,
        stmt,
        {
            "site": pl.String,
            "agent_id": pl.String,
            "start_at": pl.Datetime("us"),
            "end_at": pl.Datetime("us"),
        },
    )
