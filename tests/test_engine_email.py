"""E-mail metrics of spec/metrics.md: cohort rates, working-day deadlines, median, backlog."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.core.access import ALL_ROWS
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.store import database as dbmod
from tests.factories import Rows


def kpis(url, start, end, by=(), **filters):
    filters = Filters(start, end, **{"scope": ALL_ROWS, **filters})
    return compute_kpis(dbmod.get_engine(url), filters, by)


def one(url, start, end, **filters) -> dict:
    frame = kpis(url, start, end, **filters)
    assert frame.height == 1
    return frame.row(0, named=True)


def test_cohort_rates_48h_and_five_working_days(db_url):
    rows = Rows(db_url)
    # The spec's example: received Thursday 30/04/2015, 1 and 8 May are holidays, so the
    # 5th working day after is Monday 11/05 (4, 5, 6, 7, 11 May).
    rows.email("2015-04-30 10:00", replied="2015-05-11 23:59")  # e1: in 5 wd
    rows.email("2015-04-30 10:00", replied="2015-05-12 00:01")  # e2: out
    # Friday 03/04 evening; Monday 06/04 is Easter Monday: deadline Monday 13/04
    # (7, 8, 9, 10, 13 April). Without the holiday it would be Friday 10/04.
    rows.email("2015-04-03 18:00", replied="2015-04-13 18:00")  # e3: in 5 wd
    # 48 calendar hours, inclusive.
    rows.email("2015-04-07 09:00", replied="2015-04-09 09:00")  # e4: exactly 48 h: in
    rows.email("2015-04-07 09:00", replied="2015-04-09 09:00:01")  # e5: 48 h + 1 s: out
    rows.email("2015-04-20 09:00")  # e6: pending
    rows.email("2015-04-21 09:00", closed="2015-04-22 09:00")  # e7: closed, no reply
    rows.email("2015-05-04 09:00", replied="2015-05-04 10:00")  # outside the cohort

    k = one(db_url, dt.date(2015, 4, 1), dt.date(2015, 4, 30))
    assert k["emails_received"] == 7
    assert k["emails_replied"] == 5  # e1..e5
    assert k["reply_within_48h_rate"] == pytest.approx(1 / 7)  # e4 only
    assert k["reply_within_5wd_rate"] == pytest.approx(4 / 7)  # e1, e3, e4, e5
    # Reply delays in hours: e4 48, e5 48 + 1/3600, e3 240, e1 264 + 13 + 59/60,
    # e2 264 + 14 + 1/60: the middle one of five is 240.
    assert k["median_reply_hours"] == pytest.approx(240.0)
    # Phone figures are untouched by e-mails.
    assert k["received"] == 0 and k["answered"] == 0


def test_replies_after_the_period_count_in_the_cohort(db_url):
    rows = Rows(db_url)
    rows.email("2015-04-30 16:00", replied="2015-05-04 09:00")
    k = one(db_url, dt.date(2015, 4, 30), dt.date(2015, 4, 30))
    assert k["emails_replied"] == 1
    # Friday 1 May holiday: 4 May is the 1st working day: in; 30/04 16:00 → 04/05 09:00
    # is 4 days - 7 h = 89 h: out of 48 h.
    assert k["reply_within_5wd_rate"] == 1.0
    assert k["reply_within_48h_rate"] == 0.0
    assert k["median_reply_hours"] == pytest.approx(89.0)


def test_median_with_an_even_count_is_the_mean_of_the_two_middle(db_url):
    rows = Rows(db_url)
    for hours in (1, 2, 4, 10):
        rows.email("2015-06-01 08:00", replied=f"2015-06-01 {8 + hours:02d}:00")
    rows.email("2015-06-01 08:00")  # not replied: not in the median
    k = one(db_url, dt.date(2015, 6, 1), dt.date(2015, 6, 1))
    assert k["median_reply_hours"] == pytest.approx((2 + 4) / 2)
    # by agent: each group has its own median; fractional hours are kept.
    rows.email("2015-06-02 08:00", replied="2015-06-02 08:30", agent="a1")
    rows.email("2015-06-02 08:00", replied="2015-06-02 09:15", agent="a1")
    by_agent = kpis(db_url, dt.date(2015, 6, 2), dt.date(2015, 6, 2), by=("agent",))
    # The pending e-mail of 01/06 has no agent: it shows in the null-agent group's stock.
    assert by_agent.select("agent", "emails_received", "backlog").rows() == [
        ("a1", 2, 0), (None, 0, 1)
    ]
    assert by_agent.item(0, "median_reply_hours") == pytest.approx((0.5 + 1.25) / 2)
    assert by_agent.item(1, "median_reply_hours") is None


def test_48h_are_real_hours_across_the_march_dst_change(db_url):
    rows = Rows(db_url)
    # 28/03 12:00 CET (11:00 UTC) → 30/03 13:00 CEST (11:00 UTC): exactly 48 h.
    rows.email("2015-03-28 12:00", replied="2015-03-30 13:00")
    rows.email("2015-03-28 12:00", replied="2015-03-30 13:00:01")  # 48 h + 1 s
    k = one(db_url, dt.date(2015, 3, 28), dt.date(2015, 3, 28))
    assert k["reply_within_48h_rate"] == 0.5
    assert k["median_reply_hours"] == pytest.approx(48 + 0.5 / 3600)


def test_five_working_days_use_the_local_day_of_the_reply(db_url):
    rows = Rows(db_url)
    # Received Monday 06/07/2015: deadline Monday 13/07 (14 July is after it).
    # 13/07 23:30 CEST is 21:30 UTC the same day; 14/07 00:30 CEST is 13/07 22:30 UTC:
    # a UTC-day comparison would wrongly count the second one in.
    rows.email("2015-07-06 10:00", replied="2015-07-13 23:30")
    rows.email("2015-07-06 10:00", replied="2015-07-14 00:30")
    # Received Friday 10/07: 13, 15, 16, 17, 20 July (14 July holiday): deadline 20/07.
    rows.email("2015-07-10 10:00", replied="2015-07-20 18:00")
    k = one(db_url, dt.date(2015, 7, 6), dt.date(2015, 7, 10))
    assert k["reply_within_5wd_rate"] == pytest.approx(2 / 3)


def test_backlog_is_a_stock_at_the_end_of_each_period(db_url):
    rows = Rows(db_url)
    rows.email("2015-04-01 09:00", replied="2015-04-20 09:00")  # b1 before → after
    rows.email("2015-04-01 09:00", replied="2015-04-11 10:00")  # b2 replied inside
    rows.email("2015-04-11 09:00")  # b3 pending
    rows.email("2015-04-13 09:00")  # b4 received after the period
    # b5: received 12/04 23:30, replied 13/04 00:30 CEST (12/04 22:30 UTC): still open at
    # the end of local 12/04.
    rows.email("2015-04-12 23:30", replied="2015-04-13 00:30")
    # b6 closed without reply: never replied, so in every stock after its receipt
    # (spec/metrics.md: "received up to the end of the period and not replied by then").
    rows.email("2015-04-05 09:00", closed="2015-04-11 15:00")
    rows.email("2015-04-12 10:00", replied="2015-04-12 23:59:59")  # b7 replied in time
    rows.email("2015-03-01 09:00", replied="2015-04-12 00:00")  # b8 replied at 12/04 0:00
    rows.call("2015-04-10 10:00", outcome="answered")  # calls never enter the backlog

    start, end = dt.date(2015, 4, 10), dt.date(2015, 4, 12)
    k = one(db_url, start, end)
    assert k["backlog"] == 4  # b1, b3, b5, b6
    assert k["emails_received"] == 3  # b3, b5, b7
    assert k["emails_replied"] == 2  # b5, b7

    by_day = {r["day"]: r for r in kpis(db_url, start, end, by=("day",)).iter_rows(named=True)}
    assert by_day["2015-04-10"]["backlog"] == 4  # b1, b2, b6, b8
    assert by_day["2015-04-11"]["backlog"] == 4  # b1, b3, b6, b8
    assert by_day["2015-04-12"]["backlog"] == 4  # b1, b3, b5, b6
    assert [by_day[d]["emails_received"] for d in sorted(by_day)] == [0, 1, 2]

    # Week 2015-W15 (06..12 April) and month: the stock at the last day of the period.
    week = kpis(db_url, start, end, by=("week",))
    assert week.rows(named=True)[0]["week"] == "2015-W15"
    assert week.item(0, "backlog") == 4
    assert kpis(db_url, start, end, by=("month",)).item(0, "backlog") == 4
    # Over a month the stock is taken at its last day within the period.
    months = kpis(db_url, dt.date(2015, 3, 1), dt.date(2015, 4, 10), by=("month",))
    by_month = {r["month"]: r["backlog"] for r in months.iter_rows(named=True)}
    # End of 31/03: only b8 was received (b1, b2 on 01/04, b6 on 05/04);
    # end of 10/04: b1, b2, b6, b8.
    assert by_month == {"2015-03": 1, "2015-04": 4}
    # Grouping by slot cannot show a stock.
    assert kpis(db_url, start, end, by=("slot",)).get_column("backlog").null_count() > 0


def test_backlog_month_before_receipts_is_counted_by_group(db_url):
    rows = Rows(db_url)
    rows.email("2015-03-01 09:00", replied="2015-04-12 00:00", agent="a1")
    rows.email("2015-03-02 09:00", agent=None)
    frame = kpis(db_url, dt.date(2015, 3, 31), dt.date(2015, 3, 31), by=("agent",))
    assert frame.select("agent", "backlog", "emails_received").rows() == [
        ("a1", 1, 0),
        (None, 1, 0),  # the agent key stays null; display layers say "non attribué"
    ]
