"""Row scope: every query returns only the rows a user may read, whatever the filters say."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from dashboard.cli.main import main
from dashboard.core.access import Scope, User, pseudonym, scope_for
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.store import database as dbmod
from dashboard.store import users as users_mod
from queries import overview
from tests.factories import Rows

DAY = dt.date(2015, 4, 2)


@pytest.fixture
def two_sites(db_url):
    """Rouen: agents r1 (3 calls, 1 act), r2 (1 call); Chartres: c1 (2 calls, 2 acts)."""
    rows = Rows(db_url)
    for agent, site, dept, n in (("r1", "rouen", "60", 3), ("r2", "rouen", "60", 1),
                                 ("c1", "chartres", "28", 2)):
        for i in range(n):
            rows.call(f"2015-04-02 10:{i:02d}", agent=agent, site=site, department=dept)
        rows.session(agent, "2015-04-02 09:00", "2015-04-02 11:00", site=site)
    rows.call("2015-04-02 11:00", outcome="abandoned", wait=40, site="chartres",
              department="93")
    rows.act("2015-04-02 10:30", agent="r1")
    rows.act("2015-04-02 10:30", agent="c1", site="chartres", department="28")
    rows.act("2015-04-02 10:40", agent="c1", site="chartres", department="28")
    with dbmod.get_engine(db_url).begin() as conn:
        for user in (
            User("dir", "national"),
            User("sup.rouen", "supervisor", site="rouen"),
            User("r1", "agent", site="rouen", agent_id="r1"),
            User("gone", "agent", site="rouen", agent_id="r2", active=False),
        ):
            users_mod.save_user(conn, user)
    return db_url


def _by(url, scope, by, **filters):
    engine = dbmod.get_engine(url)
    frame = compute_kpis(engine, Filters(start=DAY, end=DAY, scope=scope, **filters), by)
    return {tuple(r[d] for d in by): r for r in frame.iter_rows(named=True)}


def test_national_sees_every_site(two_sites):
    rows = _by(two_sites, Scope("national"), ("site",))
    assert {k: r["received"] for k, r in rows.items()} == {("chartres",): 3, ("rouen",): 4}


def test_supervisor_sees_only_own_site_even_when_asking_for_another(two_sites):
    sup = Scope("supervisor", site="rouen")
    rows = _by(two_sites, sup, ("site", "agent"))
    assert set(rows) == {("rouen", "r1"), ("rouen", "r2")}
    assert rows[("rouen", "r1")]["acts"] == 1
    # Asking for Chartres through the filters (a tampered URL) yields nothing.
    total = _by(two_sites, sup, (), sites=("chartres",))[()]
    assert (total["received"], total["acts"], total["agent_hours"]) == (0, 0, 0)


def test_agent_sees_only_own_rows(two_sites):
    me = Scope("agent", site="rouen", agent_id="r1")
    total = _by(two_sites, me, ())[()]
    # r1: 3 answered calls, 1 act, one 2-hour session.
    assert (total["received"], total["answered"], total["acts"]) == (3, 3, 1)
    assert total["agent_hours"] == pytest.approx(2.0)
    # Filtering on another agent cannot widen the scope.
    other = _by(two_sites, me, (), agents=("c1",))[()]
    assert (other["received"], other["acts"]) == (0, 0)
    assert set(_by(two_sites, me, ("agent",))) == {("r1",)}


def test_data_span_follows_the_scope(two_sites):
    with dbmod.get_engine(two_sites).connect() as conn:
        assert overview.data_span(conn, Scope("national")).contacts == 7
        assert overview.data_span(conn, Scope("supervisor", site="chartres")).contacts == 3
        span = overview.data_span(conn, Scope("agent", site="rouen", agent_id="r2"))
        assert (span.contacts, span.acts) == (1, 0)


def test_scope_for_each_role():
    assert scope_for(User("a", "agent", site="rouen", agent_id="r1")) == Scope(
        "agent", site="rouen", agent_id="r1")
    assert scope_for(User("s", "supervisor", site="rouen")) == Scope("supervisor", site="rouen")
    assert scope_for(User("n", "national", site="rouen")) == Scope("national")
    with pytest.raises(ValueError):
        Scope("supervisor")
    with pytest.raises(ValueError):
        Scope("visitor")


def _kpis(url, *args):
    return CliRunner().invoke(main, ["kpis", "--db", url, "--from", "2015-04-02", "--to",
                                     "2015-04-02", *args])


def test_kpis_as_user_applies_the_scope(two_sites):
    result = _kpis(two_sites, "--by", "agent", "--as-user", "r1")
    assert result.exit_code == 0, result.output
    assert [r["agent"] for r in json.loads(result.output)] == ["r1"]
    result = _kpis(two_sites, "--by", "site", "--as-user", "sup.rouen")
    assert [r["site"] for r in json.loads(result.output)] == ["rouen"]


def test_kpis_as_national_pseudonymises_agents(two_sites):
    result = _kpis(two_sites, "--by", "agent", "--as-user", "dir")
    assert result.exit_code == 0, result.output
    agents = [r["agent"] for r in json.loads(result.output)]
    assert not {"r1", "r2", "c1"} & set(agents)
    assert sorted(a for a in agents if a) == sorted(pseudonym(a) for a in ("r1", "r2", "c1"))
    assert None in agents  # the unassigned abandon stays unassigned


@pytest.mark.parametrize("login", ["nobody", "gone"])
def test_kpis_as_unknown_or_disabled_user_exits_2_without_data(two_sites, login):
    result = _kpis(two_sites, "--as-user", login)
    assert result.exit_code == 2
    assert "received" not in result.output


def test_users_command_adds_lists_and_removes(db_url):
    runner = CliRunner()
    ok = runner.invoke(main, ["users", "add", "marie", "--role", "supervisor", "--site",
                              "chartres", "--db", db_url])
    assert ok.exit_code == 0 and "created" in ok.output
    bad = runner.invoke(main, ["users", "add", "x", "--role", "agent", "--site", "rouen",
                               "--db", db_url])
    assert bad.exit_code == 2 and "--agent-id" in bad.output
    listed = runner.invoke(main, ["users", "list", "--format", "json", "--db", db_url])
    assert [u["login"] for u in json.loads(listed.output)] == ["marie"]
    assert runner.invoke(main, ["users", "remove", "marie", "--db", db_url]).exit_code == 0
    assert runner.invoke(main, ["users", "remove", "marie", "--db", db_url]).exit_code == 2
