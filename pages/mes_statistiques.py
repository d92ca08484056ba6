"""Mes statistiques: the agent's own figures against the anonymous median of its site's team.

Own figures are read with the agent's own scope; the team median comes from
dashboard.engine.team, which returns medians only (no agent row), withheld below MIN_AGENTS.
"""

import polars as pl
import streamlit as st

from dashboard.charts import agent as charts
from dashboard.charts import specs as chart_specs
from dashboard.core import formatting as fmt
from dashboard.core.filters import Filters
from dashboard.engine import page_reads, team
from dashboard.metrics.definitions import METRICS_BY_KEY
from dashboard.ui import cache, identity, sidebar, widgets

# Shown labels are the options themselves: a bound widget writes what it shows into the URL.
GRAINS = {"Jour": "day", "Semaine": "week"}

url = cache.db_url()
user, scope = identity.page_user()
st.title("Mes statistiques")
if scope.role != "agent" or not scope.site:
    st.error("Cette page présente les chiffres d'un agent rattaché à un site.")
    st.stop()

shared = sidebar.page_filters()
# Only the period and the channel are taken from the shared filters; the scope is the
# one identity gives for this run, whatever the session holds.
mine = Filters(start=shared.start, end=shared.end, channels=shared.channels, scope=scope)
site_name = dict(zip(*cache.coverage_periods(url).select("site", "site_name"))).get(
    scope.site, scope.site)
st.caption(
    f"{fmt.md_text(user.display_name or user.login)} · équipe de {fmt.md_text(site_name)} · "
    f"du {fmt.fr_date(mine.start)} "
    f"au {fmt.fr_date(mine.end)}"
    + (f" · {sidebar.CHANNEL_LABELS[mine.channels[0]].lower()} seulement" if mine.channels else "")
)


def team_medians(grain: str):
    return cache.team_medians(url, scope.site, mine.start, mine.end, grain, mine.channels)


total = cache.kpis(url, mine)
if team.own_rows(total).height == 0:
    st.info("Aucune activité enregistrée à votre nom sur cette période : choisissez une "
            "autre période dans le menu latéral.")
    st.stop()

period_medians = team_medians("period")
shown = team.metrics_for(mine.channels)
# Volumes on the first row, how the contacts went on the second (labels stay readable).
rows = [[m for m in ("answered", "emails_replied", "acts") if m in shown],
        [m for m in ("aht_seconds", "online_promotion_rate") if m in shown]]
for metrics in filter(None, rows):
    for tile, metric in zip(st.columns(3), metrics):
        unit = METRICS_BY_KEY[metric].unit
        row = team.compare(total, period_medians, "period", metric).row(0, named=True)
        with tile.container(border=True):
            st.metric(METRICS_BY_KEY[metric].label, fmt.format_value(row["own"], unit))
            st.caption(f"Médiane de l'équipe : **{fmt.format_value(row['median'], unit)}**")

st.markdown(
    f"La **médiane de l'équipe** est la valeur du milieu parmi les agents de "
    f"{fmt.md_text(site_name)} "
    "actifs sur la même période : la moitié fait plus, l'autre moitié moins. Elle est "
    "anonyme : aucun nom ni chiffre individuel n'est montré ni téléchargeable. Elle n'est "
    f"donnée qu'à partir de {team.MIN_AGENTS} agents actifs (« — » sinon), car en deçà "
    "elle révélerait le chiffre d'un collègue."
)
if len(shown) < len(team.AGENT_METRICS):
    st.caption("Avec un seul canal choisi, seuls les indicateurs de ce canal sont montrés "
               "(les actes de gestion ne sont pas rattachés à un canal).")
st.caption(
    "Appels décrochés et durée de traitement : vos appels du jour. Courriels traités : "
    "courriels reçus ce jour-là auxquels vous avez répondu, même plus tard. Promotion des "
    "services en ligne : part de vos contacts traités où elle a été faite."
)

own_plan = cache.adherence(url, Filters(start=mine.start, end=mine.end, scope=scope)).filter(
    pl.col("grain") == "agent")
if own_plan.height:
    st.header("Respect de mon planning")
    plan_medians = dict(zip(*cache.team_adherence(url, scope.site, mine.start, mine.end)
                            .select("metric", "median")))
    mine_row = own_plan.row(0, named=True)
    for tile, (key, label, text) in zip(st.columns(2), (
            ("adherence", "Respect du planning",
             "Part de vos minutes planifiées au téléphone ou aux courriels pendant lesquelles "
             "vous étiez connecté."),
            ("conformance", "Conformité au planning",
             "Vos minutes connectées les jours planifiés / vos minutes planifiées hors "
             "pause."))):
        with tile.container(border=True):
            st.metric(label, fmt.fr_percent(mine_row[key]), help=text)
            st.caption(f"Médiane de l'équipe : **{fmt.fr_percent(plan_medians.get(key))}**")

choice = st.segmented_control(
    "Détail par", list(GRAINS), default="Jour", required=True, key="maille",
    bind="query-params",
    help="Semaines ISO (du lundi au dimanche), coupées aux bornes de la période.",
)
grain = GRAINS.get(choice, "day")
own = cache.kpis(url, mine, (grain,), None, page_reads.AGENT_OWN)
medians = team_medians(grain)
columns = st.columns(2)
for i, metric in enumerate(shown):
    comparison = team.compare(own, medians, grain, metric)
    with columns[i % 2]:
        widgets.chart_block(
            chart_specs.spec(charts.own_vs_team, comparison, metric, grain),
            charts.reading(comparison, metric, grain),
            charts.comparison_table(comparison, metric, grain),
            f"mes-statistiques-{metric}-{grain}-{mine.start}-{mine.end}.csv",
            key=f"dl-{metric}-{grain}",
        )
