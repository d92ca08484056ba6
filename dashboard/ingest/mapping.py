"""Mapping files: bring a vendor's export to the import format without writing code.

A mapping is a TOML file given with `ingest KIND FILE --mapping MAPPING.toml`. It turns
each batch of the file's text columns into the columns of the import format
(spec/data-contract.md), which the importer then validates as usual; it never fixes a
value silently, so a row it cannot map is rejected with its line number and a reason.

    kind = "contacts"              # optional: the kind the mapping is written for
    source = "acd-rouen"           # optional: default of --source
    timezone = "Europe/Paris"      # optional: default of --timezone
    encoding = "cp1252"            # optional: default of --encoding
    delimiter = ";"                # optional: else detected from the header line
    ignore = ["priority"]          # file columns deliberately unused (no warning)

    [none]                         # values that mean "no value", per file column
    q_start = ["0:00:00"]          # "*" applies to every column
    "*" = ["NULL", "N/A"]

    [[skip]]                       # rows to leave out (counted as skipped, not rejected)
    column = "outcome"
    in = ["PHANTOM"]               # or: equals, not_equals, not_in, matches (regex), empty
    reason = "phantom call"        # optional label in the summary

    [constants]                    # a column with one value for every row
    channel = "phone"

    [columns]                      # each import column, from the file's columns
    queue = "type"                                   # rename
    agent_id = { from = ["agent", "agent_backup"] }  # first non-empty of several
    outcome = { from = "result", values = { AGENT = "answered", HANG = "abandoned" } }
    outcome = { from = "result", values = { AGENT = "answered", HANG = "abandoned" },
                cases = [{ read = "HANG", column = "q_start", empty = true,
                           write = "ivr" }] }        # a translation that reads a 2nd column
    talk_seconds = { from = "talk", keep_if = { column = "result", equals = "AGENT" } }
    contact_id = { template = "{date}-{line}-{call_id}" }
    answered_at = { from = "pickup", format = "%d/%m/%Y %H:%M:%S" }
    talk_seconds = { from = "talk", format = "%H:%M:%S" }       # a duration as h:mm:ss
    received_at = { date = "date", date_format = "%y%m%d",
                    time = ["q_start", "vru_exit"], time_format = "%H:%M:%S",
                    after = "vru_entry" }

Rules, in the order they apply to each row:
1. Every value used is stripped of surrounding spaces; empty text and the `[none]` values
   of its column become "no value".
2. `[[skip]]` rules are tried in order; the first that matches leaves the row out and is
   counted under its reason. A missing value matches only `empty = true`. A row whose
   fields cannot be split (too many fields) is never skipped: it is rejected.
3. Each import column is built from `[constants]` or `[columns]`; a column of the file
   named like an import column and not mapped is taken as it is.
   - `from`: the column (or the first non-empty of a list of columns);
   - `values`: a value map; a value it does not list is kept as read (so an unexpected
     code is rejected by the import's own rules, showing the code), unless `default`
     gives the value for all others;
   - `cases`: translations that depend on a second column, tried in order before
     `values`; each is `{ read = "HANG", column = "q_start", <test>, write = "ivr" }`:
     a value read as `read` (a text or a list; absent: any value) whose row passes the
     test on `column` is written `write`. The tests are those of `[[skip]]` (equals,
     not_equals, in, not_in, matches, empty) and read the column's cleaned value;
   - `keep_if`: `{ column = "outcome", <test> }`: the column keeps its value only on the
     rows that pass the test, and has no value on the others (service time only for
     served calls); a value dropped this way is never checked against its `format`;
   - `format` (timestamps): a strftime/chrono format (`%d/%m/%Y %H:%M`, `%y` = 1969-2068);
     with `%z` the time is exact, without it local time as usual. A value that does not
     fit is rejected as "unparseable <column>: '<value>' (expected <format>)";
   - `format` (durations): `%H:%M:%S` or `%M:%S`, for exports that write 0:01:23;
   - `format` (dates such as `day`, `wave`): e.g. `%d/%m/%Y` for 02/03/2015; a value that
     does not fit is rejected as "unparseable <column>: '<value>' (expected <format>)";
   - `template`: text with `{column}` placeholders; no value if any of them is empty;
   - `date` + `time`: a timestamp from a date column and a time-of-day column (or the
     first non-empty of several), with `date_format` (default `%Y-%m-%d`) and
     `time_format` (default `%H:%M:%S`, hours may be unpadded). With `after = "col"`,
     the time belongs to the same call as the time in `col` on that date: when it reads
     more than 12 hours *earlier* than it, the clock passed midnight and the date is the
     next day (23:59:56 then 0:00:02 is six seconds later, not a day earlier).
Column names are matched without regard to case. A mapping that names a column the file
lacks loads nothing and says which. The file columns that make `caller_id` are never
copied anywhere else (the mapping is refused if another column uses them), and the
quarantine file leaves them empty, so a raw identifier never leaves the importer. The
same holds for the columns a kind refuses (the agent id of the anonymous staff barometer,
`Kind.forbidden`): no import column may be made from them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dashboard.ingest.kinds import KINDS, Kind
from dashboard.ingest.read import LINE, READ_ERROR, is_unnamed

MAP_CATEGORY = "__map_category"
MAP_DETAIL = "__map_detail"
SKIP = "__skip"
HALF_DAY_NS = 12 * 3600 * 1_000_000_000
DURATION_FORMATS = {
    "%H:%M:%S": r"^(-?)(\d+):(\d{1,2}):(\d{1,2})$",
    "%M:%S": r"^(-?)()(\d+):(\d{1,2})$",
}
SKIP_TESTS = ("equals", "not_equals", "in", "not_in", "matches", "empty")
_TOP_KEYS = {"kind", "source", "timezone", "encoding", "delimiter", "ignore", "none", "skip",
             "constants", "columns"}
_COLUMN_KEYS = {"from", "values", "default", "cases", "keep_if", "format", "template",
                "date", "date_format", "time", "time_format", "after"}
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class MappingError(Exception):
    """The mapping file is not valid, or does not fit the file; the message is one line."""


@dataclass(frozen=True)
class Condition:
    """A row passes when its COLUMN passes TEST with VALUE (one of SKIP_TESTS)."""

    column: str
    test: str
    value: object

    def resolved(self, resolve) -> Condition:
        """This condition on the file's own spelling of its column (RESOLVE: name → name)."""
        return Condition(resolve(self.column), self.test, self.value)


