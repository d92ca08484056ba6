"""The drill-down's contact rows as the French table shown on screen and offered as CSV
and Excel (page "Détail des contacts"; the rows come from queries/contact_rows.py)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

import polars as pl

from dashboard.charts import exports
from dashboard.charts.tables import CHANNEL_LABELS, agent_label
from dashboard.core import formatting as fmt
from dashboard.core import localtime
from dashboard.core.access import Scope

OUTCOME_LABELS = {
    "answered": "Décroché", "abandoned": "Abandonné", "deflected": "Dissuadé",
    "ivr": "Serveur vocal",
    "replied": "Répondu", "pending": "En attente", "closed": "Clos",
}
PROMOTED_LABELS = {True: "oui", False: "non", None: fmt.MISSING}
SECONDS = ("Attente (s)", "Conversation (s)", "Post-appel (s)")


def slot_range_label(slot: int) -> str:
    """13 → "06:30–07:00" (a local half-hour slot, start–end)."""
    return f"{localtime.slot_label(slot)}–{localtime.slot_label(slot + 1)}"


def _sort_key(label: str) -> str:
    # Accents after their letter, not after "z": "Émilie" sorts with "Emma".
    return unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().casefold()


def agent_choices(
    agent_ids: Sequence[str | None], scope: Scope, names: Mapping[str, str]
) -> dict[str, str | None]:
    """Label → agent id for the agent picker, by label, "non attribué" (None) last.

    Labels are as the table shows them to SCOPE (names, ids, or pseudonyms for the
    national view); two agents of the same name are told apart by their id.
    """
    out: dict[str, str | None] = {}
    for agent_id in agent_ids:
        label = agent_label(agent_id, scope, scope.site, names)
        if label in out and agent_id is not None and scope.role != "national":
            label = f"{label} ({agent_id})"
        out[label] = agent_id
    return dict(sorted(out.items(), key=lambda item: (item[1] is None, _sort_key(item[0]))))


def display_rows(
    frame: pl.DataFrame,
    scope: Scope,
    *,
    site_names: Mapping[str, str] | None = None,
    department_names: Mapping[str, str] | None = None,
    agent_names: Mapping[str, str] | None = None,
    with_date: bool = False,
) -> pl.DataFrame:
    """Contact rows → French columns: local time (the site's wall clock), labels, seconds,
    agent as SCOPE may see them; a Date column (a date) first WITH_DATE (the downloads)."""
    site_names = site_names or {}
    department_names = department_names or {}
    agent_names = agent_names or {}
    records = frame.to_dicts()
    columns: dict[str, list] = {}
    if with_date:
        columns["Date"] = [r["received_local"].date() for r in records]
    columns["Heure"] = [f"{r['received_local']:%H:%M:%S}" for r in records]
    columns["Canal"] = [CHANNEL_LABELS.get(r["channel"], r["channel"]) for r in records]
    columns["Issue"] = [OUTCOME_LABELS.get(r["outcome"], r["outcome"]) for r in records]
    columns["Attente (s)"] = [r["wait_seconds"] for r in records]
    columns["Conversation (s)"] = [r["talk_seconds"] for r in records]
    columns["Post-appel (s)"] = [r["wrap_seconds"] for r in records]
    columns["Agent"] = [agent_label(r["agent_id"], scope, r["site"], agent_names)
                        for r in records]
    columns["Département"] = [
        f"{r['department']} {department_names[r['department']]}"
        if r["department"] in department_names else r["department"] for r in records]
    columns["File"] = [r["queue"] or fmt.MISSING for r in records]
    columns["Site"] = [site_names.get(r["site"], r["site"]) for r in records]
    columns["Promotion en ligne"] = [PROMOTED_LABELS[r["online_service_promoted"]]
                                     for r in records]
    columns["Identifiant"] = [r["contact_id"] for r in records]
    types = {"Date": pl.Date} | dict.fromkeys(SECONDS, pl.Int64)
    return pl.DataFrame(columns, schema={name: types.get(name, pl.String) for name in columns})


def export_table(table: pl.DataFrame) -> exports.Table:
    """TABLE (display_rows) for download: the seconds as seconds, the date as a date."""
    return exports.Table(table, dict.fromkeys(SECONDS, "seconds"))


def csv_text(table: pl.DataFrame) -> str:
    """TABLE as CSV, UTF-8 with a BOM, text cells neutralised (exports.csv_text)."""
    return exports.csv_text(export_table(table))
