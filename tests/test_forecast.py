"""The contacts forecast (dashboard.metrics.forecast), its reads, its command and the
campaign deadlines of the reference data.

Expected values are worked by hand from the definitions (README, the module docstring):
WAPE, the seasonal naive forecast, interval coverage, origins counted from the rules; the
calendar effects are checked on synthetic histories where they exist by construction.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import holidays
import polars as pl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from dashboard.cli.main import main
from dashboard.demo import demand
from dashboard.metrics import erlang
from dashboard.metrics import forecast as fc
from dashboard.store import database as dbmod
from dashboard.store import reference, schema
from tests.factories import Rows

DAY = dt.timedelta(days=1)
FRENCH = holidays.France(years=range(2012, 2017))


# --------------------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------------------


def test_wape_is_the_sum_of_absolute_errors_over_the_sum_of_actuals():
    # |10 − 12| + |20 − 15| + |30 − 30| = 7, over 60.
    assert fc.wape([10, 20, 30], [12, 15, 30]) == pytest.approx(7 / 60)
    assert fc.wape([0, 0], [0, 3]) is None  # nothing happened: no WAPE


def test_interval_coverage_counts_actuals_inside_inclusive_bounds():
    # 5 in [4, 6]; 10 not in [11, 12]; 15 in [10, 15] (bounds count); no interval: left out.
    nan = float("nan")
    assert fc.interval_coverage([5, 10, 15, 20], [4, 11, 10, nan], [6, 12, 15, nan]) == \
        pytest.approx(2 / 3)
    assert fc.interval_coverage([5], [nan], [nan]) is None


def test_seasonal_naive_takes_the_same_weekday_last_observed():
    origin = dt.date(2015, 3, 31)
    values = {origin - dt.timedelta(days=k): float(k) for k in range(0, 40)}  # value = days back
    # Target origin + h takes the day origin − 7 + ((h − 1) mod 7) + 1, by hand:
    # h=1 → origin − 6, h=6 → origin − 1, h=7 → origin, h=8 → origin − 6, h=14 → origin,
    # h=15 → origin − 6, h=28 → origin.
    expected_days_back = {1: 6, 6: 1, 7: 0, 8: 6, 14: 0, 15: 6, 28: 0}
    for h, back in expected_days_back.items():
        assert fc.seasonal_naive(values, origin, h) == back, h
        assert (origin + dt.timedelta(days=h)).isoweekday() == \
            (origin - dt.timedelta(days=back)).isoweekday()
    assert [fc.naive_lag(h) for h in (1, 7, 8, 14, 15, 28)] == [7, 7, 14, 14, 21, 28]


# --------------------------------------------------------------------------------------
# Synthetic histories: the calendar effects exist by construction
# --------------------------------------------------------------------------------------

FIRST, LAST = dt.date(2013, 1, 7), dt.date(2015, 3, 31)  # the origin is LAST, a Tuesday
SHARES = {20: 0.3, 28: 0.7}  # the calls of a day: 30 % at 10:00, 70 % at 14:00


def is_open(day: dt.date, closed=FRENCH) -> bool:
    return day.isoweekday() <= 5 and day not in closed


def synthetic(deadlines: list[dt.date], closed=FRENCH) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One series (site s1, département 60, calls): 120 on open Mondays, 100 on the other
    open days, doubled in the seven days before each deadline; 0 on closed days (weekends
    and the CLOSED holidays)."""
    days, slots = [], []
    day = FIRST
    while day <= LAST:
        if is_open(day, closed):
            value = 120.0 if day.isoweekday() == 1 else 100.0
            if any(1 <= (d - day).days <= 7 for d in deadlines):
                value *= 2
            days.append(("s1", "60", "phone", day, value))
            slots += [("s1", day, slot, value * share) for slot, share in SHARES.items()]
        day += DAY
    return (pl.DataFrame(days, schema=fc.DAY_SCHEMA, orient="row"),
            pl.DataFrame(slots, schema=fc.SLOT_SCHEMA, orient="row"))


