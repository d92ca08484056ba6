"""Aujourd'hui: a day of a site at a glance — tiles against target and a week earlier,
calls and agents per half-hour, per-département and per-agent tables."""

import datetime as dt
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard.charts import exports
from dashboard.charts import forecast as forecast_charts
from dashboard.charts import specs as chart_specs
from dashboard.charts import tables
from dashboard.charts import today as charts
from dashboard.core import config
from dashboard.core import formatting as fmt
from dashboard.core.config import DEFAULT_TIMEZONE, default_thresholds
from dashboard.core.filters import Filters
from dashboard.engine import page_reads, series
from dashboard.metrics import alerts as alert_rules
from dashboard.metrics.definitions import METRICS_BY_KEY
from dashboard.ui import cache, identity, navigation, sidebar, widgets

REFRESH_SECONDS = cache.LIVE_TTL_SECONDS
FORECAST_DAYS = 7  # "Demain et les jours suivants": the next week
# (metric, tiles row); the target and delta colour rules live in dashboard.series.
TILES = (
    ("received", 0), ("answer_rate", 0), ("service_level", 0), ("asa_seconds", 0),
    ("aht_seconds", 0), ("abandoned", 1), ("emails_received", 1), ("backlog", 1),
    ("reply_within_48h_rate", 1), ("acts", 1),
)
DEPARTMENT_METRICS = ("received", "answer_rate", "service_level", "asa_seconds", "abandoned",
                      "emails_received", "backlog", "reply_within_48h_rate", "acts")
AGENT_METRICS = ("answered", "aht_seconds", "emails_replied", "acts", "agent_hours",
                 "occupancy")

url = cache.db_url()
user, scope = identity.page_user()
shared = sidebar.page_filters()

# Wallboard (supervisors' screen): `?wallboard=1` shows the tiles and the intraday chart
# only, in large type, without the sidebar, on the latest day with data, refreshed every
# DASHBOARD_WALLBOARD_REFRESH_SECONDS.
wallboard = st.query_params.get("wallboard") == "1"
if wallboard:
    widgets.wallboard_style()
st.title("Aujourd'hui" + (" · écran mural" if wallboard else ""))
last = cache.last_day_with_data(url, scope, shared.sites)
span = cache.data_span(url, scope)
if last is None or span.first_day is None:
    st.info("Aucun contact pour ce site dans la base.")
    st.stop()

if wallboard:
    chosen_day, auto = last, True
    refresh_seconds = config.wallboard_refresh_seconds()
else:
    controls = st.columns([1, 2], vertical_alignment="bottom")
    chosen_day = widgets.day_input(controls[0], last, span.first_day, span.last_day)
    auto = controls[1].toggle(
        "Actualisation automatique", key="auto", bind="query-params",
        help=f"Recalcule la page toutes les {REFRESH_SECONDS} secondes. Pour l'écran mural "
             "des superviseurs, ouvrez la page avec ?wallboard=1 dans l'adresse.",
    )
    refresh_seconds = REFRESH_SECONDS

targets = cache.site_targets(url, scope)
site_names = dict(zip(targets["site"], targets["site_name"]))
in_view = shared.sites or tuple(targets["site"])
goal = series.targets_for(targets, in_view, default_thresholds())
tz = targets["timezone"][0] if len(in_view) == 1 and targets.height else DEFAULT_TIMEZONE
where = ", ".join(fmt.md_text(site_names.get(s, s)) for s in in_view) or "tous les sites"


def tile(column, key: str, now: dict, before: dict | None) -> None:
    """One st.metric: value, target badge, change against the same weekday a week earlier."""
    metric = METRICS_BY_KEY[key]
    label, help_text = metric.label, metric.definition
    target = goal.get(key)
    met = series.target_met(now[key], target)
    if met is not None:
        # Colour and icon together (never colour alone); the words are in the tooltip.
        # First, so that a long label cut short on a narrow tile never hides it.
        label = (":green[:material/check_circle:] " if met else ":red[:material/error:] ") + label
        help_text = (f"Objectif {fmt.fr_percent(target, 0)} : "
                     f"{'atteint' if met else 'non atteint'}. {help_text}")
    delta = series.kpi_delta(now[key], before[key], metric.unit) if before else None
    column.metric(
        label, fmt.format_value(now[key], metric.unit), delta,
        delta_color=series.delta_color(key), border=True, help=help_text,
    )


def alerts_view(day: dt.date) -> None:
    """The day's threshold alerts, first: one warning per open alert, one caption per
    alert that recovered (the wallboard shows the open ones only)."""
    episodes = cache.day_alerts(url, scope, tuple(in_view), day)
    named = len(in_view) > 1

    def prefix(ep) -> str:
        return f"{fmt.md_text(site_names.get(ep.site, ep.site))} · " if named else ""

    for ep in (e for e in episodes if e.is_open):
        st.warning(prefix(ep) + alert_rules.warning_line(ep),
                   icon=":material/notifications_active:")
    for ep in ([] if wallboard else [e for e in episodes if not e.is_open]):
        st.caption(f":material/check: {prefix(ep)}{alert_rules.recovered_line(ep)}")


