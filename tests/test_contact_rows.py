"""The contact drill-down's query (queries.contact_rows) and table
(dashboard.charts.contact_table), on SQLite and PostgreSQL: keyset pages cover every matching
row once and in order, the filters and the scope hold, local times are the site's wall
clock, and the French table shows what it should.

Expected rows are worked out by hand from the rows inserted here; a row is named by its
contact_id.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import event, insert, text

from dashboard.charts import contact_table as ct
from dashboard.core.access import Scope, pseudonym
from dashboard.core.filters import Filters
from dashboard.store import database as dbmod
from dashboard.store import schema
from queries import contact_rows as q
from queries.contact_rows import Anchor, RowFilter
from tests.factories import Rows

D = dt.date(2015, 5, 11)  # a Monday, summer time in Paris (UTC+2)
ROUEN = Scope("supervisor", site="rouen")
NATIONAL = Scope("national")
# Rouen's rows of D in (received_at, id) order; ids follow the insertion order below.
ROUEN_ORDER = ["i", "e", "b", "c", "d", "a", "f", "g", "h"]


def _day(scope: Scope = ROUEN, **kw) -> Filters:
    return Filters(D, D, scope=scope, **kw)


def _email(rows: Rows, local: str, contact_id: str, **kwargs) -> None:
    """An e-mail, renamed CONTACT_ID (the factory numbers e-mails itself)."""
    values = rows.email(local, **kwargs)
    with rows.engine.begin() as conn:
        conn.execute(schema.contacts.update()
                     .where(schema.contacts.c.contact_id == values["contact_id"])
                     .values(contact_id=contact_id))


def _insert_day(rows: Rows) -> None:
    """The day's rows, inserted out of time order; three at 09:00:00 and two at 09:30:00."""
    rows.call("2015-05-11 09:10:00", contact_id="a", wait=40, talk=300, wrap=30, agent="r1",
              promoted=True, caller="K-secret-a")
    rows.call("2015-05-11 09:00:00", contact_id="b", outcome="abandoned", wait=75,
              queue="recouvrement", department="04")
    rows.call("2015-05-11 09:00:00", contact_id="c", wait=5, agent="r2", promoted=False)
    _email(rows, "2015-05-11 09:00:00", "d", replied="2015-05-11 11:00", agent="r1")
    rows.call("2015-05-11 08:59:59", contact_id="e", outcome="deflected", wait=0,
              department="04")
    rows.call("2015-05-11 09:30:00", contact_id="f", wait=120, agent=None)
    rows.call("2015-05-11 09:30:00", contact_id="g", outcome="abandoned", wait=20)
    _email(rows, "2015-05-11 10:15:00", "h", department="04")
    # 00:10 local on the 11th is 22:10 UTC on the 10th: the local day counts.
    rows.call("2015-05-11 00:10:00", contact_id="i", wait=15, agent="r1")
    rows.call("2015-05-10 23:50:00", contact_id="j")  # the day before
    rows.call("2015-05-12 00:05:00", contact_id="k")  # the day after
    rows.call("2015-05-11 09:00:00", contact_id="l", site="chartres", department="28",
              agent="c1")


@pytest.fixture
def day_rows(db_url):
    """The database of each kind with the day's rows."""
    _insert_day(Rows(db_url))
    return db_url


def _ids(frame: pl.DataFrame) -> list[str]:
    return frame["contact_id"].to_list()


def _walk_forward(conn, filters, narrowing, limit):
    pages, anchor = [], None
    while True:
        page = q.read_page(conn, filters, narrowing, anchor, limit)
        pages.append(page)
        if not page.has_next:
            return pages
        anchor = Anchor("after", page.last_key())


