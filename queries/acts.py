"""Acts of management, counted in SQL per combination of the grouping columns asked for.

Grain: one row per distinct value of COLUMNS (local date, slot, site, département, agent)
with `n` acts. Acts carry no channel or queue; the caller decides what those groupings
show (see dashboard.metrics).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from sqlalchemy import Connection, func, select

from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import SOURCE_DTYPES, columns_of, fetch, row_conditions

A = schema.acts


def act_counts(conn: Connection, filters: Filters, columns: Sequence[str] = ()) -> pl.DataFrame:
    """Acts performed on a local date of the period, counted per value of COLUMNS."""
    names = [name for name in dict.fromkeys(columns) if name in A.c]
    cols = columns_of(A, names)
    stmt = (
        select(*cols, func.count().label("n"))
        .where(
            A.c.local_date.between(filters.start, filters.end),
            *row_conditions(A, filters, fields=("sites", "departments", "agents")),
        )
        .group_by(*cols)
    )
    sch = {name: SOURCE_DTYPES[name] for name in names}
    sch["n"] = pl.Int64
    return fetch(conn, stmt, sch)
