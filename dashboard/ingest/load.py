"""Load validated rows: a private staging table, then one merge under the import lock.

1. Stage. Each batch of good rows goes into a temporary table private to the import's
   connection (PostgreSQL: `COPY … FROM STDIN`; SQLite: `executemany` of plain tuples).
   Nothing shared is written, so imports stage in parallel and a crash here changes
   nothing. Rows keep their line number; an id given again in a later batch supersedes
   the earlier line (`Stage.superseded`), as within a batch (dashboard/ingest/validate.py).
2. Merge, in one transaction, under the import lock (`lock`): PostgreSQL's
   `pg_advisory_xact_lock`, SQLite's write lock (`BEGIN IMMEDIATE`). Imports therefore
   merge one at a time, whatever the process or machine; the lock is released by the
   commit or the rollback, also when the process dies. Inside it, one grouped query
   classifies the staged rows against the table (new, changed, same: `Stage.classify`,
   which also gives the (site, local day) pairs the import changes, old and new), and one
   `INSERT … SELECT … ON CONFLICT (natural key) DO UPDATE … WHERE <a compared column is
   distinct>` writes them (`Stage.merge`), so a row that did not change keeps its
   import_id, and a concurrent writer outside the lock could not make a duplicate either.

Columns an update may change are the ones the file provides (`update_columns`); the
others keep their stored values, and inserts take the defaults filled in by validation.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from dashboard.ingest.kinds import Kind
from dashboard.ingest.read import LINE
from dashboard.ingest.validate import DB_COLUMNS
from dashboard.store.database import copy_frame

STAGE = "ingest_stage"
# pg_advisory_xact_lock key of imports (any 64-bit number no other code uses).
LOCK_KEY = 0x4441534849_4E47  # "DASHI" "NG"
# How long an import waits for another one's merge before giving up, in seconds.
LOCK_TIMEOUT = 3600.0
# SQLite page cache of the import's connection, in KiB, for the merge: the table's
# indexes are updated in place, and a cache of a few MB makes that disk-bound.
SQLITE_CACHE_KIB = 65_536


class LockTimeout(Exception):
    """Another import kept the lock longer than the timeout; the message is one line."""


@dataclass
class Counts:
    """Rows inserted, updated and left unchanged."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Classified:
    """What a merge will do: counts, and the (site, local_date) pairs it changes."""

    counts: Counts
    touched: set[tuple[str, dt.date]] = field(default_factory=set)


def _key(kind: Kind) -> list[str]:
    return [k for k in kind.key if k != "source"]


def _stage_table(kind: Kind) -> Table:
    columns = [Column(c.name, c.type) for c in kind.table.c if c.name in DB_COLUMNS[kind.name]]
    return Table(STAGE, MetaData(), *columns, Column("line", BigInteger),
                 prefixes=["TEMPORARY"])


