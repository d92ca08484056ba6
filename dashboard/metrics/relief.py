"""Relief of local services (objective 4 of the review): a difference in differences of
what the local services (SIP, CIS) of each pilot département received, against the
départements no centre served (spec/review-data.md).

Grain: `relief` one row per pilot département; `relief_weeks` one row per pilot
département per week of the period (the chart of the two indices).

The spec's rules, with the choices it leaves open made explicit:
- weeks are Monday–Sunday weeks of local days wholly inside START..END (partial weeks at
  the edges are dropped);
- a pilot département is one a coverage period serves on some day of the period; its `s`
  is the earliest start of those periods; `pre` the weeks whose Sunday is before `s`;
  `post` the weeks whose Monday is on or after `s` (and, when the coverage ended, whose
  Sunday is on or before its end). The week in which `s` falls mid-week is a transition
  week, in neither: half served, it would blur both;
- controls are the départements with records in the period (of the channels asked) and
  no coverage on any day of it; a control without a record in the pre weeks, or whose
  pre weeks received nothing, has no index and is left out (as a pilot without one has
  no figure);
- `y(d, w)` is `received` summed over the records of `d` in week `w` (channels and
  services summed, or the channels asked); a week without any record of `d` has no `y`:
  missing data, not zero;
- `I(d, w) = y(d, w) / mean over the pre weeks of y(d, ·)`; `I(C, w)` is the mean of the
  controls' indices that week; the weekly difference `D(w) = I(p, w) − I(C, w)` exists
  when both do, and `pre_weeks` / `post_weeks` count the weeks with a `D`;
- `did_index` = mean of `D` over the post weeks, `relief_rate = −did_index`,
  `relief_per_week = relief_rate × mean pre y(p, ·)`; all null when pre or post has
  fewer than MIN_WEEKS weeks or no control has an index.

The 95 % interval (of `relief_rate`) is Welch's t interval of the difference between the
post and the pre weeks' mean of `D`: half-width t(0.975, ν) · √(s²_pre/n_pre +
s²_post/n_post), ν by Welch–Satterthwaite, centred on `relief_rate`. The pre term counts
the noise of the baseline every index is divided by (the pre weeks' `D` average zero by
construction, so their spread is that noise); the post term the week-to-week noise after
opening. Weeks are taken as independent: a campaign that hits pilot and controls alike
cancels in `D`, but what autocorrelation is left makes the interval too narrow, which is
said beside it. A block bootstrap would treat that, but with the pilot's few dozen weeks
it has too few blocks to be more trustworthy. The t quantile is computed here (Student's
distribution through the regularised incomplete beta function), not read from a table.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import polars as pl

MIN_WEEKS = 4
CONFIDENCE = 0.95

_WEEK_SCHEMA = {
    "department": pl.String, "week": pl.Date, "phase": pl.String,
    "pilot_received": pl.Int64, "pilot_index": pl.Float64, "control_index": pl.Float64,
    "controls_in_week": pl.Int64, "difference": pl.Float64,
}
RELIEF_SCHEMA = {
    "department": pl.String, "coverage_start": pl.Date, "pre_weeks": pl.Int64,
    "post_weeks": pl.Int64, "controls": pl.Int64, "control_departments": pl.List(pl.String),
    "pre_mean_per_week": pl.Float64, "did_index": pl.Float64, "relief_rate": pl.Float64,
    "relief_per_week": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
}


# ------------------------------------------------------------------------------- weeks


def period_weeks(start: dt.date, end: dt.date) -> list[dt.date]:
    """The Mondays of the Monday–Sunday weeks wholly inside START..END."""
    monday = start + dt.timedelta(days=(7 - start.weekday()) % 7)
    out = []
    while monday + dt.timedelta(days=6) <= end:
        out.append(monday)
        monday += dt.timedelta(days=7)
    return out


def weekly_received(
    reception: pl.DataFrame, start: dt.date, end: dt.date,
    channel: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Daily records (`department`, `day`, `received`, and `channel` when CHANNEL is
    given) → `department`, `week` (its Monday), `received` summed, for the weeks wholly
    inside START..END; a département has a row only for the weeks it has records."""
    frame = reception
    if channel is not None:
        wanted = [channel] if isinstance(channel, str) else list(channel)
        frame = frame.filter(pl.col("channel").is_in(wanted))
    weeks = period_weeks(start, end)
    out = {"department": pl.String, "week": pl.Date, "received": pl.Int64}
    if not weeks:
        return pl.DataFrame(schema=out)
    first, last = weeks[0], weeks[-1] + dt.timedelta(days=6)
    return (
        frame.filter(pl.col("day").is_between(first, last))
        .group_by("department", pl.col("day").dt.truncate("1w").alias("week"))
        .agg(pl.col("received").sum())
        .select(pl.col(c).cast(t) for c, t in out.items())
        .sort("department", "week")
    )


