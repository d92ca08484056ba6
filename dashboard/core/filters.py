"""What the user asked for: the period, the code lists and the row scope (`Filters`), and
the thresholds that replace the sites' own (`Overrides`).

Frozen and hashable, so Streamlit can cache on them; every layer from `queries/` up takes
them, which is why they live here, below all of those.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from dashboard.core.access import Scope

CHANNELS = ("phone", "email")
_TUPLE_FIELDS = ("sites", "departments", "channels", "queues", "agents")


@dataclass(frozen=True)
class Filters:
    """Which contacts count: local dates START..END inclusive, and optional code lists."""

    start: dt.date
    end: dt.date
    sites: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # "phone", "email"
    queues: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    # The reader's row scope. Every query requires it (queries._common.row_conditions):
    # the user's in the web app, access.ALL_ROWS for trusted callers (the CLI without
    # --as-user, the rollup refresh, tests). None only until a caller sets it.
    scope: Scope | None = None

    def __post_init__(self) -> None:
        for name in _TUPLE_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value or ()))
        for bound in (self.start, self.end):
            if not isinstance(bound, dt.date) or isinstance(bound, dt.datetime):
                raise TypeError(f"start and end must be dates, got {bound!r}")
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        bad = [c for c in self.channels if c not in CHANNELS]
        if bad:
            raise ValueError(f"unknown channel(s) {bad}; known: {', '.join(CHANNELS)}")

    def restricted_dimensions(self) -> frozenset[str]:
        """Dimensions these filters narrow (a channel list naming both channels does not)."""
        out = set()
        for field, dim in (("sites", "site"), ("departments", "department"),
                           ("queues", "queue"), ("agents", "agent")):
            if getattr(self, field):
                out.add(dim)
        if self.channels and not set(CHANNELS) <= set(self.channels):
            out.add("channel")
        return frozenset(out)


@dataclass(frozen=True)
class Overrides:
    """Thresholds that replace every site's own (the CLI's --sl-seconds and friends), and
    the queueing model of `required_agents`.

    `erlang_a` switches required_agents from Erlang C to Erlang A (callers who hang up),
    with `patience_seconds` as every caller's mean patience, or else each site's
    `patience_seconds` metric over the period (a site without a long abandon then stays
    on Erlang C). `sl_target` replaces the sites' service-level targets (a fraction).
    """

    sl_seconds: int | None = None
    short_abandon_seconds: int | None = None
    sl_target: float | None = None
    erlang_a: bool = False
    patience_seconds: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("sl_seconds", "short_abandon_seconds"):
                if value is not None and (
                    not isinstance(value, int) or isinstance(value, bool) or value < 0
                ):
                    raise ValueError(f"{f.name} must be a non-negative integer, got {value!r}")
        if self.sl_target is not None and not 0 < self.sl_target < 1:
            raise ValueError(f"sl_target must be a fraction in (0, 1), got {self.sl_target!r}")
        if self.patience_seconds is not None and not self.patience_seconds > 0:
            raise ValueError(f"patience_seconds must be > 0, got {self.patience_seconds!r}")
        if not isinstance(self.erlang_a, bool):
            raise ValueError(f"erlang_a must be True or False, got {self.erlang_a!r}")
