"""The review's other records (spec/review-data.md), read within the user's Scope.

Grain: `local_reception_daily` one row per département × local day (× channel);
`incident_rows` one row per incident; `training_rows` one row per training record;
`agent_first_sessions` one row per site × agent; `staff_survey_rows` one row per
barometer response; `survey_rows` one row per user survey answer.

These tables do not all carry a site, so the Scope is applied here, table by table
(Scope.conditions knows only `site` and `agent_id`), always, and a Filters without one is
refused as everywhere (queries._common.MissingScope):
- admin and national read every row;
- a site supervisor reads the incidents of their site and those of every site (site
  null); the training of their site's agents (in `agents`, or with a session there); the
  barometer responses of their site and of the départements it covers or covered; the
  local reception of the départements their site covers or covered (their own pilots'
  "before" included) and of the controls: the départements no site served on any day of
  the period. A supervisor's relief needs its controls, and these are counts of local
  services, not of people; other sites' pilot départements stay out;
- an agent reads their own training only (and their own sessions, as everywhere).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from sqlalchemy import BigInteger, Connection, Select, and_, cast, false, func, null, or_, select
from sqlalchemy.sql.elements import ColumnElement

from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.store import schema
from queries._common import MissingScope, fetch, row_conditions

LR, INC, TR, SS, SV = (schema.local_reception, schema.incidents, schema.training,
                       schema.staff_surveys, schema.surveys)
COV, AG, SE = schema.coverage, schema.agents, schema.agent_sessions
# Incidents are stored in UTC, periods in local days: a local day lies within a day of
# its UTC date either way (offsets −12 h to +14 h); the metrics clip to opening hours.
_UTC_MARGIN = dt.timedelta(days=1)


def _scope(filters: Filters) -> Scope:
    if filters.scope is None:
        raise MissingScope("rows are read within a Scope: the user's, or ALL_ROWS for a "
                           "trusted caller")
    return filters.scope


def _covered_by(site: str) -> Select:
    """The départements SITE covers or covered, at any time."""
    return select(COV.c.department).where(COV.c.site == site)


def _served_during(start: dt.date, end: dt.date) -> Select:
    """The départements some site served on some day of START..END."""
    return select(COV.c.department).where(
        COV.c.start_date <= end, or_(COV.c.end_date.is_(None), COV.c.end_date >= start))


def _in(column, values: Sequence[str]) -> list[ColumnElement[bool]]:
    return [column.in_(list(values))] if values else []


# ----------------------------------------------------------------- local reception


def local_reception_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The Scope's WHERE conditions on local_reception (see the module docstring)."""
    scope = _scope(filters)
    if scope.sees_all_sites:
        return []
    if scope.role == "supervisor":
        return [or_(LR.c.department.in_(_covered_by(scope.site)),
                    LR.c.department.not_in(_served_during(filters.start, filters.end)))]
    return [false()]


def local_reception_daily(
    conn: Connection, filters: Filters, *, channels: Sequence[str] = (),
    by_channel: bool = False,
) -> pl.DataFrame:
    """What the local services received per département and local day of the period
    (services summed; channels too unless BY_CHANNEL): `department`, `day`, [`channel`],
    `received`, `handled` and `staff_hours` (null where no record gives them). CHANNELS
    keeps some reception channels (schema.RECEPTION_CHANNELS); filters.departments
    applies, filters.channels (contact channels) does not."""
    keys = [LR.c.department, LR.c.day] + ([LR.c.channel] if by_channel else [])
    stmt = (
        select(*keys, cast(func.sum(LR.c.received), BigInteger), func.sum(LR.c.handled),
               func.sum(LR.c.staff_hours))
        .where(LR.c.day >= filters.start, LR.c.day <= filters.end,
               *_in(LR.c.department, filters.departments), *_in(LR.c.channel, channels),
               *local_reception_conditions(filters))
        .group_by(*keys).order_by(*keys)
    )
    out = {"department": pl.String, "day": pl.Date}
    if by_channel:
        out["channel"] = pl.String
    out |= {"received": pl.Int64, "handled": pl.Int64, "staff_hours": pl.Float64}
    return fetch(conn, stmt, out)


# ------------------------------------------------------------------------ incidents


