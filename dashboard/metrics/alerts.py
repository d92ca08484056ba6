"""Threshold alerts, pure: the engine's figures of a site's day in, decisions out.

A threshold (reference data `[[alerts]]`) names a site, a metric, a limit and a window of
K = minutes / 30 half-hours. The figures come from the KPI engine only (compute_kpis by
slot for answer_rate, service_level and staffing_gap; by () for the day's backlog): this
module never computes a rate.

- The window: the last K *complete* half-hours of the day that lie within the site's
  opening hours on an open day (an open weekday that is not a public holiday). A
  half-hour is complete when the site's latest imported contact is at or after its end
  (`complete_slots`).
- CROSSED ("sustained for N minutes", like Prometheus' `for:`): the metric is on the wrong
  side in every one of the K half-hours; a half-hour without a value (no call) is not on
  the wrong side, so it breaks the run.
- RECOVERED: the latest complete half-hour has a value back on the right side. Neither
  crossed nor recovered (a null latest half-hour, or a wrong one after a right one):
  nothing changes, an open alert stays open.
- backlog (a stock, no value per half-hour): crossed when the day's backlog is above the
  threshold, recovered at or below; evaluated once a half-hour of opening is complete.
- Wrong side: answer_rate and service_level below the threshold (a fraction),
  staffing_gap (agents logged in − required) below it, backlog above it.

The value a crossing reports is the window's value nearest the threshold (the highest
rate or gap, the lowest of nothing for backlog): "below 85 % in every half-hour, at most
72,0 %". A recovery reports the latest half-hour's value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import polars as pl

from dashboard.core import formatting as fmt
from dashboard.core import workdays

METRICS = ("answer_rate", "service_level", "backlog", "staffing_gap")
SLOT_METRICS = ("answer_rate", "service_level", "staffing_gap")  # read by slot
BELOW = frozenset({"answer_rate", "service_level", "staffing_gap"})  # fires below
NAMES = {  # as in a sentence, lower case
    "answer_rate": "taux de décroché",
    "service_level": "niveau de service",
    "backlog": "stock de courriels en attente",
    "staffing_gap": "écart d'effectif",
}
SLOT = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Threshold:
    """One [[alerts]] entry: SITE's METRIC against THRESHOLD over MINUTES."""

    site: str
    metric: str
    threshold: float
    minutes: int = 60

    @property
    def slots(self) -> int:
        """K, the half-hours of the window (1 for backlog)."""
        return 1 if self.metric == "backlog" else self.minutes // 30

    def wrong(self, value: float | None) -> bool | None:
        """Whether VALUE is on the alerting side (None when there is no value)."""
        if value is None:
            return None
        return value < self.threshold if self.metric in BELOW else value > self.threshold


@dataclass(frozen=True)
class Decision:
    """A threshold at the latest complete half-hour: crossed, recovered or neither.

    window: the first and last half-hour (slot numbers, 0 = 00:00) it looked at; value:
    the window's value nearest the threshold when crossed, else the latest half-hour's.
    """

    crossed: bool
    recovered: bool
    first_slot: int
    last_slot: int
    value: float | None


@dataclass(frozen=True)
class Episode:
    """One alert: opened on a window starting at OPENED_SLOT, closed (or not) later."""

    site: str
    metric: str
    threshold: float
    minutes: int
    opened_slot: int
    opened_end: int  # the last half-hour of the opening window
    opened_value: float | None
    closed_slot: int | None = None  # None: still open (or open when its day ended)
    closed_value: float | None = None

    @property
    def is_open(self) -> bool:
        """Whether no recovery closed it."""
        return self.closed_slot is None


# ------------------------------------------------------------------------- half-hours

def slot_label(slot: int) -> str:
    """Slot number → "HH:MM" (its start); 48 → "24:00" (the end of the last one)."""
    return f"{slot // 2:02d}:{30 * (slot % 2):02d}"


