"""Staff rollups (team presence, agents' logged-in days, acts): hand-worked rows, read in
place of the raw rows, refreshed by imports, and exact against the raw path."""

from __future__ import annotations

import datetime as dt

import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import select, update

from dashboard.core.access import ALL_ROWS
from dashboard.core.filters import Filters
from dashboard.engine import rollups
from dashboard.engine.kpis import compute_kpis
from dashboard.ingest import ingest_file
from dashboard.store import database as dbmod
from dashboard.store import schema
from queries import rollups as q_rollups
from tests.factories import Rows, populate

P = schema.rollup_presence
S = schema.rollup_presence_slots
MIN = 60_000_000  # microseconds in a minute


def _same(engine, filters, by, source="rollup") -> None:
    raw = compute_kpis(engine, filters, by, source="raw")
    roll = compute_kpis(engine, filters, by, source=source)
    assert_frame_equal(raw, roll, check_exact=False, rel_tol=1e-9, abs_tol=1e-12), (
        filters, by)


def test_presence_quarters_by_hand(db_url):
    rows = Rows(db_url)
    # Paris in April is UTC+2: 08:10–09:05 local is 06:10–07:05 UTC.
    rows.session("a1", "2015-04-01 08:10", "2015-04-01 09:05")
    rows.session("a2", "2015-04-01 08:20", "2015-04-01 08:40")
    rows.act("2015-04-01 10:00", department="60")
    rows.act("2015-04-01 11:00", department="60")
    rows.act("2015-04-01 11:30", department="27")
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    with engine.connect() as conn:
        got = conn.execute(select(P.c.local_slot, P.c.q_at, P.c.logged_us)
                           .order_by(P.c.q_at)).all()
        slots = conn.execute(select(S.c.local_slot, S.c.logged_us).where(
            S.c.site == "rouen", S.c.local_date == dt.date(2015, 4, 1))
            .order_by(S.c.local_slot)).all()
        acts = conn.execute(select(schema.rollup_acts.c.department, schema.rollup_acts.c.n)
                            .order_by(schema.rollup_acts.c.department)).all()
        per_agent = conn.execute(select(schema.rollup_agent_acts.c.agent_id,
                                        schema.rollup_agent_acts.c.n)).all()
        days = conn.execute(select(schema.rollup_agent_days.c.agent_id,
                                   schema.rollup_agent_days.c.logged_us)
                            .order_by(schema.rollup_agent_days.c.agent_id)).all()
        assert rollups.staff_complete(conn)
    q = dt.datetime(2015, 4, 1, 6, 0)
    assert [(slot, at, us) for slot, at, us in got] == [
        (16, q, 5 * MIN),  # 08:00–08:15 local: a1 from 08:10
        (16, q + dt.timedelta(minutes=15), 15 * MIN + 10 * MIN),  # a1, a2 from 08:20
        (17, q + dt.timedelta(minutes=30), 15 * MIN + 10 * MIN),  # a1, a2 until 08:40
        (17, q + dt.timedelta(minutes=45), 15 * MIN),
        (18, q + dt.timedelta(minutes=60), 5 * MIN),  # a1 until 09:05
    ]
    # Per local half-hour: the same time, summed over the slot's two quarters.
    assert [tuple(r) for r in slots] == [(16, 30 * MIN), (17, 40 * MIN), (18, 5 * MIN)]
    assert [(a, us) for a, us in days] == [("a1", 55 * MIN), ("a2", 20 * MIN)]
    assert [(d, n) for d, n in acts] == [("27", 1), ("60", 2)]
    assert [(a, n) for a, n in per_agent] == [("a1", 3)]


def test_the_engine_reads_the_staff_rollups(db_url):
    populate(Rows(db_url))
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    period = Filters(dt.date(2015, 3, 27), dt.date(2015, 4, 20), scope=ALL_ROWS)
    before = {by: compute_kpis(engine, period, by) for by in (("day",), ("site", "agent"))}
    assert before[("day",)]["agent_hours"].sum() > 0
    assert before[("day",)]["acts"].sum() == 60
    with engine.begin() as conn:  # the raw rows go; the rollups stay as they were
        conn.execute(schema.agent_sessions.delete())
        conn.execute(schema.acts.delete())
    for by, frame in before.items():
        assert_frame_equal(compute_kpis(engine, period, by), frame)
    # Per slot no acts rollup answers: the raw acts are counted, and there are none left.
    assert compute_kpis(engine, period, ("slot",))["acts"].sum() == 0
    raw = compute_kpis(engine, period, ("day",), source="raw")
    assert raw["agent_hours"].sum() == 0 and raw["acts"].sum() == 0


def test_opening_hours_off_the_quarter_take_the_raw_sessions(db_url):
    rows = Rows(db_url)
    populate(rows)
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    with engine.begin() as conn:
        conn.execute(update(schema.sites).where(schema.sites.c.code == "rouen")
                     .values(opens_at="08:10", closes_at="16:55"))
    period = Filters(dt.date(2015, 3, 27), dt.date(2015, 4, 20), scope=ALL_ROWS)
    for by in ((), ("site",), ("day", "site"), ("slot",)):
        _same(engine, period, by)


