"""The day in progress: calls and agents logged in per half-hour; service level per half-hour.

Frames come from the metrics engine grouped by slot, completed by dashboard.engine.series
(`complete_slots`, `agents_per_slot`); nothing is computed here but what is drawn.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboard.charts.base import HEIGHT, HEIGHT_SMALL, HOUR_LABELS, PALETTE, finish
from dashboard.core import formatting as fmt
from dashboard.metrics.definitions import METRICS_BY_KEY

ANSWERED = "Appels décrochés"
ABANDONED = "Abandons"
AGENTS = "Agents connectés"
REQUIRED = "Effectif requis"
SERIES_COLOURS = {ANSWERED: PALETTE[0], ABANDONED: PALETTE[1], AGENTS: PALETTE[2],
                  REQUIRED: PALETTE[3]}


def _slot_axis(slots: list[str]) -> alt.X:
    """The half-hour axis over SLOTS (every chart of the page shares the same slots)."""
    return alt.X("slot:O", title="Créneau (heure locale)", scale=alt.Scale(domain=slots),
                 axis=alt.Axis(labelAngle=0, labelExpr=HOUR_LABELS))


def intraday_chart(frame: pl.DataFrame) -> alt.TopLevelMixin:
    """Stacked calls answered / abandoned per half-hour (their sum is the calls offered),
    with the agents logged in — and the agents required, when the engine has them — on
    the right axis.

    FRAME: `slot`, `offered`, `answered`, `abandoned`, `agents` and optionally
    `required_agents`.
    """
    has_required = _has_required(frame)
    slots = frame["slot"].to_list()
    bars = frame.select("slot", "offered", "answered", "abandoned").unpivot(
        ["answered", "abandoned"], index=["slot", "offered"], variable_name="_k",
        value_name="calls",
    ).with_columns(
        pl.col("_k").replace_strict({"answered": ANSWERED, "abandoned": ABANDONED})
        .alias("série")
    )
    line_cols = ["agents"] + (["required_agents"] if has_required else [])
    lines = frame.select("slot", *line_cols).unpivot(
        line_cols, index=["slot"], variable_name="_k", value_name="n"
    ).with_columns(
        pl.col("_k").replace_strict({"agents": AGENTS, "required_agents": REQUIRED})
        .alias("série")
    ).drop_nulls("n")
    domain = [ANSWERED, ABANDONED] + sorted(set(lines["série"].to_list()),
                                            key=[AGENTS, REQUIRED].index)
    colour = alt.Color(
        "série:N", title=None,
        scale=alt.Scale(domain=domain, range=[SERIES_COLOURS[d] for d in domain]),
        legend=alt.Legend(orient="top"),
    )
    chart = alt.Chart(bars).mark_bar().encode(
        x=_slot_axis(slots),
        y=alt.Y("sum(calls):Q", title="Appels par demi-heure", stack="zero"),
        color=colour,
        order=alt.Order("série:N", sort="descending"),
        tooltip=[
            alt.Tooltip("slot:O", title="Créneau"),
            alt.Tooltip("série:N", title="Série"),
            alt.Tooltip("calls:Q", title="Appels", format=",.0f"),
            alt.Tooltip("offered:Q", title="Appels présentés", format=",.0f"),
        ],
    )
    if lines.height:
        agents = alt.Chart(lines).mark_line(point=True, strokeWidth=2).encode(
            x=_slot_axis(slots),
            y=alt.Y("n:Q", title="Agents", axis=alt.Axis(orient="right")),
            color=colour,
            tooltip=[
                alt.Tooltip("slot:O", title="Créneau"),
                alt.Tooltip("série:N", title="Série"),
                alt.Tooltip("n:Q", title="Agents (moyenne)", format=",.1f"),
            ],
        )
        chart = alt.layer(chart, agents).resolve_scale(y="independent")
    return finish(chart.properties(height=HEIGHT), "Appels et agents connectés par demi-heure")


def service_level_chart(frame: pl.DataFrame, target: float | None) -> alt.TopLevelMixin:
    """Service level per half-hour (slots with calls offered), against the site's target."""
    slots = frame["slot"].to_list()
    rated = frame.select("slot", "offered", "service_level").drop_nulls("service_level")
    line = alt.Chart(rated).mark_line(point=True, color=PALETTE[0]).encode(
        x=_slot_axis(slots),
        y=alt.Y("service_level:Q", title="Niveau de service",
                axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[
            alt.Tooltip("slot:O", title="Créneau"),
            alt.Tooltip("service_level:Q", title="Niveau de service", format=".1%"),
            alt.Tooltip("offered:Q", title="Appels présentés", format=",.0f"),
        ],
    )
    chart = line
    if target is not None:
        rule = alt.Chart(pl.DataFrame({"objectif": [target]})).mark_rule(
            strokeDash=[6, 4], color=PALETTE[5], size=2
        ).encode(
            y="objectif:Q",
            tooltip=[alt.Tooltip("objectif:Q", title="Objectif", format=".0%")],
        )
        chart = alt.layer(line, rule)
    return finish(chart.properties(height=HEIGHT_SMALL), "Niveau de service par demi-heure")


def service_level_reading(frame: pl.DataFrame, target: float | None) -> str:
    """One sentence: how many half-hours reached the target, and the worst one."""
    rated = frame.drop_nulls("service_level")
    if rated.height == 0:
        return "Aucun appel présenté : pas de niveau de service ce jour-là."
    low = rated.sort(["service_level", "slot"]).row(0, named=True)
    text = (f"Niveau de service le plus bas à {low['slot']} "
            f"({fmt.fr_percent(low['service_level'])})")
    if target is not None:
        met = rated.filter(pl.col("service_level") >= target).height
        text += (f" ; objectif de {fmt.fr_percent(target, 0)} atteint sur {met} "
                 f"demi-heure{'s' if met > 1 else ''} sur {rated.height}")
    return text + "."


def service_level_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The service-level chart's figures as French text."""
    rated = frame.drop_nulls("service_level")
    cols = {
        "Créneau": rated["slot"].to_list(),
        METRICS_BY_KEY["offered"].label: [fmt.fr_number(v) for v in rated["offered"]],
        METRICS_BY_KEY["service_level"].label: [fmt.fr_percent(v)
                                                for v in rated["service_level"]],
    }
    return pl.DataFrame(cols, schema={name: pl.String for name in cols})


def _has_required(frame: pl.DataFrame) -> bool:
    return "required_agents" in frame.columns and frame["required_agents"].is_not_null().any()


def intraday_reading(frame: pl.DataFrame) -> str:
    """One sentence: the busiest half-hour, with its answered calls and agents logged in."""
    busy = frame.filter(pl.col("offered") > 0)
    if busy.height == 0:
        return "Aucun appel présenté ce jour-là."
    peak = busy.sort(["offered", "slot"], descending=[True, False]).row(0, named=True)
    text = (f"Pic à {peak['slot']} avec {fmt.fr_number(peak['offered'])} appels présentés, "
            f"dont {fmt.fr_number(peak['answered'])} décrochés")
    if peak["agents"] is not None:
        text += f", pour {fmt.fr_decimal(peak['agents'], 1)} agents connectés en moyenne"
    return text + "."


def intraday_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The calls chart's figures as French text: slot, calls, agents (and required)."""
    agents_label = (METRICS_BY_KEY["agents_logged_in"].label
                    if "agents_logged_in" in METRICS_BY_KEY else "Agents connectés (moyenne)")
    cols = {
        "Créneau": frame["slot"].to_list(),
        METRICS_BY_KEY["offered"].label: [fmt.fr_number(v) for v in frame["offered"]],
        METRICS_BY_KEY["answered"].label: [fmt.fr_number(v) for v in frame["answered"]],
        METRICS_BY_KEY["abandoned"].label: [fmt.fr_number(v) for v in frame["abandoned"]],
        agents_label: [fmt.fr_decimal(v, 1) for v in frame["agents"]],
    }
    if _has_required(frame):
        cols[METRICS_BY_KEY["required_agents"].label] = [
            fmt.fr_decimal(v, 1) for v in frame["required_agents"]
        ]
    return pl.DataFrame(cols, schema={name: pl.String for name in cols})
