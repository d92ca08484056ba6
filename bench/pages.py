"""Each page's data: the engine calls a page makes, timed cold, warm, naive and floor.

A page's calls (PAGE_CALLS) copy the `cache.kpis` calls of pages/*.py for their default
view; the "year" variant makes the same calls over a full year, every site. Times:

- cold: new engine and empty process caches (Streamlit's cache cleared), rollups read;
  the median of COLD_RUNS such runs;
- warm: the same calls again through dashboard.ui.cache (st.cache_data, as the app serves);
- db_warm: the same calls again bypassing every result cache, the shared period's
  included (database buffers warm);
- naive: the same stage-1 aggregation (phone and e-mail statistics per group) done by the
  database in SQL on the raw contacts table (GROUP BY, as a dashboard without rollups
  would); `--raw-path` also times compute_kpis(..., source="raw") (raw rows fetched and
  aggregated in Polars), slow at national scale;
- floor: the same stage-1 aggregation in Polars on the period's raw contacts already in
  memory.

`python -m bench.pages --rss URL` runs every page's year calls in this process and prints
its peak RSS in MB (bench/__main__ runs it in a subprocess).
"""

from __future__ import annotations

import datetime as dt
import io
import resource
import statistics
import sys
import time
from pathlib import Path

import polars as pl
from sqlalchemy import func, select

from dashboard.core import config
from dashboard.core.access import Scope
from dashboard.core.filters import Filters, Overrides
from dashboard.engine import background, page_reads, period_cache, series
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics import definitions as m
from dashboard.metrics import email as m_email
from dashboard.metrics import grouping as m_grouping
from dashboard.metrics import phone as m_phone
from dashboard.review import assessment, report
from dashboard.store import database as dbmod
from dashboard.store import schema

Call = tuple[Filters, tuple[str, ...], Overrides | None, tuple[str, ...] | None]
# The Review's engine reads (dashboard.review.assessment.gather) and the tools' load curve.
REVIEW_READS = tuple((by, metrics) for _name, by, metrics in assessment.ENGINE_READS)


def busiest_site(url: str) -> str:
    """The site with the most contacts: its supervisor's and agents' views are timed."""
    c = schema.contacts
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(select(c.c.site).group_by(c.c.site)
                            .order_by(func.count().desc(), c.c.site).limit(1)).scalar()


class Context:
    """What the default views depend on: the last day with data, the busiest site, one of
    its agents."""

    def __init__(self, url: str) -> None:
        engine = dbmod.get_engine(url)
        c = schema.contacts
        self.site = busiest_site(url)
        with engine.connect() as conn:
            last = conn.execute(select(func.max(c.c.local_date))).scalar()
            self.contacts = conn.execute(select(func.count()).select_from(c)).scalar()
            self.agent = conn.execute(
                select(c.c.agent_id).where(c.c.site == self.site, c.c.agent_id.is_not(None))
                .order_by(c.c.agent_id).limit(1)).scalar()
        self.last = last if isinstance(last, dt.date) else dt.date.fromisoformat(str(last)[:10])
        self.year = (dt.date(self.last.year, 1, 1), self.last)
        with engine.connect() as conn:
            first = conn.execute(select(func.min(schema.coverage.c.start_date))).scalar()
        first = first if isinstance(first, dt.date) or first is None else \
            dt.date.fromisoformat(str(first)[:10])
        self.pilot = (min(first, self.last) if first else self.year[0], self.last)
        self.alert_metrics = _alert_metrics(engine, self.site, self.last)


def _alert_metrics(engine, site: str, day: dt.date) -> tuple[str, ...]:
    """What Aujourd'hui reads by slot for SITE's thresholds (none before migration 0016)."""
    from sqlalchemy import inspect

    from dashboard.core.access import ALL_ROWS
    from dashboard.engine import alert_reads
    from queries import alerts as q_alerts

    if not inspect(engine).has_table("alert_thresholds"):
        return ()
    with engine.connect() as conn:
        found = q_alerts.thresholds(conn, Filters(day, day, sites=(site,), scope=ALL_ROWS))
    return alert_reads.slot_metrics(alert_reads.thresholds_of(found))


def _days(ctx: Context, n: int) -> tuple[dt.date, dt.date]:
    return ctx.last - dt.timedelta(days=n - 1), ctx.last


