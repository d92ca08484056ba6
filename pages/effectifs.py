"""Effectifs: agents required by Erlang (C, or A with abandons) against agents logged in,
per half-hour, per weekday × half-hour and per day, and a what-if staffing calculator."""

import dataclasses

import polars as pl
import streamlit as st

from dashboard.charts import adherence as adherence_charts
from dashboard.charts import forecast as forecast_charts
from dashboard.charts import specs as chart_specs
from dashboard.charts import staffing as charts
from dashboard.charts import tables
from dashboard.core import formatting as fmt
from dashboard.core.access import present_agents
from dashboard.core.config import default_thresholds
from dashboard.core.filters import Overrides
from dashboard.engine.page_reads import TEAM as READS
from dashboard.metrics import erlang
from dashboard.review import figures as review
from dashboard.ui import cache, identity, navigation, sidebar, widgets

PAGE = "pages/effectifs.py"
# Shown labels are the values: a widget bound to the URL writes its label there.
MODELS = ("Erlang C", "Erlang A")
TEAM = ("agents_logged_in", "required_agents", "staffing_gap", "agent_hours", "occupancy")
EXTREMES = ("staffing_gap", "agents_logged_in", "required_agents", "offered")
TOP_N = 5

url = cache.db_url()
user, scope = identity.page_user()
if PAGE not in {p.path for p in navigation.pages_for(user.role)}:
    st.error("Cette page est réservée aux superviseurs, à la direction nationale et aux "
             "administrateurs.")
    st.stop()
filters = sidebar.page_filters()

st.title("Effectifs")
model = st.segmented_control(
    "Modèle de file d'attente", MODELS, default=MODELS[0], key="modele", bind="query-params",
    help="Erlang C : les appelants attendent indéfiniment. Erlang A : ils raccrochent "
         "après une patience estimée à partir des abandons de la période (attente totale "
         "des appelants / abandons non courts).",
) or MODELS[0]
erlang_a = model == "Erlang A"
overrides = Overrides(erlang_a=erlang_a)
# Teams serve every département and channel of their site: those filters do not apply.
team = dataclasses.replace(filters, departments=(), channels=())
if filters.departments or filters.channels:
    st.caption("Les équipes servent tous les départements et canaux de leur site : les "
               "filtres Départements et Canal ne s'appliquent pas aux effectifs.")

sites = cache.staffing_sites(url)
if team.sites:
    sites = sites.filter(pl.col("site").is_in(list(team.sites)))
if not scope.sees_all_sites:
    sites = sites.filter(pl.col("site") == scope.site)
site_names = dict(zip(cache.coverage_periods(url)["site"],
                      cache.coverage_periods(url)["site_name"]))
defaults = default_thresholds()
target = float(sites["sl_target"].drop_nulls().min() or defaults.sl_target) \
    if sites.height else defaults.sl_target
threshold = int(sites["sl_seconds"].drop_nulls().max() or defaults.sl_seconds) \
    if sites.height else defaults.sl_seconds
st.caption(
    f"Effectif requis : le plus petit nombre d'agents qui atteint l'objectif de "
    f"{fmt.fr_percent(target, 0)} des appels décrochés en {threshold} s ({model}"
    f"{', avec abandons' if erlang_a else ''}), "
    "demi-heure par demi-heure, pour les appels présentés hors abandons courts. Moyennes "
    "sur les jours d'ouverture de la période."
)

total = cache.kpis(url, team, (), overrides, READS).row(0, named=True)
if not total["offered"] and not total["agent_hours"]:
    st.info("Aucun appel ni agent connecté sur la période et le site choisis : élargissez "
            "la période ou changez de site.")
    st.stop()
if total["agents_logged_in"] is None or total["required_agents"] is None:
    st.info("Aucun jour d'ouverture dans la période choisie : pas d'effectif à comparer.")
    st.stop()

tiles = st.columns(4)
tiles[0].metric("Agents connectés (moyenne)", fmt.fr_decimal(total["agents_logged_in"]),
                border=True)
tiles[1].metric("Effectif requis (moyenne)", fmt.fr_decimal(total["required_agents"]),
                border=True)
tiles[2].metric("Écart d'effectif", review.signed_agents(total["staffing_gap"]), border=True)
tiles[3].metric("Taux d'occupation", fmt.fr_percent(total["occupancy"]), border=True)

by_site = cache.kpis(url, team, ("site",), overrides, READS)
site_table = tables.display_table(by_site, ("site",), TEAM, scope=scope, site_names=site_names)
widgets.data_table(site_table)
st.caption(fmt.md_text(review.team_reading(by_site, "site", site_names)))

