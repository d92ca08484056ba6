"""The whole pilot review (spec/domain.md, spec/review-data.md): the four objectives with
their verdicts, the five questions with their figures, the relief of local services.

`gather` makes every read of a review (the KPI engine through a KpiFunction, so that the
app can pass its cache, and the review records through their scoped queries); `build`
is pure and turns them into a Review; `Review.as_json` is what `python -m dashboard
review --format json` prints, and the page and the HTML report show the same Review.

Objectives, each read from one figure against the targets of the reference data
(`[[objectives]]` of pilot.toml, table `objectives`): "atteint" at the target or above,
"partiellement atteint" at the partial target or above, "non atteint" below, "pas de
données" when the figure cannot be computed.
1. service — the answer rate over the period (accessibility of the new numbers);
2. efficiency — the telephony's availability inside opening hours, every site in scope
   (dedicated teams need tools that work);
3. acts — acts of management per 100 handled contacts;
4. relief — the relief of local services: the pilot départements' relief rates weighted
   by their weekly reception before opening (Σ relief_per_week / Σ pre_mean_per_week).

The relief reads local reception from its first record up to the period's end, whatever
the period's start: a pilot département's weeks before its opening are its baseline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import Connection, select

from dashboard.charts.review_records import OBJECTIVE_FIGURES
from dashboard.core import formatting as fmt
from dashboard.core.filters import Filters
from dashboard.engine.kpis import team_sites
from dashboard.metrics import barometer as m_barometer
from dashboard.metrics import relief as m_relief
from dashboard.metrics import tools as m_tools
from dashboard.store import schema
from queries import overview as q_overview
from queries import review_records as q_records
from queries import staffing as q_staffing
from queries import surveys as q_surveys

# (filters, by, metrics read or None for all) → compute_kpis' frame
KpiFunction = Callable[[Filters, tuple[str, ...], tuple[str, ...] | None], pl.DataFrame]

VERDICTS = ("atteint", "partiellement atteint", "non atteint", "pas de données")
OBJECTIVE_LABELS = {
    "service": "Améliorer le service rendu : accessibilité des nouveaux numéros",
    "efficiency": "Efficacité du contact à distance : des outils qui fonctionnent",
    "acts": "Davantage d'actes de gestion à distance",
    "relief": "Soulager progressivement les services locaux",
}
QUESTIONS = (
    ("tools", "Les outils fonctionnent-ils ?"),
    ("volumes", "Volumes de contacts et calibrage des équipes"),
    ("acts", "Périmètre des actes et promotion des services en ligne"),
    ("users", "Réaction des usagers"),
    ("staff", "Ressenti des personnels"),
)
TOTAL_METRICS = ("received", "answered", "answer_rate", "service_level", "emails_received",
                 "emails_replied", "reply_within_48h_rate", "acts", "acts_per_100_handled",
                 "online_promotion_rate", "repeat_contact_rate", "agents_logged_in",
                 "required_agents", "staffing_gap", "survey_responses", "csat_rate",
                 "mean_satisfaction", "perceived_resolution_rate", "survey_response_rate")
SURVEY_METRICS = ("survey_responses", "csat_rate", "mean_satisfaction",
                  "perceived_resolution_rate", "survey_response_rate")
# The engine's reads of a review: (field of ReviewInputs, grouping, metrics read).
ENGINE_READS = (
    ("total", (), TOTAL_METRICS),
    ("by_site", ("site",), TOTAL_METRICS),
    ("by_channel", ("channel",), SURVEY_METRICS),
    ("by_department", ("department",), SURVEY_METRICS),
    ("by_week", ("site", "week"), SURVEY_METRICS),
)
# Waits of answered calls, in seconds: [0, 20), [20, 60), [60, 120), [120, 300), [300, ∞).
WAIT_EDGES = (20, 60, 120, 300)
KNEW_WEEKS = (4, 8, 13, 26)  # "found the number easily", weeks after each opening


@dataclass(frozen=True)
class ReviewInputs:
    """Every frame a review is built from (the reads of `gather`)."""

    filters: Filters
    targets: pl.DataFrame  # objectives: key, target, partial_target
    coverage: pl.DataFrame  # every coverage period (queries.overview.coverage_periods)
    total: pl.DataFrame
    by_site: pl.DataFrame
    by_channel: pl.DataFrame
    by_department: pl.DataFrame
    by_week: pl.DataFrame  # survey figures by site and week
    reception: pl.DataFrame  # local reception per département and day, from its start
    incidents: pl.DataFrame
    hours: pl.DataFrame  # opening hours of the sites in scope
    training: pl.DataFrame
    first_sessions: pl.DataFrame
    staff: pl.DataFrame  # raw barometer answers (never shown as such)
    surveys: pl.DataFrame  # survey answers: date, département, knew_number…
    wait_bands: pl.DataFrame  # satisfaction by wait band (queries.surveys.wait_band_counts)


def _targets(conn: Connection) -> pl.DataFrame:
    rows = conn.execute(select(schema.objectives.c.key, schema.objectives.c.target,
                               schema.objectives.c.partial_target)).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "key": pl.String, "target": pl.Float64, "partial_target": pl.Float64})


def gather(conn: Connection, kpis: KpiFunction, filters: Filters) -> ReviewInputs:
    """Every read of the review of FILTERS: KPIS for the engine's figures, CONN for the
    review records (each query applies the scope of FILTERS)."""
    since_records = Filters(dt.date(1900, 1, 1), filters.end, sites=filters.sites,
                            departments=filters.departments, scope=filters.scope)
    return ReviewInputs(
        filters=filters,
        targets=_targets(conn),
        coverage=q_overview.coverage_periods(conn),
        **{name: kpis(filters, by, metrics) for name, by, metrics in ENGINE_READS},
        reception=q_records.local_reception_daily(conn, since_records),
        incidents=q_records.incident_rows(conn, filters),
        hours=team_sites(q_staffing.site_hours(conn), filters),
        training=q_records.training_rows(conn, filters),
        first_sessions=q_records.agent_first_sessions(conn, filters),
        staff=q_records.staff_survey_rows(conn, filters),
        surveys=q_records.survey_rows(conn, filters),
        wait_bands=q_surveys.wait_band_counts(conn, filters, WAIT_EDGES),
    )


# ------------------------------------------------------------------------ the review


@dataclass(frozen=True)
class Objective:
    """One objective: its figure against its targets, and the sentence that says why."""

    key: str
    label: str
    verdict: str
    value: float | None
    target: float | None
    partial_target: float | None
    sentence: str


@dataclass(frozen=True)
class Question:
    """One question of the review: a one-sentence answer and its tables."""

    key: str
    title: str
    answer: str
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class Review:
    """The whole review of a period and perimeter."""

    start: dt.date
    end: dt.date
    objectives: tuple[Objective, ...]
    questions: tuple[Question, ...]
    relief: pl.DataFrame  # one row per pilot département (metrics.relief.RELIEF_SCHEMA)
    relief_weeks: pl.DataFrame  # the indices per week, for the chart

    def question(self, key: str) -> Question:
        """The question KEY."""
        return next(q for q in self.questions if q.key == key)

    def as_json(self) -> dict:
        """The review's figures as JSON-ready values (dates ISO, nulls None)."""
        return {
            "from": self.start.isoformat(), "to": self.end.isoformat(),
            "objectives": [{"key": o.key, "label": o.label, "verdict": o.verdict,
                            "target": o.target, "partial_target": o.partial_target,
                            "value": o.value, "sentence": o.sentence}
                           for o in self.objectives],
            "questions": [{"key": q.key, "title": q.title, "answer": q.answer}
                          for q in self.questions],
            "relief": _records(self.relief),
            "tools": {name: _records(t) for name, t in self.question("tools").tables.items()},
            "surveys": {name: _records(t) for name, t in self.question("users").tables.items()},
            "staff": _records(self.question("staff").tables["barometer"]),
        }