def page_calls(ctx: Context, view: str) -> dict[str, list[Call]]:
    """Per page, its engine calls for VIEW ("default", or "year": every site, a year)."""
    nat = Scope("national")
    sup = Scope("supervisor", site=ctx.site)
    agent = Scope("agent", site=ctx.site, agent_id=ctx.agent)

    def f(span, scope, **kw):
        if view == "year":
            return Filters(*ctx.year, scope=nat)
        return Filters(*span, scope=scope, **kw)

    today, month, quarter = _days(ctx, 1), _days(ctx, 30), _days(ctx, 91)
    past = (ctx.last - dt.timedelta(days=28), ctx.last - dt.timedelta(days=1))
    r = page_reads
    # The Actes page's time grain follows its period (day up to a few weeks).
    grain = series.period_grain(*(ctx.year if view == "year" else month))
    calls: dict[str, list[Call]] = {
        "accueil": [(f(today, nat), (), None, r.HOME), (f(today, nat), ("site",), None, r.HOME)],
        "aujourdhui": [(f(today, sup), (), None, r.TODAY_TILES),
                       (f(past, sup), (), None, r.TODAY_TILES),
                       (f(today, sup), ("slot",), None, r.TODAY_SLOTS),
                       (f(today, sup), ("department",), None, r.TODAY_DEPARTMENTS),
                       (f(today, sup), ("site", "agent"), None, r.TODAY_AGENTS),
                       # The eve's forecast beside the calls received (its model: bench/
                       # forecast.py).
                       (f(today, sup, sites=(ctx.site,)), ("slot",), None, ("received",)),
                       # The day's threshold alerts (engine/alert_reads.py), when the
                       # site has thresholds by half-hour.
                       *([(f(today, sup, sites=(ctx.site,)), ("slot",), None,
                           ctx.alert_metrics)] if ctx.alert_metrics else [])],
        "campagnes": [(f(quarter, sup), ("day", "channel"), None, r.CAMPAIGN_LOAD),
                      (f(quarter, sup), ("day", "slot"), None, r.CAMPAIGN_LOAD)],
        "actes": [(f(month, sup), (), None, r.ACTS_TOTAL),
                  (f(month, sup), (grain, "department"), None, r.ACTS),
                  (f(month, sup), (grain,), None, r.ACTS),
                  (f(month, sup), ("department",), None, r.ACTS)],
        # Bilan opens on the whole pilot; its Review (dashboard.ui.cache.review) reads
        # the engine through the same cache.
        "bilan": [(f(ctx.pilot, nat), ("site",), None, r.REVIEW_SIDES),
                  (f(ctx.pilot, nat), ("department",), None, r.REVIEW_SIDES),
                  (f(ctx.pilot, nat), ("week", "department"), None, r.REVIEW_WEEKS),
                  (f(ctx.pilot, nat), ("campaign", "department"), None, r.REVIEW_WEEKS),
                  (f(ctx.pilot, nat), ("day", "site"), None, report.DAILY_LOAD),
                  *[(f(ctx.pilot, nat), by, None, metrics) for by, metrics in REVIEW_READS]],
        "effectifs": [(f(month, sup), by, None, r.TEAM) for by in
                      ((), ("site",), ("slot",), ("day", "slot"), ("day",))],
        "mes_statistiques": [(f(month, agent), (), None, None),
                             (f(month, agent), ("day",), None, r.AGENT_OWN)],
    }
    return calls


def _clear_caches() -> None:
    """New engines (no pooled connection) and empty Streamlit caches."""
    import streamlit as st

    for url in _URLS:
        dbmod.get_engine(url).dispose()
        background.reader(url).dispose()
    dbmod.get_engine.cache_clear()
    background.reader.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


_URLS: set[str] = set()


def _run(url: str, calls: list[Call], source: str) -> float:
    engine = dbmod.get_engine(url)
    began = time.perf_counter()
    for filters, by, overrides, metrics in calls:
        compute_kpis(engine, filters, by, overrides, source=source, metrics=metrics)
    return time.perf_counter() - began


def _run_cached(url: str, calls: list[Call]) -> float:
    from dashboard.ui import cache

    began = time.perf_counter()
    for filters, by, overrides, metrics in calls:
        cache.kpis(url, filters, by, overrides, metrics)
    return time.perf_counter() - began