@dataclass(frozen=True)
class SkipRule:
    """Leave out rows whose COLUMN passes TEST with VALUE."""

    column: str
    test: str
    value: object
    reason: str


@dataclass(frozen=True)
class Case:
    """Write WRITE for a value read as one of READ (empty: any) on rows passing WHEN."""

    read: tuple[str, ...]
    when: Condition
    write: str


@dataclass(frozen=True)
class Target:
    """How one import column is built."""

    name: str
    sources: tuple[str, ...] = ()
    constant: str | None = None
    values: tuple[tuple[str, str], ...] = ()
    default: str | None = None
    format: str | None = None
    template: str | None = None
    date: str | None = None
    date_format: str = "%Y-%m-%d"
    time: tuple[str, ...] = ()
    time_format: str = "%H:%M:%S"
    after: str | None = None
    cases: tuple[Case, ...] = ()
    keep_if: Condition | None = None

    def used(self) -> list[str]:
        """The file columns this target reads."""
        names = list(self.sources)
        names += [c.when.column for c in self.cases]
        if self.keep_if:
            names.append(self.keep_if.column)
        if self.template:
            names += _PLACEHOLDER.findall(self.template)
        if self.date:
            names.append(self.date)
        names += self.time
        if self.after:
            names.append(self.after)
        return names


@dataclass
class Mapping:
    """A parsed mapping file (see the module's documentation)."""

    path: Path
    kind: str | None = None
    source: str | None = None
    timezone: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    ignore: tuple[str, ...] = ()
    none: dict[str, tuple[str, ...]] = field(default_factory=dict)
    skips: list[SkipRule] = field(default_factory=list)
    targets: dict[str, Target] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The file name, for messages."""
        return self.path.name

    def bind(self, header: list[str], kind: Kind) -> BoundMapping:
        """This mapping applied to a file with HEADER, for KIND; MappingError if it can't."""
        return BoundMapping(self, header, kind)


def _fail(path: Path, message: str) -> MappingError:
    return MappingError(f"mapping {path.name}: {message}")


