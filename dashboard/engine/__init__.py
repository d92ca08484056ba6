"""The KPI engine: `compute_kpis` (filters in, one row of KPIs per group out), the rollup
tables and their refresh, the day and week series, the team statistics, the reads each
page makes (page_reads) and the caches and background jobs behind them; and what the
pages and the CLI read of the forecast (forecasting), schedule adherence
(schedule_adherence) and threshold alerts (alert_reads).

May import dashboard.core, dashboard.store, dashboard.metrics and queries; never
Streamlit, charts, ui or pages. (SQLAlchemy's Engine, the database handle, is called
`db` or `engine` where it is passed; this package is the KPI engine.)
"""
