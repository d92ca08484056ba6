"""Campaign load: contacts per day stacked by channel or département with their 7-day
moving average and peak days; campaigns side by side by day of campaign; the weekday ×
half-hour profile of calls.

Frames come from dashboard.engine.series (daily_load, load_totals, peak_days, campaign_days,
weekday_slot_profile); each chart has its reading (one sentence) and its table (French
text, the chart's text alternative and CSV).
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import polars as pl

from dashboard.charts.base import (HEIGHT, HOUR_LABELS, PALETTE, ROW_STEP, SEQUENTIAL_SCHEME,
                                   finish)
from dashboard.core import formatting as fmt
from dashboard.engine import series

MOVING_LABEL = "Moyenne mobile sur 7 jours"
PEAK_LABEL = "Jour de pic"


def with_labels(frame: pl.DataFrame, column: str, labels: Mapping[str, str]) -> pl.DataFrame:
    """FRAME plus `label`: COLUMN's code shown through LABELS (the code itself otherwise)."""
    return frame.with_columns(
        pl.col(column).map_elements(lambda c: labels.get(c, c), return_dtype=pl.String)
        .fill_null(fmt.MISSING).alias("label")
    )


def _date_axis(centred: bool = False) -> alt.X:
    """Days on x; CENTRED marks (lines, points) sit in the middle of the day's bar."""
    extra = {"bandPosition": 0.5} if centred else {}
    return alt.X("date:T", timeUnit="yearmonthdate", title=None,
                 axis=alt.Axis(format="%d/%m", labelAngle=0), **extra)


def _stack_order(stacked: pl.DataFrame) -> list[str]:
    """Stacked labels, the largest total first (ties by label): it gets the first colour."""
    return (stacked.group_by("label").agg(pl.col("contacts").sum())
            .sort(["contacts", "label"], descending=[True, False])["label"].to_list())


