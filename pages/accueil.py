"""Accueil: what the data covers, the sites' coverage over time, the latest day at a glance."""

import polars as pl
import streamlit as st

from dashboard.charts import exports
from dashboard.charts import specs as chart_specs
from dashboard.charts import tables
from dashboard.charts.coverage import coverage_timeline
from dashboard.core import formatting as fmt
from dashboard.core.filters import Filters
from dashboard.engine import page_reads
from dashboard.ui import cache, identity, widgets

url = cache.db_url()
user, scope = identity.page_user()
span = cache.data_span(url, scope)

st.title("Accueil")
st.caption("Appels, courriels et actes de gestion des centres de contact à distance.")

if span.contacts == 0:
    st.info("Aucun contact dans la base pour l'instant. Importez des données "
            "(`python -m dashboard ingest contacts FICHIER.csv`) ou construisez la "
            "démonstration (`make demo`).")
    st.stop()

st.markdown(
    f"Données du **{fmt.fr_date(span.first_day)}** au **{fmt.fr_date(span.last_day)}** : "
    f"{fmt.fr_number(span.contacts)} contacts et {fmt.fr_number(span.acts)} actes de gestion."
)

last = span.last_day
st.header(f"Dernier jour : {fmt.fr_date(last)}")
day = Filters(start=last, end=last, scope=scope)
total = cache.kpis(url, day, (), None, page_reads.HOME).row(0, named=True)
tiles = st.columns(3)
tiles[0].metric("Appels reçus", fmt.fr_number(total["received"]), border=True)
tiles[1].metric("Taux de décroché", fmt.fr_percent(total["answer_rate"]), border=True)
tiles[2].metric("Courriels reçus", fmt.fr_number(total["emails_received"]), border=True)

periods = cache.coverage_periods(url)
site_names = dict(zip(periods["site"], periods["site_name"]))
by_site = cache.kpis(url, day, ("site",), None, page_reads.HOME)
shown_metrics = ("received", "answer_rate", "emails_received")
site_table = tables.display_table(by_site, ("site",), shown_metrics, scope=scope,
                                  site_names=site_names)
widgets.data_table(site_table)
widgets.download_csv(site_table, f"dernier-jour-{last.isoformat()}.csv", key="dl-last-day",
                     export=exports.metric_table(by_site, ("site",), shown_metrics, site_table))

st.header("Sites et départements couverts")
coverage_table = periods.select(
    pl.col("site_name").alias("Site"),
    (pl.col("department") + " " + pl.col("department_name")).alias("Département"),
    pl.col("start_date").map_elements(fmt.fr_date, return_dtype=pl.String).alias("Depuis le"),
    pl.col("end_date").map_elements(fmt.fr_date, return_dtype=pl.String, skip_nulls=False)
    .alias("Jusqu'au"),
)
first_open = periods.sort("start_date").row(0, named=True) if periods.height else None
reading = (
    f"{periods.height} périodes de couverture ; la première, {first_open['department_name']} "
    f"par {first_open['site_name']}, commence le {fmt.fr_date(first_open['start_date'])}."
    if first_open else "Aucune couverture enregistrée."
)
widgets.chart_block(
    chart_specs.spec(coverage_timeline, periods, until=last),
    reading,
    coverage_table,
    "couverture.csv",
    key="dl-coverage",
)
