"""Campagnes: daily load over the period or a campaign, campaigns compared by day of
campaign, and the weekday × half-hour profile of calls."""

import polars as pl
import streamlit as st

from dashboard.charts import campaigns as charts
from dashboard.charts import specs as chart_specs
from dashboard.core import formatting as fmt
from dashboard.core.filters import Filters
from dashboard.engine import series
from dashboard.engine.page_reads import CAMPAIGN_LOAD as LOAD_READS
from dashboard.ui import cache, identity, sidebar, widgets

STACKS = {"channel": "Canal", "department": "Département"}

url = cache.db_url()
user, scope = identity.page_user()
shared = sidebar.page_filters()
span = cache.data_span(url, scope)
periods = cache.coverage_periods(url)
dept_labels = {d: f"{d} {n}" for d, n in zip(periods["department"], periods["department_name"])}
stack_labels = {"channel": {"phone": "Téléphone", "email": "Courriel"},
                "department": dept_labels}

st.title("Campagnes")
camps = cache.campaigns(url).sort("start_date")
by_name = {row["name"]: row for row in camps.iter_rows(named=True)}
controls = st.columns([2, 1], vertical_alignment="bottom")
# No format_func on the campaign list: a bound widget writes its shown label into the URL,
# and the campaign's name is the label.
choice = controls[0].selectbox(
    "Campagne", [""] + list(by_name), key="campagne", bind="query-params",
    format_func=lambda name: name or "Période de la barre latérale",
    help="Une campagne remplace la période de la barre latérale ; les filtres de site, "
         "de département et de canal restent appliqués.",
)
stack = controls[1].segmented_control(
    "Empiler par", list(STACKS), format_func=STACKS.get, default="channel", required=True,
    key="empiler", bind="query-params",
) or "channel"

start, end, departments = shared.start, shared.end, shared.departments
if choice:
    campaign = by_name[choice]
    window = series.campaign_window(campaign["start_date"], campaign["end_date"],
                                    span.first_day, span.last_day)
    departments = series.campaign_departments(campaign["department"], shared.departments)
    if window is None or departments is None:
        st.info(f"Aucune donnée pour « {fmt.md_text(choice)} » "
                f"({fmt.fr_date(campaign['start_date'])} – "
                f"{fmt.fr_date(campaign['end_date'])}) avec ces filtres.")
        st.stop()
    start, end = window
st.caption(f"Du **{series.fr_day(start)}** au **{series.fr_day(end)}**"
           + (f" · {fmt.md_text(choice)}" if choice else " · période de la barre latérale"))

selection = Filters(start, end, sites=shared.sites, departments=departments,
                    channels=shared.channels, scope=scope)
load = series.daily_load(cache.kpis(url, selection, ("day", stack), None, LOAD_READS), stack)
totals = series.load_totals(load, start, end)
if totals["contacts"].sum() == 0:
    st.info(f"Aucun contact reçu du {fmt.fr_date(start)} au {fmt.fr_date(end)} pour cette "
            "sélection (un département n'est compté qu'à partir de sa date de couverture, "
            "voir la page Accueil).")
    st.stop()

st.header("Charge quotidienne")
peaks = series.peak_days(totals)
stacked = charts.with_labels(load.filter(load["contacts"] > 0), stack, stack_labels[stack])
widgets.chart_block(
    chart_specs.spec(charts.load_chart, stacked, totals, peaks, STACKS[stack]),
    charts.load_reading(totals, peaks),
    charts.load_table(stacked, totals, peaks),
    f"charge-{start.isoformat()}-{end.isoformat()}.csv",
    key="dl-load",
)

st.header("Campagnes comparées")
aligned = []
skipped = []
for name, row in by_name.items():
    window = series.campaign_window(row["start_date"], row["end_date"], span.first_day,
                                    span.last_day)
    depts = series.campaign_departments(row["department"], shared.departments)
    if window is None or depts is None:
        skipped.append(name)
        continue
    days = Filters(window[0], window[1], sites=shared.sites, departments=depts,
                   channels=shared.channels, scope=scope)
    # Same grouping as the load chart: the chosen campaign's figures come from the cache.
    daily = series.load_totals(
        series.daily_load(cache.kpis(url, days, ("day", stack), None, LOAD_READS), stack),
        *window)
    if daily["contacts"].sum() == 0:
        skipped.append(name)
        continue
    aligned.append(series.campaign_days(daily, name, row["start_date"]))
if aligned:
    compared = pl.concat(aligned)
    widgets.chart_block(
        chart_specs.spec(charts.comparison_chart, compared),
        charts.comparison_reading(compared),
        charts.comparison_table(compared),
        "campagnes-comparees.csv",
        key="dl-compare",
    )
else:
    st.info("Aucune campagne n'a de données pour cette sélection.")
if skipped:
    st.caption("Sans données pour cette sélection : "
               + ", ".join(fmt.md_text(name) for name in skipped) + ".")

st.header("Profil de la semaine")
if shared.channels == ("email",):
    st.info("Le profil par demi-heure porte sur les appels : choisissez le canal "
            "Téléphone ou aucun canal.")
else:
    profile = series.weekday_slot_profile(cache.kpis(url, selection, ("day", "slot"), None,
                                                     LOAD_READS),
                                          start, end)
    if profile.height == 0:
        st.info("Aucun appel présenté sur la période pour cette sélection.")
    else:
        table = charts.heatmap_table(profile)
        for value, key in (("offered_per_day", "dl-heat-offered"),
                           ("answer_rate", "dl-heat-rate")):
            widgets.chart_block(
                chart_specs.spec(charts.heatmap, profile, value),
                charts.heatmap_reading(profile, value),
                table,
                f"profil-semaine-{start.isoformat()}-{end.isoformat()}.csv",
                key=key,
            )
