"""The demo's review records (spec/review-data.md): local services, survey answers, the
staff barometer, incidents and training, and the stories they must tell.

The expected facts come from the specification and the pilot's calendar (spec/domain.md,
dashboard/store/pilot.toml), never from the simulation's own code: every figure below is
computed here again from the stored rows, with Polars.
"""

from __future__ import annotations

import datetime as dt

import holidays
import polars as pl
import pytest

from dashboard.demo import simulation as demo
from dashboard.store import database as dbmod
from dashboard.store import schema
from tests.test_demo import frame, local, table_digest
# spec/domain.md: the départements' coverage starts (site, département → start).
COVERAGE = {
    ("rouen", "60"): dt.date(2014, 8, 4),
    ("rouen", "04"): dt.date(2015, 4, 1),
    ("chartres", "28"): dt.date(2015, 3, 1),
    ("chartres", "93"): dt.date(2015, 3, 1),
}
PILOTS = {dept: start for (_, dept), start in COVERAGE.items()}
CHARTRES_OPENS = dt.date(2015, 3, 1)
DECLARATION = (dt.date(2015, 4, 15), dt.date(2015, 6, 9))  # pilot.toml campaign
OPENS, CLOSES = dt.time(8, 30), dt.time(19, 0)
FRENCH_HOLIDAYS = set(holidays.France(years=[2014, 2015]).keys())
REVIEW_TABLES = {
    schema.local_reception: "record_id", schema.surveys: "response_id",
    schema.staff_surveys: "response_id", schema.incidents: "incident_id",
    schema.training: "record_id",
}


def did_relief(reception: pl.DataFrame, dept: str, start: dt.date,
               controls: list[str]) -> tuple[float, int, int]:
    """The spec's relief_rate of DEPT opened on START against CONTROLS, computed here on its
    own: (relief_rate, pre weeks, post weeks). Weeks are Monday–Sunday weeks wholly inside
    the records' span; pre weeks end before START, post weeks begin on or after it."""
    first, last = reception["day"].min(), reception["day"].max()
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    weeks = []
    while monday + dt.timedelta(days=6) <= last:
        weeks.append(monday)
        monday += dt.timedelta(days=7)
    weekly = (reception.with_columns(
        (pl.col("day") - pl.duration(days=pl.col("day").dt.weekday() - 1)).alias("week"))
        .group_by("department", "week").agg(pl.col("received").sum()))
    y = {(d, w): n for d, w, n in weekly.iter_rows()}
    pre = [w for w in weeks if w + dt.timedelta(days=6) < start]
    post = [w for w in weeks if w >= start]

    def index(d: str) -> dict[dt.date, float]:
        base = sum(y.get((d, w), 0) for w in pre) / len(pre)
        return {w: y.get((d, w), 0) / base for w in weeks}

    pilot = index(dept)
    others = [index(c) for c in controls]
    differences = [pilot[w] - sum(o[w] for o in others) / len(others) for w in post]
    return -sum(differences) / len(differences), len(pre), len(post)


# --------------------------------------------------------------------------------------
# The small SQLite demo of the test session (seed 7, scale 0.05)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reception(demo_db_url) -> pl.DataFrame:
    return frame(demo_db_url, schema.local_reception)


@pytest.fixture(scope="module")
def surveys(demo_db_url) -> pl.DataFrame:
    return frame(demo_db_url, schema.surveys)


@pytest.fixture(scope="module")
def contacts(demo_db_url) -> pl.DataFrame:
    return frame(demo_db_url, schema.contacts)


@pytest.fixture(scope="module")
def barometer(demo_db_url) -> pl.DataFrame:
    return frame(demo_db_url, schema.staff_surveys)


def test_every_kind_of_review_record_has_demo_rows(demo_db_url):
    for table in REVIEW_TABLES:
        rows = frame(demo_db_url, table)
        assert rows.height > 0, table.name
        assert set(rows["source"].unique()) == {"demo"}, table.name


