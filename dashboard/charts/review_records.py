"""The whole pilot review's objectives and its other records on screen and in the report:
verdict badges, tools (availability, incidents on the load curve, training), users'
survey, staff barometer, relief of local services.

Frames come from the Review (dashboard.review.assessment) and the engine; everything
here is presentation: French labels and formats, the tables shown (with their typed twins
for download) and the Altair charts. The small-group rule is kept: a barometer figure
that the metrics left null (a group or a question under five answers) is shown as
formatting.SMALL_GROUP and exported empty, never as a number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import altair as alt
import polars as pl

from dashboard.charts import exports
from dashboard.charts.base import HEIGHT, HEIGHT_SMALL, PALETTE, RED_MARIANNE, finish
from dashboard.charts.tables import CHANNEL_LABELS
from dashboard.core import formatting as fmt
from dashboard.core.localtime import to_local

DEFAULT_TZ = "Europe/Paris"

# ------------------------------------------------------------------------ objectives

# Verdict → (Streamlit badge colour, Material icon, HTML colour on white, HTML symbol).
# Every colour is a DSFR status colour that reads at 4.5:1 on white; the verdict's words
# are always written beside it, the colour is never the only sign.
VERDICT_STYLES = {
    "atteint": ("green", ":material/check_circle:", "#18753C", "✔"),
    "partiellement atteint": ("orange", ":material/timelapse:", "#B34000", "◐"),
    "non atteint": ("red", ":material/cancel:", "#CE0500", "✘"),
    "pas de données": ("gray", ":material/help:", "#666666", "?"),
}
# Objective key → (kind of its figure, its short French label, the figure in a sentence;
# dashboard.review.assessment says how each is computed).
OBJECTIVE_FIGURES = {
    "service": ("rate", "Taux de décroché", "taux de décroché"),
    "efficiency": ("rate", "Disponibilité de la téléphonie",
                   "disponibilité de la téléphonie aux heures d'ouverture"),
    "acts": ("decimal", "Actes pour 100 contacts", "actes de gestion pour 100 contacts traités"),
    "relief": ("rate", "Baisse de l'accueil local",
               "baisse de l'accueil des services locaux imputable aux centres"),
}


def _shown(kind: str, value: float | None) -> str:
    if value is None:
        return fmt.MISSING
    return fmt.fr_percent(value) if kind == "rate" else fmt.fr_decimal(value)


def objective_value(key: str, value: float | None) -> str:
    """The objective's figure in French ("69,8 %", "31,7", "—")."""
    return _shown(OBJECTIVE_FIGURES[key][0], value)


def objective_target(key: str, target: float | None, partial: float | None) -> str:
    """"Cible : 85,0 % · seuil partiel : 75,0 %" (or that no target is set)."""
    if target is None:
        return "Aucune cible dans les données de référence"
    kind = OBJECTIVE_FIGURES[key][0]
    text = f"Cible : {_shown(kind, target)}"
    if partial is not None:
        text += f" · seuil partiel : {_shown(kind, partial)}"
    return text


def verdict_badge(verdict: str) -> tuple[str, str, str]:
    """(the verdict's words, st.badge colour, st.badge icon)."""
    color, icon, _, _ = VERDICT_STYLES[verdict]
    return verdict.capitalize(), color, icon


# ------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Shown:
    """A table as shown (French text) and its typed twin for CSV and Excel."""

    table: pl.DataFrame
    export: exports.Table


def _text(values: Sequence, render) -> list[str]:
    return [render(v) if v is not None else fmt.MISSING for v in values]


def _pair(columns: dict[str, tuple[list, list[str], str]]) -> Shown:
    """COLUMNS: French header → (raw values, shown texts, export kind)."""
    shown = pl.DataFrame({h: texts for h, (_, texts, _) in columns.items()},
                         schema={h: pl.String for h in columns})
    typed = {}
    for header, (raw, _, kind) in columns.items():
        dtype = {"count": pl.Int64, "rate": pl.Float64, "decimal": pl.Float64,
                 "hours": pl.Float64, "date": pl.Date, "datetime": pl.Datetime("us"),
                 "text": pl.String}[kind]
        typed[header] = pl.Series(header, raw, dtype=dtype, strict=False)
    kinds = {h: kind for h, (_, _, kind) in columns.items()}
    return Shown(shown, exports.Table(pl.DataFrame(list(typed.values())), kinds))


def site_label(site: str | None, site_names: Mapping[str, str]) -> str:
    """A site's name; "Tous les sites" for an incident that names none."""
    return "Tous les sites" if site is None else site_names.get(site, site)


def department_label(code: str | None, names: Mapping[str, str]) -> str:
    """"60 Oise" (the code alone when its name is unknown)."""
    if code is None:
        return fmt.MISSING
    return f"{code} {names[code]}" if code in names else code


COMPONENT_LABELS = {"telephonie": "Téléphonie", "messagerie": "Messagerie",
                    "applications": "Applications métier"}
SEVERITY_LABELS = {"panne": "Panne", "degrade": "Dégradé"}