def slot_number(label: str) -> int:
    """"HH:MM" (a slot's start, the engine's `slot` key) → slot number."""
    hours, minutes = label.split(":")
    return int(hours) * 2 + int(minutes) // 30


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def complete_slots(day: dt.date, opens_at: str, closes_at: str, open_weekdays: str,
                   latest_local: dt.datetime | None) -> list[int]:
    """The half-hours of DAY inside the opening hours (opens_at–closes_at, local, on the
    ISO weekdays listed, not a public holiday: the engine's open days) that are complete:
    LATEST_LOCAL, the site's latest contact in local wall-clock time, is at or after their
    end. In order."""
    if (latest_local is None or str(day.isoweekday()) not in open_weekdays
            or day in workdays.default_calendar()(day.year)):
        return []
    opens, closes = _clock(opens_at), _clock(closes_at)
    out = []
    for slot in range(48):
        start = slot * 30
        if start < opens or start + 30 > closes:
            continue
        end = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=start + 30)
        if end <= latest_local:
            out.append(slot)
    return out


def slot_values(frame: pl.DataFrame, metric: str) -> dict[int, float | None]:
    """The engine's rows by `slot` ("HH:MM") → slot number → METRIC's value."""
    if frame.height == 0 or metric not in frame.columns:
        return {}
    return {slot_number(s): (None if v is None else float(v))
            for s, v in zip(frame["slot"], frame[metric], strict=True) if s is not None}


# --------------------------------------------------------------------------- decisions

def decide(threshold: Threshold, values: Mapping[int, float | None],
           complete: list[int], day_value: float | None = None) -> Decision | None:
    """THRESHOLD at the latest of the COMPLETE half-hours (VALUES by slot; DAY_VALUE the
    day's backlog); None when there is nothing to decide on yet (fewer complete
    half-hours than the window)."""
    if not complete:
        return None
    last = complete[-1]
    if threshold.metric == "backlog":
        wrong = threshold.wrong(day_value)
        return Decision(wrong is True, wrong is False, last, last, day_value)
    k = threshold.slots
    if len(complete) < k:
        return None
    window = complete[-k:]
    wrongs = [threshold.wrong(values.get(s)) for s in window]
    latest = values.get(last)
    if all(w is True for w in wrongs):
        seen = [values[s] for s in window]
        nearest = max(seen)  # every metric read by slot fires below its threshold
        return Decision(True, False, window[0], last, nearest)
    return Decision(False, wrongs[-1] is False, window[0], last, latest)


def step(decision: Decision | None, is_open: bool) -> str | None:
    """"open" when DECISION crosses with no alert open, "recover" when it recovers with
    one open, else None (no storm: one message each way per episode)."""
    if decision is None:
        return None
    if not is_open and decision.crossed:
        return "open"
    if is_open and decision.recovered:
        return "recover"
    return None


def replay(threshold: Threshold, values: Mapping[int, float | None], complete: list[int],
           day_value: float | None = None) -> list[Episode]:
    """The episodes of a day as `deliver` would have opened and closed them running after
    every half-hour (backlog: its state at the latest half-hour only)."""
    episodes: list[Episode] = []
    starts = [len(complete)] if threshold.metric == "backlog" else range(1, len(complete) + 1)
    for n in starts:
        decision = decide(threshold, values, complete[:n], day_value)
        is_open = bool(episodes) and episodes[-1].is_open
        action = step(decision, is_open)
        if action == "open":
            episodes.append(Episode(threshold.site, threshold.metric, threshold.threshold,
                                    threshold.minutes, decision.first_slot,
                                    decision.last_slot, decision.value))
        elif action == "recover":
            episodes[-1] = replace(episodes[-1], closed_slot=decision.last_slot,
                                   closed_value=decision.value)
    return episodes


def stored_episode(row: Mapping, minutes: int) -> Episode:
    """A stored `alerts` row → Episode (its window's end rebuilt from MINUTES, the
    threshold's). Closed without a value (by the day change): open when its day ended."""
    k = 1 if row["metric"] == "backlog" else minutes // 30
    recovered = row["closed_value"] is not None
    return Episode(row["site"], row["metric"], row["threshold"], minutes, row["opened_slot"],
                   row["opened_slot"] + k - 1, row["opened_value"],
                   row["closed_slot"] if recovered else None,
                   row["closed_value"] if recovered else None)


def day_view(stored: Iterable[Episode], replayed: Iterable[Episode]) -> list[Episode]:
    """The alerts of a day for the page: per site and metric the stored ones (what was
    sent) where there are any, else the replayed ones; by site, metric, opening."""
    stored, replayed = list(stored), list(replayed)
    have = {(e.site, e.metric) for e in stored}
    out = stored + [e for e in replayed if (e.site, e.metric) not in have]
    return sorted(out, key=lambda e: (e.site, METRICS.index(e.metric), e.opened_slot))


