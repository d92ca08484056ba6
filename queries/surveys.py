"""Users' survey answers (spec/review-data.md), counted in SQL per combination of the
grouping columns asked for.

Grain: one row per distinct value of COLUMNS (local date of the answer, site, département,
channel) with the answer counts the survey statistics sum. Answers carry no slot, queue
or agent: the caller leaves those groupings null (see dashboard.metrics).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from sqlalchemy import BigInteger, Connection, Integer, case, cast, func, select

from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import SOURCE_DTYPES, columns_of, fetch, row_conditions

S = schema.surveys
COUNTS = ("n", "satisfied", "score_sum", "resolved", "resolved_given")


def _count(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def count_columns() -> list:
    """The answer counts (COUNTS) of a group of raw answers, as SQL aggregates."""
    return [
        func.count().label("n"),
        _count(S.c.satisfaction >= 4).label("satisfied"),
        func.coalesce(func.sum(S.c.satisfaction.cast(Integer)), 0).label("score_sum"),
        _count(S.c.resolved.is_(True)).label("resolved"),
        _count(S.c.resolved.is_not(None)).label("resolved_given"),
    ]


def survey_counts(conn: Connection, filters: Filters, columns: Sequence[str] = (),
                  rollup: bool = False) -> pl.DataFrame:
    """Answers given on a local date of the period, counted per value of COLUMNS: `n`,
    `satisfied` (satisfaction ≥ 4), `score_sum`, `resolved` (true) and `resolved_given`;
    from the raw answers, or from rollup_surveys when ROLLUP (the same counts summed)."""
    table = schema.rollup_surveys if rollup else S
    names = [name for name in dict.fromkeys(columns) if name in table.c]
    cols = columns_of(table, names)
    counts = ([cast(func.coalesce(func.sum(table.c[c]), 0), BigInteger).label(c)
               for c in COUNTS] if rollup else count_columns())
    stmt = (
        select(*cols, *counts)
        .where(
            table.c.local_date.between(filters.start, filters.end),
            *row_conditions(table, filters, fields=("sites", "departments", "channels")),
        )
        .group_by(*cols)
    )
    sch = {name: SOURCE_DTYPES[name] for name in names}
    sch.update(dict.fromkeys(COUNTS, pl.Int64))
    return fetch(conn, stmt, sch)


def wait_band_counts(conn: Connection, filters: Filters, edges: Sequence[int]
                     ) -> pl.DataFrame:
    """Answers about an answered call of the period, per band of that call's wait:
    `band` (0 for a wait under EDGES[0] seconds, i for [EDGES[i-1], EDGES[i]), len(EDGES)
    beyond), `n`, `satisfied`, `score_sum`. The answer reaches its call by the source
    and contact_id it was imported with."""
    C = schema.contacts
    wait = C.c.wait_seconds
    band = case(*((wait < edge, index) for index, edge in enumerate(edges)),
                else_=len(edges))
    stmt = (
        select(band.label("band"), *count_columns()[:3])
        .select_from(S.join(C, (C.c.source == S.c.source) & (C.c.contact_id == S.c.contact_id)))
        .where(
            S.c.local_date.between(filters.start, filters.end),
            C.c.channel == "phone", C.c.outcome == "answered", wait.is_not(None),
            *row_conditions(S, filters, fields=("sites", "departments", "channels")),
        )
        .group_by(band)
    )
    return fetch(conn, stmt, {"band": pl.Int64, "n": pl.Int64, "satisfied": pl.Int64,
                              "score_sum": pl.Int64})
