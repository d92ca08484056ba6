"""Shared fixtures: a fresh database on SQLite and on PostgreSQL, the demo database.

PostgreSQL tests create and drop their own database on the server named by
DASHBOARD_TEST_PG_URL (default postgresql+psycopg2://postgres@127.0.0.1:5432/postgres);
where no server answers they skip with the reason shown by `pytest -rs`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dashboard.store import database as dbmod
from dashboard.store import reference

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
PG_ADMIN_URL = os.environ.get(
    "DASHBOARD_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
DEMO_TEST_SEED = 7
DEMO_TEST_SCALE = 0.05


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch, tmp_path_factory):
    """Never read the developer's secrets.toml or database URL from a test."""
    monkeypatch.setenv("DASHBOARD_SECRETS_FILE", str(tmp_path_factory.getbasetemp() / "none.toml"))
    monkeypatch.delenv("DASHBOARD_DB_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DASHBOARD_CALLER_KEY_SECRET", raising=False)
    monkeypatch.delenv("DASHBOARD_PG_WORK_MEM", raising=False)


_pg_state: dict[str, str | None] = {}


def pg_unavailable_reason() -> str | None:
    """None when the PostgreSQL test server answers, else why not (cached per run)."""
    if "reason" not in _pg_state:
        try:
            engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["reason"] = None
        except Exception as exc:  # any failure to connect means "no server here"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            _pg_state["reason"] = f"no PostgreSQL server at {make_url(PG_ADMIN_URL).host}: {first}"
    return _pg_state["reason"]


def create_pg_database() -> str:
    """Create an empty PostgreSQL database for one test; returns its URL."""
    name = f"dashtest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database, closing our pooled connections first."""
    dbmod.get_engine(url).dispose()
    name = make_url(url).database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url():
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture
def sqlite_url(tmp_path):
    """URL of a fresh, empty SQLite file."""
    url = f"sqlite:///{tmp_path / 'test.sqlite'}"
    yield url
    dbmod.get_engine(url).dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request):
    """A fresh, empty database of each kind (the test runs once per kind)."""
    yield request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def db_url(empty_db_url):
    """A fresh database of each kind with the schema and the pilot's reference data."""
    dbmod.upgrade(empty_db_url)
    reference.load_reference(dbmod.get_engine(empty_db_url))
    return empty_db_url


@pytest.fixture(scope="session")
def demo_db_url(tmp_path_factory):
    """A small demo database on SQLite, built once per test run (read-only for tests)."""
    from dashboard.demo import simulation as demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite'}"
    demo.build_demo(url, seed=DEMO_TEST_SEED, scale=DEMO_TEST_SCALE)
    yield url
    dbmod.get_engine(url).dispose()


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a visible skip where it is absent (as on a user's machine)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: the real data sets live outside the repository")
    return SHARED_DATA
