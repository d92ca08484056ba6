"""The national directorate's pages (Bilan des pilotes, Effectifs) under AppTest, on the demo."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from dashboard.core import formatting as fmt
from dashboard.core.access import scope_for
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics import erlang
from dashboard.review import assessment
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


# --------------------------------------------------------------------- Bilan des pilotes


def _whole_pilot(url: str) -> tuple[dt.date, dt.date]:
    """The first coverage start and the last day with contacts, read in SQL."""
    with dbmod.get_engine(url).connect() as conn:
        first = conn.execute(text("SELECT MIN(start_date) FROM coverage")).scalar_one()
        last = conn.execute(text("SELECT MAX(local_date) FROM contacts")).scalar_one()
    return dt.date.fromisoformat(str(first)[:10]), dt.date.fromisoformat(str(last)[:10])


def _expected_review(url: str, login: str, start: dt.date, end: dt.date):
    """The Review of the period as `python -m dashboard review` builds it (engine, no cache)."""
    engine = dbmod.get_engine(url)
    with engine.connect() as conn:
        scope = scope_for(users_mod.active_user(conn, login))
        filters = Filters(start=start, end=end, scope=scope)
        inputs = assessment.gather(
            conn, lambda f, by, metrics: compute_kpis(engine, f, by, metrics=metrics), filters)
    return assessment.build(inputs)


def _period(at: AppTest) -> tuple[dt.date, dt.date]:
    return tuple(at.sidebar.date_input(key="periode").value)


def _frame_with(at: AppTest, *columns: str):
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert found, [list(d.value.columns) for d in at.dataframe]
    return found[0]


QUESTION_HEADERS = [fmt.md_text(f"{i}. {title}")
                    for i, (_, title) in enumerate(assessment.QUESTIONS, 1)]


def test_bilan_opens_on_the_whole_pilot_organised_as_the_review(monkeypatch, demo_db_url):
    at = _open(monkeypatch, demo_db_url, "directeur", "pages/bilan.py")
    assert not at.exception
    assert at.title[0].value == "Bilan des pilotes"
    start, end = _whole_pilot(demo_db_url)
    assert _period(at) == (start, end)
    headers = [h.value for h in at.header]
    assert headers == ["Les quatre objectifs", *QUESTION_HEADERS,
                       "Soulagement des services locaux (objectif 4)"]
    # Each question says its answer right under its header.
    expected = _expected_review(demo_db_url, "directeur", start, end)
    markdown = [m.value for m in at.markdown]
    for question in expected.questions:
        assert f"**Réponse** : {fmt.md_text(question.answer)}" in markdown
    # Tools, volumes (4), acts, users (4), staff, relief: every chart drawn.
    assert len(at.get("vega_lite_chart")) == 12
    assert sorted(_frame_with(at, "Site", "Taux de décroché")["Site"]) == ["Chartres", "Rouen"]
    assert any(b.proto.label.startswith("Télécharger le rapport")
               for b in at.get("download_button"))


def test_the_four_objectives_show_the_reviews_verdicts_and_figures(monkeypatch, demo_db_url):
    at = _open(monkeypatch, demo_db_url, "directeur", "pages/bilan.py")
    expected = _expected_review(demo_db_url, "directeur", *_period(at))
    assert [o.key for o in expected.objectives] == ["service", "efficiency", "acts", "relief"]
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert len(badges) == 4
    markdown = [m.value for m in at.markdown]
    for index, (objective, badge, metric) in enumerate(
            zip(expected.objectives, badges, at.metric[:4]), 1):
        assert f"**{index}\\. {fmt.md_text(objective.label)}**" in markdown
        # The verdict's words are always written, whatever the colour.
        assert badge.endswith(f" {objective.verdict.capitalize()}]"), badge
        shown = (fmt.MISSING if objective.value is None
                 else fmt.fr_decimal(objective.value) if objective.key == "acts"
                 else fmt.fr_percent(objective.value))
        assert metric.value == shown
        assert fmt.md_text(objective.sentence) in markdown
    assert {o.verdict for o in expected.objectives} <= set(assessment.VERDICTS)


def _staff_groups(url: str, start: dt.date, end: dt.date) -> list[int]:
    """Respondents per barometer group (wave × population × site × département), in SQL."""
    with dbmod.get_engine(url).connect() as conn:
        return [n for (n,) in conn.execute(text(
            "SELECT COUNT(*) FROM staff_surveys WHERE wave BETWEEN :s AND :e "
            "GROUP BY wave, population, site, department"), {"s": start, "e": end})]


@pytest.fixture
def deferred(monkeypatch):
    """File name → builder of the files the download buttons register (built on click)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    made: dict = {}
    real = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        made[file_name] = data_callable
        return real(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return made


def test_barometer_groups_under_five_answers_are_hidden_on_screen_and_in_the_export(
        monkeypatch, demo_db_url, deferred):
    at = _open(monkeypatch, demo_db_url, "directeur", "pages/bilan.py")
    groups = _staff_groups(demo_db_url, *_period(at))
    small = [n for n in groups if n < 5]
    assert small and len(small) < len(groups)  # the demo has both kinds
    table = _frame_with(at, "Population", "Répondants")
    assert len(table) == len(groups)
    questions = ["Outils", "Formation", "Charge de travail", "Périmètre des actes",
                 "Appréciation générale"]
    hidden = table[table["Répondants"] == fmt.SMALL_GROUP]
    assert len(hidden) == len(small)
    for column in questions:
        assert (hidden[column] == fmt.SMALL_GROUP).all()
    shown = table[table["Répondants"] != fmt.SMALL_GROUP]
    assert sorted(int(v) for v in shown["Répondants"]) == sorted(n for n in groups if n >= 5)

    rows = list(csv.reader(io.StringIO(deferred["bilan-barometre.csv"]()[1:])))
    header, body = rows[0], rows[1:]
    assert len(body) == len(groups)
    note = header.index("Remarque")
    figures = [i for i, h in enumerate(header)
               if h == "Répondants" or h.startswith(tuple(questions))]
    assert len(figures) == 1 + 2 * len(questions)
    masked = [r for r in body if r[note] == fmt.SMALL_GROUP]
    assert len(masked) == len(small)
    for row in masked:  # not one figure of a hidden group in the file
        assert all(row[i] == "" for i in figures), row


def test_a_period_in_the_url_wins_and_other_pages_keep_their_four_weeks(monkeypatch,
                                                                       demo_db_url):
    april = ["2015-04-01", "2015-04-30"]
    at = _open(monkeypatch, demo_db_url, "directeur", "pages/bilan.py", periode=april)
    assert _period(at) == (dt.date(2015, 4, 1), dt.date(2015, 4, 30))

    start, end = _whole_pilot(demo_db_url)
    at = _open(monkeypatch, demo_db_url, "directeur", "pages/accueil.py")
    assert _period(at) == (end - dt.timedelta(days=27), end)
    at.switch_page(str(ROOT / "pages/bilan.py")).run()
    assert not at.exception
    assert _period(at) == (start, end)
    at.switch_page(str(ROOT / "pages/effectifs.py")).run()
    assert _period(at) == (end - dt.timedelta(days=27), end)


def test_the_whole_pilot_of_one_site_starts_at_its_own_opening(monkeypatch, demo_db_url):
    with dbmod.get_engine(demo_db_url).connect() as conn:
        opened = conn.execute(text("SELECT MIN(start_date) FROM coverage "
                                   "WHERE site = 'chartres'")).scalar_one()
        last = conn.execute(text("SELECT MAX(local_date) FROM contacts "
                                 "WHERE site = 'chartres'")).scalar_one()
    at = _open(monkeypatch, demo_db_url, "directeur", "pages/bilan.py", site="Chartres")
    assert not at.exception
    assert _period(at) == (dt.date.fromisoformat(str(opened)[:10]),
                           dt.date.fromisoformat(str(last)[:10]))
    assert sorted(_frame_with(at, "Site", "Taux de décroché")["Site"]) == ["Chartres"]


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