def test_local_services_report_for_the_pilots_and_for_controls_no_centre_serves(
        demo_db_url, reception, contacts):
    departments = set(frame(demo_db_url, schema.departments)["code"])
    covered = set(frame(demo_db_url, schema.coverage)["department"])
    controls = departments - covered
    assert len(controls) >= 6
    assert set(reception["department"].unique()) == departments
    assert not set(contacts["department"].unique()) & controls, "no centre serves a control"
    assert set(reception["channel"].unique()) == {"guichet", "telephone", "courriel", "courrier"}
    # One or two services per département, named after it; open days only.
    services = reception.group_by("department").agg(pl.col("service").n_unique())
    assert services["service"].is_between(1, 2).all()
    assert all(s.startswith(f"sip-{d.lower()}") for d, s in
               reception.select("department", "service").unique().iter_rows())
    days = reception["day"].unique()
    assert all(d.isoweekday() <= 5 and d not in FRENCH_HOLIDAYS for d in days)
    # Records start weeks before the first opening (the pre-period) and end with the pilot.
    assert days.min() <= min(COVERAGE.values()) - dt.timedelta(weeks=8)
    assert days.max() == dt.date(2015, 12, 31)
    assert (reception["handled"] <= reception["received"]).all()
    assert (reception["staff_hours"] >= 0).all()
    assert reception.filter(pl.col("handled") > 0)["staff_hours"].mean() > 0
    # Controls have sizes like the pilots': the largest control receives within a factor
    # three of the largest pilot.
    totals = dict(reception.group_by("department").agg(pl.col("received").sum()).iter_rows())
    biggest_pilot = max(totals[d] for d in PILOTS)
    biggest_control = max(totals[d] for d in controls)
    assert biggest_pilot / 3 < biggest_control < biggest_pilot * 3


def test_local_reception_falls_after_each_opening_relative_to_the_controls(
        demo_db_url, reception):
    covered = set(frame(demo_db_url, schema.coverage)["department"])
    controls = sorted(set(reception["department"].unique()) - covered)
    for dept, start in PILOTS.items():
        relief, n_pre, n_post = did_relief(reception, dept, start, controls)
        assert n_pre >= 4 and n_post >= 4, dept
        assert relief > 0.05, (dept, relief)
        # The controls themselves show no such fall: one control against the others.
        placebo, _, _ = did_relief(reception, controls[0], start, controls[1:])
        assert abs(placebo) < relief, (dept, placebo)


def test_phone_falls_faster_than_the_counters(reception):
    """Oise, eight weeks before and the weeks 4–12 after the opening (no campaign relative to
    the controls' same weeks): the phone falls more than the counters."""
    start = PILOTS["60"]

    def ratio(channel: str, dept_filter) -> float:
        part = reception.filter((pl.col("channel") == channel) & dept_filter)
        before = part.filter(pl.col("day").is_between(start - dt.timedelta(weeks=8),
                                                      start - dt.timedelta(days=1)))
        after = part.filter(pl.col("day").is_between(start + dt.timedelta(weeks=4),
                                                     start + dt.timedelta(weeks=12)))
        return (after["received"].sum() / after["day"].n_unique()) / (
            before["received"].sum() / before["day"].n_unique())

    oise = pl.col("department") == "60"
    controls = ~pl.col("department").is_in(list(PILOTS))
    phone = ratio("telephone", oise) / ratio("telephone", controls)
    counter = ratio("guichet", oise) / ratio("guichet", controls)
    assert phone < counter < 1.0


def test_survey_answers_follow_handled_contacts(surveys, contacts):
    joined = surveys.join(contacts, on="contact_id", how="left", suffix="_c")
    assert joined["outcome"].null_count() == 0, "every answer has its contact"
    assert joined["outcome"].is_in(["answered", "replied"]).all(), "handled contacts only"
    for col in ("site", "department", "channel"):
        assert (joined[col] == joined[f"{col}_c"]).all(), col
    assert (joined["answered_at"] > joined["ended_at"]).all()
    assert (joined["answered_at"] <= joined["ended_at"] + dt.timedelta(days=3)).all()
    handled = contacts.filter(pl.col("outcome").is_in(["answered", "replied"])).height
    assert 0.05 < surveys.height / handled < 0.11
    assert surveys["satisfaction"].is_between(1, 5).all()
    assert set(surveys["satisfaction"].unique()) == {1, 2, 3, 4, 5}
    for utc, day in surveys.select("answered_at", "local_date").iter_rows():
        assert local(utc).date() == day
    unresolved = 1 - surveys["resolved"].drop_nulls().mean()
    assert 0.08 < unresolved < 0.25
    assert 0 < surveys["resolved"].null_count() < 0.1 * surveys.height
    comments = surveys["comment"].drop_nulls()
    assert 0 < comments.len() < 0.25 * surveys.height
    assert all(c[0].isupper() and c.endswith(".") for c in comments)


