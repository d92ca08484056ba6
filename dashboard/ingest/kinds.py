"""The four import kinds of spec/data-contract.md: columns, keys and target tables."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table

from dashboard.store import schema


@dataclass(frozen=True)
class Kind:
    """What one import kind accepts and where it goes."""

    name: str
    table: Table
    key: tuple[str, ...]  # natural key in the table (with "source" for raw records)
    id_column: str  # the column that names a record in messages ("duplicate contact_id")
    required: tuple[str, ...]  # columns that must be in the header and filled on every row
    optional: tuple[str, ...]
    timestamps: tuple[str, ...] = ()
    durations: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    # Columns that --site / --department may stand in for when absent or empty.
    site_default: bool = True
    department_default: bool = False
    # The timestamp that gives local_date (and local_slot when with_slot).
    local_from: str | None = None
    with_slot: bool = False
    lengths: tuple[tuple[str, int], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the kind knows, required first."""
        return self.required + self.optional

    def required_in_header(self, site: str | None, department: str | None) -> tuple[str, ...]:
        """Required columns that must be in the header given the command-line defaults."""
        skip = set()
        if self.site_default and site:
            skip.add("site")
        if self.department_default and department:
            skip.add("department")
        return tuple(c for c in self.required if c not in skip)


CONTACTS = Kind(
    name="contacts",
    table=schema.contacts,
    key=("source", "contact_id"),
    id_column="contact_id",
    required=("contact_id", "channel", "site", "department", "received_at", "outcome"),
    optional=("queue", "answered_at", "ended_at", "wait_seconds", "talk_seconds",
              "wrap_seconds", "agent_id", "online_service_promoted", "caller_id"),
    timestamps=("received_at", "answered_at", "ended_at"),
    durations=("wait_seconds", "talk_seconds", "wrap_seconds"),
    booleans=("online_service_promoted",),
    department_default=True,
    local_from="received_at",
    with_slot=True,
    lengths=(("contact_id", 128), ("site", 32), ("queue", 64), ("agent_id", 64)),
)

ACTS = Kind(
    name="acts",
    table=schema.acts,
    key=("source", "act_id"),
    id_column="act_id",
    required=("act_id", "performed_at", "act_type", "site", "department", "agent_id"),
    optional=("contact_id",),
    timestamps=("performed_at",),
    department_default=True,
    local_from="performed_at",
    with_slot=True,
    lengths=(("act_id", 128), ("act_type", 64), ("site", 32), ("agent_id", 64),
             ("contact_id", 128)),
)

AGENTS = Kind(
    name="agents",
    table=schema.agents,
    key=("agent_id",),
    id_column="agent_id",
    required=("agent_id", "site"),
    optional=("display_name", "team", "active"),
    booleans=("active",),
    lengths=(("agent_id", 64), ("site", 32), ("display_name", 100), ("team", 64)),
)

AGENT_SESSIONS = Kind(
    name="agent-sessions",
    table=schema.agent_sessions,
    key=("source", "agent_id", "start_at"),
    id_column="session",
    required=("agent_id", "site", "start_at", "end_at"),
    optional=(),
    timestamps=("start_at", "end_at"),
    local_from="start_at",
    with_slot=False,
    lengths=(("agent_id", 64), ("site", 32)),
)

KINDS: dict[str, Kind] = {k.name: k for k in (CONTACTS, ACTS, AGENTS, AGENT_SESSIONS)}