st.header("Par demi-heure")
slots = cache.kpis(url, team, ("slot",), overrides, READS)
prof = review.profile(slots)
if prof.height:
    widgets.chart_block(
        chart_specs.spec(charts.required_vs_logged_chart, prof, model),
        review.profile_reading(prof),
        tables.display_table(prof, ("slot",), ("offered", "agents_logged_in",
                                               "required_agents", "staffing_gap"),
                             scope=scope),
        "effectifs-demi-heures.csv", key="dl-profile",
    )
else:
    st.info("Aucun appel ni agent connecté sur la période.")

cells = cache.kpis(url, team, ("day", "slot"), overrides, READS)
grid = review.weekday_slot_gap(cells.filter(pl.col("slot").is_in(prof["slot"].to_list())))
if grid.height:
    widgets.chart_block(
        chart_specs.spec(charts.gap_heatmap, grid), review.heatmap_reading(grid),
        grid.select(
            pl.col("weekday_label").alias("Jour"), pl.col("slot").alias("Demi-heure"),
            pl.col("gap").map_elements(review.signed_agents, return_dtype=pl.String)
            .alias("Écart moyen (agents)"),
            pl.col("days").cast(pl.String).alias("Jours"),
        ),
        "effectifs-jour-demi-heure.csv", key="dl-heatmap",
    )

st.header("Jours et demi-heures les plus en écart")
days = cache.kpis(url, team, ("day",), overrides, READS)
if days["staffing_gap"].drop_nulls().len():
    day_under, day_over = review.staffing_extremes(days, ("day",), TOP_N)
    widgets.chart_block(
        chart_specs.spec(charts.daily_gap_chart, days),
        review.daily_reading(days),
        tables.display_table(days.filter(pl.col("staffing_gap").is_not_null()), ("day",),
                             EXTREMES, scope=scope),
        "effectifs-jours.csv", key="dl-days",
    )
    cell_under, cell_over = review.staffing_extremes(cells, ("day", "slot"), TOP_N)
    left, right = st.columns(2)
    for column, title, rows_day, rows_cell, none in (
        (left, "Les plus en déficit", day_under, cell_under, "en déficit"),
        (right, "Les plus en excédent", day_over, cell_over, "en excédent"),
    ):
        column.subheader(title)
        column.markdown("**Jours** (moyenne sur les heures d'ouverture)")
        if rows_day.height:
            column.dataframe(tables.display_table(rows_day, ("day",), EXTREMES, scope=scope),
                             hide_index=True, width="stretch")
        else:
            column.caption(f"Aucun jour {none}.")
        column.markdown("**Demi-heures**")
        if rows_cell.height:
            column.dataframe(tables.display_table(rows_cell, ("day", "slot"), EXTREMES,
                                                  scope=scope),
                             hide_index=True, width="stretch")
        else:
            column.caption(f"Aucune demi-heure {none}.")

st.header("Respect du planning")
st.caption("Respect du planning : part des minutes planifiées au téléphone ou aux courriels "
           "pendant lesquelles l'agent était connecté. Conformité : minutes connectées les "
           "jours planifiés / minutes planifiées hors pause. Sur la période et le site choisis.")
planned_table = present_agents(cache.adherence(url, team), scope, column="agent_id")
if planned_table.height == 0:
    st.info("Aucun planning importé sur la période : importez les plannings avec "
            "« python -m dashboard ingest schedules FICHIER ».")
else:
    shown_table = adherence_charts.display(planned_table, site_names,
                                           cache.agent_names(url, scope))
    st.caption(fmt.md_text(adherence_charts.reading(planned_table, site_names)))
    widgets.data_table(shown_table)
    widgets.download_csv(shown_table, f"respect-du-planning-{team.start}-{team.end}.csv",
                         key="dl-adherence")

st.header("Les quatre prochaines semaines")
ahead_sites = sites.get_column("site").to_list()
ahead_site = ahead_sites[0] if len(ahead_sites) == 1 else st.selectbox(
    "Site", ahead_sites, format_func=lambda code: site_names.get(code, code),
    key="site_prevision", index=None, placeholder="Choisissez un site",
) if ahead_sites else None
if ahead_site is None:
    st.info("Choisissez un site pour voir sa prévision et son planning des quatre prochaines "
            "semaines.")
