"""Upsert validated rows by natural key, in batches, inside the caller's transaction.

Each batch reads the rows already stored under its keys, then inserts the new ones,
updates the ones that differ and counts the others as unchanged. It is plain SQLAlchemy
Core (SELECT, INSERT, UPDATE with bound parameters), so SQLite and PostgreSQL behave
identically, and the batch size bounds the Python objects held at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, and_, bindparam, select, tuple_

from dashboard.ingest.kinds import Kind
from dashboard.ingest.validate import INSERT_DEFAULTS

BATCH_SIZE = 2000


@dataclass
class Counts:
    """Rows inserted, updated and left unchanged."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


def upsert(conn: Connection, kind: Kind, frame: pl.DataFrame, *, source: str, import_id: int,
           update_columns: tuple[str, ...], batch_size: int | None = None) -> Counts:
    """Write FRAME (columns named as the table's) batch by batch; returns the counts."""
    size = batch_size or BATCH_SIZE
    total = Counts()
    data = frame.drop([c for c in frame.columns if c.startswith("__")])
    for batch in data.iter_slices(size):
        # Looked up at call time, so a test can replace the batch writer.
        total += write_batch(conn, kind, batch.to_dicts(), source=source, import_id=import_id,
                             update_columns=update_columns)
    return total


def write_batch(conn: Connection, kind: Kind, rows: list[dict], *, source: str,
                import_id: int, update_columns: tuple[str, ...]) -> Counts:
    """Insert, update or keep each row of one batch (keys are unique within the batch)."""
    if not rows:
        return Counts()
    table = kind.table
    defaults = INSERT_DEFAULTS.get(kind.name, {})
    for row in rows:
        row["source"] = source
        for col, value in defaults.items():
            if row.get(col) is None:
                row[col] = value
    key = list(kind.key)
    existing = _existing(conn, kind, rows, source)
    # The agents table is keyed by agent_id alone; which file last wrote an agent is not
    # a change of the agent.
    compared = [c for c in update_columns if c not in key]
    new, changed, same = [], [], 0
    for row in rows:
        old = existing.get(tuple(row[k] for k in key))
        if old is None:
            new.append(row)
        elif any(row[c] != old[c] for c in compared):
            changed.append(row)
        else:
            same += 1
    if new:
        columns = [c for c in rows[0] if c in table.c]
        conn.execute(table.insert(), [
            {**{c: r[c] for c in columns}, "import_id": import_id} if "import_id" in table.c
            else {c: r[c] for c in columns}
            for r in new
        ])
    if changed:
        values = {c: bindparam(f"v_{c}") for c in compared}
        values["source"] = bindparam("v_source")
        if "import_id" in table.c:
            values["import_id"] = bindparam("v_import_id")
        stmt = table.update().where(and_(*[table.c[k] == bindparam(f"k_{k}") for k in key]))
        conn.execute(stmt.values(values), [
            {**{f"k_{k}": r[k] for k in key}, **{f"v_{c}": r[c] for c in compared},
             "v_source": source, "v_import_id": import_id}
            for r in changed
        ])
    return Counts(inserted=len(new), updated=len(changed), unchanged=same)


def _existing(conn: Connection, kind: Kind, rows: list[dict], source: str) -> dict[tuple, dict]:
    table = kind.table
    key = list(kind.key)
    free = [k for k in key if k != "source"]
    where = [table.c.source == source] if "source" in key else []
    if len(free) == 1:
        where.append(table.c[free[0]].in_(sorted({r[free[0]] for r in rows})))
    else:
        pairs = sorted({tuple(r[k] for k in free) for r in rows})
        where.append(tuple_(*[table.c[k] for k in free]).in_(pairs))
    result = conn.execute(select(table).where(*where)).mappings()
    return {tuple(m[k] for k in key): dict(m) for m in result}
