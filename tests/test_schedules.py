"""Planned shifts (the `schedules` import kind) and schedule adherence (issue 22): the import
on SQLite and PostgreSQL (good rows, re-import, bad rows quarantined), adherence and
conformance on a crafted day computed by hand, the scope of the queries and of the
command, and the demo's rota against its sessions.

Expected values are worked out by hand in the comments."""

from __future__ import annotations

import csv
import datetime as dt
import json

import polars as pl
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dashboard.cli.main import main
from dashboard.core.access import ALL_ROWS, Scope
from dashboard.core.filters import Filters
from dashboard.ingest import ingest_file
from dashboard.metrics import adherence as m
from dashboard.store import database as dbmod
from dashboard.store import schema
from queries import schedules as q_schedules

UTC = dt.datetime  # stored timestamps are naive UTC
HEADER = "shift_id,agent_id,site,start_at,end_at,activity"
GOOD = [
    HEADER,
    # Naive: Paris wall clock in winter (+01:00): 09:00-12:00 local = 08:00-11:00 UTC.
    "P1,rouen-a01,rouen,2015-03-02T09:00:00,2015-03-02T12:00:00,Telephone",
    "P2,rouen-a01,rouen,2015-03-02T12:00:00,2015-03-02T13:00:00,pause",
    # No site: --site chartres; 23:30 local = 22:30 UTC, local day 2 March; no activity.
    "P3,chartres-a01,,2015-03-02T23:30:00,2015-03-03T01:00:00,",
    # Exact: 09:00Z = 10:00 in Paris.
    "P4,rouen-a02,rouen,2015-03-02T09:00:00Z,2015-03-02T10:00:00Z,formation",
]
EXPECTED = [
    ("P1", "rouen-a01", "rouen", UTC(2015, 3, 2, 8), UTC(2015, 3, 2, 11), dt.date(2015, 3, 2),
     "telephone"),
    ("P2", "rouen-a01", "rouen", UTC(2015, 3, 2, 11), UTC(2015, 3, 2, 12), dt.date(2015, 3, 2),
     "pause"),
    ("P3", "chartres-a01", "chartres", UTC(2015, 3, 2, 22, 30), UTC(2015, 3, 3, 0, 0),
     dt.date(2015, 3, 2), None),
    ("P4", "rouen-a02", "rouen", UTC(2015, 3, 2, 9), UTC(2015, 3, 2, 10), dt.date(2015, 3, 2),
     "formation"),
]


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stored(url):
    s = schema.schedules
    with dbmod.get_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(s.c.shift_id, s.c.agent_id, s.c.site, s.c.start_at, s.c.end_at,
                   s.c.local_date, s.c.activity).order_by(s.c.shift_id))]


def _reasons(report) -> dict[int, str]:
    with open(report.quarantine_path, encoding="utf-8-sig", newline="") as fh:
        sample = fh.readline()
        fh.seek(0)
        reader = csv.DictReader(fh, delimiter=";" if ";" in sample else ",")
        return {int(r["line"]): r["reason"] for r in reader}


def _ingest(url, path, tmp_path, **kw):
    return ingest_file(url, "schedules", path, quarantine_dir=tmp_path / "q", **kw)


# -- the import -----------------------------------------------------------------------------


def test_schedules_load_and_reimport_without_duplicates(db_url, tmp_path):
    path = _write(tmp_path / "planning.csv", GOOD)
    first = _ingest(db_url, path, tmp_path, site="chartres")
    assert (first.exit_code, first.rejected, first.inserted) == (0, 0, 4), first.summary()
    assert _stored(db_url) == EXPECTED

    again = _ingest(db_url, path, tmp_path, site="chartres")
    assert (again.exit_code, again.inserted, again.updated, again.unchanged) == (0, 0, 0, 4)

    # The next export moves P1 to e-mails: the same (source, shift_id) is updated.
    _write(path, [GOOD[0], GOOD[1].replace("Telephone", "courriel"), *GOOD[2:]])
    third = _ingest(db_url, path, tmp_path, site="chartres")
    assert (third.exit_code, third.inserted, third.updated, third.unchanged) == (0, 0, 1, 3)
    stored = _stored(db_url)
    assert len(stored) == 4 and stored[0][-1] == "courriel"