# -------------------------------------------------------------------------- French text

def value_text(metric: str, value: float | None) -> str:
    """A metric's value in French: "72,0 %", "245", "−2,5"."""
    if metric in ("answer_rate", "service_level"):
        return fmt.fr_percent(value)
    if metric == "backlog":
        return fmt.fr_number(value)
    return fmt.fr_decimal(value, 1).replace("-", "−")


def limit_text(metric: str, threshold: float) -> str:
    """"sous 85 %", "au-dessus de 200", "sous −1 agent"."""
    if metric in ("answer_rate", "service_level"):
        return f"sous {fmt.fr_percent(threshold, 0)}"
    if metric == "backlog":
        return f"au-dessus de {fmt.fr_number(threshold)}"
    number = fmt.fr_decimal(threshold, 0 if float(threshold).is_integer() else 1)
    plural = "s" if abs(threshold) >= 2 else ""
    return f"sous {number.replace('-', '−')} agent{plural}"


def _span(first: int, last: int) -> str:
    return f"de {slot_label(first)} à {slot_label(last + 1)}"


def _duration(minutes: int) -> str:
    if minutes == 30:
        return "la dernière demi-heure"
    if minutes == 60:
        return "la dernière heure"
    if minutes % 60 == 0:
        return f"les {minutes // 60} dernières heures"
    return f"les {minutes} dernières minutes"


def opened_subject(ep: Episode, site_name: str) -> str:
    """"Alerte – Rouen – taux de décroché sous 85 % : au plus 72,0 % de 09:00 à 10:00"."""
    what = f"{NAMES[ep.metric]} {limit_text(ep.metric, ep.threshold)}"
    if ep.metric == "backlog":
        return (f"Alerte – {site_name} – {what} : {value_text(ep.metric, ep.opened_value)} "
                f"à {slot_label(ep.opened_end + 1)}")
    return (f"Alerte – {site_name} – {what} : au plus "
            f"{value_text(ep.metric, ep.opened_value)} {_span(ep.opened_slot, ep.opened_end)}")


def recovered_subject(ep: Episode, site_name: str) -> str:
    """"Fin d'alerte – Rouen – taux de décroché revenu à 88,0 % de 10:30 à 11:00"."""
    value = value_text(ep.metric, ep.closed_value)
    if ep.metric == "backlog":
        return (f"Fin d'alerte – {site_name} – {NAMES[ep.metric]} revenu à {value} à "
                f"{slot_label(ep.closed_slot + 1)}")
    return (f"Fin d'alerte – {site_name} – {NAMES[ep.metric]} revenu à {value} "
            f"{_span(ep.closed_slot, ep.closed_slot)}")


def warning_line(ep: Episode) -> str:
    """The page's line of an open alert: "Taux de décroché sous 85 % depuis 09:00 (au plus
    72,0 % par demi-heure sur la dernière heure)"."""
    what = f"{NAMES[ep.metric]} {limit_text(ep.metric, ep.threshold)}"
    what = what[0].upper() + what[1:]
    value = value_text(ep.metric, ep.opened_value)
    if ep.metric == "backlog":
        return f"{what} depuis {slot_label(ep.opened_end + 1)} ({value} courriels)"
    return (f"{what} depuis {slot_label(ep.opened_slot)} (au plus {value} par demi-heure "
            f"sur {_duration(ep.minutes)}, {_span(ep.opened_slot, ep.opened_end)})")


def recovered_line(ep: Episode) -> str:
    """The page's line of an alert that recovered."""
    what = NAMES[ep.metric][0].upper() + NAMES[ep.metric][1:]
    start = ep.opened_end + 1 if ep.metric == "backlog" else ep.opened_slot
    when = (f"à {slot_label(ep.closed_slot + 1)}" if ep.metric == "backlog"
            else _span(ep.closed_slot, ep.closed_slot))
    return (f"{what} {limit_text(ep.metric, ep.threshold)} à partir de {slot_label(start)}, "
            f"revenu à {value_text(ep.metric, ep.closed_value)} {when}")
