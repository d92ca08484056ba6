"""Reference data (sites, départements, coverage, campaigns and their deadlines, the
review's objective targets, the sites' alert thresholds): load from TOML, read back."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from dashboard.core.codes import CODE_RULE, is_code
from dashboard.store import schema

PILOT_FILE = Path(__file__).resolve().parent / "pilot.toml"

_KEYS = {
    "sites": ("code",),
    "departments": ("code",),
    "coverage": ("site", "department", "start_date"),
    "campaigns": ("name",),
    # department absent (every département) is a NULL in the key, matched as IS NULL.
    "deadlines": ("campaign", "day", "department"),
    "objectives": ("key",),
    "alerts": ("site", "metric"),
}
# Sections whose table has another name.
_TABLES = {"alerts": "alert_thresholds"}
ALERT_MINUTES = (30, 240)  # the window's bounds, in minutes, by steps of 30


class ReferenceError(ValueError):
    """The reference file is not valid."""


def read_reference(path: Path = PILOT_FILE) -> dict[str, list[dict]]:
    """Parse a reference TOML file into rows per table."""
    with Path(path).open("rb") as fh:
        data = tomllib.load(fh)
    unknown = set(data) - set(_KEYS)
    if unknown:
        raise ReferenceError(f"{path}: unknown section(s) {sorted(unknown)}")
    out = {name: [dict(row) for row in data.get(name, [])] for name in _KEYS}
    codes = [r.get("code") for r in out["sites"]] + [r.get("site") for r in out["coverage"]]
    for code in codes:
        if not is_code(code):
            raise ReferenceError(f"{path}: site code {code!r} must be {CODE_RULE}")
    for row in out["objectives"]:
        if row.get("key") not in schema.OBJECTIVES:
            raise ReferenceError(f"{path}: objective {row.get('key')!r} is not one of "
                                 f"{', '.join(schema.OBJECTIVES)}")
        for key in ("target", "partial_target"):
            if isinstance(row.get(key), bool) or not isinstance(row.get(key), int | float):
                raise ReferenceError(f"{path}: objective {row['key']}: {key} must be a "
                                     f"number, got {row.get(key)!r}")
        if row["partial_target"] > row["target"]:
            raise ReferenceError(f"{path}: objective {row['key']}: partial_target is above "
                                 "target")
    for row in out["coverage"] + out["campaigns"]:
        for key in ("start_date", "end_date"):
            if key in row and not isinstance(row[key], dt.date):
                raise ReferenceError(f"{path}: {key} must be a TOML date, got {row[key]!r}")
    for row in out["deadlines"]:
        row.setdefault("department", None)
        if not isinstance(row.get("day"), dt.date) or isinstance(row.get("day"), dt.datetime):
            raise ReferenceError(f"{path}: deadline day must be a TOML date, got "
                                 f"{row.get('day')!r}")
    for row in out["alerts"]:
        _check_alert(path, row)
    return out


def _check_alert(path: Path, row: dict) -> None:
    """One [[alerts]] entry: its site, metric, threshold and window (minutes, default 60)."""
    site, metric = row.get("site"), row.get("metric")
    if not is_code(site):
        raise ReferenceError(f"{path}: alert site code {site!r} must be {CODE_RULE}")
    if metric not in schema.ALERT_METRICS:
        raise ReferenceError(f"{path}: alert {site}: metric {metric!r} is not one of "
                             f"{', '.join(schema.ALERT_METRICS)}")
    value = row.get("threshold")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReferenceError(f"{path}: alert {site} {metric}: threshold must be a number, "
                             f"got {value!r}")
    if metric in ("answer_rate", "service_level") and not 0 <= value <= 1:
        raise ReferenceError(f"{path}: alert {site} {metric}: threshold must be a fraction "
                             f"between 0 and 1, got {value!r}")
    if metric == "backlog" and value < 0:
        raise ReferenceError(f"{path}: alert {site} backlog: threshold must be a count of "
                             f"e-mails, 0 or more, got {value!r}")
    minutes = row.setdefault("minutes", 60)
    low, high = ALERT_MINUTES
    if (isinstance(minutes, bool) or not isinstance(minutes, int) or minutes % 30
            or not low <= minutes <= high):
        raise ReferenceError(f"{path}: alert {site} {metric}: minutes must be a multiple "
                             f"of 30 from {low} to {high}, got {minutes!r}")
    row["threshold"] = float(value)


def upsert_reference(conn: Connection, data: dict[str, list[dict]]) -> dict[str, int]:
    """Insert or update reference rows by their natural keys; returns rows written per table."""
    counts = {}
    for name in _KEYS:
        table = schema.metadata.tables[_TABLES.get(name, name)]
        keys = _KEYS[name]
        n = 0
        for row in data.get(name, []):
            where = [table.c[k] == row[k] for k in keys]
            existing = conn.execute(select(table).where(*where)).first()
            if existing is None:
                conn.execute(table.insert().values(**row))
            else:
                conn.execute(table.update().where(*where).values(**row))
            n += 1
        counts[name] = n
    return counts


def load_reference(engine: Engine, path: Path = PILOT_FILE) -> dict[str, int]:
    """Load a reference TOML file into the database in one transaction."""
    data = read_reference(path)
    with engine.begin() as conn:
        return upsert_reference(conn, data)


def site_timezones(conn: Connection) -> dict[str, str]:
    """Site code → IANA time zone."""
    rows = conn.execute(select(schema.sites.c.code, schema.sites.c.timezone)).all()
    return {code: tz for code, tz in rows}
