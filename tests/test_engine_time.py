"""Local time in the engine: midnight UTC, DST days, ISO weeks, and every grouping key."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.core.access import ALL_ROWS
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics.definitions import DIMENSIONS, HORS_CAMPAGNE, METRIC_KEYS
from dashboard.store import database as dbmod
from tests.factories import Rows


def kpis(url, start, end, by=(), **filters):
    filters = Filters(start, end, **{"scope": ALL_ROWS, **filters})
    return compute_kpis(dbmod.get_engine(url), filters, by)


def test_contacts_near_midnight_utc_fall_on_their_local_day(db_url):
    rows = Rows(db_url)
    rows.call(utc=dt.datetime(2015, 3, 28, 23, 30))  # Paris 29/03 00:30 (the spec's example)
    rows.call(utc=dt.datetime(2015, 7, 1, 22, 10))  # Paris 02/07 00:10 CEST
    rows.call(utc=dt.datetime(2015, 7, 1, 21, 50))  # Paris 01/07 23:50
    assert kpis(db_url, dt.date(2015, 3, 28), dt.date(2015, 3, 28)).item(0, "received") == 0
    got = kpis(db_url, dt.date(2015, 3, 28), dt.date(2015, 7, 2), by=("day", "slot"))
    assert got.select("day", "slot", "received").rows() == [
        ("2015-03-29", "00:30", 1),
        ("2015-07-01", "23:30", 1),
        ("2015-07-02", "00:00", 1),
    ]


def test_march_dst_day_has_no_2am_slots(db_url):
    rows = Rows(db_url)
    day = dt.date(2015, 3, 29)  # 02:00 CET → 03:00 CEST (01:00 UTC)
    rows.call(utc=dt.datetime(2015, 3, 29, 0, 45))  # 01:45 CET
    rows.call(utc=dt.datetime(2015, 3, 29, 1, 0))  # 03:00 CEST
    rows.call(utc=dt.datetime(2015, 3, 29, 1, 15))  # 03:15 CEST
    # A session over the gap: 01:00 CET → 04:00 CEST is 2 real hours.
    rows.session("a1", start_utc=dt.datetime(2015, 3, 29, 0, 0),
                 end_utc=dt.datetime(2015, 3, 29, 2, 0))
    # A session over the whole local day: 23 real hours.
    rows.session("a2", start_utc=dt.datetime(2015, 3, 28, 23, 0),
                 end_utc=dt.datetime(2015, 3, 29, 22, 0))
    by_slot = kpis(db_url, day, day, by=("slot",), agents=("a1",))
    assert "02:00" not in by_slot["slot"].to_list()
    assert "02:30" not in by_slot["slot"].to_list()
    hours = dict(by_slot.select("slot", "agent_hours").rows())
    assert hours == pytest.approx({"01:00": 0.5, "01:30": 0.5, "03:00": 0.5, "03:30": 0.5})
    calls = dict(kpis(db_url, day, day, by=("slot",)).select("slot", "received").rows())
    assert {s: n for s, n in calls.items() if n} == {"01:30": 1, "03:00": 2}
    by_day = kpis(db_url, day, day, by=("day",), agents=("a2",))
    assert by_day.item(0, "agent_hours") == pytest.approx(23.0)


def test_october_repeated_hour_shares_the_2am_slots(db_url):
    rows = Rows(db_url)
    day = dt.date(2015, 10, 25)  # 03:00 CEST → 02:00 CET (01:00 UTC)
    for utc in (dt.datetime(2015, 10, 25, 0, 10), dt.datetime(2015, 10, 25, 1, 10),
                dt.datetime(2015, 10, 25, 0, 40), dt.datetime(2015, 10, 25, 1, 40)):
        rows.call(utc=utc)  # 02:10 CEST, 02:10 CET, 02:40 CEST, 02:40 CET
    # 01:00 CEST → 03:00 CET: 3 real hours; the repeated hour counts twice in its slots.
    rows.session("a1", start_utc=dt.datetime(2015, 10, 24, 23, 0),
                 end_utc=dt.datetime(2015, 10, 25, 2, 0))
    # The whole local day: 25 real hours.
    rows.session("a2", start_utc=dt.datetime(2015, 10, 24, 22, 0),
                 end_utc=dt.datetime(2015, 10, 25, 23, 0))
    calls = dict(kpis(db_url, day, day, by=("slot",)).select("slot", "received").rows())
    assert calls["02:00"] == 2 and calls["02:30"] == 2
    hours = dict(kpis(db_url, day, day, by=("slot",), agents=("a1",))
                 .select("slot", "agent_hours").rows())
    assert hours == pytest.approx({"01:00": 0.5, "01:30": 0.5, "02:00": 1.0, "02:30": 1.0})
    by_day = kpis(db_url, day, dt.date(2015, 10, 26), by=("day",), agents=("a2",))
    assert by_day.select("day", "agent_hours").rows() == [("2015-10-25", pytest.approx(25.0))]


def test_week_month_keys_across_a_year_boundary(db_url):
    rows = Rows(db_url)
    for day in ("2014-12-28", "2014-12-29", "2015-01-04", "2015-01-05", "2016-01-01"):
        rows.call(f"{day} 10:00")
    weeks = kpis(db_url, dt.date(2014, 12, 1), dt.date(2016, 1, 31), by=("week",))
    assert weeks.select("week", "received").rows() == [
        ("2014-W52", 1),  # Sunday 28/12/2014
        ("2015-W01", 2),  # ISO week 1 of 2015 runs Monday 29/12/2014 .. Sunday 04/01/2015
        ("2015-W02", 1),
        ("2015-W53", 1),  # Friday 01/01/2016 is in 2015's 53rd week
    ]
    months = kpis(db_url, dt.date(2014, 12, 1), dt.date(2016, 1, 31), by=("month",))
    assert months.select("month", "received").rows() == [
        ("2014-12", 2), ("2015-01", 2), ("2016-01", 1)
    ]


def test_campaign_key(db_url):
    rows = Rows(db_url)
    # The pilot's national "Campagne déclarative 2015" runs 15/04..09/06; a campaign of
    # département 04 only overlaps it in May and wins there for 04.
    rows.campaign("Relance 04", dt.date(2015, 5, 1), dt.date(2015, 5, 31), department="04")
    rows.call("2015-04-14 10:00", department="60")  # hors campagne
    rows.call(utc=dt.datetime(2015, 4, 14, 22, 30), department="60")  # local 15/04 00:30
    rows.call("2015-05-05 10:00", department="04")  # Relance 04
    rows.call("2015-05-05 11:00", department="60")  # national campaign
    rows.email("2015-05-06 09:00", department="04")  # Relance 04, pending
    rows.act("2015-05-06 10:00", department="04")
    frame = kpis(db_url, dt.date(2015, 4, 1), dt.date(2015, 5, 31), by=("campaign",))
    assert frame.select("campaign", "received", "emails_received", "acts").rows() == [
        ("Campagne déclarative 2015", 2, 0, 0),
        ("Relance 04", 1, 1, 1),
        (HORS_CAMPAGNE, 1, 0, 0),
    ]
    # The pending e-mail is in Relance 04's stock at its last day (31/05).
    assert frame.get_column("backlog").to_list() == [0, 1, 0]
    with_dep = kpis(db_url, dt.date(2015, 4, 1), dt.date(2015, 5, 31),
                    by=("department", "campaign"))
    assert with_dep.select("department", "campaign", "received").rows() == [
        ("04", "Relance 04", 1),
        ("60", "Campagne déclarative 2015", 2),
        ("60", HORS_CAMPAGNE, 1),
    ]


def test_every_dimension_groups_and_orders_keys(db_url):
    rows = Rows(db_url)
    rows.call("2015-04-02 10:00", site="rouen", department="60", queue="particuliers",
              agent="a1")
    rows.call("2015-04-02 10:40", site="rouen", department="04", queue="recouvrement",
              agent=None)
    rows.call("2015-04-03 09:00", site="chartres", department="93", queue=None, agent="b1")
    rows.email("2015-04-03 09:10", site="chartres", department="28", queue="particuliers",
               replied="2015-04-03 12:00", agent="b1")
    start, end = dt.date(2015, 4, 2), dt.date(2015, 4, 3)
    expected = {
        "day": ["2015-04-02", "2015-04-03"],
        "week": ["2015-W14"],
        "month": ["2015-04"],
        "slot": ["09:00", "10:00", "10:30"],
        "site": ["chartres", "rouen"],
        "department": ["04", "28", "60", "93"],
        "channel": ["email", "phone"],
        "queue": ["particuliers", "recouvrement", None],
        "agent": ["a1", "b1", None],
        "campaign": [HORS_CAMPAGNE],
    }
    assert set(expected) == set(DIMENSIONS)
    for dim, keys in expected.items():
        frame = kpis(db_url, start, end, by=(dim,))
        assert frame.columns == [dim, *METRIC_KEYS], dim
        assert frame.get_column(dim).to_list() == keys, dim
        assert frame.get_column("received").sum() == 3, dim
        assert frame.get_column("emails_received").sum() == 1, dim
    two = kpis(db_url, start, end, by=("site", "day"))
    assert two.columns[:2] == ["site", "day"]
    assert two.select("site", "day").rows() == [
        ("chartres", "2015-04-03"), ("rouen", "2015-04-02")
    ]
    with pytest.raises(ValueError, match="unknown dimension"):
        kpis(db_url, start, end, by=("year",))
