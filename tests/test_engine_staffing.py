"""Staffing metrics: agent hours clipped to days and slots, occupancy, handled per hour."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.core.access import ALL_ROWS
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.store import database as dbmod
from tests.factories import Rows

D = dt.date(2015, 4, 7)


def kpis(url, start=D, end=D, by=(), **filters):
    filters = Filters(start, end, **{"scope": ALL_ROWS, **filters})
    return compute_kpis(dbmod.get_engine(url), filters, by)


def _fixture(rows: Rows) -> None:
    rows.session("a1", "2015-04-06 22:00", "2015-04-07 02:00")  # 2 h on 06/04, 2 h on 07/04
    rows.session("a1", "2015-04-07 09:10", "2015-04-07 12:00")  # 2 h 50 min
    rows.session("a2", "2015-04-07 23:00", "2015-04-08 01:00")  # 1 h on 07/04, 1 h on 08/04
    rows.session("c1", "2015-04-07 09:00", "2015-04-07 10:00", site="chartres")
    rows.call("2015-04-07 09:40", agent="a1", talk=1500, wrap=300)  # 1800 s busy
    rows.call("2015-04-07 23:10", agent="a2", talk=900, wrap=0)  # 900 s busy
    rows.call("2015-04-07 09:45", agent="a1", outcome="abandoned", wait=60)  # not busy
    rows.email("2015-04-07 09:00", replied="2015-04-07 23:20", agent="a2")


def test_agent_hours_occupancy_and_handled_per_hour(db_url):
    rows = Rows(db_url)
    _fixture(rows)

    k = kpis(db_url, sites=("rouen",)).row(0, named=True)
    # Clipped to local 07/04: a1 2 h + 2 h 50 min, a2 1 h → 35/6 h = 21,000 s.
    assert k["agent_hours"] == pytest.approx(35 / 6)
    assert k["occupancy"] == pytest.approx((1800 + 900) / 21_000)
    assert k["handled_per_agent_hour"] == pytest.approx((2 + 1) / (35 / 6))

    both = kpis(db_url).row(0, named=True)
    assert both["agent_hours"] == pytest.approx(35 / 6 + 1)  # Chartres' hour added

    by_agent = {r["agent"]: r for r in kpis(db_url, by=("agent",)).iter_rows(named=True)}
    assert by_agent["a1"]["agent_hours"] == pytest.approx(29 / 6)
    assert by_agent["a1"]["occupancy"] == pytest.approx(1800 / (29 / 6 * 3600))
    assert by_agent["a1"]["handled_per_agent_hour"] == pytest.approx(1 / (29 / 6))
    assert by_agent["a2"]["agent_hours"] == pytest.approx(1.0)
    assert by_agent["a2"]["occupancy"] == pytest.approx(0.25)
    assert by_agent["a2"]["handled_per_agent_hour"] == pytest.approx(2.0)  # call + e-mail
    assert by_agent["c1"]["agent_hours"] == pytest.approx(1.0)
    assert by_agent["c1"]["occupancy"] == 0.0  # logged in, no call
    assert by_agent["c1"]["handled_per_agent_hour"] == 0.0

    by_site = {r["site"]: r["agent_hours"] for r in kpis(db_url, by=("site",)).iter_rows(
        named=True)}
    assert by_site == pytest.approx({"rouen": 35 / 6, "chartres": 1.0})


def test_agent_hours_are_clipped_to_each_day_and_slot(db_url):
    rows = Rows(db_url)
    _fixture(rows)
    by_day = kpis(db_url, dt.date(2015, 4, 6), dt.date(2015, 4, 8), by=("day",),
                  sites=("rouen",))
    assert dict(by_day.select("day", "agent_hours").rows()) == pytest.approx(
        {"2015-04-06": 2.0, "2015-04-07": 35 / 6, "2015-04-08": 1.0}
    )
    by_slot = kpis(db_url, by=("slot",), sites=("rouen",))
    hours = dict(by_slot.select("slot", "agent_hours").rows())
    assert hours == pytest.approx({
        "00:00": 0.5, "00:30": 0.5, "01:00": 0.5, "01:30": 0.5,  # a1 00:00-02:00
        "09:00": 1 / 3,  # a1 09:10-09:30
        "09:30": 0.5, "10:00": 0.5, "10:30": 0.5, "11:00": 0.5, "11:30": 0.5,
        "23:00": 0.5, "23:30": 0.5,  # a2 23:00-24:00
    })
    # Occupancy per slot: calls count in their slot of receipt.
    occ = dict(by_slot.select("slot", "occupancy").rows())
    assert occ["09:30"] == pytest.approx(1800 / 1800)
    assert occ["23:00"] == pytest.approx(900 / 1800)
    assert occ["10:00"] == 0.0
    # Slot and day together.
    both = kpis(db_url, dt.date(2015, 4, 6), dt.date(2015, 4, 8), by=("day", "slot"),
                sites=("rouen",))
    got = {(r["day"], r["slot"]): r["agent_hours"] for r in both.iter_rows(named=True)}
    assert got[("2015-04-06", "22:00")] == pytest.approx(0.5)
    assert got[("2015-04-08", "00:30")] == pytest.approx(0.5)
    assert sum(got.values()) == pytest.approx(2 + 35 / 6 + 1)


def test_staffing_is_null_where_sessions_cannot_follow(db_url):
    rows = Rows(db_url)
    _fixture(rows)
    for by in (("department",), ("channel",), ("queue",), ("campaign",)):
        frame = kpis(db_url, by=by)
        for key in ("agent_hours", "occupancy", "handled_per_agent_hour"):
            assert frame.get_column(key).null_count() == frame.height, (by, key)
        assert frame.get_column("answered").sum() == 2  # contact metrics still there
    for filters in ({"departments": ("60",)}, {"queues": ("particuliers",)},
                    {"channels": ("phone",)}):
        assert kpis(db_url, **filters).item(0, "agent_hours") is None, filters
    assert kpis(db_url, agents=("a2",)).item(0, "agent_hours") == pytest.approx(1.0)
