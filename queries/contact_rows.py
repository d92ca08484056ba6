"""The raw contacts of one day, one by one: the drill-down behind a bad half-hour or
département (page "Détail des contacts").

Grain: one row per contact, never aggregated; one local day per query, so every read is
bounded by a day's rows and served by the contacts indexes on (local_date, site,
channel), (site, department, local_date) or (agent_id, local_date). Pages are read by
keyset ("seek") pagination in (received_at, id) order, never by OFFSET: a page is the
LIMIT rows after (or just before) the key of a row already shown. The row-value
comparison is spelled `received_at > :t OR (received_at = :t AND id > :id)`, which
SQLite and PostgreSQL both run. (SQLAlchemy's SQLite dialect writes `OFFSET 0` after
every LIMIT: a no-op.) The caller's key (caller_key) is never read.

The shared filters (sites, départements, channels, queues, agents) and the user's scope
come through dashboard.engine.Filters and queries._common.row_conditions, like every
other query; RowFilter adds the page's own narrowing. dashboard/contact_table.py turns
the rows into the French table shown on screen and offered as CSV.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import polars as pl
from sqlalchemy import Connection, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from dashboard.core import localtime
from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import fetch_rows, row_conditions

C = schema.contacts
S = schema.sites

PAGE_SIZE = 50
EXPORT_CAP = 20_000
OUTCOMES = (*schema.PHONE_OUTCOMES, *schema.EMAIL_OUTCOMES)
ROW_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64,
    "received_at": pl.Datetime("us"),  # naive UTC
    "contact_id": pl.String,  # the source system's id (to find the call in the ACD)
    "channel": pl.String,
    "site": pl.String,
    "department": pl.String,
    "queue": pl.String,
    "outcome": pl.String,
    "wait_seconds": pl.Int64,
    "talk_seconds": pl.Int64,
    "wrap_seconds": pl.Int64,
    "agent_id": pl.String,
    "online_service_promoted": pl.Boolean,
    "timezone": pl.String,
}


@dataclass(frozen=True)
class RowFilter:
    """The drill-down's own narrowing of a day's contacts, beyond the shared filters."""

    slot: int | None = None  # local half-hour, 0 = 00:00–00:30
    outcomes: tuple[str, ...] = ()
    unassigned: bool = False  # only contacts without an agent
    min_wait_seconds: int | None = None  # calls that waited at least this long

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcomes", tuple(self.outcomes or ()))
        bad = [o for o in self.outcomes if o not in OUTCOMES]
        if bad:
            raise ValueError(f"unknown outcome(s) {bad}; known: {', '.join(OUTCOMES)}")
        if self.slot is not None and not 0 <= self.slot < localtime.SLOTS_PER_DAY:
            raise ValueError(f"slot must be in 0..47, not {self.slot}")


@dataclass(frozen=True)
class Key:
    """The position of one contact in (received_at, id) order."""

    received_at: dt.datetime  # naive UTC
    id: int


@dataclass(frozen=True)
class Anchor:
    """Where a page starts: just after KEY ("after") or ends just before it ("before")."""

    direction: str
    key: Key

    def __post_init__(self) -> None:
        if self.direction not in ("after", "before"):
            raise ValueError(f"direction must be 'after' or 'before', not {self.direction!r}")


@dataclass(frozen=True)
class Page:
    """One page of rows, with the count of all matching rows and its place among them."""

    rows: pl.DataFrame
    total: int
    first: int  # 1-based rank of the page's first row; 0 when the page is empty

    @property
    def last(self) -> int:
        """1-based rank of the page's last row (0 when empty)."""
        return self.first + self.rows.height - 1 if self.rows.height else 0

    @property
    def has_previous(self) -> bool:
        """Whether rows come before this page."""
        return self.first > 1

    @property
    def has_next(self) -> bool:
        """Whether rows come after this page."""
        return self.last < self.total

    def first_key(self) -> Key | None:
        """The key of the page's first row."""
        return _key(self.rows, 0)

    def last_key(self) -> Key | None:
        """The key of the page's last row."""
        return _key(self.rows, -1)


@dataclass(frozen=True)
class DayChoices:
    """The queues and agents met in a day's contacts (agent None: contacts without one)."""

    queues: tuple[str, ...]
    agents: tuple[str | None, ...]


def _key(rows: pl.DataFrame, index: int) -> Key | None:
    if rows.height == 0:
        return None
    return Key(rows["received_at"][index], int(rows["id"][index]))


def _one_day(filters: Filters) -> None:
    if filters.start != filters.end:
        raise ValueError("the contact drill-down reads one local day at a time "
                         f"({filters.start} to {filters.end} asked)")


def conditions(filters: Filters, narrowing: RowFilter) -> list[ColumnElement[bool]]:
    """WHERE conditions of one day's contacts: day, shared filters, scope, RowFilter."""
    _one_day(filters)
    conds = [C.c.local_date == filters.start, *_received_around(filters.start),
             *row_conditions(C, filters)]
    if narrowing.slot is not None:
        conds.append(C.c.local_slot == narrowing.slot)
    if narrowing.outcomes:
        conds.append(C.c.outcome.in_(list(narrowing.outcomes)))
    if narrowing.unassigned:
        conds.append(C.c.agent_id.is_(None))
    if narrowing.min_wait_seconds is not None:
        conds.append(C.c.wait_seconds >= narrowing.min_wait_seconds)
    return conds


