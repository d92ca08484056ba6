"""Imported values are shown as text: every page, under AppTest, on a demo database whose
names and labels were replaced by Markdown and HTML, writes them escaped (md_text) and
never as a link, emphasis, colour, icon, formula or tag; and the Données page serves a
quarantine file only from the quarantine folder.

What Streamlit makes of an escaped string was checked in Chromium when md_text was
written (each value below rendered with no <a>, <strong>, <em>, <img>, KaTeX or icon
element, and its text as given); here the test reads the Markdown the pages send.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from google.protobuf.message import Message
from sqlalchemy import insert, text
from streamlit.testing.v1 import AppTest

from dashboard.core.access import User
from dashboard.core.formatting import WORD_JOINER, md_text
from dashboard.store import database as dbmod
from dashboard.store import reference, schema
from dashboard.ui import navigation
from queries import imports
from tests.apptest import open_page

ROOT = Path(__file__).resolve().parent.parent

NAME = "**x** [clic](http://evil.example)"  # every user's and agent's display name
TEAM = "_t_"
SITE = "<img src=x onerror=alert(1)>"  # Rouen's name
OTHER_SITE = "[a](http://b) ~~s~~"  # Chartres' name
QUEUE = "[a](http://b) :red[x]"  # the "particuliers" queue
ACT_TYPE = ":red[x] [a](http://b)"  # every act's type
DEPT_60 = "$x$ :material/home: a@b.example"  # Oise, the first département covered
DEPT_04 = "# t | `c` www.evil.example"  # Alpes-de-Haute-Provence, covered from April 2015
CAMPAIGN = "**c** :blue[camp]"  # the 2015 declaration campaign
FILE = "**f** [x](http://evil.example).csv"  # an import's file name
# Markup from those values, one piece each, that must never reach a Markdown string raw.
RAW = ["**x**", "](http", "http://", "<img", "_t_", "~~s~~", ":red[x]", "$x$",
       ":material/home:", "a@b.example", "`c`", "www.evil", "**c**", ":blue[camp]", "**f**"]

# Element types whose strings are not Markdown: HTML (the banner escapes its own), charts
# (Vega-Lite text and accessible names), tables, and the options of select boxes, which
# Streamlit shows as plain text (checked in Chromium too).
PLAIN_TYPES = {"html", "vega_lite_chart", "arrow_data_frame", "dataframe", "arrow_table"}
# Fields of the other elements that Streamlit renders as Markdown.
MARKDOWN_FIELDS = {"body", "label", "help", "content", "caption"}

PAGES = {role: [p.path for p in navigation.pages_for(role)]
         for role in ("admin", "supervisor", "agent")}


@pytest.fixture(scope="module")
def hostile_url(demo_db_url, tmp_path_factory):
    """A copy of the demo database whose imported names and labels are Markdown and HTML."""
    copy = tmp_path_factory.mktemp("hostile") / "hostile.sqlite"
    shutil.copyfile(demo_db_url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    with dbmod.get_engine(url).begin() as conn:
        conn.execute(text("UPDATE users SET display_name = :v"), {"v": NAME})
        conn.execute(text("UPDATE agents SET display_name = :v, team = :t"),
                     {"v": NAME, "t": TEAM})
        for code, name in (("rouen", SITE), ("chartres", OTHER_SITE)):
            conn.execute(text("UPDATE sites SET name = :v WHERE code = :c"), {"v": name, "c": code})
        for code, name in (("60", DEPT_60), ("04", DEPT_04)):
            conn.execute(text("UPDATE departments SET name = :v WHERE code = :c"),
                         {"v": name, "c": code})
        conn.execute(text("UPDATE campaigns SET name = :v WHERE name = :old"),
                     {"v": CAMPAIGN, "old": "Campagne déclarative 2015"})
        # The raw rows and every rollup that keeps them, so that both roads agree.
        for table in schema.metadata.sorted_tables:
            if "queue" in table.c:
                conn.execute(table.update().where(table.c.queue == "particuliers")
                             .values(queue=QUEUE))
            if "act_type" in table.c:
                conn.execute(table.update().values(act_type=ACT_TYPE))
        conn.execute(insert(schema.imports).values(
            kind="contacts", source="acd", file_name=FILE, started_at=dt.datetime(2016, 1, 4, 8),
            finished_at=dt.datetime(2016, 1, 4, 8, 1), rows_read=10, rows_inserted=7,
            rows_rejected=3, status="partial", message=NAME,
            quarantine_path=f"/nowhere/{FILE}"))
    with dbmod.get_engine(url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM campaigns WHERE name = :v"),
                            {"v": CAMPAIGN}).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM contacts WHERE queue = :v"),
                            {"v": QUEUE}).scalar_one() > 0
    yield url
    dbmod.get_engine(url).dispose()


def _strings(message: Message, name: str = ""):
    """Every (field name, string) of a protobuf message, nested messages included."""
    for field, value in message.ListFields():
        values = value if isinstance(value, (list, tuple)) or (
            hasattr(value, "__len__") and not isinstance(value, (str, bytes, Message))) \
            else [value]
        for item in values:
            if isinstance(item, Message):
                yield from _strings(item, field.name)
            elif isinstance(item, str):
                yield field.name, item


def markdown_strings(at: AppTest) -> list[tuple[str, str]]:
    """(element type, text) of every string of the page that Streamlit renders as Markdown:
    bodies, labels, help tooltips, button-group options, in the main area and sidebar."""
    out = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if not isinstance(proto, Message) or node.type in PLAIN_TYPES:
            continue
        out += [(node.type, s) for name, s in _strings(proto) if name in MARKDOWN_FIELDS]
    return out


def shown(markdown: str) -> str:
    """The text a reader sees of MARKDOWN made of text and backslash escapes only."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


