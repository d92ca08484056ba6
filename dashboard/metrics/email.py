"""E-mail statistics and the backlog: reply flags and deadlines in working days, the
cohort sums per group, and the stock of open e-mails at a period's end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from dashboard.core.localtime import with_local_columns
from dashboard.core.workdays import HolidayCalendar, working_day_deadlines
from dashboard.metrics.definitions import CALENDAR_DIMENSIONS, REPLY_48H, REPLY_WORKING_DAYS
from dashboard.metrics.grouping import aggregate, cast_stats, with_group_keys


def email_flags(
    rows: pl.DataFrame, sites: pl.DataFrame, calendar: HolidayCalendar | None = None
) -> pl.DataFrame:
    """E-mails plus their reply flags: `replied`, `within_48h`, `within_5wd`, `reply_us`.

    ROWS carry `site`, `local_date` (of receipt), `received_at` and `answered_at` (first
    reply, naive UTC). 48 h are real elapsed hours, inclusive. The 5-working-day deadline
    is the end of the 5th working day of CALENDAR after the local day of receipt; a reply
    is in time when its local date (site's zone) is on or before that day. `reply_us` is
    the delay in microseconds (null without reply), kept exact for medians.
    """
    tz = sites.select("site", "timezone")
    frame = rows.join(tz, on="site", how="left", maintain_order="left").with_columns(
        pl.col("timezone").fill_null("Europe/Paris")
    )
    frame = with_local_columns(frame, "answered_at", "timezone", "_reply_date", None)
    deadlines = working_day_deadlines(
        frame.get_column("local_date").to_list(), REPLY_WORKING_DAYS, calendar
    ).rename({"day": "local_date", "deadline": "_deadline"})
    frame = frame.join(deadlines, on="local_date", how="left")
    replied = pl.col("answered_at").is_not_null()
    delay = pl.col("answered_at") - pl.col("received_at")
    return frame.with_columns(
        replied.alias("replied"),
        (replied & (delay <= REPLY_48H)).fill_null(False).alias("within_48h"),
        (replied & (pl.col("_reply_date") <= pl.col("_deadline"))).fill_null(False)
        .alias("within_5wd"),
        delay.dt.total_microseconds().cast(pl.Int64).alias("reply_us"),
    ).drop("timezone", "_reply_date", "_deadline")


def email_stats(flagged: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Flagged, keyed e-mails of the cohort (see email_flags) → e-mail statistics per group."""
    aggs = [
        pl.len().alias("em_received"),
        pl.col("replied").sum().alias("em_replied"),
        pl.col("within_48h").sum().alias("em_within_48h"),
        pl.col("within_5wd").sum().alias("em_within_5wd"),
        pl.col("reply_us").drop_nulls().implode().alias("em_reply_us")
        if not by
        else pl.col("reply_us").drop_nulls().alias("em_reply_us"),
    ]
    return cast_stats(aggregate(flagged, by, aggs))


def _calendar_keys(
    start: dt.date, end: dt.date, by: Sequence[str], departments: Sequence[str | None],
    campaigns: pl.DataFrame | None,
) -> pl.DataFrame:
    """Per group of BY's calendar dimensions: `_snap`, its last local day in [START, END]."""
    days = pl.DataFrame({"local_date": pl.date_range(start, end, eager=True)})
    cal_dims = [d for d in by if d in CALENDAR_DIMENSIONS]
    if "campaign" in by:
        # A campaign may cover one département only: its days depend on the département.
        days = days.join(
            pl.DataFrame({"department": list(departments)}, schema={"department": pl.String}),
            how="cross",
        )
    group = cal_dims + (["department"] if "campaign" in by else [])
    if not group:
        return pl.DataFrame({"_snap": [end]}, schema={"_snap": pl.Date})
    keyed = with_group_keys(days, cal_dims, campaigns)
    return keyed.group_by(group).agg(pl.col("local_date").max().alias("_snap"))


def backlog_stats(
    rows: pl.DataFrame,
    by: Sequence[str],
    sites: pl.DataFrame,
    start: dt.date,
    end: dt.date,
    campaigns: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """E-mails → `em_backlog`, those open at the end of each group's last day in the period.

    ROWS carry `site`, `local_date` (of receipt), `resolved_at` and the raw dimension
    columns; they must include every e-mail received on or before END that is still open
    at the start of START (queries.contacts.backlog_rows).

    An e-mail is in the stock at the end of local day D when it was received on or before
    D and first replied after D (or never), in its site's time zone.
    The stock is a level: with calendar dimensions each group takes it at its own last day.
    """
    if "slot" in by:
        raise ValueError("the backlog is a stock at an instant: it has no slot grouping")
    tz = sites.select("site", "timezone")
    frame = rows.join(tz, on="site", how="left", maintain_order="left").with_columns(
        pl.col("timezone").fill_null("Europe/Paris")
    )
    frame = with_local_columns(frame, "resolved_at", "timezone", "_res_date", None)
    frame = frame.with_columns(
        pl.max_horizontal("_res_date", "local_date").alias("_out_date")
    ).with_columns(
        pl.when(pl.col("_res_date").is_null()).then(None).otherwise(pl.col("_out_date"))
        .alias("_out_date")
    )
    # Keys that do not depend on the day: these carry the stock levels.
    keep = backlog_level_keys(by)
    keyed = with_group_keys(frame, keep)
    inflow = keyed.group_by(keep + ["local_date"]).agg(pl.len().cast(pl.Int64).alias("_d"))
    outflow = (
        keyed.filter(pl.col("_out_date").is_not_null())
        .group_by(keep + ["_out_date"])
        .agg((-pl.len().cast(pl.Int64)).alias("_d"))
        .rename({"_out_date": "local_date"})
    )
    events = pl.concat([inflow, outflow.select(inflow.columns)])
    departments = (
        keyed.get_column("department").unique().to_list() if "campaign" in by else []
    )
    return backlog_from_events(events, by, start, end, departments, campaigns)


def backlog_level_keys(by: Sequence[str]) -> list[str]:
    """The keys of BY a backlog level is kept per: those that do not depend on the day
    (plus the département, which decides a campaign's days)."""
    keep = [d for d in by if d not in CALENDAR_DIMENSIONS]
    if "campaign" in by and "department" not in keep:
        keep.append("department")
    return keep


def backlog_since(by: Sequence[str], start: dt.date, end: dt.date) -> dt.date:
    """The first day whose own stock level the backlog of BY reads (backlog_from_events):
    START with a calendar dimension (a level per day, week, month or campaign), else END
    (the level at the period's end only); the changes before it may come summed on one
    day."""
    return start if any(d in CALENDAR_DIMENSIONS for d in by) else end


def backlog_from_events(
    events: pl.DataFrame, by: Sequence[str], start: dt.date, end: dt.date,
    departments: Sequence[str | None], campaigns: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Stock changes → `em_backlog` per group (see backlog_stats).

    EVENTS carry the level keys (backlog_level_keys), `local_date` and `_d`, the change
    of the stock at the end of that day (+ received, − left); changes before START may
    be summed on any one day before it.
    """
    keep = backlog_level_keys(by)
    events = events.group_by(keep + ["local_date"]).agg(pl.col("_d").sum())
    out_schema = {d: pl.String for d in by} | {"em_backlog": pl.Int64}
    if events.height == 0:
        return pl.DataFrame(schema=out_schema)
    # A surrogate id per combination of level keys (nulls included: join_asof's `by`
    # never matches nulls).
    combos = events.select(keep).unique().with_row_index("_kid") if keep else pl.DataFrame(
        {"_kid": [0]}, schema={"_kid": pl.UInt32}
    )
    events = (
        events.join(combos, on=keep, how="left", nulls_equal=True) if keep
        else events.with_columns(pl.lit(0, pl.UInt32).alias("_kid"))
    )
    levels = (
        events.sort("_kid", "local_date")
        .with_columns(pl.col("_d").cum_sum().over("_kid").alias("_level"))
        .select("_kid", "local_date", "_level")
        .sort("local_date")
    )
    snaps = _calendar_keys(start, end, by, departments, campaigns)
    if "campaign" in by:
        grid = combos.join(snaps, on="department", how="inner", nulls_equal=True)
    else:
        grid = combos.join(snaps, how="cross")
    grid = grid.sort("_snap").join_asof(
        levels, left_on="_snap", right_on="local_date", by="_kid", strategy="backward",
        check_sortedness=False,
    )
    grid = grid.with_columns(pl.col("_level").fill_null(0)).filter(pl.col("_level") > 0)
    if not by:
        return pl.DataFrame({"em_backlog": [int(grid.get_column("_level").sum())]},
                            schema={"em_backlog": pl.Int64})
    return cast_stats(
        grid.group_by(list(by)).agg(pl.col("_level").sum().alias("em_backlog"))
    ).select(*by, "em_backlog")
