"""ingest_file: stream → map → validate → quarantine → stage, then one merge under a lock.

The file is read batch by batch (dashboard/ingest/read.py), so memory stays bounded
whatever its size. Each batch is brought to the import format by the mapping file when
there is one (dashboard/ingest/mapping.py), validated (validate.py), its rejected rows
appended to the quarantine file (quarantine.py) and its good rows put in a staging table
private to the import (load.py). Once the whole file is read, one transaction holding the
import lock records the import, creates unknown sites and merges the staged rows into
the table by natural key. A crash, `kill -9` or Ctrl-C at any point leaves the data as it
was: before the merge nothing shared was written, and the merge is one transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from dashboard.core import config
from dashboard.core.codes import CODE_RULE, is_code
from dashboard.engine import rollups
from dashboard.ingest import load
from dashboard.ingest import read as reading
from dashboard.ingest import validate as validation
from dashboard.ingest.caller import MissingSecret, require_secret
from dashboard.ingest.kinds import KINDS, Kind
from dashboard.ingest.mapping import SKIP, BoundMapping, Mapping, MappingError, load_mapping
from dashboard.ingest.quarantine import QuarantineWriter, quarantine_path
from dashboard.ingest.read import LINE, ReadError, TableReader, open_table
from dashboard.ingest.validate import DEPARTMENT_PATTERN, Context, HeaderError
from dashboard.store import database as dbmod
from dashboard.store import schema
from dashboard.store.reference import site_timezones

SOURCE_MAX = 64


class IngestFailure(Exception):
    """The file loads nothing; the message is one line."""


@dataclass
class Progress:
    """Where an import stands: PHASE is "read", "wait" (for another import), "merge", "done".

    ROWS are the rows read so far, or for "merge" the rows about to be merged.
    """

    phase: str
    rows: int
    done_bytes: int
    total_bytes: int


@dataclass
class IngestReport:
    """What one import did; exit_code follows spec/data-contract.md (0, 1 or 2)."""

    kind: str
    path: str
    source: str
    rows_read: int = 0
    skipped: int = 0
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
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
    mapping: str | None = None
    # (site, local_date) pairs whose stored rows the import inserted, changed or moved
    # away from: what a rollup refresh must recompute. Empty for agents (no dates).
    touched: set[tuple[str, dt.date]] = field(default_factory=set)

    @property
    def loaded(self) -> int:
        """Rows now in the database as the file has them."""
        return self.inserted + self.updated + self.unchanged

    def summary(self) -> str:
        """One line: read, skipped, inserted, updated, unchanged, rejected by reason, quarantine."""
        parts = [f"read {self.rows_read}"]
        if self.skipped:
            reasons = "; ".join(f"{k}: {n}" for k, n in self.skipped_by_reason.items())
            parts.append(f"skipped {self.skipped} ({reasons})")
        parts += [f"inserted {self.inserted}", f"updated {self.updated}",
                  f"unchanged {self.unchanged}", f"rejected {self.rejected}"]
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


def _check_options(timezone: str | None, site: str | None, department: str | None,
                   source: str) -> None:
    if timezone:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise IngestFailure(f"unknown time zone {timezone!r}") from None
    if site and not is_code(site):
        raise IngestFailure(f"invalid --site {site!r} (a site code: {CODE_RULE})")
    if department and not re.fullmatch(DEPARTMENT_PATTERN, department.strip().upper()):
        raise IngestFailure(f"invalid --department {department!r} (expected 60, 04, 2A, 974…)")
    if not source or len(source) > SOURCE_MAX:
        raise IngestFailure(
            f"source name {source!r} must have 1 to {SOURCE_MAX} characters (use --source)"
        )


class _Interrupted(Exception):
    """Carries a KeyboardInterrupt through the failure bookkeeping."""


def ingest_file(url_or_engine, kind: str, path, *, timezone: str | None = None,
                site: str | None = None, department: str | None = None,
                source: str | None = None, encoding: str | None = None,
                quarantine_dir: Path | None = None, imported_by: str | None = None,
                mapping: Path | str | Mapping | None = None, batch_rows: int | None = None,
                progress: Callable[[Progress], None] | None = None,
                lock_timeout: float | None = None) -> IngestReport:
    """Import one file of KIND into the database; never raises for bad input.

    MAPPING is a mapping file (or a loaded Mapping) that brings a vendor export to the
    import format; its `source`, `timezone` and `encoding` are defaults the arguments
    override. BATCH_ROWS bounds the rows handled at once; PROGRESS is called after each
    batch and at each phase; LOCK_TIMEOUT is how long to wait for another import's merge.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r} (one of {', '.join(KINDS)})")
    spec = KINDS[kind]
    path = Path(path)
    started = _utcnow()
    report = IngestReport(kind=kind, path=str(path), source=source or path.stem)
    engine = _engine(url_or_engine)
    site = site.strip() if site else None
    department = department.strip().upper() if department else None
    quarantine: QuarantineWriter | None = None
    try:
        try:
            loaded = load_mapping(mapping) if isinstance(mapping, str | Path) else mapping
            if loaded is not None:
                report.mapping = str(loaded.path)
                report.source = source or loaded.source or path.stem
                timezone = timezone or loaded.timezone
                encoding = encoding or loaded.encoding
            _check_options(timezone, site, department, report.source)
            with open_table(path, encoding or "utf-8",
                            loaded.delimiter if loaded else None) as reader:
                bound = loaded.bind(reader.columns, spec) if loaded else None
                with engine.connect() as conn:
                    zones = site_timezones(conn)
                    known_departments = set(
                        conn.execute(select(schema.departments.c.code)).scalars())
                ctx = Context(site=site, department=department, timezone=timezone,
                              site_timezones=zones, default_timezone=config.DEFAULT_TIMEZONE)
                plan = validation.plan(bound.columns if bound else reader.columns, spec, ctx,
                                       mapped=bound is not None)
                report.warnings.extend((bound.warnings if bound else []) + plan.warnings)
                forbidden = spec.forbidden_in(reader.columns)
                if forbidden:
                    report.warnings.append(
                        f"{spec.name} are anonymous: column(s) {', '.join(forbidden)} not "
                        "accepted; rows with a value there are rejected, the value kept nowhere")
                quarantine = QuarantineWriter(
                    quarantine_path(path, quarantine_dir, started), reader.columns,
                    reader.delimiter, (bound.blank() if bound else set()) | set(forbidden))
                _run(engine, spec, reader, bound, plan, ctx, known_departments, quarantine,
                     report, started, imported_by, batch_rows or 0, progress,
                     load.LOCK_TIMEOUT if lock_timeout is None else lock_timeout)
        except KeyboardInterrupt as exc:
            raise _Interrupted() from exc
    except (IngestFailure, ReadError, HeaderError, MissingSecret, MappingError,
            load.LockTimeout) as exc:
        return _failed(engine, report, started, _one_line(exc), imported_by, quarantine)
    except _AllRejected as exc:
        return _failed(engine, report, started, str(exc), imported_by, None)
    except SQLAlchemyError as exc:
        return _failed(engine, report, started, f"database error: {_one_line(exc)}",
                       imported_by, quarantine)
    except _Interrupted:
        _failed(engine, report, started, "interrupted: nothing was loaded", imported_by,
                quarantine)
        raise KeyboardInterrupt from None
    except Exception as exc:
        # An unexpected failure: the transaction is rolled back; say so in the imports
        # table, then let the caller see the error.
        _failed(engine, report, started, f"{type(exc).__name__}: {_one_line(exc)}",
                imported_by, quarantine)
        raise
    return report


