"""The users' survey figures of the engine (spec/review-data.md), by hand, on SQLite and
PostgreSQL: survey_responses, csat_rate, mean_satisfaction, perceived_resolution_rate and
survey_response_rate, their groupings, and the scopes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from dashboard.core.access import ALL_ROWS, Scope
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.store import database as dbmod
from dashboard.store import schema
from tests.factories import Rows

D = dt.date(2015, 4, 7)  # a Tuesday
SURVEY = ("survey_responses", "csat_rate", "mean_satisfaction", "perceived_resolution_rate",
          "survey_response_rate")


def kpis(url, start=D, end=D, by=(), scope=ALL_ROWS, **filters):
    return compute_kpis(dbmod.get_engine(url), Filters(start, end, scope=scope, **filters), by)


@pytest.fixture
def answered(db_url):
    """Rouen: 4 answered calls and 1 replied e-mail on 07/04 (5 handled), 1 abandoned;
    Chartres: 2 answered calls. Survey answers:
      rouen phone  07/04: 5 (resolved yes), 4 (no), 2 (not given), 4 (yes)
      rouen email  07/04 23:30 local: 1 (no)        — 21:30 UTC, local date 07/04
      rouen phone  08/04 00:30 local: 5             — 22:30 UTC on 07/04, local 08/04
      chartres phone 07/04: 3 (yes)
    """
    rows = Rows(db_url)
    for hour in ("09:00", "10:00", "11:00", "12:00"):
        rows.call(f"2015-04-07 {hour}", agent="a1")
    rows.call("2015-04-07 13:00", outcome="abandoned", wait=50)
    rows.email("2015-04-07 08:00", replied="2015-04-07 15:00", agent="a2")
    for hour in ("09:00", "10:00"):
        rows.call(f"2015-04-07 {hour}", site="chartres", department="28", agent="c1")
    rows.survey("2015-04-07 09:10", 5, resolved=True)
    rows.survey("2015-04-07 10:10", 4, resolved=False)
    rows.survey("2015-04-07 11:10", 2)
    rows.survey("2015-04-07 12:10", 4, resolved=True)
    rows.survey("2015-04-07 23:30", 1, channel="email", resolved=False)
    rows.survey("2015-04-08 00:30", 5)
    rows.survey("2015-04-07 09:20", 3, site="chartres", department="28", resolved=True)
    return db_url


def test_survey_figures_by_hand(answered):
    k = kpis(answered).row(0, named=True)
    # 6 answers on local 07/04 (the 08/04 00:30 one is the next day's).
    assert k["survey_responses"] == 6
    assert k["csat_rate"] == pytest.approx(3 / 6)  # 5, 4, 4
    assert k["mean_satisfaction"] == pytest.approx((5 + 4 + 2 + 4 + 1 + 3) / 6)
    assert k["perceived_resolution_rate"] == pytest.approx(3 / 5)  # 3 yes of 5 given
    # Handled: 4 + 2 answered calls and 1 replied e-mail.
    assert k["survey_response_rate"] == pytest.approx(6 / 7)


def test_survey_figures_by_site_and_channel(answered):
    by = {(r["site"], r["channel"]): r for r in
          kpis(answered, by=("site", "channel")).iter_rows(named=True)}
    phone = by[("rouen", "phone")]
    assert phone["survey_responses"] == 4
    assert phone["csat_rate"] == pytest.approx(3 / 4)
    assert phone["perceived_resolution_rate"] == pytest.approx(2 / 3)
    assert phone["survey_response_rate"] == pytest.approx(4 / 4)
    email = by[("rouen", "email")]
    assert email["survey_responses"] == 1 and email["mean_satisfaction"] == pytest.approx(1)
    assert email["csat_rate"] == 0 and email["survey_response_rate"] == pytest.approx(1 / 1)
    chartres = by[("chartres", "phone")]
    assert chartres["survey_responses"] == 1 and chartres["csat_rate"] == 0
    assert chartres["survey_response_rate"] == pytest.approx(1 / 2)
    days = {r["day"]: r for r in kpis(answered, D, D + dt.timedelta(days=1), by=("day",))
            .iter_rows(named=True)}
    assert days["2015-04-08"]["survey_responses"] == 1
    assert days["2015-04-08"]["survey_response_rate"] is None  # nothing handled that day


def test_a_supervisor_sees_only_the_answers_of_their_site(answered):
    k = kpis(answered, scope=Scope("supervisor", site="chartres")).row(0, named=True)
    assert k["survey_responses"] == 1 and k["mean_satisfaction"] == pytest.approx(3)


def test_no_survey_figure_where_answers_cannot_follow(answered):
    # Answers carry no half-hour, queue or agent: grouped or filtered so, and in an
    # agent's own scope, the figures are null rather than a guess.
    for row in kpis(answered, by=("slot",)).iter_rows(named=True):
        assert all(row[key] is None for key in SURVEY)
    agent = kpis(answered, scope=Scope("agent", site="rouen", agent_id="a1")).row(0, named=True)
    assert all(agent[key] is None for key in SURVEY)
    assert agent["answered"] == 4
    queue = kpis(answered, queues=("particuliers",)).row(0, named=True)
    assert all(queue[key] is None for key in SURVEY)


def test_raw_and_rollup_sources_agree(answered):
    from dashboard.engine import rollups
    rollups.rebuild(dbmod.get_engine(answered))
    by = ("site", "week")
    raw = compute_kpis(dbmod.get_engine(answered), Filters(D, D, scope=ALL_ROWS), by,
                       source="raw")
    rolled = compute_kpis(dbmod.get_engine(answered), Filters(D, D, scope=ALL_ROWS), by,
                          source="rollup")
    assert raw.select("site", "week", *SURVEY).sort("site").to_dicts() == \
        rolled.select("site", "week", *SURVEY).sort("site").to_dicts()


def test_the_survey_rollup_follows_imports_once_rebuilt(answered, tmp_path):
    from dashboard.engine import rollups
    from dashboard.ingest.core import ingest_file
    engine = dbmod.get_engine(answered)
    rollups.rebuild(engine)
    with engine.connect() as conn:
        assert rollups.surveys_complete(conn)
    # Two more answers on 07/04, one satisfied, through the import.
    path = tmp_path / "survey.csv"
    path.write_text("response_id,answered_at,site,department,channel,satisfaction,resolved\n"
                    "x1,2015-04-07T16:00:00,rouen,60,phone,5,true\n"
                    "x2,2015-04-07T16:30:00,rouen,60,email,2,false\n", encoding="utf-8")
    ingest_file(answered, "surveys", path)
    auto = kpis(answered).row(0, named=True)
    raw = compute_kpis(engine, Filters(D, D, scope=ALL_ROWS), (), source="raw").row(0, named=True)
    assert auto["survey_responses"] == raw["survey_responses"] == 8
    assert auto["csat_rate"] == pytest.approx(4 / 8) and raw["csat_rate"] == pytest.approx(4 / 8)
    assert auto["perceived_resolution_rate"] == pytest.approx(4 / 7)
    with engine.connect() as conn:
        rolled = conn.execute(select(func.sum(schema.rollup_surveys.c.n))).scalar()
    assert rolled == 9  # 8 on 07/04 and the 08/04 one
