"""The pilot simulation behind the embedded demo: DGFiP's Rouen and Chartres contact centres.

`build_demo(url)` upgrades the schema, loads the pilot reference data (dashboard/pilot.toml)
and fills the database with a simulated history, from the first coverage start to
31 December 2015, every row with `source = 'demo'`, then records the seed under the key
`demo` of `app_meta`. The coverage periods, campaigns,
populations, time zones and opening hours are read back from the database, so editing the
reference file changes the simulation.

The model, in the order it is computed (site by site, in chunks of days):

1. **Demand.** Expected contacts per département per open day =
   BASE_RATE × population/1000 × propensity × season × weekday × (1 + campaign load) ×
   ramp-up × scale, times a day-level log-normal noise; counts are Poisson. Campaign load
   is a sum of smooth bumps tied to the campaign windows of the `campaigns` table:
   notices (income-tax notices August–September, property-tax deadline mid-October,
   housing-tax deadline mid-November) and declaration (plateau from the opening, spikes
   before the 19 May paper deadline and the online deadline of the département's zone:
   26 May for 01–19, 2 June for 20–49, 9 June for 50 and above). The ramp-up after each
   coverage start is 1 − 0.75·exp(−days/12): the public learns the new number over a few
   weeks. Calls arrive during opening hours along a two-peak intraday curve (around
   10:15 and 14:30); a handful arrive outside hours, or on closed days (weekends, French
   public holidays from `holidays.France`), and are deflected. E-mails arrive on open
   days, 07:00–23:00.
2. **Staffing.** Each site has a team (at scale 1, Rouen 12 → 14 → 18 agents, Chartres
   15 → 20 → 25, hired in steps after the site opens; part-timers; two weeks of summer
   leave starting in July or early August, half the team off at Christmas; 5 % daily
   absence). A planner forecasts each half-hour's load in erlangs (calls and e-mails) from
   the *expected* demand but only anticipates PLANNER_CAMPAIGN_SHARE of the campaign
   uplift (flows were not fully known), asks for a + β·√a agents (square-root staffing),
   and greedily gives the present agents shift patterns (full days of 7 h with staggered
   lunch hours, early and late shifts to closing, half days for part-timers) until the
   need is covered or the team is exhausted. Shifts become agent sessions (login jitter, a
   short break now and then). Staffing therefore lags the campaign peaks: answer rates
   and service level fall there, most at Chartres (Seine-Saint-Denis, high demand), and
   stay around 90 % off season.
3. **Queue.** A discrete-event simulation per site of one blended multi-server FIFO queue
   (M/G/N+M), driven by the sessions: a logged-in free agent takes the longest-waiting
   call; calls have exponential patience (mean 150 s, and 3 % hang up within 5 s) and
   abandon when it runs out; talk is log-normal (mean 330 s) plus wrap-up (mean 60 s);
   an arriving call is deflected (saturation message) when the calls already waiting
   reach max(3, 0.8 × agents logged in). E-mails (FIFO, log-normal handling, mean 540 s)
   are taken by free agents when no call waits and more agents than the planner's phone
   reserve for the half-hour remain on the phone; once the oldest e-mail is over 40 h
   old, every third task goes to e-mails (every second past 60 h, every one past 96 h).
   An e-mail is started only if it ends within the agent's session, so replies fall
   within opening hours; in campaigns they slip past the 48 h pledge. E-mails still
   unanswered at the end are `pending`; ~3 % are closed without reply. The simulation
   runs on local wall-clock seconds (nothing happens near the 02:00–03:00 DST changes,
   which fall on Sundays) and timestamps are converted to naive UTC by
   `dashboard.localtime.localize`; local dates and slots come from `dashboard.core.localtime`.
4. **Labels.** 2 % of answered calls lose their agent (as real exports do); handled
   contacts are flagged `online_service_promoted` with a probability rising from 20 % to
   45 % over the pilot; 90 % of calls and every e-mail carry a pseudonymous `caller_key`
   (SHA-256 of the seed and the first contact's id), and about one contact in six reuses
   the key of an earlier contact of the same département within 7 days, abandoned and
   deflected contacts being about 2.5 times as likely to be followed up; handled
   contacts give Poisson acts of management (about 30 per 100), typed by the campaign in
   force, performed by the same agent during the wrap-up or while writing the reply.

Same seed and scale → identical database content: every random draw comes from
`numpy.random.default_rng([seed, …])` streams named by site and chunk (chunks depend on the
scale only), nothing depends on wall-clock time or on set/dict ordering. Rows are written
chunk by chunk (a calendar month, split beyond CHUNK_CONTACTS expected contacts), one
transaction each, as batched executemany on SQLite and COPY on PostgreSQL, so memory stays
bounded at any scale (about 450 MB at scale 5).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import holidays
import numpy as np
import polars as pl
from sqlalchemy import Connection, delete, func, select

from dashboard.core import localtime
from dashboard.engine import rollups
from dashboard.store import database as dbmod
from dashboard.store import reference, schema

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

# --- service ---------------------------------------------------------------------------
TALK_MEAN, TALK_SIGMA = 330.0, 0.6
WRAP_MEAN, WRAP_SIGMA = 60.0, 0.5
PATIENCE_MEAN = 150.0
QUICK_HANGUP_SHARE = 0.03  # callers who hang up within 5 s (short abandons)
EMAIL_MEAN, EMAIL_SIGMA = 540.0, 0.5
EMAIL_CLOSED_SHARE = 0.03
EMAIL_URGENT_AGE = 40 * 3600
# (backlog age up to, an e-mail after every N calls) once the oldest e-mail is overdue
EMAIL_URGENT_EVERY = ((60 * 3600, 3), (96 * 3600, 2), (1 << 62, 1))
SATURATION_MIN, SATURATION_PER_AGENT = 3, 0.8
NO_AGENT_SHARE = 0.02
PROMOTION_START, PROMOTION_END = 0.20, 0.45

# --- staffing --------------------------------------------------------------------------
# (days after the site's first coverage start, headcount at scale 1)
TEAM_PLAN = {
    "rouen": ((0, 12), (90, 14), (240, 18)),
    "chartres": ((0, 15), (45, 20), (150, 25)),
}
MIN_TEAM = 4  # at small scales: enough people to cover the opening hours despite absences
TEAM_PER_ERLANG = 2.0  # sites without a plan: headcount per off-season erlang
PLANNER_CAMPAIGN_SHARE = 0.2
PLANNER_BETA = 0.6
PLANNER_MIN_AGENTS = 1.0
ABSENCE_RATE = 0.05
PART_TIME_SHARE, HALF_TIME_SHARE = 0.2, 0.1
SHIFT_WORK_MINUTES = 420  # a full day: 7 h on the phone plus a one-hour lunch break
HALF_SHIFT_MINUTES = 240
LUNCH_STARTS = ("11:30", "12:00", "12:30", "13:00", "13:30", "14:00")

# --- labels ----------------------------------------------------------------------------
KEYLESS_PHONE_SHARE = 0.10  # withheld numbers: no caller key
REPEAT_SHARE = 0.18
REPEAT_LAG_MEAN = 1.5 * DAY
REPEAT_WINDOW = 7 * DAY
REPEAT_WEIGHT_HANDLED = 0.3  # abandoned/deflected contacts are followed up with weight 1
REPEAT_ATTEMPTS = 4
ACT_TYPES = (
    "delai_paiement", "changement_adresse", "rectification_declaration", "remise_gracieuse",
    "duplicata_avis", "adhesion_prelevement", "creation_espace_particulier", "attestation",
)
ACTS_PER_HANDLED = {None: 0.28, "avis": 0.34, "declarative": 0.38}
ACT_MIX = {
    None: (0.10, 0.20, 0.10, 0.05, 0.15, 0.10, 0.10, 0.20),
    "avis": (0.25, 0.08, 0.05, 0.15, 0.15, 0.18, 0.07, 0.07),
    "declarative": (0.05, 0.12, 0.30, 0.05, 0.06, 0.05, 0.25, 0.12),
}
CHUNK_CONTACTS = 120_000  # expected contacts per chunk (bounds memory at any scale)
INSERT_BATCH = 20_000

FIRST_NAMES = (
    "Claire", "Julien", "Nathalie", "Sébastien", "Isabelle", "Nicolas", "Sandrine", "Thomas",
    "Céline", "Stéphane", "Valérie", "Christophe", "Sophie", "Laurent", "Aurélie", "David",
    "Émilie", "Frédéric", "Karine", "Olivier", "Marie", "Pierre", "Hélène", "Mathieu",
    "Delphine", "Jérôme", "Caroline", "Vincent", "Sylvie", "Guillaume", "Camille", "Antoine",
    "Laure", "Cédric", "Virginie", "Arnaud", "Anne", "Philippe", "Myriam", "Karim",
    "Fatima", "Yannick", "Corinne", "Benoît", "Agnès", "Hugo", "Léa", "Patrick",
)
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont",
    "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau",
    "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu",
    "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson",
    "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Benali",
)


class DemoExistsError(RuntimeError):
    """The database already has contacts and no replacement was asked for."""


@dataclass(frozen=True)
class DemoSummary:
    """What a demo build wrote, and how long it took."""

    contacts: int
    phone: int
    email: int
    acts: int
    agents: int
    sessions: int
    users: int
    seconds: float


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
# Curves and shifts
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


def _slot_bounds(site: _Site) -> np.ndarray:
    """Start minutes of the half-hour planning slots of the opening hours."""
    return np.arange(site.opens, site.closes, 30)


@dataclass(frozen=True)
class _Patterns:
    intervals: list[list[tuple[int, int]]]  # minutes after local midnight
    cover: np.ndarray  # [pattern, slot] share of each planning slot worked (0..1)
    half: np.ndarray  # bool: a half-day pattern
    morning: np.ndarray  # bool: a morning half-day pattern


def _patterns(site: _Site) -> _Patterns:
    """Shift patterns within opening hours: full days with staggered lunches, half days."""
    o, c = site.opens, site.closes
    full_len = SHIFT_WORK_MINUTES + 60
    shapes: list[list[tuple[int, int]]] = []
    starts = sorted({min(max(o, o + k * 30), max(o, c - full_len)) for k in range(0, 5)}
                    | {max(o, c - full_len)})
    for start in starts:
        end = min(c, start + full_len)
        for lunch in (_minutes(x) for x in LUNCH_STARTS):
            if start + 120 <= lunch and lunch + 60 + 120 <= end:
                shapes.append([(start, lunch), (lunch + 60, end)])
    half = len(shapes)
    morning = []
    for start in (o, o + 30):
        shapes.append([(start, min(c, start + HALF_SHIFT_MINUTES))])
        morning.append(len(shapes) - 1)
    for end in (c, c - 60, c - 90):
        shapes.append([(max(o, end - HALF_SHIFT_MINUTES), end)])
    slots = _slot_bounds(site)
    cover = np.zeros((len(shapes), len(slots)))
    for p, intervals in enumerate(shapes):
        for lo, hi in intervals:
            cover[p] += np.clip(np.minimum(slots + 30, hi) - np.maximum(slots, lo), 0, 30) / 30.0
    is_half = np.arange(len(shapes)) >= half
    is_morning = np.zeros(len(shapes), dtype=bool)
    is_morning[morning] = True
    return _Patterns(shapes, cover, is_half, is_morning)


# ======================================================================================
# Teams
# ======================================================================================


@dataclass
class _Team:
    ids: list[str]
    names: list[str]
    teams: list[str]
    hired: np.ndarray  # day index (into the site plan) from which the agent works
    kind: np.ndarray  # 0 full time, 1 part time (off on Wednesdays), 2 half days (mornings)
    leave: np.ndarray  # bool [agent, day]


def _team_plan(plan: _SitePlan, scale: float) -> list[tuple[int, int]]:
    steps = TEAM_PLAN.get(plan.site.code)
    if steps is None:
        # Unknown site: a team sized on its first off-season month.
        erl = (plan.expected_phone[:30].sum(axis=1) * (TALK_MEAN + WRAP_MEAN)
               + plan.expected_email[:30].sum(axis=1) * EMAIL_MEAN)
        open_s = (plan.site.closes - plan.site.opens) * 60
        mean_erl = float(erl[plan.open_days[:30]].mean()) / open_s if plan.open_days[:30].any() else 1
        return [(0, max(MIN_TEAM, math.ceil(TEAM_PER_ERLANG * mean_erl * 1.5)))]
    return [(offset, max(MIN_TEAM, round(n * scale))) for offset, n in steps]


def _build_team(plan: _SitePlan, scale: float, rng: np.random.Generator,
                names: list[str]) -> _Team:
    steps = _team_plan(plan, scale)
    n = max(count for _, count in steps)
    hired = np.zeros(n, dtype=int)
    done = 0
    for offset, count in steps:
        if count > done:
            hired[done:count] = offset
            done = count
    width = max(2, len(str(n)))
    ids = [f"{plan.site.code}-a{i + 1:0{width}d}" for i in range(n)]
    teams = [f"Équipe {chr(ord('A') + (i // 8) % 26)}{'' if i < 208 else i // 208}"
             for i in range(n)]
    u = rng.random(n)
    kind = np.where(u < HALF_TIME_SHARE, 2, np.where(u < HALF_TIME_SHARE + PART_TIME_SHARE, 1, 0))
    kind[:2] = 0  # the first two (team leaders) work full time, so a small team covers the day
    n_days = len(plan.days)
    leave = np.zeros((n, n_days), dtype=bool)
    day_num = np.array([_day_number(d) for d in plan.days])
    for year in sorted({d.year for d in plan.days}):
        # Summer: two consecutive weeks starting between early July and early August (leave
        # is restricted once the notices campaign peaks), for agents hired before June;
        # Christmas: half the team takes the last week of the year.
        summer0 = dt.date(year, 7, 6)
        for a in range(n):
            hire_day = plan.first_day + dt.timedelta(days=int(hired[a]))
            if hire_day < dt.date(year, 6, 1):
                start = summer0 + dt.timedelta(days=7 * int(rng.integers(0, 5)))
                lo, hi = _day_number(start), _day_number(start) + 14
                leave[a] |= (day_num >= lo) & (day_num < hi)
            if rng.random() < 0.5 and hire_day < dt.date(year, 11, 1):
                lo = _day_number(dt.date(year, 12, 24))
                leave[a] |= (day_num >= lo) & (day_num <= lo + 7)
    return _Team(ids, names, teams, hired, kind, leave)


def _schedule(plan: _SitePlan, team: _Team, chunk_days: list[int], rng: np.random.Generator):
    """Agent sessions (agent index, start, end in local seconds) for the chunk's open days,
    and the planner's phone reserve per half-hour as (time, agents) ticks."""
    site = plan.site
    shifts = _patterns(site)
    cover = shifts.cover
    curve = _phone_curve(site)
    slot_share = np.add.reduceat(curve, np.arange(0, len(curve), 30))
    slot_starts = _slot_bounds(site)
    open_s = (site.closes - site.opens) * 60
    agents_out, start_out, end_out = [], [], []
    tick_t, tick_n = [], []
    n = len(team.ids)
    for i in chunk_days:
        if not plan.open_days[i]:
            continue
        day = plan.days[i]
        phone_erl = plan.forecast_phone[i].sum() * slot_share * (TALK_MEAN + WRAP_MEAN) / 1800.0
        total_erl = phone_erl + plan.forecast_email[i].sum() * EMAIL_MEAN / open_s
        need = np.maximum(total_erl + PLANNER_BETA * np.sqrt(total_erl), PLANNER_MIN_AGENTS)
        reserve = np.maximum(np.ceil(phone_erl + PLANNER_BETA * np.sqrt(phone_erl)), 1)
        base = _day_number(day) * DAY
        tick_t.extend((base + slot_starts * 60).tolist())
        tick_n.extend(reserve.astype(int).tolist())
        present = (
            (team.hired <= i)
            & ~team.leave[:, i]
            & (rng.random(n) >= ABSENCE_RATE)
            & ~((team.kind == 1) & (day.isoweekday() == 3))
        )
        half_day = rng.random(n) < 0.3
        order = rng.permutation(n)
        remaining = need.copy()
        for a in order:
            if not present[a]:
                continue
            gain = np.minimum(cover, np.maximum(remaining, 0.0)).sum(axis=1)
            if team.kind[a] == 2:
                gain = np.where(shifts.morning, gain, -1.0)
            elif team.kind[a] == 1 and half_day[a]:
                gain = np.where(shifts.half, gain, -1.0)
            p = int(np.argmax(gain))
            if gain[p] < 0.5:
                continue
            remaining -= cover[p]
            for lo, hi in shifts.intervals[p]:
                s = base + lo * 60 + int(rng.integers(0, 240))
                e = base + hi * 60 - int(rng.integers(0, 180))
                if hi - lo >= 150 and rng.random() < 0.25:
                    # A short break splits the session in two.
                    b = s + int(rng.integers(3600, (hi - lo) * 60 - 3600))
                    agents_out += [a, a]
                    start_out += [s, b + int(rng.integers(600, 1200))]
                    end_out += [b, e]
                else:
                    agents_out.append(a)
                    start_out.append(s)
                    end_out.append(e)
            if (remaining <= 0.25).all():
                break
    sessions = (np.array(agents_out, dtype=np.int64), np.array(start_out, dtype=np.int64),
                np.array(end_out, dtype=np.int64))
    return sessions, (tick_t, tick_n)


