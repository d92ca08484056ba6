"""The forecast on screen (frames from dashboard.engine.forecasting): Aujourd'hui's
"Demain et les jours suivants" (calls per half-hour with their 80 % interval, agents
needed against planned, the next days' totals, the eve's forecast beside what happened)
and Effectifs' next four weeks (needed against planned per day and half-hour)."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from dashboard.charts.base import (DIVERGING_SCHEME, HEIGHT, HEIGHT_SMALL, HOUR_LABELS,
                                   PALETTE, ROW_STEP, finish)
from dashboard.core import formatting as fmt

CHANNELS = {"phone": "Appels", "email": "Courriels"}


def slot_label(slot: int) -> str:
    """Half-hour SLOT (0–47) → its start, "09:30"."""
    return f"{slot // 2:02d}:{30 * (slot % 2):02d}"


def next_open_day(slots: pl.DataFrame) -> dt.date | None:
    """The first forecast day with calls expected (tomorrow, or after a closed day)."""
    open_days = slots.filter(pl.col("expected") > 0).get_column("local_date")
    return open_days.min() if open_days.len() else None


def day_slots(slots: pl.DataFrame, planned: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """DAY's half-hours: `slot`, `expected`, `low`, `high`, `agents_needed` and its
    interval's `agents_needed_low`, `agents_needed_high`, `agents_planned` (null on a day
    without any shift), `short` (planned below needed)."""
    frame = slots.filter(pl.col("local_date") == day).sort("local_slot")
    plan = planned.filter(pl.col("local_date") == day).select("local_slot", "agents_planned")
    frame = frame.join(plan, on="local_slot", how="left")
    if plan.height:  # a day with a rota: a half-hour nobody is planned on has 0 agents
        frame = frame.with_columns(pl.col("agents_planned").fill_null(0.0))
    return frame.select(
        pl.col("local_slot").map_elements(slot_label, return_dtype=pl.String).alias("slot"),
        "expected", "low", "high", "agents_needed", "agents_needed_low",
        "agents_needed_high", pl.col("agents_planned"),
        (pl.col("agents_planned") < pl.col("agents_needed")).alias("short"),
    )


def calls_chart(frame: pl.DataFrame) -> alt.TopLevelMixin:
    """Calls expected per half-hour (line) inside their 80 % interval (band)."""
    base = alt.Chart(frame).encode(x=alt.X("slot:O", title="Créneau",
                                           axis=alt.Axis(labelAngle=0, labelExpr=HOUR_LABELS)))
    band = base.mark_area(opacity=0.25, color=PALETTE[0]).encode(
        y=alt.Y("low:Q", title="Appels attendus par demi-heure"), y2="high:Q")
    line = base.mark_line(point=True, color=PALETTE[0]).encode(
        y="expected:Q",
        tooltip=[alt.Tooltip("slot:O", title="Créneau"),
                 alt.Tooltip("expected:Q", title="Appels attendus", format=",.1f"),
                 alt.Tooltip("low:Q", title="Bas de l'intervalle", format=",.1f"),
                 alt.Tooltip("high:Q", title="Haut de l'intervalle", format=",.1f")])
    return finish((band + line).properties(height=HEIGHT_SMALL),
                  "Appels attendus par demi-heure (intervalle à 80 %)")


def calls_reading(frame: pl.DataFrame, day: dt.date) -> str:
    """One sentence on DAY's expected calls and the slots short of staff."""
    total = frame["expected"].sum()
    peak = frame.sort("expected", descending=True).row(0, named=True) if frame.height else None
    text = (f"Le {fmt.fr_date(day)}, environ {fmt.fr_number(round(total))} appels attendus"
            + (f", le plus à {peak['slot']} ({fmt.fr_decimal(peak['expected'])})" if peak
               else "") + ".")
    short = frame.filter(pl.col("short").fill_null(False))
    if frame["agents_planned"].is_null().all():
        return text + " Aucun planning importé pour ce jour : l'effectif planifié est inconnu."
    if short.height:
        return text + (f" {fmt.fr_number(short.height)} demi-heure"
                       f"{'s' if short.height > 1 else ''} en sous-effectif : "
                       + ", ".join(short["slot"].to_list()) + ".")
    return text + " L'effectif planifié couvre le besoin à chaque demi-heure."