def availability_table(availability: pl.DataFrame, site_names: Mapping[str, str]) -> Shown:
    """Availability per site and component (metrics.tools.tool_availability)."""
    rows = availability.to_dicts()
    hours = [r["opening_minutes"] / 60 if r["opening_minutes"] is not None else None
             for r in rows]
    out = [r["outage_minutes"] for r in rows]
    degraded = [r["degraded_minutes"] for r in rows]
    rate = [r["tool_availability"] for r in rows]
    sites = [site_label(r["site"], site_names) for r in rows]
    components = [COMPONENT_LABELS.get(r["component"], r["component"]) for r in rows]
    return _pair({
        "Site": (sites, sites, "text"),
        "Outil": (components, components, "text"),
        "Heures d'ouverture": (hours, _text(hours, fmt.fr_number), "decimal"),
        "Minutes de panne": (out, _text(out, fmt.fr_number), "decimal"),
        "Minutes en mode dégradé": (degraded, _text(degraded, fmt.fr_number), "decimal"),
        "Disponibilité": (rate, _text(rate, lambda v: fmt.fr_percent(v, 2)), "rate"),
    })


def local_incidents(incidents: pl.DataFrame, timezones: Mapping[str, str]) -> pl.DataFrame:
    """INCIDENTS with `start_local`, `end_local` (wall clock of their site's time zone, or
    of the first site's for those of every site) and `minutes`, by start."""
    default = next(iter(timezones.values()), DEFAULT_TZ)
    frame = incidents.with_columns(
        pl.col("site").replace_strict(dict(timezones), default=None, return_dtype=pl.String)
        .fill_null(default).alias("_tz"),
        pl.col("start_at").cast(pl.Datetime("us")), pl.col("end_at").cast(pl.Datetime("us")))
    parts = [frame.filter(pl.col("_tz") == tz).with_columns(
        to_local(pl.col("start_at"), tz).alias("start_local"),
        to_local(pl.col("end_at"), tz).alias("end_local"))
        for tz in sorted(frame.get_column("_tz").unique().to_list())]
    if not parts:
        parts = [frame.with_columns(pl.col("start_at").alias("start_local"),
                                    pl.col("end_at").alias("end_local"))]
    return pl.concat(parts).drop("_tz").sort("start_at").with_columns(
        ((pl.col("end_at") - pl.col("start_at")).dt.total_seconds() / 60).alias("minutes"))


def incidents_table(incidents: pl.DataFrame, site_names: Mapping[str, str]) -> Shown:
    """The incidents (local_incidents) in French."""
    rows = incidents.to_dicts()

    def when(value: dt.datetime | None) -> str:
        return value.strftime("%d/%m/%Y %H:%M") if value else fmt.MISSING

    sites = [site_label(r["site"], site_names) for r in rows]
    comps = [COMPONENT_LABELS.get(r["component"], r["component"]) for r in rows]
    sev = [SEVERITY_LABELS.get(r["severity"], r["severity"]) for r in rows]
    starts = [r["start_local"] for r in rows]
    ends = [r["end_local"] for r in rows]
    minutes = [r["minutes"] for r in rows]
    desc = [r["description"] or "" for r in rows]
    return _pair({
        "Outil": (comps, comps, "text"),
        "Site": (sites, sites, "text"),
        "Début (heure locale)": (starts, [when(v) for v in starts], "datetime"),
        "Fin (heure locale)": (ends, [when(v) for v in ends], "datetime"),
        "Durée": (minutes, _text(minutes, lambda m: fmt.fr_duration(m * 60)), "decimal"),
        "Gravité": (sev, sev, "text"),
        "Description": (desc, desc, "text"),
    })


def training_table(trained: pl.DataFrame, site_names: Mapping[str, str]) -> Shown:
    """Agents trained before their first session, per site (metrics.tools)."""
    rows = trained.to_dicts()
    sites = [site_label(r["site"], site_names) for r in rows]
    agents = [r["agents"] for r in rows]
    done = [r["trained"] for r in rows]
    rate = [r["trained_before_start"] for r in rows]
    return _pair({
        "Site": (sites, sites, "text"),
        "Agents ayant travaillé sur la période": (agents, _text(agents, fmt.fr_number),
                                                  "count"),
        "Formés avant leur prise de poste": (done, _text(done, fmt.fr_number), "count"),
        "Part des agents formés avant leur prise de poste": (rate,
                                                              _text(rate, fmt.fr_percent),
                                                              "rate"),
    })


SURVEY_COLUMNS = (("survey_responses", "Réponses à l'enquête", "count"),
                  ("csat_rate", "Usagers satisfaits", "rate"),
                  ("mean_satisfaction", "Satisfaction moyenne (1 à 5)", "decimal"),
                  ("perceived_resolution_rate", "Demande traitée (selon l'usager)", "rate"),
                  ("survey_response_rate", "Taux de réponse à l'enquête", "rate"))


def _render(kind: str):
    return {"count": fmt.fr_number, "rate": fmt.fr_percent,
            "decimal": lambda v: fmt.fr_decimal(v, 2)}[kind]