def unescaped(markdown: str) -> str:
    """MARKDOWN with each backslash-escaped character masked: what is left can be markup."""
    return re.sub(r"\\.", "\0", markdown, flags=re.DOTALL)


def assert_text_only(at: AppTest) -> list[str]:
    """No raw markup of the hostile values anywhere; returns the Markdown strings."""
    assert not at.exception, at.exception
    strings = markdown_strings(at)
    assert strings, "no Markdown found: the walk over the page is broken"
    for kind, value in strings:
        for raw in RAW:
            assert raw not in unescaped(value), f"{kind} writes {raw!r} unescaped: {value!r}"
    return [s for _, s in strings]


def assert_shown(strings: list[str], value: str) -> None:
    """VALUE is written, escaped, in one of the page's Markdown strings."""
    assert any(md_text(value) in s and value in shown(s) for s in strings), \
        f"{value!r} is not shown as text: {strings}"


def _agent_login(url: str) -> str:
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(text("SELECT login FROM users WHERE role = 'agent' AND "
                                 "site = 'rouen' ORDER BY login LIMIT 1")).scalar_one()


@pytest.mark.parametrize("page", PAGES["admin"])
def test_every_page_shows_names_as_text_to_an_admin(monkeypatch, hostile_url, page):
    at = open_page(monkeypatch, hostile_url, page, "admin")
    strings = assert_text_only(at)
    # The sidebar's "who am I", on every page.
    assert any(s.startswith(md_text(NAME) + " · ") for s in strings)


@pytest.mark.parametrize("page", PAGES["supervisor"])
def test_every_page_shows_names_as_text_to_a_supervisor(monkeypatch, hostile_url, page):
    at = open_page(monkeypatch, hostile_url, page, "superviseur.rouen")
    strings = assert_text_only(at)
    assert f"**Site** : {md_text(SITE)}" in [m.value for m in at.sidebar.markdown]
    assert_shown(strings, NAME)
    assert_shown(strings, SITE)


def test_mes_statistiques_shows_names_as_text_to_an_agent(monkeypatch, hostile_url):
    at = open_page(monkeypatch, hostile_url, "pages/mes_statistiques.py",
                   _agent_login(hostile_url))
    strings = assert_text_only(at)
    caption = at.main.caption[0].value
    assert caption.startswith(f"{md_text(NAME)} · équipe de {md_text(SITE)} · ")
    assert shown(caption).startswith(f"{NAME} · équipe de {SITE} · ")
    assert any(md_text(SITE) in m.value for m in at.main.markdown)
    assert len(strings) > 5


@pytest.mark.parametrize("page, value", [
    ("pages/accueil.py", DEPT_60),  # the coverage reading names the first département
    ("pages/accueil.py", SITE),
    ("pages/effectifs.py", OTHER_SITE),  # the team reading names each site
    ("pages/aujourdhui.py", OTHER_SITE),  # "jeudi 31/12/2015 · Chartres, Rouen"
    ("pages/detail.py", SITE),
    ("pages/actes.py", ACT_TYPE),  # the reading names the most frequent act type
])
def test_readings_and_captions_name_imported_values_as_text(monkeypatch, hostile_url, page,
                                                            value):
    at = open_page(monkeypatch, hostile_url, page, "admin", periode=["2015-03-01", "2015-12-31"])
    assert_shown(assert_text_only(at), value)


