"""Everything that imports Streamlit: the entry script (app: identity → the role's pages
→ st.navigation), the sidebar and its shared filters, the banner, widgets, navigation
(which page at which URL for which role), identity and the app's caches (cache).

May import every layer below (core, store, metrics, queries, engine, charts, review);
never pages or cli.
"""
