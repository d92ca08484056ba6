"""The first request after a restart goes through the frame: a page's own URL, asked first
of a fresh server, shows the frame's refusal to an unidentified user, never the page.

Streamlit treats a `pages/` folder beside the entry script as a version-1 multipage app
until the process first calls `st.navigation`: the first request for `/detail` after a
restart would then run pages/detail.py alone, without the frame that identifies the
user and sets the scope. The entry script (dashboard/ui/app.py) therefore lives away from
pages/. Each case here starts its own server (real `python -m dashboard.serve`, header
authentication, the test demo database) and makes its very first page request the
page's URL, in Debian's Chromium driven by Playwright, like tests/browser/.

The refusal asserted is the frame's own: the title "Accès non autorisé" and the message
"Votre identifiant n'est pas autorisé…". A page run without the frame stops at its own
guard (identity.page_user), which shows only an error "Accès non autorisé." with no
title, and Streamlit's version-1 page list in the sidebar: both are told apart here.
The counter-checks send a known demo user's identity header, with the proxy's secret
header mode requires, and see the page itself, so the same first request can fail either
way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.core.proxy_trust import SECRET_HEADER
from dashboard.ui import navigation
from dashboard.ui.identity import DEFAULT_AUTH_HEADER
from tests.browser.server import PROXY_SECRET, serving

REFUSAL_TITLE = "Accès non autorisé"
REFUSAL_MESSAGE = "Votre identifiant n'est pas autorisé à consulter ce tableau de bord"
# What a page draws: tiles, charts, tables, and what a failing one shows.
FIGURES = ("[data-testid=stMetric]", "[data-testid=stVegaLiteChart]", ".vega-embed",
           "[data-testid=stDataFrame]", "[data-testid=stTable]", "[data-testid=stException]")
# The frame's rendering or a page's: a title, an alert, an exception, a 404 dialog.
RENDERED = ("[data-testid=stMain] h1, [data-testid=stMain] [data-testid=stAlert], "
            "[data-testid=stException], [role=dialog]")

pytestmark = pytest.mark.slow


def _page(url_path: str) -> navigation.PageDef:
    (page,) = [p for p in navigation.PAGES if p.url_path == url_path]
    return page


def fresh_server(db_url: str, log_path: Path):
    """A new server in header mode on DB_URL; its base URL once it answers."""
    return serving(db_url, log_path, DASHBOARD_AUTH_MODE="header",
                   DASHBOARD_AUTH_HEADER=DEFAULT_AUTH_HEADER,
                   DASHBOARD_AUTH_PROXY_SECRET=PROXY_SECRET)


def open_first(browser, url: str, headers: dict[str, str] | None = None):
    """Open URL in a new context (French, 1400×900, HEADERS on every request, the
    websocket's included) and wait until Streamlit has finished running it."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR",
                                  extra_http_headers=headers or {})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(url)
    pg.wait_for_selector(RENDERED, timeout=90_000)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)
    pg.wait_for_timeout(1500)  # what else the run sends, and Vega's drawing
    return context, pg, errors


@pytest.mark.parametrize("url_path", ["detail", "aujourdhui", "donnees"])
def test_first_request_for_a_page_without_identity_gets_the_frames_refusal(
        url_path, chromium, demo_db_url, tmp_path):
    title = _page(url_path).title
    with fresh_server(demo_db_url, tmp_path / "streamlit.log") as base:
        context, pg, errors = open_first(chromium, f"{base}/{url_path}")
        try:
            main = pg.locator("[data-testid=stMain]")
            headings = [h.strip() for h in main.locator("h1").all_inner_texts()]
            body = pg.locator("body").inner_text()
            assert headings == [REFUSAL_TITLE], (headings, body)
            assert REFUSAL_MESSAGE in main.inner_text(), body
            for selector in FIGURES:
                assert pg.locator(selector).count() == 0, (selector, body)
            assert title not in body, body
            # No version-1 page list: the frame stopped before any navigation.
            assert pg.locator("[data-testid=stSidebarNav]").count() == 0, body
            assert not errors, errors
        finally:
            context.close()


@pytest.mark.parametrize("url_path,login,shown", [
    ("aujourdhui", "superviseur.rouen", "Superviseur Rouen"),
    ("donnees", "admin", "Administrateur"),
])
def test_first_request_for_a_page_with_a_known_identity_shows_the_page(
        url_path, login, shown, chromium, demo_db_url, tmp_path):
    title = _page(url_path).title
    with fresh_server(demo_db_url, tmp_path / "streamlit.log") as base:
        context, pg, errors = open_first(chromium, f"{base}/{url_path}",
                                         headers={DEFAULT_AUTH_HEADER: login,
                                                  SECRET_HEADER: PROXY_SECRET})
        try:
            main = pg.locator("[data-testid=stMain]")
            headings = [h.strip() for h in main.locator("h1").all_inner_texts()]
            body = pg.locator("body").inner_text()
            assert headings == [title], (headings, body)
            assert REFUSAL_TITLE not in body, body
            assert pg.locator("[data-testid=stException]").count() == 0, body
            # The page's figures are drawn, and the frame ran: its menu and its user.
            figure = ("[data-testid=stMetric]" if url_path == "aujourdhui"
                      else "[data-testid=stDataFrame]")
            assert pg.locator(figure).count() > 0, body
            assert pg.locator("[data-testid=stSidebarNav]").count() == 1, body
            assert shown in pg.locator("[data-testid=stSidebar]").inner_text(), body
            assert not errors, errors
        finally:
            context.close()
