"""Browser tests: the app served by Streamlit on the test demo database, driven by
Playwright in Debian's Chromium. Skipped, with the reason shown, where Chromium or
Playwright is missing. Screenshots go to screenshots/ (ignored by git) for people."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.server import serving

ROOT = Path(__file__).resolve().parent.parent.parent
SHOTS = ROOT / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


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
    with serving(demo_db_url, tmp_path_factory.getbasetemp() / "streamlit.log",
                 DASHBOARD_AUTH_MODE="demo") as base:
        yield base


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


