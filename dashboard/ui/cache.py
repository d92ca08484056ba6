"""Streamlit caches around the data road: the engine as a resource, results with a TTL.

Cached functions take the database URL (a string) rather than an engine, so that
`st.cache_data` hashes plain values only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy import inspect as sa_inspect

from dashboard.core import config, dburl
from dashboard.core.access import Scope, User
from dashboard.core.filters import Filters, Overrides
from dashboard.engine import forecasting
from dashboard.engine import kpis as kpi_engine
from dashboard.engine import rollups, schedule_adherence
from dashboard.store import database as db
from dashboard.store import users as users_mod
from queries import agents, meta, overview

if TYPE_CHECKING:
    from queries.contact_rows import Anchor, DayChoices, Page, RowFilter

TTL_SECONDS = 300

_PLAIN = (str, int, float, bool, type(None), dt.date, dt.time, dt.timedelta)


def _is_plain(value: tuple) -> bool:
    """Whether VALUE holds plain values and such tuples only."""
    return all(_is_plain(v) if isinstance(v, tuple) else isinstance(v, _PLAIN) for v in value)


def _tuple_key(value: tuple) -> str | list:
    """A tuple of plain values (codes, metric keys, dates, such tuples) as its repr; any
    other tuple (Streamlit's own reductions of objects) as a list Streamlit hashes item by
    item, as it would the tuple."""
    return repr(value) if _is_plain(value) else ["tuple", *value]


def _frozen_key(value) -> str:
    """A frozen dataclass of plain values and tuples of them (Filters, Scope, Overrides)
    as its repr, which names every field."""
    return repr(value)


# Streamlit hashes a cached function's arguments on every call, value by value: a page
# render spent about a tenth of its CPU hashing the filters and the metric keys (0.72 ms
# per call). Their reprs name every field and value: 0.1 ms.
KEYS = {tuple: _tuple_key, Filters: _frozen_key, Overrides: _frozen_key,
        Scope: _frozen_key}


def db_url() -> str:
    """The configured database URL."""
    return config.db_url()


@st.cache_resource(show_spinner=False)
def get_engine(url: str) -> Engine:
    """One engine (connection pool) per database for the whole server."""
    return db.get_engine(url)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner=False)
def database_problem(url: str) -> str | None:
    """None when the database answers and has a schema, else a French one-line reason."""
    try:
        if not db.is_initialised(get_engine(url)):
            return ("La base de données est vide : lancez `make run` pour la démonstration "
                    "ou `python -m dashboard db upgrade` puis importez vos données.")
    except Exception as exc:  # shown to the user instead of a stack trace
        return dburl.classify(url, exc).french
    return None


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner=False)
def is_demo_database(url: str) -> bool:
    """Whether the pilot simulation built this database."""
    with get_engine(url).connect() as conn:
        return meta.is_demo_database(conn)


# Users are read on every run and not cached: a disabled user loses access at once.
def active_user(url: str, login: str) -> User | None:
    """The active user with this login, or None."""
    with get_engine(url).connect() as conn:
        return users_mod.active_user(conn, login)


def active_users(url: str) -> list[User]:
    """Every active user (for the demo picker)."""
    with get_engine(url).connect() as conn:
        return [u for u in users_mod.list_users(conn) if u.active]


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner=False)
def data_span(url: str, scope: Scope) -> overview.DataSpan:
    """First and last day with data in SCOPE, and volumes."""
    with get_engine(url).connect() as conn:
        return overview.data_span(conn, scope)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner=False)
def last_day_with_data(url: str, scope: Scope, sites: tuple[str, ...] = ()) -> dt.date | None:
    """Latest local day with contacts in SCOPE."""
    with get_engine(url).connect() as conn:
        return overview.last_day_with_data(conn, scope, sites)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner=False)
def coverage_periods(url: str) -> pl.DataFrame:
    """Sites and the départements they serve over time."""
    with get_engine(url).connect() as conn:
        return overview.coverage_periods(conn)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner="Calcul des indicateurs…")
def kpis(
    url: str,
    filters: Filters,
    by: tuple[str, ...] = (),
    overrides: Overrides | None = None,
    metrics: tuple[str, ...] | None = None,
) -> pl.DataFrame:
    """The metrics engine's result for these filters, cached for TTL_SECONDS (METRICS:
    the ones the page reads, None for all)."""
    return kpi_engine.compute_kpis(get_engine(url), filters, by, overrides, metrics=metrics)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner=False)
def agent_names(url: str, scope: Scope) -> dict[str, str]:
    """Agents' names that SCOPE may see."""
    with get_engine(url).connect() as conn:
        return agents.agent_names(conn, scope)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner="Calcul de la médiane de l'équipe…")