def survey_table(tables: Mapping[str, pl.DataFrame], site_names: Mapping[str, str],
                 department_names: Mapping[str, str]) -> Shown:
    """Survey figures by site, by département and by channel in one table."""
    groups, entities, rows = [], [], []
    for name, key, label in (("by_site", "site", "Site"),
                             ("by_department", "department", "Département"),
                             ("by_channel", "channel", "Canal")):
        for r in tables[name].sort(key).to_dicts():
            groups.append(label)
            if key == "site":
                entities.append(site_label(r[key], site_names))
            elif key == "department":
                entities.append(department_label(r[key], department_names))
            else:
                entities.append(CHANNEL_LABELS.get(r[key], r[key] or fmt.MISSING))
            rows.append(r)
    columns = {"Regroupement": (groups, groups, "text"),
               "Périmètre": (entities, entities, "text")}
    for key, header, kind in SURVEY_COLUMNS:
        values = [r[key] for r in rows]
        columns[header] = (values, _text(values, _render(kind)), kind)
    return _pair(columns)


def iso_week_monday(key: str) -> dt.date:
    """"2015-W10" → the Monday of that ISO week."""
    year, week = key.split("-W")
    return dt.date.fromisocalendar(int(year), int(week), 1)


def survey_weeks(by_week: pl.DataFrame, site_names: Mapping[str, str]) -> pl.DataFrame:
    """The weekly survey figures by site, long: `site_name`, `week`, `week_start`,
    `indicator`, `value`, `responses` (for the weekly chart)."""
    rows = []
    for r in by_week.to_dicts():
        if not r["week"]:
            continue
        for key, label in (("csat_rate", "Usagers satisfaits"),
                           ("perceived_resolution_rate", "Demande traitée (selon l'usager)")):
            rows.append((site_label(r["site"], site_names), r["week"],
                         iso_week_monday(r["week"]), label, r[key], r["survey_responses"]))
    return pl.DataFrame(rows, orient="row", schema={
        "site_name": pl.String, "week": pl.String, "week_start": pl.Date,
        "indicator": pl.String, "value": pl.Float64, "responses": pl.Int64})


def survey_weeks_table(weeks: pl.DataFrame) -> Shown:
    """The weekly chart's data in French."""
    rows = weeks.sort("site_name", "week_start", "indicator").to_dicts()
    site = [r["site_name"] for r in rows]
    starts = [r["week_start"] for r in rows]
    ind = [r["indicator"] for r in rows]
    val = [r["value"] for r in rows]
    n = [r["responses"] for r in rows]
    return _pair({"Site": (site, site, "text"),
                  "Semaine du": (starts, _text(starts, fmt.fr_date), "date"),
                  "Indicateur": (ind, ind, "text"),
                  "Valeur": (val, _text(val, fmt.fr_percent), "rate"),
                  "Réponses": (n, _text(n, fmt.fr_number), "count")})


def wait_band_table(bands: pl.DataFrame) -> Shown:
    """Satisfaction per wait band of the answered call."""
    rows = bands.to_dicts()
    label = [r["wait_band"] for r in rows]
    columns = {"Attente avant décroché": (label, label, "text")}
    for key, header, kind in SURVEY_COLUMNS[:3]:
        values = [r[key] for r in rows]
        columns[header] = (values, _text(values, _render(kind)), kind)
    return _pair(columns)


def knew_table(knew: pl.DataFrame, department_names: Mapping[str, str]) -> Shown:
    """The share who found the number easily, by département and weeks after opening."""
    rows = knew.to_dicts()
    dept = [department_label(r["department"], department_names) for r in rows]
    band = [r["weeks_after_opening"] for r in rows]
    n = [r["answers"] for r in rows]
    rate = [r["knew_rate"] for r in rows]
    return _pair({"Département": (dept, dept, "text"),
                  "Depuis l'ouverture": (band, band, "text"),
                  "Réponses": (n, _text(n, fmt.fr_number), "count"),
                  "Ont trouvé le numéro facilement": (rate, _text(rate, fmt.fr_percent),
                                                      "rate")})


POPULATION_LABELS = {"centre_agent": "Agents des centres",
                     "centre_manager": "Encadrants des centres",
                     "local_agent": "Agents des services locaux",
                     "local_manager": "Encadrants des services locaux"}
STAFF_QUESTION_LABELS = {"tools": "Outils", "training": "Formation",
                         "workload": "Charge de travail", "acts_scope": "Périmètre des actes",
                         "overall": "Appréciation générale"}


def staff_group(row: Mapping, site_names: Mapping[str, str],
                department_names: Mapping[str, str]) -> str:
    """Where a barometer group works: its site, its département, or both."""
    parts = []
    if row.get("site"):
        parts.append(site_names.get(row["site"], row["site"]))
    if row.get("department"):
        parts.append(department_label(row["department"], department_names))
    return " · ".join(parts) or fmt.MISSING


