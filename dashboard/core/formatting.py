"""French formatting of figures for people (the CLI table, the pages).

Choices, applied everywhere:
- the thousands separator, and the space before `%` and units, is U+202F NARROW NO-BREAK
  SPACE (NNBSP), as French typography and CLDR's `fr` locale (browsers' Intl) write it;
  it never breaks a figure across lines;
- the decimal separator is a comma; a missing value (null, no denominator) is "—";
- rates are fractions in, percentages with one decimal out: 0.8731 → "87,3 %";
- durations under a minute are "45 s", under an hour "2 min 05 s", beyond "1 h 02 min 05 s".
JSON and CSV never use these: they carry raw numbers (fractions, `.` decimals).
"""

from __future__ import annotations

import datetime as dt
import math

NNBSP = "\u202f"
MISSING = "—"
UNASSIGNED = "non attribué"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fr_decimal(value: float | int | None, digits: int = 1) -> str:
    """1234.56 → "1 234,6" (DIGITS decimals, NNBSP thousands, decimal comma)."""
    if _missing(value):
        return MISSING
    text = f"{value:,.{digits}f}"
    return text.replace(",", NNBSP).replace(".", ",")


def fr_number(value: float | int | None) -> str:
    """1234 → "1 234" (rounded to a whole number, NNBSP thousands)."""
    return fr_decimal(value, 0)


def fr_percent(fraction: float | None, digits: int = 1) -> str:
    """0.8731 → "87,3 %" (a fraction shown as a percentage)."""
    if _missing(fraction):
        return MISSING
    return f"{fr_decimal(fraction * 100, digits)}{NNBSP}%"


def fr_date(day: dt.date | str | None) -> str:
    """2015-03-29 → "29/03/2015" (a date or an ISO date string)."""
    if day is None:
        return MISSING
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return day.strftime("%d/%m/%Y")


def fr_duration(seconds: float | int | None) -> str:
    """125 → "2 min 05 s"; 45 → "45 s"; 3725 → "1 h 02 min 05 s" (rounded to the second)."""
    if _missing(seconds):
        return MISSING
    total = int(round(seconds))
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{fr_number(hours)}{NNBSP}h{NNBSP}{minutes:02d}{NNBSP}min{NNBSP}{secs:02d}{NNBSP}s"
    if minutes:
        return f"{sign}{minutes}{NNBSP}min{NNBSP}{secs:02d}{NNBSP}s"
    return f"{sign}{secs}{NNBSP}s"


def fr_hours(hours: float | None, digits: int = 1) -> str:
    """12.26 → "12,3 h"."""
    if _missing(hours):
        return MISSING
    return f"{fr_decimal(hours, digits)}{NNBSP}h"


def format_value(value, unit: str) -> str:
    """A metric value shown in French according to its unit kind (see metrics.MetricDef)."""
    if _missing(value):
        return MISSING
    if unit == "count":
        return fr_number(value)
    if unit == "rate":
        return fr_percent(value)
    if unit == "seconds":
        return fr_duration(value)
    if unit == "hours":
        return fr_hours(value)
    if unit in ("ratio", "agents"):
        return fr_decimal(value, 1)
    return str(value)


def format_key(value, dimension: str) -> str:
    """A group key shown in French: 29/03/2015, 03/2015, "non attribué" for no agent, "—".

    Days and months are reformatted; a missing agent is UNASSIGNED, any other missing
    key MISSING; other keys are shown as they are.
    """
    if value is None:
        return UNASSIGNED if dimension == "agent" else MISSING
    if dimension == "day":
        return fr_date(value)
    if dimension == "month":
        year, month = str(value).split("-")
        return f"{month}/{year}"
    return str(value)
