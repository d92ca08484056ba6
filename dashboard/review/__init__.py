"""The pilot review: the figures derived for the Bilan page and the HTML report (report)
that the CLI and the page export.

May import dashboard.core, metrics, engine and charts; never Streamlit, ui or pages.
"""
