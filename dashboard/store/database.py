"""Engine creation, schema upgrades and transactions."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import polars as pl
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect

from dashboard.core import config, dburl

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the app read while a nightly import writes; busy_timeout waits for a lock
    # instead of failing at once when two writers meet.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _pg_work_mem(work_mem: str, dbapi_conn, _record) -> None:
    # The server's default (4MB) sends the year-long rollup sorts and hashes to disk.
    # Autocommit, or the pool's reset-on-return rollback would undo the session setting.
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    cur = dbapi_conn.cursor()
    cur.execute("SELECT set_config('work_mem', %s, false)", (work_mem,))
    cur.close()
    dbapi_conn.autocommit = autocommit


def make_engine(url: str, **options) -> Engine:
    """A new engine for URL (OPTIONS: create_engine's, such as the pool's size), with the
    SQLite pragmas and the PostgreSQL session settings the app relies on."""
    url = dburl.normalise(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **options)
    work_mem = config.pg_work_mem() if engine.dialect.name == "postgresql" else None
    if work_mem:
        event.listen(engine, "connect", functools.partial(_pg_work_mem, work_mem))
    return engine


@functools.lru_cache(maxsize=16)
def get_engine(url: str) -> Engine:
    """The process-wide engine for URL (one pool per database)."""
    return make_engine(url)


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the package's migrations and at URL."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", dburl.normalise(url).replace("%", "%%"))
    return cfg


def check_url(url: str) -> str:
    """URL normalised (dburl.normalise) once a connection to it has opened; raises
    dburl.DatabaseUrlError, which says why in one line, when it cannot be used."""
    normalised = dburl.normalise(url)
    try:
        with get_engine(normalised).connect():
            pass
    except Exception as exc:  # any failure to open is reported, never a traceback
        get_engine.cache_clear()  # a later try (server started meanwhile) starts afresh
        # The message names the URL as its user wrote it.
        raise dburl.DatabaseUrlError(dburl.classify(url, exc)) from exc
    return normalised


def upgrade(url: str, revision: str = "head") -> None:
    """Create or upgrade the schema of the database at URL."""
    engine = get_engine(url)
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def is_initialised(engine: Engine) -> bool:
    """True when the schema has been created in this database."""
    return inspect(engine).has_table("contacts")


def copy_frame(conn: Connection, table_name: str, frame: pl.DataFrame) -> None:
    """Bulk-load FRAME into TABLE_NAME with PostgreSQL's COPY (its columns, CSV, lossless).

    The table name and FRAME's column names are identifiers of our own schema, never user
    input; values travel as COPY data, not as SQL text.
    """
    if frame.height == 0:
        return
    buf = io.BytesIO()
    frame.write_csv(buf, include_header=False, null_value="",
                    datetime_format="%Y-%m-%d %H:%M:%S%.6f", date_format="%Y-%m-%d")
    buf.seek(0)
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.copy_expert(f"COPY {table_name} ({cols}) FROM STDIN WITH (FORMAT csv)", buf)
    finally:
        cursor.close()