class _AllRejected(Exception):
    """Every row was rejected: nothing to load (the quarantine file is complete)."""


def _run(engine: Engine, spec: Kind, reader: TableReader, bound: BoundMapping | None,
         plan: validation.Plan, ctx: Context, known_departments: set[str],
         quarantine: QuarantineWriter, report: IngestReport, started: dt.datetime,
         imported_by: str | None, batch_rows: int,
         progress: Callable[[Progress], None] | None, lock_timeout: float) -> None:
    """Stage the whole file, then merge it; fills REPORT."""
    def tell(phase: str, rows: int | None = None) -> None:
        if progress:
            progress(Progress(phase, report.rows_read if rows is None else rows,
                              reader.position, reader.size))

    caller_col = plan.columns.get("caller_id")
    forbidden = spec.forbidden_in(reader.columns)
    rejected: Counter = Counter()
    skipped: Counter = Counter()
    new_sites: dict[str, str] = {}
    departments: set[str] = set()
    with engine.connect() as conn:
        stage = load.Stage(conn, spec)
        try:
            for batch in reader.batches(batch_rows or reading.BATCH_ROWS):
                report.rows_read += batch.height
                frame = bound.apply(batch) if bound else batch
                if forbidden:
                    # From the file's own columns: a mapping does not carry them over.
                    frame = frame.with_columns(validation.forbidden_flag(
                        batch, forbidden, bound.value_of if bound else None))
                if bound is not None:
                    skip = frame.get_column(SKIP)
                    if skip.null_count() < frame.height:
                        skipped.update(skip.drop_nulls().to_list())
                        frame = frame.filter(pl.col(SKIP).is_null())
                if caller_col and ctx.caller_secret is None:
                    ctx.caller_secret = require_secret(frame.get_column(caller_col))
                checked = validation.validate(frame, spec, ctx, plan)
                if checked.rejected.height:
                    rejected.update(checked.rejected.get_column("category").to_list())
                    quarantine.write(batch, checked.rejected)
                new_sites.update(checked.new_sites)
                if "department" in checked.good.columns:
                    departments.update(
                        checked.good.get_column("department").drop_nulls().unique().to_list())
                load.stage_batch(stage, checked.good)
                tell("read")
            superseded = stage.superseded()
            conn.commit()
            if superseded.height:
                what = f"duplicate {spec.id_column}"
                rejected[what] += superseded.height
                _quarantine_late(reader.path, reader, superseded, what, quarantine, batch_rows)

            report.rejected = sum(rejected.values())
            report.rejected_by_reason = dict(rejected.most_common())
            report.skipped = sum(skipped.values())
            report.skipped_by_reason = dict(skipped.most_common())
            report.quarantine_path = quarantine.finish()
            if report.rows_read == 0:
                report.warnings.append("the file has no data rows")
            if stage.rows == 0 and report.rejected:
                raise _AllRejected(f"all {report.rejected} rows were rejected: nothing loaded "
                                   f"(see {report.quarantine_path})")
            for code, tz in sorted(new_sites.items()):
                report.warnings.append(f"unknown site {code!r} created with time zone {tz}")
            unknown = sorted(departments - known_departments)
            if unknown:
                # Loaded all the same: the reference data may simply not list it yet.
                report.warnings.append(
                    f"département(s) not in the reference data: {', '.join(unknown)}")

            load.lock(conn, lock_timeout, on_wait=lambda: tell("wait"))
            tell("merge", stage.rows)
            report.import_id = _record_start(conn, report, started, imported_by)
            _create_sites(conn, new_sites)
            reach = None
            if stage.rows:
                classified = stage.classify(report.source, plan.update_columns)
                reach = _sessions_reach(conn, spec, classified.touched)
                load.merge_stage(stage, report.source, report.import_id, plan.update_columns)
                report.inserted = classified.counts.inserted
                report.updated = classified.counts.updated
                report.unchanged = classified.counts.unchanged
                report.touched = classified.touched
            _refresh_rollups(conn, spec, report.touched, reach)
            report.exit_code = 1 if report.rejected else 0
            _record_end(conn, report, "partial" if report.rejected else "loaded")
            conn.commit()
            tell("done")
        except BaseException:
            report.import_id = None
            report.inserted = report.updated = report.unchanged = 0
            report.touched = set()
            _discard(conn)
            raise
        finally:
            _drop(conn, stage)


