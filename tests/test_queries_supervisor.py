"""Named queries of the site supervisor pages, on SQLite and PostgreSQL: acts by type,
site targets, the latest contact — each honouring the filters and the user's scope."""

from __future__ import annotations

import datetime as dt

from dashboard.core.access import ALL_ROWS, Scope
from dashboard.core.filters import Filters
from dashboard.store import database as dbmod
from queries import acts_by_type, freshness, site_targets
from tests.factories import Rows

D = dt.date
ROUEN = Scope("supervisor", site="rouen")


def _acts(rows: Rows) -> None:
    rows.act("2015-05-11 10:00", act_type="attestation", agent="r1")
    rows.act("2015-05-11 11:00", act_type="attestation", agent="r2")
    rows.act("2015-05-11 23:30", act_type="remise_gracieuse", department="04", agent="r1")
    rows.act("2015-05-12 00:30", act_type="attestation", agent="r1")  # next local day
    rows.act("2015-05-11 10:00", site="chartres", department="28", agent="c1",
             act_type="attestation")


def test_acts_by_type_counts_per_local_day_department_and_type(db_url):
    rows = Rows(db_url)
    _acts(rows)
    with dbmod.get_engine(db_url).connect() as conn:
        out = acts_by_type.acts_by_type(conn, Filters(D(2015, 5, 11), D(2015, 5, 11),
                                                      scope=ALL_ROWS))
        assert out.rows() == [
            (D(2015, 5, 11), "chartres", "28", "attestation", 1),
            (D(2015, 5, 11), "rouen", "04", "remise_gracieuse", 1),
            (D(2015, 5, 11), "rouen", "60", "attestation", 2),
        ]
        two_days = Filters(D(2015, 5, 11), D(2015, 5, 12), departments=("60",),
                           agents=("r1",), scope=ALL_ROWS)
        assert acts_by_type.acts_by_type(conn, two_days).rows() == [
            (D(2015, 5, 11), "rouen", "60", "attestation", 1),
            (D(2015, 5, 12), "rouen", "60", "attestation", 1),
        ]


def test_acts_by_type_obeys_the_scope_whatever_the_filters(db_url):
    rows = Rows(db_url)
    _acts(rows)
    with dbmod.get_engine(db_url).connect() as conn:
        asked = Filters(D(2015, 5, 11), D(2015, 5, 12), sites=("chartres",), scope=ROUEN)
        assert acts_by_type.acts_by_type(conn, asked).height == 0
        own = Filters(D(2015, 5, 11), D(2015, 5, 12), scope=ROUEN)
        assert set(acts_by_type.acts_by_type(conn, own)["site"]) == {"rouen"}
        agent = Filters(D(2015, 5, 11), D(2015, 5, 12),
                        scope=Scope("agent", site="rouen", agent_id="r2"))
        assert acts_by_type.acts_by_type(conn, agent)["n"].sum() == 1


def test_site_targets_for_the_scope(db_url):
    with dbmod.get_engine(db_url).connect() as conn:
        everyone = site_targets.site_targets(conn, Scope("national"))
        assert everyone["site"].to_list() == ["chartres", "rouen"]
        rouen = site_targets.site_targets(conn, ROUEN)
        assert rouen.rows() == [("rouen", "Rouen", "Europe/Paris", 0.8, 0.85, 0.8)]
        assert site_targets.site_targets(conn, Scope("agent", agent_id="x")).height == 0


def test_latest_received_at_in_the_selection(db_url):
    rows = Rows(db_url)
    rows.call("2015-05-11 09:00")
    late = rows.email("2015-05-11 22:47", department="04")
    rows.call("2015-05-11 23:10", site="chartres", department="28")
    rows.call("2015-05-12 08:40")
    with dbmod.get_engine(db_url).connect() as conn:
        day = Filters(D(2015, 5, 11), D(2015, 5, 11), scope=ROUEN)
        assert freshness.latest_received_at(conn, day) == late["received_at"]
        phone = Filters(D(2015, 5, 11), D(2015, 5, 11), channels=("phone",), scope=ROUEN)
        assert freshness.latest_received_at(conn, phone) == rows.to_utc("2015-05-11 09:00")
        nothing = Filters(D(2015, 5, 10), D(2015, 5, 10), scope=ROUEN)
        assert freshness.latest_received_at(conn, nothing) is None
