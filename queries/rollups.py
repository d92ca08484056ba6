"""The engine's reads of the rollup tables (dashboard.engine.rollups): statistics per group.

Grain of every answer: one row per distinct value of the grouping source columns asked
for (local date, slot, site, département, channel, queue, agent), never per contact.
Thresholds arrive as per-site values and become a CASE on the site with bound values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl
from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)

from dashboard.core.contact_stats import CONTACT_STATS, ContactStat
from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import SOURCE_DTYPES, fetch, row_conditions

R = schema.rollup_contacts
D = schema.rollup_email_delays
F = schema.rollup_email_flow

# Sum statistics read from the contact rollups (the rest of STATS come from elsewhere).
CONTACT_SUMS = schema.CONTACT_SUMS
CELLS = schema.rollup_cells
AGENT_CELLS = schema.rollup_agent_cells


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
    rollup_site_days, rollup_cells (site, day and slot only), rollup_site_slots (no
    département or queue), rollup_dept_days (no slot or queue), rollup_daily,
    rollup_slots, rollup_agent_cells (site, day and agent only), rollup_agents, else
    rollup_contacts."""
    needed = set(columns)
    if filters.agents or (filters.scope is not None and filters.scope.role == "agent"):
        needed.add("agent_id")
    if filters.departments:
        needed.add("department")
    if filters.queues:
        needed.add("queue")
    if filters.channels:
        needed.add("channel")
    if "agent_id" in needed:
        if needed <= AGENT_CELL_GRAIN:
            return AGENT_CELLS
        agents = schema.rollup_agents
        return agents if needed <= {c.name for c in agents.c} else R
    slots = "local_slot" in needed
    if slots and needed <= CELL_GRAIN:
        return CELLS
    if needed <= SITE_GRAIN:
        return schema.rollup_site_slots if slots else schema.rollup_site_days
    if needed <= DEPT_GRAIN:
        return schema.rollup_dept_days
    return schema.rollup_slots if slots else schema.rollup_daily


# The grains, as the schema declares them (Table.info["grain"]). rollup_site_days' is
# rollup_site_slots' without the slot; rollup_dept_days' is rollup_daily's without the
# queue. Without the slot, rollup_site_days is read rather than rollup_cells: a few rows
# per site and day, fewer than one per half-hour.
SITE_GRAIN = frozenset(schema.rollup_site_slots.info["grain"])
DEPT_GRAIN = frozenset(schema.rollup_dept_days.info["grain"])
CELL_GRAIN = frozenset(CELLS.info["grain"])
AGENT_CELL_GRAIN = frozenset(AGENT_CELLS.info["grain"])


def contact_stats(
    conn: Connection, filters: Filters, columns: Sequence[str], sl_s, short_s, table=R
) -> pl.DataFrame:
    """Phone, e-mail cohort and handled-contact sums (and ph_max_wait) per value of
    COLUMNS, for contacts received on a local date of the period, from TABLE.

    From rollup_contacts the thresholds SL_S and SHORT_S (SQL expressions, per_site,
    within the wait cap) are applied to its wait histogram; the coarse tables carry the
    threshold counts at their baked thresholds (the caller checks they are the ones)."""
    if table is CELLS or table is AGENT_CELLS:
        return _cell_stats(conn, filters, columns, table)
    if table is not R:
        return _coarse_stats(conn, filters, columns, table)
    t = R
    cols = [t.c[name] for name in columns]
    phone = t.c.channel == "phone"
    exprs = {s.name: _fine_sum(s, sl_s, short_s) for s in CONTACT_STATS}
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


# rollup_contacts' column each declared measure sums (its wait rules apply to wait_b).
_FINE_MEASURE = {"count": "n", "wait": "wait_sum", "wait_n": "wait_n",
                 "handle": "handle_sum", "replied": "replied", "within_48h": "within_48h",
                 "within_5wd": "within_5wd", "handled": "handled", "promoted": "promoted",
                 "with_key": "with_key", "repeats": "repeats"}


