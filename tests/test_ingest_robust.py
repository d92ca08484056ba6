"""Imports you can trust: overlapping nights, interruptions, kill -9, two imports at once,
a lock held too long — on SQLite and PostgreSQL, through the real command where it counts."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import create_engine, func, select, text

from dashboard.core.access import ALL_ROWS
from dashboard.ingest import ingest_file, load
from dashboard.ingest import read as reading
from dashboard.store import database as dbmod
from dashboard.store import schema

ROOT = Path(__file__).resolve().parent.parent
HEADER = "contact_id,channel,site,department,received_at,outcome,wait_seconds,talk_seconds"


def call(i: int, talk: int = 10, day: int = 2) -> str:
    return (f"n{i},phone,rouen,60,2015-03-{day:02d}T{8 + i % 10:02d}:{i % 60:02d}:00,"
            f"answered,{i % 30},{talk}")


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def snapshot(url: str) -> list[tuple]:
    """Every contact (without surrogate ids) and the imports journal length."""
    c = schema.contacts
    cols = [col for col in c.c if col.name != "id"]
    with dbmod.get_engine(url).connect() as conn:
        rows = sorted(tuple(r) for r in conn.execute(select(*cols)))
    return rows


def count(url: str, table=schema.contacts) -> int:
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def imports(url: str) -> list[dict]:
    with dbmod.get_engine(url).connect() as conn:
        return [dict(r) for r in conn.execute(
            select(schema.imports).order_by(schema.imports.c.id)).mappings()]


# -- re-imports ------------------------------------------------------------------------------

def test_two_overlapping_nights(db_url, tmp_path):
    night1 = [call(i) for i in range(100)]
    # Night 2 repeats n50..n99: n50..n64 changed, n65..n69 moved to another day, the rest
    # as they were; and brings n100..n149.
    night2 = ([call(i, talk=99) for i in range(50, 65)] + [call(i, day=3) for i in range(65, 70)]
              + [call(i) for i in range(70, 100)] + [call(i, day=4) for i in range(100, 150)])
    first = ingest_file(db_url, "contacts", write(tmp_path / "night1.csv", night1),
                        source="acd", batch_rows=30)
    second = ingest_file(db_url, "contacts", write(tmp_path / "night2.csv", night2),
                         source="acd", batch_rows=30)
    assert (first.inserted, first.updated, first.unchanged) == (100, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (50, 20, 30)
    assert first.touched == {("rouen", dt.date(2015, 3, 2))}
    # New rows' day, changed rows' day, and the day the moved rows left.
    assert second.touched == {("rouen", dt.date(2015, 3, d)) for d in (2, 3, 4)}
    assert count(db_url) == 150
    with dbmod.get_engine(db_url).connect() as conn:
        c = schema.contacts.c
        rows = {r.contact_id: r for r in conn.execute(select(c.contact_id, c.talk_seconds,
                                                             c.local_date, c.import_id))}
    assert rows["n50"].talk_seconds == 99 and rows["n50"].import_id == second.import_id
    assert rows["n65"].local_date == dt.date(2015, 3, 3)
    assert rows["n80"].import_id == first.import_id  # unchanged rows keep their import
    assert rows["n10"].talk_seconds == 10
    again = ingest_file(db_url, "contacts", tmp_path / "night2.csv", source="acd")
    assert (again.inserted, again.updated, again.unchanged, again.touched) == (0, 0, 100, set())


# -- interruptions inside the process --------------------------------------------------------

def _raise_on(monkeypatch, name: str, exc: BaseException, after_real: bool = False):
    real = getattr(load, name)
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if after_real:
            real(*args, **kwargs)
            raise exc
        if len(calls) > 1:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(load, name, flaky)
    return calls


@pytest.mark.parametrize("where", ["stage_batch", "merge_stage"])
def test_ctrl_c_leaves_the_database_as_before(db_url, tmp_path, monkeypatch, where):
    ingest_file(db_url, "contacts", write(tmp_path / "day.csv", [call(i) for i in range(10)]))
    before = snapshot(db_url)
    rows = [call(i, talk=77) for i in range(20)] + ["bad,phone,evry,60,never,answered,1,1"]
    rows = [r.replace("n1,phone,rouen", "n1,phone,evry") for r in rows]
    _raise_on(monkeypatch, where, KeyboardInterrupt(), after_real=where == "merge_stage")
    monkeypatch.setattr(reading, "BATCH_ROWS", 5)
    with pytest.raises(KeyboardInterrupt):
        ingest_file(db_url, "contacts", write(tmp_path / "day.csv", rows),
                    quarantine_dir=tmp_path / "q")
    assert snapshot(db_url) == before
    with dbmod.get_engine(db_url).connect() as conn:
        assert conn.execute(select(schema.sites.c.code).where(
            schema.sites.c.code == "evry")).first() is None
    last = imports(db_url)[-1]
    assert (last["status"], last["message"]) == ("failed", "interrupted: nothing was loaded")
    assert last["quarantine_path"] is None
    assert not list((tmp_path / "q").glob("*")) if (tmp_path / "q").exists() else True


def test_a_crash_during_the_merge_rolls_it_all_back(db_url, tmp_path, monkeypatch):
    ingest_file(db_url, "contacts", write(tmp_path / "day.csv", [call(i) for i in range(10)]))
    before = snapshot(db_url)
    _raise_on(monkeypatch, "merge_stage", RuntimeError("disk on fire"), after_real=True)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest_file(db_url, "contacts",
                    write(tmp_path / "day.csv", [call(i, talk=5) for i in range(30)]))
    assert snapshot(db_url) == before
    assert [r["status"] for r in imports(db_url)] == ["loaded", "failed"]


# -- the lock --------------------------------------------------------------------------------

def test_an_import_gives_up_when_another_keeps_the_lock(db_url, tmp_path):
    path = write(tmp_path / "day.csv", [call(i) for i in range(5)])
    holder = create_engine(db_url).raw_connection()
    if db_url.startswith("sqlite"):
        holder.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction

        def release():
            holder.rollback()
    else:
        holder.cursor().execute("SELECT pg_advisory_lock(%s)", (load.LOCK_KEY,))

        def release():
            holder.cursor().execute("SELECT pg_advisory_unlock(%s)", (load.LOCK_KEY,))
            holder.commit()
    # The holder lets go after 3 s, so that the failure can be recorded.
    timer = threading.Timer(3.0, release)
    timer.start()
    try:
        started = time.monotonic()
        report = ingest_file(db_url, "contacts", path, lock_timeout=1.0)
        waited = time.monotonic() - started
    finally:
        timer.join()
        holder.close()
    assert report.exit_code == 2
    assert report.error == ("another import kept the database busy for more than 1 s: "
                            "nothing was loaded (try again later)")
    assert waited >= 1.0
    assert count(db_url) == 0
    assert ingest_file(db_url, "contacts", path).inserted == 5  # nothing left behind


# -- real processes ----------------------------------------------------------------------------

def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_")}
    env["PYTHONPATH"] = str(ROOT)
    env["DASHBOARD_SECRETS_FILE"] = "/nonexistent/secrets.toml"
    return env


def _command(url: str, path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dashboard", "ingest", "contacts", str(path), "--db", url,
            "--source", "acd", *extra]


def generate(path: Path, n: int, start: int = 0, talk: int = 10) -> Path:
    """N answered calls n<start>…, in time order, written with Polars (fast)."""
    i = pl.int_range(start, start + n, eager=True)
    frame = pl.DataFrame({"i": i}).with_columns(
        ("n" + pl.col("i").cast(pl.String)).alias("contact_id"),
        pl.lit("phone").alias("channel"),
        pl.when(pl.col("i") % 2 == 0).then(pl.lit("rouen")).otherwise(pl.lit("chartres"))
        .alias("site"),
        pl.when(pl.col("i") % 2 == 0).then(pl.lit("60")).otherwise(pl.lit("28"))
        .alias("department"),
        (pl.lit(dt.datetime(2015, 3, 1)) + pl.duration(seconds=(pl.col("i") * 7) % (28 * 86400)))
        .dt.to_string("%Y-%m-%dT%H:%M:%S").alias("received_at"),
        pl.lit("answered").alias("outcome"),
        (pl.col("i") % 50).alias("wait_seconds"),
        pl.lit(talk).alias("talk_seconds"),
    ).drop("i").sort("received_at")
    frame.write_csv(path)
    return path


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    """150,000 calls (about 10 MB): 8 batches of 20,000 rows, a merge of a second or two."""
    return generate(tmp_path_factory.mktemp("big") / "big.csv", 150_000)


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["read", "merging"])
def test_kill_9_leaves_the_database_as_before(db_url, big_file, tmp_path, phase):
    small = generate(tmp_path / "small.csv", 1000, talk=3)
    done = subprocess.run(_command(db_url, small), env=_env(), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    before = snapshot(db_url)
    journal = len(imports(db_url))

    proc = subprocess.Popen(_command(db_url, big_file, "--progress", "--batch-rows", "20000"),
                            env=_env(), cwd=tmp_path, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if line.startswith(f"progress: {phase}"):
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, seen
    assert any(s.startswith(f"progress: {phase}") for s in seen), seen

    assert snapshot(db_url) == before
    assert len(imports(db_url)) == journal  # nothing committed, not even the journal
    if db_url.startswith("sqlite"):
        with dbmod.get_engine(db_url).connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    # Nothing is left holding a lock: the next import runs (PostgreSQL may finish rolling
    # the killed one back first).
    again = subprocess.run(_command(db_url, small, "--lock-timeout", "120"), env=_env(),
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "unchanged 1000" in again.stdout


@pytest.mark.slow
def test_two_imports_at_once(db_url, tmp_path):
    a = generate(tmp_path / "a.csv", 30_000, start=0, talk=1)
    b = generate(tmp_path / "b.csv", 30_000, start=15_000, talk=2)
    procs = [subprocess.Popen(_command(db_url, path, "--batch-rows", "5000"), env=_env(),
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for path in (a, b)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert "error" not in err
    recs = imports(db_url)
    assert [r["status"] for r in recs] == ["loaded", "loaded"]
    later = 1 if recs[1]["file_name"].endswith("a.csv") else 2  # the one that merged last
    first_out, second_out = (outs[0][0], outs[1][0]) if later == 2 else (outs[1][0], outs[0][0])
    assert "inserted 30000, updated 0, unchanged 0" in first_out
    assert "inserted 15000, updated 15000, unchanged 0" in second_out
    assert count(db_url) == 45_000
    with dbmod.get_engine(db_url).connect() as conn:
        c = schema.contacts.c
        talk = dict(conn.execute(select(c.contact_id, c.talk_seconds)).all())
    assert len(talk) == 45_000
    overlap = {talk[f"n{i}"] for i in range(15_000, 30_000)}
    assert overlap == {later}
    assert {talk[f"n{i}"] for i in range(15_000)} == {1}
    assert {talk[f"n{i}"] for i in range(30_000, 45_000)} == {2}


# -- rollups -----------------------------------------------------------------------------------

def test_an_import_keeps_complete_rollups_exact(db_url, tmp_path):
    from polars.testing import assert_frame_equal

    from dashboard.core.filters import Filters
    from dashboard.engine import rollups
    from dashboard.engine.kpis import compute_kpis

    night1 = [call(i) for i in range(40)] + [
        f"e{i},email,chartres,28,2015-03-02T09:{i:02d}:00,pending,," for i in range(10)]
    ingest_file(db_url, "contacts", write(tmp_path / "n1.csv", night1), source="acd")
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    # Night 2 changes some calls, moves some to another day, adds others.
    night2 = ([call(i, talk=99) for i in range(10)] + [call(i, day=5) for i in range(10, 20)]
              + [call(i, day=6) for i in range(40, 60)])
    report = ingest_file(db_url, "contacts", write(tmp_path / "n2.csv", night2), source="acd")
    assert report.touched == {("rouen", dt.date(2015, 3, d)) for d in (2, 5, 6)}
    filters = Filters(dt.date(2015, 3, 1), dt.date(2015, 3, 31), scope=ALL_ROWS)
    for by in ((), ("day",), ("site", "channel")):
        raw = compute_kpis(engine, filters, by, source="raw")
        roll = compute_kpis(engine, filters, by, source="rollup")
        assert_frame_equal(raw, roll, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
    assert compute_kpis(engine, filters, source="rollup")["received"][0] == 60
