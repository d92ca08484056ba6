"""`python -m bench` (`make bench`): page data, ingest, memory and load benchmarks.

Builds (or reuses) a demo database per size — PostgreSQL `--pg-scale` (default 30, about
10 M contacts) and SQLite `--sqlite-scale` (default 6, about 2 M) — then measures every
page's data (bench/pages.py), ingest throughput (bench/ingest_throughput.py when present),
the peak RSS of a process serving the PostgreSQL database, and 30 sessions reaching the
Aujourd'hui page (bench/load.py, with one real browser among them): by the menu all at
once, by the menu over `--ramp` seconds, by opening the page over `--ramp` seconds, and by
the menu all at once with one Streamlit process per core behind the sticky proxy.
Prints a table and writes bench/results/latest.json.
`--quick` uses small scales and finishes in a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from dashboard import db as dbmod
from dashboard import demo, rollups, schema

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _scale_name(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


def _ready(url: str, scale: float) -> bool:
    """The database holds a complete demo of this scale, rollups included."""
    try:
        engine = dbmod.get_engine(url)
        with engine.connect() as conn:
            value = conn.execute(select(schema.app_meta.c.value).where(
                schema.app_meta.c.key == "bench_scale")).scalar()
            return value == str(scale) and rollups.rollups_complete(conn)
    except Exception:
        return False


def _build(url: str, scale: float, log) -> dict:
    if _ready(url, scale):
        log(f"reusing {make_url(url).render_as_string()} (scale {scale})")
        dbmod.upgrade(url)  # a database built before the last migration gets it
        with dbmod.get_engine(url).connect() as conn:
            built = conn.execute(select(schema.app_meta.c.value).where(
                schema.app_meta.c.key == "bench_build")).scalar()
        # The figures of the run that built it (generation speed is measured once).
        return {"reused": True, **(json.loads(built) if built else {})}
    log(f"building demo scale {scale} in {make_url(url).render_as_string()} ...")
    began = time.perf_counter()
    summary = demo.build_demo(url, seed=2015, scale=scale, replace=True)
    seconds = time.perf_counter() - began
    built = {"contacts": summary.contacts, "seconds": round(seconds, 1),
             "contacts_per_s": round(summary.contacts / seconds)}
    with dbmod.get_engine(url).begin() as conn:
        conn.execute(schema.app_meta.delete().where(
            schema.app_meta.c.key.in_(["bench_scale", "bench_build"])))
        conn.execute(schema.app_meta.insert().values(key="bench_scale", value=str(scale)))
        conn.execute(schema.app_meta.insert().values(key="bench_build",
                                                     value=json.dumps(built)))
    log(f"  {summary.contacts:,} contacts in {seconds:.0f} s "
        f"({summary.contacts / seconds:,.0f} contacts/s, rollups included)")
    return built


def _pg_url(scale: float, log) -> str | None:
    name = f"bench_demo_{_scale_name(scale)}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:
        log(f"no PostgreSQL at {make_url(PG_ADMIN).host}: {str(exc).splitlines()[0]}")
        return None
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def _ingest(rows: int, log) -> dict:
    """Rows/s of the importer (and its naive baseline) per database, from
    bench/ingest_throughput.py (fresh databases of its own, N generated contacts)."""
    if not (HERE / "ingest_throughput.py").exists():
        log("bench/ingest_throughput.py absent: no ingest figure")
        return {}
    proc = subprocess.run([sys.executable, "-m", "bench.ingest_throughput", str(rows)],
                          capture_output=True, text=True, timeout=3600)
    out: dict = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in ("sqlite", "postgresql"):
            try:
                out[parts[0]] = {"importer": int(parts[1].replace(",", "")),
                                 "baseline": int(parts[2].replace(",", "")), "rows": rows}
            except ValueError:
                out[parts[0]] = {"skipped": " ".join(parts[1:])}
    if proc.returncode != 0:
        out["error"] = (proc.stderr.strip().splitlines() or ["failed"])[-1]
    log(f"  ingest: {out}")
    return out


def _rss(url: str) -> float | None:
    proc = subprocess.run([sys.executable, "-m", "bench.pages", "--rss", url],
                          capture_output=True, text=True, timeout=3600)
    try:
        return float(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def _table(pages: dict) -> str:
    head = (f"{'page':17} {'db':10} {'view':7} {'rows':>11} {'cold s':>8} {'warm s':>8} "
            f"{'db-warm':>8} {'naive s':>8} {'floor s':>8} {'cold/naive':>10} {'cold/floor':>10}")
    lines = [head, "-" * len(head)]
    for page, rows in pages.items():
        for r in rows:
            lines.append(
                f"{page:17} {r['db']:10} {r['view']:7} {r['rows']:>11,} {r['cold_s']:>8.3f} "
                f"{r['warm_s']:>8.4f} {r['db_warm_s']:>8.3f} {r['naive_s']:>8.3f} "
                f"{r['floor_s']:>8.3f} {r['cold_vs_naive'] or 0:>10.3f} "
                f"{r['cold_vs_floor'] or 0:>10.1f}")
    return "\n".join(lines)


def _loads(args, serving: str, log) -> dict:
    """The four loads on the database at SERVING (see bench/load.py)."""
    from bench import load

    out = {}
    workers = max(2, os.cpu_count() or 1)
    for key, mode, ramp, count in (("load", "switch", 0.0, 1),
                                   ("load_ramp", "switch", args.ramp, 1),
                                   ("load_open", "open", args.ramp, 1),
                                   ("load_workers", "switch", 0.0, workers)):
        log(f"load: {args.sessions} sessions reach Aujourd'hui ({mode}, over {ramp:g} s, "
            f"{count} worker{'s' if count > 1 else ''}) ...")
        out[key] = load.run(serving, sessions=args.sessions, log=log, ramp=ramp, mode=mode,
                            workers=count)
    return out


def _load_only(args, log) -> None:
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    pg = _pg_url(args.pg_scale, log)
    serving = pg or f"sqlite:///{HERE / 'data' / f'demo_{_scale_name(args.sqlite_scale)}.sqlite'}"
    results.update(_loads(args, serving, log))
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    for key in ("load", "load_ramp", "load_open", "load_workers"):
        print(f"{key}: {results.get(key)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--pg-scale", type=float, default=30.0)
    parser.add_argument("--sqlite-scale", type=float, default=6.0)
    parser.add_argument("--quick", action="store_true", help="small scales (a few minutes)")
    parser.add_argument("--sessions", type=int, default=30, help="sessions of the load test")
    parser.add_argument("--no-load", action="store_true", help="skip the load test")
    parser.add_argument("--ramp", type=float, default=15.0,
                        help="seconds over which the ramped load's sessions start")
    # About a national night's export: fixed costs (schema, quarantine, merge) amortised.
    parser.add_argument("--ingest-rows", type=int, default=200_000)
    parser.add_argument("--raw-path", action="store_true",
                        help="also time the engine's raw path (minutes at national scale)")
    parser.add_argument("--skip-pages", action="store_true", help="no page figures")
    parser.add_argument("--load-only", action="store_true",
                        help="only the load test, written into the existing --out file")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.pg_scale, args.sqlite_scale = 0.5, 0.5
        args.sessions, args.ingest_rows = min(args.sessions, 5), 2_000

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    from bench import pages as bench_pages

    if args.load_only:
        _load_only(args, log)
        return

    urls: dict[str, str] = {}
    builds = {}
    pg = _pg_url(args.pg_scale, log)
    if pg:
        urls["postgresql"] = pg
    data_dir = Path(os.environ.get("BENCH_DATA", HERE / "data"))
    data_dir.mkdir(parents=True, exist_ok=True)
    urls["sqlite"] = f"sqlite:///{data_dir / f'demo_{_scale_name(args.sqlite_scale)}.sqlite'}"
    for kind, url in urls.items():
        builds[kind] = _build(url, args.pg_scale if kind == "postgresql" else args.sqlite_scale,
                              log)

    results: dict = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "quick": args.quick},
        "scales": {"postgresql": args.pg_scale if pg else None, "sqlite": args.sqlite_scale},
        "build": builds,
        "pages": {},
    }
    for kind, url in urls.items():
        log(f"pages on {kind} ...")
        if args.skip_pages:
            break
        for page, rows in bench_pages.measure(url, kind, log=log,
                                              raw_path=args.raw_path).items():
            results["pages"].setdefault(page, []).extend(rows)
        for page, rows in bench_pages.measure_other(url, kind, log=log).items():
            results["pages"].setdefault(page, []).extend(rows)
    log("ingest throughput ...")
    results["ingest_rows_per_s"] = _ingest(args.ingest_rows, log)
    serving = urls.get("postgresql", urls["sqlite"])
    log("peak RSS of a process serving every page's data ...")
    results["peak_rss_mb"] = _rss(serving)
    results["peak_rss_db"] = "postgresql" if "postgresql" in urls else "sqlite"
    if args.no_load:
        results["load"] = None
    else:
        results.update(_loads(args, serving, log))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    print(_table(results["pages"]))
    print(f"peak RSS {results['peak_rss_mb']} MB")
    for key in ("load", "load_ramp", "load_open", "load_workers"):
        print(f"{key}: {results.get(key)}")
    print(f"ingest {results['ingest_rows_per_s']}")
    log(f"written {args.out}")


if __name__ == "__main__":
    main()
