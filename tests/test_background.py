"""dashboard.engine.background: jobs read beside the caller, on connections of their own, and a
caller never waits for a job no worker has begun."""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlalchemy import text

from dashboard.engine import background
from dashboard.store import database as dbmod


def _where(conn) -> tuple[str, int]:
    """The thread a job ran in, and a value read through CONN."""
    return threading.current_thread().name, conn.execute(text("SELECT 40 + 2")).scalar()


@pytest.mark.timeout(60)
def test_a_job_reads_in_a_worker_on_a_connection_of_its_own(empty_db_url):
    engine = dbmod.get_engine(empty_db_url)
    begun = threading.Event()

    def read(conn):
        begun.set()
        return _where(conn)

    with contextlib.ExitStack() as held:
        # Every connection of the app's pool held by callers: a job waiting for one of
        # them would wait for ever (the callers wait for their jobs).
        conns = [held.enter_context(engine.connect())
                 for _ in range(engine.pool.size() + engine.pool._max_overflow)]
        job = background.Job(engine, read)
        assert begun.wait(30)  # a worker took it (else result() would run it here)
        thread, value = job.result(conns[0])
    assert thread.startswith("dashboard-read") and value == 42


def test_a_jobs_error_reaches_the_caller(sqlite_url):
    engine = dbmod.get_engine(sqlite_url)

    def fails(_conn):
        raise LookupError("no such period")

    with engine.connect() as conn, pytest.raises(LookupError, match="no such period"):
        background.Job(engine, fails).result(conn)


def test_an_in_memory_database_runs_jobs_in_the_callers_thread():
    engine = dbmod.make_engine("sqlite://")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (7)"))
        # Another connection would open another, empty, database.
        job = background.Job(engine, lambda c: (threading.current_thread().name,
                                                c.execute(text("SELECT x FROM t")).scalar()))
        assert job.result(conn) == (threading.current_thread().name, 7)
    engine.dispose()


@contextlib.contextmanager
def _every_worker_busy(engine):
    """Every worker of the pool held by a job until the block ends; yields a connection."""
    release = threading.Event()
    started = threading.Barrier(background.WORKERS + 1)

    def busy(_conn):
        started.wait()
        release.wait(30)
        return "busy"

    try:
        with engine.connect() as conn:
            busy_jobs = [background.Job(engine, busy) for _ in range(background.WORKERS)]
            started.wait(30)
            yield conn
            release.set()
            assert [job.result(conn) for job in busy_jobs] == ["busy"] * background.WORKERS
    finally:
        release.set()


@pytest.mark.timeout(60)
def test_a_caller_runs_a_job_no_worker_has_begun(sqlite_url):
    engine = dbmod.get_engine(sqlite_url)
    with _every_worker_busy(engine) as conn:
        # Every worker busy: the next job waits in the queue, and its caller runs it at
        # once rather than wait for a worker.
        queued = background.Job(engine, _where)
        assert queued.result(conn) == (threading.current_thread().name, 42)


@pytest.mark.timeout(60)
def test_a_task_runs_in_a_worker_or_else_in_its_caller(sqlite_url):
    engine = dbmod.get_engine(sqlite_url)
    here = threading.current_thread().name
    begun = threading.Event()

    def where() -> str:
        begun.set()
        return threading.current_thread().name

    def fails() -> None:
        begun.set()
        raise ZeroDivisionError

    task = background.Task(where)
    assert begun.wait(30)  # a worker has taken it: its caller waits for that worker
    assert task.result().startswith("dashboard-read")
    begun.clear()
    failing = background.Task(fails)
    assert begun.wait(30)
    with pytest.raises(ZeroDivisionError):
        failing.result()
    with _every_worker_busy(engine):
        queued = background.Task(lambda: threading.current_thread().name)
        assert queued.result() == here  # no worker free: its caller computed it
    engine.dispose()
