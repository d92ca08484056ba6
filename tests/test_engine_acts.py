"""Acts, online-service promotion and repeat contacts (spec/metrics.md), by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.core.access import ALL_ROWS
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.store import database as dbmod
from tests.factories import Rows

D = dt.date(2015, 4, 7)  # a Tuesday


def kpis(url, start=D, end=D, by=(), **filters):
    filters = Filters(start, end, **{"scope": ALL_ROWS, **filters})
    return compute_kpis(dbmod.get_engine(url), filters, by)


def test_acts_promotion_and_repeat_contacts(db_url):
    rows = Rows(db_url)
    # Handled contacts of 07/04 (answered calls, replied e-mails):
    # h1: caller A contacts again by e-mail exactly 7 × 24 h later → repeat.
    rows.call("2015-04-07 10:00", agent="a1", promoted=True, caller="A")
    rows.email("2015-04-14 10:00", caller="A")
    # h2: caller B calls again 7 days and 1 second later → not a repeat.
    rows.call("2015-04-07 11:00", agent="a1", promoted=False, caller="B")
    rows.call("2015-04-14 11:00:01", outcome="abandoned", wait=40, caller="B")
    # h3: a replied e-mail of caller C, who calls Chartres the next day (any channel, any
    # site, any outcome) → repeat.
    rows.email("2015-04-07 09:00", replied="2015-04-07 15:00", agent="a2", promoted=True,
               caller="C")
    rows.call("2015-04-08 09:00", site="chartres", department="28", outcome="deflected",
              wait=None, caller="C")
    # h4: no caller key: handled, not in the repeat denominator.
    rows.call("2015-04-07 12:00", agent=None, promoted=None)
    # h5: caller D had called before (06/04) but not after → not a repeat.
    rows.call("2015-04-06 12:00", caller="D")
    rows.call("2015-04-07 13:00", agent="a2", promoted=True, caller="D")
    # Not handled (abandoned) with a later contact: in neither rate.
    rows.call("2015-04-07 14:00", outcome="abandoned", wait=50, promoted=True, caller="E")
    rows.call("2015-04-08 14:00", caller="E")
    # A pending e-mail of the period is not handled either.
    rows.email("2015-04-07 16:00", promoted=True, caller="F")
    rows.email("2015-04-08 16:00", caller="F")
    # Acts: 3 on local 07/04 (one at 23:30 CEST = 21:30 UTC); 00:30 CEST on 08/04 is
    # 22:30 UTC on 07/04 but belongs to 08/04.
    rows.act("2015-04-07 10:30", agent="a1")
    rows.act("2015-04-07 11:30", agent="a1", contact_id="c2")
    rows.act("2015-04-07 23:30", agent="a2")
    rows.act("2015-04-08 00:30", agent="a2")

    k = kpis(db_url).row(0, named=True)
    assert k["answered"] == 4  # h1, h2, h4, h5
    assert k["emails_replied"] == 1  # h3
    assert k["acts"] == 3
    assert k["acts_per_100_handled"] == pytest.approx(100 * 3 / (4 + 1))  # 60
    assert k["online_promotion_rate"] == pytest.approx(3 / 5)  # h1, h3, h5 of 5 handled
    assert k["repeat_contact_rate"] == pytest.approx(2 / 4)  # h1, h3 of h1, h2, h3, h5

    by_agent = {r["agent"]: r for r in kpis(db_url, by=("agent",)).iter_rows(named=True)}
    assert by_agent["a1"]["acts"] == 2
    assert by_agent["a1"]["acts_per_100_handled"] == pytest.approx(100 * 2 / 2)
    assert by_agent["a2"]["acts_per_100_handled"] == pytest.approx(100 * 1 / 2)  # h3, h5
    assert by_agent[None]["acts_per_100_handled"] == 0.0  # h4: 0 acts / 1 handled
    assert by_agent[None]["repeat_contact_rate"] is None  # h4 has no caller key
    assert by_agent["a1"]["repeat_contact_rate"] == 0.5  # h1 yes, h2 no
    assert by_agent["a2"]["repeat_contact_rate"] == 0.5  # h3 yes, h5 no

    # Acts carry no channel or queue: those groupings and filters show null, not a guess.
    by_channel = kpis(db_url, by=("channel",))
    assert by_channel.get_column("channel").to_list() == ["email", "phone"]
    assert by_channel.get_column("acts").to_list() == [None, None]
    assert by_channel.get_column("acts_per_100_handled").to_list() == [None, None]
    assert by_channel.get_column("online_promotion_rate").to_list() == [1.0, 0.5]
    assert kpis(db_url, queues=("particuliers",)).item(0, "acts") is None
    assert kpis(db_url, channels=("phone", "email")).item(0, "acts") == 3  # = no filter
    # By département and site they are fine.
    assert kpis(db_url, by=("department",)).item(0, "acts") == 3
    assert kpis(db_url, by=("site",), sites=("rouen",)).item(0, "acts") == 3


def test_repeat_window_is_seven_times_24_real_hours_across_dst(db_url):
    rows = Rows(db_url)
    # 20/10 10:00 CEST = 08:00 UTC. Clocks go back on 25/10, so 27/10 09:00 CET is
    # 08:00 UTC: exactly 168 h later (repeat); 27/10 10:00 CET is 169 h (not).
    rows.call("2015-10-20 10:00", caller="F")
    rows.call("2015-10-27 09:00", caller="F")
    rows.call("2015-10-20 10:00", caller="G")
    rows.call("2015-10-27 10:00", caller="G")
    k = kpis(db_url, dt.date(2015, 10, 20), dt.date(2015, 10, 20)).row(0, named=True)
    assert k["repeat_contact_rate"] == 0.5


def test_repeat_needs_a_later_contact_not_the_same_one(db_url):
    rows = Rows(db_url)
    # Two handled contacts of the same caller in the period: the first repeats, the last
    # does not (nothing after it).
    rows.call("2015-04-07 09:00", caller="H")
    rows.email("2015-04-07 10:00", replied="2015-04-07 11:00", caller="H")
    k = kpis(db_url).row(0, named=True)
    assert k["repeat_contact_rate"] == 0.5
    # Grouped by channel: the call repeats (the e-mail came after), the e-mail does not.
    by_channel = {r["channel"]: r for r in kpis(db_url, by=("channel",)).iter_rows(named=True)}
    assert by_channel["phone"]["repeat_contact_rate"] == 1.0
    assert by_channel["email"]["repeat_contact_rate"] == 0.0
