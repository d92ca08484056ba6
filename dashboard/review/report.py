"""The review report: one self-contained HTML file, organised by the review's questions.

`collect` asks a KPI function (the engine, or the app's cache of it) for the frames the
review needs; `render_html` turns them into a page that opens anywhere, offline: charts
are rendered to inline SVG by vl-convert (Vega bundled in the package, no network), each
with its one-sentence reading and its data as a table, in French.

Sections follow the questions of the review (spec/domain.md): volumes and team
calibration; service quality; acts of management and online promotion; users (repeat
contacts).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import altair as alt
import polars as pl

from dashboard.charts import review as review_charts
from dashboard.charts import specs as chart_specs
from dashboard.charts import staffing as staffing_charts
from dashboard.charts import tables
from dashboard.core import formatting as fmt
from dashboard.core.access import ALL_ROWS, Scope
from dashboard.core.filters import Filters
from dashboard.engine import page_reads
from dashboard.metrics.definitions import METRICS_BY_KEY
from dashboard.review import figures as review

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


def collect(kpis: KpiFunction, filters: Filters, coverage: pl.DataFrame,
            campaigns: pl.DataFrame, perimeter: str) -> ReviewData:
    """The frames of the review for FILTERS, asked of KPIS(filters, by)."""
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
th,td{border:1px solid #ccc;padding:.25rem .45rem;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f0f0f8}
details summary{cursor:pointer;color:#000091}
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


def table_html(frame: pl.DataFrame, caption: str | None = None) -> str:
    """A text frame (tables.display_table) as an HTML table."""
    head = "".join(f"<th scope='col'>{html.escape(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v if v is not None else fmt.MISSING))}</td>"
                         for v in row) + "</tr>"
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

    def volumes(self) -> str:
        d = self.d
        labels = d.department_labels
        parts = ["<h2>1. Volume des contacts et calibrage des équipes</h2>",
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
        return "".join(parts)

    def quality(self) -> str:
        d = self.d
        labels = d.department_labels
        parts = ["<h2>2. Qualité de service</h2>", self.side_by_side(QUALITY_METRICS)]
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
        parts = ["<h2>3. Actes de gestion et promotion des services en ligne</h2>",
                 self.side_by_side(ACTS_METRICS)]
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
        d = self.d
        labels = d.department_labels
        parts = ["<h2>4. Usagers : recontacts</h2>",
                 _para("Le taux de rappel sous 7 jours approche la résolution au premier "
                       "contact : part des contacts traités dont l'usager recontacte le "
                       "centre (tout canal) dans les 7 jours."),
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
        "<p>Ce rapport répond aux questions du bilan de l'expérimentation : volume des "
        "contacts et calibrage des équipes, qualité de service, actes de gestion et "
        "promotion des services en ligne, réaction des usagers. Les définitions des "
        "indicateurs sont celles du tableau de bord.</p>",
        parts.headline(),
        parts.volumes(),
        parts.quality(),
        parts.acts(),
        parts.users(),
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
