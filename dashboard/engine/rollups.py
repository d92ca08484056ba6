"""Rollup tables: the additive statistics of the contacts, per local day, kept up to date.

The engine reads them instead of the raw contacts (see docs/scaling.md). Every rollup row
belongs to one (site, local_date): `refresh_rollups` recomputes given pairs by deleting
their rows and computing them again from the raw rows, with the stage-1 code of
dashboard.metrics (e-mail flags, repeat flags), so a rollup is exact by construction.

- `rollup_contacts`: counts and sums per local date × slot × site × département ×
  channel × queue × agent × outcome × wait bin (schema.WAIT_CAP), plus the per-contact
  flags summed: handled, promoted, with a caller key, repeated within 7 days, e-mail
  replied / within 48 h / within 5 working days (France's default holiday calendar);
- coarser rollups, `rollup_contacts` summed over fewer columns: `rollup_daily`,
  `rollup_slots`, `rollup_agents`, `rollup_dept_days`, `rollup_site_days`,
  `rollup_site_slots` (the last three keyed by their grain: see schema._CLUSTERED);
- `rollup_cells`: one row per site × local date × half-hour with the statistics already
  picked over channels and outcomes (queries.rollups.pick_stats), what slot grids read;
- `rollup_agent_cells`: the same per local date × site × agent, from `rollup_agents`
  (the agents' tables);
- `rollup_email_delays`: the exact reply delay of each replied e-mail (median in SQL);
- `rollup_email_flow`: e-mails per day of receipt and day they left the stock (backlog).

A contact's repeat flag depends on the same caller's later contacts (any site, up to 7
days): refreshing (site, D) therefore also recomputes every site's days D−8..D.

The "staff" rollups, complete once a rebuild has set app_meta `rollups_staff`:

- `rollup_presence`: agents' logged-in time per site × local date × UTC quarter hour (the
  15-minute pieces of dashboard.metrics.session_pieces, summed over the agents);
- `rollup_presence_slots`: the same per local half-hour (half the rows; what the team
  measures read when every opening window falls on a half-hour);
- `rollup_agent_days`: each agent's logged-in time per local day;
- `rollup_acts`, `rollup_agent_acts`: acts per local date × site × département, and per
  local date × site × agent.

The survey rollup, complete once a rebuild has set app_meta `rollups_surveys`:

- `rollup_surveys`: users' survey answers per local date × site × département × channel,
  the counts the survey statistics sum (queries.surveys.COUNTS).

A session belongs to the local date it starts on but its pieces can fall on the next
days: refreshing the sessions of (site, D) recomputes D up to the day the longest of them
ends (at least D+1).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

import polars as pl
from sqlalchemy import Connection, Engine, delete, func, select

from dashboard.core import config
from dashboard.core.access import ALL_ROWS
from dashboard.core.contact_stats import THRESHOLD_STATS, raw_phone_agg
from dashboard.core.filters import Filters
from dashboard.core.localtime import with_local_columns
from dashboard.metrics import definitions as m
from dashboard.metrics import email as m_email
from dashboard.metrics import grouping as m_grouping
from dashboard.metrics import handled as m_handled
from dashboard.metrics import sessions as m_sessions
from dashboard.store import schema
from dashboard.store.database import copy_frame
from queries import contacts as q_contacts
from queries import reference as q_reference
from queries import rollups as q_rollups
from queries import sessions as q_sessions
from queries import surveys as q_surveys

META_KEY = "rollups"
# Bump when the rollups' definition changes: the engine reads raw rows until a rebuild.
# 2: rollup_agents, reply-delay bins, rollup_email_hist and rollup_email_flow_daily.
# 3: rollup_site_days and rollup_site_slots.
# 4: rollup_cells.
META_VALUE = "4"
REPEAT_DAYS = 8  # local days a contact's repeat flag can look back over (7 × 24 h + zones)
INSERT_BATCH = 20_000
TABLES = (schema.rollup_contacts, schema.rollup_daily, schema.rollup_slots,
          schema.rollup_agents, schema.rollup_dept_days, schema.rollup_site_days,
          schema.rollup_site_slots,
          schema.rollup_cells, schema.rollup_agent_cells, schema.rollup_email_delays,
          schema.rollup_email_hist,
          schema.rollup_email_flow, schema.rollup_email_flow_daily)
_COARSE = ("rollup_daily", "rollup_slots", "rollup_agents", "rollup_dept_days",
           "rollup_site_days", "rollup_site_slots")  # their grains: Table.info["grain"]
THRESHOLDS_KEY = "rollup_thresholds"
_DIMS = ("local_date", "local_slot", "department", "queue", "agent_id")
TABLE_BY_NAME = {t.name: t for t in (schema.rollup_daily, schema.rollup_slots,
                                     schema.rollup_agents, schema.rollup_dept_days,
                                     schema.rollup_site_days, schema.rollup_site_slots)}
STAFF_KEY = "rollups_staff"
STAFF_VALUE = "1"  # bump when the staff rollups' definition changes: rebuild needed
PRESENCE_TABLES = (schema.rollup_presence, schema.rollup_presence_slots,
                   schema.rollup_agent_days)  # from the sessions (compute_presence)
ACT_TABLES = (schema.rollup_acts, schema.rollup_agent_acts)  # from the acts (_write_acts)
STAFF_TABLES = (*PRESENCE_TABLES, *ACT_TABLES)
SURVEY_KEY = "rollups_surveys"
SURVEY_VALUE = "1"  # bump when rollup_surveys' definition changes: rebuild needed
SURVEY_TABLES = (schema.rollup_surveys,)


def _date_ranges(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted DAYS as inclusive runs of consecutive dates."""
    out: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if out and day == out[-1][1] + dt.timedelta(days=1):
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def compute(conn: Connection, start: dt.date, end: dt.date,
            sites: tuple[str, ...] = (), baked: dict[str, list[int]] | None = None
            ) -> dict[str, pl.DataFrame]:
    """The rollup rows of local dates START..END (of SITES, all when empty), per table.

    BAKED: per site its [SL, short-abandon] thresholds for the coarse grains (default:
    the ones recorded in app_meta, else the sites' own)."""
    baked = baked if baked is not None else baked_thresholds(conn)

    filters = Filters(start, end, sites=sites, scope=ALL_ROWS)
    site_rows = q_reference.site_settings(conn)
    phone = q_contacts.phone_rows(conn, filters, _DIMS)
    emails = q_contacts.email_rows(conn, filters, _DIMS)
    handled = pl.concat([
        phone.filter(pl.col("outcome") == "answered").select("caller_key", "received_at"),
        emails.filter(pl.col("answered_at").is_not_null()).select("caller_key", "received_at"),
    ]).filter(pl.col("caller_key").is_not_null())
    if handled.height:
        followups = q_contacts.followup_rows(
            conn, filters, handled["received_at"].min(),
            handled["received_at"].max() + m.REPEAT_WINDOW)
    else:
        followups = pl.DataFrame(schema={"caller_key": pl.String, "received_at": pl.Datetime("us")})

    keys = ["local_date", "local_slot", "site", "department", "channel", "queue", "agent_id",
            "outcome", "wait_b"]
    zero = pl.lit(0, pl.Int64)
    cap = schema.WAIT_CAP
    coarse: dict[str, list[pl.DataFrame]] = {}
    thresholds = pl.DataFrame(
        [(site, sl, short) for site, (sl, short) in baked.items()], orient="row",
        schema={"site": pl.String, "_sl": pl.Int64, "_short": pl.Int64})
    wait = pl.col("wait_seconds")
    answered = pl.col("outcome") == "answered"
    phone = m_handled.with_repeat_flags(phone, followups).join(
        thresholds, on="site", how="left").with_columns(
        pl.lit("phone").alias("channel"),
        pl.min_horizontal(wait, pl.lit(cap + 1)).alias("wait_b"),
        answered.alias("_handled"),
    )
    # The coarse grains' threshold counts, at the baked thresholds, as declared.
    baked_counts = [raw_phone_agg(s, pl.col("_sl"), pl.col("_short")).alias(s.coarse)
                    for s in THRESHOLD_STATS]
    for name in _COARSE:
        grain = list(TABLE_BY_NAME[name].info["grain"])
        parts = [
            phone.group_by(grain).agg(
                pl.len().alias("n"), wait.count().alias("wait_n"), wait.sum().alias("wait_sum"),
                wait.max().alias("wait_max"), pl.col("handle_seconds").sum().alias("handle_sum"),
                *baked_counts,
                *_handled_aggs(),
                zero.alias("replied"), zero.alias("within_48h"), zero.alias("within_5wd")),
        ]
        coarse[name] = parts
    phone_roll = phone.group_by(keys).agg(
        pl.len().alias("n"),
        pl.col("wait_seconds").count().alias("wait_n"),
        pl.col("wait_seconds").sum().alias("wait_sum"),
        pl.col("wait_seconds").max().alias("wait_max"),
        pl.col("handle_seconds").sum().alias("handle_sum"),
        *_handled_aggs(),
        zero.alias("replied"), zero.alias("within_48h"), zero.alias("within_5wd"),
    )
    flagged = m_email.email_flags(emails, site_rows)
    flagged = m_handled.with_repeat_flags(flagged, followups).with_columns(
        pl.lit("email").alias("channel"),
        pl.lit(None, pl.Int64).alias("wait_b"),
        pl.col("replied").alias("_handled"),
    )
    # E-mail rows: outcome "replied" (has a first reply) or "open".
    email_roll = flagged.with_columns(
        pl.when(pl.col("replied")).then(pl.lit("replied")).otherwise(pl.lit("open"))
        .alias("outcome")
    ).group_by(keys).agg(
        pl.len().alias("n"), zero.alias("wait_n"), zero.alias("wait_sum"),
        pl.lit(None, pl.Int64).alias("wait_max"), zero.alias("handle_sum"),
        *_handled_aggs(),
        pl.col("replied").sum().alias("replied"),
        pl.col("within_48h").sum().alias("within_48h"),
        pl.col("within_5wd").sum().alias("within_5wd"),
    )
    contacts = pl.concat([phone_roll, email_roll], how="vertical_relaxed")
    out_frames = {}
    for name in _COARSE:
        table = TABLE_BY_NAME[name]
        grain = list(table.info["grain"])
        emails_coarse = email_roll.group_by(grain).agg(
            pl.col("n").sum(), pl.col("wait_n").sum(), pl.col("wait_sum").sum(),
            pl.col("wait_max").max(), pl.col("handle_sum").sum(),
            *[zero.alias(s.coarse) for s in THRESHOLD_STATS],
            *[pl.col(c).sum() for c in ("handled", "promoted", "with_key", "repeats",
                                        "replied", "within_48h", "within_5wd")])
        out_frames[name] = pl.concat([*coarse[name], emails_coarse], how="vertical_relaxed"
                                     ).select(c.name for c in table.c)
    delays = flagged.filter(pl.col("replied")).select(
        "local_date", "local_slot", "site", "department", "queue", "agent_id", "reply_us"
    ).with_columns(reply_bins(pl.col("reply_us")).alias("reply_bin"))
    hist = delays.group_by("local_date", "site", "department", "queue", "reply_bin").agg(
        pl.len().alias("n"))
    # The day an e-mail leaves the stock: its first reply's local date, not before receipt.
    tz = site_rows.select("site", "timezone")
    out = with_local_columns(
        emails.join(tz, on="site", how="left").with_columns(
            pl.col("timezone").fill_null("Europe/Paris")),
        "answered_at", "timezone", "_res_date", None)
    flow = out.with_columns(
        pl.when(pl.col("_res_date").is_null()).then(None)
        .otherwise(pl.max_horizontal("_res_date", "local_date")).alias("out_date")
    ).group_by("local_date", "site", "department", "queue", "agent_id", "out_date").agg(
        pl.len().alias("n"))
    return {
        "rollup_contacts": contacts.select(c.name for c in schema.rollup_contacts.c),
        "rollup_email_delays": delays.select(c.name for c in schema.rollup_email_delays.c),
        "rollup_email_hist": hist.select(
            pl.col(c.name).cast(pl.Int64) if c.name == "n" else pl.col(c.name)
            for c in schema.rollup_email_hist.c),
        "rollup_email_flow": flow.select(c.name for c in schema.rollup_email_flow.c),
        "rollup_email_flow_daily": flow.group_by(
            "local_date", "site", "department", "queue", "out_date").agg(
            pl.col("n").sum()).select(c.name for c in schema.rollup_email_flow_daily.c),
        **out_frames,
        "rollup_cells": q_rollups.pick_stats(
            out_frames["rollup_site_slots"], ("local_date", "local_slot", "site")
        ).select(c.name for c in schema.rollup_cells.c),
        "rollup_agent_cells": q_rollups.pick_stats(
            out_frames["rollup_agents"], ("local_date", "site", "agent_id")
        ).select(c.name for c in schema.rollup_agent_cells.c),
    }


