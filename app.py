"""Entry point: the frame of every page (page setup, database check, navigation)."""

import streamlit as st

from dashboard import cache

st.set_page_config(
    page_title="Centres de contact · tableau de bord",
    page_icon=":material/support_agent:",
    layout="wide",
    initial_sidebar_state="expanded",
)

problem = cache.database_problem(cache.db_url())
if problem:
    st.title("Tableau de bord des centres de contact")
    st.error(problem)
    st.stop()

pages = [
    st.Page("pages/accueil.py", title="Accueil", icon=":material/home:", url_path="accueil",
            default=True),
]
st.navigation(pages).run()
