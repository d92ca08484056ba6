"""ingest_file: read → validate → quarantine → upsert (one transaction) → record the import."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from dashboard import config, schema
from dashboard import db as dbmod
from dashboard.ingest import load
from dashboard.ingest.caller import MissingSecret, require_secret
from dashboard.ingest.kinds import KINDS
from dashboard.ingest.quarantine import quarantine_path, write_quarantine
from dashboard.ingest.read import ReadError, read_table
from dashboard.ingest.validate import DEPARTMENT_PATTERN, Context, HeaderError, validate
from dashboard.reference import site_timezones

SOURCE_MAX = 64


class IngestFailure(Exception):
    """The file loads nothing; the message is one line."""


@dataclass
class IngestReport:
    """What one import did; exit_code follows spec/data-contract.md (0, 1 or 2)."""

    kind: str
    path: str
    source: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    quarantine_path: Path | None = None
    error: str | None = None
    exit_code: int = 0
    warnings: list[str] = field(default_factory=list)
    import_id: int | None = None

    @property
    def loaded(self) -> int:
        """Rows now in the database as the file has them."""
        return self.inserted + self.updated + self.unchanged

    def summary(self) -> str:
        """One line: read, inserted, updated, unchanged, rejected by reason, quarantine."""
        parts = [f"read {self.rows_read}", f"inserted {self.inserted}",
                 f"updated {self.updated}", f"unchanged {self.unchanged}",
                 f"rejected {self.rejected}"]
        line = ", ".join(parts)
        if self.rejected_by_reason:
            reasons = "; ".join(f"{k}: {n}" for k, n in self.rejected_by_reason.items())
            line += f" ({reasons})"
        if self.quarantine_path:
            line += f"; quarantine: {self.quarantine_path}"
        return line


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _engine(url_or_engine) -> Engine:
    if isinstance(url_or_engine, Engine):
        return url_or_engine
    return dbmod.get_engine(str(url_or_engine))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first


def _check_options(timezone: str | None, department: str | None, source: str) -> None:
    if timezone:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise IngestFailure(f"unknown time zone {timezone!r}") from None
    if department and not re.fullmatch(DEPARTMENT_PATTERN, department.strip().upper()):
        raise IngestFailure(f"invalid --department {department!r} (expected 60, 04, 2A, 974…)")
    if not source or len(source) > SOURCE_MAX:
        raise IngestFailure(
            f"source name {source!r} must have 1 to {SOURCE_MAX} characters (use --source)"
        )


def ingest_file(url_or_engine, kind: str, path, *, timezone: str | None = None,
                site: str | None = None, department: str | None = None,
                source: str | None = None, encoding: str = "utf-8",
                quarantine_dir: Path | None = None,
                imported_by: str | None = None) -> IngestReport:
    """Import one file of KIND into the database; never raises for bad input."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r} (one of {', '.join(KINDS)})")
    spec = KINDS[kind]
    path = Path(path)
    started = _utcnow()
    report = IngestReport(kind=kind, path=str(path), source=source or path.stem)
    engine = _engine(url_or_engine)
    site = site.strip() if site else None
    department = department.strip().upper() if department else None
    try:
        _check_options(timezone, department, report.source)
        raw = read_table(path, encoding)
        report.rows_read = raw.frame.height
        report.warnings.extend(raw.warnings)
        with engine.connect() as conn:
            zones = site_timezones(conn)
            known_departments = set(conn.execute(select(schema.departments.c.code)).scalars())
        secret = None
        if "caller_id" in spec.columns:
            col = next((c for c in raw.columns if c.lower() == "caller_id"), None)
            secret = require_secret(raw.frame.get_column(col) if col else None)
        ctx = Context(site=site, department=department, timezone=timezone,
                      site_timezones=zones, default_timezone=config.DEFAULT_TIMEZONE,
                      caller_secret=secret)
        checked = validate(raw, spec, ctx)
    except (IngestFailure, ReadError, HeaderError, MissingSecret) as exc:
        return _failed(engine, report, started, _one_line(exc), imported_by)
    except SQLAlchemyError as exc:
        return _failed(engine, report, started, f"database error: {_one_line(exc)}", imported_by)

    report.warnings.extend(checked.warnings)
    report.rejected = checked.rejected.height
    report.rejected_by_reason = dict(
        Counter(checked.rejected.get_column("category").to_list()).most_common()
    )
    if report.rows_read == 0:
        report.warnings.append("the file has no data rows")
    if report.rejected:
        target = quarantine_path(path, quarantine_dir)
        try:
            report.quarantine_path = write_quarantine(raw, checked.rejected, target,
                                                      blank=("caller_id",))
        except OSError as exc:
            return _failed(engine, report, started,
                           f"cannot write the quarantine file {target}: {exc.strerror or exc}",
                           imported_by)
    if checked.good.height == 0 and report.rejected:
        return _failed(engine, report, started,
                       f"all {report.rejected} rows were rejected: nothing loaded "
                       f"(see {report.quarantine_path})", imported_by)

    for code, tz in checked.new_sites.items():
        report.warnings.append(f"unknown site {code!r} created with time zone {tz}")
    if "department" in checked.good.columns:
        # Loaded all the same: the reference data may simply not list it yet.
        unknown = sorted(set(checked.good.get_column("department").unique().to_list())
                         - known_departments)
        if unknown:
            report.warnings.append(
                f"département(s) not in the reference data: {', '.join(unknown)}")
    try:
        with engine.begin() as conn:
            report.import_id = _record_start(conn, report, started, imported_by)
            _create_sites(conn, checked.new_sites)
            counts = load.upsert(conn, spec, checked.good, source=report.source,
                                 import_id=report.import_id,
                                 update_columns=checked.update_columns)
            report.inserted, report.updated = counts.inserted, counts.updated
            report.unchanged = counts.unchanged
            report.exit_code = 1 if report.rejected else 0
            _record_end(conn, report, "partial" if report.rejected else "loaded")
    except SQLAlchemyError as exc:
        report.import_id = None
        report.inserted = report.updated = report.unchanged = 0
        return _failed(engine, report, started, f"database error: {_one_line(exc)}", imported_by)
    except Exception as exc:
        # An unexpected failure: the transaction is rolled back; say so in the imports
        # table, then let the caller see the error.
        report.import_id = None
        report.inserted = report.updated = report.unchanged = 0
        _failed(engine, report, started, f"{type(exc).__name__}: {_one_line(exc)}", imported_by)
        raise
    return report