def barometer_table(staff: pl.DataFrame, questions: Sequence[str],
                    site_names: Mapping[str, str],
                    department_names: Mapping[str, str]) -> Shown:
    """The barometer by wave, population and place: respondents, then per question its
    mean (1 to 5) and, in brackets, the share answering 4 or 5 ("3,8 (66,7 %)"). A figure
    the metrics hid (group or question under five answers) reads formatting.SMALL_GROUP
    on screen; in the export (a mean and a share column per question) it is empty, with
    the reason in the `Remarque` column."""
    rows = staff.to_dicts()
    waves = [r["wave"] for r in rows]
    pops = [POPULATION_LABELS.get(r["population"], r["population"]) for r in rows]
    places = [staff_group(r, site_names, department_names) for r in rows]
    respondents = [None if r["hidden"] else r["respondents"] for r in rows]
    head = {
        "Vague": (waves, fmt.fr_date, pl.Date, "date"),
        "Population": (pops, str, pl.String, "text"),
        "Site ou département": (places, str, pl.String, "text"),
        "Répondants": (respondents, fmt.fr_number, pl.Int64, "count"),
    }
    shown = {h: [fmt.SMALL_GROUP if v is None else render(v) for v in values]
             for h, (values, render, _, _) in head.items()}
    typed = [pl.Series(h, values, dtype=dtype) for h, (values, _, dtype, _) in head.items()]
    kinds = {h: kind for h, (_, _, _, kind) in head.items()}
    for q in questions:
        label = STAFF_QUESTION_LABELS.get(q, q)
        means = [None if r["hidden"] else r.get(f"{q}_mean") for r in rows]
        shares = [None if r["hidden"] else r.get(f"{q}_share_4plus") for r in rows]
        shown[label] = [fmt.SMALL_GROUP if m is None or s is None else
                        f"{fmt.fr_decimal(m)} ({fmt.fr_percent(s)})"
                        for m, s in zip(means, shares)]
        for suffix, values, kind in ((" : moyenne (1 à 5)", means, "decimal"),
                                     (" : part de 4 ou 5", shares, "rate")):
            typed.append(pl.Series(label + suffix, values, dtype=pl.Float64))
            kinds[label + suffix] = kind
    notes = []
    for r in rows:
        missing = [STAFF_QUESTION_LABELS.get(q, q) for q in questions
                   if r.get(f"{q}_mean") is None]
        notes.append(fmt.SMALL_GROUP if r["hidden"] else
                     f"{fmt.SMALL_GROUP} : {', '.join(missing)}" if missing else "")
    typed.append(pl.Series("Remarque", notes, dtype=pl.String))
    kinds["Remarque"] = "text"
    return Shown(pl.DataFrame(shown, schema={h: pl.String for h in shown}),
                 exports.Table(pl.DataFrame(typed), kinds))


BAROMETER_NOTE = ("Par question : note moyenne sur 5 et, entre parenthèses, part des "
                  "réponses 4 ou 5. Un groupe (vague, population, site ou département) de "
                  "moins de 5 répondants, ou une question répondue moins de 5 fois, n'est "
                  f"jamais montré : « {fmt.SMALL_GROUP} ».")


def barometer_long(staff: pl.DataFrame, questions: Sequence[str],
                   site_names: Mapping[str, str],
                   department_names: Mapping[str, str]) -> pl.DataFrame:
    """The shown figures of the barometer, long: `wave`, `population`, `group` (population
    and place), `question`, `mean`, `share`, `respondents`. Hidden figures are left out."""
    rows = []
    for r in staff.filter(~pl.col("hidden")).to_dicts():
        place = staff_group(r, site_names, department_names)
        pop = POPULATION_LABELS.get(r["population"], r["population"])
        for q in questions:
            if r.get(f"{q}_mean") is None:
                continue
            rows.append((r["wave"], pop, f"{pop} · {place}", STAFF_QUESTION_LABELS.get(q, q),
                         r[f"{q}_mean"], r[f"{q}_share_4plus"], r["respondents"]))
    return pl.DataFrame(rows, orient="row", schema={
        "wave": pl.Date, "population": pl.String, "group": pl.String, "question": pl.String,
        "mean": pl.Float64, "share": pl.Float64, "respondents": pl.Int64})


def barometer_points(long: pl.DataFrame) -> pl.DataFrame:
    """A barometer chart's points (barometer_long, one question) as a French text table."""
    rows = long.to_dicts()
    return pl.DataFrame({
        "Vague": [fmt.fr_date(r["wave"]) for r in rows],
        "Groupe": [r["group"] for r in rows],
        "Répondants": [fmt.fr_number(r["respondents"]) for r in rows],
        "Note moyenne (1 à 5)": [fmt.fr_decimal(r["mean"]) for r in rows],
        "Part de 4 ou 5": [fmt.fr_percent(r["share"]) for r in rows],
    }, schema={c: pl.String for c in ("Vague", "Groupe", "Répondants",
                                      "Note moyenne (1 à 5)", "Part de 4 ou 5")})


