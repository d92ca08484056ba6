"""Altair chart builders: a Polars frame in, a chart out. No data access, no metric maths."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

# French number and date formats inside the charts (axes, tooltips).
FR_LOCALE = {
    "number": {
        "decimal": ",",
        "thousands": "\u202f",
        "grouping": [3],
        "currency": ["", "\u00a0€"],
        "percent": "\u202f%",
    },
    "time": {
        "dateTime": "%A %e %B %Y à %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                   "septembre", "octobre", "novembre", "décembre"],
        "shortMonths": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août",
                        "sept.", "oct.", "nov.", "déc."],
    },
}

# Colour-blind-safe categorical palette (Okabe-Ito), led by the DSFR blue France.
PALETTE = ["#000091", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#666666"]


def _finish(chart: alt.TopLevelMixin, title: str) -> alt.TopLevelMixin:
    return chart.properties(title=title).configure(locale=FR_LOCALE).configure_range(
        category=PALETTE
    )


def coverage_timeline(periods: pl.DataFrame, until: dt.date) -> alt.Chart:
    """Gantt bars: which site served which département, from when (open periods end at UNTIL)."""
    frame = periods.with_columns(
        pl.col("end_date").fill_null(until).alias("end_shown"),
        (pl.col("department") + " " + pl.col("department_name")).alias("label"),
    )
    chart = (
        alt.Chart(frame)
        .mark_bar(cornerRadius=3, height=18)
        .encode(
            x=alt.X("start_date:T", title=None, axis=alt.Axis(format="%m/%Y")),
            x2="end_shown:T",
            y=alt.Y("label:N", title=None, sort=alt.EncodingSortField("start_date"),
                    axis=alt.Axis(labelLimit=260)),
            color=alt.Color("site_name:N", title="Site"),
            tooltip=[
                alt.Tooltip("site_name:N", title="Site"),
                alt.Tooltip("label:N", title="Département"),
                alt.Tooltip("start_date:T", title="Depuis le", format="%d/%m/%Y"),
                alt.Tooltip("end_shown:T", title="Jusqu'au", format="%d/%m/%Y"),
            ],
        )
        .properties(height=40 * max(frame.height, 1) + 20)
    )
    return _finish(chart, "Couverture des départements par site")
