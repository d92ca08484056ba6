"""The engine's reads of the rollup tables (dashboard.rollups): statistics per group.

Grain of every answer: one row per distinct value of the grouping source columns asked
for (local date, slot, site, département, channel, queue, agent), never per contact.
Thresholds arrive as per-site values and become a CASE on the site with bound values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import BigInteger, Connection, and_, case, cast, func, literal, select

from dashboard import schema
from queries._common import SOURCE_DTYPES, fetch, row_conditions

if TYPE_CHECKING:
    from dashboard.engine import Filters

R = schema.rollup_contacts
D = schema.rollup_email_delays
F = schema.rollup_email_flow

# Sum statistics read from rollup_contacts (the rest of STATS come from elsewhere).
CONTACT_SUMS = (
    "ph_received", "ph_deflected", "ph_answered", "ph_abandoned", "ph_short_abandoned",
    "ph_answered_in_sl", "ph_answered_wait_sum", "ph_answered_wait_n", "ph_handle_sum",
    "ph_long_abandon_wait_sum", "ph_long_abandon_wait_n", "em_received", "em_replied",
    "em_within_48h", "em_within_5wd", "hd_handled", "hd_promoted", "hd_with_key", "hd_repeat",
)


def per_site(values: Mapping[str, int], default: int, table=R):
    """A SQL expression: VALUES[row's site], else DEFAULT (bound parameters only)."""
    if not values:
        return literal(default)
    return case(dict(values), value=table.c.site, else_=literal(default))


def _sum(cond, value=None):
    value = R.c.n if value is None else value
    return cast(func.coalesce(func.sum(case((cond, value), else_=0)), 0), BigInteger)


def contact_stats(
    conn: Connection, filters: Filters, columns: Sequence[str], sl_s, short_s
) -> pl.DataFrame:
    """Phone, e-mail cohort and handled-contact sums (and ph_max_wait) per value of
    COLUMNS, for contacts received on a local date of the period. SL_S and SHORT_S are
    SQL expressions (per_site) of the thresholds, within the rollups' wait cap."""
    cols = [R.c[name] for name in columns]
    phone = R.c.channel == "phone"
    email = R.c.channel == "email"
    answered = and_(phone, R.c.outcome == "answered")
    abandoned = and_(phone, R.c.outcome == "abandoned")
    long_abandoned = and_(abandoned, R.c.wait_b >= short_s)
    exprs = {
        "ph_received": _sum(phone),
        "ph_deflected": _sum(and_(phone, R.c.outcome == "deflected")),
        "ph_answered": _sum(answered),
        "ph_abandoned": _sum(abandoned),
        "ph_short_abandoned": _sum(and_(abandoned, R.c.wait_b < short_s)),
        "ph_answered_in_sl": _sum(and_(answered, R.c.wait_b <= sl_s)),
        "ph_answered_wait_sum": _sum(answered, R.c.wait_sum),
        "ph_answered_wait_n": _sum(answered, R.c.wait_n),
        "ph_handle_sum": _sum(answered, R.c.handle_sum),
        "ph_long_abandon_wait_sum": _sum(long_abandoned, R.c.wait_sum),
        "ph_long_abandon_wait_n": _sum(long_abandoned, R.c.wait_n),
        "em_received": _sum(email),
        "em_replied": _sum(email, R.c.replied),
        "em_within_48h": _sum(email, R.c.within_48h),
        "em_within_5wd": _sum(email, R.c.within_5wd),
        "hd_handled": _sum(R.c.handled > 0, R.c.handled),
        "hd_promoted": _sum(R.c.promoted > 0, R.c.promoted),
        "hd_with_key": _sum(R.c.with_key > 0, R.c.with_key),
        "hd_repeat": _sum(R.c.repeats > 0, R.c.repeats),
    }
    max_wait = func.max(case((R.c.outcome.in_(["answered", "abandoned"]) & phone, R.c.wait_max)))
    stmt = (
        select(*cols, *[e.label(k) for k, e in exprs.items()], max_wait.label("ph_max_wait"))
        .where(R.c.local_date.between(filters.start, filters.end), *row_conditions(R, filters))
        .group_by(*cols)
    )
    sch = {name: SOURCE_DTYPES[name] for name in columns}
    sch.update({k: pl.Int64 for k in exprs})
    sch["ph_max_wait"] = pl.Int64
    return fetch(conn, stmt, sch)


def cell_inputs(conn: Connection, filters: Filters, short_s) -> pl.DataFrame:
    """Per site × local date × slot with answered or abandoned calls: `calls` (offered,
    short abandons excluded), `_h` (handle seconds of answered calls), `_n` (answered)."""
    keys = [R.c.site, R.c.local_date, R.c.local_slot]
    answered = R.c.outcome == "answered"
    short = and_(R.c.outcome == "abandoned", R.c.wait_b < short_s)
    stmt = (
        select(*keys,
               (_sum(R.c.n > 0) - _sum(short)).label("calls"),
               _sum(answered, R.c.handle_sum).label("_h"),
               _sum(answered).label("_n"))
        .where(R.c.local_date.between(filters.start, filters.end), R.c.channel == "phone",
               R.c.outcome.in_(["answered", "abandoned"]), *row_conditions(R, filters))
        .group_by(*keys)
    )
    out = fetch(conn, stmt, {"site": pl.String, "local_date": pl.Date, "local_slot": pl.Int16,
                             "calls": pl.Int64, "_h": pl.Int64, "_n": pl.Int64})
    return out.with_columns(pl.col("_h").cast(pl.Float64))


def reply_delays(
    conn: Connection, filters: Filters, columns: Sequence[str], *, middle_only: bool
) -> pl.DataFrame:
    """Reply delays (`reply_us`) of the period's replied e-mails with COLUMNS (no channel).

    MIDDLE_ONLY: per value of COLUMNS only the one or two middle delays (their median is
    the group's median), chosen in SQL with window functions.
    """
    cols = [D.c[name] for name in columns]
    conds = [D.c.local_date.between(filters.start, filters.end), *row_conditions(D, filters)]
    sch = {name: SOURCE_DTYPES[name] for name in columns} | {"reply_us": pl.Int64}
    if not middle_only:
        return fetch(conn, select(*cols, D.c.reply_us).where(*conds), sch)
    part = {"partition_by": cols} if cols else {}
    inner = select(
        *cols, D.c.reply_us,
        func.row_number().over(order_by=D.c.reply_us, **part).label("rn"),
        func.count().over(**part).label("cnt"),
    ).where(*conds).subquery()
    stmt = select(*[inner.c[name] for name in columns], inner.c.reply_us).where(
        inner.c.rn.in_([(inner.c.cnt + 1) // 2, (inner.c.cnt + 2) // 2])
    )
    return fetch(conn, stmt, sch)


def backlog_events(
    conn: Connection, filters: Filters, columns: Sequence[str], since: dt.date
) -> pl.DataFrame:
    """Changes of the e-mail stock per value of COLUMNS (site, département, queue, agent)
    and local day up to the period's end: `_d` = received that day − left that day.
    Changes before SINCE are summed on the day before it."""
    cols = [F.c[name] for name in columns]
    conds = [F.c.local_date <= filters.end, *row_conditions(F, filters)]
    total = cast(func.sum(F.c.n), BigInteger)
    sch = {name: SOURCE_DTYPES[name] for name in columns}
    inflow = fetch(conn, select(*cols, F.c.local_date, total).where(*conds)
                   .group_by(*cols, F.c.local_date),
                   sch | {"local_date": pl.Date, "_d": pl.Int64})
    outflow = fetch(conn, select(*cols, F.c.out_date, total)
                    .where(*conds, F.c.out_date.is_not(None)).group_by(*cols, F.c.out_date),
                    sch | {"local_date": pl.Date, "_d": pl.Int64})
    before = since - dt.timedelta(days=1)
    events = pl.concat([inflow, outflow.with_columns(-pl.col("_d"))])
    return events.with_columns(
        pl.when(pl.col("local_date") < since).then(pl.lit(before))
        .otherwise(pl.col("local_date")).alias("local_date")
    ).group_by([*columns, "local_date"]).agg(pl.col("_d").sum())
