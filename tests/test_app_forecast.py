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
    # The demo's rota ends with its data: nothing planned for the coming days.
    assert "Aucun planning importé" in reading[0]
    days = at.dataframe[-1].value
    assert list(days["Jour"]) == [f"{last + dt.timedelta(days=d):%d/%m/%Y}"
                                  for d in range(1, 8)]


def test_several_sites_ask_for_one(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, "directeur")
    assert not at.exception
    assert any("Choisissez un site" in i.value for i in at.info)
