"""`python -m dashboard.serve`: one Streamlit process on the entry script
(dashboard/ui/app.py), or several behind the reverse proxy (proxy).

Imports only core (the settings, and which proxy header mode trusts): it starts the
other layers in Streamlit processes.
"""