# ======================================================================================
# The queue
# ======================================================================================


def _simulate_queue(call_t, call_patience, call_handle, email_t, email_handle,
                    sess_agent, sess_start, sess_end, tick_t, tick_n, n_agents):
    """Blended M/G/N+M FIFO queue driven by agent sessions; see the module docstring.

    All times are integer local seconds. At tick_t[k] the planner's phone reserve becomes
    tick_n[k]: agents take e-mails only while more than that many logged-in agents are left
    for calls (or when the oldest e-mail is overdue). Returns per call (state 1 answered,
    2 abandoned, 3 deflected; service start; agent) and per e-mail (start or -1; agent).
    """
    inf = 1 << 62
    n_calls, n_emails = len(call_t), len(email_t)
    state = [0] * n_calls
    start = [0] * n_calls
    served = [-1] * n_calls
    e_start = [-1] * n_emails
    e_agent = [-1] * n_emails
    # Events at the same second: logouts, then logins, then reserve ticks.
    events = sorted(
        [(e, 0, a, 0) for a, e in zip(sess_agent, sess_end)]
        + [(s, 1, a, e) for a, s, e in zip(sess_agent, sess_start, sess_end)]
        + [(t, 2, n, 0) for t, n in zip(tick_t, tick_n)]
    )
    logged = [False] * n_agents
    busy = [False] * n_agents
    on_email = [False] * n_agents
    session_end = [0] * n_agents
    since_email = [0] * n_agents
    idle: dict[int, None] = {}  # insertion-ordered: the longest idle agent first
    waiting: deque[int] = deque()
    deadlines: list[tuple[int, int]] = []
    backlog: deque[int] = deque()
    frees: list[tuple[int, int]] = []
    n_waiting = n_logged = n_emailing = 0
    reserve = 1
    ci = ei = si = 0
    n_events = len(events)

    def expire(t):
        nonlocal n_waiting
        while deadlines and deadlines[0][0] <= t:
            _, i = heapq.heappop(deadlines)
            if state[i] == 0:
                state[i] = 2
                n_waiting -= 1

    def take_email(a, t, urgent):
        """Agent A starts the oldest e-mail if allowed and if it ends within its session."""
        nonlocal n_emailing
        if not backlog or (not urgent and n_logged - n_emailing - 1 < reserve):
            return False
        j = backlog[0]
        if t + email_handle[j] > session_end[a]:
            return False
        backlog.popleft()
        e_start[j] = t
        e_agent[j] = a
        busy[a] = on_email[a] = True
        n_emailing += 1
        since_email[a] = 0
        heapq.heappush(frees, (t + email_handle[j], a))
        return True

    def answer(a, i, t):
        state[i] = 1
        start[i] = t
        served[i] = a
        busy[a] = True
        since_email[a] += 1
        heapq.heappush(frees, (t + call_handle[i], a))

    def dispatch(a, t):
        """Agent A is logged in and free at T: give it work or make it idle."""
        nonlocal n_waiting
        expire(t)
        # An overdue e-mail backlog gets every few tasks of each agent, calls or not, the
        # more often the older it is (a supervisor moves agents to the e-mails).
        if backlog:
            age = t - email_t[backlog[0]]
            if age > EMAIL_URGENT_AGE:
                every = next(n for limit, n in EMAIL_URGENT_EVERY if age <= limit)
                if since_email[a] >= every and take_email(a, t, True):
                    return
        if n_waiting:
            while True:
                i = waiting.popleft()
                if state[i] == 0:
                    break
            n_waiting -= 1
            answer(a, i, t)
            return
        if not take_email(a, t, False):
            idle[a] = None

    def idle_to_email(t):
        """Idle agents take e-mails while the reserve (or an overdue backlog) allows."""
        for a in list(idle):
            if not backlog:
                break
            urgent = t - email_t[backlog[0]] > EMAIL_URGENT_AGE
            if not urgent and n_logged - n_emailing - 1 < reserve:
                break
            if take_email(a, t, urgent):
                del idle[a]

    while True:
        tf = frees[0][0] if frees else inf
        ts = events[si][0] if si < n_events else inf
        te = email_t[ei] if ei < n_emails else inf
        tc = call_t[ci] if ci < n_calls else inf
        t = min(tf, ts, te, tc)
        if t == inf:
            break
        if tf == t:
            _, a = heapq.heappop(frees)
            busy[a] = False
            if on_email[a]:
                on_email[a] = False
                n_emailing -= 1
            if logged[a]:
                dispatch(a, t)
        elif ts == t:
            _, kind, a, end = events[si]
            si += 1
            if kind == 1:
                logged[a] = True
                n_logged += 1
                session_end[a] = end
                if not busy[a]:
                    dispatch(a, t)
            elif kind == 0:
                logged[a] = False
                n_logged -= 1
                idle.pop(a, None)
            else:
                reserve = a
                idle_to_email(t)
        elif te == t:
            backlog.append(ei)
            ei += 1
            if idle and len(backlog) == 1:
                # Idle agents with an older backlog waiting are held back by the reserve.
                idle_to_email(t)
        else:
            i = ci
            ci += 1
            expire(t)
            if idle:
                a = next(iter(idle))
                del idle[a]
                answer(a, i, t)
            elif n_waiting >= max(SATURATION_MIN, int(SATURATION_PER_AGENT * n_logged)):
                state[i] = 3
            else:
                waiting.append(i)
                heapq.heappush(deadlines, (t + call_patience[i], i))
                n_waiting += 1
    expire(inf)
    return state, start, served, e_start, e_agent