def calendar(deadlines: list[dt.date], holiday_calendar=None) -> fc.Reference:
    """Site s1 open Monday–Friday 08:30–19:00; one campaign a year around each deadline."""
    campaigns = [(f"C{d.year}", "declarative", d - 30 * DAY, d + 5 * DAY, None)
                 for d in deadlines]
    return fc.Reference(
        sites=pl.DataFrame({"site": ["s1"], "opens_at": ["08:30"], "closes_at": ["19:00"],
                            "open_weekdays": ["12345"]}),
        coverage=pl.DataFrame({"site": ["s1"], "department": ["60"], "start_date": [FIRST],
                               "end_date": [None]},
                              schema_overrides={"end_date": pl.Date}),
        campaigns=pl.DataFrame(campaigns, schema={"name": pl.String, "kind": pl.String,
                                                  "start_date": pl.Date, "end_date": pl.Date,
                                                  "department": pl.String}, orient="row"),
        deadlines=pl.DataFrame([(f"C{d.year}", d, None) for d in deadlines],
                               schema={"campaign": pl.String, "day": pl.Date,
                                       "department": pl.String}, orient="row"),
        holidays=holiday_calendar)


PAST = [dt.date(2013, 5, 21), dt.date(2014, 5, 20)]  # Tuesdays of earlier years


def expected_on(frame: pl.DataFrame) -> dict[dt.date, float]:
    return dict(frame.select("local_date", "expected").iter_rows())


@pytest.fixture(scope="module")
def deadline_0420():
    """History with bumps before the past deadlines; the 2015 deadline is 20 April."""
    deadlines = [*PAST, dt.date(2015, 4, 20)]
    days, slots = synthetic(deadlines)
    return days, slots, fc.forecast(days, slots, calendar(deadlines))


def test_forecast_covers_the_28_days_after_the_last_day_with_data(deadline_0420):
    _, _, (day_fc, _) = deadline_0420
    assert day_fc["local_date"].to_list() == [LAST + h * DAY for h in range(1, 29)]
    assert day_fc["horizon_days"].to_list() == list(range(1, 29))
    assert set(day_fc["origin"]) == {LAST}


def test_a_public_holiday_of_a_closed_site_is_forecast_at_zero(deadline_0420):
    _, _, (day_fc, slot_fc) = deadline_0420
    forecast = expected_on(day_fc)
    easter_monday = dt.date(2015, 4, 6)
    assert easter_monday in FRENCH
    assert forecast[easter_monday] == 0.0
    assert forecast[dt.date(2015, 4, 4)] == 0.0  # a Saturday
    # An ordinary Monday away from the deadline: about 120.
    assert forecast[dt.date(2015, 4, 27)] == pytest.approx(120, rel=0.1)
    # No half-hour of that closed day carries calls.
    assert slot_fc.filter(pl.col("local_date") == easter_monday)["expected"].sum() == 0


def test_the_holiday_effect_comes_from_the_holiday_calendar():
    # A site that never closed on holidays, under a calendar without any: Easter Monday
    # is an ordinary open Monday.
    deadlines = [*PAST, dt.date(2015, 4, 20)]
    days, slots = synthetic(deadlines, closed=frozenset())
    day_fc, _ = fc.forecast(days, slots, calendar(deadlines, lambda year: frozenset()))
    assert expected_on(day_fc)[dt.date(2015, 4, 6)] == pytest.approx(120, rel=0.1)


def test_the_week_before_a_deadline_is_forecast_busier(deadline_0420):
    _, _, (day_fc, _) = deadline_0420
    forecast = expected_on(day_fc)
    # The week before 20 April was doubled in past years: Thursday 16 April against
    # Thursday 2 April (18 days before: no bump), Monday 13 against Monday 27 April.
    assert forecast[dt.date(2015, 4, 16)] / forecast[dt.date(2015, 4, 2)] == \
        pytest.approx(2, rel=0.1)
    assert forecast[dt.date(2015, 4, 13)] / forecast[dt.date(2015, 4, 27)] == \
        pytest.approx(2, rel=0.1)


