"""Agents' sessions and the time bases: logged-in time per group, the sites' opening
windows and slot grids (the time base W of spec/metrics.md), and logged-in time inside W.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from dashboard.core.localtime import with_local_columns
from dashboard.core.workdays import HolidayCalendar, default_calendar
from dashboard.metrics.grouping import aggregate, cast_stats, localize_columns, site_period_bounds

_PIECE = "15m"  # every real UTC offset is a multiple of 15 min: local slots align on it


def session_pieces(
    sessions: pl.DataFrame, sites: pl.DataFrame, start: dt.date, end: dt.date, *,
    by_day: bool, by_slot: bool,
) -> pl.DataFrame:
    """Sessions clipped to the period → pieces with `logged_us` (and local date / slot).

    The period is [local midnight of START, local midnight after END) in each site's
    zone. With BY_DAY pieces are split at local midnights and carry `local_date`; with
    BY_SLOT they are split at local half-hours and carry `local_date` and `local_slot`
    (the autumn repeated hour puts both occurrences in the same two slots; the spring
    gap leaves its slots empty).
    """
    bounds = site_period_bounds(sites, start, end)
    tz = sites.select("site", "timezone")
    frame = (
        sessions.join(bounds, on="site", how="inner")
        .join(tz, on="site", how="left")
        .with_columns(
            pl.max_horizontal("start_at", "lo").alias("_s"),
            pl.min_horizontal("end_at", "hi").alias("_e"),
        )
        .filter(pl.col("_e") > pl.col("_s"))
        .drop("lo", "hi", "start_at", "end_at")
    )
    if by_slot:
        frame = (
            frame.with_columns(
                pl.datetime_ranges(
                    pl.col("_s").dt.truncate(_PIECE), pl.col("_e"), _PIECE, closed="left"
                ).alias("_g")
            )
            .explode("_g")
            .with_columns(
                pl.max_horizontal("_g", "_s").alias("_ps"),
                pl.min_horizontal(pl.col("_g") + pl.duration(minutes=15), "_e").alias("_pe"),
            )
            .filter(pl.col("_pe") > pl.col("_ps"))
        )
        frame = with_local_columns(frame, "_ps", "timezone", "local_date", "local_slot")
    elif by_day:
        frame = with_local_columns(frame, "_s", "timezone", "_d0", None)
        frame = frame.with_columns((pl.col("_e") - pl.duration(microseconds=1)).alias("_e1"))
        frame = with_local_columns(frame, "_e1", "timezone", "_d1", None)
        frame = frame.with_columns(
            pl.date_ranges("_d0", "_d1").alias("local_date")
        ).explode("local_date").with_columns(
            pl.col("local_date").cast(pl.Datetime("us")).alias("_m0"),
            (pl.col("local_date") + pl.duration(days=1)).cast(pl.Datetime("us")).alias("_m1"),
        )
        frame = localize_columns(frame, {"_m0": "_u0", "_m1": "_u1"}).with_columns(
            pl.max_horizontal("_s", "_u0").alias("_ps"),
            pl.min_horizontal("_e", "_u1").alias("_pe"),
        ).filter(pl.col("_pe") > pl.col("_ps"))
    else:
        frame = frame.with_columns(pl.col("_s").alias("_ps"), pl.col("_e").alias("_pe"))
    return frame.with_columns(
        (pl.col("_pe") - pl.col("_ps")).dt.total_microseconds().cast(pl.Int64).alias("logged_us")
    )


def session_stats(pieces: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed session pieces (see session_pieces) → `st_logged_us` per group."""
    return cast_stats(aggregate(pieces, by, [pl.col("logged_us").sum().alias("st_logged_us")]))


def _minutes(hhmm: str) -> int:
    """'08:30' → 510, minutes after local midnight ('24:00' is the end of the day)."""
    try:
        hours, minutes = hhmm.strip().split(":")
        value = int(hours) * 60 + int(minutes)
    except (AttributeError, ValueError):
        raise ValueError(f"opening time {hhmm!r} is not HH:MM") from None
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"opening time {hhmm!r} is not within a day")
    return value


