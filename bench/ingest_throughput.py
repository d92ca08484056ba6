"""Import throughput: the importer against a plain executemany baseline, same rows, same run.

    python bench/ingest_throughput.py [N] [--keep FILE]

Generates N contacts (default 200,000: calls and e-mails of two sites over a quarter, in
time order as a nightly export is) as a CSV in a temporary directory, then for SQLite (a
fresh file) and PostgreSQL (a fresh database on DASHBOARD_TEST_PG_URL, default the local
server; skipped with the reason when none answers):

- importer: `dashboard.ingest.ingest_file` — streaming read, validation, quarantine,
  staging, one merge with INSERT … ON CONFLICT (COPY into the staging table on
  PostgreSQL);
- baseline: the naive importer — csv.DictReader, datetime.fromisoformat and zoneinfo for
  the UTC time, local day and slot, SQLAlchemy Core executemany in one transaction (no
  validation, no quarantine, no upsert: it could not even be run twice).

Each is timed from the file on disk to the commit, into an empty contacts table with the
schema's indexes, and printed as rows per second with the ratio importer / baseline.
Timings on a shared machine move with its load; the load average is printed alongside.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from dashboard.ingest import ingest_file  # noqa: E402
from dashboard.store import database as dbmod  # noqa: E402
from dashboard.store import reference, schema  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "DASHBOARD_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
PARIS = ZoneInfo("Europe/Paris")


def generate(path: Path, n: int) -> None:
    """N contacts in time order: 85 % calls (answered, abandoned, deflected), 15 % e-mails."""
    i = pl.int_range(0, n, eager=True)
    step = max(1, 90 * 86400 // max(n, 1))
    frame = pl.DataFrame({"i": i}).with_columns(
        ("c" + pl.col("i").cast(pl.String)).alias("contact_id"),
        pl.when(pl.col("i") % 20 < 17).then(pl.lit("phone")).otherwise(pl.lit("email"))
        .alias("channel"),
        pl.when(pl.col("i") % 3 == 0).then(pl.lit("chartres")).otherwise(pl.lit("rouen"))
        .alias("site"),
        pl.when(pl.col("i") % 3 == 0).then(pl.lit("28")).otherwise(pl.lit("60"))
        .alias("department"),
        pl.when(pl.col("i") % 2 == 0).then(pl.lit("particuliers"))
        .otherwise(pl.lit("recouvrement")).alias("queue"),
        (pl.lit(dt.datetime(2015, 3, 2, 8)) + pl.duration(seconds=pl.col("i") * step))
        .alias("received"),
        (pl.col("i") * 7919 % 100).alias("r"),
    )
    phone = pl.col("channel") == "phone"
    frame = frame.with_columns(
        pl.when(phone & (pl.col("r") < 80)).then(pl.lit("answered"))
        .when(phone & (pl.col("r") < 95)).then(pl.lit("abandoned"))
        .when(phone).then(pl.lit("deflected"))
        .when(pl.col("r") < 70).then(pl.lit("replied")).otherwise(pl.lit("pending"))
        .alias("outcome"),
    ).with_columns(
        pl.col("received").dt.to_string("%Y-%m-%dT%H:%M:%S").alias("received_at"),
        pl.when(pl.col("outcome") == "replied")
        .then((pl.col("received") + pl.duration(hours=30)).dt.to_string("%Y-%m-%dT%H:%M:%S"))
        .alias("answered_at"),
        pl.when(pl.col("outcome").is_in(["answered", "abandoned"]))
        .then(pl.col("r") * 3).alias("wait_seconds"),
        pl.when(pl.col("outcome") == "answered").then(60 + pl.col("r") * 5)
        .otherwise(0).alias("talk_seconds"),
        pl.when(pl.col("outcome").is_in(["answered", "replied"]))
        .then(pl.lit("A") + (pl.col("r") % 40).cast(pl.String)).alias("agent_id"),
    )
    frame.select("contact_id", "channel", "site", "department", "queue", "received_at",
                 "answered_at", "outcome", "wait_seconds", "talk_seconds",
                 "agent_id").write_csv(path)


def _utc_local(text_value: str) -> tuple[dt.datetime, dt.date, int]:
    local = dt.datetime.fromisoformat(text_value).replace(tzinfo=PARIS)
    utc = local.astimezone(dt.UTC).replace(tzinfo=None)
    return utc, local.date(), local.hour * 2 + local.minute // 30


def baseline(url: str, path: Path) -> int:
    """The naive importer: parse in Python, executemany in one transaction."""
    engine = dbmod.get_engine(url)
    insert = schema.contacts.insert()
    n = 0
    with engine.begin() as conn, path.open(encoding="utf-8", newline="") as fh:
        rows = []
        for r in csv.DictReader(fh):
            received, day, slot = _utc_local(r["received_at"])
            phone = r["channel"] == "phone"
            rows.append({
                "source": "bench", "contact_id": r["contact_id"], "channel": r["channel"],
                "site": r["site"], "department": r["department"], "queue": r["queue"] or None,
                "received_at": received,
                "answered_at": _utc_local(r["answered_at"])[0] if r["answered_at"] else None,
                "outcome": r["outcome"],
                "wait_seconds": int(r["wait_seconds"] or 0) if phone else None,
                "talk_seconds": int(r["talk_seconds"] or 0), "wrap_seconds": 0,
                "agent_id": r["agent_id"] or None, "local_date": day, "local_slot": slot,
            })
            if len(rows) == 10_000:
                conn.execute(insert, rows)
                n += len(rows)
                rows = []
        if rows:
            conn.execute(insert, rows)
            n += len(rows)
    return n


def importer(url: str, path: Path, quarantine: Path) -> int:
    report = ingest_file(url, "contacts", path, source="bench", quarantine_dir=quarantine)
    if report.exit_code:
        raise SystemExit(f"the import failed: {report.error or report.summary()}")
    return report.inserted


def _fresh_sqlite(folder: Path, name: str) -> str:
    url = f"sqlite:///{folder / name}.sqlite"
    dbmod.upgrade(url)
    reference.load_reference(dbmod.get_engine(url))
    return url


class _FreshPg:
    """A new PostgreSQL database with the schema, dropped afterwards."""

    def __init__(self) -> None:
        self.name = f"bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT",
                                   connect_args={"connect_timeout": 3})

    def __enter__(self) -> str:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(PG_ADMIN_URL).set(database=self.name).render_as_string(
            hide_password=False)
        dbmod.upgrade(self.url)
        reference.load_reference(dbmod.get_engine(self.url))
        return self.url

    def __exit__(self, *exc) -> None:
        dbmod.get_engine(self.url).dispose()
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def _timed(fn, *args) -> tuple[int, float]:
    start = time.perf_counter()
    n = fn(*args)
    return n, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="also keep the generated CSV at this path")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        folder = Path(tmp)
        path = folder / "contacts.csv"
        generate(path, args.rows)
        if args.keep:
            args.keep.write_bytes(path.read_bytes())
        size = path.stat().st_size / 1e6
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"ingest throughput: {args.rows:,} contacts ({size:.1f} MB CSV), "
              f"{os.cpu_count()} cores, load average {load}")
        print(f"{'database':<11} {'importer rows/s':>16} {'baseline rows/s':>16} "
              f"{'ratio':>6}  (importer s, baseline s)")
        results = []
        targets = [("sqlite", lambda name: _nullcontext(_fresh_sqlite(folder, name)))]
        try:
            with create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3}).connect():
                pass
            targets.append(("postgresql", lambda name: _FreshPg()))
        except Exception as exc:  # no server: said, not hidden
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            print(f"postgresql  skipped: no server at {make_url(PG_ADMIN_URL).host}: {first}")
        for label, fresh in targets:
            with fresh("importer") as url:
                n_imp, t_imp = _timed(importer, url, path, folder / "q")
            with fresh("baseline") as url:
                n_base, t_base = _timed(baseline, url, path)
            assert n_imp == n_base == args.rows, (n_imp, n_base)
            r_imp, r_base = n_imp / t_imp, n_base / t_base
            results.append((label, r_imp, r_base))
            print(f"{label:<11} {r_imp:>16,.0f} {r_base:>16,.0f} {r_imp / r_base:>6.2f}  "
                  f"({t_imp:.1f} s, {t_base:.1f} s)")
    return 0


class _nullcontext:
    def __init__(self, value) -> None:
        self.value = value

    def __enter__(self):
        return self.value

    def __exit__(self, *exc) -> None:
        dbmod.get_engine(self.value).dispose()


if __name__ == "__main__":
    sys.exit(main())
