"""Who sees what, end to end under Streamlit's AppTest on the demo database.

For each role: the navigation offers exactly the role's pages, every one of them renders
and shows no one it should not (agents' ids and names are looked for in every rendered
element, chart data and CSV download), and every figure is read with the user's own
scope. Tampered query parameters and session state never widen it.

The demo's user picker (sidebar, demo mode only) lists every login by design: the demo
lets anyone be anyone. It is the one element left out of the "nobody else" search.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import streamlit
from google.protobuf import text_format
from google.protobuf.descriptor import FieldDescriptor
from sqlalchemy import func, select
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard.core.access import Scope, User, scope_for
from dashboard.core.filters import Filters
from dashboard.engine import kpis as engine_mod
from dashboard.engine import team
from dashboard.store import database as dbmod
from dashboard.store import schema
from dashboard.store import users as users_mod
from dashboard.ui import navigation
from queries import contact_rows

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "ui" / "app.py")
TEAM_MODULE = str(Path(team.__file__).resolve())
DENIED = "Accès non autorisé"
LOGINS = {  # role → demo logins tried (both sites where the role has one)
    "agent": ("rouen-a01", "chartres-a01"),
    "supervisor": ("superviseur.rouen", "superviseur.chartres"),
    "national": ("directeur",),
    "admin": ("admin",),
}


# ------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def people(demo_db_url):
    """Users by login and agents as {agent_id: (site, display name)} of the demo database."""
    engine = dbmod.get_engine(demo_db_url)
    with engine.connect() as conn:
        users = {u.login: u for u in users_mod.list_users(conn)}
        agents = {a: (s, n) for a, s, n in conn.execute(
            select(schema.agents.c.agent_id, schema.agents.c.site,
                   schema.agents.c.display_name))}
    for logins in LOGINS.values():
        assert set(logins) <= set(users), "the demo's logins changed: update LOGINS"
    return users, agents


class Seen:
    """What the app read and offered during the runs of one test."""

    def __init__(self) -> None:
        self.reads: list[tuple[Scope | None, bool]] = []  # (scope, through dashboard.engine.team)
        self.navigation: list[list[tuple[str, str]]] = []  # [(section, title)] per run
        self.downloads: list[str] = []
        self.deferred: list = []  # files a download button builds only when clicked

    def scopes(self, *, team_only: bool = False) -> set[Scope | None]:
        return {scope for scope, via_team in self.reads if via_team == team_only}


def _called_from_team() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == TEAM_MODULE:
            return True
        frame = frame.f_back
    return False


@pytest.fixture
def seen(monkeypatch):
    """Spy on the metrics engine, st.navigation and the files offered for download."""
    record = Seen()
    real_compute = engine_mod.compute_kpis

    def compute(engine, filters, *args, **kwargs):
        record.reads.append((filters.scope, _called_from_team()))
        return real_compute(engine, filters, *args, **kwargs)

    monkeypatch.setattr(engine_mod, "compute_kpis", compute)
    monkeypatch.setattr(team, "compute_kpis", compute)
    # The raw rows of the Détail des contacts page are read outside the engine.
    for name in ("read_page", "export_rows", "day_choices"):
        def rows_spy(conn, filters, *args, _real=getattr(contact_rows, name), **kwargs):
            record.reads.append((filters.scope, False))
            return _real(conn, filters, *args, **kwargs)

        monkeypatch.setattr(contact_rows, name, rows_spy)

    real_navigation = streamlit.navigation

    def navigation_spy(pages, *args, **kwargs):
        record.navigation.append(
            [(section, page.title) for section, items in pages.items() for page in items
             if page.visibility == "visible"])  # the menu; hidden: the home at its path
        return real_navigation(pages, *args, **kwargs)

    monkeypatch.setattr(streamlit, "navigation", navigation_spy)

    real_store = MemoryMediaFileStorage.load_and_get_id

    def store(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes):
            record.downloads.append(path_or_data.decode("utf-8", errors="replace"))
        return real_store(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", store)

    real_deferred = MediaFileManager.add_deferred

    def deferred(self, data_callable, *args, **kwargs):
        record.deferred.append(data_callable)
        return real_deferred(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", deferred)
    streamlit.cache_data.clear()  # a cached result would hide its read from the spy
    return record


def app(monkeypatch, url: str, login: str | None = None, mode: str | None = "demo",
        **params: str) -> AppTest:
    """An AppTest of the whole app (not run yet) as LOGIN in demo mode, with PARAMS."""
    monkeypatch.setenv("DASHBOARD_DB_URL", url)
    if mode is None:
        monkeypatch.delenv("DASHBOARD_AUTH_MODE", raising=False)
    else:
        monkeypatch.setenv("DASHBOARD_AUTH_MODE", mode)
    at = AppTest.from_file(APP, default_timeout=120)
    if login is not None:
        at.query_params["demo_user"] = login
    at.query_params.update(params)
    return at


# ------------------------------------------------------------- walking what is shown


def _arrow_texts(data: bytes) -> list[str]:
    try:
        table = pa.ipc.open_stream(data).read_all()
    except (pa.ArrowInvalid, OSError):
        return []
    out = [str(name) for name in table.column_names]
    for column in table.columns:
        out.extend(str(v) for v in column.to_pylist() if v is not None)
    return out


def _proto_texts(message) -> list[str]:
    """Every string of a protobuf message (text format), plus the Arrow tables in it."""
    out = [text_format.MessageToString(message, as_utf8=True)]
    for field, value in message.ListFields():
        repeated = (field.is_repeated if hasattr(field, "is_repeated")
                    else field.label == FieldDescriptor.LABEL_REPEATED)
        values = value if repeated else [value]
        for item in values:
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                out.extend(_proto_texts(item)[1:])
            elif field.type == FieldDescriptor.TYPE_BYTES:
                out.extend(_arrow_texts(item))
    return out


def shown_texts(at: AppTest) -> str:
    """All the text of every rendered element: main area and sidebar, chart specs and
    data, dataframe cells, widget labels and options, except the demo's user picker."""
    out: list[str] = []

    def visit(node) -> None:
        children = getattr(node, "children", None)
        if children:
            for child in children.values():
                visit(child)
            return
        if getattr(node, "key", None) == "demo_user":
            return
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.extend(_proto_texts(proto))

    visit(at.main)
    visit(at.sidebar)
    return "\n".join(out)