# ======================================================================================
# Chunks: demand draws, queue, rows
# ======================================================================================


@dataclass
class _Carry:
    """State carried from one chunk to the next for one site."""

    emails: pl.DataFrame | None = None  # e-mails not yet handled
    tail: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # 7-day caller tail
    phone_no: int = 0
    email_no: int = 0
    act_no: int = 0


def _lognormal(rng, mean, sigma, size):
    return rng.lognormal(math.log(mean) - sigma**2 / 2, sigma, size)


def _draw_calls(plan: _SitePlan, chunk_days: list[int], rng) -> pl.DataFrame:
    """In-hours and out-of-hours calls of the chunk, sorted by arrival (local seconds)."""
    site = plan.site
    curve = _phone_curve(site)
    t_parts, d_parts, oh_parts, k_parts = [], [], [], []
    for i in chunk_days:
        base = _day_number(plan.days[i]) * DAY
        for j, dept in enumerate(plan.departments):
            if not plan.covered[i, j]:
                continue
            kind = plan.kind[i][j]
            if plan.open_days[i]:
                lam = plan.expected_phone[i, j] * rng.lognormal(0.0, DAY_NOISE_SIGMA)
                n = int(rng.poisson(lam))
                minute = rng.choice(len(curve), size=n, p=curve) + site.opens
                t = base + minute * 60 + rng.integers(0, 60, n)
                n_oh = int(rng.poisson(lam * OUT_OF_HOURS_SHARE))
                early = rng.random(n_oh) < 0.5
                oh = np.where(
                    early,
                    base + rng.integers(max(0, site.opens * 60 - 3600), site.opens * 60, n_oh),
                    base + rng.integers(site.closes * 60, min(DAY, site.closes * 60 + 5400), n_oh),
                )
                t = np.concatenate([t, oh])
                flag = np.concatenate([np.zeros(n, bool), np.ones(n_oh, bool)])
            else:
                n_oh = int(rng.poisson(plan.closed_calls[i, j]))
                t = base + rng.integers(9 * 3600, 18 * 3600, n_oh)
                flag = np.ones(n_oh, bool)
            t_parts.append(t)
            oh_parts.append(flag)
            d_parts.append(np.full(len(t), j))
            k_parts.append(np.full(len(t), _KIND_CODE[kind]))
    if not t_parts:
        return pl.DataFrame(schema={"t": pl.Int64, "dept": pl.Int64, "closed": pl.Boolean,
                                    "kind": pl.Int8})
    frame = pl.DataFrame({
        "t": np.concatenate(t_parts).astype(np.int64),
        "dept": np.concatenate(d_parts).astype(np.int64),
        "closed": np.concatenate(oh_parts),
        "kind": np.concatenate(k_parts).astype(np.int8),
    })
    return frame.sort("t", maintain_order=True)


