"""The import kinds of spec/data-contract.md and spec/review-data.md: columns, keys and
target tables."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table

from dashboard.store import schema


@dataclass(frozen=True)
class Number:
    """A numeric column: whole or not, and the range its values must fall in."""

    name: str
    whole: bool = True
    low: float = 0
    high: float | None = None
    low_excluded: bool = False  # True: LOW itself is refused (hours > 0)

    @property
    def rule(self) -> str:
        """The reason of a value out of range: "negative received", "hours must be above 0"."""
        if self.high is None:
            if self.low == 0 and not self.low_excluded:
                return f"negative {self.name}"
            floor = "above" if self.low_excluded else "at least"
            return f"{self.name} must be {floor} {self.low:g}"
        if self.low_excluded:
            return f"{self.name} must be above {self.low:g} and at most {self.high:g}"
        return f"{self.name} must be {self.low:g} to {self.high:g}"


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
    dates: tuple[str, ...] = ()  # local calendar dates, ISO `2015-03-02`
    numbers: tuple[Number, ...] = ()
    # Columns whose value must be one of a list (lower-cased first): "unknown channel".
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Header names (any case) the kind refuses to store: a row with a value there is
    # rejected, and the value is left out of the quarantine file too.
    forbidden: tuple[str, ...] = ()
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

    @property
    def typed(self) -> tuple[str, ...]:
        """Columns turned from text into typed values (their text is kept for reasons)."""
        return (self.timestamps + self.durations + self.booleans + self.dates
                + tuple(n.name for n in self.numbers))

    def forbidden_in(self, header: list[str]) -> list[str]:
        """The names of HEADER this kind refuses to store (see `forbidden`)."""
        return [name for name in header if name.lower() in self.forbidden]

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

# -- the review's other records (spec/review-data.md) ---------------------------------------
# --site / --department stand in only where a file may well be one site's or one
# département's and an empty cell means nothing else: an incident without a site concerns
# every site, and a barometer answer is filed under the site or département it names.

LOCAL_RECEPTION = Kind(
    name="local-reception",
    table=schema.local_reception,
    key=("source", "record_id"),
    id_column="record_id",
    required=("record_id", "department", "service", "day", "channel", "received"),
    optional=("handled", "staff_hours"),
    dates=("day",),
    numbers=(Number("received"), Number("handled"), Number("staff_hours", whole=False)),
    choices=(("channel", schema.RECEPTION_CHANNELS),),
    site_default=False,
    department_default=True,
    lengths=(("record_id", 128), ("service", 32)),
)

SURVEYS = Kind(
    name="surveys",
    table=schema.surveys,
    key=("source", "response_id"),
    id_column="response_id",
    required=("response_id", "answered_at", "site", "department", "channel", "satisfaction"),
    optional=("resolved", "knew_number", "contact_id", "comment"),
    timestamps=("answered_at",),
    booleans=("resolved", "knew_number"),
    numbers=(Number("satisfaction", low=1, high=5),),
    choices=(("channel", schema.CHANNELS),),
    department_default=True,
    local_from="answered_at",
    lengths=(("response_id", 128), ("site", 32), ("contact_id", 128)),
)

# Names an export may give the agent's identifier: never accepted in the anonymous barometer.
AGENT_ID_NAMES = ("agent_id", "agent", "matricule", "login")

STAFF_SURVEYS = Kind(
    name="staff-surveys",
    table=schema.staff_surveys,
    key=("source", "response_id"),
    id_column="response_id",
    required=("response_id", "wave", "population"),
    optional=("site", "department", *schema.STAFF_QUESTIONS),
    dates=("wave",),
    numbers=tuple(Number(q, low=1, high=5) for q in schema.STAFF_QUESTIONS),
    choices=(("population", schema.STAFF_POPULATIONS),),
    forbidden=AGENT_ID_NAMES,
    site_default=False,
    lengths=(("response_id", 128), ("site", 32)),
)

INCIDENTS = Kind(
    name="incidents",
    table=schema.incidents,
    key=("source", "incident_id"),
    id_column="incident_id",
    required=("incident_id", "component", "start_at", "end_at", "severity"),
    optional=("site", "description"),
    timestamps=("start_at", "end_at"),
    choices=(("component", schema.INCIDENT_COMPONENTS),
             ("severity", schema.INCIDENT_SEVERITIES)),
    site_default=False,
    local_from="start_at",
    lengths=(("incident_id", 128), ("site", 32)),
)

# A training record is one agent's day: more than 12 hours is no working day (the civil
# service's daily maximum is 10 hours), so a week's total or minutes typed as hours.
TRAINING_MAX_HOURS = 12

TRAINING = Kind(
    name="training",
    table=schema.training,
    key=("source", "record_id"),
    id_column="record_id",
    required=("record_id", "agent_id", "day", "hours", "module"),
    optional=(),
    dates=("day",),
    numbers=(Number("hours", whole=False, low=0, high=TRAINING_MAX_HOURS,
                    low_excluded=True),),
    site_default=False,
    lengths=(("record_id", 128), ("agent_id", 64), ("module", 64)),
)

# Planned shifts (issue 22): the rota that schedule adherence reads against the sessions.
SCHEDULES = Kind(
    name="schedules",
    table=schema.schedules,
    key=("source", "shift_id"),
    id_column="shift_id",
    required=("shift_id", "agent_id", "site", "start_at", "end_at"),
    optional=("activity",),
    timestamps=("start_at", "end_at"),
    choices=(("activity", schema.SCHEDULE_ACTIVITIES),),
    local_from="start_at",
    lengths=(("shift_id", 128), ("agent_id", 64), ("site", 32)),
)

KINDS: dict[str, Kind] = {k.name: k for k in (CONTACTS, ACTS, AGENTS, AGENT_SESSIONS,
                                              LOCAL_RECEPTION, SURVEYS, STAFF_SURVEYS,
                                              INCIDENTS, TRAINING, SCHEDULES)}