def slots_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The half-hours as the French table shown and downloaded."""
    return frame.select(
        pl.col("slot").alias("Créneau"),
        pl.col("expected").round(1).alias("Appels attendus"),
        pl.format("{} – {}", pl.col("low").round(1), pl.col("high").round(1))
        .str.replace_all(r"\.", ",").alias("Intervalle à 80 %"),
        pl.col("agents_needed").alias("Agents requis (Erlang C)"),
        pl.format("{} à {}", "agents_needed_low", "agents_needed_high")
        .alias("Agents requis sur l'intervalle"),
        pl.col("agents_planned").round(1).alias("Agents planifiés"),
        pl.when(pl.col("short")).then(pl.lit("oui")).otherwise(pl.lit(""))
        .alias("Sous-effectif"),
    )


def days_table(days: pl.DataFrame, horizon: int = 7) -> pl.DataFrame:
    """Calls and e-mails expected per day for the HORIZON days, summed over the
    départements (interval bounds summed too, a conservative band)."""
    frame = (days.filter(pl.col("horizon_days") <= horizon)
             .group_by("local_date", "channel")
             .agg(pl.col("expected", "low", "high").sum()).sort("local_date"))
    out = {"Jour": [], "Appels attendus": [], "Courriels attendus": []}
    for (day,), rows in frame.group_by(["local_date"], maintain_order=True):
        out["Jour"].append(fmt.fr_date(day))
        by = {r["channel"]: r for r in rows.iter_rows(named=True)}
        for channel, column in (("phone", "Appels attendus"), ("email", "Courriels attendus")):
            r = by.get(channel)
            out[column].append(fmt.MISSING if r is None else
                               f"{fmt.fr_number(round(r['expected']))} "
                               f"({fmt.fr_number(round(r['low']))} à "
                               f"{fmt.fr_number(round(r['high']))})")
    return pl.DataFrame(out, schema={k: pl.String for k in out})


def staff_chart(frame: pl.DataFrame) -> alt.TopLevelMixin:
    """Agents needed per half-hour (bars, orange where the plan is short) and agents
    planned (line). FRAME: day_slots."""
    data = frame.with_columns(
        pl.when(pl.col("short").fill_null(False)).then(pl.lit("Sous-effectif planifié"))
        .otherwise(pl.lit("Besoin couvert ou planning inconnu")).alias("état"))
    x = alt.X("slot:O", title="Créneau", axis=alt.Axis(labelAngle=0, labelExpr=HOUR_LABELS))
    tooltip = [alt.Tooltip("slot:O", title="Créneau"),
               alt.Tooltip("agents_needed:Q", title="Agents requis"),
               alt.Tooltip("agents_planned:Q", title="Agents planifiés", format=",.1f")]
    bars = alt.Chart(data).mark_bar(opacity=0.85).encode(
        x=x, y=alt.Y("agents_needed:Q", title="Agents"),
        color=alt.Color("état:N", title=None, legend=alt.Legend(orient="top", labelLimit=320),
                        scale=alt.Scale(domain=["Besoin couvert ou planning inconnu",
                                                "Sous-effectif planifié"],
                                        range=[PALETTE[4], PALETTE[1]])),
        tooltip=tooltip)
    layers = [bars]
    if data["agents_planned"].is_not_null().any():
        layers.append(alt.Chart(data).mark_line(point=True, strokeWidth=2.5,
                                                color=PALETTE[0]).encode(
            x=x, y="agents_planned:Q", tooltip=tooltip))
    return finish(alt.layer(*layers).properties(height=HEIGHT, width="container"),
                  "Agents requis (barres) et agents planifiés (ligne) par demi-heure")


def eve_slots(eve: pl.DataFrame, actual: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """DAY's half-hours, the forecast made on the eve (EVE: Forecast.slots) beside the calls
    received (ACTUAL: KPIs by `slot` with `received`): `slot`, `expected`, `low`, `high`,
    `received` (0 in a slot forecast but without a call)."""
    forecast = eve.filter(pl.col("local_date") == day).select(
        pl.col("local_slot").map_elements(slot_label, return_dtype=pl.String).alias("slot"),
        "expected", "low", "high")
    received = actual.select("slot", pl.col("received").cast(pl.Float64))
    return (forecast.join(received, on="slot", how="full", coalesce=True)
            .with_columns(pl.col("expected", "low", "high", "received").fill_null(0.0))
            .filter((pl.col("expected") > 0) | (pl.col("received") > 0))
            .sort("slot"))


def eve_chart(frame: pl.DataFrame) -> alt.TopLevelMixin:
    """The eve's forecast (band and dashed line) and the calls received (line)."""
    long = frame.unpivot(index=["slot", "low", "high"], on=["expected", "received"],
                         variable_name="série", value_name="appels").with_columns(
        pl.col("série").replace_strict({"expected": "Prévu la veille", "received": "Reçus"}))
    x = alt.X("slot:O", title="Créneau", axis=alt.Axis(labelAngle=0, labelExpr=HOUR_LABELS))
    band = alt.Chart(frame).mark_area(opacity=0.2, color=PALETTE[4]).encode(
        x=x, y=alt.Y("low:Q", title="Appels par demi-heure"), y2="high:Q")
    lines = alt.Chart(long).mark_line(point=True).encode(
        x=x, y="appels:Q",
        color=alt.Color("série:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=["Prévu la veille", "Reçus"],
                                        range=[PALETTE[4], PALETTE[0]])),
        strokeDash=alt.StrokeDash("série:N", legend=None,
                                  scale=alt.Scale(domain=["Prévu la veille", "Reçus"],
                                                  range=[[5, 3], [1, 0]])),
        tooltip=[alt.Tooltip("slot:O", title="Créneau"), alt.Tooltip("série:N", title="Série"),
                 alt.Tooltip("appels:Q", title="Appels", format=",.1f")])
    return finish((band + lines).properties(height=HEIGHT_SMALL, width="container"),
                  "Appels prévus la veille (intervalle à 80 %) et appels reçus")