def test_a_campaign_name_is_shown_as_text(monkeypatch, hostile_url):
    at = open_page(monkeypatch, hostile_url, "pages/campagnes.py", "superviseur.rouen",
                   campagne=CAMPAIGN)
    assert at.selectbox(key="campagne").value == CAMPAIGN
    strings = assert_text_only(at)
    assert at.main.caption[0].value.endswith(f" · {md_text(CAMPAIGN)}")
    assert_shown(strings, CAMPAIGN)


def test_a_departement_not_yet_covered_is_named_as_text(monkeypatch, hostile_url):
    at = open_page(monkeypatch, hostile_url, "pages/aujourdhui.py", "superviseur.rouen",
                   jour="2015-03-16")
    at.multiselect(key="dept").set_value(["04"]).run()
    assert_text_only(at)
    message = at.info[0].value
    assert f"04 {md_text(DEPT_04)} n'est couvert qu'à partir du 01/04/2015" in message
    assert f"04 {DEPT_04} n'est couvert" in shown(message)


def test_the_imports_page_shows_a_file_name_and_path_as_text(monkeypatch, hostile_url):
    at = open_page(monkeypatch, hostile_url, "pages/donnees.py", "admin")
    assert_text_only(at)
    assert at.selectbox(key="quarantine-import").value is not None
    (warning,) = [w.value for w in at.warning if "dossier des rejets" in w.value]
    assert md_text(f"/nowhere/{FILE}") in warning


def test_the_banner_escapes_the_site_name_as_html(monkeypatch, hostile_url):
    at = open_page(monkeypatch, hostile_url, "pages/accueil.py", "superviseur.rouen")
    (banner,) = [h.proto.body for h in at.get("html") if "cc-banner" in h.proto.body]
    assert "&lt;img src=x onerror=alert(1)&gt;" in banner and "<img" not in banner


# -- md_text ------------------------------------------------------------------------------

WJ = WORD_JOINER


@pytest.mark.parametrize("value, expected", [
    ("Rouen", "Rouen"),
    ("Eure-et-Loir", "Eure-et-Loir"),  # a hyphen inside a line is no markup
    ("Val-d'Oise (95)", "Val-d'Oise (95)"),
    ("**x** [clic](http://evil.example)", f"\\*\\*x\\*\\* \\[clic\\](http\\:{WJ}//evil.example)"),
    ("_t_", "\\_t\\_"),
    ("<img src=x onerror=alert(1)>", "\\<img src=x onerror=alert(1)\\>"),
    (":red[x]", "\\:red\\[x\\]"),
    (":material/home:", f"\\:{WJ}material/home\\:"),
    (":material_home:", f"\\:{WJ}material\\_home\\:"),
    (":streamlit:", f"\\:{WJ}streamlit\\:"),
    ("$x$", "\\$x\\$"),
    ("~~d~~", "\\~\\~d\\~\\~"),
    ("`c`", "\\`c\\`"),
    ("a | b # c", "a \\| b \\# c"),
    ("{#id}", "\\{\\#id\\}"),
    ("&amp;", "\\&amp;"),
    ("www.evil.example", f"www{WJ}.evil.example"),
    ("a@b.example", f"a@{WJ}b.example"),
    ("- item", "\\- item"),
    ("+ item", "\\+ item"),
    ("12. x", "12\\. x"),
    ("3) x", "3\\) x"),
    ("a - b 1. c", "a - b 1. c"),  # only the start of a line starts a list
    ("a\\*b", "a\\\\\\*b"),
    ("a\n\n# b\r\nc", "a \\# b c"),
    ("  x ", "x"),
    ("", ""),
    (None, ""),
    (42, "42"),
])
def test_md_text(value, expected):
    assert md_text(value) == expected


def test_md_text_keeps_the_text_a_reader_sees():
    for value in ["**x** [clic](http://evil.example)", "<img src=x>", ":red[x] $y$",
                  "a\\*b", "- + 1. ` ~ | # { } &", "Saint-Étienne", "1 234,5\u202f%"]:
        assert shown(md_text(value)) == value


# -- the quarantine folder ----------------------------------------------------------------