def _draw_emails(plan: _SitePlan, chunk_days: list[int], rng) -> pl.DataFrame:
    curve = _email_curve()
    t_parts, d_parts, k_parts = [], [], []
    for i in chunk_days:
        if not plan.open_days[i]:
            continue
        base = _day_number(plan.days[i]) * DAY
        for j in range(len(plan.departments)):
            if not plan.covered[i, j]:
                continue
            n = int(rng.poisson(plan.expected_email[i, j] * rng.lognormal(0.0, DAY_NOISE_SIGMA)))
            minute = rng.choice(len(curve), size=n, p=curve) + 7 * 60
            t_parts.append(base + minute * 60 + rng.integers(0, 60, n))
            d_parts.append(np.full(n, j))
            k_parts.append(np.full(n, _KIND_CODE[plan.kind[i][j]]))
    if not t_parts:
        return pl.DataFrame(schema={"t": pl.Int64, "dept": pl.Int64, "kind": pl.Int8})
    frame = pl.DataFrame({
        "t": np.concatenate(t_parts).astype(np.int64),
        "dept": np.concatenate(d_parts).astype(np.int64),
        "kind": np.concatenate(k_parts).astype(np.int8),
    })
    return frame.sort("t", maintain_order=True)


_KINDS: tuple[str | None, ...] = (None, "avis", "declarative", "other")
_KIND_CODE = {k: i for i, k in enumerate(_KINDS)}