def assert_nobody_else(at: AppTest, seen: Seen, forbidden: set[str], where: str) -> None:
    while seen.deferred:  # build the files offered on click, as a click would
        data = seen.deferred.pop()()
        seen.downloads.append(data if isinstance(data, str)
                              else bytes(data).decode("utf-8", errors="replace"))
    shown = shown_texts(at) + "\n".join(seen.downloads)
    leaked = sorted(name for name in forbidden if name in shown)
    assert not leaked, f"{where}: shows {leaked}"


def forbidden_for(user: User, agents: dict[str, tuple[str, str]]) -> set[str]:
    """Agents' ids and names USER may not see."""
    def hide(agent_id: str, site: str) -> bool:
        if user.role == "admin":
            return False
        if user.role == "supervisor":
            return site != user.site
        if user.role == "agent":
            return agent_id != user.agent_id
        return True  # national: pseudonyms only

    out: set[str] = set()
    for agent_id, (site, name) in agents.items():
        if hide(agent_id, site):
            out |= {agent_id, name}
    return out


def assert_scoped(seen: Seen, user: User) -> None:
    """Every figure was read with USER's scope; the agent's team median through
    dashboard.engine.team only, with its own site's scope."""
    own = scope_for(user)
    assert seen.scopes() <= {own}, f"read with {seen.scopes() - {own}}"
    team_scopes = seen.scopes(team_only=True)
    if user.role == "agent":
        assert team_scopes <= {Scope("supervisor", site=user.site)}
    else:
        assert not team_scopes


def figures_shown(at: AppTest) -> int:
    return (len(at.metric) + len(at.dataframe) + len(at.get("vega_lite_chart"))
            + len(at.get("download_button")))


# ------------------------------------------------------------------- every role, page


