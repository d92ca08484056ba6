"""Helpers shared by the query modules: typed fetching and the row filter of a Filters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import Connection, Select, Table
from sqlalchemy.sql.elements import ColumnElement

if TYPE_CHECKING:
    from dashboard.engine import Filters

# Filter field → column name, for the tables that carry that column.
_FILTER_COLUMNS = {
    "sites": "site",
    "departments": "department",
    "channels": "channel",
    "queues": "queue",
    "agents": "agent_id",
}


def fetch(conn: Connection, stmt: Select, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Run STMT and build a frame with SCHEMA (column names in select order)."""
    result = conn.execute(stmt)
    try:
        # The driver's rows as they come, without SQLAlchemy's per-value result
        # processing: Polars types whole columns at once (twice as fast on big answers).
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    if not rows:
        return pl.DataFrame(schema=schema)
    frame = pl.DataFrame(rows, schema=list(schema), orient="row", infer_schema_length=None)
    return frame.with_columns(_typed(name, frame.schema[name], dtype)
                              for name, dtype in schema.items())


def _typed(name: str, got: pl.DataType, want: pl.DataType) -> pl.Expr:
    """Column NAME as WANT. SQLite hands dates and times over as SQLAlchemy's text forms
    ('2015-04-01', '2015-04-01 10:00:00.000000')."""
    col = pl.col(name)
    if got == pl.String and want == pl.Date:
        return col.str.slice(0, 10).str.to_date("%Y-%m-%d")
    if got == pl.String and isinstance(want, pl.Datetime):
        return col.str.replace("T", " ", literal=True).str.to_datetime(
            "%Y-%m-%d %H:%M:%S%.f", time_unit="us")
    return col.cast(want)


def row_conditions(
    table: Table, filters: Filters, *, fields: Sequence[str] = tuple(_FILTER_COLUMNS)
) -> list[ColumnElement[bool]]:
    """WHERE conditions: the non-date filters in FIELDS that TABLE can obey, then the
    user's row scope (always, whatever FIELDS says)."""
    conds: list[ColumnElement[bool]] = []
    for field in fields:
        values = getattr(filters, field)
        column = _FILTER_COLUMNS[field]
        if values and column in table.c:
            conds.append(table.c[column].in_(list(values)))
    if filters.scope is not None:
        conds.extend(filters.scope.conditions(table))
    return conds


def columns_of(table: Table, names: Sequence[str]) -> list:
    """TABLE's columns NAMES, deduplicated, in the order given."""
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return [table.c[name] for name in seen]


# Polars dtypes of the columns that carry grouping dimensions.
SOURCE_DTYPES: dict[str, pl.DataType] = {
    "local_date": pl.Date,
    "local_slot": pl.Int16,
    "site": pl.String,
    "department": pl.String,
    "channel": pl.String,
    "queue": pl.String,
    "agent_id": pl.String,
}


def with_site_first(columns: Sequence[str], table: Table) -> list[str]:
    """'site' then the other COLUMNS that TABLE has, without duplicates."""
    out = ["site"]
    for name in columns:
        if name not in out and name in table.c:
            out.append(name)
    return out
