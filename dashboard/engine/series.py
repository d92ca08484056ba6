"""Derived series for the pages, that are not KPIs: pure Polars, frames in, frames out.

The metrics engine (dashboard.engine.compute_kpis) computes every KPI; what the pages
draw on top of it lives here, each with its rule written down:

- **daily load**: contacts received = calls received + e-mails received (both counts of
  the engine), per day and per stacking key; days without any contact count 0;
- **7-day moving average**: trailing, over calendar days (today and the 6 days before),
  shown only where the 7 days are all in the period (null before);
- **peak days**: the N days of highest load (ties: the earliest first), zero days never;
- **day of campaign**: days since the campaign's first day (its first day is 0);
- **week-over-week deltas**: the change against the same weekday a week earlier; rates
  change in percentage points ("+2,1 pts");
- **weekday × half-hour profile**: calls offered per occurrence of the weekday in the
  period (calendar days, so a Monday without calls counts as 0), and the answer rate of
  the summed counts — applied by the metrics module's own formula, never rewritten here;
- **agents per slot**: `agents_logged_in` of the engine;
- **acts per period**: acts per type bucketed by day / ISO week / month with the same
  keys as the engine's dimensions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

import polars as pl

from dashboard.core import formatting as fmt
from dashboard.core.config import Thresholds
from dashboard.metrics import formulas as m_formulas
from dashboard.metrics import grouping as m_grouping

MOVING_WINDOW = 7
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
WEEKDAY_SHORT = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
DAY_GRAIN_MAX_DAYS = 62  # up to two months, one bar a day; beyond, a bar a week
WEEK_GRAIN_MAX_DAYS = 732  # beyond two years, a bar a month
LOAD = "contacts"


# ----------------------------------------------------------------------- dates and keys


def fr_day(day: dt.date) -> str:
    """2015-05-11 → "lundi 11/05/2015"."""
    return f"{WEEKDAYS[day.weekday()]} {fmt.fr_date(day)}"


def week_before(day: dt.date) -> dt.date:
    """The same weekday one week earlier."""
    return day - dt.timedelta(days=7)


def period_grain(start: dt.date, end: dt.date) -> str:
    """The time grain of a chart over START..END: "day", "week" or "month"."""
    days = (end - start).days + 1
    if days <= DAY_GRAIN_MAX_DAYS:
        return "day"
    if days <= WEEK_GRAIN_MAX_DAYS:
        return "week"
    return "month"


def key_start(key: str, grain: str) -> dt.date:
    """First day of an engine period key: "2015-05-11", "2015-W20" or "2015-05"."""
    if grain == "day":
        return dt.date.fromisoformat(key)
    if grain == "week":
        year, week = key.split("-W")
        return dt.date.fromisocalendar(int(year), int(week), 1)
    if grain == "month":
        year, month = key.split("-")
        return dt.date(int(year), int(month), 1)
    raise ValueError(f"unknown grain {grain!r}")


def with_period_start(frame: pl.DataFrame, grain: str, key: str | None = None) -> pl.DataFrame:
    """FRAME plus `date`, the first day of its period key column (named GRAIN by default)."""
    key = key or grain
    return frame.with_columns(
        pl.col(key).map_elements(lambda k: key_start(k, grain), return_dtype=pl.Date)
        .alias("date")
    )


# ------------------------------------------------------------------------- daily load


def daily_load(frame: pl.DataFrame, stack: str | None = None) -> pl.DataFrame:
    """Engine rows by ("day"[, STACK]) → `date`[, STACK], `contacts` received (calls + e-mails)."""
    keys = [stack] if stack else []
    return (
        with_period_start(frame, "day")
        .select(
            "date",
            *keys,
            (pl.col("received").fill_null(0) + pl.col("emails_received").fill_null(0))
            .cast(pl.Int64)
            .alias(LOAD),
        )
        .sort("date", *keys, nulls_last=True)
    )


def complete_days(
    frame: pl.DataFrame, start: dt.date, end: dt.date, counts: Sequence[str]
) -> pl.DataFrame:
    """FRAME (one row per `date`) with every day START..END, the COUNTS of missing days 0."""
    days = pl.DataFrame({"date": pl.date_range(start, end, eager=True)})
    out = days.join(frame, on="date", how="left")
    return out.with_columns(pl.col(c).fill_null(0) for c in counts)


def load_totals(load: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per-day load (stacked or not) → `date`, `contacts` (total), `moving_avg` (7 days).

    Every calendar day START..END is present (0 when nothing was received). The moving
    average of a day is the mean of that day and the 6 before it, null while fewer than
    7 days of the period precede it.
    """
    totals = load.group_by("date").agg(pl.col(LOAD).sum())
    totals = complete_days(totals, start, end, [LOAD]).sort("date")
    return totals.with_columns(
        pl.col(LOAD).cast(pl.Float64)
        .rolling_mean(window_size=MOVING_WINDOW, min_samples=MOVING_WINDOW)
        .alias("moving_avg")
    )