def _fine_sum(stat: ContactStat, sl_s, short_s):
    """STAT over rollup_contacts' rows (wait bins), thresholds SL_S and SHORT_S as SQL."""
    conds = []
    if stat.channel is not None:
        conds.append(R.c.channel == stat.channel)
    if stat.outcomes is not None:
        conds.append(R.c.outcome.in_(list(stat.outcomes)))
    if stat.wait == "in_sl":
        conds.append(R.c.wait_b <= sl_s)
    elif stat.wait == "short":
        conds.append(R.c.wait_b < short_s)
    elif stat.wait == "long":
        conds.append(R.c.wait_b >= short_s)
    value = R.c[_FINE_MEASURE[stat.adds]]
    # Without a condition every row counts; `value > 0` skips only the rows adding 0.
    return _sum(and_(*conds) if conds else value > 0, value, R)


# A coarse rollup's columns summed per group, channel and outcome, and what each statistic
# takes of them: (column, channel, outcomes or None for any), from the declarations.
_COARSE_STATS = {s.name: (s.coarse, s.channel, s.outcomes) for s in CONTACT_STATS}
_COARSE_SUMS = tuple(dict.fromkeys(s.coarse for s in CONTACT_STATS))


def _coarse_stats(conn: Connection, filters: Filters, columns: Sequence[str], t
                  ) -> pl.DataFrame:
    """contact_stats from a coarse rollup T: the database sums its columns per group,
    channel and outcome (plain sums: about twice as fast as a CASE per statistic and
    row), then pick_stats takes each statistic's channel and outcomes."""
    keys = list(dict.fromkeys([*columns, "channel", "outcome"]))
    stmt = (
        select(*[t.c[k] for k in keys],
               *[cast(func.sum(t.c[c]), BigInteger).label(c) for c in _COARSE_SUMS],
               func.max(t.c.wait_max).label("wait_max"))
        .where(t.c.local_date.between(filters.start, filters.end), *row_conditions(t, filters))
        .group_by(*[t.c[k] for k in keys])
    )
    sums = fetch(conn, stmt, {k: SOURCE_DTYPES.get(k, pl.String) for k in keys}
                 | {c: pl.Int64 for c in _COARSE_SUMS} | {"wait_max": pl.Int64})
    return pick_stats(sums, columns)


