"""The review's other records in the demo (spec/review-data.md): what the local services
received, users' survey answers, tool incidents, the staff barometer and training, drawn
from the same reference data, plans, teams and contacts as the rest of the simulation
(the model: dashboard.demo.simulation, item 5).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from dashboard.core import localtime
from dashboard.demo.agents import _Team
from dashboard.demo.demand import (
    AFTER_HOLIDAY_FACTOR,
    CHRISTMAS_FACTOR,
    DAY,
    DAY_NOISE_SIGMA,
    DEMO_END,
    PROPENSITY,
    SEASON,
    SOURCE,
    WEEKDAY_FACTOR,
    _campaign_load,
    _day_number,
    _holidays,
    _Reference,
    _Site,
    _SitePlan,
    _to_utc,
)
from dashboard.store.schema import RECEPTION_CHANNELS, STAFF_QUESTIONS

# --- local services ---------------------------------------------------------------------
RECEPTION_LEAD_WEEKS = 13  # local records start this many weeks before the first opening
# Contacts per 1,000 inhabitants per average open weekday at scale 1, off season.
RECEPTION_RATE = {"guichet": 0.40, "telephone": 0.55, "courriel": 0.15, "courrier": 0.10}
# Share of the campaign load (the centres' campaign bumps) the local services feel.
RECEPTION_CAMPAIGN_SHARE = {"guichet": 0.8, "telephone": 0.7, "courriel": 0.6, "courrier": 0.3}
# Fall at full ramp-up after the département's first coverage start, and its time constant
# in days: the phone falls fast (the new number), the counters slowly (habits).
RELIEF = {"guichet": (0.15, 60.0), "telephone": (0.35, 25.0), "courriel": (0.20, 25.0),
          "courrier": (0.0, 1.0)}
HANDLED_SHARE = {"guichet": 0.97, "telephone": 0.60, "courriel": 0.90, "courrier": 0.95}
MINUTES_PER_HANDLED = {"guichet": 11.0, "telephone": 6.0, "courriel": 9.0, "courrier": 14.0}
# Local services (SIP) by département, with their share of its reception; other
# départements get one service (two above TWO_SERVICES_POPULATION).
SERVICES = {
    "60": (("sip-60-beauvais", 0.6), ("sip-60-compiegne", 0.4)),
    "04": (("sip-04-digne", 1.0),),
    "28": (("sip-28-chartres", 0.6), ("sip-28-dreux", 0.4)),
    "93": (("sip-93-bobigny", 0.55), ("sip-93-saint-denis", 0.45)),
    "27": (("sip-27-evreux", 0.6), ("sip-27-vernon", 0.4)),
    "80": (("sip-80-amiens", 0.65), ("sip-80-abbeville", 0.35)),
    "05": (("sip-05-gap", 1.0),),
    "41": (("sip-41-blois", 1.0),),
    "94": (("sip-94-creteil", 0.55), ("sip-94-vitry", 0.45)),
    "95": (("sip-95-cergy", 0.55), ("sip-95-argenteuil", 0.45)),
}
TWO_SERVICES_POPULATION = 500_000

# --- surveys ----------------------------------------------------------------------------
SURVEY_SHARE = 0.08  # handled contacts whose user answers the survey
SURVEY_DELAY_MEAN = 45 * 60  # seconds from the end of the contact to the answer
SURVEY_MISSING_SHARE = 0.05  # optional questions left blank
CALL_WAIT_UNIT, EMAIL_DELAY_UNIT = 120.0, 48 * 3600.0  # one "unit" of waiting, capped at 3
COMMENT_SHARE = 0.12
COMMENTS = {
    "good": ("Conseiller très aimable et efficace.", "Réponse claire, merci.",
             "Problème réglé en un seul appel.", "Rapide et précis, merci beaucoup.",
             "Merci pour l'aide sur mon espace particulier."),
    "mid": ("Correct, mais l'attente était un peu longue.",
            "Réponse utile, mais il a fallu rappeler.",
            "Bien, même si j'aurais préféré un rendez-vous."),
    "bad": ("Trop d'attente avant d'avoir quelqu'un.", "Réponse à côté de ma question.",
            "J'ai dû appeler trois fois."),
    "unresolved": ("Ma demande n'est toujours pas traitée.",
                   "On m'a renvoyé vers mon centre des impôts."),
    "number": ("Numéro difficile à trouver sur mon avis.",
               "Je ne connaissais pas ce nouveau numéro."),
}

# --- incidents --------------------------------------------------------------------------
INCIDENT_TEXT = {
    ("telephonie", "panne"): "Panne de la plateforme téléphonique : appels dissuadés",
    ("telephonie", "degrade"): "Qualité d'appel dégradée (coupures, écho)",
    ("messagerie", "degrade"): "Lenteurs de la messagerie : réponses retardées",
    ("applications", "panne"): "Applications de gestion indisponibles",
}

# --- staff barometer and training -------------------------------------------------------
WAVES = (dt.date(2014, 11, 17), dt.date(2015, 5, 11), dt.date(2015, 11, 16))
RESPONSE_RATE = {"centre_agent": 0.8, "centre_manager": 0.9, "local_agent": 0.55,
                 "local_manager": 0.8}
LOCAL_AGENTS_PER_INHABITANT = 1 / 8000  # at scale 1
ANSWER_SIGMA = 0.8
INITIAL_MODULES = (("accueil_telephonique", 2), ("applications_metier", 2),
                   ("actes_a_distance", 1))
TRAINING_HOURS = (3.5, 4.0, 5.0, 6.0, 6.5, 7.0)
LATE_TRAINING_SHARE = 0.10  # agents trained only after their first session (newcomers first)


# ======================================================================================
# Calendar helpers
# ======================================================================================


def _open_days(first: dt.date, last: dt.date, weekdays=frozenset(range(1, 6))) -> list[dt.date]:
    """Open days (WEEKDAYS, no French public holiday) from FIRST to LAST."""
    hol = _holidays(first, last)
    n = (last - first).days + 1
    days = (first + dt.timedelta(days=i) for i in range(n))
    return [d for d in days if d.isoweekday() in weekdays and d not in hol]


def _wall_seconds(day: dt.date, minutes: int) -> int:
    return _day_number(day) * DAY + minutes * 60


def _first_starts(ref: _Reference) -> dict[str, dt.date]:
    """Département → its first coverage start (any site)."""
    out: dict[str, dt.date] = {}
    for c in ref.coverage:
        out[c.department] = min(out.get(c.department, c.start), c.start)
    return out


# ======================================================================================
# Local services' reception
# ======================================================================================


def _services(dept: str, population: int) -> tuple[tuple[str, float], ...]:
    if dept in SERVICES:
        return SERVICES[dept]
    code = dept.lower()
    if population > TWO_SERVICES_POPULATION:
        return ((f"sip-{code}-1", 0.55), (f"sip-{code}-2", 0.45))
    return ((f"sip-{code}", 1.0),)


def local_reception(seed: int, ref: _Reference, scale: float) -> pl.DataFrame:
    """Daily reception records of the local services of every département of the reference
    (served ones and controls), per service and channel, on open days."""
    starts = _first_starts(ref)
    if not starts:
        return pl.DataFrame()
    first = min(starts.values()) - dt.timedelta(weeks=RECEPTION_LEAD_WEEKS)
    first -= dt.timedelta(days=first.weekday())  # a Monday
    days = _open_days(first, DEMO_END)
    hol = _holidays(first, DEMO_END)
    weekday = np.array([WEEKDAY_FACTOR[d.isoweekday() - 1] for d in days])
    weekday *= np.array([AFTER_HOLIDAY_FACTOR if (d - dt.timedelta(days=1)) in hol
                         and d.isoweekday() > 1 else 1.0 for d in days])
    season = np.array([CHRISTMAS_FACTOR if (d.month == 12 and d.day >= 24) else SEASON[d.month]
                       for d in days])
    day_no = np.array([_day_number(d) for d in days])
    parts = []
    for k, dept in enumerate(sorted(ref.population)):
        rng = np.random.default_rng([seed, 0x10CA, k])
        pop = ref.population[dept]
        load = np.array([_campaign_load(d, dept, ref.campaigns)[0] for d in days])
        base = (pop / 1000.0 * PROPENSITY.get(dept, 1.0) * scale * season * weekday
                * rng.lognormal(0.0, DAY_NOISE_SIGMA, len(days)))
        since = (day_no - _day_number(starts[dept])) if dept in starts else np.full(len(days), -1)
        for channel in RECEPTION_CHANNELS:
            depth, tau = RELIEF[channel]
            fall = np.where(since >= 0, depth * (1 - np.exp(-np.maximum(since, 0) / tau)), 0.0)
            lam = (RECEPTION_RATE[channel] * base * (1 + RECEPTION_CAMPAIGN_SHARE[channel] * load)
                   * (1 - fall))
            # Less to receive, more answered: the share handled rises with the relief.
            share = np.minimum(0.99, HANDLED_SHARE[channel] + 0.4 * fall)
            for service, weight in _services(dept, pop):
                received = rng.poisson(lam * weight)
                handled = rng.binomial(received, share)
                hours = handled * MINUTES_PER_HANDLED[channel] / 60 * rng.lognormal(
                    0.0, 0.1, len(days))
                parts.append(pl.DataFrame({
                    "department": dept, "service": service, "day": days, "channel": channel,
                    "received": received.astype(np.int64), "handled": handled.astype(np.int64),
                    "staff_hours": np.round(hours, 1),
                }))
    frame = pl.concat(parts)
    return frame.select(
        pl.lit(SOURCE).alias("source"),
        pl.format("LR-{}-{}-{}", "service", pl.col("day").dt.strftime("%Y%m%d"), "channel")
        .alias("record_id"),
        "department", "service", "day", "channel", "received", "handled", "staff_hours",
    )


# ======================================================================================
# Users' survey answers
# ======================================================================================


def _coverage_starts(plan: _SitePlan) -> pl.DataFrame:
    """(department, start) for every run of covered days of the site's plan."""
    rows = []
    for j, dept in enumerate(plan.departments):
        col = plan.covered[:, j]
        for i in np.flatnonzero(col & ~np.concatenate([[False], col[:-1]])):
            rows.append((dept, plan.days[i]))
    return pl.DataFrame(rows, schema={"department": pl.String, "start": pl.Date},
                        orient="row").sort("start")