def test_bad_shifts_are_quarantined_with_their_reason(db_url, tmp_path):
    path = _write(tmp_path / "planning.csv", [
        HEADER,
        "G1,rouen-a01,rouen,2015-03-02T09:00:00,2015-03-02T12:00:00,telephone",
        "B1,rouen-a01,rouen,2015-03-02T12:00:00,2015-03-02T11:00:00,telephone",  # line 3
        "B2,rouen-a01,rouen,2015-03-02T12:00:00,2015-03-02T12:00:00,pause",  # line 4
        "B3,rouen-a01,rouen,2015-03-02T13:00:00,2015-03-02T14:00:00,reunion",  # line 5
        "B4,,rouen,2015-03-02T13:00:00,2015-03-02T14:00:00,",  # line 6
        "B5,rouen-a01,rouen,02/03/2015 13:00,2015-03-02T14:00:00,",  # line 7
        "B6,J. Dupont,rouen,2015-03-02T13:00:00,2015-03-02T14:00:00,",  # line 8
    ])
    report = _ingest(db_url, path, tmp_path)
    assert (report.exit_code, report.inserted, report.rejected) == (1, 1, 6)
    reasons = _reasons(report)
    assert set(reasons) == {3, 4, 5, 6, 7, 8}
    assert reasons[3].startswith("ends before it starts")
    assert reasons[4].startswith("ends before it starts")  # a shift of no length
    assert reasons[5] == "unknown activity: 'reunion'"
    assert reasons[6] == "missing agent_id"
    assert reasons[7].startswith("unparseable start_at: '02/03/2015 13:00'")
    assert reasons[8] == "invalid agent_id: 'J. Dupont'"
    assert [r[0] for r in _stored(db_url)] == ["G1"]


def test_ingest_command_exit_statuses_and_a_mapping(db_url, tmp_path):
    runner = CliRunner()
    # A vendor export: other column names, its own activity codes and date format.
    export = _write(tmp_path / "export.csv", [
        "Id;Matricule;Site;Debut;Fin;Code",
        "X1;rouen-a01;rouen;02/03/2015 09:00;02/03/2015 12:00;TEL",
        "X2;rouen-a01;rouen;02/03/2015 12:00;02/03/2015 13:00;PAU",
    ])
    mapping = tmp_path / "wfm.toml"
    mapping.write_text(
        '[columns]\nshift_id = "Id"\nagent_id = "Matricule"\nsite = "Site"\n'
        'start_at = { from = "Debut", format = "%d/%m/%Y %H:%M" }\n'
        'end_at = { from = "Fin", format = "%d/%m/%Y %H:%M" }\n'
        'activity = { from = "Code", values = { TEL = "telephone", PAU = "pause" } }\n',
        encoding="utf-8")
    args = ["--db", db_url, "--quarantine-dir", str(tmp_path / "q")]
    ok = runner.invoke(main, ["ingest", "schedules", str(export), "--mapping", str(mapping),
                              *args])
    assert ok.exit_code == 0, ok.output
    assert [(r[0], r[3], r[6]) for r in _stored(db_url)] == [
        ("X1", UTC(2015, 3, 2, 8), "telephone"), ("X2", UTC(2015, 3, 2, 11), "pause")]
    bad = _write(tmp_path / "bad.csv", [
        HEADER, "B1,rouen-a01,rouen,2015-03-02T12:00:00,2015-03-02T11:00:00,"])
    none = runner.invoke(main, ["ingest", "schedules", str(bad), *args])
    assert none.exit_code == 2, none.output
    some = _write(tmp_path / "some.csv", [
        HEADER, "S1,rouen-a01,rouen,2015-03-03T09:00:00,2015-03-03T10:00:00,",
        "S2,rouen-a01,rouen,2015-03-03T12:00:00,2015-03-03T11:00:00,"])
    partial = runner.invoke(main, ["ingest", "schedules", str(some), *args])
    assert partial.exit_code == 1, partial.output


# -- adherence, pure ------------------------------------------------------------------------

SITES = pl.DataFrame({"site": ["rouen"], "timezone": ["Europe/Paris"]})
DAY = dt.date(2015, 3, 2)


