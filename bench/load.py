"""Load: concurrent sessions on the Aujourd'hui page of a local Streamlit server.

SESSIONS sessions of a site supervisor (identified by a trusted header, as behind the
authenticating proxy of production) speak Streamlit's own protocol (bench/sessions.py):
each opens the app on its home page (not timed), then, once all are open, reaches
Aujourd'hui — by the menu ("switch", a rerun in the open session) or by opening the page
in a new session ("open", a bookmark or the wallboard) — all at once or spread evenly
over RAMP seconds. Each is timed until the server has sent the page's last element. The
first supervisor of the morning (one session before the others, "first_s") fills the
caches (one per worker when several Streamlit processes serve behind the sticky proxy,
`--workers`: each has its own caches).

At the moment the others start, one real Chromium (Debian's, headless) that opened the
app beforehand clicks the menu too, and is timed until the page's title is shown and
Streamlit's status widget is gone ("browser_s"): what a user waits, drawing included,
under the same load. Thirty Chromiums on this two-core machine would measure the
browsers; in production every user's browser has its own machine.

Loopback only; bounded in sessions and time. The server's CPU seconds during the run
are reported per page served.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.sessions import PageError, Session
from dashboard.serve import launcher as serving

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TIMEOUT_S = 120
AUTH_HEADER = "X-Forwarded-User"
LOGIN = "superviseur.rouen"
PAGE, TITLE = "aujourdhui", "Aujourd'hui"
OPENING = 5  # sessions opening the app at the same time before the timed part


def serve(url: str, log_path: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """Start `python -m dashboard.serve` on URL (WORKERS processes behind the proxy when
    more than one), identity by header; (process, base URL)."""
    port = serving.free_port()
    # Identity as in production behind an authenticating proxy: a trusted header, believed
    # from the proxy's address (the benchmark, on loopback, plays the proxy).
    env = dict(os.environ, DASHBOARD_DB_URL=url, DASHBOARD_AUTH_MODE="header",
               DASHBOARD_AUTH_HEADER=AUTH_HEADER,
               DASHBOARD_AUTH_PROXY_ADDRESSES="127.0.0.1,::1",
               DASHBOARD_SECRETS_FILE=str(log_path.parent / "none.toml"))
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.serve",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--workers", str(workers)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    if serving.healthy(base, proc, 90 + 30 * workers):
        return proc, base
    stop(proc)
    raise RuntimeError(f"streamlit did not start; see {log_path}")


def stop(proc: subprocess.Popen) -> None:
    """Stop the server started by serve(), its workers with it."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _tree(pid: int) -> list[int]:
    """PID and its descendants (Linux /proc): the proxy and its workers."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        out.append(todo.pop())
        todo.extend(children.get(out[-1], []))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of process PID and its descendants."""
    total = 0.0
    for one in _tree(pid):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_mb(pid: int) -> float:
    """Resident memory in MB of process PID and its descendants."""
    total = 0.0
    for one in _tree(pid):
        try:
            lines = Path(f"/proc/{one}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
    return round(total / 1024, 1)


async def _browser_probe(base: str, start: asyncio.Event, out: dict, login: str) -> None:
    """One Chromium: open the app, wait for START, click Aujourd'hui; time to the page."""
    from playwright.async_api import async_playwright

    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = await browser.new_context(
                    viewport={"width": 1400, "height": 900}, locale="fr-FR",
                    extra_http_headers={AUTH_HEADER: login})
                page = await context.new_page()
                await page.goto(base + "/", timeout=TIMEOUT_S * 1000)
                await page.wait_for_selector("[data-testid=stMain] h1",
                                             timeout=TIMEOUT_S * 1000)
                out["ready"] = True
                await start.wait()
                began = time.perf_counter()
                await page.locator(f"[data-testid=stSidebarNav] a[href$='/{PAGE}']").click(
                    timeout=TIMEOUT_S * 1000)
                await page.wait_for_selector(f"[data-testid=stMain] h1:has-text('{TITLE[:7]}')",
                                             timeout=TIMEOUT_S * 1000)
                await page.wait_for_function(
                    "() => !document.querySelector('[data-testid=stStatusWidget]')",
                    timeout=TIMEOUT_S * 1000)
                out["browser_s"] = round(time.perf_counter() - began, 2)
                if await page.locator("[data-testid=stException]").count():
                    out["browser_error"] = "exception shown"
            finally:
                await browser.close()
    except Exception as exc:  # the probe's failure is reported, the load goes on
        out["browser_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        out["ready"] = True


async def _run(base: str, sessions: int, ramp: float, mode: str, browser: bool,
               server_pid: int, out: dict, workers: int = 1, login: str = LOGIN) -> None:
    headers = {AUTH_HEADER: login}
    # The first supervisor of the morning: alone, fills the caches — of every worker, as
    # the first sessions the proxy sends to each would (each process has its own).
    firsts = []
    for _ in range(workers):
        first = await Session.open(base, headers, TIMEOUT_S)
        await first.page("", timeout=TIMEOUT_S)
        firsts.append((await first.page(PAGE, expect=TITLE, timeout=TIMEOUT_S))["seconds"])
        await first.close()
    out["first_s"] = round(firsts[0], 2)

    opening = asyncio.Semaphore(OPENING)
    open_sessions: list[Session] = []

    async def open_one() -> Session:
        async with opening:
            session = await Session.open(base, headers, TIMEOUT_S)
            await session.page("", timeout=TIMEOUT_S)
            return session

    if mode == "switch":
        open_sessions = list(await asyncio.gather(*[open_one() for _ in range(sessions)]))
    start, probe = asyncio.Event(), {}
    probe_task = (asyncio.create_task(_browser_probe(base, start, probe, login)) if browser
                  else None)
    while probe_task is not None and not probe.get("ready"):
        await asyncio.sleep(0.1)

    times: list[float] = []
    errors: list[str] = []

    async def one(i: int) -> None:
        await asyncio.sleep(ramp * i / max(1, sessions))
        began = time.perf_counter()
        session = None
        try:
            if mode == "switch":
                session = open_sessions[i]
            else:  # a new session opening the page: the connection is part of the wait
                session = await Session.open(base, headers, TIMEOUT_S)
            await session.page(PAGE, expect=TITLE, timeout=TIMEOUT_S)
            times.append(time.perf_counter() - began)
        except (PageError, OSError, asyncio.TimeoutError, Exception) as exc:
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                          if str(exc) else type(exc).__name__)

    cpu_before = cpu_seconds(server_pid)
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*[one(i) for i in range(sessions)])
    out["wall_s"] = round(time.perf_counter() - began, 2)
    out["server_cpu_s"] = round(cpu_seconds(server_pid) - cpu_before, 2)
    if probe_task is not None:
        await probe_task
        out.update({k: v for k, v in probe.items() if k != "ready"})
    out["server_rss_mb"] = rss_mb(server_pid)
    await asyncio.gather(*[s.close() for s in open_sessions], return_exceptions=True)
    times.sort()
    out.update({"ok": len(times), "error_count": len(errors), "errors": errors[:5]})
    if times:
        out |= {"p50_s": round(times[len(times) // 2], 2),
                "p95_s": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
                "max_s": round(times[-1], 2),
                "server_cpu_per_page_s": round(out["server_cpu_s"] / sessions, 3)}


def run(url: str, sessions: int = 30, log=print, ramp: float = 0.0, mode: str = "switch",
        browser: bool = True, workers: int = 1, login: str = LOGIN) -> dict:
    """Serve the database at URL; after a first session alone, SESSIONS sessions reach
    Aujourd'hui spread over RAMP seconds, by the menu (MODE "switch") or by opening it in
    a new session ("open"), with one real browser clicking the menu at the same time;
    WORKERS Streamlit processes behind the sticky proxy when more than one; every session
    is LOGIN's (a site supervisor)."""
    out: dict = {"sessions": sessions, "mode": mode, "ramp_s": ramp, "client": "protocol",
                 "workers": workers, "login": login}
    if browser and not Path(CHROMIUM).exists():
        browser = False
        out["browser_error"] = f"{CHROMIUM} missing"
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = serve(url, Path(tmp) / "streamlit.log", workers)
        try:
            asyncio.run(asyncio.wait_for(
                _run(base, sessions, ramp, mode, browser, proc.pid, out, workers, login),
                timeout=TIMEOUT_S * 4 + ramp))
        except Exception as exc:  # the run's time limit or a failed first session
            out.setdefault("error_count", sessions)
            out["run_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}" \
                if str(exc) else type(exc).__name__
        finally:
            stop(proc)
    log(f"  load: {out}")
    return out


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.load URL [--sessions N] [--ramp S] [--mode switch|open]`."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m bench.load", description=main.__doc__)
    parser.add_argument("url")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--ramp", type=float, default=0.0)
    parser.add_argument("--mode", choices=("switch", "open"), default="switch")
    parser.add_argument("--no-browser", action="store_true", help="no real browser probe")
    parser.add_argument("--workers", type=int, default=1, help="Streamlit processes")
    parser.add_argument("--login", default=LOGIN, help="the supervisor every session is")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.url, args.sessions, log=lambda m: None, ramp=args.ramp,
                         mode=args.mode, browser=not args.no_browser, workers=args.workers,
                         login=args.login)))


if __name__ == "__main__":
    main()
