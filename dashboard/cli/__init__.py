"""`python -m dashboard …`: the command line (main) and one module per subcommand (demo,
ingest, kpis, report, rollups, staffing, users; options holds the shared --db option).

May import every layer but ui and pages: the CLI runs without Streamlit.
"""
