"""Wallboard mode of Aujourd'hui under AppTest (`?wallboard=1`): the tiles and the
intraday chart only, the latest day with data, the configured refresh interval."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.core import config
from dashboard.core import formatting as fmt
from tests.apptest import metric, open_page, texts
from tests.test_app_today import ROUEN, _engine_row, _scalar

PAGE = "pages/aujourdhui.py"


def _last_day(url: str) -> dt.date:
    last = _scalar(url, "SELECT MAX(local_date) FROM contacts WHERE site = 'rouen'")
    return dt.date.fromisoformat(str(last)[:10])


def test_wallboard_shows_tiles_and_the_intraday_chart_only(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, wallboard="1")
    assert not at.exception
    assert at.title[0].value.startswith("Aujourd'hui")
    assert len(at.metric) == 10
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    assert len(at.dataframe) == 0 and len(at.expander) == 0
    assert len(at.get("download_button")) == 0
    # No day picker nor toggle: the wallboard shows the latest day and always refreshes.
    assert not [d for d in at.date_input if d.key == "jour"]
    assert not [t for t in at.toggle if t.key == "auto"]
    assert "actualisation toutes les 60 s" in texts(at)


def test_wallboard_tiles_equal_the_engine_on_the_latest_day(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, wallboard="1")
    k = _engine_row(demo_db_url, _last_day(demo_db_url))
    assert metric(at, "Appels reçus").value == fmt.fr_number(k["received"])
    assert metric(at, "Taux de décroché").value == fmt.fr_percent(k["answer_rate"])


def test_wallboard_refresh_interval_is_a_setting(monkeypatch, demo_db_url):
    monkeypatch.setenv("DASHBOARD_WALLBOARD_REFRESH_SECONDS", "30")
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, wallboard="1")
    assert not at.exception
    assert "actualisation toutes les 30 s" in texts(at)


def test_without_wallboard_the_page_keeps_its_tables(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN)
    # Calls and agents, service level, the eve's forecast, tomorrow's calls and staff
    # (none of the last three on the wallboard).
    assert len(at.dataframe) >= 1 and len(at.get("vega_lite_chart")) == 5


@pytest.mark.parametrize("raw,ok", [("60", 60), (" 15 ", 15), ("5", 5), ("4", None),
                                    ("0", None), ("soixante", None), ("1.5", None)])
def test_wallboard_refresh_setting_is_checked(monkeypatch, raw, ok):
    monkeypatch.setenv("DASHBOARD_WALLBOARD_REFRESH_SECONDS", raw)
    if ok is None:
        with pytest.raises(ValueError, match="DASHBOARD_WALLBOARD_REFRESH_SECONDS"):
            config.wallboard_refresh_seconds()
    else:
        assert config.wallboard_refresh_seconds() == ok


def test_wallboard_refresh_defaults_to_a_minute(monkeypatch, tmp_path):
    monkeypatch.delenv("DASHBOARD_WALLBOARD_REFRESH_SECONDS", raising=False)
    monkeypatch.setenv("DASHBOARD_SECRETS_FILE", str(tmp_path / "none.toml"))
    assert config.wallboard_refresh_seconds() == 60
