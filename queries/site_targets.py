"""Per-site targets and time zones, for colouring KPI tiles against their objective.

Grain: one row per site the user's scope may read: code, name, time zone and the
targets stored in the `sites` table (null = no target of its own; the settings' default
applies, see dashboard.series.targets_for).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select

from dashboard.core.access import Scope
from dashboard.store import schema
from queries._common import fetch

S = schema.sites
SCHEMA = {
    "site": pl.String,
    "site_name": pl.String,
    "timezone": pl.String,
    "sl_target": pl.Float64,
    "answer_rate_target": pl.Float64,
    "email_48h_target": pl.Float64,
}


def site_targets(conn: Connection, scope: Scope) -> pl.DataFrame:
    """The sites SCOPE may read, with their time zone and targets (fractions)."""
    stmt = select(
        S.c.code, S.c.name, S.c.timezone, S.c.sl_target, S.c.answer_rate_target,
        S.c.email_48h_target,
    ).order_by(S.c.code)
    if not scope.sees_all_sites:
        # The sites table has no `site` column: a supervisor or agent reads its own only.
        stmt = stmt.where(S.c.code == scope.site) if scope.site else stmt.where(S.c.code.is_(None))
    return fetch(conn, stmt, SCHEMA)
