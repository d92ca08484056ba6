"""Aujourd'hui's "Demain et les jours suivants": the forecast's calls per half-hour with
their 80 % interval, the agents needed against the agents planned, and the next days'
totals (frames from dashboard.engine.forecasting)."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from dashboard.charts.base import HEIGHT_SMALL, PALETTE, finish
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
    """DAY's half-hours: `slot`, `expected`, `low`, `high`, `agents_needed`,
    `agents_planned` (null without a schedule), `short` (planned below needed)."""
    frame = slots.filter(pl.col("local_date") == day).sort("local_slot")
    frame = frame.join(planned.filter(pl.col("local_date") == day)
                       .select("local_slot", "agents_planned"), on="local_slot", how="left")
    return frame.select(
        pl.col("local_slot").map_elements(slot_label, return_dtype=pl.String).alias("slot"),
        "expected", "low", "high", "agents_needed",
        pl.col("agents_planned"),
        (pl.col("agents_planned") < pl.col("agents_needed")).alias("short"),
    )


def calls_chart(frame: pl.DataFrame) -> alt.TopLevelMixin:
    """Calls expected per half-hour (line) inside their 80 % interval (band)."""
    base = alt.Chart(frame).encode(x=alt.X("slot:O", title="Créneau", axis=alt.Axis(labelAngle=0)))
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
