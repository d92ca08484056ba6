"""Every page, for each role, in a real browser: loads without exception and draws its
charts; figures match the metrics engine; filters live in the URL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import text

from dashboard.core import formatting as fmt
from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.store import database as dbmod
from dashboard.ui import navigation
from tests.browser.conftest import pick_sidebar_option, screenshot, wait_for_app

ROLES = {
    "national": "directeur",
    "supervisor": "superviseur.rouen",
    "admin": "admin",
}


def _agent_login(url: str) -> str:
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(text(
            "SELECT login FROM users WHERE role = 'agent' ORDER BY login")).scalars().first()


def _cases(demo_url_placeholder=None):
    for role in ("agent", "supervisor", "national", "admin"):
        for page in navigation.pages_for(role):
            yield pytest.param(role, page, id=f"{role}-{page.url_path}")


@pytest.mark.parametrize("role,page_def", list(_cases()))
def test_page_loads_for_role_and_draws_its_charts(role, page_def, app_url, demo_db_url, page):
    login = ROLES.get(role) or _agent_login(demo_db_url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{app_url}/{navigation.page_url(role, page_def)}?demo_user={login}")
    wait_for_app(page)
    screenshot(page, f"{role}-{page_def.url_path}")
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.get_by_text("Page not found").count() == 0
    assert not errors, errors
    charts = page.locator("[data-testid=stVegaLiteChart]")
    for i in range(charts.count()):
        # A drawn Vega chart has its canvas or SVG inside.
        assert charts.nth(i).locator("canvas, svg").count() > 0


def _tile(page, label: str) -> str:
    metric = page.locator("[data-testid=stMetric]").filter(has_text=label).first
    return metric.locator("[data-testid=stMetricValue]").inner_text().strip()


def test_accueil_tiles_equal_the_engine(app_url, demo_db_url, page):
    page.goto(f"{app_url}/?demo_user=superviseur.rouen")
    wait_for_app(page)
    with dbmod.get_engine(demo_db_url).connect() as conn:
        last = dt.date.fromisoformat(str(conn.execute(text(
            "SELECT MAX(local_date) FROM contacts WHERE site = 'rouen'")).scalar_one()))
    k = compute_kpis(dbmod.get_engine(demo_db_url),
                     Filters(last, last, scope=Scope("supervisor", site="rouen"))).row(0, named=True)
    assert _tile(page, "Appels reçus") == fmt.fr_number(k["received"])
    assert _tile(page, "Taux de décroché") == fmt.fr_percent(k["answer_rate"])


def test_a_filter_change_goes_to_the_url_and_a_copied_url_restores_it(app_url, page):
    page.goto(f"{app_url}/?demo_user=directeur")
    wait_for_app(page)
    pick_sidebar_option(page, "Site", "Chartres")
    page.wait_for_url(re.compile(r"site=Chartres"), timeout=30_000)
    copied = page.url
    fresh = page.context.new_page()
    fresh.goto(copied)
    wait_for_app(fresh)
    site_box = fresh.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").filter(
        has_text="Site")
    shown = site_box.inner_text() + " ".join(
        site_box.locator("input").evaluate_all("els => els.map(e => e.value)"))
    assert "Chartres" in shown
