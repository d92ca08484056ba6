"""Page addresses: every page at its own path, the role's home also at the root, and a
path the role cannot open answered in French with the home, never with Streamlit's
English "Page not found" nor with the other page.

The pure rules are checked against hand-written tables; the frame (dashboard/ui/app.py)
under AppTest, where the browser's first request is played by handing Streamlit the path
the way the browser's rerun message names it (its `page_name`, sent while the browser
knows no page hash yet). tests/browser/test_page_addresses.py does the same for real.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit
from streamlit.commands import navigation as st_navigation
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from dashboard.ui import navigation

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "ui" / "app.py")

# Written out by hand from the access rules (README, "Who sees what"), not from PAGES.
MANAGER_PATHS = {"accueil", "aujourdhui", "campagnes", "actes", "detail", "effectifs"}
OPENS = {
    "agent": {"mes-statistiques"},
    "supervisor": MANAGER_PATHS,
    "national": MANAGER_PATHS | {"bilan"},
    "admin": MANAGER_PATHS | {"bilan", "donnees"},
}
HOME = {"agent": "mes-statistiques", "supervisor": "accueil", "national": "accueil",
        "admin": "accueil"}
TITLES = {"accueil": "Accueil", "aujourdhui": "Aujourd'hui", "campagnes": "Campagnes",
          "actes": "Actes de gestion", "detail": "Détail des contacts",
          "bilan": "Bilan des pilotes", "effectifs": "Effectifs",
          "mes-statistiques": "Mes statistiques", "donnees": "Données"}
LOGIN = {"agent": "rouen-a01", "supervisor": "superviseur.rouen", "national": "directeur",
         "admin": "admin"}
ALL_PATHS = set(TITLES)


# ------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize("role", sorted(OPENS))
def test_the_root_and_the_roles_own_pages_are_not_refused(role):
    assert navigation.refusal(role, "") is None
    for path in OPENS[role]:
        assert navigation.refusal(role, path) is None, path


@pytest.mark.parametrize("role", sorted(OPENS))
def test_pages_of_other_roles_are_refused_as_forbidden(role):
    others = ALL_PATHS - OPENS[role]
    assert others, "every role misses at least one page"
    for path in others:
        assert navigation.refusal(role, path) == navigation.FORBIDDEN_PAGE, path


@pytest.mark.parametrize("path", ["nimportequoi", "ACCUEIL", "accueil2", "pages", "été"])
def test_a_path_that_is_no_page_is_refused_as_unknown(path):
    for role in OPENS:
        assert navigation.refusal(role, path) == navigation.UNKNOWN_PAGE


def test_the_messages_are_french_and_tell_apart_unknown_and_forbidden():
    assert navigation.UNKNOWN_PAGE.startswith("Cette page n'existe pas")
    assert navigation.FORBIDDEN_PAGE.startswith("Cette page n'est pas accessible avec votre rôle")


@pytest.mark.parametrize("role", sorted(OPENS))
def test_the_home_and_the_app_links(role):
    assert navigation.home(role).url_path == HOME[role]
    for page in navigation.pages_for(role):
        # The app's own links (the menu's) keep the root for the home.
        expected = "" if page.url_path == HOME[role] else page.url_path
        assert navigation.page_url(role, page) == expected
    assert {p.url_path for p in navigation.pages_for(role)} == OPENS[role]


@pytest.mark.parametrize("path,ok", [("nimportequoi", True), ("été", True), ("", False),
                                     ("a/b", False), (" x", False), ("x ", False)])
def test_only_paths_streamlit_keeps_as_given_get_a_stand_in(path, ok):
    assert navigation.registrable(path) is ok


# -------------------------------------------------------------------- the frame, AppTest


@pytest.fixture
def spied(monkeypatch):
    """What the frame registered with st.navigation per run, and how often Streamlit
    told the browser that a page was not found."""
    record = {"navigation": [], "not_found": 0}
    real_navigation = streamlit.navigation

    def navigation_spy(pages, *args, **kwargs):
        record["navigation"].append(
            [(section, p.title, p.url_path, p.visibility, str(p._page))
             for section, items in pages.items() for p in items])
        return real_navigation(pages, *args, **kwargs)

    real_not_found = st_navigation.send_page_not_found

    def not_found_spy(ctx):
        record["not_found"] += 1
        real_not_found(ctx)

    monkeypatch.setattr(streamlit, "navigation", navigation_spy)
    monkeypatch.setattr(st_navigation, "send_page_not_found", not_found_spy)
    return record


def opened_at(monkeypatch, url: str, role: str, path: str) -> AppTest:
    """The app as ROLE's demo login after a browser opened /PATH: the browser names the
    path while it knows no page hash (its first request), then the page's hash."""
    real = PagesManager.set_script_intent

    def intent(self, page_script_hash, page_name):
        real(self, page_script_hash, page_name if page_script_hash else path)

    monkeypatch.setattr(PagesManager, "set_script_intent", intent)
    monkeypatch.setenv("DASHBOARD_DB_URL", url)
    monkeypatch.setenv("DASHBOARD_AUTH_MODE", "demo")
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["demo_user"] = LOGIN[role]
    at.run()
    assert not at.exception, at.exception
    return at


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def notices(at: AppTest) -> list[str]:
    """The frame's refusals shown in the main area (pages have warnings of their own)."""
    return [w.value for w in at.main.warning
            if w.value in (navigation.UNKNOWN_PAGE, navigation.FORBIDDEN_PAGE)]


