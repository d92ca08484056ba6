"""What is due at an instant: the latest period of each kind, its key and its due time.

daily — the previous local day D, due from 06:00 local on D+1, key "daily:YYYY-MM-DD";
weekly — the last complete ISO week (Monday–Sunday), due from the next Monday 07:00
local, key "weekly:YYYY-Www". Local is DEFAULT_TIMEZONE (Europe/Paris, the pilot's
sites'). Only the latest period is ever offered: a subscription made today receives
yesterday's message, not months of back-fill.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dashboard.core.config import DEFAULT_TIMEZONE

DAILY_AT = dt.time(6, 0)
WEEKLY_AT = dt.time(7, 0)
ZONE = ZoneInfo(DEFAULT_TIMEZONE)


@dataclass(frozen=True)
class Period:
    """The local days a message covers and from when (naive UTC) it may be sent."""

    kind: str
    start: dt.date
    end: dt.date
    due_at: dt.datetime

    @property
    def key(self) -> str:
        """The period's key in `deliveries.period`."""
        if self.kind == "daily":
            return f"daily:{self.start.isoformat()}"
        year, week, _ = self.start.isocalendar()
        return f"weekly:{year}-W{week:02d}"

    def previous(self) -> Period:
        """The same period one week earlier (the message's comparison)."""
        week = dt.timedelta(days=7)
        return Period(self.kind, self.start - week, self.end - week, self.due_at - week)


def to_utc(local: dt.datetime) -> dt.datetime:
    """A local wall-clock time (DEFAULT_TIMEZONE) → naive UTC."""
    return local.replace(tzinfo=ZONE).astimezone(dt.UTC).replace(tzinfo=None)


def local_now(now_utc: dt.datetime) -> dt.datetime:
    """Naive UTC → naive local wall-clock time."""
    return now_utc.replace(tzinfo=dt.UTC).astimezone(ZONE).replace(tzinfo=None)


def daily_period(day: dt.date) -> Period:
    """The daily message of local day DAY."""
    return Period("daily", day, day,
                  to_utc(dt.datetime.combine(day + dt.timedelta(days=1), DAILY_AT)))


def weekly_period(monday: dt.date) -> Period:
    """The weekly message of the ISO week starting on MONDAY."""
    return Period("weekly", monday, monday + dt.timedelta(days=6),
                  to_utc(dt.datetime.combine(monday + dt.timedelta(days=7), WEEKLY_AT)))


def latest_due(kind: str, now_utc: dt.datetime) -> Period | None:
    """The latest period of KIND due at NOW_UTC (None for kinds planned elsewhere: alert)."""
    local = local_now(now_utc)
    if kind == "daily":
        period = daily_period(local.date() - dt.timedelta(days=1))
        return period if period.due_at <= now_utc else daily_period(
            local.date() - dt.timedelta(days=2))
    if kind == "weekly":
        monday = local.date() - dt.timedelta(days=local.weekday())
        period = weekly_period(monday - dt.timedelta(days=7))
        return period if period.due_at <= now_utc else weekly_period(
            monday - dt.timedelta(days=14))
    return None


def parse_key(key: str) -> Period:
    """A `deliveries.period` key of a daily or weekly message → its Period."""
    kind, _, value = key.partition(":")
    if kind == "daily":
        return daily_period(dt.date.fromisoformat(value))
    if kind == "weekly":
        year, week = value.split("-W")
        return weekly_period(dt.date.fromisocalendar(int(year), int(week), 1))
    raise ValueError(f"not a daily or weekly period key: {key!r}")
