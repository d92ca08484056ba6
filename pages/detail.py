"""Détail des contacts: one day's calls and e-mails one by one — when a half-hour or a
département looks bad, the contacts behind it, 50 at a time, and as CSV or Excel."""

import streamlit as st

from dashboard.charts import contact_table as ct
from dashboard.charts import exports
from dashboard.charts.contact_table import OUTCOME_LABELS
from dashboard.core import formatting as fmt
from dashboard.core.filters import Filters
from dashboard.core.localtime import SLOTS_PER_DAY
from dashboard.engine import series
from dashboard.ui import cache, identity, sidebar, widgets
from queries import contact_rows as rows_q
from queries.contact_rows import Anchor, RowFilter

POSITION_KEY = "_detail_position"  # {"signature": (filters, narrowing), "anchor": Anchor}
_SECONDS = {"Attente (s)": "Attente avant décroché ou abandon, en secondes (appels).",
            "Conversation (s)": "Durée de conversation (de traitement pour un courriel), "
                                "en secondes.",
            "Post-appel (s)": "Travail après l'appel, en secondes."}
COLUMNS = {
    "Heure": st.column_config.TextColumn(help="Heure d'arrivée, heure locale du site."),
    "Issue": st.column_config.TextColumn(width=100),
    "Identifiant": st.column_config.TextColumn(
        help="Identifiant du contact dans l'outil de téléphonie ou de messagerie."),
    **{name: st.column_config.NumberColumn(format="%d", help=text)
       for name, text in _SECONDS.items()},
    "Promotion en ligne": st.column_config.TextColumn(
        help="Services en ligne promus pendant le contact : oui, non, — non renseigné."),
}

url = cache.db_url()
user, scope = identity.page_user()
shared = sidebar.page_filters()

st.title("Détail des contacts")
last = cache.last_day_with_data(url, scope, shared.sites)
span = cache.data_span(url, scope)
if last is None or span.first_day is None:
    st.info("Aucun contact pour ce site dans la base.")
    st.stop()

top = st.columns([1, 1, 2])
# Not "jour": a page link from Aujourd'hui would lose it when that page's own "jour"
# widget goes away.
day = widgets.day_input(top[0], last, span.first_day, span.last_day, key="date")
slot = top[1].selectbox(
    "Demi-heure", list(range(SLOTS_PER_DAY)), index=None, format_func=ct.slot_range_label,
    placeholder="Toute la journée", key="creneau", bind="query-params",
    help="Heure locale du site.",
)
outcomes = top[2].multiselect(
    "Issue", list(OUTCOME_LABELS), format_func=OUTCOME_LABELS.get, placeholder="Toutes",
    key="issue", bind="query-params",
    help="Appels : décroché, abandonné, dissuadé. Courriels : répondu, en attente, clos.",
)

day_filters = Filters(day, day, sites=shared.sites, departments=shared.departments,
                      channels=shared.channels, scope=scope)
choices = cache.contact_choices(url, day_filters)
names = cache.agent_names(url, scope)
agent_ids = ct.agent_choices(choices.agents, scope, names)

more = st.columns([1, 1, 2])
queue = more[0].selectbox("File", list(choices.queues), index=None, placeholder="Toutes",
                          key="file", bind="query-params")
agent = more[1].selectbox(
    "Agent", list(agent_ids), index=None, placeholder="Tous", key="agent",
    bind="query-params",
    help=f"« {fmt.UNASSIGNED} » : contacts sans agent identifié.",
)
min_wait = more[2].number_input(
    "Attente minimale (s)", min_value=0, value=None, step=10, placeholder="Aucune",
    key="attente", bind="query-params",
    help="Seulement les appels qui ont attendu au moins ce nombre de secondes "
         "(les courriels n'ont pas d'attente).",
)

filters = Filters(
    day, day, sites=shared.sites, departments=shared.departments, channels=shared.channels,
    queues=(queue,) if queue else (),
    agents=(agent_ids[agent],) if agent is not None and agent_ids.get(agent) else (),
    scope=scope,
)
narrowing = RowFilter(
    slot=slot, outcomes=tuple(outcomes),
    unassigned=agent is not None and agent in agent_ids and agent_ids[agent] is None,
    min_wait_seconds=int(min_wait) if min_wait is not None else None,
)

