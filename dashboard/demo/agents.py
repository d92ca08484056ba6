"""Staffing of the simulated sites: teams hired in steps (part-timers, leave, absences),
the planner's shift patterns and daily schedules, which become agent sessions, and the
agents' invented names.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from dashboard.core import localtime
from dashboard.demo import rota
from dashboard.demo.demand import (
    DAY,
    EMAIL_MEAN,
    SOURCE,
    TALK_MEAN,
    WRAP_MEAN,
    _day_number,
    _minutes,
    _phone_curve,
    _Site,
    _SitePlan,
    _to_utc,
)

# --- staffing --------------------------------------------------------------------------
# (days after the site's first coverage start, headcount at scale 1)
TEAM_PLAN = {
    "rouen": ((0, 12), (90, 14), (240, 18)),
    "chartres": ((0, 15), (45, 20), (150, 25)),
}
MIN_TEAM = 4  # at small scales: enough people to cover the opening hours despite absences
TEAM_PER_ERLANG = 2.0  # sites without a plan: headcount per off-season erlang
PLANNER_BETA = 0.6
PLANNER_MIN_AGENTS = 1.0
ABSENCE_RATE = 0.05
PART_TIME_SHARE, HALF_TIME_SHARE = 0.2, 0.1
SHIFT_WORK_MINUTES = 420  # a full day: 7 h on the phone plus a one-hour lunch break
HALF_SHIFT_MINUTES = 240
LUNCH_STARTS = ("11:30", "12:00", "12:30", "13:00", "13:30", "14:00")

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


# ======================================================================================
# Shift patterns
# ======================================================================================


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


def _names(seed: int, count: int) -> list[str]:
    """COUNT distinct invented French names."""
    rng = np.random.default_rng([seed, 0x4E4D])
    pairs = [f"{f} {last}" for f in FIRST_NAMES for last in LAST_NAMES]
    order = rng.permutation(len(pairs))
    out = [pairs[k] for k in order[:count]]
    for extra in range(len(out), count):  # only at very large scales
        out.append(f"{pairs[order[extra % len(pairs)]]} {extra // len(pairs) + 1}")
    return out


# ======================================================================================
# Schedules and sessions
# ======================================================================================


def _schedule(plan: _SitePlan, team: _Team, chunk_days: list[int], rng: np.random.Generator,
              planned: list | None = None):
    """Agent sessions (agent index, start, end in local seconds) for the chunk's open days,
    and the planner's phone reserve per half-hour as (time, agents) ticks; the planned
    shifts go to PLANNED when given (dashboard.demo.rota, drawing nothing)."""
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
            if planned is not None:
                planned.extend(rota.planned_pieces(int(a), base, shifts.intervals[p]))
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


def _agent_ids(team: _Team, col: str = "agent") -> pl.Expr:
    """Agent index → agent_id; negative indices (no agent, lost id) → NULL."""
    mapping = {i: agent_id for i, agent_id in enumerate(team.ids)}
    return pl.col(col).replace_strict(mapping, default=None, return_dtype=pl.String)


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