def survey_answers(seed: int, plan: _SitePlan, chunk_index: int,
                   contacts: pl.DataFrame) -> pl.DataFrame:
    """Survey answers of a sample of the chunk's handled contacts (CONTACTS as written)."""
    tz = plan.site.tz
    rng = np.random.default_rng([seed, plan.site.index, chunk_index, 9])
    handled = contacts.filter(pl.col("outcome").is_in(["answered", "replied"]))
    picked = handled.filter(pl.Series(rng.random(handled.height) < SURVEY_SHARE))
    n = picked.height
    picked = picked.sort("local_date").join_asof(
        _coverage_starts(plan), left_on="local_date", right_on="start", by="department",
        strategy="backward", check_sortedness=False,  # both sorted by date above
    ).sort("received_at", "contact_id")
    is_phone = (picked["channel"] == "phone").to_numpy()
    wait = picked["wait_seconds"].fill_null(0).to_numpy() / CALL_WAIT_UNIT
    delay = ((picked["answered_at"] - picked["received_at"]).dt.total_seconds()
             .to_numpy() / EMAIL_DELAY_UNIT)
    penalty = np.minimum(np.where(is_phone, wait, delay), 3.0)
    since = (picked["local_date"] - picked["start"]).dt.total_days().fill_null(0).to_numpy()
    # Unresolved requests are more frequent after a long wait; a new number is not yet
    # known to all right after an opening.
    resolved = rng.random(n) >= 0.12 + 0.08 * penalty
    knew = rng.random(n) >= 0.12 + 0.50 * np.exp(-since / 35.0)
    latent = (4.45 - 0.45 * penalty - 1.5 * ~resolved - 0.2 * ~knew
              + rng.normal(0.0, 0.75, n))
    satisfaction = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    delay_s = (60 + rng.exponential(SURVEY_DELAY_MEAN, n)).astype(np.int64)
    comment = [_comment(s, r, k, u, v) for s, r, k, u, v in zip(
        satisfaction, resolved, knew, rng.random(n), rng.random(n))]
    blank_r = rng.random(n) < SURVEY_MISSING_SHARE
    blank_k = rng.random(n) < SURVEY_MISSING_SHARE
    out = picked.with_columns(pl.Series("delay_s", delay_s)).with_columns(
        (pl.col("ended_at") + pl.duration(seconds=pl.col("delay_s"))).alias("answered_at"),
        pl.Series("satisfaction", satisfaction),
        pl.when(pl.Series(blank_r)).then(None).otherwise(pl.Series(resolved)).alias("resolved"),
        pl.when(pl.Series(blank_k)).then(None).otherwise(pl.Series(knew)).alias("knew_number"),
        pl.Series("comment", comment, dtype=pl.String),
    )
    return out.select(
        pl.lit(SOURCE).alias("source"), ("S-" + pl.col("contact_id")).alias("response_id"),
        "answered_at", localtime.local_date(pl.col("answered_at"), tz).alias("local_date"),
        "site", "department", "channel", pl.col("satisfaction").cast(pl.Int64), "resolved",
        "knew_number", "contact_id", "comment",
    )


