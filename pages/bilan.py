"""Bilan des pilotes, organised as the review: the four objectives with their verdicts,
then one section per question (tools; volumes and calibration; acts and promotion; users'
reaction; staff's experience) and the relief of local services (objective 4), and the
review report. Opens on the whole pilot unless the URL or the sidebar names a period.

Every figure of the review comes from one Review (cache.review), the one the report and
`python -m dashboard review` show too.
"""

import datetime as dt

import polars as pl
import streamlit as st

from dashboard.charts import exports
from dashboard.charts import review as charts
from dashboard.charts import review_records as records
from dashboard.charts import specs as chart_specs
from dashboard.charts import tables
from dashboard.core import formatting as fmt
from dashboard.engine import page_reads
from dashboard.review import figures as review
from dashboard.review import report
from dashboard.store.schema import STAFF_QUESTIONS
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
st.caption(f"{fmt.md_text(perimeter)} · du {filters.start:%d/%m/%Y} au {filters.end:%d/%m/%Y} "
           "(par défaut, tout le pilote : de la première ouverture au dernier jour de "
           "données). Les quatre objectifs de l'expérimentation, puis les cinq questions du "
           "bilan et le soulagement des services locaux.")

by_site = cache.kpis(url, filters, ("site",), None, page_reads.REVIEW_SIDES)
by_dept = cache.kpis(url, filters, ("department",), None, page_reads.REVIEW_SIDES)
if by_site.height == 0 or int(by_site["received"].sum() + by_site["emails_received"].sum()) == 0:
    st.info("Aucun contact sur la période et le périmètre choisis : élargissez la période "
            "ou retirez des filtres.")
    st.stop()

result = cache.review(url, filters)
hours = cache.staffing_sites(url)
timezones = dict(zip(hours["site"], hours["timezone"]))


def _report_html() -> bytes:
    """The review report for these filters (built when the button is clicked)."""
    data = report.collect(lambda f, by, metrics: cache.kpis(url, f, by, None, metrics),
                          filters, coverage, campaigns, perimeter, result, timezones)
    return report.render_html(data).encode("utf-8")


st.download_button(
    "Télécharger le rapport de bilan (HTML)", data=_report_html,
    file_name=f"bilan-{filters.start.isoformat()}-{filters.end.isoformat()}.html",
    mime="text/html", icon=":material/description:", on_click="ignore", key="dl-report",
    help="Un fichier autonome (graphiques inclus, sans connexion) organisé comme le bilan : "
         "synthèse, sommaire, puis une partie par question. Sa préparation prend quelques "
         "secondes.",
)


def _table(shown: records.Shown, file_name: str, key: str) -> None:
    """A review table with its CSV and Excel downloads (the typed twin)."""
    widgets.data_table(shown.table)
    widgets.download_csv(shown.table, file_name, key, shown.export)


def _answer(key: str) -> None:
    """A question's header and its one-sentence answer."""
    st.header(fmt.md_text(report.question_heading(result, key)), anchor=report.QUESTION_IDS[key])
    st.markdown(f"**Réponse** : {fmt.md_text(result.question(key).answer)}")


# ------------------------------------------------------------------ the four objectives
st.header(report.OBJECTIVES_TITLE, anchor=report.SUMMARY_ID)
for column, (index, objective) in zip(st.columns(4), enumerate(result.objectives, 1)):
    words, colour, icon = records.verdict_badge(objective.verdict)
    with column.container(border=True):
        st.markdown(f"**{index}\\. {fmt.md_text(objective.label)}**")
        st.badge(words, icon=icon, color=colour)
        st.metric(records.OBJECTIVE_FIGURES[objective.key][1],
                  records.objective_value(objective.key, objective.value))
        st.caption(fmt.md_text(records.objective_target(objective.key, objective.target,
                                                        objective.partial_target)))
        st.markdown(fmt.md_text(objective.sentence))

# --------------------------------------------------------------------- 1. the tools
_answer("tools")
tools = result.question("tools").tables
st.subheader("Disponibilité des outils aux heures d'ouverture")
_table(records.availability_table(tools["availability"], site_names),
       "bilan-disponibilite.csv", "dl-availability")
st.subheader("Incidents sur la courbe de charge")
incidents = records.local_incidents(tools["incidents"], timezones)
daily = records.daily_load(cache.kpis(url, filters, ("day", "site"), None, report.DAILY_LOAD),
                           site_names)
if daily.height:
    load_table = records.daily_load_table(daily)
    widgets.chart_block(chart_specs.spec(records.load_outages_chart, daily, incidents),
                        records.load_reading(daily, incidents), load_table.table,
                        "bilan-charge-incidents.csv", key="dl-load", export=load_table.export)
if incidents.height:
    _table(records.incidents_table(incidents, site_names), "bilan-incidents.csv",
           "dl-incidents")
else:
    st.info("Aucun incident des outils sur la période.")
st.subheader("Formation des agents")
_table(records.training_table(tools["training"], site_names), "bilan-formation.csv",
       "dl-training")

# ------------------------------------------------------- 2. volumes and calibration
_answer("volumes")
st.subheader("Sites et départements côte à côte")
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

st.subheader("Montée en charge depuis l'ouverture")
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

st.subheader("Campagnes : semaine de pointe et hors campagne")
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

