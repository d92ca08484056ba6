"""What the data covers: its span, the sites and their coverage over time.

Grain: `data_span` one row for the whole database; `coverage_periods` one row per site
per département per coverage period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, func, select

from dashboard.core.access import Scope
from dashboard.store import schema


@dataclass(frozen=True)
class DataSpan:
    """First and last local day with contacts, and how many contacts there are."""

    first_day: dt.date | None
    last_day: dt.date | None
    contacts: int
    acts: int


def _as_date(value) -> dt.date | None:
    # SQLite hands dates back as text from aggregate functions.
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def data_span(conn: Connection, scope: Scope) -> DataSpan:
    """Span of the contacts in SCOPE in local days, with contact and act counts."""
    c, a = schema.contacts, schema.acts
    first, last, n = conn.execute(
        select(func.min(c.c.local_date), func.max(c.c.local_date), func.count()).where(
            *scope.conditions(c))
    ).one()
    acts = conn.execute(
        select(func.count()).select_from(a).where(*scope.conditions(a))
    ).scalar_one()
    return DataSpan(_as_date(first), _as_date(last), int(n), int(acts))


def last_day_with_data(
    conn: Connection, scope: Scope, sites: tuple[str, ...] = ()
) -> dt.date | None:
    """Latest local day with at least one contact in SCOPE (and SITES when given)."""
    c = schema.contacts
    query = select(func.max(c.c.local_date)).where(*scope.conditions(c))
    if sites:
        query = query.where(c.c.site.in_(sites))
    return _as_date(conn.execute(query).scalar_one())


def coverage_periods(conn: Connection) -> pl.DataFrame:
    """Sites and the départements they serve, with start and (inclusive) end dates."""
    s, d, cov = schema.sites, schema.departments, schema.coverage
    query = (
        select(
            cov.c.site,
            s.c.name.label("site_name"),
            cov.c.department,
            func.coalesce(d.c.name, cov.c.department).label("department_name"),
            cov.c.start_date,
            cov.c.end_date,
        )
        .join(s, s.c.code == cov.c.site)
        .outerjoin(d, d.c.code == cov.c.department)
        .order_by(cov.c.site, cov.c.start_date, cov.c.department)
    )
    rows = conn.execute(query).all()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={
            "site": pl.String,
            "site_name": pl.String,
            "department": pl.String,
            "department_name": pl.String,
            "start_date": pl.Date,
            "end_date": pl.Date,
        },
        orient="row",
    )