def eve_reading(frame: pl.DataFrame, day: dt.date) -> str:
    """One sentence: the eve's forecast of DAY against the calls received, and the
    half-hours outside the interval."""
    expected, received = frame["expected"].sum(), frame["received"].sum()
    text = (f"La veille, {fmt.fr_number(round(expected))} appels étaient prévus pour le "
            f"{fmt.fr_date(day)} ; {fmt.fr_number(round(received))} ont été reçus")
    if expected > 0:
        text += f" ({fmt.fr_signed_percent(received / expected - 1)})"
    outside = frame.filter((pl.col("received") < pl.col("low"))
                           | (pl.col("received") > pl.col("high"))).height
    return text + (f". {fmt.fr_number(outside)} demi-heure{'s' if outside > 1 else ''} sur "
                   f"{fmt.fr_number(frame.height)} hors de l'intervalle à 80 %.")


def eve_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The eve's forecast against the calls received, as the French table downloaded."""
    return frame.select(
        pl.col("slot").alias("Créneau"), pl.col("expected").round(1).alias("Prévu la veille"),
        pl.col("low").round(1).alias("Bas de l'intervalle"),
        pl.col("high").round(1).alias("Haut de l'intervalle"),
        pl.col("received").cast(pl.Int64).alias("Appels reçus"))


def coverage_grid(slots: pl.DataFrame, planned: pl.DataFrame) -> pl.DataFrame:
    """Every forecast day × half-hour with calls expected: `local_date`, `day` ("lun.
    04/01"), `slot`, `agents_needed`, `agents_planned` (0 on a day some shift is planned
    for but not that half-hour; null on a day without any), `gap` (planned − needed)."""
    open_slots = slots.filter(pl.col("expected") > 0).select(
        "local_date", "local_slot", "agents_needed")
    planned_days = planned.select("local_date").unique()
    frame = (open_slots.join(planned.select("local_date", "local_slot", "agents_planned"),
                             on=["local_date", "local_slot"], how="left")
             .join(planned_days.with_columns(pl.lit(True).alias("_planned")),
                   on="local_date", how="left"))
    return frame.with_columns(
        pl.when(pl.col("_planned")).then(pl.col("agents_planned").fill_null(0.0))
        .alias("agents_planned"),
    ).with_columns(
        (pl.col("agents_planned") - pl.col("agents_needed")).alias("gap"),
        pl.col("local_date").map_elements(fmt.fr_weekday_date, return_dtype=pl.String)
        .alias("day"),
        pl.col("local_slot").map_elements(slot_label, return_dtype=pl.String).alias("slot"),
    ).select("local_date", "day", "slot", "agents_needed", "agents_planned", "gap"
             ).sort("local_date", "slot")