def _comment(satisfaction: int, resolved: bool, knew: bool, u: float, v: float) -> str | None:
    """A short French comment for about COMMENT_SHARE of the answers."""
    if u >= COMMENT_SHARE:
        return None
    if not knew and v < 0.5:
        pool = COMMENTS["number"]
    elif not resolved:
        pool = COMMENTS["unresolved"]
    else:
        pool = COMMENTS["good" if satisfaction >= 4 else "mid" if satisfaction == 3 else "bad"]
    return pool[int(v * 1000) % len(pool)]


# ======================================================================================
# Incidents
# ======================================================================================


@dataclass(frozen=True)
class _Incident:
    component: str
    site: str | None  # None: every site
    severity: str
    day: dt.date
    start: int  # minutes after local midnight, on the clock of TZ
    minutes: int
    tz: str


def incidents(seed: int, plans: Sequence[_SitePlan]) -> pl.DataFrame:
    """A handful of tool outages over the pilot (see the simulation docstring)."""
    if not plans:
        return pl.DataFrame()
    r = np.random.default_rng([seed, 0x1C1D])

    def days_of(plan, mask=None):
        ok = plan.open_days if mask is None else plan.open_days & mask
        return np.flatnonzero(ok) if ok.any() else np.flatnonzero(plan.open_days)

    def kind_mask(plan, kind):
        return np.array([kind in ks for ks in plan.kind])

    def at(plan, component, severity, day_idx, earliest, latest, shortest, longest, site=True):
        site_ = plan.site
        start = earliest + 5 * int(r.integers(0, (latest - earliest) // 5 + 1))
        minutes = min(shortest + 5 * int(r.integers(0, (longest - shortest) // 5 + 1)),
                      site_.closes - start)
        return _Incident(component, site_.code if site else None, severity,
                         plan.days[int(day_idx)], start, minutes, site_.tz)

    found = []
    # A telephony outage on one of the three busiest declaration days of the site busiest
    # in the declaration campaign.
    busiest = max(plans, key=lambda p: float(
        p.expected_phone[days_of(p, kind_mask(p, "declarative"))].sum()))
    peak = days_of(busiest, kind_mask(busiest, "declarative"))
    top = peak[np.argsort(-busiest.expected_phone[peak].sum(axis=1), kind="stable")[:3]]
    o = busiest.site.opens
    found.append(at(busiest, "telephonie", "panne", r.choice(top), o + 60, o + 210, 60, 120))
    # The national applications, down for every site one afternoon once all are open.
    last = max(plans, key=lambda p: p.first_day)
    later = days_of(last)
    later = later[later >= min(30, len(later) - 1)]
    found.append(at(last, "applications", "panne", r.choice(later), 14 * 60, 16 * 60, 45, 90,
                    site=False))
    # Degraded calls at the first site during a notices campaign.
    first = min(plans, key=lambda p: p.first_day)
    found.append(at(first, "telephonie", "degrade", r.choice(days_of(first, kind_mask(
        first, "avis"))), 9 * 60, 11 * 60, 120, 240))
    plan = plans[int(r.integers(0, len(plans)))]
    found.append(at(plan, "messagerie", "degrade", r.choice(days_of(plan)), 10 * 60, 14 * 60,
                    180, 300))
    plan = plans[int(r.integers(0, len(plans)))]
    found.append(at(plan, "applications", "panne", r.choice(days_of(plan)), 10 * 60, 16 * 60,
                    30, 75))
    found.sort(key=lambda i: (i.day, i.start, i.component))
    rows = []
    for k, inc in enumerate(found):
        one = pl.DataFrame({"s": [_wall_seconds(inc.day, inc.start)],
                            "e": [_wall_seconds(inc.day, inc.start + inc.minutes)]})
        one = _to_utc(_to_utc(one, "s", "start_at", inc.tz), "e", "end_at", inc.tz)
        rows.append(one.select(
            pl.lit(SOURCE).alias("source"), pl.lit(f"INC-{k + 1:03d}").alias("incident_id"),
            pl.lit(inc.component).alias("component"),
            pl.lit(inc.site, dtype=pl.String).alias("site"), "start_at", "end_at",
            localtime.local_date(pl.col("start_at"), inc.tz).alias("local_date"),
            pl.lit(inc.severity).alias("severity"),
            pl.lit(INCIDENT_TEXT.get((inc.component, inc.severity))).alias("description"),
        ))
    return pl.concat(rows)


def outage_windows(rows: pl.DataFrame, site: _Site) -> list[tuple[int, int]]:
    """Telephony outages (`panne`) of SITE or of every site, as [start, end) local wall-clock
    seconds of the site: calls arriving then are deflected (simulation.py)."""
    if rows.height == 0:
        return []
    mine = rows.filter((pl.col("component") == "telephonie") & (pl.col("severity") == "panne")
                       & (pl.col("site").is_null() | (pl.col("site") == site.code)))
    wall = mine.select(
        *(localtime.to_local(pl.col(c), site.tz).dt.epoch("s").alias(c)
          for c in ("start_at", "end_at")))
    return [(int(s), int(e)) for s, e in wall.iter_rows()]


def in_windows(t: np.ndarray, windows: list[tuple[int, int]]) -> np.ndarray:
    """Whether each time of T falls in one of WINDOWS ([start, end))."""
    out = np.zeros(len(t), dtype=bool)
    for s, e in windows:
        out |= (t >= s) & (t < e)
    return out


# ======================================================================================
# Staff barometer
# ======================================================================================


def _answers(rng, means: dict[str, float], n: int) -> dict[str, np.ndarray]:
    return {q: np.clip(np.rint(np.clip(means[q], 1.3, 4.7) + rng.normal(0.0, ANSWER_SIGMA, n)),
                       1, 5).astype(np.int64) for q in STAFF_QUESTIONS}


def _group(wave, population, n, means, rng, site=None, department=None) -> pl.DataFrame | None:
    if n <= 0:
        return None
    where = site if site is not None else department
    return pl.DataFrame({
        "response_id": [f"B-{wave:%Y%m%d}-{population}-{where}-{i + 1:04d}" for i in range(n)],
        "wave": [wave] * n, "population": [population] * n,
        "site": pl.Series([site] * n, dtype=pl.String),
        "department": pl.Series([department] * n, dtype=pl.String),
        **_answers(rng, means, n),
    })


def staff_barometer(seed: int, plans: Sequence[_SitePlan], teams: Sequence[_Team],
                    ref: _Reference, incident_rows: pl.DataFrame, scale: float) -> pl.DataFrame:
    """The staff barometer's waves: centre agents and managers per site, local agents and
    managers per département, only where the site or the local services existed."""
    if not plans:
        return pl.DataFrame()
    pilot_start = min(p.first_day for p in plans)
    starts = _first_starts(ref)
    outages = incident_rows.filter(pl.col("severity") == "panne") if incident_rows.height else None
    parts = []
    for w, wave in enumerate(WAVES):
        if not pilot_start <= wave <= DEMO_END:
            continue
        rng = np.random.default_rng([seed, 0xBA20, w])
        sites = []
        for plan, team in zip(plans, teams):
            i = (wave - plan.first_day).days
            if not 0 <= i < len(plan.days):
                continue
            window = [k for k in range(max(0, i - 28), i) if plan.open_days[k]] or [i]
            expected = plan.expected_phone[window].sum() + plan.expected_email[window].sum()
            forecast = plan.forecast_phone[window].sum() + plan.forecast_email[window].sum()
            present = int((team.hired <= i).sum())
            sites.append((plan, present, expected / len(window) / max(1, present),
                          expected / max(forecast, 1e-9) - 1))
        mean_load = np.mean([s[2] for s in sites]) if sites else 1.0
        for plan, present, per_agent, uplift in sites:
            # Work felt heavier where unplanned campaign load and contacts per agent are high.
            strain = 1.0 * uplift + 1.0 * math.log2(max(per_agent, 1e-9) / max(mean_load, 1e-9))
            panne = outages is not None and outages.filter(
                (pl.col("site").is_null() | (pl.col("site") == plan.site.code))
                & (pl.col("local_date") < wave)
                & (pl.col("local_date") >= wave - dt.timedelta(days=183))).height > 0
            means = {"tools": 3.7 - 0.6 * panne, "training": 3.9, "workload": 3.4 - strain,
                     "acts_scope": 3.6, "overall": 3.7 - 0.35 * strain}
            managers = 1 + math.ceil(present / 8)
            bosses = {**means, "tools": means["tools"] + 0.1, "workload": means["workload"] - 0.2}
            parts.append(_group(wave, "centre_agent", int(rng.binomial(
                present, RESPONSE_RATE["centre_agent"])), means, rng, site=plan.site.code))
            parts.append(_group(wave, "centre_manager", int(rng.binomial(
                managers, RESPONSE_RATE["centre_manager"])), bosses, rng, site=plan.site.code))
        for dept in sorted(ref.population):
            start = starts.get(dept)
            relief = 1 - math.exp(-(wave - start).days / 30.0) if start and start <= wave else 0.0
            load = np.mean([_campaign_load(wave - dt.timedelta(days=d), dept, ref.campaigns)[0]
                            for d in range(28)])
            means = {"tools": 3.2, "training": 3.1, "workload": 2.9 - 0.5 * load + 0.8 * relief,
                     "acts_scope": 3.0 + 0.3 * relief, "overall": 3.1 + 0.4 * relief - 0.2 * load}
            staff = max(8, round(scale * ref.population[dept] * LOCAL_AGENTS_PER_INHABITANT))
            parts.append(_group(wave, "local_agent", int(rng.binomial(
                staff, RESPONSE_RATE["local_agent"])), means, rng, department=dept))
            parts.append(_group(wave, "local_manager", int(rng.binomial(
                max(2, round(staff / 15)), RESPONSE_RATE["local_manager"])), means, rng,
                department=dept))
    parts = [p for p in parts if p is not None]
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts).select(pl.lit(SOURCE).alias("source"), pl.all())


# ======================================================================================
# Training
# ======================================================================================


def training_records(seed: int, plans: Sequence[_SitePlan], teams: Sequence[_Team],
                     ref: _Reference, first_sessions: dict[str, dt.date]) -> pl.DataFrame:
    """Training days of every agent: the initial modules before the agent's start (the
    site's opening, or the hire day), campaign modules before each later campaign; a few
    agents (LATE_TRAINING_SHARE, newcomers first) are trained only after their first
    session (FIRST_SESSIONS: agent id → local date)."""
    rng = np.random.default_rng([seed, 0x7A1])
    newcomers, others = [], []
    for plan, team in zip(plans, teams):
        for a, agent_id in enumerate(team.ids):
            if agent_id in first_sessions and a >= 2:  # team leaders are trained in time
                (newcomers if team.hired[a] > 0 else others).append(agent_id)
    n_late = max(1, round(LATE_TRAINING_SHARE * len(first_sessions))) if first_sessions else 0
    pool = ([newcomers[k] for k in rng.permutation(len(newcomers))]
            + [others[k] for k in rng.permutation(len(others))])
    late = set(pool[:n_late])
    rows = []
    for plan, team in zip(plans, teams):
        site = plan.site
        calendar = _open_days(plan.first_day - dt.timedelta(days=90), DEMO_END, site.weekdays)
        index = {d: k for k, d in enumerate(calendar)}
        campaigns = sorted({(c.kind, c.start, c.end) for c in ref.campaigns
                            if c.kind in ("avis", "declarative")
                            and (c.department is None or c.department in plan.departments)})
        for a, agent_id in enumerate(team.ids):
            start = plan.days[int(team.hired[a])]
            first_on = next(k for k, d in enumerate(calendar) if d >= start)
            modules = [m for m, n in INITIAL_MODULES for _ in range(n)]
            refreshers = []
            for kind, c_start, c_end in campaigns:
                if c_start - dt.timedelta(days=7) > start:
                    k = next((k for k, d in enumerate(calendar) if d >= c_start), len(calendar))
                    day_k = max(first_on, k - 1 - int(rng.integers(0, 10)))
                    refreshers.append((f"campagne_{kind}", day_k))
                elif start <= c_end:
                    modules.append(f"campagne_{kind}")  # in force at the start: taught first
            if agent_id in late:
                begin = index[first_sessions[agent_id]] + 1 + int(rng.integers(0, 5))
            else:
                begin = first_on - len(modules) - int(rng.integers(0, 4))
            days = [(m, begin + k) for k, m in enumerate(modules)] + refreshers
            for module, k in days:
                if not 0 <= k < len(calendar):
                    continue
                day = calendar[k]
                if agent_id in late and day <= first_sessions[agent_id]:
                    continue
                hours = TRAINING_HOURS[int(rng.integers(0, len(TRAINING_HOURS)))]
                if module.startswith("campagne_"):
                    hours = min(hours, 4.0)
                rows.append((agent_id, day, hours, module))
    frame = pl.DataFrame(rows, schema={"agent_id": pl.String, "day": pl.Date,
                                       "hours": pl.Float64, "module": pl.String}, orient="row")
    frame = frame.sort("agent_id", "day", "module").with_columns(
        pl.int_range(pl.len()).over("agent_id").alias("k"))
    return frame.select(
        pl.lit(SOURCE).alias("source"),
        pl.format("T-{}-{}", "agent_id", (pl.col("k") + 1).cast(pl.String).str.zfill(3))
        .alias("record_id"),
        "agent_id", "day", "hours", "module",
    )