def open_windows(
    hours: pl.DataFrame, start: dt.date, end: dt.date, calendar: HolidayCalendar | None = None
) -> pl.DataFrame:
    """Per site and open local day of START..END: `open_lo`, `open_hi`, the naive UTC
    bounds of its opening hours.

    HOURS (queries.staffing.site_hours) carry `site`, `timezone`, `opens_at`, `closes_at`
    (local "HH:MM") and `open_weekdays` (ISO digits, "12345"). A day is open on the site's
    weekdays unless it is a public holiday of CALENDAR (default: France's). Local opening
    times become UTC by the house rule of dashboard.core.localtime, so a 23 h or 25 h day keeps
    its real opening length.
    """
    calendar = calendar or default_calendar()
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    closed: set[dt.date] = set()
    for year in {d.year for d in days}:
        closed |= set(calendar(year))
    rows = []
    for site, tz, opens, closes, weekdays in hours.select(
        "site", "timezone", "opens_at", "closes_at", "open_weekdays"
    ).iter_rows():
        lo, hi = _minutes(opens), _minutes(closes)
        open_days = {int(ch) for ch in (weekdays or "") if ch.isdigit()}
        if hi <= lo:
            continue
        for day in days:
            if day.isoweekday() in open_days and day not in closed:
                midnight = dt.datetime.combine(day, dt.time())
                rows.append((site, tz or "Europe/Paris", day,
                             midnight + dt.timedelta(minutes=lo),
                             midnight + dt.timedelta(minutes=hi)))
    frame = pl.DataFrame(
        rows,
        schema={"site": pl.String, "timezone": pl.String, "local_date": pl.Date,
                "_o": pl.Datetime("us"), "_c": pl.Datetime("us")},
        orient="row",
    )
    frame = localize_columns(frame, {"_o": "open_lo", "_c": "open_hi"})
    return frame.select(
        "site", "local_date", pl.col("open_lo").cast(pl.Datetime("us")),
        pl.col("open_hi").cast(pl.Datetime("us")),
    )


def _overlap_us(lo: pl.Expr, hi: pl.Expr, win_lo: pl.Expr, win_hi: pl.Expr) -> pl.Expr:
    """Microseconds of [LO, HI) inside [WIN_LO, WIN_HI); 0 when apart or no window."""
    # min/max_horizontal skip nulls: without a window the overlap must be 0 explicitly.
    span = pl.min_horizontal(hi, win_hi) - pl.max_horizontal(lo, win_lo)
    inside = span.dt.total_microseconds().clip(lower_bound=0)
    return pl.when(win_lo.is_not_null() & win_hi.is_not_null()).then(inside).otherwise(0).cast(
        pl.Int64)


def slot_grid(
    hours: pl.DataFrame, windows: pl.DataFrame, start: dt.date, end: dt.date, *,
    slot_base: bool,
) -> pl.DataFrame:
    """Every local half-hour of the period, per site: its real length and its time base.

    One row per (`site`, `local_date`, `local_slot`) with `dur_us` (real length: 60 min
    for the two slots of the October repeated hour, and no row for the March gap's),
    `open_day` and `base_us`, the part of it in the time base W (see the module
    docstring): the whole slot on an open day when SLOT_BASE, else its overlap with the
    opening hours of WINDOWS (open_windows). Built from the 15-minute UTC pieces of the
    period: every real UTC offset is a multiple of 15 min, so a piece lies in one slot.
    """
    return slot_grids(hours, windows, start, end)[slot_base]


