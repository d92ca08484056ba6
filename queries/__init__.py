"""The SQL the dashboard needs: one named query per question, bound parameters only.

Every function takes an open SQLAlchemy connection and returns a Polars frame with
declared dtypes (SQLite hands back dates and timestamps as text unless the query declares
the column types, so every query selects typed table columns and the frame is built with
an explicit schema).

May import dashboard.core and dashboard.store only; never the engine, ui or pages.
"""