def peak_days(totals: pl.DataFrame, n: int = 3, value: str = LOAD) -> pl.DataFrame:
    """The N rows of TOTALS with the highest VALUE (ties: earliest first), zero rows never."""
    return (
        totals.filter(pl.col(value) > 0)
        .sort([value, "date"], descending=[True, False])
        .head(n)
    )


def campaign_days(
    totals: pl.DataFrame, campaign: str, start: dt.date
) -> pl.DataFrame:
    """TOTALS of one campaign (`date`…) plus `campaign` and `day_of_campaign` (START = 0)."""
    return totals.with_columns(
        pl.lit(campaign).alias("campaign"),
        (pl.col("date") - pl.lit(start)).dt.total_days().cast(pl.Int64).alias("day_of_campaign"),
    )


def campaign_window(
    start: dt.date, end: dt.date, first_day: dt.date, last_day: dt.date
) -> tuple[dt.date, dt.date] | None:
    """A campaign's days START..END clipped to the data's FIRST_DAY..LAST_DAY; None when
    they do not meet."""
    lo, hi = max(start, first_day), min(end, last_day)
    return (lo, hi) if lo <= hi else None


def campaign_departments(
    campaign_department: str | None, chosen: Sequence[str]
) -> tuple[str, ...] | None:
    """Départements to filter on for a campaign: the chosen ones (all when none), narrowed
    to the campaign's own département if it has one; None when they exclude each other."""
    if campaign_department is None:
        return tuple(chosen)
    if chosen and campaign_department not in chosen:
        return None
    return (campaign_department,)


# ------------------------------------------------------------- tiles: deltas and targets

# Tiles where a fall is good news (waits, abandons, backlog): their delta colour is inverse.
LOWER_IS_BETTER = frozenset(
    {"asa_seconds", "abandoned", "abandon_rate", "backlog", "abandon_wait_seconds",
     "max_wait_seconds", "short_abandoned"}
)
# Tiles where a change is neither good nor bad news (load, handle time).
NEUTRAL = frozenset({"received", "offered", "emails_received", "aht_seconds", "deflected"})


def delta_color(key: str) -> str:
    """st.metric's delta_color for a metric: normal, inverse (lower is better) or off."""
    if key in LOWER_IS_BETTER:
        return "inverse"
    if key in NEUTRAL:
        return "off"
    return "normal"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def kpi_delta(current, previous, unit: str) -> str | None:
    """The change from PREVIOUS to CURRENT as signed French text; None when either is missing.

    Counts "+12" / "-1 234"; rates in percentage points "+2,1 pts"; durations
    "+5 s" / "-1 min 05 s"; ratios and hours with one decimal. No change is "0" (so
    st.metric shows it grey, without an arrow).
    """
    if _missing(current) or _missing(previous):
        return None
    change = current - previous
    if unit == "rate":
        points = round(change * 100, 1)
        if points == 0:
            return "0"
        return f"{'+' if points > 0 else ''}{fmt.fr_decimal(points, 1)}{fmt.NNBSP}pts"
    if unit == "seconds":
        seconds = round(change)
        return "0" if seconds == 0 else f"{'+' if seconds > 0 else ''}{fmt.fr_duration(seconds)}"
    if unit == "hours":
        tenths = round(change, 1)
        return "0" if tenths == 0 else f"{'+' if tenths > 0 else ''}{fmt.fr_hours(tenths)}"
    if unit in ("ratio", "agents"):
        tenths = round(change, 1)
        return "0" if tenths == 0 else f"{'+' if tenths > 0 else ''}{fmt.fr_decimal(tenths, 1)}"
    whole = round(change)
    return "0" if whole == 0 else f"{'+' if whole > 0 else ''}{fmt.fr_number(whole)}"


# Target columns of the `sites` table → the metric they are a target of.
TARGET_COLUMNS = {
    "service_level": "sl_target",
    "answer_rate": "answer_rate_target",
    "reply_within_48h_rate": "email_48h_target",
}


