"""Altair chart builders, one module per subject: a Polars frame in, a chart out.

No data access and no metric maths here: frames come from the metrics engine.
"""