def coverage_heatmap(grid: pl.DataFrame) -> alt.TopLevelMixin:
    """Day × half-hour of the planned minus needed agents (orange: short, blue: surplus;
    grey: no rota for the day)."""
    slots = sorted(set(grid.get_column("slot").to_list()))
    days = grid.get_column("day").unique(maintain_order=True).to_list()
    bound = max(1.0, float(grid.get_column("gap").abs().max() or 0))
    base = alt.Chart(grid).encode(
        x=alt.X("slot:O", title="Demi-heure (heure locale)", scale=alt.Scale(domain=slots),
                axis=alt.Axis(labelAngle=0, labelExpr=HOUR_LABELS)),
        y=alt.Y("day:O", title=None, sort=days),
        tooltip=[alt.Tooltip("day:O", title="Jour"), alt.Tooltip("slot:O", title="Demi-heure"),
                 alt.Tooltip("agents_needed:Q", title="Agents requis"),
                 alt.Tooltip("agents_planned:Q", title="Agents planifiés", format=",.1f"),
                 alt.Tooltip("gap:Q", title="Écart", format="+,.1f")])
    known = base.transform_filter("isValid(datum.gap)").mark_rect().encode(
        color=alt.Color("gap:Q", title="Planifiés − requis (agents)",
                        scale=alt.Scale(scheme=DIVERGING_SCHEME, reverse=True,
                                        domain=[-bound, bound], domainMid=0),
                        legend=alt.Legend(orient="top", format="+,.0f")))
    unknown = base.transform_filter("!isValid(datum.gap)").mark_rect(color="#d9d9d9")
    return finish(alt.layer(unknown, known).properties(height=alt.Step(ROW_STEP),
                                                       width="container"),
                  "Agents planifiés moins agents requis, par jour et demi-heure")


def coverage_days(grid: pl.DataFrame, days: pl.DataFrame) -> pl.DataFrame:
    """Per forecast day: calls expected (DAYS: Forecast.days), agent-hours needed and
    planned, the half-hours short of staff; the French table shown and downloaded."""
    calls = (days.filter(pl.col("channel") == "phone").group_by("local_date")
             .agg(pl.col("expected").sum()))
    per_day = grid.group_by("local_date", "day").agg(
        (pl.col("agents_needed").sum() / 2).alias("needed_hours"),
        (pl.col("agents_planned").sum() / 2).alias("planned_hours"),
        pl.col("agents_planned").is_null().all().alias("no_rota"),
        (pl.col("gap") < 0).sum().alias("short"),
    ).join(calls, on="local_date", how="left").sort("local_date")
    return per_day.select(
        pl.col("day").alias("Jour"),
        pl.col("expected").round(0).cast(pl.Int64).alias("Appels attendus"),
        pl.col("needed_hours").round(1).alias("Heures-agents requises"),
        pl.when(pl.col("no_rota")).then(None).otherwise(pl.col("planned_hours").round(1))
        .alias("Heures-agents planifiées"),
        pl.when(pl.col("no_rota")).then(pl.lit("aucun planning"))
        .otherwise(pl.col("short").cast(pl.String)).alias("Demi-heures en sous-effectif"),
    )


def coverage_reading(grid: pl.DataFrame) -> str:
    """One sentence: how many half-hours of the horizon the rota leaves short, the worst."""
    known = grid.filter(pl.col("gap").is_not_null())
    if known.height == 0:
        return ("Aucun planning importé pour ces jours : seul l'effectif requis est connu "
                "(importez les plannings avec `python -m dashboard ingest schedules`).")
    short = known.filter(pl.col("gap") < 0)
    text = (f"{fmt.fr_number(short.height)} demi-heure{'s' if short.height > 1 else ''} sur "
            f"{fmt.fr_number(known.height)} planifiées en sous-effectif")
    if short.height:
        worst = short.sort("gap").row(0, named=True)
        text += (f" ; le plus grand écart le {worst['day']} à {worst['slot']} : "
                 f"{fmt.fr_decimal(worst['agents_planned'])} agents planifiés pour "
                 f"{fmt.fr_number(worst['agents_needed'])} requis")
    missing = grid.filter(pl.col("gap").is_null()).get_column("day").unique().len()
    if missing:
        text += f" ; {fmt.fr_number(missing)} jour{'s' if missing > 1 else ''} sans planning"
    return text + "."