@pytest.mark.parametrize("role", sorted(OPENS))
def test_the_menu_offers_the_roles_pages_and_hides_only_the_home_at_its_path(
        monkeypatch, demo_db_url, spied, role):
    opened_at(monkeypatch, demo_db_url, role, "")
    registered = spied["navigation"][-1]
    visible = [(path, title) for _, title, path, vis, _ in registered if vis == "visible"]
    hidden = [(path, title, file) for _, title, path, vis, file in registered if vis == "hidden"]
    home = navigation.home(role)
    expected = sorted([("", TITLES[HOME[role]])]
                      + [(p, TITLES[p]) for p in OPENS[role] - {HOME[role]}])
    assert sorted(visible) == expected
    assert hidden == [(HOME[role], TITLES[HOME[role]], home.file)]
    assert spied["not_found"] == 0


@pytest.mark.parametrize("role,path", [("agent", ""), ("agent", "mes-statistiques"),
                                       ("supervisor", ""), ("supervisor", "accueil"),
                                       ("supervisor", "effectifs"), ("national", "bilan"),
                                       ("admin", "donnees")])
def test_a_page_opens_at_its_own_path_and_the_home_at_the_root(
        monkeypatch, demo_db_url, spied, role, path):
    at = opened_at(monkeypatch, demo_db_url, role, path)
    assert titles(at) == [TITLES[path or HOME[role]]]
    assert not notices(at)
    assert spied["not_found"] == 0


@pytest.mark.parametrize("role,path,message", [
    ("agent", "nimportequoi", navigation.UNKNOWN_PAGE),
    ("supervisor", "nimportequoi", navigation.UNKNOWN_PAGE),
    ("agent", "donnees", navigation.FORBIDDEN_PAGE),
    ("agent", "accueil", navigation.FORBIDDEN_PAGE),
    ("supervisor", "bilan", navigation.FORBIDDEN_PAGE),
    ("admin", "mes-statistiques", navigation.FORBIDDEN_PAGE),
])
def test_a_path_the_role_cannot_open_shows_the_message_and_the_home(
        monkeypatch, demo_db_url, spied, role, path, message):
    at = opened_at(monkeypatch, demo_db_url, role, path)
    assert notices(at) == [message]
    assert titles(at) == [TITLES[HOME[role]]]
    assert spied["not_found"] == 0
    # The stand-in at that path runs the home's file: the other page is never registered.
    (stand_in,) = [r for r in spied["navigation"][-1] if r[2] == path]
    assert stand_in[3] == "hidden" and stand_in[4] == navigation.home(role).file
    registered_files = {r[4] for r in spied["navigation"][-1]}
    assert registered_files == {p.file for p in navigation.pages_for(role)}
    # The next run (a filter changed) names the page by its hash: the home, no message.
    at.run()
    assert not at.exception
    assert titles(at) == [TITLES[HOME[role]]]
    assert not notices(at)
    assert spied["not_found"] == 0


def test_a_path_streamlit_cannot_register_falls_back_on_streamlit(monkeypatch, demo_db_url,
                                                                   spied):
    """A crafted message naming "a/b" (no browser sends it: the server has no page there)
    gets no stand-in; Streamlit then runs the home and reports the page as not found."""
    at = opened_at(monkeypatch, demo_db_url, "agent", "a/b")
    assert titles(at) == ["Mes statistiques"]
    assert not notices(at)
    assert spied["not_found"] == 1


def test_the_readme_gives_every_pages_address():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for page in navigation.PAGES:
        assert f"`/{page.url_path}`" in readme, page.url_path
