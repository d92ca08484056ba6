"""The metrics of spec/metrics.md: their registry, and how the pure Polars formulas work.

Nothing else in the project computes a KPI. The work has two stages, kept apart so that
rollup tables can later store the first stage's output:

1. raw rows → **sufficient statistics** per group (the `*_stats` functions). Every
   statistic is listed in STATS with the way two groups' values merge: `sum` (counts,
   sums of seconds), `max`, `concat` (the exact reply delays a median needs) or `stock`
   (the e-mail backlog, a level taken at the group's last day, never summed over time).
2. statistics → **KPIs** (`kpis_from_stats`): ratios, means and medians, null whenever
   a denominator is 0.

Grouping keys (`by`, any of DIMENSIONS) are text: day `YYYY-MM-DD`, ISO week `YYYY-Www`,
month `YYYY-MM`, slot `HH:MM` (start of the local half-hour), site / département /
channel / queue / agent codes, campaign name or HORS_CAMPAGNE. A contact with no agent
keeps a **null** `agent` key: display layers label it "non attribué" (UNASSIGNED_LABEL).

What a grouping cannot measure is null, never a guess (see `unavailable_metrics`):
- staffing (agent_hours, occupancy, handled_per_agent_hour and the team measures below):
  sessions carry only a site and an agent, so these are null when grouped or filtered by
  département, channel, queue or campaign;
- team measures (agents_logged_in, required_agents, staffing_gap) describe a site's team
  against its queue: also null when grouped or filtered by agent (or in an agent's scope);
- acts (acts, acts_per_100_handled): acts carry no channel or queue (their link to a
  contact is optional and partial in real exports), so these are null when grouped or
  filtered by channel or queue;
- backlog is a stock at an instant: null when grouped by slot;
- users' survey answers (survey_responses … survey_response_rate, spec/review-data.md)
  carry a site, a département, a channel and the local date of the answer: these are null
  when grouped by slot, queue or agent, filtered by queue or agent, or in an agent's scope.

Team measures and their time base (agents_logged_in, required_agents, staffing_gap).
They are means of a number of agents over a **time base** W, the site's *open days*
(open ISO weekdays that are not public holidays of the calendar) of the period:
- grouped by slot, W is that local half-hour on each open day, at its **real** length
  (30 min; 60 min for the slots of the repeated hour on the October change day, whose two
  occurrences share the slot; 0 for the slots of the March gap, which then have no value);
- otherwise W is the site's opening hours (opens_at–closes_at, local) on each open day,
  at their real length: a day's figure is a mean over its opening hours, so a 23 h or
  25 h day changes nothing, and a closed day (weekend, holiday) has no value.
agents_logged_in = logged-in time inside W / |W|. required_agents is computed per cell
(site × local date × slot) by Erlang C, or Erlang A with patience as an option: the
smallest N whose service level for the cell's offered calls (short abandons excluded),
over the cell's real length, with the cell's AHT (else the site's AHT over the period,
else every site's) reaches the site's target within its SL threshold; 0 without calls.
The group's value is the time-weighted mean Σ N_cell × |cell ∩ W| / |W|. A group spanning
several sites adds the sites' agents: |W| is then taken once, as the largest of the
sites' bases (the sites' opening hours are assumed the same; `span` merge rule).

This module is the registry (METRICS, STATS, the groupings a metric cannot follow); the
formulas live beside it, by subject: grouping (keys, thresholds, merging), phone, email
(and the backlog), handled (handled contacts, repeats, acts), sessions (logged-in time and
the time bases), staffing (Erlang requirements) and formulas (stage 2).

Adding a metric: append its MetricDef to METRICS at its place in the spec, give
`formulas._formulas` its expression over statistics (adding any StatDef it needs, with
its merge rule, and the stage-1 function that produces it), and list in
`unavailable_metrics` the groupings it cannot follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import polars as pl

DIMENSIONS = (
    "day", "week", "month", "slot", "site", "department", "channel", "queue", "agent",
    "campaign",
)


HORS_CAMPAGNE = "hors campagne"


UNASSIGNED_LABEL = "non attribué"


REPEAT_WINDOW = dt.timedelta(days=7)


REPLY_48H = dt.timedelta(hours=48)


REPLY_WORKING_DAYS = 5


# Columns of the raw tables each dimension is computed from.
DIM_SOURCES: dict[str, tuple[str, ...]] = {
    "day": ("local_date",),
    "week": ("local_date",),
    "month": ("local_date",),
    "slot": ("local_slot",),
    "site": ("site",),
    "department": ("department",),
    "channel": ("channel",),
    "queue": ("queue",),
    "agent": ("agent_id",),
    "campaign": ("local_date", "department"),
}


CALENDAR_DIMENSIONS = ("day", "week", "month", "campaign")


@dataclass(frozen=True)
class MetricDef:
    """One metric of spec/metrics.md: JSON key, French label, unit kind, short definition."""

    key: str
    label: str
    unit: str  # count | rate | seconds | hours | ratio | agents
    family: str  # phone | email | acts | staffing
    definition: str


METRICS: tuple[MetricDef, ...] = (
    MetricDef("received", "Appels reçus", "count", "phone",
              "phone contacts that asked for an agent or were refused: answered + abandoned "
              "+ deflected"),
    MetricDef("ivr_ended", "Appels terminés au serveur vocal", "count", "phone",
              "outcome ivr: ended in the voice server without asking for an agent; in no "
              "other phone count or rate"),
    MetricDef("deflected", "Appels dissuadés", "count", "phone",
              "calls refused by the system (closed hours, saturation message)"),
    MetricDef("offered", "Appels présentés", "count", "phone",
              "answered + abandoned (short abandons included)"),
    MetricDef("answered", "Appels décrochés", "count", "phone", "calls answered"),
    MetricDef("abandoned", "Abandons", "count", "phone", "calls abandoned (all of them)"),
    MetricDef("short_abandoned", "Abandons courts", "count", "phone",
              "abandoned with wait_seconds < the site's short-abandon threshold (default 5)"),
    MetricDef("answer_rate", "Taux de décroché", "rate", "phone",
              "answered / (received − short_abandoned)"),
    MetricDef("abandon_rate", "Taux d'abandon", "rate", "phone",
              "(abandoned − short_abandoned) / (offered − short_abandoned)"),
    MetricDef("service_level", "Niveau de service", "rate", "phone",
              "answered with wait_seconds <= the site's SL threshold (default 20) / "
              "(offered − short_abandoned)"),
    MetricDef("asa_seconds", "Attente moyenne", "seconds", "phone",
              "mean wait_seconds of answered calls"),
    MetricDef("aht_seconds", "Durée moyenne de traitement", "seconds", "phone",
              "mean talk_seconds + wrap_seconds of answered calls"),
    MetricDef("abandon_wait_seconds", "Attente moyenne avant abandon", "seconds", "phone",
              "mean wait_seconds of abandoned calls that are not short"),
    MetricDef("max_wait_seconds", "Attente maximale", "seconds", "phone",
              "max wait_seconds over answered and abandoned calls"),
    MetricDef("patience_seconds", "Patience estimée des appelants", "seconds", "phone",
              "(wait of answered calls + wait of abandoned calls that are not short) / "
              "abandoned calls that are not short: the maximum-likelihood mean patience "
              "under exponential patience (Brown et al. 2005), the Erlang A input; null "
              "without such an abandon"),
    MetricDef("emails_received", "Courriels reçus", "count", "email",
              "e-mails received in the period (local date)"),
    MetricDef("emails_replied", "Courriels traités", "count", "email",
              "of those, the ones with a reply (whenever it came)"),
    MetricDef("reply_within_48h_rate", "Réponse sous 48 h", "rate", "email",
              "replied within 48 calendar hours / emails_received"),
    MetricDef("reply_within_5wd_rate", "Réponse sous 5 jours ouvrés", "rate", "email",
              "replied by the end (local midnight) of the 5th working day after the day of "
              "receipt / emails_received; working days Monday–Friday minus public holidays"),
    MetricDef("median_reply_hours", "Délai médian de réponse", "hours", "email",
              "median hours from receipt to first reply, replied e-mails only"),
    MetricDef("backlog", "Stock en attente", "count", "email",
              "e-mails received up to the end of the period and not replied by then "
              "(a stock, not a cohort count)"),
    MetricDef("acts", "Actes de gestion", "count", "acts", "acts performed in the period"),
    MetricDef("acts_per_100_handled", "Actes pour 100 contacts traités", "ratio", "acts",
              "100 × acts / (answered + emails_replied)"),
    MetricDef("online_promotion_rate", "Promotion des services en ligne", "rate", "acts",
              "handled contacts flagged online_service_promoted / handled contacts"),
    MetricDef("repeat_contact_rate", "Taux de rappel sous 7 jours", "rate", "acts",
              "handled contacts whose caller contacts again (any channel or site) within "
              "7 × 24 h after / handled contacts with a caller_key"),
    MetricDef("agent_hours", "Heures agents connectés", "hours", "staffing",
              "logged-in time of agent sessions, clipped to the period (and slot)"),
    MetricDef("occupancy", "Taux d'occupation", "rate", "staffing",
              "(talk + wrap of answered calls) / logged-in seconds, same scope"),
    MetricDef("handled_per_agent_hour", "Contacts traités par heure", "ratio", "staffing",
              "(answered + emails_replied) / agent_hours"),
    MetricDef("agents_logged_in", "Agents connectés (moyenne)", "agents", "staffing",
              "mean number of agents logged in over the time base W: logged-in time inside "
              "W / real length of W; W = the slot on the site's open days when grouped by "
              "slot (its real length: 60 min for the repeated hour's slots in October, 0 in "
              "March), else the site's opening hours on its open days (open weekdays that "
              "are not public holidays); null when W is empty (closed day)"),
    MetricDef("required_agents", "Effectif requis (Erlang)", "agents", "staffing",
              "per 30-min slot of each site and day: smallest N whose Erlang C service "
              "level for the slot's offered calls (short abandons excluded) over its real "
              "length and AHT (else the site's AHT of the period) reaches the site's target "
              "(sl_target within sl_seconds); 0 without calls; over a longer group, the "
              "time-weighted mean of the slots' N over the same base W as agents_logged_in; "
              "Erlang A (with patience) as an option"),
    MetricDef("staffing_gap", "Écart d'effectif", "agents", "staffing",
              "agents_logged_in − required_agents (negative: understaffed)"),
    # spec/review-data.md: the users' post-contact survey.
    MetricDef("survey_responses", "Réponses à l'enquête", "count", "survey",
              "survey answers in scope (local date of answered_at)"),
    MetricDef("csat_rate", "Usagers satisfaits", "rate", "survey",
              "answers with satisfaction ≥ 4 / survey_responses"),
    MetricDef("mean_satisfaction", "Satisfaction moyenne", "ratio", "survey",
              "mean satisfaction, 1–5"),
    MetricDef("perceived_resolution_rate", "Demande traitée (selon l'usager)", "rate",
              "survey", "answers with resolved true / answers with resolved given"),
    MetricDef("survey_response_rate", "Taux de réponse à l'enquête", "rate", "survey",
              "survey_responses / handled contacts (answered + emails_replied), same scope"),
)


METRIC_KEYS = tuple(m.key for m in METRICS)


def metrics_markdown() -> str:
    """The METRICS registry as a Markdown table (key, French label, unit, definition)."""
    lines = ["| name (JSON key) | French label | unit | definition |", "|---|---|---|---|"]
    lines += [f"| `{d.key}` | {d.label} | {d.unit} | {d.definition} |" for d in METRICS]
    return "\n".join(lines)


METRICS_BY_KEY = {m.key: m for m in METRICS}


INTEGER_METRICS = frozenset(
    m.key for m in METRICS if m.unit == "count"
) | {"max_wait_seconds"}


TEAM_METRICS = frozenset({"agents_logged_in", "required_agents", "staffing_gap"})


STAFFING_METRICS = frozenset({"agent_hours", "occupancy", "handled_per_agent_hour"}) | TEAM_METRICS


ACT_METRICS = frozenset({"acts", "acts_per_100_handled"})


STAFFING_BLIND = frozenset({"department", "channel", "queue", "campaign"})


TEAM_BLIND = STAFFING_BLIND | {"agent"}


ACTS_BLIND = frozenset({"channel", "queue"})


SURVEY_METRICS = frozenset({"survey_responses", "csat_rate", "mean_satisfaction",
                            "perceived_resolution_rate", "survey_response_rate"})


SURVEY_BLIND = frozenset({"slot", "queue", "agent"})


@dataclass(frozen=True)
class StatDef:
    """One sufficient statistic of stage 1 and how two groups' values merge."""

    name: str
    merge: str  # sum | max | concat | stock | span (a length of time: summed over time,
    # the largest over sites)
    dtype: pl.DataType