def _by_kind(table: dict, kind_codes: np.ndarray, default_key=None) -> np.ndarray:
    """Rows of TABLE (by campaign kind) for each kind code."""
    rows = [np.asarray(table.get(k, table[default_key]), dtype=float) for k in _KINDS]
    return np.stack(rows)[kind_codes]


def _choose(rng, probs: np.ndarray) -> np.ndarray:
    """One category per row of PROBS (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return (u >= cum).sum(axis=1).clip(0, probs.shape[1] - 1)


def _caller_keys(seed: int, carry: _Carry, dept: str, t: np.ndarray,
                 weight: np.ndarray, ids: list[str], rng) -> list[str | None]:
    """Caller keys for new keyed contacts of one département, sorted by time; see docstring."""
    tail = carry.tail.get(dept)
    n_tail = 0 if tail is None else len(tail["t"])
    all_t = t if tail is None else np.concatenate([tail["t"], t])
    all_w = weight if tail is None else np.concatenate([tail["w"], weight])
    n = len(t)
    pos = np.arange(n_tail, n_tail + n)
    parent = np.arange(n_tail + n)
    todo = rng.random(n) < REPEAT_SHARE
    # The earlier contact is drawn by how many contacts back it is (exponential, a mean of
    # REPEAT_LAG_MEAN's worth of contacts), not by clock time: a time lag landing on a
    # weekend would make the first Monday call everybody's earlier contact.
    per_second = n / max(DAY, float(t[-1] - t[0])) if n else 0.0
    mean_back = max(1.0, per_second * REPEAT_LAG_MEAN)
    for _ in range(REPEAT_ATTEMPTS):
        j = pos - 1 - np.floor(rng.exponential(mean_back, n)).astype(np.int64)
        ok = todo & (j >= 0)
        jj = np.where(ok, j, 0)
        ok &= all_t[pos] - all_t[jj] <= REPEAT_WINDOW
        accept = ok & (rng.random(n) < all_w[jj])
        parent[pos[accept]] = jj[accept]
        todo &= ~accept
    root = parent
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    keys: list[str | None] = [None] * (n_tail + n)
    if tail is not None:
        keys[:n_tail] = tail["key"].tolist()
    for k in range(n):
        r = root[n_tail + k]
        if r == n_tail + k:
            keys[r] = hashlib.sha256(f"{SOURCE}:{seed}:{ids[k]}".encode()).hexdigest()
    for k in range(n):
        keys[n_tail + k] = keys[root[n_tail + k]]
    # Keep the last seven days as the tail of the next chunk.
    if n_tail + n:
        keep = all_t >= all_t[-1] - REPEAT_WINDOW
        carry.tail[dept] = {"t": all_t[keep], "w": all_w[keep],
                            "key": np.array(keys, dtype=object)[keep]}
    return keys[n_tail:]


def _to_utc(frame: pl.DataFrame, local_col: str, utc_col: str, tz: str) -> pl.DataFrame:
    return frame.with_columns(
        localtime.localize(pl.from_epoch(pl.col(local_col), time_unit="s"), tz)
        .dt.cast_time_unit("us").alias(utc_col)
    )


def _simulate_chunk(seed, plan, team, chunk_index, chunk_days, carry, final, tz):
    """Run one chunk of one site: returns contact, act and session frames to insert."""
    site = plan.site
    rng = lambda k: np.random.default_rng([seed, site.index, chunk_index, k])  # noqa: E731
    calls = _draw_calls(plan, chunk_days, rng(1))
    new_emails = _draw_emails(plan, chunk_days, rng(2))
    (sess_agent, sess_start, sess_end), (tick_t, tick_n) = _schedule(
        plan, team, chunk_days, rng(3))

    # Per-call service attributes.
    r = rng(4)
    n = calls.height
    talk = np.maximum(15, _lognormal(r, TALK_MEAN, TALK_SIGMA, n)).astype(np.int64)
    wrap = np.maximum(5, _lognormal(r, WRAP_MEAN, WRAP_SIGMA, n)).astype(np.int64)
    patience = np.where(
        r.random(n) < QUICK_HANGUP_SHARE,
        r.integers(0, 5, n),
        np.ceil(r.exponential(PATIENCE_MEAN, n)),
    ).astype(np.int64)
    queue = _choose(r, _by_kind(QUEUE_MIX, calls["kind"].to_numpy()))
    calls = calls.with_columns(
        pl.Series("talk", talk), pl.Series("wrap", wrap), pl.Series("patience", patience),
        pl.Series("queue", queue.astype(np.int8)),
        (pl.int_range(pl.len(), dtype=pl.Int64) + carry.phone_no + 1).alias("no"),
    )
    carry.phone_no += n

    # New e-mails get their number, handling time and fate now; earlier ones are carried.
    m = new_emails.height
    handle = np.maximum(60, _lognormal(r, EMAIL_MEAN, EMAIL_SIGMA, m)).astype(np.int64)
    closes = r.random(m) < EMAIL_CLOSED_SHARE
    handle = np.where(closes, r.integers(30, 120, m), handle)
    equeue = _choose(r, _by_kind(QUEUE_MIX, new_emails["kind"].to_numpy()))
    new_emails = new_emails.with_columns(
        pl.Series("handle", handle), pl.Series("closes", closes),
        pl.Series("queue", equeue.astype(np.int8)),
        (pl.int_range(pl.len(), dtype=pl.Int64) + carry.email_no + 1).alias("no"),
    )
    carry.email_no += m

    # Caller keys for the chunk's new contacts, both channels, département by département.
    open_calls = ~calls["closed"].to_numpy()
    rk = rng(5)
    keyless = (rk.random(n) < KEYLESS_PHONE_SHARE)
    phone_keys: list[str | None] = [None] * n
    email_keys: list[str | None] = [None] * m

    # The queue.
    inh = np.flatnonzero(open_calls)
    state, start, served, e_start, e_agent = _simulate_queue(
        calls["t"].to_numpy()[inh].tolist(), patience[inh].tolist(),
        (talk + wrap)[inh].tolist(),
        *_email_inputs(carry.emails, new_emails),
        sess_agent.tolist(), sess_start.tolist(), sess_end.tolist(), tick_t, tick_n,
        len(team.ids),
    )
    outcome = np.full(n, 3, dtype=np.int8)  # deflected unless simulated
    outcome[inh] = state
    begin = np.zeros(n, dtype=np.int64)
    begin[inh] = start
    agent = np.full(n, -1, dtype=np.int64)
    agent[inh] = served

    # Followed-up contacts are picked with a higher weight after an abandon or deflection.
    dept_idx = calls["dept"].to_numpy()
    emails_all = new_emails  # keys are given once, when the e-mail arrives
    for j, dept in enumerate(plan.departments):
        pi = np.flatnonzero((dept_idx == j) & ~keyless)
        ej = np.flatnonzero(emails_all["dept"].to_numpy() == j)
        t_all = np.concatenate([calls["t"].to_numpy()[pi], emails_all["t"].to_numpy()[ej]])
        w_all = np.concatenate([
            np.where(outcome[pi] == 1, REPEAT_WEIGHT_HANDLED, 1.0),
            np.full(len(ej), REPEAT_WEIGHT_HANDLED),
        ])
        ids = ([f"P-{site.code}-{x}" for x in calls["no"].to_numpy()[pi]]
               + [f"E-{site.code}-{x}" for x in emails_all["no"].to_numpy()[ej]])
        order = np.argsort(t_all, kind="stable")
        keys = _caller_keys(seed, carry, dept, t_all[order], w_all[order],
                            [ids[k] for k in order], rk)
        for rank, k in enumerate(order):
            if k < len(pi):
                phone_keys[pi[k]] = keys[rank]
            else:
                email_keys[ej[k - len(pi)]] = keys[rank]
    new_emails = new_emails.with_columns(pl.Series("caller_key", email_keys, dtype=pl.String))

    # Phone rows.
    r6 = rng(6)
    answered = outcome == 1
    wait = np.where(answered, begin - calls["t"].to_numpy(), np.where(outcome == 2, patience, 0))
    agent = np.where(answered & (r6.random(n) < NO_AGENT_SHARE), -2, agent)  # -2: lost id
    phone = calls.with_columns(
        pl.Series("outcome", outcome), pl.Series("wait", wait.astype(np.int64)),
        pl.Series("agent", agent), pl.Series("caller_key", phone_keys, dtype=pl.String),
    )
    phone = _to_utc(phone, "t", "received_at", tz).with_columns(
        pl.lit("phone").alias("channel"),
        pl.format("P-{}-{}", pl.lit(site.code), pl.col("no").cast(pl.String).str.zfill(8))
        .alias("contact_id"),
        pl.when(pl.col("outcome") == 1)
        .then(pl.col("received_at") + pl.duration(seconds=pl.col("wait")))
        .alias("answered_at"),
        pl.when(pl.col("outcome") == 1)
        .then(pl.col("received_at") + pl.duration(seconds=pl.col("wait") + pl.col("talk")))
        .otherwise(pl.col("received_at") + pl.duration(seconds=pl.col("wait")))
        .alias("ended_at"),
        pl.when(pl.col("outcome") == 1).then(pl.col("talk")).otherwise(0).alias("talk_seconds"),
        pl.when(pl.col("outcome") == 1).then(pl.col("wrap")).otherwise(0).alias("wrap_seconds"),
        pl.col("wait").alias("wait_seconds"),
        pl.col("outcome").replace_strict({1: "answered", 2: "abandoned", 3: "deflected"},
                                         return_dtype=pl.String).alias("outcome_name"),
        # Local seconds when the agent was done (acts are performed then).
        (pl.col("t") + pl.col("wait") + pl.col("talk")).alias("done_local"),
        (pl.col("outcome") == 1).alias("handled"),
    )

    # E-mail rows: the ones handled in this chunk, plus the pending ones at the very end.
    emails = new_emails if carry.emails is None else pl.concat([carry.emails, new_emails])
    e_start = np.array(e_start, dtype=np.int64)
    e_agent = np.array(e_agent, dtype=np.int64)
    emails = emails.with_columns(pl.Series("e_start", e_start), pl.Series("agent", e_agent))
    done = emails.filter(pl.col("e_start") >= 0)
    carry.emails = emails.filter(pl.col("e_start") < 0).drop("e_start", "agent")
    if final:
        done = pl.concat([done, emails.filter(pl.col("e_start") < 0)])
        carry.emails = None
    done = _to_utc(done, "t", "received_at", tz)
    done = done.with_columns((pl.col("e_start") + pl.col("handle")).alias("done_local"))
    done = _to_utc(done, "done_local", "done_at", tz).with_columns(
        pl.lit("email").alias("channel"),
        pl.format("E-{}-{}", pl.lit(site.code), pl.col("no").cast(pl.String).str.zfill(8))
        .alias("contact_id"),
        pl.when(pl.col("e_start") < 0).then(pl.lit("pending"))
        .when(pl.col("closes")).then(pl.lit("closed"))
        .otherwise(pl.lit("replied")).alias("outcome_name"),
    ).with_columns(
        pl.when(pl.col("outcome_name") == "replied").then(pl.col("done_at")).alias("answered_at"),
        pl.when(pl.col("outcome_name") != "pending").then(pl.col("done_at")).alias("ended_at"),
        pl.lit(None, pl.Int64).alias("wait_seconds"),
        pl.when(pl.col("outcome_name") != "pending").then(pl.col("handle")).otherwise(0)
        .alias("talk_seconds"),
        pl.lit(0, pl.Int64).alias("wrap_seconds"),
        (pl.col("outcome_name") == "replied").alias("handled"),
    )

    # Online-service promotion on handled contacts, rising over the pilot.
    cols = ["contact_id", "channel", "dept", "queue", "received_at", "answered_at", "ended_at",
            "outcome_name", "wait_seconds", "talk_seconds", "wrap_seconds", "agent",
            "caller_key", "handled", "kind", "t", "done_local"]
    contacts = pl.concat([phone.select(cols), done.select(cols)], how="vertical_relaxed")
    r7 = rng(7)
    first = _day_number(plan.pilot_start) * DAY
    span = max(1, (_day_number(DEMO_END) + 1) * DAY - first)
    share = PROMOTION_START + (PROMOTION_END - PROMOTION_START) * np.clip(
        (contacts["t"].to_numpy() - first) / span, 0, 1)
    promoted = r7.random(contacts.height) < share
    contacts = contacts.with_columns(
        pl.when(pl.col("handled")).then(pl.Series(promoted)).alias("online_service_promoted")
    )

    acts = _acts(plan, team, contacts, carry, r7, tz)
    contacts = _finish_contacts(plan, team, contacts, tz)
    sessions = _sessions_frame(plan, team, sess_agent, sess_start, sess_end, tz)
    return contacts, acts, sessions


def _email_inputs(carried: pl.DataFrame | None, new: pl.DataFrame):
    """Arrival and handling times of the carried backlog followed by the new e-mails."""
    parts = [new] if carried is None else [carried, new]
    return ([x for f in parts for x in f["t"].to_list()],
            [x for f in parts for x in f["handle"].to_list()])


def _agent_ids(team: _Team, col: str = "agent") -> pl.Expr:
    """Agent index → agent_id; negative indices (no agent, lost id) → NULL."""
    mapping = {i: agent_id for i, agent_id in enumerate(team.ids)}
    return pl.col(col).replace_strict(mapping, default=None, return_dtype=pl.String)


def _acts(plan, team, contacts: pl.DataFrame, carry: _Carry, rng, tz) -> pl.DataFrame:
    """Acts of management from the handled contacts that have their agent."""
    site = plan.site
    handled = contacts.filter(pl.col("handled") & (pl.col("agent") >= 0))
    kinds = handled["kind"].to_numpy()
    rate = np.array([ACTS_PER_HANDLED.get(k, ACTS_PER_HANDLED[None]) for k in _KINDS])[kinds]
    count = rng.poisson(rate)
    idx = np.repeat(np.arange(handled.height), count)
    rows = handled[idx]
    k = len(idx)
    act_type = _choose(rng, _by_kind(ACT_MIX, rows["kind"].to_numpy()))
    done = rows["done_local"].to_numpy()
    is_phone = (rows["channel"] == "phone").to_numpy()
    day_close = (done // DAY) * DAY + site.closes * 60
    # Phone: during the wrap-up, before closing when the call ended in time. E-mail: while
    # writing the reply.
    room = np.where(is_phone, np.minimum(rows["wrap_seconds"].to_numpy(),
                                         np.maximum(0, day_close - done)),
                    -rows["talk_seconds"].to_numpy())
    performed = done + (rng.random(k) * room).astype(np.int64)
    frame = pl.DataFrame({
        "performed": performed,
        "act_type": pl.Series([ACT_TYPES[x] for x in act_type], dtype=pl.String),
        "dept": rows["dept"], "agent": rows["agent"], "contact_id": rows["contact_id"],
    })
    frame = frame.with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) + carry.act_no + 1).alias("no")
    )
    carry.act_no += k
    frame = _to_utc(frame, "performed", "performed_at", tz)
    frame = frame.with_columns(
        pl.format("A-{}-{}", pl.lit(site.code), pl.col("no").cast(pl.String).str.zfill(8))
        .alias("act_id"),
        localtime.local_date(pl.col("performed_at"), tz).alias("local_date"),
        localtime.local_slot(pl.col("performed_at"), tz).alias("local_slot"),
        _dept_names(plan).alias("department"),
        _agent_ids(team).alias("agent_id"),
    )
    # An act must fall within its département's coverage (a late e-mail reply might not).
    frame = frame.filter(_covered(plan, "local_date"))
    return frame.select(
        pl.lit(SOURCE).alias("source"), "act_id", "performed_at", "act_type",
        pl.lit(site.code).alias("site"), "department", "agent_id", "contact_id",
        "local_date", "local_slot",
    )


def _dept_names(plan: _SitePlan) -> pl.Expr:
    return pl.col("dept").replace_strict(
        {j: d for j, d in enumerate(plan.departments)}, return_dtype=pl.String
    )


def _covered(plan: _SitePlan, date_col: str) -> pl.Expr:
    ok = pl.lit(False)
    for j, _ in enumerate(plan.departments):
        col = plan.covered[:, j]
        # Coverage as ranges of day indices (usually one range per département).
        edges = np.flatnonzero(np.diff(np.concatenate([[0], col.astype(int), [0]])))
        for lo, hi in zip(edges[::2], edges[1::2]):
            ok = ok | ((pl.col("dept") == j)
                       & pl.col(date_col).is_between(plan.days[lo], plan.days[hi - 1]))
    return ok


def _finish_contacts(plan, team, contacts: pl.DataFrame, tz) -> pl.DataFrame:
    return contacts.with_columns(
        localtime.local_date(pl.col("received_at"), tz).alias("local_date"),
        localtime.local_slot(pl.col("received_at"), tz).alias("local_slot"),
        _dept_names(plan).alias("department"),
        _agent_ids(team).alias("agent_id"),
        pl.col("queue").replace_strict({i: q for i, q in enumerate(QUEUES)},
                                       return_dtype=pl.String).alias("queue_name"),
    ).select(
        pl.lit(SOURCE).alias("source"), "contact_id", "channel",
        pl.lit(plan.site.code).alias("site"), "department",
        pl.col("queue_name").alias("queue"), "received_at", "answered_at", "ended_at",
        pl.col("outcome_name").alias("outcome"),
        pl.col("wait_seconds").cast(pl.Int64), pl.col("talk_seconds").cast(pl.Int64),
        pl.col("wrap_seconds").cast(pl.Int64), "agent_id", "online_service_promoted",
        "caller_key", "local_date", "local_slot",
    ).sort("received_at", "contact_id")


def _sessions_frame(plan, team, agent, start, end, tz) -> pl.DataFrame:
    frame = pl.DataFrame({"agent": agent, "s": start, "e": end})
    frame = _to_utc(_to_utc(frame, "s", "start_at", tz), "e", "end_at", tz)
    return frame.with_columns(
        _agent_ids(team).alias("agent_id"),
        localtime.local_date(pl.col("start_at"), tz).alias("local_date"),
    ).select(
        pl.lit(SOURCE).alias("source"), "agent_id", pl.lit(plan.site.code).alias("site"),
        "start_at", "end_at", "local_date",
    ).sort("start_at", "agent_id")


def _chunks(plan: _SitePlan) -> list[list[int]]:
    """Day indices per chunk: a calendar month, split when it exceeds CHUNK_CONTACTS."""
    chunks, current, volume = [], [], 0.0
    for i, day in enumerate(plan.days):
        if current and (day.day == 1 or volume >= CHUNK_CONTACTS):
            chunks.append(current)
            current, volume = [], 0.0
        current.append(i)
        volume += plan.expected_phone[i].sum() + plan.expected_email[i].sum()
    if current:
        chunks.append(current)
    return chunks


# ======================================================================================
# Writing
# ======================================================================================


def _insert(conn: Connection, table, frame: pl.DataFrame) -> None:
    """Insert FRAME's rows into TABLE: COPY on PostgreSQL, executemany batches elsewhere."""
    if frame.height == 0:
        return
    if conn.dialect.name == "postgresql":
        dbmod.copy_frame(conn, f'"{table.name}"', frame)
        return
    values = _sqlite_values(conn, table, frame)
    if values is None:
        for offset in range(0, frame.height, INSERT_BATCH):
            conn.execute(table.insert(), frame.slice(offset, INSERT_BATCH).to_dicts())
        return
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({", ".join("?" * frame.width)})'
    for offset in range(0, frame.height, INSERT_BATCH):
        conn.exec_driver_sql(sql, values.slice(offset, INSERT_BATCH).rows())