def _local(h, m=0, day=2):
    """Paris wall clock on a March 2015 day (winter, +01:00) → naive UTC."""
    return UTC(2015, 3, day, h, m) - dt.timedelta(hours=1)


def _plan(*shifts):
    return pl.DataFrame(
        [("a1", "rouen", _local(*s), _local(*e), act) for s, e, act in shifts],
        schema={"agent_id": pl.String, "site": pl.String, "start_at": pl.Datetime("us"),
                "end_at": pl.Datetime("us"), "activity": pl.String}, orient="row")


def _sessions(*spans):
    return pl.DataFrame(
        [("a1", "rouen", _local(*s), _local(*e)) for s, e in spans],
        schema={"agent_id": pl.String, "site": pl.String, "start_at": pl.Datetime("us"),
                "end_at": pl.Datetime("us")}, orient="row")


CRAFTED = _plan(((9, 0), (12, 0), "telephone"), ((12, 0), (13, 0), "pause"),
                ((13, 0), (17, 0), "telephone"))


def test_adherence_on_a_crafted_day():
    sessions = _sessions(
        ((9, 10), (12, 5)), ((13, 20), (17, 0)),
        ((10, 0), (11, 0)),  # a second session inside the first: no minute counts twice
        ((9, 0, 3), (10, 0, 3)),  # the next day, not planned: not counted at all
    )
    slots = m.slot_adherence(CRAFTED, sessions, SITES, DAY, dt.date(2015, 3, 3))
    [agent] = m.agent_adherence(slots).to_dicts()
    # Planned on the phone 180 + 240 min; logged in on it 09:10-12:00 (170) and
    # 13:20-17:00 (220). Planned but pause: 420; logged in that day 175 + 220 = 395.
    assert agent["planned_contact_minutes"] == 420
    assert agent["adherent_minutes"] == 390
    assert agent["planned_minutes"] == 420
    assert agent["logged_minutes"] == 395
    assert agent["adherence"] == pytest.approx(390 / 420)
    assert agent["conformance"] == pytest.approx(395 / 420)
    [site] = m.site_adherence(slots).to_dicts()
    assert site["adherence"] == pytest.approx(390 / 420)
    by_slot = {r["local_slot"]: r for r in slots.to_dicts()}
    # 09:00-09:30 (slot 18): 30 planned, 20 logged; 12:00-12:30 (24): the pause, 5
    # logged; 13:00-13:30 (26): 10 logged; 17:00 onwards: nothing planned, nothing logged.
    assert (by_slot[18]["planned_contact_minutes"], by_slot[18]["adherent_minutes"],
            by_slot[18]["logged_minutes"]) == (30, 20, 20)
    assert (by_slot[24]["planned_minutes"], by_slot[24]["adherent_minutes"],
            by_slot[24]["logged_minutes"]) == (0, 0, 5)
    assert (by_slot[26]["adherent_minutes"], by_slot[26]["logged_minutes"]) == (10, 10)
    assert set(by_slot) == set(range(18, 34))
    assert {r["local_date"] for r in slots.to_dicts()} == {DAY}


def test_logging_in_outside_the_plan_counts_for_conformance_only():
    plan = _plan(((9, 0), (10, 0), None), ((14, 0), (15, 0), "formation"))
    sessions = _sessions(((8, 30), (10, 0)), ((14, 0), (14, 30)))
    [agent] = m.agent_adherence(m.slot_adherence(plan, sessions, SITES, DAY, DAY)).to_dicts()
    # No activity = contact work: 60 planned, all 60 logged in. Formation is planned
    # (60 + 60 = 120) but not contact work; logged in 90 + 30 = 120 that day.
    assert (agent["planned_contact_minutes"], agent["adherent_minutes"]) == (60, 60)
    assert (agent["planned_minutes"], agent["logged_minutes"]) == (120, 120)
    assert agent["adherence"] == 1.0 and agent["conformance"] == 1.0
    only_training = _plan(((14, 0), (15, 0), "formation"))
    [row] = m.agent_adherence(m.slot_adherence(only_training, sessions, SITES, DAY, DAY)
                              ).to_dicts()
    assert row["adherence"] is None  # nothing planned on contact work
    assert row["conformance"] == pytest.approx(120 / 60)


