"""Database URLs as people write them: `postgresql://` and `postgres://` mean psycopg2 in the
CLI, the app and Alembic; a URL that cannot be used gives one line (English on the CLI,
French on screen) naming it with its password masked, never a traceback; DATABASE_URL is
read when DASHBOARD_DB_URL is unset.

The CLI cases run `python -m dashboard` in a subprocess against the real PostgreSQL
server (a database made for the test), as a user types them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from dashboard.core import config, dburl
from dashboard.serve.launcher import free_port
from dashboard.store import database as dbmod
from tests.apptest import APP
from tests.conftest import create_pg_database, drop_pg_database, pg_unavailable_reason

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3cr3t-Pa55"


# ------------------------------------------------------------------ pure: the URL texts


@pytest.mark.parametrize(("given", "expected"), [
    ("postgresql://u:p@h:5432/db", "postgresql+psycopg2://u:p@h:5432/db"),
    ("postgres://u:p@h/db", "postgresql+psycopg2://u:p@h/db"),
    ("POSTGRES://h/db?sslmode=require", "postgresql+psycopg2://h/db?sslmode=require"),
    ("  postgresql://h/db  ", "postgresql+psycopg2://h/db"),
    ("postgresql+psycopg2://h/db", "postgresql+psycopg2://h/db"),
    ("postgresql+psycopg://h/db", "postgresql+psycopg://h/db"),  # asked for: kept
    ("sqlite:///data/demo.sqlite", "sqlite:///data/demo.sqlite"),
    ("mysql://h/db", "mysql://h/db"),
])
def test_bare_postgres_schemes_mean_psycopg2(given, expected):
    assert dburl.normalise(given) == expected


def test_the_password_is_masked_in_parsable_and_unparsable_urls():
    assert dburl.masked(f"postgresql://alice:{PASSWORD}@db.example:5432/cc") == \
        "postgresql://alice:***@db.example:5432/cc"
    assert dburl.masked("postgresql://alice@db.example/cc") == "postgresql://alice@db.example/cc"
    # Not a URL SQLAlchemy parses (a port that is not a number): still no password.
    assert PASSWORD not in dburl.masked(f"postgresql://alice:{PASSWORD}@h:port/cc")
    assert dburl.masked(f"postgresql://alice:{PASSWORD}@h:port/cc").startswith(
        "postgresql://alice:***@")


def test_a_server_password_refusal_reads_as_a_refused_password():
    # Trust authentication here never refuses a password: the server's own words, as
    # libpq reports them, stand in for it.
    exc = RuntimeError('connection to server at "10.0.0.5", port 5432 failed: FATAL:  '
                       'password authentication failed for user "alice"')
    problem = dburl.classify(f"postgres://alice:{PASSWORD}@10.0.0.5/cc", exc)
    assert problem.kind == "password"
    assert problem.english == ("cannot use database postgres://alice:***@10.0.0.5/cc: "
                               "the server refused the user name or password")
    assert problem.french == ("Base de données `postgres://alice:***@10.0.0.5/cc` "
                              "inutilisable : le serveur a refusé l'utilisateur ou le mot "
                              "de passe.")


def test_database_url_is_read_when_dashboard_db_url_is_unset(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/fromhosting")
    assert config.db_url() == "postgresql+psycopg2://u@h/fromhosting"
    monkeypatch.setenv("DASHBOARD_DB_URL", "postgresql://u@h/ours")
    assert config.db_url() == "postgresql+psycopg2://u@h/ours"
    monkeypatch.delenv("DASHBOARD_DB_URL")
    monkeypatch.delenv("DATABASE_URL")
    assert config.db_url() == f"sqlite:///{ROOT / 'data' / 'demo.sqlite'}"


def test_alembic_is_given_the_psycopg2_url():
    cfg = dbmod.alembic_config("postgres://u:p%40x@h/db")
    assert cfg.get_main_option("sqlalchemy.url") == "postgresql+psycopg2://u:p%40x@h/db"


# --------------------------------------------------------- the CLI on the real server


@pytest.fixture
def pg_database():
    """A fresh PostgreSQL database: (host, port, name), dropped after the test."""
    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    url = create_pg_database()
    parsed = make_url(url)
    yield parsed.host, parsed.port or 5432, parsed.database
    drop_pg_database(url)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m dashboard ARGS` as a user runs it."""
    full = {k: v for k, v in os.environ.items()
            if k not in ("DASHBOARD_DB_URL", "DATABASE_URL")}
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=ROOT,
                          env={**full, **(env or {})}, capture_output=True, text=True,
                          timeout=300)


