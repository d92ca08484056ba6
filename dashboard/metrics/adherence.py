"""Schedule adherence (issue 22): the planned rota (`schedules`) against the agents'
logged-in sessions, per agent and local half-hour, then per agent or site over a period.

Definitions (minutes are exact, from naive UTC instants; slots and days are the local
ones of each row's site, dashboard.core.localtime):

- planned contact minutes: minutes of shifts whose activity is `telephone`, `courriel` or
  empty (contact work of no stated channel);
- adherent minutes: the part of those planned contact minutes during which the agent was
  logged in (any session of the agent; overlapping sessions count once);
- **adherence** = adherent minutes / planned contact minutes;
- planned minutes: minutes of shifts of every activity but `pause` (contact work and
  `formation`);
- logged minutes: every minute the agent was logged in on a local day on which they had at
  least one planned shift, planned or not at that moment (an early start or a late finish
  counts; a day off with a session does not);
- **conformance** = logged minutes / planned minutes.

A rate is null where its denominator is 0. An agent's overlapping shifts count each.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.metrics.sessions import session_pieces

CONTACT_ACTIVITIES = ("telephone", "courriel")  # and null: contact work of no stated channel
BREAK_ACTIVITY = "pause"
_US_PER_MINUTE = 60_000_000
_KEY = ["agent_id", "local_date", "local_slot"]
MINUTES = ("planned_contact_minutes", "adherent_minutes", "planned_minutes", "logged_minutes")


def merged_sessions(sessions: pl.DataFrame) -> pl.DataFrame:
    """SESSIONS (agent_id, site, start_at, end_at) with each agent's overlapping or
    touching sessions merged into one, so no minute is logged twice."""
    ordered = sessions.sort("agent_id", "start_at")
    return (
        ordered.with_columns(
            (pl.col("start_at") > pl.col("end_at").cum_max().shift(1).over("agent_id"))
            .fill_null(True).cum_sum().over("agent_id").alias("_run"))
        .group_by("agent_id", "_run", maintain_order=True)
        .agg(pl.col("site").first(), pl.col("start_at").min(), pl.col("end_at").max())
        .drop("_run")
    )


def slot_adherence(
    schedules: pl.DataFrame, sessions: pl.DataFrame, sites: pl.DataFrame,
    start: dt.date, end: dt.date,
) -> pl.DataFrame:
    """Per agent, local day and half-hour of START..END: the four minute counts of the
    module docstring, with the planned day's `site`.

    SCHEDULES carry agent_id, site, start_at, end_at, activity; SESSIONS agent_id, site,
    start_at, end_at; SITES site and timezone. Only the agents' planned days appear.
    """
    empty = pl.DataFrame(schema={"agent_id": pl.String, "site": pl.String,
                                 "local_date": pl.Date, "local_slot": pl.Int16,
                                 **{m: pl.Float64 for m in MINUTES}})
    plan = schedules.select("agent_id", "site", "start_at", "end_at", "activity")
    planned = session_pieces(plan, sites, start, end, by_day=False, by_slot=True)
    if planned.height == 0:
        return empty
    logged = session_pieces(merged_sessions(sessions.select("agent_id", "site", "start_at",
                                                            "end_at")),
                            sites, start, end, by_day=False, by_slot=True)
    planned = planned.with_row_index("_piece")
    # Both are cut on the same 15-minute UTC grid (`_g`): a planned piece can only
    # overlap the logged pieces of its own agent and grid cell.
    overlap = (
        planned.select("_piece", "agent_id", "_g", "_ps", "_pe")
        .join(logged.select("agent_id", "_g", pl.col("_ps").alias("_ls"),
                            pl.col("_pe").alias("_le")), on=["agent_id", "_g"], how="inner")
        .with_columns((pl.min_horizontal("_pe", "_le") - pl.max_horizontal("_ps", "_ls"))
                      .dt.total_microseconds().clip(lower_bound=0).alias("_us"))
        .group_by("_piece").agg(pl.col("_us").sum())
    )
    activity = pl.col("activity")
    contact = activity.is_null() | activity.is_in(CONTACT_ACTIVITIES)
    per_slot = (
        planned.join(overlap, on="_piece", how="left")
        .group_by(_KEY)
        .agg(
            pl.col("site").sort().first(),
            pl.col("logged_us").filter(contact).sum().alias("_pc"),
            pl.col("_us").filter(contact).fill_null(0).sum().alias("_ad"),
            pl.col("logged_us").filter(activity.is_null() | (activity != BREAK_ACTIVITY))
            .sum().alias("_pl"),
        )
    )
    days = per_slot.group_by("agent_id", "local_date").agg(pl.col("site").sort().first())
    logged_slots = (
        logged.group_by(_KEY).agg(pl.col("logged_us").sum().alias("_lg"))
        .join(days.select("agent_id", "local_date"), on=["agent_id", "local_date"],
              how="semi")
    )
    frame = (
        per_slot.join(logged_slots, on=_KEY, how="full", coalesce=True)
        .join(days.rename({"site": "_day_site"}), on=["agent_id", "local_date"], how="left")
        .with_columns(pl.coalesce("site", "_day_site").alias("site"))
    )
    return frame.select(
        "agent_id", "site", "local_date", pl.col("local_slot").cast(pl.Int16),
        *[(pl.col(src).fill_null(0) / _US_PER_MINUTE).cast(pl.Float64).alias(name)
          for src, name in zip(("_pc", "_ad", "_pl", "_lg"), MINUTES, strict=True)],
    ).sort(_KEY)


def with_rates(frame: pl.DataFrame) -> pl.DataFrame:
    """FRAME of minute counts → with `adherence` and `conformance` (null on a zero base)."""
    def rate(num: str, den: str) -> pl.Expr:
        return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None)
    return frame.with_columns(rate("adherent_minutes", "planned_contact_minutes")
                              .alias("adherence"),
                              rate("logged_minutes", "planned_minutes").alias("conformance"))


def summarise(slots: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """SLOTS (slot_adherence) summed by BY (e.g. ["site", "agent_id"], ["site"]), with rates."""
    # Summed as whole microseconds: the same total whatever order the groups come in.
    exact = [((pl.col(m) * _US_PER_MINUTE).round().cast(pl.Int64).sum() / _US_PER_MINUTE)
             .alias(m) for m in MINUTES]
    return with_rates(slots.group_by(by).agg(exact).sort(by))


def agent_adherence(slots: pl.DataFrame) -> pl.DataFrame:
    """Per site and agent over the period of SLOTS: minutes and rates."""
    return summarise(slots, ["site", "agent_id"])


def site_adherence(slots: pl.DataFrame) -> pl.DataFrame:
    """Per site over the period of SLOTS: minutes and rates (every planned agent pooled)."""
    return summarise(slots, ["site"])