# ----------------------------------------------------------------------- pagination


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 8, 9, 50])
def test_pages_cover_every_row_once_in_order(day_rows, limit):
    with dbmod.get_engine(day_rows).connect() as conn:
        pages = _walk_forward(conn, _day(), RowFilter(), limit)
        seen = [cid for page in pages for cid in _ids(page.rows)]
        assert seen == ROUEN_ORDER
        assert len(pages) == -(-9 // limit)
        assert all(page.total == 9 for page in pages)
        assert [(p.first, p.last) for p in pages] == [
            (n * limit + 1, min(9, (n + 1) * limit)) for n in range(len(pages))]
        assert not pages[0].has_previous and all(p.has_previous for p in pages[1:])
        # And back from the last page, one page at a time, to the first.
        back = [pages[-1]]
        while back[-1].has_previous:
            back.append(q.read_page(conn, _day(), RowFilter(),
                                    Anchor("before", back[-1].first_key()), limit))
        assert [_ids(p.rows) for p in reversed(back)] == [_ids(p.rows) for p in pages]


def test_a_page_boundary_inside_equal_timestamps(day_rows):
    # b, c and d were all received at 09:00:00 local (07:00:00 UTC): pages of 3 cut
    # between b and c, pages of 4 between c and d.
    nine = dt.datetime(2015, 5, 11, 7, 0, 0)
    with dbmod.get_engine(day_rows).connect() as conn:
        first = q.read_page(conn, _day(), limit=3)
        assert _ids(first.rows) == ["i", "e", "b"]
        assert first.last_key().received_at == nine
        second = q.read_page(conn, _day(), anchor=Anchor("after", first.last_key()), limit=3)
        assert _ids(second.rows) == ["c", "d", "a"]
        assert second.rows["received_at"].to_list()[:2] == [nine, nine]
        assert (second.first, second.last, second.total) == (4, 6, 9)
        four = q.read_page(conn, _day(), limit=4)
        after = q.page_rows(conn, _day(), anchor=Anchor("after", four.last_key()), limit=1)
        assert _ids(four.rows)[-1] == "c" and _ids(after) == ["d"]
        before = q.page_rows(conn, _day(), anchor=Anchor("before", second.first_key()),
                             limit=2)
        assert _ids(before) == ["e", "b"]


def test_going_back_to_the_start_gives_a_full_first_page(day_rows):
    with dbmod.get_engine(day_rows).connect() as conn:
        # Two rows before "b": a page of 3 before it would be short; the first page is
        # shown instead.
        third = q.read_page(conn, _day(), limit=4)
        key_of_b = q.Key(third.rows["received_at"][2], int(third.rows["id"][2]))
        page = q.read_page(conn, _day(), anchor=Anchor("before", key_of_b), limit=3)
        assert _ids(page.rows) == ["i", "e", "b"] and page.first == 1


def test_count_and_rank(day_rows):
    with dbmod.get_engine(day_rows).connect() as conn:
        assert q.count_rows(conn, _day()) == (9, 0)
        page = q.read_page(conn, _day(), limit=4)
        key_of_c = page.last_key()
        assert q.count_rows(conn, _day(), before=key_of_c) == (9, 3)  # i, e, b
        assert q.count_rows(conn, _day(NATIONAL), before=key_of_c) == (10, 3)
        assert q.count_rows(conn, _day(), RowFilter(outcomes=("abandoned",)),
                            before=key_of_c) == (2, 1)  # b before; g after
        empty = q.read_page(conn, _day(), RowFilter(slot=1))  # 00:30–01:00: none
        assert (empty.total, empty.first, empty.last, empty.rows.height) == (0, 0, 0, 0)
        assert not empty.has_next and not empty.has_previous
        assert empty.first_key() is None


def test_export_is_capped_and_in_order(day_rows):
    with dbmod.get_engine(day_rows).connect() as conn:
        assert _ids(q.export_rows(conn, _day(), cap=4)) == ["i", "e", "b", "c"]
        assert _ids(q.export_rows(conn, _day())) == ROUEN_ORDER


# -------------------------------------------------------------------------- filters


@pytest.mark.parametrize("filters,narrowing,expected", [
    ({}, RowFilter(slot=18), ["b", "c", "d", "a"]),  # 09:00–09:30 local
    ({}, RowFilter(slot=17), ["e"]),  # 08:59:59
    ({}, RowFilter(slot=19), ["f", "g"]),
    ({}, RowFilter(outcomes=("abandoned",)), ["b", "g"]),
    ({}, RowFilter(outcomes=("abandoned", "pending")), ["b", "g", "h"]),
    ({}, RowFilter(outcomes=("replied",)), ["d"]),
    ({"queues": ("recouvrement",)}, RowFilter(), ["b"]),
    ({"agents": ("r1",)}, RowFilter(), ["i", "d", "a"]),
    ({}, RowFilter(unassigned=True), ["e", "b", "f", "g", "h"]),
    ({}, RowFilter(min_wait_seconds=40), ["b", "a", "f"]),  # e-mails have no wait
    ({}, RowFilter(min_wait_seconds=0), ["i", "e", "b", "c", "a", "f", "g"]),
    ({"departments": ("04",)}, RowFilter(), ["e", "b", "h"]),
    ({"channels": ("email",)}, RowFilter(), ["d", "h"]),
    ({"channels": ("phone",)}, RowFilter(slot=19, min_wait_seconds=20), ["f", "g"]),
    ({"departments": ("60",), "agents": ("r1",)}, RowFilter(slot=18), ["d", "a"]),
])
def test_filters(day_rows, filters, narrowing, expected):
    with dbmod.get_engine(day_rows).connect() as conn:
        page = q.read_page(conn, _day(**filters), narrowing, limit=2)
        assert page.total == len(expected)
        assert _ids(q.export_rows(conn, _day(**filters), narrowing)) == expected
        walked = _walk_forward(conn, _day(**filters), narrowing, 2)
        assert [cid for p in walked for cid in _ids(p.rows)] == expected


def test_one_day_per_query_and_known_outcomes_only(day_rows):
    with dbmod.get_engine(day_rows).connect() as conn:
        with pytest.raises(ValueError, match="one local day"):
            q.page_rows(conn, Filters(D, D + dt.timedelta(days=1), scope=ROUEN))
        with pytest.raises(ValueError, match="one local day"):
            q.count_rows(conn, Filters(D - dt.timedelta(days=1), D, scope=ROUEN))
    with pytest.raises(ValueError, match="unknown outcome"):
        RowFilter(outcomes=("lost",))
    with pytest.raises(ValueError, match="slot"):
        RowFilter(slot=48)
    with pytest.raises(ValueError, match="direction"):
        Anchor("sideways", q.Key(dt.datetime(2015, 5, 11), 1))


# ---------------------------------------------------------------------------- scope


def test_a_supervisor_never_gets_another_sites_rows(day_rows):
    with dbmod.get_engine(day_rows).connect() as conn:
        asked = _day(ROUEN, sites=("chartres",))
        assert q.read_page(conn, asked).total == 0
        assert q.export_rows(conn, asked).height == 0
        assert q.count_rows(conn, _day(ROUEN, departments=("28",))) == (0, 0)
        assert q.day_choices(conn, asked) == q.DayChoices((), ())
        own = q.export_rows(conn, _day(ROUEN))
        assert set(own["site"]) == {"rouen"} and "l" not in _ids(own)
        assert q.day_choices(conn, _day(ROUEN)) == q.DayChoices(
            ("particuliers", "recouvrement"), ("r1", "r2", None))
        # The national view sees both sites; Chartres only when asked.
        everyone = q.export_rows(conn, _day(NATIONAL))
        assert _ids(everyone) == ["i", "e", "b", "c", "d", "l", "a", "f", "g", "h"]
        assert _ids(q.export_rows(conn, _day(NATIONAL, sites=("chartres",)))) == ["l"]
        assert q.day_choices(conn, _day(NATIONAL)).agents == ("c1", "r1", "r2", None)
        # An agent's scope (the page is not theirs, the query still obeys it).
        agent = Scope("agent", site="rouen", agent_id="r2")
        assert _ids(q.export_rows(conn, _day(agent))) == ["c"]


def test_day_choices_ignore_the_chosen_queue_and_agent(day_rows):
    with dbmod.get_engine(day_rows).connect() as conn:
        narrowed = _day(queues=("recouvrement",), agents=("r2",))
        assert q.day_choices(conn, narrowed) == q.day_choices(conn, _day())
        assert q.day_choices(conn, _day(channels=("email",))) == q.DayChoices(
            ("particuliers",), ("r1", None))


# ----------------------------------------------------------------------- local time


def test_local_time_is_the_sites_wall_clock(db_url):
    with dbmod.get_engine(db_url).begin() as conn:
        conn.execute(insert(schema.sites).values(code="cayenne", name="Cayenne",
                                                 timezone="America/Cayenne"))
    rows = Rows(db_url)
    # 29 March 2015: Paris goes from UTC+1 to UTC+2 at 01:00 UTC. Cayenne is UTC−3.
    rows.call(utc=dt.datetime(2015, 3, 29, 0, 30), contact_id="before-switch")
    rows.call(utc=dt.datetime(2015, 3, 29, 1, 30), contact_id="after-switch")
    rows.call(utc=dt.datetime(2015, 3, 29, 12, 0), contact_id="paris-noon-utc")
    rows.call(utc=dt.datetime(2015, 3, 29, 12, 0), contact_id="cayenne-noon-utc",
              site="cayenne", department="973")
    day = dt.date(2015, 3, 29)
    with dbmod.get_engine(db_url).connect() as conn:
        out = q.export_rows(conn, Filters(day, day, scope=NATIONAL))
    local = dict(zip(out["contact_id"], out["received_local"]))
    utc = dict(zip(out["contact_id"], out["received_at"]))
    assert local == {
        "before-switch": dt.datetime(2015, 3, 29, 1, 30),
        "after-switch": dt.datetime(2015, 3, 29, 3, 30),
        "paris-noon-utc": dt.datetime(2015, 3, 29, 14, 0),
        "cayenne-noon-utc": dt.datetime(2015, 3, 29, 9, 0),
    }
    assert utc["after-switch"] == dt.datetime(2015, 3, 29, 1, 30)
    assert out["received_local"].dtype == pl.Datetime("us")
    table = ct.display_rows(out, NATIONAL)
    assert table["Heure"].to_list() == ["01:30:00", "03:30:00", "14:00:00", "09:00:00"]


def test_the_late_evening_utc_row_is_shown_on_its_local_day(day_rows):
    with dbmod.get_engine(day_rows).connect() as conn:
        first = q.page_rows(conn, _day(), limit=1)
    assert first["received_at"][0] == dt.datetime(2015, 5, 10, 22, 10)
    assert first["received_local"][0] == dt.datetime(2015, 5, 11, 0, 10)


# ------------------------------------------------------------------ the French table


def test_display_rows_speak_french_and_hide_the_caller(day_rows):
    with dbmod.get_engine(day_rows).connect() as conn:
        out = q.export_rows(conn, _day(NATIONAL))
    assert "caller_key" not in out.columns
    names = {"r1": "Aline Roux", "r2": "Bruno Petit", "c1": "Chloé Martin"}
    sites = {"rouen": "Rouen", "chartres": "Chartres"}
    depts = {"60": "Oise", "04": "Alpes-de-Haute-Provence", "28": "Eure-et-Loir"}
    rouen_rows = out.filter(pl.col("site") == "rouen")
    table = ct.display_rows(rouen_rows, ROUEN, site_names=sites, department_names=depts,
                           agent_names={k: v for k, v in names.items() if k != "c1"})
    assert table.columns == ["Heure", "Canal", "Issue", "Attente (s)", "Conversation (s)",
                             "Post-appel (s)", "Agent", "Département", "File", "Site",
                             "Promotion en ligne", "Identifiant"]
    by_id = {row["Identifiant"]: row for row in table.to_dicts()}
    assert by_id["a"] == {
        "Heure": "09:10:00", "Identifiant": "a", "Canal": "Téléphone", "Site": "Rouen",
        "Département": "60 Oise", "File": "particuliers", "Issue": "Décroché",
        "Attente (s)": 40, "Conversation (s)": 300, "Post-appel (s)": 30,
        "Agent": "Aline Roux", "Promotion en ligne": "oui",
    }
    assert by_id["b"]["Issue"] == "Abandonné" and by_id["b"]["Agent"] == "non attribué"
    assert by_id["b"]["Département"] == "04 Alpes-de-Haute-Provence"
    assert by_id["c"]["Promotion en ligne"] == "non"
    assert by_id["e"]["Issue"] == "Dissuadé" and by_id["e"]["Promotion en ligne"] == "—"
    assert by_id["d"]["Canal"] == "Courriel" and by_id["d"]["Issue"] == "Répondu"
    assert by_id["d"]["Attente (s)"] is None
    assert by_id["h"]["Issue"] == "En attente"
    shown = " ".join(str(v) for row in table.rows() for v in row)
    assert "K-secret-a" not in shown
    # The national view: pseudonyms, never an agent's id or name.
    national = ct.display_rows(out, NATIONAL, site_names=sites, department_names=depts)
    agents = set(national["Agent"])
    assert agents == {pseudonym("r1"), pseudonym("r2"), pseudonym("c1"), "non attribué"}
    # The CSV: the date first, UTF-8 with a BOM.
    csv = ct.csv_text(ct.display_rows(out.head(2), NATIONAL, with_date=True))
    assert csv.splitlines()[0] == (
        "\ufeffDate,Heure,Canal,Issue,Attente (s),Conversation (s),Post-appel (s),Agent,"
        "Département,File,Site,Promotion en ligne,Identifiant")
    assert csv.splitlines()[1] == (f"11/05/2015,00:10:00,Téléphone,Décroché,15,120,0,"
                                   f"{pseudonym('r1')},60,particuliers,rouen,—,i")


def test_agent_choices_sorted_by_label_unassigned_last():
    names = {"r1": "Émilie Bertrand", "r2": "Zoé Adam", "r3": "Emma Durand",
             "r4": "Zoé Adam"}
    got = ct.agent_choices(["r1", "r2", "r3", "r4", None], ROUEN, names)
    assert list(got.items()) == [("Émilie Bertrand", "r1"), ("Emma Durand", "r3"),
                                 ("Zoé Adam", "r2"), ("Zoé Adam (r4)", "r4"),
                                 ("non attribué", None)]
    national = ct.agent_choices(["r1", None], NATIONAL, {})
    assert national == {pseudonym("r1"): "r1", "non attribué": None}
    assert ct.slot_range_label(17) == "08:30–09:00"
    assert ct.slot_range_label(47) == "23:30–24:00"


# ------------------------------------------------------------------------- indexes


def _statements(engine):
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "contacts" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    return seen, lambda: event.remove(engine, "before_cursor_execute", capture)


@pytest.mark.parametrize("filters", [
    {}, {"channels": ("phone",)}, {"departments": ("60",)}, {"agents": ("r1",)},
    {"channels": ("email",), "departments": ("04",)},
])
def test_every_read_is_an_index_search(day_rows, filters):
    """Each statement of a page (rows, count, choices) reads contacts through an index,
    never by a full scan: one day of rows at most, whatever the filters."""
    engine = dbmod.get_engine(day_rows)
    seen, stop = _statements(engine)
    try:
        with engine.connect() as conn:
            first = q.read_page(conn, _day(NATIONAL, **filters), limit=2)
            if first.has_next:
                q.read_page(conn, _day(NATIONAL, **filters),
                            anchor=Anchor("after", first.last_key()), limit=2)
            q.day_choices(conn, _day(NATIONAL, **filters))
    finally:
        stop()
    assert len(seen) >= 4
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            # A handful of rows: the planner would rightly scan; forbid it to see that an
            # index serves every statement.
            conn.execute(text("SET LOCAL enable_seqscan = off"))
        for statement, parameters in seen:
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = [str(r[-1]) for r in conn.exec_driver_sql(explain + statement, parameters)]
            joined = "\n".join(plan)
            if postgres:
                assert "Seq Scan on contacts" not in joined, joined
                bounded = [line for line in plan if "Index Cond" in line
                           and ("local_date" in line or "received_at" in line)]
            else:
                on_contacts = [line for line in plan if " contacts " in f"{line} "]
                assert on_contacts and not any(line.startswith("SCAN") for line in on_contacts)
                # An index search bounded to the day (local_date) or to a few days of
                # receipt times, not a walk along a channel's whole history.
                bounded = [line for line in on_contacts if "ix_contacts_" in line
                           and ("local_date=?" in line or "received_at>?" in line)]
            assert bounded, joined


def test_every_stored_outcome_has_a_french_label_and_a_filter():
    assert set(ct.OUTCOME_LABELS) == {*schema.PHONE_OUTCOMES, *schema.EMAIL_OUTCOMES}
    assert ct.OUTCOME_LABELS["ivr"] == "Serveur vocal"
    assert set(q.OUTCOMES) == {"answered", "abandoned", "deflected", "ivr", "replied",
                                    "pending", "closed"}
