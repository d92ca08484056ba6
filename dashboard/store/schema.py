"""SQLAlchemy Core tables: one schema for SQLite and PostgreSQL.

Conventions: timestamps are naive UTC (`*_at`); `local_date` and `local_slot` (0..47,
slot 0 = 00:00-00:30 local) are computed at write time from the site's time zone, so
every grouping by day or half-hour is a plain column read. Raw tables carry a `source`
so that re-importing a file updates rows instead of duplicating them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from dashboard.core import contact_stats

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

CHANNELS = ("phone", "email")
PHONE_OUTCOMES = ("answered", "abandoned", "deflected", "ivr")
EMAIL_OUTCOMES = ("replied", "pending", "closed")
ROLES = ("agent", "supervisor", "national", "admin")

sites = Table(
    "sites",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("timezone", String(64), nullable=False, server_default="Europe/Paris"),
    # Opening hours, local wall clock "HH:MM"; open_weekdays lists ISO weekdays (1 = Monday).
    Column("opens_at", String(5), nullable=False, server_default="08:30"),
    Column("closes_at", String(5), nullable=False, server_default="17:30"),
    Column("open_weekdays", String(7), nullable=False, server_default="12345"),
    # Per-site targets and thresholds; NULL means "use the settings' default".
    Column("sl_seconds", Integer),
    Column("short_abandon_seconds", Integer),
    Column("sl_target", Float),
    Column("answer_rate_target", Float),
    Column("email_48h_target", Float),
)

departments = Table(
    "departments",
    metadata,
    Column("code", String(3), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("population", Integer),
)

coverage = Table(
    "coverage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(32), ForeignKey("sites.code"), nullable=False),
    Column("department", String(3), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),  # inclusive; NULL = still served
    UniqueConstraint("site", "department", "start_date"),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),  # avis | declarative | other
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),  # inclusive
    Column("department", String(3)),  # NULL = every département
)

# The dates inside a campaign that drive its load (spec/domain.md: the 2015 declaration
# deadlines, the notices' dates), which the forecast's campaign effects are read from.
deadlines = Table(
    "deadlines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # A deadline belongs to its campaign: renamed or deleted with it.
    Column("campaign", String(100),
           ForeignKey("campaigns.name", onupdate="CASCADE", ondelete="CASCADE"),
           nullable=False),
    Column("day", Date, nullable=False),
    Column("department", String(3)),  # NULL = every département
    Column("label", String(100), nullable=False),  # e.g. "Date limite papier"
    UniqueConstraint("campaign", "day", "department"),
)

agents = Table(
    "agents",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("site", String(32), ForeignKey("sites.code"), nullable=False),
    Column("display_name", String(100)),
    Column("team", String(64)),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("source", String(64), nullable=False, server_default="manual"),
)

agent_sessions = Table(
    "agent_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("site", String(32), ForeignKey("sites.code"), nullable=False),
    Column("start_at", DateTime, nullable=False),
    Column("end_at", DateTime, nullable=False),
    Column("local_date", Date, nullable=False),  # local date of start_at
    Column("import_id", Integer),
    UniqueConstraint("source", "agent_id", "start_at"),
    CheckConstraint("end_at >= start_at", name="end_after_start"),
    Index(None, "site", "local_date"),
    Index(None, "agent_id", "local_date"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("contact_id", String(128), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("site", String(32), ForeignKey("sites.code"), nullable=False),
    Column("department", String(3), nullable=False),
    Column("queue", String(64)),
    Column("received_at", DateTime, nullable=False),
    Column("answered_at", DateTime),
    Column("ended_at", DateTime),
    Column("outcome", String(16), nullable=False),
    Column("wait_seconds", Integer),  # NULL for e-mails
    Column("talk_seconds", Integer, nullable=False, server_default="0"),
    Column("wrap_seconds", Integer, nullable=False, server_default="0"),
    Column("agent_id", String(64)),
    Column("online_service_promoted", Boolean),
    Column("caller_key", String(64)),  # keyed hash of caller_id, never the id itself
    Column("local_date", Date, nullable=False),
    Column("local_slot", SmallInteger, nullable=False),
    Column("import_id", Integer),
    UniqueConstraint("source", "contact_id"),
    CheckConstraint("channel IN ('phone', 'email')", name="channel"),
    CheckConstraint(
        "(channel = 'phone' AND outcome IN ('answered', 'abandoned', 'deflected', 'ivr'))"
        " OR (channel = 'email' AND outcome IN ('replied', 'pending', 'closed'))",
        name="outcome",
    ),
    CheckConstraint(
        "(wait_seconds IS NULL OR wait_seconds >= 0) AND talk_seconds >= 0"
        " AND wrap_seconds >= 0",
        name="durations",
    ),
    CheckConstraint("local_slot BETWEEN 0 AND 47", name="slot"),
    Index(None, "local_date", "site", "channel"),
    Index(None, "site", "department", "local_date"),
    Index(None, "agent_id", "local_date"),
    Index(None, "caller_key", "received_at"),
    Index(None, "channel", "received_at"),
    # Each (site, channel)'s last import in one index probe (the Données page).
    Index(None, "site", "channel", "import_id"),
)

acts = Table(
    "acts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("act_id", String(128), nullable=False),
    Column("performed_at", DateTime, nullable=False),
    Column("act_type", String(64), nullable=False),
    Column("site", String(32), ForeignKey("sites.code"), nullable=False),
    Column("department", String(3), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("contact_id", String(128)),
    Column("local_date", Date, nullable=False),
    Column("local_slot", SmallInteger, nullable=False),
    Column("import_id", Integer),
    UniqueConstraint("source", "act_id"),
    CheckConstraint("local_slot BETWEEN 0 AND 47", name="slot"),
    Index(None, "local_date", "site"),
    Index(None, "agent_id", "local_date"),
)

# ---------------------------------------------------- the review's other records
# spec/review-data.md: what the local services received, users' survey answers, the staff
# barometer, tool outages and training. Raw records keyed by source and id, like contacts.

RECEPTION_CHANNELS = ("guichet", "telephone", "courriel", "courrier")
STAFF_POPULATIONS = ("centre_agent", "centre_manager", "local_agent", "local_manager")
STAFF_QUESTIONS = ("tools", "training", "workload", "acts_scope", "overall")
INCIDENT_COMPONENTS = ("telephonie", "messagerie", "applications")
INCIDENT_SEVERITIES = ("panne", "degrade")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


local_reception = Table(
    "local_reception",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("record_id", String(128), nullable=False),
    Column("department", String(3), nullable=False),
    Column("service", String(32), nullable=False),
    Column("day", Date, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("received", Integer, nullable=False),
    Column("handled", Integer),
    Column("staff_hours", Float),
    Column("import_id", Integer),
    UniqueConstraint("source", "record_id"),
    CheckConstraint(_one_of("channel", RECEPTION_CHANNELS), name="channel"),
    CheckConstraint("received >= 0 AND (handled IS NULL OR handled >= 0) AND "
                    "(staff_hours IS NULL OR staff_hours >= 0)", name="counts"),
    Index(None, "department", "day"),
)

surveys = Table(
    "surveys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("response_id", String(128), nullable=False),
    Column("answered_at", DateTime, nullable=False),
    Column("local_date", Date, nullable=False),  # local date of answered_at
    Column("site", String(32), ForeignKey("sites.code"), nullable=False),
    Column("department", String(3), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("satisfaction", SmallInteger, nullable=False),
    Column("resolved", Boolean),
    Column("knew_number", Boolean),
    Column("contact_id", String(128)),
    Column("comment", Text),
    Column("import_id", Integer),
    UniqueConstraint("source", "response_id"),
    CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction"),
    CheckConstraint(_one_of("channel", CHANNELS), name="channel"),
    Index(None, "site", "local_date"),
    Index(None, "source", "contact_id"),  # an answer's contact (satisfaction by wait)
)

staff_surveys = Table(
    "staff_surveys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("response_id", String(128), nullable=False),
    Column("wave", Date, nullable=False),
    Column("population", String(16), nullable=False),
    Column("site", String(32), ForeignKey("sites.code")),
    Column("department", String(3)),
    *(Column(q, SmallInteger) for q in STAFF_QUESTIONS),
    Column("import_id", Integer),
    UniqueConstraint("source", "response_id"),
    CheckConstraint(_one_of("population", STAFF_POPULATIONS), name="population"),
    CheckConstraint("site IS NOT NULL OR department IS NOT NULL", name="where"),
    CheckConstraint(" AND ".join(f"({q} IS NULL OR {q} BETWEEN 1 AND 5)"
                                 for q in STAFF_QUESTIONS), name="answers"),
    Index(None, "wave"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("incident_id", String(128), nullable=False),
    Column("component", String(16), nullable=False),
    Column("site", String(32), ForeignKey("sites.code")),  # NULL: every site
    Column("start_at", DateTime, nullable=False),
    Column("end_at", DateTime, nullable=False),
    Column("local_date", Date, nullable=False),  # local date of start_at
    Column("severity", String(8), nullable=False),
    Column("description", Text),
    Column("import_id", Integer),
    UniqueConstraint("source", "incident_id"),
    CheckConstraint(_one_of("component", INCIDENT_COMPONENTS), name="component"),
    CheckConstraint(_one_of("severity", INCIDENT_SEVERITIES), name="severity"),
    CheckConstraint("end_at >= start_at", name="end_after_start"),
    Index(None, "local_date"),
)

training = Table(
    "training",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("record_id", String(128), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("hours", Float, nullable=False),
    Column("module", String(64), nullable=False),
    Column("import_id", Integer),
    UniqueConstraint("source", "record_id"),
    CheckConstraint("hours > 0", name="hours"),
    Index(None, "agent_id", "day"),
)

# Planned shifts (issue 22): the rota that schedule adherence compares with the sessions.
# A NULL activity is contact work of no stated channel.
SCHEDULE_ACTIVITIES = ("telephone", "courriel", "pause", "formation")

schedules = Table(
    "schedules",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("shift_id", String(128), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("site", String(32), ForeignKey("sites.code"), nullable=False),
    Column("start_at", DateTime, nullable=False),
    Column("end_at", DateTime, nullable=False),
    Column("local_date", Date, nullable=False),  # local date of start_at
    Column("activity", String(16)),
    Column("import_id", Integer),
    UniqueConstraint("source", "shift_id"),
    CheckConstraint(f"activity IS NULL OR {_one_of('activity', SCHEDULE_ACTIVITIES)}",
                    name="activity"),
    CheckConstraint("end_at > start_at", name="end_after_start"),
    Index(None, "site", "local_date"),
    Index(None, "agent_id", "local_date"),
)

# The review's four objectives (spec/domain.md), each judged against targets kept as
# reference data: atteint at `target` or above, partiellement atteint at `partial_target`
# or above (dashboard/review/assessment.py says which figure each one reads).
OBJECTIVES = ("service", "efficiency", "acts", "relief")

objectives = Table(
    "objectives",
    metadata,
    Column("key", String(16), primary_key=True),
    Column("target", Float, nullable=False),
    Column("partial_target", Float, nullable=False),
    CheckConstraint(_one_of("key", OBJECTIVES), name="key"),
    CheckConstraint("partial_target <= target", name="partial_below_target"),
)

users = Table(
    "users",
    metadata,
    Column("login", String(128), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("site", String(32), ForeignKey("sites.code")),
    Column("agent_id", String(64)),
    Column("display_name", String(100)),
    Column("active", Boolean, nullable=False, server_default=true()),
    CheckConstraint("role IN ('agent', 'supervisor', 'national', 'admin')", name="role"),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # an import kind (dashboard/ingest/kinds.py)
    Column("source", String(64), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("imported_by", String(128)),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("rows_read", Integer, nullable=False, server_default="0"),
    Column("rows_inserted", Integer, nullable=False, server_default="0"),
    Column("rows_updated", Integer, nullable=False, server_default="0"),
    Column("rows_unchanged", Integer, nullable=False, server_default="0"),
    Column("rows_rejected", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),  # loaded | partial | failed
    Column("quarantine_path", Text),
    Column("message", Text),
)

# Facts about the database itself, e.g. `demo` = the seed when the demo built it (the
# demo identity mode is only offered on such a database).
app_meta = Table(
    "app_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# ------------------------------------------------------------------------------ rollups
# Written only by dashboard.engine.rollups (refresh_rollups / rebuild), read by the engine. Each
# row belongs to one (site, local_date) of the contacts it sums, so a day is recomputed by
# deleting its rows and inserting them again. See docs/scaling.md.

# Waits above this many seconds share one histogram bin (WAIT_CAP + 1): any integer SL
# threshold <= WAIT_CAP and short-abandon threshold <= WAIT_CAP + 1 is exact from rollups.
WAIT_CAP = 120

# Grain: one row per local date × slot × site × département × channel × queue × agent ×
# outcome × wait bin (phone: min(wait, WAIT_CAP + 1), null when unknown; e-mail: null).
rollup_contacts = Table(
    "rollup_contacts",
    metadata,
    Column("local_date", Date, nullable=False),
    Column("local_slot", SmallInteger, nullable=False),
    Column("site", String(32), nullable=False),
    Column("department", String(3), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("queue", String(64)),
    Column("agent_id", String(64)),
    Column("outcome", String(16), nullable=False),
    Column("wait_b", SmallInteger),
    Column("n", Integer, nullable=False),  # contacts
    Column("wait_n", Integer, nullable=False),  # of which with a known wait
    Column("wait_sum", BigInteger, nullable=False),
    Column("wait_max", Integer),
    Column("handle_sum", BigInteger, nullable=False),  # talk + wrap
    # Handled contacts (answered calls, replied e-mails) and their per-contact flags.
    Column("handled", Integer, nullable=False),
    Column("promoted", Integer, nullable=False),
    Column("with_key", Integer, nullable=False),
    Column("repeats", Integer, nullable=False),
    # E-mail cohort flags (default holiday calendar).
    Column("replied", Integer, nullable=False),
    Column("within_48h", Integer, nullable=False),
    Column("within_5wd", Integer, nullable=False),
    Index(None, "local_date", "site"),
    Index(None, "site", "local_date"),
)

# Reply delays fall into geometric bins (8 per doubling, from 1 s to 2^23 s ≈ 97 days):
# bin k holds the delays d with REPLY_BIN_EDGES[k-1] <= d < REPLY_BIN_EDGES[k] (µs;
# bin 0 below 1 s, the last bin beyond the last edge). A median is found in two steps:
# the bin holding the middle rank from the counts, then the delays of that bin only.
REPLY_BIN_EDGES = tuple(round(1_000_000 * 2 ** (k / 8)) for k in range(8 * 23 + 1))

# Grain: one row per replied e-mail (local date of receipt); the exact reply delay the
# median needs and its bin.
rollup_email_delays = Table(
    "rollup_email_delays",
    metadata,
    Column("local_date", Date, nullable=False),
    Column("local_slot", SmallInteger, nullable=False),
    Column("site", String(32), nullable=False),
    Column("department", String(3), nullable=False),
    Column("queue", String(64)),
    Column("agent_id", String(64)),
    Column("reply_us", BigInteger, nullable=False),
    Column("reply_bin", SmallInteger),
    Index(None, "local_date", "site"),
    Index(None, "reply_bin", "local_date"),
)

# Grain: local date × site × département × queue × reply bin: replied e-mails (the
# counts that locate a median's bin without reading every delay).
rollup_email_hist = Table(
    "rollup_email_hist",
    metadata,
    Column("local_date", Date, nullable=False),
    Column("site", String(32), nullable=False),
    Column("department", String(3), nullable=False),
    Column("queue", String(64)),
    Column("reply_bin", SmallInteger, nullable=False),
    Column("n", Integer, nullable=False),
    Index(None, "local_date", "site"),
)

# Grain: one row per receipt local date × site × département × queue × agent × local date
# the e-mail left the stock (`out_date`: its first reply's local date, not before receipt;
# null while unreplied): the flows the e-mail backlog (a stock) is the running sum of.
rollup_email_flow = Table(
    "rollup_email_flow",
    metadata,
    Column("local_date", Date, nullable=False),
    Column("site", String(32), nullable=False),
    Column("department", String(3), nullable=False),
    Column("queue", String(64)),
    Column("agent_id", String(64)),
    Column("out_date", Date),
    Column("n", Integer, nullable=False),
    Index(None, "local_date", "site"),
    Index(None, "out_date"),
)

# The same flows without the agent (the stock of a site, département or queue): a few
# rows per day where rollup_email_flow has one per agent.
rollup_email_flow_daily = Table(
    "rollup_email_flow_daily",
    metadata,
    Column("local_date", Date, nullable=False),
    Column("site", String(32), nullable=False),
    Column("department", String(3), nullable=False),
    Column("queue", String(64)),
    Column("out_date", Date),
    Column("n", Integer, nullable=False),
    Index(None, "local_date", "site"),
)


# Coarser grains of rollup_contacts, without the wait histogram: the threshold-dependent
# counts are taken at the thresholds recorded in app_meta `rollup_thresholds` (the sites'
# own at rebuild time). Grain: local date × site × département × channel × queue ×
# outcome (rollup_daily), the same × local slot (rollup_slots), local date × site ×
# channel × agent × outcome (rollup_agents), and the site-only grains below.
_GRAIN_COLUMNS = {
    "local_date": lambda: Column("local_date", Date, nullable=False),
    "local_slot": lambda: Column("local_slot", SmallInteger, nullable=False),
    "site": lambda: Column("site", String(32), nullable=False),
    "department": lambda: Column("department", String(3), nullable=False),
    "channel": lambda: Column("channel", String(8), nullable=False),
    "queue": lambda: Column("queue", String(64)),
    "agent_id": lambda: Column("agent_id", String(64)),
    "outcome": lambda: Column("outcome", String(16), nullable=False),
}


def _baked_rollup(name: str, grain: tuple[str, ...], *, keyed: bool = False) -> Table:
    """A coarse rollup of GRAIN; KEYED: the grain is its primary key, stored as SQLite's
    clustered WITHOUT ROWID table (see _CLUSTERED) instead of an index on local date and
    site (a keyed grain has no null column)."""
    cols = [_GRAIN_COLUMNS[c]() for c in grain]
    cols += [
        Column("n", Integer, nullable=False),
        Column("wait_n", Integer, nullable=False),
        Column("wait_sum", BigInteger, nullable=False),
        Column("wait_max", Integer),
        Column("handle_sum", BigInteger, nullable=False),
        Column("in_sl", Integer, nullable=False),  # answered with wait <= SL threshold
        Column("short", Integer, nullable=False),  # abandoned with wait < short threshold
        Column("long_wait_sum", BigInteger, nullable=False),  # abandoned, not short
        Column("long_wait_n", Integer, nullable=False),
        Column("handled", Integer, nullable=False),
        Column("promoted", Integer, nullable=False),
        Column("with_key", Integer, nullable=False),
        Column("repeats", Integer, nullable=False),
        Column("replied", Integer, nullable=False),
        Column("within_48h", Integer, nullable=False),
        Column("within_5wd", Integer, nullable=False),
    ]
    info = {"grain": tuple(grain)}  # read by the refresh and the table choice
    if keyed:
        return Table(name, metadata, *cols, PrimaryKeyConstraint(*grain), info=info,
                     **_CLUSTERED)
    return Table(name, metadata, *cols, Index(None, "local_date", "site"), info=info)


# Rollups read over long periods are keyed by their grain, local date first, and on SQLite
# stored in that order (WITHOUT ROWID): a period is one range of the table itself, read
# without a lookup per row through an index, and grouping by date and half-hour needs no
# sort (national year on SQLite: rollup_cells by day and half-hour 0.38 → 0.16 s).
_CLUSTERED = {"sqlite_with_rowid": False}
_GRAIN = ("local_date", "site", "department", "channel", "queue", "outcome")
rollup_daily = _baked_rollup("rollup_daily", _GRAIN)
rollup_slots = _baked_rollup("rollup_slots", ("local_date", "local_slot", *_GRAIN[1:]))
# Per agent, without département, queue or slot: the agents' tables and own page.
rollup_agents = _baked_rollup(
    "rollup_agents", ("local_date", "site", "channel", "agent_id", "outcome"))
# Per site only, without département or queue: the national views over long periods, and
# the Erlang cells (site × day × half-hour), read from a fraction of the rows (1/10 and
# 1/4 with twenty centres and a hundred départements).
# Per département without queue: the views by département over long periods (a third of
# rollup_daily's rows on the national network, where three queues share a département).
rollup_dept_days = _baked_rollup(
    "rollup_dept_days", ("local_date", "site", "department", "channel", "outcome"), keyed=True)
rollup_site_days = _baked_rollup("rollup_site_days", ("local_date", "site", "channel", "outcome"),
                                 keyed=True)
rollup_site_slots = _baked_rollup(
    "rollup_site_slots", ("local_date", "local_slot", "site", "channel", "outcome"), keyed=True)

# The contacts' sum statistics (dashboard.metrics STATS) a contact rollup answers; the
# sums (and not the counts) may pass 2**31 over a long period of one cell.
CONTACT_SUMS = contact_stats.CONTACT_SUMS  # declared in dashboard.core.contact_stats
_BIG_SUMS = ("ph_answered_wait_sum", "ph_handle_sum", "ph_long_abandon_wait_sum")

def _picked_sums() -> list[Column]:
    """The columns of a rollup whose statistics are already taken per channel and
    outcome: the CONTACT_SUMS, and the longest wait of an answered or abandoned call."""
    return [*[Column(name, BigInteger if name in _BIG_SUMS else Integer, nullable=False)
              for name in CONTACT_SUMS],
            Column("ph_max_wait", Integer)]


# Grain: site × local date × half-hour — an Erlang cell — with no channel or outcome: the
# statistics of rollup_site_slots already taken per channel and outcome
# (queries.rollups.pick_stats), one row per cell with contacts (about 2/5 of
# rollup_site_slots' rows). Groupings by half-hour (with site or day, no channel) read it
# with plain sums, and the Erlang cells' inputs are its rows as they stand.
rollup_cells = Table(
    "rollup_cells",
    metadata,
    Column("local_date", Date, nullable=False),
    Column("local_slot", SmallInteger, nullable=False),
    Column("site", String(32), nullable=False),
    *_picked_sums(),
    PrimaryKeyConstraint("local_date", "local_slot", "site"),
    Index(None, "local_date", "site"),  # one site's days (a supervisor's views, refreshes)
    info={"grain": ("local_date", "local_slot", "site")},
    **_CLUSTERED,
)

# Grain: local date × site × agent (null: contacts no agent handled): rollup_agents'
# statistics already taken per channel and outcome, like rollup_cells. The agents' tables
# and an agent's own page read it with plain sums, from about half the rows (national
# year: 430,000 → 240,000). Not keyed: its agent may be null.
rollup_agent_cells = Table(
    "rollup_agent_cells",
    metadata,
    Column("local_date", Date, nullable=False),
    Column("site", String(32), nullable=False),
    Column("agent_id", String(64)),
    *_picked_sums(),
    Index(None, "local_date", "site"),
    info={"grain": ("local_date", "site", "agent_id")},
)


# Team presence and acts (dashboard.engine.rollups, "staff" rollups). Each row belongs to one
# (site, local_date), like the contact rollups.

# Grain: site × local date × UTC quarter hour `q_at` (start of a 15-minute piece of UTC
# time; every real UTC offset is a multiple of 15 min, so a piece lies in one local slot):
# the microseconds the site's agents were logged in during it, summed over the agents.
rollup_presence = Table(
    "rollup_presence",
    metadata,
    Column("site", String(32), nullable=False),
    Column("local_date", Date, nullable=False),
    Column("local_slot", SmallInteger, nullable=False),
    Column("q_at", DateTime, nullable=False),
    Column("logged_us", BigInteger, nullable=False),
    Index(None, "local_date", "site"),
)

# Grain: site × local date × local half-hour: rollup_presence summed per slot. Half the
# rows of the quarters, and what the team measures read when every opening window falls
# on a local half-hour (then a slot is wholly inside or outside the opening hours).
rollup_presence_slots = Table(
    "rollup_presence_slots",
    metadata,
    Column("site", String(32), nullable=False),
    Column("local_date", Date, nullable=False),
    Column("local_slot", SmallInteger, nullable=False),
    Column("logged_us", BigInteger, nullable=False),
    PrimaryKeyConstraint("local_date", "site", "local_slot"),
    **_CLUSTERED,
)

# Grain: site × agent × local date: the microseconds the agent was logged in that day.
rollup_agent_days = Table(
    "rollup_agent_days",
    metadata,
    Column("site", String(32), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("local_date", Date, nullable=False),
    Column("logged_us", BigInteger, nullable=False),
    Index(None, "local_date", "site"),
    Index(None, "agent_id", "local_date"),
)

# Grain: local date × site × département: acts performed.
rollup_acts = Table(
    "rollup_acts",
    metadata,
    Column("local_date", Date, nullable=False),
    Column("site", String(32), nullable=False),
    Column("department", String(3), nullable=False),
    Column("n", Integer, nullable=False),
    Index(None, "local_date", "site"),
)

# Grain: local date × site × département × channel: users' survey answers, the counts the
# survey statistics sum (queries.surveys.COUNTS). Complete once a rebuild has set app_meta
# `rollups_surveys` (dashboard.engine.rollups); imports keep it up to date after that.
rollup_surveys = Table(
    "rollup_surveys",
    metadata,
    Column("local_date", Date, nullable=False),
    Column("site", String(32), nullable=False),
    Column("department", String(3), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("n", Integer, nullable=False),
    Column("satisfied", Integer, nullable=False),
    Column("score_sum", Integer, nullable=False),
    Column("resolved", Integer, nullable=False),
    Column("resolved_given", Integer, nullable=False),
    Index(None, "local_date", "site"),
)

# Grain: local date × site × agent: acts performed.
rollup_agent_acts = Table(
    "rollup_agent_acts",
    metadata,
    Column("local_date", Date, nullable=False),
    Column("site", String(32), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("n", Integer, nullable=False),
    Index(None, "local_date", "site"),
)

# ------------------------------------------------------------------ mail (issue 23)
# Who receives what by e-mail. A removed user takes its subscriptions (and their delivery
# log) with it: nothing may still be sent in the name of a user who no longer exists.
SUBSCRIPTION_KINDS = ("daily", "weekly", "alert")
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed")

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("login", String(128), ForeignKey("users.login", ondelete="CASCADE"),
           nullable=False),
    Column("kind", String(16), nullable=False),
    Column("email", String(254), nullable=False),
    Column("created_at", DateTime, nullable=False),  # naive UTC
    UniqueConstraint("login", "kind", "email"),
    CheckConstraint(_one_of("kind", SUBSCRIPTION_KINDS), name="kind"),
)

# Grain: one row per message, subscription × period ("daily:2026-12-06",
# "weekly:2026-W49", an alert's own key). The unique pair is what makes a message exist
# once; `status` moves pending → sending (a claim: one UPDATE … WHERE status = …, with
# `lease_until`) → sent, or back to pending with `next_attempt_at` (back-off), or failed.
# Times are naive UTC. dashboard/delivery/runner.py is the only writer.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subscription_id", BigId, ForeignKey("subscriptions.id", ondelete="CASCADE"),
           nullable=False),
    Column("kind", String(16), nullable=False),
    Column("period", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("due_at", DateTime, nullable=False),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("lease_until", DateTime),
    Column("claim_token", String(32)),
    Column("sent_at", DateTime),
    Column("message_id", String(255)),
    Column("error", Text),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("subscription_id", "period"),
    CheckConstraint(_one_of("kind", SUBSCRIPTION_KINDS), name="kind"),
    CheckConstraint(_one_of("status", DELIVERY_STATUSES), name="status"),
    Index(None, "status", "next_attempt_at"),
)

# ------------------------------------------------------------ threshold alerts (issue 23)
# Reference data: one threshold per site and metric (store/reference.py loads [[alerts]]).
# answer_rate / service_level: a fraction, fires BELOW it; backlog: a count of e-mails,
# fires ABOVE it; staffing_gap: agents logged in − required, fires BELOW it. `minutes`:
# the window the crossing must last (a multiple of 30; ignored for backlog).
ALERT_METRICS = ("answer_rate", "service_level", "backlog", "staffing_gap")

alert_thresholds = Table(
    "alert_thresholds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(32), ForeignKey("sites.code", ondelete="CASCADE"), nullable=False),
    Column("metric", String(16), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("minutes", Integer, nullable=False, server_default="60"),
    UniqueConstraint("site", "metric"),
    CheckConstraint(_one_of("metric", ALERT_METRICS), name="metric"),
    CheckConstraint("minutes >= 30 AND minutes <= 240 AND minutes % 30 = 0", name="minutes"),
)

# Grain: one row per alert episode, site × metric × local day × first half-hour of the
# crossing window (local slot 0..47). Open while closed_at is null; at most one open per
# site and metric (dashboard/delivery/alerts.py, the only writer, checks it inside its
# transaction, and the unique key makes a concurrent run's second insert a no-op).
# closed_value null with closed_at set: closed by the day change, not by a recovery.
alerts = Table(
    "alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("site", String(32), ForeignKey("sites.code", ondelete="CASCADE"), nullable=False),
    Column("metric", String(16), nullable=False),
    Column("local_date", Date, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("opened_slot", SmallInteger, nullable=False),
    Column("opened_value", Float),
    Column("opened_at", DateTime, nullable=False),  # naive UTC, the run's time
    Column("closed_slot", SmallInteger),
    Column("closed_value", Float),
    Column("closed_at", DateTime),
    UniqueConstraint("site", "metric", "local_date", "opened_slot"),
    CheckConstraint(_one_of("metric", ALERT_METRICS), name="metric"),
    Index(None, "local_date", "site"),
)
