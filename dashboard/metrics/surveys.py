"""Stage 1 of the users' survey figures (spec/review-data.md): answer counts per group.

The counts come from the database already summed per combination of raw columns
(queries.surveys); this sums them per group of BY. Stage 2 (formulas) turns them into
survey_responses, csat_rate, mean_satisfaction, perceived_resolution_rate and
survey_response_rate.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dashboard.metrics.grouping import aggregate, cast_stats

# The query's count columns → the statistics of dashboard.metrics.definitions.STATS.
_STATS = {"n": "sv_responses", "satisfied": "sv_satisfied", "score_sum": "sv_score_sum",
          "resolved": "sv_resolved", "resolved_given": "sv_resolved_given"}


def survey_stats(counts: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed answer counts (queries.surveys.survey_counts) → the survey statistics per group."""
    return cast_stats(aggregate(counts, by, [pl.col(raw).sum().alias(stat)
                                             for raw, stat in _STATS.items()]))
