"""Identity modes: the trusted header, OpenID Connect without configuration, and the demo
mode offered on the demo database only.

AppTest cannot send headers (`st.context.headers` is empty under it), so the header tests
give Streamlit's context the headers of a request, the way a reverse proxy would.
"""

from __future__ import annotations

import pytest
from streamlit.runtime.context import ContextProxy, StreamlitHeaders

from dashboard.core.access import User
from dashboard.store import database as dbmod
from dashboard.store import reference
from dashboard.store import users as users_mod
from dashboard.ui import identity
from tests.test_access import DENIED, app, figures_shown

HEADER = identity.DEFAULT_AUTH_HEADER


# ----------------------------------------------------------------- the header, pure


@pytest.mark.parametrize(
    ("headers", "login"),
    [
        ({HEADER: "superviseur.rouen"}, "superviseur.rouen"),
        ({HEADER.lower(): "  directeur \t"}, "directeur"),
        ({HEADER: "   "}, None),
        ({HEADER: ""}, None),
        ({}, None),
        ({"X-Remote-User": "admin"}, None),
    ],
)
def test_login_from_headers(headers, login):
    assert identity.login_from_headers(headers, HEADER) == login


def test_login_from_streamlit_headers_refuses_a_repeated_header():
    once = StreamlitHeaders([(HEADER, "directeur"), ("Host", "x")])
    assert identity.login_from_headers(once, HEADER.upper()) == "directeur"
    # A client's own copy next to the proxy's: Streamlit's .get() would pick the last.
    twice = StreamlitHeaders([(HEADER, "directeur"), (HEADER.lower(), "admin")])
    assert identity.login_from_headers(twice, HEADER) is None


# ------------------------------------------------------------ the header, end to end


@pytest.fixture
def request_headers(monkeypatch):
    """Set the headers of the request the app sees: call with a list of (name, value)."""
    monkeypatch.delenv("DASHBOARD_AUTH_HEADER", raising=False)
    def give(pairs: list[tuple[str, str]]) -> None:
        monkeypatch.setattr(ContextProxy, "headers",
                            property(lambda self: StreamlitHeaders(pairs)))
    return give


def _caption(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def test_header_mode_takes_the_login_from_the_header(monkeypatch, demo_db_url,
                                                      request_headers):
    request_headers([(HEADER, "superviseur.rouen")])
    at = app(monkeypatch, demo_db_url, mode="header").run()
    assert not at.exception
    assert "Superviseur de site" in _caption(at)
    assert not [w for w in at.sidebar.selectbox if w.key == "demo_user"]


def test_header_mode_with_another_header_name(monkeypatch, demo_db_url, request_headers):
    monkeypatch.setenv("DASHBOARD_AUTH_HEADER", "X-Remote-User")
    request_headers([("X-Remote-User", "directeur"), (HEADER, "admin")])
    at = app(monkeypatch, demo_db_url, mode="header").run()
    assert "Direction nationale" in _caption(at)


@pytest.mark.parametrize("pairs", [[], [(HEADER, "nobody")], [(HEADER, "")],
                                   [(HEADER, "directeur"), (HEADER, "admin")]])
def test_header_mode_without_a_known_login_gives_no_access(monkeypatch, demo_db_url,
                                                           request_headers, pairs):
    request_headers(pairs)
    at = app(monkeypatch, demo_db_url, "admin", mode="header").run()  # ?demo_user ignored
    assert not at.exception
    assert at.title[0].value == DENIED
    assert figures_shown(at) == 0


def test_demo_mode_ignores_the_header(monkeypatch, demo_db_url, request_headers):
    request_headers([(HEADER, "admin")])
    at = app(monkeypatch, demo_db_url, "rouen-a01", mode="demo").run()
    assert not at.exception
    assert at.title[0].value == "Mes statistiques"
    assert "Agent" in _caption(at) and "Administrateur" not in _caption(at)


# ---------------------------------------------------------------------------- OIDC


def test_oidc_without_login_shows_the_button_and_no_figure(monkeypatch, demo_db_url,
                                                            request_headers):
    """No [auth] section is configured here: the page offers to log in, shows nothing
    else, and neither a header nor ?demo_user= stands in for the login."""
    request_headers([(HEADER, "admin")])
    at = app(monkeypatch, demo_db_url, "admin", mode="oidc")
    at.user = {}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Se connecter"]
    assert figures_shown(at) == 0
    assert not at.sidebar.caption


def test_oidc_logged_in_user_is_looked_up_by_claim(monkeypatch, demo_db_url, request_headers):
    request_headers([(HEADER, "admin")])
    at = app(monkeypatch, demo_db_url, mode="oidc")
    at.user = {"is_logged_in": True, "email": "rouen-a01"}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Mes statistiques"
    assert "Agent" in _caption(at)


def test_oidc_logged_in_but_unknown_gives_no_access(monkeypatch, demo_db_url):
    at = app(monkeypatch, demo_db_url, mode="oidc")
    at.user = {"is_logged_in": True, "email": "someone@example.org"}
    at.run()
    assert at.title[0].value == DENIED
    assert figures_shown(at) == 0


# ----------------------------------------------------------- the demo database marker


def test_the_demo_database_gets_demo_mode_by_itself(monkeypatch, demo_db_url):
    at = app(monkeypatch, demo_db_url, "rouen-a01", mode=None).run()
    assert not at.exception
    assert [w for w in at.sidebar.selectbox if w.key == "demo_user"]
    assert at.title[0].value == "Mes statistiques"


def test_another_database_gets_no_mode_by_itself(monkeypatch, sqlite_url):
    dbmod.upgrade(sqlite_url)
    engine = dbmod.get_engine(sqlite_url)
    reference.load_reference(engine)
    with engine.begin() as conn:
        users_mod.save_user(conn, User("directeur", "national"))
    at = app(monkeypatch, sqlite_url, "directeur", mode=None).run()
    assert not at.exception
    assert at.title[0].value == DENIED
    assert "Aucun mode d'identification" in at.error[0].value
    assert not at.sidebar.selectbox
    assert figures_shown(at) == 0