STATS: tuple[StatDef, ...] = (
    StatDef("ph_received", "sum", pl.Int64),
    StatDef("ph_ivr", "sum", pl.Int64),
    StatDef("ph_deflected", "sum", pl.Int64),
    StatDef("ph_answered", "sum", pl.Int64),
    StatDef("ph_abandoned", "sum", pl.Int64),
    StatDef("ph_short_abandoned", "sum", pl.Int64),
    StatDef("ph_answered_in_sl", "sum", pl.Int64),
    StatDef("ph_answered_wait_sum", "sum", pl.Int64),
    StatDef("ph_answered_wait_n", "sum", pl.Int64),
    StatDef("ph_handle_sum", "sum", pl.Int64),
    StatDef("ph_long_abandon_wait_sum", "sum", pl.Int64),
    StatDef("ph_long_abandon_wait_n", "sum", pl.Int64),
    StatDef("ph_max_wait", "max", pl.Int64),
    StatDef("em_received", "sum", pl.Int64),
    StatDef("em_replied", "sum", pl.Int64),
    StatDef("em_within_48h", "sum", pl.Int64),
    StatDef("em_within_5wd", "sum", pl.Int64),
    StatDef("em_reply_us", "concat", pl.List(pl.Int64)),
    StatDef("em_backlog", "stock", pl.Int64),
    StatDef("act_count", "sum", pl.Int64),
    StatDef("hd_handled", "sum", pl.Int64),
    StatDef("hd_promoted", "sum", pl.Int64),
    StatDef("hd_with_key", "sum", pl.Int64),
    StatDef("hd_repeat", "sum", pl.Int64),
    StatDef("st_logged_us", "sum", pl.Int64),
    StatDef("st_base_us", "span", pl.Int64),
    StatDef("st_base_logged_us", "sum", pl.Int64),
    StatDef("st_required_us", "sum", pl.Int64),
    StatDef("st_required_unknown", "sum", pl.Int64),
    StatDef("sv_responses", "sum", pl.Int64),
    StatDef("sv_satisfied", "sum", pl.Int64),
    StatDef("sv_score_sum", "sum", pl.Int64),
    StatDef("sv_resolved", "sum", pl.Int64),
    StatDef("sv_resolved_given", "sum", pl.Int64),
)


