"""The review report: one self-contained HTML file, organised as the review.

`collect` asks a KPI function (the engine, or the app's cache of it) for the frames the
report draws beside the Review (dashboard.review.assessment: objectives, questions,
relief), which the caller builds once and hands over, so that the page, the report and
`python -m dashboard review` show the same numbers. `render_html` turns them into a page
that opens anywhere, offline: charts are rendered to inline SVG by vl-convert (Vega
bundled in the package, no network), each with its one-sentence reading and its data as a
table, in French; no script, no link, no remote resource.

The plan: a one-page summary (the four objectives with their verdicts, the five
questions' answers), a table of contents, then one section per question of the review
(spec/domain.md) — tools; volumes and team calibration (with service quality); acts and
online promotion; users' reaction; staff's experience — and the relief of local services
(objective 4). Staff barometer groups under five answers read formatting.SMALL_GROUP.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import altair as alt
import polars as pl
from sqlalchemy import Connection

from dashboard.charts import review as review_charts
from dashboard.charts import review_records as records
from dashboard.charts import specs as chart_specs
from dashboard.charts import staffing as staffing_charts
from dashboard.charts import tables
from dashboard.core import formatting as fmt
from dashboard.core.access import ALL_ROWS, Scope
from dashboard.core.filters import Filters
from dashboard.engine import page_reads
from dashboard.metrics.definitions import METRICS_BY_KEY
from dashboard.review import assessment
from dashboard.review import figures as review
from dashboard.store.schema import STAFF_QUESTIONS
from queries import staffing as q_staffing

# (filters, by, metrics read or None for all) → compute_kpis' frame
KpiFunction = Callable[[Filters, tuple[str, ...], tuple[str, ...] | None], pl.DataFrame]
SVG_WIDTH = 760  # charts drawn "as wide as the container" get this width in the report
RAMP_WEEKS = 26

HEADLINE = ("received", "answer_rate", "service_level", "emails_received",
            "reply_within_48h_rate", "acts_per_100_handled", "online_promotion_rate",
            "repeat_contact_rate")
VOLUME_METRICS = ("received", "offered", "answered", "emails_received", "emails_replied",
                  "acts")
TEAM_METRICS = ("agent_hours", "agents_logged_in", "required_agents", "staffing_gap",
                "occupancy")
QUALITY_METRICS = ("answer_rate", "service_level", "asa_seconds", "abandon_rate",
                   "aht_seconds", "reply_within_48h_rate", "reply_within_5wd_rate",
                   "median_reply_hours", "backlog")
ACTS_METRICS = ("acts", "acts_per_100_handled", "online_promotion_rate")
USERS_METRICS = ("answered", "emails_replied", "repeat_contact_rate")
# The load curve under the tools' incidents: calls offered and deflected per day and site.
DAILY_LOAD = ("offered", "deflected")

# The plan shared by the Bilan page and the report: anchors and titles of the sections.
SUMMARY_ID, SUMMARY_TITLE = "synthese", "Synthèse"
OBJECTIVES_TITLE = "Les quatre objectifs"
QUESTION_IDS = {"tools": "outils", "volumes": "volumes", "acts": "actes",
                "users": "usagers", "staff": "personnels"}
RELIEF_ID, RELIEF_TITLE = "soulagement", "Soulagement des services locaux (objectif 4)"
# The barometer questions drawn in the report (the page lets the reader pick any).
REPORT_BAROMETER = ("workload", "overall")
REPEAT_CONTACTS = ("Le taux de rappel sous 7 jours approche la résolution au premier "
                   "contact : part des contacts traités dont l'usager recontacte le "
                   "centre (tout canal) dans les 7 jours.")


def question_heading(review_obj: assessment.Review, key: str) -> str:
    """"1. Les outils fonctionnent-ils ?" — a question's title with its number."""
    keys = [q.key for q in review_obj.questions]
    return f"{keys.index(key) + 1}. {review_obj.question(key).title}"


def plan(review_obj: assessment.Review) -> list[tuple[str, str]]:
    """The report's sections in order, (anchor, title), for its table of contents."""
    return ([(SUMMARY_ID, SUMMARY_TITLE)]
            + [(QUESTION_IDS[q.key], question_heading(review_obj, q.key))
               for q in review_obj.questions]
            + [(RELIEF_ID, RELIEF_TITLE)])


