"""Reference data the metrics need: per-site time zones and thresholds, campaigns."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select

from dashboard.store import schema
from queries._common import fetch


def site_settings(conn: Connection) -> pl.DataFrame:
    """One row per site: code, time zone and its thresholds (null = the settings' default)."""
    s = schema.sites
    stmt = select(s.c.code, s.c.timezone, s.c.sl_seconds, s.c.short_abandon_seconds).order_by(
        s.c.code
    )
    return fetch(
        conn,
        stmt,
        {
            "site": pl.String,
            "timezone": pl.String,
            "sl_seconds": pl.Int64,
            "short_abandon_seconds": pl.Int64,
        },
    )


def campaign_rows(conn: Connection) -> pl.DataFrame:
    """One row per campaign: name, inclusive local start and end dates, département or null."""
    c = schema.campaigns
    stmt = select(c.c.name, c.c.start_date, c.c.end_date, c.c.department).order_by(c.c.name)
    return fetch(
        conn,
        stmt,
        {"name": pl.String, "start_date": pl.Date, "end_date": pl.Date, "department": pl.String},
    )
