"""The demo's planned rota as `schedules` rows: the shifts the planner of
dashboard/demo/agents.py assigns, before the login jitter and short breaks that turn them
into sessions (the gaps adherence then measures). A full day is a morning on the phone,
the lunch hour (`pause`) and an afternoon on the phone; a half day is one phone shift.
"""

from __future__ import annotations

import datetime as dt

import holidays
import polars as pl

from dashboard.core import localtime
from dashboard.demo.demand import SOURCE, _to_utc

PHONE = "telephone"
LUNCH = "pause"


def planned_pieces(agent: int, base: int, intervals: list[tuple[int, int]]
                   ) -> list[tuple[int, int, int, str]]:
    """One planned pattern → (agent, start, end in local seconds, activity) pieces: each
    interval on the phone, and the gap between two intervals as the lunch break."""
    pieces = []
    for k, (lo, hi) in enumerate(intervals):
        if k:
            pieces.append((agent, base + intervals[k - 1][1] * 60, base + lo * 60, LUNCH))
        pieces.append((agent, base + lo * 60, base + hi * 60, PHONE))
    return pieces


def schedules_frame(site: str, ids: list[str], pieces: list[tuple[int, int, int, str]],
                    tz: str) -> pl.DataFrame:
    """Planned PIECES of one site (agent index into IDS) → rows of schema.schedules.

    `shift_id` is the agent, local day and start time (`rouen-a01-20150302-0830`): an
    agent works one pattern a day, so it is unique and the same on every build.
    """
    frame = pl.DataFrame(pieces, schema={"agent": pl.Int64, "s": pl.Int64, "e": pl.Int64,
                                         "activity": pl.String}, orient="row")
    frame = _to_utc(_to_utc(frame, "s", "start_at", tz), "e", "end_at", tz)
    local = pl.from_epoch(pl.col("s"), time_unit="s")
    return frame.with_columns(
        pl.col("agent").replace_strict(dict(enumerate(ids)), return_dtype=pl.String)
        .alias("agent_id"),
        localtime.local_date(pl.col("start_at"), tz).alias("local_date"),
    ).select(
        pl.lit(SOURCE).alias("source"),
        pl.concat_str([pl.col("agent_id"), local.dt.strftime("%Y%m%d-%H%M")], separator="-")
        .alias("shift_id"),
        "agent_id", pl.lit(site).alias("site"), "start_at", "end_at", "local_date",
        "activity",
    ).sort("start_at", "agent_id")


AHEAD_DAYS = 28  # how far ahead the planner has published its rota (Effectifs' four weeks)
_LOOKBACK_WEEKS = 8


def published_rota(recent: pl.DataFrame, last_day: dt.date, tz: str,
                   days: int = AHEAD_DAYS) -> pl.DataFrame:
    """The rota published for the DAYS after LAST_DAY, from RECENT (schema.schedules rows of
    one site): each day takes, at the same local times, the shifts of the latest same
    weekday on or before LAST_DAY that had any; public holidays stay empty.

    Planners of the pilots rolled the previous weeks' rota forward and adjusted it; the
    demo does the first half, so planned-against-needed shows where demand changes (the
    campaign calendar) and the rolled rota does not follow.
    """
    if recent.height == 0:
        return recent
    closed = set(holidays.France(years=range(last_day.year, last_day.year + 2)).keys())
    have = set(recent.filter(pl.col("local_date") <= last_day)
               .get_column("local_date").unique().to_list())
    pieces = []
    for k in range(1, days + 1):
        day = last_day + dt.timedelta(days=k)
        if day in closed:
            continue
        source = next((s for w in range(1, _LOOKBACK_WEEKS + 1)
                       if (s := day - dt.timedelta(weeks=w)) in have and s <= last_day), None)
        if source is None:
            continue
        pieces.append(recent.filter(pl.col("local_date") == source).with_columns(
            pl.lit(day).alias("local_date"), pl.lit((day - source).days).alias("_shift")))
    if not pieces:
        return recent.clear()
    frame = pl.concat(pieces)

    def moved(column: str) -> pl.Expr:
        # Same local wall-clock time on the new day, whatever the UTC offset then.
        local = localtime.to_local(pl.col(column), tz) + pl.duration(days=pl.col("_shift"))
        return localtime.localize(local, tz).dt.cast_time_unit("us").alias(column)

    frame = frame.with_columns(moved("start_at"), moved("end_at"))
    return frame.with_columns(
        pl.concat_str([pl.col("agent_id"),
                       localtime.to_local(pl.col("start_at"), tz).dt.strftime("%Y%m%d-%H%M")],
                      separator="-").alias("shift_id"),
    ).drop("_shift").select(recent.columns).sort("start_at", "agent_id")