def targets_for(
    targets: pl.DataFrame, sites: Sequence[str], defaults: Thresholds
) -> dict[str, float | None]:
    """Metric → target (fraction) for the SITES in view (all rows of TARGETS when empty).

    A site without a target of its own takes the settings' default (none for e-mail).
    With several sites the target is shown only when they all share it, else None.
    """
    rows = targets if not sites else targets.filter(pl.col("site").is_in(list(sites)))
    fallback = {"sl_target": defaults.sl_target,
                "answer_rate_target": defaults.answer_rate_target,
                "email_48h_target": None}
    out: dict[str, float | None] = {}
    for metric, column in TARGET_COLUMNS.items():
        values = {
            (v if v is not None else fallback[column]) for v in rows.get_column(column).to_list()
        }
        out[metric] = values.pop() if len(values) == 1 else None
    return out


def target_met(value, target: float | None, higher_is_better: bool = True) -> bool | None:
    """Whether VALUE reaches TARGET; None when either is missing."""
    if _missing(value) or target is None:
        return None
    return value >= target if higher_is_better else value <= target


def has_activity(row: Mapping) -> bool:
    """Whether an engine row holds any handled activity: calls offered, e-mails or acts."""
    return any((row.get(k) or 0) > 0 for k in ("offered", "emails_received", "acts"))


# ----------------------------------------------------------------------------- intraday


def agents_per_slot(frame: pl.DataFrame) -> pl.DataFrame:
    """Engine rows by slot plus `agents`, the mean number of agents logged in per half-hour.

    The engine's `agents_logged_in` (null where it cannot be measured: a filter on
    département or channel, a closed day).
    """
    return frame.with_columns(pl.col("agents_logged_in").cast(pl.Float64).alias("agents"))


def slot_label(slot: int) -> str:
    """Slot number (0 = 00:00) → "HH:MM"."""
    return f"{slot // 2:02d}:{30 * (slot % 2):02d}"


def slot_number(label: str) -> int:
    """"HH:MM" → slot number."""
    hours, minutes = label.split(":")
    return int(hours) * 2 + int(minutes) // 30


def complete_slots(
    frame: pl.DataFrame, counts: Sequence[str], bounds: Sequence[str] | None = None
) -> pl.DataFrame:
    """Rows by `slot` ("HH:MM") → every half-hour from the first to the last slot where one
    of BOUNDS (default COUNTS) is above 0; rows outside are left out.

    The COUNTS of an added slot are 0, every other column null; sorted by slot. No row
    at all when BOUNDS are 0 everywhere.
    """
    bounds = list(bounds or counts)
    active = frame.filter(pl.any_horizontal(pl.col(c).fill_null(0) > 0 for c in bounds))
    if active.height == 0:
        return frame.clear()
    numbers = [slot_number(s) for s in active.get_column("slot").to_list()]
    grid = pl.DataFrame(
        {"slot": [slot_label(s) for s in range(min(numbers), max(numbers) + 1)]}
    )
    out = grid.join(frame, on="slot", how="left", maintain_order="left")
    return out.with_columns(pl.col(c).fill_null(0) for c in counts)


# ------------------------------------------------------------- weekday × half-hour profile

# Phone KPIs that are plain counts, and the engine statistic each one is.
_PHONE_COUNT_STATS = {
    "received": "ph_received",
    "answered": "ph_answered",
    "abandoned": "ph_abandoned",
    "short_abandoned": "ph_short_abandoned",
    "deflected": "ph_deflected",
}


def weekday_counts(start: dt.date, end: dt.date) -> dict[int, int]:
    """Weekday (0 = Monday) → how many times it occurs START..END."""
    out = dict.fromkeys(range(7), 0)
    day = start
    while day <= end:
        out[day.weekday()] += 1
        day += dt.timedelta(days=1)
    return out