class Stage:
    """The staging table of one import, on CONN (which must stay the same connection)."""

    def __init__(self, conn: Connection, kind: Kind) -> None:
        self.conn = conn
        self.kind = kind
        self.dialect = conn.dialect.name
        self.table = _stage_table(kind)
        self.columns = [c.name for c in self.table.c]
        self.rows = 0
        self.batches = 0
        self.duplicates = False
        self._cache = None
        if self.dialect == "sqlite":
            self._cache = conn.exec_driver_sql("PRAGMA main.cache_size").scalar_one()
            conn.exec_driver_sql(f"PRAGMA main.cache_size = -{SQLITE_CACHE_KIB}")
        self.drop()
        self.table.create(conn)

    def drop(self) -> None:
        """Remove the staging table (it also goes with the connection)."""
        name = f"temp.{STAGE}" if self.dialect == "sqlite" else f"pg_temp.{STAGE}"
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")

    def close(self) -> None:
        """Drop the staging table and give the connection back as it was."""
        self.drop()
        if self._cache is not None:
            self.conn.exec_driver_sql(f"PRAGMA main.cache_size = {int(self._cache)}")

    # -- 1. staging --------------------------------------------------------------------------

    def add(self, frame: pl.DataFrame) -> None:
        """Stage the good rows of one batch (DB_COLUMNS of the kind and LINE)."""
        if frame.height == 0:
            return
        if not self.duplicates:
            self.duplicates = bool(frame.select(_key(self.kind)).is_duplicated().any())
        data = frame.rename({LINE: "line"}).select(self.columns)
        raw = self.conn.connection.driver_connection
        names = ", ".join(self.columns)
        if self.dialect == "postgresql":
            copy_frame(self.conn, STAGE, data)
        else:
            # The text SQLAlchemy's SQLite types store, so staged and stored values compare.
            data = data.with_columns(
                [pl.col(n).dt.to_string("%Y-%m-%d %H:%M:%S%.6f")
                 for n, t in data.schema.items() if isinstance(t, pl.Datetime)]
                + [pl.col(n).dt.to_string("%Y-%m-%d")
                   for n, t in data.schema.items() if t == pl.Date]
                + [pl.col(n).cast(pl.Int8) for n, t in data.schema.items() if t == pl.Boolean]
            )
            marks = ", ".join("?" * len(self.columns))
            raw.executemany(f"INSERT INTO temp.{STAGE} ({names}) VALUES ({marks})", data.rows())
        self.rows += frame.height
        self.batches += 1

    def superseded(self) -> pl.DataFrame:
        """Rows whose id a later line gives again: removed; (line, last line) returned.

        Skipped (one cheap check per batch) when no batch had a duplicate and there was
        only one batch.
        """
        empty = pl.DataFrame(schema={"line": pl.Int64, "last": pl.Int64})
        if self.batches < 2 and not self.duplicates:
            return empty
        s = self.table
        keys = _key(self.kind)
        last = (select(*[s.c[k] for k in keys], func.max(s.c.line).label("last"))
                .group_by(*[s.c[k] for k in keys]).having(func.count() > 1).subquery())
        pairs = (select(s.c.line, last.c.last)
                 .join(last, and_(*[s.c[k] == last.c[k] for k in keys]))
                 .where(s.c.line < last.c.last))
        rows = self.conn.execute(pairs.order_by(s.c.line)).all()
        if not rows:
            return empty
        lines = pairs.with_only_columns(s.c.line).scalar_subquery()
        self.conn.execute(s.delete().where(s.c.line.in_(lines)))
        self.rows -= len(rows)
        return pl.DataFrame(rows, schema={"line": pl.Int64, "last": pl.Int64}, orient="row")

    # -- 2. merging --------------------------------------------------------------------------

    def _join(self, source: str):
        t, s = self.kind.table, self.table
        on = [t.c[k] == s.c[k] for k in _key(self.kind)]
        if "source" in self.kind.key:
            on.append(t.c.source == literal(source, String))
        return and_(*on)

    def _compared(self, update_columns: tuple[str, ...]) -> list[str]:
        # The agents table is keyed by agent_id alone; which file last wrote an agent is
        # not a change of the agent.
        return [c for c in update_columns if c not in self.kind.key]

    def classify(self, source: str, update_columns: tuple[str, ...]) -> Classified:
        """Count new, changed and unchanged staged rows; the (site, day) pairs they change."""
        t, s = self.kind.table, self.table
        compared = self._compared(update_columns)
        changed = or_(*[t.c[c].is_distinct_from(s.c[c]) for c in compared]) if compared \
            else false()
        status = case((t.c[_key(self.kind)[0]].is_(None), 1), (changed, 2), else_=3)
        dated = "local_date" in s.c and "site" in s.c
        inner = [status.label("status")]
        if dated:
            inner += [s.c.site.label("site"), s.c.local_date.label("local_date"),
                      t.c.site.label("old_site"), t.c.local_date.label("old_date")]
        sub = select(*inner).select_from(s.outerjoin(t, self._join(source))).subquery()
        groups = [sub.c[c.name] for c in inner]
        rows = self.conn.execute(select(*groups, func.count()).group_by(*groups)).all()
        counts = Counts()
        touched: set[tuple[str, dt.date]] = set()
        for row in rows:
            n = row[-1]
            kind = row[0]
            if kind == 1:
                counts.inserted += n
            elif kind == 2:
                counts.updated += n
            else:
                counts.unchanged += n
            if dated and kind in (1, 2):
                touched.add((row[1], _as_date(row[2])))
                if kind == 2:
                    touched.add((row[3], _as_date(row[4])))
        return Classified(counts=counts, touched=touched)

    def merge(self, source: str, import_id: int, update_columns: tuple[str, ...]) -> None:
        """Insert the staged rows, updating those whose key exists and whose values differ."""
        t, s = self.kind.table, self.table
        data = [c for c in DB_COLUMNS[self.kind.name]]
        picked = [s.c[c] for c in data] + [literal(source, String).label("source")]
        names = data + ["source"]
        key = list(self.kind.key)
        if "import_id" in t.c:
            picked.append(literal(import_id, Integer).label("import_id"))
            names.append("import_id")
        insert = (postgresql.insert(t) if self.dialect == "postgresql" else sqlite.insert(t))
        # WHERE true: SQLite needs it to parse INSERT … SELECT … ON CONFLICT. Rows go in
        # in time order, so the table's indexes (most lead with a day or a time) are
        # filled in order rather than at random: several times faster on a large file.
        order = [s.c[c] for c in ("local_date", self.kind.local_from) if c and c in s.c]
        query = select(*picked).where(true()).order_by(
            *(order or [s.c[k] for k in _key(self.kind)]))
        stmt = insert.from_select(names, query)
        compared = self._compared(update_columns)
        if compared:
            new = stmt.excluded
            values = {c: new[c] for c in compared}
            values["source"] = new.source
            if "import_id" in t.c:
                values["import_id"] = new.import_id
            stmt = stmt.on_conflict_do_update(
                index_elements=key, set_=values,
                where=or_(*[t.c[c].is_distinct_from(new[c]) for c in compared]))
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=key)
        self.conn.execute(stmt)


