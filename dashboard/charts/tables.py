"""KPI frames → tables for people: French column labels, French formats, agent labels.

The same table is shown on screen and offered as CSV, so a download holds exactly the
figures on screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from dashboard.core import formatting as fmt
from dashboard.core.access import Scope, pseudonym
from dashboard.metrics.definitions import METRICS_BY_KEY

DIMENSION_LABELS = {
    "day": "Jour", "week": "Semaine", "month": "Mois", "slot": "Créneau", "site": "Site",
    "department": "Département", "channel": "Canal", "queue": "File", "agent": "Agent",
    "campaign": "Campagne",
}
CHANNEL_LABELS = {"phone": "Téléphone", "email": "Courriel"}


def agent_label(agent_id: str | None, scope: Scope, site: str | None,
                names: Mapping[str, str]) -> str:
    """How an agent is shown to SCOPE: its name, its id, or a pseudonym (national view)."""
    if agent_id is None:
        return fmt.UNASSIGNED
    if scope.role == "national":
        return pseudonym(agent_id)
    if scope.may_see_agent_names(site) and agent_id in names:
        return names[agent_id]
    return agent_id


def display_table(
    frame: pl.DataFrame,
    by: Sequence[str],
    metrics: Sequence[str],
    *,
    scope: Scope,
    site_names: Mapping[str, str] | None = None,
    department_names: Mapping[str, str] | None = None,
    agent_names: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Group keys then METRICS of FRAME, as French text columns with French labels."""
    site_names = site_names or {}
    department_names = department_names or {}
    agent_names = agent_names or {}
    columns: dict[str, list[str]] = {}
    rows = frame.iter_rows(named=True)
    records = list(rows)
    for dim in by:
        values = []
        for row in records:
            key = row[dim]
            if dim == "site":
                values.append(site_names.get(key, key) if key else fmt.MISSING)
            elif dim == "department":
                values.append(f"{key} {department_names[key]}" if key in department_names
                              else fmt.format_key(key, dim))
            elif dim == "channel":
                values.append(CHANNEL_LABELS.get(key, fmt.format_key(key, dim)))
            elif dim == "agent":
                values.append(agent_label(key, scope, row.get("site"), agent_names))
            else:
                values.append(fmt.format_key(key, dim))
        columns[DIMENSION_LABELS[dim]] = values
    for key in metrics:
        metric = METRICS_BY_KEY[key]
        columns[metric.label] = [fmt.format_value(row[key], metric.unit) for row in records]
    return pl.DataFrame(columns, schema={name: pl.String for name in columns})
