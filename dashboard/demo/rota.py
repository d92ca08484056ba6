"""The demo's planned rota as `schedules` rows: the shifts the planner of
dashboard/demo/agents.py assigns, before the login jitter and short breaks that turn them
into sessions (the gaps adherence then measures). A full day is a morning on the phone,
the lunch hour (`pause`) and an afternoon on the phone; a half day is one phone shift.
"""

from __future__ import annotations

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