def slot_grids(
    hours: pl.DataFrame, windows: pl.DataFrame, start: dt.date, end: dt.date
) -> dict[bool, pl.DataFrame]:
    """slot_grid for both time bases at once: {slot_base: grid}.

    Sites with the same time zone and the same opening windows have the same grid but for
    the site's name: it is built once per such group (most centres of a network share
    their hours), then given to each site of the group."""
    groups = hours.group_by("timezone", "opens_at", "closes_at", "open_weekdays",
                            maintain_order=True).agg(pl.col("site"))
    if groups.height == hours.height:
        return _slot_grids(hours, windows, start, end)
    parts: dict[bool, list[pl.DataFrame]] = {False: [], True: []}

    def days_of(site: str) -> pl.DataFrame:
        return windows.filter(pl.col("site") == site).drop("site").sort("local_date")

    for sites in groups.get_column("site").to_list():
        model = days_of(sites[0])
        alike = [s for s in sites if days_of(s).equals(model)]
        # A site whose windows differ (windows a caller built otherwise) gets its own grid.
        for batch in [alike] + [[s] for s in sites if s not in alike]:
            grids = _slot_grids(hours.filter(pl.col("site") == batch[0]),
                                windows.filter(pl.col("site") == batch[0]), start, end)
            names = pl.DataFrame({"site": batch}, schema={"site": pl.String})
            for base, grid in grids.items():
                parts[base].append(names.join(grid.drop("site"), how="cross")
                                   .select(grid.columns))
    return {base: pl.concat(frames) for base, frames in parts.items()}


def _slot_grids(
    hours: pl.DataFrame, windows: pl.DataFrame, start: dt.date, end: dt.date
) -> dict[bool, pl.DataFrame]:
    out_schema = {"site": pl.String, "local_date": pl.Date, "local_slot": pl.Int16,
                  "dur_us": pl.Int64, "open_day": pl.Boolean, "base_us": pl.Int64}
    bounds = site_period_bounds(hours, start, end)
    if bounds.height == 0:
        return {base: pl.DataFrame(schema=out_schema) for base in (False, True)}
    frame = (
        bounds.join(hours.select("site", "timezone"), on="site", how="left")
        .with_columns(pl.col("timezone").fill_null("Europe/Paris"),
                      pl.datetime_ranges("lo", "hi", _PIECE, closed="left").alias("_ps"))
        .explode("_ps")
        .with_columns(
            pl.min_horizontal(pl.col("_ps") + pl.duration(minutes=15), "hi").alias("_pe")
        )
    )
    frame = with_local_columns(frame, "_ps", "timezone")
    frame = frame.join(windows, on=["site", "local_date"], how="left")
    piece_us = (pl.col("_pe") - pl.col("_ps")).dt.total_microseconds().cast(pl.Int64)
    open_day = pl.col("open_lo").is_not_null()
    in_slots = pl.when(open_day).then(piece_us).otherwise(0)
    in_hours = _overlap_us(pl.col("_ps"), pl.col("_pe"), pl.col("open_lo"), pl.col("open_hi"))
    grid = frame.group_by("site", "local_date", "local_slot").agg(
        piece_us.sum().alias("dur_us"),
        open_day.any().alias("open_day"),
        in_hours.sum().alias("_base_hours"),
        in_slots.sum().alias("_base_slots"),
    )
    return {base: grid.rename({column: "base_us"}).select(
                pl.col(c).cast(t) for c, t in out_schema.items())
            for base, column in ((False, "_base_hours"), (True, "_base_slots"))}