@pytest.mark.parametrize("login", [login for logins in LOGINS.values() for login in logins])
def test_each_role_gets_its_pages_and_only_in_scope_data(monkeypatch, demo_db_url, people,
                                                         seen, login):
    users, agents = people
    user = users[login]
    pages = navigation.pages_for(user.role)
    assert pages, f"role {user.role} has no page"
    at = app(monkeypatch, demo_db_url, login).run()
    assert not at.exception, at.exception
    assert seen.navigation[-1] == [(p.section, p.title) for p in pages]
    forbidden = forbidden_for(user, agents)
    for page in pages:
        at.switch_page(page.file).run()
        assert not at.exception, f"{page.path}: {at.exception}"
        assert at.title and at.title[0].value != DENIED
        assert_nobody_else(at, seen, forbidden, f"{login} on {page.path}")
    assert seen.reads, "no figure was read at all"
    assert_scoped(seen, user)


@pytest.mark.parametrize("role", ["agent", "supervisor", "national"])
def test_pages_of_other_roles_are_not_registered(monkeypatch, demo_db_url, people, seen, role):
    """A page outside the role's list is not registered with Streamlit at all: its URL
    runs the role's first page instead (here: AppTest cannot even switch to it)."""
    users, _ = people
    own = {p.path for p in navigation.pages_for(role)}
    at = app(monkeypatch, demo_db_url, LOGINS[role][0]).run()
    others = [page for page in navigation.PAGES if page.path not in own]
    for page in others:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page.file)
    assert_scoped(seen, users[LOGINS[role][0]])


def test_agent_page_in_weeks_one_day_one_channel_names_nobody_else(monkeypatch,
                                                                   demo_db_url, people, seen):
    users, agents = people
    user = users["rouen-a01"]
    forbidden = forbidden_for(user, agents)
    contacts = schema.contacts
    with dbmod.get_engine(demo_db_url).connect() as conn:
        worked = conn.execute(select(func.max(contacts.c.local_date)).where(
            contacts.c.agent_id == user.agent_id)).scalar_one()
    day = str(worked)[:10]
    for params in ({"maille": "Semaine"}, {"periode": [day, day]}, {"canal": "Téléphone"},
                   {"canal": "Courriel", "maille": "Semaine"}):
        at = app(monkeypatch, demo_db_url, user.login, **params).run()
        assert not at.exception
        assert at.title[0].value == "Mes statistiques"
        channel = {"Téléphone": ("phone",), "Courriel": ("email",)}.get(params.get("canal"), ())
        assert len(at.get("vega_lite_chart")) == len(team.metrics_for(channel))
        assert_nobody_else(at, seen, forbidden, f"agent page with {params}")
    assert seen.downloads, "the CSV downloads were not captured"
    assert_scoped(seen, user)


@pytest.mark.parametrize("path", [page.path for page in navigation.PAGES])
def test_a_page_opened_without_its_frame_shows_nothing(monkeypatch, demo_db_url, people,
                                                       seen, path):
    """Switching to a page before the frame has ever run (as a first request for a page's
    URL): either the frame runs with the page, or the page shows nothing."""
    users, _ = people
    at = app(monkeypatch, demo_db_url, "admin")
    at.switch_page(str(navigation.ROOT / path))  # before any run: the page's file-name hash
    at.run()
    assert not at.exception
    if [w for w in at.sidebar.selectbox if w.key == "demo_user"]:
        assert_scoped(seen, users["admin"])  # no page of that name: the frame ran
    else:
        assert figures_shown(at) == 0
        assert not seen.reads


# ------------------------------------------------------------------------- tampering


@pytest.mark.parametrize("site", ["chartres", "Chartres"])
def test_a_supervisor_cannot_open_another_site_by_url(monkeypatch, demo_db_url, people, seen,
                                                      site):
    users, agents = people
    user = users["superviseur.rouen"]
    at = app(monkeypatch, demo_db_url, user.login, site=site, dept="28").run()
    assert not at.exception
    assert any("Rouen" in m.value for m in at.sidebar.markdown)
    for page in navigation.pages_for(user.role):
        at.switch_page(page.file).run()
        assert not at.exception
        assert_nobody_else(at, seen, forbidden_for(user, agents), page.path)
    assert_scoped(seen, user)


def test_an_agent_cannot_open_another_agents_figures_by_url(monkeypatch, demo_db_url, people,
                                                            seen):
    users, agents = people
    user = users["rouen-a01"]
    other = "rouen-a02"
    at = app(monkeypatch, demo_db_url, user.login, agent=other, agent_id=other, agents=other,
             site="chartres").run()
    assert not at.exception
    assert at.title[0].value == "Mes statistiques"
    assert_nobody_else(at, seen, forbidden_for(user, agents), "agent page, tampered URL")
    assert_scoped(seen, user)


