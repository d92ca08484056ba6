"""What the staffing metrics need to know about each site: opening hours and targets.

Grain: one row per site.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select

from dashboard.store import schema
from queries._common import fetch


def site_hours(conn: Connection) -> pl.DataFrame:
    """Per site: time zone, opening hours (local "HH:MM"), open ISO weekdays, SL target
    and threshold.

    `sl_target` and `sl_seconds` are null where the site sets none (the settings' default
    applies).
    """
    s = schema.sites
    stmt = select(
        s.c.code, s.c.timezone, s.c.opens_at, s.c.closes_at, s.c.open_weekdays, s.c.sl_target,
        s.c.sl_seconds,
    ).order_by(s.c.code)
    return fetch(
        conn,
        stmt,
        {
            "site": pl.String,
            "timezone": pl.String,
            "opens_at": pl.String,
            "closes_at": pl.String,
            "open_weekdays": pl.String,
            "sl_target": pl.Float64,
            "sl_seconds": pl.Int64,
        },
    )