def test_moving_the_deadline_in_the_reference_data_moves_the_bump():
    deadlines = [*PAST, dt.date(2015, 4, 27)]
    days, slots = synthetic(deadlines)  # the history before 31 March is the same
    day_fc, _ = fc.forecast(days, slots, calendar(deadlines))
    forecast = expected_on(day_fc)
    assert forecast[dt.date(2015, 4, 16)] == pytest.approx(100, rel=0.1)
    assert forecast[dt.date(2015, 4, 23)] == pytest.approx(200, rel=0.1)


def test_half_hours_are_the_day_forecast_times_the_weekday_profile(deadline_0420):
    _, _, (day_fc, slot_fc) = deadline_0420
    day = dt.date(2015, 4, 7)
    total = expected_on(day_fc)[day]
    cells = dict(slot_fc.filter(pl.col("local_date") == day)
                 .select("local_slot", "expected").iter_rows())
    # 08:30–19:00: the 21 half-hours from slot 17 to slot 37.
    assert sorted(cells) == list(range(17, 38))
    for slot, value in cells.items():
        assert value == pytest.approx(total * SHARES.get(slot, 0.0)), slot


def test_backtest_rows_carry_the_actual_and_naive_of_their_targets():
    deadlines = [*PAST, dt.date(2015, 4, 20)]
    days, _ = synthetic(deadlines)
    rows = fc.backtest_days(days, calendar(deadlines), every=5,
                            first_origin=dt.date(2015, 2, 1))
    values = dict(days.select("local_date", "contacts").iter_rows())
    assert rows.height > 0
    for target, h, actual, naive in rows.filter(pl.col("actual").is_not_null()).select(
            "local_date", "horizon_days", "actual", "naive").iter_rows():
        assert actual == values.get(target, 0.0)
        assert naive == values.get(target - dt.timedelta(days=7 * math.ceil(h / 7)), 0.0)
    # Origins every 5 days back from the last day with data.
    origins = sorted(set(rows["origin"]))
    assert origins[-1] == LAST and all((b - a).days == 5 for a, b in zip(origins, origins[1:]))
    # Nothing is known beyond the last day.
    assert rows.filter(pl.col("local_date") > LAST)["actual"].null_count() == \
        rows.filter(pl.col("local_date") > LAST).height


def test_handle_time_is_the_answered_weighted_mean_of_the_weekday_and_slot():
    monday, next_monday = dt.date(2015, 3, 23), dt.date(2015, 3, 30)
    cells = pl.DataFrame({
        "site": ["s1"] * 3, "local_date": [monday, next_monday, next_monday],
        "local_slot": [20, 20, 21], "answered": [10, 30, 4],
        "aht_seconds": [300.0, 400.0, 100.0]})
    aht = fc.handle_times(cells, dt.date(2015, 3, 31))
    row = aht.filter(pl.col("local_slot") == 20).row(0, named=True)
    # (10 × 300 + 30 × 400) / 40 = 375; the site's: (3,000 + 12,000 + 400) / 44 = 350.
    assert (row["weekday"], row["aht_seconds"]) == (1, pytest.approx(375.0))
    assert row["site_aht_seconds"] == pytest.approx(15_400 / 44)