def reply_bins(reply_us: pl.Expr) -> pl.Expr:
    """The bin (schema.REPLY_BIN_EDGES) of each reply delay in microseconds."""
    edges = pl.Series(schema.REPLY_BIN_EDGES, dtype=pl.Int64)
    return pl.lit(edges).search_sorted(reply_us, side="right").cast(pl.Int16)


def _handled_aggs() -> list[pl.Expr]:
    h = pl.col("_handled")
    return [
        h.sum().alias("handled"),
        (h & pl.col("online_service_promoted").fill_null(False)).sum().alias("promoted"),
        (h & pl.col("caller_key").is_not_null()).sum().alias("with_key"),
        (h & pl.col("_repeat")).sum().alias("repeats"),
    ]


def _insert(conn: Connection, table, frame: pl.DataFrame) -> None:
    """FRAME's rows into TABLE: COPY on PostgreSQL, executemany batches on SQLite."""
    if frame.height == 0:
        return
    if conn.dialect.name == "postgresql":
        copy_frame(conn, f'"{table.name}"', frame)
        return
    key = [c.name for c in table.primary_key.columns]
    if key:  # a table stored in its key's order (schema._CLUSTERED) takes rows in order
        frame = frame.sort(key)
    frame = frame.with_columns(
        pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date
    ).with_columns(  # SQLAlchemy's own text form of a DateTime on SQLite
        pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S.%6f") for c, t in frame.schema.items()
        if isinstance(t, pl.Datetime))
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({", ".join("?" * frame.width)})'
    for offset in range(0, frame.height, INSERT_BATCH):
        conn.exec_driver_sql(sql, frame.slice(offset, INSERT_BATCH).rows())


