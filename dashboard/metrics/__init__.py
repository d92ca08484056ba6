"""Pure Polars: the formulas of spec/metrics.md, each declared once, grouped by subject
(phone, e-mail and backlog, acts, sessions and time bases, staffing), with Erlang C and A
(erlang) and the team medians (medians).

No database, no Streamlit: frames in, frames out. May import dashboard.core only.
"""