def relief_table(relief: pl.DataFrame, department_names: Mapping[str, str]) -> Shown:
    """The relief estimate per pilot département, with its 95 % interval."""
    rows = relief.to_dicts()
    dept = [department_label(r["department"], department_names) for r in rows]
    start = [r["coverage_start"] for r in rows]
    pre = [r["pre_weeks"] for r in rows]
    post = [r["post_weeks"] for r in rows]
    controls = [r["controls"] for r in rows]
    names = [", ".join(r["control_departments"] or []) for r in rows]
    base = [r["pre_mean_per_week"] for r in rows]
    rate = [r["relief_rate"] for r in rows]
    low = [r["ci_low"] for r in rows]
    high = [r["ci_high"] for r in rows]
    per_week = [r["relief_per_week"] for r in rows]

    def interval(lo, hi) -> str:
        if lo is None or hi is None:
            return fmt.MISSING
        return f"de {fmt.fr_percent(lo)} à {fmt.fr_percent(hi)}"

    columns = {
        "Département": (dept, dept, "text"),
        "Ouverture": (start, _text(start, fmt.fr_date), "date"),
        "Semaines avant": (pre, _text(pre, fmt.fr_number), "count"),
        "Semaines après": (post, _text(post, fmt.fr_number), "count"),
        "Départements témoins": (names, [f"{fmt.fr_number(n or 0)} ({t})" if t else
                                         fmt.MISSING for n, t in zip(controls, names)],
                                 "text"),
        "Accueil local par semaine avant l'ouverture": (base, _text(base, fmt.fr_number),
                                                        "decimal"),
        "Soulagement estimé": (rate, _text(rate, fmt.fr_percent), "rate"),
        "Intervalle de confiance à 95 %": (low, [interval(lo, hi) for lo, hi in
                                                 zip(low, high)], "rate"),
        "Contacts évités par semaine": (per_week, _text(per_week, fmt.fr_number),
                                        "decimal"),
    }
    shown = _pair(columns)
    # The typed twin carries both bounds of the interval.
    frame = shown.export.frame.rename({"Intervalle de confiance à 95 %": "Borne basse à 95 %"})
    frame = frame.insert_column(frame.columns.index("Borne basse à 95 %") + 1,
                                pl.Series("Borne haute à 95 %", high, dtype=pl.Float64))
    kinds = dict(shown.export.kinds_by_column)
    kinds.pop("Intervalle de confiance à 95 %")
    kinds.update({"Borne basse à 95 %": "rate", "Borne haute à 95 %": "rate"})
    return Shown(shown.table, exports.Table(frame, kinds))


RELIEF_METHOD = (
    "Méthode : pour chaque département pilote, l'accueil hebdomadaire de ses services "
    "locaux (guichet, téléphone, courriel, courrier) est rapporté à sa moyenne des semaines "
    "complètes avant l'ouverture (indice 1 : le niveau d'avant) ; de même pour les "
    "départements témoins, qu'aucun centre ne sert, les mêmes semaines. Le soulagement est "
    "l'écart moyen, après l'ouverture, entre l'indice des témoins et celui du pilote "
    "(différence de différences) : une campagne qui touche les deux s'annule. "
    "L'intervalle de confiance à 95 % (t de Welch) vient de la dispersion des écarts "
    "hebdomadaires avant et après l'ouverture ; les semaines étant traitées comme "
    "indépendantes, il est sans doute un peu trop étroit. La semaine de l'ouverture, "
    "à cheval, n'est comptée ni avant ni après."
)


def relief_long(weeks: pl.DataFrame, department_names: Mapping[str, str]) -> pl.DataFrame:
    """The relief's weekly indices, long: `department`, `label`, `week`, `series`
    ("Département pilote" or "Départements témoins"), `index`, `phase`."""
    labels = {d: department_label(d, department_names)
              for d in weeks.get_column("department").unique().to_list()}
    base = weeks.with_columns(pl.col("department").replace_strict(labels).alias("label"))
    pilot = base.select("department", "label", "week", pl.lit("Département pilote")
                        .alias("series"), pl.col("pilot_index").alias("index"), "phase")
    control = base.select("department", "label", "week", pl.lit("Départements témoins")
                          .alias("series"), pl.col("control_index").alias("index"), "phase")
    return pl.concat([pilot, control]).sort("department", "week", "series")


def relief_weeks_table(long: pl.DataFrame) -> Shown:
    """The relief chart's data in French."""
    phase = {"pre": "avant l'ouverture", "post": "après l'ouverture", None: "semaine de transition"}
    rows = long.to_dicts()
    dept = [r["label"] for r in rows]
    weeks = [r["week"] for r in rows]
    series = [r["series"] for r in rows]
    values = [r["index"] for r in rows]
    phases = [phase.get(r["phase"], r["phase"]) for r in rows]
    return _pair({"Département": (dept, dept, "text"),
                  "Semaine du": (weeks, _text(weeks, fmt.fr_date), "date"),
                  "Période": (phases, phases, "text"),
                  "Série": (series, series, "text"),
                  "Indice": (values, _text(values, lambda v: fmt.fr_decimal(v, 2)),
                             "decimal")})


def daily_load_table(daily: pl.DataFrame) -> Shown:
    """Calls offered and deflected per day and site (the load curve's data)."""
    rows = daily.to_dicts()
    days = [r["day"] for r in rows]
    sites = [r["site_name"] for r in rows]
    offered = [r["offered"] for r in rows]
    deflected = [r["deflected"] for r in rows]
    return _pair({"Jour": (days, _text(days, fmt.fr_date), "date"),
                  "Site": (sites, sites, "text"),
                  "Appels présentés": (offered, _text(offered, fmt.fr_number), "count"),
                  "Appels dissuadés": (deflected, _text(deflected, fmt.fr_number), "count")})