def _quarantine_late(path: Path, reader: TableReader, superseded: pl.DataFrame, what: str,
                     quarantine: QuarantineWriter, batch_rows: int) -> None:
    """Read the file again for the lines superseded by a later one; quarantine them."""
    reasons = superseded.select(
        pl.col("line"),
        pl.concat_str([pl.lit(f"{what}: superseded by line "), pl.col("last").cast(pl.String)])
        .alias("reason"),
    )
    lines = reasons.get_column("line")
    encoding = getattr(reader, "encoding", "utf-8")
    with open_table(path, encoding, reader.delimiter) as again:
        for batch in again.batches(batch_rows or reading.BATCH_ROWS):
            hit = batch.filter(pl.col(LINE).is_in(lines.implode()))
            if hit.height:
                quarantine.write(hit, reasons, late=True)


def _sessions_reach(conn: Connection, spec: Kind, touched: set) -> dict | None:
    """Before the merge: how far the sessions about to change reached (their presence
    rollups must be recomputed that far even if they now end earlier)."""
    if spec.name != "agent-sessions" or not touched:
        return None
    return rollups.session_reach(conn, touched) if rollups.staff_complete(conn) else None


def _refresh_rollups(conn: Connection, spec: Kind, touched: set, reach: dict | None = None
                     ) -> None:
    """Recompute the rollups of the days the import changed, in the merge transaction.

    Contacts, sessions, acts and survey answers feed rollups, refreshed only once complete
    (a rebuild ran): before that the engine reads raw rows and a rebuild computes
    everything anyway.
    """
    if not touched:
        return
    if spec.name == "contacts" and rollups.rollups_complete(conn):
        rollups.refresh_rollups(conn, touched)
    elif spec.name == "surveys" and rollups.surveys_complete(conn):
        rollups.refresh_surveys(conn, touched)
    elif spec.name in ("agent-sessions", "acts") and rollups.staff_complete(conn):
        if spec.name == "acts":
            rollups.refresh_acts(conn, touched)
        else:
            rollups.refresh_sessions(conn, touched, reach)


