"""Load: concurrent browser sessions on the Aujourd'hui page of a local Streamlit server.

One headless Chromium (Debian's), one context per session, identified as a site
supervisor by a trusted header (as behind an authenticating proxy). Every session first
opens the app's home page (not timed, OPENING sessions at a time: 30 browsers loading
the app's scripts at once on the server's two cores is a test of the machine, not of
the dashboard); once all are open, each reaches Aujourd'hui — by
the menu ("switch", as a user moves between pages) or by a full page load ("open", a
bookmark) — all at once, or spread evenly over RAMP seconds, and is timed until the
page's h1 is shown and Streamlit's status widget is gone. The browsers run on the same
machine as the server, so their rendering competes with it for the CPU. Loopback only,
bounded in sessions and time.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 120_000
AUTH_HEADER = "X-Forwarded-User"
OPENING = 3  # sessions opening the app at the same time during the warm-up
LOGIN = "superviseur.rouen"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(url: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    # Identity as in production behind an authenticating proxy: a trusted header (the
    # demo picker would add a list of every user to each page).
    env = dict(os.environ, DASHBOARD_DB_URL=url, DASHBOARD_AUTH_MODE="header",
               DASHBOARD_AUTH_HEADER=AUTH_HEADER,
               DASHBOARD_SECRETS_FILE=str(log_path.parent / "none.toml"))
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.serve",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not start; see {log_path}")


async def _session(browser, base: str, results: list, errors: list, delay: float = 0.0,
                   mode: str = "open", ready: asyncio.Event | None = None,
                   arrived: list | None = None,
                   opening: asyncio.Semaphore | None = None) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 900},
                                        locale="fr-FR",
                                        extra_http_headers={AUTH_HEADER: LOGIN})
    page = await context.new_page()
    try:
        # Warm-up, not timed: the session logs in on its home page (assets cached), a
        # few sessions at a time (people open the dashboard over the morning).
        async with opening or asyncio.Semaphore(1):
            await page.goto(base + "/", timeout=TIMEOUT_MS)
            await page.wait_for_selector("[data-testid=stMain] h1", timeout=TIMEOUT_MS)
        if arrived is not None and ready is not None:
            arrived.append(1)
            await ready.wait()  # every session open before anyone is timed
        await asyncio.sleep(delay)
        began = time.perf_counter()
        if mode == "switch":  # in-app navigation, as a user clicks the menu
            await page.locator("[data-testid=stSidebarNav] a[href$='/aujourdhui']").click(
                timeout=TIMEOUT_MS)
        else:  # a full page load (a bookmark, the wallboard)
            await page.goto(base + "/aujourdhui", timeout=TIMEOUT_MS)
        await page.wait_for_selector("[data-testid=stMain] h1:has-text('Aujourd')",
                                     timeout=TIMEOUT_MS)
        await page.wait_for_function(
            "() => !document.querySelector('[data-testid=stStatusWidget]')",
            timeout=TIMEOUT_MS)
        results.append(time.perf_counter() - began)
        if await page.locator("[data-testid=stException]").count():
            errors.append("exception shown")
    except Exception as exc:  # a timeout or a crash is an error of the run
        errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        if arrived is not None and ready is not None and not ready.is_set():
            arrived.append(1)  # a failed warm-up must not hold the others
        await context.close()


async def _run(base: str, sessions: int, prime: bool, prime_errors: list, ramp: float,
               mode: str = "open", results: list | None = None, errors: list | None = None
               ) -> tuple[list[float], list[str]]:
    """Times of the sessions that reached the page (RESULTS) and failures (ERRORS), both
    filled as they come: a run cut short by its time limit keeps what it measured."""
    from playwright.async_api import async_playwright

    results = [] if results is None else results
    errors = [] if errors is None else errors
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            if prime:
                # One session alone first: the server's first render imports the chart
                # stack and fills the caches (see docs/scaling.md).
                await _session(browser, base, [], prime_errors, mode=mode)
            ready, arrived, opening = asyncio.Event(), [], asyncio.Semaphore(OPENING)

            async def release() -> None:
                while len(arrived) < sessions:
                    await asyncio.sleep(0.05)
                ready.set()

            await asyncio.wait_for(
                asyncio.gather(release(), *[
                    _session(browser, base, results, errors, ramp * i / max(1, sessions),
                             mode, ready, arrived, opening)
                    for i in range(sessions)]),
                timeout=TIMEOUT_MS / 1000 * 4 + ramp)
        finally:
            await browser.close()
    return results, errors


def run(url: str, sessions: int = 30, log=print, prime: bool = True, ramp: float = 0.0,
        mode: str = "switch") -> dict:
    """Serve the database at URL; open SESSIONS browser sessions (after one lone session
    when PRIME), then, once all are open, have each reach Aujourd'hui, spread over RAMP
    seconds: by the menu (MODE "switch") or by a full page load ("open")."""
    prime_errors: list[str] = []
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} missing"}
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = _serve(url, Path(tmp) / "streamlit.log")
        times: list[float] = []
        errors: list[str] = []
        try:
            asyncio.run(_run(base, sessions, prime, prime_errors, ramp, mode, times, errors))
        except Exception as exc:  # the run's time limit: the sessions not done failed
            errors.extend([f"{type(exc).__name__}: run time limit"]
                          * (sessions - len(times) - len(errors)))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    times.sort()
    out = {"sessions": sessions, "mode": mode, "ramp_s": ramp, "primed": prime,
           "prime_errors": prime_errors,
           "ok": len(times), "errors": errors[:5], "error_count": len(errors)}
    if times:
        out |= {"p50_s": round(times[len(times) // 2], 2),
                "p95_s": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
                "max_s": round(times[-1], 2)}
    log(f"  load: {out}")
    return out


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.load URL [--sessions N] [--ramp S]`: the load test alone."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m bench.load", description=main.__doc__)
    parser.add_argument("url")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--ramp", type=float, default=0.0)
    parser.add_argument("--mode", choices=("switch", "open"), default="switch")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.url, args.sessions, log=lambda m: None, ramp=args.ramp,
                         mode=args.mode)))


if __name__ == "__main__":
    main()
