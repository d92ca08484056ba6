"""The coverage timeline: which site served which département, from when."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from dashboard.charts.base import finish


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
    return finish(chart, "Couverture des départements par site")