def _received_around(day: dt.date) -> list[ColumnElement[bool]]:
    """A UTC window certain to hold every contact of local DAY in any time zone (UTC−12
    to UTC+14): redundant with local_date, it bounds the scan whichever index the
    planner takes (SQLite picks (channel, received_at) to skip the sort when a channel
    is chosen, and would otherwise walk the channel's whole history)."""
    midnight = dt.datetime.combine(day, dt.time())
    return [C.c.received_at >= midnight - dt.timedelta(days=1),
            C.c.received_at < midnight + dt.timedelta(days=2)]


def _after(key: Key) -> ColumnElement[bool]:
    # The first condition is implied by the second; it gives the planner a range.
    return and_(C.c.received_at >= key.received_at,
                or_(C.c.received_at > key.received_at,
                    and_(C.c.received_at == key.received_at, C.c.id > key.id)))


def _before(key: Key) -> ColumnElement[bool]:
    return and_(C.c.received_at <= key.received_at,
                or_(C.c.received_at < key.received_at,
                    and_(C.c.received_at == key.received_at, C.c.id < key.id)))


def _with_local_time(frame: pl.DataFrame) -> pl.DataFrame:
    """FRAME with `received_local`: received_at on the wall clock of the row's site."""
    if frame.height == 0:
        return frame.with_columns(pl.lit(None, pl.Datetime("us")).alias("received_local"))
    local = pl.lit(None, pl.Datetime("us"))
    for tz in frame["timezone"].unique().sort().to_list():
        local = pl.when(pl.col("timezone") == tz).then(
            localtime.to_local(pl.col("received_at"), tz)).otherwise(local)
    return frame.with_columns(local.dt.cast_time_unit("us").alias("received_local"))


def page_rows(
    conn: Connection,
    filters: Filters,
    narrowing: RowFilter = RowFilter(),
    anchor: Anchor | None = None,
    limit: int = PAGE_SIZE,
) -> pl.DataFrame:
    """Up to LIMIT matching contacts in (received_at, id) order: the first ones, those
    right after ANCHOR's key, or those right before it; with `received_local`."""
    stmt = (
        select(*(C.c[name] for name in ROW_SCHEMA if name != "timezone"),
               S.c.timezone)
        .select_from(C.join(S, S.c.code == C.c.site))
        .where(*conditions(filters, narrowing))
        .limit(limit)
    )
    backward = anchor is not None and anchor.direction == "before"
    if anchor is not None:
        stmt = stmt.where(_before(anchor.key) if backward else _after(anchor.key))
    if backward:
        stmt = stmt.order_by(C.c.received_at.desc(), C.c.id.desc())
    else:
        stmt = stmt.order_by(C.c.received_at, C.c.id)
    # A page is a few dozen rows: the driver's rows, which go through SQLAlchemy's
    # statement events (tests/test_contact_rows.py explains every statement from them).
    frame = fetch_rows(conn, stmt, ROW_SCHEMA)
    if backward:
        frame = frame.reverse()
    return _with_local_time(frame)


def count_rows(
    conn: Connection, filters: Filters, narrowing: RowFilter = RowFilter(),
    before: Key | None = None,
) -> tuple[int, int]:
    """(matching contacts, of which those before BEFORE in (received_at, id) order)."""
    earlier = (func.sum(case((_before(before), 1), else_=0)) if before is not None
               else literal(0))
    stmt = select(func.count(), earlier).where(*conditions(filters, narrowing))
    total, before_count = conn.execute(stmt).one()
    return int(total), int(before_count or 0)


def read_page(
    conn: Connection,
    filters: Filters,
    narrowing: RowFilter = RowFilter(),
    anchor: Anchor | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """The page at ANCHOR (the first page without one), counted and ranked.

    Going back to the start, or past rows that have since disappeared, falls back on
    the first page, so a page is never shorter than LIMIT while more rows exist.
    """
    rows = page_rows(conn, filters, narrowing, anchor, limit)
    if anchor is not None and rows.height < limit and (
            anchor.direction == "before" or rows.height == 0):
        rows = page_rows(conn, filters, narrowing, None, limit)
    first_key = _key(rows, 0)
    total, earlier = count_rows(conn, filters, narrowing, first_key)
    return Page(rows, total, earlier + 1 if rows.height else 0)


def export_rows(
    conn: Connection, filters: Filters, narrowing: RowFilter = RowFilter(),
    cap: int = EXPORT_CAP,
) -> pl.DataFrame:
    """The first CAP matching contacts of the day, in (received_at, id) order."""
    return page_rows(conn, filters, narrowing, None, cap)


def day_choices(conn: Connection, filters: Filters) -> DayChoices:
    """Queues and agents of the day's contacts that FILTERS select (sorted; None last)."""
    where = conditions(replace(filters, queues=(), agents=()), RowFilter())
    queues = conn.execute(select(C.c.queue).where(*where, C.c.queue.is_not(None))
                          .distinct()).scalars().all()
    agents = conn.execute(select(C.c.agent_id).where(*where).distinct()).scalars().all()
    named = sorted(a for a in agents if a is not None)
    return DayChoices(tuple(sorted(queues)),
                      tuple(named) + ((None,) if None in agents else ()))
