"""The links of the e-mails open the view they name: each page reads the query
parameters dashboard.delivery.messages.link writes (AppTest on the demo)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard.delivery import messages
from tests.apptest import open_page

FILES = {"aujourdhui": "pages/aujourdhui.py", "effectifs": "pages/effectifs.py",
         "bilan": "pages/bilan.py", "mes-statistiques": "pages/mes_statistiques.py"}


def _open(monkeypatch, url, link, login):
    parts = urlsplit(link)
    page = parts.path.rsplit("/", 1)[-1]
    params = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(parts.query).items()}
    return open_page(monkeypatch, url, FILES[page], login, **params)


def test_a_daily_link_opens_that_day_on_aujourdhui(monkeypatch, demo_db_url):
    day = dt.date(2015, 11, 4)
    link = messages.link("https://tdb.example.fr", messages.MANAGER_PAGE, day, day)
    at = _open(monkeypatch, demo_db_url, link, "superviseur.rouen")
    assert not at.exception
    assert any(c.value.startswith("**mercredi 04/11/2015**") for c in at.caption)


@pytest.mark.parametrize("page,login", [(messages.SITE_WEEK_PAGE, "superviseur.rouen"),
                                        (messages.REVIEW_PAGE, "directeur"),
                                        (messages.AGENT_PAGE, "rouen-a02")])
def test_a_weekly_link_opens_that_week(monkeypatch, demo_db_url, page, login):
    start, end = dt.date(2015, 11, 2), dt.date(2015, 11, 8)
    at = _open(monkeypatch, demo_db_url, messages.link("https://x", page, start, end), login)
    assert not at.exception
    assert "Du 02/11/2015 au 08/11/2015" in [c.value for c in at.sidebar.caption]
