"""Load: concurrent browser sessions on the Aujourd'hui page of a local Streamlit server.

One headless Chromium (Debian's), one context per session, all started together; each
opens the app root once, then `/aujourdhui?demo_user=superviseur.rouen`, and is timed
until the page's h1 is shown and Streamlit's status widget is gone. Loopback only,
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(url: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, DASHBOARD_DB_URL=url, DASHBOARD_AUTH_MODE="demo",
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


async def _session(browser, base: str, results: list, errors: list) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 900},
                                        locale="fr-FR")
    page = await context.new_page()
    try:
        await page.goto(base + "/", timeout=TIMEOUT_MS)
        await page.wait_for_selector("[data-testid=stMain]", timeout=TIMEOUT_MS)
        began = time.perf_counter()
        await page.goto(base + "/aujourdhui?demo_user=superviseur.rouen", timeout=TIMEOUT_MS)
        await page.wait_for_selector("[data-testid=stMain] h1", timeout=TIMEOUT_MS)
        await page.wait_for_function(
            "() => !document.querySelector('[data-testid=stStatusWidget]')",
            timeout=TIMEOUT_MS)
        results.append(time.perf_counter() - began)
        if await page.locator("[data-testid=stException]").count():
            errors.append("exception shown")
    except Exception as exc:  # a timeout or a crash is an error of the run
        errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await context.close()


async def _run(base: str, sessions: int, prime: bool, prime_errors: list
               ) -> tuple[list[float], list[str]]:
    from playwright.async_api import async_playwright

    results: list[float] = []
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            if prime:
                # One session alone first: the server's first render imports the chart
                # stack; concurrent first renders race on it (see docs/scaling.md).
                await _session(browser, base, [], prime_errors)
            await asyncio.wait_for(
                asyncio.gather(*[_session(browser, base, results, errors)
                                 for _ in range(sessions)]),
                timeout=TIMEOUT_MS / 1000 * 3)
        finally:
            await browser.close()
    return results, errors


def run(url: str, sessions: int = 30, log=print, prime: bool = True) -> dict:
    """Serve the database at URL and load its Aujourd'hui page with SESSIONS browsers
    (after one lone session when PRIME)."""
    prime_errors: list[str] = []
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} missing"}
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = _serve(url, Path(tmp) / "streamlit.log")
        try:
            times, errors = asyncio.run(_run(base, sessions, prime, prime_errors))
        except Exception as exc:
            times, errors = [], [f"{type(exc).__name__}: {exc}"]
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    times.sort()
    out = {"sessions": sessions, "primed": prime, "prime_errors": prime_errors,
           "ok": sessions - len(errors), "errors": errors[:5], "error_count": len(errors)}
    if times:
        out |= {"p50_s": round(times[len(times) // 2], 2),
                "p95_s": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
                "max_s": round(times[-1], 2)}
    log(f"  load: {out}")
    return out
