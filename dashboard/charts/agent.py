"""The agent's own figures against the anonymous median of its team (see dashboard.engine.team).

Frames in are `dashboard.team.compare` results: a period key (`day` or `week`), `own`,
`median` and `agents`. Each chart comes with its text alternative (a French table, also
the CSV) and a one-sentence reading. Nothing here can name another agent: the frames
hold none.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from dashboard.charts.base import HEIGHT_SPARK, finish
from dashboard.core import formatting as fmt
from dashboard.engine.team import MIN_AGENTS
from dashboard.metrics.definitions import METRICS_BY_KEY

OWN = "Vous"
TEAM = "Médiane de l'équipe"
GRAIN_WORDS = {"day": ("jour", "jours"), "week": ("semaine", "semaines")}
_COLOURS = {OWN: "#000091", TEAM: "#E69F00"}


def period_start(key: str, grain: str) -> dt.date:
    """First day of a period key: '2015-11-02' → that day; '2015-W45' → its Monday."""
    if grain == "week":
        year, week = key.split("-W")
        return dt.date.fromisocalendar(int(year), int(week), 1)
    return dt.date.fromisoformat(key)


def period_label(key: str, grain: str) -> str:
    """'2015-11-02' → '02/11/2015'; '2015-W45' → 'S45 · du 02/11/2015'."""
    if grain == "week":
        return f"S{key.split('-W')[1]} · du {fmt.fr_date(period_start(key, grain))}"
    return fmt.fr_date(key)


def _tick(key: str, grain: str) -> str:
    """Short axis label: '02/11' for a day, 'S45 2015' for a week."""
    if grain == "week":
        year, week = key.split("-W")
        return f"S{week} {year}"
    return fmt.fr_date(key)[:5]


def _chart_value(value: float | None, unit: str) -> float | None:
    # Durations are drawn in minutes (an axis of seconds in the hundreds reads badly).
    if value is None or unit != "seconds":
        return value
    return value / 60


def _axis(unit: str) -> tuple[str, str]:
    """(axis title, d3 format) of a unit kind."""
    if unit == "rate":
        return "%", ".0%"
    if unit == "seconds":
        return "minutes", ",.1f"
    return "nombre", ",d"


def own_vs_team(comparison: pl.DataFrame, metric: str, grain: str) -> alt.Chart:
    """Two lines over the periods: the agent's value and the team median (dashed)."""
    m = METRICS_BY_KEY[metric]
    records = []
    for row in comparison.iter_rows(named=True):
        key = row[grain]
        for series, value in ((OWN, row["own"]), (TEAM, row["median"])):
            records.append({
                "start": period_start(key, grain),
                "tick": _tick(key, grain),
                "period": period_label(key, grain),
                "series": series,
                "value": _chart_value(value, m.unit),
                "text": fmt.format_value(value, m.unit),
            })
    frame = pl.DataFrame(records, schema={
        "start": pl.Date, "tick": pl.String, "period": pl.String, "series": pl.String,
        "value": pl.Float64, "text": pl.String,
    })
    title, number_format = _axis(m.unit)
    if grain == "week":  # one tick per week, on its point (a time axis ticks on Sundays)
        x = alt.X("tick:O", title=None, sort=None,  # rows come in week order
                  axis=alt.Axis(labelAngle=0, labelOverlap="greedy"))
    else:
        x = alt.X("start:T", title=None,
                  axis=alt.Axis(format="%d/%m", labelAngle=0, tickCount=8))
    chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=title, axis=alt.Axis(format=number_format),
                    scale=alt.Scale(zero=m.unit != "seconds")),
            color=alt.Color("series:N", title="",
                            scale=alt.Scale(domain=list(_COLOURS), range=list(_COLOURS.values())),
                            legend=alt.Legend(orient="top", symbolType="stroke")),
            strokeDash=alt.StrokeDash("series:N", title="",
                                      scale=alt.Scale(domain=[OWN, TEAM], range=[[1, 0], [6, 4]]),
                                      legend=alt.Legend(orient="top", symbolType="stroke")),
            tooltip=[
                alt.Tooltip("period:N", title="Jour" if grain == "day" else "Semaine"),
                alt.Tooltip("series:N", title="Série"),
                alt.Tooltip("text:N", title=m.label),
            ],
        )
        # The height is the plot's: Streamlit's default ("fit") squeezes the plot to make
        # room for the title, legend and axes inside it.
        .properties(height=HEIGHT_SPARK,
                    autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    )
    return finish(chart, m.label)


def comparison_table(comparison: pl.DataFrame, metric: str, grain: str) -> pl.DataFrame:
    """The chart's text alternative and CSV: period, own value, team median, agents counted."""
    m = METRICS_BY_KEY[metric]
    rows = list(comparison.iter_rows(named=True))
    return pl.DataFrame(
        {
            "Jour" if grain == "day" else "Semaine": [period_label(r[grain], grain) for r in rows],
            OWN: [fmt.format_value(r["own"], m.unit) for r in rows],
            TEAM: [fmt.format_value(r["median"], m.unit) for r in rows],
            "Agents actifs": [fmt.fr_number(r["agents"]) for r in rows],
        },
        schema={"Jour" if grain == "day" else "Semaine": pl.String, OWN: pl.String,
                TEAM: pl.String, "Agents actifs": pl.String},
    )


def reading(comparison: pl.DataFrame, metric: str, grain: str) -> str:
    """One sentence: on how many periods the agent was above, below or at the median."""
    m = METRICS_BY_KEY[metric]
    one, many = GRAIN_WORDS[grain]
    if comparison.filter(pl.col("own").is_not_null()).height == 0:
        return f"{m.label} : aucune valeur vous concernant sur la période."
    both = comparison.filter(pl.col("own").is_not_null() & pl.col("median").is_not_null())
    if both.height == 0:
        return (f"{m.label} : pas de médiane de l'équipe sur la période, faute d'au moins "
                f"{MIN_AGENTS} agents actifs par {one}.")
    above = both.filter(pl.col("own") > pl.col("median")).height
    below = both.filter(pl.col("own") < pl.col("median")).height
    equal = both.height - above - below
    tail = f", à égalité {equal}" if equal else ""
    return (f"{m.label} : vous êtes au-dessus de la médiane de l'équipe "
            f"{above} {one if above < 2 else many} sur {both.height}, en dessous {below}{tail}.")