else:
    ahead_last = cache.last_day_with_data(url, scope, (ahead_site,))
    ahead = cache.forecast(url, scope, (ahead_site,), ahead_last, cache.FORECAST_HORIZON) \
        if ahead_last else None
    if ahead is None or ahead[0].slots.height == 0:
        st.info("Pas encore assez d'historique pour prévoir la charge de ce site.")
    else:
        result, planned = ahead
        grid = forecast_charts.coverage_grid(result.slots, planned)
        st.caption(f"Prévision établie à partir des données jusqu'au "
                   f"{fmt.fr_date(result.origin)} ; agents requis par Erlang C pour "
                   "l'objectif de niveau de service du site, agents planifiés sur le "
                   "téléphone ou les courriels d'après les plannings importés.")
        widgets.chart_block(
            chart_specs.spec(forecast_charts.coverage_heatmap, grid),
            forecast_charts.coverage_reading(grid),
            forecast_charts.coverage_days(grid, result.days),
            f"besoin-et-planning-{ahead_site}-{result.origin}.csv", key="dl-ahead")

st.header("Simulation : combien d'agents ?")
volumes = review.slot_volumes(cells)
busiest = review.busiest_slot(volumes)
options = volumes["slot"].to_list()
reference = st.selectbox(
    "Demi-heure de référence", options, index=options.index(busiest) if busiest else None,
    key="whatif_slot", help="Ses appels moyens et sa durée de traitement servent de point "
    "de départ ; par défaut la demi-heure la plus chargée.",
) if options else None
ref_calls = float(volumes.filter(slot=reference)["calls"].item()) if reference else 100.0
ref_slot = slots.filter(slot=reference) if reference else slots.clear()
ref_aht = (ref_slot["aht_seconds"].item() if ref_slot.height else None) or \
    total["aht_seconds"] or 180.0
ref_logged = ref_slot["agents_logged_in"].item() if ref_slot.height else None
suffix = reference or "none"
cols = st.columns(3)
calls = cols[0].number_input(
    "Appels présentés par demi-heure (hors abandons courts)", min_value=0.0,
    value=round(ref_calls, 1), step=1.0, format="%.1f", key=f"whatif_calls_{suffix}")
growth = cols[1].number_input("Évolution du volume (%)", min_value=-100.0, max_value=500.0,
                              value=0.0, step=5.0, format="%.0f", key="whatif_growth")
aht = cols[2].number_input("Durée moyenne de traitement (s)", min_value=1.0,
                           value=float(round(ref_aht)), step=10.0, format="%.0f",
                           key=f"whatif_aht_{suffix}")
cols = st.columns(3)
target_pct = cols[0].number_input("Objectif de niveau de service (%)", min_value=1.0,
                                  max_value=99.0, value=round(target * 100, 1), step=1.0,
                                  format="%.0f", key="whatif_target")
seconds = cols[1].number_input("Seuil de décroché (s)", min_value=0.0,
                               value=float(threshold), step=5.0, format="%.0f",
                               key="whatif_seconds")
patience = None
if erlang_a:
    patience = cols[2].number_input(
        "Patience moyenne des appelants (s)", min_value=1.0,
        value=float(round(total["patience_seconds"] or 120.0)), step=10.0, format="%.0f",
        key="whatif_patience",
        help="Estimée par les abandons de la période : attente totale des appelants / "
             "abandons non courts.")
offered = calls * (1 + growth / 100)
result = erlang.staffing(offered, 30, aht, target_pct / 100, seconds,
                         patience_seconds=patience)
out = st.columns(4)
out[0].metric("Agents nécessaires", fmt.fr_number(result.required_agents), border=True)
out[1].metric("Niveau de service atteint", fmt.fr_percent(result.service_level), border=True)
out[2].metric("Attente moyenne", fmt.fr_duration(result.asa_seconds), border=True)
out[3].metric("Taux d'occupation", fmt.fr_percent(result.occupancy), border=True)
details = (f"{fmt.fr_decimal(offered)} appels en 30 min de {fmt.fr_duration(aht)} : une "
           f"charge de {fmt.fr_decimal(result.offered_load_erlangs)} erlangs ; "
           f"{fmt.fr_percent(result.prob_wait)} des appelants attendent")
if result.abandon_rate is not None:
    details += f", {fmt.fr_percent(result.abandon_rate)} raccrochent avant d'être servis"
if reference and ref_logged is not None:
    details += (f". À {reference}, {fmt.fr_decimal(ref_logged)} agents étaient connectés "
                "en moyenne sur la période")
st.caption(details + ".")