def team_medians(
    url: str,
    site: str,
    start: dt.date,
    end: dt.date,
    grain: str = "day",
    channels: tuple[str, ...] = (),
) -> pl.DataFrame:
    """The anonymous team medians of SITE (dashboard.engine.team): medians only, no agent row.

    Callers pass the site of the user's own scope, never one from the request.
    """
    from dashboard.engine import team

    return team.team_medians(get_engine(url), site, start, end, grain, channels)


# --- Site supervisor pages (Aujourd'hui, Campagnes, Actes) ---------------------------
LIVE_TTL_SECONDS = 60  # the day in progress, on a wallboard: fresher than TTL_SECONDS


@st.cache_data(hash_funcs=KEYS, ttl=LIVE_TTL_SECONDS, show_spinner="Calcul des indicateurs…")
def kpis_live(url: str, filters: Filters, by: tuple[str, ...] = (),
              metrics: tuple[str, ...] | None = None) -> pl.DataFrame:
    """As `kpis`, kept one minute only (the Aujourd'hui page and its auto-refresh)."""
    return kpi_engine.compute_kpis(get_engine(url), filters, by, metrics=metrics)


@st.cache_data(hash_funcs=KEYS, ttl=LIVE_TTL_SECONDS, show_spinner=False)
def latest_received_at(url: str, filters: Filters) -> dt.datetime | None:
    """Latest receipt instant (naive UTC) of the contacts FILTERS select."""
    from queries import freshness

    with get_engine(url).connect() as conn:
        return freshness.latest_received_at(conn, filters)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner=False)
def site_targets(url: str, scope: Scope) -> pl.DataFrame:
    """The sites SCOPE may read, with time zone and targets."""
    from queries import site_targets as q_targets

    with get_engine(url).connect() as conn:
        return q_targets.site_targets(conn, scope)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner=False)
def campaigns(url: str) -> pl.DataFrame:
    """Campaigns: name, inclusive start and end dates, département or null."""
    from queries import reference

    with get_engine(url).connect() as conn:
        return reference.campaign_rows(conn)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner="Comptage des actes…")
def acts_by_type(url: str, filters: Filters) -> pl.DataFrame:
    """Acts per local day × site × département × act type for FILTERS."""
    from queries import acts_by_type as q_acts_by_type

    with get_engine(url).connect() as conn:
        return q_acts_by_type.acts_by_type(conn, filters)


# --- Direction nationale pages (Bilan, Effectifs) ------------------------------------



@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner=False)
def staffing_sites(url: str) -> pl.DataFrame:
    """Per site: time zone, opening hours, open weekdays, SL target and threshold."""
    from queries import staffing

    with get_engine(url).connect() as conn:
        return staffing.site_hours(conn)


# --- Données page (admins): imports journal, freshness, gaps ------------------------------


@st.cache_data(hash_funcs=KEYS, ttl=60, show_spinner=False)
def import_history(url: str) -> pl.DataFrame:
    """The latest imports, newest first (a short TTL: imports run while admins watch)."""
    from queries import imports

    with get_engine(url).connect() as conn:
        return imports.import_history(conn)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner="Lecture de la fraîcheur des données…")
def data_freshness(url: str) -> pl.DataFrame:
    """Per site and channel: span, last contact received, last import."""
    from queries import imports

    with get_engine(url).connect() as conn:
        return imports.data_freshness(conn, from_rollups=rollups.rollups_complete(conn))


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner="Recherche des jours sans données…")
def data_gaps(url: str) -> pl.DataFrame:
    """Runs of expected days without contacts, per site and channel."""
    from queries import imports

    with get_engine(url).connect() as conn:
        return imports.data_gaps(conn, from_rollups=rollups.rollups_complete(conn))


def quarantine_file(url: str, import_id: int):
    """One import's rejected rows (queries.imports.QuarantineFile), if its file is in the
    quarantine folder (DASHBOARD_QUARANTINE_DIR)."""
    return _quarantine_file(url, import_id, str(config.quarantine_dir()))


@st.cache_data(hash_funcs=KEYS, ttl=60, max_entries=4, show_spinner=False)
def _quarantine_file(url: str, import_id: int, folder: str):
    from pathlib import Path

    from queries import imports

    with get_engine(url).connect() as conn:
        return imports.quarantine_file(conn, import_id, Path(folder))


# --- Détail des contacts: raw rows of one day, a page at a time -------------------------


@st.cache_data(hash_funcs=KEYS, ttl=LIVE_TTL_SECONDS, max_entries=200, show_spinner="Lecture des contacts…")
def contact_page(url: str, filters: Filters, narrowing: RowFilter,
                 anchor: Anchor | None = None) -> Page:
    """One page of a day's contacts with its count and rank (queries.contact_rows.Page),
    kept one minute like the live figures."""
    from queries import contact_rows

    with get_engine(url).connect() as conn:
        return contact_rows.read_page(conn, filters, narrowing, anchor)


