"""A small process-wide cache of what several engine calls share: one period's
intermediate statistics, computed once and read by each grouping of a page (the team
measures' cells and presence; contact sums read with the same source columns).

A page asks compute_kpis for the same filters grouped several ways (Effectifs: total,
per site, per half-hour, per day × half-hour, per day); the period's Erlang cells and
the agents' presence are the same for all of them. Entries live per engine (a new
engine starts empty), at most MAX_ENTRIES per engine and TTL_SECONDS each, and a
commit made in this process makes every entry stale, so that a write is never hidden
from the next call. Writes by another process (an import run from the command line) show after
at most TTL_SECONDS, well within the result cache's own TTL (dashboard/cache.py).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import Engine, event

T = TypeVar("T")

# Long enough for one page's calls (a few seconds at national scale) and the sessions
# opening the same page meanwhile; short next to the results' 5 minutes.
TTL_SECONDS = 30.0
# A page shares one period; a few pages and periods at once are the most a server sees
# within the TTL. An entry holds a few frames of one row per site × day × half-hour, or
# one call's contact sums (one row per value of its source columns).
MAX_ENTRIES = 16

_lock = threading.Lock()
_entries: weakref.WeakKeyDictionary[Engine, OrderedDict] = weakref.WeakKeyDictionary()
_writes = 0  # commits seen in this process: an entry made before one is stale


@event.listens_for(Engine, "commit")
def _on_commit(_conn) -> None:
    global _writes
    with _lock:
        _writes += 1


def shared(engine: Engine, key: Hashable, compute: Callable[[], T]) -> T:
    """COMPUTE()'s value for KEY on ENGINE, computed once and reused while fresh."""
    now = time.monotonic()
    with _lock:
        entries = _entries.setdefault(engine, OrderedDict())
        hit = entries.get(key)
        if hit is not None and hit[0] == _writes and now - hit[1] < TTL_SECONDS:
            entries.move_to_end(key)
            return hit[2]
        writes = _writes
    # Computed outside the lock: other calls go on meanwhile (two threads may compute the
    # same value once each; both are right).
    value = compute()
    with _lock:
        if writes == _writes:  # no commit while computing: the value is current
            entries[key] = (writes, now, value)
            entries.move_to_end(key)
            for stale in [k for k, (w, at, _) in entries.items()
                          if w != _writes or now - at >= TTL_SECONDS]:
                del entries[stale]
            while len(entries) > MAX_ENTRIES:
                entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget every entry (tests; a benchmark's cold start makes a new engine instead)."""
    with _lock:
        _entries.clear()
