"""Medians of reply delays from bin counts (dashboard.metrics.medians, rollup_email_hist): the
middle delays picked from a few bins equal the median of all the delays."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard.core.access import ALL_ROWS
from dashboard.core.filters import Filters
from dashboard.engine import rollups
from dashboard.engine.kpis import compute_kpis
from dashboard.metrics import medians
from dashboard.store import database as dbmod
from dashboard.store import schema
from tests.factories import Rows

HOUR = 3_600_000_000


def _delays(seed: int) -> pl.DataFrame:
    """Random delays per group: sizes 1..40, values from 0 to weeks, many ties."""
    rnd = random.Random(seed)
    rows = []
    for group in range(60):
        day = dt.date(2015, 3, 1) + dt.timedelta(days=rnd.randrange(20))
        for _ in range(rnd.randint(1, 40)):
            value = rnd.choice([0, 999_999, 1_000_000, HOUR, 48 * HOUR,
                                rnd.randrange(0, 14 * 24 * HOUR)])
            rows.append((f"g{group}", day + dt.timedelta(days=rnd.randrange(3)), value))
    return pl.DataFrame(rows, schema={"grp": pl.String, "local_date": pl.Date,
                                      "reply_us": pl.Int64}, orient="row")


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("by", [("grp",), ()])
@pytest.mark.parametrize("limit", [200, 5])
def test_middles_of_the_located_bins_give_the_median(seed, by, limit):
    delays = _delays(seed).with_columns(rollups.reply_bins(pl.col("reply_us")).alias("reply_bin"))
    hist = delays.group_by("grp", "local_date", "reply_bin").agg(pl.len().alias("n")).with_columns(
        pl.col("local_date").alias("_lo"), pl.col("local_date").alias("_hi"))
    wanted = medians.middle_positions(hist, by)
    # Only the delays of the wanted bins within their date ranges are read.
    ranges = pl.DataFrame(medians.bin_ranges(wanted, limit), orient="row",
                          schema={"reply_bin": pl.Int16, "_lo": pl.Date, "_hi": pl.Date})
    read = delays.with_row_index("_i").join(ranges, on="reply_bin").filter(
        pl.col("local_date").is_between(pl.col("_lo"), pl.col("_hi"))).drop("_lo", "_hi")
    assert read["_i"].n_unique() == read.height  # no delay read twice
    assert read.height < delays.height  # the point: not every delay
    got = medians.pick_middles(read, wanted, by).with_columns(
        pl.col("em_reply_us").list.median().alias("median"))
    if by:
        expected = delays.group_by("grp").agg(pl.col("reply_us").median().alias("median"))
        assert_frame_equal(got.select("grp", "median").sort("grp"), expected.sort("grp"))
    else:
        values = sorted(delays["reply_us"].to_list())
        n = len(values)
        hand = (values[(n + 1) // 2 - 1] + values[(n + 2) // 2 - 1]) / 2
        assert got["median"].to_list() == [hand]


def test_bins_by_hand():
    frame = pl.DataFrame({"us": [0, 999_999, 1_000_000, 1_090_507, 1_090_508, 10**13]})
    bins = frame.select(rollups.reply_bins(pl.col("us")).alias("b"))["b"].to_list()
    # Edges: 1 s, then × 2^(1/8) = 1.0905077 s, … ; beyond 2^23 s the last bin.
    assert bins == [0, 0, 1, 1, 2, len(schema.REPLY_BIN_EDGES)]


def test_median_reply_time_through_the_engine(db_url):
    rows = Rows(db_url)
    # Rouen: delays of 1, 2, 3 and 50 hours → median 2.5 h; Chartres: 5 and 7 h → 6 h.
    for hours, site, dept in ((1, "rouen", "76"), (2, "rouen", "76"), (3, "rouen", "27"),
                              (50, "rouen", "27"), (5, "chartres", "28"),
                              (7, "chartres", "28")):
        received = dt.datetime(2015, 4, 1, 9, 0)
        rows.email(received, replied=received + dt.timedelta(hours=hours), site=site,
                   department=dept, agent="a1" if site == "rouen" else "c1")
    engine = dbmod.get_engine(db_url)
    rollups.rebuild(engine)
    period = Filters(dt.date(2015, 4, 1), dt.date(2015, 4, 1), scope=ALL_ROWS)
    for source in ("rollup", "raw"):
        by_site = compute_kpis(engine, period, ("site",), source=source)
        assert dict(by_site.select("site", "median_reply_hours").iter_rows()) == {
            "chartres": 6.0, "rouen": 2.5}
        assert compute_kpis(engine, period, (), source=source)["median_reply_hours"][0] == 4.0
        by_dept = compute_kpis(engine, period, ("department",), source=source)
        assert dict(by_dept.select("department", "median_reply_hours").iter_rows()) == {
            "27": 26.5, "28": 6.0, "76": 1.5}
        # Per agent the counts come from the delays themselves (no agent in the histogram).
        one = compute_kpis(engine, Filters(period.start, period.end, agents=("a1",),
                                           scope=ALL_ROWS), (),
                           source=source)
        assert one["median_reply_hours"][0] == 2.5
