"""Identity modes: the trusted header (believed only from the proxy: its secret or its
addresses), OpenID Connect without configuration, and the demo mode offered on the demo
database only.

AppTest cannot send headers (`st.context.headers` is empty under it), so the header tests
give Streamlit's context the headers and peer address of a request, the way a reverse
proxy would.
"""

from __future__ import annotations

import ipaddress

import pytest
from streamlit.runtime.context import ContextProxy, StreamlitHeaders

from dashboard.core import proxy_trust
from dashboard.core.access import User
from dashboard.core.proxy_trust import SECRET_HEADER, ProxyTrust, parse_addresses
from dashboard.store import database as dbmod
from dashboard.store import reference
from dashboard.store import users as users_mod
from dashboard.ui import identity
from tests.test_access import DENIED, app, figures_shown

HEADER = identity.DEFAULT_AUTH_HEADER
SECRET = "s3cret-of-the-proxy-0123456789"


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


# ---------------------------------------------------- whom header mode believes, pure


def _nets(*items: str):
    return tuple(ipaddress.ip_network(i) for i in items)


@pytest.mark.parametrize(("values", "trusted"), [
    ([SECRET], True),
    ([f"  {SECRET} "], True),          # stray spaces from a proxy line are no other secret
    ([SECRET[:-1]], False),            # a prefix of the secret
    ([SECRET + "x"], False),
    ([SECRET.upper()], False),
    ([""], False),
    ([], False),                       # missing
    ([SECRET, SECRET], False),         # repeated: a client copy got through
    ([SECRET, "guess"], False),
])
def test_the_secret_must_be_sent_once_and_exactly(values, trusted):
    assert ProxyTrust(secret=SECRET).trusts(values, "203.0.113.9") is trusted


@pytest.mark.parametrize(("peer", "trusted"), [
    ("10.0.0.2", True),                # listed address
    ("192.168.7.130", True),           # inside the listed /25
    ("192.168.7.127", False),          # just below it
    ("192.168.7.200", True),
    ("::ffff:10.0.0.2", True),         # the same IPv4 peer seen on an IPv6 socket
    ("fd00::5", True),                 # inside fd00::/64
    ("fd00:0:0:1::5", False),
    ("10.0.0.3", False),
    ("not-an-ip", False),
    ("", False),
])
def test_addresses_and_networks(peer, trusted):
    trust = ProxyTrust(networks=_nets("10.0.0.2/32", "192.168.7.128/25", "fd00::/64"))
    assert trust.trusts([], peer) is trusted


def test_an_unknown_peer_counts_as_loopback_only_when_loopback_is_listed():
    # Streamlit's st.context.ip_address is None for 127.0.0.1 and ::1.
    assert ProxyTrust(networks=_nets("127.0.0.1/32")).trusts([], None)
    assert ProxyTrust(networks=_nets("::1/128")).trusts([], None)
    assert not ProxyTrust(networks=_nets("10.0.0.0/8")).trusts([], None)


def test_the_secret_or_the_address_either_suffices():
    trust = ProxyTrust(secret=SECRET, networks=_nets("10.0.0.2/32"))
    assert trust.trusts([SECRET], "203.0.113.9")
    assert trust.trusts([], "10.0.0.2")
    assert trust.trusts(["wrong"], "10.0.0.2")
    assert not trust.trusts(["wrong"], "203.0.113.9")


def test_no_configuration_trusts_nobody():
    trust = ProxyTrust()
    assert not trust.configured
    assert not trust.trusts([""], None)
    assert not trust.trusts(["anything"], "127.0.0.1")


def test_addresses_are_parsed_from_a_comma_separated_list():
    assert parse_addresses(" 10.0.0.2, 192.168.7.0/24 ,,") == _nets("10.0.0.2/32",
                                                                     "192.168.7.0/24")
    assert parse_addresses("") == () and parse_addresses(None) == ()
    with pytest.raises(ValueError, match="'proxy.local' n'est ni une adresse IP"):
        parse_addresses("10.0.0.2, proxy.local")


def test_the_settings_give_the_trust(monkeypatch):
    monkeypatch.delenv(proxy_trust.WORKER_SECRET_ENV, raising=False)
    monkeypatch.delenv("DASHBOARD_AUTH_PROXY_SECRET", raising=False)
    monkeypatch.delenv("DASHBOARD_AUTH_PROXY_ADDRESSES", raising=False)
    assert proxy_trust.from_settings() == ProxyTrust()
    monkeypatch.setenv("DASHBOARD_AUTH_PROXY_SECRET", SECRET)
    monkeypatch.setenv("DASHBOARD_AUTH_PROXY_ADDRESSES", "10.0.0.2")
    assert proxy_trust.from_settings() == ProxyTrust(SECRET, _nets("10.0.0.2/32"))
    # In a worker behind the sticky proxy, only the sticky proxy's own secret counts.
    monkeypatch.setenv(proxy_trust.WORKER_SECRET_ENV, "of-this-run")
    assert proxy_trust.from_settings() == ProxyTrust(secret="of-this-run")


