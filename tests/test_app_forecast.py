"""Aujourd'hui's "Demain et les jours suivants": the forecast of the site in view, the
agents needed against the agents planned (engine.forecasting), under AppTest and by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import insert, text

from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.engine import forecasting
from dashboard.store import database as dbmod
from dashboard.store import schema
from tests.apptest import open_page

PAGE = "pages/aujourdhui.py"
ROUEN = Scope("supervisor", site="rouen")


def test_planned_agents_per_half_hour_by_hand(db_url):
    # 15/04/2015 (CEST, UTC+2), Rouen: a1 on the phone 09:00–11:00 then a pause to 11:30;
    # a2 answering e-mails 10:00–10:45. Slots (local): 18 = 09:00 … 22 = 11:00.
    with dbmod.get_engine(db_url).begin() as conn:
        for shift, agent, start, end, activity in (
                ("s1", "a1", (7, 0), (9, 0), "telephone"),
                ("s2", "a1", (9, 0), (9, 30), "pause"),
                ("s3", "a2", (8, 0), (8, 45), "courriel")):
            conn.execute(insert(schema.schedules).values(
                source="test", shift_id=shift, agent_id=agent, site="rouen",
                start_at=dt.datetime(2015, 4, 15, *start), end_at=dt.datetime(2015, 4, 15, *end),
                local_date=dt.date(2015, 4, 15), activity=activity))
    day = dt.date(2015, 4, 15)
    got = forecasting.planned_agents(dbmod.get_engine(db_url),
                                     Filters(day, day, sites=("rouen",), scope=ROUEN))
    planned = {r["local_slot"]: r["agents_planned"] for r in got.iter_rows(named=True)}
    assert planned[18] == pytest.approx(1.0)  # a1
    assert planned[19] == pytest.approx(1.0)  # a1
    assert planned[20] == pytest.approx(2.0)  # a1 and a2 (10:00–10:30)
    assert planned[21] == pytest.approx(1.0 + 15 / 30)  # a1, and a2's last quarter hour
    assert planned.get(22, 0) == 0  # the pause is no contact activity
    # Chartres' supervisor sees none of Rouen's plan.
    other = forecasting.planned_agents(
        dbmod.get_engine(db_url), Filters(day, day, scope=Scope("supervisor", site="chartres")))
    assert other.height == 0


def test_the_next_days_section_shows_the_sites_forecast(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, "superviseur.rouen")
    assert not at.exception
    assert "Demain et les jours suivants" in [h.value for h in at.header]
    engine = dbmod.get_engine(demo_db_url)
    with engine.connect() as conn:
        last = conn.execute(text("SELECT MAX(local_date) FROM contacts WHERE site = 'rouen'")
                            ).scalar()
    last = dt.date.fromisoformat(str(last)[:10])
    filters, ref = forecasting.history_filters(engine, ROUEN, ("rouen",))
    assert filters.end == last
    result = forecasting.forecast_for(engine, filters, ref, 7)
    # The first forecast day with calls, and its calls, as the reading says.
    open_days = result.slots.filter(pl.col("expected") > 0)
    day = open_days["local_date"].min()
    total = round(open_days.filter(pl.col("local_date") == day)["expected"].sum())
    reading = [c.value for c in at.caption if c.value.startswith(f"Le {day:%d/%m/%Y}")]
    assert len(reading) == 1 and f"environ {total} appels attendus" in reading[0]
    # The demo publishes its rota four weeks ahead: the half-hours where fewer agents are
    # planned on a contact activity than Erlang C needs are named, in order.
    planned = forecasting.planned_agents(engine, Filters(day, day, sites=("rouen",),
                                                         scope=ROUEN))
    assert planned.height > 0
    need = open_days.filter(pl.col("local_date") == day).select("local_slot", "agents_needed")
    short = (need.join(planned.select("local_slot", "agents_planned"), on="local_slot",
                       how="left")
             .filter(pl.col("agents_planned").fill_null(0) < pl.col("agents_needed"))
             .sort("local_slot")["local_slot"].to_list())
    labels = [f"{s // 2:02d}\\:{30 * (s % 2):02d}" for s in short]
    if short:
        assert reading[0].endswith(f"en sous-effectif \\: {', '.join(labels)}.")
    else:
        assert "L'effectif planifié couvre le besoin" in reading[0]
    days = at.dataframe[-1].value
    assert list(days["Jour"]) == [f"{last + dt.timedelta(days=d):%d/%m/%Y}"
                                  for d in range(1, 8)]


def test_several_sites_ask_for_one(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, "directeur")
    assert not at.exception
    assert any("Choisissez un site" in i.value for i in at.info)


EFFECTIFS = "pages/effectifs.py"


def _header_index(at, title):
    return [h.value for h in at.header].index(title)


def test_effectifs_shows_the_next_four_weeks_and_adherence(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, EFFECTIFS, "superviseur.rouen")
    assert not at.exception
    headers = [h.value for h in at.header]
    assert "Respect du planning" in headers and "Les quatre prochaines semaines" in headers
    # 28 days after 31/12/2015 end on 28/01/2016; 01/01 is a public holiday, weekends are
    # closed: 4–8, 11–15, 18–22 and 25–28 January, 19 open days.
    ahead = next(d.value for d in at.dataframe if "Heures-agents requises" in d.value.columns)
    assert len(ahead) == 19
    assert list(ahead["Jour"])[:2] == ["lun. 04/01", "mar. 05/01"]
    assert list(ahead["Jour"])[-1] == "jeu. 28/01"
    # The demo's rota is published for those weeks: every day has planned hours.
    assert ahead["Heures-agents planifiées"].notna().all()
    assert "Aucun planning importé" not in " ".join(c.value for c in at.caption)

    # Adherence over the page's period, as the engine gives it, one row per Rouen agent
    # then the site's; no Chartres agent.
    table = next(d.value for d in at.dataframe if "Respect du planning" in d.value.columns)
    assert set(table["Site"]) == {"Rouen"}
    assert list(table["Agent"])[-1] == "Ensemble du site"
    assert all(a.endswith(")") and "(rouen-" in a for a in list(table["Agent"])[:-1])
    filters = _page_period(at)
    engine = dbmod.get_engine(demo_db_url)
    from dashboard.engine.schedule_adherence import period_adherence
    expected = period_adherence(engine, Filters(filters[0], filters[1], scope=ROUEN))
    site = expected.filter(pl.col("grain") == "site").row(0, named=True)
    from dashboard.core import formatting as fmt
    assert list(table["Respect du planning"])[-1] == fmt.fr_percent(site["adherence"])
    assert list(table["Conformité"])[-1] == fmt.fr_percent(site["conformance"])
    assert len(table) == expected.height


def _page_period(at):
    """The sidebar's period as the page read it (its two date inputs)."""
    days = [d.value for d in at.sidebar.date_input]
    if len(days) == 1 and isinstance(days[0], tuple):
        return days[0]
    return days[0], days[1]


