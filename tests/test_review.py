"""The review's derived series (dashboard.review.figures) on hand-made frames, and its charts."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from dashboard.metrics.definitions import HORS_CAMPAGNE
from dashboard.review import figures as review

COVERAGE = pl.DataFrame(
    {
        "site": ["rouen", "chartres", "rouen"],
        "site_name": ["Rouen", "Chartres", "Rouen"],
        "department": ["60", "93", "04"],
        "department_name": ["Oise", "Seine-Saint-Denis", "Alpes-de-Haute-Provence"],
        # Monday; Sunday; Wednesday.
        "start_date": [dt.date(2014, 8, 4), dt.date(2015, 3, 1), dt.date(2015, 4, 1)],
        "end_date": [None, None, None],
    },
    schema_overrides={"end_date": pl.Date},
)


def _weekly(rows):
    return pl.DataFrame(rows, schema={"week": pl.String, "department": pl.String,
                                      "offered": pl.Int64, "answer_rate": pl.Float64},
                        orient="row")


def test_week_monday_follows_iso_weeks():
    assert review.week_monday("2015-W01") == dt.date(2014, 12, 29)
    assert review.week_monday("2015-W53") == dt.date(2015, 12, 28)
    assert review.week_monday("2014-W32") == dt.date(2014, 8, 4)


def test_ramp_up_aligns_each_departement_on_its_first_full_week():
    weekly = _weekly([
        ("2014-W32", "60", 100, 0.9),  # Oise opened Monday 04/08/2014: week 0
        ("2014-W33", "60", 150, 0.8),
        ("2015-W09", "93", 3, 0.0),  # 93 opened Sunday 01/03/2015: partial, dropped
        ("2015-W10", "93", 400, 0.7),  # its first full week: week 0
        ("2015-W11", "93", 500, 0.6),
        ("2015-W14", "04", 20, 1.0),  # 04 opened Wednesday 01/04/2015: partial
        ("2015-W15", "04", 60, 0.95),
        ("2015-W16", "04", 70, 0.9),
        ("2014-W30", "60", 9, 0.5),  # before opening: dropped
    ])
    ramp = review.ramp_up(weekly, COVERAGE)
    got = {(r["department"], r["weeks_since_opening"]): r["offered"]
           for r in ramp.iter_rows(named=True)}
    assert got == {("04", 0): 60, ("04", 1): 70, ("60", 0): 100, ("60", 1): 150,
                   ("93", 0): 400, ("93", 1): 500}
    assert ramp.filter(department="93")["label"].to_list() == ["93 Seine-Saint-Denis"] * 2
    assert review.ramp_up(weekly, COVERAGE, max_weeks=0).height == 3
    reading = review.ramp_reading(ramp, weeks=8)
    # The latest week every département reached is week 1; biggest first.
    assert reading.startswith("À la semaine 1 depuis l'ouverture : 93 Seine-Saint-Denis 500")
    assert "60 Oise 150 appels présentés (décroché 80,0\u202f%)" in reading


def test_campaign_peaks_against_the_off_season():
    campaigns = pl.DataFrame({
        "name": ["Campagne A", "Campagne B"],
        "start_date": [dt.date(2015, 4, 15), dt.date(2015, 5, 1)],
        "end_date": [dt.date(2015, 5, 31), dt.date(2015, 5, 10)],
        "department": [None, "93"],
    })
    weekly = _weekly([
        # Oise, off-season weeks (full, Thursday outside campaigns): 100, 200 → mean 150.
        ("2015-W14", "60", 100, 0.95),  # Thu 02/04
        ("2015-W15", "60", 200, 0.93),  # Thu 09/04
        ("2015-W16", "60", 300, 0.90),  # Thu 16/04: campaign A
        ("2015-W17", "60", 600, 0.70),  # Thu 23/04: A, the peak
        ("2015-W23", "60", 999, 0.50),  # Thu 04/06: off-season but not full (data ends)
        # Seine-Saint-Denis: B is local and wins its weeks over the national A.
        ("2015-W15", "93", 50, 0.9),
        ("2015-W18", "93", 400, 0.6),  # Thu 30/04: A
        ("2015-W19", "93", 800, 0.4),  # Thu 07/05: B (local wins)
    ])
    by_campaign = pl.DataFrame({
        "campaign": ["Campagne A", HORS_CAMPAGNE, "Campagne A", "Campagne B", HORS_CAMPAGNE],
        "department": ["60", "60", "93", "93", "93"],
        "answer_rate": [0.75, 0.94, 0.6, 0.4, 0.9],
    })
    peaks = review.campaign_peaks(weekly, campaigns, COVERAGE, dt.date(2015, 6, 5),
                                  by_campaign)
    rows = {(r["campaign"], r["department"]): r for r in peaks.iter_rows(named=True)}
    assert set(rows) == {("Campagne A", "60"), ("Campagne A", "93"), ("Campagne B", "93")}
    oise = rows[("Campagne A", "60")]
    assert oise["peak_week"] == "2015-W17" and oise["peak_offered"] == 600
    assert oise["peak_week_start"] == dt.date(2015, 4, 20)
    assert oise["off_season_weekly"] == 150.0
    assert oise["peak_ratio"] == 4.0
    assert oise["peak_answer_rate"] == 0.70
    assert oise["campaign_answer_rate"] == 0.75 and oise["off_season_answer_rate"] == 0.94
    assert rows[("Campagne B", "93")]["peak_offered"] == 800
    assert rows[("Campagne A", "93")]["peak_offered"] == 400
    assert rows[("Campagne B", "93")]["peak_ratio"] == 16.0  # off-season: W15 only
    assert "Seine-Saint-Denis pendant la campagne b" in review.peaks_reading(peaks)
    weeks = review.campaign_weeks(weekly, campaigns)
    assert weeks.filter(week="2015-W19", department="93")["campaign"].item() == "Campagne B"
    assert weeks.filter(week="2015-W17", department="60")["campaign"].item() == "Campagne A"
    assert weeks.filter(week="2015-W15", department="60")["campaign"].item() is None


def test_weekday_slot_gap_means_over_days_with_a_value():
    cells = pl.DataFrame({
        "day": ["2015-04-06", "2015-04-13", "2015-04-13", "2015-04-07", "2015-04-11"],
        "slot": ["09:00", "09:00", "09:30", "09:00", "09:00"],
        "staffing_gap": [-2.0, 1.0, 0.5, -1.0, None],  # 11/04 is a closed Saturday
    })
    grid = review.weekday_slot_gap(cells)
    assert grid.rows() == [
        (1, "lundi", "09:00", -0.5, 2),
        (1, "lundi", "09:30", 0.5, 1),
        (2, "mardi", "09:00", -1.0, 1),
    ]
    assert review.heatmap_reading(grid) == (
        "Déficit le plus profond le mardi à 09:00 (-1,0 agent en moyenne) ; 2 demi-heures "
        "sur 3 sont en déficit en moyenne.")
    assert review.weekday_slot_gap(cells.clear()).height == 0


def test_staffing_extremes_and_readings():
    days = pl.DataFrame({
        "day": ["2015-04-06", "2015-04-07", "2015-04-08", "2015-04-09", "2015-04-11"],
        "agents_logged_in": [10.0, 8.0, 12.0, 9.0, None],
        "required_agents": [11.0, 10.0, 9.0, 9.0, None],
        "staffing_gap": [-1.0, -2.0, 3.0, 0.0, None],
    })
    under, over = review.staffing_extremes(days, ("day",), 5)
    assert under["day"].to_list() == ["2015-04-07", "2015-04-06"]
    assert over["day"].to_list() == ["2015-04-08"]
    assert review.staffing_extremes(days, ("day",), 1)[0]["day"].to_list() == ["2015-04-07"]
    assert review.daily_reading(days) == (
        "2 jour(s) d'ouverture sur 4 en déficit en moyenne sur leurs heures d'ouverture ; "
        "le plus marqué : 07/04/2015 (−2,0 agent).")
    assert (review.signed_agents(0.4), review.signed_agents(-0.4)) == ("+0,4", "−0,4")
    assert review.signed_agents(-0.01) == "0,0"
    assert review.signed_agents(None) == "—"


def test_slot_volumes_profile_and_busiest_slot():
    cells = pl.DataFrame({
        "day": ["2015-04-06", "2015-04-07", "2015-04-06", "2015-04-07"],
        "slot": ["09:00", "09:00", "09:30", "09:30"],
        "offered": [105, 52, 40, 0],
        "short_abandoned": [5, 2, 0, 0],
    })
    volumes = review.slot_volumes(cells)
    # 09:00: (100 + 50) / 2 days; 09:30: 40 on its only day with calls.
    assert volumes.rows() == [("09:00", 75.0, 2), ("09:30", 40.0, 1)]
    assert review.busiest_slot(volumes) == "09:00"
    assert review.busiest_slot(volumes.clear()) is None

    slots = pl.DataFrame({
        "slot": ["07:00", "08:30", "09:00", "09:30", "20:00"],
        "offered": [0, 5, 20, 0, 0],
        "agents_logged_in": [0.0, 2.0, 3.0, 1.0, 0.0],
        "required_agents": [0.0, 2.0, 4.0, 0.0, 0.0],
        "staffing_gap": [0.0, 0.0, -1.0, 1.0, 0.0],
    })
    prof = review.profile(slots)
    assert prof["slot"].to_list() == ["08:30", "09:00", "09:30"]
    assert review.profile_reading(prof) == (
        "Le créneau le plus en déficit est 09:00 : 3,0 agents connectés en moyenne pour 4,0 "
        "requis ; le plus en excédent est 09:30 (1,0 agent(s) de plus que requis).")


def test_side_by_side_long_frames_and_readings():
    frame = pl.DataFrame({
        "department": ["60", "93"],
        "received": [300, 700], "emails_received": [50, 150],
        "answer_rate": [0.9, 0.6], "service_level": [0.8, None],
        "reply_within_48h_rate": [0.95, 0.4], "reply_within_5wd_rate": [1.0, 0.9],
        "online_promotion_rate": [0.3, 0.35], "repeat_contact_rate": [0.1, 0.12],
        "acts_per_100_handled": [30.0, 40.0],
    })
    names = {"60": "60 Oise", "93": "93 Seine-Saint-Denis"}
    volumes = review.channel_volumes(frame, "department", names)
    assert volumes.rows() == [("60 Oise", "Appels reçus", 300), ("60 Oise", "Courriels reçus", 50),
                              ("93 Seine-Saint-Denis", "Appels reçus", 700),
                              ("93 Seine-Saint-Denis", "Courriels reçus", 150)]
    long = review.indicators_long(frame, "department", names)
    assert long.height == 12
    assert long.filter(entity="93 Seine-Saint-Denis", indicator="Niveau de service")[
        "value"].item() is None
    assert review.volume_reading(frame, "department", names) == (
        "1\u202f000 appels et 200 courriels reçus ; 93 Seine-Saint-Denis reçoit la plus "
        "grande part des appels (70,0\u202f%).")
    assert review.rate_reading(frame, "department", names) == (
        "Taux de décroché le plus élevé : 60 Oise (90,0\u202f%) ; le plus bas : "
        "93 Seine-Saint-Denis (60,0\u202f%).")
    assert review.acts_reading(frame, "department", names).startswith(
        "93 Seine-Saint-Denis 40,0 actes pour 100 contacts traités")


@pytest.mark.parametrize("builder", ["ramp", "peaks", "profile", "heatmap", "indicators"])
def test_charts_build_and_render_offline(builder):
    """Each chart builds, has a title, and renders to SVG without a browser or network."""
    from dashboard.charts import review as rc
    from dashboard.charts import staffing as sc
    from dashboard.review import report

    weekly = _weekly([("2015-W10", "93", 400, 0.7), ("2015-W11", "93", 500, 0.6)])
    campaigns = pl.DataFrame({"name": ["A"], "start_date": [dt.date(2015, 3, 9)],
                              "end_date": [dt.date(2015, 3, 15)], "department": [None]},
                             schema_overrides={"department": pl.String})
    if builder == "ramp":
        chart = rc.ramp_up_chart(review.ramp_up(weekly, COVERAGE))
    elif builder == "peaks":
        labelled = weekly.with_columns(pl.lit("93 Seine-Saint-Denis").alias("label"))
        chart = rc.campaign_load_chart(
            review.campaign_weeks(labelled, campaigns), campaigns,
            review.campaign_peaks(weekly, campaigns, COVERAGE, dt.date(2015, 3, 31)))
    elif builder == "profile":
        chart = sc.required_vs_logged_chart(pl.DataFrame({
            "slot": ["09:00", "09:30"], "offered": [10, 20],
            "required_agents": [2.0, 3.0], "agents_logged_in": [2.5, 2.0],
            "staffing_gap": [0.5, -1.0]}))
    elif builder == "heatmap":
        chart = sc.gap_heatmap(review.weekday_slot_gap(pl.DataFrame({
            "day": ["2015-04-06"], "slot": ["09:00"], "staffing_gap": [-1.5]})))
    else:
        chart = rc.indicators_chart(pl.DataFrame({
            "entity": ["60 Oise"], "indicator": ["Taux de décroché"], "value": [0.9]}))
    assert chart.to_dict()["title"]
    svg = report.chart_svg(chart)
    assert svg.startswith("<svg") and "</svg>" in svg


# ------------------------------------------- the review's other records on screen and in the report


def _barometer_frame():
    from dashboard.metrics import barometer as bar

    rows = [  # wave, population, site, department, tools, workload
        *[(dt.date(2015, 5, 11), "centre_agent", "rouen", None, 4, 2)] * 3,  # 3: hidden
        *[(dt.date(2015, 5, 11), "local_agent", None, "60", 5, None)] * 2,
        *[(dt.date(2015, 5, 11), "local_agent", None, "60", 3, 4)] * 4,  # 6, workload 4 times
    ]
    frame = pl.DataFrame(rows, orient="row", schema={
        "wave": pl.Date, "population": pl.String, "site": pl.String, "department": pl.String,
        "tools": pl.Int64, "workload": pl.Int64})
    return bar.barometer(frame, ("tools", "workload"))


def test_the_barometer_table_never_shows_a_small_groups_figure():
    from dashboard.charts import exports
    from dashboard.charts import review_records as rr
    from dashboard.core import formatting as fmt

    shown = rr.barometer_table(_barometer_frame(), ("tools", "workload"), {"rouen": "Rouen"},
                               {"60": "Oise"})
    table = shown.table.to_dicts()
    assert [r["Site ou département"] for r in table] == ["Rouen", "60 Oise"]
    hidden, oise = table
    assert {hidden[c] for c in ("Répondants", "Outils", "Charge de travail")} == {
        fmt.SMALL_GROUP}
    # Oise: 6 answers; tools 5 5 3 3 3 3 → mean 22/6, two of six ≥ 4; workload only 4 times.
    assert oise["Répondants"] == "6"
    assert oise["Outils"] == f"3,7 ({fmt.fr_percent(2 / 6)})"
    assert oise["Charge de travail"] == fmt.SMALL_GROUP
    export = shown.export.frame.to_dicts()
    assert export[0]["Répondants"] is None and export[0]["Remarque"] == fmt.SMALL_GROUP
    assert export[0]["Outils : moyenne (1 à 5)"] is None
    assert export[1]["Outils : moyenne (1 à 5)"] == pytest.approx(22 / 6)
    assert export[1]["Charge de travail : part de 4 ou 5"] is None
    assert export[1]["Remarque"] == f"{fmt.SMALL_GROUP} : Charge de travail"
    csv_text = exports.csv_text(shown.export)
    assert csv_text.splitlines()[1].startswith("11/05/2015,Agents des centres,Rouen,,,,,,")


def test_objective_figures_and_targets_in_french():
    from dashboard.charts import review_records as rr

    assert rr.objective_value("service", 0.6976) == "69,8\u202f%"
    assert rr.objective_value("acts", 31.74) == "31,7"
    assert rr.objective_value("relief", None) == "—"
    assert rr.objective_target("service", 0.85, 0.75) == (
        "Cible : 85,0\u202f% · seuil partiel : 75,0\u202f%")
    assert rr.objective_target("acts", None, None).startswith("Aucune cible")
    assert rr.verdict_badge("non atteint") == ("Non atteint", "red", ":material/cancel:")


def test_the_report_tables_escape_names_and_align_figures_right():
    from dashboard.review import report

    frame = pl.DataFrame({"Département": ["60 <b>Oise</b>"], "Appels": ["1\u202f234"],
                          "Intervalle": ["de 19,7\u202f% à 29,9\u202f%"]})
    out = report.table_html(frame)
    assert "&lt;b&gt;Oise&lt;/b&gt;" in out and "<b>" not in out
    assert "<td>60 &lt;b&gt;" in out  # a name, left
    assert "<td class='n'>1\u202f234</td>" in out and "<td class='n'>de 19,7" in out


@pytest.mark.parametrize("builder", ["load", "weeks", "wait", "knew", "barometer", "relief"])
def test_the_review_records_charts_build_and_render_offline(builder):
    from dashboard.charts import review_records as rr
    from dashboard.review import report

    day = dt.date(2015, 6, 8)
    if builder == "load":
        daily = pl.DataFrame({"day": [day, day], "site": ["rouen", "chartres"],
                              "site_name": ["Rouen", "Chartres"], "offered": [50, 80],
                              "deflected": [0, 12]})
        incidents = rr.local_incidents(pl.DataFrame({
            "incident_id": ["I1"], "component": ["telephonie"], "site": ["chartres"],
            "start_at": [dt.datetime(2015, 6, 8, 9, 50)],
            "end_at": [dt.datetime(2015, 6, 8, 11, 50)], "severity": ["panne"],
            "description": ["Panne"]}), {"chartres": "Europe/Paris"})
        # 09:50 UTC is 11:50 in Paris in June.
        assert incidents.item(0, "start_local") == dt.datetime(2015, 6, 8, 11, 50)
        assert rr.load_reading(daily, incidents) == (
            "1 incident (traits verticaux), dont 1 panne ; les jours de panne, 12 appels "
            "dissuadés.")
        chart = rr.load_outages_chart(daily, incidents)
    elif builder == "weeks":
        chart = rr.survey_weeks_chart(rr.survey_weeks(pl.DataFrame({
            "site": ["rouen"], "week": ["2015-W24"], "survey_responses": [10],
            "csat_rate": [0.7], "perceived_resolution_rate": [0.8]}), {"rouen": "Rouen"}))
    elif builder == "wait":
        chart = rr.wait_band_chart(pl.DataFrame({
            "wait_band": ["moins de 20 s", "5 min et plus"], "survey_responses": [10, 4],
            "csat_rate": [0.8, 0.25], "mean_satisfaction": [4.2, 2.5]}))
    elif builder == "knew":
        chart = rr.knew_chart(pl.DataFrame({
            "department": ["60", "60"], "weeks_after_opening": ["semaines 1 à 4",
                                                                "après 26 semaines"],
            "answers": [10, 20], "knew_rate": [0.5, 0.9]}), {"60": "Oise"})
    elif builder == "barometer":
        long = rr.barometer_long(_barometer_frame(), ("tools", "workload"), {}, {"60": "Oise"})
        assert long.get_column("group").unique().to_list() == [
            "Agents des services locaux · 60 Oise"]  # the hidden Rouen group is left out
        chart = rr.barometer_chart(long, "Outils")
    else:
        weeks = pl.DataFrame({"department": ["60"] * 2, "week": [day, day + dt.timedelta(7)],
                              "phase": ["pre", "post"], "pilot_received": [100, 80],
                              "pilot_index": [1.0, 0.8], "control_index": [1.0, 1.0],
                              "controls_in_week": [2, 2], "difference": [0.0, -0.2]})
        relief = pl.DataFrame({"department": ["60"], "coverage_start": [day]})
        chart = rr.relief_chart(rr.relief_long(weeks, {"60": "Oise"}), relief)
    assert chart.to_dict()["title"]
    svg = report.chart_svg(chart)
    assert svg.startswith("<svg") and "</svg>" in svg