# ---------------------------------------------------------- 3. acts and promotion
_answer("acts")
acts = result.question("acts").tables["by_site"]
acts_metrics = ("acts", "acts_per_100_handled", "online_promotion_rate")
acts_table = tables.display_table(acts, ("site",), acts_metrics, scope=scope,
                                  site_names=site_names)
widgets.data_table(acts_table)
widgets.download_csv(acts_table, "bilan-actes.csv", key="dl-acts",
                     export=exports.metric_table(acts, ("site",), acts_metrics, acts_table))
st.caption(fmt.md_text(review.acts_reading(by_dept, "department", dept_labels)))
promotion = review.indicators_long(by_dept, "department", dept_labels,
                                   ("online_promotion_rate",))
if promotion.drop_nulls("value").height:
    widgets.chart_block(
        chart_specs.spec(charts.indicators_chart, promotion, "Promotion des services en ligne"),
        review.rate_reading(by_dept, "department", dept_labels, "online_promotion_rate"),
        report.indicators_table(promotion), "bilan-promotion.csv", key="dl-promotion",
    )

# ------------------------------------------------------------- 4. users' reaction
_answer("users")
users = result.question("users").tables
st.subheader("Satisfaction et demande traitée, par site, département et canal")
_table(records.survey_table(users, site_names, dept_names), "bilan-enquete.csv", "dl-survey")
survey_weeks = records.survey_weeks(users["by_week"], site_names)
if survey_weeks.height:
    weeks_table = records.survey_weeks_table(survey_weeks)
    widgets.chart_block(chart_specs.spec(records.survey_weeks_chart, survey_weeks),
                        records.survey_weeks_reading(survey_weeks), weeks_table.table,
                        "bilan-enquete-semaines.csv", key="dl-survey-weeks",
                        export=weeks_table.export)
st.subheader("Satisfaction selon l'attente")
bands = users["by_wait_band"]
if bands.drop_nulls("csat_rate").height:
    bands_table = records.wait_band_table(bands)
    widgets.chart_block(chart_specs.spec(records.wait_band_chart, bands),
                        records.wait_reading(bands), bands_table.table,
                        "bilan-attente.csv", key="dl-wait", export=bands_table.export)
else:
    st.info(records.wait_reading(bands))
st.subheader("Les nouveaux numéros : trouvés facilement après chaque ouverture ?")
knew = users["knew_number"]
if knew.height:
    knew_table = records.knew_table(knew, dept_names)
    widgets.chart_block(chart_specs.spec(records.knew_chart, knew, dept_names),
                        records.knew_reading(knew), knew_table.table, "bilan-numero.csv",
                        key="dl-knew", export=knew_table.export)
else:
    st.info(records.knew_reading(knew))
st.subheader("Recontacts")
st.caption(report.REPEAT_CONTACTS)
repeat = review.indicators_long(by_dept, "department", dept_labels, ("repeat_contact_rate",))
if repeat.drop_nulls("value").height:
    widgets.chart_block(
        chart_specs.spec(charts.indicators_chart, repeat, "Taux de rappel sous 7 jours"),
        review.rate_reading(by_dept, "department", dept_labels, "repeat_contact_rate"),
        report.indicators_table(repeat), "bilan-recontacts.csv", key="dl-repeat",
    )

# ---------------------------------------------------------- 5. staff's experience
_answer("staff")
staff = result.question("staff").tables["barometer"]
if staff.height:
    st.caption(records.BAROMETER_NOTE)
    long = records.barometer_long(staff, STAFF_QUESTIONS, site_names, dept_names)
    labels = [records.STAFF_QUESTION_LABELS[q] for q in STAFF_QUESTIONS]
    question = st.segmented_control("Question du baromètre", labels,
                                    default=records.STAFF_QUESTION_LABELS["workload"],
                                    key="question-barometre") \
        or records.STAFF_QUESTION_LABELS["workload"]
    points = long.filter(pl.col("question") == question)
    if points.height:
        widgets.chart_block(chart_specs.spec(records.barometer_chart, long, question),
                            records.barometer_reading(long, staff, question),
                            records.barometer_points(points),
                            "bilan-barometre-graphique.csv", key="dl-barometer-chart")
    else:
        st.info(records.barometer_reading(long, staff, question))
    st.subheader("Le baromètre par vague et population")
    _table(records.barometer_table(staff, STAFF_QUESTIONS, site_names, dept_names),
           "bilan-barometre.csv", "dl-barometer")

# ------------------------------------------------ objective 4: relief of local services
st.header(report.RELIEF_TITLE, anchor=report.RELIEF_ID)
relief_objective = next(o for o in result.objectives if o.key == "relief")
st.markdown(f"**Réponse** : {fmt.md_text(relief_objective.sentence)}")
if result.relief_weeks.height:
    relief_long = records.relief_long(result.relief_weeks, dept_names)
    weeks_shown = records.relief_weeks_table(relief_long)
    widgets.chart_block(chart_specs.spec(records.relief_chart, relief_long, result.relief),
                        records.relief_reading(result.relief, dept_names), weeks_shown.table,
                        "bilan-soulagement-semaines.csv", key="dl-relief-weeks",
                        export=weeks_shown.export)
else:
    st.info("Aucun accueil des services locaux connu pour ce périmètre.")
_table(records.relief_table(result.relief, dept_names), "bilan-soulagement.csv", "dl-relief")
st.caption(records.RELIEF_METHOD)