def freshness_caption(today: Filters) -> None:
    """When the figures were computed, and from which last contact."""
    latest = series.local_time(cache.latest_received_at(url, today), tz)
    computed = dt.datetime.now(ZoneInfo(tz))
    freshness = (f"dernier contact reçu à {latest:%H:%M} le {fmt.fr_date(latest.date())}"
                 if latest else "aucun contact reçu")
    st.caption(f"Données : {freshness} · page calculée à {computed:%H:%M:%S}"
               + (f" · actualisation toutes les {refresh_seconds} s" if auto else ""))


@st.fragment(run_every=refresh_seconds if auto else None)
def live_view() -> None:
    """Everything computed from the day's figures (re-run alone by the auto-refresh)."""
    # The wallboard follows the data: past midnight it moves on to the new day.
    day = (cache.last_day_with_data(url, scope, shared.sites) or last) if wallboard \
        else chosen_day
    alerts_view(day)
    st.caption(f"**{series.fr_day(day)}** · {where}"
               + ("" if shared.sites or len(in_view) == 1 or wallboard
                  else " (choisissez un site dans la barre latérale pour le détail d'un site)"))
    today = Filters(day, day, sites=shared.sites, departments=shared.departments,
                    channels=shared.channels, scope=scope)
    now = cache.kpis_live(url, today, (), page_reads.TODAY_TILES).row(0, named=True)
    if not series.has_activity(now):
        message = f"Aucune activité le {series.fr_day(day)} pour cette sélection"
        if now["deflected"]:
            message += (f" : {fmt.fr_number(now['deflected'])} appels dissuadés, "
                        "le site était fermé")
        message += "."
        uncovered = series.uncovered_departments(
            cache.coverage_periods(url), shared.departments, day, day, shared.sites)
        for row in uncovered.iter_rows(named=True):
            since = (f"n'est couvert qu'à partir du {fmt.fr_date(row['first_day'])}"
                     if row["first_day"] else "n'est couvert par aucun site choisi")
            message += f" {row['department']} {fmt.md_text(row['department_name'])} {since}."
        st.info(message)
        return

    before_day = series.week_before(day)
    before = None
    if before_day >= span.first_day:
        past = Filters(before_day, before_day, sites=shared.sites,
                       departments=shared.departments, channels=shared.channels, scope=scope)
        before = cache.kpis(url, past, (), None, page_reads.TODAY_TILES).row(0, named=True)
    rows = (st.columns(5), st.columns(5))
    counters = [0, 0]
    for key, row in TILES:
        tile(rows[row][counters[row]], key, now, before)
        counters[row] += 1
    stated = [f"{METRICS_BY_KEY[k].label.lower()} {fmt.fr_percent(v, 0)}"
              for k, v in goal.items() if v is not None]
    st.caption(
        (f"Objectifs : {', '.join(stated)} (:green[:material/check_circle:] atteint, "
         ":red[:material/error:] non atteint). " if stated else "")
        + (f"Évolution par rapport au {series.fr_day(before_day)}." if before
           else "Pas de données une semaine plus tôt pour comparer.")
    )
    if now["ivr_ended"]:
        # Counted apart: these callers never asked for an agent (spec/metrics.md).
        plural = "s" if now["ivr_ended"] > 1 else ""
        st.caption(f"Et {fmt.fr_number(now['ivr_ended'])} appel{plural} terminé{plural} au "
                   f"serveur vocal sans demander d'agent, compté{plural} à part (ni appels "
                   "reçus ni taux).")
    if not wallboard:
        # The same day on the drill-down page (the sidebar's filters follow by themselves).
        st.page_link(navigation.page_file("pages/detail.py"), label="Voir les contacts de ce jour",
                     icon=":material/table_rows:", query_params={"date": day.isoformat()})

    st.header("Au fil de la journée")
    slots = cache.kpis_live(url, today, ("slot",), page_reads.TODAY_SLOTS)
    slots = series.complete_slots(series.agents_per_slot(slots),
                                  ["offered", "answered", "abandoned"], ["offered", "agents"])
    if slots.filter(slots["offered"] > 0).height == 0:
        st.info("Aucun appel présenté ce jour-là pour cette sélection.")
    else:
        if wallboard:
            widgets.chart_only(chart_specs.spec(charts.intraday_chart, slots),
                               charts.intraday_reading(slots))
        else:
            widgets.chart_block(
                chart_specs.spec(charts.intraday_chart, slots),
                charts.intraday_reading(slots),
                charts.intraday_table(slots),
                f"appels-demi-heures-{day.isoformat()}.csv",
                key="dl-today-slots",
            )
    if wallboard:
        freshness_caption(today)
        return
    if slots.filter(slots["offered"] > 0).height:
        if slots["agents"].is_null().all():
            st.caption("Les agents connectés ne sont pas ventilés par département ni par "
                       "canal : retirez ces filtres pour les voir.")
        widgets.chart_block(
            chart_specs.spec(charts.service_level_chart, slots, goal.get("service_level")),
            charts.service_level_reading(slots, goal.get("service_level")),
            charts.service_level_table(slots),
            f"niveau-de-service-{day.isoformat()}.csv",
            key="dl-today-sl",
        )

    periods = cache.coverage_periods(url)
    dept_names = dict(zip(periods["department"], periods["department_name"]))
    st.header("Par département")
    by_dept = cache.kpis_live(url, today, ("department",), page_reads.TODAY_DEPARTMENTS)
    dept_table = tables.display_table(
        by_dept, ["department"], DEPARTMENT_METRICS, scope=scope,
        department_names=dept_names)
    widgets.data_table(dept_table)
    widgets.download_csv(dept_table, f"departements-{day.isoformat()}.csv", key="dl-today-dept",
                         export=exports.metric_table(by_dept, ["department"],
                                                     DEPARTMENT_METRICS, dept_table))

    st.header("Par agent")
    by_agent = series.active_rows(cache.kpis_live(url, today, ("site", "agent"),
                                                  page_reads.TODAY_AGENTS),
                                  ["answered", "emails_replied", "acts", "agent_hours"])
    if by_agent.height == 0:
        st.info("Aucun agent actif ce jour-là pour cette sélection.")
    else:
        agent_table = tables.display_table(
            by_agent, ["site", "agent"], AGENT_METRICS, scope=scope, site_names=site_names,
            agent_names=cache.agent_names(url, scope))
        widgets.data_table(agent_table)
        widgets.download_csv(agent_table, f"agents-{day.isoformat()}.csv", key="dl-today-agents",
                             export=exports.metric_table(by_agent, ["site", "agent"],
                                                         AGENT_METRICS, agent_table))
        st.caption("Les appels décrochés sans agent identifié figurent sur la ligne "
                   f"« {fmt.UNASSIGNED} ».")

    freshness_caption(today)