@dataclass(frozen=True)
class ReviewData:
    """Everything the report shows, as engine frames (plus reference data)."""

    filters: Filters
    perimeter: str  # "Tous les sites", "Rouen"…
    span_start: dt.date  # first coverage start in the perimeter: where ramp-up begins
    total: pl.DataFrame
    by_site: pl.DataFrame
    by_department: pl.DataFrame
    weekly: pl.DataFrame  # by (week, department), span_start .. end
    by_campaign: pl.DataFrame  # by (campaign, department), span_start .. end
    slots: pl.DataFrame  # by slot over the period (team measures)
    coverage: pl.DataFrame
    campaigns: pl.DataFrame
    review: assessment.Review  # the one Review the page and the JSON show too
    daily: pl.DataFrame  # by (day, site): DAILY_LOAD, the load curve under the incidents
    timezones: Mapping[str, str]  # site → time zone (incidents shown in local time)

    @property
    def site_names(self) -> dict[str, str]:
        """Site code → name."""
        return dict(zip(self.coverage["site"], self.coverage["site_name"]))

    @property
    def department_names(self) -> dict[str, str]:
        """Département code → name."""
        return dict(zip(self.coverage["department"], self.coverage["department_name"]))

    @property
    def department_labels(self) -> dict[str, str]:
        """Département code → "60 Oise"."""
        return {code: f"{code} {name}" for code, name in self.department_names.items()}