def _write(conn: Connection, frames: dict[str, pl.DataFrame], tables=TABLES) -> None:
    for table in tables:
        _insert(conn, table, frames[table.name])


def refresh_rollups(conn: Connection, site_days: Iterable[tuple[str, dt.date]]) -> int:
    """Recompute the rollups of the (site, local_date) pairs SITE_DAYS, inside CONN's
    transaction; also every site's D−8..D for each day D (the repeat flags of earlier
    contacts may change). Returns the number of (site, day) pairs recomputed."""
    pairs = {(site, day) for site, day in site_days}
    if not pairs:
        return 0
    all_sites = q_reference.site_settings(conn)["site"].to_list()
    days = {day - dt.timedelta(days=k) for _, day in pairs for k in range(REPEAT_DAYS + 1)}
    pairs |= {(site, day) for site in all_sites for day in days}
    by_site: dict[str, set[dt.date]] = {}
    for site, day in pairs:
        by_site.setdefault(site, set()).add(day)
    for site, site_days_ in sorted(by_site.items()):
        for lo, hi in _date_ranges(site_days_):
            for table in TABLES:
                conn.execute(delete(table).where(table.c.site == site,
                                                 table.c.local_date.between(lo, hi)))
            _write(conn, compute(conn, lo, hi, (site,)))
    return len(pairs)