def daily_load(kpis_by_day_site: pl.DataFrame, site_names: Mapping[str, str]) -> pl.DataFrame:
    """Engine rows by (day, site) → `day` (date), `site`, `site_name`, `offered`,
    `deflected`, sorted."""
    frame = kpis_by_day_site
    day = pl.col("day")
    if frame.schema.get("day") == pl.String:
        day = day.str.to_date("%Y-%m-%d")
    return frame.select(
        day.alias("day"), pl.col("site"),
        pl.col("site").replace_strict(dict(site_names), default=pl.col("site"))
        .alias("site_name"),
        pl.col("offered").fill_null(0).cast(pl.Int64),
        pl.col("deflected").fill_null(0).cast(pl.Int64),
    ).sort("day", "site")


# ------------------------------------------------------------------------- readings


def load_reading(daily: pl.DataFrame, incidents: pl.DataFrame) -> str:
    """One sentence: the outages and the calls offered and deflected on their days."""
    outages = incidents.filter(pl.col("severity") == "panne")
    if incidents.height == 0:
        return "Aucun incident des outils sur la période : la charge suit son cours normal."
    days = outages.get_column("start_local").dt.date().unique().to_list()
    on_days = daily.filter(pl.col("day").is_in(days))
    deflected = int(on_days.get_column("deflected").sum() or 0)
    text = (f"{fmt.fr_number(incidents.height)} incident{'s' if incidents.height > 1 else ''}"
            f" (traits verticaux), dont {fmt.fr_number(outages.height)} "
            f"panne{'s' if outages.height > 1 else ''}")
    if outages.height:
        text += (f" ; les jours de panne, {fmt.fr_number(deflected)} appel"
                 f"{'s' if deflected > 1 else ''} dissuadé{'s' if deflected > 1 else ''}")
    return text + "."


def wait_reading(bands: pl.DataFrame) -> str:
    """One sentence: satisfaction after the shortest and the longest waits."""
    known = bands.filter(pl.col("csat_rate").is_not_null())
    if known.height == 0:
        return "Aucune réponse rattachée à un appel décroché sur la période."
    first, last = known.row(0, named=True), known.row(known.height - 1, named=True)
    text = (f"Attente {first['wait_band']} : {fmt.fr_percent(first['csat_rate'])} "
            "d'usagers satisfaits")
    if known.height > 1:
        text += f" ; {last['wait_band']} : {fmt.fr_percent(last['csat_rate'])}"
    return text + "."


def knew_reading(knew: pl.DataFrame) -> str:
    """One sentence: the share who found the number easily, first band against the last."""
    if knew.height == 0:
        return "Aucune réponse sur la facilité à trouver le numéro après une ouverture."
    totals = (knew.group_by("weeks_after_opening", maintain_order=True)
              .agg(((pl.col("knew_rate") * pl.col("answers")).sum()
                    / pl.col("answers").sum()).alias("rate")))
    first, last = totals.row(0, named=True), totals.row(totals.height - 1, named=True)
    text = (f"Numéro trouvé facilement : {fmt.fr_percent(first['rate'])} des répondants "
            f"({first['weeks_after_opening']} après l'ouverture)")
    if totals.height > 1:
        text += f", {fmt.fr_percent(last['rate'])} ({last['weeks_after_opening']})"
    return text + "."


def survey_weeks_reading(weeks: pl.DataFrame) -> str:
    """One sentence: each site's lowest week of satisfaction."""
    rates = weeks.filter((pl.col("indicator") == "Usagers satisfaits")
                         & pl.col("value").is_not_null())
    if rates.height == 0:
        return "Aucune réponse à l'enquête sur la période."
    parts = []
    for site in sorted(rates.get_column("site_name").unique().to_list()):
        low = rates.filter(pl.col("site_name") == site).sort("value").row(0, named=True)
        parts.append(f"{site} au plus bas la semaine du {fmt.fr_date(low['week_start'])} "
                     f"({fmt.fr_percent(low['value'])} de satisfaits)")
    return " ; ".join(parts) + "."


def barometer_reading(long: pl.DataFrame, staff: pl.DataFrame, question: str) -> str:
    """One sentence: the groups rated lowest and highest on QUESTION (its label), and how
    many groups are hidden."""
    rated = long.filter(pl.col("question") == question).sort("mean")
    hidden = int(staff.get_column("hidden").sum()) if staff.height else 0
    tail = (f" {fmt.fr_number(hidden)} groupe{'s' if hidden > 1 else ''} de moins de 5 "
            f"réponses {'sont masqués' if hidden > 1 else 'est masqué'}." if hidden else "")
    if rated.height == 0:
        return f"{question} : aucun groupe d'au moins 5 réponses.{tail}"
    lo, hi = rated.row(0, named=True), rated.row(rated.height - 1, named=True)
    return (f"{question} : note la plus basse {fmt.fr_decimal(lo['mean'])} sur 5 "
            f"({lo['group']}, vague du {fmt.fr_date(lo['wave'])}), la plus haute "
            f"{fmt.fr_decimal(hi['mean'])} ({hi['group']}, vague du "
            f"{fmt.fr_date(hi['wave'])}).{tail}")