def _sqlite_values(conn: Connection, table, frame: pl.DataFrame) -> pl.DataFrame | None:
    """FRAME with the values SQLAlchemy's SQLite types would bind, formatted by Polars.

    Formatting half a million timestamps column-wise is several times faster than
    SQLAlchemy's per-value processors. The first row is checked against those processors;
    on any difference this returns None and the caller falls back to SQLAlchemy.
    """
    converted = frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S%.6f") for c, t in frame.schema.items()
         if t == pl.Datetime("us")]
        + [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        + [pl.col(c).cast(pl.Int64) for c, t in frame.schema.items() if t == pl.Boolean]
    )
    if any(t not in (pl.String, pl.Int64, pl.Int32, pl.Int16, pl.Int8, pl.Float64)
           for t in converted.schema.values()):
        return None
    dialect = conn.dialect
    for name in frame.columns:
        given = frame.get_column(name).drop_nulls()
        if given.len() == 0:
            continue
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        expected = processor(given[0]) if processor is not None else given[0]
        if expected != converted.get_column(name).drop_nulls()[0]:
            return None
    return converted


def _names(seed: int, count: int) -> list[str]:
    """COUNT distinct invented French names."""
    rng = np.random.default_rng([seed, 0x4E4D])
    pairs = [f"{f} {last}" for f in FIRST_NAMES for last in LAST_NAMES]
    order = rng.permutation(len(pairs))
    out = [pairs[k] for k in order[:count]]
    for extra in range(len(out), count):  # only at very large scales
        out.append(f"{pairs[order[extra % len(pairs)]]} {extra // len(pairs) + 1}")
    return out


