"""`python -m dashboard.serve`: one Streamlit process on the entry script
(dashboard/ui/app.py), or several behind the reverse proxy (proxy).

Imports nothing from the other layers: it starts them in Streamlit processes.
"""
