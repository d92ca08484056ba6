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


def _sum(cond, value, table):
    value = table.c.n if value is None else value
    return cast(func.coalesce(func.sum(case((cond, value), else_=0)), 0), BigInteger)


def pick_table(columns: Sequence[str], filters: Filters):
    """The coarsest contact rollup that has COLUMNS and the filters' and scope's columns:
    rollup_daily, rollup_slots, else rollup_contacts (agents)."""
    needed = set(columns)
    if filters.agents or (filters.scope is not None and filters.scope.role == "agent"):
        needed.add("agent_id")
    if "agent_id" in needed:
        return R
    return schema.rollup_slots if "local_slot" in needed else schema.rollup_daily


def contact_stats(
    conn: Connection, filters: Filters, columns: Sequence[str], sl_s, short_s, table=R
) -> pl.DataFrame:
    """Phone, e-mail cohort and handled-contact sums (and ph_max_wait) per value of
    COLUMNS, for contacts received on a local date of the period, from TABLE.

    From rollup_contacts the thresholds SL_S and SHORT_S (SQL expressions, per_site,
    within the wait cap) are applied to its wait histogram; the coarse tables carry the
    threshold counts at their baked thresholds (the caller checks they are the ones)."""
    t = table
    cols = [t.c[name] for name in columns]
    phone = t.c.channel == "phone"
    email = t.c.channel == "email"
    answered = and_(phone, t.c.outcome == "answered")
    abandoned = and_(phone, t.c.outcome == "abandoned")

    def total(cond, value=None):
        return _sum(cond, value, t)

    if t is R:
        long_abandoned = and_(abandoned, R.c.wait_b >= short_s)
        threshold = {
            "ph_short_abandoned": total(and_(abandoned, R.c.wait_b < short_s)),
            "ph_answered_in_sl": total(and_(answered, R.c.wait_b <= sl_s)),
            "ph_long_abandon_wait_sum": total(long_abandoned, R.c.wait_sum),
            "ph_long_abandon_wait_n": total(long_abandoned, R.c.wait_n),
        }
    else:
        threshold = {
            "ph_short_abandoned": total(abandoned, t.c.short),
            "ph_answered_in_sl": total(answered, t.c.in_sl),
            "ph_long_abandon_wait_sum": total(abandoned, t.c.long_wait_sum),
            "ph_long_abandon_wait_n": total(abandoned, t.c.long_wait_n),
        }
    exprs = {
        "ph_received": total(phone),
        "ph_deflected": total(and_(phone, t.c.outcome == "deflected")),
        "ph_answered": total(answered),
        "ph_abandoned": total(abandoned),
        "ph_short_abandoned": threshold["ph_short_abandoned"],
        "ph_answered_in_sl": threshold["ph_answered_in_sl"],
        "ph_answered_wait_sum": total(answered, t.c.wait_sum),
        "ph_answered_wait_n": total(answered, t.c.wait_n),
        "ph_handle_sum": total(answered, t.c.handle_sum),
        "ph_long_abandon_wait_sum": threshold["ph_long_abandon_wait_sum"],
        "ph_long_abandon_wait_n": threshold["ph_long_abandon_wait_n"],
        "em_received": total(email),
        "em_replied": total(email, t.c.replied),
        "em_within_48h": total(email, t.c.within_48h),
        "em_within_5wd": total(email, t.c.within_5wd),
        "hd_handled": total(t.c.handled > 0, t.c.handled),
        "hd_promoted": total(t.c.promoted > 0, t.c.promoted),
        "hd_with_key": total(t.c.with_key > 0, t.c.with_key),
        "hd_repeat": total(t.c.repeats > 0, t.c.repeats),
    }
    max_wait = func.max(case((t.c.outcome.in_(["answered", "abandoned"]) & phone, t.c.wait_max)))
    stmt = (
        select(*cols, *[e.label(k) for k, e in exprs.items()], max_wait.label("ph_max_wait"))
        .where(t.c.local_date.between(filters.start, filters.end), *row_conditions(t, filters))
        .group_by(*cols)
    )
    sch = {name: SOURCE_DTYPES[name] for name in columns}
    sch.update({k: pl.Int64 for k in exprs})
    sch["ph_max_wait"] = pl.Int64
    return fetch(conn, stmt, sch)


def cell_inputs(conn: Connection, filters: Filters, short_s, *, baked: bool) -> pl.DataFrame:
    """Per site × local date × slot with answered or abandoned calls: `calls` (offered,
    short abandons excluded), `_h` (handle seconds of answered calls), `_n` (answered).
    BAKED: from rollup_slots' baked short-abandon counts, else rollup_contacts' waits."""
    t = schema.rollup_slots if baked else R
    keys = [t.c.site, t.c.local_date, t.c.local_slot]
    answered = t.c.outcome == "answered"
    if baked:
        short = _sum(t.c.outcome == "abandoned", t.c.short, t)
    else:
        short = _sum(and_(t.c.outcome == "abandoned", t.c.wait_b < short_s), None, t)
    stmt = (
        select(*keys,
               (_sum(t.c.n > 0, None, t) - short).label("calls"),
               _sum(answered, t.c.handle_sum, t).label("_h"),
               _sum(answered, None, t).label("_n"))
        .where(t.c.local_date.between(filters.start, filters.end), t.c.channel == "phone",
               t.c.outcome.in_(["answered", "abandoned"]), *row_conditions(t, filters))
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