def _empty(conn: Connection, tables) -> None:
    for table in tables:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f'TRUNCATE "{table.name}"')
        else:
            conn.execute(delete(table))


def rebuild(engine: Engine, *, chunk_days: int = 31, progress=None) -> dict[str, int]:
    """Empty the rollups and compute them again from every raw contact, a chunk of local
    days at a time (bounded memory); marks them complete in app_meta. Returns row counts."""
    c = schema.contacts
    with engine.begin() as conn:
        _empty(conn, TABLES)
        conn.execute(delete(schema.app_meta).where(
            schema.app_meta.c.key.in_([META_KEY, THRESHOLDS_KEY])))
        conn.execute(schema.app_meta.insert().values(
            key=THRESHOLDS_KEY, value=json.dumps(site_thresholds(conn), sort_keys=True)))
        first, last = conn.execute(
            select(c.c.local_date).order_by(c.c.local_date).limit(1)).scalar(), conn.execute(
            select(c.c.local_date).order_by(c.c.local_date.desc()).limit(1)).scalar()
    counts = {t.name: 0 for t in TABLES}
    if first is not None:
        first, last = _as_date(first), _as_date(last)
        day = first
        while day <= last:
            hi = min(last, day + dt.timedelta(days=chunk_days - 1))
            with engine.begin() as conn:
                frames = compute(conn, day, hi)
                _write(conn, frames)
            for name, frame in frames.items():
                counts[name] += frame.height
            if progress:
                progress((hi - first).days + 1, (last - first).days + 1)
            day = hi + dt.timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(schema.app_meta.insert().values(key=META_KEY, value=META_VALUE))
    counts.update(rebuild_staff(engine, chunk_days=chunk_days))
    counts.update(rebuild_surveys(engine))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # PostgreSQL: VACUUM as well, as after any bulk load: it sets the rows' hint bits
        # and the visibility map once, where the first page reads would otherwise write
        # every freshly copied page back.
        command = "VACUUM (ANALYZE)" if conn.dialect.name == "postgresql" else "ANALYZE"
        for table in (*TABLES, *STAFF_TABLES, *SURVEY_TABLES):
            conn.exec_driver_sql(f'{command} "{table.name}"')
        if conn.dialect.name == "sqlite":
            # Fold the WAL back into the file, so that it can be moved or copied alone.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


