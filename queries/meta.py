"""Facts about the database itself (the `app_meta` table)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from dashboard.store import schema

M = schema.app_meta


def get_meta(conn: Connection, key: str) -> str | None:
    """The value stored under KEY, or None."""
    return conn.execute(select(M.c.value).where(M.c.key == key)).scalar_one_or_none()


def is_demo_database(conn: Connection) -> bool:
    """True when the pilot simulation built this database."""
    return get_meta(conn, "demo") is not None