def tables_in(host: str, port: int, name: str) -> set[str]:
    engine = create_engine(f"postgresql+psycopg2://postgres@{host}:{port}/{name}")
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_upgrade_and_query_with_the_url_every_panel_writes(pg_database, scheme):
    host, port, name = pg_database
    url = f"{scheme}://postgres@{host}:{port}/{name}"
    done = run_cli("db", "upgrade", "--db", url)
    assert done.returncode == 0, done.stderr
    assert "schema at head" in done.stdout
    assert {"contacts", "alembic_version", "sites"} <= tables_in(host, port, name)
    loaded = run_cli("reference", "load", "--db", url)
    assert loaded.returncode == 0, loaded.stderr
    with create_engine(f"postgresql+psycopg2://postgres@{host}:{port}/{name}").connect() as c:
        sites = c.execute(text("SELECT COUNT(*) FROM sites")).scalar_one()
    assert sites >= 2  # the pilot file's Rouen and Chartres


def test_database_url_reaches_the_cli_when_nothing_else_is_set(pg_database):
    host, port, name = pg_database
    done = run_cli("db", "upgrade", env={"DATABASE_URL": f"postgres://postgres@{host}:{port}/{name}"})
    assert done.returncode == 0, done.stderr
    assert "contacts" in tables_in(host, port, name)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    """The single line a failed command printed (asserting there is only that)."""
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_unusable_urls_give_one_line_naming_the_url_without_its_password(pg_database):
    host, port, name = pg_database
    down = free_port()  # nothing listens there
    cases = {
        f"postgresql://postgres:{PASSWORD}@127.0.0.1:{down}/{name}":
            (f"postgresql://postgres:***@127.0.0.1:{down}/{name}",
             "the database server does not answer"),
        f"postgres://postgres:{PASSWORD}@{host}:{port}/no_such_db_{name}":
            (f"postgres://postgres:***@{host}:{port}/no_such_db_{name}",
             "the database does not exist on the server"),
        f"postgresql://nobody_{name}:{PASSWORD}@{host}:{port}/{name}":
            (f"postgresql://nobody_{name}:***@{host}:{port}/{name}",
             "the server refused the user name or password"),
        f"mongodb://u:{PASSWORD}@{host}/x":
            (f"mongodb://u:***@{host}/x", "unknown database type"),
        "not a url": ("not a url", "not a database URL"),
    }
    for url, (shown, reason) in cases.items():
        line = one_line_error(run_cli("db", "upgrade", "--db", url))
        assert PASSWORD not in line
        assert line.startswith(f"Error: cannot use database {shown}: {reason}"), line
    # kpis, another command, says the same.
    url = f"postgres://postgres:{PASSWORD}@127.0.0.1:{down}/{name}"
    line = one_line_error(run_cli("kpis", "--db", url, "--from", "2015-03-02",
                                  "--to", "2015-03-02"))
    assert "does not answer" in line and PASSWORD not in line


# --------------------------------------------------------------------- the app, French


def open_app(monkeypatch, url: str) -> AppTest:
    monkeypatch.setenv("DASHBOARD_DB_URL", url)
    monkeypatch.setenv("DASHBOARD_AUTH_MODE", "demo")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_app_opens_a_postgres_url(monkeypatch, pg_database):
    host, port, name = pg_database
    assert run_cli("db", "upgrade", "--db", f"postgres://postgres@{host}:{port}/{name}"
                   ).returncode == 0
    at = open_app(monkeypatch, f"postgres://postgres@{host}:{port}/{name}")
    # An upgraded database with no user: the frame got past the database check.
    assert [t.value for t in at.title] == ["Accès non autorisé"]
    dbmod.get_engine(f"postgresql+psycopg2://postgres@{host}:{port}/{name}").dispose()


def test_the_app_says_in_french_why_a_url_cannot_be_used(monkeypatch):
    down = free_port()
    at = open_app(monkeypatch, f"postgresql://alice:{PASSWORD}@127.0.0.1:{down}/cc")
    errors = [e.value for e in at.error]
    assert errors == [f"Base de données `postgresql+psycopg2://alice:***@127.0.0.1:{down}/cc` "
                      "inutilisable : le serveur de base de données ne répond pas."]
    at = open_app(monkeypatch, "oracle+nodriver://x/y")
    assert [e.value for e in at.error] == [
        "Base de données `oracle+nodriver://x/y` inutilisable : type de base de données "
        "inconnu (utilisez sqlite:/// ou postgresql://)."]