@st.cache_data(hash_funcs=KEYS, ttl=LIVE_TTL_SECONDS, show_spinner=False)
def contact_choices(url: str, filters: Filters) -> DayChoices:
    """The queues and agents met in the day's contacts FILTERS select (DayChoices)."""
    from queries import contact_rows

    with get_engine(url).connect() as conn:
        return contact_rows.day_choices(conn, filters)


@st.cache_data(hash_funcs=KEYS, ttl=LIVE_TTL_SECONDS, max_entries=4, show_spinner=False)
def contact_export(url: str, filters: Filters, narrowing: RowFilter,
                   cap: int) -> pl.DataFrame:
    """The first CAP contacts of the day FILTERS and NARROWING select, for the CSV."""
    from queries import contact_rows

    with get_engine(url).connect() as conn:
        return contact_rows.export_rows(conn, filters, narrowing, cap)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, show_spinner="Calcul du bilan…")
def review(url: str, filters: Filters):
    """The whole pilot review of FILTERS (dashboard.review.assessment.Review), its engine
    figures read through `kpis` (shared with the pages' other reads)."""
    from dashboard.review import assessment

    with get_engine(url).connect() as conn:
        inputs = assessment.gather(
            conn, lambda f, by, metrics: kpis(url, f, by, None, metrics), filters)
    return assessment.build(inputs)


# --- Aujourd'hui and Effectifs: tomorrow and the next weeks ---------------------------------
FORECAST_HORIZON = 28  # days; both pages read the same entry (Aujourd'hui shows a week)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, max_entries=16, show_spinner=False)
def forecast(url: str, scope: Scope, sites: tuple[str, ...], last_day: dt.date, horizon: int):
    """(engine.forecasting.Forecast, agents planned per half-hour) of the HORIZON days after
    LAST_DAY for SITES within SCOPE, or None without history. Computed once per perimeter
    and last day with data (LAST_DAY keys the cache)."""
    engine = get_engine(url)
    found = forecasting.history_filters(engine, scope, sites)
    if found is None:
        return None
    filters, ref = found
    result = forecasting.forecast_for(engine, filters, ref, horizon)
    future = Filters(last_day + dt.timedelta(days=1), last_day + dt.timedelta(days=horizon),
                     sites=sites, scope=scope)
    return result, forecasting.planned_agents(engine, future)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, max_entries=16, show_spinner=False)
def eve_forecast(url: str, scope: Scope, sites: tuple[str, ...], day: dt.date):
    """The forecast of DAY made on its eve (history up to the day before) for SITES within
    SCOPE, or None without a day of history before it."""
    engine = get_engine(url)
    found = forecasting.history_filters(engine, scope, sites)
    if found is None or found[0].start >= day:
        return None
    filters, ref = found
    history = dataclasses.replace(filters, end=day - dt.timedelta(days=1))
    return forecasting.forecast_for(engine, history, ref, 1)


# --- Effectifs and Mes statistiques: schedule adherence -------------------------------------


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, max_entries=32,
               show_spinner="Calcul du respect du planning…")
def adherence(url: str, filters: Filters) -> pl.DataFrame:
    """Adherence per agent and per site of FILTERS (engine.schedule_adherence; raw ids)."""
    return schedule_adherence.period_adherence(get_engine(url), filters)


@st.cache_data(hash_funcs=KEYS, ttl=TTL_SECONDS, max_entries=32, show_spinner=False)
def team_adherence(url: str, site: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The anonymous team medians of adherence and conformance of SITE (medians only).

    Callers pass the site of the user's own scope, never one from the request.
    """
    return schedule_adherence.team_adherence_medians(get_engine(url), site, start, end)


# --- Données: e-mails given up on ------------------------------------------------------------


@st.cache_data(hash_funcs=KEYS, ttl=LIVE_TTL_SECONDS, show_spinner=False)
def failed_deliveries(url: str) -> pl.DataFrame:
    """Messages `deliver` gave up on after its last attempt (store.subscriptions)."""
    from dashboard.store import subscriptions

    engine = get_engine(url)
    if not sa_inspect(engine).has_table("deliveries"):
        return subscriptions.failed_deliveries_schema()
    with engine.connect() as conn:
        return subscriptions.failed_deliveries(conn)


# --- Aujourd'hui: threshold alerts of the day ------------------------------------------------


@st.cache_data(hash_funcs=KEYS, ttl=LIVE_TTL_SECONDS, show_spinner=False)
def day_alerts(url: str, scope: Scope, sites: tuple[str, ...], day: dt.date) -> list:
    """The threshold alerts of DAY for SITES within SCOPE (engine.alert_reads.day_alerts:
    metrics.alerts.Episode)."""
    from dashboard.engine import alert_reads

    engine = get_engine(url)
    if not sa_inspect(engine).has_table("alerts"):
        return []
    # The figures through kpis_live() (the day in progress stays fresh): the benchmark
    # (bench/pages.py) times them with the page's other reads.
    return alert_reads.day_alerts(engine, scope, sites, day,
                                  lambda f, by, metrics: kpis_live(url, f, tuple(by), metrics))