def pick_stats(sums: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """A coarse rollup's rows (or their sums per COLUMNS, channel and outcome) → per value
    of COLUMNS the CONTACT_SUMS statistics and `ph_max_wait`, each statistic adding the
    column of its channel and outcomes (_COARSE_STATS)."""
    def picked(value: str, channel: str | None, outcomes) -> pl.Expr:
        cond = pl.lit(True)
        if channel is not None:
            cond = cond & (pl.col("channel") == channel)
        if outcomes is not None:
            cond = cond & pl.col("outcome").is_in(list(outcomes))
        return pl.when(cond).then(pl.col(value)).otherwise(0)

    aggs = [picked(*rule).sum().cast(pl.Int64).alias(name)
            for name, rule in _COARSE_STATS.items()]
    aggs.append(pl.when((pl.col("channel") == "phone")
                        & pl.col("outcome").is_in(["answered", "abandoned"]))
                .then(pl.col("wait_max")).max().cast(pl.Int64).alias("ph_max_wait"))
    out_schema = ({name: SOURCE_DTYPES[name] for name in columns}
                  | {k: pl.Int64 for k in _COARSE_STATS} | {"ph_max_wait": pl.Int64})
    if sums.height == 0 and columns:
        return pl.DataFrame(schema=out_schema)
    # Without columns, one row as the database gives: zeros, and no maximum.
    stats = sums.group_by(list(columns)).agg(aggs) if columns else sums.select(aggs)
    return stats.select(list(out_schema))


def _cell_stats(conn: Connection, filters: Filters, columns: Sequence[str], t=CELLS
                ) -> pl.DataFrame:
    """contact_stats from rollup_cells or rollup_agent_cells (T): plain sums of its
    statistics per COLUMNS."""
    cols = [t.c[name] for name in columns]
    stmt = select(*cols, *[cast(func.coalesce(func.sum(t.c[n]), 0), BigInteger).label(n)
                           for n in CONTACT_SUMS],
                  func.max(t.c.ph_max_wait).label("ph_max_wait")).where(
        t.c.local_date.between(filters.start, filters.end), *row_conditions(t, filters))
    if cols:
        stmt = stmt.group_by(*cols)
    return fetch(conn, stmt, {name: SOURCE_DTYPES[name] for name in columns}
                 | {k: pl.Int64 for k in CONTACT_SUMS} | {"ph_max_wait": pl.Int64})


def read_columns(conn: Connection, columns: Sequence[str], table) -> tuple[str, ...]:
    """The columns to read TABLE's sums by for a grouping by COLUMNS (the caller adds
    the finer groups up): COLUMNS, but on SQLite half-hours alone from rollup_cells are
    read per day and half-hour."""
    if table is CELLS and conn.dialect.name == "sqlite" and tuple(columns) == ("local_slot",):
        # SQLite groups by sorting unless the rows come in the groups' order; per day and
        # half-hour they do (the table's key), and the day's sums are few (national year:
        # 0.30 → 0.14 s, and the read is the one a grouping by day and half-hour makes).
        return ("local_date", "local_slot")
    return tuple(columns)


def cell_inputs(conn: Connection, filters: Filters, short_s, *, baked: bool) -> pl.DataFrame:
    """Per site × local date × slot with answered or abandoned calls: `calls` (offered,
    short abandons excluded), `_h` (handle seconds of answered calls), `_n` (answered).
    BAKED: from the baked short-abandon counts of rollup_cells (rollup_slots when
    départements or queues are filtered), else rollup_contacts' waits."""
    if baked and not (filters.departments or filters.queues) and (
            not filters.channels or "phone" in filters.channels):
        return _cell_rows(conn, filters)  # rollup_cells has no channel: phone is kept
    # row_conditions skips the filters a table has no column for: never drop one.
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
    return fetch(conn, stmt, _CELL_INPUTS).with_columns(pl.col("_h").cast(pl.Float64))


_CELL_INPUTS = {"site": pl.String, "local_date": pl.Date, "local_slot": pl.Int16,
                "calls": pl.Int64, "_h": pl.Int64, "_n": pl.Int64}


def _cell_rows(conn: Connection, filters: Filters) -> pl.DataFrame:
    """cell_inputs from rollup_cells: one row per cell as stored, no grouping."""
    t = CELLS
    stmt = select(
        t.c.site, t.c.local_date, t.c.local_slot,
        (t.c.ph_answered + t.c.ph_abandoned - t.c.ph_short_abandoned).label("calls"),
        t.c.ph_handle_sum.label("_h"), t.c.ph_answered.label("_n"),
    ).where(t.c.local_date.between(filters.start, filters.end),
            t.c.ph_answered + t.c.ph_abandoned > 0, *row_conditions(t, filters))
    return fetch(conn, stmt, _CELL_INPUTS).with_columns(pl.col("_h").cast(pl.Float64))


H = schema.rollup_email_hist
HIST_COLUMNS = ("local_date", "site", "department", "queue")


def reply_histogram(conn: Connection, filters: Filters, columns: Sequence[str]) -> pl.DataFrame:
    """Replied e-mails of the period per value of COLUMNS (no channel) and reply bin:
    `reply_bin`, `n`, and `_lo`, `_hi`, their first and last local date. From
    rollup_email_hist when it has COLUMNS and the filters' and scope's columns, else
    counted on rollup_email_delays."""
    small = (set(columns) <= set(HIST_COLUMNS) and not filters.agents
             and not (filters.scope is not None and filters.scope.role == "agent"))
    t = H if small else D
    cols = [t.c[name] for name in columns]
    count = func.sum(H.c.n) if small else func.count()
    stmt = (
        select(*cols, t.c.reply_bin, cast(count, BigInteger).label("n"),
               func.min(t.c.local_date).label("_lo"), func.max(t.c.local_date).label("_hi"))
        .where(t.c.local_date.between(filters.start, filters.end), *row_conditions(t, filters))
        .group_by(*cols, t.c.reply_bin)
    )
    sch = {name: SOURCE_DTYPES[name] for name in columns}
    return fetch(conn, stmt, sch | {"reply_bin": pl.Int16, "n": pl.Int64, "_lo": pl.Date,
                                    "_hi": pl.Date})


def delays_in_bins(
    conn: Connection, filters: Filters, columns: Sequence[str],
    ranges: Sequence[tuple[int, dt.date, dt.date]],
) -> pl.DataFrame:
    """COLUMNS, `reply_bin` and `reply_us` of the period's replied e-mails whose bin and
    local date match one of RANGES: (bin, first local date, last local date)."""
    cols = [D.c[name] for name in columns]
    sch = {name: SOURCE_DTYPES[name] for name in columns}
    sch |= {"reply_bin": pl.Int16, "reply_us": pl.Int64}
    if not ranges:
        return pl.DataFrame(schema=sch)
    match = or_(*[and_(D.c.reply_bin == b, D.c.local_date.between(lo, hi))
                  for b, lo, hi in ranges])
    stmt = select(*cols, D.c.reply_bin, D.c.reply_us).where(
        D.c.local_date.between(filters.start, filters.end), match,
        *row_conditions(D, filters))
    return fetch(conn, stmt, sch)


def delay_at(conn: Connection, filters: Filters, keys: Mapping[str, object], reply_bin: int,
             pos: int) -> int | None:
    """The POS-th smallest delay (from 1) of bin REPLY_BIN among the period's replied
    e-mails whose columns equal KEYS (None: null)."""
    conds = [D.c[name].is_(None) if value is None else D.c[name] == value
             for name, value in keys.items()]
    stmt = (
        select(D.c.reply_us)
        .where(D.c.local_date.between(filters.start, filters.end), D.c.reply_bin == reply_bin,
               *conds, *row_conditions(D, filters))
        .order_by(D.c.reply_us).offset(pos - 1).limit(1)
    )
    return conn.execute(stmt).scalar()


def backlog_events(
    conn: Connection, filters: Filters, columns: Sequence[str], since: dt.date
) -> pl.DataFrame:
    """Changes of the e-mail stock per value of COLUMNS (site, département, queue, agent)
    and local day up to the period's end: `_d` = received that day − left that day.
    Changes before SINCE are summed on the day before it, by the database (one row per
    group for the whole history); when SINCE is the period's end, the end day's changes
    too (the stock at the end, read in one pass). Without agents, from
    rollup_email_flow_daily."""
    agents = ("agent_id" in columns or filters.agents
              or (filters.scope is not None and filters.scope.role == "agent"))
    t = F if agents else schema.rollup_email_flow_daily
    cols = [t.c[name] for name in columns]
    conds = [t.c.local_date <= filters.end, *row_conditions(t, filters)]
    total = cast(func.sum(t.c.n), BigInteger)
    sch = {name: SOURCE_DTYPES[name] for name in columns} | {"local_date": pl.Date,
                                                              "_d": pl.Int64}
    before = since - dt.timedelta(days=1)
    if since == filters.end:
        # The level at the end only: the e-mails received by then and not left by then,
        # in one pass over the flows (their changes summed, given on the day before).
        stock = fetch(conn, select(*cols, literal(before, Date).label("local_date"),
                                   total.label("_d"))
                      .where(*conds, or_(t.c.out_date.is_(None), t.c.out_date > filters.end))
                      .group_by(*cols), sch)
        return stock.filter(pl.col("_d").is_not_null())

    def day(column):
        return case((column < since, literal(before, Date)), else_=column)

    inflow = fetch(conn, select(*cols, day(t.c.local_date), total).where(*conds)
                   .group_by(*cols, day(t.c.local_date)), sch)
    outflow = fetch(conn, select(*cols, day(t.c.out_date), total)
                    .where(*conds, t.c.out_date.is_not(None))
                    .group_by(*cols, day(t.c.out_date)), sch)
    events = pl.concat([inflow, outflow.with_columns(-pl.col("_d"))])
    return events.group_by([*columns, "local_date"]).agg(pl.col("_d").sum())


# ------------------------------------------------------- team presence and acts (staff)

P = schema.rollup_presence
AD = schema.rollup_agent_days
AC = schema.rollup_acts
AA = schema.rollup_agent_acts


def presence_rows(conn: Connection, filters: Filters) -> pl.DataFrame:
    """The period's rollup_presence rows of the filters' sites and the scope: `site`,
    `local_date`, `local_slot`, `q_at` (UTC quarter hour), `logged_us` (all agents)."""
    stmt = select(P.c.site, P.c.local_date, P.c.local_slot, P.c.q_at, P.c.logged_us).where(
        P.c.local_date.between(filters.start, filters.end),
        *row_conditions(P, filters, fields=("sites",)))
    return fetch(conn, stmt, {"site": pl.String, "local_date": pl.Date,
                              "local_slot": pl.Int16, "q_at": pl.Datetime("us"),
                              "logged_us": pl.Int64})


def presence_slot_rows(conn: Connection, filters: Filters) -> pl.DataFrame:
    """The period's rollup_presence_slots rows of the filters' sites and the scope: `site`,
    `local_date`, `local_slot`, `logged_us` (all agents)."""
    t = schema.rollup_presence_slots
    stmt = select(t.c.site, t.c.local_date, t.c.local_slot, t.c.logged_us).where(
        t.c.local_date.between(filters.start, filters.end),
        *row_conditions(t, filters, fields=("sites",)))
    return fetch(conn, stmt, {"site": pl.String, "local_date": pl.Date,
                              "local_slot": pl.Int16, "logged_us": pl.Int64})


def agent_day_rows(conn: Connection, filters: Filters, columns: Sequence[str]) -> pl.DataFrame:
    """Logged-in microseconds (`logged_us`) per value of COLUMNS (site, agent, local date)
    over the period, from rollup_agent_days, for the filters' sites and agents and the
    scope."""
    names = [n for n in dict.fromkeys(("site", *columns)) if n in AD.c]
    cols = [AD.c[n] for n in names]
    stmt = (
        select(*cols, cast(func.sum(AD.c.logged_us), BigInteger).label("logged_us"))
        .where(AD.c.local_date.between(filters.start, filters.end),
               *row_conditions(AD, filters, fields=("sites", "agents")))
        .group_by(*cols)
    )
    return fetch(conn, stmt, {n: SOURCE_DTYPES[n] for n in names} | {"logged_us": pl.Int64})


def acts_table(columns: Sequence[str], filters: Filters):
    """The acts rollup that has COLUMNS and the filters' and scope's columns, or None."""
    needed = {n for n in columns if n in schema.acts.c}
    if filters.departments:
        needed.add("department")
    if filters.agents or (filters.scope is not None and filters.scope.role == "agent"):
        needed.add("agent_id")
    for table in (AC, AA):
        if needed <= {c.name for c in table.c}:
            return table
    return None


def act_counts(conn: Connection, filters: Filters, columns: Sequence[str], table
               ) -> pl.DataFrame:
    """queries.acts.act_counts from an acts rollup TABLE (see acts_table)."""
    names = [n for n in dict.fromkeys(columns) if n in schema.acts.c]
    cols = [table.c[n] for n in names]
    stmt = (
        select(*cols, cast(func.coalesce(func.sum(table.c.n), 0), BigInteger).label("n"))
        .where(table.c.local_date.between(filters.start, filters.end),
               *row_conditions(table, filters, fields=("sites", "departments", "agents")))
        .group_by(*cols)
    )
    return fetch(conn, stmt, {n: SOURCE_DTYPES[n] for n in names} | {"n": pl.Int64})
