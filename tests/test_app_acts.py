"""The Actes page under AppTest on the demo database: acts equal independent counts, rates
equal the engine, the URL restores the choices, the scope holds, empty selections say so."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from dashboard.charts.acts import ACT_TYPE_LABELS
from dashboard.core import formatting as fmt
from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.store import database as dbmod
from tests.apptest import metric, number, open_page, texts

PAGE = "pages/actes.py"
ROUEN = "superviseur.rouen"
MAY = (dt.date(2015, 5, 1), dt.date(2015, 5, 31))


def _acts(url: str, start: dt.date, end: dt.date, extra: str = "", **params) -> int:
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(text(
            "SELECT COUNT(*) FROM acts WHERE site = 'rouen' AND local_date BETWEEN :a AND :b "
            + extra), dict(a=start, b=end, **params)).scalar_one()


def _table(at, first_column: str):
    return next(f.value for f in at.dataframe if f.value.columns[0] == first_column)


def _period(start: dt.date, end: dt.date) -> list[str]:
    return [start.isoformat(), end.isoformat()]


def test_tiles_equal_independent_counts_and_the_engine(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, periode=_period(*MAY))
    assert not at.exception
    assert at.sidebar.date_input(key="periode").value == MAY
    assert number(metric(at, "Actes de gestion").value) == _acts(demo_db_url, *MAY)
    engine = compute_kpis(dbmod.get_engine(demo_db_url),
                          Filters(*MAY, scope=Scope("supervisor", site="rouen"))).row(
        0, named=True)
    assert metric(at, "Actes pour 100 contacts traités").value == fmt.fr_decimal(
        engine["acts_per_100_handled"], 1)
    assert metric(at, "Promotion des services en ligne").value == fmt.fr_percent(
        engine["online_promotion_rate"])
    assert metric(at, "Taux de rappel sous 7 jours").value == fmt.fr_percent(
        engine["repeat_contact_rate"])
    assert len(at.get("vega_lite_chart")) == 3
    by_day = _table(at, "Jour")  # 31 days: one bar a day
    assert len(by_day) == _acts_days(demo_db_url, *MAY)
    assert sum(number(v) for v in by_day["Total"]) == _acts(demo_db_url, *MAY)
    breakdown = _table(at, "Type d'acte")
    for code, label in ACT_TYPE_LABELS.items():
        row = breakdown[breakdown["Type d'acte"] == label]
        expected = _acts(demo_db_url, *MAY, "AND act_type = :t", t=code)
        assert (number(row["Total"].item()) if len(row) else 0) == expected


def _acts_days(url: str, start: dt.date, end: dt.date) -> int:
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(text(
            "SELECT COUNT(DISTINCT local_date) FROM acts WHERE site = 'rouen' AND local_date "
            "BETWEEN :a AND :b"), dict(a=start, b=end)).scalar_one()


def test_the_url_restores_the_split_and_a_long_period_goes_weekly(monkeypatch, demo_db_url):
    half_year = (dt.date(2015, 1, 5), dt.date(2015, 6, 28))  # Monday to Sunday: 25 weeks
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, periode=_period(*half_year),
                   ventiler="Département")
    assert not at.exception
    assert at.button_group(key="ventiler").value == "department"
    weekly = _table(at, "Semaine du")
    assert weekly["Semaine du"].iloc[0] == "05/01/2015"
    assert len(weekly) == 25
    assert sum(number(v) for v in weekly["60 Oise"]) == _acts(
        demo_db_url, *half_year, "AND department = '60'")
    assert sum(number(v) for v in weekly["04 Alpes-de-Haute-Provence"]) == _acts(
        demo_db_url, *half_year, "AND department = '04'")


def test_changing_the_split_changes_the_table(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, periode=_period(*MAY))
    by_type = _table(at, "Jour")
    assert "Attestation" in by_type.columns
    at.button_group(key="ventiler").set_value("department").run()
    assert not at.exception
    by_dept = _table(at, "Jour")
    assert "Attestation" not in by_dept.columns and "60 Oise" in by_dept.columns
    assert list(by_dept["Total"]) == list(by_type["Total"])


def test_a_channel_filter_hides_acts_but_keeps_the_service_rates(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, periode=_period(*MAY),
                   canal="Téléphone")
    assert not at.exception
    assert "ne sont pas rattachés à un canal" in at.info[0].value
    assert metric(at, "Actes de gestion").value == fmt.MISSING
    assert metric(at, "Promotion des services en ligne").value != fmt.MISSING
    assert len(at.get("vega_lite_chart")) == 1  # the service rates only


def test_a_rouen_supervisor_never_sees_chartres(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN, periode=_period(*MAY),
                   site="Chartres", dept="28", ventiler="Département")
    assert not at.exception
    assert number(metric(at, "Actes de gestion").value) == _acts(demo_db_url, *MAY)
    shown = texts(at)
    for word in ["Chartres", "Eure-et-Loir", "Seine-Saint-Denis"]:
        assert word not in shown


def test_a_departement_before_its_coverage_says_so(monkeypatch, demo_db_url):
    at = open_page(monkeypatch, demo_db_url, PAGE, ROUEN,
                   periode=_period(dt.date(2015, 3, 1), dt.date(2015, 3, 31)))
    at.multiselect(key="dept").set_value(["04"]).run()
    assert not at.exception
    assert at.info[0].value.startswith("Aucune activité du 01/03/2015 au 31/03/2015")
    assert not at.metric and not at.get("vega_lite_chart")