STATS_BY_NAME = {s.name: s for s in STATS}


def unavailable_metrics(by: Sequence[str], restricted: Collection[str] = ()) -> frozenset[str]:
    """Metrics that are null for grouping BY under filters on the dimensions RESTRICTED."""
    scope = set(by) | set(restricted)
    out: set[str] = set()
    if scope & STAFFING_BLIND:
        out |= STAFFING_METRICS
    if scope & TEAM_BLIND:
        out |= TEAM_METRICS
    if scope & ACTS_BLIND:
        out |= ACT_METRICS
    if "slot" in by:
        out.add("backlog")
    if scope & SURVEY_BLIND:
        out |= SURVEY_METRICS
    return frozenset(out)


# A metric needs the statistics of these others too (their blocks of the engine).
_NEEDS = {
    "acts_per_100_handled": {"acts"},
    "occupancy": {"agent_hours"},
    "handled_per_agent_hour": {"agent_hours"},
    "agents_logged_in": {"agent_hours", "required_agents"},
    "staffing_gap": {"agent_hours", "required_agents"},
}


def all_but(*keys: str) -> tuple[str, ...]:
    """Every metric key but KEYS (for compute_kpis' `metrics`: what a view does not read)."""
    unknown = sorted(set(keys) - set(METRIC_KEYS))
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}")
    return tuple(k for k in METRIC_KEYS if k not in keys)


def unwanted_metrics(wanted: Collection[str] | None) -> frozenset[str]:
    """Metrics outside WANTED (None: all wanted) and outside what they need to be
    computed; ValueError for an unknown key."""
    if wanted is None:
        return frozenset()
    unknown = sorted(set(wanted) - set(METRIC_KEYS))
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; known: {', '.join(METRIC_KEYS)}")
    keep = set(wanted)
    for key in wanted:
        keep |= _NEEDS.get(key, set())
    return frozenset(METRIC_KEYS) - keep