def relief_reading(relief: pl.DataFrame, department_names: Mapping[str, str]) -> str:
    """One sentence: the relief estimate of each pilot département."""
    known = relief.filter(pl.col("relief_rate").is_not_null())
    if known.height == 0:
        return ("Pas d'estimation : il faut au moins 4 semaines complètes avant et après "
                "l'ouverture et un département témoin.")
    parts = [f"{department_label(r['department'], department_names)} "
             f"{fmt.fr_percent(r['relief_rate'])} (de {fmt.fr_percent(r['ci_low'])} à "
             f"{fmt.fr_percent(r['ci_high'])})" for r in known.iter_rows(named=True)]
    return ("Baisse de l'accueil local imputable au centre, par département : "
            + " ; ".join(parts) + ".")


# --------------------------------------------------------------------------- charts


def load_outages_chart(daily: pl.DataFrame, incidents: pl.DataFrame) -> alt.TopLevelMixin:
    """Calls offered per day and site (lines), the tools' incidents as vertical rules
    (solid: outage, dashed: degraded), with their times in the tooltip.

    DAILY: daily_load; INCIDENTS: local_incidents."""
    lines = alt.Chart(daily.select("day", "site_name", "offered", "deflected")).mark_line(
        strokeWidth=1.2).encode(
        x=alt.X("day:T", title=None, axis=alt.Axis(format="%m/%Y")),
        y=alt.Y("offered:Q", title="Appels présentés par jour", axis=alt.Axis(format=",.0f")),
        color=alt.Color("site_name:N", title="Site", legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("day:T", title="Jour", format="%d/%m/%Y"),
                 alt.Tooltip("site_name:N", title="Site"),
                 alt.Tooltip("offered:Q", title="Appels présentés", format=",.0f"),
                 alt.Tooltip("deflected:Q", title="Appels dissuadés", format=",.0f")],
    )
    marks = incidents.select(
        pl.col("start_local").alias("start"),
        pl.col("start_local").dt.strftime("%d/%m/%Y %H:%M").alias("start_text"),
        pl.col("end_local").dt.strftime("%d/%m/%Y %H:%M").alias("end_text"),
        pl.col("component").replace_strict(COMPONENT_LABELS, default=pl.col("component"))
        .alias("tool"),
        pl.col("severity").replace_strict(SEVERITY_LABELS, default=pl.col("severity"))
        .alias("gravity"),
        pl.col("description").fill_null(""),
    )
    rules = alt.Chart(marks).mark_rule(color=RED_MARIANNE, strokeWidth=2).encode(
        x="start:T",
        strokeDash=alt.StrokeDash("gravity:N", title="Incident",
                                  scale=alt.Scale(domain=["Panne", "Dégradé"],
                                                  range=[[1, 0], [4, 3]]),
                                  legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("tool:N", title="Outil"),
                 alt.Tooltip("gravity:N", title="Gravité"),
                 alt.Tooltip("start_text:N", title="Début"),
                 alt.Tooltip("end_text:N", title="Fin"),
                 alt.Tooltip("description:N", title="Description")],
    )
    chart = alt.layer(lines, rules).properties(height=HEIGHT, width="container")
    return finish(chart, "Charge quotidienne et incidents des outils")


def survey_weeks_chart(weeks: pl.DataFrame) -> alt.TopLevelMixin:
    """Two panels by week, one line per site: the share of satisfied users and the share
    whose request was dealt with (their own words). WEEKS: survey_weeks."""
    base = alt.Chart(weeks).encode(
        x=alt.X("week_start:T", title=None, axis=alt.Axis(format="%m/%Y")),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("site_name:N", title="Site", legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("site_name:N", title="Site"),
                 alt.Tooltip("week:N", title="Semaine"),
                 alt.Tooltip("indicator:N", title="Indicateur"),
                 alt.Tooltip("value:Q", title="Valeur", format=".1%"),
                 alt.Tooltip("responses:Q", title="Réponses", format=",.0f")],
    ).mark_line(point=alt.OverlayMarkDef(size=18))
    panels = [base.transform_filter(alt.datum.indicator == label)
              .properties(title=label, height=HEIGHT_SMALL, width="container")
              for label in ("Usagers satisfaits", "Demande traitée (selon l'usager)")]
    return finish(alt.vconcat(*panels), "Satisfaction des usagers par semaine et par site")