def _record(conn, path) -> int:
    return conn.execute(insert(schema.imports).values(
        kind="contacts", source="s", file_name="f.csv", started_at=dt.datetime(2016, 1, 4, 8),
        rows_read=2, rows_rejected=1, status="partial", quarantine_path=str(path))
    ).inserted_primary_key[0]


@pytest.fixture
def folders(tmp_path):
    """The quarantine folder with one good file; a secret beside it; a folder whose name
    starts like it."""
    folder = tmp_path / "quarantine"
    folder.mkdir()
    (folder / "ok.rejected.csv").write_bytes(b"line,reason\n2,missing site\n")
    (tmp_path / "secret.txt").write_bytes(b"not for the page\n")
    (tmp_path / "quarantine-old").mkdir()
    (tmp_path / "quarantine-old" / "x.rejected.csv").write_bytes(b"line,reason\n")
    (folder / "link.rejected.csv").symlink_to(tmp_path / "secret.txt")
    (folder / "sub.rejected.csv").mkdir()
    return folder


def test_only_files_in_the_quarantine_folder_are_read(db_url, folders):
    folder = folders
    paths = {
        "ok": folder / "ok.rejected.csv",
        "passwd": Path("/etc/passwd"),
        "dotdot": f"{folder}/../secret.txt",
        "link": folder / "link.rejected.csv",
        "prefix": folder.parent / "quarantine-old" / "x.rejected.csv",
        "relative": "../../../../../../etc/passwd",
        "folder": folder / "sub.rejected.csv",
        "gone": folder / "gone.rejected.csv",
    }
    with dbmod.get_engine(db_url).begin() as conn:
        ids = {name: _record(conn, path) for name, path in paths.items()}
    with dbmod.get_engine(db_url).connect() as conn:
        got = {name: imports.quarantine_file(conn, i, folder) for name, i in ids.items()}
    assert got["ok"].content == b"line,reason\n2,missing site\n"
    for name in ("passwd", "dotdot", "link", "prefix", "relative"):
        assert (got[name].content, got[name].reason) == (None, imports.OUTSIDE_FOLDER), name
        assert got[name].path == str(paths[name])  # shown as recorded
    assert (got["folder"].content, got["folder"].reason) == (None, imports.NOT_A_FILE)
    assert (got["gone"].content, got["gone"].reason) == (None, imports.GONE)
    with dbmod.get_engine(db_url).connect() as conn:
        big = imports.quarantine_file(conn, ids["ok"], folder, max_bytes=10)
    # "line,reason\n" (12 bytes) and "2,missing site\n" (15 bytes).
    assert (big.content, big.reason, big.detail) == (None, imports.TOO_BIG, "27")


def _donnees(monkeypatch, url: str, folder: Path) -> AppTest:
    monkeypatch.setenv("DASHBOARD_DB_URL", url)
    monkeypatch.setenv("DASHBOARD_QUARANTINE_DIR", str(folder))
    at = AppTest.from_file(str(ROOT / "pages" / "donnees.py"), default_timeout=60)
    at.session_state["_dashboard_user"] = User(login="admin", role="admin")
    return at.run()


def _downloads(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")
            if b.proto.label.startswith("Télécharger les lignes rejetées")]


def test_the_page_offers_no_file_from_outside_the_folder(monkeypatch, sqlite_url, folders):
    dbmod.upgrade(sqlite_url)
    reference.load_reference(dbmod.get_engine(sqlite_url))
    with dbmod.get_engine(sqlite_url).begin() as conn:
        good = _record(conn, folders / "ok.rejected.csv")
        passwd = _record(conn, "/etc/passwd")
        escaping = _record(conn, f"{folders}/../secret.txt")
    at = _donnees(monkeypatch, sqlite_url, folders)
    assert not at.exception, at.exception
    select = at.selectbox(key="quarantine-import")
    assert select.value == escaping  # the newest first
    for import_id in (escaping, passwd):
        select.set_value(import_id).run()
        assert not at.exception
        assert _downloads(at) == []
        (warning,) = [w.value for w in at.warning if "dossier des rejets" in w.value]
        assert warning.startswith("Le fichier enregistré pour cet import n'est pas dans le "
                                  "dossier des rejets")
        assert "il n'est pas proposé" in warning
    # The file inside the folder is offered: the refusals above are not a broken page.
    select.set_value(good).run()
    assert _downloads(at) == ["Télécharger les lignes rejetées (CSV)",
                              "Télécharger les lignes rejetées (Excel)"]
