"""dashboard.engine.series: derived series of the pages, on hand-made frames with hand-computed
expected values."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from dashboard.core.config import Thresholds
from dashboard.engine import series

D = dt.date
NN = "\u202f"


def test_days_weeks_and_grains():
    assert series.fr_day(D(2015, 5, 11)) == "lundi 11/05/2015"
    assert series.week_before(D(2015, 5, 11)) == D(2015, 5, 4)
    start = D(2015, 1, 1)
    assert series.period_grain(start, start + dt.timedelta(days=61)) == "day"  # 62 days
    assert series.period_grain(start, start + dt.timedelta(days=62)) == "week"
    assert series.period_grain(start, start + dt.timedelta(days=731)) == "week"  # 732 days
    assert series.period_grain(start, start + dt.timedelta(days=732)) == "month"
    assert series.key_start("2015-05-11", "day") == D(2015, 5, 11)
    assert series.key_start("2015-W01", "week") == D(2014, 12, 29)  # ISO week 1 of 2015
    assert series.key_start("2015-W20", "week") == D(2015, 5, 11)
    assert series.key_start("2015-05", "month") == D(2015, 5, 1)
    with pytest.raises(ValueError):
        series.key_start("2015", "year")


def test_daily_load_adds_calls_and_emails_per_stack():
    frame = pl.DataFrame({
        "day": ["2015-05-12", "2015-05-11", "2015-05-11"],
        "channel": ["phone", "email", "phone"],
        "received": [7, 0, 10],
        "emails_received": [0, 4, None],
    })
    out = series.daily_load(frame, "channel")
    assert out.to_dicts() == [
        {"date": D(2015, 5, 11), "channel": "email", "contacts": 4},
        {"date": D(2015, 5, 11), "channel": "phone", "contacts": 10},
        {"date": D(2015, 5, 12), "channel": "phone", "contacts": 7},
    ]


def test_load_totals_fill_missing_days_and_average_full_weeks_only():
    # Days 1..8 of May: 10, 20, (missing), 40, 50, 60, 70, 80 contacts.
    load = pl.DataFrame({
        "date": [D(2015, 5, d) for d in (1, 2, 4, 5, 6, 7, 8)],
        "channel": ["phone"] * 7,
        "contacts": [10, 20, 40, 50, 60, 70, 80],
    }).vstack(pl.DataFrame({"date": [D(2015, 5, 8)], "channel": ["email"], "contacts": [5]}))
    totals = series.load_totals(load, D(2015, 5, 1), D(2015, 5, 8))
    assert totals["date"].to_list() == [D(2015, 5, d) for d in range(1, 9)]
    assert totals["contacts"].to_list() == [10, 20, 0, 40, 50, 60, 70, 85]
    averages = totals["moving_avg"].to_list()
    assert averages[:6] == [None] * 6
    assert averages[6] == pytest.approx((10 + 20 + 0 + 40 + 50 + 60 + 70) / 7)
    assert averages[7] == pytest.approx((20 + 0 + 40 + 50 + 60 + 70 + 85) / 7)


def test_peak_days_highest_first_ties_earliest_never_zero():
    totals = pl.DataFrame({
        "date": [D(2015, 5, d) for d in range(1, 6)],
        "contacts": [5, 9, 9, 0, 7],
    })
    assert series.peak_days(totals, 3)["date"].to_list() == [
        D(2015, 5, 2), D(2015, 5, 3), D(2015, 5, 5)]
    assert series.peak_days(totals.with_columns(pl.lit(0).alias("contacts"))).height == 0


def test_campaign_days_count_from_the_campaign_start():
    totals = pl.DataFrame({"date": [D(2015, 4, 15), D(2015, 4, 20)], "contacts": [1, 2]})
    out = series.campaign_days(totals, "Déclarative", D(2015, 4, 15))
    assert out["day_of_campaign"].to_list() == [0, 5]
    assert out["campaign"].to_list() == ["Déclarative"] * 2


def test_campaign_window_and_departments():
    assert series.campaign_window(D(2014, 8, 1), D(2014, 11, 30), D(2014, 8, 4),
                                  D(2015, 12, 31)) == (D(2014, 8, 4), D(2014, 11, 30))
    assert series.campaign_window(D(2016, 1, 1), D(2016, 2, 1), D(2014, 8, 4),
                                  D(2015, 12, 31)) is None
    assert series.campaign_departments(None, ("60",)) == ("60",)
    assert series.campaign_departments(None, ()) == ()
    assert series.campaign_departments("93", ()) == ("93",)
    assert series.campaign_departments("93", ("93", "28")) == ("93",)
    assert series.campaign_departments("93", ("60",)) is None


@pytest.mark.parametrize("current,previous,unit,expected", [
    (0.887, 0.866, "rate", f"+2,1{NN}pts"),
    (0.80, 0.8049, "rate", f"-0,5{NN}pts"),
    (0.80, 0.80004, "rate", "0"),
    (1234 + 545, 545, "count", f"+1{NN}234"),
    (10, 34, "count", "-24"),
    (545, 545, "count", "0"),
    (11.0, 76.0, "seconds", f"-1{NN}min{NN}05{NN}s"),
    (12.4, 7.0, "seconds", f"+5{NN}s"),
    (27.9, 27.64, "ratio", "+0,3"),
    (None, 0.5, "rate", None),
    (0.5, None, "rate", None),
])
def test_kpi_delta(current, previous, unit, expected):
    assert series.kpi_delta(current, previous, unit) == expected


def test_delta_colours():
    assert series.delta_color("asa_seconds") == "inverse"
    assert series.delta_color("abandoned") == "inverse"
    assert series.delta_color("backlog") == "inverse"
    assert series.delta_color("received") == "off"
    assert series.delta_color("aht_seconds") == "off"
    assert series.delta_color("answer_rate") == "normal"
    assert series.delta_color("acts") == "normal"


def test_targets_for_sites_defaults_and_disagreement():
    targets = pl.DataFrame({
        "site": ["chartres", "rouen"],
        "sl_target": [0.75, None],
        "answer_rate_target": [0.85, 0.85],
        "email_48h_target": [None, 0.9],
    })
    defaults = Thresholds(sl_target=0.8, answer_rate_target=0.7)
    assert series.targets_for(targets, ("rouen",), defaults) == {
        "service_level": 0.8, "answer_rate": 0.85, "reply_within_48h_rate": 0.9}
    assert series.targets_for(targets, ("chartres",), defaults) == {
        "service_level": 0.75, "answer_rate": 0.85, "reply_within_48h_rate": None}
    # Both sites: only a target they share is shown.
    assert series.targets_for(targets, (), defaults) == {
        "service_level": None, "answer_rate": 0.85, "reply_within_48h_rate": None}


def test_target_met_and_activity():
    assert series.target_met(0.8, 0.8) is True
    assert series.target_met(0.79, 0.8) is False
    assert series.target_met(None, 0.8) is None
    assert series.target_met(0.9, None) is None
    assert series.target_met(30, 20, higher_is_better=False) is False
    assert not series.has_activity({"offered": 0, "emails_received": 0, "acts": None,
                                    "deflected": 12})
    assert series.has_activity({"offered": 0, "emails_received": 0, "acts": 1})


def test_agents_per_slot_is_the_engine_figure():
    hours = pl.DataFrame({"slot": ["09:00", "09:30"], "agent_hours": [2.5, None]})
    both = hours.with_columns(pl.Series("agents_logged_in", [4.0, None]))
    assert series.agents_per_slot(both)["agents"].to_list() == [4.0, None]


def test_complete_slots_fills_gaps_and_trims_idle_edges():
    frame = pl.DataFrame({
        "slot": ["07:00", "08:30", "09:30", "10:00", "21:00"],
        "offered": [0, 3, 4, 0, 0],
        "agents": [None, 1.0, 2.0, 1.5, None],
    })
    out = series.complete_slots(frame, ["offered"], ["offered", "agents"])
    assert out["slot"].to_list() == ["08:30", "09:00", "09:30", "10:00"]
    assert out["offered"].to_list() == [3, 0, 4, 0]
    assert out["agents"].to_list() == [1.0, None, 2.0, 1.5]
    assert series.complete_slots(frame.with_columns(pl.lit(0).alias("offered")),
                                 ["offered"]).height == 0


def test_weekday_slot_profile_per_weekday_occurrence_and_summed_answer_rate():
    # 04/05 to 17/05/2015: two Mondays (4 and 11 May), two Tuesdays.
    frame = pl.DataFrame({
        "day": ["2015-05-04", "2015-05-11", "2015-05-11", "2015-05-05"],
        "slot": ["09:00", "09:00", "09:30", "09:00"],
        "received": [10, 12, 0, 5],
        "answered": [6, 9, 0, 5],
        "abandoned": [3, 3, 0, 0],
        "short_abandoned": [1, 0, 0, 0],
        "deflected": [1, 0, 0, 0],
    })
    out = series.weekday_slot_profile(frame, D(2015, 5, 4), D(2015, 5, 17))
    rows = {(r["weekday_label"], r["slot"]): r for r in out.iter_rows(named=True)}
    assert set(rows) == {("lundi", "09:00"), ("mardi", "09:00")}  # no call at 09:30
    monday = rows[("lundi", "09:00")]
    assert monday["offered"] == 6 + 3 + 9 + 3
    assert monday["offered_per_day"] == pytest.approx(21 / 2)
    # answered / (received - short abandons), on the summed counts
    assert monday["answer_rate"] == pytest.approx((6 + 9) / (10 + 12 - 1))
    assert rows[("mardi", "09:00")]["answer_rate"] == pytest.approx(1.0)
    assert series.weekday_counts(D(2015, 5, 4), D(2015, 5, 17)) == dict.fromkeys(range(7), 2)


def test_acts_per_period_and_totals():
    rows = pl.DataFrame({
        "local_date": [D(2015, 5, 10), D(2015, 5, 11), D(2015, 5, 12), D(2015, 5, 12)],
        "site": ["rouen"] * 4,
        "department": ["60", "60", "04", "60"],
        "act_type": ["attestation", "attestation", "attestation", "remise_gracieuse"],
        "n": [1, 2, 3, 4],
    })
    weekly = series.acts_per_period(rows, "week", "act_type")
    assert weekly.to_dicts() == [
        {"period": "2015-W19", "date": D(2015, 5, 4), "act_type": "attestation", "n": 1},
        {"period": "2015-W20", "date": D(2015, 5, 11), "act_type": "attestation", "n": 5},
        {"period": "2015-W20", "date": D(2015, 5, 11), "act_type": "remise_gracieuse", "n": 4},
    ]
    assert series.totals_by(rows, "department").to_dicts() == [
        {"department": "60", "n": 7}, {"department": "04", "n": 3}]
    pairs = series.totals_by(rows, "act_type", "department")
    assert pairs.rows() == [("remise_gracieuse", "60", 4), ("attestation", "04", 3),
                            ("attestation", "60", 3)]


def test_active_rows_and_uncovered_departments():
    frame = pl.DataFrame({"agent": ["a", "b", None], "answered": [0, 2, 1], "acts": [0, None, 0]})
    assert series.active_rows(frame, ["answered", "acts"])["agent"].to_list() == ["b", None]
    periods = pl.DataFrame({
        "site": ["rouen", "rouen"], "department": ["60", "04"],
        "department_name": ["Oise", "Alpes-de-Haute-Provence"],
        "start_date": [D(2014, 8, 4), D(2015, 4, 1)], "end_date": [None, None],
    }, schema_overrides={"end_date": pl.Date})
    out = series.uncovered_departments(periods, ("04", "60", "93"), D(2015, 3, 2),
                                       D(2015, 3, 2), ("rouen",))
    assert out.to_dicts() == [
        {"department": "04", "department_name": "Alpes-de-Haute-Provence",
         "first_day": D(2015, 4, 1)},
        {"department": "93", "department_name": None, "first_day": None},
    ]
    assert series.uncovered_departments(periods, ("04",), D(2015, 4, 1), D(2015, 4, 1)).height == 0


def test_local_time_follows_daylight_saving():
    # 29/03/2015: Paris goes from UTC+1 to UTC+2 at 01:00 UTC.
    assert series.local_time(dt.datetime(2015, 3, 29, 0, 30), "Europe/Paris") == \
        dt.datetime(2015, 3, 29, 1, 30)
    assert series.local_time(dt.datetime(2015, 3, 29, 1, 30), "Europe/Paris") == \
        dt.datetime(2015, 3, 29, 3, 30)
    assert series.local_time(None, "Europe/Paris") is None


def test_lines_by_and_lines_of():
    frame = pl.DataFrame({
        "week": ["2015-W20", "2015-W20", "2015-W21"],
        "department": ["60", "04", "60"],
        "acts_per_100_handled": [30.0, None, 25.0],
        "online_promotion_rate": [0.4, 0.5, 0.3],
    })
    by = series.lines_by(frame, "week", "acts_per_100_handled", "department", {"60": "60 Oise"})
    assert by.to_dicts() == [
        {"date": D(2015, 5, 11), "label": "04", "value": None},
        {"date": D(2015, 5, 11), "label": "60 Oise", "value": 30.0},
        {"date": D(2015, 5, 18), "label": "60 Oise", "value": 25.0},
    ]
    of = series.lines_of(frame.filter(pl.col("department") == "60"), "week",
                         {"online_promotion_rate": "Promotion", "acts_per_100_handled": "Actes"})
    assert of["label"].to_list() == ["Promotion", "Promotion", "Actes", "Actes"]
    assert of["value"].to_list() == [0.4, 0.3, 30.0, 25.0]