def _records(frame: pl.DataFrame) -> list[dict]:
    def plain(value):
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        if isinstance(value, float) and value != value:  # NaN
            return None
        return value
    return [{k: plain(v) if not isinstance(v, list) else [plain(x) for x in v]
             for k, v in row.items()} for row in frame.to_dicts()]


def verdict(value: float | None, target: float | None, partial: float | None) -> str:
    """The verdict of VALUE against TARGET and PARTIAL (VERDICTS)."""
    if value is None or target is None:
        return "pas de données"
    if value >= target:
        return "atteint"
    if partial is not None and value >= partial:
        return "partiellement atteint"
    return "non atteint"


def _one(frame: pl.DataFrame, column: str):
    return frame.get_column(column)[0] if frame.height and column in frame.columns else None


def relief_overall(relief: pl.DataFrame) -> float | None:
    """The pilot départements' relief rates weighted by their reception before opening."""
    known = relief.filter(pl.col("relief_rate").is_not_null())
    if known.height == 0 or not known["pre_mean_per_week"].sum():
        return None
    return float(known["relief_per_week"].sum() / known["pre_mean_per_week"].sum())


def _shown(kind: str, value) -> str:
    if value is None:
        return fmt.MISSING
    if kind == "rate":
        return fmt.fr_percent(value)
    return fmt.fr_decimal(value)


