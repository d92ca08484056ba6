"""Settings: environment first, then the secrets file, then defaults."""

from __future__ import annotations

from dashboard import config


def test_default_database_is_the_demo_file_under_the_project_root():
    assert config.db_url() == f"sqlite:///{config.ROOT / 'data' / 'demo.sqlite'}"


def test_secrets_file_is_read_and_environment_wins(monkeypatch, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[dashboard]\ndb_url = "postgresql://x@h/db"\nsl_seconds = 30\n')
    monkeypatch.setenv("DASHBOARD_SECRETS_FILE", str(secrets))
    assert config.db_url() == "postgresql://x@h/db"
    assert config.default_thresholds().sl_seconds == 30
    monkeypatch.setenv("DASHBOARD_DB_URL", "sqlite:////tmp/other.sqlite")
    monkeypatch.setenv("DASHBOARD_SL_SECONDS", "15")
    assert config.db_url() == "sqlite:////tmp/other.sqlite"
    assert config.default_thresholds().sl_seconds == 15


def test_thresholds_default_to_the_spec_values():
    t = config.default_thresholds()
    assert (t.sl_seconds, t.short_abandon_seconds, t.sl_target, t.answer_rate_target) == (
        20, 5, 0.8, 0.85)
