"""Accessibility (RGAA) and the wallboard in a real browser: axe-core finds no serious or
critical violation on any page, headings are in order, every chart has a text
alternative, the keyboard reaches the content past the sidebar; Aujourd'hui's figures
equal the engine's for the same filters and follow a filter change."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from dashboard.core import formatting as fmt
from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.store import database as dbmod
from dashboard.ui import navigation
from tests.browser.conftest import pick_sidebar_option, screenshot, wait_for_app

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"

# Violations inside Streamlit's own widgets, which our code cannot change: (axe rule id,
# the Streamlit element the offending node sits in) → why. Only nodes inside that element
# are forgiven, for that rule only; any other serious or critical violation fails.
AXE_ALLOWED: dict[tuple[str, str], str] = {
    ("list", "[data-testid=stSidebarNavItems]"):
        "Streamlit's page menu wraps each section's <li> items in a <div> inside its <ul>",
    ("listitem", "[data-testid=stSidebarNav]"):
        "the same menu: its <li> items sit in that <div>, not directly in the <ul>",
}

# One login per page: the admin sees every manager page, the agent their own.
PAGE_LOGINS = [(page, "admin") for page in navigation.pages_for("admin")] + [
    (page, None) for page in navigation.pages_for("agent")]


def _agent_login(url: str) -> str:
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(text(
            "SELECT login FROM users WHERE role = 'agent' ORDER BY login")).scalars().first()


def _last_common_day(url: str) -> dt.date:
    """The latest day on which both sites have contacts."""
    with dbmod.get_engine(url).connect() as conn:
        value = conn.execute(text(
            "SELECT MIN(last) FROM (SELECT MAX(local_date) AS last FROM contacts "
            "GROUP BY site)")).scalar_one()
    return dt.date.fromisoformat(str(value)[:10])


def _engine(url: str, day: dt.date, scope: Scope, sites: tuple[str, ...] = ()) -> dict:
    filters = Filters(day, day, sites=sites, scope=scope)
    return compute_kpis(dbmod.get_engine(url), filters).row(0, named=True)


def _tile(page, label: str) -> str:
    metric = page.locator("[data-testid=stMain] [data-testid=stMetric]").filter(
        has_text=label).first
    return metric.locator("[data-testid=stMetricValue]").inner_text().strip()


def _axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => ({impact: n.impact, target: n.target.join(' '),"
        " html: n.html.slice(0, 160)}))})); }")
    def allowed(rule: str, target: str) -> bool:
        return any(rule == known and page.evaluate(
            "([sel, within]) => { const el = document.querySelector(sel);"
            " return !!(el && el.closest(within)); }", [target, within])
            for known, within in AXE_ALLOWED)

    serious = []
    for violation in result:
        nodes = [n for n in violation["nodes"]
                 if (n["impact"] or violation["impact"]) in ("serious", "critical")
                 and not allowed(violation["id"], n["target"])]
        if nodes:
            serious.append({**violation, "nodes": nodes})
    return serious


def _headings(page) -> list[tuple[int, str]]:
    return [(int(tag[1]), label) for tag, label in page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=stMain] h1, [data-testid=stMain] h2,"
        " [data-testid=stMain] h3, [data-testid=stMain] h4, [data-testid=stMain] h5,"
        " [data-testid=stMain] h6')].filter(h => h.offsetParent !== null)"
        ".map(h => [h.tagName.toLowerCase(), h.innerText.trim()])")]


def _open(page, app_url, demo_db_url, page_def, login, query=""):
    role = "agent" if login is None else "admin"
    login = login or _agent_login(demo_db_url)
    page.goto(f"{app_url}/{navigation.page_url(role, page_def)}?demo_user={login}{query}")
    wait_for_app(page)


@pytest.mark.parametrize("page_def,login", [pytest.param(p, lg, id=p.url_path)
                                            for p, lg in PAGE_LOGINS])
def test_page_is_accessible(page_def, login, app_url, demo_db_url, page):
    """axe-core: no serious or critical violation; one h1, no heading level skipped;
    every chart has a text alternative; the page is in French."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (scripts/ensure_axe.sh needs npm): "
                    "no automated accessibility check")
    _open(page, app_url, demo_db_url, page_def, login)
    assert page.locator("[data-testid=stException]").count() == 0
    headings = _headings(page)
    assert [level for level, _ in headings].count(1) == 1, headings
    for (before, _), (after, label) in zip(headings, headings[1:]):
        assert after <= before + 1, f"heading level skipped before {label!r}: {headings}"
    charts = page.locator("[data-testid=stMain] [data-testid=stVegaLiteChart]")
    for i in range(charts.count()):
        described = charts.nth(i).evaluate(
            "el => [el, ...el.querySelectorAll('[aria-label], [role=img]')]"
            ".map(n => n.getAttribute('aria-label') || '').join(' ').trim()")
        assert described, f"chart {i} has no text alternative"
    page.wait_for_function("() => document.documentElement.lang === 'fr'", timeout=10_000)
    violations = _axe_violations(page)
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)