def wait_band_chart(bands: pl.DataFrame) -> alt.TopLevelMixin:
    """Bars: the share of satisfied users per wait band of their answered call."""
    order = bands.get_column("wait_band").to_list()
    base = alt.Chart(bands.drop_nulls("csat_rate")).encode(
        x=alt.X("wait_band:N", title="Attente avant décroché", sort=order,
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("csat_rate:Q", title="Usagers satisfaits", axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("wait_band:N", title="Attente"),
                 alt.Tooltip("csat_rate:Q", title="Usagers satisfaits", format=".1%"),
                 alt.Tooltip("mean_satisfaction:Q", title="Satisfaction moyenne",
                             format=".2f"),
                 alt.Tooltip("survey_responses:Q", title="Réponses", format=",.0f")],
    )
    bars = base.mark_bar(color=PALETTE[0])
    labels = base.mark_text(dy=-6, fontSize=11).encode(text=alt.Text("csat_rate:Q",
                                                                     format=".1%"))
    # A single view is fitted whole (axes and legend included) into its height on the
    # page: HEIGHT, as the other pages' single charts.
    chart = alt.layer(bars, labels).properties(height=HEIGHT, width="container")
    return finish(chart, "Usagers satisfaits selon l'attente de leur appel")


def knew_chart(knew: pl.DataFrame, department_names: Mapping[str, str]) -> alt.TopLevelMixin:
    """Grouped bars: per band of weeks after opening, the share who found the number
    easily, one bar per département."""
    order = list(dict.fromkeys(knew.get_column("weeks_after_opening").to_list()))
    frame = knew.with_columns(
        pl.col("department").replace_strict(
            {d: department_label(d, department_names)
             for d in knew.get_column("department").unique().to_list()}).alias("label"))
    base = alt.Chart(frame).encode(
        x=alt.X("weeks_after_opening:N", title="Depuis l'ouverture du département",
                sort=order, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("label:N"),
        y=alt.Y("knew_rate:Q", title="Ont trouvé le numéro facilement",
                axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("label:N", title="Département", legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("label:N", title="Département"),
                 alt.Tooltip("weeks_after_opening:N", title="Depuis l'ouverture"),
                 alt.Tooltip("knew_rate:Q", title="Numéro trouvé facilement", format=".1%"),
                 alt.Tooltip("answers:Q", title="Réponses", format=",.0f")],
    )
    chart = base.mark_bar().properties(height=HEIGHT, width="container")
    return finish(chart, "Usagers ayant trouvé le numéro facilement, après chaque ouverture")


def barometer_chart(long: pl.DataFrame, question: str) -> alt.TopLevelMixin:
    """Dots: the mean answer (1 to 5) of every shown group on QUESTION (its label), one
    row per group, one colour per wave."""
    frame = long.filter(pl.col("question") == question).with_columns(
        pl.col("wave").dt.strftime("%d/%m/%Y").alias("wave_text"))
    waves = frame.sort("wave").get_column("wave_text").unique(maintain_order=True).to_list()
    base = alt.Chart(frame).encode(
        y=alt.Y("group:N", title=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X("mean:Q", title="Note moyenne (1 à 5)", scale=alt.Scale(domain=[1, 5])),
        # One scale domain (not `sort`) for both, so that Vega-Lite merges their legends.
        color=alt.Color("wave_text:N", title="Vague du", scale=alt.Scale(domain=waves),
                        legend=alt.Legend(orient="top")),
        shape=alt.Shape("wave_text:N", title="Vague du", scale=alt.Scale(domain=waves),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("group:N", title="Groupe"),
                 alt.Tooltip("wave_text:N", title="Vague du"),
                 alt.Tooltip("mean:Q", title="Note moyenne", format=".1f"),
                 alt.Tooltip("share:Q", title="Part de 4 ou 5", format=".0%"),
                 alt.Tooltip("respondents:Q", title="Répondants")],
    )
    chart = base.mark_point(size=80, filled=True).properties(height=alt.Step(22),
                                                              width="container")
    return finish(chart, f"Baromètre social : {question.lower()}, par groupe et par vague")


def relief_chart(long: pl.DataFrame, relief: pl.DataFrame) -> alt.TopLevelMixin:
    """One panel per pilot département: its local reception index and the controls'
    week by week (1 = the mean of the weeks before opening), a rule at its opening.

    LONG: relief_long; RELIEF: the estimates (`department`, `coverage_start`)."""
    panels = []
    for dept in long.get_column("department").unique(maintain_order=True).to_list():
        mine = long.filter(pl.col("department") == dept)
        label = mine.item(0, "label")
        lines = alt.Chart(mine.select("week", "series", "index", "label")).mark_line(
            strokeWidth=1.5).encode(
            x=alt.X("week:T", title=None, axis=alt.Axis(format="%m/%Y")),
            y=alt.Y("index:Q", title="Indice (1 : avant l'ouverture)",
                    axis=alt.Axis(format=".1f")),
            color=alt.Color("series:N", title=None,
                            scale=alt.Scale(domain=["Département pilote",
                                                    "Départements témoins"],
                                            range=[PALETTE[0], PALETTE[1]]),
                            legend=alt.Legend(orient="top")),
            strokeDash=alt.StrokeDash("series:N", title=None,
                                      scale=alt.Scale(domain=["Département pilote",
                                                              "Départements témoins"],
                                                      range=[[1, 0], [5, 3]])),
            tooltip=[alt.Tooltip("label:N", title="Département"),
                     alt.Tooltip("week:T", title="Semaine du", format="%d/%m/%Y"),
                     alt.Tooltip("series:N", title="Série"),
                     alt.Tooltip("index:Q", title="Indice", format=".2f")],
        )
        opening = relief.filter(pl.col("department") == dept).select(
            pl.col("coverage_start").alias("opening"))
        rule = alt.Chart(opening).mark_rule(color="#666666", strokeDash=[2, 2]).encode(
            x="opening:T",
            tooltip=[alt.Tooltip("opening:T", title="Ouverture", format="%d/%m/%Y")])
        panels.append(alt.layer(lines, rule).properties(
            title=label, height=HEIGHT_SMALL - 60, width="container"))
    chart = alt.vconcat(*panels) if panels else alt.Chart(long).mark_line()
    # Streamlit lets a vconcat of layers overflow the page ("pad"); its panels fit the
    # width as a plain vconcat's do.
    chart = chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    return finish(chart, "Accueil des services locaux : départements pilotes et témoins")