def test_the_login_header_counts_only_when_the_proxy_vouches():
    trust = ProxyTrust(secret=SECRET)
    sent = StreamlitHeaders([(HEADER, "admin"), (SECRET_HEADER, SECRET)])
    assert identity.trusted_login(sent, "203.0.113.9", HEADER, trust) == "admin"
    forged = StreamlitHeaders([(HEADER, "admin"), (SECRET_HEADER, "guess")])
    assert identity.trusted_login(forged, "203.0.113.9", HEADER, trust) is None
    bare = {HEADER: "admin"}
    assert identity.trusted_login(bare, "203.0.113.9", HEADER, trust) is None
    assert identity.trusted_login(bare, "203.0.113.9", HEADER, ProxyTrust()) is None


# ------------------------------------------------------------ the header, end to end


@pytest.fixture
def request_headers(monkeypatch):
    """Set the headers of the request the app sees: call with a list of (name, value);
    the proxy's secret is configured, and sent too unless SECRET is False."""
    monkeypatch.delenv("DASHBOARD_AUTH_HEADER", raising=False)
    monkeypatch.delenv("DASHBOARD_AUTH_PROXY_ADDRESSES", raising=False)
    monkeypatch.delenv(proxy_trust.WORKER_SECRET_ENV, raising=False)
    monkeypatch.setenv("DASHBOARD_AUTH_PROXY_SECRET", SECRET)

    def give(pairs: list[tuple[str, str]], secret: bool = True, peer: str | None = None) -> None:
        sent = [*pairs, (SECRET_HEADER, SECRET)] if secret else list(pairs)
        monkeypatch.setattr(ContextProxy, "headers",
                            property(lambda self: StreamlitHeaders(sent)))
        monkeypatch.setattr(ContextProxy, "ip_address", property(lambda self: peer))
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


def test_header_mode_without_the_proxys_secret_gives_no_access(monkeypatch, demo_db_url,
                                                              request_headers):
    request_headers([(HEADER, "admin")], secret=False, peer="203.0.113.9")
    at = app(monkeypatch, demo_db_url, mode="header").run()
    assert not at.exception
    assert at.title[0].value == DENIED
    assert "Administrateur" not in _caption(at)
    assert figures_shown(at) == 0


def test_header_mode_with_a_wrong_secret_gives_no_access(monkeypatch, demo_db_url,
                                                        request_headers):
    request_headers([(HEADER, "admin"), (SECRET_HEADER, "guess")], secret=False)
    at = app(monkeypatch, demo_db_url, mode="header").run()
    assert at.title[0].value == DENIED
    assert figures_shown(at) == 0


def test_header_mode_believes_a_listed_proxy_address(monkeypatch, demo_db_url,
                                                     request_headers):
    monkeypatch.delenv("DASHBOARD_AUTH_PROXY_SECRET")
    monkeypatch.setenv("DASHBOARD_AUTH_PROXY_ADDRESSES", "10.0.0.0/24")
    request_headers([(HEADER, "directeur")], secret=False, peer="10.0.0.7")
    at = app(monkeypatch, demo_db_url, mode="header").run()
    assert "Direction nationale" in _caption(at)

    request_headers([(HEADER, "directeur")], secret=False, peer="10.0.1.7")
    at = app(monkeypatch, demo_db_url, mode="header").run()
    assert at.title[0].value == DENIED
    assert figures_shown(at) == 0


def test_header_mode_with_no_proxy_configured_refuses_and_says_what_to_set(
        monkeypatch, demo_db_url, request_headers):
    request_headers([(HEADER, "admin")])
    monkeypatch.delenv("DASHBOARD_AUTH_PROXY_SECRET")
    at = app(monkeypatch, demo_db_url, mode="header").run()
    assert not at.exception
    assert at.title[0].value == DENIED
    message = at.error[0].value
    assert "DASHBOARD_AUTH_PROXY_SECRET" in message
    assert "DASHBOARD_AUTH_PROXY_ADDRESSES" in message
    assert figures_shown(at) == 0
    assert not at.sidebar.caption


def test_header_mode_with_a_bad_proxy_address_says_so_in_one_line(monkeypatch, demo_db_url,
                                                                  request_headers):
    request_headers([(HEADER, "admin")])
    monkeypatch.setenv("DASHBOARD_AUTH_PROXY_ADDRESSES", "10.0.0.300")
    at = app(monkeypatch, demo_db_url, mode="header").run()
    assert not at.exception
    assert at.title[0].value == DENIED
    assert "'10.0.0.300' n'est ni une adresse IP" in at.error[0].value
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