def load_chart(
    stacked: pl.DataFrame, totals: pl.DataFrame, peaks: pl.DataFrame, stack_title: str
) -> alt.TopLevelMixin:
    """Bars of contacts per day stacked by `label`, the 7-day moving average of the total
    as a line, the peak days as marked points labelled with their date."""
    order = _stack_order(stacked)
    bars = alt.Chart(stacked).mark_bar().encode(
        x=_date_axis(),
        # Headroom above the highest bar for the peak marks and their dates.
        y=alt.Y("sum(contacts):Q", title="Contacts reçus par jour",
                axis=alt.Axis(format=",.0f"),
                scale=alt.Scale(domain=[0, max(totals["contacts"].max() or 0, 1) * 1.15])),
        color=alt.Color("label:N", title=stack_title, sort=order,
                        scale=alt.Scale(domain=order),
                        legend=alt.Legend(orient="top", labelLimit=300)),
        order=alt.Order("_rank:Q"),
        tooltip=[
            alt.Tooltip("date:T", title="Jour", format="%d/%m/%Y"),
            alt.Tooltip("label:N", title=stack_title),
            alt.Tooltip("contacts:Q", title="Contacts reçus", format=",.0f"),
        ],
    ).transform_calculate(
        _rank=f"indexof({order!r}, datum.label)"
    )
    moving = totals.drop_nulls("moving_avg").with_columns(pl.lit(MOVING_LABEL).alias("courbe"))
    line = alt.Chart(moving).mark_line(color="#161616", strokeWidth=2).encode(
        x=_date_axis(centred=True),
        y="moving_avg:Q",
        strokeDash=alt.StrokeDash("courbe:N", title=None,
                                  legend=alt.Legend(orient="top", labelLimit=300)),
        tooltip=[
            alt.Tooltip("date:T", title="Jour", format="%d/%m/%Y"),
            alt.Tooltip("moving_avg:Q", title=MOVING_LABEL, format=",.0f"),
        ],
    )
    marked = peaks.with_row_index("rank").with_columns(
        pl.lit(PEAK_LABEL).alias("repère"),
        pl.col("date").dt.strftime("%d/%m").alias("texte"),
    )
    points = alt.Chart(marked).mark_point(
        filled=True, size=90, color=PALETTE[5], yOffset=-8
    ).encode(
        x=_date_axis(centred=True),
        y="contacts:Q",
        shape=alt.Shape("repère:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(range=["triangle-down"])),
        tooltip=[
            alt.Tooltip("date:T", title="Jour de pic", format="%d/%m/%Y"),
            alt.Tooltip("contacts:Q", title="Contacts reçus", format=",.0f"),
        ],
    )
    # One text layer per rank, each a line higher: neighbouring peaks never overlap.
    labels = [
        alt.Chart(marked.filter(pl.col("rank") == rank))
        .mark_text(dy=-22 - 13 * rank, fontSize=11, color=PALETTE[5])
        .encode(x=_date_axis(centred=True), y="contacts:Q", text="texte:N")
        for rank in range(marked.height)
    ]
    chart = alt.layer(bars, line, points, *labels).properties(height=HEIGHT)
    return finish(chart, "Contacts reçus par jour")


def load_reading(totals: pl.DataFrame, peaks: pl.DataFrame) -> str:
    """One sentence: the peak day and the mean load per day of the period."""
    if peaks.height == 0:
        return "Aucun contact reçu sur la période."
    top = peaks.row(0, named=True)
    mean = totals["contacts"].mean()
    return (f"Pic le {series.fr_day(top['date'])} avec {fmt.fr_number(top['contacts'])} "
            f"contacts reçus, pour {fmt.fr_number(mean)} par jour en moyenne sur la période "
            f"({fmt.fr_date(totals['date'].min())} – {fmt.fr_date(totals['date'].max())}).")


def load_table(stacked: pl.DataFrame, totals: pl.DataFrame, peaks: pl.DataFrame) -> pl.DataFrame:
    """One row per day: contacts per stacked value, total, moving average, peak mark."""
    order = _stack_order(stacked)
    wide = stacked.pivot(on="label", index="date", values="contacts", aggregate_function="sum")
    table = totals.join(wide, on="date", how="left").sort("date")
    peak_days = set(peaks["date"].to_list())
    cols: dict[str, list[str]] = {"Jour": [fmt.fr_date(d) for d in table["date"]]}
    for label in order:
        cols[label] = [fmt.fr_number(v or 0) for v in table[label]]
    cols["Total"] = [fmt.fr_number(v) for v in table["contacts"]]
    cols[MOVING_LABEL] = [fmt.fr_decimal(v, 0) for v in table["moving_avg"]]
    cols[PEAK_LABEL] = ["oui" if d in peak_days else "" for d in table["date"]]
    return pl.DataFrame(cols, schema={name: pl.String for name in cols})


def comparison_chart(aligned: pl.DataFrame) -> alt.TopLevelMixin:
    """One line per campaign (in ALIGNED's order): 7-day moving average of contacts by day
    of campaign."""
    campaigns = aligned["campaign"].unique(maintain_order=True).to_list()
    chart = alt.Chart(aligned.drop_nulls("moving_avg")).mark_line(strokeWidth=2).encode(
        x=alt.X("day_of_campaign:Q", title="Jours depuis le début de la campagne",
                axis=alt.Axis(format=",.0f")),
        y=alt.Y("moving_avg:Q", title="Contacts par jour (moyenne sur 7 jours)"),
        color=alt.Color("campaign:N", title="Campagne", sort=campaigns,
                        scale=alt.Scale(domain=campaigns),
                        legend=alt.Legend(orient="top", labelLimit=300)),
        tooltip=[
            alt.Tooltip("campaign:N", title="Campagne"),
            alt.Tooltip("day_of_campaign:Q", title="Jour de campagne"),
            alt.Tooltip("date:T", title="Date", format="%d/%m/%Y"),
            alt.Tooltip("contacts:Q", title="Contacts reçus", format=",.0f"),
            alt.Tooltip("moving_avg:Q", title=MOVING_LABEL, format=",.0f"),
        ],
    ).properties(height=HEIGHT)
    return finish(chart, "Campagnes comparées, jour par jour depuis leur ouverture")


def comparison_reading(aligned: pl.DataFrame) -> str:
    """One sentence: each campaign's highest 7-day average and the day it came."""
    parts = []
    for name in aligned["campaign"].unique(maintain_order=True).to_list():
        rows = aligned.filter(pl.col("campaign") == name).drop_nulls("moving_avg")
        if rows.height == 0:
            continue
        top = rows.sort(["moving_avg", "day_of_campaign"], descending=[True, False]).row(
            0, named=True)
        parts.append(f"{name} au jour {top['day_of_campaign']} "
                     f"({fmt.fr_number(top['moving_avg'])} contacts par jour)")
    if not parts:
        return "Pas assez de jours de campagne pour une moyenne sur 7 jours."
    return "Charge la plus forte (moyenne sur 7 jours) : " + " ; ".join(parts) + "."


def comparison_table(aligned: pl.DataFrame) -> pl.DataFrame:
    """One row per campaign and day: day of campaign, date, contacts, moving average."""
    cols = {
        "Campagne": aligned["campaign"].to_list(),
        "Jour de campagne": [str(v) for v in aligned["day_of_campaign"]],
        "Date": [fmt.fr_date(d) for d in aligned["date"]],
        "Contacts reçus": [fmt.fr_number(v) for v in aligned["contacts"]],
        MOVING_LABEL: [fmt.fr_decimal(v, 0) for v in aligned["moving_avg"]],
    }
    return pl.DataFrame(cols, schema={name: pl.String for name in cols})


HEATMAPS = {
    "offered_per_day": ("Appels présentés par demi-heure (moyenne par jour)",
                        "Appels présentés", ",.1f", SEQUENTIAL_SCHEME),
    "answer_rate": ("Taux de décroché par demi-heure", "Taux de décroché", ".1%",
                    SEQUENTIAL_SCHEME),
}


def heatmap(profile: pl.DataFrame, value: str) -> alt.TopLevelMixin:
    """Weekday × half-hour grid coloured by VALUE (`offered_per_day` or `answer_rate`)."""
    title, legend, number, scheme = HEATMAPS[value]
    days = [d for d in series.WEEKDAYS if d in set(profile["weekday_label"].to_list())]
    rated = profile.drop_nulls(value)
    chart = alt.Chart(rated).mark_rect().encode(
        x=alt.X("slot:O", title="Créneau (heure locale)",
                axis=alt.Axis(labelAngle=0, labelExpr=HOUR_LABELS)),
        y=alt.Y("weekday_label:O", title=None, sort=days),
        color=alt.Color(f"{value}:Q", title=legend, scale=alt.Scale(scheme=scheme),
                        legend=alt.Legend(format=".0%" if value == "answer_rate" else ",.0f")),
        tooltip=[
            alt.Tooltip("weekday_label:N", title="Jour"),
            alt.Tooltip("slot:O", title="Créneau"),
            alt.Tooltip("offered_per_day:Q", title="Appels présentés par jour", format=",.1f"),
            alt.Tooltip("answer_rate:Q", title="Taux de décroché", format=".1%"),
        ],
    ).properties(height=2 * ROW_STEP * max(len(days), 1) + 70)
    return finish(chart, title)


def heatmap_reading(profile: pl.DataFrame, value: str) -> str:
    """One sentence: the busiest slot, or the slot with the lowest answer rate."""
    rated = profile.drop_nulls(value)
    if rated.height == 0:
        return "Aucun appel présenté sur la période."
    if value == "offered_per_day":
        top = rated.sort([value, "weekday", "slot"], descending=[True, False, False]).row(
            0, named=True)
        return (f"Créneau le plus chargé : le {top['weekday_label']} à {top['slot']}, avec "
                f"{fmt.fr_decimal(top[value], 1)} appels présentés en moyenne.")
    low = rated.sort([value, "weekday", "slot"]).row(0, named=True)
    high = rated.sort([value, "weekday", "slot"], descending=[True, False, False]).row(
        0, named=True)
    return (f"Taux de décroché le plus bas le {low['weekday_label']} à {low['slot']} "
            f"({fmt.fr_percent(low[value])}), le plus haut le {high['weekday_label']} à "
            f"{high['slot']} ({fmt.fr_percent(high[value])}).")


def heatmap_table(profile: pl.DataFrame) -> pl.DataFrame:
    """One row per weekday and slot: calls offered (total, per day) and answer rate."""
    cols = {
        "Jour de la semaine": profile["weekday_label"].to_list(),
        "Créneau": profile["slot"].to_list(),
        "Appels présentés": [fmt.fr_number(v) for v in profile["offered"]],
        "Appels présentés par jour": [fmt.fr_decimal(v, 1) for v in profile["offered_per_day"]],
        "Taux de décroché": [fmt.fr_percent(v) for v in profile["answer_rate"]],
    }
    return pl.DataFrame(cols, schema={name: pl.String for name in cols})
