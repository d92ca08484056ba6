"""Working days: Monday–Friday minus public holidays, for the e-mail reply deadlines.

A calendar is any callable `year -> collection of holiday dates`; the default is France's
(metropolitan) public holidays from the maintained `holidays` package. Another country's
calendar (or a département-specific one) can be passed wherever a calendar is accepted.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Iterable

import holidays
import polars as pl

HolidayCalendar = Callable[[int], Collection[dt.date]]


@functools.lru_cache(maxsize=64)
def french_holidays(year: int) -> frozenset[dt.date]:
    """French public holidays of YEAR (metropolitan France, from `holidays.France`)."""
    return frozenset(holidays.France(years=year).keys())


def default_calendar() -> HolidayCalendar:
    """The calendar the metrics use unless told otherwise: French public holidays."""
    return french_holidays


def is_working_day(day: dt.date, calendar: HolidayCalendar | None = None) -> bool:
    """True for Monday–Friday days that are not a holiday of CALENDAR."""
    calendar = calendar or default_calendar()
    return day.isoweekday() <= 5 and day not in calendar(day.year)


def add_working_days(day: dt.date, n: int, calendar: HolidayCalendar | None = None) -> dt.date:
    """The Nth working day after DAY (DAY itself never counts), N >= 1."""
    if n < 1:
        raise ValueError("n must be at least 1")
    calendar = calendar or default_calendar()
    current = day
    left = n
    while left:
        current += dt.timedelta(days=1)
        if is_working_day(current, calendar):
            left -= 1
    return current


def working_day_deadlines(
    days: Iterable[dt.date], n: int, calendar: HolidayCalendar | None = None
) -> pl.DataFrame:
    """Frame (`day`, `deadline`): the Nth working day after each distinct day given."""
    distinct = sorted({d for d in days if d is not None})
    return pl.DataFrame(
        {"day": distinct, "deadline": [add_working_days(d, n, calendar) for d in distinct]},
        schema={"day": pl.Date, "deadline": pl.Date},
    )