def next_days() -> None:
    """Demain et les jours suivants: the forecast of the site in view (one site only)."""
    st.header("Demain et les jours suivants")
    if len(in_view) != 1:
        st.info("Choisissez un site dans la barre latérale pour voir sa prévision.")
        return
    found = cache.forecast(url, scope, tuple(in_view), last, cache.FORECAST_HORIZON)
    if found is None or found[0].days.height == 0:
        st.info("Pas encore assez d'historique pour prévoir la charge de ce site.")
        return
    result, planned = found
    day = forecast_charts.next_open_day(result.slots)
    st.caption(f"Prévision établie à partir des données jusqu'au {fmt.fr_date(result.origin)} : "
               "total du jour (jour de la semaine, tendance, jours fériés, calendrier des "
               "campagnes et de leurs échéances, montée en charge) réparti selon le profil "
               "horaire des semaines récentes ; effectif requis par Erlang C.")
    if day is not None:
        frame = forecast_charts.day_slots(result.slots, planned, day)
        widgets.chart_block(
            chart_specs.spec(forecast_charts.calls_chart, frame),
            forecast_charts.calls_reading(frame, day),
            forecast_charts.slots_table(frame),
            f"prevision-demi-heures-{day.isoformat()}.csv", key="dl-forecast-slots")
        widgets.chart_only(chart_specs.spec(forecast_charts.staff_chart, frame),
                           "Agents requis par Erlang C pour l'objectif de niveau de service "
                           "du site, et agents planifiés sur le téléphone ou les courriels ; "
                           "les barres orange sont les demi-heures en sous-effectif.")
    st.subheader("Les sept prochains jours")
    days = forecast_charts.days_table(result.days, FORECAST_DAYS)
    widgets.data_table(days)
    widgets.download_csv(days, f"prevision-jours-{result.origin.isoformat()}.csv",
                         key="dl-forecast-days")


def eve_view() -> None:
    """The day in view: the forecast made on its eve beside the calls received."""
    if len(in_view) != 1:
        return
    eve = cache.eve_forecast(url, scope, tuple(in_view), chosen_day)
    if eve is None:
        return
    site_day = Filters(chosen_day, chosen_day, sites=tuple(in_view), scope=scope)
    actual = cache.kpis(url, site_day, ("slot",), None, ("received",))
    frame = forecast_charts.eve_slots(eve.slots, actual, chosen_day)
    if frame.height == 0:
        return
    st.header("Prévu la veille et réalisé")
    st.caption(f"{series.fr_day(chosen_day)} : la prévision faite avec les données "
               "jusqu'à la veille, comme si la journée était encore à venir.")
    widgets.chart_block(
        chart_specs.spec(forecast_charts.eve_chart, frame),
        forecast_charts.eve_reading(frame, chosen_day),
        forecast_charts.eve_table(frame),
        f"prevu-la-veille-{chosen_day.isoformat()}.csv", key="dl-forecast-eve")


live_view()
if not wallboard:
    eve_view()
    next_days()