def weekday_slot_profile(frame: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Engine rows by ("day", "slot") → one row per weekday × slot that has calls.

    Columns: `weekday` (0 = Monday), `weekday_label`, `slot`, `offered_per_day` (calls
    offered divided by the weekday's occurrences START..END) and `answer_rate` of the
    summed counts, computed by dashboard.metrics.kpis_from_stats (the spec's formula).
    """
    occurrences = weekday_counts(start, end)
    keyed = with_period_start(frame, "day").with_columns(
        (pl.col("date").dt.weekday() - 1).cast(pl.Int8).alias("weekday")
    )
    summed = keyed.group_by("weekday", "slot").agg(
        pl.col(k).fill_null(0).sum().alias(stat) for k, stat in _PHONE_COUNT_STATS.items()
    )
    rates = m_formulas.kpis_from_stats(
        summed.with_columns(pl.col("weekday").cast(pl.String)), ["weekday", "slot"]
    ).select(
        pl.col("weekday").cast(pl.Int8), "slot", "offered", "answer_rate"
    )
    per_day = pl.DataFrame(
        {"weekday": list(occurrences), "_n": list(occurrences.values())},
        schema={"weekday": pl.Int8, "_n": pl.Int64},
    )
    return (
        rates.join(per_day, on="weekday", how="left")
        .filter(pl.col("offered") > 0)
        .with_columns(
            (pl.col("offered") / pl.col("_n")).alias("offered_per_day"),
            pl.col("weekday").map_elements(lambda d: WEEKDAYS[d], return_dtype=pl.String)
            .alias("weekday_label"),
        )
        .select("weekday", "weekday_label", "slot", "offered", "offered_per_day", "answer_rate")
        .sort("weekday", "slot")
    )


# ------------------------------------------------------------------------ acts by type


def acts_per_period(rows: pl.DataFrame, grain: str, by: str) -> pl.DataFrame:
    """Acts per local day × BY (from queries.acts_by_type) → `period`, `date`, BY, `n`.

    The period key follows the engine's key format for GRAIN (day, week or month);
    `date` is the period's first day.
    """
    keyed = m_grouping.with_group_keys(rows, [grain]).rename({grain: "period"})
    out = keyed.group_by("period", by).agg(pl.col("n").sum())
    return with_period_start(out, grain, "period").select("period", "date", by, "n").sort(
        "date", by
    )


def totals_by(rows: pl.DataFrame, *keys: str) -> pl.DataFrame:
    """Acts per local day × … → total `n` per combination of KEYS, largest first (ties by
    KEYS)."""
    return (
        rows.group_by(*keys).agg(pl.col("n").sum())
        .sort(["n", *keys], descending=[True] + [False] * len(keys))
    )


# ------------------------------------------------------------------------ selections


def active_rows(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Rows of FRAME where at least one of COLUMNS is above 0 (an agent with no activity
    that day, say, is left out of a table)."""
    if frame.height == 0:
        return frame
    return frame.filter(pl.any_horizontal(pl.col(c).fill_null(0) > 0 for c in columns))


def uncovered_departments(
    periods: pl.DataFrame, departments: Sequence[str], start: dt.date, end: dt.date,
    sites: Sequence[str] = (),
) -> pl.DataFrame:
    """Of DEPARTMENTS, those no site (of SITES, all when empty) served at any day
    START..END, with their first coverage day (null if never served): `department`,
    `department_name`, `first_day`.
    """
    rows = periods if not sites else periods.filter(pl.col("site").is_in(list(sites)))
    rows = rows.filter(pl.col("department").is_in(list(departments)))
    served = rows.filter(
        (pl.col("start_date") <= end)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= start))
    ).get_column("department").to_list()
    firsts = rows.group_by("department").agg(
        pl.col("department_name").first(), pl.col("start_date").min().alias("first_day")
    )
    missing = pl.DataFrame({"department": [d for d in departments if d not in served]},
                           schema={"department": pl.String})
    return missing.join(firsts, on="department", how="left", maintain_order="left").select(
        "department", "department_name", "first_day"
    )


def local_time(utc: dt.datetime | None, tz: str) -> dt.datetime | None:
    """A naive UTC instant → naive local wall-clock time in TZ."""
    if utc is None:
        return None
    return utc.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(tz)).replace(tzinfo=None)


# ----------------------------------------------------------------------- lines over time


def lines_by(
    frame: pl.DataFrame, grain: str, metric: str, split: str, labels: Mapping[str, str]
) -> pl.DataFrame:
    """Engine rows by (GRAIN, SPLIT) → `date`, `label` (SPLIT's value through LABELS),
    `value` (METRIC), sorted by label then date."""
    return (
        with_period_start(frame, grain)
        .select(
            "date",
            pl.col(split).map_elements(lambda v: labels.get(v, v), return_dtype=pl.String)
            .fill_null(fmt.MISSING).alias("label"),
            pl.col(metric).cast(pl.Float64).alias("value"),
        )
        .sort("label", "date")
    )


def lines_of(frame: pl.DataFrame, grain: str, metrics: Mapping[str, str]) -> pl.DataFrame:
    """Engine rows by (GRAIN,) → `date`, `label`, `value`: one line per metric of METRICS
    (key → label), in METRICS' order."""
    parts = [
        with_period_start(frame, grain).select(
            "date", pl.lit(label).alias("label"), pl.col(key).cast(pl.Float64).alias("value")
        ).sort("date")
        for key, label in metrics.items()
    ]
    if not parts:
        return pl.DataFrame(schema={"date": pl.Date, "label": pl.String, "value": pl.Float64})
    return pl.concat(parts)