# ----------------------------------------------------------------- pilots and controls


def _served(coverage: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    return coverage.filter(
        (pl.col("start_date") <= end)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= start)))


def pilot_departments(coverage: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The départements a coverage period (`department`, `start_date`, `end_date`
    inclusive or null) serves on some day of START..END: `department`, `coverage_start`
    (earliest start), `coverage_end` (latest end; null while still served)."""
    return (
        _served(coverage, start, end)
        .group_by("department")
        .agg(pl.col("start_date").min().alias("coverage_start"),
             pl.when(pl.col("end_date").is_null().any()).then(None)
             .otherwise(pl.col("end_date").max()).alias("coverage_end"))
        .select(pl.col("department").cast(pl.String), pl.col("coverage_start").cast(pl.Date),
                pl.col("coverage_end").cast(pl.Date))
        .sort("department")
    )


def control_departments(
    weekly: pl.DataFrame, coverage: pl.DataFrame, start: dt.date, end: dt.date
) -> list[str]:
    """Départements with records in WEEKLY (weekly_received) and no coverage on any day
    of START..END, sorted."""
    served = set(_served(coverage, start, end).get_column("department").to_list())
    return sorted(set(weekly.get_column("department").to_list()) - served)


def _phases(weeks: list[dt.date], s: dt.date, e: dt.date | None) -> pl.DataFrame:
    rows = []
    for monday in weeks:
        sunday = monday + dt.timedelta(days=6)
        if sunday < s:
            phase = "pre"
        elif monday >= s and (e is None or sunday <= e):
            phase = "post"
        else:
            phase = None
        rows.append((monday, phase))
    return pl.DataFrame(rows, schema={"week": pl.Date, "phase": pl.String}, orient="row")


def _indexed(weekly: pl.DataFrame, phases: pl.DataFrame) -> pl.DataFrame:
    """WEEKLY rows with their phase and `index` (y / mean pre y of the département; null
    without a positive pre mean)."""
    frame = weekly.join(phases, on="week", how="inner")
    base = (frame.filter(pl.col("phase") == "pre").group_by("department")
            .agg(pl.col("received").mean().alias("base")))
    return frame.join(base, on="department", how="left").with_columns(
        pl.when(pl.col("base") > 0).then(pl.col("received") / pl.col("base"))
        .alias("index"))


def _pilot_weeks(
    weekly: pl.DataFrame, pilot: str, s: dt.date, e: dt.date | None, controls: list[str],
    weeks: list[dt.date],
) -> tuple[pl.DataFrame, list[str], float | None]:
    """One pilot's weekly rows (_WEEK_SCHEMA), the controls with an index, its pre mean."""
    phases = _phases(weeks, s, e)
    indexed = _indexed(weekly.filter(pl.col("department").is_in([pilot, *controls])), phases)
    ctrl = indexed.filter(pl.col("department").is_in(controls) & pl.col("index").is_not_null())
    used = sorted(set(ctrl.get_column("department").to_list()))
    ctrl_weeks = ctrl.group_by("week").agg(pl.col("index").mean().alias("control_index"),
                                           pl.len().alias("controls_in_week"))
    own = indexed.filter(pl.col("department") == pilot)
    base = own.get_column("base").drop_nulls()
    pre_mean = float(base[0]) if base.len() else None
    frame = (
        phases.join(own.select("week", pl.col("received").alias("pilot_received"),
                               pl.col("index").alias("pilot_index")), on="week", how="left")
        .join(ctrl_weeks, on="week", how="left")
        .with_columns(pl.lit(pilot).alias("department"),
                      pl.col("controls_in_week").fill_null(0),
                      (pl.col("pilot_index") - pl.col("control_index")).alias("difference"))
        .select(pl.col(c).cast(t) for c, t in _WEEK_SCHEMA.items())
        .sort("week")
    )
    return frame, used, pre_mean


def relief_weeks(
    reception: pl.DataFrame, coverage: pl.DataFrame, start: dt.date, end: dt.date,
    channel: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """The weekly series behind `relief`, one row per pilot département per week wholly
    inside the period: `department`, `week` (Monday), `phase` ("pre", "post", null for a
    transition week), `pilot_received` y(p, w), `pilot_index` I(p, w), `control_index`
    I(C, w), `controls_in_week` (controls with an index that week), `difference` D(w).
    Inputs as for `relief`."""
    weekly = weekly_received(reception, start, end, channel)
    weeks = period_weeks(start, end)
    controls = control_departments(weekly, coverage, start, end)
    parts = [_pilot_weeks(weekly, p, s, e, controls, weeks)[0]
             for p, s, e in pilot_departments(coverage, start, end).iter_rows()]
    return pl.concat(parts) if parts else pl.DataFrame(schema=_WEEK_SCHEMA)


# ------------------------------------------------------------------------------ relief


def relief(
    reception: pl.DataFrame, coverage: pl.DataFrame, start: dt.date, end: dt.date,
    channel: str | Sequence[str] | None = None, confidence: float = CONFIDENCE,
) -> pl.DataFrame:
    """Relief of local services per pilot département over START..END (RELIEF_SCHEMA).

    RECEPTION holds daily local-reception records, summed over channels and services or
    not: `department`, `day` (local date), `received`, and `channel` when CHANNEL (one
    code or several) keeps only those channels. COVERAGE holds the coverage periods
    (`site`, `department`, `start_date`, `end_date` inclusive or null). The rules and the
    interval are the module docstring's; `controls` counts, `control_departments` lists
    the controls that have an index.
    """
    weekly = weekly_received(reception, start, end, channel)
    weeks = period_weeks(start, end)
    controls = control_departments(weekly, coverage, start, end)
    rows = []
    for pilot, s, e in pilot_departments(coverage, start, end).iter_rows():
        frame, used, pre_mean = _pilot_weeks(weekly, pilot, s, e, controls, weeks)
        with_d = frame.filter(pl.col("difference").is_not_null())
        pre = with_d.filter(pl.col("phase") == "pre").get_column("difference").to_list()
        post = with_d.filter(pl.col("phase") == "post").get_column("difference").to_list()
        figures: tuple = (None,) * 5
        if len(pre) >= MIN_WEEKS and len(post) >= MIN_WEEKS and used and pre_mean:
            did = sum(post) / len(post)
            low, high = welch_interval(-did, pre, post, confidence)
            figures = (did, -did, -did * pre_mean, low, high)
        rows.append((pilot, s, len(pre), len(post), len(used), used, pre_mean, *figures))
    return pl.DataFrame(rows, schema=RELIEF_SCHEMA, orient="row")


# -------------------------------------------------------------------------- statistics


def _variance(values: Sequence[float]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def welch_interval(
    estimate: float, pre: Sequence[float], post: Sequence[float],
    confidence: float = CONFIDENCE,
) -> tuple[float, float]:
    """ESTIMATE ± Welch's t half-width for the difference of the means of POST and PRE
    (each at least two values); the estimate itself when neither varies."""
    a, b = _variance(pre) / len(pre), _variance(post) / len(post)
    se = math.sqrt(a + b)
    if se == 0:
        return estimate, estimate
    df = (a + b) ** 2 / (a**2 / (len(pre) - 1) + b**2 / (len(post) - 1))
    half = student_t_quantile(0.5 + confidence / 2, df) * se
    return estimate - half, estimate + half


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + num * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < eps:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularised incomplete beta function, for 0 <= x <= 1."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1 - math.exp(log_front) * _beta_fraction(b, a, 1 - x) / b


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with DF degrees of freedom (DF > 0, not an integer only)."""
    tail = 0.5 * regularized_beta(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t >= 0 else tail


def student_t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = P, for 0 < P < 1 (bisection on student_t_cdf)."""
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    if p < 0.5:
        return -student_t_quantile(1 - p, df)
    lo, hi = 0.0, 1.0
    while student_t_cdf(hi, df) < p:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if student_t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2
