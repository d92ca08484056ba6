"""Contacts (calls and e-mails) as the metrics need them.

Grain: one row per contact; only the columns asked for (grouping dimensions) plus the
fields the metric formulas read. Dates are local dates (`contacts.local_date`), as every
bucket of spec/metrics.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from sqlalchemy import Connection, and_, or_, select

from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import (
    SOURCE_DTYPES,
    columns_of,
    fetch,
    row_conditions,
    with_site_first,
)

C = schema.contacts


def _wants(filters: Filters, channel: str) -> bool:
    return not filters.channels or channel in filters.channels


def _schema(names: Sequence[str], extra: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    out = {name: SOURCE_DTYPES[name] for name in names}
    out.update(extra)
    return out


def phone_rows(conn: Connection, filters: Filters, columns: Sequence[str] = ()) -> pl.DataFrame:
    """Calls received on a local date of the period: site, COLUMNS and the measured fields."""
    names = with_site_first(columns, C)
    sch = _schema(
        names,
        {
            "outcome": pl.String,
            "wait_seconds": pl.Int64,
            "handle_seconds": pl.Int64,
            "online_service_promoted": pl.Boolean,
            "caller_key": pl.String,
            "received_at": pl.Datetime("us"),
        },
    )
    if not _wants(filters, "phone"):
        return pl.DataFrame(schema=sch)
    stmt = select(
        *columns_of(C, names),
        C.c.outcome,
        C.c.wait_seconds,
        (C.c.talk_seconds + C.c.wrap_seconds).label("handle_seconds"),
        C.c.online_service_promoted,
        C.c.caller_key,
        C.c.received_at,
    ).where(
        C.c.channel == "phone",
        C.c.local_date.between(filters.start, filters.end),
        *row_conditions(C, filters),
    )
    return fetch(conn, stmt, sch)


def email_rows(conn: Connection, filters: Filters, columns: Sequence[str] = ()) -> pl.DataFrame:
    """E-mails received on a local date of the period (the cohort), replied or not."""
    names = with_site_first([*columns, "local_date"], C)
    sch = _schema(
        names,
        {
            "received_at": pl.Datetime("us"),
            "answered_at": pl.Datetime("us"),
            "online_service_promoted": pl.Boolean,
            "caller_key": pl.String,
        },
    )
    if not _wants(filters, "email"):
        return pl.DataFrame(schema=sch)
    stmt = select(
        *columns_of(C, names),
        C.c.received_at,
        C.c.answered_at,
        C.c.online_service_promoted,
        C.c.caller_key,
    ).where(
        C.c.channel == "email",
        C.c.local_date.between(filters.start, filters.end),
        *row_conditions(C, filters),
    )
    return fetch(conn, stmt, sch)


def backlog_rows(
    conn: Connection, filters: Filters, columns: Sequence[str], since: dt.datetime
) -> pl.DataFrame:
    """E-mails received on or before the period's last local date and still open at SINCE.

    SINCE (naive UTC) is a lower bound of the instants the stock is taken at: rows resolved
    before it can never be in a stock of the period and are not fetched. `resolved_at` is
    the first reply, null while there is none. spec/metrics.md counts every e-mail "not
    replied by then", so an e-mail closed without a reply stays in the stock.
    """
    names = with_site_first([*columns, "local_date"], C)
    sch = _schema(names, {"resolved_at": pl.Datetime("us")})
    if not _wants(filters, "email"):
        return pl.DataFrame(schema=sch)
    resolved = C.c.answered_at
    stmt = select(*columns_of(C, names), resolved.label("resolved_at")).where(
        C.c.channel == "email",
        C.c.local_date <= filters.end,
        or_(resolved.is_(None), resolved >= since),
        *row_conditions(C, filters),
    )
    return fetch(conn, stmt, sch)


def followup_rows(
    conn: Connection, filters: Filters, after: dt.datetime, until: dt.datetime
) -> pl.DataFrame:
    """Later contacts of the period's handled callers: any channel or site, in (AFTER, UNTIL].

    The callers are those with a handled contact (answered call, replied e-mail) received
    in the period and scope; the contacts returned are not limited to that scope. A call
    that ended in the voice server (`ivr`) is no contact again: it enters no phone rate.
    """
    sch = {"caller_key": pl.String, "received_at": pl.Datetime("us")}
    channels = [ch for ch in ("phone", "email") if _wants(filters, ch)]
    if not channels:
        return pl.DataFrame(schema=sch)
    handled = or_(
        and_(C.c.channel == "phone", C.c.outcome == "answered"),
        and_(C.c.channel == "email", C.c.answered_at.is_not(None)),
    )
    callers = (
        select(C.c.caller_key)
        .where(
            C.c.caller_key.is_not(None),
            C.c.local_date.between(filters.start, filters.end),
            handled,
            *row_conditions(C, filters),
        )
        .distinct()
    )
    later = C.alias("later")
    stmt = select(later.c.caller_key, later.c.received_at).where(
        later.c.caller_key.in_(callers),
        later.c.received_at > after,
        later.c.received_at <= until,
        later.c.outcome != "ivr",
    )
    return fetch(conn, stmt, sch)
