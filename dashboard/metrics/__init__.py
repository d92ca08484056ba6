"""Pure Polars: the formulas of spec/metrics.md, each declared once. The registry
(definitions: METRICS, STATS, what a grouping cannot measure), then by subject: grouping,
phone, email (and the backlog), handled (handled contacts, repeats, acts), sessions
(logged-in time and time bases), staffing (Erlang requirements; Erlang C and A in
erlang), formulas (stage 2: statistics → KPIs), the team medians (medians), the users' survey
answers (surveys), and the review's other figures: the relief of local services
(relief), tool availability and training (tools), the staff barometer (barometer), the
contacts forecast with its backtest (forecast), schedule adherence (adherence), and the
rules of threshold alerts (alerts).

No database, no Streamlit: frames in, frames out. May import dashboard.core only.
"""
