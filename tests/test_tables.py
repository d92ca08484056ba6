"""Display tables: French labels and formats; agents named, identified or pseudonymised."""

from __future__ import annotations

import polars as pl

from dashboard.charts.tables import display_table
from dashboard.core.access import Scope, pseudonym
from tests.factories import Rows

NAMES = {"r1": "Claire Martin"}


def _frame():
    return pl.DataFrame({
        "site": ["rouen", "rouen"], "agent": ["r1", None],
        "answer_rate": [0.8731, None], "received": [1234, 0], "asa_seconds": [125.4, None],
    })


def test_french_labels_and_formats():
    table = display_table(_frame(), ["site", "agent"], ["received", "answer_rate", "asa_seconds"],
                          scope=Scope("admin"), site_names={"rouen": "Rouen"}, agent_names=NAMES)
    assert table.columns == ["Site", "Agent", "Appels reçus", "Taux de décroché",
                             "Attente moyenne"]
    assert table.row(0) == ("Rouen", "Claire Martin", "1\u202f234", "87,3\u202f%",
                            "2\u202fmin\u202f05\u202fs")
    assert table.row(1) == ("Rouen", "non attribué", "0", "—", "—")


def test_agents_are_named_only_for_their_site_supervisor_and_admins():
    def agent_cell(scope):
        return display_table(_frame(), ["site", "agent"], ["received"], scope=scope,
                             agent_names=NAMES)["Agent"][0]

    assert agent_cell(Scope("supervisor", site="rouen")) == "Claire Martin"
    assert agent_cell(Scope("supervisor", site="chartres")) == "r1"
    assert agent_cell(Scope("national")) == pseudonym("r1") != "r1"


def test_agent_names_query_respects_the_scope(db_url):
    from dashboard.store import database as dbmod
    from queries.agents import agent_names

    rows = Rows(db_url)
    rows.agent("r1", "rouen", "Claire Martin")
    rows.agent("c1", "chartres", "Paul Durand")
    with dbmod.get_engine(db_url).connect() as conn:
        assert agent_names(conn, Scope("supervisor", site="rouen")) == {"r1": "Claire Martin"}
        assert agent_names(conn, Scope("national")) == {}
        assert agent_names(conn, Scope("admin")) == {"r1": "Claire Martin", "c1": "Paul Durand"}
        assert agent_names(conn, Scope("agent", site="chartres", agent_id="c1")) == {
            "c1": "Paul Durand"}