def compute_presence(conn: Connection, start: dt.date, end: dt.date,
                     sites: tuple[str, ...] = ()) -> dict[str, pl.DataFrame]:
    """rollup_presence, rollup_presence_slots and rollup_agent_days rows of local dates
    START..END (of SITES, all when empty), from the sessions overlapping them."""

    site_rows = q_reference.site_settings(conn)
    if sites:
        site_rows = site_rows.filter(pl.col("site").is_in(list(sites)))
    empty = {t.name: pl.DataFrame(schema={c.name: _DTYPES[c.name] for c in t.c})
             for t in PRESENCE_TABLES}
    bounds = m_grouping.site_period_bounds(site_rows, start, end)
    if bounds.height == 0:
        return empty
    sessions = q_sessions.session_rows(conn, Filters(start, end, sites=sites, scope=ALL_ROWS),
                                       bounds["lo"].min(), bounds["hi"].max())
    if sessions.height == 0:
        return empty
    pieces = m_sessions.session_pieces(sessions, site_rows, start, end, by_day=True, by_slot=True)
    presence = pieces.group_by("site", "local_date", "local_slot", "_g").agg(
        pl.col("logged_us").sum()).rename({"_g": "q_at"})
    slots = presence.group_by("site", "local_date", "local_slot").agg(
        pl.col("logged_us").sum())
    agent_days = pieces.group_by("site", "agent_id", "local_date").agg(
        pl.col("logged_us").sum())
    return {
        t.name: frame.select(pl.col(c.name).cast(_DTYPES[c.name]) for c in t.c)
        for t, frame in ((schema.rollup_presence, presence),
                         (schema.rollup_presence_slots, slots),
                         (schema.rollup_agent_days, agent_days))
    }


_DTYPES = {"site": pl.String, "agent_id": pl.String, "local_date": pl.Date,
           "local_slot": pl.Int16, "q_at": pl.Datetime("us"), "logged_us": pl.Int64}


