"""Who is using the app: the login from OIDC, a trusted header or the demo picker.

Modes (setting DASHBOARD_AUTH_MODE):
- `oidc`: `st.login` / `st.user` against any OpenID Connect provider configured in the
  `[auth]` section of secrets (ProConnect, Keycloak…); the login is the claim named by
  DASHBOARD_OIDC_LOGIN_CLAIM.
- `header`: the login is the value of a header set by an authenticating reverse proxy
  (DASHBOARD_AUTH_HEADER), believed only on a request the proxy vouches for: with its
  shared secret or from its addresses (dashboard/core/proxy_trust.py); with neither
  configured, nobody gets in. Ignored in other modes.
- `demo`: a user picker in the sidebar, kept in the URL as `?demo_user=LOGIN`. Offered
  automatically on the demo database only; elsewhere only when set explicitly.
A login becomes a user only through an active row of the `users` table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

import streamlit as st

from dashboard.core import config, proxy_trust
from dashboard.core.access import Scope, User, scope_for
from dashboard.ui import cache

MODES = ("oidc", "header", "demo")
_USER_KEY = "_dashboard_user"


def auth_mode(url: str) -> str | None:
    """The identity mode in force, or None when no mode can identify anyone."""
    mode = (config.get("DASHBOARD_AUTH_MODE") or "").strip().lower()
    if mode:
        if mode not in MODES:
            raise ValueError(f"DASHBOARD_AUTH_MODE must be one of {', '.join(MODES)}, not {mode!r}")
        return mode
    return "demo" if cache.is_demo_database(url) else None


def _oidc_login() -> str | None:
    if not st.user.get("is_logged_in"):
        st.title("Tableau de bord des centres de contact")
        st.write("Connectez-vous pour accéder au tableau de bord.")
        provider = config.get("DASHBOARD_OIDC_PROVIDER")
        if st.button("Se connecter", type="primary", icon=":material/login:"):
            st.login(provider) if provider else st.login()
        st.stop()
    claim = config.get("DASHBOARD_OIDC_LOGIN_CLAIM") or "email"
    value = st.user.get(claim)
    return str(value) if value else None


DEFAULT_AUTH_HEADER = "X-Forwarded-User"


def header_values(headers: Mapping[str, str], name: str) -> list[str]:
    """Every value of header NAME (any case) in HEADERS, a plain mapping or Streamlit's
    `st.context.headers` (which keeps repeats)."""
    get_all = getattr(headers, "get_all", None)
    if callable(get_all):
        return [v for v in get_all(name) if isinstance(v, str)]
    return [v for k, v in headers.items() if k.lower() == name.lower() and isinstance(v, str)]


def login_from_headers(headers: Mapping[str, str], name: str) -> str | None:
    """The login in header NAME (any case), stripped; None when absent, blank or repeated.

    A repeated header is refused: it means a client's own copy got past the proxy.
    """
    values = header_values(headers, name)
    if len(values) != 1:
        return None
    return values[0].strip() or None


def trusted_login(headers: Mapping[str, str], peer: str | None, name: str,
                  trust: proxy_trust.ProxyTrust) -> str | None:
    """The login in header NAME when TRUST vouches for the request (secret or PEER), else
    None: without the proxy's word, the header is anybody's claim."""
    if not trust.trusts(header_values(headers, proxy_trust.SECRET_HEADER), peer):
        return None
    return login_from_headers(headers, name)


def _refuse(message: str) -> NoReturn:
    st.session_state.pop(_USER_KEY, None)
    st.title("Accès non autorisé")
    st.error(message)
    st.stop()


def _header_login() -> str | None:
    try:
        trust = proxy_trust.from_settings()
    except ValueError as exc:
        _refuse(str(exc))
    if not trust.configured:
        _refuse(proxy_trust.NOT_CONFIGURED)
    name = config.get("DASHBOARD_AUTH_HEADER") or DEFAULT_AUTH_HEADER
    return trusted_login(st.context.headers, st.context.ip_address, name, trust)


def _demo_login(url: str) -> str | None:
    users = cache.active_users(url)
    logins = [u.login for u in users]
    if not logins:
        return None
    default = "directeur" if "directeur" in logins else logins[0]
    # A login in the URL that is no active user (mistyped, removed, disabled) is refused,
    # never swapped for the default user: that would hand it the national view.
    requested = st.query_params.get("demo_user")
    refused = requested is not None and requested not in logins
    # No format_func: a bound widget writes its shown label into the URL, and the URL
    # must carry the login itself (?demo_user=LOGIN).
    login = st.sidebar.selectbox(
        "Utilisateur (démonstration)",
        logins,
        index=None if refused else logins.index(default),
        placeholder="Choisissez un utilisateur",
        key="demo_user",
        bind="query-params",
        help="En démonstration, choisissez qui vous êtes pour voir ce que chaque rôle voit.",
    )
    st.sidebar.warning("**Démonstration** : données simulées, identité choisie librement.",
                       icon=":material/science:")
    if login is None and refused:
        return requested
    return login


def resolve_user(url: str) -> tuple[str | None, User | None]:
    """(mode, user) for this session; user None when nobody or an unknown login is there."""
    mode = auth_mode(url)
    if mode == "oidc":
        login = _oidc_login()
    elif mode == "header":
        login = _header_login()
    elif mode == "demo":
        login = _demo_login(url)
    else:
        login = None
    user = cache.active_user(url, login) if login else None
    return mode, user


def remember(user: User) -> None:
    """Hand this run's user to the page; set on every run, so nothing stale survives."""
    st.session_state[_USER_KEY] = user


def page_user() -> tuple[User, Scope]:
    """The user and scope the app frame identified for this run; stops the page otherwise."""
    user = st.session_state.get(_USER_KEY)
    if not isinstance(user, User):
        st.error("Accès non autorisé.")
        st.stop()
    return user, scope_for(user)