def base_stats(grid: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed slot grid (slot_grid) → `st_base_us`, the length of the time base per group.

    Summed over time within a site, then the largest over the sites of the group (a
    group's agents are added across its sites, its time base is counted once).
    """
    per_site = aggregate(grid, list(dict.fromkeys([*by, "site"])),
                          [pl.col("base_us").sum().alias("st_base_us")])
    return cast_stats(aggregate(per_site, by, [pl.col("st_base_us").max()]))


def base_logged_pieces(
    pieces: pl.DataFrame, windows: pl.DataFrame, *, slot_base: bool
) -> pl.DataFrame:
    """Session pieces (session_pieces, by day or by slot) plus `base_logged_us`, their
    logged-in time inside the time base: the piece on an open day when SLOT_BASE, else
    its overlap with that day's opening hours (WINDOWS, open_windows)."""
    frame = pieces.join(windows, on=["site", "local_date"], how="left")
    if slot_base:
        inside = pl.when(pl.col("open_lo").is_not_null()).then(pl.col("logged_us")).otherwise(0)
    else:
        inside = _overlap_us(pl.col("_ps"), pl.col("_pe"), pl.col("open_lo"), pl.col("open_hi"))
    return frame.with_columns(inside.cast(pl.Int64).alias("base_logged_us")).drop(
        "open_lo", "open_hi"
    )


def windows_on_quarters(windows: pl.DataFrame) -> bool:
    """Whether every opening window (open_windows) starts and ends on a UTC quarter hour:
    then a 15-minute piece of presence is wholly inside or outside it."""
    quarter = 15 * 60 * 1_000_000
    return windows.height == 0 or bool(windows.select(
        ((pl.col("open_lo").dt.epoch("us") % quarter == 0)
         & (pl.col("open_hi").dt.epoch("us") % quarter == 0)).all()).item())


def base_logged_quarters(
    quarters: pl.DataFrame, windows: pl.DataFrame, *, slot_base: bool
) -> pl.DataFrame:
    """Presence per UTC quarter hour (rollup_presence rows: `site`, `local_date`, `q_at`,
    `logged_us`) plus `base_logged_us`, as base_logged_pieces gives for the sessions'
    pieces; exact when windows_on_quarters(WINDOWS)."""
    frame = quarters.join(windows, on=["site", "local_date"], how="left")
    inside = pl.col("open_lo").is_not_null()
    if not slot_base:
        inside = inside & (pl.col("q_at") >= pl.col("open_lo")) & (
            pl.col("q_at") + pl.duration(minutes=15) <= pl.col("open_hi"))
    return frame.with_columns(
        pl.when(inside).then(pl.col("logged_us")).otherwise(0).cast(pl.Int64)
        .alias("base_logged_us")
    ).drop("open_lo", "open_hi")


def hours_on_slots(grid: pl.DataFrame) -> bool:
    """Whether every local half-hour of GRID (slot_grid with the opening-hours base) lies
    wholly inside or wholly outside the opening hours: then presence summed per slot
    splits exactly between them (base_logged_slots)."""
    return bool(grid.select(
        ((pl.col("base_us") == 0) | (pl.col("base_us") == pl.col("dur_us"))).all()).item())


def base_logged_slots(
    slots: pl.DataFrame, grid: pl.DataFrame, *, slot_base: bool
) -> pl.DataFrame:
    """Presence per local half-hour (rollup_presence_slots rows: `site`, `local_date`,
    `local_slot`, `logged_us`) plus `base_logged_us`, as base_logged_pieces gives for the
    sessions' pieces: the slot's presence when it lies in the time base, else 0. GRID is
    slot_grid with the opening-hours base; exact when hours_on_slots(GRID)."""
    keys = ["site", "local_date", "local_slot"]
    frame = slots.join(grid.select(*keys, "open_day", "base_us"), on=keys, how="left",
                       maintain_order="left")
    inside = pl.col("open_day").fill_null(False)
    if not slot_base:
        inside = pl.col("base_us").fill_null(0) > 0
    return frame.with_columns(
        pl.when(inside).then(pl.col("logged_us")).otherwise(0).cast(pl.Int64)
        .alias("base_logged_us")
    ).drop("open_day", "base_us")


def base_logged_stats(pieces: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed pieces (base_logged_pieces) → `st_base_logged_us` per group."""
    return cast_stats(
        aggregate(pieces, by, [pl.col("base_logged_us").sum().alias("st_base_logged_us")])
    )
