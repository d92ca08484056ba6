"""Every page at its own address, in a real browser: for one demo login per role, every
page of the role opens at its own path and the role's home also at the root; a path
that is no page and a page of another role show a French message and the home. Nothing
on screen is Streamlit's English (its "Page not found" dialog above all).

One server (the session's app_url) for every case; one browser page per role.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from sqlalchemy import text

from dashboard.store import database as dbmod
from dashboard.ui import navigation
from tests.browser.conftest import screenshot, wait_for_app

# Streamlit's own English, as its frontend would show it (menu, status, dialogs, errors).
ENGLISH = ("Page not found", "You have requested page", "Running", "Stop", "Deploy", "Rerun",
           "Clear cache", "Settings", "Print", "Record a screen cast", "About",
           "Made with Streamlit", "Made with", "Something went wrong", "Error", "Traceback",
           "Please wait", "Connecting", "View more", "View less", "main page", "Record screen",
           "does not seem to exist")
# Streamlit's skip link sits off screen; the app puts its own French one first
# (dashboard/ui/banner.py), which is what a keyboard user reaches.
STREAMLIT_SKIP_LINK = "Skip to main content"

# A page each role may not open, chosen by hand from the access rules.
FORBIDDEN = {"agent": "donnees", "supervisor": "bilan", "national": "donnees",
             "admin": "mes-statistiques"}
UNKNOWN = "nimportequoi"


def _login(url: str, role: str) -> str:
    """One active demo login of ROLE, from the demo database's users table."""
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(text(
            "SELECT login FROM users WHERE role = :role AND active ORDER BY login LIMIT 1"),
            {"role": role}).scalar_one()


def _visible_text(page) -> str:
    """Everything the page shows as text, its dialogs included."""
    return page.evaluate("() => document.body.innerText")


def _english(shown: str) -> list[str]:
    shown = shown.replace(STREAMLIT_SKIP_LINK, "")
    return [w for w in ENGLISH if re.search(rf"\b{re.escape(w)}\b", shown)]


def _open(page, app_url: str, path: str, login: str) -> tuple[list[str], list[str], str]:
    """Open /PATH as LOGIN: (the main area's h1 texts, its alerts, the visible text)."""
    page.goto(f"{app_url}/{path}?demo_user={login}")
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    headings = [h.strip() for h in main.locator("h1").all_inner_texts()]
    alerts = [a.strip() for a in main.locator("[data-testid=stAlert]").all_inner_texts()]
    return headings, alerts, _visible_text(page)


@pytest.mark.parametrize("role", ["supervisor", "national", "admin", "agent"])
def test_every_page_at_its_address_and_refusals_in_french(role, app_url, demo_db_url, page):
    login = _login(demo_db_url, role)
    home = navigation.home(role)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    refusals = (navigation.UNKNOWN_PAGE, navigation.FORBIDDEN_PAGE)
    problems: list[str] = []

    cases = [("", home.title, None)]
    cases += [(p.url_path, p.title, None) for p in navigation.pages_for(role)]
    cases += [(UNKNOWN, home.title, navigation.UNKNOWN_PAGE),
              (FORBIDDEN[role], home.title, navigation.FORBIDDEN_PAGE)]
    assert FORBIDDEN[role] not in {p.url_path for p in navigation.pages_for(role)}
    for path, title, message in cases:
        headings, alerts, shown = _open(page, app_url, path, login)
        where = f"{role} /{path}"
        if headings != [title]:
            problems.append(f"{where}: h1 {headings}, expected [{title!r}]")
        # An alert's text starts with its icon's ligature name; the message follows.
        wanted = [r for r in refusals if any(r in a for a in alerts)]
        if wanted != ([message] if message else []):
            problems.append(f"{where}: refusal messages {wanted}, expected {message!r}")
        if page.locator("[role=dialog]").count():
            problems.append(f"{where}: a dialog is open: {shown[-300:]!r}")
        if page.locator("[data-testid=stException]").count():
            problems.append(f"{where}: an exception is shown")
        if english := _english(shown):
            problems.append(f"{where}: English on screen {english}")
        if urlparse(page.url).path != f"/{path}":
            problems.append(f"{where}: the address became {page.url}")
        if message:
            screenshot(page, f"adresse-{role}-{path}")
        if path == "" and page.locator("[data-testid=stMainMenu]").count():
            # Streamlit's main menu (⋮), where there is one: what it shows once opened.
            page.locator("[data-testid=stMainMenu]").first.click()
            page.wait_for_timeout(500)
            if english := _english(_visible_text(page)):
                problems.append(f"{where}: English in the main menu {english}")
            page.keyboard.press("Escape")
    assert not problems, "\n".join(problems)
    assert not errors, errors
