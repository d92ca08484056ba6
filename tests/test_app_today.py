"""The Aujourd'hui page under AppTest on the demo database: tiles equal independent counts
and the engine, the URL restores the filters, the scope holds, empty days say so."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from dashboard.core import formatting as fmt
from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.engine import series
from dashboard.engine.kpis import compute_kpis
from dashboard.store import database as dbmod
from tests.apptest import metric, number, open_page, texts

PAGE = "pages/aujourdhui.py"
ROUEN = "superviseur.rouen"


def _scalar(url: str, sql: str, **params):
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _count(url: str, table: str, site: str, day: dt.date, channel: str | None = None) -> int:
    # Calls that ended in the voice server (ivr) are no call received (metrics.md).
    where = " AND channel = :channel" if channel else ""
    where += " AND outcome <> 'ivr'" if table == "contacts" else ""
    return _scalar(url, f"SELECT COUNT(*) FROM {table} WHERE site = :site AND local_date = :d"
                   + where, site=site, d=day, channel=channel)


def _busy_days(url: str, site: str = "rouen") -> list[dt.date]:
    """Weekdays of SITE with calls offered, busiest first."""
    with dbmod.get_engine(url).connect() as conn:
        rows = conn.execute(text(
            "SELECT local_date, COUNT(*) AS n FROM contacts WHERE site = :site AND "
            "channel = 'phone' AND outcome <> 'deflected' GROUP BY local_date "
            "ORDER BY n DESC, local_date"), {"site": site}).all()
    return [dt.date.fromisoformat(str(r[0])[:10]) for r in rows]


def _engine_row(url: str, day: dt.date, **kw) -> dict:
    filters = Filters(day, day, scope=Scope("supervisor", site="rouen"), **kw)
    return compute_kpis(dbmod.get_engine(url), filters).row(0, named=True)


def test_default_day_is_the_latest_with_data(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN)
    assert not at.exception
    last = _scalar(demo_db_url, "SELECT MAX(local_date) FROM contacts WHERE site = 'rouen'")
    assert at.date_input(key="jour").value == dt.date.fromisoformat(str(last)[:10])


def test_a_link_opens_the_days_contacts(monkeypatch, demo_db_url):
    day = _busy_days(demo_db_url)[1]
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, jour=day.isoformat())
    (link,) = [e for e in at.get("page_link") if e.proto.label == "Voir les contacts de ce jour"]
    assert link.proto.page.endswith("detail") and link.proto.query_string == f"date={day}"


def test_tiles_equal_independent_counts_and_the_engine(monkeypatch, demo_db_url):
    day = _busy_days(demo_db_url)[0]
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, jour=day.isoformat())
    assert not at.exception
    assert at.date_input(key="jour").value == day
    assert number(metric(at, "Appels reçus").value) == _count(demo_db_url, "contacts", "rouen",
                                                              day, "phone")
    assert number(metric(at, "Courriels reçus").value) == _count(demo_db_url, "contacts",
                                                                 "rouen", day, "email")
    assert number(metric(at, "Actes de gestion").value) == _count(demo_db_url, "acts", "rouen",
                                                                  day)
    now = _engine_row(demo_db_url, day)
    before = _engine_row(demo_db_url, day - dt.timedelta(days=7))
    rate = metric(at, "Taux de décroché")
    assert rate.value == fmt.fr_percent(now["answer_rate"])
    assert rate.proto.delta == series.kpi_delta(now["answer_rate"], before["answer_rate"], "rate")
    assert rate.label.startswith(":green[" if now["answer_rate"] >= 0.85 else ":red[")
    assert metric(at, "Niveau de service").value == fmt.fr_percent(now["service_level"])
    assert metric(at, "Attente moyenne").value == fmt.fr_duration(now["asa_seconds"])
    assert metric(at, "Stock en attente").value == fmt.fr_number(now["backlog"])
    # Calls and agents; service level; the eve's forecast, tomorrow's calls and staff
    # (test_app_forecast.py).
    assert len(at.get("vega_lite_chart")) == 5
    ivr = _scalar(demo_db_url, "SELECT COUNT(*) FROM contacts WHERE site = 'rouen' AND "
                  "local_date = :d AND outcome = 'ivr'", d=day)
    assert ivr > 0  # the demo's voice server ends some calls every busy day
    said = [c.value for c in at.caption if "au serveur vocal" in c.value]
    s = "s" if ivr > 1 else ""
    assert said == [f"Et {fmt.fr_number(ivr)} appel{s} terminé{s} au serveur vocal sans "
                    f"demander d'agent, compté{s} à part (ni appels reçus ni taux)."]
    departments = at.dataframe[2].value  # after the two charts' tables
    assert set(departments["Département"]) <= {"60 Oise", "04 Alpes-de-Haute-Provence"}
    assert sum(number(v) for v in departments["Appels reçus"]) == now["received"]


def test_half_hour_tables_hold_the_full_computations_figures(monkeypatch, demo_db_url):
    """The intraday tables show, per half-hour, what the engine computing every metric
    gives: the page asks for fewer metrics (page_reads.TODAY_SLOTS), never too few."""
    day = _busy_days(demo_db_url)[0]
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, jour=day.isoformat())
    assert not at.exception
    calls, levels = at.dataframe[0].value, at.dataframe[1].value
    full = compute_kpis(dbmod.get_engine(demo_db_url),
                        Filters(day, day, scope=Scope("supervisor", site="rouen")), ("slot",))
    busy = full.filter(full["offered"] > 0)
    rows = {r["Créneau"]: r for r in calls.to_dict("records")}
    for slot in busy.to_dicts():
        row = rows[slot["slot"]]
        assert number(row["Appels présentés"]) == slot["offered"]
        assert row["Agents connectés (moyenne)"] == fmt.fr_decimal(slot["agents_logged_in"], 1)
        assert row["Effectif requis (Erlang)"] == fmt.fr_decimal(slot["required_agents"], 1)
    assert busy["agents_logged_in"].is_not_null().all()
    assert busy["required_agents"].is_not_null().all()
    rated = full.drop_nulls("service_level")
    assert list(levels["Niveau de service"]) == [fmt.fr_percent(v)
                                                     for v in rated["service_level"]]


def test_the_url_restores_day_site_and_channel(monkeypatch, demo_db_url):
    day = _busy_days(demo_db_url, "chartres")[1]
    at = open_page(monkeypatch, demo_db_url, PAGE, "directeur", jour=day.isoformat(),
                   site="Chartres", canal="Téléphone")
    assert not at.exception
    assert at.date_input(key="jour").value == day
    assert at.selectbox(key="site").value == "chartres"
    assert at.button_group(key="canal").value == "phone"
    assert number(metric(at, "Appels reçus").value) == _count(demo_db_url, "contacts",
                                                              "chartres", day, "phone")
    assert metric(at, "Courriels reçus").value == "0"
    # The national view names no agent: pseudonyms only.
    (agents,) = [d.value["Agent"] for d in at.dataframe if "Agent" in d.value.columns]
    assert all(a.startswith("agent-") or a == fmt.UNASSIGNED for a in agents)


def test_changing_the_day_changes_the_figures(monkeypatch, demo_db_url):
    first, second = _busy_days(demo_db_url)[0], _busy_days(demo_db_url)[-1]
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, jour=first.isoformat())
    shown = metric(at, "Appels reçus").value
    at.date_input(key="jour").set_value(second).run()
    assert not at.exception
    assert metric(at, "Appels reçus").value != shown
    assert number(metric(at, "Appels reçus").value) == _count(demo_db_url, "contacts", "rouen",
                                                              second, "phone")


def test_a_rouen_supervisor_never_sees_chartres(monkeypatch, demo_db_url):
    day = _busy_days(demo_db_url)[0]
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, jour=day.isoformat(),
                   site="Chartres", dept="28")
    assert not at.exception
    assert number(metric(at, "Appels reçus").value) == _count(demo_db_url, "contacts", "rouen",
                                                              day, "phone")
    with dbmod.get_engine(demo_db_url).connect() as conn:
        chartres_agents = conn.execute(text(
            "SELECT agent_id, display_name FROM agents WHERE site = 'chartres'")).all()
    shown = texts(at)
    for word in ["Chartres", "Eure-et-Loir", "Seine-Saint-Denis"]:
        assert word not in shown
    for agent_id, name in chartres_agents:
        assert agent_id not in shown and (not name or name not in shown)


def test_a_sunday_and_a_departement_not_yet_covered_say_so(monkeypatch, demo_db_url):
    sunday = max(d for d in _busy_days(demo_db_url) if d.weekday() == 0) - dt.timedelta(days=1)
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, jour=sunday.isoformat())
    assert not at.exception
    assert f"Aucune activité le dimanche {fmt.fr_date(sunday)}" in at.info[0].value
    # No figure of the day, nothing forecast for it on its eve: the only charts are
    # tomorrow's calls and staff (test_app_forecast.py).
    assert not at.metric
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2 and "Appels attendus par demi-heure" in charts[0].proto.spec
    assert "Prévu la veille et réalisé" not in [h.value for h in at.header]

    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, jour="2015-03-16")
    at.multiselect(key="dept").set_value(["04"]).run()
    assert not at.exception
    message = at.info[0].value
    assert "Aucune activité le lundi 16/03/2015" in message
    assert "04 Alpes-de-Haute-Provence n'est couvert qu'à partir du 01/04/2015" in message
    assert not at.metric


@pytest.mark.parametrize("auto", [False, True])
def test_wallboard_refresh_is_a_toggle_in_the_url(monkeypatch, demo_db_url, auto):
    day = _busy_days(demo_db_url)[0]
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, jour=day.isoformat(),
                   **({"auto": "true"} if auto else {}))
    assert not at.exception
    assert at.toggle(key="auto").value is auto
    (footer,) = [c.value for c in at.main.caption if c.value.startswith("Données : ")]
    assert footer.startswith("Données : dernier contact reçu à ")
    assert ("actualisation toutes les 60 s" in footer) is auto
