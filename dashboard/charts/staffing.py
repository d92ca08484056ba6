"""Team calibration: agents required by Erlang against agents logged in, and the gap.

Frames come from the metrics engine (`required_agents`, `agents_logged_in`,
`staffing_gap`), shaped by dashboard.review.figures; nothing is computed here but what is drawn.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboard.charts.base import (DIVERGING_SCHEME, HEIGHT, HEIGHT_SMALL, HOUR_LABELS, PALETTE,
                                   ROW_STEP, finish)

LOGGED = "Agents connectés (moyenne)"
REQUIRED = "Effectif requis"


def required_vs_logged_chart(prof: pl.DataFrame, model_label: str = "Erlang C"
                             ) -> alt.TopLevelMixin:
    """Per half-hour: the agents required (bars) and the agents logged in (line), means
    over the open days of the period.

    PROF: review.profile (`slot`, `required_agents`, `agents_logged_in`, `offered`).
    """
    slots = prof.get_column("slot").to_list()
    frame = prof.select("slot", "offered", "required_agents", "agents_logged_in",
                        "staffing_gap")
    x = alt.X("slot:O", title="Demi-heure (heure locale)", scale=alt.Scale(domain=slots),
              axis=alt.Axis(labelAngle=0, labelExpr=HOUR_LABELS))
    colour = alt.Color("série:N", title=None, legend=alt.Legend(orient="top", labelLimit=320),
                       scale=alt.Scale(domain=[f"{REQUIRED} ({model_label})", LOGGED],
                                       range=[PALETTE[4], PALETTE[0]]))
    tooltip = [
        alt.Tooltip("slot:O", title="Demi-heure"),
        alt.Tooltip("required_agents:Q", title=REQUIRED, format=",.1f"),
        alt.Tooltip("agents_logged_in:Q", title=LOGGED, format=",.1f"),
        alt.Tooltip("staffing_gap:Q", title="Écart", format="+,.1f"),
    ]
    bars = alt.Chart(frame).transform_calculate(
        série=f"'{REQUIRED} ({model_label})'"
    ).mark_bar(opacity=0.8).encode(
        x=x, y=alt.Y("required_agents:Q", title="Agents"), color=colour, tooltip=tooltip,
    )
    line = alt.Chart(frame).transform_calculate(série=f"'{LOGGED}'").mark_line(
        point=True, strokeWidth=2.5
    ).encode(x=x, y="agents_logged_in:Q", color=colour, tooltip=tooltip)
    chart = alt.layer(bars, line).properties(height=HEIGHT, width="container")
    return finish(chart, "Effectif requis et agents connectés par demi-heure")


def gap_heatmap(grid: pl.DataFrame) -> alt.TopLevelMixin:
    """Weekday × half-hour heatmap of the mean staffing gap (red: short, blue: surplus).

    GRID: review.weekday_slot_gap (`weekday`, `weekday_label`, `slot`, `gap`, `days`).
    """
    slots = sorted(set(grid.get_column("slot").to_list()))
    days = grid.sort("weekday").get_column("weekday_label").unique(maintain_order=True)
    bound = max(1.0, float(grid.get_column("gap").abs().max() or 0))
    chart = alt.Chart(grid).mark_rect().encode(
        x=alt.X("slot:O", title="Demi-heure (heure locale)", scale=alt.Scale(domain=slots),
                axis=alt.Axis(labelAngle=0, labelExpr=HOUR_LABELS)),
        y=alt.Y("weekday_label:O", title=None, sort=days.to_list()),
        color=alt.Color("gap:Q", title="Écart moyen (agents)",
                        # Blue–orange, never red–green: a shortfall (below zero) is orange.
                        scale=alt.Scale(scheme=DIVERGING_SCHEME, reverse=True,
                                        domain=[-bound, bound], domainMid=0),
                        legend=alt.Legend(orient="top", format="+,.1f")),
        tooltip=[
            alt.Tooltip("weekday_label:O", title="Jour"),
            alt.Tooltip("slot:O", title="Demi-heure"),
            alt.Tooltip("gap:Q", title="Écart moyen", format="+,.2f"),
            alt.Tooltip("days:Q", title="Jours"),
        ],
    ).properties(height=alt.Step(ROW_STEP), width="container")
    return finish(chart, "Écart d'effectif moyen par jour de semaine et demi-heure")


def daily_gap_chart(days: pl.DataFrame) -> alt.TopLevelMixin:
    """Bars of each open day's staffing gap over its opening hours (orange: short).

    DAYS: KPIs by `day` with `staffing_gap`, `agents_logged_in`, `required_agents`.
    """
    frame = days.filter(pl.col("staffing_gap").is_not_null()).select(
        "day", "staffing_gap", "agents_logged_in", "required_agents"
    ).with_columns(
        pl.when(pl.col("staffing_gap") < 0).then(pl.lit("Déficit"))
        .otherwise(pl.lit("Excédent")).alias("sens")
    )
    chart = alt.Chart(frame).transform_calculate(
        jour="utcFormat(toDate(datum.day), '%a %d/%m')"
    ).mark_bar().encode(
        x=alt.X("jour:O", title=None, sort=None, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("staffing_gap:Q", title="Écart moyen (agents)"),
        color=alt.Color("sens:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=["Déficit", "Excédent"],
                                        range=[PALETTE[5], PALETTE[0]])),
        tooltip=[
            alt.Tooltip("day:T", title="Jour", format="%d/%m/%Y"),
            alt.Tooltip("agents_logged_in:Q", title=LOGGED, format=",.1f"),
            alt.Tooltip("required_agents:Q", title=REQUIRED, format=",.1f"),
            alt.Tooltip("staffing_gap:Q", title="Écart", format="+,.1f"),
        ],
    ).properties(height=HEIGHT_SMALL, width="container")
    return finish(chart, "Écart d'effectif par jour (moyenne sur les heures d'ouverture)")
