"""Acts of management over time: by type or département, per 100 handled contacts, and the
online-service promotion and repeat-contact rates.

Frames come from queries.acts_by_type (bucketed by dashboard.series.acts_per_period) and
from the metrics engine; each chart has its reading and its table (French text).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboard.charts.base import HEIGHT, finish
from dashboard.core import formatting as fmt
from dashboard.metrics.definitions import METRICS_BY_KEY

ACT_TYPE_LABELS = {
    "delai_paiement": "Délai de paiement",
    "changement_adresse": "Changement d'adresse",
    "rectification_declaration": "Rectification de déclaration",
    "remise_gracieuse": "Remise gracieuse",
    "duplicata_avis": "Duplicata d'avis",
    "adhesion_prelevement": "Adhésion au prélèvement",
    "creation_espace_particulier": "Création de l'espace particulier",
    "attestation": "Attestation",
}
GRAIN_WORDS = {"day": ("jour", "Jour", "%d/%m"), "week": ("semaine", "Semaine du", "%d/%m/%Y"),
               "month": ("mois", "Mois", "%m/%Y")}


def act_type_label(code: str | None) -> str:
    """An act type code → its French label (the code itself when unknown)."""
    if code is None:
        return fmt.MISSING
    return ACT_TYPE_LABELS.get(code, code.replace("_", " "))


def period_text(day, grain: str) -> str:
    """The first day of a period as shown: 11/05/2015 (day, week) or 05/2015 (month)."""
    return day.strftime("%m/%Y") if grain == "month" else fmt.fr_date(day)


def _time_axis(grain: str) -> alt.X:
    unit = {"day": "yearmonthdate", "week": "yearmonthdate", "month": "yearmonth"}[grain]
    return alt.X("date:T", timeUnit=unit, title=None,
                 axis=alt.Axis(format=GRAIN_WORDS[grain][2], labelAngle=0))


def _order(frame: pl.DataFrame) -> list[str]:
    return (frame.group_by("label").agg(pl.col("n").sum())
            .sort(["n", "label"], descending=[True, False])["label"].to_list())


def acts_chart(frame: pl.DataFrame, grain: str, split_title: str) -> alt.TopLevelMixin:
    """Acts per period (`date`, `n`) stacked by `label` (act type or département)."""
    order = _order(frame)
    # Each bar spans its period (a day, a week, a month), from its first day to the next's.
    step = {"day": "1d", "week": "1w", "month": "1mo"}[grain]
    spans = frame.with_columns(pl.col("date").dt.offset_by(step).alias("date_end"))
    chart = alt.Chart(spans).mark_bar(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("date:T", title=None,
                axis=alt.Axis(format=GRAIN_WORDS[grain][2], labelAngle=0)),
        x2="date_end:T",
        y=alt.Y("sum(n):Q", title=f"Actes par {GRAIN_WORDS[grain][0]}",
                axis=alt.Axis(format=",.0f")),
        color=alt.Color("label:N", title=split_title, sort=order, scale=alt.Scale(domain=order),
                        legend=alt.Legend(orient="right", labelLimit=300)),
        tooltip=[
            alt.Tooltip("date:T", title=GRAIN_WORDS[grain][1],
                        format="%m/%Y" if grain == "month" else "%d/%m/%Y"),
            alt.Tooltip("label:N", title=split_title),
            alt.Tooltip("n:Q", title="Actes", format=",.0f"),
        ],
    ).properties(height=HEIGHT)
    return finish(chart, f"Actes de gestion par {split_title.lower()}")


def acts_reading(frame: pl.DataFrame, grain: str, split_title: str) -> str:
    """One sentence: the largest category with its share, and the busiest period."""
    total = frame["n"].sum()
    if not total:
        return "Aucun acte de gestion sur la période."
    by_label = frame.group_by("label").agg(pl.col("n").sum()).sort(
        ["n", "label"], descending=[True, False]).row(0, named=True)
    by_period = frame.group_by("date").agg(pl.col("n").sum()).sort(
        ["n", "date"], descending=[True, False]).row(0, named=True)
    word = GRAIN_WORDS[grain][0]
    busiest = "la semaine la plus chargée" if grain == "week" else f"le {word} le plus chargé"
    return (f"{fmt.fr_number(total)} actes ; {split_title.lower()} le plus fréquent : "
            f"{by_label['label']} ({fmt.fr_number(by_label['n'])} actes, "
            f"{fmt.fr_percent(by_label['n'] / total)}) ; {busiest} : "
            f"{period_text(by_period['date'], grain)} ({fmt.fr_number(by_period['n'])} actes).")


def acts_table(frame: pl.DataFrame, grain: str) -> pl.DataFrame:
    """One row per period: acts per category (largest first) and total."""
    order = _order(frame)
    wide = frame.pivot(on="label", index="date", values="n", aggregate_function="sum").sort(
        "date")
    cols: dict[str, list[str]] = {
        GRAIN_WORDS[grain][1]: [period_text(d, grain) for d in wide["date"]]
    }
    for label in order:
        cols[label] = [fmt.fr_number(v or 0) for v in wide[label]]
    cols["Total"] = [fmt.fr_number(sum(v or 0 for v in row))
                     for row in wide.select(order).iter_rows()]
    return pl.DataFrame(cols, schema={name: pl.String for name in cols})


def breakdown_table(totals: pl.DataFrame, dept_labels: dict[str, str]) -> pl.DataFrame:
    """Acts per type (rows, largest first) and département (columns), with totals.

    TOTALS: `act_type`, `department`, `n`.
    """
    depts = sorted(totals["department"].unique().to_list())
    types = (totals.group_by("act_type").agg(pl.col("n").sum())
             .sort(["n", "act_type"], descending=[True, False])["act_type"].to_list())
    counts = {(r["act_type"], r["department"]): r["n"] for r in totals.iter_rows(named=True)}
    grand = sum(counts.values())
    cols: dict[str, list[str]] = {"Type d'acte": [act_type_label(t) for t in types] + ["Total"]}
    for d in depts:
        column = [counts.get((t, d), 0) for t in types]
        cols[dept_labels.get(d, d)] = [fmt.fr_number(v) for v in column + [sum(column)]]
    row_totals = [sum(counts.get((t, d), 0) for d in depts) for t in types]
    cols["Total"] = [fmt.fr_number(v) for v in row_totals + [grand]]
    cols["Part"] = [fmt.fr_percent(v / grand if grand else None) for v in row_totals + [grand]]
    return pl.DataFrame(cols, schema={name: pl.String for name in cols})


def rate_lines(frame: pl.DataFrame, grain: str, value_title: str, unit: str,
               series_title: str, title: str) -> alt.TopLevelMixin:
    """Lines of `value` per period (`date`), one per `label`; UNIT "rate" (fractions shown
    as percentages) or "ratio"."""
    axis_format, number = (".0%", ".1%") if unit == "rate" else (",.0f", ",.1f")
    order = frame["label"].unique(maintain_order=True).to_list()
    chart = alt.Chart(frame.drop_nulls("value")).mark_line(point=True, strokeWidth=2).encode(
        x=_time_axis(grain),
        y=alt.Y("value:Q", title=value_title, axis=alt.Axis(format=axis_format)),
        color=alt.Color("label:N", title=series_title, sort=order, scale=alt.Scale(domain=order),
                        legend=alt.Legend(orient="top", labelLimit=300)),
        tooltip=[
            alt.Tooltip("date:T", title=GRAIN_WORDS[grain][1],
                        format="%m/%Y" if grain == "month" else "%d/%m/%Y"),
            alt.Tooltip("label:N", title=series_title),
            alt.Tooltip("value:Q", title=value_title, format=number),
        ],
    ).properties(height=HEIGHT)
    return finish(chart, title)


def rate_table(frame: pl.DataFrame, grain: str, unit: str) -> pl.DataFrame:
    """One row per period, one column per `label`: the values in French."""
    order = frame["label"].unique(maintain_order=True).to_list()
    wide = frame.pivot(on="label", index="date", values="value").sort("date")
    cols: dict[str, list[str]] = {
        GRAIN_WORDS[grain][1]: [period_text(d, grain) for d in wide["date"]]
    }
    for label in order:
        cols[label] = [fmt.format_value(v, unit) for v in wide[label]]
    return pl.DataFrame(cols, schema={name: pl.String for name in cols})


def when_text(day, grain: str) -> str:
    """"le 11/05/2015", "la semaine du 11/05/2015" or "en 05/2015"."""
    if grain == "week":
        return f"la semaine du {fmt.fr_date(day)}"
    if grain == "month":
        return f"en {day:%m/%Y}"
    return f"le {fmt.fr_date(day)}"


def per_100_reading(frame: pl.DataFrame, overall: float | None, grain: str) -> str:
    """One sentence: the period's figure, and the highest département-period."""
    label = METRICS_BY_KEY["acts_per_100_handled"].label.lower()
    rated = frame.drop_nulls("value")
    if rated.height == 0 or overall is None:
        return f"Pas de contact traité : pas d'{label} sur la période."
    top = rated.sort(["value", "date"], descending=[True, False]).row(0, named=True)
    return (f"{fmt.fr_decimal(overall, 1)} actes pour 100 contacts traités sur la période ; "
            f"le plus haut : {top['label']}, {fmt.fr_decimal(top['value'], 1)}, "
            f"{when_text(top['date'], grain)}.")


def service_rates_reading(promotion: float | None, repeat: float | None) -> str:
    """One sentence: the period's promotion and repeat-contact rates."""
    return (f"Sur la période, {fmt.fr_percent(promotion)} des contacts traités ont donné lieu "
            f"à une promotion des services en ligne, et {fmt.fr_percent(repeat)} des usagers "
            "identifiés ont recontacté le centre sous 7 jours.")


def with_labels(frame: pl.DataFrame, column: str, labels: dict[str, str] | None = None
                ) -> pl.DataFrame:
    """FRAME plus `label`: act types through ACT_TYPE_LABELS, other codes through LABELS."""
    if column == "act_type":
        return frame.with_columns(
            pl.col(column).map_elements(act_type_label, return_dtype=pl.String).alias("label"))
    labels = labels or {}
    return frame.with_columns(
        pl.col(column).map_elements(lambda c: labels.get(c, c), return_dtype=pl.String)
        .alias("label"))