def test_agents_needed_are_erlang_c_for_the_forecast_calls():
    slots = pl.DataFrame({"site": ["s1"] * 3, "local_date": [dt.date(2015, 4, 6)] * 3,
                          "local_slot": [20, 21, 22], "expected": [40.0, 0.0, 12.5],
                          "low": [30.0, 0.0, None], "high": [50.0, 0.0, None]})
    aht = pl.DataFrame({"site": ["s1"], "weekday": [1], "local_slot": [20],
                        "aht_seconds": [360.0], "site_aht_seconds": [300.0]})
    targets = pl.DataFrame({"site": ["s1"], "sl_target": [0.8], "sl_seconds": [20]})
    out = fc.agents_needed(slots, aht, targets)
    assert out["aht_seconds"].to_list() == [360.0, 300.0, 300.0]  # else the site's AHT
    assert out["agents_needed"].to_list() == [
        erlang.required_agents(40.0, 1800, 360.0, 0.8, 20), 0,
        erlang.required_agents(12.5, 1800, 300.0, 0.8, 20)]
    assert out["agents_needed_low"].to_list()[:2] == [
        erlang.required_agents(30.0, 1800, 360.0, 0.8, 20), 0]
    assert out["agents_needed_high"][2] is None  # no interval, no figure
    fixed = fc.agents_needed(slots, aht, targets, aht_seconds=180.0)
    assert fixed["agents_needed"][0] == erlang.required_agents(40.0, 1800, 180.0, 0.8, 20)


# --------------------------------------------------------------------------------------
# Reference data: the deadlines
# --------------------------------------------------------------------------------------


def online_deadline(dept: str) -> dt.date:
    """spec/domain.md, 2015: 01–19 on 26 May, 20–49 on 2 June, 50 and above on 9 June."""
    number = int(dept)
    return dt.date(2015, 5, 26) if number <= 19 else (
        dt.date(2015, 6, 2) if number <= 49 else dt.date(2015, 6, 9))


def test_pilot_deadlines_are_the_2015_calendar_and_the_demos():
    data = reference.read_reference(reference.PILOT_FILE)
    declarative = [d for d in data["deadlines"] if d["campaign"] == "Campagne déclarative 2015"]
    paper = [d for d in declarative if d["department"] is None]
    assert [d["day"] for d in paper] == [dt.date(2015, 5, 19)]
    online = {d["department"]: d["day"] for d in declarative if d["department"] is not None}
    assert online == {dept: online_deadline(dept) for dept in ("04", "28", "60", "93")}
    # The demo's own rule gives the same dates (its load peaks on the file's dates).
    assert online == {dept: demand._online_deadline(dept, 2015) for dept in online}
    names = {c["name"] for c in data["campaigns"]}
    assert {d["campaign"] for d in data["deadlines"]} <= names


def test_deadlines_load_once_and_read_back(db_url):
    engine = dbmod.get_engine(db_url)
    reference.load_reference(engine)  # a second time: updated, not duplicated
    from queries import forecast as q_forecast
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(schema.deadlines)).scalar_one()
        frames = q_forecast.calendar(conn)
    assert n == len(reference.read_reference(reference.PILOT_FILE)["deadlines"]) == 13
    every = frames["deadlines"].filter(pl.col("department").is_null())
    assert every["day"].to_list() == [dt.date(2014, 8, 12), dt.date(2014, 9, 5),
                                      dt.date(2014, 10, 12), dt.date(2014, 11, 12),
                                      dt.date(2015, 5, 19), dt.date(2015, 8, 12),
                                      dt.date(2015, 9, 5), dt.date(2015, 10, 12),
                                      dt.date(2015, 11, 12)]


def test_a_renamed_campaign_keeps_its_deadlines(db_url):
    engine = dbmod.get_engine(db_url)
    c, d = schema.campaigns, schema.deadlines
    with engine.begin() as conn:
        conn.execute(c.update().where(c.c.name == "Campagne déclarative 2015")
                     .values(name="Déclaration 2015"))
    with engine.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(d)
                            .where(d.c.campaign == "Déclaration 2015")).scalar_one()
    assert kept == 5  # the paper deadline and the four online ones


def test_a_deadline_day_that_is_not_a_date_is_one_line(tmp_path):
    path = tmp_path / "ref.toml"
    path.write_text('[[deadlines]]\ncampaign = "C"\nday = "19 mai"\nlabel = "x"\n',
                    encoding="utf-8")
    with pytest.raises(reference.ReferenceError, match="deadline day must be a TOML date"):
        reference.read_reference(path)


