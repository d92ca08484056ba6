"""Actes: acts of management by type and département over time, acts per 100 handled
contacts, online-service promotion and repeat contacts."""

import streamlit as st

from dashboard.charts import acts as charts
from dashboard.charts import exports
from dashboard.charts import specs as chart_specs
from dashboard.charts import tables
from dashboard.core import formatting as fmt
from dashboard.engine import page_reads, series
from dashboard.engine.page_reads import ACTS as READS
from dashboard.metrics.definitions import METRICS_BY_KEY
from dashboard.ui import cache, identity, sidebar, widgets

SPLITS = {"act_type": "Type d'acte", "department": "Département"}
TILES = ("acts", "acts_per_100_handled", "online_promotion_rate", "repeat_contact_rate")
TABLE_METRICS = ("acts", "answered", "emails_replied", "acts_per_100_handled",
                 "online_promotion_rate", "repeat_contact_rate")
RATES = {key: METRICS_BY_KEY[key].label
         for key in ("online_promotion_rate", "repeat_contact_rate")}

url = cache.db_url()
user, scope = identity.page_user()
shared = sidebar.page_filters()
periods = cache.coverage_periods(url)
dept_names = dict(zip(periods["department"], periods["department_name"]))
dept_labels = {d: f"{d} {n}" for d, n in dept_names.items()}

st.title("Actes de gestion")
grain = series.period_grain(shared.start, shared.end)
st.caption(f"Du **{series.fr_day(shared.start)}** au **{series.fr_day(shared.end)}** · "
           f"un point par {charts.GRAIN_WORDS[grain][0]}")

total = cache.kpis(url, shared, (), None, page_reads.ACTS_TOTAL).row(0, named=True)
acts_blind = "channel" in shared.restricted_dimensions()
if not series.has_activity(total) and not (total["answered"] or total["emails_replied"]):
    st.info(f"Aucune activité du {fmt.fr_date(shared.start)} au {fmt.fr_date(shared.end)} "
            "pour cette sélection (un département n'est compté qu'à partir de sa date de "
            "couverture, voir la page Accueil).")
    st.stop()

tiles = st.columns(len(TILES))
for column, key in zip(tiles, TILES):
    metric = METRICS_BY_KEY[key]
    column.metric(metric.label, fmt.format_value(total[key], metric.unit), border=True,
                  help=metric.definition)
if acts_blind:
    st.info("Les actes de gestion ne sont pas rattachés à un canal : retirez le filtre "
            "Canal pour les voir. La promotion des services en ligne et les rappels "
            "suivent le canal choisi.")

if not acts_blind:
    st.header("Actes par type et par département")
    split = st.segmented_control(
        "Ventiler par", list(SPLITS), format_func=SPLITS.get, default="act_type",
        required=True, key="ventiler", bind="query-params",
    ) or "act_type"
    rows = cache.acts_by_type(url, shared)
    if rows.height == 0:
        st.info("Aucun acte de gestion sur la période pour cette sélection.")
    else:
        per_period = charts.with_labels(series.acts_per_period(rows, grain, split), split,
                                        dept_labels)
        widgets.chart_block(
            chart_specs.spec(charts.acts_chart, per_period, grain, SPLITS[split]),
            charts.acts_reading(per_period, grain, SPLITS[split]),
            charts.acts_table(per_period, grain),
            f"actes-{split}-{shared.start.isoformat()}-{shared.end.isoformat()}.csv",
            key="dl-acts",
        )
        st.subheader("Répartition par type et par département")
        breakdown = charts.breakdown_table(
            series.totals_by(rows, "act_type", "department"), dept_labels)
        widgets.data_table(breakdown)
        widgets.download_csv(
            breakdown,
            f"actes-types-departements-{shared.start.isoformat()}-{shared.end.isoformat()}.csv",
            key="dl-acts-breakdown")

    st.header("Actes pour 100 contacts traités")
    per_dept = cache.kpis(url, shared, (grain, "department"), None, READS)
    per_100 = series.lines_by(per_dept, grain, "acts_per_100_handled", "department", dept_labels)
    if per_100["value"].is_null().all():
        st.info("Aucun contact traité sur la période pour cette sélection.")
    else:
        widgets.chart_block(
            chart_specs.spec(charts.rate_lines, per_100, grain,
                             "Actes pour 100 contacts traités", "ratio", "Département",
                             "Actes pour 100 contacts traités, par département"),
            charts.per_100_reading(per_100, total["acts_per_100_handled"], grain),
            charts.rate_table(per_100, grain, "ratio"),
            f"actes-pour-100-{shared.start.isoformat()}-{shared.end.isoformat()}.csv",
            key="dl-acts-100",
        )

st.header("Promotion des services en ligne et rappels")
rates = series.lines_of(cache.kpis(url, shared, (grain,), None, READS), grain, RATES)
if rates["value"].is_null().all():
    st.info("Aucun contact traité sur la période pour cette sélection.")
else:
    widgets.chart_block(
        chart_specs.spec(charts.rate_lines, rates, grain, "Part des contacts traités", "rate",
                         "Indicateur", "Promotion des services en ligne et rappels sous 7 jours"),
        charts.service_rates_reading(total["online_promotion_rate"],
                                     total["repeat_contact_rate"]),
        charts.rate_table(rates, grain, "rate"),
        f"promotion-rappels-{shared.start.isoformat()}-{shared.end.isoformat()}.csv",
        key="dl-rates",
    )

st.header("Par département")
by_dept = cache.kpis(url, shared, ("department",), None, READS)
dept_table = tables.display_table(by_dept, ["department"], TABLE_METRICS, scope=scope,
                                  department_names=dept_names)
widgets.data_table(dept_table)
widgets.download_csv(dept_table,
                     f"actes-departements-{shared.start.isoformat()}-{shared.end.isoformat()}.csv",
                     key="dl-acts-dept",
                     export=exports.metric_table(by_dept, ["department"], TABLE_METRICS,
                                                 dept_table))
