"""Several Streamlit processes behind the sticky proxy (`python -m dashboard.serve
--workers N`, dashboard/proxy.py): options, the choice of worker, and a served app."""

from __future__ import annotations

import asyncio
import http.cookies
import urllib.request

import pytest
import websockets

from bench import load
from bench.sessions import Session, run_async
from dashboard.serve import proxy
from dashboard.serve.launcher import split_options


def test_options_split_workers_and_address_from_streamlits():
    workers, taken, rest = split_options(
        ["--workers", "3", "--server.port=8600", "--server.address", "127.0.0.1",
         "--server.headless", "true"])
    assert workers == 3
    assert taken == {"--server.port": "8600", "--server.address": "127.0.0.1"}
    assert rest == ["--server.headless", "true"]


def test_workers_default_to_the_environment_then_one(monkeypatch):
    assert split_options([])[0] == 1
    monkeypatch.setenv("DASHBOARD_WORKERS", "4")
    assert split_options([])[0] == 4
    assert split_options(["--workers=2"])[0] == 2  # the command line wins


@pytest.mark.parametrize("bad", ["0", "-1", "two", ""])
def test_a_wrong_worker_count_is_refused_in_one_line(bad):
    with pytest.raises(SystemExit, match="--workers must be a whole number"):
        split_options(["--workers", bad])


def test_a_browser_keeps_its_worker_and_new_ones_take_turns():
    workers = proxy.Workers(["a:1", "b:2", "c:3"])
    assert [workers.pick(None) for _ in range(4)] == [(0, True), (1, True), (2, True),
                                                      (0, True)]
    assert workers.pick("2") == (2, False)
    # A cookie naming no worker (a smaller pool since, or forged) gets the next in turn.
    assert workers.pick("7") == (1, True)
    assert workers.pick("x") == (2, True)


def _get(url: str, cookie: str | None = None) -> tuple[str, str | None]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 200
        sent = resp.headers.get_all("Set-Cookie") or []
        ours = [c for c in sent if c.startswith(proxy.COOKIE + "=")]
        value = http.cookies.SimpleCookie(ours[0])[proxy.COOKIE].value if ours else None
        return resp.headers[proxy.WORKER_HEADER], value


@pytest.fixture(scope="module")
def two_workers(demo_db_url, tmp_path_factory):
    proc, base = load.serve(demo_db_url, tmp_path_factory.mktemp("serve") / "log", workers=2)
    yield base
    load.stop(proc)


def test_the_proxy_pins_each_browser_to_one_worker(two_workers):
    first, cookie_1 = _get(two_workers + "/")
    second, cookie_2 = _get(two_workers + "/")
    assert {first, second} == {"0", "1"}  # two new browsers, two workers
    assert (cookie_1, cookie_2) == (first, second)
    for _ in range(3):  # with its cookie, a browser always comes back to its worker
        assert _get(two_workers + "/_stcore/health", f"{proxy.COOKIE}={second}") \
            == (second, None)


def test_sessions_through_the_proxy_get_their_pages(two_workers):
    headers = {load.AUTH_HEADER: "superviseur.rouen"}

    async def one() -> int:
        session = await Session.open(two_workers, headers)
        try:
            await session.page("", expect="Accueil", timeout=90)
            return (await session.page("aujourdhui", expect="Aujourd'hui",
                                       timeout=90))["messages"]
        finally:
            await session.close()

    async def many():
        return await asyncio.gather(*[one() for _ in range(8)], return_exceptions=True)

    results = run_async(many())
    assert all(isinstance(r, int) and r > 30 for r in results), results


def test_a_session_from_another_site_is_refused(two_workers):
    async def attempt():
        async with websockets.connect(
                two_workers.replace("http", "ws") + "/_stcore/stream",
                subprotocols=["streamlit"], origin="http://evil.example") as socket:
            await socket.recv()

    with pytest.raises(websockets.InvalidStatus) as refused:  # refused at the handshake
        run_async(attempt())
    assert refused.value.response.status_code == 403
