"""Tools and training (spec/review-data.md): `tool_availability` per site and component,
`trained_before_start` per site.

Grain: one row per site × component (or per component over all sites); one row per site
(or one for all).

Tool availability counts only opening time: the site's opening hours on its open days
(dashboard.metrics.sessions.open_windows: its ISO weekdays minus French public holidays,
local hours turned into UTC by the house rule, so a DST day keeps its real length).
Incidents are naive UTC, like the windows; one without a site hits every site. Overlapping
incidents of a component are merged before counting, so no minute counts twice; a
`degrade` minute is reported apart (`degraded_minutes`, the degraded minutes that are not
also out) and does not lower the availability.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from dashboard.core.workdays import HolidayCalendar
from dashboard.metrics.sessions import open_windows

_US_PER_MINUTE = 60_000_000


def _merged_us(pieces: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Per KEYS group, the microseconds of the union of the intervals [`lo`, `hi`)."""
    if pieces.height == 0:
        return pl.DataFrame(schema={**{k: pieces.schema[k] for k in keys}, "us": pl.Int64})
    frame = pieces.sort([*keys, "lo"]).with_columns(
        pl.col("hi").cum_max().shift(1).over(keys).alias("_reach"))
    # A new run starts where an interval begins after every earlier one of its group ended.
    frame = frame.with_columns(
        (pl.col("_reach").is_null() | (pl.col("lo") > pl.col("_reach"))).cast(pl.Int64)
        .cum_sum().over(keys).alias("_run"))
    runs = frame.group_by([*keys, "_run"]).agg(pl.col("lo").min(), pl.col("hi").max())
    return runs.group_by(keys).agg(
        (pl.col("hi") - pl.col("lo")).dt.total_microseconds().sum().cast(pl.Int64).alias("us"))


def tool_availability(
    incidents: pl.DataFrame, hours: pl.DataFrame, start: dt.date, end: dt.date,
    components: Sequence[str], *, by_site: bool = True,
    calendar: HolidayCalendar | None = None,
) -> pl.DataFrame:
    """Availability of each of COMPONENTS per site over the local days START..END.

    INCIDENTS: `component`, `site` (null: every site), `start_at`, `end_at` (naive UTC),
    `severity` (`panne` | `degrade`). HOURS: the sites' `site`, `timezone`, `opens_at`,
    `closes_at`, `open_weekdays` (queries.staffing.site_hours). Returns `site` (unless
    BY_SITE is False: the sums over the sites), `component`, `opening_minutes`,
    `outage_minutes` (`panne` inside opening hours), `degraded_minutes`, and
    `tool_availability` = 1 − outage / opening (null without opening time).
    """
    windows = open_windows(hours, start, end, calendar)
    sites = hours.select(pl.col("site").cast(pl.String)).unique()
    rows = incidents.select(
        pl.col("component").cast(pl.String), pl.col("site").cast(pl.String).alias("_site"),
        pl.col("start_at").cast(pl.Datetime("us")), pl.col("end_at").cast(pl.Datetime("us")),
        pl.col("severity").cast(pl.String),
    ).filter(pl.col("component").is_in(list(components)))
    everywhere = rows.filter(pl.col("_site").is_null()).drop("_site").join(sites, how="cross")
    located = rows.filter(pl.col("_site").is_not_null()).rename({"_site": "site"})
    pieces = (
        pl.concat([located, everywhere.select(located.columns)])
        .join(windows, on="site", how="inner")
        .with_columns(pl.max_horizontal("start_at", "open_lo").alias("lo"),
                      pl.min_horizontal("end_at", "open_hi").alias("hi"))
        .filter(pl.col("hi") > pl.col("lo"))
    )
    keys = ["site", "component"]
    out_us = _merged_us(pieces.filter(pl.col("severity") == "panne"), keys)
    any_us = _merged_us(pieces, keys).rename({"us": "any_us"})
    opening = windows.group_by("site").agg(
        (pl.col("open_hi") - pl.col("open_lo")).dt.total_microseconds().sum()
        .cast(pl.Int64).alias("open_us"))
    grid = sites.join(pl.DataFrame({"component": list(components)},
                                   schema={"component": pl.String}), how="cross")
    frame = (
        grid.join(opening, on="site", how="left")
        .join(out_us, on=keys, how="left")
        .join(any_us, on=keys, how="left")
        .with_columns(pl.col("open_us", "us", "any_us").fill_null(0))
        .with_columns((pl.col("any_us") - pl.col("us")).alias("deg_us"))
    )
    if not by_site:
        keys = ["component"]
        frame = frame.group_by(keys).agg(pl.col("open_us", "us", "deg_us").sum())
    minutes = {"open_us": "opening_minutes", "us": "outage_minutes",
               "deg_us": "degraded_minutes"}
    return frame.select(
        *keys,
        *[(pl.col(c) / _US_PER_MINUTE).alias(name) for c, name in minutes.items()],
        pl.when(pl.col("open_us") > 0).then(1 - pl.col("us") / pl.col("open_us"))
        .alias("tool_availability"),
    ).sort(keys)


def trained_before_start(
    agents: pl.DataFrame, training: pl.DataFrame, *, by_site: bool = True
) -> pl.DataFrame:
    """Share of agents with at least one training day before their first session.

    AGENTS: one row per agent counted, `site`, `agent_id`, `first_day` (local date of the
    agent's first session at the site, ever). Which agents count is the caller's period
    rule; queries.review_records.agent_first_sessions gives the agents with a session in
    the period (the team that served it, each judged on their own start, however long
    ago), not only those who started in it: the spec's denominator is "agents with a
    session", and most periods would have no newcomer at all. TRAINING: `agent_id`, `day`.
    Returns `site` (unless BY_SITE is False), `agents`, `trained` and
    `trained_before_start` = trained / agents (null without agents).
    """
    trained_ids = (
        agents.select("site", "agent_id", "first_day")
        .join(training.select("agent_id", "day"), on="agent_id", how="inner")
        .filter(pl.col("day") < pl.col("first_day"))
        .select("site", "agent_id").unique()
        .with_columns(pl.lit(True).alias("_trained"))
    )
    frame = agents.select("site", "agent_id").unique().join(
        trained_ids, on=["site", "agent_id"], how="left")
    keys = ["site"] if by_site else []
    stats = [pl.len().cast(pl.Int64).alias("agents"),
             pl.col("_trained").fill_null(False).sum().cast(pl.Int64).alias("trained")]
    out = frame.group_by(keys).agg(stats).sort(keys) if keys else frame.select(stats)
    return out.with_columns(
        pl.when(pl.col("agents") > 0).then(pl.col("trained") / pl.col("agents"))
        .alias("trained_before_start"))