def incident_rows(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Incidents overlapping the period (with a day's margin in UTC either side): `id`
    (incident_id), `component`, `site` (null: every site), `start_at`, `end_at` (naive
    UTC), `severity`, `description`. filters.sites keeps those sites' and the all-site
    incidents; a supervisor reads theirs and the all-site ones, an agent none."""
    scope = _scope(filters)
    conds = [INC.c.start_at < dt.datetime.combine(filters.end, dt.time()) + 2 * _UTC_MARGIN,
             INC.c.end_at > dt.datetime.combine(filters.start, dt.time()) - _UTC_MARGIN]
    if filters.sites:
        conds.append(or_(INC.c.site.is_(None), INC.c.site.in_(list(filters.sites))))
    if scope.role == "supervisor":
        conds.append(or_(INC.c.site.is_(None), INC.c.site == scope.site))
    elif not scope.sees_all_sites:
        conds.append(false())
    stmt = select(INC.c.incident_id, INC.c.component, INC.c.site, INC.c.start_at,
                  INC.c.end_at, INC.c.severity, INC.c.description).where(*conds).order_by(
        INC.c.start_at, INC.c.incident_id)
    return fetch(conn, stmt, {
        "incident_id": pl.String, "component": pl.String, "site": pl.String,
        "start_at": pl.Datetime("us"), "end_at": pl.Datetime("us"), "severity": pl.String,
        "description": pl.String,
    })


# ------------------------------------------------------------- training and sessions


def training_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The Scope's WHERE conditions on training (see the module docstring)."""
    scope = _scope(filters)
    if scope.sees_all_sites:
        return []
    if scope.role == "supervisor":
        return [or_(TR.c.agent_id.in_(select(AG.c.agent_id).where(AG.c.site == scope.site)),
                    TR.c.agent_id.in_(select(SE.c.agent_id).where(SE.c.site == scope.site)
                                      .distinct()))]
    return [TR.c.agent_id == scope.agent_id]


def training_rows(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Training records of the scope's agents up to the period's end (a training before
    a first session can be long before the period): `agent_id`, `day`, `hours`,
    `module`. filters.agents applies."""
    stmt = select(TR.c.agent_id, TR.c.day, TR.c.hours, TR.c.module).where(
        TR.c.day <= filters.end, *_in(TR.c.agent_id, filters.agents),
        *training_conditions(filters)).order_by(TR.c.agent_id, TR.c.day, TR.c.module)
    return fetch(conn, stmt, {"agent_id": pl.String, "day": pl.Date, "hours": pl.Float64,
                              "module": pl.String})


def agent_first_sessions(conn: Connection, filters: Filters) -> pl.DataFrame:
    """The agents with a session in the period (local dates), per site: `site`,
    `agent_id`, `first_day`, the local date of their first session at the site ever
    (the input of metrics.tools.trained_before_start). filters.sites and .agents apply,
    and the Scope as for every session."""
    conds = row_conditions(SE, filters, fields=("sites", "agents"))
    stmt = (
        select(SE.c.site, SE.c.agent_id, func.min(SE.c.local_date))
        .where(SE.c.local_date <= filters.end, *conds)
        .group_by(SE.c.site, SE.c.agent_id)
        # Of the sessions up to the end, the latest is in the period: one is.
        .having(func.max(SE.c.local_date) >= filters.start)
        .order_by(SE.c.site, SE.c.agent_id)
    )
    return fetch(conn, stmt, {"site": pl.String, "agent_id": pl.String,
                              "first_day": pl.Date})


# ------------------------------------------------------------------------- surveys


def staff_survey_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The Scope's WHERE conditions on staff_surveys (see the module docstring)."""
    scope = _scope(filters)
    if scope.sees_all_sites:
        return []
    if scope.role == "supervisor":
        return [or_(SS.c.site == scope.site, SS.c.department.in_(_covered_by(scope.site)))]
    return [false()]


def staff_survey_rows(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Barometer responses of the waves in the period: `wave`, `population`, `site`,
    `department`, then one column per question (schema.STAFF_QUESTIONS, 1–5 or null).
    Raw anonymous answers: what is shown goes through metrics.barometer.barometer (the
    small-group rule). filters.sites and .departments apply."""
    questions = list(schema.STAFF_QUESTIONS)
    stmt = select(SS.c.wave, SS.c.population, SS.c.site, SS.c.department,
                  *[SS.c[q] for q in questions]).where(
        SS.c.wave >= filters.start, SS.c.wave <= filters.end,
        *_in(SS.c.site, filters.sites), *_in(SS.c.department, filters.departments),
        *staff_survey_conditions(filters)).order_by(SS.c.wave, SS.c.response_id)
    return fetch(conn, stmt, {"wave": pl.Date, "population": pl.String, "site": pl.String,
                              "department": pl.String, **{q: pl.Int64 for q in questions}})


def survey_rows(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Users' survey answers of the period (local date of `answered_at`): `local_date`,
    `site`, `department`, `channel`, `satisfaction`, `resolved`, `knew_number`,
    `comment`. The comment only for national and admin readers (null for others); the
    surveyed contact's id never. Filters and Scope as for contacts."""
    scope = _scope(filters)
    comment = SV.c.comment if scope.sees_all_sites else null()
    stmt = select(SV.c.local_date, SV.c.site, SV.c.department, SV.c.channel,
                  SV.c.satisfaction, SV.c.resolved, SV.c.knew_number, comment).where(
        and_(SV.c.local_date >= filters.start, SV.c.local_date <= filters.end),
        *row_conditions(SV, filters, fields=("sites", "departments", "channels")),
    ).order_by(SV.c.local_date, SV.c.site, SV.c.response_id)
    return fetch(conn, stmt, {
        "local_date": pl.Date, "site": pl.String, "department": pl.String,
        "channel": pl.String, "satisfaction": pl.Int64, "resolved": pl.Boolean,
        "knew_number": pl.Boolean, "comment": pl.String,
    })
