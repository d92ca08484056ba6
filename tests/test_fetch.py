"""queries._common.fetch: PostgreSQL answers read by COPY give exactly the frames the
driver's rows give, whatever the values (nulls, empty texts, quotes, commas, new lines,
accents, booleans, dates, times with and without fractions, negative and large numbers)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Float, Integer, MetaData,
                        SmallInteger, String, Table, literal_column, select)

from dashboard import db as dbmod
from queries._common import fetch, fetch_copy, fetch_rows

META = MetaData()
ODD = Table(
    "odd_values", META,
    Column("id", Integer, primary_key=True),
    Column("text", String(64)),
    Column("flag", Boolean),
    Column("day", Date),
    Column("at", DateTime),
    Column("small", SmallInteger),
    Column("big", BigInteger),
    Column("ratio", Float),
)
SCHEMA = {"id": pl.Int64, "text": pl.String, "flag": pl.Boolean, "day": pl.Date,
          "at": pl.Datetime("us"), "small": pl.Int16, "big": pl.Int64, "ratio": pl.Float64}
ROWS = [
    {"id": 1, "text": "Saint-Denis (La Réunion)", "flag": True, "day": dt.date(2015, 3, 29),
     "at": dt.datetime(2015, 3, 29, 1, 59, 59, 999999), "small": -32768,
     "big": 9_000_000_000_000, "ratio": 0.1},
    {"id": 2, "text": "", "flag": False, "day": dt.date(2014, 1, 1),
     "at": dt.datetime(2015, 10, 25, 2, 0), "small": 47, "big": -1, "ratio": -1e-9},
    {"id": 3, "text": None, "flag": None, "day": None, "at": None, "small": None, "big": None,
     "ratio": None},
    {"id": 4, "text": 'a "quoted", comma\nand a new line; 100%', "flag": True,
     "day": dt.date(2016, 2, 29), "at": dt.datetime(2016, 2, 29, 23, 59, 59, 1),
     "small": 0, "big": 0, "ratio": 12345.678},
]


def _filled(url: str):
    engine = dbmod.get_engine(url)
    META.create_all(engine)
    with engine.begin() as conn:
        conn.execute(ODD.insert(), ROWS)
    return engine


def test_fetch_gives_the_values_stored(empty_db_url):
    engine = _filled(empty_db_url)
    with engine.connect() as conn:
        got = fetch(conn, select(*ODD.c).order_by(ODD.c.id), SCHEMA)
    expected = pl.DataFrame(ROWS, schema=SCHEMA, orient="row")
    assert_frame_equal(got, expected)


def test_copy_equals_the_drivers_rows_on_postgresql(pg_url):
    engine = _filled(pg_url)
    with engine.connect() as conn:
        for stmt in (
            select(*ODD.c).order_by(ODD.c.id),
            # Bound parameters, an expanding IN list and a literal percent sign.
            select(*ODD.c).where(ODD.c.id.in_([2, 4]), ODD.c.text.is_not(None))
            .order_by(ODD.c.id),
            select(*ODD.c).where(ODD.c.text.like("%100%%")).order_by(ODD.c.id),
            select(*ODD.c).where(ODD.c.id > 99),  # nothing
        ):
            assert_frame_equal(fetch_copy(conn, stmt, SCHEMA), fetch_rows(conn, stmt, SCHEMA))
        percent = select(literal_column("'5%'").label("text"))
        assert fetch_copy(conn, percent, {"text": pl.String})["text"].to_list() == ["5%"]