# The page's position: kept for this selection only; any change starts again at page 1.
signature = (filters, narrowing)
position = st.session_state.get(POSITION_KEY)
anchor = position["anchor"] if isinstance(position, dict) \
    and position.get("signature") == signature else None
page = cache.contact_page(url, filters, narrowing, anchor)

targets = cache.site_targets(url, scope)
site_names = dict(zip(targets["site"], targets["site_name"]))
periods = cache.coverage_periods(url)
dept_names = dict(zip(periods["department"], periods["department_name"]))
in_view = shared.sites or tuple(targets["site"])
where = ", ".join(fmt.md_text(site_names.get(s, s)) for s in in_view) or "tous les sites"
st.caption(f"**{series.fr_day(day)}** · {where} · heures locales du site, contacts dans "
           "l'ordre de leur arrivée")

if page.total == 0:
    st.info(f"Aucun contact ne correspond à cette sélection le {series.fr_day(day)}. "
            "Élargissez les filtres (demi-heure, issue, file, agent, attente minimale) ou "
            "ceux de la barre latérale.")
    st.stop()


def move(direction: str, key: rows_q.Key) -> None:
    """Remember the next page's anchor for this selection (a button's callback)."""
    st.session_state[POSITION_KEY] = {"signature": signature,
                                      "anchor": Anchor(direction, key)}


def page_buttons(where: str) -> None:
    """Previous and next page, with the rows shown (above and under the table)."""
    nav = st.columns([1, 1, 3], vertical_alignment="center")
    nav[0].button("Page précédente", icon=":material/chevron_left:", key=f"detail-prev{where}",
                  disabled=not page.has_previous, on_click=move,
                  args=("before", page.first_key()), width="stretch")
    nav[1].button("Page suivante", icon=":material/chevron_right:", icon_position="right",
                  key=f"detail-next{where}", disabled=not page.has_next, on_click=move,
                  args=("after", page.last_key()), width="stretch")
    nav[2].caption(f"Lignes {fmt.fr_number(page.first)} à {fmt.fr_number(page.last)} sur "
                   f"{fmt.fr_number(page.total)} · {rows_q.PAGE_SIZE} par page")


plural = "s" if page.total > 1 else ""
st.markdown(f"**{fmt.fr_number(page.total)}** contact{plural} correspond{'ent' if plural else ''}"
            " à la sélection")
if page.total > rows_q.PAGE_SIZE:
    page_buttons("-top")
table = ct.display_rows(page.rows, scope, site_names=site_names,
                            department_names=dept_names, agent_names=names)
# One site in view: its name on every row says nothing (the CSV keeps it).
shown = [c for c in table.columns if not (c == "Site" and len(in_view) == 1)]
widgets.data_table(
    table, height="content", placeholder=fmt.MISSING,
    column_order=shown, column_config=COLUMNS,
    alt=f"Contacts {fmt.fr_number(page.first)} à {fmt.fr_number(page.last)} sur "
        f"{fmt.fr_number(page.total)} du {series.fr_day(day)}, dans l'ordre d'arrivée.",
)
page_buttons("")


def export_data() -> exports.Table:
    """Every matching row (up to the cap), read only when a download is asked for."""
    frame = cache.contact_export(url, filters, narrowing, rows_q.EXPORT_CAP)
    return ct.export_table(ct.display_rows(
        frame, scope, site_names=site_names, department_names=dept_names, agent_names=names,
        with_date=True))


exported = min(page.total, rows_q.EXPORT_CAP)
rows_label = f"les {fmt.fr_number(exported)} lignes" if exported > 1 else "la ligne"
widgets.download_pair(export_data, f"contacts-{day.isoformat()}.csv", key="dl-detail",
                      label=f"Télécharger {rows_label}", sheet="Contacts")
if page.total > rows_q.EXPORT_CAP:
    st.warning(f"Le fichier est limité aux {fmt.fr_number(rows_q.EXPORT_CAP)} premières lignes "
               f"sur {fmt.fr_number(page.total)} : précisez la sélection (demi-heure, issue, "
               "file, agent) pour obtenir les suivantes.", icon=":material/warning:")
