"""The pilot simulation (dashboard/demo.py) on real databases.

The expected facts come from the specification (spec/domain.md, spec/metrics.md and the
pilot's calendar), never from the simulation's own output: coverage dates, time-zone
rules, outcome rules, the shape of the load (campaigns, weekdays, closed days) and the
under-calibration of the teams at campaign peaks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import polars as pl
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dashboard.cli.main import main
from dashboard.demo import simulation as demo
from dashboard.store import database as dbmod
from dashboard.store import reference, schema

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.timezone.utc
# spec/domain.md: who serves which département from when (everything ends 31/12/2015).
COVERAGE = {
    ("rouen", "60"): dt.date(2014, 8, 4),
    ("rouen", "04"): dt.date(2015, 4, 1),
    ("chartres", "28"): dt.date(2015, 3, 1),
    ("chartres", "93"): dt.date(2015, 3, 1),
}
END = dt.date(2015, 12, 31)
FRENCH_HOLIDAYS = set(holidays.France(years=[2014, 2015]).keys())
OPENS, CLOSES = dt.time(8, 30), dt.time(19, 0)  # pilot.toml, both sites, Monday–Friday


def frame(url: str, table) -> pl.DataFrame:
    """All rows of TABLE, with the column types SQLAlchemy declares (dates, datetimes)."""
    with dbmod.get_engine(url).connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    return pl.DataFrame([dict(r) for r in rows], infer_schema_length=None)


def local(utc: dt.datetime) -> dt.datetime:
    """Naive UTC → naive Paris wall clock, independently of dashboard.localtime."""
    return utc.replace(tzinfo=UTC).astimezone(PARIS).replace(tzinfo=None)


def table_digest(url: str, table, key: str) -> str:
    """Hash of a table's rows (without the surrogate id), sorted by KEY."""
    rows = frame(url, table).drop("id").sort(key)
    return hashlib.sha256(rows.write_csv().encode()).hexdigest()


def answer_rate(calls: pl.DataFrame) -> float:
    """spec/metrics.md: answered / (received − short abandons), short = wait < 5 s."""
    answered = calls.filter(pl.col("outcome") == "answered").height
    short = calls.filter((pl.col("outcome") == "abandoned") & (pl.col("wait_seconds") < 5)).height
    return answered / (calls.height - short)


def weekdays_between(calls: pl.DataFrame, first: dt.date, last: dt.date) -> pl.DataFrame:
    return calls.filter(pl.col("local_date").is_between(first, last)
                        & (pl.col("local_date").dt.weekday() <= 5))


def daily_mean(calls: pl.DataFrame, first: dt.date, last: dt.date) -> float:
    """Mean phone contacts per open weekday between FIRST and LAST."""
    part = weekdays_between(calls, first, last)
    return part.height / part["local_date"].n_unique()


# --------------------------------------------------------------------------------------
# Invariants, checked on every database kind
# --------------------------------------------------------------------------------------


def check_coverage(url: str) -> None:
    for table in (schema.contacts, schema.acts):
        rows = frame(url, table)
        assert rows.height > 0
        assert set(rows["source"].unique()) == {"demo"}
        for (site, dept), start in COVERAGE.items():
            part = rows.filter((pl.col("site") == site) & (pl.col("department") == dept))
            assert part.height > 0, (table.name, site, dept)
            assert part["local_date"].min() >= start, (table.name, site, dept)
            assert part["local_date"].max() <= END, (table.name, site, dept)
        pairs = set(rows.select("site", "department").unique().iter_rows())
        assert pairs == set(COVERAGE), table.name