# -- scope, on both databases ---------------------------------------------------------------


def test_a_supervisor_reads_their_site_and_an_agent_their_own_shifts(db_url, tmp_path):
    report = _ingest(db_url, _write(tmp_path / "planning.csv", GOOD), tmp_path,
                     site="chartres")
    assert report.exit_code == 0, report.summary()
    after, before = UTC(2015, 3, 1), UTC(2015, 3, 4)
    day = dt.date(2015, 3, 2)

    def shifts(scope):
        with dbmod.get_engine(db_url).connect() as conn:
            frame = q_schedules.schedule_rows(conn, Filters(day, day, scope=scope), after,
                                              before)
        return frame.get_column("shift_id").to_list()

    assert shifts(ALL_ROWS) == ["P3", "P1", "P2", "P4"]  # by agent, then start
    assert shifts(Scope("national")) == ["P3", "P1", "P2", "P4"]
    assert shifts(Scope("supervisor", site="rouen")) == ["P1", "P2", "P4"]
    assert shifts(Scope("supervisor", site="chartres")) == ["P3"]
    assert shifts(Scope("agent", site="rouen", agent_id="rouen-a02")) == ["P4"]


# -- the demo -------------------------------------------------------------------------------


def _demo_frames(url):
    with dbmod.get_engine(url).connect() as conn:
        plan = pl.read_database(select(schema.schedules), conn)
        sessions = pl.read_database(select(schema.agent_sessions), conn)
    return plan, sessions


def test_the_demo_plans_every_session(demo_db_url):
    plan, sessions = _demo_frames(demo_db_url)
    assert plan.height > 0 and set(plan["source"]) == {"demo"}
    assert set(plan["activity"]) == {"telephone", "pause"}
    # Every agent day with a session was planned.
    worked = sessions.select("agent_id", "local_date").unique()
    planned = plan.select("agent_id", "local_date").unique()
    assert worked.join(planned, on=["agent_id", "local_date"], how="anti").height == 0
    # Sessions are planned shifts with late logins, early logouts and breaks: each lies
    # inside one planned phone shift of its agent.
    phone = plan.filter(pl.col("activity") == "telephone")
    inside = sessions.join(phone, on="agent_id", suffix="_plan").filter(
        (pl.col("start_at") >= pl.col("start_at_plan"))
        & (pl.col("end_at") <= pl.col("end_at_plan")))
    assert inside.select("agent_id", "start_at").unique().height == sessions.height


