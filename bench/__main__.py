"""`python -m bench` (`make bench`): page data, ingest, memory and load benchmarks.

Builds (or reuses) a demo database per size of a national-shaped network (`--reference`,
default bench/national.toml: 20 centres, 101 départements) — PostgreSQL `--pg-scale`
(default 1.4, about 11 M contacts) and SQLite `--sqlite-scale` (default 0.27, about 2 M) —
then measures every page's data (bench/pages.py, the busiest site's supervisor and agent
for the site views), ingest throughput (bench/ingest_throughput.py when present),
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

from dashboard.demo import simulation as demo
from dashboard.engine import rollups
from dashboard.store import database as dbmod
from dashboard.store import schema

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
NATIONAL = HERE / "national.toml"
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _scale_name(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


def _label(scale: float, reference: Path) -> str:
    return f"{scale} {reference.stem}"


def _ready(url: str, scale: float, reference: Path) -> bool:
    """The database holds a complete demo of this scale and reference, rollups included."""
    try:
        engine = dbmod.get_engine(url)
        with engine.connect() as conn:
            value = conn.execute(select(schema.app_meta.c.value).where(
                schema.app_meta.c.key == "bench_scale")).scalar()
            return value == _label(scale, reference) and rollups.rollups_complete(conn)
    except Exception:
        return False


def _build(url: str, scale: float, reference: Path, log) -> dict:
    if _ready(url, scale, reference):
        log(f"reusing {make_url(url).render_as_string()} ({_label(scale, reference)})")
        dbmod.upgrade(url)  # a database built before the last migration gets it
        with dbmod.get_engine(url).connect() as conn:
            built = conn.execute(select(schema.app_meta.c.value).where(
                schema.app_meta.c.key == "bench_build")).scalar()
        # The figures of the run that built it (generation speed is measured once).
        return {"reused": True, **(json.loads(built) if built else {})}
    log(f"building demo {_label(scale, reference)} in {make_url(url).render_as_string()} ...")
    began = time.perf_counter()
    summary = demo.build_demo(url, seed=2015, scale=scale, replace=True,
                              reference_file=reference)
    seconds = time.perf_counter() - began
    built = {"contacts": summary.contacts, "seconds": round(seconds, 1),
             "contacts_per_s": round(summary.contacts / seconds)}
    with dbmod.get_engine(url).begin() as conn:
        conn.execute(schema.app_meta.delete().where(
            schema.app_meta.c.key.in_(["bench_scale", "bench_build"])))
        conn.execute(schema.app_meta.insert().values(key="bench_scale",
                                                     value=_label(scale, reference)))
        conn.execute(schema.app_meta.insert().values(key="bench_build",
                                                     value=json.dumps(built)))
    log(f"  {summary.contacts:,} contacts in {seconds:.0f} s "
        f"({summary.contacts / seconds:,.0f} contacts/s, rollups included)")
    return built


def _db_name(scale: float, reference: Path) -> str:
    """bench_national_1_4 for bench/national.toml at scale 1.4."""
    return f"bench_{reference.stem}_{_scale_name(scale)}"


def _pg_url(scale: float, reference: Path, log) -> str | None:
    name = _db_name(scale, reference)
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


def _sqlite_url(scale: float, reference: Path) -> str:
    data_dir = Path(os.environ.get("BENCH_DATA", HERE / "data"))
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / f'{_db_name(scale, reference)}.sqlite'}"


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
    from bench.pages import busiest_site

    out = {}
    workers = max(2, os.cpu_count() or 1)
    login = f"superviseur.{busiest_site(serving)}"
    for key, mode, ramp, count in (("load", "switch", 0.0, 1),
                                   ("load_ramp", "switch", args.ramp, 1),
                                   ("load_open", "open", args.ramp, 1),
                                   ("load_workers", "switch", 0.0, workers)):
        log(f"load: {args.sessions} sessions reach Aujourd'hui ({mode}, over {ramp:g} s, "
            f"{count} worker{'s' if count > 1 else ''}) ...")
        out[key] = load.run(serving, sessions=args.sessions, log=log, ramp=ramp, mode=mode,
                            workers=count, login=login)
    return out


def _load_only(args, log) -> None:
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    pg = _pg_url(args.pg_scale, args.reference, log)
    serving = pg or _sqlite_url(args.sqlite_scale, args.reference)
    results.update(_loads(args, serving, log))
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    for key in ("load", "load_ramp", "load_open", "load_workers"):
        print(f"{key}: {results.get(key)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--reference", type=Path, default=NATIONAL,
                        help="the simulated network (default: bench/national.toml, 20 "
                             "centres and 101 départements; dashboard/pilot.toml: the pilots)")
    parser.add_argument("--pg-scale", type=float, default=1.4,
                        help="demo scale of the PostgreSQL database (1.4: 10.9 M contacts)")
    parser.add_argument("--sqlite-scale", type=float, default=0.27,
                        help="demo scale of the SQLite database (0.27: 2.1 M contacts)")
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
        args.pg_scale, args.sqlite_scale = 0.03, 0.03
        args.sessions, args.ingest_rows = min(args.sessions, 5), 2_000

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    from bench import forecast as bench_forecast
    from bench import pages as bench_pages

    if args.load_only:
        _load_only(args, log)
        return

    urls: dict[str, str] = {}
    builds = {}
    pg = _pg_url(args.pg_scale, args.reference, log)
    if pg:
        urls["postgresql"] = pg
    urls["sqlite"] = _sqlite_url(args.sqlite_scale, args.reference)
    for kind, url in urls.items():
        builds[kind] = _build(url, args.pg_scale if kind == "postgresql" else args.sqlite_scale,
                              args.reference, log)

    results: dict = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "quick": args.quick},
        "reference": str(args.reference),
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
        for page, rows in bench_forecast.measure_forecast(url, kind, log=log).items():
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
