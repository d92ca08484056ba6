"""The Données page under Streamlit's AppTest: imports journal, rejected rows, freshness
and days without data, with the numbers worked out here by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from dashboard.core import formatting as fmt
from dashboard.core.access import User
from dashboard.engine import rollups
from dashboard.ingest import ingest_file
from dashboard.store import database as dbmod
from queries import imports
from queries.imports import expected_days, find_gaps

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "donnees.py")
HEADER = "contact_id,channel,site,department,received_at,outcome,wait_seconds,answered_at"
EASTER_MONDAY_2015 = dt.date(2015, 4, 6)

ROUEN_PHONE = [dt.date(2015, 3, d) for d in (2, 3, 6, 9)] + [dt.date(2015, 4, 3),
                                                           dt.date(2015, 4, 7)]
CHARTRES_EMAIL = [dt.date(2015, 3, d) for d in (2, 3, 4, 5, 6, 7, 9)] + [dt.date(2015, 4, 7)]


def _lines(days, site, department, channel):
    out = []
    for i, day in enumerate(days):
        if channel == "phone":
            out.append(f"{site}-{day}-{i},phone,{site},{department},{day}T10:00:00,answered,5,")
        else:
            out.append(f"{site}-{day}-{i},email,{site},{department},{day}T10:00:00,replied,,"
                       f"{day}T15:00:00")
    return out


def _page(monkeypatch, url: str, role: str = "admin") -> AppTest:
    monkeypatch.setenv("DASHBOARD_DB_URL", url)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["_dashboard_user"] = User(login=role, role=role,
                                               site="rouen" if role == "supervisor" else None)
    return at.run()


def _table(at: AppTest, column: str):
    frame = next(d.value for d in at.dataframe if column in d.value.columns)
    return frame


@pytest.fixture
def loaded(db_url, tmp_path, monkeypatch):
    """Two imports that load, one with rejected rows, one whose rejects file was removed."""
    monkeypatch.setenv("DASHBOARD_QUARANTINE_DIR", str(tmp_path))  # the page serves only it
    phone = tmp_path / "rouen-phone.csv"
    phone.write_text("\n".join([HEADER, *_lines(ROUEN_PHONE, "rouen", "60", "phone"),
                                "bad1,phone,rouen,60,never,answered,5,",
                                "bad2,fax,rouen,60,2015-03-02T10:00:00,answered,5,"]) + "\n",
                     encoding="utf-8")
    first = ingest_file(db_url, "contacts", phone, quarantine_dir=tmp_path / "q",
                        imported_by="alice")
    email = tmp_path / "chartres-email.csv"
    email.write_text("\n".join([HEADER, *_lines(CHARTRES_EMAIL, "chartres", "28", "email"),
                                "bad3,email,chartres,28,,replied,,"]) + "\n", encoding="utf-8")
    second = ingest_file(db_url, "contacts", email, quarantine_dir=tmp_path / "q",
                         imported_by="bob")
    second.quarantine_path.unlink()
    again = ingest_file(db_url, "contacts", phone, quarantine_dir=tmp_path / "q2")
    assert (first.inserted, second.inserted, again.unchanged) == (6, 8, 6)
    return db_url, first, second, again


def test_the_page_shows_history_rejects_freshness_and_gaps(monkeypatch, loaded):
    url, first, second, again = loaded
    at = _page(monkeypatch, url)
    assert not at.exception, at.exception
    assert [h.value for h in at.header] == ["Historique des imports", "Fraîcheur des données",
                                            "Jours sans données",
                                            "Envois par courriel en échec"]

    history = _table(at, "Fichier")
    assert list(history["N°"]) == [again.import_id, second.import_id, first.import_id]
    assert list(history["Par"])[1:] == ["bob", "alice"]
    assert list(history["Lues"]) == ["8", "9", "8"]
    assert list(history["Insérées"]) == ["0", "8", "6"]
    assert list(history["Inchangées"]) == ["6", "0", "0"]
    assert list(history["Rejetées"]) == ["2", "1", "2"]
    assert list(history["Statut"]) == ["Chargé, avec rejets"] * 3
    assert list(history["Type"]) == ["Contacts"] * 3

    # The newest import with rejects is offered first, its file is still there.
    select = at.selectbox(key="quarantine-import")
    assert select.value == again.import_id
    assert [b.proto.label for b in at.get("download_button") if b.proto.label.startswith(
        "Télécharger les lignes rejetées")] == ["Télécharger les lignes rejetées (CSV)",
                                                "Télécharger les lignes rejetées (Excel)"]
    # The import whose file was removed says so.
    select.set_value(second.import_id).run()
    assert not at.exception
    assert any("n'existe plus" in w.value for w in at.warning)

    fresh = _table(at, "Dernier jour")
    assert list(fresh["Site"]) == ["Chartres", "Rouen"]
    assert list(fresh["Canal"]) == ["Courriel", "Téléphone"]
    assert list(fresh["Contacts"]) == [str(len(CHARTRES_EMAIL)), str(len(ROUEN_PHONE))]
    assert list(fresh["Premier jour"]) == ["02/03/2015", "02/03/2015"]
    assert list(fresh["Dernier jour"]) == ["07/04/2015", "07/04/2015"]
    # 10:00 Paris wall clock, as imported.
    assert list(fresh["Dernier contact reçu (heure du site)"]) == ["07/04/2015 10:00"] * 2

    # Gaps, by hand: weekdays, not Easter Monday, from the first day to 7 April.
    def runs(days_with_data):
        out, run = [], []
        day = dt.date(2015, 3, 2)
        while day <= dt.date(2015, 4, 7):
            expected = day.weekday() < 5 and day != EASTER_MONDAY_2015
            if expected and day not in days_with_data:
                run.append(day)
            elif expected and run:
                out.append((run[0], run[-1], len(run)))
                run = []
            day += dt.timedelta(days=1)
        return out

    expected = ([("Chartres", "Courriel", a, b, n) for a, b, n in runs(set(CHARTRES_EMAIL))]
                + [("Rouen", "Téléphone", a, b, n) for a, b, n in runs(set(ROUEN_PHONE))])
    assert expected == [
        ("Chartres", "Courriel", dt.date(2015, 3, 10), dt.date(2015, 4, 3), 19),
        ("Rouen", "Téléphone", dt.date(2015, 3, 4), dt.date(2015, 3, 5), 2),
        ("Rouen", "Téléphone", dt.date(2015, 3, 10), dt.date(2015, 4, 2), 18),
    ]
    gaps = _table(at, "Jours ouvrés manquants")
    assert [tuple(r) for r in gaps.itertuples(index=False)] == [
        (site, channel, fmt.fr_date(a), fmt.fr_date(b), str(n))
        for site, channel, a, b, n in expected]
    assert any("39 jours ouvrés sans données, en 3 périodes" in w.value for w in at.warning)


def test_the_page_is_for_admins_only(monkeypatch, db_url):
    at = _page(monkeypatch, db_url, role="supervisor")
    assert "réservée aux administrateurs" in at.error[0].value
    assert not at.dataframe


def test_an_empty_database_says_so(monkeypatch, db_url):
    at = _page(monkeypatch, db_url)
    assert not at.exception
    assert "Aucun import enregistré" in at.info[0].value
    assert "Aucun contact" in at.info[1].value


def test_expected_days_follow_opening_days_holidays_and_coverage():
    # A site open Monday to Saturday, covering from Wednesday 1 April 2015 to 8 April.
    days = expected_days(dt.date(2015, 3, 30), dt.date(2015, 4, 10), "123456",
                         [(dt.date(2015, 4, 1), dt.date(2015, 4, 8))])
    assert days == [dt.date(2015, 4, d) for d in (1, 2, 3, 4, 7, 8)]  # 5th Sunday, 6th Easter


def test_a_site_without_coverage_is_checked_from_its_first_contact():
    import polars as pl

    days = pl.DataFrame({"local_date": [dt.date(2015, 3, 3), dt.date(2015, 3, 6)],
                         "site": ["x", "x"], "channel": ["phone", "phone"]})
    gaps = find_gaps(days, {"x": "12345"}, {})
    assert gaps.rows() == [("x", "phone", dt.date(2015, 3, 4), dt.date(2015, 3, 5), 2)]


def test_freshness_and_gaps_from_the_rollups_equal_the_full_scan(loaded, tmp_path):
    """Once the rollups are complete the page reads them (and two index probes per site
    and channel) instead of every contact: same frames, on both databases, after an
    import that the rollups took in incrementally."""
    url, first, second, again = loaded
    engine = dbmod.get_engine(url)
    rollups.rebuild(engine)
    later = tmp_path / "rouen-later.csv"
    later.write_text("\n".join([HEADER, "late-1,phone,rouen,60,2015-04-08T09:15:00,answered,5,",
                                "late-2,phone,rouen,60,2015-04-08T17:40:00,abandoned,30,"])
                     + "\n", encoding="utf-8")
    third = ingest_file(url, "contacts", later, quarantine_dir=tmp_path / "q3")
    assert third.inserted == 2
    with engine.connect() as conn:
        assert rollups.rollups_complete(conn)
        fast, scan = (imports.data_freshness(conn, from_rollups=flag) for flag in (True, False))
        assert_frame_equal(fast, scan)
        # By hand: Rouen's phone calls are the first import's six (the third import of
        # that file changed nothing) and the two late ones; Chartres' e-mails the second's.
        assert fast.select("site", "channel", "contacts", "last_day", "last_import_id").rows() \
            == [("chartres", "email", 8, dt.date(2015, 4, 7), second.import_id),
                ("rouen", "phone", 8, dt.date(2015, 4, 8), third.import_id)]
        assert fast["last_received_local"].to_list()[1] == dt.datetime(2015, 4, 8, 17, 40)
        assert_frame_equal(imports.days_with_data(conn, from_rollups=True).sort(pl.all()),
                           imports.days_with_data(conn).sort(pl.all()))
        assert_frame_equal(imports.data_gaps(conn, from_rollups=True),
                           imports.data_gaps(conn))


# sqlite_stat1 of the contacts' indexes in the 2.1 M-contact benchmark database (20
# sites): the statistics under which SQLite read a range of recent days through the (site,
# channel) index, i.e. every contact of the pair.
BENCH_STATS = {
    "ix_contacts_site_channel_import_id": "2095319 104766 52383 52383",
    "ix_contacts_site_department_local_date": "2095319 104766 20746 63",
    "ix_contacts_local_date_site_channel": "2095319 4125 267 154",
    "ix_contacts_channel_received_at": "2095319 1047660 1",
    "ix_contacts_caller_key_received_at": "2095319 2 1",
    "ix_contacts_agent_id_local_date": "2095319 11513 43",
    "sqlite_autoindex_contacts_1": "2095319 2095319 1",
}


def test_the_last_reception_probe_keeps_to_the_recent_days_on_sqlite(sqlite_url):
    from sqlalchemy import event, text

    from dashboard.store import reference
    from tests.factories import Rows, populate

    dbmod.upgrade(sqlite_url)
    engine = dbmod.get_engine(sqlite_url)
    reference.load_reference(engine)
    populate(Rows(sqlite_url))
    rollups.rebuild(engine)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        conn.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = 'contacts'"))
        conn.execute(text("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('contacts', :i, :s)"),
                     [{"i": i, "s": s} for i, s in BENCH_STATS.items()])
    engine.dispose()  # new connections load the statistics
    probes = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "max(contacts.received_at)" in statement:
            probes.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with engine.connect() as conn:
            imports.data_freshness(conn, from_rollups=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    with engine.connect() as conn:
        plans = [" ".join(r[-1] for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters)) for statement, parameters in probes]
    assert len(plans) == 4  # two sites, two channels
    for plan in plans:
        # The recent days' entries of the date index, not every contact of the pair.
        assert "ix_contacts_local_date_site_channel (local_date=? AND site=? AND channel=?)" \
            in plan, plan


def test_failed_e_mails_are_listed_with_the_servers_answer(monkeypatch, db_url):
    from sqlalchemy import insert

    from dashboard.store import schema
    from dashboard.store.users import save_user

    engine = dbmod.get_engine(db_url)
    with engine.begin() as conn:
        save_user(conn, User(login="directeur", role="national", display_name="Direction"))
        sub = conn.execute(insert(schema.subscriptions).values(
            login="directeur", kind="daily", email="direction@example.fr",
            created_at=dt.datetime(2026, 12, 1, 8, 0))).inserted_primary_key[0]
        # Given up at 05:40 UTC on 07/12/2026: 06:40 in Paris (UTC+1 in winter).
        conn.execute(insert(schema.deliveries).values(
            subscription_id=sub, kind="daily", period="daily:2026-12-06", status="failed",
            attempts=5, due_at=dt.datetime(2026, 12, 7, 5, 0),
            next_attempt_at=dt.datetime(2026, 12, 7, 5, 40),
            error="451 4.3.0 boîte pleine", updated_at=dt.datetime(2026, 12, 7, 5, 40)))
        # A message sent is no failure.
        conn.execute(insert(schema.deliveries).values(
            subscription_id=sub, kind="daily", period="daily:2026-12-05", status="sent",
            attempts=1, due_at=dt.datetime(2026, 12, 6, 5, 0),
            next_attempt_at=dt.datetime(2026, 12, 6, 5, 0),
            updated_at=dt.datetime(2026, 12, 6, 5, 1)))
    at = _page(monkeypatch, db_url)
    assert not at.exception
    assert "Envois par courriel en échec" in [h.value for h in at.header]
    table = next(d.value for d in at.dataframe if "Dernière réponse" in d.value.columns)
    assert table.to_dict("records") == [{
        "Utilisateur": "directeur", "Adresse": "direction@example.fr", "Envoi": "Quotidien",
        "Période": "daily:2026-12-06", "Tentatives": "5",
        "Dernière réponse": "451 4.3.0 boîte pleine", "Abandonné le": "07/12/2026 06:40"}]
    assert any("1 envoi en échec" in w.value for w in at.warning)
