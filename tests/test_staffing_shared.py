"""The team measures of a period computed once and shared by its groupings
(dashboard.engine.team_period, dashboard.engine.period_cache): the same figures as each grouping
computed on its own and as the raw rows, worked by hand on both databases."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard.core.access import ALL_ROWS, Scope
from dashboard.core.filters import Filters, Overrides
from dashboard.engine import page_reads, period_cache, rollups
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics import erlang
from dashboard.metrics import grouping as m_grouping
from dashboard.metrics import sessions as m_sessions
from dashboard.metrics import staffing as m_staffing
from dashboard.store import database as dbmod
from queries import rollups as q_rollups
from tests.factories import Rows, hundred_calls, populate

TUE = dt.date(2015, 4, 7)  # Rouen and Chartres open 08:30-19:00 (10.5 h) on weekdays
OPEN_S = 10.5 * 3600
SLOT_S = 1800
# The Effectifs page's calls (pages/effectifs.py).
GROUPINGS = ((), ("site",), ("slot",), ("day", "slot"), ("day",))


@pytest.fixture(autouse=True)
def _empty_cache():
    period_cache.clear()
    yield
    period_cache.clear()


@pytest.fixture
def reads(monkeypatch):
    """How many times the engine read the period's Erlang cell inputs."""
    count = {"cell_inputs": 0}
    real = q_rollups.cell_inputs

    def counted(*args, **kwargs):
        count["cell_inputs"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(q_rollups, "cell_inputs", counted)
    return count


def _by_hand(url: str) -> Rows:
    rows = Rows(url)
    hundred_calls(rows, "2015-04-07", "10:00", "rouen", "60")
    hundred_calls(rows, "2015-04-07", "09:00", "chartres", "28")
    # Before Rouen opens: in the 08:00 slot's base, outside the opening hours'.
    for i in range(5):
        rows.call(f"2015-04-07 08:{i * 5:02d}", wait=10, talk=150, wrap=30)
    rows.session("early", "2015-04-07 08:00", "2015-04-07 08:30")
    for i in range(14):
        rows.session(f"r{i}", "2015-04-07 10:00", "2015-04-07 10:30")
    rows.session("r14", "2015-04-07 10:00", "2015-04-07 10:15")  # half the slot
    rows.session("r15", "2015-04-07 11:00", "2015-04-07 11:30")  # no call then
    for i in range(10):
        rows.session(f"c{i}", "2015-04-07 09:00", "2015-04-07 09:30", site="chartres")
    rollups.rebuild(dbmod.get_engine(url))
    return rows


def _figures(frame: pl.DataFrame, by) -> dict:
    keys = list(by)
    return {tuple(r[k] for k in keys): (r["required_agents"], r["agents_logged_in"],
                                        r["staffing_gap"])
            for r in frame.iter_rows(named=True)}


def _assert_figures(frame: pl.DataFrame, by, want: dict) -> None:
    got = _figures(frame, by)
    assert sorted(got) == sorted(want), by
    for key, value in want.items():
        assert got[key] == pytest.approx(value), (by, key)


def test_shared_cells_give_the_figures_worked_by_hand(db_url, reads):
    _by_hand(db_url)
    engine = dbmod.get_engine(db_url)
    day = Filters(TUE, TUE, scope=Scope("national"))
    shared = {by: compute_kpis(engine, day, by, metrics=page_reads.TEAM) for by in GROUPINGS}
    assert reads["cell_inputs"] == 1  # five groupings, one read of the Erlang cells

    early = erlang.required_agents(5, SLOT_S, 180, 0.8, 20)
    assert early == 2
    # Over the opening hours (08:00-08:30 is outside them): 14 agents for half an hour
    # at each site; logged in: Rouen 14 × 30 min + 15 min + 30 min, Chartres 10 × 30 min.
    required = 2 * 14 * SLOT_S / OPEN_S
    logged = (14 * SLOT_S + 900 + SLOT_S + 10 * SLOT_S) / OPEN_S
    _assert_figures(shared[()], (), {(): (required, logged, logged - required)})
    _assert_figures(shared[("day",)], ("day",),
                    {("2015-04-07",): (required, logged, logged - required)})
    _assert_figures(shared[("site",)], ("site",), {
        ("chartres",): (14 * SLOT_S / OPEN_S, 10 * SLOT_S / OPEN_S, -4 * SLOT_S / OPEN_S),
        ("rouen",): (14 * SLOT_S / OPEN_S, (14 * SLOT_S + 900 + SLOT_S) / OPEN_S,
                     (900 + SLOT_S) / OPEN_S),
    })
    # Per half-hour the base is the whole slot: the early calls need 2 agents at 08:00.
    per_slot = {
        ("08:00",): (2.0, 1.0, -1.0),
        ("09:00",): (14.0, 10.0, -4.0),
        ("10:00",): (14.0, 14.5, 0.5),
        ("11:00",): (0.0, 1.0, 1.0),
    }
    _assert_figures(shared[("slot",)], ("slot",), per_slot)
    _assert_figures(shared[("day", "slot")], ("day", "slot"),
                    {("2015-04-07", *k): v for k, v in per_slot.items()})
    assert shared[("slot",)].filter(slot="08:00")["offered"].item() == 5

    # The same as each grouping on its own, and as the raw rows.
    for by in GROUPINGS:
        period_cache.clear()
        alone = compute_kpis(engine, day, by, metrics=page_reads.TEAM)
        assert_frame_equal(alone, shared[by])
        raw = compute_kpis(engine, day, by, metrics=page_reads.TEAM, source="raw")
        assert_frame_equal(raw, shared[by], check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
    assert reads["cell_inputs"] == 1 + len(GROUPINGS)


@pytest.mark.parametrize("overrides", [None, Overrides(erlang_a=True),
                                       Overrides(sl_seconds=7, short_abandon_seconds=3)])
def test_shared_cells_match_each_grouping_alone(db_url, overrides):
    populate(Rows(db_url))
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    # A Monday; a week over the spring change at Rouen's; three weeks over Easter Monday.
    for start, end, scope in ((dt.date(2015, 3, 30), dt.date(2015, 3, 30), Scope("national")),
                              (dt.date(2015, 3, 27), dt.date(2015, 4, 2),
                               Scope("supervisor", site="rouen")),
                              (dt.date(2015, 4, 1), dt.date(2015, 4, 20), Scope("national"))):
        filters = Filters(start, end, scope=scope)
        period_cache.clear()
        shared = {by: compute_kpis(engine, filters, by, overrides) for by in
                  (*GROUPINGS, ("week",), ("month", "site"))}
        for by, frame in shared.items():
            period_cache.clear()
            assert_frame_equal(compute_kpis(engine, filters, by, overrides), frame)
            raw = compute_kpis(engine, filters, by, overrides, source="raw")
            assert_frame_equal(raw, frame, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
        assert shared[("day",)]["required_agents"].drop_nulls().len() > 0


def test_a_time_base_is_derived_when_first_asked_for_once(db_url, monkeypatch):
    _by_hand(db_url)
    engine = dbmod.get_engine(db_url)
    derived = {"cells_in_base": 0, "logged": []}
    real_cells, real_logged = m_staffing.cells_in_base, m_sessions.base_logged_slots

    def cells(*args, **kwargs):
        derived["cells_in_base"] += 1
        return real_cells(*args, **kwargs)

    def logged(*args, slot_base, **kwargs):
        derived["logged"].append(slot_base)
        return real_logged(*args, slot_base=slot_base, **kwargs)

    monkeypatch.setattr(m_staffing, "cells_in_base", cells)
    monkeypatch.setattr(m_sessions, "base_logged_slots", logged)
    day = Filters(TUE, TUE, scope=Scope("national"))
    # Aujourd'hui's half-hours: the opening hours' base is never needed.
    per_slot = compute_kpis(engine, day, ("slot",), metrics=page_reads.TEAM)
    assert derived == {"cells_in_base": 0, "logged": [True]}
    # Then Effectifs' other groupings: that base once, for all of them.
    total = compute_kpis(engine, day, (), metrics=page_reads.TEAM)
    compute_kpis(engine, day, ("site",), metrics=page_reads.TEAM)
    compute_kpis(engine, day, ("day", "slot"), metrics=page_reads.TEAM)
    assert derived == {"cells_in_base": 1, "logged": [True, False]}
    assert per_slot.filter(slot="10:00")["required_agents"].item() == 14.0
    assert total["required_agents"].item() == pytest.approx(2 * 14 * SLOT_S / OPEN_S)


def test_a_write_is_seen_by_the_next_call(db_url, reads, monkeypatch):
    rows = _by_hand(db_url)
    engine = dbmod.get_engine(db_url)
    day = Filters(TUE, TUE, scope=ALL_ROWS)
    before = compute_kpis(engine, day, ("slot",))
    compute_kpis(engine, day, ())
    assert reads["cell_inputs"] == 1
    # Ten more calls at 11:00, and their rollups refreshed: committed, so not hidden.
    for i in range(10):
        rows.call(f"2015-04-07 11:{i:02d}", wait=10, talk=150, wrap=30)
    with engine.begin() as conn:
        rollups.refresh_rollups(conn, {("rouen", TUE)})
    after = compute_kpis(engine, day, ("slot",))
    assert reads["cell_inputs"] == 2
    assert before.filter(slot="11:00")["required_agents"].item() == 0.0
    assert after.filter(slot="11:00")["required_agents"].item() == erlang.required_agents(
        10, SLOT_S, 180, 0.8, 20)
    # Past its lifetime an entry is read again; other filters have their own entry.
    monkeypatch.setattr(period_cache, "TTL_SECONDS", 0.0)
    compute_kpis(engine, day, ())
    assert reads["cell_inputs"] == 3
    monkeypatch.setattr(period_cache, "TTL_SECONDS", 30.0)
    compute_kpis(engine, Filters(TUE, TUE, sites=("rouen",), scope=ALL_ROWS), ())
    assert reads["cell_inputs"] == 4


def test_the_cache_is_bounded_and_per_engine(monkeypatch):
    calls = []

    def compute(value):
        calls.append(value)
        return value

    engine = dbmod.make_engine("sqlite://")
    monkeypatch.setattr(period_cache, "MAX_ENTRIES", 2)
    for key in ("a", "b", "a", "c", "a", "b"):
        assert period_cache.shared(engine, key, lambda k=key: compute(k)) == key
    # a, b computed; a hit; c computed and b, the least recently used, dropped; a hit;
    # b computed again.
    assert calls == ["a", "b", "c", "b"]
    other = dbmod.make_engine("sqlite://")
    period_cache.shared(other, "a", lambda: compute("a'"))
    assert calls[-1] == "a'"
    engine.dispose()
    other.dispose()


def test_cells_in_base_equals_solving_on_that_base():
    hours = pl.DataFrame({"site": ["rouen", "lyon"], "timezone": ["Europe/Paris"] * 2,
                          "opens_at": ["08:30", "09:10"], "closes_at": ["19:00", "17:40"],
                          "open_weekdays": ["12345", "123456"], "sl_target": [0.8, 0.9],
                          "sl_seconds": [20, 30]})
    start, end = dt.date(2015, 3, 27), dt.date(2015, 4, 6)  # over the spring change
    windows = m_sessions.open_windows(hours, start, end)
    grids = m_sessions.slot_grids(hours, windows, start, end)
    keys = ["site", "local_date", "local_slot"]
    both = grids[False].join(grids[True], on=keys, suffix="_slot")
    assert both.height == grids[True].height == grids[False].height
    assert (both["base_us"] <= both["base_us_slot"]).all()
    # Lyon opens at 09:10: 20 minutes of its 09:00 slot on an open day, the whole slot
    # in the slot base; 23:30 is outside the opening hours.
    cell = both.filter(site="lyon", local_date=dt.date(2015, 4, 4))  # a Saturday
    assert dict(cell.select("local_slot", "base_us").rows())[18] == 20 * 60_000_000
    assert dict(cell.select("local_slot", "base_us_slot").rows())[18] == 30 * 60_000_000
    assert dict(cell.select("local_slot", "base_us").rows())[47] == 0
    rnd = random.Random(3)
    cells = grids[True].select("site", "local_date", "local_slot").sample(
        400, seed=3).with_columns(
        pl.Series("calls", [rnd.choice([0, 1, 5, 40, 120]) for _ in range(400)],
                  dtype=pl.Int64),
        pl.Series("_n", [rnd.choice([0, 3, 30]) for _ in range(400)], dtype=pl.Int64),
    ).with_columns((pl.col("_n") * 170.0).alias("_h"),
                   pl.col("site").replace_strict({"rouen": 20.0, "lyon": 30.0}).alias("_t"))
    targets = hours.select("site", "sl_target", pl.lit(None, pl.Float64).alias("patience_s"))
    solved = m_staffing.required_from_inputs(cells, grids[True], targets)
    direct = m_staffing.required_from_inputs(cells, grids[False], targets)
    rebased = m_staffing.cells_in_base(solved, grids[False])
    for by in ((), ("site",), ("day",), ("week", "site")):
        assert_frame_equal(
            m_staffing.required_stats(m_grouping.with_group_keys(rebased, by), by).sort(pl.all()),
            m_staffing.required_stats(m_grouping.with_group_keys(direct, by), by).sort(pl.all()))
    # Cells outside the opening hours were solved once on the slot base: they weigh 0.
    outside = rebased.filter(pl.col("base_us") == 0, pl.col("calls") > 0)
    assert outside.height and not outside["unknown"].any()