def _record_start(conn: Connection, report: IngestReport, started: dt.datetime,
                  imported_by: str | None) -> int:
    result = conn.execute(schema.imports.insert().values(
        kind=report.kind, source=report.source[:SOURCE_MAX], file_name=report.path,
        imported_by=imported_by, started_at=started, rows_read=report.rows_read,
        status="loaded",
    ))
    return result.inserted_primary_key[0]


def _record_end(conn: Connection, report: IngestReport, status: str) -> None:
    message = "; ".join(report.warnings) or None
    conn.execute(schema.imports.update().where(schema.imports.c.id == report.import_id).values(
        finished_at=_utcnow(), rows_read=report.rows_read, rows_inserted=report.inserted,
        rows_updated=report.updated, rows_unchanged=report.unchanged,
        rows_rejected=report.rejected, status=status,
        quarantine_path=str(report.quarantine_path) if report.quarantine_path else None,
        message=message,
    ))


def _create_sites(conn: Connection, new_sites: dict[str, str]) -> None:
    if not new_sites:
        return
    present = set(conn.execute(select(schema.sites.c.code)
                               .where(schema.sites.c.code.in_(list(new_sites)))).scalars())
    rows = [{"code": code, "name": code, "timezone": tz}
            for code, tz in new_sites.items() if code not in present]
    if rows:
        conn.execute(schema.sites.insert(), rows)


def _failed(engine: Engine, report: IngestReport, started: dt.datetime, error: str,
            imported_by: str | None) -> IngestReport:
    """Mark REPORT as a failed load (exit 2) and record it in its own transaction."""
    report.error = error
    report.exit_code = 2
    try:
        with engine.begin() as conn:
            report.import_id = _record_start(conn, report, started, imported_by)
            conn.execute(schema.imports.update()
                         .where(schema.imports.c.id == report.import_id)
                         .values(finished_at=_utcnow(), status="failed",
                                 rows_rejected=report.rejected,
                                 quarantine_path=(str(report.quarantine_path)
                                                  if report.quarantine_path else None),
                                 message=error))
    except SQLAlchemyError:
        # The database itself is what failed (unreachable, no schema): the report says why.
        report.import_id = None
    return report