_NO_DATA = {
    "service": "aucun appel sur la période",
    "efficiency": "aucun horaire d'ouverture ni incident connu pour les sites du périmètre",
    "acts": "aucun contact traité sur la période",
    "relief": "pas assez de semaines d'accueil local avant et après l'ouverture, ou aucun "
              "département témoin",
}


def _objective(key: str, value: float | None, targets: pl.DataFrame) -> Objective:
    row = targets.filter(pl.col("key") == key)
    target = _one(row, "target")
    partial = _one(row, "partial_target")
    said = verdict(value, target, partial)
    kind, _label, what = OBJECTIVE_FIGURES[key]
    if value is None:
        sentence = f"Pas de données : {_NO_DATA[key]}."
    elif target is None:
        sentence = (f"{what.capitalize()} : {_shown(kind, value)} ; aucune cible n'est "
                    "fixée dans les données de référence.")
        said = "pas de données"
    else:
        sentence = (f"{what.capitalize()} : {_shown(kind, value)}, pour une cible de "
                    f"{_shown(kind, target)} (seuil partiel {_shown(kind, partial)}).")
    return Objective(key, OBJECTIVE_LABELS[key], said, value, target, partial, sentence)


def knew_number_after_opening(surveys: pl.DataFrame, coverage: pl.DataFrame) -> pl.DataFrame:
    """Per département: the share of answers saying the number was easy to find, in the
    first weeks after the département's first coverage start (KNEW_WEEKS bands)."""
    starts = coverage.group_by("department").agg(pl.col("start_date").min().alias("opened"))
    given = surveys.filter(pl.col("knew_number").is_not_null()).join(
        starts, on="department", how="inner")
    weeks = ((pl.col("local_date") - pl.col("opened")).dt.total_days() // 7)
    labels = [f"semaines 1 à {KNEW_WEEKS[0]}"] + [
        f"semaines {a + 1} à {b}" for a, b in zip(KNEW_WEEKS, KNEW_WEEKS[1:])] + [
        f"après {KNEW_WEEKS[-1]} semaines"]
    band = pl.lit(labels[-1])
    for edge, label in reversed(list(zip(KNEW_WEEKS, labels))):
        band = pl.when(weeks < edge).then(pl.lit(label)).otherwise(band)
    out = (given.filter(weeks >= 0).with_columns(band.alias("weeks_after_opening"),
                                                 weeks.alias("_w"))
           .group_by("department", "weeks_after_opening")
           .agg(pl.len().alias("answers"), pl.col("knew_number").mean().alias("knew_rate"),
                pl.col("_w").min().alias("_order"))
           .sort("department", "_order").drop("_order"))
    return out.with_columns(pl.col("answers").cast(pl.Int64))


def wait_band_label(lower: int, upper: int | None) -> str:
    """'de 20 s à 1 min' — the French label of the wait band [LOWER, UPPER)."""
    def say(seconds: int) -> str:
        return f"{seconds // 60} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds} s"
    if upper is None:
        return f"{say(lower)} et plus"
    return f"moins de {say(upper)}" if lower == 0 else f"de {say(lower)} à {say(upper)}"


def build(inputs: ReviewInputs) -> Review:
    """The Review of INPUTS (pure)."""
    f = inputs.filters
    total = inputs.total
    reception_start = (inputs.reception["day"].min() if inputs.reception.height else f.start)
    relief = m_relief.relief(inputs.reception, inputs.coverage, reception_start, f.end)
    covered = _departments_covered(inputs.coverage, f)
    relief = relief.filter(pl.col("department").is_in(covered)).sort("department")
    names = dict(zip(inputs.coverage["department"], inputs.coverage["department_name"]))
    relief = relief.with_columns(
        pl.col("department").replace_strict(names, default=None).alias("department_name"))
    weeks = m_relief.relief_weeks(inputs.reception, inputs.coverage, reception_start, f.end)
    weeks = weeks.filter(pl.col("department").is_in(covered))

    availability = _availability(inputs.incidents, inputs.hours, inputs.coverage, f)
    overall = _overall(availability)
    phone = overall.filter(pl.col("component") == "telephonie")
    trained = m_tools.trained_before_start(inputs.first_sessions, inputs.training)
    trained_all = m_tools.trained_before_start(inputs.first_sessions, inputs.training,
                                               by_site=False)
    staff = m_barometer.barometer(inputs.staff, schema.STAFF_QUESTIONS)

    objectives = (
        _objective("service", _one(total, "answer_rate"), inputs.targets),
        _objective("efficiency", _one(phone, "tool_availability"), inputs.targets),
        _objective("acts", _one(total, "acts_per_100_handled"), inputs.targets),
        _objective("relief", relief_overall(relief), inputs.targets),
    )
    incidents = inputs.incidents.select(
        "incident_id", "component", "site", "start_at", "end_at", "severity", "description")
    wait_bands = _wait_bands(inputs.wait_bands)
    knew = knew_number_after_opening(inputs.surveys, inputs.coverage)
    survey_tables = {
        "by_site": inputs.by_site.select("site", *SURVEY_METRICS),
        "by_channel": inputs.by_channel.select("channel", *SURVEY_METRICS),
        "by_department": inputs.by_department.select("department", *SURVEY_METRICS),
        "by_week": inputs.by_week.select("site", "week", *SURVEY_METRICS),
        "by_wait_band": wait_bands,
        "knew_number": knew,
    }
    questions = (
        Question("tools", QUESTIONS[0][1], _tools_answer(phone, overall, incidents,
                                                         trained_all, inputs.training.height > 0),
                 {"availability": availability, "incidents": incidents, "training": trained}),
        Question("volumes", QUESTIONS[1][1], _volumes_answer(total),
                 {"by_site": inputs.by_site.select(
                     "site", "received", "answer_rate", "service_level", "emails_received",
                     "reply_within_48h_rate", "agents_logged_in", "required_agents",
                     "staffing_gap")}),
        Question("acts", QUESTIONS[2][1], _acts_answer(total),
                 {"by_site": inputs.by_site.select(
                     "site", "acts", "acts_per_100_handled", "online_promotion_rate")}),
        Question("users", QUESTIONS[3][1], _users_answer(total, wait_bands, knew),
                 survey_tables),
        Question("staff", QUESTIONS[4][1], _staff_answer(staff), {"barometer": staff}),
    )
    return Review(f.start, f.end, objectives, questions, relief, weeks)


def whole_pilot(coverage: pl.DataFrame, last_day: dt.date | None, sites: tuple[str, ...],
                scope) -> tuple[dt.date, dt.date] | None:
    """The review's default period: the first coverage start of the perimeter (SITES
    within SCOPE) to LAST_DAY (the last day with data); None when either is unknown."""
    probe = Filters(last_day or dt.date.min, last_day or dt.date.min, sites=sites,
                    scope=scope)
    starts = _perimeter(coverage, probe).get_column("start_date")
    if last_day is None or starts.len() == 0:
        return None
    first = starts.min()
    return (min(first, last_day), last_day)


def _availability(incidents: pl.DataFrame, hours: pl.DataFrame, coverage: pl.DataFrame,
                  filters: Filters) -> pl.DataFrame:
    """Tool availability per site and component, each site counted from its opening (its
    first coverage start) on: before it, a site had no opening hours to lose."""
    opened = dict(coverage.group_by("site").agg(pl.col("start_date").min()).iter_rows())
    parts = []
    for site in hours.get_column("site").to_list():
        start = max(filters.start, opened.get(site, filters.start))
        if start <= filters.end:
            parts.append(m_tools.tool_availability(
                incidents, hours.filter(pl.col("site") == site), start, filters.end,
                schema.INCIDENT_COMPONENTS))
    if not parts:
        return m_tools.tool_availability(incidents, hours.clear(), filters.start,
                                         filters.end, schema.INCIDENT_COMPONENTS)
    return pl.concat(parts).sort("site", "component")


def _overall(availability: pl.DataFrame) -> pl.DataFrame:
    """Per component over every site: minutes summed, availability recomputed."""
    return (availability.group_by("component")
            .agg(pl.col("opening_minutes", "outage_minutes", "degraded_minutes").sum())
            .with_columns(pl.when(pl.col("opening_minutes") > 0)
                          .then(1 - pl.col("outage_minutes") / pl.col("opening_minutes"))
                          .alias("tool_availability"))
            .sort("component"))


def _departments_covered(coverage: pl.DataFrame, filters: Filters) -> list[str]:
    """The pilot départements of the perimeter (sites asked and scope)."""
    return _perimeter(coverage, filters).get_column("department").unique().to_list()


def _perimeter(coverage: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    cov = coverage
    if filters.sites:
        cov = cov.filter(pl.col("site").is_in(list(filters.sites)))
    scope = filters.scope
    if scope is not None and not scope.sees_all_sites:
        cov = cov.filter(pl.col("site") == scope.site)
    if filters.departments:
        cov = cov.filter(pl.col("department").is_in(list(filters.departments)))
    return cov


def _wait_bands(counts: pl.DataFrame) -> pl.DataFrame:
    """Satisfaction per wait band of answered calls, bands in order, French labels."""
    bounds = [0, *WAIT_EDGES]
    labels = [wait_band_label(lo, hi) for lo, hi in zip(bounds, [*WAIT_EDGES, None])]
    rows = {r["band"]: r for r in counts.iter_rows(named=True)}
    out = []
    for index, label in enumerate(labels):
        r = rows.get(index)
        n = r["n"] if r else 0
        out.append((label, n, r["satisfied"] / n if n else None,
                    r["score_sum"] / n if n else None))
    return pl.DataFrame(out, orient="row", schema={
        "wait_band": pl.String, "survey_responses": pl.Int64, "csat_rate": pl.Float64,
        "mean_satisfaction": pl.Float64})


def _tools_answer(phone, overall, incidents, trained_all, trained_any: bool) -> str:
    parts = []
    value = _one(phone, "tool_availability")
    if value is not None:
        parts.append(f"téléphonie disponible {fmt.fr_percent(value)} des heures d'ouverture")
    apps = _one(overall.filter(pl.col("component") == "applications"), "tool_availability")
    if apps is not None:
        parts.append(f"applications métier {fmt.fr_percent(apps)}")
    outages = incidents.filter(pl.col("severity") == "panne").height
    if incidents.height:
        parts.append(f"{fmt.fr_number(incidents.height)} incident"
                     f"{'s' if incidents.height > 1 else ''} dont {fmt.fr_number(outages)} "
                     f"panne{'s' if outages > 1 else ''}")
    else:
        parts.append("aucun incident signalé")
    rate = _one(trained_all, "trained_before_start")
    if rate is not None and trained_any:
        parts.append(f"{fmt.fr_percent(rate)} des agents formés avant leur prise de poste")
    return _sentence(parts)


def _volumes_answer(total: pl.DataFrame) -> str:
    if not total.height or not (_one(total, "received") or _one(total, "emails_received")):
        return "Aucun contact sur la période."
    parts = [f"{fmt.fr_number(_one(total, 'received'))} appels et "
             f"{fmt.fr_number(_one(total, 'emails_received'))} courriels reçus",
             f"taux de décroché {fmt.fr_percent(_one(total, 'answer_rate'))}"]
    gap = _one(total, "staffing_gap")
    if gap is not None:
        side = "au-dessus" if gap >= 0 else "en dessous"
        parts.append(f"en moyenne {fmt.fr_decimal(abs(gap))} agent{'s' if abs(gap) >= 2 else ''}"
                     f" connecté{'s' if abs(gap) >= 2 else ''} {side} de l'effectif requis")
    return _sentence(parts)


def _acts_answer(total: pl.DataFrame) -> str:
    acts = _one(total, "acts")
    if not acts:
        return "Aucun acte de gestion sur la période."
    return _sentence([
        f"{fmt.fr_number(acts)} actes de gestion, soit "
        f"{fmt.fr_decimal(_one(total, 'acts_per_100_handled'))} pour 100 contacts traités",
        f"services en ligne promus lors de {fmt.fr_percent(_one(total, 'online_promotion_rate'))}"
        " des contacts traités"])


def _users_answer(total: pl.DataFrame, bands: pl.DataFrame, knew: pl.DataFrame) -> str:
    n = _one(total, "survey_responses")
    if not n:
        return "Aucune réponse à l'enquête de satisfaction sur la période."
    parts = [f"{fmt.fr_number(n)} réponses, {fmt.fr_percent(_one(total, 'csat_rate'))} "
             "d'usagers satisfaits",
             f"demande traitée selon {fmt.fr_percent(_one(total, 'perceived_resolution_rate'))}"
             " des répondants"]
    known = bands.filter(pl.col("csat_rate").is_not_null())
    if known.height >= 2:
        first, last = known.row(0, named=True), known.row(known.height - 1, named=True)
        parts.append(f"{fmt.fr_percent(first['csat_rate'])} de satisfaits quand l'attente "
                     f"est de {first['wait_band']}, {fmt.fr_percent(last['csat_rate'])} "
                     f"quand elle est de {last['wait_band']}")
    early = knew.filter(pl.col("weeks_after_opening") == f"semaines 1 à {KNEW_WEEKS[0]}")
    if early.height and early["answers"].sum():
        share = float((early["knew_rate"] * early["answers"]).sum() / early["answers"].sum())
        parts.append(f"{fmt.fr_percent(share)} ont trouvé le numéro facilement dans les "
                     f"{KNEW_WEEKS[0]} premières semaines après l'ouverture")
    return _sentence(parts)


def _staff_answer(staff: pl.DataFrame) -> str:
    if staff.height == 0:
        return "Aucune vague du baromètre social sur la période."
    shown = staff.filter(~pl.col("hidden"))
    waves = staff.get_column("wave").unique().len()
    parts = [f"{fmt.fr_number(waves)} vague{'s' if waves > 1 else ''} du baromètre, "
             f"{fmt.fr_number(shown.height)} groupe{'s' if shown.height > 1 else ''} "
             "présenté" + ("s" if shown.height > 1 else "")]
    hidden = staff.height - shown.height
    if hidden:
        parts.append(f"{fmt.fr_number(hidden)} masqué{'s' if hidden > 1 else ''} "
                     "(moins de 5 réponses)")
    return _sentence(parts)


def _sentence(parts: list[str]) -> str:
    text = " ; ".join(p for p in parts if p)
    return text[:1].upper() + text[1:] + "." if text else ""


def objective_summary(review: Review) -> Mapping[str, str]:
    """Objective key → its verdict (for a one-line summary)."""
    return {o.key: o.verdict for o in review.objectives}