def test_adherence_on_the_demo_through_the_command(demo_db_url):
    runner = CliRunner()
    out = runner.invoke(main, ["adherence", "--db", demo_db_url, "--from", "2015-01-01",
                               "--to", "2015-06-30", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    sites = [r for r in rows if r["grain"] == "site"]
    assert {r["site"] for r in sites} == {"rouen", "chartres"}
    for row in rows:
        assert 0.7 <= row["adherence"] <= 1.0, row
        assert 0.7 <= row["conformance"] <= 1.0, row
    # The site row pools its agents' minutes.
    for site in sites:
        agents = [r for r in rows if r["grain"] == "agent" and r["site"] == site["site"]]
        assert site["adherent_minutes"] == pytest.approx(
            sum(r["adherent_minutes"] for r in agents))

    sup = json.loads(runner.invoke(main, [
        "adherence", "--db", demo_db_url, "--from", "2015-01-01", "--to", "2015-06-30",
        "--as-user", "superviseur.rouen"]).output)
    assert {r["site"] for r in sup} == {"rouen"}
    assert [r for r in sup if r["grain"] == "agent"] == [
        r for r in rows if r["grain"] == "agent" and r["site"] == "rouen"]
    agent = runner.invoke(main, ["adherence", "--db", demo_db_url, "--from", "2015-01-01",
                                 "--to", "2015-06-30", "--as-user", "rouen-a02",
                                 "--format", "csv"])
    assert agent.exit_code == 0, agent.output
    lines = agent.output.strip().splitlines()
    assert lines[0].startswith("grain,site,agent_id,")
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["agent", "rouen", "rouen-a02"], ["site", "rouen", ""]]
    outside = runner.invoke(main, ["adherence", "--db", demo_db_url, "--from", "2015-01-01",
                                   "--to", "2015-06-30", "--as-user", "superviseur.rouen",
                                   "--site", "chartres"])
    assert outside.exit_code == 2
    assert outside.output.strip().splitlines() == [
        "Error: --site 'chartres': outside the scope of --as-user"]


def _plan_rows(rows):
    """(agent, local day, UTC start, UTC end) → schema.schedules-like rows in Europe/Paris."""
    return pl.DataFrame([
        {"source": "demo", "shift_id": f"{a}-{d:%Y%m%d}-x", "agent_id": a, "site": "rouen",
         "start_at": s, "end_at": e, "local_date": d, "activity": "telephone"}
        for a, d, s, e in rows],
        schema={"source": pl.String, "shift_id": pl.String, "agent_id": pl.String,
                "site": pl.String, "start_at": pl.Datetime("us"), "end_at": pl.Datetime("us"),
                "local_date": pl.Date, "activity": pl.String})


def test_the_published_rota_rolls_the_latest_same_weekday_forward():
    from dashboard.demo import rota
    # Thursday 2015-12-24 and Thursday 2015-12-31: the latter is the latest Thursday.
    # 08:30 local in winter (UTC+1) is 07:30 UTC.
    recent = _plan_rows([
        ("a1", dt.date(2015, 12, 24), UTC(2015, 12, 24, 7, 30), UTC(2015, 12, 24, 11, 0)),
        ("a2", dt.date(2015, 12, 31), UTC(2015, 12, 31, 7, 30), UTC(2015, 12, 31, 11, 0)),
        # Tuesday 2015-12-29, the only Tuesday.
        ("a1", dt.date(2015, 12, 29), UTC(2015, 12, 29, 12, 0), UTC(2015, 12, 29, 16, 0)),
    ])
    out = rota.published_rota(recent, dt.date(2015, 12, 31), "Europe/Paris", days=8)
    # Days 01/01 (holiday: empty) … 08/01: Tuesday 05/01 from 29/12, Thursday 07/01 from
    # 31/12 (a2, not a1); Friday 01/01 is a holiday and no other weekday had shifts.
    assert out.select("agent_id", "local_date", "start_at", "end_at").rows() == [
        ("a1", dt.date(2016, 1, 5), UTC(2016, 1, 5, 12, 0), UTC(2016, 1, 5, 16, 0)),
        ("a2", dt.date(2016, 1, 7), UTC(2016, 1, 7, 7, 30), UTC(2016, 1, 7, 11, 0)),
    ]
    assert out["shift_id"].to_list() == ["a1-20160105-1300", "a2-20160107-0830"]
    assert out.columns == recent.columns


def test_the_published_rota_keeps_local_times_across_the_clock_change():
    from dashboard.demo import rota
    # Friday 2015-03-27, 08:30 local = 07:30 UTC (UTC+1). Clocks go forward on Sunday
    # 29/03: Friday 2015-04-03 at 08:30 local is 06:30 UTC (UTC+2).
    recent = _plan_rows([
        ("a1", dt.date(2015, 3, 27), UTC(2015, 3, 27, 7, 30), UTC(2015, 3, 27, 11, 0))])
    out = rota.published_rota(recent, dt.date(2015, 3, 27), "Europe/Paris", days=7)
    assert out.select("local_date", "start_at", "end_at").rows() == [
        (dt.date(2015, 4, 3), UTC(2015, 4, 3, 6, 30), UTC(2015, 4, 3, 10, 0))]


def test_the_demo_publishes_four_weeks_of_rota_after_its_last_day(demo_db_url):
    plan, sessions = _demo_frames(demo_db_url)
    last = sessions["local_date"].max()
    ahead = plan.filter(pl.col("local_date") > last)
    # 2016-01-01 is a public holiday; the 28 days after 31/12/2015 end on 28/01/2016.
    assert ahead["local_date"].min() == dt.date(2016, 1, 4)
    assert ahead["local_date"].max() == dt.date(2016, 1, 28)
    assert dt.date(2016, 1, 1) not in set(ahead["local_date"])
    assert set(ahead["site"]) == {"rouen", "chartres"}
    assert plan["shift_id"].n_unique() == plan.height
