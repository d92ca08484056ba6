"""Reads that run beside the caller's: one engine call's independent reads at once.

A page's engine call over a long period reads its contact sums, its team statistics
(Erlang cells, presence) and the e-mail stock's flows, each independent of the others.
The database does most of that work with the GIL released (PostgreSQL in its own
processes; SQLite's engine releases it while it steps), and so does Polars: run side by
side, they use a second core.

A job runs in a small pool of worker threads, on a connection of its own from a pool
of the same size (`reader`), so a worker never waits for a connection held by a caller
waiting for it. A caller that wants the result of a job no worker has started yet
cancels it and runs it itself: a busy server is never slower than doing each read in
turn. A separate connection sees what is committed when it reads, as each call of a
page already does. An in-memory SQLite database (one per connection) runs every job
in the caller's thread. A Task is the same for a computation that reads no database
(the team period's slot grids, built while its worker reads the cells).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from dashboard.store import database as dbmod

T = TypeVar("T")

WORKERS = 2
_executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="dashboard-read")


@functools.lru_cache(maxsize=16)
def reader(url: str) -> Engine:
    """The workers' engine for URL: a pool of WORKERS connections, no overflow."""
    return dbmod.make_engine(url, pool_size=WORKERS, max_overflow=0)


def runs_beside(engine: Engine) -> bool:
    """True when a job can read ENGINE's database on another connection."""
    url = engine.url
    return not (url.get_backend_name() == "sqlite"
                and url.database in (None, "", ":memory:"))


class Job(Generic[T]):
    """FN(connection), begun in a worker thread where it can be."""

    def __init__(self, engine: Engine, fn: Callable[[Connection], T]) -> None:
        self._fn = fn
        self._future: Future | None = None
        if runs_beside(engine):
            url = engine.url.render_as_string(hide_password=False)
            self._future = _executor.submit(self._run, url)

    def _run(self, url: str) -> T:
        with reader(url).connect() as conn:
            return self._fn(conn)

    def result(self, conn: Connection) -> T:
        """The job's value; run on CONN by the caller if no worker has begun it."""
        if self._future is None or self._future.cancel():
            return self._fn(conn)
        return self._future.result()


class Task(Generic[T]):
    """FN(), a computation that reads no database, begun in a worker thread (the same
    pool as the jobs'); the caller runs it itself if no worker has begun it."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = fn
        self._future = _executor.submit(fn)

    def result(self) -> T:
        """The task's value, computed by the caller if no worker has begun it."""
        if self._future.cancel():
            return self._fn()
        return self._future.result()
