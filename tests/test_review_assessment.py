"""The whole pilot review (dashboard/review/assessment.py) and `python -m dashboard review`:
objectives judged against the reference data's targets, the questions' figures, the
scope; every expected number by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from dashboard.cli.main import main
from dashboard.core.access import ALL_ROWS, Scope
from dashboard.core.formatting import NNBSP
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.review import assessment
from dashboard.store import database as dbmod
from dashboard.store import schema
from tests.factories import Rows

MON, SUN = dt.date(2015, 4, 13), dt.date(2015, 4, 19)  # a week without public holiday


# --------------------------------------------------------------------------- pure


@pytest.mark.parametrize(("value", "expected"), [
    (0.90, "atteint"), (0.85, "atteint"), (0.80, "partiellement atteint"),
    (0.75, "partiellement atteint"), (0.7499, "non atteint"), (None, "pas de données"),
])
def test_verdict_against_target_and_partial_target(value, expected):
    assert assessment.verdict(value, 0.85, 0.75) == expected


def test_no_target_means_no_verdict():
    assert assessment.verdict(0.9, None, None) == "pas de données"


def test_relief_overall_weights_each_departement_by_its_reception_before_opening():
    relief = pl.DataFrame({
        "department": ["60", "28", "93"],
        "relief_rate": [0.20, 0.10, None],
        "pre_mean_per_week": [1000.0, 3000.0, 5000.0],
        "relief_per_week": [200.0, 300.0, None],
    })
    # (200 + 300) / (1000 + 3000): the one without an estimate is left out.
    assert assessment.relief_overall(relief) == pytest.approx(0.125)
    assert assessment.relief_overall(relief.filter(pl.col("department") == "93")) is None


@pytest.mark.parametrize(("lower", "upper", "label"), [
    (0, 20, "moins de 20 s"), (20, 60, "de 20 s à 1 min"), (120, 300, "de 2 min à 5 min"),
    (300, None, "5 min et plus"),
])
def test_wait_band_labels(lower, upper, label):
    assert assessment.wait_band_label(lower, upper) == label


def test_knew_number_share_by_weeks_after_the_first_opening():
    coverage = pl.DataFrame({"department": ["60", "60"],
                             "start_date": [dt.date(2014, 8, 4), dt.date(2016, 1, 1)]})
    opened = dt.date(2014, 8, 4)
    surveys = pl.DataFrame({
        "department": ["60"] * 6 + ["28"],
        "local_date": [opened, opened + dt.timedelta(days=27), opened + dt.timedelta(days=28),
                       opened + dt.timedelta(days=200), opened + dt.timedelta(days=3),
                       opened - dt.timedelta(days=1), opened],
        "knew_number": [False, True, True, True, None, False, False],
    })
    out = assessment.knew_number_after_opening(surveys, coverage)
    rows = {r["weeks_after_opening"]: r for r in out.iter_rows(named=True)}
    # Days 0 and 27 are weeks 1–4 (one of two knew); day 28 is week 5; day 200 is past 26
    # weeks; no answer (None), an answer before opening and 28 (not covered) are left out.
    assert rows["semaines 1 à 4"]["answers"] == 2
    assert rows["semaines 1 à 4"]["knew_rate"] == pytest.approx(0.5)
    assert rows["semaines 5 à 8"]["answers"] == 1
    assert rows["après 26 semaines"]["answers"] == 1
    assert set(out["department"]) == {"60"}


# ----------------------------------------------------------- a crafted week, both DBs


@pytest.fixture
def week(db_url):
    """Rouen, week of 13/04/2015: 4 answered calls waiting 10, 30, 90 and 400 s and one
    abandoned after 50 s (answer rate 4/5); 1 act; a telephony outage of an hour in opening
    hours; four survey answers about the answered calls: 5, 4, 3 and 1."""
    rows = Rows(db_url)
    calls = [rows.call(f"2015-04-14 {h}", wait=w, agent="a1")
             for h, w in (("09:00", 10), ("10:00", 30), ("11:00", 90), ("12:00", 400))]
    rows.call("2015-04-14 13:00", outcome="abandoned", wait=50)
    rows.act("2015-04-14 09:05", agent="a1")
    for call, score in zip(calls, (5, 4, 3, 1)):
        rows.survey("2015-04-14 15:00", score, resolved=score >= 3,
                    contact_id=call["contact_id"])
    with dbmod.get_engine(db_url).begin() as conn:
        conn.execute(insert(schema.incidents).values(
            source="test", incident_id="inc1", component="telephonie", site="rouen",
            # 10:00–11:00 local (CEST) on Wednesday 15/04.
            start_at=dt.datetime(2015, 4, 15, 8), end_at=dt.datetime(2015, 4, 15, 9),
            local_date=dt.date(2015, 4, 15), severity="panne"))
    return db_url


def review_of(url: str, scope=ALL_ROWS, sites=()) -> assessment.Review:
    engine = dbmod.get_engine(url)
    filters = Filters(MON, SUN, sites=sites, scope=scope)
    with engine.connect() as conn:
        inputs = assessment.gather(
            conn, lambda f, by, metrics: compute_kpis(engine, f, by, metrics=metrics), filters)
    return assessment.build(inputs)


def test_the_objectives_of_a_crafted_week(week):
    review = review_of(week)
    got = {o.key: (o.verdict, o.value, o.target) for o in review.objectives}
    # The pilot file's targets: service 85 % (partial 75 %), efficiency 99 % (97 %), acts
    # 25 per 100 (15), relief 10 % (3 %).
    assert got["service"] == ("partiellement atteint", pytest.approx(4 / 5), 0.85)
    # Opening hours 08:30–19:00 on five days: 5 × 630 min a site, Rouen and Chartres in
    # the perimeter; 60 min out at Rouen.
    assert got["efficiency"] == ("atteint", pytest.approx(1 - 60 / (2 * 3150)), 0.99)
    rouen = {o.key: (o.verdict, o.value) for o in review_of(week, sites=("rouen",)).objectives}
    assert rouen["efficiency"] == ("partiellement atteint", pytest.approx(1 - 60 / 3150))
    assert got["acts"] == ("atteint", pytest.approx(100 * 1 / 4), 25.0)
    assert got["relief"] == ("pas de données", None, 0.10)


def test_the_users_question_of_a_crafted_week(week):
    users = review_of(week).question("users")
    bands = users.tables["by_wait_band"].to_dicts()
    assert [b["wait_band"] for b in bands] == [
        "moins de 20 s", "de 20 s à 1 min", "de 1 min à 2 min", "de 2 min à 5 min",
        "5 min et plus"]
    assert [b["survey_responses"] for b in bands] == [1, 1, 1, 0, 1]
    assert [b["mean_satisfaction"] for b in bands] == [5, 4, 3, None, 1]
    assert [b["csat_rate"] for b in bands] == [1, 1, 0, None, 0]
    site = users.tables["by_site"].row(0, named=True)
    assert site["survey_responses"] == 4 and site["csat_rate"] == pytest.approx(2 / 4)
    assert site["perceived_resolution_rate"] == pytest.approx(3 / 4)
    assert users.answer == (
        f"4 réponses, 50,0{NNBSP}% d'usagers satisfaits ; demande traitée selon 75,0{NNBSP}% "
        f"des répondants ; 100,0{NNBSP}% de satisfaits quand l'attente est de moins de 20 s, "
        f"0,0{NNBSP}% quand elle est de 5 min et plus.")


def test_another_sites_supervisor_sees_none_of_it(week):
    review = review_of(week, scope=Scope("supervisor", site="chartres"))
    got = {o.key: o.verdict for o in review.objectives}
    assert got["service"] == "pas de données"
    assert review.question("tools").tables["incidents"].height == 0
    assert review.question("users").tables["by_wait_band"]["survey_responses"].sum() == 0


def test_the_cli_prints_the_same_review_as_json(week):
    result = CliRunner().invoke(main, ["review", "--db", week, "--from", str(MON),
                                       "--to", str(SUN), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [o["key"] for o in data["objectives"]] == ["service", "efficiency", "acts",
                                                      "relief"]
    assert data["objectives"][0]["value"] == pytest.approx(0.8)
    assert data["objectives"][0]["verdict"] == "partiellement atteint"
    assert [q["key"] for q in data["questions"]] == ["tools", "volumes", "acts", "users",
                                                     "staff"]
    assert {r["department"] for r in data["relief"]} == {"04", "28", "60", "93"}
    assert data["tools"]["incidents"][0]["incident_id"] == "inc1"
    assert {"by_site", "by_wait_band", "knew_number"} <= set(data["surveys"])
    assert data["staff"] == []


def test_the_cli_refuses_bad_arguments_in_one_line(week):
    result = CliRunner().invoke(main, ["review", "--db", week, "--from", "2015-04-20",
                                       "--to", "2015-04-13"])
    assert result.exit_code == 2
    assert "--to 2015-04-13 is before --from 2015-04-20" in result.output
    result = CliRunner().invoke(main, ["review", "--db", week, "--site", "lyon"])
    assert result.exit_code == 2 and "--site 'lyon': no such site" in result.output


@pytest.mark.parametrize(("row", "message"), [
    ('key = "speed"\ntarget = 1\npartial_target = 0', "objective 'speed' is not one of"),
    ('key = "acts"\ntarget = "25"\npartial_target = 15', "target must be a number"),
    ('key = "acts"\ntarget = 20\npartial_target = 25', "partial_target is above target"),
])
def test_a_bad_objective_target_is_refused_in_one_line(tmp_path, row, message):
    from dashboard.store import reference
    path = tmp_path / "centres.toml"
    path.write_text(f"[[objectives]]\n{row}\n", encoding="utf-8")
    with pytest.raises(reference.ReferenceError, match=message):
        reference.read_reference(path)


def test_objective_targets_load_and_update(db_url, tmp_path):
    from dashboard.store import reference
    path = tmp_path / "centres.toml"
    path.write_text('[[objectives]]\nkey = "acts"\ntarget = 30\npartial_target = 20\n',
                    encoding="utf-8")
    reference.load_reference(dbmod.get_engine(db_url), path)
    with dbmod.get_engine(db_url).connect() as conn:
        targets = {r[0]: (r[1], r[2]) for r in conn.execute(
            schema.objectives.select()).all()}
    assert targets["acts"] == (30, 20)
    assert targets["service"] == (0.85, 0.75)  # the pilot's, loaded by the fixture


def test_tools_count_a_site_from_its_opening(db_url):
    # Chartres opened on Sunday 1 March 2015 (the pilot file); over 23/02–08/03 it had five
    # open days (02–06/03), Rouen ten: 630 min of opening hours each.
    engine = dbmod.get_engine(db_url)
    filters = Filters(dt.date(2015, 2, 23), dt.date(2015, 3, 8), scope=ALL_ROWS)
    with engine.connect() as conn:
        inputs = assessment.gather(
            conn, lambda f, by, metrics: compute_kpis(engine, f, by, metrics=metrics), filters)
    tables = assessment.build(inputs).question("tools").tables["availability"]
    phone = {r["site"]: r["opening_minutes"] for r in
             tables.filter(pl.col("component") == "telephonie").iter_rows(named=True)}
    assert phone == {"chartres": 5 * 630, "rouen": 10 * 630}
