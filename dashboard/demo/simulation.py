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
5. **Review records** (spec/review-data.md, dashboard.demo.review_records). *Local
   services*: daily records per SIP and channel (guichet, téléphone, courriel, courrier),
   on open days from 13 weeks before the first coverage start, for every département of
   the reference — the served ones and the controls no centre serves (pilot.toml) — with
   the same population, season, weekday and campaign factors as the demand; from a
   département's first coverage start the phone falls by up to 35 % (time constant 25
   days), e-mail by 20 %, the counters by 15 % (60 days), the controls not at all, and a
   larger share is handled. *Incidents*: five outages — a one-to-two-hour telephony
   `panne` on one of the three busiest declaration days of the site busiest then, an
   applications `panne` at every site, degraded telephony in a notices campaign, slow
   e-mail, a local applications `panne`; calls arriving during a telephony `panne` are
   deflected (before the queue, voice server included). *Surveys*: 8 % of handled
   contacts answer, a minute plus an exponential delay (mean 45 min) after the contact
   ended; "resolved" is false for 12 % plus 8 % per
   unit of waiting (120 s on the phone, 48 h for an e-mail reply, capped at 3 units),
   satisfaction falls with the wait and the unresolved requests; "found the number" is
   false for 12 % + 50 %·exp(−days since the coverage start / 35); one answer in eight
   has a short French comment. *Staff barometer*: waves on 17 Nov 2014, 11 May 2015 and
   16 Nov 2015; centre agents and managers of each site open by then (80 % and 90 %
   answer; 1 + ⌈team/8⌉ managers), local agents (one per 8,000 inhabitants × scale, at
   least 8) and managers per département; a centre's workload rating falls with the
   campaign uplift the planner did not expect and with its contacts per agent against
   the other sites', a local one rises with the relief. *Training*: the initial modules
   (5 days of 3½–7 h) on the open days before the site's opening or the agent's hire day,
   campaign modules before each later campaign; 10 % of the agents with a session
   (newcomers first, at least one) are trained only after their first session.

Same seed and scale → identical database content: every random draw comes from
`numpy.random.default_rng([seed, …])` streams named by site and chunk (chunks depend on the
scale only), nothing depends on wall-clock time or on set/dict ordering. Rows are written
chunk by chunk (a calendar month, split beyond CHUNK_CONTACTS expected contacts), one
transaction each, as batched executemany on SQLite and COPY on PostgreSQL, so memory stays
bounded at any scale (about 450 MB at scale 5).

The steps live beside this module: dashboard.demo.demand (reference data, calendar,
campaign load, demand plans, arrival curves), agents (teams, shift patterns, schedules and
sessions), queue (the discrete-event queue), contacts (calls and e-mails, caller keys,
acts, contact rows) and review_records (local services, surveys, barometer, incidents,
training); this module runs them chunk by chunk and writes the rows.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import Connection, delete, func, select

from dashboard.demo import review_records, rota
from dashboard.demo.agents import _build_team, _names, _schedule, _sessions_frame, _team_plan
from dashboard.demo.contacts import (
    EMAIL_CLOSED_SHARE,
    KEYLESS_PHONE_SHARE,
    NO_AGENT_SHARE,
    PATIENCE_MEAN,
    PROMOTION_END,
    PROMOTION_START,
    QUICK_HANGUP_SHARE,
    REPEAT_WEIGHT_HANDLED,
    _acts,
    _by_kind,
    _caller_keys,
    _Carry,
    _choose,
    _draw_calls,
    _draw_emails,
    _finish_contacts,
    _lognormal,
    _voice_server_calls,
)
from dashboard.demo.demand import (
    DAY,
    DEMO_END,
    EMAIL_MEAN,
    EMAIL_SIGMA,
    QUEUE_MIX,
    SOURCE,
    TALK_MEAN,
    TALK_SIGMA,
    WRAP_MEAN,
    WRAP_SIGMA,
    _day_number,
    _read_reference,
    _site_plans,
    _SitePlan,
    _to_utc,
)
from dashboard.demo.queue import _simulate_queue
from dashboard.engine import rollups
from dashboard.store import database as dbmod
from dashboard.store import reference, schema

CHUNK_CONTACTS = 120_000  # expected contacts per chunk (bounds memory at any scale)
INSERT_BATCH = 20_000


# The review's other records (dashboard.demo.review_records), all with source 'demo'.
_REVIEW_TABLES = (schema.local_reception, schema.surveys, schema.staff_surveys,
                  schema.incidents, schema.training)


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
# Chunks: demand draws, schedule, queue, rows
# ======================================================================================


