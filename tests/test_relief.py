"""Relief of local services (dashboard.metrics.relief) on a case computed by hand.

The period runs Thursday 2015-01-01 to Wednesday 2015-03-18: its whole Monday–Sunday
weeks are the ten from Monday 05/01 to Sunday 15/03 (w1..w10). The pilot "60" is covered
from Monday 09/02: pre = w1..w5, post = w6..w10. Controls "12" and "15" are never covered.
A campaign lifts everybody in w5 and w6 (indices 1.35–1.5).

Chosen indices (y = base × index), pre then post:
    pilot 60, base 100 : 0.9 1.1 0.8  0.7 1.5 | 1.2 0.9 0.8 0.7 0.9
    control 12, base 200: 1.0 1.0 0.9  0.6 1.5 | 1.4 1.1 1.0 0.9 1.0
    control 15, base 50 : 1.0 1.0 1.0  0.8 1.2 | 1.4 1.1 1.0 1.1 1.0
Each pre row sums to 5, so each base is the pre mean it was built with.
I(C, w) = mean of the controls:  1.0 1.0 0.95 0.7 1.35 | 1.4 1.1 1.0 1.0 1.0
D(w) = I(p, w) − I(C, w):       −0.1 0.1 −0.15 0 0.15 | −0.2 −0.2 −0.2 −0.3 −0.1
did_index = mean post D = −1.0 / 5 = −0.2; relief_rate = 0.2; relief_per_week = 0.2 × 100 = 20.

Interval (Welch): pre D mean 0, squares 0.01 + 0.01 + 0.0225 + 0 + 0.0225 = 0.065,
s²_pre = 0.065 / 4 = 0.01625, a = s²_pre / 5 = 0.00325; post D mean −0.2, deviations
0 0 0 −0.1 0.1, s²_post = 0.02 / 4 = 0.005, b = 0.001. se = √0.00425;
ν = 0.00425² / (0.00325² / 4 + 0.001² / 4) = 1.80625e-5 / 2.890625e-6 = 6.2486486…
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from dashboard.metrics import relief as rl

D = dt.date
START, END = D(2015, 1, 1), D(2015, 3, 18)
W1 = D(2015, 1, 5)
WEEKS = [W1 + dt.timedelta(weeks=k) for k in range(10)]
PILOT = [0.9, 1.1, 0.8, 0.7, 1.5, 1.2, 0.9, 0.8, 0.7, 0.9]
C12 = [1.0, 1.0, 0.9, 0.6, 1.5, 1.4, 1.1, 1.0, 0.9, 1.0]
C15 = [1.0, 1.0, 1.0, 0.8, 1.2, 1.4, 1.1, 1.0, 1.1, 1.0]
NU = 1.80625e-5 / 2.890625e-6
SE = math.sqrt(0.00425)


def _coverage(*rows) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema={"site": pl.String, "department": pl.String,
                                            "start_date": pl.Date, "end_date": pl.Date},
                        orient="row")


COVERAGE = _coverage(("rouen", "60", D(2015, 2, 9), None))


def _records(dept: str, base: float, indices, weeks=WEEKS) -> list[tuple]:
    """A week's y split over two days and two channels: Tuesday counter visits y − 10,
    Thursday phone calls 10 (their sum is y)."""
    out = []
    for monday, index in zip(weeks, indices):
        y = round(base * index)
        out.append((dept, monday + dt.timedelta(days=1), "guichet", y - 10))
        out.append((dept, monday + dt.timedelta(days=3), "telephone", 10))
    return out


def _frame(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"department": pl.String, "day": pl.Date,
                                      "channel": pl.String, "received": pl.Int64},
                        orient="row")


# Days of the partial weeks at both edges, inside the period: counted, they would change
# every figure (a week of 10,000 in a département whose weeks hold 50 to 300).
EDGES = [(d, day, "guichet", 10_000) for d in ("60", "12", "15")
         for day in (D(2015, 1, 2), D(2015, 1, 4), D(2015, 3, 16), D(2015, 3, 18))]


def _case(pilot=PILOT, base=100, extra=()) -> pl.DataFrame:
    return _frame(_records("60", base, pilot) + _records("12", 200, C12)
                  + _records("15", 50, C15) + EDGES + list(extra))


def test_period_weeks_are_whole_monday_to_sunday_weeks_inside_the_period():
    assert rl.period_weeks(START, END) == WEEKS
    assert rl.period_weeks(D(2015, 1, 5), D(2015, 1, 11)) == [D(2015, 1, 5)]
    assert rl.period_weeks(D(2015, 1, 6), D(2015, 1, 12)) == []


def test_relief_on_the_hand_case():
    out = rl.relief(_case(), COVERAGE, START, END)
    assert out.height == 1
    row = out.row(0, named=True)
    assert row["department"] == "60"
    assert row["coverage_start"] == D(2015, 2, 9)
    assert (row["pre_weeks"], row["post_weeks"]) == (5, 5)
    assert row["controls"] == 2 and row["control_departments"] == ["12", "15"]
    assert row["pre_mean_per_week"] == pytest.approx(100)
    assert row["did_index"] == pytest.approx(-0.2)
    assert row["relief_rate"] == pytest.approx(0.2)
    assert row["relief_per_week"] == pytest.approx(20)
    half = rl.student_t_quantile(0.975, NU) * SE
    # ν ≈ 6.25: the quantile lies between the tables' t(0.975, 7) = 2.3646 and t(6) = 2.4469.
    assert 2.3646 < rl.student_t_quantile(0.975, NU) < 2.4469
    assert row["ci_low"] == pytest.approx(0.2 - half)
    assert row["ci_high"] == pytest.approx(0.2 + half)
    assert row["ci_low"] < row["relief_rate"] < row["ci_high"]


def test_the_weekly_series_gives_both_indices_and_the_phases():
    weeks = rl.relief_weeks(_case(), COVERAGE, START, END)
    assert weeks.get_column("week").to_list() == WEEKS
    assert weeks.get_column("phase").to_list() == ["pre"] * 5 + ["post"] * 5
    assert weeks.get_column("pilot_received").to_list() == [round(100 * i) for i in PILOT]
    assert weeks.get_column("pilot_index").to_list() == pytest.approx(PILOT)
    control = [(a + b) / 2 for a, b in zip(C12, C15)]
    assert weeks.get_column("control_index").to_list() == pytest.approx(control)
    assert weeks.get_column("difference").to_list() == pytest.approx(
        [-0.1, 0.1, -0.15, 0, 0.15, -0.2, -0.2, -0.2, -0.3, -0.1])
    assert set(weeks.get_column("controls_in_week")) == {2}


def test_a_mid_week_start_leaves_its_week_in_neither_phase():
    # Coverage from Wednesday 11/02: w6 (09/02–15/02) is a transition week; post = w7..w10,
    # D −0.2 −0.2 −0.3 −0.1: did_index still −0.8 / 4 = −0.2.
    cov = _coverage(("rouen", "60", D(2015, 2, 11), None))
    weeks = rl.relief_weeks(_case(), cov, START, END)
    assert weeks.get_column("phase").to_list() == ["pre"] * 5 + [None] + ["post"] * 4
    row = rl.relief(_case(), cov, START, END).row(0, named=True)
    assert (row["pre_weeks"], row["post_weeks"]) == (5, 4)
    assert row["relief_rate"] == pytest.approx(0.2)


def test_less_noise_gives_a_narrower_interval_around_the_same_estimate():
    # The pilot's D halved around its phase means: pre D −0.05 0.05 −0.075 0 0.075 (sum 0,
    # so the base stays the pre mean), post D −0.2 −0.2 −0.2 −0.25 −0.15. Every variance is
    # a quarter, ν the same, so the half-width is halved. Base 1000 keeps y whole.
    control = [(a + b) / 2 for a, b in zip(C12, C15)]
    d = [-0.05, 0.05, -0.075, 0, 0.075, -0.2, -0.2, -0.2, -0.25, -0.15]
    pilot = [c + x for c, x in zip(control, d)]
    noisy = rl.relief(_case(), COVERAGE, START, END).row(0, named=True)
    calm = rl.relief(_case(pilot, base=1000), COVERAGE, START, END).row(0, named=True)
    assert calm["relief_rate"] == pytest.approx(0.2)
    assert calm["relief_per_week"] == pytest.approx(200)
    assert calm["ci_high"] - calm["ci_low"] == pytest.approx(
        (noisy["ci_high"] - noisy["ci_low"]) / 2)
    assert calm["ci_low"] < calm["relief_rate"] < calm["ci_high"]


def test_no_noise_at_all_gives_an_interval_of_one_point():
    control = [(a + b) / 2 for a, b in zip(C12, C15)]
    pilot = [c + (0 if k < 5 else -0.2) for k, c in enumerate(control)]
    row = rl.relief(_case(pilot, base=1000), COVERAGE, START, END).row(0, named=True)
    assert row["ci_low"] == pytest.approx(0.2) and row["ci_high"] == pytest.approx(0.2)


def test_three_pre_weeks_give_no_figure():
    # From Monday 19/01: pre = w3, w4, w5 (y 80, 70, 150: mean 100), post w6..w10.
    out = rl.relief(_case(), COVERAGE, D(2015, 1, 19), END).row(0, named=True)
    assert (out["pre_weeks"], out["post_weeks"]) == (3, 5)
    assert out["pre_mean_per_week"] == pytest.approx(100)
    for key in ("did_index", "relief_rate", "relief_per_week", "ci_low", "ci_high"):
        assert out[key] is None


def test_three_post_weeks_give_no_figure():
    # Up to Sunday 01/03: post = w6, w7, w8.
    out = rl.relief(_case(), COVERAGE, START, D(2015, 3, 1)).row(0, named=True)
    assert (out["pre_weeks"], out["post_weeks"]) == (5, 3)
    assert out["relief_rate"] is None


def test_no_control_gives_no_figure():
    only_pilot = _frame(_records("60", 100, PILOT))
    out = rl.relief(only_pilot, COVERAGE, START, END).row(0, named=True)
    assert out["controls"] == 0 and out["control_departments"] == []
    assert out["relief_rate"] is None and out["ci_low"] is None


def test_a_departement_covered_on_one_day_of_the_period_is_no_control():
    # 12 served by Chartres up to Friday 02/01 (inside the period), 15 from Tuesday 17/03:
    # neither is a control, so no pilot has one; each is a pilot of its own (12 with no
    # week at all: its coverage started before w1 and ended before w1's Sunday; 15 with
    # ten pre weeks and no post), and without controls no week has a D.
    cov = _coverage(("rouen", "60", D(2015, 2, 9), None),
                    ("chartres", "12", D(2014, 6, 1), D(2015, 1, 2)),
                    ("chartres", "15", D(2015, 3, 17), None))
    out = rl.relief(_case(), cov, START, END)
    assert out.get_column("department").to_list() == ["12", "15", "60"]
    assert out.get_column("controls").to_list() == [0, 0, 0]
    assert out.get_column("relief_rate").to_list() == [None, None, None]
    assert out.filter(pl.col("department") == "15").row(0, named=True)["pre_weeks"] == 0
    # A coverage that ended before the period makes no pilot and leaves a control.
    before = _coverage(("rouen", "60", D(2015, 2, 9), None),
                       ("chartres", "12", D(2014, 6, 1), D(2014, 12, 31)))
    assert rl.relief(_case(), before, START, END).row(0, named=True)["controls"] == 2


def test_a_control_without_a_pre_record_has_no_index_and_is_left_out():
    # A third control "19" with records only in the post weeks: no base, no index; the
    # result is the two-control one.
    late = _records("19", 40, [1.0] * 5, weeks=WEEKS[5:])
    row = rl.relief(_case(extra=late), COVERAGE, START, END).row(0, named=True)
    assert row["control_departments"] == ["12", "15"]
    assert row["relief_rate"] == pytest.approx(0.2)


def test_a_channel_filter_keeps_only_those_channels():
    # Letters in the pilot only, in the post weeks: with them its post is inflated.
    letters = [("60", monday + dt.timedelta(days=2), "courrier", 100) for monday in WEEKS[5:]]
    case = _case(extra=letters)
    assert rl.relief(case, COVERAGE, START, END).row(0, named=True)["relief_rate"] \
        == pytest.approx(0.2 - 1.0)  # each post y +100 = +1.0 of index
    kept = rl.relief(case, COVERAGE, START, END, channel=("guichet", "telephone"))
    assert kept.row(0, named=True)["relief_rate"] == pytest.approx(0.2)
    # Counter visits alone: y − 10 each week (pilot 80 100 70 60 140 | 110 80 70 60 80).
    counter = rl.relief_weeks(case, COVERAGE, START, END, channel="guichet")
    assert counter.get_column("pilot_received").to_list() == [
        round(100 * i) - 10 for i in PILOT]


def test_no_coverage_in_the_period_gives_no_row():
    assert rl.relief(_case(), _coverage(), START, END).height == 0
    assert rl.relief_weeks(_case(), _coverage(), START, END).height == 0


def test_student_t_quantiles_match_the_tables():
    # Published two-sided 95 % values t(0.975, ν); ν → ∞ gives the normal 1.959964.
    for df, value in ((1, 12.7062), (2, 4.3027), (4, 2.7764), (8, 2.3060), (30, 2.0423),
                      (1e7, 1.9600)):
        assert rl.student_t_quantile(0.975, df) == pytest.approx(value, abs=1e-4)
    assert rl.student_t_quantile(0.025, 8) == pytest.approx(-2.3060, abs=1e-4)
    # ν = 1 is Cauchy: P(T <= 2) = 1/2 + atan(2)/π.
    assert rl.student_t_cdf(2.0, 1) == pytest.approx(0.5 + math.atan(2) / math.pi)
    with pytest.raises(ValueError):
        rl.student_t_quantile(1.0, 3)
