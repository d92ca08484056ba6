"""The national directorate's pages (Bilan des pilotes, Effectifs) under AppTest, on the demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from dashboard.core import formatting as fmt
from dashboard.metrics import erlang
from dashboard.store import database as dbmod
from dashboard.store import users as users_mod
from tests.apptest import open_page

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "ui" / "app.py")


def _open(monkeypatch, url: str, login: str, page: str, **params) -> AppTest:
    """PAGE as LOGIN with the entry script run on every rerun, as served (tests.apptest)."""
    return open_page(monkeypatch, url, page, login, **params)


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _number(at: AppTest, label_start: str):
    return next(n for n in at.number_input if n.label.startswith(label_start))


def test_bilan_renders_sites_departements_ramp_up_and_peaks(monkeypatch, demo_db_url):
    at = _open(monkeypatch, demo_db_url, "directeur", "pages/bilan.py")
    assert not at.exception
    assert at.title[0].value == "Bilan des pilotes"
    headers = [h.value for h in at.header]
    assert headers == ["Sites et départements côte à côte", "Montée en charge depuis l'ouverture",
                       "Campagnes : semaine de pointe et hors campagne"]
    assert len(at.get("vega_lite_chart")) == 4
    sites = at.dataframe[0].value
    assert sorted(sites["Site"]) == ["Chartres", "Rouen"]
    departments = at.dataframe[1].value
    assert len(departments) == 4
    assert any(b.proto.label.startswith("Télécharger le rapport")
               for b in at.get("download_button"))


def test_effectifs_renders_and_the_calculator_is_erlang(monkeypatch, demo_db_url):
    at = _open(monkeypatch, demo_db_url, "directeur", "pages/effectifs.py")
    assert not at.exception
    assert at.title[0].value == "Effectifs"
    assert len(at.get("vega_lite_chart")) == 3  # profile, heatmap, days
    assert sorted(at.dataframe[0].value["Site"]) == ["Chartres", "Rouen"]

    # The published figure: 100 calls in 30 min, 180 s, 80 % in 20 s → 14 agents.
    _number(at, "Appels présentés").set_value(100.0)
    _number(at, "Évolution du volume").set_value(0.0)
    _number(at, "Durée moyenne").set_value(180.0)
    _number(at, "Objectif").set_value(80.0)
    _number(at, "Seuil").set_value(20.0)
    at.run()
    assert not at.exception
    assert _metric(at, "Agents nécessaires") == "14"

    # Any other inputs: the answer is erlang.staffing's for the same inputs.
    _number(at, "Appels présentés").set_value(37.5)
    _number(at, "Évolution du volume").set_value(20.0)
    _number(at, "Durée moyenne").set_value(250.0)
    _number(at, "Objectif").set_value(85.0)
    _number(at, "Seuil").set_value(15.0)
    at.run()
    expected = erlang.staffing(37.5 * 1.2, 30, 250, 0.85, 15)
    assert _metric(at, "Agents nécessaires") == fmt.fr_number(expected.required_agents)
    assert _metric(at, "Niveau de service atteint") == fmt.fr_percent(expected.service_level)

    # Erlang A: callers hang up after the patience given.
    at.segmented_control(key="modele").set_value("Erlang A").run()
    assert not at.exception
    _number(at, "Patience moyenne").set_value(90.0)
    at.run()
    expected = erlang.staffing(37.5 * 1.2, 30, 250, 0.85, 15, patience_seconds=90)
    assert expected.model == "erlang_a"
    assert _metric(at, "Agents nécessaires") == fmt.fr_number(expected.required_agents)


@pytest.mark.parametrize("page", ["pages/bilan.py", "pages/effectifs.py"])
def test_an_empty_selection_says_so(monkeypatch, demo_db_url, page):
    """Chartres in September 2014, months before it opened: no call, no agent."""
    at = _open(monkeypatch, demo_db_url, "directeur", page, site="Chartres",
               periode=["2014-09-01", "2014-09-30"])
    assert not at.exception
    assert any("Du 01/09/2014 au 30/09/2014" in c.value for c in at.sidebar.caption)
    assert at.info and "Aucun" in at.info[0].value
    assert not at.get("vega_lite_chart")


def test_a_supervisor_sees_only_its_own_site_on_effectifs(monkeypatch, demo_db_url):
    at = _open(monkeypatch, demo_db_url, "superviseur.rouen", "pages/effectifs.py")
    assert not at.exception
    assert list(at.dataframe[0].value["Site"]) == ["Rouen"]
    assert "Chartres" not in " ".join(c.value for c in at.caption)


def test_a_supervisor_cannot_open_the_bilan(monkeypatch, demo_db_url):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        _open(monkeypatch, demo_db_url, "superviseur.rouen", "pages/bilan.py")


def _agent_login(url: str) -> str:
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(text("SELECT login FROM users WHERE role = 'agent' "
                                 "ORDER BY login LIMIT 1")).scalar_one()


@pytest.mark.parametrize("page", ["pages/bilan.py", "pages/effectifs.py"])
def test_an_agent_cannot_open_the_directorate_pages(monkeypatch, demo_db_url, page):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        _open(monkeypatch, demo_db_url, _agent_login(demo_db_url), page)


@pytest.mark.parametrize("page", ["pages/bilan.py", "pages/effectifs.py"])
def test_the_pages_refuse_an_agent_even_when_run_directly(monkeypatch, demo_db_url, page):
    with dbmod.get_engine(demo_db_url).connect() as conn:
        agent = users_mod.active_user(conn, _agent_login(demo_db_url))
    monkeypatch.setenv("DASHBOARD_DB_URL", demo_db_url)
    at = AppTest.from_file(str(ROOT / page), default_timeout=120)
    at.session_state["_dashboard_user"] = agent
    at.run()
    assert not at.exception
    assert "réservée" in at.error[0].value
    assert not at.title
