"""Entry point: the frame of every page — who is the user, which pages, shared filters."""

import streamlit as st

from dashboard.core.access import ROLE_LABELS, scope_for
from dashboard.core.formatting import md_text
from dashboard.ui import banner, cache, identity, navigation, sidebar

st.set_page_config(
    page_title="Centres de contact · tableau de bord",
    page_icon=":material/support_agent:",
    layout="wide",
    initial_sidebar_state="expanded",
)

url = cache.db_url()
problem = cache.database_problem(url)
if problem:
    st.title("Tableau de bord des centres de contact")
    st.error(problem)
    st.stop()

mode, user = identity.resolve_user(url)
if user is None:
    st.session_state.pop("_dashboard_user", None)
    st.title("Accès non autorisé")
    if mode is None:
        st.error("Aucun mode d'identification n'est configuré (DASHBOARD_AUTH_MODE).")
    else:
        st.error("Votre identifiant n'est pas autorisé à consulter ce tableau de bord. "
                 "Demandez un accès à l'administrateur.")
    st.stop()

identity.remember(user)
scope = scope_for(user)
st.sidebar.caption(f"{md_text(user.display_name or user.login)} · {ROLE_LABELS[user.role]}")

# A path that is no page of the role gets a stand-in running the role's home, with a
# French message: never Streamlit's English "Page not found", never the other page.
requested = navigation.requested_path()
refused = navigation.refusal(user.role, requested)
current = st.navigation(navigation.st_pages(user.role, requested if refused else None))
filters = sidebar.render_filters(url, scope, current.url_path)
banner.render(ROLE_LABELS[user.role], banner.place(url, scope, filters))
if refused and current.url_path == requested:
    st.warning(refused, icon=":material/info:")
current.run()
