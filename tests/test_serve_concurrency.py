"""Many sessions at once on one served app: every one gets its pages, none an error.

Sessions speak Streamlit's own protocol (bench/sessions.py), as browser tabs do. With
Polars frames handed to st.dataframe, thirty sessions opening the app together
deadlocked the whole server (Polars' to_pandas waits for its thread pool while holding
the GIL): every session then times out here.
"""

from __future__ import annotations

import asyncio

import pytest

from bench import load
from bench.sessions import Session, run_async

SESSIONS = 30
HEADERS = {load.AUTH_HEADER: "superviseur.rouen"}


async def _sessions_at_once(base: str) -> list:
    first = await Session.open(base, HEADERS)  # the server's first render imports a lot
    await first.page("", expect="Accueil", timeout=90)
    await first.close()

    async def one() -> tuple[int, int]:
        session = await Session.open(base, HEADERS, timeout=60)
        try:
            home = await session.page("", expect="Accueil", timeout=60)
            today = await session.page("aujourdhui", expect="Aujourd'hui", timeout=60)
            return home["messages"], today["messages"]
        finally:
            await session.close()

    return await asyncio.gather(*[one() for _ in range(SESSIONS)], return_exceptions=True)


@pytest.mark.timeout(600)
def test_thirty_sessions_at_once_all_get_their_pages(demo_db_url, tmp_path):
    proc, base = load.serve(demo_db_url, tmp_path / "streamlit.log")
    try:
        results = run_async(_sessions_at_once(base))
    finally:
        load.stop(proc)
    errors = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} of {SESSIONS} sessions failed, first: {errors[0]}"
    # Each page streamed its elements (a title alone would be a handful of messages).
    assert all(home > 10 and today > 30 for home, today in results)
