"""The staff barometer (spec/review-data.md): per group, its respondents and, per
question, the mean answer (1–5) and the share of answers 4 or 5.

Grain: one row per group, wave × population × site × département (a response names a
site, a département or both; the key carries both columns, null where absent).

The small-group rule: a group with fewer than MIN_RESPONDENTS respondents is never shown,
exported or reported. `barometer` keeps only its key and `hidden = True`: every figure of
it, its respondents included, is null in the one frame it returns, so no later step can
show one. A question answered fewer than MIN_RESPONDENTS times in a shown group is nulled
the same way (a group of five where one answered would show that one's answer). The text
shown instead is dashboard.core.formatting.SMALL_GROUP. Groups are disjoint: a page that
shows a total beside its parts (a wave's national figure and its sites') must not let a
hidden part be read as the difference.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

MIN_RESPONDENTS = 5
GROUP_KEYS = ("wave", "population", "site", "department")
AGREE = 4  # an answer of 4 or 5 agrees


def figure_columns(questions: Sequence[str]) -> list[str]:
    """The figure columns of `barometer` for QUESTIONS, in order."""
    return ["respondents", *[f"{q}_{kind}" for q in questions for kind in ("mean", "share_4plus")]]


def barometer(responses: pl.DataFrame, questions: Sequence[str]) -> pl.DataFrame:
    """Staff-survey RESPONSES (GROUP_KEYS, then one 1–5 column, nullable, per question of
    QUESTIONS, e.g. store.schema.STAFF_QUESTIONS) → one row per group: GROUP_KEYS,
    `hidden`, `respondents`, `<question>_mean`, `<question>_share_4plus`; a hidden group's
    figures are all null (see the module docstring)."""
    keys = list(GROUP_KEYS)
    stats = [pl.len().cast(pl.Int64).alias("respondents")]
    for q in questions:
        answered = pl.col(q).is_not_null()
        stats += [
            pl.col(q).cast(pl.Float64).mean().alias(f"{q}_mean"),
            (pl.col(q).filter(answered) >= AGREE).mean().cast(pl.Float64)
            .alias(f"{q}_share_4plus"),
            answered.sum().cast(pl.Int64).alias(f"_{q}_n"),
        ]
    groups = responses.group_by(keys).agg(stats)
    hidden = pl.col("respondents") < MIN_RESPONDENTS
    figures = [pl.when(~hidden).then(pl.col("respondents")).alias("respondents")]
    for q in questions:
        shown = ~hidden & (pl.col(f"_{q}_n") >= MIN_RESPONDENTS)
        figures += [pl.when(shown).then(pl.col(f"{q}_{kind}")).alias(f"{q}_{kind}")
                    for kind in ("mean", "share_4plus")]
    return groups.select(*keys, hidden.alias("hidden"), *figures).sort(
        keys, nulls_last=True)
