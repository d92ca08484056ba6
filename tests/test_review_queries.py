"""queries.review_records on SQLite and PostgreSQL: rows inserted by hand, then what each
role reads. Reference data: the pilot's (Rouen covers 60 from 2014-08-04 and 04 from
2015-04-01; Chartres covers 28 and 93 from 2015-03-01); "12" and "15" are covered by
nobody, and "15" gets a coverage by Chartres in March 2015 in one test."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import insert

from dashboard.core.access import ALL_ROWS, Scope
from dashboard.core.filters import Filters
from dashboard.store import database as dbmod
from dashboard.store import schema
from queries import review_records as rr
from queries._common import MissingScope

D = dt.date
T = dt.datetime
NATIONAL = Scope("national")
ROUEN = Scope("supervisor", site="rouen")
CHARTRES = Scope("supervisor", site="chartres")
AGENT_R1 = Scope("agent", site="rouen", agent_id="r1")
APRIL = (D(2015, 4, 1), D(2015, 4, 30))


def _insert(url: str, table, rows: list[dict]) -> None:
    with dbmod.get_engine(url).begin() as conn:
        conn.execute(insert(table), [{"source": "test", **r} for r in rows])


def _read(url: str, query, scope, start=APRIL[0], end=APRIL[1], **kw):
    filters = Filters(start, end, scope=scope, **{k: v for k, v in kw.items()
                                                  if k in ("sites", "departments", "agents")})
    extra = {k: v for k, v in kw.items() if k not in ("sites", "departments", "agents")}
    with dbmod.get_engine(url).connect() as conn:
        return query(conn, filters, **extra)


# ------------------------------------------------------------------ local reception


def _reception(url: str) -> None:
    rows = []
    for n, (dept, day, channel, received) in enumerate([
            ("60", D(2015, 4, 1), "guichet", 30), ("60", D(2015, 4, 1), "telephone", 12),
            ("60", D(2015, 4, 2), "guichet", 25),
            ("04", D(2015, 4, 1), "guichet", 7),
            ("28", D(2015, 4, 1), "guichet", 40),
            ("12", D(2015, 4, 1), "guichet", 9), ("12", D(2015, 4, 1), "courriel", 3),
            ("15", D(2015, 4, 2), "guichet", 5),
            ("60", D(2015, 5, 1), "guichet", 99)]):  # outside April
        rows.append({"record_id": f"lr{n}", "department": dept, "service": f"SIP-{dept}",
                     "day": day, "channel": channel, "received": received,
                     "handled": received - 1, "staff_hours": 1.5})
    _insert(url, schema.local_reception, rows)


def test_local_reception_daily_sums_per_departement_and_day(db_url):
    _reception(db_url)
    out = _read(db_url, rr.local_reception_daily, ALL_ROWS)
    assert out.select("department", "day", "received").rows() == [
        ("04", D(2015, 4, 1), 7), ("12", D(2015, 4, 1), 12), ("15", D(2015, 4, 2), 5),
        ("28", D(2015, 4, 1), 40), ("60", D(2015, 4, 1), 42), ("60", D(2015, 4, 2), 25)]
    sixty = out.filter(pl.col("department") == "60").row(0, named=True)
    assert (sixty["handled"], sixty["staff_hours"]) == (40, pytest.approx(3.0))
    by_channel = _read(db_url, rr.local_reception_daily, ALL_ROWS, by_channel=True,
                       channels=("guichet",), departments=("60", "12"))
    assert by_channel.select("department", "day", "channel", "received").rows() == [
        ("12", D(2015, 4, 1), "guichet", 9), ("60", D(2015, 4, 1), "guichet", 30),
        ("60", D(2015, 4, 2), "guichet", 25)]


def test_local_reception_by_role(db_url):
    _reception(db_url)

    def departments(scope, **kw):
        return sorted(set(_read(db_url, rr.local_reception_daily, scope, **kw)["department"]))

    assert departments(NATIONAL) == ["04", "12", "15", "28", "60"]
    # Rouen: its départements (04 is covered from 01/04, but also before: any time) and
    # the controls 12 and 15; not Chartres's 28.
    assert departments(ROUEN) == ["04", "12", "15", "60"]
    assert departments(ROUEN, start=D(2015, 1, 1), end=D(2015, 1, 31)) == []  # no record
    assert departments(CHARTRES) == ["12", "15", "28"]
    assert departments(AGENT_R1) == []
    # 15 served by Chartres from 20/04: no control of April any more, so Rouen loses it,
    # but keeps it in a period before that coverage.
    with dbmod.get_engine(db_url).begin() as conn:
        conn.execute(insert(schema.coverage), [{"site": "chartres", "department": "15",
                                                "start_date": D(2015, 4, 20)}])
    assert departments(ROUEN) == ["04", "12", "60"]
    assert departments(ROUEN, start=D(2015, 4, 1), end=D(2015, 4, 19)) == ["04", "12", "15",
                                                                           "60"]
    assert departments(CHARTRES) == ["12", "15", "28"]


def test_a_filters_without_scope_is_refused(db_url):
    with dbmod.get_engine(db_url).connect() as conn:
        for query in (rr.local_reception_daily, rr.incident_rows, rr.training_rows,
                      rr.agent_first_sessions, rr.staff_survey_rows, rr.survey_rows):
            with pytest.raises(MissingScope):
                query(conn, Filters(*APRIL))


# ------------------------------------------------------------------------ incidents


def _incidents(url: str) -> None:
    rows = [
        ("i1", "telephonie", "rouen", T(2015, 4, 2, 8), T(2015, 4, 2, 9), "panne"),
        ("i2", "messagerie", None, T(2015, 4, 3, 8), T(2015, 4, 3, 9), "degrade"),
        ("i3", "telephonie", "chartres", T(2015, 4, 7, 8), T(2015, 4, 7, 9), "panne"),
        # From 31/03 22:30 UTC (00:30 local, 01/04): overlaps the period.
        ("i4", "applications", "rouen", T(2015, 3, 31, 22, 30), T(2015, 3, 31, 23), "panne"),
        ("i5", "telephonie", None, T(2015, 3, 10, 8), T(2015, 3, 10, 9), "panne"),  # March
    ]
    _insert(url, schema.incidents, [
        {"incident_id": i, "component": c, "site": s, "start_at": a, "end_at": b,
         "local_date": a.date(), "severity": sev, "description": f"incident {i}"}
        for i, c, s, a, b, sev in rows])


def test_incident_rows_by_role(db_url):
    _incidents(db_url)

    def ids(scope, **kw):
        return _read(db_url, rr.incident_rows, scope, **kw)["incident_id"].to_list()

    everything = _read(db_url, rr.incident_rows, NATIONAL)
    assert everything["incident_id"].to_list() == ["i4", "i1", "i2", "i3"]
    assert everything.row(1, named=True) == {
        "incident_id": "i1", "component": "telephonie", "site": "rouen",
        "start_at": T(2015, 4, 2, 8), "end_at": T(2015, 4, 2, 9), "severity": "panne",
        "description": "incident i1"}
    assert ids(ROUEN) == ["i4", "i1", "i2"]  # its own and the all-site one
    assert ids(CHARTRES) == ["i2", "i3"]
    assert ids(NATIONAL, sites=("chartres",)) == ["i2", "i3"]
    assert ids(ROUEN, sites=("chartres",)) == ["i2"]  # a filter never widens the scope
    assert ids(AGENT_R1) == []
    assert ids(NATIONAL, start=D(2015, 3, 10), end=D(2015, 3, 10)) == ["i5"]


# ------------------------------------------------------------- training and sessions


def _people(url: str) -> None:
    _insert(url, schema.agents, [{"agent_id": "r1", "site": "rouen"},
                                 {"agent_id": "c1", "site": "chartres"}])
    sessions = [("r1", "rouen", T(2015, 3, 2, 7)), ("r1", "rouen", T(2015, 4, 7, 7)),
                ("r2", "rouen", T(2015, 4, 8, 7)),  # r2: sessions, no agents row
                ("r3", "rouen", T(2015, 2, 2, 8)),  # r3: none in April
                ("c1", "chartres", T(2015, 4, 9, 7))]
    _insert(url, schema.agent_sessions, [
        {"agent_id": a, "site": s, "start_at": t, "end_at": t + dt.timedelta(hours=4),
         "local_date": t.date()} for a, s, t in sessions])
    training = [("t1", "r1", D(2015, 2, 20)), ("t2", "r2", D(2015, 4, 8)),
                ("t3", "c1", D(2015, 3, 1)), ("t4", "x9", D(2015, 1, 5)),
                ("t5", "r1", D(2015, 5, 4))]  # after the period
    _insert(url, schema.training, [{"record_id": i, "agent_id": a, "day": d, "hours": 3.5,
                                    "module": "accueil"} for i, a, d in training])


def test_training_rows_by_role(db_url):
    _people(db_url)

    def records(scope, **kw):
        out = _read(db_url, rr.training_rows, scope, **kw)
        return list(zip(out["agent_id"], out["day"]))

    assert records(NATIONAL) == [("c1", D(2015, 3, 1)), ("r1", D(2015, 2, 20)),
                                 ("r2", D(2015, 4, 8)), ("x9", D(2015, 1, 5))]
    # Rouen: r1 (agents table) and r2 (a session at Rouen); not c1 nor x9.
    assert records(ROUEN) == [("r1", D(2015, 2, 20)), ("r2", D(2015, 4, 8))]
    assert records(CHARTRES) == [("c1", D(2015, 3, 1))]
    assert records(AGENT_R1) == [("r1", D(2015, 2, 20))]
    assert records(NATIONAL, agents=("r2",)) == [("r2", D(2015, 4, 8))]
    row = _read(db_url, rr.training_rows, AGENT_R1).row(0, named=True)
    assert (row["hours"], row["module"]) == (3.5, "accueil")


def test_agent_first_sessions_by_role(db_url):
    _people(db_url)

    def firsts(scope, **kw):
        return _read(db_url, rr.agent_first_sessions, scope, **kw).rows()

    # r1's first session is 02/03, before April; r3 had none in April.
    assert firsts(NATIONAL) == [("chartres", "c1", D(2015, 4, 9)),
                                ("rouen", "r1", D(2015, 3, 2)), ("rouen", "r2", D(2015, 4, 8))]
    assert firsts(ROUEN) == [("rouen", "r1", D(2015, 3, 2)), ("rouen", "r2", D(2015, 4, 8))]
    assert firsts(AGENT_R1) == [("rouen", "r1", D(2015, 3, 2))]
    assert firsts(NATIONAL, start=D(2015, 2, 1), end=D(2015, 2, 28)) == [
        ("rouen", "r3", D(2015, 2, 2))]


# ------------------------------------------------------------------------- surveys


def _staff(url: str) -> None:
    rows = [("s1", "centre_agent", "rouen", None), ("s2", "centre_manager", "rouen", None),
            ("s3", "centre_agent", "chartres", None), ("s4", "local_agent", None, "60"),
            ("s5", "local_agent", None, "04"), ("s6", "local_manager", None, "28"),
            ("s7", "local_agent", None, "12")]
    _insert(url, schema.staff_surveys, [
        {"response_id": i, "wave": D(2015, 4, 15), "population": p, "site": s,
         "department": d, "tools": 4, "training": 3, "workload": None, "acts_scope": 5,
         "overall": 4} for i, p, s, d in rows])


def test_staff_survey_rows_by_role(db_url):
    _staff(db_url)

    def places(scope, **kw):
        out = _read(db_url, rr.staff_survey_rows, scope, **kw)
        return sorted(zip(out["population"], out["site"].fill_null("-"),
                          out["department"].fill_null("-")))

    assert len(places(NATIONAL)) == 7
    assert places(ROUEN) == [("centre_agent", "rouen", "-"), ("centre_manager", "rouen", "-"),
                             ("local_agent", "-", "04"), ("local_agent", "-", "60")]
    assert places(CHARTRES) == [("centre_agent", "chartres", "-"),
                                ("local_manager", "-", "28")]
    assert places(AGENT_R1) == []
    assert places(NATIONAL, departments=("12",)) == [("local_agent", "-", "12")]
    assert places(NATIONAL, start=D(2015, 5, 1), end=D(2015, 5, 31)) == []
    row = _read(db_url, rr.staff_survey_rows, NATIONAL, sites=("chartres",)).row(0, named=True)
    assert row == {"wave": D(2015, 4, 15), "population": "centre_agent", "site": "chartres",
                   "department": None, "tools": 4, "training": 3, "workload": None,
                   "acts_scope": 5, "overall": 4}


def test_survey_rows_by_role_and_the_comment_rule(db_url):
    rows = [("u1", "rouen", "60", "phone", 5, True, "merci"),
            ("u2", "rouen", "04", "email", 2, None, None),
            ("u3", "chartres", "28", "phone", 4, False, "trop long")]
    _insert(db_url, schema.surveys, [
        {"response_id": i, "answered_at": T(2015, 4, 2, 10), "local_date": D(2015, 4, 2),
         "site": s, "department": d, "channel": c, "satisfaction": sat, "resolved": res,
         "knew_number": True, "contact_id": f"c-{i}", "comment": com}
        for i, s, d, c, sat, res, com in rows])
    national = _read(db_url, rr.survey_rows, NATIONAL)
    assert national.select("site", "satisfaction", "resolved", "comment").rows() == [
        ("chartres", 4, False, "trop long"), ("rouen", 5, True, "merci"),
        ("rouen", 2, None, None)]
    assert "contact_id" not in national.columns
    rouen = _read(db_url, rr.survey_rows, ROUEN)
    assert rouen.select("department", "comment").rows() == [("60", None), ("04", None)]
    assert _read(db_url, rr.survey_rows, AGENT_R1).height == 0
    assert _read(db_url, rr.survey_rows, NATIONAL, departments=("04",)).height == 1
