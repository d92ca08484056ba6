"""Bilan des pilotes: sites and départements side by side over the period, the ramp-up
since each coverage start, each campaign's peak against the off-season, the review report."""

import datetime as dt

import streamlit as st

from dashboard.charts import exports
from dashboard.charts import review as charts
from dashboard.charts import specs as chart_specs
from dashboard.charts import tables
from dashboard.core import formatting as fmt
from dashboard.engine import page_reads
from dashboard.review import figures as review
from dashboard.review import report
from dashboard.ui import cache, identity, navigation, sidebar, widgets

PAGE = "pages/bilan.py"
SIDE_BY_SIDE = page_reads.REVIEW_SIDES

url = cache.db_url()
user, scope = identity.page_user()
if PAGE not in {p.path for p in navigation.pages_for(user.role)}:
    st.error("Cette page est réservée à la direction nationale et aux administrateurs.")
    st.stop()
filters = sidebar.page_filters()

st.title("Bilan des pilotes")
coverage = report.perimeter_coverage(cache.coverage_periods(url), filters)
campaigns = cache.campaigns(url)
site_names = dict(zip(coverage["site"], coverage["site_name"]))
dept_names = dict(zip(coverage["department"], coverage["department_name"]))
dept_labels = {code: f"{code} {name}" for code, name in dept_names.items()}
perimeter = report.perimeter_label(filters, site_names)
st.caption(f"{fmt.md_text(perimeter)} · du {filters.start:%d/%m/%Y} au {filters.end:%d/%m/%Y}. "
           "Les questions du bilan : volumes et calibrage des équipes, qualité de service, "
           "actes et promotion des services en ligne, recontacts des usagers.")

by_site = cache.kpis(url, filters, ("site",), None, page_reads.REVIEW_SIDES)
by_dept = cache.kpis(url, filters, ("department",), None, page_reads.REVIEW_SIDES)
if by_site.height == 0 or int(by_site["received"].sum() + by_site["emails_received"].sum()) == 0:
    st.info("Aucun contact sur la période et le périmètre choisis : élargissez la période "
            "ou retirez des filtres.")
    st.stop()


def _report_html() -> bytes:
    """The review report for these filters (built when the button is clicked)."""
    data = report.collect(lambda f, by, metrics: cache.kpis(url, f, by, None, metrics),
                          filters, coverage, campaigns, perimeter)
    return report.render_html(data).encode("utf-8")


st.download_button(
    "Télécharger le rapport de bilan (HTML)", data=_report_html,
    file_name=f"bilan-{filters.start.isoformat()}-{filters.end.isoformat()}.html",
    mime="text/html", icon=":material/description:", on_click="ignore", key="dl-report",
    help="Un fichier autonome (graphiques inclus, sans connexion) organisé selon les "
         "questions du bilan. Sa préparation prend quelques secondes.",
)

st.header("Sites et départements côte à côte")
site_table = tables.display_table(by_site, ("site",), SIDE_BY_SIDE, scope=scope,
                                  site_names=site_names)
widgets.data_table(site_table)
widgets.download_csv(site_table, "bilan-sites.csv", key="dl-sites",
                     export=exports.metric_table(by_site, ("site",), SIDE_BY_SIDE, site_table))
dept_table = tables.display_table(by_dept, ("department",), SIDE_BY_SIDE, scope=scope,
                                  department_names=dept_names)
widgets.data_table(dept_table)
widgets.download_csv(dept_table, "bilan-departements.csv", key="dl-departements",
                     export=exports.metric_table(by_dept, ("department",), SIDE_BY_SIDE,
                                                 dept_table))

volumes = review.channel_volumes(by_dept, "department", dept_labels)
widgets.chart_block(
    chart_specs.spec(charts.channel_volumes_chart, volumes,
                     "Contacts reçus par canal et département"),
    review.volume_reading(by_dept, "department", dept_labels),
    volumes.rename({"entity": "Département", "channel": "Canal", "volume": "Contacts reçus"}),
    "bilan-volumes.csv", key="dl-volumes",
)
indicators = review.indicators_long(by_dept, "department", dept_labels)
if indicators.drop_nulls("value").height:
    widgets.chart_block(
        chart_specs.spec(charts.indicators_chart, indicators,
                         "Qualité, actes et recontacts par département"),
        review.rate_reading(by_dept, "department", dept_labels, "answer_rate"),
        report.indicators_table(indicators), "bilan-indicateurs.csv", key="dl-indicators",
    )

st.header("Montée en charge depuis l'ouverture")
span = report.span_filters(filters, coverage)
st.caption(f"Semaines alignées sur l'ouverture de chaque département (semaine 0 : sa "
           f"première semaine complète, du lundi au dimanche), lues du "
           f"{span.start:%d/%m/%Y} au {span.end:%d/%m/%Y}.")
weekly = cache.kpis(url, span, ("week", "department"), None, page_reads.REVIEW_WEEKS)
ramp = review.ramp_up(weekly, coverage, report.RAMP_WEEKS)
if ramp.height:
    widgets.chart_block(chart_specs.spec(charts.ramp_up_chart, ramp), review.ramp_reading(ramp),
                        report.ramp_table(ramp), "bilan-montee-en-charge.csv", key="dl-ramp")
else:
    st.info("Aucune semaine depuis l'ouverture dans ce périmètre.")

st.header("Campagnes : semaine de pointe et hors campagne")
by_campaign = cache.kpis(url, span, ("campaign", "department"), None,
                         page_reads.REVIEW_WEEKS)
last_day = min(filters.end, cache.data_span(url, scope).last_day or filters.end)
peaks = review.campaign_peaks(weekly, campaigns, coverage, last_day, by_campaign)
# Every full week since opening (the ramp-up's rule), with its campaign.
weeks = review.campaign_weeks(review.ramp_up(weekly, coverage), campaigns)
if weeks.height and peaks.height:
    widgets.chart_block(chart_specs.spec(charts.campaign_load_chart, weeks, campaigns, peaks),
                        review.peaks_reading(peaks), report.peaks_table(peaks),
                        "bilan-campagnes.csv", key="dl-peaks")
else:
    st.info("Aucune semaine de campagne dans ce périmètre jusqu'au "
            f"{dt.date.strftime(filters.end, '%d/%m/%Y')}.")