def naive_time(url: str, calls: list[Call]) -> float:
    """Stage 1 for CALLS in SQL on the raw contacts: per group (the calls' source
    columns) counts and sums of calls and e-mails, thresholds at the defaults."""
    from sqlalchemy import BigInteger, and_, case, cast

    from dashboard.metrics.grouping import source_columns
    from queries._common import row_conditions

    c = schema.contacts
    t = config.default_thresholds()
    phone, email = c.c.channel == "phone", c.c.channel == "email"
    answered, abandoned = and_(phone, c.c.outcome == "answered"), and_(
        phone, c.c.outcome == "abandoned")

    def total(cond, value=1):
        return cast(func.sum(case((cond, value), else_=0)), BigInteger)

    sums = [
        total(phone), total(answered), total(abandoned),
        total(and_(abandoned, c.c.wait_seconds < t.short_abandon_seconds)),
        total(and_(answered, c.c.wait_seconds <= t.sl_seconds)),
        total(answered, c.c.wait_seconds), total(answered, c.c.talk_seconds + c.c.wrap_seconds),
        func.max(case((phone, c.c.wait_seconds))),
        total(email), total(and_(email, c.c.answered_at.is_not(None))),
    ]
    engine = dbmod.get_engine(url)
    began = time.perf_counter()
    with engine.connect() as conn:
        for filters, by, _, _ in calls:
            cols = [c.c[name] for name in source_columns(tuple(d for d in by if d != "campaign"))]
            conn.execute(select(*cols, *sums).where(
                c.c.local_date.between(filters.start, filters.end),
                *row_conditions(c, filters)).group_by(*cols)).all()
    return time.perf_counter() - began