def _discard(conn: Connection) -> None:
    try:
        conn.rollback()
    except Exception:  # a dead connection: it goes, and its temporary table with it
        conn.invalidate()


def _drop(conn: Connection, stage: load.Stage) -> None:
    if conn.invalidated or conn.closed:
        return
    try:
        stage.close()
        conn.commit()
    except Exception:
        conn.invalidate()


def _message(report: IngestReport) -> str | None:
    notes = ([f"mapping: {Path(report.mapping).name}"] if report.mapping else []) + report.warnings
    return "; ".join(notes) or None


def _record_start(conn: Connection, report: IngestReport, started: dt.datetime,
                  imported_by: str | None) -> int:
    result = conn.execute(schema.imports.insert().values(
        kind=report.kind, source=report.source[:SOURCE_MAX], file_name=report.path,
        imported_by=imported_by, started_at=started, rows_read=report.rows_read,
        status="loaded",
    ))
    return result.inserted_primary_key[0]


def _record_end(conn: Connection, report: IngestReport, status: str) -> None:
    conn.execute(schema.imports.update().where(schema.imports.c.id == report.import_id).values(
        finished_at=_utcnow(), rows_read=report.rows_read, rows_inserted=report.inserted,
        rows_updated=report.updated, rows_unchanged=report.unchanged,
        rows_rejected=report.rejected, status=status,
        quarantine_path=str(report.quarantine_path) if report.quarantine_path else None,
        message=_message(report),
    ))


def _create_sites(conn: Connection, new_sites: dict[str, str]) -> None:
    if not new_sites:
        return
    present = set(conn.execute(select(schema.sites.c.code)
                               .where(schema.sites.c.code.in_(list(new_sites)))).scalars())
    rows = [{"code": code, "name": code, "timezone": tz}
            for code, tz in sorted(new_sites.items()) if code not in present]
    if rows:
        conn.execute(schema.sites.insert(), rows)


def _failed(engine: Engine, report: IngestReport, started: dt.datetime, error: str,
            imported_by: str | None, quarantine: QuarantineWriter | None) -> IngestReport:
    """Mark REPORT as a failed load (exit 2) and record it in its own transaction.

    A quarantine file still being written (the import stopped half-way) is removed.
    """
    if quarantine is not None:
        quarantine.abort()
        report.quarantine_path = None
    report.error = error
    report.exit_code = 2
    report.import_id = None
    report.inserted = report.updated = report.unchanged = 0
    report.touched = set()
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
