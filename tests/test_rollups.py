"""Rollups (dashboard.engine.rollups): the engine gives exactly the raw figures from them, a
refresh recomputes exactly the days asked, and the rebuild command fills them."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal
from sqlalchemy import func, select, text

from dashboard.cli.main import main
from dashboard.core.access import ALL_ROWS, Scope
from dashboard.core.filters import Filters, Overrides
from dashboard.engine import period_cache, rollups
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics.definitions import DIMENSIONS
from dashboard.store import database as dbmod
from dashboard.store import schema
from queries import rollups as q_rollups
from tests.factories import Rows, populate

R = schema.rollup_contacts


def _same(engine, filters, by, overrides=None) -> None:
    raw = compute_kpis(engine, filters, by, overrides, source="raw")
    roll = compute_kpis(engine, filters, by, overrides, source="rollup")
    assert_frame_equal(raw, roll, check_exact=False, rel_tol=1e-9, abs_tol=1e-12), (
        filters, by, overrides)


def _random_cases(rnd: random.Random, first: dt.date, last: dt.date, values: dict, n: int):
    span = (last - first).days
    for _ in range(n):
        start = first + dt.timedelta(days=rnd.randrange(span + 1))
        end = min(last, start + dt.timedelta(days=rnd.choice([0, 1, 6, 30, 120, 400])))
        kw = {}
        for field in ("sites", "departments", "channels", "queues", "agents"):
            if values[field] and rnd.random() < 0.2:
                kw[field] = tuple(rnd.sample(values[field], 1))
        by = tuple(rnd.sample(DIMENSIONS, rnd.choice([0, 1, 1, 2])))
        overrides = None
        if rnd.random() < 0.4:
            overrides = Overrides(sl_seconds=rnd.choice([None, 0, 7, 20, 60, 120]),
                                  short_abandon_seconds=rnd.choice([None, 0, 3, 5, 30, 121]),
                                  erlang_a=rnd.random() < 0.3)
        yield Filters(start, end, scope=ALL_ROWS, **kw), by, overrides


def _values(engine) -> dict:
    c = schema.contacts
    out = {}
    with engine.connect() as conn:
        for field, col in (("sites", c.c.site), ("departments", c.c.department),
                           ("channels", c.c.channel), ("queues", c.c.queue),
                           ("agents", c.c.agent_id)):
            out[field] = sorted(v for v in conn.execute(select(col).distinct()).scalars() if v)
    return out


def _parity_on(url: str, first: dt.date, last: dt.date, n: int, seed: int) -> None:
    engine = dbmod.get_engine(url)
    rnd = random.Random(seed)
    values = _values(engine)
    for filters, by, overrides in _random_cases(rnd, first, last, values, n):
        _same(engine, filters, by, overrides)


@pytest.mark.slow
def test_rollups_match_raw_on_the_demo(demo_db_url):
    engine = dbmod.get_engine(demo_db_url)
    with engine.connect() as conn:
        assert rollups.rollups_complete(conn)  # build_demo leaves them complete
    year = Filters(dt.date(2015, 1, 1), dt.date(2015, 12, 31), scope=ALL_ROWS)
    for by in ((), ("site",), ("day", "slot"), ("week", "department"),
               ("campaign", "department"), ("site", "agent"), ("channel", "queue")):
        _same(engine, year, by)
    _parity_on(demo_db_url, dt.date(2014, 9, 1), dt.date(2015, 12, 31), 25, seed=1)


def test_rollups_match_raw_on_both_databases(db_url):
    populate(Rows(db_url))
    rollups.rebuild(dbmod.get_engine(db_url))
    _parity_on(db_url, dt.date(2015, 3, 25), dt.date(2015, 4, 25), 30, seed=2)


def _rollup_rows(engine) -> pl.DataFrame:
    cols = [R.c.site, R.c.local_date, R.c.channel, R.c.outcome, R.c.wait_b,
            func.sum(R.c.n), func.sum(R.c.handled), func.sum(R.c.repeats)]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols).group_by(*cols[:5])).all()
    return pl.DataFrame(
        [tuple(r) for r in rows], orient="row",
        schema=["site", "local_date", "channel", "outcome", "wait_b", "n", "handled",
                "repeats"],
    ).with_columns(pl.col("local_date").cast(pl.String).str.slice(0, 10),
                   pl.col("n", "handled", "repeats").cast(pl.Int64)).sort(pl.all())


def test_refresh_changes_exactly_the_days_touched(db_url):
    rows = Rows(db_url)
    engine = dbmod.get_engine(db_url)
    rows.call("2015-04-01 10:00", wait=3, caller="k1")
    rows.call("2015-04-02 10:00", outcome="abandoned", wait=2)
    rows.call("2015-04-02 11:00", wait=200, site="chartres", department="28")
    rollups.rebuild(engine)
    before = _rollup_rows(engine)
    assert before["n"].sum() == 3
    # New rows of 2 April at Rouen, and one updated call of the same day.
    rows.call("2015-04-02 10:10", wait=3, caller="k1")
    rows.call("2015-04-02 10:20", outcome="abandoned", wait=40)
    with engine.begin() as conn:
        conn.execute(schema.contacts.update().where(
            schema.contacts.c.outcome == "abandoned", schema.contacts.c.wait_seconds == 2
        ).values(wait_seconds=9))
        rollups.refresh_rollups(conn, {("rouen", dt.date(2015, 4, 2))})
    after = _rollup_rows(engine)
    changed = after.join(before, on=after.columns, how="anti")
    gone = before.join(after, on=before.columns, how="anti")
    # 1 April: k1's call now repeats (k1 called back within 7 days), nothing else moves.
    assert gone.sort("local_date").to_dicts() == [
        {"site": "rouen", "local_date": "2015-04-01", "channel": "phone", "outcome": "answered",
         "wait_b": 3, "n": 1, "handled": 1, "repeats": 0},
        {"site": "rouen", "local_date": "2015-04-02", "channel": "phone", "outcome": "abandoned",
         "wait_b": 2, "n": 1, "handled": 0, "repeats": 0},
    ]
    assert changed.sort("local_date", "outcome", "wait_b").to_dicts() == [
        {"site": "rouen", "local_date": "2015-04-01", "channel": "phone", "outcome": "answered",
         "wait_b": 3, "n": 1, "handled": 1, "repeats": 1},
        {"site": "rouen", "local_date": "2015-04-02", "channel": "phone", "outcome": "abandoned",
         "wait_b": 9, "n": 1, "handled": 0, "repeats": 0},
        {"site": "rouen", "local_date": "2015-04-02", "channel": "phone", "outcome": "abandoned",
         "wait_b": 40, "n": 1, "handled": 0, "repeats": 0},
        {"site": "rouen", "local_date": "2015-04-02", "channel": "phone", "outcome": "answered",
         "wait_b": 3, "n": 1, "handled": 1, "repeats": 0},
    ]
    # Chartres' day is untouched; waits above the cap share one bin.
    assert after.filter(pl.col("site") == "chartres")["wait_b"].to_list() == [
        schema.WAIT_CAP + 1]
    _same(engine, Filters(dt.date(2015, 4, 1), dt.date(2015, 4, 2),
                          scope=ALL_ROWS), ("day", "site"))


def test_cell_rollup_holds_each_half_hours_raw_figures(db_url):
    """rollup_cells against the raw contacts, counted here one by one."""
    populate(Rows(db_url))
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    c = schema.contacts
    with engine.connect() as conn:
        baked = rollups.baked_thresholds(conn)  # per site [SL, short abandon] seconds
        raw = conn.execute(select(
            c.c.site, c.c.local_date, c.c.local_slot, c.c.channel, c.c.outcome,
            c.c.wait_seconds, c.c.talk_seconds + c.c.wrap_seconds, c.c.answered_at)).all()
        stored = conn.execute(select(schema.rollup_cells)).mappings().all()
    expected: dict[tuple, Counter] = {}
    for site, day, slot, channel, outcome, wait, handle, answered_at in raw:
        e = expected.setdefault((site, str(day)[:10], slot), Counter())
        sl, short = baked[site]
        if channel == "email":
            e["em_received"] += 1
            e["em_replied"] += answered_at is not None
            continue
        e["ph_received"] += 1
        if outcome == "answered":
            e["ph_answered"] += 1
            e["ph_handle_sum"] += handle
            e["ph_answered_in_sl"] += wait <= sl
        elif outcome == "abandoned":
            e["ph_abandoned"] += 1
            e["ph_short_abandoned"] += wait < short
        if outcome in ("answered", "abandoned"):
            e["ph_max_wait"] = max(e["ph_max_wait"], wait)
    got = {(r["site"], str(r["local_date"])[:10], r["local_slot"]): r for r in stored}
    assert len(got) == len(stored) and set(got) == set(expected)
    for key, e in expected.items():
        assert {name: got[key][name] or 0 for name in e} == dict(e), key
    assert sum(e["ph_short_abandoned"] for e in expected.values()) > 0  # the case is seen


@pytest.fixture
def tables_read(monkeypatch) -> list[set[str]]:
    """The tables each rollup query reads, in order (a spy on queries.rollups.fetch)."""
    read: list[set[str]] = []
    fetch = q_rollups.fetch

    def spy(conn, stmt, *args, **kwargs):
        read.append({t.name for t in stmt.get_final_froms()})
        return fetch(conn, stmt, *args, **kwargs)

    monkeypatch.setattr(q_rollups, "fetch", spy)
    return read


def test_slot_groupings_read_the_cell_rollup(db_url, tables_read):
    """Groupings by site, day and slot read rollup_cells (also for the Erlang cells), and
    give the raw figures; a channel filter or a département goes elsewhere."""
    populate(Rows(db_url))
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    read = tables_read
    month = Filters(dt.date(2015, 3, 27), dt.date(2015, 4, 20), scope=ALL_ROWS)
    for by in (("slot",), ("day", "slot"), ("site", "slot"), ("week", "slot")):
        read.clear()
        period_cache.clear()  # the Erlang cells are shared between the calls otherwise
        _same(engine, month, by)
        assert sum("rollup_cells" in tables for tables in read) == 2, (by, read)  # sums, cells
    for filters, by in ((Filters(month.start, month.end, channels=("phone",),
                                 scope=ALL_ROWS), ("slot",)),
                        (month, ("department", "slot")), (month, ("channel", "slot"))):
        read.clear()
        _same(engine, filters, by)
        assert not any("rollup_cells" in tables for tables in read), (filters, by, read)


def test_departement_groupings_read_the_rollup_without_queues(db_url, tables_read):
    """Groupings and filters by département (no queue, no half-hour) read rollup_dept_days
    and give the raw figures; a queue or a half-hour goes elsewhere."""
    populate(Rows(db_url))
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    read = tables_read
    month = Filters(dt.date(2015, 3, 27), dt.date(2015, 4, 20), scope=ALL_ROWS)
    for filters, by in ((month, ("department",)), (month, ("week", "department")),
                        (month, ("site", "channel", "department")),
                        (Filters(month.start, month.end, departments=("60",),
                                 scope=ALL_ROWS), ("day",))):
        read.clear()
        _same(engine, filters, by)
        assert {"rollup_dept_days"} in read, (filters, by, read)
    for filters, by in ((month, ("queue", "department")), (month, ("department", "slot")),
                        (Filters(month.start, month.end, queues=("particuliers",), scope=ALL_ROWS),
                         ("department",))):
        read.clear()
        _same(engine, filters, by)
        assert not any("rollup_dept_days" in tables for tables in read), (filters, by, read)


def test_agent_groupings_read_the_agent_cells(db_url, tables_read):
    """Groupings by agent, site and day (Aujourd'hui's agents, an agent's own page) read
    rollup_agent_cells and give the raw figures, the contacts of no agent included; a
    channel, a département or a queue goes to rollup_agents or further."""
    populate(Rows(db_url))
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    read = tables_read
    month = Filters(dt.date(2015, 3, 27), dt.date(2015, 4, 20), scope=ALL_ROWS)
    with engine.connect() as conn:
        agent = conn.execute(select(schema.contacts.c.agent_id).where(
            schema.contacts.c.agent_id.is_not(None)).limit(1)).scalar()
        site = conn.execute(select(schema.contacts.c.site).where(
            schema.contacts.c.agent_id == agent).limit(1)).scalar()
    own = Filters(month.start, month.end, scope=Scope("agent", site=site, agent_id=agent))
    for filters, by in ((month, ("site", "agent")), (month, ("agent",)), (own, ()),
                        (own, ("day",)), (Filters(month.start, month.end, agents=(agent,),
                                                  scope=ALL_ROWS),
                                          ("week",))):
        read.clear()
        _same(engine, filters, by)
        assert {"rollup_agent_cells"} in read, (filters, by, read)
    by_agent = compute_kpis(engine, month, ("agent",), source="rollup")
    assert by_agent.filter(pl.col("agent").is_null())["abandoned"].item() > 0
    for filters, by in ((month, ("agent", "channel")), (month, ("agent", "department")),
                        (Filters(month.start, month.end, channels=("phone",),
                                 scope=ALL_ROWS), ("agent",)),
                        (Filters(month.start, month.end, queues=("particuliers",), scope=ALL_ROWS),
                         ("agent",))):
        read.clear()
        _same(engine, filters, by)
        assert not any("rollup_agent_cells" in tables for tables in read), (filters, by, read)


def test_half_hours_alone_share_the_day_and_half_hour_read_on_sqlite(db_url, monkeypatch):
    """SQLite sums rollup_cells per day and half-hour (rows in its key's order, no sort)
    for a grouping by half-hour alone, the read a grouping by both then reuses."""
    populate(Rows(db_url))
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    groups: list[list[str]] = []
    fetch = q_rollups.fetch

    def spy(conn, stmt, *args, **kwargs):
        if {t.name for t in stmt.get_final_froms()} == {"rollup_cells"} and (
                stmt._group_by_clause.clauses):
            groups.append([c.name for c in stmt._group_by_clause.clauses])
        return fetch(conn, stmt, *args, **kwargs)

    monkeypatch.setattr(q_rollups, "fetch", spy)
    period_cache.clear()
    month = Filters(dt.date(2015, 3, 27), dt.date(2015, 4, 20), scope=ALL_ROWS)
    for by in (("slot",), ("day", "slot")):
        _same(engine, month, by)
    if engine.dialect.name == "sqlite":
        assert groups == [["local_date", "local_slot"]]
    else:
        assert groups == [["local_slot"], ["local_date", "local_slot"]]


def test_rebuild_command(sqlite_url):
    dbmod.upgrade(sqlite_url)
    from dashboard.store import reference
    reference.load_reference(dbmod.get_engine(sqlite_url))
    Rows(sqlite_url).call("2015-04-01 10:00", wait=3)
    engine = dbmod.get_engine(sqlite_url)
    with engine.connect() as conn:
        assert not rollups.rollups_complete(conn)
    result = CliRunner().invoke(main, ["rollups", "rebuild", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "rollup_contacts: 1 rows" in result.output
    with engine.connect() as conn:
        assert rollups.rollups_complete(conn)
        assert conn.execute(select(func.sum(R.c.n))).scalar() == 1


def test_a_rebuild_leaves_postgresql_tables_vacuumed(pg_url):
    dbmod.upgrade(pg_url)
    from dashboard.store import reference
    reference.load_reference(dbmod.get_engine(pg_url))
    Rows(pg_url).call("2015-04-01 10:00", wait=3)
    engine = dbmod.get_engine(pg_url)
    rollups.rebuild(engine)
    names = [t.name for t in (*rollups.TABLES, *rollups.STAFF_TABLES)]
    with engine.connect() as conn:
        stats = conn.execute(text(
            "SELECT relname, last_vacuum IS NOT NULL, last_analyze IS NOT NULL "
            "FROM pg_stat_user_tables WHERE relname = ANY(:names)"), {"names": names}).all()
    assert sorted(stats) == sorted((name, True, True) for name in names)


def test_thresholds_beyond_the_cap_take_the_raw_path(demo_db_url):
    engine = dbmod.get_engine(demo_db_url)
    filters = Filters(dt.date(2015, 3, 1), dt.date(2015, 3, 31), scope=ALL_ROWS)
    over = Overrides(sl_seconds=schema.WAIT_CAP + 1)
    with pytest.raises(ValueError, match="raw"):
        compute_kpis(engine, filters, (), over, source="rollup")
    auto = compute_kpis(engine, filters, (), over)
    assert_frame_equal(auto, compute_kpis(engine, filters, (), over, source="raw"))
