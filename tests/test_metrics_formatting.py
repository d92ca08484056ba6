"""French formatting helpers (dashboard.core.formatting) used by the CLI table and the pages."""

from __future__ import annotations

import datetime as dt

from dashboard.core.formatting import (
    MISSING,
    NNBSP,
    format_key,
    format_value,
    fr_date,
    fr_decimal,
    fr_duration,
    fr_hours,
    fr_number,
    fr_percent,
)


def test_numbers_percentages_and_dates():
    assert fr_number(1234) == f"1{NNBSP}234"
    assert fr_number(1234567.4) == f"1{NNBSP}234{NNBSP}567"
    assert fr_number(0) == "0"
    assert fr_decimal(1234.56) == f"1{NNBSP}234,6"
    assert fr_decimal(0.5, 2) == "0,50"
    assert fr_percent(0.8731) == f"87,3{NNBSP}%"
    assert fr_percent(1.0) == f"100,0{NNBSP}%"
    assert fr_percent(0.0) == f"0,0{NNBSP}%"
    assert fr_date(dt.date(2015, 3, 29)) == "29/03/2015"
    assert fr_date("2015-03-29") == "29/03/2015"
    assert fr_hours(12.26) == f"12,3{NNBSP}h"


def test_durations():
    assert fr_duration(45) == f"45{NNBSP}s"
    assert fr_duration(125) == f"2{NNBSP}min{NNBSP}05{NNBSP}s"
    assert fr_duration(125.4) == f"2{NNBSP}min{NNBSP}05{NNBSP}s"
    assert fr_duration(3725) == f"1{NNBSP}h{NNBSP}02{NNBSP}min{NNBSP}05{NNBSP}s"
    assert fr_duration(0) == f"0{NNBSP}s"


def test_missing_values_are_a_dash():
    for fn in (fr_number, fr_decimal, fr_percent, fr_duration, fr_hours, fr_date):
        assert fn(None) == MISSING == "—"
    assert fr_percent(float("nan")) == MISSING
    assert format_value(None, "rate") == MISSING


def test_by_unit_and_keys():
    assert format_value(1234, "count") == f"1{NNBSP}234"
    assert format_value(0.5, "rate") == f"50,0{NNBSP}%"
    assert format_value(65, "seconds") == f"1{NNBSP}min{NNBSP}05{NNBSP}s"
    assert format_value(2.5, "hours") == f"2,5{NNBSP}h"
    assert format_value(62.5, "ratio") == "62,5"
    assert format_key(None, "agent") == "non attribué"
    assert format_key(None, "queue") == MISSING
    assert format_key("2015-03-29", "day") == "29/03/2015"
    assert format_key("2015-03", "month") == "03/2015"
    assert format_key("2015-W01", "week") == "2015-W01"