def _simulate_chunk(seed, plan, team, chunk_index, chunk_days, carry, final, tz, outages=()):
    """Run one chunk of one site: returns contact, act, session and schedule frames to insert.
    OUTAGES: the site's telephony outages, [start, end) local seconds."""
    site = plan.site
    rng = lambda k: np.random.default_rng([seed, site.index, chunk_index, k])  # noqa: E731
    calls = _draw_calls(plan, chunk_days, rng(1))
    new_emails = _draw_emails(plan, chunk_days, rng(2))
    planned: list = []
    (sess_agent, sess_start, sess_end), (tick_t, tick_n) = _schedule(
        plan, team, chunk_days, rng(3), planned)

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
    # A telephony outage deflects the calls arriving in it, voice server included.
    open_calls &= ~review_records.in_windows(calls["t"].to_numpy(), outages)
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
    # Drawn last, from their own stream: the other contacts stay as they were.
    ivr = _voice_server_calls(phone.select(cols), open_calls, rng(8))
    contacts = pl.concat([contacts, ivr.select(contacts.columns)], how="vertical_relaxed")
    contacts = _finish_contacts(plan, team, contacts, tz)
    sessions = _sessions_frame(plan, team, sess_agent, sess_start, sess_end, tz)
    return contacts, acts, sessions, rota.schedules_frame(site.code, team.ids, planned, tz)


def _email_inputs(carried: pl.DataFrame | None, new: pl.DataFrame):
    """Arrival and handling times of the carried backlog followed by the new e-mails."""
    parts = [new] if carried is None else [carried, new]
    return ([x for f in parts for x in f["t"].to_list()],
            [x for f in parts for x in f["handle"].to_list()])


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


def _delete_demo(conn: Connection, logins: list[str], agent_ids: list[str]) -> None:
    for table in (schema.contacts, schema.acts, schema.agent_sessions, schema.schedules,
                  *_REVIEW_TABLES):
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

    outages = review_records.incidents(seed, plans)
    windows = {p.site.code: review_records.outage_windows(outages, p.site) for p in plans}
    first_sessions: dict[str, dt.date] = {}
    work = [(p, t, k, days) for p, t in zip(plans, teams) for k, days in enumerate(_chunks(p))]
    weights = [p.expected_phone[d].sum() + p.expected_email[d].sum() + 1 for p, _, _, d in work]
    total_weight, done_weight = float(sum(weights)), 0.0
    counts = {"phone": 0, "email": 0, "acts": 0, "sessions": 0}
    carries = {p.site.code: _Carry() for p in plans}
    last_chunk = {p.site.code: len(_chunks(p)) - 1 for p in plans}
    # The last weeks of each site's rota, rolled forward after the last day (rota.py).
    recent_rota: dict[str, list[pl.DataFrame]] = {p.site.code: [] for p in plans}
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
                contacts, acts, sessions, planned = _simulate_chunk(
                    seed, plan, team, k, days, carry, k == last_chunk[plan.site.code],
                    plan.site.tz, windows[plan.site.code],
                )
                surveys = review_records.survey_answers(seed, plan, k, contacts)
                with conn.begin():
                    _insert(conn, schema.contacts, contacts)
                    _insert(conn, schema.acts, acts)
                    _insert(conn, schema.agent_sessions, sessions)
                    _insert(conn, schema.schedules, planned)
                    recent_rota[plan.site.code].append(planned.filter(
                        pl.col("local_date") > plan.days[-1] - dt.timedelta(weeks=8)))
                    _insert(conn, schema.surveys, surveys)
                for agent_id, day in sessions.group_by("agent_id").agg(
                        pl.col("local_date").min()).iter_rows():
                    first_sessions.setdefault(agent_id, day)
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
        for plan in plans:
            _insert(conn, schema.schedules, rota.published_rota(
                pl.concat(recent_rota[plan.site.code]), plan.days[-1], plan.site.tz))
        _insert(conn, schema.local_reception, review_records.local_reception(seed, ref, scale))
        _insert(conn, schema.incidents, outages)
        _insert(conn, schema.staff_surveys,
                review_records.staff_barometer(seed, plans, teams, ref, outages, scale))
        _insert(conn, schema.training,
                review_records.training_records(seed, plans, teams, ref, first_sessions))
    with engine.begin() as conn:
        # Marks the database as the demo's (schema.app_meta): the app offers its demo
        # identity picker on such a database only.
        conn.execute(delete(schema.app_meta).where(schema.app_meta.c.key == "demo"))
        conn.execute(schema.app_meta.insert().values(key="demo", value=str(seed)))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("contacts", "acts", "agent_sessions", "surveys", "local_reception"):
                conn.exec_driver_sql(f"ANALYZE {table}")
    rollups.rebuild(engine)  # the pages read the rollups: leave them complete
    return DemoSummary(
        contacts=counts["phone"] + counts["email"], phone=counts["phone"],
        email=counts["email"], acts=counts["acts"], agents=len(agent_rows),
        sessions=counts["sessions"], users=len(users),
        seconds=round(time.perf_counter() - began, 2),
    )
