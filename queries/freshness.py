"""How fresh the figures are: the latest contact received in a selection.

Grain: one value, the latest `received_at` (naive UTC) of the contacts of a Filters —
its local dates, sites, départements, channels, queues, agents and the user's scope.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, select

from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import row_conditions

C = schema.contacts


def latest_received_at(conn: Connection, filters: Filters) -> dt.datetime | None:
    """Latest receipt instant (naive UTC) of the contacts FILTERS select, or None."""
    stmt = select(func.max(C.c.received_at)).where(
        C.c.local_date.between(filters.start, filters.end),
        *row_conditions(C, filters),
    )
    value = conn.execute(stmt).scalar_one()
    if value is None or isinstance(value, dt.datetime):
        return value
    # SQLite may hand an aggregate back as text.
    return dt.datetime.fromisoformat(str(value))
