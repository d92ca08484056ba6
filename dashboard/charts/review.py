"""The pilot review: sites and départements side by side, ramp-up, campaign peaks.

Frames come from the metrics engine, shaped by dashboard.review.figures; nothing is computed here
but what is drawn.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboard.charts.base import BAR_STEP, HEIGHT, HEIGHT_SMALL, PALETTE, finish


def channel_volumes_chart(long: pl.DataFrame, title: str = "Contacts reçus par canal"
                          ) -> alt.TopLevelMixin:
    """Grouped horizontal bars: calls and e-mails received per entity.

    LONG: `entity`, `channel`, `volume` (review.channel_volumes).
    """
    chart = alt.Chart(long).mark_bar().encode(
        y=alt.Y("entity:N", title=None, axis=alt.Axis(labelLimit=260)),
        yOffset=alt.YOffset("channel:N"),
        x=alt.X("volume:Q", title="Contacts reçus", axis=alt.Axis(format=",.0f")),
        color=alt.Color("channel:N", title="Canal", legend=alt.Legend(orient="top")),
        tooltip=[
            alt.Tooltip("entity:N", title="Périmètre"),
            alt.Tooltip("channel:N", title="Canal"),
            alt.Tooltip("volume:Q", title="Contacts", format=",.0f"),
        ],
    ).properties(height=alt.Step(BAR_STEP), width="container")
    return finish(chart, title)


def indicators_chart(long: pl.DataFrame, title: str = "Indicateurs côte à côte"
                     ) -> alt.TopLevelMixin:
    """Grouped horizontal bars: each rate (rows) for each entity (colour), labelled.

    LONG: `entity`, `indicator`, `value` (a fraction; review.indicators_long). With a
    single indicator the entities are the rows.
    """
    frame = long.drop_nulls("value")
    order = list(dict.fromkeys(long.get_column("indicator").to_list()))
    single = len(order) == 1
    y = (alt.Y("entity:N", title=None, axis=alt.Axis(labelLimit=260)) if single
         else alt.Y("indicator:N", title=None, sort=order, axis=alt.Axis(labelLimit=260)))
    top = float(frame.get_column("value").max() or 0)
    domain = [0, 1] if not single or top > 0.5 else [0, min(1.0, top * 1.25 + 0.01)]
    encoding = dict(
        y=y,
        x=alt.X("value:Q", title=order[0] if single else None,
                scale=alt.Scale(domain=domain), axis=alt.Axis(format=".0%", tickCount=5)),
        color=alt.Color("entity:N", title="Périmètre", legend=alt.Legend(orient="top")),
        tooltip=[
            alt.Tooltip("entity:N", title="Périmètre"),
            alt.Tooltip("indicator:N", title="Indicateur"),
            alt.Tooltip("value:Q", title="Valeur", format=".1%"),
        ],
    )
    if not single:
        encoding["yOffset"] = alt.YOffset("entity:N")
    base = alt.Chart(frame).encode(**encoding)
    bars = base.mark_bar()
    labels = base.mark_text(align="left", dx=3, fontSize=10).encode(
        text=alt.Text("value:Q", format=".1%"))
    chart = alt.layer(bars, labels).properties(height=alt.Step(12 if not single else 22),
                                               width="container")
    return finish(chart, title)


def ramp_up_chart(ramp: pl.DataFrame) -> alt.TopLevelMixin:
    """Two panels against the weeks since opening, one line per département: weekly calls
    offered, and the weekly answer rate.

    RAMP: review.ramp_up (`label`, `weeks_since_opening`, `offered`, `answer_rate`).
    """
    frame = ramp.select("label", "site_name", "week", "weeks_since_opening", "offered",
                        "answer_rate")
    base = alt.Chart(frame).encode(
        x=alt.X("weeks_since_opening:Q",
                title="Semaines complètes depuis l'ouverture (0 : la première)",
                axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("label:N", title="Département", legend=alt.Legend(orient="top")),
        tooltip=[
            alt.Tooltip("label:N", title="Département"),
            alt.Tooltip("site_name:N", title="Site"),
            alt.Tooltip("week:N", title="Semaine"),
            alt.Tooltip("weeks_since_opening:Q", title="Semaines depuis l'ouverture"),
            alt.Tooltip("offered:Q", title="Appels présentés", format=",.0f"),
            alt.Tooltip("answer_rate:Q", title="Taux de décroché", format=".1%"),
        ],
    )
    volume = base.mark_line(point=True).encode(
        y=alt.Y("offered:Q", title="Appels présentés par semaine",
                axis=alt.Axis(format=",.0f")),
    ).properties(height=HEIGHT_SMALL, width="container")
    rate = base.mark_line(point=True).encode(
        y=alt.Y("answer_rate:Q", title="Taux de décroché", axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1])),
    ).properties(height=HEIGHT_SMALL, width="container")
    return finish(alt.vconcat(volume, rate), "Montée en charge depuis l'ouverture")


def campaign_load_chart(weeks: pl.DataFrame, campaigns: pl.DataFrame,
                        peaks: pl.DataFrame) -> alt.TopLevelMixin:
    """Weekly calls offered per département over time, campaigns shaded, peaks marked.

    WEEKS: review.campaign_weeks (`week_start`, `label`, `offered`); CAMPAIGNS: `name`,
    `start_date`, `end_date`; PEAKS: review.campaign_peaks.
    """
    lo = weeks.get_column("week_start").min()
    hi = weeks.get_column("week_start").max()
    bands = campaigns.filter(
        (pl.col("end_date") >= lo) & (pl.col("start_date") <= hi)
    ).select("name", "start_date", "end_date") if lo is not None else campaigns.clear()
    shade = alt.Chart(bands).mark_rect(opacity=0.12, color=PALETTE[1]).encode(
        x="start_date:T", x2="end_date:T",
        tooltip=[alt.Tooltip("name:N", title="Campagne"),
                 alt.Tooltip("start_date:T", title="Du", format="%d/%m/%Y"),
                 alt.Tooltip("end_date:T", title="Au", format="%d/%m/%Y")],
    )
    lines = alt.Chart(weeks.select("label", "week", "week_start", "offered")).mark_line().encode(
        x=alt.X("week_start:T", title=None, axis=alt.Axis(format="%m/%Y")),
        y=alt.Y("offered:Q", title="Appels présentés par semaine",
                axis=alt.Axis(format=",.0f")),
        color=alt.Color("label:N", title="Département", legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("label:N", title="Département"),
                 alt.Tooltip("week:N", title="Semaine"),
                 alt.Tooltip("offered:Q", title="Appels présentés", format=",.0f")],
    )
    marks = alt.Chart(peaks.select("label", "campaign", "peak_week", "peak_week_start",
                                   "peak_offered")).mark_point(
        shape="triangle-up", size=90, filled=True
    ).encode(
        x="peak_week_start:T", y="peak_offered:Q",
        color=alt.Color("label:N", title="Département"),
        tooltip=[alt.Tooltip("campaign:N", title="Campagne"),
                 alt.Tooltip("label:N", title="Département"),
                 alt.Tooltip("peak_week:N", title="Semaine de pointe"),
                 alt.Tooltip("peak_offered:Q", title="Appels présentés", format=",.0f")],
    )
    chart = alt.layer(shade, lines, marks).properties(height=HEIGHT, width="container")
    return finish(chart, "Charge hebdomadaire : campagnes (zones) et semaines de pointe (▲)")