def perimeter_coverage(coverage: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """The coverage periods inside the filters' sites, départements and scope."""
    out = coverage
    if filters.sites:
        out = out.filter(pl.col("site").is_in(list(filters.sites)))
    if filters.departments:
        out = out.filter(pl.col("department").is_in(list(filters.departments)))
    scope = filters.scope
    if scope is not None and not scope.sees_all_sites and scope.site:
        out = out.filter(pl.col("site") == scope.site)
    return out


def span_filters(filters: Filters, coverage: pl.DataFrame) -> Filters:
    """FILTERS stretched back to the first coverage start of their perimeter (ramp-up and
    campaigns are read since opening), ending at the same day."""
    starts = perimeter_coverage(coverage, filters).get_column("start_date")
    first = starts.min() if starts.len() else None
    start = min(first, filters.end) if first is not None else filters.start
    return Filters(start=start, end=filters.end, sites=filters.sites,
                   departments=filters.departments, channels=filters.channels,
                   queues=filters.queues, agents=filters.agents, scope=filters.scope)


def read_report(conn: Connection, kpis: KpiFunction, filters: Filters,
                coverage: pl.DataFrame, campaigns: pl.DataFrame
                ) -> tuple[ReviewData, assessment.Review]:
    """Everything the report of FILTERS shows, read on CONN and through KPIS: its frames
    and the Review (one road for `python -m dashboard report` and the weekly e-mail).
    COVERAGE and CAMPAIGNS: queries.overview.coverage_periods, reference.campaign_rows."""
    review_obj = assessment.build(assessment.gather(conn, kpis, filters))
    hours = q_staffing.site_hours(conn)
    names = dict(zip(coverage["site"], coverage["site_name"]))
    data = collect(kpis, filters, coverage, campaigns, perimeter_label(filters, names),
                   review_obj, dict(zip(hours["site"], hours["timezone"])))
    return data, review_obj


def collect(kpis: KpiFunction, filters: Filters, coverage: pl.DataFrame,
            campaigns: pl.DataFrame, perimeter: str, review_obj: assessment.Review,
            timezones: Mapping[str, str]) -> ReviewData:
    """The frames of the report for FILTERS, asked of KPIS(filters, by, metrics), beside
    REVIEW_OBJ (assessment.build for the same filters)."""
    span = span_filters(filters, coverage)
    return ReviewData(
        filters=filters,
        perimeter=perimeter,
        span_start=span.start,
        total=kpis(filters, (), None),
        by_site=kpis(filters, ("site",), None),
        by_department=kpis(filters, ("department",), None),
        weekly=kpis(span, ("week", "department"), page_reads.REVIEW_WEEKS),
        by_campaign=kpis(span, ("campaign", "department"), page_reads.REVIEW_WEEKS),
        slots=kpis(filters, ("slot",), None),
        coverage=perimeter_coverage(coverage, filters),
        campaigns=campaigns,
        review=review_obj,
        daily=kpis(filters, ("day", "site"), DAILY_LOAD),
        timezones=dict(timezones),
    )


# ----------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:Marianne,Arial,Helvetica,sans-serif;color:#161616;max-width:60rem;
margin:2rem auto;padding:0 1rem;line-height:1.45}
h1{color:#000091;font-size:1.8rem;margin-bottom:.2rem}
h2{color:#000091;border-bottom:2px solid #000091;padding-bottom:.2rem;margin-top:2.5rem}
h3{margin-top:1.8rem}
.meta{color:#555}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:.6rem;margin:1rem 0}
.tile{border:1px solid #ddd;border-radius:.4rem;padding:.5rem .7rem}
.tile .v{font-size:1.35rem;font-weight:bold}
.tile .l{font-size:.85rem;color:#555}
figure{margin:1rem 0;page-break-inside:avoid}
figure svg{max-width:100%;height:auto}
figcaption,.reading{font-style:italic;color:#333;margin:.4rem 0}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1rem;width:100%}
th,td{border:1px solid #ccc;padding:.25rem .45rem;text-align:left;vertical-align:top}
th.n,td.n{text-align:right}
th{background:#f0f0f8}
details summary{cursor:pointer;color:#000091}
.summary{page-break-after:always}
.verdict{display:inline-block;font-weight:bold;border:2px solid currentColor;
border-radius:.3rem;padding:0 .35rem;white-space:nowrap}
.answer{border-left:4px solid #000091;padding:.2rem .7rem;margin:.6rem 0;background:#f6f6f6}
nav.toc ul{margin:.3rem 0 0;list-style:none;padding-left:1rem}
nav.toc a{color:#000091}
.method{font-size:.9rem;color:#333}
@media print{details{display:none}}
"""


def _fixed_width(spec, width: int = SVG_WIDTH):
    """A chart spec with every width "container" replaced by WIDTH (no container in SVG)."""
    if isinstance(spec, dict):
        return {k: (width if k == "width" and v == "container" else _fixed_width(v, width))
                for k, v in spec.items()}
    if isinstance(spec, list):
        return [_fixed_width(v, width) for v in spec]
    return spec


def chart_svg(chart: alt.TopLevelMixin) -> str:
    """An Altair chart as inline SVG markup (rendered by vl-convert, offline)."""
    import vl_convert

    # Under the lock of chart_specs.to_spec, which switches Altair's global settings.
    with chart_specs.ALTAIR_LOCK:
        spec = chart.to_dict()
    svg = vl_convert.vegalite_to_svg(_fixed_width(spec))
    # Drop the XML prolog if any: the SVG is embedded in HTML.
    start = svg.find("<svg")
    return svg[start:] if start > 0 else svg


_UNITS = re.compile(r"\b(?:h|min|s|de|à)\b")
_LETTER = re.compile(r"[^\W\d_]")


def _is_figure(text: str) -> bool:
    """Whether a cell shows a figure: digits and units only ("87,3 %", "2 h 05 min",
    "de 19,7 % à 29,9 %", "24/11/2014 11:05"), "—" or formatting.SMALL_GROUP."""
    if text in (fmt.MISSING, fmt.SMALL_GROUP):
        return True
    rest = _UNITS.sub("", text)
    return any(c.isdigit() for c in rest) and not _LETTER.search(rest)


def table_html(frame: pl.DataFrame, caption: str | None = None) -> str:
    """A text frame (tables.display_table) as an HTML table; columns of figures (every
    cell a number, "—" or formatting.SMALL_GROUP) aligned right."""
    figures = [frame.height > 0 and all(v is None or _is_figure(str(v))
                                        for v in frame.get_column(c))
               for c in frame.columns]
    cls = [" class='n'" if f else "" for f in figures]
    head = "".join(f"<th scope='col'{k}>{html.escape(c)}</th>"
                   for c, k in zip(frame.columns, cls))
    body = "".join(
        "<tr>" + "".join(f"<td{k}>{html.escape(str(v if v is not None else fmt.MISSING))}</td>"
                         for v, k in zip(row, cls)) + "</tr>"
        for row in frame.iter_rows()
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(chart: alt.TopLevelMixin, reading: str, data: pl.DataFrame) -> str:
    return (
        f"<figure>{chart_svg(chart)}<figcaption>{html.escape(reading)}</figcaption>"
        f"<details><summary>Données du graphique</summary>{table_html(data)}</details>"
        f"</figure>"
    )


def _para(text: str) -> str:
    return f"<p class='reading'>{html.escape(text)}</p>"


class _Sections:
    """Renders the report's parts from a ReviewData."""

    def __init__(self, data: ReviewData, scope: Scope) -> None:
        self.d = data
        self.r = data.review
        self.scope = scope

    def table(self, frame: pl.DataFrame, by: Sequence[str], metrics: Sequence[str]) -> str:
        shown = tables.display_table(
            frame, by, metrics, scope=self.scope, site_names=self.d.site_names,
            department_names=self.d.department_names,
        )
        return table_html(shown)

    def side_by_side(self, metrics: Sequence[str]) -> str:
        return (
            "<h4>Par site</h4>" + self.table(self.d.by_site, ("site",), metrics)
            + "<h4>Par département</h4>"
            + self.table(self.d.by_department, ("department",), metrics)
        )

    def headline(self) -> str:
        row = self.d.total.row(0, named=True) if self.d.total.height else {}
        tiles = "".join(
            f"<div class='tile'><div class='v'>"
            f"{html.escape(fmt.format_value(row.get(k), METRICS_BY_KEY[k].unit))}</div>"
            f"<div class='l'>{html.escape(METRICS_BY_KEY[k].label)}</div></div>"
            for k in HEADLINE
        )
        return f"<div class='tiles'>{tiles}</div>"

    def heading(self, anchor: str, title: str) -> str:
        return f"<h2 id='{anchor}'>{html.escape(title)}</h2>"

    def question(self, key: str) -> str:
        """The question's heading and its answer sentence."""
        q = self.r.question(key)
        return (self.heading(QUESTION_IDS[key], question_heading(self.r, key))
                + f"<p class='answer'><strong>Réponse : </strong>{html.escape(q.answer)}</p>")

    def summary(self) -> str:
        rows = []
        for index, o in enumerate(self.r.objectives, 1):
            rows.append(
                "<tr>"
                f"<td>{index}. {html.escape(o.label)}</td>"
                f"<td>{verdict_html(o.verdict)}</td>"
                f"<td>{html.escape(records.objective_value(o.key, o.value))}</td>"
                f"<td>{html.escape(records.objective_target(o.key, o.target, o.partial_target))}"
                "</td>"
                f"<td>{html.escape(o.sentence)}</td></tr>")
        head = "".join(f"<th scope='col'>{h}</th>" for h in
                       ("Objectif", "Verdict", "Valeur", "Cible", "Pourquoi"))
        answers = "".join(
            f"<li><a href='#{QUESTION_IDS[q.key]}'><strong>{html.escape(q.title)}</strong></a>"
            f" — {html.escape(q.answer)}</li>" for q in self.r.questions)
        return (
            f"<section class='summary'>{self.heading(SUMMARY_ID, SUMMARY_TITLE)}"
            f"<h3>{OBJECTIVES_TITLE}</h3>"
            f"<table class='objectives'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f"<h3>Les cinq questions du bilan</h3><ol>{answers}</ol></section>"
        )

    def contents(self) -> str:
        items = "".join(f"<li><a href='#{anchor}'>{html.escape(title)}</a></li>"
                        for anchor, title in plan(self.r))
        return (f"<nav class='toc' aria-label='Sommaire'><strong>Sommaire</strong>"
                f"<ul>{items}</ul></nav>")

    def tools(self) -> str:
        d, t = self.d, self.r.question("tools").tables
        parts = [self.question("tools"), "<h3>Disponibilité des outils aux heures d'ouverture</h3>",
                 table_html(records.availability_table(t["availability"], d.site_names).table)]
        incidents = records.local_incidents(t["incidents"], d.timezones)
        daily = records.daily_load(d.daily, d.site_names)
        parts.append("<h3>Incidents sur la courbe de charge</h3>")
        if daily.height:
            parts.append(_figure(records.load_outages_chart(daily, incidents),
                                 records.load_reading(daily, incidents),
                                 records.daily_load_table(daily).table))
        if incidents.height:
            parts.append(table_html(records.incidents_table(incidents, d.site_names).table))
        else:
            parts.append(_para("Aucun incident des outils sur la période."))
        parts.append("<h3>Formation des agents</h3>")
        parts.append(table_html(records.training_table(t["training"], d.site_names).table))
        return "".join(parts)

    def volumes(self) -> str:
        d = self.d
        labels = d.department_labels
        parts = [self.question("volumes"), self.headline(),
                 "<h3>Sites et départements côte à côte</h3>",
                 self.side_by_side(VOLUME_METRICS)]
        long = review.channel_volumes(d.by_department, "department", labels)
        if long.height:
            parts.append(_figure(
                review_charts.channel_volumes_chart(
                    long, "Contacts reçus par canal et département"),
                review.volume_reading(d.by_department, "department", labels),
                long.rename({"entity": "Département", "channel": "Canal",
                             "volume": "Contacts reçus"}),
            ))
        parts.append("<h3>Montée en charge depuis l'ouverture</h3>")
        ramp = review.ramp_up(d.weekly, d.coverage, RAMP_WEEKS)
        if ramp.height:
            parts.append(_figure(review_charts.ramp_up_chart(ramp), review.ramp_reading(ramp),
                                 _ramp_table(ramp)))
        else:
            parts.append(_para("Aucune semaine depuis l'ouverture dans ce périmètre."))
        parts.append("<h3>Campagnes : semaine de pointe et hors campagne</h3>")
        peaks = review.campaign_peaks(d.weekly, d.campaigns, d.coverage, d.filters.end,
                                      d.by_campaign)
        weeks = review.campaign_weeks(review.ramp_up(d.weekly, d.coverage), d.campaigns)
        if weeks.height:
            parts.append(_figure(review_charts.campaign_load_chart(weeks, d.campaigns, peaks),
                                 review.peaks_reading(peaks), peaks_table(peaks)))
        else:
            parts.append(_para("Aucune semaine de campagne dans ce périmètre."))
        parts.append("<h3>Calibrage des équipes (Erlang C)</h3>")
        parts.append(self.table(d.by_site, ("site",), TEAM_METRICS))
        parts.append(_para(review.team_reading(d.by_site, "site", d.site_names)))
        prof = review.profile(d.slots)
        if prof.height and prof.get_column("required_agents").null_count() < prof.height:
            parts.append(_figure(
                staffing_charts.required_vs_logged_chart(prof),
                review.profile_reading(prof),
                tables.display_table(prof, ("slot",), ("offered", "agents_logged_in",
                                                       "required_agents", "staffing_gap"),
                                     scope=self.scope),
            ))
        else:
            parts.append(_para("Les effectifs se comparent par site, tous canaux et "
                               "départements confondus : pas de profil pour ce filtre."))
        parts.append(self.quality())
        return "".join(parts)

    def quality(self) -> str:
        d = self.d
        labels = d.department_labels
        parts = ["<h3>Qualité de service</h3>", self.side_by_side(QUALITY_METRICS)]
        long = review.indicators_long(d.by_department, "department", labels,
                                      ("answer_rate", "service_level",
                                       "reply_within_48h_rate", "reply_within_5wd_rate"))
        if long.drop_nulls("value").height:
            parts.append(_figure(
                review_charts.indicators_chart(long, "Qualité de service par département"),
                review.rate_reading(d.by_department, "department", labels, "answer_rate")
                + " " + review.rate_reading(d.by_department, "department", labels,
                                            "reply_within_48h_rate"),
                indicators_table(long),
            ))
        return "".join(parts)

    def acts(self) -> str:
        d = self.d
        labels = d.department_labels
        parts = [self.question("acts"), self.side_by_side(ACTS_METRICS)]
        long = review.indicators_long(d.by_department, "department", labels,
                                      ("online_promotion_rate",))
        parts.append(_para(review.acts_reading(d.by_department, "department", labels)))
        if long.drop_nulls("value").height:
            parts.append(_figure(
                review_charts.indicators_chart(long, "Promotion des services en ligne"),
                review.rate_reading(d.by_department, "department", labels,
                                    "online_promotion_rate"),
                indicators_table(long),
            ))
        return "".join(parts)

    def users(self) -> str:
        d, t = self.d, self.r.question("users").tables
        labels = d.department_labels
        parts = [self.question("users"),
                 "<h3>Satisfaction et demande traitée, par site, département et canal</h3>",
                 table_html(records.survey_table(t, d.site_names,
                                                 d.department_names).table)]
        weeks = records.survey_weeks(t["by_week"], d.site_names)
        if weeks.height:
            parts.append(_figure(records.survey_weeks_chart(weeks),
                                 records.survey_weeks_reading(weeks),
                                 records.survey_weeks_table(weeks).table))
        parts.append("<h3>Satisfaction selon l'attente</h3>")
        bands = t["by_wait_band"]
        if bands.drop_nulls("csat_rate").height:
            parts.append(_figure(records.wait_band_chart(bands), records.wait_reading(bands),
                                 records.wait_band_table(bands).table))
        else:
            parts.append(_para(records.wait_reading(bands)))
        parts.append("<h3>Les nouveaux numéros : trouvés facilement après chaque ouverture ?"
                     "</h3>")
        knew = t["knew_number"]
        if knew.height:
            parts.append(_figure(records.knew_chart(knew, d.department_names),
                                 records.knew_reading(knew),
                                 records.knew_table(knew, d.department_names).table))
        else:
            parts.append(_para(records.knew_reading(knew)))
        parts += ["<h3>Recontacts</h3>", _para(REPEAT_CONTACTS),
                  self.side_by_side(USERS_METRICS)]
        long = review.indicators_long(d.by_department, "department", labels,
                                      ("repeat_contact_rate",))
        if long.drop_nulls("value").height:
            parts.append(_figure(
                review_charts.indicators_chart(long, "Taux de rappel sous 7 jours"),
                review.rate_reading(d.by_department, "department", labels,
                                    "repeat_contact_rate"),
                indicators_table(long),
            ))
        return "".join(parts)

    def staff(self) -> str:
        d = self.d
        staff = self.r.question("staff").tables["barometer"]
        parts = [self.question("staff")]
        if staff.height == 0:
            return "".join(parts)
        parts.append(_para(records.BAROMETER_NOTE))
        long = records.barometer_long(staff, STAFF_QUESTIONS, d.site_names,
                                      d.department_names)
        for key in REPORT_BAROMETER:
            label = records.STAFF_QUESTION_LABELS[key]
            if long.filter(pl.col("question") == label).height:
                parts.append(_figure(records.barometer_chart(long, label),
                                     records.barometer_reading(long, staff, label),
                                     long.filter(pl.col("question") == label)
                                     .pipe(records.barometer_points)))
        parts.append("<h3>Le baromètre par vague et population</h3>")
        parts.append(table_html(records.barometer_table(
            staff, STAFF_QUESTIONS, d.site_names, d.department_names).table))
        return "".join(parts)

    def relief(self) -> str:
        d, r = self.d, self.r
        objective = next(o for o in r.objectives if o.key == "relief")
        parts = [self.heading(RELIEF_ID, RELIEF_TITLE),
                 f"<p class='answer'>{verdict_html(objective.verdict)} "
                 f"{html.escape(objective.sentence)}</p>"]
        if r.relief_weeks.height:
            long = records.relief_long(r.relief_weeks, d.department_names)
            parts.append(_figure(records.relief_chart(long, r.relief),
                                 records.relief_reading(r.relief, d.department_names),
                                 records.relief_weeks_table(long).table))
        parts.append(table_html(records.relief_table(r.relief, d.department_names).table))
        parts.append(f"<p class='method'>{html.escape(records.RELIEF_METHOD)}</p>")
        return "".join(parts)


def verdict_html(verdict: str) -> str:
    """The verdict as a coloured frame with its symbol and its words (never colour alone)."""
    _, _, colour, symbol = records.VERDICT_STYLES[verdict]
    return (f"<span class='verdict' style='color:{colour}'>"
            f"<span aria-hidden='true'>{symbol}</span> {html.escape(verdict)}</span>")


def _ramp_table(ramp: pl.DataFrame) -> pl.DataFrame:
    return ramp.select(
        pl.col("label").alias("Département"),
        pl.col("weeks_since_opening").cast(pl.String).alias("Semaines depuis l'ouverture"),
        pl.col("week").alias("Semaine"),
        pl.col("offered").map_elements(fmt.fr_number, return_dtype=pl.String)
        .alias("Appels présentés"),
        pl.col("answer_rate").map_elements(fmt.fr_percent, return_dtype=pl.String,
                                           skip_nulls=False).alias("Taux de décroché"),
    )


def ramp_table(ramp: pl.DataFrame) -> pl.DataFrame:
    """The ramp-up as a French text table (the chart's alternative)."""
    return _ramp_table(ramp)


def peaks_table(peaks: pl.DataFrame) -> pl.DataFrame:
    """Campaign peaks (review.campaign_peaks) as a French text table."""
    pct = dict(return_dtype=pl.String, skip_nulls=False)
    return peaks.select(
        pl.col("campaign").alias("Campagne"),
        pl.col("label").alias("Département"),
        pl.col("peak_week_start").map_elements(fmt.fr_date, **pct).alias("Semaine de pointe"),
        pl.col("peak_offered").map_elements(fmt.fr_number, **pct).alias("Appels présentés"),
        pl.col("off_season_weekly").map_elements(fmt.fr_number, **pct)
        .alias("Semaine moyenne hors campagne"),
        pl.col("peak_ratio").map_elements(lambda v: fmt.fr_decimal(v) + "\u202f×"
                                          if v is not None else fmt.MISSING, **pct)
        .alias("Pointe / hors campagne"),
        pl.col("peak_answer_rate").map_elements(fmt.fr_percent, **pct)
        .alias("Décroché semaine de pointe"),
        pl.col("campaign_answer_rate").map_elements(fmt.fr_percent, **pct)
        .alias("Décroché en campagne"),
        pl.col("off_season_answer_rate").map_elements(fmt.fr_percent, **pct)
        .alias("Décroché hors campagne"),
    )


def indicators_table(long: pl.DataFrame) -> pl.DataFrame:
    """Indicators in long form (review.indicators_long) as a French text table."""
    return long.select(
        pl.col("entity").alias("Périmètre"),
        pl.col("indicator").alias("Indicateur"),
        pl.col("value").map_elements(fmt.fr_percent, return_dtype=pl.String,
                                     skip_nulls=False).alias("Valeur"),
    )


def render_html(data: ReviewData, generated: dt.datetime | None = None) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG, no script)."""
    scope = data.filters.scope or ALL_ROWS
    parts = _Sections(data, scope)
    f = data.filters
    generated = generated or dt.datetime.now()
    title = "Bilan de l'expérimentation des centres de contact"
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='meta'>Période du {fmt.fr_date(f.start)} au {fmt.fr_date(f.end)} · "
        f"{html.escape(data.perimeter)} · montée en charge et campagnes lues depuis le "
        f"{fmt.fr_date(data.span_start)} · édité le {generated.strftime('%d/%m/%Y à %H:%M')}"
        "</p>",
        "<p>Ce rapport répond aux cinq questions du bilan de l'expérimentation et mesure "
        "ses quatre objectifs, chacun contre la cible fixée dans les données de référence. "
        "Les définitions des indicateurs sont celles du tableau de bord.</p>",
        parts.summary(),
        parts.contents(),
        parts.tools(),
        parts.volumes(),
        parts.acts(),
        parts.users(),
        parts.staff(),
        parts.relief(),
    ]
    return (
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)} — {fmt.fr_date(f.start)} au {fmt.fr_date(f.end)}</title>"
        f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>"
    )


def perimeter_label(filters: Filters, site_names: Mapping[str, str]) -> str:
    """"Tous les sites", or the sites (and départements) the filters keep, in French."""
    scope = filters.scope
    sites = filters.sites or ((scope.site,) if scope and not scope.sees_all_sites
                              and scope.site else ())
    text = ", ".join(site_names.get(s, s) for s in sites) if sites else "Tous les sites"
    if filters.departments:
        text += " · départements " + ", ".join(filters.departments)
    return text