def _write_acts(conn: Connection, lo: dt.date | None = None, hi: dt.date | None = None,
                site: str | None = None) -> None:
    """rollup_acts and rollup_agent_acts rows counted in SQL from the acts (of SITE,
    local dates LO..HI)."""
    a = schema.acts
    conds = []
    if lo is not None:
        conds.append(a.c.local_date.between(lo, hi))
    if site is not None:
        conds.append(a.c.site == site)
    for table, last in ((schema.rollup_acts, "department"), (schema.rollup_agent_acts,
                                                             "agent_id")):
        keys = [a.c.local_date, a.c.site, a.c[last]]
        conn.execute(table.insert().from_select(
            ["local_date", "site", last, "n"],
            select(*keys, func.count()).where(*conds).group_by(*keys)))


def refresh_acts(conn: Connection, site_days: Iterable[tuple[str, dt.date]]) -> int:
    """Recompute rollup_acts for the (site, local_date) pairs SITE_DAYS in CONN's
    transaction; returns the number of pairs."""
    pairs = set(site_days)
    for site, days in sorted(_by_site(pairs).items()):
        for lo, hi in _date_ranges(days):
            for r in ACT_TABLES:
                conn.execute(delete(r).where(r.c.site == site, r.c.local_date.between(lo, hi)))
            _write_acts(conn, lo, hi, site)
    return len(pairs)


def _write_surveys(conn: Connection, lo: dt.date | None = None, hi: dt.date | None = None,
                   site: str | None = None) -> None:
    """rollup_surveys rows counted in SQL from the answers (of SITE, local dates LO..HI)."""
    sv = schema.surveys
    conds = []
    if lo is not None:
        conds.append(sv.c.local_date.between(lo, hi))
    if site is not None:
        conds.append(sv.c.site == site)
    keys = [sv.c.local_date, sv.c.site, sv.c.department, sv.c.channel]
    conn.execute(schema.rollup_surveys.insert().from_select(
        ["local_date", "site", "department", "channel", *q_surveys.COUNTS],
        select(*keys, *q_surveys.count_columns()).where(*conds).group_by(*keys)))


def refresh_surveys(conn: Connection, site_days: Iterable[tuple[str, dt.date]]) -> int:
    """Recompute rollup_surveys for the (site, local_date) pairs SITE_DAYS in CONN's
    transaction; returns the number of pairs."""
    pairs = set(site_days)
    r = schema.rollup_surveys
    for site, days in sorted(_by_site(pairs).items()):
        for lo, hi in _date_ranges(days):
            conn.execute(delete(r).where(r.c.site == site, r.c.local_date.between(lo, hi)))
            _write_surveys(conn, lo, hi, site)
    return len(pairs)


def rebuild_surveys(engine: Engine) -> dict[str, int]:
    """Empty rollup_surveys and count it again from every answer; marks it complete."""
    with engine.begin() as conn:
        _empty(conn, SURVEY_TABLES)
        conn.execute(delete(schema.app_meta).where(schema.app_meta.c.key == SURVEY_KEY))
        _write_surveys(conn)
        conn.execute(schema.app_meta.insert().values(key=SURVEY_KEY, value=SURVEY_VALUE))
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in SURVEY_TABLES}


def surveys_complete(conn: Connection) -> bool:
    """True when rollup_surveys is complete (a rebuild ran since its definition)."""
    return _meta(conn, SURVEY_KEY) == SURVEY_VALUE


def session_reach(conn: Connection, site_days: Iterable[tuple[str, dt.date]]
                  ) -> dict[str, dt.date]:
    """Per site, the last local day reached by its sessions starting on SITE_DAYS."""
    s = schema.agent_sessions
    tz = dict(q_reference.site_settings(conn).select("site", "timezone").iter_rows())
    out: dict[str, dt.date] = {}
    for site, days in sorted(_by_site(site_days).items()):
        for lo, hi in _date_ranges(days):
            last_end = conn.execute(select(func.max(s.c.end_at)).where(
                s.c.site == site, s.c.local_date.between(lo, hi))).scalar()
            if last_end is not None:
                day = _local_date(_as_datetime(last_end), tz.get(site))
                out[site] = max(day, out.get(site, day))
    return out


