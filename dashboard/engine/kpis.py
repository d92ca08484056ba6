"""The KPI engine: filters in, one row of KPIs per group out.

Pages, exports and the CLI call `compute_kpis`; it runs the named queries of `queries/`
(bound parameters only) and hands their frames to the pure formulas of
`dashboard.metrics`. Filters and Overrides (dashboard.core.filters) are frozen and
hashable, so Streamlit can cache on them (pass the database URL, never the SQLAlchemy
engine, to `st.cache_data`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Engine

from dashboard.core import config
from dashboard.core.filters import Filters, Overrides
from dashboard.core.workdays import HolidayCalendar
from dashboard.engine import background, period_cache, rollups
from dashboard.engine.team_period import TeamPeriod, team_period
from dashboard.metrics import definitions as m
from dashboard.metrics import email as m_email
from dashboard.metrics import formulas as m_formulas
from dashboard.metrics import grouping as m_grouping
from dashboard.metrics import handled as m_handled
from dashboard.metrics import medians
from dashboard.metrics import phone as m_phone
from dashboard.metrics import sessions as m_sessions
from dashboard.metrics import staffing as m_staffing
from dashboard.metrics import surveys as m_surveys
from dashboard.store import schema
from queries import acts as q_acts
from queries import contacts as q_contacts
from queries import reference as q_reference
from queries import rollups as q_rollups
from queries import sessions as q_sessions
from queries import staffing as q_staffing
from queries import surveys as q_surveys


def compute_kpis(
    engine: Engine,
    filters: Filters,
    by: Sequence[str] = (),
    overrides: Overrides | None = None,
    *,
    calendar: HolidayCalendar | None = None,
    source: str = "auto",
    metrics: Sequence[str] | None = None,
) -> pl.DataFrame:
    """KPIs of spec/metrics.md for FILTERS: group keys (BY order, sorted), then METRICS.

    METRICS: the keys the caller will read (default: all). The others are null, and the
    statistics only they need (median reply time, backlog, acts, sessions, Erlang) are
    not computed; the wanted ones are exactly what a full computation gives.

    SOURCE: "rollup" reads the contacts' statistics from the rollup tables
    (dashboard.engine.rollups), "raw" aggregates the raw contacts; "auto" (the default)
    takes the rollups when a full rebuild has marked them complete and they can answer
    exactly (default holiday calendar, thresholds within schema.WAIT_CAP), else the raw
    rows; team presence and acts likewise come from the staff rollups unless SOURCE is
    "raw" (presence: when the opening hours fall on quarter hours). Both give the same
    figures (tests/test_rollups.py).

    From the rollups, the team measures' statistics per site × day × half-hour (Erlang
    cells, time bases, presence) depend on the filters only, not on BY: they are
    computed once and shared by the calls grouping the same filters differently
    (dashboard.engine.team_period, dashboard.engine.period_cache).

    Three steps, each readable alone: `plan` (what the arguments ask for),
    `read_inputs` (every database read, the sources chosen by what the database holds)
    and `compute` (pure Polars: the metrics package's formulas).
    """
    if source not in ("auto", "rollup", "raw"):
        raise ValueError(f"source must be auto, rollup or raw, got {source!r}")
    wanted = plan(filters, by, overrides, metrics)
    with engine.connect() as conn:
        inputs = read_inputs(engine, conn, filters, wanted, calendar, source)
    return compute(filters, wanted, inputs)


@dataclass(frozen=True)
class Plan:
    """What a compute_kpis call asks for, decided from its arguments alone."""

    by: tuple[str, ...]
    overrides: Overrides
    defaults: config.Thresholds
    unavailable: frozenset[str]  # metrics left null: unmeasurable or not wanted
    team: bool  # the team measures (Erlang, time bases) are wanted and measurable
    wants_hours: bool  # logged-in time is wanted
    slot_base: bool  # the time base is the half-hour (grouped by slot)
    src: tuple[str, ...]  # the source columns BY is computed from
    phone_src: tuple[str, ...]  # the calls' columns: SRC, plus day and slot for Erlang


def plan(filters: Filters, by: Sequence[str], overrides: Overrides | None,
         metrics: Sequence[str] | None) -> Plan:
    """The Plan of a compute_kpis call (ValueError for an unknown dimension)."""
    by = m_grouping.check_by(by)
    restricted = set(filters.restricted_dimensions())
    if filters.scope is not None and filters.scope.role == "agent":
        restricted.add("agent")  # an agent's own rows: no team measure
    unavailable = m.unavailable_metrics(by, restricted) | m.unwanted_metrics(metrics)
    team = "required_agents" not in unavailable
    src = m_grouping.source_columns(by)
    return Plan(
        by=by, overrides=overrides or Overrides(), defaults=config.default_thresholds(),
        unavailable=frozenset(unavailable), team=team,
        wants_hours="agent_hours" not in unavailable, slot_base="slot" in by, src=src,
        phone_src=(*src, "local_date", "local_slot") if team else src)


@dataclass
class Inputs:
    """What the database gave for a Plan, before the formulas of stage 2."""

    sites: pl.DataFrame
    campaigns: pl.DataFrame | None
    frames: list[pl.DataFrame]  # the contacts' statistics per group (rollups or raw rows)
    act_counts: pl.DataFrame | None = None
    survey_counts: pl.DataFrame | None = None  # users' survey answers per raw group
    period: TeamPeriod | None = None  # the team statistics, shared by the filters' calls
    hours: pl.DataFrame | None = None  # the team sites' opening hours and targets
    windows: pl.DataFrame | None = None  # their open windows over the period
    cells: pl.DataFrame | None = None  # Erlang cell inputs, from the raw rows
    patience: pl.DataFrame | None = None  # each site's patience, for Erlang A
    presence: pl.DataFrame | None = None  # logged-in time from the staff rollups
    sessions: pl.DataFrame | None = None  # raw sessions, when no rollup answers


def read_inputs(engine: Engine, conn, filters: Filters, p: Plan,
         calendar: HolidayCalendar | None, source: str) -> Inputs:
    """Every read of a compute_kpis call: the rollups when they answer exactly (SOURCE
    "auto"), the reads that do not depend on the contact sums begun beside them
    (dashboard.engine.background)."""
    overrides, defaults = p.overrides, p.defaults
    sites = q_reference.site_settings(conn)
    campaigns = q_reference.campaign_rows(conn) if "campaign" in p.by else None
    bounds = m_grouping.site_period_bounds(sites, filters.start, filters.end)
    if bounds.height:
        period_lo, period_hi = bounds["lo"].min(), bounds["hi"].max()
    else:  # no site at all: any instant that surely brackets the local period
        period_lo = dt.datetime.combine(filters.start, dt.time()) - dt.timedelta(days=1)
        period_hi = dt.datetime.combine(filters.end, dt.time()) + dt.timedelta(days=2)

    sl_map, short_map = _site_thresholds(sites, defaults, overrides)
    exact = calendar is None and _within_cap(sl_map, short_map, defaults, overrides)
    if source == "rollup" and not exact:
        raise ValueError("the rollups cannot answer exactly with a custom calendar or "
                         f"thresholds above {schema.WAIT_CAP} s: use source='raw'")
    use_rollups = source == "rollup" or (
        source == "auto" and exact and rollups.rollups_complete(conn))
    # Team presence and acts: from the staff rollups when complete and exact.
    staff = source != "raw" and rollups.staff_complete(conn)
    out = Inputs(sites=sites, campaigns=campaigns, frames=[])
    if p.team:
        out.hours = hours = team_sites(q_staffing.site_hours(conn), filters)
        if calendar is None:  # the default calendar: shared by the page's calls
            out.windows = period_cache.shared(
                engine, ("windows", tuple(hours.rows()), filters.start, filters.end),
                lambda: m_sessions.open_windows(hours, filters.start, filters.end))
        else:
            out.windows = m_sessions.open_windows(hours, filters.start, filters.end, calendar)
    quarters = (staff and p.team and p.wants_hours
                and m_sessions.windows_on_quarters(out.windows))
    team_job = None
    if use_rollups:
        thresholds = _rollup_thresholds(conn, sites, overrides, defaults, sl_map, short_map)
        if p.team:
            # The same for every grouping of these filters: computed once, shared by
            # the calls of a page while fresh (dashboard.engine.period_cache), and read
            # beside the contact sums (dashboard.engine.background).
            key = ("team", filters, overrides, defaults, thresholds, tuple(sites.rows()),
                   tuple(out.hours.rows()), quarters)
            team_job = background.Job(engine, lambda c: period_cache.shared(
                engine, key, lambda: _rollup_team(
                    c, filters, overrides, defaults, thresholds, out.hours, out.windows,
                    quarters, p.slot_base)))
    # Reads independent of the contact sums, begun beside them.
    act_job = agent_days_job = None
    if "acts" not in p.unavailable:
        acts_table = q_rollups.acts_table(p.src, filters) if staff else None
        act_job = background.Job(engine, lambda c: (
            q_rollups.act_counts(c, filters, p.src, acts_table) if acts_table is not None
            else q_acts.act_counts(c, filters, p.src)))
    survey_job = None
    if not m.SURVEY_METRICS <= p.unavailable:
        from_rollup = source != "raw" and rollups.surveys_complete(conn)
        survey_job = background.Job(
            engine, lambda c: q_surveys.survey_counts(c, filters, p.src, from_rollup))
    if p.wants_hours and staff and not p.team and not p.slot_base:
        agent_days_job = background.Job(
            engine, lambda c: q_rollups.agent_day_rows(c, filters, p.src))
    patience = None
    if use_rollups:
        out.frames = _rollup_stats(engine, conn, filters, p.by, p.src, p.unavailable,
                                   campaigns, thresholds)
    else:
        out.frames, out.cells, patience = _raw_stats(
            conn, filters, p.by, p.src, p.phone_src, p.unavailable, campaigns, sites,
            p.team, overrides, defaults, calendar, period_lo)
    if act_job is not None:
        out.act_counts = act_job.result(conn)
    if survey_job is not None:
        out.survey_counts = survey_job.result(conn)
    if team_job is not None:
        out.period = team_job.result(conn)
    if p.wants_hours:
        if quarters and out.period is not None:
            out.presence = out.period.presence(p.slot_base)
        elif quarters:
            out.presence = m_sessions.base_logged_quarters(
                q_rollups.presence_rows(conn, filters), out.windows, slot_base=p.slot_base)
        elif agent_days_job is not None:
            out.presence = agent_days_job.result(conn)
        else:
            out.sessions = q_sessions.session_rows(conn, filters, period_lo, period_hi)
    if (p.team and out.period is None and overrides.erlang_a
            and overrides.patience_seconds is None):
        out.patience = patience()
    return out


def compute(filters: Filters, p: Plan, inputs: Inputs) -> pl.DataFrame:
    """Stage 2 of a compute_kpis call: the Inputs' statistics per group → KPIs (pure)."""
    by, campaigns, frames = p.by, inputs.campaigns, list(inputs.frames)
    if inputs.act_counts is not None:
        keyed = m_grouping.with_group_keys(inputs.act_counts, by, campaigns)
        frames.append(m_handled.act_stats(keyed, by))
    if inputs.survey_counts is not None:
        keyed = m_grouping.with_group_keys(inputs.survey_counts, by, campaigns)
        frames.append(m_surveys.survey_stats(keyed, by))
    if inputs.period is not None:
        grid = inputs.period.grid(p.slot_base)
        cells = inputs.period.required(p.slot_base)
    elif p.team:
        grid = m_sessions.slot_grid(inputs.hours, inputs.windows, filters.start, filters.end,
                                    slot_base=p.slot_base)
        cells = m_staffing.required_from_inputs(inputs.cells, grid, _targets(
            inputs.hours, inputs.patience, p.overrides, p.defaults))
    if p.team:
        frames.append(m_staffing.required_stats(m_grouping.with_group_keys(cells, by), by))
    if inputs.presence is not None:
        keyed = m_grouping.with_group_keys(inputs.presence, by)
        frames.append(m_sessions.session_stats(keyed, by))
        if p.team:
            frames.append(m_sessions.base_logged_stats(keyed, by))
    if inputs.sessions is not None:
        pieces = m_sessions.session_pieces(
            inputs.sessions, inputs.sites, filters.start, filters.end,
            by_day=p.team or bool({"day", "week", "month"} & set(by)), by_slot=p.slot_base,
        )
        frames.append(m_sessions.session_stats(m_grouping.with_group_keys(pieces, by), by))
        if p.team:
            inside = m_sessions.base_logged_pieces(pieces, inputs.windows,
                                                   slot_base=p.slot_base)
            frames.append(m_sessions.base_logged_stats(m_grouping.with_group_keys(inside, by),
                                                       by))
    stats = m_grouping.merge_stats(frames, by)
    if p.team:
        base = m_sessions.base_stats(m_grouping.with_group_keys(grid, by), by)
        stats = m_staffing.attach_base(stats, base, by)
    return m_formulas.kpis_from_stats(stats, by, p.unavailable)


def team_sites(hours: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """The rows of HOURS (one per site) of the sites the filters and the scope cover: the
    teams whose time base the team measures take, the sites a review's tools cover."""
    if filters.sites:
        hours = hours.filter(pl.col("site").is_in(list(filters.sites)))
    scope = filters.scope
    if scope is not None and not scope.sees_all_sites:
        hours = hours.filter(pl.col("site") == scope.site)
    return hours


def _targets(
    hours: pl.DataFrame, patience, overrides: Overrides, defaults: config.Thresholds
) -> pl.DataFrame:
    """Per site: the service-level target and, for Erlang A, the callers' mean patience."""
    target = (
        pl.lit(overrides.sl_target) if overrides.sl_target is not None
        else pl.col("sl_target").fill_null(defaults.sl_target)
    )
    out = hours.select("site", target.cast(pl.Float64).alias("sl_target"))
    if not overrides.erlang_a:
        return out.with_columns(pl.lit(None, dtype=pl.Float64).alias("patience_s"))
    if overrides.patience_seconds is not None:
        return out.with_columns(
            pl.lit(float(overrides.patience_seconds)).alias("patience_s"))
    return out.join(patience, on="site", how="left")


def _raw_stats(conn, filters, by, src, phone_src, unavailable, campaigns, sites, team,
               overrides, defaults, calendar, period_lo):
    """The contacts' statistics from the raw rows: (stat frames, Erlang cell inputs or
    None, a callable giving each site's patience)."""
    phone = q_contacts.phone_rows(conn, filters, phone_src)
    emails = q_contacts.email_rows(conn, filters, src)
    handled_times = pl.concat(
        [
            phone.filter(pl.col("outcome") == "answered").select("caller_key", "received_at"),
            emails.filter(pl.col("answered_at").is_not_null()).select(
                "caller_key", "received_at"
            ),
        ]
    ).filter(pl.col("caller_key").is_not_null())
    if handled_times.height:
        followups = q_contacts.followup_rows(
            conn,
            filters,
            handled_times["received_at"].min(),
            handled_times["received_at"].max() + m.REPEAT_WINDOW,
        )
    else:
        followups = pl.DataFrame(
            schema={"caller_key": pl.String, "received_at": pl.Datetime("us")}
        )
    backlog = (
        None if "backlog" in unavailable
        else q_contacts.backlog_rows(conn, filters, src, period_lo)
    )
    phone = m_grouping.with_group_keys(
        m_grouping.with_thresholds(
            phone, sites, defaults, overrides.sl_seconds, overrides.short_abandon_seconds
        ),
        by,
        campaigns,
    )
    emails = m_grouping.with_group_keys(m_email.email_flags(emails, sites, calendar), by, campaigns)
    frames = [
        m_phone.phone_stats(phone, by),
        m_email.email_stats(emails, by),
        m_handled.handled_stats(phone, emails, followups, by),
    ]
    if backlog is not None:
        frames.append(
            m_email.backlog_stats(backlog, by, sites, filters.start, filters.end, campaigns)
        )
    cells = m_staffing.cell_inputs(phone) if team else None
    return frames, cells, lambda: m_phone.site_patience(phone)


@dataclass(frozen=True)
class _RollupThresholds:
    """The SL and short-abandon thresholds the rollups are read with (per site, else the
    default), and whether the coarse rollups' baked threshold counts are theirs."""

    sl: tuple[tuple[str, int], ...]
    short: tuple[tuple[str, int], ...]
    sl_default: int
    short_default: int
    coarse_ok: bool

    def sl_sql(self):
        """The SL threshold of each row's site, as SQL (queries.rollups.per_site)."""
        return q_rollups.per_site(dict(self.sl), self.sl_default)

    def short_sql(self):
        """The short-abandon threshold of each row's site, as SQL."""
        return q_rollups.per_site(dict(self.short), self.short_default)


def _rollup_thresholds(conn, sites, overrides, defaults, sl_map, short_map
                       ) -> _RollupThresholds:
    effective = {site: [_default(overrides.sl_seconds, sl_map.get(site, defaults.sl_seconds)),
                        _default(overrides.short_abandon_seconds,
                                 short_map.get(site, defaults.short_abandon_seconds))]
                 for site in sites["site"].to_list()}
    baked = rollups.baked_thresholds(conn)
    # The coarse rollups hold threshold counts at their baked thresholds only.
    coarse_ok = all(baked.get(site) == value for site, value in effective.items())
    return _RollupThresholds(
        tuple(sorted(sl_map.items())), tuple(sorted(short_map.items())),
        _default(overrides.sl_seconds, defaults.sl_seconds),
        _default(overrides.short_abandon_seconds, defaults.short_abandon_seconds), coarse_ok)


def _rollup_stats(engine, conn, filters, by, src, unavailable, campaigns,
                  thresholds: _RollupThresholds):
    """The contacts' statistics frames of _raw_stats, from the rollup tables
    (queries.rollups)."""
    table = q_rollups.pick_table(src, filters) if thresholds.coarse_ok else q_rollups.R
    wants_email = not filters.channels or "email" in filters.channels
    backlog_job = None
    if "backlog" not in unavailable and wants_email:
        keep = m_email.backlog_level_keys(by)
        b_src = [c for c in m_grouping.source_columns(keep) if c != "channel"]
        since = m_email.backlog_since(by, filters.start, filters.end)
        backlog_job = background.Job(engine, lambda c: q_rollups.backlog_events(
            c, filters, b_src, since))
    # Groupings with the same source columns (Bilan's weeks and campaigns per
    # département: local date × département) share one read while fresh.
    read = q_rollups.read_columns(conn, src, table)
    sums = period_cache.shared(
        engine, ("sums", filters, read, table.name, thresholds),
        lambda: q_rollups.contact_stats(conn, filters, read, thresholds.sl_sql(),
                                        thresholds.short_sql(), table))
    keyed = m_grouping.with_group_keys(sums, by, campaigns)
    aggs = [pl.col(n).sum() for n in q_rollups.CONTACT_SUMS] + [pl.col("ph_max_wait").max()]
    if by:
        contact = keyed.group_by(list(by)).agg(aggs)
    else:
        contact = keyed.select(aggs) if keyed.height else keyed.select(*q_rollups.CONTACT_SUMS,
                                                                       "ph_max_wait")
    frames = [m_grouping.cast_stats(contact)]
    d_src = [c for c in src if c != "channel"]
    if wants_email and "median_reply_hours" not in unavailable:
        frames.append(_reply_medians(conn, filters, by, d_src, campaigns, "channel" in src))
    if backlog_job is not None:
        events = backlog_job.result(conn)
        if "channel" in keep:
            events = events.with_columns(pl.lit("email").alias("channel"))
        events = m_grouping.with_group_keys(events, keep)
        departments = events.get_column("department").unique().to_list() if (
            "campaign" in by) else []
        frames.append(m_email.backlog_from_events(
            events.select(*keep, "local_date", "_d"), by, filters.start, filters.end,
            departments, campaigns))
    return frames


def _rollup_team(conn, filters, overrides, defaults, thresholds: _RollupThresholds, hours,
                 windows, quarters: bool, slot_base: bool) -> TeamPeriod:
    """The period's TeamPeriod from the rollups, with the presence rollups when QUARTERS
    (metrics.windows_on_quarters), the figures of SLOT_BASE derived at once."""
    t = thresholds
    # The slot grids read no database: built in another worker while this one reads.
    grids_task = background.Task(lambda: m_sessions.slot_grids(hours, windows, filters.start,
                                                      filters.end))
    inputs = q_rollups.cell_inputs(conn, filters, t.short_sql(), baked=t.coarse_ok
                                   ).with_columns(
        pl.col("site").replace_strict(dict(t.sl), default=t.sl_default,
                                      return_dtype=pl.Float64).alias("_t"))
    patience = None
    if overrides.erlang_a and overrides.patience_seconds is None:
        site_table = q_rollups.pick_table(("site",), filters) if t.coarse_ok else q_rollups.R
        patience = m_phone.patience_from_stats(m_grouping.cast_stats(q_rollups.contact_stats(
            conn, filters, ("site",), t.sl_sql(), t.short_sql(), site_table)))
    grids = grids_task.result()
    presence, on_slots = None, False
    if quarters:
        # Per half-hour when no slot straddles an opening or closing time: half the rows.
        on_slots = m_sessions.hours_on_slots(grids[False])
        read = q_rollups.presence_slot_rows if on_slots else q_rollups.presence_rows
        # Read in another worker while this one solves the Erlang cells (Polars and
        # NumPy, which release the GIL).
        job = background.Job(conn.engine, lambda c: read(c, filters))
        presence = functools.partial(job.result, conn)
    return team_period(inputs, grids, _targets(hours, patience, overrides, defaults),
                       presence, windows, on_slots=on_slots, first=slot_base)


def _reply_medians(conn, filters, by, columns, campaigns, with_channel) -> pl.DataFrame:
    """`em_reply_us` per group (its middle reply delays): the bin counts locate the
    middle ranks, then only the delays of those bins are read (dashboard.metrics.medians)."""
    def keyed(frame: pl.DataFrame) -> pl.DataFrame:
        if with_channel:
            frame = frame.with_columns(pl.lit("email").alias("channel"))
        return m_grouping.with_group_keys(frame, by, campaigns)

    hist = q_rollups.reply_histogram(conn, filters, columns)
    wanted = medians.middle_positions(keyed(hist), by)
    direct = [d for d in by if d != "channel"]
    if wanted.height <= SMALL_MEDIANS and set(direct) <= PLAIN_KEYS:
        # A few groups keyed by plain columns: each middle delay by its own query, which
        # sorts one bin of one group only.
        found = [
            (*row[:len(by)], q_rollups.delay_at(
                conn, filters, {m.DIM_SOURCES[d][0]: value for d, value in zip(by, row)
                                if d != "channel"}, row[-2], row[-1]))
            for row in wanted.select(*by, "reply_bin", "pos").rows()]
        picked = pl.DataFrame(found, schema={**dict(wanted.select(*by).schema),
                                             "reply_us": pl.Int64}, orient="row")
        if not by:
            return m_grouping.cast_stats(picked.select(pl.col("reply_us").implode().alias(
                "em_reply_us")))
        return m_grouping.cast_stats(picked.group_by(list(by)).agg(
            pl.col("reply_us").alias("em_reply_us")))
    rows = q_rollups.delays_in_bins(conn, filters, columns, medians.bin_ranges(wanted))
    return medians.pick_middles(keyed(rows), wanted, by)


SMALL_MEDIANS = 16  # middle delays fetched one query each below this many
PLAIN_KEYS = {"site", "department", "queue", "agent"}  # group key = the column's value


def _default(override: int | None, default: int) -> int:
    return override if override is not None else default


def _site_thresholds(sites: pl.DataFrame, defaults: config.Thresholds, overrides: Overrides
                     ) -> tuple[dict[str, int], dict[str, int]]:
    """Per site its SL and short-abandon thresholds (m.with_thresholds' precedence);
    empty when an override applies to every site."""
    sl = {} if overrides.sl_seconds is not None else {
        s: int(v if v is not None else defaults.sl_seconds)
        for s, v in sites.select("site", "sl_seconds").iter_rows()}
    short = {} if overrides.short_abandon_seconds is not None else {
        s: int(v if v is not None else defaults.short_abandon_seconds)
        for s, v in sites.select("site", "short_abandon_seconds").iter_rows()}
    return sl, short


def _within_cap(sl_map, short_map, defaults, overrides) -> bool:
    sl = [*sl_map.values(), _default(overrides.sl_seconds, defaults.sl_seconds)]
    short = [*short_map.values(),
             _default(overrides.short_abandon_seconds, defaults.short_abandon_seconds)]
    return max(sl) <= schema.WAIT_CAP and max(short) <= schema.WAIT_CAP + 1
