"""The anonymous team median (dashboard.engine.team): medians worked out by hand, the minimum
team size, and no agent identity in what it returns."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from dashboard.charts import agent as charts
from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.engine import team
from dashboard.engine.kpis import compute_kpis
from dashboard.store import database as dbmod
from tests.factories import Rows

THU, FRI = dt.date(2015, 4, 2), dt.date(2015, 4, 3)
ROUEN_AGENTS = ("r1", "r2", "r3", "r4")


@pytest.fixture
def team_day(db_url):
    """Rouen on Thursday 2 April 2015, four active agents, and a busy Chartres agent.

    r1: 3 calls of 100 + 20 s, all promoted, 1 act.        Friday: 2 calls of 60 s.
    r2: 1 call of 200 s not promoted, 2 e-mails replied.   Friday: 1 call of 90 s.
    r3: 5 calls of 300 s, 1 of them promoted.
    r4: logged in 9:00-11:00, handled nothing.
    c1 (Chartres): 10 calls, which must not weigh on Rouen's median.
    """
    rows = Rows(db_url)
    for i in range(3):
        rows.call(f"2015-04-02 10:0{i}", agent="r1", talk=100, wrap=20, promoted=True)
    rows.act("2015-04-02 10:30", agent="r1")
    rows.call("2015-04-02 10:10", agent="r2", talk=200, promoted=False)
    for i in range(2):
        rows.email(f"2015-04-02 09:0{i}", replied="2015-04-02 11:00", agent="r2")
    for i in range(5):
        rows.call(f"2015-04-02 11:0{i}", agent="r3", talk=300, promoted=i == 0)
    rows.session("r4", "2015-04-02 09:00", "2015-04-02 11:00")
    rows.call("2015-04-02 12:00", outcome="abandoned", wait=40)  # no agent: not counted
    for i in range(10):
        rows.call(f"2015-04-02 10:0{i}", agent="c1", site="chartres", department="28",
                  talk=50, promoted=True)
    for i in range(2):
        rows.call(f"2015-04-03 10:0{i}", agent="r1", talk=60)
    rows.call("2015-04-03 10:10", agent="r2", talk=90)
    return db_url


def _medians(frame: pl.DataFrame, key: str | None = None) -> dict:
    """{(period?, metric): (median, agents)}."""
    out = {}
    for row in frame.iter_rows(named=True):
        k = (row[key], row["metric"]) if key else row["metric"]
        out[k] = (row["median"], row["agents"])
    return out


def test_day_medians_by_hand(team_day):
    engine = dbmod.get_engine(team_day)
    frame = team.team_medians(engine, "rouen", THU, FRI, "day")
    got = _medians(frame, "day")
    thu = "2015-04-02"
    # Calls: 3, 1, 5 and 0 (r4 logged in) → 0 1 3 5 → (1 + 3) / 2.
    assert got[(thu, "answered")] == (2.0, 4)
    assert got[(thu, "emails_replied")] == (0.0, 4)  # 0 2 0 0
    assert got[(thu, "acts")] == (0.0, 4)  # 1 0 0 0
    # Handle time and promotion exist for the three agents who handled contacts only.
    assert got[(thu, "aht_seconds")] == (200.0, 3)  # 120 200 300
    assert got[(thu, "online_promotion_rate")] == (pytest.approx(0.2), 3)  # 1, 0/3, 1/5
    # Friday: two agents worked; a median of two gives each one's figure away.
    fri = "2015-04-03"
    assert got[(fri, "answered")] == (None, 2)
    assert got[(fri, "aht_seconds")] == (None, 2)
    assert frame.columns == ["day", "metric", "median", "agents"]
    assert frame.height == 2 * len(team.AGENT_METRICS)


def test_week_and_period_medians_by_hand(team_day):
    engine = dbmod.get_engine(team_day)
    week = _medians(team.team_medians(engine, "rouen", THU, FRI, "week"), "week")
    # Per agent over the week: calls r1 5, r2 2, r3 5, r4 0 → 0 2 5 5 → 3.5;
    # handle time r1 (3 × 120 + 2 × 60) / 5 = 96, r2 (200 + 90) / 2 = 145, r3 300 → 145;
    # promotion r1 3/5, r2 0/4, r3 1/5 → 0.2.
    assert week[("2015-W14", "answered")] == (3.5, 4)
    assert week[("2015-W14", "aht_seconds")] == (145.0, 3)
    assert week[("2015-W14", "online_promotion_rate")] == (pytest.approx(0.2), 3)
    period = _medians(team.team_medians(engine, "rouen", THU, FRI, "period"))
    assert period["answered"] == (3.5, 4)
    assert period["emails_replied"] == (0.0, 4)


def test_another_site_is_another_team(team_day):
    engine = dbmod.get_engine(team_day)
    chartres = _medians(team.team_medians(engine, "chartres", THU, THU, "day"), "day")
    # c1 alone: its figures are withheld, not shown as a "median".
    assert chartres[("2015-04-02", "answered")] == (None, 1)


def test_no_agent_identity_in_the_result(team_day):
    engine = dbmod.get_engine(team_day)
    for grain in team.GRAINS:
        frame = team.team_medians(engine, "rouen", THU, FRI, grain)
        assert "agent" not in frame.columns
        texts = {v for col in frame.columns if frame[col].dtype == pl.String
                 for v in frame[col].to_list()}
        assert texts.isdisjoint({*ROUEN_AGENTS, "c1"})
        assert texts <= {"2015-04-02", "2015-04-03", "2015-W14", *team.AGENT_METRICS}


def test_medians_of_a_hand_made_frame():
    per_agent = pl.DataFrame({
        "agent": ["a", "b", "c", "d", None, "e"],
        "day": ["d1"] * 6,
        "answered": [4, 0, 10, 6, 50, 0],
        "emails_replied": [0, 3, 0, 0, 0, 0],
        "aht_seconds": [100.0, None, 300.0, 200.0, 900.0, None],
        "acts": [1, 0, 2, 3, 9, 0],
        "online_promotion_rate": [0.5, 1.0, None, None, 0.0, None],
        "agent_hours": [1.0, 0.0, 2.0, 2.0, 0.0, 0.0],  # e: nothing at all, inactive
    })
    got = _medians(team.medians(per_agent, ("day",)), "day")
    # The null agent (unassigned contacts) and the inactive e are left out.
    assert got[("d1", "answered")] == (5.0, 4)  # 0 4 6 10
    assert got[("d1", "aht_seconds")] == (200.0, 3)
    assert got[("d1", "online_promotion_rate")] == (None, 2)  # too few values
    assert got[("d1", "acts")] == (1.5, 4)
    relaxed = _medians(team.medians(per_agent, ("day",), min_agents=2), "day")
    assert relaxed[("d1", "online_promotion_rate")] == (0.75, 2)


def test_compare_keeps_the_agents_own_days(team_day):
    engine = dbmod.get_engine(team_day)
    me = Scope("agent", site="rouen", agent_id="r2")
    own = compute_kpis(engine, Filters(start=THU, end=FRI, scope=me), ("day",))
    medians = team.team_medians(engine, "rouen", THU, FRI, "day")
    calls = team.compare(own, medians, "day", "answered")
    assert calls.rows() == [("2015-04-02", 1.0, 2.0, 4), ("2015-04-03", 1.0, None, 2)]
    assert charts.reading(calls, "answered", "day") == (
        "Appels décrochés : vous êtes au-dessus de la médiane de l'équipe 0 jour sur 1, "
        "en dessous 1.")
    table = charts.comparison_table(calls, "answered", "day")
    assert table.rows() == [("02/04/2015", "1", "2", "4"), ("03/04/2015", "1", "—", "2")]
    whole = team.compare(compute_kpis(engine, Filters(start=THU, end=FRI, scope=me)),
                         team.team_medians(engine, "rouen", THU, FRI, "period"),
                         "period", "aht_seconds")
    assert whole.rows() == [(pytest.approx(145.0), 145.0, 3)]


def test_reading_when_no_median_can_be_given():
    frame = pl.DataFrame({"week": ["2015-W14"], "own": [3.0], "median": [None],
                          "agents": [2]}, schema_overrides={"median": pl.Float64})
    assert "faute d'au moins 3 agents actifs par semaine" in charts.reading(
        frame, "answered", "week")
    assert charts.period_label("2015-W14", "week") == "S14 · du 30/03/2015"


def test_metrics_shown_under_a_channel_filter():
    assert team.metrics_for(()) == team.AGENT_METRICS
    assert team.metrics_for(("phone", "email")) == team.AGENT_METRICS
    assert team.metrics_for(("phone",)) == ("answered", "aht_seconds", "online_promotion_rate")
    assert team.metrics_for(("email",)) == ("emails_replied", "online_promotion_rate")
