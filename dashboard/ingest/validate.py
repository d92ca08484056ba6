"""Per-kind validation: raw text rows → typed good rows + rejected rows with a reason.

Each row gets at most one reason, the first rule it breaks in the order the rules are
listed below (so a row missing its received_at is reported as such, not also as a call
without wait). The reason shown in the quarantine file is "<category>" or
"<category>: <detail>"; reports count rejections by category.

Decisions beyond the contract's wording:
- Duplicate ids in one file: the *last* valid line of an id is the record (exports list
  a record again when it changes); earlier lines of that id are rejected as
  "duplicate <id>: superseded by line N". Duplicates are resolved among rows that pass
  every other rule, so a broken correction does not knock out a good earlier line.
- Phone `wait_seconds`, when absent: answered → answered_at − received_at; abandoned →
  ended_at − received_at (the caller hung up while waiting); deflected → 0 (refused on
  arrival, never queued); ivr → 0 (ended in the voice server, never queued). An
  answered or abandoned call with no way to know its wait is rejected, as every
  service-level figure needs it. E-mails always store NULL.
- Outcome contradictions rejected: abandoned/deflected/ivr call with answered_at, or with
  talk_seconds > 0; replied e-mail without answered_at; pending e-mail with answered_at.
  A closed e-mail may or may not have a reply. An answered call may lack answered_at when
  wait_seconds is given (ACD exports often carry only durations).
- Durations accept a decimal comma ("12,0") or point and are rounded to the nearest
  second (halves away from zero); values above 2,000,000,000 are out of range.
- Département codes are upper-cased ("2a" → "2A") but never padded: "4" is rejected, as
  a spreadsheet that ate a leading zero may have eaten other things.
- Site and agent codes follow dashboard.core.codes.CODE_PATTERN (letters, digits, `._-`,
  1 to 64 characters): "invalid site: '<img src=x>'". A code is taken as given, never
  cleaned up, so a row is never filed under a code its file did not write. Queues are
  labels, not codes (see dashboard/core/codes.py).
- Text longer than its database column is rejected (PostgreSQL would refuse it, SQLite
  would not: the rule keeps both databases identical).
- Columns absent from the header are not "provided": updates leave those database
  columns as they were, and inserts take the column defaults.
- A row a mapping file could not map (a value that does not fit its format) is rejected
  with the mapping's reason before any other rule.
- Dates (`day`, `wave`) are ISO `2015-03-02`, as timestamps are ISO: another spelling
  (`02/03/2015`) is read only through a mapping's `format`, never guessed (02/03 is
  2 March in France, 3 February elsewhere).
- Counts and marks are whole numbers ("3", "3,0"); hours may have decimals, with a comma
  or a point. Out of range: "negative received", "satisfaction must be 1 to 5".
- local-reception: `handled` is the part of the day's `received` that was dealt with, so
  `handled` above `received` is rejected ("handled above received"): it would make a
  share handled above 100 %. An export that counts yesterday's stock in today's handled
  must map that column elsewhere.
- training: `hours` above 0 and at most 12 (kinds.TRAINING_MAX_HOURS).
- staff-surveys are anonymous: a row with a value in a column named `agent_id`, `agent`,
  `matricule` or `login` is rejected ("agent id in an anonymous survey") and the value is
  kept nowhere, not even in the quarantine file; rows where that column is empty load.
  Per row rather than the whole file, as the contract's other bad values are: one row
  carrying an id must not keep a whole wave out. A row needs a site or a département.
- incidents: an empty `site` is every site (naive times then read in Europe/Paris, or
  `--timezone`); "ends before it starts" when `end_at` < `start_at`.
- schedules: "ends before it starts" when `end_at` is not after `start_at` (a shift of no
  length plans nothing); `activity` empty or one of telephone, courriel, pause, formation.

Validation runs batch by batch (`plan` once per file, `validate` once per batch).
Duplicate ids are resolved once the whole file is staged, by the loader
(dashboard/ingest/load.py `Stage.superseded`), so the rule holds across batches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from dashboard.core.codes import CODE_COLUMNS, CODE_PATTERN
from dashboard.core.localtime import with_local_columns
from dashboard.ingest import timestamps as ts
from dashboard.ingest.caller import hash_series
from dashboard.ingest.kinds import Kind, Number
from dashboard.ingest.mapping import MAP_CATEGORY, MAP_DETAIL
from dashboard.ingest.read import LINE, READ_ERROR, is_unnamed
from dashboard.store import schema

ROW = "__row"
TZ_IN = "__tz_in"  # zone in which naive timestamps of the row are read
TZ_SITE = "__tz_site"  # zone of the row's site, for local_date / local_slot
DEPARTMENT_PATTERN = r"^(\d{2}|2A|2B|\d{3})$"
MAX_DURATION = 2_000_000_000
TRUE_WORDS = ("true", "1", "oui", "yes", "vrai", "t", "y", "o")
FALSE_WORDS = ("false", "0", "non", "no", "faux", "f", "n")
UNANSWERED = ("abandoned", "deflected", "ivr")
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
# Bookkeeping column: the name of the first forbidden column with a value (Kind.forbidden).
FORBIDDEN = "__forbidden"

# Database columns each kind writes (source and import_id are added by the loader).
DB_COLUMNS = {
    "contacts": ("contact_id", "channel", "site", "department", "queue", "received_at",
                 "answered_at", "ended_at", "outcome", "wait_seconds", "talk_seconds",
                 "wrap_seconds", "agent_id", "online_service_promoted", "caller_key",
                 "local_date", "local_slot"),
    "acts": ("act_id", "performed_at", "act_type", "site", "department", "agent_id",
             "contact_id", "local_date", "local_slot"),
    "agents": ("agent_id", "site", "display_name", "team", "active"),
    "agent-sessions": ("agent_id", "site", "start_at", "end_at", "local_date"),
    "local-reception": ("record_id", "department", "service", "day", "channel", "received",
                        "handled", "staff_hours"),
    "surveys": ("response_id", "answered_at", "local_date", "site", "department", "channel",
                "satisfaction", "resolved", "knew_number", "contact_id", "comment"),
    "staff-surveys": ("response_id", "wave", "population", "site", "department",
                      *schema.STAFF_QUESTIONS),
    "incidents": ("incident_id", "component", "site", "start_at", "end_at", "local_date",
                  "severity", "description"),
    "training": ("record_id", "agent_id", "day", "hours", "module"),
    "schedules": ("shift_id", "agent_id", "site", "start_at", "end_at", "local_date",
                  "activity"),
}
# Columns written whether or not the file has them (derived or always computed).
ALWAYS_WRITTEN = {
    "contacts": ("wait_seconds", "local_date", "local_slot"),
    "acts": ("local_date", "local_slot"),
    "agents": (),
    "agent-sessions": ("local_date",),
    "local-reception": (),
    "surveys": ("local_date",),
    "staff-surveys": (),
    "incidents": ("local_date",),
    "training": (),
    "schedules": ("local_date",),
}
# Values an insert takes when the file has no such column or leaves the cell empty.
INSERT_DEFAULTS = {
    "contacts": {"talk_seconds": 0, "wrap_seconds": 0},
    "agents": {"active": True},
}


class HeaderError(Exception):
    """The header lacks a required column; the message is one line."""


@dataclass
class Context:
    """What validation needs besides the rows."""

    site: str | None = None  # --site: default for an empty or absent site
    department: str | None = None  # --department
    timezone: str | None = None  # --timezone: zone of naive timestamps for the whole file
    site_timezones: dict[str, str] = field(default_factory=dict)
    default_timezone: str = "Europe/Paris"
    caller_secret: str | None = None


@dataclass
class Plan:
    """What validation knows of a file before its rows: its columns and what it updates."""

    columns: dict[str, str]  # canonical column name → name in the batches
    update_columns: tuple[str, ...]  # database columns an update may change
    warnings: list[str]


@dataclass
class Validated:
    """Outcome of validating one batch."""

    good: pl.DataFrame  # DB_COLUMNS of the kind, plus LINE
    rejected: pl.DataFrame  # ROW, LINE, category, reason
    new_sites: dict[str, str]  # site code → time zone, for sites not in the database


def header_columns(columns: list[str], kind: Kind, ctx: Context,
                   mapped: bool = False) -> tuple[dict[str, str], list[str]]:
    """Map known columns to their header names; warn of the others; check required ones."""
    mapping: dict[str, str] = {}
    warnings = []
    unknown = []
    unnamed = 0
    for name in columns:
        key = name.lower()
        if is_unnamed(name):
            unnamed += 1
        elif key in kind.forbidden:
            continue  # refused row by row (forbidden_flag), and said once by the importer
        elif key in kind.columns:
            mapping[key] = name
        else:
            unknown.append(name)
    if unknown:
        warnings.append(f"unknown column(s) ignored: {', '.join(unknown)}")
    if unnamed:
        warnings.append(f"{unnamed} column(s) without a name ignored")
    missing = [c for c in kind.required_in_header(ctx.site, ctx.department) if c not in mapping]
    if missing:
        hint = ""
        if set(missing) & {"site", "department"}:
            hint = " (or give --site / --department)"
        if mapped:
            hint = hint[:-1] + ", or map them)" if hint else " (map them in the mapping file)"
        raise HeaderError(f"missing required column(s): {', '.join(missing)}{hint}")
    return mapping, warnings


def plan(columns: list[str], kind: Kind, ctx: Context, mapped: bool = False) -> Plan:
    """Check the columns of a file (or of a mapping's output) once, before its rows."""
    mapping, warnings = header_columns(columns, kind, ctx, mapped)
    if ctx.site and not _site_default(kind):
        warnings.append(f"--site is ignored for {kind.name}")
    if ctx.department and not _department_default(kind):
        warnings.append(f"--department is ignored for {kind.name}")
    provided = set(mapping) | set(ALWAYS_WRITTEN[kind.name])
    if ctx.site and _site_default(kind):
        provided.add("site")
    if ctx.department and _department_default(kind):
        provided.add("department")
    if "caller_id" in mapping:
        provided.add("caller_key")
    update_columns = tuple(c for c in DB_COLUMNS[kind.name] if c in provided)
    return Plan(columns=mapping, update_columns=update_columns, warnings=warnings)


def _site_default(kind: Kind) -> bool:
    return kind.site_default and "site" in kind.columns


def _department_default(kind: Kind) -> bool:
    return kind.department_default and "department" in kind.columns


def forbidden_flag(batch: pl.DataFrame, names: list[str],
                   clean: Callable[[str], pl.Expr] | None = None) -> pl.Series:
    """FORBIDDEN for each row of BATCH (file columns): the first of NAMES with a value.

    CLEAN gives a column's cleaned text (a mapping's, with its `[none]` values); by
    default the text stripped of spaces.
    """
    def value(name: str) -> pl.Expr:
        text = clean(name) if clean else pl.col(name).str.strip_chars()
        return pl.when(text.is_not_null() & (text != "")).then(pl.lit(name))

    if not names:
        return pl.Series(FORBIDDEN, [None] * batch.height, dtype=pl.String)
    return batch.select(pl.coalesce([value(n) for n in names]).cast(pl.String)
                        .alias(FORBIDDEN)).to_series()


def _clean(name: str | None) -> pl.Expr:
    if name is None:
        return pl.lit(None, pl.String)
    text = pl.col(name).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _number(col: str) -> tuple[pl.Expr, pl.Expr]:
    """(integer seconds, status 'ok'|'invalid'|'negative'|null) of a text column."""
    text = pl.col(col)
    cleaned = text.str.replace_all(r"[\s\u00a0\u202f]", "").str.replace(",", ".", literal=True)
    value = cleaned.cast(pl.Float64, strict=False)
    finite = value.is_not_null() & value.is_finite() & (value.abs() <= MAX_DURATION)
    status = (
        pl.when(text.is_null()).then(None)
        .when(~finite).then(pl.lit("invalid"))
        .when(value < 0).then(pl.lit("negative"))
        .otherwise(pl.lit("ok"))
    )
    seconds = pl.when(finite).then(value.round(0, mode="half_away_from_zero")).cast(pl.Int64)
    return seconds, status


def _measure(spec: Number) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, status 'ok'|'invalid'|'fraction'|'range'|null) of a text column."""
    text = pl.col(spec.name)
    cleaned = text.str.replace_all(r"[\s\u00a0\u202f]", "").str.replace(",", ".", literal=True)
    value = cleaned.cast(pl.Float64, strict=False)
    finite = value.is_not_null() & value.is_finite() & (value.abs() <= MAX_DURATION)
    inside = (value > spec.low) if spec.low_excluded else (value >= spec.low)
    if spec.high is not None:
        inside = inside & (value <= spec.high)
    status = pl.when(text.is_null()).then(None).when(~finite).then(pl.lit("invalid"))
    if spec.whole:
        status = status.when(value != value.round(0)).then(pl.lit("fraction"))
    status = status.when(~inside).then(pl.lit("range")).otherwise(pl.lit("ok"))
    typed = pl.when(finite).then(value)
    typed = typed.cast(pl.Int64) if spec.whole else typed.cast(pl.Float64)
    return typed, status


def _date(col: str) -> tuple[pl.Expr, pl.Expr]:
    """(date, status ok|unparseable|impossible|null) of ISO date text (`2015-03-02`)."""
    text = pl.col(col)
    value = text.str.to_date("%Y-%m-%d", strict=False)
    year = value.dt.year()
    possible = value.is_not_null() & (year >= ts.MIN_YEAR) & (year <= ts.MAX_YEAR)
    status = (
        pl.when(text.is_null()).then(None)
        .when(~text.str.contains(DATE_PATTERN)).then(pl.lit(ts.UNPARSEABLE))
        .when(~possible).then(pl.lit(ts.IMPOSSIBLE))
        .otherwise(pl.lit(ts.OK))
    )
    return pl.when(status == ts.OK).then(value), status


def _boolean(col: str) -> pl.Expr:
    words = {w: True for w in TRUE_WORDS} | {w: False for w in FALSE_WORDS}
    return pl.col(col).str.to_lowercase().replace_strict(
        words, default=None, return_dtype=pl.Boolean
    )


@dataclass
class _Rule:
    when: pl.Expr
    category: pl.Expr
    detail: pl.Expr | None = None


def _rule(when: pl.Expr, category: str | pl.Expr, detail: pl.Expr | None = None) -> _Rule:
    cat = pl.lit(category) if isinstance(category, str) else category
    return _Rule(when, cat, detail)


def _quoted(expr: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit("'"), expr, pl.lit("'")])


def _common_rules(kind: Kind) -> list[_Rule]:
    rules = [_rule(pl.col(READ_ERROR).is_not_null(), "too many fields",
                   pl.col(READ_ERROR).str.replace("too many fields: ", "", literal=True)),
             _rule(pl.col(FORBIDDEN).is_not_null(), "agent id in an anonymous survey",
                   pl.concat_str([pl.lit("column '"), pl.col(FORBIDDEN),
                                  pl.lit("' (the value is not kept)")])),
             _rule(pl.col(MAP_CATEGORY).is_not_null(), pl.col(MAP_CATEGORY),
                   pl.col(MAP_DETAIL))]
    for name in kind.required:
        if name in kind.timestamps:
            missing = pl.col(ts.status_col(name)) == ts.MISSING
        elif name in kind.typed:
            missing = pl.col(f"__text_{name}").is_null()
        else:
            missing = pl.col(name).is_null()
        rules.append(_rule(missing, f"missing {name}"))
    for name, limit in kind.lengths:
        rules.append(_rule(pl.col(name).str.len_chars() > limit, f"{name} too long",
                           pl.lit(f"more than {limit} characters")))
    if "department" in kind.columns:
        rules.append(_rule(~pl.col("department").str.contains(DEPARTMENT_PATTERN),
                           "invalid department", _quoted(pl.col("department"))))
    for name in CODE_COLUMNS:
        if name in kind.columns:
            code = pl.col(name)
            rules.append(_rule(code.is_not_null() & ~code.str.contains(CODE_PATTERN),
                               f"invalid {name}", _quoted(code)))
    for name, allowed in kind.choices:
        value = pl.col(name)
        rules.append(_rule(value.is_not_null() & ~value.is_in(allowed), f"unknown {name}",
                           _quoted(value)))
    return rules


def _value_rules(kind: Kind) -> list[_Rule]:
    rules = []
    for name in kind.timestamps:
        status = pl.col(ts.status_col(name))
        raw = _quoted(pl.col(f"__text_{name}"))
        rules.append(_rule(status == ts.UNPARSEABLE, f"unparseable {name}", raw))
        rules.append(_rule(status == ts.IMPOSSIBLE, f"impossible {name}", raw))
    for name in kind.durations:
        status = pl.col(f"__{name}_status")
        raw = _quoted(pl.col(f"__text_{name}"))
        rules.append(_rule(status == "invalid", f"invalid {name}", raw))
        rules.append(_rule(status == "negative", f"negative {name}", raw))
    for name in kind.booleans:
        rules.append(_rule(pl.col(f"__text_{name}").is_not_null() & pl.col(name).is_null(),
                           f"invalid {name}", _quoted(pl.col(f"__text_{name}"))))
    for name in kind.dates:
        status = pl.col(ts.status_col(name))
        raw = _quoted(pl.col(f"__text_{name}"))
        rules.append(_rule(status == ts.UNPARSEABLE, f"unparseable {name}",
                           pl.concat_str([raw, pl.lit(" (expected YYYY-MM-DD)")])))
        rules.append(_rule(status == ts.IMPOSSIBLE, f"impossible {name}", raw))
    for spec in kind.numbers:
        status = pl.col(f"__{spec.name}_status")
        raw = _quoted(pl.col(f"__text_{spec.name}"))
        rules.append(_rule(status == "invalid", f"invalid {spec.name}", raw))
        rules.append(_rule(status == "fraction", f"invalid {spec.name}",
                           pl.concat_str([raw, pl.lit(" (not a whole number)")])))
        rules.append(_rule(status == "range", spec.rule, raw))
    return rules


def _contact_rules() -> tuple[list[_Rule], list[_Rule]]:
    """(rules checked before the typed values, cross-field rules checked after them)."""
    ch, oc = pl.col("channel"), pl.col("outcome")
    rec, ans, end = pl.col("received_at"), pl.col("answered_at"), pl.col("ended_at")
    phone, email = ch == "phone", ch == "email"
    unanswered = phone & oc.is_in(UNANSWERED)
    wait_known = (
        pl.col("wait_seconds").is_not_null()
        | ((oc == "answered") & ans.is_not_null())
        | ((oc == "abandoned") & end.is_not_null())
        | oc.is_in(["deflected", "ivr"])
    )
    before = [
        _rule(~ch.is_in(schema.CHANNELS), "unknown channel", _quoted(ch)),
        _rule(~oc.is_in(schema.PHONE_OUTCOMES + schema.EMAIL_OUTCOMES), "unknown outcome",
              _quoted(oc)),
        _rule((phone & ~oc.is_in(schema.PHONE_OUTCOMES))
              | (email & ~oc.is_in(schema.EMAIL_OUTCOMES)),
              "outcome not valid for channel", pl.concat_str([_quoted(oc), pl.lit(" for "), ch])),
    ]
    after = [
        _rule(ans < rec, "answered_at before received_at"),
        _rule(end < rec, "ended_at before received_at"),
        _rule(end < ans, "ended_at before answered_at"),
        _rule(unanswered & ans.is_not_null(),
              pl.concat_str([oc, pl.lit(" call with answered_at")])),
        _rule(unanswered & (pl.col("talk_seconds") > 0),
              pl.concat_str([oc, pl.lit(" call with talk_seconds > 0")])),
        _rule(email & (oc == "replied") & ans.is_null(), "replied e-mail without answered_at"),
        _rule(email & (oc == "pending") & ans.is_not_null(), "pending e-mail with answered_at"),
        _rule(phone & ~wait_known, pl.concat_str([oc, pl.lit(" call without wait_seconds")]),
              pl.lit("give wait_seconds, or answered_at (answered) / ended_at (abandoned)")),
    ]
    return before, after


def _rules(kind: Kind) -> list[_Rule]:
    """Every rule of KIND, in the order a row is checked."""
    common = _common_rules(kind)
    values = _value_rules(kind)
    if kind.name == "contacts":
        before, after = _contact_rules()
        return common + before + values + after
    return common + values + _SPECIFIC.get(kind.name, lambda: [])()


def _text(name: str) -> pl.Expr:
    return _quoted(pl.col(f"__text_{name}"))


# Cross-field rules of the other kinds, checked once each value is typed.
_SPECIFIC = {
    "agent-sessions": lambda: [
        _rule(pl.col("end_at") < pl.col("start_at"), "end_at before start_at")],
    "local-reception": lambda: [
        _rule(pl.col("handled") > pl.col("received"), "handled above received",
              pl.concat_str([pl.lit("handled "), _text("handled"), pl.lit(", received "),
                             _text("received")]))],
    "staff-surveys": lambda: [
        _rule(pl.col("site").is_null() & pl.col("department").is_null(),
              "missing site or department")],
    "incidents": lambda: [
        _rule(pl.col("end_at") < pl.col("start_at"), "ends before it starts",
              pl.concat_str([pl.lit("end_at "), _text("end_at"), pl.lit(" before start_at "),
                             _text("start_at")]))],
    # A shift of no length plans nothing: refused with the same reason.
    "schedules": lambda: [
        _rule(pl.col("end_at") <= pl.col("start_at"), "ends before it starts",
              pl.concat_str([pl.lit("end_at "), _text("end_at"), pl.lit(" not after start_at "),
                             _text("start_at")]))],
}


def _chain(rules: list[_Rule], attr: str) -> pl.Expr:
    expr = None
    for rule in rules:
        value = getattr(rule, attr)
        if value is None:
            value = pl.lit(None, pl.String)
        expr = (pl.when(rule.when) if expr is None else expr.when(rule.when)).then(value)
    return expr.otherwise(pl.lit(None, pl.String))


def validate(frame: pl.DataFrame, kind: Kind, ctx: Context, plan: Plan) -> Validated:
    """Check every row of one batch against the rules of KIND; type and derive the good ones.

    FRAME holds the columns named in PLAN, LINE and READ_ERROR, and, after a mapping,
    MAP_CATEGORY and MAP_DETAIL.
    """
    mapping = plan.columns
    frame = frame.with_row_index(ROW)
    extra = [pl.col(c) if c in frame.columns else pl.lit(None, pl.String).alias(c)
             for c in (MAP_CATEGORY, MAP_DETAIL, FORBIDDEN)]
    work = frame.select(
        pl.col(ROW), pl.col(LINE), pl.col(READ_ERROR), *extra,
        *[_clean(mapping.get(c)).alias(c) for c in kind.columns],
    )
    if ctx.site and _site_default(kind):
        work = work.with_columns(pl.col("site").fill_null(pl.lit(ctx.site)))
    if "department" in kind.columns:
        if ctx.department and _department_default(kind):
            work = work.with_columns(pl.col("department").fill_null(pl.lit(ctx.department)))
        work = work.with_columns(pl.col("department").str.to_uppercase())
    if kind.name == "contacts":
        work = work.with_columns(pl.col("channel").str.to_lowercase(),
                                 pl.col("outcome").str.to_lowercase())
    work = work.with_columns(pl.col(name).str.to_lowercase() for name, _ in kind.choices)
    site_tz = (pl.col("site").replace_strict(ctx.site_timezones, default=None,
                                             return_dtype=pl.String)
               if "site" in kind.columns else pl.lit(None, pl.String))
    fallback = ctx.timezone or ctx.default_timezone
    work = work.with_columns(
        site_tz.fill_null(pl.lit(fallback)).alias(TZ_SITE),
        (pl.lit(ctx.timezone) if ctx.timezone else site_tz.fill_null(pl.lit(fallback)))
        .alias(TZ_IN),
    )
    # Keep the text of typed columns for the reasons, then type them.
    work = work.with_columns([pl.col(c).alias(f"__text_{c}") for c in kind.typed])
    work = ts.parse_timestamps(work, list(kind.timestamps), TZ_IN)
    for name in kind.durations:
        seconds, status = _number(name)
        work = work.with_columns(seconds.alias(name), status.alias(f"__{name}_status"))
    for spec in kind.numbers:
        value, status = _measure(spec)
        work = work.with_columns(value.alias(spec.name), status.alias(f"__{spec.name}_status"))
    for name in kind.dates:
        value, status = _date(name)
        work = work.with_columns(value.alias(name), status.alias(ts.status_col(name)))
    for name in kind.booleans:
        work = work.with_columns(_boolean(name).alias(name))

    rules = _rules(kind)
    work = work.with_columns(_chain(rules, "category").alias("__category"),
                             _chain(rules, "detail").alias("__detail"))

    good = work.filter(pl.col("__category").is_null())
    bad = work.filter(pl.col("__category").is_not_null())
    rejected = _reasons(bad).sort(ROW)

    good = _derive(good, kind, ctx)
    if kind.local_from:
        good = with_local_columns(
            good, kind.local_from, TZ_SITE, slot_col="local_slot" if kind.with_slot else None
        ).sort(ROW)
    known = set(ctx.site_timezones)
    codes = (good.get_column("site").drop_nulls().unique().sort().to_list()
             if "site" in good.columns else [])
    new_sites = {code: fallback for code in codes if code not in known}
    defaults = INSERT_DEFAULTS.get(kind.name, {})
    good = good.with_columns(pl.col(c).fill_null(v) for c, v in defaults.items())
    return Validated(
        good=good.select(*DB_COLUMNS[kind.name], LINE),
        rejected=rejected,
        new_sites=new_sites,
    )


def _reasons(frame: pl.DataFrame) -> pl.DataFrame:
    reason = pl.when(pl.col("__detail").is_null()).then(pl.col("__category")).otherwise(
        pl.concat_str([pl.col("__category"), pl.lit(": "), pl.col("__detail")])
    )
    return frame.select(
        pl.col(ROW).cast(pl.UInt32), pl.col(LINE).alias("line"),
        pl.col("__category").alias("category"), reason.alias("reason"),
    )


def _derive(good: pl.DataFrame, kind: Kind, ctx: Context) -> pl.DataFrame:
    if kind.name == "contacts":
        oc, phone = pl.col("outcome"), pl.col("channel") == "phone"

        def seconds(a: str, b: str) -> pl.Expr:
            micros = (pl.col(a) - pl.col(b)).dt.total_microseconds()
            return (micros / 1_000_000).round(0, mode="half_away_from_zero").cast(pl.Int64)

        wait = (
            pl.when(~phone).then(pl.lit(None, pl.Int64))
            .when(pl.col("wait_seconds").is_not_null()).then(pl.col("wait_seconds"))
            .when(oc == "answered").then(seconds("answered_at", "received_at"))
            .when(oc == "abandoned").then(seconds("ended_at", "received_at"))
            .otherwise(pl.lit(0, pl.Int64))
        )
        key = (hash_series(good.get_column("caller_id"), ctx.caller_secret)
               if ctx.caller_secret else pl.Series("caller_key", [None] * good.height,
                                                   dtype=pl.String))
        good = good.with_columns(wait.alias("wait_seconds"), key.alias("caller_key"))
    return good