def test_satisfaction_is_lower_in_the_worst_wait_decile(surveys, contacts):
    calls = surveys.filter(pl.col("channel") == "phone").join(
        contacts.select("contact_id", "wait_seconds"), on="contact_id")
    # The tenth of surveyed calls that waited longest (by rank: most calls wait 0 s).
    worst = calls.sort("wait_seconds", "contact_id", descending=[True, False]).head(
        calls.height // 10)
    assert worst.height >= 20 and worst["wait_seconds"].max() > 60
    assert worst["satisfaction"].mean() < surveys["satisfaction"].mean() - 0.15
    # Long waits also leave more requests unresolved.
    assert worst["resolved"].drop_nulls().mean() < calls["resolved"].drop_nulls().mean()
    # E-mails: a reply after the 48 h pledge satisfies less than one within it.
    mails = surveys.filter(pl.col("channel") == "email").join(
        contacts.select("contact_id", "received_at", pl.col("answered_at").alias("replied_at")),
        on="contact_id").with_columns(
        (pl.col("replied_at") - pl.col("received_at") > pl.duration(hours=48)).alias("late"))
    late = mails.filter(pl.col("late"))
    assert late.height >= 5
    assert late["satisfaction"].mean() < mails.filter(~pl.col("late"))["satisfaction"].mean()


def test_new_numbers_are_found_less_easily_right_after_an_opening(surveys):
    early, later = [], []
    for (site, dept), start in COVERAGE.items():
        mine = surveys.filter((pl.col("site") == site) & (pl.col("department") == dept)
                              & pl.col("knew_number").is_not_null())
        early.append(mine.filter(pl.col("local_date").is_between(
            start, start + dt.timedelta(days=27))))
        later.append(mine.filter(pl.col("local_date").is_between(
            start + dt.timedelta(days=84), start + dt.timedelta(days=111))))
    early_share = pl.concat(early)["knew_number"].mean()
    later_share = pl.concat(later)["knew_number"].mean()
    assert pl.concat(early).height >= 20 and pl.concat(later).height >= 20
    assert early_share < later_share - 0.15, (early_share, later_share)


def test_staff_barometer_waves_and_groups(barometer):
    assert set(barometer["wave"].unique()) == {
        dt.date(2014, 11, 17), dt.date(2015, 5, 11), dt.date(2015, 11, 16)}
    centre = barometer.filter(pl.col("population").str.starts_with("centre_"))
    local_ = barometer.filter(pl.col("population").str.starts_with("local_"))
    assert centre["site"].null_count() == 0 and centre["department"].null_count() == centre.height
    assert local_["department"].null_count() == 0 and local_["site"].null_count() == local_.height
    # No Chartres answers before Chartres opened (1 March 2015).
    chartres = centre.filter(pl.col("site") == "chartres")
    assert chartres.height > 0 and chartres["wave"].min() > CHARTRES_OPENS
    for q in ("tools", "training", "workload", "acts_scope", "overall"):
        assert barometer[q].is_between(1, 5).all(), q
    groups = barometer.group_by("wave", "population", "site", "department").len()
    managers = groups.filter(pl.col("population") == "centre_manager")
    assert (managers["len"] < 5).any(), "the small-group rule has something to hide"
    assert set(local_["department"].unique()) >= set(PILOTS)


def test_chartres_workload_is_rated_worse_than_rouen_in_the_campaign_wave(barometer):
    spring = barometer.filter((pl.col("wave") == dt.date(2015, 5, 11))
                              & (pl.col("population") == "centre_agent"))
    means = dict(spring.group_by("site").agg(pl.col("workload").mean()).iter_rows())
    assert means["chartres"] < means["rouen"]


def test_incidents_and_the_campaign_telephony_outage(demo_db_url, contacts):
    incidents = frame(demo_db_url, schema.incidents)
    assert 3 <= incidents.height <= 6
    assert incidents["site"].null_count() >= 1, "one outage hit every site"
    assert set(incidents["severity"].unique()) == {"panne", "degrade"}
    assert (incidents["end_at"] > incidents["start_at"]).all()
    for start, end in incidents.select("start_at", "end_at").iter_rows():
        assert OPENS <= local(start).time() and local(end).time() <= CLOSES
        assert local(start).date() == local(end).date()
    phone_outages = incidents.filter((pl.col("component") == "telephonie")
                                     & (pl.col("severity") == "panne"))
    in_campaign = phone_outages.filter(pl.col("local_date").is_between(*DECLARATION))
    assert in_campaign.height == 1
    outage = in_campaign.row(0, named=True)
    assert dt.timedelta(hours=1) <= outage["end_at"] - outage["start_at"] <= dt.timedelta(hours=2)
    at_site = pl.col("site") == outage["site"] if outage["site"] else pl.lit(True)
    calls = contacts.filter(
        (pl.col("channel") == "phone") & at_site
        & (pl.col("received_at") >= outage["start_at"])
        & (pl.col("received_at") < outage["end_at"]))
    assert calls.height > 5
    assert set(calls["outcome"].unique()) == {"deflected"}
    assert calls["agent_id"].null_count() == calls.height
    # The same hours a week earlier were served as usual.
    week = pl.duration(days=7)
    before = contacts.filter(
        (pl.col("channel") == "phone") & at_site
        & (pl.col("received_at") >= outage["start_at"] - week)
        & (pl.col("received_at") < outage["end_at"] - week))
    assert (before["outcome"] == "answered").any()


def test_most_agents_were_trained_before_their_first_session(demo_db_url):
    training = frame(demo_db_url, schema.training)
    sessions = frame(demo_db_url, schema.agent_sessions)
    agents = frame(demo_db_url, schema.agents)
    assert set(training["agent_id"].unique()) == set(agents["agent_id"])
    assert training["hours"].is_between(3, 7).all()
    assert set(training["module"].unique()) >= {
        "accueil_telephonique", "applications_metier", "actes_a_distance"}
    first = sessions.group_by("agent_id").agg(pl.col("local_date").min().alias("first"))
    trained = (first.join(training, on="agent_id", how="left")
               .group_by("agent_id")
               .agg((pl.col("day") < pl.col("first")).any().alias("before")))
    share = trained["before"].mean()
    assert 0.80 <= share <= 0.99, share
    # The initial team was trained before its site opened.
    opening = {"rouen": min(COVERAGE[("rouen", "60")], COVERAGE[("rouen", "04")]),
               "chartres": CHARTRES_OPENS}
    for site, opens in opening.items():
        firsts = first.join(agents, on="agent_id").filter(
            (pl.col("site") == site) & (pl.col("first") <= opens + dt.timedelta(days=7)))
        early = trained.filter(pl.col("agent_id").is_in(firsts["agent_id"].implode()))
        assert early.height > 0 and early["before"].mean() >= 0.5, site
        days = training.filter(pl.col("agent_id").is_in(firsts["agent_id"].implode())
                               & pl.col("module").is_in(["accueil_telephonique"]))
        assert (days["day"] < opens).mean() >= 0.5, site


# --------------------------------------------------------------------------------------
# Determinism, replacement, PostgreSQL
# --------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_review_records(tmp_path, demo_db_url):
    from tests.conftest import DEMO_TEST_SCALE, DEMO_TEST_SEED

    url = f"sqlite:///{tmp_path / 'again.sqlite'}"
    try:
        demo.build_demo(url, seed=DEMO_TEST_SEED, scale=DEMO_TEST_SCALE)
        for table, key in REVIEW_TABLES.items():
            assert (table_digest(url, table, key)
                    == table_digest(demo_db_url, table, key)), table.name
    finally:
        dbmod.get_engine(url).dispose()


def test_postgresql_stores_the_same_review_records_and_replace_rebuilds_them(pg_url, tmp_path):
    lite = f"sqlite:///{tmp_path / 'lite.sqlite'}"
    try:
        demo.build_demo(pg_url, seed=11, scale=0.02)
        demo.build_demo(lite, seed=11, scale=0.02)
        expected = {t.name: table_digest(lite, t, key) for t, key in REVIEW_TABLES.items()}
        assert {t.name: table_digest(pg_url, t, key)
                for t, key in REVIEW_TABLES.items()} == expected
        # Replacing deletes the earlier demo rows of every review table, duplicating none.
        demo.build_demo(pg_url, seed=11, scale=0.02, replace=True)
        assert {t.name: table_digest(pg_url, t, key)
                for t, key in REVIEW_TABLES.items()} == expected
        other = f"sqlite:///{tmp_path / 'other.sqlite'}"
        demo.build_demo(other, seed=12, scale=0.02)
        assert table_digest(other, schema.surveys, "response_id") != expected["surveys"]
        dbmod.get_engine(other).dispose()
    finally:
        dbmod.get_engine(lite).dispose()
