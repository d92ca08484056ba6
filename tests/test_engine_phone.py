"""Telephone metrics of spec/metrics.md on hand-made calls (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.core.access import ALL_ROWS
from dashboard.core.filters import Filters, Overrides
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics.definitions import METRIC_KEYS
from dashboard.store import database as dbmod
from tests.factories import Rows

D = dt.date(2015, 4, 2)  # a Thursday, no holiday


def kpis(url, start=D, end=D, by=(), overrides=None, **filters):
    filters = Filters(start, end, **{"scope": ALL_ROWS, **filters})
    return compute_kpis(dbmod.get_engine(url), filters, by, overrides)


def one(url, **kw) -> dict:
    frame = kpis(url, **kw)
    assert frame.height == 1
    return frame.row(0, named=True)


def test_phone_metrics_by_hand(db_url):
    rows = Rows(db_url)
    # Rouen thresholds (pilot.toml): SL 20 s, short abandon 5 s.
    rows.call("2015-04-02 09:00", outcome="answered", wait=20, talk=300, wrap=60)  # SL edge: in
    rows.call("2015-04-02 09:05", outcome="answered", wait=21, talk=200, wrap=40)  # out of SL
    rows.call("2015-04-02 09:10", outcome="answered", wait=5, talk=100, wrap=0)
    rows.call("2015-04-02 09:15", outcome="abandoned", wait=4)  # 4 < 5: short
    rows.call("2015-04-02 09:20", outcome="abandoned", wait=5)  # 5 is not < 5: not short
    rows.call("2015-04-02 09:25", outcome="abandoned", wait=30)
    rows.call("2015-04-02 09:30", outcome="deflected", wait=100)  # not in max_wait
    rows.call("2015-04-03 09:00", outcome="answered", wait=1)  # next day: outside the period

    k = one(db_url)
    assert list(k) == list(METRIC_KEYS)
    assert k["received"] == 7
    assert k["deflected"] == 1
    assert k["answered"] == 3
    assert k["abandoned"] == 3
    assert k["offered"] == 6  # 3 answered + 3 abandoned
    assert k["short_abandoned"] == 1
    assert k["answer_rate"] == pytest.approx(3 / (7 - 1))  # 0.5
    assert k["abandon_rate"] == pytest.approx((3 - 1) / (6 - 1))  # 0.4
    assert k["service_level"] == pytest.approx(2 / (6 - 1))  # waits 20 and 5 are <= 20
    assert k["asa_seconds"] == pytest.approx((20 + 21 + 5) / 3)
    assert k["aht_seconds"] == pytest.approx((360 + 240 + 100) / 3)
    assert k["abandon_wait_seconds"] == pytest.approx((5 + 30) / 2)  # short one excluded
    assert k["max_wait_seconds"] == 30
    assert isinstance(k["received"], int) and isinstance(k["answer_rate"], float)


def test_zero_denominators_are_null_never_zero(db_url):
    rows = Rows(db_url)
    # Day 1: nothing at all. Day 2: only a deflected call. Day 3: only short abandons.
    rows.call("2015-04-07 10:00", outcome="deflected", wait=None)
    rows.call("2015-04-08 10:00", outcome="abandoned", wait=1)
    rows.call("2015-04-08 10:05", outcome="abandoned", wait=0)

    empty = one(db_url, start=dt.date(2015, 4, 6), end=dt.date(2015, 4, 6))
    for key in ("received", "offered", "answered", "emails_received", "backlog", "acts"):
        assert empty[key] == 0
    for key in ("answer_rate", "abandon_rate", "service_level", "asa_seconds", "aht_seconds",
                "abandon_wait_seconds", "max_wait_seconds", "reply_within_48h_rate",
                "reply_within_5wd_rate", "median_reply_hours", "acts_per_100_handled",
                "online_promotion_rate", "repeat_contact_rate", "occupancy",
                "handled_per_agent_hour"):
        assert empty[key] is None, key

    deflected = one(db_url, start=dt.date(2015, 4, 7), end=dt.date(2015, 4, 7))
    assert deflected["received"] == 1
    assert deflected["answer_rate"] == 0.0  # 0 answered / (1 received - 0 short)
    assert deflected["abandon_rate"] is None  # offered - short = 0
    assert deflected["service_level"] is None

    short = one(db_url, start=dt.date(2015, 4, 8), end=dt.date(2015, 4, 8))
    assert short["short_abandoned"] == 2
    assert short["answer_rate"] is None  # received 2 - short 2 = 0
    assert short["abandon_rate"] is None
    assert short["abandon_wait_seconds"] is None  # no abandon that is not short
    assert short["max_wait_seconds"] == 1


def test_grouped_result_with_no_data_is_empty_but_typed(db_url):
    frame = kpis(db_url, by=("day", "site"))
    assert frame.height == 0
    assert frame.columns == ["day", "site", *METRIC_KEYS]


def test_per_site_thresholds_settings_default_and_overrides(db_url, monkeypatch):
    rows = Rows(db_url)
    rows.site_thresholds("chartres", sl_seconds=30, short_abandon_seconds=10)
    rows.site_thresholds("rouen", sl_seconds=None, short_abandon_seconds=None)  # → settings
    for site, dep in (("rouen", "60"), ("chartres", "28")):
        rows.call("2015-04-02 10:00", site=site, department=dep, outcome="answered", wait=25)
        rows.call("2015-04-02 10:01", site=site, department=dep, outcome="abandoned", wait=7)

    by_site = {r["site"]: r for r in kpis(db_url, by=("site",)).iter_rows(named=True)}
    # Rouen uses the settings' defaults 20 / 5: 25 > 20 not in SL; 7 >= 5 not short.
    assert by_site["rouen"]["short_abandoned"] == 0
    assert by_site["rouen"]["service_level"] == 0.0  # 0 / (2 - 0)
    # Chartres uses its own 30 / 10: 25 <= 30 in SL; 7 < 10 short.
    assert by_site["chartres"]["short_abandoned"] == 1
    assert by_site["chartres"]["service_level"] == 1.0  # 1 / (2 - 1)
    assert by_site["chartres"]["abandon_rate"] == 0.0  # (1 - 1) / (2 - 1)
    # All sites together: 1 in SL / (4 offered - 1 short).
    assert one(db_url)["service_level"] == pytest.approx(1 / 3)

    # A setting changes the default used where a site sets none (Rouen only).
    monkeypatch.setenv("DASHBOARD_SL_SECONDS", "25")
    monkeypatch.setenv("DASHBOARD_SHORT_ABANDON_SECONDS", "8")
    by_site = {r["site"]: r for r in kpis(db_url, by=("site",)).iter_rows(named=True)}
    assert by_site["rouen"]["service_level"] == 1.0  # 25 <= 25; 7 < 8 short → 1 / (2 - 1)
    assert by_site["chartres"]["service_level"] == 1.0  # unchanged: its own thresholds
    monkeypatch.delenv("DASHBOARD_SL_SECONDS")
    monkeypatch.delenv("DASHBOARD_SHORT_ABANDON_SECONDS")

    # Overrides replace every site's thresholds.
    over = Overrides(sl_seconds=24, short_abandon_seconds=7)
    by_site = {r["site"]: r for r in kpis(db_url, by=("site",), overrides=over)
               .iter_rows(named=True)}
    for site in ("rouen", "chartres"):
        assert by_site[site]["short_abandoned"] == 0  # 7 is not < 7
        assert by_site[site]["service_level"] == 0.0  # 25 > 24
    over = Overrides(sl_seconds=25, short_abandon_seconds=8)
    assert one(db_url, overrides=over)["service_level"] == 1.0  # 2 / (4 - 2)


def test_wait_unknown_counts_in_totals_but_not_in_means(db_url):
    rows = Rows(db_url)
    rows.call("2015-04-02 10:00", outcome="answered", wait=None, talk=100)
    rows.call("2015-04-02 10:05", outcome="answered", wait=10, talk=200)
    k = one(db_url)
    assert k["answered"] == 2
    assert k["service_level"] == 0.5  # the unknown wait is not counted within the SL
    assert k["asa_seconds"] == 10.0  # mean of the known waits
    assert k["aht_seconds"] == 150.0  # (100 + 200) / 2