# --------------------------------------------------------------------------------------
# The command, on SQLite and PostgreSQL
# --------------------------------------------------------------------------------------

HISTORY_FIRST, HISTORY_LAST = dt.date(2015, 3, 2), dt.date(2015, 4, 10)  # Monday, Friday


@pytest.fixture
def history_db(db_url):
    """Rouen, Oise: on each open day 3 calls (10:00, 10:40, 14:10) and one e-mail."""
    rows = Rows(db_url)
    day = HISTORY_FIRST
    while day <= HISTORY_LAST:
        if is_open(day):
            for time, talk in (("10:00", 300), ("10:40", 420), ("14:10", 360)):
                rows.call(f"{day} {time}", talk=talk, agent="r1")
            rows.email(f"{day} 09:00", replied=f"{day} 15:00", agent="r1")
        day += DAY
    return db_url


def run(*args):
    return CliRunner().invoke(main, ["forecast", *args])


def test_forecast_command_prints_days_and_half_hours(history_db):
    result = run("--db", history_db, "--site", "rouen", "--days", "3")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    days = [r for r in rows if r["grain"] == "day"]
    slots = [r for r in rows if r["grain"] == "slot"]
    # Saturday 11, Sunday 12, Monday 13 April; phone and e-mail of Oise.
    assert {(r["channel"], r["department"], r["day"]) for r in days} == {
        (c, "60", d) for c in ("phone", "email") for d in ("2015-04-11", "2015-04-12",
                                                          "2015-04-13")}
    assert {r["origin"] for r in rows} == {"2015-04-10"}
    assert len(slots) == 3 * 21  # the opening half-hours 08:30–19:00 of each day
    weekend = [r for r in slots if r["day"] != "2015-04-13"]
    assert all(r["expected"] == 0 and r["agents_needed"] == 0 for r in weekend)
    monday = {r["slot"]: r for r in slots if r["day"] == "2015-04-13"}
    assert monday["10:00"]["expected"] > 0 and monday["10:00"]["agents_needed"] >= 1
    assert monday["12:00"]["expected"] == 0  # no call ever came then
    # The recent weeks' AHT of Mondays' half-hour: 300 s at 10:00, 420 s at 10:30.
    assert (monday["10:00"]["aht_seconds"], monday["10:30"]["aht_seconds"]) == (300, 420)
    phone_monday = next(r for r in days if r["channel"] == "phone" and r["day"] == "2015-04-13")
    assert phone_monday["expected"] == pytest.approx(3, rel=0.2)
    # Its interval (horizon 3: band 2–3 days) would need 20 past errors on open targets;
    # origins 29 March–8 April made 8 at horizon 2 and 7 at horizon 3: no interval yet.
    assert (phone_monday["low"], phone_monday["high"]) == (None, None)
    csv = run("--db", history_db, "--days", "1", "--format", "csv", "--aht-seconds", "200")
    assert csv.exit_code == 0, csv.output
    lines = csv.output.strip().splitlines()
    assert lines[0].split(",")[:4] == ["grain", "site", "channel", "department"]
    assert len(lines) == 1 + 2 + 21  # header, Saturday's phone and e-mail, its half-hours


def test_backtest_command_counts_its_origins(history_db):
    result = run("backtest", "--db", history_db)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    keys = {(r["site"], r["channel"], r["grain"], r["horizon_days"]) for r in rows}
    assert keys == {("rouen", c, g, h) for c, g in (("phone", "day"), ("phone", "slot"),
                                                     ("email", "day")) for h in (1, 7, 28)}
    by = {(r["channel"], r["grain"], r["horizon_days"]): r for r in rows}
    # Data from 2 March (index 0) to 10 April (index 39); an origin o needs 28 days of
    # history (o >= 27) and an observed target (o + h <= 39): 39 − h − 27 + 1 origins.
    assert [by["phone", "day", h]["origins"] for h in (1, 7, 28)] == [12, 6, 0]
    assert by["phone", "day", 28]["model_wape"] is None
    # Half-hours: only open targets. Origins 29 March–9 April at h = 1 aim at 30 March–
    # 10 April, of which Saturday 4, Sunday 5 and Easter Monday 6 April are closed.
    assert by["phone", "slot", 1]["origins"] == 9
    assert by["phone", "slot", 1]["interval_coverage"] is None
    assert set(rows[0]) == {"site", "channel", "grain", "horizon_days", "origins",
                            "model_wape", "naive_wape", "interval_coverage",
                            "campaign_model_wape", "campaign_naive_wape"}


