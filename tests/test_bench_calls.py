"""The benchmark measures what the pages do: each page's engine calls in its default view
(grouping, metrics read, the role of the scope) are the ones bench/pages.py times.

A page that changes its groupings or the metrics it reads without bench/pages.py
following fails here, instead of the benchmark quietly timing something else.
"""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from bench import pages as bench_pages
from dashboard.ui import cache
from tests.apptest import APP, ROOT

# bench/pages.py's page → (the view file, a demo login of the role it benchmarks)
PAGES = {
    "accueil": ("pages/accueil.py", "directeur"),
    "aujourdhui": ("pages/aujourdhui.py", "superviseur.rouen"),
    "campagnes": ("pages/campagnes.py", "superviseur.rouen"),
    "actes": ("pages/actes.py", "superviseur.rouen"),
    "bilan": ("pages/bilan.py", "directeur"),
    "effectifs": ("pages/effectifs.py", "superviseur.rouen"),
    "mes_statistiques": ("pages/mes_statistiques.py", "rouen-a01"),
}


def _shape(filters, by, metrics) -> tuple:
    return (tuple(by), None if metrics is None else tuple(metrics), filters.scope.role)


@pytest.fixture(scope="module")
def bench_calls(demo_db_url):
    """Per page, the distinct (by, metrics, scope role) of bench/pages.py's default view."""
    ctx = bench_pages.Context(demo_db_url)
    return {page: {_shape(f, by, metrics) for f, by, _, metrics in calls}
            for page, calls in bench_pages.page_calls(ctx, "default").items()}


def test_every_benchmarked_page_is_checked(bench_calls):
    assert set(bench_calls) == set(PAGES)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_a_page_makes_the_calls_the_benchmark_times(page, bench_calls, demo_db_url,
                                                   monkeypatch):
    seen: set[tuple] = set()
    kpis, live = cache.kpis, cache.kpis_live

    def spy_kpis(url, filters, by=(), overrides=None, metrics=None):
        seen.add(_shape(filters, by, metrics))
        return kpis(url, filters, by, overrides, metrics)

    def spy_live(url, filters, by=(), metrics=None):
        seen.add(_shape(filters, by, metrics))
        return live(url, filters, by, metrics)

    monkeypatch.setattr(cache, "kpis", spy_kpis)
    monkeypatch.setattr(cache, "kpis_live", spy_live)
    monkeypatch.setenv("DASHBOARD_DB_URL", demo_db_url)
    monkeypatch.setenv("DASHBOARD_AUTH_MODE", "demo")
    view, login = PAGES[page]
    if login.startswith("superviseur."):
        # bench/pages.py takes the busiest site's supervisor (its thresholds set what the
        # day's alerts read).
        login = f"superviseur.{bench_pages.busiest_site(demo_db_url)}"
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["demo_user"] = login
    at.run()  # the role's home page
    st.cache_data.clear()
    seen.clear()
    at.switch_page(str(ROOT / view)).run()
    assert not at.exception, at.exception
    assert seen, f"{view} made no engine call"
    assert seen == bench_calls[page]