def load_raw(url: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The period's raw contacts in memory (not timed): COPY on PostgreSQL."""
    cols = ["site", "department", "channel", "queue", "agent_id", "local_date", "local_slot",
            "outcome", "wait_seconds", "talk_seconds", "wrap_seconds", "received_at",
            "answered_at"]
    sql = (f"SELECT {', '.join(cols)} FROM contacts WHERE local_date BETWEEN "
           f"'{start.isoformat()}' AND '{end.isoformat()}'")  # dates we made, not user input
    return _read_sql(url, sql).with_columns(
        pl.col("local_date").cast(pl.String).str.slice(0, 10).str.to_date(),
        pl.col("local_slot").cast(pl.Int16),
        pl.col("received_at").cast(pl.String).str.to_datetime(time_unit="us", strict=False),
        pl.col("answered_at").cast(pl.String).str.to_datetime(time_unit="us", strict=False),
        (pl.col("talk_seconds") + pl.col("wrap_seconds")).alias("handle_seconds"),
    )


def _read_sql(url: str, sql: str) -> pl.DataFrame:
    """SQL's rows as a frame, by COPY on PostgreSQL (text columns kept as text)."""
    with dbmod.get_engine(url).connect() as conn:
        if conn.dialect.name != "postgresql":
            return pl.read_database(sql, conn, infer_schema_length=None)
        buf = io.BytesIO()
        cur = conn.connection.dbapi_connection.cursor()
        cur.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", buf)
        cur.close()
    buf.seek(0)
    return pl.read_csv(buf, schema_overrides={"queue": pl.String, "department": pl.String,
                                              "agent_id": pl.String})


def floor_time(raw: pl.DataFrame, sites: pl.DataFrame, calls: list[Call]) -> float:
    """Stage 1 (phone and e-mail statistics per group) in Polars on RAW, for CALLS."""
    defaults = config.default_thresholds()
    began = time.perf_counter()
    for filters, by, _, _ in calls:
        rows = raw.filter(pl.col("local_date").is_between(filters.start, filters.end))
        if filters.scope is not None and filters.scope.role == "supervisor":
            rows = rows.filter(pl.col("site") == filters.scope.site)
        if filters.scope is not None and filters.scope.role == "agent":
            rows = rows.filter(pl.col("agent_id") == filters.scope.agent_id)
        phone = m_grouping.with_thresholds(rows.filter(pl.col("channel") == "phone"), sites,
                                           defaults)
        emails = rows.filter(pl.col("channel") == "email").with_columns(
            pl.col("answered_at").is_not_null().alias("replied"),
            ((pl.col("answered_at") - pl.col("received_at")) <= m.REPLY_48H)
            .fill_null(False).alias("within_48h"),
            pl.lit(False).alias("within_5wd"),
            (pl.col("answered_at") - pl.col("received_at")).dt.total_microseconds()
            .alias("reply_us"))
        campaigns = None
        keyed_by = tuple(d for d in by if d != "campaign")
        m_phone.phone_stats(m_grouping.with_group_keys(phone, keyed_by, campaigns), keyed_by)
        m_email.email_stats(m_grouping.with_group_keys(emails, keyed_by, campaigns), keyed_by)
    return time.perf_counter() - began


def _result(log, page: str, db_kind: str, view: str, rows: int, calls: int | None,
            times: tuple[float, float, float, float, float], raw: float | None = None
            ) -> dict:
    """One page's figures (cold, warm, db-warm, naive, floor seconds) as a JSON row,
    logged."""
    cold, warm, db_warm, naive, floor = times
    log(f"  {db_kind:10} {view:7} {page:17} cold {cold:7.3f} s  warm {warm:7.4f} s  "
        f"db-warm {db_warm:7.3f} s  naive {naive:7.3f} s  floor {floor:7.3f} s")
    return {"db": db_kind, "view": view, "rows": rows, "calls": calls,
            "cold_s": round(cold, 4), "warm_s": round(warm, 4),
            "db_warm_s": round(db_warm, 4), "naive_s": round(naive, 4),
            "floor_s": round(floor, 4),
            "raw_path_s": round(raw, 4) if raw is not None else None,
            "cold_vs_naive": round(cold / naive, 3) if naive else None,
            "cold_vs_floor": round(cold / floor, 2) if floor else None}


# Cold runs per page: the median is reported (one run's noise on a shared two-core
# machine reached 30 % of a page's time).
COLD_RUNS = 3


def _cold(run) -> float:
    """The median of COLD_RUNS runs of RUN, each from a cold start (_clear_caches)."""
    times = []
    for _ in range(COLD_RUNS):
        _clear_caches()
        times.append(run())
    return statistics.median(times)


def measure(url: str, db_kind: str, views=("default", "year"), log=print,
            raw_path: bool = False) -> dict:
    """Per page: list of result dicts (one per view) for the database at URL."""
    from queries import reference as q_reference

    _URLS.add(url)
    _clear_caches()
    ctx = Context(url)
    with dbmod.get_engine(url).connect() as conn:
        sites = q_reference.site_settings(conn)
    out: dict[str, list[dict]] = {}
    raw_cache: dict[tuple, pl.DataFrame] = {}
    for view in views:
        for page, calls in page_calls(ctx, view).items():
            cold = _cold(lambda: _run(url, calls, "auto"))
            period_cache.clear()  # db-warm: no result of any kind kept, buffers warm
            db_warm = _run(url, calls, "auto")
            _clear_caches()
            _run_cached(url, calls)
            warm = _run_cached(url, calls)
            naive = naive_time(url, calls)
            raw = _run(url, calls, "raw") if raw_path else None
            lo = min(c[0].start for c in calls)
            hi = max(c[0].end for c in calls)
            if (lo, hi) not in raw_cache:
                raw_cache.clear()
                raw_cache[(lo, hi)] = load_raw(url, lo, hi)
            floor = floor_time(raw_cache[(lo, hi)], sites, calls)
            out.setdefault(page, []).append(_result(
                log, page, db_kind, view, ctx.contacts, len(calls),
                (cold, warm, db_warm, naive, floor), raw))
    raw_cache.clear()
    return out


# ------------------------------------------ pages that read no engine figure

def _donnees(url: str, from_rollups: bool | None) -> float:
    """Données' reads (imports journal, freshness, days without data) straight from the
    database; FROM_ROLLUPS None: as the page does (rollups when complete)."""
    from dashboard.engine import rollups
    from queries import imports

    began = time.perf_counter()
    with dbmod.get_engine(url).connect() as conn:
        if from_rollups is None:
            from_rollups = rollups.rollups_complete(conn)
        imports.import_history(conn)
        imports.data_freshness(conn, from_rollups)
        imports.data_gaps(conn, None, from_rollups)
    return time.perf_counter() - began


def _donnees_cached(url: str) -> float:
    from dashboard.ui import cache

    began = time.perf_counter()
    cache.import_history(url), cache.data_freshness(url), cache.data_gaps(url)
    return time.perf_counter() - began


def _donnees_floor(url: str) -> float:
    """Freshness and days with data in Polars, on every contact already in memory."""
    raw = _read_sql(url, "SELECT site, channel, local_date, received_at, import_id "
                         "FROM contacts").with_columns(  # not timed
        pl.col("local_date").cast(pl.String).str.slice(0, 10).str.to_date(),
        pl.col("received_at").cast(pl.String).str.to_datetime(time_unit="us", strict=False))
    began = time.perf_counter()
    raw.group_by("site", "channel").agg(
        pl.len(), pl.col("local_date").min().alias("first_day"),
        pl.col("local_date").max().alias("last_day"), pl.col("received_at").max(),
        pl.col("import_id").max())
    raw.group_by("local_date", "site", "channel").len()
    return time.perf_counter() - began


def _detail_filters(ctx: Context):
    return Filters(ctx.last, ctx.last, scope=Scope("supervisor", site=ctx.site))


def _detail(url: str, ctx: Context) -> float:
    """Détail des contacts' first page of the last day (rows, count, rank) and its
    queue and agent choices, for a site's supervisor."""
    from queries import contact_rows

    began = time.perf_counter()
    with dbmod.get_engine(url).connect() as conn:
        contact_rows.read_page(conn, _detail_filters(ctx))
        contact_rows.day_choices(conn, _detail_filters(ctx))
    return time.perf_counter() - began


def _detail_cached(url: str, ctx: Context) -> float:
    from dashboard.ui import cache
    from queries.contact_rows import RowFilter

    began = time.perf_counter()
    cache.contact_page(url, _detail_filters(ctx), RowFilter())
    cache.contact_choices(url, _detail_filters(ctx))
    return time.perf_counter() - began


def _detail_naive(url: str, ctx: Context) -> tuple[float, pl.DataFrame]:
    """The day's every row, unpaginated (what a plain table of the day would read)."""
    from queries import contact_rows

    began = time.perf_counter()
    with dbmod.get_engine(url).connect() as conn:
        rows = contact_rows.page_rows(conn, _detail_filters(ctx), limit=10**9)
    return time.perf_counter() - began, rows


def _detail_floor(day: pl.DataFrame) -> float:
    """The first page, count and choices in Polars on the day's rows in memory."""
    began = time.perf_counter()
    day.sort("received_at", "id").head(50)
    day.height, day["queue"].drop_nulls().unique().sort(), day["agent_id"].unique()
    return time.perf_counter() - began


def measure_other(url: str, db_kind: str, log=print) -> dict:
    """Données (whole history: naive = one pass over every contact, as before the
    rollups) and Détail des contacts (one day: naive = the day unpaginated), with the
    columns of `measure`'s default view."""
    _URLS.add(url)
    ctx = Context(url)
    out: dict[str, list[dict]] = {}
    timings = {}
    cold = _cold(lambda: _donnees(url, None))
    db_warm = _donnees(url, None)
    _clear_caches()
    _donnees_cached(url)
    timings["donnees"] = (cold, _donnees_cached(url), db_warm, _donnees(url, False),
                          _donnees_floor(url))
    cold = _cold(lambda: _detail(url, ctx))
    db_warm = _detail(url, ctx)
    _clear_caches()
    _detail_cached(url, ctx)
    warm = _detail_cached(url, ctx)
    naive, day = _detail_naive(url, ctx)
    timings["detail"] = (cold, warm, db_warm, naive, _detail_floor(day))
    for page, times in timings.items():
        out[page] = [_result(log, page, db_kind, "default", ctx.contacts, None, times)]
    return out


def peak_rss_mb(url: str) -> float:
    """Serve every page's year and default calls in this process; its peak RSS in MB."""
    ctx = Context(url)
    for view in ("default", "year"):
        for calls in page_calls(ctx, view).values():
            _run(url, calls, "auto")
    # VmHWM, not ru_maxrss: a child's ru_maxrss keeps its forking parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "--rss":
        print(f"{peak_rss_mb(argv[1]):.1f}")
        return
    raise SystemExit("usage: python -m bench.pages --rss URL")


if __name__ == "__main__":
    main(sys.argv[1:])
