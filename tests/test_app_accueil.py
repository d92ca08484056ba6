"""The Accueil page under Streamlit's AppTest, on the demo database and on empty ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from dashboard.core import formatting as fmt
from dashboard.core.access import User
from dashboard.store import database as dbmod
from dashboard.store import users as users_mod

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "ui" / "app.py")


def _run(monkeypatch, url: str) -> AppTest:
    monkeypatch.setenv("DASHBOARD_DB_URL", url)
    monkeypatch.setenv("DASHBOARD_AUTH_MODE", "demo")
    return AppTest.from_file(APP, default_timeout=120).run()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_accueil_shows_the_latest_day_as_counted_independently(monkeypatch, demo_db_url):
    at = _run(monkeypatch, demo_db_url)
    assert not at.exception
    with dbmod.get_engine(demo_db_url).connect() as conn:
        last = conn.execute(text("SELECT MAX(local_date) FROM contacts")).scalar_one()
        last = dt.date.fromisoformat(str(last))
        # Answer rate by its definition, in SQL: answered / (received - short abandons).
        received, answered, short = conn.execute(text(
            "SELECT COUNT(*), SUM(outcome = 'answered'),"
            " SUM(outcome = 'abandoned' AND wait_seconds < 5)"
            " FROM contacts WHERE channel = 'phone' AND local_date = :d"), {"d": last}).one()
        emails = conn.execute(text(
            "SELECT COUNT(*) FROM contacts WHERE channel = 'email' AND local_date = :d"),
            {"d": last}).scalar_one()
    assert any(fmt.fr_date(last) in h.value for h in at.header)
    assert _metric(at, "Appels reçus") == fmt.fr_number(received)
    assert _metric(at, "Courriels reçus") == fmt.fr_number(emails)
    expected_rate = answered / (received - short) if received - short else None
    assert _metric(at, "Taux de décroché") == fmt.fr_percent(expected_rate)
    assert len(at.get("vega_lite_chart")) == 1  # the coverage timeline


def test_accueil_on_a_database_without_schema_says_what_to_do(monkeypatch, tmp_path):
    at = _run(monkeypatch, f"sqlite:///{tmp_path / 'nothing.sqlite'}")
    assert not at.exception
    assert "base de données est vide" in at.error[0].value
    assert not at.metric


def test_accueil_with_schema_but_no_contacts_says_so(monkeypatch, db_url):
    with dbmod.get_engine(db_url).begin() as conn:
        users_mod.save_user(conn, User("directeur", "national"))
    at = _run(monkeypatch, db_url)
    assert not at.exception
    assert "Aucun contact" in at.info[0].value
    assert not at.metric
