"""Team measures: agents logged in, agents required by Erlang, the gap — worked by hand.

The published figure (every Erlang C table and calculator): 100 calls offered in half an
hour with a 180 s handle time need 14 agents for 80 % answered within 20 s.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from dashboard.core.access import ALL_ROWS, Scope
from dashboard.core.filters import Filters, Overrides
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics import erlang
from dashboard.store import database as dbmod
from dashboard.store import schema
from tests.factories import Rows, hundred_calls

TUE = dt.date(2015, 4, 7)  # an ordinary Tuesday; Rouen opens 08:30-19:00 (10.5 h)
OPEN_S = 10.5 * 3600
TEAM = ("agents_logged_in", "required_agents", "staffing_gap")


def kpis(url, start=TUE, end=TUE, by=(), overrides=None, **filters):
    filters = Filters(start, end, **{"scope": ALL_ROWS, **filters})
    return compute_kpis(dbmod.get_engine(url), filters, by, overrides)


def rows_by(frame, *keys):
    return {tuple(r[k] for k in keys): r for r in frame.iter_rows(named=True)}


def _open_all_day_every_day(url: str, site: str = "rouen") -> None:
    with dbmod.get_engine(url).begin() as conn:
        conn.execute(update(schema.sites).where(schema.sites.c.code == site).values(
            opens_at="00:00", closes_at="24:00", open_weekdays="1234567"))


def test_published_example_fourteen_agents(db_url):
    rows = Rows(db_url)
    hundred_calls(rows)
    for i in range(14):
        rows.session(f"a{i}", "2015-04-07 10:00", "2015-04-07 10:30")
    rows.session("a14", "2015-04-07 10:00", "2015-04-07 10:15")  # half the slot
    rows.session("a15", "2015-04-07 11:00", "2015-04-07 11:30")  # no call then

    slots = rows_by(kpis(db_url, by=("slot",)), "slot")
    ten = slots[("10:00",)]
    assert ten["offered"] == 105 and ten["short_abandoned"] == 5
    assert ten["aht_seconds"] == 180.0
    assert ten["required_agents"] == 14.0
    assert ten["agents_logged_in"] == pytest.approx(14.5)
    assert ten["staffing_gap"] == pytest.approx(0.5)
    # Zero calls, zero required: the agent logged in at 11:00 is all surplus.
    eleven = slots[("11:00",)]
    assert eleven["required_agents"] == 0.0
    assert eleven["agents_logged_in"] == pytest.approx(1.0)
    assert eleven["staffing_gap"] == pytest.approx(1.0)

    # Over the day: means over the 10.5 opening hours.
    day = kpis(db_url).row(0, named=True)
    assert day["required_agents"] == pytest.approx(14 * 1800 / OPEN_S)
    assert day["agents_logged_in"] == pytest.approx((14 * 1800 + 900 + 1800) / OPEN_S)
    assert day["staffing_gap"] == pytest.approx((900 + 1800) / OPEN_S)
    # Patience: (98 × 10 s + 2 × 30 s) of waiting for 2 long abandons.
    assert day["patience_seconds"] == pytest.approx(520.0)
    assert day["patience_seconds"] == erlang.estimate_patience(2, 98 * 10 + 2 * 30)


def test_targets_thresholds_and_erlang_a(db_url):
    rows = Rows(db_url)
    hundred_calls(rows)

    def required(overrides=None):
        frame = kpis(db_url, by=("slot",), overrides=overrides)
        return rows_by(frame, "slot")[("10:00",)]["required_agents"]

    assert required() == 14.0
    assert required(Overrides(sl_target=0.9)) == 15.0
    assert required(Overrides(sl_seconds=10)) == 14.0
    # The site's own target is read from the database.
    with dbmod.get_engine(db_url).begin() as conn:
        conn.execute(update(schema.sites).where(schema.sites.c.code == "rouen")
                     .values(sl_target=0.9))
    assert required() == 15.0
    assert required(Overrides(sl_target=0.8)) == 14.0
    # Erlang A: the patience estimated from the abandons (520 s), or the one given.
    a_est = erlang.required_agents_erlang_a(100, 1800, 180, 520, 0.9, 20)
    assert required(Overrides(erlang_a=True)) == a_est
    a_60 = erlang.required_agents_erlang_a(100, 1800, 180, 60, 0.9, 20)
    assert required(Overrides(erlang_a=True, patience_seconds=60)) == a_60
    assert a_60 < 15  # impatient callers leave: fewer agents reach the target
    with pytest.raises(ValueError):
        Overrides(sl_target=1.0)


def test_a_slot_without_answered_call_borrows_the_sites_handle_time(db_url):
    rows = Rows(db_url)
    hundred_calls(rows)  # site AHT 180 s
    for i in range(10):
        rows.call(f"2015-04-07 11:{i:02d}", outcome="abandoned", wait=40)
    eleven = rows_by(kpis(db_url, by=("slot",)), "slot")[("11:00",)]
    assert eleven["aht_seconds"] is None  # the metric itself stays undefined
    assert eleven["required_agents"] == float(erlang.required_agents(10, 1800, 180, 0.8, 20))
    assert eleven["required_agents"] == 3.0


def test_closed_days_have_no_team_measure(db_url):
    rows = Rows(db_url)
    rows.session("a1", "2015-04-11 10:00", "2015-04-11 12:00")  # a Saturday
    rows.call("2015-04-11 10:05", wait=5, talk=100)
    sat = kpis(db_url, dt.date(2015, 4, 11), dt.date(2015, 4, 11)).row(0, named=True)
    assert sat["agent_hours"] == pytest.approx(2.0)  # logged in, counted as agent hours
    for key in TEAM:
        assert sat[key] is None, key
    # Over a week the Saturday adds neither time base nor agents.
    week = kpis(db_url, dt.date(2015, 4, 6), dt.date(2015, 4, 12)).row(0, named=True)
    assert week["agents_logged_in"] == 0.0  # Easter Monday closed: 4 open days, nobody
    assert week["required_agents"] == 0.0


def test_october_change_the_repeated_hour_lasts_sixty_minutes(db_url):
    _open_all_day_every_day(db_url)
    rows = Rows(db_url)
    day = dt.date(2015, 10, 25)
    # 50 calls in each occurrence of 02:00-02:30: 100 calls over 60 real minutes.
    for i in range(50):
        rows.call(utc=dt.datetime(2015, 10, 25, 0, i // 2, 20), talk=180, wrap=0)  # CEST
        rows.call(utc=dt.datetime(2015, 10, 25, 1, i // 2, 20), talk=180, wrap=0)  # CET
    # One agent from 01:00 CEST to 03:00 CET: three real hours.
    rows.session("a1", start_utc=dt.datetime(2015, 10, 24, 23, 0),
                 end_utc=dt.datetime(2015, 10, 25, 2, 0))

    cells = rows_by(kpis(db_url, day, day, by=("day", "slot")), "slot")
    two = cells[("02:00",)]
    assert two["offered"] == 100
    assert two["required_agents"] == float(erlang.required_agents(100, 3600, 180, 0.8, 20))
    assert two["required_agents"] == 8.0  # not 14: the load is spread over an hour
    for slot in ("01:00", "01:30", "02:00", "02:30"):
        assert cells[(slot,)]["agents_logged_in"] == pytest.approx(1.0), slot
    # The day lasts 25 h and is open all of it.
    whole = kpis(db_url, day, day).row(0, named=True)
    assert whole["agents_logged_in"] == pytest.approx(3 / 25)
    assert whole["required_agents"] == pytest.approx(8 * 3600 / (25 * 3600))


def test_march_change_the_missing_hour_has_no_slot(db_url):
    _open_all_day_every_day(db_url)
    rows = Rows(db_url)
    day = dt.date(2015, 3, 29)
    rows.session("a1", "2015-03-29 00:00", "2015-03-29 06:00")  # five real hours
    rows.call("2015-03-29 05:10", talk=180)
    cells = rows_by(kpis(db_url, day, day, by=("day", "slot")), "slot")
    assert ("02:00",) not in cells and ("02:30",) not in cells
    for slot in ("00:00", "01:30", "03:00", "05:30"):
        assert cells[(slot,)]["agents_logged_in"] == pytest.approx(1.0), slot
    assert cells[("05:00",)]["required_agents"] == 1.0
    whole = kpis(db_url, day, day).row(0, named=True)
    assert whole["agents_logged_in"] == pytest.approx(5 / 23)
    assert whole["required_agents"] == pytest.approx(1800 / (23 * 3600))


def test_sites_add_up_and_team_measures_stay_where_they_mean_something(db_url):
    rows = Rows(db_url)
    hundred_calls(rows)
    for i in range(20):  # Chartres: 20 calls of 300 s in the same slot → 6 agents
        rows.call(f"2015-04-07 10:{i:02d}", wait=5, talk=300, site="chartres",
                  department="28")
    rows.session("c1", "2015-04-07 10:00", "2015-04-07 10:30", site="chartres")
    rows.session("r1", "2015-04-07 10:00", "2015-04-07 10:30")

    per_site = rows_by(kpis(db_url, by=("site", "slot")), "site", "slot")
    assert per_site[("rouen", "10:00")]["required_agents"] == 14.0
    assert per_site[("chartres", "10:00")]["required_agents"] == 6.0
    both = rows_by(kpis(db_url, by=("slot",)), "slot")[("10:00",)]
    # Each site is its own queue: requirements add up (no pooling), the time counts once.
    assert both["required_agents"] == 20.0
    assert both["agents_logged_in"] == pytest.approx(2.0)
    assert both["staffing_gap"] == pytest.approx(-18.0)
    # A site filter and a supervisor's scope keep that site's team only.
    assert kpis(db_url, by=("slot",), sites=("chartres",)).filter(
        slot="10:00")["required_agents"].item() == 6.0
    sup = kpis(db_url, by=("slot",), scope=Scope("supervisor", site="chartres"))
    assert sup.filter(slot="10:00")["required_agents"].item() == 6.0
    # Départements, channels, agents: null, never a guess.
    for frame in (kpis(db_url, by=("department",)), kpis(db_url, by=("agent",)),
                  kpis(db_url, departments=("28",)), kpis(db_url, agents=("r1",)),
                  kpis(db_url, scope=Scope("agent", site="rouen", agent_id="r1"))):
        for key in TEAM:
            assert frame.get_column(key).null_count() == frame.height, key