def _delete_demo(conn: Connection, logins: list[str], agent_ids: list[str]) -> None:
    for table in (schema.contacts, schema.acts, schema.agent_sessions):
        conn.execute(delete(table).where(table.c.source == SOURCE))
    conn.execute(delete(schema.users).where(schema.users.c.login.in_(logins)))
    conn.execute(delete(schema.agents).where(schema.agents.c.source == SOURCE))
    for offset in range(0, len(agent_ids), 500):
        part = agent_ids[offset:offset + 500]
        conn.execute(delete(schema.agents).where(schema.agents.c.agent_id.in_(part)))


def build_demo(url: str, seed: int = 2015, scale: float = 1.0,
               progress: Callable[[str, float], None] | None = None,
               replace: bool = False, reference_file: Path = reference.PILOT_FILE
               ) -> DemoSummary:
    """Fill the database at URL with the simulated pilot history (see the module docstring),
    after loading REFERENCE_FILE (sites, départements, coverage, campaigns): the pilots'
    by default; any other network is simulated the same way (bench/national.toml)."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    began = time.perf_counter()
    dbmod.upgrade(url)
    engine = dbmod.get_engine(url)
    with engine.connect() as conn:
        existing = conn.execute(select(func.count()).select_from(schema.contacts)).scalar_one()
    if existing and not replace:
        raise DemoExistsError(
            f"the database already has {existing:,} contacts; rebuild the demo with "
            "replace=True (--replace), which deletes only the demo's rows"
        )
    reference.load_reference(engine, reference_file)
    with engine.connect() as conn:
        ref = _read_reference(conn)
    plans = _site_plans(ref, scale)
    sizes = [_team_plan(p, scale) for p in plans]
    names = _names(seed, sum(max(n for _, n in s) for s in sizes))
    teams, offset = [], 0
    for plan, steps in zip(plans, sizes):
        n = max(count for _, count in steps)
        rng = np.random.default_rng([seed, plan.site.index, 0x7EA])
        teams.append(_build_team(plan, scale, rng, names[offset:offset + n]))
        offset += n

    users = [
        {"login": "admin", "role": "admin", "site": None, "agent_id": None,
         "display_name": "Administrateur"},
        {"login": "directeur", "role": "national", "site": None, "agent_id": None,
         "display_name": "Direction nationale"},
    ]
    for plan in plans:
        users.append({"login": f"superviseur.{plan.site.code}", "role": "supervisor",
                      "site": plan.site.code, "agent_id": None,
                      "display_name": f"Superviseur {plan.site.name}"})
    agent_rows = []
    for plan, team in zip(plans, teams):
        for a, agent_id in enumerate(team.ids):
            agent_rows.append({"agent_id": agent_id, "site": plan.site.code,
                               "display_name": team.names[a], "team": team.teams[a],
                               "active": True, "source": SOURCE})
            users.append({"login": agent_id, "role": "agent", "site": plan.site.code,
                          "agent_id": agent_id, "display_name": team.names[a]})
    with engine.begin() as conn:
        _delete_demo(conn, [u["login"] for u in users], [r["agent_id"] for r in agent_rows])
        if agent_rows:
            conn.execute(schema.agents.insert(), agent_rows)
        conn.execute(schema.users.insert(), users)

    work = [(p, t, k, days) for p, t in zip(plans, teams) for k, days in enumerate(_chunks(p))]
    weights = [p.expected_phone[d].sum() + p.expected_email[d].sum() + 1 for p, _, _, d in work]
    total_weight, done_weight = float(sum(weights)), 0.0
    counts = {"phone": 0, "email": 0, "acts": 0, "sessions": 0}
    carries = {p.site.code: _Carry() for p in plans}
    last_chunk = {p.site.code: len(_chunks(p)) - 1 for p in plans}
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # A large page cache keeps the random-key indexes (caller_key) in memory while
            # loading; NORMAL sync is safe in WAL mode. Restored before the connection goes
            # back to the pool.
            saved = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar_one()
                     for p in ("cache_size", "synchronous")}
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
            conn.commit()
        try:
            for (plan, team, k, days), weight in zip(work, weights):
                carry = carries[plan.site.code]
                contacts, acts, sessions = _simulate_chunk(
                    seed, plan, team, k, days, carry, k == last_chunk[plan.site.code],
                    plan.site.tz,
                )
                with conn.begin():
                    _insert(conn, schema.contacts, contacts)
                    _insert(conn, schema.acts, acts)
                    _insert(conn, schema.agent_sessions, sessions)
                counts["phone"] += int((contacts["channel"] == "phone").sum())
                counts["email"] += int((contacts["channel"] == "email").sum())
                counts["acts"] += acts.height
                counts["sessions"] += sessions.height
                done_weight += weight
                if progress is not None:
                    progress(f"{plan.site.name} {plan.days[days[0]]:%Y-%m}",
                             done_weight / total_weight)
        finally:
            if sqlite:
                conn.rollback()
                for pragma, value in saved.items():
                    conn.exec_driver_sql(f"PRAGMA {pragma}={int(value)}")
                # Fold the WAL back into the file, so that it can be moved or copied alone.
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.commit()
    with engine.begin() as conn:
        # Marks the database as the demo's (schema.app_meta): the app offers its demo
        # identity picker on such a database only.
        conn.execute(delete(schema.app_meta).where(schema.app_meta.c.key == "demo"))
        conn.execute(schema.app_meta.insert().values(key="demo", value=str(seed)))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("contacts", "acts", "agent_sessions"):
                conn.exec_driver_sql(f"ANALYZE {table}")
    rollups.rebuild(engine)  # the pages read the rollups: leave them complete
    return DemoSummary(
        contacts=counts["phone"] + counts["email"], phone=counts["phone"],
        email=counts["email"], acts=counts["acts"], agents=len(agent_rows),
        sessions=counts["sessions"], users=len(users),
        seconds=round(time.perf_counter() - began, 2),
    )
