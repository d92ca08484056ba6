"""The pilot simulation behind the embedded demo: the seed's two sites, their demand and
campaigns (demand), agents and shifts (agents), the phone queue (queue), calls, e-mails,
caller keys and acts (contacts), written to a database and summed into the rollups by
simulation (build_demo).

May import dashboard.core, store, metrics and engine; never Streamlit, ui or pages.
"""
