"""Settings: environment first, then the secrets file, then defaults."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from dashboard.core import config
from dashboard.store import database as dbmod


def test_default_database_is_the_demo_file_under_the_project_root():
    assert config.db_url() == f"sqlite:///{config.ROOT / 'data' / 'demo.sqlite'}"


def test_secrets_file_is_read_and_environment_wins(monkeypatch, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[dashboard]\ndb_url = "postgresql://x@h/db"\nsl_seconds = 30\n')
    monkeypatch.setenv("DASHBOARD_SECRETS_FILE", str(secrets))
    assert config.db_url() == "postgresql+psycopg2://x@h/db"  # psycopg2, the stack's driver
    assert config.default_thresholds().sl_seconds == 30
    monkeypatch.setenv("DASHBOARD_DB_URL", "sqlite:////tmp/other.sqlite")
    monkeypatch.setenv("DASHBOARD_SL_SECONDS", "15")
    assert config.db_url() == "sqlite:////tmp/other.sqlite"
    assert config.default_thresholds().sl_seconds == 15


def test_thresholds_default_to_the_spec_values():
    t = config.default_thresholds()
    assert (t.sl_seconds, t.short_abandon_seconds, t.sl_target, t.answer_rate_target) == (
        20, 5, 0.8, 0.85)


def _work_mem(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SHOW work_mem")).scalar()


def test_postgresql_sessions_get_the_work_mem_setting(monkeypatch, pg_url):
    server = create_engine(pg_url)  # plain engine: the server's own default
    expected_server = _work_mem(server)
    server.dispose()
    for raw, expected in (("48MB", "48MB"), (None, "64MB"), ("server", expected_server)):
        if raw is None:
            monkeypatch.delenv("DASHBOARD_PG_WORK_MEM", raising=False)
        else:
            monkeypatch.setenv("DASHBOARD_PG_WORK_MEM", raw)
        engine = dbmod.make_engine(pg_url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SHOW work_mem")).scalar() == expected
                conn.rollback()
            # The pooled connection comes back with it: a rollback does not undo it.
            assert engine.pool.checkedin() == 1
            assert _work_mem(engine) == expected
        finally:
            engine.dispose()


@pytest.mark.parametrize("raw, ok", [("64MB", "64MB"), (" 512kB ", "512kB"), ("1GB", "1GB"),
                                     ("SERVER", None), ("64", False), ("64 mb", False),
                                     ("-1MB", False), ("0MB", False), ("lots", False)])
def test_work_mem_setting_is_checked(monkeypatch, raw, ok):
    monkeypatch.setenv("DASHBOARD_PG_WORK_MEM", raw)
    if ok is False:
        with pytest.raises(ValueError, match="DASHBOARD_PG_WORK_MEM must be an amount"):
            config.pg_work_mem()
    else:
        assert config.pg_work_mem() == ok