@pytest.mark.parametrize("login", ["nobody", "ADMIN", ""])
def test_an_unknown_demo_login_gets_no_access_and_no_figure(monkeypatch, demo_db_url, seen,
                                                            login):
    at = app(monkeypatch, demo_db_url, login).run()
    assert not at.exception
    assert at.title[0].value == DENIED
    assert figures_shown(at) == 0
    assert not seen.reads


def test_a_disabled_user_gets_no_access(monkeypatch, demo_db_url, tmp_path, seen):
    copy = tmp_path / "demo.sqlite"
    shutil.copy(demo_db_url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    with dbmod.get_engine(url).begin() as conn:
        users_mod.save_user(conn, User("rouen-a01", "agent", site="rouen",
                                       agent_id="rouen-a01", active=False))
    try:
        at = app(monkeypatch, url, "rouen-a01").run()
        assert at.title[0].value == DENIED
        assert figures_shown(at) == 0
        assert not seen.reads
    finally:
        dbmod.get_engine(url).dispose()


def test_a_user_planted_in_session_state_is_ignored(monkeypatch, demo_db_url, people, seen):
    users, agents = people
    user = users["rouen-a01"]
    at = app(monkeypatch, demo_db_url, user.login)
    at.session_state["_dashboard_user"] = users["admin"]
    at.run()
    assert not at.exception
    assert at.title[0].value == "Mes statistiques"
    assert any("Agent" in c.value for c in at.sidebar.caption)
    assert_nobody_else(at, seen, forbidden_for(user, agents), "planted admin")
    assert_scoped(seen, user)
    # Planted again between runs: the frame sets the run's user anew every time.
    at.session_state["_dashboard_user"] = users["admin"]
    at.run()
    assert_nobody_else(at, seen, forbidden_for(user, agents), "planted admin, rerun")
    assert_scoped(seen, user)


def test_a_planted_user_does_not_survive_an_unknown_login(monkeypatch, demo_db_url, seen):
    at = app(monkeypatch, demo_db_url, "nobody")
    at.session_state["_dashboard_user"] = User("admin", "admin")
    at.run()
    assert at.title[0].value == DENIED
    assert figures_shown(at) == 0
    assert "_dashboard_user" not in at.session_state


@pytest.mark.parametrize("login", ["rouen-a01", "superviseur.rouen"])
def test_filters_planted_in_session_state_do_not_widen_the_scope(monkeypatch, demo_db_url,
                                                                 people, seen, login):
    users, agents = people
    user = users[login]
    wide = Filters(start=dt.date(2015, 1, 1), end=dt.date(2015, 12, 31),
                   scope=Scope("admin"))
    at = app(monkeypatch, demo_db_url, login)
    at.session_state["_dashboard_filters"] = wide
    at.run()
    for page in navigation.pages_for(user.role):
        at.session_state["_dashboard_filters"] = wide
        at.switch_page(page.file).run()
        assert not at.exception
        assert_nobody_else(at, seen, forbidden_for(user, agents), f"planted filters {page.path}")
    assert_scoped(seen, user)


def test_an_agent_without_data_with_planted_filters_reads_only_its_own(monkeypatch,
                                                                       demo_db_url, tmp_path,
                                                                       people, seen):
    """With no data in scope the sidebar draws no period and the page falls back on the
    session's filters: planted ones must still not lend their scope."""
    _, agents = people
    copy = tmp_path / "demo.sqlite"
    shutil.copy(demo_db_url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    newcomer = User("nouveau", "agent", site="rouen", agent_id="rouen-new")
    with dbmod.get_engine(url).begin() as conn:
        users_mod.save_user(conn, newcomer)
    try:
        at = app(monkeypatch, url, "nouveau")
        at.session_state["_dashboard_filters"] = Filters(
            start=dt.date(2015, 1, 1), end=dt.date(2015, 12, 31), scope=Scope("admin"))
        at.run()
        assert not at.exception
        assert_nobody_else(at, seen, forbidden_for(newcomer, agents), "newcomer")
        assert_scoped(seen, newcomer)
    finally:
        dbmod.get_engine(url).dispose()