@pytest.mark.parametrize(("opens", "closes", "grain"), [
    ("08:30", "19:00", "slots"),  # every window on a half-hour: the slots suffice
    ("08:15", "16:45", "quarters"),  # on quarter hours only: a slot straddles them
])
def test_presence_is_read_per_half_hour_when_the_hours_allow(db_url, monkeypatch, opens,
                                                              closes, grain):
    rows = Rows(db_url)
    populate(rows)
    # Sessions around the opening and closing times, where the grains differ.
    rows.session("r1", "2015-04-01 08:05", "2015-04-01 08:25")
    rows.session("r2", "2015-04-01 16:40", "2015-04-01 17:10")
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    with engine.begin() as conn:
        conn.execute(update(schema.sites).values(opens_at=opens, closes_at=closes))
    read = []
    for name in ("presence_rows", "presence_slot_rows"):
        real = getattr(q_rollups, name)
        monkeypatch.setattr(q_rollups, name, lambda c, f, real=real, name=name: (
            read.append(name), real(c, f))[1])
    period = Filters(dt.date(2015, 3, 27), dt.date(2015, 4, 20), scope=ALL_ROWS)
    for by in ((), ("site",), ("day",), ("slot",), ("day", "slot"), ("week", "site")):
        _same(engine, period, by)
    assert set(read) == {"presence_slot_rows" if grain == "slots" else "presence_rows"}


def test_upgrade_fills_the_presence_slots_from_the_quarters(empty_db_url):
    dbmod.upgrade(empty_db_url, "0007")
    engine = dbmod.get_engine(empty_db_url)
    q = dt.datetime(2015, 4, 1, 6, 0)
    quarters = [("rouen", 16, q, 5), ("rouen", 16, q + dt.timedelta(minutes=15), 25),
                ("rouen", 17, q + dt.timedelta(minutes=30), 25), ("chartres", 16, q, 7)]
    with engine.begin() as conn:
        conn.execute(P.insert(), [
            {"site": site, "local_date": dt.date(2015, 4, 1), "local_slot": slot, "q_at": at,
             "logged_us": minutes * MIN} for site, slot, at, minutes in quarters])
    dbmod.upgrade(empty_db_url)
    with engine.connect() as conn:
        got = conn.execute(select(S.c.site, S.c.local_slot, S.c.logged_us)
                           .order_by(S.c.site, S.c.local_slot)).all()
    assert [tuple(r) for r in got] == [("chartres", 16, 7 * MIN), ("rouen", 16, 30 * MIN),
                                       ("rouen", 17, 25 * MIN)]


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("rebuilt", [True, False])
def test_imports_keep_the_staff_rollups_exact(db_url, tmp_path, rebuilt):
    populate(Rows(db_url))
    engine = dbmod.get_engine(db_url)
    if rebuilt:
        rollups.rebuild(engine)
    sessions = ["agent_id,site,start_at,end_at",
                "r1,rouen,2015-04-02T21:40:00,2015-04-03T02:20:00",  # over midnight
                "r9,rouen,2015-04-03T09:00:00,2015-04-05T10:00:00",  # two days and more
                "c1,chartres,2015-03-28T23:50:00,2015-03-29T03:05:00"]  # the spring gap
    acts = ["act_id,performed_at,act_type,site,department,agent_id",
            "X1,2015-04-02T10:00:00,attestation,rouen,60,r1",
            "X2,2015-04-03T23:59:00,attestation,chartres,28,c1"]
    for kind, lines in (("agent-sessions", sessions), ("acts", acts)):
        report = ingest_file(db_url, kind, _write(tmp_path / f"{kind}.csv", lines),
                             quarantine_dir=tmp_path, timezone="Europe/Paris")
        assert report.rejected == 0 and report.inserted == len(lines) - 1
    # A re-import shortens the long session: the days it no longer reaches change too.
    sessions[2] = "r9,rouen,2015-04-03T09:00:00,2015-04-03T12:00:00"
    again = _write(tmp_path / "agent-sessions.csv", sessions)
    report = ingest_file(db_url, "agent-sessions", again, quarantine_dir=tmp_path,
                         timezone="Europe/Paris")
    assert report.updated == 1
    with engine.connect() as conn:
        assert rollups.staff_complete(conn) is rebuilt
    period = Filters(dt.date(2015, 3, 27), dt.date(2015, 4, 20), scope=ALL_ROWS)
    for by in ((), ("day",), ("day", "slot"), ("site", "agent"), ("agent", "day"),
               ("week", "site"), ("department",)):
        _same(engine, period, by, "rollup" if rebuilt else "auto")


GROUPS = [(), ("site",), ("day",), ("slot",), ("site", "agent"), ("week", "department")]
SUBSETS = [("median_reply_hours",), ("backlog", "received"), ("acts_per_100_handled",),
           ("staffing_gap",), ("required_agents",), ("occupancy", "service_level"),
           ("agents_logged_in", "median_reply_hours", "acts")]


@pytest.mark.parametrize("source", ["rollup", "raw"])
def test_wanted_metrics_are_those_of_the_full_computation(db_url, source):
    populate(Rows(db_url))
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    period = Filters(dt.date(2015, 3, 27), dt.date(2015, 4, 20), scope=ALL_ROWS)
    for by in GROUPS:
        full = compute_kpis(engine, period, by, source=source)
        for wanted in SUBSETS:
            part = compute_kpis(engine, period, by, source=source, metrics=wanted)
            assert part.columns == full.columns
            keys = list(by)
            assert_frame_equal(part.select(*keys, *wanted), full.select(*keys, *wanted))
            # What nobody asked for (nor needs) is not computed: null.
            for key in ("backlog", "median_reply_hours", "acts", "required_agents"):
                if key not in wanted and not (key == "acts" and "acts_per_100_handled"
                                              in wanted) and not (
                        key == "required_agents" and {"staffing_gap", "agents_logged_in"}
                        & set(wanted)):
                    assert part[key].null_count() == part.height, (by, wanted, key)
    with pytest.raises(ValueError, match="unknown metric"):
        compute_kpis(engine, period, (), metrics=("answer_rates",))
