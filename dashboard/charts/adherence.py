"""Schedule adherence on screen (frames from dashboard.engine.schedule_adherence): the
per-agent and per-site table of Effectifs, and its reading."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from dashboard.core import formatting as fmt

LOW_ADHERENCE = 0.8  # below this an agent's row is named in the reading


def _hours(column: str) -> pl.Expr:
    return (pl.col(column) / 60).map_elements(fmt.fr_hours, return_dtype=pl.String)


def _percent(column: str) -> pl.Expr:
    return pl.col(column).map_elements(fmt.fr_percent, return_dtype=pl.String,
                                       skip_nulls=False)


def display(table: pl.DataFrame, site_names: Mapping[str, str],
            agent_names: Mapping[str, str]) -> pl.DataFrame:
    """TABLE (adherence_table rows, ids already presented for the scope) → the French table:
    one row per agent, then one per site (« Ensemble du site »)."""
    def agent(row_id: str | None) -> str:
        if row_id is None:
            return "Ensemble du site"
        name = agent_names.get(row_id)
        return f"{name} ({row_id})" if name else row_id

    ordered = table.sort(pl.col("site"), pl.col("grain") == "site", pl.col("agent_id"))
    return ordered.select(
        pl.col("site").replace_strict(dict(site_names), default=pl.col("site"),
                                      return_dtype=pl.String).alias("Site"),
        pl.col("agent_id").map_elements(agent, return_dtype=pl.String, skip_nulls=False)
        .alias("Agent"),
        _hours("planned_contact_minutes").alias("Heures planifiées sur les contacts"),
        _hours("adherent_minutes").alias("Dont connecté"),
        _percent("adherence").alias("Respect du planning"),
        _hours("planned_minutes").alias("Heures planifiées (hors pause)"),
        _hours("logged_minutes").alias("Heures connectées"),
        _percent("conformance").alias("Conformité"),
    )


def reading(table: pl.DataFrame, site_names: Mapping[str, str]) -> str:
    """One sentence per site: adherence and conformance, the agents below LOW_ADHERENCE."""
    parts = []
    for row in table.filter(pl.col("grain") == "site").sort("site").iter_rows(named=True):
        below = table.filter((pl.col("grain") == "agent") & (pl.col("site") == row["site"])
                             & (pl.col("adherence") < LOW_ADHERENCE)).height
        parts.append(
            f"{site_names.get(row['site'], row['site'])} : respect du planning "
            f"{fmt.fr_percent(row['adherence'])}, conformité {fmt.fr_percent(row['conformance'])}"
            + (f", {fmt.fr_number(below)} agent{'s' if below > 1 else ''} sous "
               f"{fmt.fr_percent(LOW_ADHERENCE, 0)} de respect" if below else ""))
    return " ; ".join(parts) + "." if parts else "Aucun planning importé sur la période."
