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
import re

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


def fr_signed_percent(fraction: float | None, digits: int = 1) -> str:
    """0.123 → "+12,3 %", −0.04 → "−4,0 %" (a relative change, with its sign)."""
    if _missing(fraction):
        return MISSING
    text = fr_percent(abs(fraction), digits)
    if text.strip("0,%" + NNBSP) == "":
        return text  # rounds to zero: no sign
    return ("+" if fraction > 0 else "−") + text


_WEEKDAY_ABBR = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def fr_weekday_date(day: dt.date) -> str:
    """2016-01-04 → "lun. 04/01" (a day of the coming weeks, in a table or an axis)."""
    return f"{_WEEKDAY_ABBR[day.weekday()]} {day:%d/%m}"


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


# Markdown text: Streamlit renders st.markdown, st.caption, st.title, st.header,
# st.info/warning/error/success, metric, widget and button labels as GitHub-flavoured
# Markdown with its own extensions: `:red[…]` colours and badges (remark-directive),
# `:material/name:` icons, `$…$` LaTeX, emoji shortcodes, `:streamlit:`. A character is
# backslash-escaped when it can start markup anywhere in a line: emphasis `* _ ~`, code
# `` ` ``, links, footnotes and directives `[ ] { } :`, autolinks and HTML `< >`,
# entities `&`, math `$`, tables `|`, headings `#`, the backslash itself. `- +` and a
# number's `.` or `)` (lists) matter only at the start of a line and are escaped only
# there, so that "Eure-et-Loir" stays what a reader, and a test looking for it, sees.
_MD_ANYWHERE = re.compile(r"([\\`*_~\[\]{}<>:&$|#])")
_MD_LINE_START = re.compile(r"^(?:([-+])|(\d+)(?=[.)]))")
# Some markup is found in the text after the escapes are undone, so backslashes cannot
# stop it: GFM's bare links (`http://…`, `www.…`, `name@host.fr`) and Streamlit's
# `:material/…:` icons and `:streamlit:` logo. An invisible WORD JOINER breaks each
# (after `://`'s colon, between `www` and its dot, after `@`, after the icon's colon).
_MD_FOUND_IN_TEXT = re.compile(r"(?<=:)(?=//|material[/_]|streamlit:)|(?<=www)(?=\.)|(?<=@)",
                               re.IGNORECASE)
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")
WORD_JOINER = "\u2060"


def _line_start(match: re.Match) -> str:
    sign, number = match.groups()
    return "\\" + sign if sign else number + "\\"


def md_text(value) -> str:
    """VALUE as Markdown that Streamlit shows as it is: "**x**" → "\\*\\*x\\*\\*".

    For imported text (names, labels, file names) put into a Markdown string; None is "".
    Line breaks become spaces: a value is one run of text, never a block of its own.
    """
    if value is None:
        return ""
    text = _LINE_BREAKS.sub(" ", str(value)).strip(" \t")
    text = _MD_FOUND_IN_TEXT.sub(WORD_JOINER, text)
    text = _MD_ANYWHERE.sub(r"\\\1", text)
    return _MD_LINE_START.sub(_line_start, text)


# What a staff-barometer group too small to show shows instead of its figures
# (dashboard.metrics.barometer: fewer than MIN_RESPONDENTS answers).
SMALL_GROUP = "— (moins de 5 réponses)"
