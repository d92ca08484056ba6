"""What was imported, how fresh the data is, and which days are missing (the Données page).

Grain: `import_history` one row per import; `data_freshness` one row per site per
channel with contacts; `data_gaps` one row per run of consecutive expected days without
contacts, per site per channel; `quarantine_file` one import's rejected rows.

Times of the imports journal are UTC in the database and given here as Paris wall-clock
time (`*_local`), where the administration reads them; a contact's last reception is
given in its own site's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import BigInteger, Connection, cast, func, select

from dashboard.core.localtime import to_local
from dashboard.core.workdays import french_holidays
from dashboard.store import schema
from queries._common import fetch

ADMIN_TIMEZONE = "Europe/Paris"
# A quarantine file bigger than this is not offered for download from the page.
MAX_QUARANTINE_BYTES = 50 * 1024 * 1024
# QuarantineFile.reason: why an import's rejected rows cannot be offered (the page says
# each in French; DETAIL completes TOO_BIG and UNREADABLE).
NOT_RECORDED = "no quarantine file was recorded"
OUTSIDE_FOLDER = "outside the quarantine folder"
NOT_A_FILE = "not a file"
GONE = "the file no longer exists"
TOO_BIG = "too big"
UNREADABLE = "unreadable"

_HISTORY_SCHEMA = {
    "id": pl.Int64, "kind": pl.String, "source": pl.String, "file_name": pl.String,
    "imported_by": pl.String, "started_at": pl.Datetime("us"), "finished_at": pl.Datetime("us"),
    "rows_read": pl.Int64, "rows_inserted": pl.Int64, "rows_updated": pl.Int64,
    "rows_unchanged": pl.Int64, "rows_rejected": pl.Int64, "status": pl.String,
    "quarantine_path": pl.String, "message": pl.String,
}


def import_history(conn: Connection, limit: int = 500) -> pl.DataFrame:
    """The latest LIMIT imports, newest first, with their counts.

    `rows_skipped` (rows a mapping file left out) is what a successful import read and
    neither loaded nor rejected; `started_local` / `finished_local` are Paris time.
    """
    i = schema.imports
    stmt = select(*[i.c[name] for name in _HISTORY_SCHEMA]).order_by(i.c.id.desc()).limit(limit)
    frame = fetch(conn, stmt, _HISTORY_SCHEMA)
    loaded = pl.col("rows_inserted") + pl.col("rows_updated") + pl.col("rows_unchanged")
    return frame.with_columns(
        pl.when(pl.col("status") == "failed").then(pl.lit(0, pl.Int64))
        .otherwise(pl.col("rows_read") - loaded - pl.col("rows_rejected"))
        .clip(lower_bound=0).alias("rows_skipped"),
        to_local(pl.col("started_at"), ADMIN_TIMEZONE).alias("started_local"),
        to_local(pl.col("finished_at"), ADMIN_TIMEZONE).alias("finished_local"),
    )


_PAIR_SCHEMA = {
    "site": pl.String, "channel": pl.String, "contacts": pl.Int64, "first_day": pl.Date,
    "last_day": pl.Date, "last_received_at": pl.Datetime("us"), "last_import_id": pl.Int64,
}


def data_freshness(conn: Connection, from_rollups: bool = False) -> pl.DataFrame:
    """Per site and channel: contacts, first and last local day, last contact received
    (site's local time) and the last import that wrote some of them (Paris time).

    FROM_ROLLUPS (complete rollups only): counts and days from rollup_site_days, then per
    site and channel two index probes of the contacts, instead of one pass over them all.
    """
    pairs = _pairs_from_rollups(conn) if from_rollups else _pairs_from_contacts(conn)
    s, i = schema.sites, schema.imports
    sites = fetch(conn, select(s.c.code, s.c.name, s.c.timezone),
                  {"site": pl.String, "site_name": pl.String, "timezone": pl.String})
    ids = [v for v in pairs.get_column("last_import_id").unique().to_list() if v is not None]
    finished = fetch(conn, select(i.c.id, i.c.finished_at).where(i.c.id.in_(ids)),
                     {"last_import_id": pl.Int64, "last_import_at": pl.Datetime("us")})
    frame = (
        pairs.join(sites, on="site", how="left")
        .join(finished, on="last_import_id", how="left")
        .with_columns(pl.col("site_name").fill_null(pl.col("site")))
        .select("site", "site_name", "timezone", "channel", "contacts", "first_day",
                "last_day", "last_received_at", "last_import_id", "last_import_at")
    )
    if frame.height == 0:
        return frame.with_columns(pl.lit(None, pl.Datetime("us")).alias("last_received_local"),
                                  pl.lit(None, pl.Datetime("us")).alias("last_import_local"))
    parts = []
    for zone in frame.get_column("timezone").fill_null(ADMIN_TIMEZONE).unique().to_list():
        part = frame.filter(pl.col("timezone").fill_null(ADMIN_TIMEZONE) == zone)
        parts.append(part.with_columns(
            to_local(pl.col("last_received_at"), zone).alias("last_received_local")))
    return pl.concat(parts).sort("site", "channel").with_columns(
        to_local(pl.col("last_import_at"), ADMIN_TIMEZONE).alias("last_import_local"))


def _pairs_from_contacts(conn: Connection) -> pl.DataFrame:
    c = schema.contacts
    stmt = (
        select(c.c.site, c.c.channel, func.count(),
               func.min(c.c.local_date), func.max(c.c.local_date),
               func.max(c.c.received_at), func.max(c.c.import_id))
        .group_by(c.c.site, c.c.channel)
    )
    return fetch(conn, stmt, _PAIR_SCHEMA)


# A contact's local date is its UTC date ± 1 day whatever its site's offset (−12 h to
# +14 h): the latest contact received lies in the last three local days of its site and
# channel, even if the site's time zone was changed between imports.
_LAST_RECEIVED_DAYS = 3


def _pairs_from_rollups(conn: Connection) -> pl.DataFrame:
    d, c = schema.rollup_site_days, schema.contacts.c
    days = fetch(conn, select(d.c.site, d.c.channel, cast(func.sum(d.c.n), BigInteger),
                              func.min(d.c.local_date), func.max(d.c.local_date))
                 .group_by(d.c.site, d.c.channel),
                 {name: _PAIR_SCHEMA[name] for name in list(_PAIR_SCHEMA)[:5]})
    probes = []
    for site, channel, last_day in days.select("site", "channel", "last_day").rows():
        # The days by equality, not as a range: SQLite with statistics (ANALYZE) took a
        # range of dates for a quarter of the table and scanned the pair's contacts.
        recent = [last_day - dt.timedelta(days=k) for k in range(_LAST_RECEIVED_DAYS)]
        pair = (c.site == site, c.channel == channel)
        probes.append(conn.execute(select(
            select(func.max(c.received_at)).where(*pair, c.local_date.in_(recent))
            .scalar_subquery(),
            # ix_contacts_site_channel_import_id: one probe.
            select(func.max(c.import_id)).where(*pair).scalar_subquery(),
        )).one())
    found = pl.DataFrame(probes, schema={"last_received_at": pl.Datetime("us"),
                                         "last_import_id": pl.Int64}, orient="row")
    return pl.concat([days, found], how="horizontal") if days.height else pl.DataFrame(
        schema=_PAIR_SCHEMA)


def days_with_data(conn: Connection, from_rollups: bool = False) -> pl.DataFrame:
    """Each (site, channel, local day) with at least one contact, and how many; from
    rollup_site_days with FROM_ROLLUPS (complete rollups only)."""
    out = {"local_date": pl.Date, "site": pl.String, "channel": pl.String,
           "contacts": pl.Int64}
    if from_rollups:
        d = schema.rollup_site_days.c
        total = cast(func.sum(d.n), BigInteger)
        return fetch(conn, select(d.local_date, d.site, d.channel, total)
                     .group_by(d.local_date, d.site, d.channel).having(total > 0), out)
    c = schema.contacts.c
    # In the order of the (local_date, site, channel) index: read from the index alone.
    stmt = (select(c.local_date, c.site, c.channel, func.count())
            .group_by(c.local_date, c.site, c.channel))
    return fetch(conn, stmt, out)


def _site_calendar(conn: Connection) -> tuple[dict[str, str], dict[str, list]]:
    s, cov = schema.sites, schema.coverage
    weekdays = dict(conn.execute(select(s.c.code, s.c.open_weekdays)).all())
    periods: dict[str, list] = {}
    for site, start, end in conn.execute(select(cov.c.site, cov.c.start_date, cov.c.end_date)):
        periods.setdefault(site, []).append((_as_date(start), _as_date(end)))
    return weekdays, periods


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def expected_days(first: dt.date, last: dt.date, open_weekdays: str,
                  periods: list[tuple[dt.date, dt.date | None]] | None,
                  holidays: Callable[[int], Collection[dt.date]] = french_holidays,
                  ) -> list[dt.date]:
    """Days FIRST..LAST a site is expected to have contacts: an opening weekday (ISO
    digits in OPEN_WEEKDAYS, "12345" = Monday to Friday), not a public holiday, and
    inside one of its coverage PERIODS (inclusive; None = no coverage known: every day)."""
    out = []
    day = first
    while day <= last:
        if (str(day.isoweekday()) in open_weekdays and day not in holidays(day.year)
                and (periods is None
                     or any(s <= day and (e is None or day <= e) for s, e in periods))):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def find_gaps(days: pl.DataFrame, open_weekdays: dict[str, str],
              periods: dict[str, list[tuple[dt.date, dt.date | None]]],
              until: dt.date | None = None,
              holidays: Callable[[int], Collection[dt.date]] = french_holidays,
              ) -> pl.DataFrame:
    """Runs of expected days without contacts, per site and channel (pure; see data_gaps).

    DAYS has (local_date, site, channel) of the days with data. A site × channel is
    checked from its first day with data (or its coverage start, if later) to UNTIL
    (default: the last day with data of any site). A run is a sequence of expected days
    with no expected day with data between them (a closed weekend inside a run does not
    break it).
    """
    out_schema = {"site": pl.String, "channel": pl.String, "first_day": pl.Date,
                  "last_day": pl.Date, "missing_days": pl.Int64}
    if days.height == 0:
        return pl.DataFrame(schema=out_schema)
    until = until or days.get_column("local_date").max()
    rows = []
    spans = days.group_by("site", "channel").agg(pl.col("local_date").min().alias("first"),
                                                  pl.col("local_date").alias("seen"))
    for site, channel, first, seen in spans.sort("site", "channel").iter_rows():
        site_periods = periods.get(site)
        if site_periods:
            first = max(first, min(s for s, _ in site_periods))
        seen = set(seen)
        run: list[dt.date] = []
        expected = expected_days(first, until, open_weekdays.get(site, "12345"),
                                 site_periods or None, holidays)
        for day in expected + [None]:
            if day is not None and day not in seen:
                run.append(day)
                continue
            if run:
                rows.append((site, channel, run[0], run[-1], len(run)))
                run = []
    return pl.DataFrame(rows, schema=out_schema, orient="row")


def data_gaps(conn: Connection, until: dt.date | None = None, from_rollups: bool = False
              ) -> pl.DataFrame:
    """Runs of days a site was open and covering départements but has no contacts of a
    channel, per site and channel (see find_gaps): days not in the site's
    `open_weekdays`, French public holidays (dashboard.core.workdays) and days outside its
    coverage periods are not expected; a site without coverage periods is expected every
    opening day from its first contact on. FROM_ROLLUPS: see days_with_data."""
    weekdays, periods = _site_calendar(conn)
    return find_gaps(days_with_data(conn, from_rollups), weekdays, periods, until)


@dataclass(frozen=True)
class QuarantineFile:
    """One import's quarantine file: where it was written and, if still there, its bytes."""

    import_id: int
    path: str | None
    content: bytes | None
    reason: str | None  # why there is no content: one of the reasons above
    detail: str | None = None  # the size, or the system's message

    @property
    def name(self) -> str:
        """The file's name, for the download."""
        return Path(self.path).name if self.path else f"import-{self.import_id}.rejected.csv"


def quarantine_file(conn: Connection, import_id: int, folder: Path,
                    max_bytes: int = MAX_QUARANTINE_BYTES) -> QuarantineFile:
    """The rejected rows of import IMPORT_ID, read from the quarantine file it recorded,
    only if that file, links followed, is in FOLDER (the path is data: a row of the
    imports table could name any file the server can read)."""
    i = schema.imports
    path = conn.execute(select(i.c.quarantine_path).where(i.c.id == import_id)).scalar()
    if not path:
        return QuarantineFile(import_id, None, None, NOT_RECORDED)
    file = Path(path).resolve()
    if not file.is_relative_to(Path(folder).resolve()):
        return QuarantineFile(import_id, path, None, OUTSIDE_FOLDER)
    try:
        if file.exists() and not file.is_file():  # a folder, a device, a pipe
            return QuarantineFile(import_id, path, None, NOT_A_FILE)
        size = file.stat().st_size
        if size > max_bytes:
            return QuarantineFile(import_id, path, None, TOO_BIG, str(size))
        return QuarantineFile(import_id, path, file.read_bytes(), None)
    except FileNotFoundError:
        return QuarantineFile(import_id, path, None, GONE)
    except OSError as exc:
        return QuarantineFile(import_id, path, None, UNREADABLE, str(exc.strerror or exc))
