"""Altair chart builders, one module per subject: a Polars frame in, a chart out; the chart
specs cache (specs), the French tables (tables, contact_table).

No data access and no metric maths here: frames come from the engine. May import
dashboard.core, metrics and engine (for the names of what they return); never ui or pages.
"""