def refresh_sessions(conn: Connection, site_days: Iterable[tuple[str, dt.date]],
                     reach: dict[str, dt.date] | None = None) -> int:
    """Recompute the presence rollups (PRESENCE_TABLES) for the sessions starting on the
    (site, local_date) pairs SITE_DAYS: each day D up to the last day they reach (and
    REACH[site], the last day the same sessions reached before they changed: pass
    session_reach's answer taken before the change), at least D+1. Returns the days."""
    pairs = set(site_days)
    after = session_reach(conn, pairs)
    reach = reach or {}
    done = 0
    for site, days in sorted(_by_site(pairs).items()):
        for lo, hi in _date_ranges(days):
            end = max(d for d in (hi + dt.timedelta(days=1), after.get(site), reach.get(site))
                      if d is not None)
            for table in PRESENCE_TABLES:
                conn.execute(delete(table).where(table.c.site == site,
                                                 table.c.local_date.between(lo, end)))
            _write(conn, compute_presence(conn, lo, end, (site,)), PRESENCE_TABLES)
            done += (end - lo).days + 1
    return done


def _by_site(site_days: Iterable[tuple[str, dt.date]]) -> dict[str, set[dt.date]]:
    out: dict[str, set[dt.date]] = {}
    for site, day in site_days:
        out.setdefault(site, set()).add(day)
    return out


def rebuild_staff(engine: Engine, *, chunk_days: int = 31) -> dict[str, int]:
    """Empty the staff rollups and compute them again from every session and act (a
    chunk of local days at a time); marks them complete. Returns row counts."""
    s = schema.agent_sessions
    with engine.begin() as conn:
        _empty(conn, STAFF_TABLES)
        conn.execute(delete(schema.app_meta).where(schema.app_meta.c.key == STAFF_KEY))
        _write_acts(conn)
        first = conn.execute(select(func.min(s.c.local_date))).scalar()
        last_end = conn.execute(select(func.max(s.c.end_at))).scalar()
    counts = {t.name: 0 for t in STAFF_TABLES}
    if first is not None:
        # Every zone's local date of the last end is at most a day after its UTC date.
        day, last = _as_date(first), _as_datetime(last_end).date() + dt.timedelta(days=1)
        while day <= last:
            hi = min(last, day + dt.timedelta(days=chunk_days - 1))
            with engine.begin() as conn:
                frames = compute_presence(conn, day, hi)
                _write(conn, frames, PRESENCE_TABLES)
            for name, frame in frames.items():
                counts[name] += frame.height
            day = hi + dt.timedelta(days=1)
    with engine.begin() as conn:
        for table in ACT_TABLES:
            counts[table.name] = conn.execute(select(func.count()).select_from(table)).scalar()
        conn.execute(schema.app_meta.insert().values(key=STAFF_KEY, value=STAFF_VALUE))
    return counts


def staff_complete(conn: Connection) -> bool:
    """True when the staff rollups (presence, agent days, acts) are complete."""
    return _meta(conn, STAFF_KEY) == STAFF_VALUE


def _meta(conn: Connection, key: str) -> str | None:
    return conn.execute(
        select(schema.app_meta.c.value).where(schema.app_meta.c.key == key)).scalar()


def _as_datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _local_date(utc: dt.datetime, timezone: str | None) -> dt.date:
    frame = with_local_columns(
        pl.DataFrame({"t": [utc], "tz": [timezone or "Europe/Paris"]},
                     schema={"t": pl.Datetime("us"), "tz": pl.String}),
        "t", "tz", "d", None)
    return frame["d"][0]


def rollups_complete(conn: Connection) -> bool:
    """True when a full rebuild has run on this database (and ingest keeps them fresh)."""
    return _meta(conn, META_KEY) == META_VALUE


def _as_date(value) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def site_thresholds(conn: Connection) -> dict[str, list[int]]:
    """Per site its own [SL, short-abandon] thresholds (the settings' where null)."""
    defaults = config.default_thresholds()
    out = {}
    for site, _tz, sl, short in q_reference.site_settings(conn).iter_rows():
        out[site] = [int(sl if sl is not None else defaults.sl_seconds),
                     int(short if short is not None else defaults.short_abandon_seconds)]
    return out


def baked_thresholds(conn: Connection) -> dict[str, list[int]]:
    """The thresholds the coarse rollups were computed with (app_meta), else the sites'."""
    value = _meta(conn, THRESHOLDS_KEY)
    return json.loads(value) if value else site_thresholds(conn)