def test_keyboard_skip_link_then_tabbing_reaches_the_content(app_url, page):
    page.goto(f"{app_url}/aujourdhui?demo_user=superviseur.rouen")
    wait_for_app(page)
    # The page's script inserts the link once the page has run (before it, the first
    # stop is Streamlit's own English skip link).
    page.wait_for_selector("#cc-skip", state="attached", timeout=30_000)
    # As after loading: nothing focused, the next Tab goes to the document's first stop.
    page.evaluate("() => { document.activeElement && document.activeElement.blur();"
                  " window.getSelection().removeAllRanges(); }")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.id, document.activeElement.innerText]")
    assert focused == ["cc-skip", "Aller au contenu"]
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.tagName") == "H1"
    assert page.evaluate(
        "() => !!document.activeElement.closest('[data-testid=stMain]')")
    # Without the skip link, Tab goes through the menu and the filters, then the content.
    page.evaluate("() => document.activeElement.blur()")
    page.locator("[data-testid=stSidebar]").first.evaluate("el => el.scrollIntoView()")
    in_sidebar = in_main = 0
    for _ in range(60):
        page.keyboard.press("Tab")
        where = page.evaluate(
            "() => document.activeElement.closest('[data-testid=stSidebar]') ? 'side' :"
            " document.activeElement.closest('[data-testid=stMain]') ? 'main' : 'other'")
        in_sidebar += where == "side"
        if where == "main" and in_sidebar:
            in_main += 1
            break
    assert in_sidebar >= 3 and in_main, "Tab never left the sidebar for the content"


def test_aujourdhui_figures_equal_the_engine_and_follow_a_filter_change(
        app_url, demo_db_url, page):
    day = _last_common_day(demo_db_url)
    national = Scope("national")
    page.goto(f"{app_url}/aujourdhui?demo_user=directeur&jour={day.isoformat()}")
    wait_for_app(page)
    everywhere = _engine(demo_db_url, day, national)
    assert _tile(page, "Appels reçus") == fmt.fr_number(everywhere["received"])
    assert _tile(page, "Taux de décroché") == fmt.fr_percent(everywhere["answer_rate"])
    assert _tile(page, "Courriels reçus") == fmt.fr_number(everywhere["emails_received"])
    pick_sidebar_option(page, "Site", "Chartres")
    page.wait_for_url(re.compile(r"site=Chartres"), timeout=30_000)
    chartres = _engine(demo_db_url, day, national, ("chartres",))
    assert chartres["received"] != everywhere["received"]
    expected = fmt.fr_number(chartres["received"])
    page.wait_for_function(
        "([label, value]) => [...document.querySelectorAll('[data-testid=stMetric]')]"
        ".some(m => m.innerText.includes(label) &&"
        " m.querySelector('[data-testid=stMetricValue]').innerText.trim() === value)",
        arg=["Appels reçus", expected], timeout=60_000)
    wait_for_app(page)
    assert _tile(page, "Appels reçus") == expected
    assert _tile(page, "Taux de décroché") == fmt.fr_percent(chartres["answer_rate"])
    assert _tile(page, "Durée moyenne de traitement") == fmt.fr_duration(
        chartres["aht_seconds"])


def test_national_home_tiles_equal_the_engine(app_url, demo_db_url, page):
    page.goto(f"{app_url}/?demo_user=directeur")
    wait_for_app(page)
    with dbmod.get_engine(demo_db_url).connect() as conn:
        last = dt.date.fromisoformat(str(conn.execute(text(
            "SELECT MAX(local_date) FROM contacts")).scalar_one())[:10])
    k = _engine(demo_db_url, last, Scope("national"))
    assert _tile(page, "Appels reçus") == fmt.fr_number(k["received"])
    assert _tile(page, "Taux de décroché") == fmt.fr_percent(k["answer_rate"])


def test_wallboard_shows_big_tiles_and_the_intraday_chart_only(app_url, demo_db_url, page):
    page.goto(f"{app_url}/aujourdhui?demo_user=superviseur.rouen&wallboard=1")
    wait_for_app(page)
    screenshot(page, "supervisor-aujourdhui-wallboard")
    assert page.locator("[data-testid=stException]").count() == 0
    assert not page.locator("[data-testid=stSidebar]").first.is_visible()
    assert page.locator("[data-testid=stMain] [data-testid=stMetric]").count() == 10
    assert page.locator("[data-testid=stMain] [data-testid=stVegaLiteChart]").count() == 1
    assert page.locator("[data-testid=stDataFrame]").count() == 0
    # The figure as drawn: its innermost element, whatever Streamlit wraps it in.
    size = page.locator("[data-testid=stMetricValue]").first.evaluate(
        "el => { let n = el; while (n.firstElementChild) n = n.firstElementChild;"
        " return parseFloat(getComputedStyle(n).fontSize); }")
    assert size >= 40
    with dbmod.get_engine(demo_db_url).connect() as conn:
        last = dt.date.fromisoformat(str(conn.execute(text(
            "SELECT MAX(local_date) FROM contacts WHERE site = 'rouen'")).scalar_one())[:10])
    k = _engine(demo_db_url, last, Scope("supervisor", site="rouen"))
    assert _tile(page, "Appels reçus") == fmt.fr_number(k["received"])
    assert "actualisation toutes les 60 s" in page.locator("[data-testid=stMain]").inner_text()


def test_npm_tooling_is_pinned():
    lock = json.loads((AXE.parent.parent.parent / "package-lock.json").read_text())
    declared = json.loads((AXE.parent.parent.parent / "package.json").read_text())
    pinned = declared["dependencies"]["axe-core"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact axe-core version"
    assert lock["packages"]["node_modules/axe-core"]["version"] == pinned
    if shutil.which("npm") is None:
        pytest.skip("npm is missing: scripts/ensure_axe.sh cannot install axe-core")
