"""The forecast's screen frames (dashboard.charts.forecast, dashboard.charts.adherence) on
tiny crafted frames, expected values by hand; the French formats they use."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from dashboard.charts import adherence as adherence_charts
from dashboard.charts import forecast as fc
from dashboard.core import formatting as fmt
from dashboard.engine.schedule_adherence import team_rate_medians

MON, TUE = dt.date(2016, 1, 4), dt.date(2016, 1, 5)


def _slots(rows):
    """(day, slot, expected, agents_needed) → Forecast.slots-like rows."""
    return pl.DataFrame(
        [{"site": "rouen", "local_date": d, "local_slot": s, "expected": e,
          "low": e * 0.8, "high": e * 1.2, "agents_needed": n,
          "agents_needed_low": max(n - 1, 0), "agents_needed_high": n + 1}
         for d, s, e, n in rows],
        schema={"site": pl.String, "local_date": pl.Date, "local_slot": pl.Int64,
                "expected": pl.Float64, "low": pl.Float64, "high": pl.Float64,
                "agents_needed": pl.Int64, "agents_needed_low": pl.Int64,
                "agents_needed_high": pl.Int64})


def _planned(rows):
    return pl.DataFrame([{"site": "rouen", "local_date": d, "local_slot": s,
                          "agents_planned": p} for d, s, p in rows],
                        schema={"site": pl.String, "local_date": pl.Date,
                                "local_slot": pl.Int64, "agents_planned": pl.Float64})


def test_a_half_hour_nobody_is_planned_on_is_short_on_a_day_with_a_rota():
    slots = _slots([(MON, 18, 10.0, 2), (MON, 19, 12.0, 3), (MON, 20, 6.0, 1)])
    # Monday's rota covers 09:00 with 2 agents and 09:30 with 3.5; nobody at 10:00.
    planned = _planned([(MON, 18, 2.0), (MON, 19, 3.5)])
    frame = fc.day_slots(slots, planned, MON)
    assert frame["slot"].to_list() == ["09:00", "09:30", "10:00"]
    assert frame["agents_planned"].to_list() == [2.0, 3.5, 0.0]
    assert frame["short"].to_list() == [False, False, True]
    assert fc.calls_reading(frame, MON).endswith("1 demi-heure en sous-effectif : 10:00.")
    table = fc.slots_table(frame)
    assert table["Agents requis sur l'intervalle"].to_list() == ["1 à 3", "2 à 4", "0 à 2"]
    assert table["Sous-effectif"].to_list() == ["", "", "oui"]
    # Without any shift that day the plan is unknown, never a shortfall.
    unknown = fc.day_slots(slots, planned.clear(), MON)
    assert unknown["agents_planned"].null_count() == 3
    assert unknown["short"].null_count() == 3
    assert "Aucun planning importé" in fc.calls_reading(unknown, MON)


def test_the_coverage_grid_and_its_day_table():
    slots = _slots([(MON, 18, 10.0, 2), (MON, 19, 12.0, 3), (TUE, 18, 8.0, 2),
                    (TUE, 19, 0.0, 0)])  # Tuesday 09:30: nothing expected, left out
    planned = _planned([(MON, 18, 1.5), (MON, 19, 4.0)])  # no rota on Tuesday
    grid = fc.coverage_grid(slots, planned)
    assert grid.select("day", "slot", "agents_planned", "gap").rows() == [
        ("lun. 04/01", "09:00", 1.5, -0.5), ("lun. 04/01", "09:30", 4.0, 1.0),
        ("mar. 05/01", "09:00", None, None)]
    days = pl.DataFrame({"channel": ["phone", "phone", "email"],
                         "local_date": [MON, TUE, MON], "expected": [22.4, 8.0, 5.0]})
    table = fc.coverage_days(grid, days)
    # Monday: needed (2 + 3) half-hour agents = 2.5 agent-hours; planned (1.5 + 4) / 2 =
    # 2.75 → 2.8 shown; one short half-hour (09:00). Tuesday: 2 / 2 = 1 h, no rota.
    assert table.rows() == [("lun. 04/01", 22, 2.5, 2.8, "1"),
                            ("mar. 05/01", 8, 1.0, None, "aucun planning")]
    assert fc.coverage_reading(grid) == (
        "1 demi-heure sur 2 planifiées en sous-effectif ; le plus grand écart le lun. 04/01 "
        "à 09:00 : 1,5 agents planifiés pour 2 requis ; 1 jour sans planning.")


def test_the_eve_forecast_beside_the_calls_received():
    eve = _slots([(MON, 18, 10.0, 2), (MON, 19, 5.0, 1), (MON, 20, 0.0, 0)])
    actual = pl.DataFrame({"slot": ["09:00", "09:30", "10:30"], "received": [13, 5, 1]})
    frame = fc.eve_slots(eve, actual, MON)
    # 10:00 had neither forecast nor call: dropped; 10:30 had a call nobody expected.
    assert frame.select("slot", "expected", "received").rows() == [
        ("09:00", 10.0, 13.0), ("09:30", 5.0, 5.0), ("10:30", 0.0, 1.0)]
    # 15 expected, 19 received: +26,7 %. Outside [0.8e, 1.2e]: 09:00 (13 > 12) and 10:30
    # (1 > 0).
    assert fc.eve_reading(frame, MON) == (
        "La veille, 15 appels étaient prévus pour le 04/01/2016 ; 19 ont été reçus "
        f"(+26,7{fmt.NNBSP}%). 2 demi-heures sur 3 hors de l'intervalle à 80 %.")


def test_signed_percent_and_weekday_dates():
    assert fmt.fr_signed_percent(0.1234) == f"+12,3{fmt.NNBSP}%"
    assert fmt.fr_signed_percent(-0.04) == f"−4,0{fmt.NNBSP}%"
    assert fmt.fr_signed_percent(0.00001) == f"0,0{fmt.NNBSP}%"
    assert fmt.fr_signed_percent(None) == fmt.MISSING
    assert fmt.fr_weekday_date(dt.date(2016, 1, 10)) == "dim. 10/01"


def _adherence(rows):
    return pl.DataFrame(rows, schema={
        "grain": pl.String, "site": pl.String, "agent_id": pl.String,
        "planned_contact_minutes": pl.Float64, "adherent_minutes": pl.Float64,
        "planned_minutes": pl.Float64, "logged_minutes": pl.Float64,
        "adherence": pl.Float64, "conformance": pl.Float64}, orient="row")


def test_the_adherence_table_and_reading():
    table = _adherence([
        ("agent", "rouen", "a2", 240.0, 180.0, 300.0, 270.0, 0.75, 0.9),
        ("agent", "rouen", "a1", 120.0, 120.0, 120.0, 126.0, 1.0, 1.05),
        ("site", "rouen", None, 360.0, 300.0, 420.0, 396.0, 300 / 360, 396 / 420)])
    shown = adherence_charts.display(table, {"rouen": "Rouen"}, {"a1": "Anne Martin"})
    assert shown["Agent"].to_list() == ["Anne Martin (a1)", "a2", "Ensemble du site"]
    assert shown["Heures planifiées sur les contacts"].to_list() == [
        f"2,0{fmt.NNBSP}h", f"4,0{fmt.NNBSP}h", f"6,0{fmt.NNBSP}h"]
    assert shown["Respect du planning"].to_list() == [
        f"100,0{fmt.NNBSP}%", f"75,0{fmt.NNBSP}%", f"83,3{fmt.NNBSP}%"]
    assert adherence_charts.reading(table, {"rouen": "Rouen"}) == (
        f"Rouen : respect du planning 83,3{fmt.NNBSP}%, conformité 94,3{fmt.NNBSP}%, 1 agent "
        f"sous 80{fmt.NNBSP}% de respect.")


def test_the_team_median_of_adherence_is_withheld_below_three_agents():
    two = _adherence([("agent", "rouen", "a1", 60.0, 60.0, 60.0, 60.0, 1.0, 1.0),
                      ("agent", "rouen", "a2", 60.0, 30.0, 60.0, 30.0, 0.5, 0.5)])
    got = {r["metric"]: r for r in team_rate_medians(two).iter_rows(named=True)}
    assert got["adherence"]["median"] is None and got["adherence"]["agents"] == 2
    four = pl.concat([two, _adherence([
        ("agent", "rouen", "a3", 60.0, 48.0, 60.0, 54.0, 0.8, 0.9),
        ("agent", "rouen", "a4", 0.0, 0.0, 60.0, 42.0, None, 0.7)])])
    got = {r["metric"]: r for r in team_rate_medians(four).iter_rows(named=True)}
    # Adherence over a1, a2, a3 (a4 had no contact minutes planned): median 0.8.
    assert got["adherence"]["median"] == pytest.approx(0.8) and got["adherence"]["agents"] == 3
    # Conformance over four agents: (0.7 + 0.9) / 2.
    assert got["conformance"]["median"] == pytest.approx(0.8)
    assert got["conformance"]["agents"] == 4


def test_half_hour_bounds_add_the_chance_of_a_few_calls():
    from dashboard.metrics import forecast as m_fc
    z = 1.2815515655446004  # the standard normal's 90 % quantile
    # No day uncertainty, 4 calls expected: Poisson deviation √4 = 2; 4 ± 2z = 4 ± 2.563.
    low, high = m_fc.slot_bounds(4.0, 4.0, 4.0)
    assert (low, high) == pytest.approx((1.4369, 6.5631), abs=1e-4)
    # The day's share 6.155–13.845 around 10 is ± 3z: a deviation of 3; with Poisson's
    # √10: √(9 + 10) = 4.3589, × z = 5.5862.
    low, high = m_fc.slot_bounds(10.0, 10 - 3 * z, 10 + 3 * z)
    assert (low, high) == pytest.approx((10 - 5.5862, 10 + 5.5862), abs=1e-4)
    # Never below zero; unknown bounds stay unknown.
    assert m_fc.slot_bounds(0.5, 0.5, 0.5)[0] == 0.0
    assert m_fc.slot_bounds(3.0, None, 3.0) == (None, 3.0)
