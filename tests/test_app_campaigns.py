"""The Campagnes page under AppTest on the demo database: daily load equal to independent
counts, campaigns aligned on their first day, the URL restores the choices, the scope
holds, empty selections say so."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from dashboard.core import formatting as fmt
from dashboard.engine import series
from dashboard.store import database as dbmod
from tests.apptest import number, open_page, texts

PAGE = "pages/campagnes.py"
ROUEN = "superviseur.rouen"
DECLARATIVE = "Campagne déclarative 2015"
START, END = dt.date(2015, 4, 15), dt.date(2015, 6, 9)


def _rows(url: str, sql: str, **params) -> list:
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(text(sql), params).all()


def _contacts(url: str, site: str = "rouen", extra: str = "", **params) -> int:
    # The load is of contacts for an agent: calls ended in the voice server are apart.
    return _rows(url, "SELECT COUNT(*) FROM contacts WHERE site = :site AND outcome <> 'ivr' "
                 "AND local_date "
                 f"BETWEEN :a AND :b {extra}", site=site, a=START, b=END, **params)[0][0]


def _table(at, first_column: str):
    return next(f.value for f in at.dataframe if f.value.columns[0] == first_column)


def test_a_campaign_from_the_url_shows_every_contact_of_its_days(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, campagne=DECLARATIVE)
    assert not at.exception
    assert at.selectbox(key="campagne").value == DECLARATIVE
    assert f"au **{series.fr_day(END)}**" in at.main.caption[0].value
    load = _table(at, "Jour")
    assert load["Jour"].iloc[0] == fmt.fr_date(START) and load["Jour"].iloc[-1] == fmt.fr_date(END)
    assert sum(number(v) for v in load["Total"]) == _contacts(demo_db_url)
    # The peak day of the reading is the busiest day counted in SQL.
    day, n = _rows(demo_db_url, "SELECT local_date, COUNT(*) AS n FROM contacts WHERE "
                   "site = 'rouen' AND outcome <> 'ivr' AND local_date BETWEEN :a AND :b GROUP BY local_date "
                   "ORDER BY n DESC, local_date LIMIT 1", a=START, b=END)[0]
    peak = dt.date.fromisoformat(str(day)[:10])
    reading = at.main.caption[1].value
    assert reading.startswith(f"Pic le {series.fr_day(peak)} avec {fmt.fr_number(n)} contacts")
    assert load.loc[load["Jour"] == fmt.fr_date(peak), "Jour de pic"].item() == "oui"
    assert len(at.get("vega_lite_chart")) == 4  # load, comparison, two heatmaps


def test_campaigns_are_aligned_on_their_first_day(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, campagne=DECLARATIVE)
    compared = _table(at, "Campagne")
    first = compared[(compared["Campagne"] == DECLARATIVE) & (compared["Jour de campagne"] == "0")]
    assert first["Date"].item() == fmt.fr_date(START)
    assert number(first["Contacts reçus"].item()) == _rows(
        demo_db_url, "SELECT COUNT(*) FROM contacts WHERE site = 'rouen' AND outcome <> 'ivr' AND local_date = :d",
        d=START)[0][0]
    assert set(compared["Campagne"]) == {"Campagne des avis 2014", DECLARATIVE,
                                         "Campagne des avis 2015"}


def test_stacking_by_departement_from_the_url(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, campagne=DECLARATIVE,
                   empiler="Département")
    assert not at.exception
    assert at.button_group(key="empiler").value == "department"
    load = _table(at, "Jour")
    for column, code in (("60 Oise", "60"), ("04 Alpes-de-Haute-Provence", "04")):
        assert sum(number(v) for v in load[column]) == _contacts(
            demo_db_url, extra="AND department = :d", d=code)


def test_a_channel_filter_changes_the_figures(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, campagne=DECLARATIVE)
    everything = sum(number(v) for v in _table(at, "Jour")["Total"])
    at.button_group(key="canal").set_value("phone").run()
    assert not at.exception
    phone = sum(number(v) for v in _table(at, "Jour")["Total"])
    assert phone != everything
    assert phone == _contacts(demo_db_url, extra="AND channel = 'phone'")
    # The weekday x half-hour profile counts the calls offered (answered + abandoned).
    profile = _table(at, "Jour de la semaine")
    assert sum(number(v) for v in profile["Appels présentés"]) == _contacts(
        demo_db_url, extra="AND channel = 'phone' AND outcome <> 'deflected'")


def test_a_rouen_supervisor_never_sees_chartres(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, campagne=DECLARATIVE,
                   empiler="Département", site="Chartres", dept="93")
    assert not at.exception
    assert sum(number(v) for v in _table(at, "Jour")["Total"]) == _contacts(demo_db_url)
    shown = texts(at)
    for word in ["Chartres", "Eure-et-Loir", "Seine-Saint-Denis"]:
        assert word not in shown


def test_empty_selections_say_so(monkeypatch, demo_db_url):
    # Eure-et-Loir is served from March 2015: nothing in the 2014 notices campaign.
    at = open_page(monkeypatch, demo_db_url, PAGE, "directeur",
                   campagne="Campagne des avis 2014")
    at.multiselect(key="dept").set_value(["28"]).run()
    assert not at.exception
    assert at.info[0].value.startswith("Aucun contact reçu du 04/08/2014 au 30/11/2014")
    assert not at.get("vega_lite_chart")

    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, campagne=DECLARATIVE,
                   canal="Courriel")
    assert not at.exception
    assert any("porte sur les appels" in i.value for i in at.info)
    assert len(at.get("vega_lite_chart")) == 2  # load and comparison, no heatmap