def test_origin_gives_the_forecast_made_on_a_past_day(history_db):
    # Made at the end of Wednesday 8 April: Thursday 9 and Friday 10, both with data.
    result = run("--db", history_db, "--days", "2", "--origin", "2015-04-08")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["origin"] for r in rows} == {"2015-04-08"}
    assert {r["day"] for r in rows} == {"2015-04-09", "2015-04-10"}
    # Three calls every open day: the eve's forecast of Friday is about three.
    friday = next(r for r in rows if r["grain"] == "day" and r["channel"] == "phone"
                  and r["day"] == "2015-04-10")
    assert friday["expected"] == pytest.approx(3, rel=0.2)
    late = run("--db", history_db, "--origin", "2015-04-11")
    assert late.exit_code == 2
    assert late.output.strip().splitlines() == [
        "Error: --origin 2015-04-11: outside the history, 2015-03-02 to 2015-04-10"]
    bad = run("--db", history_db, "--origin", "08/04/2015")
    assert bad.exit_code == 2 and "--origin must be a date YYYY-MM-DD" in bad.output


@pytest.mark.parametrize("args, message", [
    (["--site", "nowhere"], "--site 'nowhere': no such site"),
    (["--days", "29"], "--days"),
    (["bogus"], "No such command"),
    (["backtest", "--every", "0"], "--every"),
])
def test_bad_arguments_are_one_line(db_url, args, message):
    result = run("--db", db_url, *args) if args[0] != "backtest" else run(
        "backtest", "--db", db_url, *args[1:])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_no_contacts_or_too_short_a_history_is_one_line(db_url):
    result = run("--db", db_url)
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no contacts in this perimeter: nothing to forecast from"
    rows = Rows(db_url)
    for day in ("2015-04-07", "2015-05-03"):  # 7 April to 3 May: 27 days of history
        rows.call(f"{day} 10:00")
    result = run("--db", db_url)
    assert result.exit_code == 1
    assert result.output.strip() == \
        "Error: no département has 28 days of history yet: nothing to forecast"
    rows.call("2015-05-04 10:00")  # the 28th day: forecast from it
    assert run("--db", db_url, "--days", "1").exit_code == 0


# --------------------------------------------------------------------------------------
# The demo: the model beats the seasonal naive forecast
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_backtest(demo_db_url):
    result = CliRunner().invoke(main, ["forecast", "backtest", "--db", demo_db_url,
                                       "--every", "3"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_demo_backtest_has_every_row(demo_backtest):
    keys = [(r["site"], r["channel"], r["grain"], r["horizon_days"]) for r in demo_backtest]
    assert keys == [(s, c, g, h) for s in ("chartres", "rouen")
                    for c, g in (("phone", "day"), ("phone", "slot"), ("email", "day"))
                    for h in (1, 7, 28)]
    assert all(r["origins"] > 50 for r in demo_backtest)


def test_demo_model_beats_seasonal_naive_at_every_horizon_and_in_campaigns(demo_backtest):
    for r in demo_backtest:
        assert r["model_wape"] < r["naive_wape"], r
        assert r["campaign_model_wape"] < r["campaign_naive_wape"], r


def test_demo_intervals_cover_about_eighty_percent_of_days(demo_backtest):
    for r in demo_backtest:
        if r["grain"] == "day":
            assert 0.65 <= r["interval_coverage"] <= 0.95, r
        else:
            assert r["interval_coverage"] is None