def stage_batch(stage: Stage, frame: pl.DataFrame) -> None:
    """Stage one batch (looked up at call time, so a test can make it fail)."""
    stage.add(frame)


def merge_stage(stage: Stage, source: str, import_id: int,
                update_columns: tuple[str, ...]) -> None:
    """Merge the staged rows (looked up at call time, so a test can make it fail)."""
    stage.merge(source, import_id, update_columns)


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def lock(conn: Connection, timeout: float = LOCK_TIMEOUT,
         on_wait: Callable[[], None] | None = None) -> None:
    """Begin CONN's transaction holding the import lock; wait for it up to TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    if conn.dialect.name == "postgresql":
        got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        if got.scalar_one():
            return
        if on_wait:
            on_wait()
        conn.execute(text(f"SET LOCAL lock_timeout = {max(1, int(timeout * 1000))}"))
        try:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        except OperationalError as exc:
            conn.rollback()
            raise LockTimeout(_timeout_message(timeout)) from exc
        conn.execute(text("SET LOCAL lock_timeout = 0"))
        return
    # SQLite: a write transaction from the start, so two imports never meet half-way
    # (a deferred transaction that read first cannot wait for the writer: it fails).
    # A first quick try tells whether to say "waiting"; then each attempt waits up to the
    # connection's busy_timeout (capped by TIMEOUT).
    busy = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one())
    patience = max(1, min(busy, int(timeout * 1000)))
    attempt = min(100, patience)
    try:
        while True:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {attempt}")
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                conn.rollback()
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise LockTimeout(_timeout_message(timeout)) from exc
                if on_wait and attempt < patience:
                    on_wait()
                attempt = max(1, min(patience, int((deadline - time.monotonic()) * 1000)))
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {busy}")


def _timeout_message(timeout: float) -> str:
    return (f"another import kept the database busy for more than {timeout:g} s: "
            "nothing was loaded (try again later)")
