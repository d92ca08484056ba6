"""Demand of the simulated network: the reference data read back from the database, the
calendar, campaign load, each site's expected and forecast contacts per département and day,
the intraday arrival curves and the handling times (the model: dashboard.demo.simulation).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import holidays
import numpy as np
import polars as pl
from sqlalchemy import Connection, select

from dashboard.core import localtime
from dashboard.store import schema

SOURCE = "demo"
DEMO_END = dt.date(2015, 12, 31)
_EPOCH = dt.date(1970, 1, 1)
DAY = 86_400

# --- demand ---------------------------------------------------------------------------
BASE_RATE = 0.30  # contacts per 1,000 inhabitants per average open weekday, off season
PROPENSITY = {"93": 1.2, "04": 0.9}  # contacts per inhabitant relative to the average
WEEKDAY_FACTOR = (1.30, 1.05, 1.00, 0.93, 0.80)  # Monday .. Friday (mean ≈ 1)
AFTER_HOLIDAY_FACTOR = 1.15  # the open day after a weekday holiday
SEASON = {1: 1.10, 2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0, 6: 0.95, 7: 0.80, 8: 0.85, 9: 1.0,
          10: 1.0, 11: 1.0, 12: 0.90}
CHRISTMAS_FACTOR = 0.6  # 24–31 December
DAY_NOISE_SIGMA = 0.08
RAMP_DEPTH, RAMP_DAYS = 0.75, 12.0
EMAIL_SHARE_START, EMAIL_SHARE_END = 0.18, 0.22
OUT_OF_HOURS_SHARE = 0.01  # calls outside opening hours on an open day (deflected)
CLOSED_DAY_SHARE = {6: 0.015, 7: 0.005}  # Saturday, Sunday/holiday: share of a weekday
QUEUES = ("particuliers", "recouvrement", "foncier")
QUEUE_MIX = {  # by campaign kind in force: off season, notices, declaration
    None: (0.74, 0.15, 0.11),
    "avis": (0.55, 0.28, 0.17),
    "declarative": (0.86, 0.08, 0.06),
}
PLANNER_CAMPAIGN_SHARE = 0.2  # share of the campaign uplift the planner's forecast expects

# --- handling times: drawn per contact, and the workload the planner staffs for ---------
TALK_MEAN, TALK_SIGMA = 330.0, 0.6
WRAP_MEAN, WRAP_SIGMA = 60.0, 0.5
EMAIL_MEAN, EMAIL_SIGMA = 540.0, 0.5


# ======================================================================================
# Reference data and calendar
# ======================================================================================


@dataclass(frozen=True)
class _Site:
    index: int
    code: str
    name: str
    tz: str
    opens: int  # minutes after local midnight
    closes: int
    weekdays: frozenset[int]  # ISO weekdays


@dataclass(frozen=True)
class _Coverage:
    site: str
    department: str
    start: dt.date
    end: dt.date  # inclusive, capped at DEMO_END


@dataclass(frozen=True)
class _Campaign:
    kind: str
    start: dt.date
    end: dt.date
    department: str | None


@dataclass
class _Reference:
    sites: list[_Site]
    population: dict[str, int]
    coverage: list[_Coverage]
    campaigns: list[_Campaign]


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _read_reference(conn: Connection) -> _Reference:
    rows = conn.execute(select(schema.sites).order_by(schema.sites.c.code)).mappings().all()
    sites = [
        _Site(i, r["code"], r["name"], r["timezone"], _minutes(r["opens_at"]),
              _minutes(r["closes_at"]), frozenset(int(c) for c in r["open_weekdays"]))
        for i, r in enumerate(rows)
    ]
    population = {
        code: int(pop or 0)
        for code, pop in conn.execute(
            select(schema.departments.c.code, schema.departments.c.population)
        ).all()
    }
    cov = schema.coverage
    coverage = []
    for site, dept, start, end in conn.execute(
        select(cov.c.site, cov.c.department, cov.c.start_date, cov.c.end_date).order_by(
            cov.c.site, cov.c.department, cov.c.start_date
        )
    ).all():
        end = min(end or DEMO_END, DEMO_END)
        if start <= end:
            coverage.append(_Coverage(site, dept, start, end))
    camp = schema.campaigns
    campaigns = [
        _Campaign(kind, start, end, dept)
        for kind, start, end, dept in conn.execute(
            select(camp.c.kind, camp.c.start_date, camp.c.end_date, camp.c.department)
            .order_by(camp.c.start_date, camp.c.name)
        ).all()
    ]
    return _Reference(sites, population, coverage, campaigns)


def _day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


def _to_utc(frame: pl.DataFrame, local_col: str, utc_col: str, tz: str) -> pl.DataFrame:
    return frame.with_columns(
        localtime.localize(pl.from_epoch(pl.col(local_col), time_unit="s"), tz)
        .dt.cast_time_unit("us").alias(utc_col)
    )


def _gauss(days: float, sd: float) -> float:
    return math.exp(-0.5 * (days / sd) ** 2)


def _spike(days: float) -> float:
    """Load before a deadline: builds over a week, falls within two days after it."""
    return math.exp(days / 5.0) if days <= 0 else math.exp(-days / 1.5)


def _online_deadline(dept: str, year: int) -> dt.date:
    """The 2015 rule: online declaration deadline by zone of the département number."""
    digits = "".join(ch for ch in dept if ch.isdigit()) or "0"
    number = int(digits[:2]) if len(digits) >= 2 else int(digits)
    if dept.upper().startswith("2A") or dept.upper().startswith("2B"):
        number = 20
    if number <= 19:
        return dt.date(year, 5, 26)
    if number <= 49:
        return dt.date(year, 6, 2)
    return dt.date(year, 6, 9)


def _campaign_load(day: dt.date, dept: str, campaigns: list[_Campaign]) -> tuple[float, str | None]:
    """Extra load (1 + load multiplies the base) and the kind of campaign in force."""
    total, best, best_kind = 0.0, 0.0, None
    for c in campaigns:
        if c.department is not None and c.department != dept:
            continue
        if day < c.start:
            window = _gauss((c.start - day).days, 3.0)
        elif day > c.end:
            window = _gauss((day - c.end).days, 3.0)
        else:
            window = 1.0
        if window < 1e-3:
            continue
        year = c.start.year
        if c.kind == "avis":
            load = (
                0.6 * _gauss((day - dt.date(year, 8, 12)).days, 6)
                + 1.3 * _gauss((day - dt.date(year, 9, 5)).days, 14)
                + 0.9 * _gauss((day - dt.date(year, 10, 12)).days, 5)
                + 1.1 * _gauss((day - dt.date(year, 11, 12)).days, 5)
            )
        elif c.kind == "declarative":
            opened = min(1.0, max(0.0, (day - c.start).days / 10.0)) if day >= c.start else 0.0
            load = (
                0.8 * opened
                + 1.4 * _spike((day - dt.date(year, 5, 19)).days)
                + 1.2 * _spike((day - _online_deadline(dept, year)).days)
            )
        else:
            load = 0.5
        load *= window
        total += load
        if load > best:
            best, best_kind = load, c.kind
    return total, (best_kind if best > 0.15 else None)


# ======================================================================================
# Demand plan: one row per site, département and day (small: a few thousand rows)
# ======================================================================================


@dataclass
class _SitePlan:
    site: _Site
    days: list[dt.date]
    open_days: np.ndarray  # bool per day
    departments: list[str]
    expected_phone: np.ndarray  # [day, dept] expected in-hours calls on open days
    expected_email: np.ndarray
    forecast_phone: np.ndarray  # what the planner expects
    forecast_email: np.ndarray
    closed_calls: np.ndarray  # expected deflected calls on closed days
    kind: list[list[str | None]]  # [day][dept] campaign kind in force
    covered: np.ndarray  # bool [day, dept]
    first_day: dt.date
    pilot_start: dt.date  # the first coverage start of any site


def _holidays(first: dt.date, last: dt.date) -> set[dt.date]:
    return set(holidays.France(years=range(first.year, last.year + 1)).keys())


def _site_plans(ref: _Reference, scale: float) -> list[_SitePlan]:
    plans = []
    for site in ref.sites:
        covs = [c for c in ref.coverage if c.site == site.code]
        if not covs:
            continue
        first = min(c.start for c in covs)
        last = max(c.end for c in covs)
        hol = _holidays(first, last)
        depts = sorted({c.department for c in covs})
        n_days = (last - first).days + 1
        days = [first + dt.timedelta(days=i) for i in range(n_days)]
        is_open = np.array(
            [d.isoweekday() in site.weekdays and d not in hol for d in days], dtype=bool
        )
        shape = (n_days, len(depts))
        exp_p, exp_e = np.zeros(shape), np.zeros(shape)
        fc_p, fc_e = np.zeros(shape), np.zeros(shape)
        closed = np.zeros(shape)
        covered = np.zeros(shape, dtype=bool)
        kinds: list[list[str | None]] = [[None] * len(depts) for _ in days]
        span = max(1, (DEMO_END - min(c.start for c in ref.coverage)).days)
        for i, day in enumerate(days):
            prev_closed_weekday = (
                i > 0 and days[i - 1].isoweekday() <= 5 and not is_open[i - 1]
                and days[i - 1] in hol
            )
            weekday = day.isoweekday()
            season = CHRISTMAS_FACTOR if (day.month == 12 and day.day >= 24) else SEASON[day.month]
            email_share = EMAIL_SHARE_START + (EMAIL_SHARE_END - EMAIL_SHARE_START) * min(
                1.0, max(0.0, (day - min(c.start for c in ref.coverage)).days / span)
            )
            for j, dept in enumerate(depts):
                cov = [c for c in covs if c.department == dept and c.start <= day <= c.end]
                if not cov:
                    continue
                covered[i, j] = True
                since = (day - max(c.start for c in cov)).days
                ramp = 1.0 - RAMP_DEPTH * math.exp(-since / RAMP_DAYS)
                load, kind = _campaign_load(day, dept, ref.campaigns)
                kinds[i][j] = kind
                base = (
                    BASE_RATE * ref.population.get(dept, 0) / 1000.0
                    * PROPENSITY.get(dept, 1.0) * season * ramp * scale
                )
                if is_open[i]:
                    wk = WEEKDAY_FACTOR[weekday - 1] if weekday <= 5 else 0.5
                    if prev_closed_weekday:
                        wk *= AFTER_HOLIDAY_FACTOR
                    total = base * wk * (1.0 + load)
                    planned = base * wk * (1.0 + PLANNER_CAMPAIGN_SHARE * load)
                    exp_p[i, j] = total * (1 - email_share)
                    exp_e[i, j] = total * email_share
                    fc_p[i, j] = planned * (1 - email_share)
                    fc_e[i, j] = planned * email_share
                else:
                    share = CLOSED_DAY_SHARE[6] if weekday == 6 else CLOSED_DAY_SHARE[7]
                    closed[i, j] = base * (1.0 + load) * (1 - email_share) * share
        plans.append(_SitePlan(site, days, is_open, depts, exp_p, exp_e, fc_p, fc_e, closed,
                               kinds, covered, first, min(c.start for c in ref.coverage)))
    return plans


# ======================================================================================
# Arrival curves
# ======================================================================================


def _phone_curve(site: _Site) -> np.ndarray:
    """Arrival weights per minute of the opening hours (sums to 1)."""
    m = np.arange(site.opens, site.closes, dtype=float)
    w = (0.2 + 1.0 * np.exp(-0.5 * ((m - 615) / 70) ** 2)
         + 0.55 * np.exp(-0.5 * ((m - 870) / 60) ** 2))
    return w / w.sum()


def _email_curve() -> np.ndarray:
    """E-mail arrival weights per minute, 07:00–23:00 (sums to 1)."""
    m = np.arange(7 * 60, 23 * 60, dtype=float)
    w = 0.3 + np.exp(-0.5 * ((m - 660) / 150) ** 2) + 0.6 * np.exp(-0.5 * ((m - 1260) / 90) ** 2)
    return w / w.sum()
