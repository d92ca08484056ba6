"""queries._common.fetch: PostgreSQL answers read by COPY give exactly the frames the
driver's rows give, whatever the values (nulls, empty texts, quotes, commas, new lines,
accents, booleans, dates, times with and without fractions, negative and large numbers)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)

from dashboard.store import database as dbmod
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


def test_sqlite_values_of_loose_types_are_read_as_asked(sqlite_url):
    """SQLite types each value, not each column: integer sums asked as floats, a column
    null over many rows, bytes asked as a text (read by inference, as before)."""
    engine = dbmod.get_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE loose (id INTEGER, whole INTEGER, late TEXT, "
                          "anything)"))
        conn.execute(text("INSERT INTO loose VALUES (:id, :whole, :late, :anything)"),
                     [{"id": i, "whole": i, "late": None, "anything": None}
                      for i in range(1, 1501)]
                     + [{"id": 1501, "whole": 2, "late": "Saint-Pierre", "anything": b"ab"}])
    t = table("loose", column("id"), column("whole"), column("late"), column("anything"))
    with engine.connect() as conn:
        sums = fetch(conn, select(func.sum(t.c.whole).label("total"), func.count().label("n")),
                     {"total": pl.Float64, "n": pl.Int64})
        late = fetch(conn, select(t.c.id, t.c.late).order_by(t.c.id),
                     {"id": pl.Int64, "late": pl.String})
        loose = fetch(conn, select(t.c.anything).where(t.c.id == 1501),
                      {"anything": pl.String})
    assert sums.rows() == [(1500 * 1501 / 2 + 2, 1501)]
    assert sums.schema["total"] == pl.Float64
    assert late.height == 1501 and late["late"].null_count() == 1500
    assert late.row(1500) == (1501, "Saint-Pierre")
    assert loose.rows() == [("ab",)]