def test_the_directorate_picks_a_site_and_sees_no_agent_name(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, EFFECTIFS, "directeur")
    assert not at.exception
    assert any("Choisissez un site pour voir sa prévision" in i.value for i in at.info)
    table = next(d.value for d in at.dataframe if "Respect du planning" in d.value.columns)
    assert set(table["Site"]) == {"Rouen", "Chartres"}
    shown = " ".join(table["Agent"])
    assert "rouen-a" not in shown and "chartres-a" not in shown
    at.selectbox(key="site_prevision").set_value("chartres").run()
    assert not at.exception
    ahead = next(d.value for d in at.dataframe if "Heures-agents requises" in d.value.columns)
    assert len(ahead) == 19


def test_an_agent_reads_their_own_adherence_beside_the_team_median(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, "pages/mes_statistiques.py", "rouen-a02")
    assert not at.exception
    start, end = _page_period(at)
    engine = dbmod.get_engine(demo_db_url)
    from dashboard.core import formatting as fmt
    from dashboard.engine.schedule_adherence import period_adherence
    # The team's agents, read here with the site's scope; the median by hand over them.
    team = period_adherence(engine, Filters(start, end, scope=Scope("supervisor", site="rouen"))
                            ).filter(pl.col("grain") == "agent")
    own = team.filter(pl.col("agent_id") == "rouen-a02").row(0, named=True)
    values = sorted(v for v in team["adherence"].to_list() if v is not None)
    n = len(values)
    median = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    tile = next(m for m in at.metric if m.label == "Respect du planning")
    assert tile.value == fmt.fr_percent(own["adherence"])
    assert f"Médiane de l'équipe : **{fmt.fr_percent(median)}**" in [c.value for c in at.caption]
    # Nothing of another agent's: no other id on the page.
    shown = " ".join(str(e.value) for e in at.markdown) + " ".join(c.value for c in at.caption)
    assert "rouen-a01" not in shown and "rouen-a03" not in shown
