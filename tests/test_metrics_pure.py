"""Pure parts of the metrics: the registry, working days, keys, and the two stages."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

from dashboard.core.access import ALL_ROWS
from dashboard.core.config import Thresholds
from dashboard.core.workdays import add_working_days, french_holidays, is_working_day
from dashboard.metrics import definitions as m
from dashboard.metrics import formulas as m_formulas
from dashboard.metrics import grouping as m_grouping
from dashboard.metrics import phone as m_phone
from dashboard.metrics import sessions as m_sessions

SPEC = Path(__file__).resolve().parent.parent.parent / "shared" / "spec" / "metrics.md"
REVIEW_SPEC = SPEC.with_name("review-data.md")
# The review's figures that are no KPI of the engine: per tool component, per agent.
REVIEW_OUTSIDE_ENGINE = {"tool_availability", "trained_before_start"}
# Metrics the registry adds to the spec's table (documented in their MetricDef): the mean
# agents logged in that staffing_gap subtracts from, and the Erlang A input.
EXTENSIONS = {"agents_logged_in", "patience_seconds"}


def test_registry_matches_the_spec_table():
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} is absent: the spec lives outside the repository")
    pattern = r"^\| `([a-z0-9_]+)` \| ([^|]+?) \|"
    rows = re.findall(pattern, SPEC.read_text(), re.M)
    # The users' survey figures of the review follow, in the review spec's order.
    rows += [row for row in re.findall(pattern, REVIEW_SPEC.read_text(), re.M)
             if row[0] not in REVIEW_OUTSIDE_ENGINE]
    spec = [(key, label.strip()) for key, label in rows]
    assert [(d.key, d.label) for d in m.METRICS if d.key not in EXTENSIONS] == spec
    assert EXTENSIONS <= set(m.METRIC_KEYS)


def test_registry_is_consistent():
    assert len(set(m.METRIC_KEYS)) == len(m.METRIC_KEYS)
    for d in m.METRICS:
        assert d.unit in {"count", "rate", "seconds", "hours", "ratio", "agents"}, d
        assert d.family in {"phone", "email", "acts", "staffing", "survey"}, d
        assert d.definition and d.label
    assert set(m_formulas._formulas()) == set(m.METRIC_KEYS)
    assert {s.merge for s in m.STATS} <= {"sum", "max", "concat", "stock", "span"}
    table = m.metrics_markdown().splitlines()
    assert len(table) == 2 + len(m.METRICS)
    assert table[2].startswith("| `received` | Appels reçus | count |")


def test_working_days_with_french_holidays():
    assert dt.date(2015, 5, 1) in french_holidays(2015)
    assert dt.date(2015, 5, 25) in french_holidays(2015)  # Whit Monday
    assert not is_working_day(dt.date(2015, 4, 6))  # Easter Monday
    assert is_working_day(dt.date(2015, 4, 7))
    # The spec's example: Thursday 30/04/2015 → Monday 11/05/2015.
    assert add_working_days(dt.date(2015, 4, 30), 5) == dt.date(2015, 5, 11)
    # Ascension Thursday 14/05 and Whit Monday 25/05.
    assert add_working_days(dt.date(2015, 5, 13), 5) == dt.date(2015, 5, 21)
    assert add_working_days(dt.date(2015, 5, 20), 5) == dt.date(2015, 5, 28)
    # Received on a Saturday: Monday is the 1st working day.
    assert add_working_days(dt.date(2015, 4, 11), 1) == dt.date(2015, 4, 13)
    # Across the year end: 25/12 and 01/01 are holidays.
    assert add_working_days(dt.date(2015, 12, 24), 5) == dt.date(2016, 1, 4)
    # Another country's calendar can be passed in.
    assert add_working_days(dt.date(2015, 4, 30), 5, calendar=lambda year: ()) == dt.date(
        2015, 5, 7
    )


def test_group_key_formats():
    frame = pl.DataFrame(
        {
            "local_date": [dt.date(2014, 12, 29), dt.date(2016, 1, 1)],
            "local_slot": [0, 47],
            "agent_id": ["a1", None],
        },
        schema={"local_date": pl.Date, "local_slot": pl.Int16, "agent_id": pl.String},
    )
    keyed = m_grouping.with_group_keys(frame, ("day", "week", "month", "slot", "agent"))
    assert keyed.select("day", "week", "month", "slot", "agent").rows() == [
        ("2014-12-29", "2015-W01", "2014-12", "00:00", "a1"),
        ("2016-01-01", "2015-W53", "2016-01", "23:30", None),
    ]


def test_campaign_precedence():
    campaigns = pl.DataFrame(
        {
            "name": ["National", "Local 04", "Late national"],
            "start_date": [dt.date(2015, 4, 1), dt.date(2015, 4, 10), dt.date(2015, 4, 20)],
            "end_date": [dt.date(2015, 4, 30), dt.date(2015, 4, 25), dt.date(2015, 5, 5)],
            "department": [None, "04", None],
        }
    )
    frame = pl.DataFrame(
        {
            "local_date": [dt.date(2015, 3, 31), dt.date(2015, 4, 12), dt.date(2015, 4, 12),
                           dt.date(2015, 4, 22), dt.date(2015, 4, 22), dt.date(2015, 5, 1)],
            "department": ["60", "60", "04", "04", "60", "60"],
        }
    )
    assert m_grouping.campaign_names(frame, campaigns).to_list() == [
        m.HORS_CAMPAGNE, "National", "Local 04", "Local 04", "Late national", "Late national"
    ]


def test_thresholds_override_site_and_default():
    rows = pl.DataFrame({"site": ["a", "b", "c"]})
    sites = pl.DataFrame(
        {"site": ["a", "b"], "sl_seconds": [30, None], "short_abandon_seconds": [None, 3]},
        schema={"site": pl.String, "sl_seconds": pl.Int64, "short_abandon_seconds": pl.Int64},
    )
    defaults = Thresholds(sl_seconds=20, short_abandon_seconds=5)
    got = m_grouping.with_thresholds(rows, sites, defaults)
    assert got.select("sl_s", "short_s").rows() == [(30, 5), (20, 3), (20, 5)]
    got = m_grouping.with_thresholds(rows, sites, defaults, sl_seconds=10)
    assert got.select("sl_s", "short_s").rows() == [(10, 5), (10, 3), (10, 5)]


def _calls(waits, outcomes, handle=None, sl=20, short=5):
    n = len(waits)
    return pl.DataFrame(
        {
            "outcome": outcomes,
            "wait_seconds": waits,
            "handle_seconds": handle or [0] * n,
            "sl_s": [sl] * n,
            "short_s": [short] * n,
        },
        schema={"outcome": pl.String, "wait_seconds": pl.Int64, "handle_seconds": pl.Int64,
                "sl_s": pl.Int64, "short_s": pl.Int64},
    )


def test_stage_one_statistics_are_additive():
    """Statistics of two halves merged by their rule give the statistics of the whole."""
    a = _calls([20, 4, 30], ["answered", "abandoned", "abandoned"], [100, 0, 0])
    b = _calls([21, 5, None], ["answered", "abandoned", "deflected"], [50, 0, 0])
    whole = m_phone.phone_stats(pl.concat([a, b]), ())
    sa, sb = m_phone.phone_stats(a, ()), m_phone.phone_stats(b, ())
    for s in m.STATS:
        if s.name not in whole.columns:
            continue
        if s.merge == "sum":
            assert whole[s.name][0] == sa[s.name][0] + sb[s.name][0], s.name
        elif s.merge == "max":
            assert whole[s.name][0] == max(sa[s.name][0], sb[s.name][0]), s.name
    k = m_formulas.kpis_from_stats(whole, ()).row(0, named=True)
    assert k["short_abandoned"] == 1  # 4 < 5
    assert k["service_level"] == pytest.approx(1 / (5 - 1))  # 20 <= 20 of 2 + 3 offered
    assert k["max_wait_seconds"] == 30


def test_stage_two_from_hand_made_statistics():
    stats = pl.DataFrame(
        {
            "ph_received": [10], "ph_deflected": [1], "ph_answered": [6], "ph_abandoned": [3],
            "ph_short_abandoned": [1], "ph_answered_in_sl": [4], "ph_answered_wait_sum": [60],
            "ph_answered_wait_n": [6], "ph_handle_sum": [1800], "ph_long_abandon_wait_sum": [50],
            "ph_long_abandon_wait_n": [2], "ph_max_wait": [45], "em_received": [4],
            "em_replied": [2], "em_within_48h": [1], "em_within_5wd": [2],
            "em_reply_us": [[3_600_000_000, 7_200_000_000]], "em_backlog": [7], "act_count": [4],
            "hd_handled": [8], "hd_promoted": [2], "hd_with_key": [5], "hd_repeat": [1],
            "st_logged_us": [7_200_000_000],
        }
    )
    k = m_formulas.kpis_from_stats(stats, ()).row(0, named=True)
    assert k["offered"] == 9
    assert k["answer_rate"] == pytest.approx(6 / 9)
    assert k["abandon_rate"] == pytest.approx(2 / 8)
    assert k["service_level"] == pytest.approx(4 / 8)
    assert k["asa_seconds"] == 10.0
    assert k["aht_seconds"] == 300.0
    assert k["abandon_wait_seconds"] == 25.0
    assert k["median_reply_hours"] == 1.5
    assert k["reply_within_48h_rate"] == 0.25
    assert k["acts_per_100_handled"] == pytest.approx(100 * 4 / 8)
    assert k["online_promotion_rate"] == 0.25
    assert k["repeat_contact_rate"] == 0.2
    assert k["agent_hours"] == 2.0
    assert k["occupancy"] == pytest.approx(1800 / 7200)
    assert k["handled_per_agent_hour"] == 4.0
    unavailable = m.unavailable_metrics(("queue",))
    k = m_formulas.kpis_from_stats(stats, (), unavailable).row(0, named=True)
    assert k["acts"] is None and k["agent_hours"] is None and k["received"] == 10


def test_empty_statistics_give_one_row_of_zeros_and_nulls():
    k = m_formulas.kpis_from_stats(pl.DataFrame(), ()).row(0, named=True)
    assert k["received"] == 0 and k["backlog"] == 0 and k["agent_hours"] == 0.0
    assert k["answer_rate"] is None and k["median_reply_hours"] is None


def test_unavailable_metrics_rules():
    assert m.unavailable_metrics(("site", "day")) == frozenset()
    survey = {"survey_responses", "csat_rate", "mean_satisfaction",
              "perceived_resolution_rate", "survey_response_rate"}
    assert m.unavailable_metrics(("slot",)) == {"backlog"} | survey
    assert m.unavailable_metrics(("campaign",)) == m.STAFFING_METRICS
    assert m.unavailable_metrics((), {"channel"}) == m.STAFFING_METRICS | m.ACT_METRICS
    assert m.unavailable_metrics(("agent",), {"site", "agent"}) == m.TEAM_METRICS | survey
    assert m.unavailable_metrics(("site", "slot")) == {"backlog"} | survey
    assert m.unavailable_metrics(("week",), {"queue"}) == (
        m.STAFFING_METRICS | m.ACT_METRICS | survey)


def test_filters_are_hashable_and_checked():
    from dashboard.core.filters import Filters, Overrides

    f = Filters(dt.date(2015, 4, 1), dt.date(2015, 4, 2), sites=["rouen"], channels="phone",
                scope=ALL_ROWS)
    assert f.sites == ("rouen",) and f.channels == ("phone",)
    assert hash(f) == hash(Filters(dt.date(2015, 4, 1), dt.date(2015, 4, 2), ("rouen",),
                                   channels=("phone",), scope=ALL_ROWS))
    assert f.restricted_dimensions() == {"site", "channel"}
    assert Filters(dt.date(2015, 4, 1), dt.date(2015, 4, 1),
                   channels=("phone", "email"),
       scope=ALL_ROWS).restricted_dimensions() == frozenset()
    with pytest.raises(ValueError, match="before"):
        Filters(dt.date(2015, 4, 2), dt.date(2015, 4, 1), scope=ALL_ROWS)
    with pytest.raises(ValueError, match="channel"):
        Filters(dt.date(2015, 4, 1), dt.date(2015, 4, 1), channels=("fax",), scope=ALL_ROWS)
    with pytest.raises(TypeError):
        Filters(dt.datetime(2015, 4, 1), dt.date(2015, 4, 1), scope=ALL_ROWS)
    with pytest.raises(ValueError):
        Overrides(sl_seconds=-1)
    assert hash(Overrides(20, 5)) == hash(Overrides(20, 5))


def test_sites_with_the_same_hours_share_one_slot_grid_and_get_their_own_rows():
    """slot_grids builds one grid per (time zone, hours, weekdays) and hands it to each
    site of the group: the rows are those of building every site alone, including a site
    whose windows a caller cut (it gets its own grid) and one overseas."""
    hours = pl.DataFrame({
        "site": ["a", "b", "c", "d"],
        "timezone": ["Europe/Paris", "Europe/Paris", "Europe/Paris", "Indian/Reunion"],
        "opens_at": ["08:30"] * 4, "closes_at": ["19:00", "19:00", "19:00", "16:00"],
        "open_weekdays": ["12345"] * 4})
    start, end = dt.date(2015, 3, 27), dt.date(2015, 3, 31)  # over the spring gap
    windows = m_sessions.open_windows(hours, start, end)
    windows = windows.filter(~((pl.col("site") == "c") & (pl.col("local_date") == end)))
    grids = m_sessions.slot_grids(hours, windows, start, end)
    for base in (False, True):
        alone = pl.concat([
            m_sessions._slot_grids(hours.filter(pl.col("site") == s),
                          windows.filter(pl.col("site") == s), start, end)[base]
            for s in "abcd"])
        keys = ["site", "local_date", "local_slot"]
        assert grids[base].sort(keys).equals(alone.sort(keys))
    # By hand: on Monday 30 March, b's opening hours (08:30-19:00) are 21 half-hours of
    # base; c's windows were cut on the 31st, so its base that day is nothing but a's is.
    opening = grids[False].filter(pl.col("local_date") == dt.date(2015, 3, 30),
                                  pl.col("site") == "b")
    assert opening["base_us"].sum() == 21 * 30 * 60 * 1_000_000
    last = grids[False].filter(pl.col("local_date") == end).group_by("site").agg(
        pl.col("base_us").sum()).sort("site")
    assert dict(last.rows()) == {"a": 21 * 1_800_000_000, "b": 21 * 1_800_000_000, "c": 0,
                                 "d": 15 * 1_800_000_000}


def _grid(rows):
    return pl.DataFrame(rows, schema={"site": pl.String, "local_date": pl.Date,
                                      "local_slot": pl.Int16, "dur_us": pl.Int64,
                                      "open_day": pl.Boolean, "base_us": pl.Int64},
                        orient="row")


def test_presence_per_slot_splits_by_the_opening_hours():
    d, closed, half = dt.date(2015, 4, 1), dt.date(2015, 4, 5), 1800
    grid = _grid([("rouen", d, 16, half, True, 0),  # before opening
                  ("rouen", d, 17, half, True, half),  # open
                  ("rouen", d, 37, 2 * half, True, 2 * half),  # October's doubled hour
                  ("rouen", closed, 17, half, False, 0)])
    assert m_sessions.hours_on_slots(grid)
    assert not m_sessions.hours_on_slots(grid.with_columns(pl.lit(900, pl.Int64).alias("base_us")))
    slots = pl.DataFrame(
        [("rouen", d, 16, 10), ("rouen", d, 17, 20), ("rouen", d, 37, 30),
         ("rouen", closed, 17, 40), ("rouen", d, 40, 50)],  # slot 40: not in the grid
        schema={"site": pl.String, "local_date": pl.Date, "local_slot": pl.Int16,
                "logged_us": pl.Int64}, orient="row")
    hours = m_sessions.base_logged_slots(slots, grid, slot_base=False)
    assert hours["base_logged_us"].to_list() == [0, 20, 30, 0, 0]
    # The per-slot base: every slot of an open day.
    logged = m_sessions.base_logged_slots(slots, grid, slot_base=True)
    assert logged["base_logged_us"].to_list() == [10, 20, 30, 0, 0]
    assert hours.columns == [*slots.columns, "base_logged_us"]
