"""The Détail des contacts page under AppTest on the demo database: rows in arrival
order 50 at a time, the page buttons, the URL restoring the filters, the scope, the
empty selection, and the CSV of every matching row (capped)."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import text
from streamlit.runtime.media_file_manager import MediaFileManager

from dashboard.core import formatting as fmt
from dashboard.store import database as dbmod
from queries import contact_rows
from tests.apptest import number, open_page, texts

PAGE = "pages/detail.py"
ROUEN = "superviseur.rouen"
PARIS = ZoneInfo("Europe/Paris")


def _ids(url: str, where: str = "site = 'rouen'", **params) -> list[str]:
    """Contact ids of the matching rows in (received_at, id) order, read here directly."""
    with dbmod.get_engine(url).connect() as conn:
        return list(conn.execute(text(
            f"SELECT contact_id FROM contacts WHERE {where} ORDER BY received_at, id"),
            params).scalars())


def _busiest_day(url: str, site: str | None = "rouen") -> dt.date:
    """The day with the most contacts of SITE (of all sites: None)."""
    with dbmod.get_engine(url).connect() as conn:
        day = conn.execute(text(
            "SELECT local_date FROM contacts WHERE site = :site OR :site IS NULL "
            "GROUP BY local_date ORDER BY COUNT(*) DESC, local_date LIMIT 1"),
            {"site": site}).scalar_one()
    return dt.date.fromisoformat(str(day)[:10])


def _table(at):
    return at.main.dataframe[0].value


def _summary(at) -> str:
    return at.main.markdown[0].value


def _lines(at) -> str:
    return [c.value for c in at.main.caption if c.value.startswith("Lignes ")][0]


@pytest.fixture
def deferred(monkeypatch):
    """The CSV generators the page registers (Streamlit runs them on click)."""
    made: list = []
    real = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, *args, **kwargs):
        made.append(data_callable)
        return real(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return made


@pytest.mark.parametrize("login,site", [(ROUEN, "rouen"), ("directeur", None)])
def test_rows_in_arrival_order_and_the_page_buttons(monkeypatch, demo_db_url, login, site):
    day = _busiest_day(demo_db_url, site)
    expected = _ids(demo_db_url, "(site = :site OR :site IS NULL) AND local_date = :d",
                    site=site, d=day)
    total = len(expected)
    assert total > (50 if site else 150), "the busiest demo day should fill a few pages"
    at = open_page(monkeypatch, demo_db_url, PAGE, login, date=day.isoformat())
    assert not at.exception
    assert at.title[0].value == "Détail des contacts"
    table = _table(at)
    assert list(table["Identifiant"]) == expected[:50]
    shown_total = fmt.fr_number(total)
    assert _summary(at) == f"**{shown_total}** contacts correspondent à la sélection"
    assert _lines(at) == f"Lignes 1 à 50 sur {shown_total} · 50 par page"
    assert at.button(key="detail-prev").disabled and not at.button(key="detail-next").disabled
    # The same buttons above the table, for a long page.
    assert at.button(key="detail-prev-top").disabled
    assert not at.button(key="detail-next-top").disabled
    # The first row's local time, from its UTC instant.
    with dbmod.get_engine(demo_db_url).connect() as conn:
        first_utc = conn.execute(text(
            "SELECT received_at FROM contacts WHERE contact_id = :c"),
            {"c": expected[0]}).scalar_one()
    first_utc = dt.datetime.fromisoformat(str(first_utc))
    local = first_utc.replace(tzinfo=dt.timezone.utc).astimezone(PARIS)
    assert table["Heure"][0] == f"{local:%H:%M:%S}"
    assert "caller_key" not in " ".join(table.columns)

    at.button(key="detail-next").click().run()
    assert not at.exception
    assert list(_table(at)["Identifiant"]) == expected[50:100]
    assert _lines(at).startswith(f"Lignes 51 à {fmt.fr_number(min(100, total))} sur "
                                 f"{shown_total}")
    assert not at.button(key="detail-prev").disabled
    pages = 2
    while not at.button(key="detail-next").disabled:
        at.button(key="detail-next").click().run()
        pages += 1
    last_start = 50 * (pages - 1)
    assert list(_table(at)["Identifiant"]) == expected[last_start:]
    assert _lines(at).startswith(f"Lignes {fmt.fr_number(last_start + 1)} à {shown_total} ")
    at.button(key="detail-prev-top").click().run()
    assert list(_table(at)["Identifiant"]) == expected[last_start - 50:last_start]
    for _ in range(pages - 2):
        at.button(key="detail-prev").click().run()
    assert list(_table(at)["Identifiant"]) == expected[:50]
    assert at.button(key="detail-prev").disabled


def test_a_filter_change_starts_again_at_page_one(monkeypatch, demo_db_url):
    day = _busiest_day(demo_db_url)
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, date=day.isoformat())
    at.button(key="detail-next").click().run()
    assert _lines(at).startswith("Lignes 51 à ")
    at.multiselect(key="issue").set_value(["answered"]).run()
    assert not at.exception
    answered = _ids(demo_db_url, "site = 'rouen' AND local_date = :d AND outcome = 'answered'",
                    d=day)
    assert _lines(at).startswith(f"Lignes 1 à {min(50, len(answered))} sur "
                                 f"{fmt.fr_number(len(answered))}")
    assert list(_table(at)["Identifiant"]) == answered[:50]
    assert set(_table(at)["Issue"]) == {"Décroché"}


def test_the_url_restores_the_view(monkeypatch, demo_db_url):
    day = _busiest_day(demo_db_url)
    # 10:00–10:30 local is slot 20; abandoned or answered calls that waited 30 s or more.
    where = ("site = 'rouen' AND local_date = :d AND local_slot = 20 AND wait_seconds >= 30 "
             "AND outcome IN ('abandoned', 'answered')")
    expected = _ids(demo_db_url, where, d=day)
    assert expected, "pick a busier slot"
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, date=day.isoformat(),
                   creneau="10:00–10:30", issue=["Abandonné", "Décroché"], attente="30")
    assert not at.exception
    assert at.date_input(key="date").value == day
    assert at.selectbox(key="creneau").value == 20
    assert at.multiselect(key="issue").value == ["abandoned", "answered"]
    assert at.number_input(key="attente").value == 30
    assert list(_table(at)["Identifiant"]) == expected[:50]
    assert number(_summary(at).split("**")[1]) == len(expected)
    times = list(_table(at)["Heure"])
    assert all("10:00:00" <= t < "10:30:00" for t in times)
    assert all(w >= 30 for w in _table(at)["Attente (s)"])


def test_queue_and_agent_pickers(monkeypatch, demo_db_url):
    day = _busiest_day(demo_db_url)
    with dbmod.get_engine(demo_db_url).connect() as conn:
        agent_id, name = conn.execute(text(
            "SELECT c.agent_id, a.display_name FROM contacts c JOIN agents a "
            "ON a.agent_id = c.agent_id WHERE c.site = 'rouen' AND c.local_date = :d "
            "GROUP BY c.agent_id, a.display_name ORDER BY COUNT(*) DESC LIMIT 1"),
            {"d": day}).one()
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, date=day.isoformat())
    assert fmt.UNASSIGNED == at.selectbox(key="agent").options[-1]
    at.selectbox(key="agent").set_value(name).run()
    assert not at.exception
    mine = _ids(demo_db_url, "agent_id = :a AND local_date = :d", a=agent_id, d=day)
    assert list(_table(at)["Identifiant"]) == mine[:50]
    assert set(_table(at)["Agent"]) == {name}
    at.selectbox(key="agent").set_value(fmt.UNASSIGNED).run()
    nobody = _ids(demo_db_url, "site = 'rouen' AND agent_id IS NULL AND local_date = :d",
                  d=day)
    assert number(_summary(at).split("**")[1]) == len(nobody)
    at.selectbox(key="agent").set_value(None)
    at.selectbox(key="file").set_value("recouvrement").run()
    queue = _ids(demo_db_url, "site = 'rouen' AND queue = 'recouvrement' AND local_date = :d",
                 d=day)
    assert number(_summary(at).split("**")[1]) == len(queue)
    assert set(_table(at)["File"]) == {"recouvrement"}


def test_a_supervisor_sees_only_their_site(monkeypatch, demo_db_url):
    day = _busiest_day(demo_db_url, "chartres")
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, date=day.isoformat(),
                   site="Chartres", dept="28")
    assert not at.exception
    rouen = _ids(demo_db_url, "site = 'rouen' AND local_date = :d", d=day)
    if rouen:
        assert set(_table(at)["Site"]) == {"Rouen"}
        assert number(_summary(at).split("**")[1]) == len(rouen)
    shown = texts(at)
    with dbmod.get_engine(demo_db_url).connect() as conn:
        chartres_agents = conn.execute(text(
            "SELECT agent_id, display_name FROM agents WHERE site = 'chartres'")).all()
    for word in ["Chartres", "Eure-et-Loir", "Seine-Saint-Denis"]:
        assert word not in shown
    for agent_id, agent_name in chartres_agents:
        assert agent_id not in shown and (not agent_name or agent_name not in shown)
    assert all(o not in dict(chartres_agents).values() for o in at.selectbox(key="agent").options)


def test_the_national_view_shows_pseudonyms(monkeypatch, demo_db_url):
    day = _busiest_day(demo_db_url, "chartres")
    at = open_page(monkeypatch, demo_db_url, PAGE, "directeur", date=day.isoformat())
    assert not at.exception
    agents = set(_table(at)["Agent"])
    assert agents and all(a.startswith("agent-") or a == fmt.UNASSIGNED for a in agents)
    assert all(o.startswith("agent-") or o == fmt.UNASSIGNED
               for o in at.selectbox(key="agent").options)
    both = _ids(demo_db_url, "local_date = :d", d=day)
    assert number(_summary(at).split("**")[1]) == len(both)


def test_an_empty_selection_says_so(monkeypatch, demo_db_url):
    day = _busiest_day(demo_db_url)
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, date=day.isoformat(),
                   creneau="02:00–02:30")
    assert not at.exception
    assert at.info[0].value.startswith("Aucun contact ne correspond à cette sélection le ")
    assert not at.main.dataframe and not at.button
    assert not at.get("download_button")


def test_the_csv_holds_every_matching_row(monkeypatch, demo_db_url, deferred):
    day = _busiest_day(demo_db_url)
    expected = _ids(demo_db_url, "site = 'rouen' AND local_date = :d", d=day)
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, date=day.isoformat())
    assert not at.exception
    rows = f"Télécharger les {fmt.fr_number(len(expected))} lignes"
    assert [b.proto.label for b in at.get("download_button")] == [f"{rows} (CSV)",
                                                                   f"{rows} (Excel)"]
    assert not at.main.warning
    csv = deferred[-2]()
    assert csv.startswith("\ufeffDate,Heure,Canal,Issue,")
    lines = csv.splitlines()[1:]
    assert [line.split(",")[-1] for line in lines] == expected
    assert all(line.startswith(f"{fmt.fr_date(day)},") for line in lines)
    # The same rows as a workbook: a frozen French header, a date, seconds as numbers.
    sheet = openpyxl.load_workbook(io.BytesIO(deferred[-1]())).active
    assert [c.value for c in sheet[1]][:5] == ["Date", "Heure", "Canal", "Issue", "Attente (s)"]
    assert sheet.freeze_panes == "A2"
    assert [row[-1].value for row in sheet.iter_rows(min_row=2)] == expected
    assert {row[0].value for row in sheet.iter_rows(min_row=2)} == {
        dt.datetime(day.year, day.month, day.day)}
    conversation = [row[5] for row in sheet.iter_rows(min_row=2) if row[5].value is not None]
    assert conversation and all(c.data_type == "n" for c in conversation)


def test_the_csv_is_capped_and_says_so(monkeypatch, demo_db_url, deferred):
    day = _busiest_day(demo_db_url)
    expected = _ids(demo_db_url, "site = 'rouen' AND local_date = :d", d=day)
    monkeypatch.setattr(contact_rows, "EXPORT_CAP", 60)
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, date=day.isoformat())
    assert not at.exception
    assert at.get("download_button")[0].proto.label == "Télécharger les 60 lignes (CSV)"
    assert at.get("download_button")[1].proto.label == "Télécharger les 60 lignes (Excel)"
    warning = at.main.warning[0].value
    assert warning.startswith(f"Le fichier est limité aux 60 premières lignes sur "
                              f"{fmt.fr_number(len(expected))}")
    lines = deferred[-2]().splitlines()[1:]
    assert [line.split(",")[-1] for line in lines] == expected[:60]
