"""The review's other figures on hand cases: tool availability, agents trained before
their start (dashboard.metrics.tools) and the staff barometer's small-group rule
(dashboard.metrics.barometer)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from dashboard.core import formatting as fmt
from dashboard.metrics import barometer as bar
from dashboard.metrics import tools
from dashboard.store.schema import INCIDENT_COMPONENTS, STAFF_QUESTIONS

D = dt.date
T = dt.datetime


def _hours(*rows) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema={"site": pl.String, "timezone": pl.String,
                                            "opens_at": pl.String, "closes_at": pl.String,
                                            "open_weekdays": pl.String}, orient="row")


def _incidents(*rows) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema={"component": pl.String, "site": pl.String,
                                            "start_at": pl.Datetime("us"),
                                            "end_at": pl.Datetime("us"),
                                            "severity": pl.String}, orient="row")


# ------------------------------------------------------------------ tool availability

# Week of Monday 04/05/2015 to Sunday 10/05/2015. Friday 08/05 is a public holiday
# (Victoire 1945), Saturday and Sunday are closed: open days Mon 4 to Thu 7.
# Rouen 08:30–19:00 = 630 min a day, 2520 min; Chartres 09:00–17:00 = 480, 1920 min.
# Paris is UTC+2 in May: local 10:00 = 08:00 UTC.
HOURS = _hours(("rouen", "Europe/Paris", "08:30", "19:00", "12345"),
               ("chartres", "Europe/Paris", "09:00", "17:00", "12345"))
WEEK = (D(2015, 5, 4), D(2015, 5, 10))
INCIDENTS = _incidents(
    # Mon 18:00–20:30 local, straddling Rouen's 19:00 closing: 60 min.
    ("telephonie", "rouen", T(2015, 5, 4, 16), T(2015, 5, 4, 18, 30), "panne"),
    # Tue 10:00–11:00 on every site: 60 min each; Rouen's own 10:30–11:30 overlaps it:
    # Rouen's union 10:00–11:30 = 90 min.
    ("telephonie", None, T(2015, 5, 5, 8), T(2015, 5, 5, 9), "panne"),
    ("telephonie", "rouen", T(2015, 5, 5, 8, 30), T(2015, 5, 5, 9, 30), "panne"),
    # Wed 09:00–10:00 and 09:30–10:30: 90 min, not 120. Degraded 10:00–11:00: its
    # 10:30–11:00 is not also out, 30 degraded minutes.
    ("telephonie", "rouen", T(2015, 5, 6, 7), T(2015, 5, 6, 8), "panne"),
    ("telephonie", "rouen", T(2015, 5, 6, 7, 30), T(2015, 5, 6, 8, 30), "panne"),
    ("telephonie", "rouen", T(2015, 5, 6, 8), T(2015, 5, 6, 9), "degrade"),
    # Friday 08/05 (holiday) on every site and Saturday 09/05 in Rouen: closed, 0 min.
    ("telephonie", None, T(2015, 5, 8, 8), T(2015, 5, 8, 10), "panne"),
    ("telephonie", "rouen", T(2015, 5, 9, 8), T(2015, 5, 9, 10), "panne"),
    # Mail from Sunday 03/05 20:00 to Monday 09:30 local: Monday 08:30–09:30, 60 min.
    ("messagerie", "rouen", T(2015, 5, 3, 18), T(2015, 5, 4, 7, 30), "panne"),
    # Applications degraded only, Chartres Thu 09:00–17:00: 480 degraded, none out.
    ("applications", "chartres", T(2015, 5, 7, 7), T(2015, 5, 7, 15), "degrade"),
)


def _by_key(frame: pl.DataFrame) -> dict:
    return {(r["site"], r["component"]): r for r in frame.iter_rows(named=True)}


def test_tool_availability_per_site_and_component_by_hand():
    out = _by_key(tools.tool_availability(INCIDENTS, HOURS, *WEEK, INCIDENT_COMPONENTS))
    assert len(out) == 6  # every component of every site, incidents or not
    phone = out[("rouen", "telephonie")]
    # 60 (Mon) + 90 (Tue) + 90 (Wed) = 240 of 2520 min.
    assert phone["opening_minutes"] == pytest.approx(2520)
    assert phone["outage_minutes"] == pytest.approx(240)
    assert phone["degraded_minutes"] == pytest.approx(30)
    assert phone["tool_availability"] == pytest.approx(1 - 240 / 2520)
    # Chartres: only the all-site Tuesday hour, 60 of 1920 min.
    assert out[("chartres", "telephonie")]["outage_minutes"] == pytest.approx(60)
    assert out[("chartres", "telephonie")]["tool_availability"] == pytest.approx(1 - 60 / 1920)
    assert out[("rouen", "messagerie")]["tool_availability"] == pytest.approx(1 - 60 / 2520)
    apps = out[("chartres", "applications")]
    assert (apps["outage_minutes"], apps["degraded_minutes"]) == (0, pytest.approx(480))
    assert apps["tool_availability"] == 1.0
    assert out[("chartres", "messagerie")]["tool_availability"] == 1.0


def test_tool_availability_over_all_sites_sums_minutes():
    out = tools.tool_availability(INCIDENTS, HOURS, *WEEK, INCIDENT_COMPONENTS, by_site=False)
    phone = out.filter(pl.col("component") == "telephonie").row(0, named=True)
    # (240 + 60) / (2520 + 1920) out.
    assert phone["tool_availability"] == pytest.approx(1 - 300 / 4440)
    assert "site" not in out.columns and out.height == 3


def test_a_closed_period_has_no_availability():
    # The weekend of 09–10/05: no opening minute, so no rate (not 100 %).
    out = tools.tool_availability(INCIDENTS, HOURS, D(2015, 5, 9), D(2015, 5, 10),
                                  INCIDENT_COMPONENTS)
    assert set(out.get_column("opening_minutes")) == {0}
    assert out.get_column("tool_availability").null_count() == out.height


def test_tool_availability_on_the_dst_days():
    # A site open every day around the clock. Sunday 29/03/2015 has 23 hours (1380 min):
    # local 00:00 CET = 28/03 23:00 UTC, 24:00 CEST = 29/03 22:00 UTC. An outage from
    # local 00:00 to 12:00 CEST (10:00 UTC) lasts 11 real hours: 660 min.
    always = _hours(("nuit", "Europe/Paris", "00:00", "24:00", "1234567"))
    spring = _incidents(("telephonie", "nuit", T(2015, 3, 28, 23), T(2015, 3, 29, 10), "panne"))
    row = tools.tool_availability(spring, always, D(2015, 3, 29), D(2015, 3, 29),
                                  ("telephonie",)).row(0, named=True)
    assert row["opening_minutes"] == pytest.approx(1380)
    assert row["outage_minutes"] == pytest.approx(660)
    assert row["tool_availability"] == pytest.approx(12 / 23)
    # Sunday 25/10/2015 has 25 hours (1500 min); one hour out.
    autumn = _incidents(("telephonie", "nuit", T(2015, 10, 25, 1), T(2015, 10, 25, 2), "panne"))
    row = tools.tool_availability(autumn, always, D(2015, 10, 25), D(2015, 10, 25),
                                  ("telephonie",)).row(0, named=True)
    assert row["opening_minutes"] == pytest.approx(1500)
    assert row["tool_availability"] == pytest.approx(1 - 60 / 1500)


def test_no_incident_means_full_availability():
    out = tools.tool_availability(_incidents(), HOURS, *WEEK, INCIDENT_COMPONENTS)
    assert set(out.get_column("tool_availability")) == {1.0}
    assert set(out.get_column("outage_minutes")) == {0}


# ----------------------------------------------------------- trained before start


def test_trained_before_start_by_hand():
    agents = pl.DataFrame(
        [("rouen", "a1", D(2015, 4, 1)), ("rouen", "a2", D(2015, 4, 1)),
         ("rouen", "a3", D(2015, 4, 10)), ("chartres", "c1", D(2015, 3, 2)),
         ("chartres", "c2", D(2015, 3, 2))],
        schema={"site": pl.String, "agent_id": pl.String, "first_day": pl.Date}, orient="row")
    training = pl.DataFrame(
        [("a1", D(2015, 3, 20)),  # before: trained
         ("a2", D(2015, 4, 1)),  # the day of the first session: not before
         ("a3", D(2015, 4, 15)),  # after
         ("c1", D(2015, 2, 10)), ("c1", D(2015, 2, 11)),  # two days, one agent
         ("zz", D(2015, 1, 5))],  # no session: not counted anywhere
        schema={"agent_id": pl.String, "day": pl.Date}, orient="row")
    out = {r["site"]: r for r in tools.trained_before_start(agents, training).iter_rows(named=True)}
    assert (out["rouen"]["agents"], out["rouen"]["trained"]) == (3, 1)
    assert out["rouen"]["trained_before_start"] == pytest.approx(1 / 3)
    assert (out["chartres"]["agents"], out["chartres"]["trained"]) == (2, 1)
    assert out["chartres"]["trained_before_start"] == pytest.approx(1 / 2)
    total = tools.trained_before_start(agents, training, by_site=False).row(0, named=True)
    assert (total["agents"], total["trained"]) == (5, 2)
    assert total["trained_before_start"] == pytest.approx(2 / 5)
    nobody = tools.trained_before_start(agents.clear(), training, by_site=False)
    assert nobody.row(0, named=True)["trained_before_start"] is None


# --------------------------------------------------------------------- barometer

WAVE = D(2015, 6, 1)
Q = list(STAFF_QUESTIONS)  # tools, training, workload, acts_scope, overall


def _responses(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"wave": pl.Date, "population": pl.String,
                                      "site": pl.String, "department": pl.String,
                                      **{q: pl.Int64 for q in Q}}, orient="row")


# Rouen's centre agents, 5 respondents; workload answered only 4 times.
ROUEN = [(WAVE, "centre_agent", "rouen", None, *answers) for answers in (
    (4, 1, 5, 3, 4), (5, 2, 5, 3, 4), (3, 3, 4, 3, 4), (4, 4, 3, 3, 4), (2, 5, None, 3, 5))]
# Chartres's centre agents: 4 respondents, all 5s (would be a mean of 5.0 if shown).
CHARTRES = [(WAVE, "centre_agent", "chartres", None, 5, 5, 5, 5, 5)] * 4
# Oise's local agents: 6 respondents, by département.
OISE = [(WAVE, "local_agent", None, "60", 2, 2, 2, 2, a) for a in (1, 2, 3, 4, 5, 5)]


def test_barometer_shows_five_respondents_and_hides_four():
    out = bar.barometer(_responses(ROUEN + CHARTRES + OISE), Q)
    rows = {(r["site"], r["department"]): r for r in out.iter_rows(named=True)}
    rouen = rows[("rouen", None)]
    assert rouen["hidden"] is False and rouen["respondents"] == 5
    # tools 4 5 3 4 2: mean 18/5 = 3.6, three of five ≥ 4.
    assert rouen["tools_mean"] == pytest.approx(3.6)
    assert rouen["tools_share_4plus"] == pytest.approx(0.6)
    # training 1 2 3 4 5: mean 3.0, two of five ≥ 4.
    assert rouen["training_mean"] == pytest.approx(3.0)
    assert rouen["training_share_4plus"] == pytest.approx(0.4)
    # acts_scope all 3: 3.0, none ≥ 4; overall 4 4 4 4 5: 4.2, all ≥ 4.
    assert (rouen["acts_scope_mean"], rouen["acts_scope_share_4plus"]) == (3.0, 0.0)
    assert rouen["overall_mean"] == pytest.approx(4.2)
    assert rouen["overall_share_4plus"] == 1.0
    # workload answered 4 times only: nulled like a small group.
    assert rouen["workload_mean"] is None and rouen["workload_share_4plus"] is None

    chartres = rows[("chartres", None)]
    assert chartres["hidden"] is True
    figures = {k: v for k, v in chartres.items() if k not in bar.GROUP_KEYS + ("hidden",)}
    assert set(figures) == set(bar.figure_columns(Q))
    assert set(figures.values()) == {None}  # no figure at all, its count included

    oise = rows[(None, "60")]
    assert oise["population"] == "local_agent" and oise["respondents"] == 6
    # overall 1 2 3 4 5 5: mean 20/6, three of six ≥ 4.
    assert oise["overall_mean"] == pytest.approx(20 / 6)
    assert oise["overall_share_4plus"] == pytest.approx(0.5)


def test_the_same_group_in_another_wave_is_another_group():
    later = [(D(2015, 12, 1), *row[1:]) for row in ROUEN[:4]]
    out = bar.barometer(_responses(ROUEN + later), Q)
    assert out.select("wave", "hidden").rows() == [(WAVE, False), (D(2015, 12, 1), True)]


def test_the_small_group_text():
    assert fmt.SMALL_GROUP == "— (moins de 5 réponses)"
    assert str(bar.MIN_RESPONDENTS) in fmt.SMALL_GROUP
