"""The pilot simulation behind the embedded demo: the seed's two sites, their demand and
campaigns, the phone queue, e-mails, acts of management and agents' shifts, written to a
database through the store and summed into the rollups.

May import dashboard.core, store, metrics and engine; never Streamlit, ui or pages.
"""