def _text_list(path: Path, where: str, value) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _fail(path, f"{where} must be a column name or a list of them")


def _string(path: Path, where: str, value) -> str:
    if not isinstance(value, str):
        raise _fail(path, f"{where} must be text, got {value!r}")
    return value


def load_mapping(path: Path | str) -> Mapping:
    """Read and check a mapping file; MappingError (one line) when it is not valid."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise MappingError(f"cannot open mapping {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _fail(path, f"unknown key(s) {', '.join(unknown)}")
    mapping = Mapping(path=path)
    for key in ("kind", "source", "timezone", "encoding", "delimiter"):
        if key in data:
            setattr(mapping, key, _string(path, key, data[key]))
    if mapping.kind is not None and mapping.kind not in KINDS:
        raise _fail(path, f"unknown kind {mapping.kind!r} (one of {', '.join(KINDS)})")
    if mapping.delimiter is not None and len(mapping.delimiter) != 1:
        raise _fail(path, f"delimiter must be one character, got {mapping.delimiter!r}")
    if "ignore" in data:
        mapping.ignore = _text_list(path, "ignore", data["ignore"])
    none = data.get("none", {})
    if not isinstance(none, dict):
        raise _fail(path, "[none] must be a table of column = [values]")
    for column, values in none.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _fail(path, f"[none] {column} must be a list of texts")
        mapping.none[column] = tuple(v.strip() for v in values)
    skips = data.get("skip", [])
    if not isinstance(skips, list):
        raise _fail(path, "skip must be written [[skip]]")
    mapping.skips = [_skip_rule(path, i, s) for i, s in enumerate(skips)]
    constants = data.get("constants", {})
    columns = data.get("columns", {})
    if not isinstance(constants, dict) or not isinstance(columns, dict):
        raise _fail(path, "[constants] and [columns] must be tables")
    for name, value in constants.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, int | float):
            value = str(value)
        mapping.targets[name.lower()] = Target(
            name=name.lower(), constant=_string(path, f"[constants] {name}", value))
    for name, spec in columns.items():
        if name.lower() in mapping.targets:
            raise _fail(path, f"{name} is both in [constants] and in [columns]")
        mapping.targets[name.lower()] = _target(path, name.lower(), spec)
    return mapping


def _skip_rule(path: Path, index: int, spec) -> SkipRule:
    where = f"[[skip]] number {index + 1}"
    cond, shown = _condition(path, where, spec, {"reason"})
    reason = spec.get("reason", shown)
    return SkipRule(column=cond.column, test=cond.test, value=cond.value,
                    reason=_string(path, f"{where} reason", reason))


def _condition(path: Path, where: str, spec, others: set[str]) -> tuple[Condition, str]:
    """The test of SPEC (`column` and one of SKIP_TESTS; OTHERS: further keys allowed),
    and how it reads."""
    if not isinstance(spec, dict) or not isinstance(spec.get("column"), str):
        raise _fail(path, f"{where} needs column = \"name\"")
    tests = [k for k in spec if k in SKIP_TESTS]
    extra = sorted(set(spec) - set(SKIP_TESTS) - {"column"} - others)
    if extra:
        raise _fail(path, f"{where}: unknown key(s) {', '.join(extra)}")
    if len(tests) != 1:
        raise _fail(path, f"{where} needs exactly one of {', '.join(SKIP_TESTS)}")
    test = tests[0]
    value = spec[test]
    if test in ("in", "not_in"):
        value = _text_list(path, f"{where} {test}", value)
    elif test == "empty":
        if not isinstance(value, bool):
            raise _fail(path, f"{where} empty must be true or false")
    else:
        value = _string(path, f"{where} {test}", value)
        if test == "matches":
            try:
                re.compile(value)
            except re.error as exc:
                raise _fail(path, f"{where} matches: invalid regular expression: {exc}") from None
    column = spec["column"]
    shown = {"equals": f"{column} = {value}", "not_equals": f"{column} ≠ {value}",
             "in": f"{column} in {', '.join(value) if test == 'in' else ''}",
             "not_in": f"{column} not in {', '.join(value) if test == 'not_in' else ''}",
             "matches": f"{column} matches {value}",
             "empty": f"{column} {'empty' if value else 'not empty'}"}[test]
    return Condition(column, test, value), shown


def _cases(path: Path, where: str, spec) -> tuple[Case, ...]:
    if not isinstance(spec, list) or not spec:
        raise _fail(path, f"{where} cases must be a list of {{ read, column, <test>, write }}")
    out = []
    for i, case in enumerate(spec):
        at = f"{where} case {i + 1}"
        cond, _ = _condition(path, at, case, {"read", "write"})
        if "write" not in case:
            raise _fail(path, f"{at} needs write = \"value\"")
        read = _text_list(path, f"{at} read", case["read"]) if "read" in case else ()
        out.append(Case(read=read, when=cond, write=_string(path, f"{at} write",
                                                            case["write"])))
    return tuple(out)


def _target(path: Path, name: str, spec) -> Target:
    where = f"[columns] {name}"
    if isinstance(spec, str):
        return Target(name=name, sources=(spec,))
    if not isinstance(spec, dict):
        raise _fail(path, f"{where} must be a column name or a table")
    unknown = sorted(set(spec) - _COLUMN_KEYS)
    if unknown:
        raise _fail(path, f"{where}: unknown key(s) {', '.join(unknown)}")
    ways = [k for k in ("from", "template", "date") if k in spec]
    if len(ways) != 1:
        raise _fail(path, f"{where} needs exactly one of from, template, date")
    kwargs: dict = {"name": name}
    if "from" in spec:
        kwargs["sources"] = _text_list(path, f"{where} from", spec["from"])
    if "template" in spec:
        template = _string(path, f"{where} template", spec["template"])
        if not _PLACEHOLDER.search(template):
            raise _fail(path, f"{where} template names no {{column}}")
        kwargs["template"] = template
    if "date" in spec:
        kwargs["date"] = _string(path, f"{where} date", spec["date"])
        if "time" not in spec:
            raise _fail(path, f"{where}: date needs time (the time-of-day column)")
        kwargs["time"] = _text_list(path, f"{where} time", spec["time"])
        for key in ("date_format", "time_format"):
            if key in spec:
                kwargs[key] = _string(path, f"{where} {key}", spec[key])
        if "after" in spec:
            kwargs["after"] = _string(path, f"{where} after", spec["after"])
    elif any(k in spec for k in ("time", "date_format", "time_format", "after")):
        raise _fail(path, f"{where}: time, date_format, time_format and after go with date")
    if "values" in spec:
        values = spec["values"]
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise _fail(path, f"{where} values must be a table of \"read\" = \"written\"")
        kwargs["values"] = tuple((str(k), v) for k, v in values.items())
    if "cases" in spec:
        if "from" not in spec:
            raise _fail(path, f"{where}: cases go with from")
        kwargs["cases"] = _cases(path, where, spec["cases"])
    if "keep_if" in spec:
        kwargs["keep_if"], _ = _condition(path, f"{where} keep_if", spec["keep_if"], set())
    if "default" in spec:
        if "values" not in spec:
            raise _fail(path, f"{where}: default goes with values")
        kwargs["default"] = _string(path, f"{where} default", spec["default"])
    if "format" in spec:
        if "from" not in spec:
            raise _fail(path, f"{where}: format goes with from")
        kwargs["format"] = _string(path, f"{where} format", spec["format"])
    return Target(**kwargs)


class BoundMapping:
    """A mapping checked against one file's header and one import kind."""

    def __init__(self, mapping: Mapping, header: list[str], kind: Kind) -> None:
        self.mapping = mapping
        self.kind = kind
        path = mapping.path
        if mapping.kind is not None and mapping.kind != kind.name:
            raise _fail(path, f"written for {mapping.kind}, not {kind.name}")
        lower = {}
        for name in header:
            lower.setdefault(name.lower(), name)
        self._header = header

        def resolve(name: str, where: str) -> str:
            if name in header:
                return name
            found = lower.get(name.lower())
            if found is None:
                raise _fail(path, f"{where} names column {name!r}, which the file's header "
                                  "lacks")
            return found

        self.targets: dict[str, Target] = {}
        for name, target in mapping.targets.items():
            if name not in kind.columns:
                raise _fail(path, f"{name} is not a column of {kind.name} "
                                  f"({', '.join(kind.columns)})")
            self._check_target(target)
            where = f"[columns] {name}"
            self.targets[name] = Target(
                name=name,
                sources=tuple(resolve(s, where) for s in target.sources),
                constant=target.constant, values=target.values, default=target.default,
                format=target.format,
                template=(_PLACEHOLDER.sub(lambda m: "{" + resolve(m.group(1), where) + "}",
                                           target.template) if target.template else None),
                date=resolve(target.date, where) if target.date else None,
                date_format=target.date_format,
                time=tuple(resolve(t, where) for t in target.time),
                time_format=target.time_format,
                after=resolve(target.after, where) if target.after else None,
                cases=tuple(Case(c.read, c.when.resolved(lambda n: resolve(n, where)), c.write)
                            for c in target.cases),
                keep_if=(target.keep_if.resolved(lambda n: resolve(n, where))
                         if target.keep_if else None),
            )
        self.none = {}
        for column, values in mapping.none.items():
            key = "*" if column == "*" else resolve(column, "[none]")
            self.none[key] = values
        self.skips = [SkipRule(resolve(s.column, "[[skip]]"), s.test, s.value, s.reason)
                      for s in mapping.skips]
        ignored = {resolve(n, "ignore") for n in mapping.ignore}

        # The columns that make caller_id: blanked in quarantine, used by nothing else.
        caller = self.targets.get("caller_id")
        self.sensitive = set(caller.used()) if caller else set()
        for name, target in self.targets.items():
            if name != "caller_id" and self.sensitive & set(target.used()):
                shared = sorted(self.sensitive & set(target.used()))[0]
                raise _fail(path, f"{name} uses {shared!r}, which makes caller_id: the raw "
                                  "identifier would be stored")
        # Columns the kind refuses to store (an agent id in the anonymous barometer): no
        # import column may be made from them; rows with a value are rejected by validation.
        self.forbidden = set(kind.forbidden_in(header))
        for name, target in self.targets.items():
            if self.forbidden & set(target.used()):
                shared = sorted(self.forbidden & set(target.used()))[0]
                raise _fail(path, f"{name} uses {shared!r}: {kind.name} are anonymous, an "
                                  "agent id is never stored")
        # File columns named like an import column and not mapped are taken as they are.
        self.passthrough = {
            name.lower(): name for name in header
            if name.lower() in kind.columns and name.lower() not in self.targets
            and name not in self.sensitive
        }
        self.used = set()
        for target in self.targets.values():
            self.used.update(target.used())
        self.used.update(s.column for s in self.skips)
        self.used.update(k for k in self.none if k != "*")
        leftover = [n for n in header if n not in self.used and n not in ignored
                    and n not in self.passthrough.values() and n not in self.sensitive
                    and n not in self.forbidden]
        self.warnings = []
        unknown = [n for n in leftover if not is_unnamed(n)]
        if unknown:
            self.warnings.append(f"unknown column(s) ignored: {', '.join(unknown)}")
        unnamed = len(leftover) - len(unknown)
        if unnamed:
            self.warnings.append(f"{unnamed} column(s) without a name ignored")

    def _check_target(self, target: Target) -> None:
        path, name, kind = self.mapping.path, target.name, self.kind
        if target.format is not None:
            if name in kind.timestamps or name in kind.dates:
                pass
            elif name in kind.durations:
                if target.format not in DURATION_FORMATS:
                    raise _fail(path, f"[columns] {name}: a duration's format is one of "
                                      f"{', '.join(DURATION_FORMATS)}")
            else:
                raise _fail(path, f"[columns] {name}: format applies to timestamps, dates "
                                  "and durations only")
        if target.date is not None and name not in kind.timestamps:
            raise _fail(path, f"[columns] {name}: date and time build timestamps only")
        if name == "caller_id" and (target.format or target.date):
            raise _fail(path, "[columns] caller_id: only from, values and template apply")

    @property
    def columns(self) -> list[str]:
        """The import columns a mapped batch has."""
        return list(self.targets) + list(self.passthrough)

    def blank(self) -> set[str]:
        """File columns the quarantine file must leave empty."""
        return (set(self.sensitive) | self.forbidden
                | {n for n in self._header if n.lower() == "caller_id"})

    def value_of(self, name: str) -> pl.Expr:
        """The cleaned text of file column NAME (stripped; its `[none]` values null)."""
        return self._clean(name)

    # -- applying ----------------------------------------------------------------------------

    def _clean(self, name: str) -> pl.Expr:
        text = pl.col(name).str.strip_chars()
        sentinels = self.none.get(name, ()) + self.none.get("*", ())
        empty = text == ""
        if sentinels:
            empty = empty | text.is_in(list(sentinels))
        return pl.when(empty).then(None).otherwise(text)

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The batch FRAME (file columns, LINE, READ_ERROR) as import columns.

        Adds MAP_CATEGORY / MAP_DETAIL (why a row could not be mapped) and SKIP (the
        reason of the skip rule that leaves the row out), all null when nothing applies.
        """
        used = sorted(self.used | {s for t in self.targets.values() for s in t.used()})
        src = {name: f"__src_{i}" for i, name in enumerate(used)}
        frame = frame.with_columns([self._clean(name).alias(src[name]) for name in used])
        col = {name: pl.col(alias) for name, alias in src.items()}

        exprs, errors = [], []
        for name, target in self.targets.items():
            value, error = self._build(target, col, frame)
            if target.keep_if is not None:
                kept = _passes(target.keep_if, col)
                value = pl.when(kept).then(value).otherwise(pl.lit(None, pl.String))
                error = [(when & kept, cat, det) for when, cat, det in error]
            exprs.append(value.alias(name))
            errors.extend(error)
        exprs += [pl.col(raw).alias(name) for name, raw in self.passthrough.items()]
        exprs.append(self._skip_expr(col).alias(SKIP))
        if errors:
            category = detail = None
            for when, cat, det in errors:
                category = (pl.when(when) if category is None else category.when(when)).then(cat)
                detail = (pl.when(when) if detail is None else detail.when(when)).then(det)
            exprs += [category.otherwise(pl.lit(None, pl.String)).alias(MAP_CATEGORY),
                      detail.otherwise(pl.lit(None, pl.String)).alias(MAP_DETAIL)]
        else:
            exprs += [pl.lit(None, pl.String).alias(MAP_CATEGORY),
                      pl.lit(None, pl.String).alias(MAP_DETAIL)]
        return frame.select(*exprs, pl.col(LINE), pl.col(READ_ERROR))

    def _skip_expr(self, col: dict[str, pl.Expr]) -> pl.Expr:
        out = None
        for rule in self.skips:
            hit = _passes(Condition(rule.column, rule.test, rule.value), col)
            hit = hit & pl.col(READ_ERROR).is_null()
            out = (pl.when(hit) if out is None else out.when(hit)).then(pl.lit(rule.reason))
        return pl.lit(None, pl.String) if out is None else out.otherwise(pl.lit(None, pl.String))

    def _build(self, t: Target, col: dict[str, pl.Expr],
               frame: pl.DataFrame) -> tuple[pl.Expr, list[tuple[pl.Expr, pl.Expr, pl.Expr]]]:
        """(text value of target T, [(failed?, category, detail)])."""
        errors = []
        if t.constant is not None:
            return pl.lit(t.constant, pl.String), errors
        if t.template is not None:
            parts = []
            pos = 0
            for m in _PLACEHOLDER.finditer(t.template):
                if m.start() > pos:
                    parts.append(pl.lit(t.template[pos:m.start()]))
                parts.append(col[m.group(1)])
                pos = m.end()
            if pos < len(t.template):
                parts.append(pl.lit(t.template[pos:]))
            return pl.concat_str(parts, ignore_nulls=False), errors
        if t.date is not None:
            return self._date_time(t, col)
        value = col[t.sources[0]] if len(t.sources) == 1 else pl.coalesce(
            [col[s] for s in t.sources])
        read = value
        if t.values:
            old = [k for k, _ in t.values]
            new = [v for _, v in t.values]
            if t.default is not None:
                value = value.replace_strict(old, new, default=pl.lit(t.default),
                                             return_dtype=pl.String)
                value = pl.when(value.is_null()).then(None).otherwise(value)
            else:
                value = value.replace(old, new)
        if t.cases:
            # The first case that holds wins, over the value map.
            chosen = None
            for case in t.cases:
                hit = _passes(case.when, col)
                if case.read:
                    hit = hit & read.is_in(list(case.read)).fill_null(False)
                chosen = (pl.when(hit) if chosen is None else chosen.when(hit)).then(
                    pl.lit(case.write))
            value = chosen.otherwise(value)
        if t.format is not None:
            if t.name in self.kind.timestamps:
                return self._timestamp(t, value)
            if t.name in self.kind.dates:
                return self._date(t, value)
            return self._duration(t, value)
        return value, errors

    def _timestamp(self, t: Target, value: pl.Expr):
        aware = any(z in t.format for z in ("%z", "%:z", "%#z", "%Z"))
        parsed = value.str.to_datetime(t.format, strict=False, time_unit="us",
                                       time_zone="UTC" if aware else None)
        if aware:
            text = parsed.dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")
        else:
            text = parsed.dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
        failed = value.is_not_null() & parsed.is_null()
        return text, [(failed, pl.lit(f"unparseable {t.name}"),
                       pl.concat_str([pl.lit("'"), value,
                                      pl.lit(f"' (expected {t.format})")]))]

    def _date(self, t: Target, value: pl.Expr):
        parsed = value.str.to_date(t.format, strict=False)
        failed = value.is_not_null() & parsed.is_null()
        return parsed.dt.to_string("%Y-%m-%d"), [
            (failed, pl.lit(f"unparseable {t.name}"),
             pl.concat_str([pl.lit("'"), value, pl.lit(f"' (expected {t.format})")]))]

    def _duration(self, t: Target, value: pl.Expr):
        groups = value.str.extract_groups(DURATION_FORMATS[t.format])
        sign, h, m, s = (groups.struct.field(str(i)) for i in range(1, 5))
        h = pl.when(h == "").then(pl.lit("0")).otherwise(h)
        total = (h.cast(pl.Int64, strict=False) * 3600 + m.cast(pl.Int64, strict=False) * 60
                 + s.cast(pl.Int64, strict=False))
        total = pl.when(sign == "-").then(-total).otherwise(total)
        failed = value.is_not_null() & total.is_null()
        return total.cast(pl.String), [(failed, pl.lit(f"invalid {t.name}"),
                                        pl.concat_str([pl.lit("'"), value,
                                                       pl.lit(f"' (expected {t.format})")]))]

    def _date_time(self, t: Target, col: dict[str, pl.Expr]):
        date_text = col[t.date]
        time_text = col[t.time[0]] if len(t.time) == 1 else pl.coalesce([col[c] for c in t.time])
        day = date_text.str.to_date(t.date_format, strict=False)
        clock = time_text.str.to_time(t.time_format, strict=False)
        stamp = day.dt.combine(clock)
        if t.after:
            ref = col[t.after].str.to_time(t.time_format, strict=False)
            wrapped = (clock.cast(pl.Int64) < ref.cast(pl.Int64) - HALF_DAY_NS).fill_null(False)
            stamp = pl.when(wrapped).then(stamp + pl.duration(days=1)).otherwise(stamp)
        text = stamp.dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
        category = pl.lit(f"unparseable {t.name}")
        errors = [
            (date_text.is_not_null() & day.is_null(), category,
             pl.concat_str([pl.lit("date '"), date_text,
                            pl.lit(f"' (expected {t.date_format})")])),
            (time_text.is_not_null() & clock.is_null(), category,
             pl.concat_str([pl.lit("time '"), time_text,
                            pl.lit(f"' (expected {t.time_format})")])),
        ]
        return text, errors


def _passes(cond: Condition, col: dict[str, pl.Expr]) -> pl.Expr:
    """COND over the cleaned file columns COL, as a Polars condition (never null)."""
    value = col[cond.column]
    if cond.test == "equals":
        hit = value == cond.value
    elif cond.test == "not_equals":
        hit = value != cond.value
    elif cond.test == "in":
        hit = value.is_in(list(cond.value))
    elif cond.test == "not_in":
        hit = ~value.is_in(list(cond.value))
    elif cond.test == "matches":
        hit = value.str.contains(cond.value)
    else:
        hit = value.is_null() if cond.value else value.is_not_null()
    if cond.test != "empty":
        hit = value.is_not_null() & hit
    return hit.fill_null(False)