def check_local_columns(url: str) -> None:
    for table, col in ((schema.contacts, "received_at"), (schema.acts, "performed_at")):
        rows = frame(url, table)
        for utc, day, slot in rows.select(col, "local_date", "local_slot").iter_rows():
            wall = local(utc)
            assert (wall.date(), wall.hour * 2 + wall.minute // 30) == (day, slot), (table, utc)
    for utc, day in frame(url, schema.agent_sessions).select("start_at", "local_date").iter_rows():
        assert local(utc).date() == day


def check_outcomes(url: str) -> None:
    contacts = frame(url, schema.contacts)
    phone = contacts.filter(pl.col("channel") == "phone")
    email = contacts.filter(pl.col("channel") == "email")
    assert set(phone["outcome"].unique()) == {"answered", "abandoned", "deflected", "ivr"}
    assert set(email["outcome"].unique()) <= {"replied", "pending", "closed"}
    for row in phone.iter_rows(named=True):
        wait = dt.timedelta(seconds=row["wait_seconds"])
        if row["outcome"] == "answered":
            assert row["answered_at"] == row["received_at"] + wait
            assert row["ended_at"] >= row["answered_at"]
            assert row["ended_at"] == row["answered_at"] + dt.timedelta(seconds=row["talk_seconds"])
            assert row["talk_seconds"] > 0
        elif row["outcome"] == "abandoned":
            assert row["answered_at"] is None and row["agent_id"] is None
            assert row["talk_seconds"] == 0
            assert row["ended_at"] == row["received_at"] + wait
        else:
            assert row["agent_id"] is None and row["answered_at"] is None
            assert row["wait_seconds"] == 0 and row["talk_seconds"] == 0
            assert row["ended_at"] == row["received_at"]
    assert email["wait_seconds"].null_count() == email.height
    for row in email.iter_rows(named=True):
        if row["outcome"] == "replied":
            assert row["answered_at"] >= row["received_at"]
            assert row["ended_at"] >= row["answered_at"]
            assert row["agent_id"] is not None
        elif row["outcome"] == "closed":
            assert row["answered_at"] is None and row["ended_at"] >= row["received_at"]
        else:
            assert row["answered_at"] is None and row["ended_at"] is None
    # Real exports have a few answered calls without an agent; not many.
    answered = phone.filter(pl.col("outcome") == "answered")
    assert 0 < answered["agent_id"].null_count() < 0.05 * answered.height
    # Short abandons exist (under 5 s), but are a minority of abandons.
    abandoned = phone.filter(pl.col("outcome") == "abandoned")
    short = abandoned.filter(pl.col("wait_seconds") < 5).height
    assert 0 < short < 0.4 * abandoned.height
    # contact_id like P-rouen-00001234 / E-chartres-00000012, unique.
    pattern = re.compile(r"^[PEV]-(rouen|chartres)-\d{8}$")  # V: ended in the voice server
    assert all(pattern.match(c) for c in contacts["contact_id"])
    assert contacts["contact_id"].n_unique() == contacts.height
    assert all(row[0][0] == ("V" if row[2] == "ivr" else {"phone": "P", "email": "E"}[row[1]])
               for row in contacts.select("contact_id", "channel", "outcome").iter_rows())


def check_acts(url: str) -> None:
    contacts = frame(url, schema.contacts)
    acts = frame(url, schema.acts)
    joined = acts.join(contacts, on="contact_id", how="left", suffix="_c")
    assert joined["channel"].null_count() == 0, "every act has its contact"
    assert (joined["outcome"].is_in(["answered", "replied"])).all(), "handled contacts only"
    assert (joined["site"] == joined["site_c"]).all()
    assert (joined["department"] == joined["department_c"]).all()
    assert (joined["agent_id"] == joined["agent_id_c"]).all()
    phone = joined.filter(pl.col("channel") == "phone")
    assert (phone["performed_at"] >= phone["answered_at"]).all()
    late = phone.filter(
        pl.col("performed_at") > pl.col("ended_at") + pl.duration(seconds=pl.col("wrap_seconds"))
    )
    assert late.height == 0, "during the call's wrap-up"
    assert (phone["local_date"] == phone["local_date_c"]).all(), "the same local day"
    email = joined.filter(pl.col("channel") == "email")
    assert (email["performed_at"] >= email["received_at"]).all()
    assert (email["performed_at"] <= email["answered_at"]).all(), "while writing the reply"
    handled = contacts.filter(pl.col("outcome").is_in(["answered", "replied"])).height
    assert 20 <= 100 * acts.height / handled <= 45
    assert set(acts["act_type"].unique()) <= {
        "delai_paiement", "changement_adresse", "rectification_declaration",
        "remise_gracieuse", "duplicata_avis", "adhesion_prelevement",
        "creation_espace_particulier", "attestation",
    }


def check_sessions_cover_answers(url: str) -> None:
    sessions = frame(url, schema.agent_sessions)
    answered = frame(url, schema.contacts).filter(
        (pl.col("channel") == "phone") & (pl.col("outcome") == "answered")
        & pl.col("agent_id").is_not_null()
    )
    by_agent: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for agent, start, end in sessions.select("agent_id", "start_at", "end_at").iter_rows():
        by_agent.setdefault(agent, []).append((start, end))
    for agent, at in answered.select("agent_id", "answered_at").iter_rows():
        assert any(s <= at <= e for s, e in by_agent.get(agent, ())), (agent, at)
    # An agent's sessions never overlap.
    for periods in by_agent.values():
        periods.sort()
        assert all(a[1] <= b[0] for a, b in zip(periods, periods[1:]))
    # Sessions lie within opening hours, on open days.
    for start, end in sessions.select("start_at", "end_at").iter_rows():
        ls, le = local(start), local(end)
        assert ls.date() == le.date() and OPENS <= ls.time() and le.time() <= CLOSES
        assert ls.isoweekday() <= 5 and ls.date() not in FRENCH_HOLIDAYS


# --------------------------------------------------------------------------------------
# The small SQLite demo of the test session (seed 7, scale 0.05)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def contacts(demo_db_url) -> pl.DataFrame:
    return frame(demo_db_url, schema.contacts)


@pytest.fixture(scope="module")
def phone(contacts) -> pl.DataFrame:
    return contacts.filter(pl.col("channel") == "phone")


def test_small_demo_has_a_few_thousand_contacts_on_both_channels(contacts):
    assert 3_000 <= contacts.height <= 60_000
    share = contacts.filter(pl.col("channel") == "phone").height / contacts.height
    assert 0.7 <= share <= 0.9
    assert set(contacts["queue"].unique()) >= {"particuliers", "recouvrement", "foncier"}
    assert contacts.group_by("queue").len().sort("len")["queue"][-1] == "particuliers"


def test_contacts_and_acts_stay_within_coverage_dates(demo_db_url):
    check_coverage(demo_db_url)


def test_local_date_and_slot_are_the_paris_time_of_the_utc_timestamp(demo_db_url):
    check_local_columns(demo_db_url)


def test_outcomes_agree_with_timestamps_and_durations(demo_db_url):
    check_outcomes(demo_db_url)


def test_acts_follow_handled_contacts_of_the_same_site_department_and_agent(demo_db_url):
    check_acts(demo_db_url)


def test_answering_agents_were_logged_in(demo_db_url):
    check_sessions_cover_answers(demo_db_url)


def test_nothing_but_deflections_on_sundays_and_public_holidays(contacts):
    closed = contacts.filter(
        (pl.col("local_date").dt.weekday() == 7)
        | pl.col("local_date").is_in(sorted(FRENCH_HOLIDAYS))
    )
    assert closed.height > 0, "a handful of people call anyway"
    assert set(closed["outcome"].unique()) == {"deflected"}
    # The three DST Sundays of the period are closed too: nothing but deflections.
    for day in (dt.date(2014, 10, 26), dt.date(2015, 3, 29), dt.date(2015, 10, 25)):
        assert set(closed.filter(pl.col("local_date") == day)["outcome"].unique()) <= {"deflected"}


def test_calls_outside_opening_hours_are_deflected(phone):
    for utc, outcome in phone.select("received_at", "outcome").iter_rows():
        wall = local(utc)
        if not OPENS <= wall.time() < CLOSES:
            assert outcome == "deflected", wall
    outside = sum(1 for utc in phone["received_at"] if not OPENS <= local(utc).time() < CLOSES)
    assert 0 < outside < 0.05 * phone.height, "a handful, not many"


def test_email_replies_are_sent_during_opening_hours(contacts):
    replied = contacts.filter(pl.col("outcome") == "replied")
    for utc in replied["answered_at"]:
        wall = local(utc)
        assert OPENS <= wall.time() <= CLOSES and wall.isoweekday() <= 5, wall
        assert wall.date() not in FRENCH_HOLIDAYS


def test_pending_emails_are_only_the_last_days_ones(contacts):
    pending = contacts.filter(pl.col("outcome") == "pending")
    assert pending.height < 0.02 * contacts.filter(pl.col("channel") == "email").height
    if pending.height:
        assert pending["local_date"].min() >= dt.date(2015, 12, 1)


def test_campaigns_are_busier_than_the_off_season(phone):
    oise = phone.filter(pl.col("department") == "60")
    chartres = phone.filter(pl.col("site") == "chartres")
    rouen = phone.filter(pl.col("site") == "rouen")
    declaration = (dt.date(2015, 4, 15), dt.date(2015, 6, 9))
    # Declaration campaign against February–March (Oise) and late June–July (Chartres).
    assert daily_mean(oise, *declaration) > 1.4 * daily_mean(
        oise, dt.date(2015, 2, 1), dt.date(2015, 3, 31))
    assert daily_mean(chartres, *declaration) > 1.4 * daily_mean(
        chartres, dt.date(2015, 6, 22), dt.date(2015, 7, 31))
    # Notices campaign (income-tax notices, late August to mid-September) against July and
    # December.
    notices = daily_mean(rouen, dt.date(2015, 8, 24), dt.date(2015, 9, 18))
    assert notices > 1.4 * daily_mean(rouen, dt.date(2015, 7, 1), dt.date(2015, 7, 31))
    assert notices > 1.4 * daily_mean(rouen, dt.date(2015, 12, 1), dt.date(2015, 12, 18))


def test_arrivals_follow_population(phone):
    # Seine-Saint-Denis (1.57 M) calls more than Eure-et-Loir (0.43 M), Oise (0.82 M) more
    # than Alpes-de-Haute-Provence (0.16 M), over the same days.
    both = weekdays_between(phone, dt.date(2015, 4, 1), END)
    counts = dict(both.group_by("department").len().iter_rows())
    assert counts["93"] > 2.5 * counts["28"]
    assert counts["60"] > 3 * counts["04"]


def test_monday_is_the_busiest_weekday_and_friday_the_quietest(phone):
    open_days = phone.filter(pl.col("local_date").dt.weekday() <= 5)
    per_day = open_days.group_by("local_date").len()
    by_weekday = (per_day.group_by(pl.col("local_date").dt.weekday().alias("wd"))
                  .agg(pl.col("len").mean()).sort("wd"))
    means = dict(by_weekday.iter_rows())
    assert max(means, key=means.get) == 1
    assert min(means, key=means.get) == 5


def test_intraday_profile_peaks_in_the_morning(phone):
    open_hours = phone.filter(pl.col("outcome") != "deflected")
    by_slot = dict(open_hours.group_by("local_slot").len().iter_rows())
    morning = sum(by_slot.get(s, 0) for s in range(19, 23))  # 09:30–11:30
    early_afternoon = sum(by_slot.get(s, 0) for s in range(27, 31))  # 13:30–15:30
    evening = sum(by_slot.get(s, 0) for s in range(34, 38))  # 17:00–19:00
    assert morning > early_afternoon > evening


def test_answer_rate_drops_at_campaign_peaks(phone):
    peak = (dt.date(2015, 5, 11), dt.date(2015, 6, 9))  # the weeks before the deadlines
    rouen = phone.filter(pl.col("site") == "rouen")
    chartres = phone.filter(pl.col("site") == "chartres")
    rouen_off = answer_rate(weekdays_between(rouen, dt.date(2015, 2, 1), dt.date(2015, 3, 31)))
    chartres_off = answer_rate(weekdays_between(chartres, dt.date(2015, 10, 19),
                                                dt.date(2015, 12, 18)))
    assert answer_rate(weekdays_between(rouen, *peak)) < rouen_off - 0.03
    assert answer_rate(weekdays_between(chartres, *peak)) < chartres_off - 0.02
    assert rouen_off > 0.8 and chartres_off > 0.75


def test_online_promotion_rises_over_the_pilot(contacts):
    handled = contacts.filter(pl.col("outcome").is_in(["answered", "replied"]))
    assert handled["online_service_promoted"].null_count() == 0
    first = handled.filter(pl.col("local_date") < dt.date(2014, 12, 1))
    last = handled.filter(pl.col("local_date") >= dt.date(2015, 10, 1))
    assert first["online_service_promoted"].mean() < last["online_service_promoted"].mean()


def test_callers_come_back_more_after_an_abandon(contacts):
    keyed = contacts.filter(pl.col("caller_key").is_not_null())
    assert keyed.height > 0.8 * contacts.height
    assert keyed["caller_key"].str.len_chars().max() <= 64
    again = keyed.sort("caller_key", "received_at").with_columns(
        ((pl.col("received_at").shift(-1).over("caller_key") - pl.col("received_at"))
         <= pl.duration(days=7)).fill_null(False).alias("again")
    )
    handled = again.filter(pl.col("outcome").is_in(["answered", "replied"]))["again"].mean()
    abandoned = again.filter(pl.col("outcome") == "abandoned")["again"].mean()
    assert 0.05 <= handled <= 0.25
    assert abandoned > handled


def test_users_have_the_expected_logins(demo_db_url):
    users = {row["login"]: row for row in frame(demo_db_url, schema.users).iter_rows(named=True)}
    agents = frame(demo_db_url, schema.agents)
    assert users["admin"]["role"] == "admin"
    assert users["directeur"]["role"] == "national" and users["directeur"]["site"] is None
    for site in ("rouen", "chartres"):
        sup = users[f"superviseur.{site}"]
        assert (sup["role"], sup["site"]) == ("supervisor", site)
    assert set(users) == {"admin", "directeur", "superviseur.rouen", "superviseur.chartres"} | set(
        agents["agent_id"])
    for agent_id, site, name in agents.select("agent_id", "site", "display_name").iter_rows():
        assert re.fullmatch(rf"{site}-a\d{{2,}}", agent_id)
        user = users[agent_id]
        assert (user["role"], user["site"], user["agent_id"]) == ("agent", site, agent_id)
        assert name and " " in name
    assert set(agents["source"].unique()) == {"demo"}


def test_the_database_is_marked_as_the_demo_with_its_seed(demo_db_url):
    from tests.conftest import DEMO_TEST_SEED

    meta = dict(frame(demo_db_url, schema.app_meta).iter_rows())
    assert meta["demo"] == str(DEMO_TEST_SEED)


def test_every_handling_agent_is_a_known_agent_of_the_site(demo_db_url, contacts):
    agents = dict(frame(demo_db_url, schema.agents).select("agent_id", "site").iter_rows())
    for agent, site in contacts.filter(pl.col("agent_id").is_not_null()).select(
            "agent_id", "site").iter_rows():
        assert agents[agent] == site


# --------------------------------------------------------------------------------------
# Determinism, refusal, replacement, the command line
# --------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_database(tmp_path, demo_db_url):
    from tests.conftest import DEMO_TEST_SCALE, DEMO_TEST_SEED

    url = f"sqlite:///{tmp_path / 'again.sqlite'}"
    summary = demo.build_demo(url, seed=DEMO_TEST_SEED, scale=DEMO_TEST_SCALE)
    try:
        contacts = frame(url, schema.contacts)
        assert (summary.contacts, summary.phone, summary.email) == (
            contacts.height, contacts.filter(pl.col("channel") == "phone").height,
            contacts.filter(pl.col("channel") == "email").height)
        assert summary.acts == frame(url, schema.acts).height
        assert summary.sessions == frame(url, schema.agent_sessions).height
        assert summary.agents == frame(url, schema.agents).height
        assert summary.users == frame(url, schema.users).height
        for table, key in ((schema.contacts, "contact_id"), (schema.acts, "act_id"),
                           (schema.agent_sessions, ["agent_id", "start_at"])):
            assert table_digest(url, table, key) == table_digest(demo_db_url, table, key)
    finally:
        dbmod.get_engine(url).dispose()


def test_another_seed_differs_and_a_second_build_needs_replace(tmp_path, demo_db_url):
    from tests.conftest import DEMO_TEST_SCALE, DEMO_TEST_SEED

    url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    try:
        first = demo.build_demo(url, seed=DEMO_TEST_SEED + 1, scale=DEMO_TEST_SCALE)
        expected = table_digest(demo_db_url, schema.contacts, "contact_id")
        assert table_digest(url, schema.contacts, "contact_id") != expected
        with pytest.raises(demo.DemoExistsError, match="replace"):
            demo.build_demo(url, seed=DEMO_TEST_SEED, scale=DEMO_TEST_SCALE)
        assert frame(url, schema.contacts).height == first.contacts
        # Replacing deletes the earlier demo rows: the result is the seed's database.
        demo.build_demo(url, seed=DEMO_TEST_SEED, scale=DEMO_TEST_SCALE, replace=True)
        assert table_digest(url, schema.contacts, "contact_id") == expected
        assert table_digest(url, schema.acts, "act_id") == table_digest(
            demo_db_url, schema.acts, "act_id")
    finally:
        dbmod.get_engine(url).dispose()


def test_command_builds_and_prints_a_summary(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    runner = CliRunner()
    try:
        result = runner.invoke(main, ["demo", "--db", url, "--seed", "3", "--scale", "0.02"])
        assert result.exit_code == 0, result.output
        last = result.stdout.strip().splitlines()[-1]
        assert re.match(r"demo: [\d,]+ contacts \([\d,]+ calls, [\d,]+ e-mails\)", last), last
        n = frame(url, schema.contacts).height
        assert f"{n:,} contacts" in last
        again = runner.invoke(main, ["demo", "--db", url, "--scale", "0.02"])
        assert again.exit_code == 1 and "--replace" in again.output
        replaced = runner.invoke(main, ["demo", "--db", url, "--scale", "0.02", "--replace"])
        assert replaced.exit_code == 0, replaced.output
    finally:
        dbmod.get_engine(url).dispose()


def test_progress_is_reported_up_to_completion(tmp_path):
    url = f"sqlite:///{tmp_path / 'progress.sqlite'}"
    seen: list[tuple[str, float]] = []
    try:
        demo.build_demo(url, seed=1, scale=0.01, progress=lambda label, f: seen.append((label, f)))
    finally:
        dbmod.get_engine(url).dispose()
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert all(label for label, _ in seen)


# --------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------


def test_postgresql_build_keeps_every_invariant(pg_url):
    summary = demo.build_demo(pg_url, seed=11, scale=0.03)
    assert summary.contacts == frame(pg_url, schema.contacts).height
    assert summary.acts == frame(pg_url, schema.acts).height
    assert summary.sessions == frame(pg_url, schema.agent_sessions).height
    check_coverage(pg_url)
    check_local_columns(pg_url)
    check_outcomes(pg_url)
    check_acts(pg_url)
    check_sessions_cover_answers(pg_url)
    with pytest.raises(demo.DemoExistsError):
        demo.build_demo(pg_url, seed=11, scale=0.03)
    before = table_digest(pg_url, schema.contacts, "contact_id")
    again = demo.build_demo(pg_url, seed=11, scale=0.03, replace=True)
    assert again.contacts == summary.contacts
    assert table_digest(pg_url, schema.contacts, "contact_id") == before


def test_fast_sqlite_insert_stores_what_sqlalchemy_would(tmp_path):
    rows = pl.DataFrame({
        "source": ["demo", "demo"], "contact_id": ["P-x-1", "E-x-2"],
        "channel": ["phone", "email"], "site": ["rouen", "rouen"], "department": ["60", "60"],
        "queue": ["particuliers", None],
        "received_at": [dt.datetime(2015, 3, 29, 6, 30, 5), dt.datetime(2015, 10, 25, 1, 0)],
        "answered_at": [None, dt.datetime(2015, 10, 26, 9, 0, 0, 250000)],
        "ended_at": [dt.datetime(2015, 3, 29, 6, 31), None],
        "outcome": ["abandoned", "replied"], "wait_seconds": [55, None],
        "talk_seconds": [0, 300], "wrap_seconds": [0, 0], "agent_id": [None, "rouen-a01"],
        "online_service_promoted": [None, True], "caller_key": ["k", None],
        "local_date": [dt.date(2015, 3, 29), dt.date(2015, 10, 25)],
        "local_slot": pl.Series([17, 5], dtype=pl.Int16),
    }).with_columns(pl.col("received_at", "answered_at", "ended_at").dt.cast_time_unit("us"))
    stored = []
    for name, fast in (("fast", True), ("core", False)):
        url = f"sqlite:///{tmp_path / name}.sqlite"
        dbmod.upgrade(url)
        reference.load_reference(dbmod.get_engine(url))
        with dbmod.get_engine(url).begin() as conn:
            if fast:
                assert demo._sqlite_values(conn, schema.contacts, rows) is not None
                demo._insert(conn, schema.contacts, rows)
            else:
                conn.execute(schema.contacts.insert(), rows.to_dicts())
        with dbmod.get_engine(url).connect() as conn:
            stored.append(conn.exec_driver_sql(
                "SELECT * FROM contacts ORDER BY contact_id").all())
        dbmod.get_engine(url).dispose()
    assert stored[0] == stored[1]
    assert stored[0][1][7] == "2015-03-29 06:30:05.000000"


# --------------------------------------------------------------------------------------
# Another network: --reference
# --------------------------------------------------------------------------------------

REUNION = ZoneInfo("Indian/Reunion")  # UTC+4 all year


def test_another_network_is_simulated_from_its_reference_file(tmp_path):
    ref = tmp_path / "network.toml"
    ref.write_text("""
[[sites]]
code = "lille"
name = "Lille"
timezone = "Europe/Paris"
opens_at = "08:30"
closes_at = "19:00"
open_weekdays = "12345"

[[sites]]
code = "saint-denis"
name = "Saint-Denis (La Réunion)"
timezone = "Indian/Reunion"
opens_at = "08:00"
closes_at = "16:00"
open_weekdays = "12345"

[[departments]]
code = "59"
name = "Nord"
population = 2604000

[[departments]]
code = "974"
name = "La Réunion"
population = 850000

[[coverage]]
site = "lille"
department = "59"
start_date = 2015-11-02

[[coverage]]
site = "saint-denis"
department = "974"
start_date = 2015-11-02
""", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'network.sqlite'}"
    try:
        result = CliRunner().invoke(main, ["demo", "--db", url, "--scale", "0.05",
                                           "--reference", str(ref)])
        assert result.exit_code == 0, result.output
        rows = frame(url, schema.contacts)
        with dbmod.get_engine(url).connect() as conn:
            logins = set(conn.execute(select(schema.users.c.login)).scalars())
    finally:
        dbmod.get_engine(url).dispose()
    assert set(zip(rows["site"], rows["department"])) == {("lille", "59"), ("saint-denis", "974")}
    assert rows["local_date"].min() >= dt.date(2015, 11, 2)
    assert {"superviseur.lille", "superviseur.saint-denis"} <= logins
    # La Réunion's calls are answered in its own opening hours, on its own clock (UTC+4).
    answered = rows.filter((pl.col("site") == "saint-denis") & (pl.col("outcome") == "answered"))
    assert answered.height > 100
    for received, day, slot in answered.select("received_at", "local_date", "local_slot").rows():
        wall = received.replace(tzinfo=UTC).astimezone(REUNION).replace(tzinfo=None)
        assert (wall.date(), wall.hour * 2 + wall.minute // 30) == (day, slot)
        assert dt.time(8, 0) <= wall.time() < dt.time(16, 0)


def test_the_benchmarks_national_network_covers_every_departement_once():
    data = reference.read_reference(Path(__file__).resolve().parent.parent / "bench"
                                    / "national.toml")
    assert len(data["sites"]) == 20
    codes = [d["code"] for d in data["departments"]]
    # 96 metropolitan départements (Corsica as 2A and 2B) and the five overseas ones.
    assert len(set(codes)) == len(codes) == 101
    assert {"2A", "2B", "971", "972", "973", "974", "976"} <= set(codes)
    covered = [c["department"] for c in data["coverage"]]
    assert sorted(covered) == sorted(codes)
    sites = {s["code"] for s in data["sites"]}
    assert {c["site"] for c in data["coverage"]} == sites
    # The pilots are served as in dashboard/pilot.toml.
    pilot = reference.read_reference(reference.PILOT_FILE)
    assert [c for c in data["coverage"] if c["site"] in ("rouen", "chartres")] == \
        pilot["coverage"]
