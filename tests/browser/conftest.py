"""Browser tests: the app served by Streamlit on the test demo database, driven by
Playwright in Debian's Chromium. Skipped, with the reason shown, where Chromium or
Playwright is missing. Screenshots go to screenshots/ (ignored by git) for people."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SHOTS = ROOT / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium driven by Playwright, or a visible skip."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package 'chromium'): no browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright is not installed: {exc}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def app_url(demo_db_url, tmp_path_factory):
    """Base URL of the app served on the test demo database (demo identity mode)."""
    port = _free_port()
    env = dict(os.environ, DASHBOARD_DB_URL=demo_db_url, DASHBOARD_AUTH_MODE="demo",
               DASHBOARD_SECRETS_FILE=str(tmp_path_factory.getbasetemp() / "none.toml"))
    log = (tmp_path_factory.getbasetemp() / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.serve",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"streamlit did not start; see {log.name}")
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def page(chromium):
    """A fresh browser page (own context, French locale, 1400×900)."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    pg = context.new_page()
    yield pg
    context.close()


def wait_for_app(pg, timeout_ms: int = 90_000) -> None:
    """Wait for the page's own content and for Streamlit to finish running it."""
    pg.wait_for_selector("[data-testid=stMain] h1", timeout=timeout_ms)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=timeout_ms)
    pg.wait_for_timeout(800)


def pick_sidebar_option(pg, select: str, option: str) -> None:
    """Choose OPTION in the sidebar selectbox labelled SELECT; the list is opened again
    when a rerun finishing meanwhile closes it under the click."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    box = pg.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").filter(
        has_text=select)
    for attempt in range(3):
        box.click()
        try:
            pg.get_by_role("option", name=option).click(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
            pg.keyboard.press("Escape")
            wait_for_app(pg)


def screenshot(pg, name: str) -> Path:
    """Save a full-page screenshot under screenshots/ for people to look at."""
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


