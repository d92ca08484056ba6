"""The formulas of spec/metrics.md, as pure Polars functions: frames in, frame out.

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
- backlog is a stock at an instant: null when grouped by slot.

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

Adding a metric: append its MetricDef to METRICS at its place in the spec, give
`_formulas` its expression over statistics (adding any StatDef it needs, with its merge
rule, and the stage-1 function that produces it), and list in `unavailable_metrics` the
groupings it cannot follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import reduce

import polars as pl

from dashboard.core.config import Thresholds
from dashboard.core.localtime import localize, with_local_columns
from dashboard.core.workdays import HolidayCalendar, default_calendar, working_day_deadlines
from dashboard.metrics import erlang

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
              "all phone contacts: answered + abandoned + deflected"),
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


@dataclass(frozen=True)
class StatDef:
    """One sufficient statistic of stage 1 and how two groups' values merge."""

    name: str
    merge: str  # sum | max | concat | stock | span (a length of time: summed over time,
    # the largest over sites)
    dtype: pl.DataType


STATS: tuple[StatDef, ...] = (
    StatDef("ph_received", "sum", pl.Int64),
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
)
STATS_BY_NAME = {s.name: s for s in STATS}


# ----------------------------------------------------------------------------- grouping


def check_by(by: Sequence[str]) -> tuple[str, ...]:
    """BY as a tuple, or ValueError for an unknown or repeated dimension."""
    by = tuple(by)
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s) {unknown}; known: {', '.join(DIMENSIONS)}")
    if len(set(by)) != len(by):
        raise ValueError(f"dimension repeated in {list(by)}")
    return by


def source_columns(by: Sequence[str]) -> tuple[str, ...]:
    """Raw columns the dimensions BY are computed from, deduplicated, in order."""
    return tuple(dict.fromkeys(col for dim in by for col in DIM_SOURCES[dim]))


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


def campaign_names(frame: pl.DataFrame, campaigns: pl.DataFrame | None) -> pl.Series:
    """Campaign name of each row (`local_date`, `department`), HORS_CAMPAGNE outside any.

    A campaign with a département covers only that département. Where campaigns overlap,
    one with a département wins over a national one, then the latest start, then the name.
    """
    if frame.height == 0 or campaigns is None or campaigns.height == 0:
        return pl.Series("campaign", [HORS_CAMPAGNE] * frame.height, dtype=pl.String)
    pairs = frame.select("local_date", "department").unique()
    cands = (
        pairs.join(
            campaigns.select(
                pl.col("name").alias("_c_name"),
                pl.col("start_date").alias("_c_start"),
                pl.col("end_date").alias("_c_end"),
                pl.col("department").alias("_c_dept"),
            ),
            how="cross",
        )
        .filter(
            pl.col("local_date").is_between(pl.col("_c_start"), pl.col("_c_end")),
            pl.col("_c_dept").is_null() | (pl.col("_c_dept") == pl.col("department")),
        )
        .sort(
            [pl.col("_c_dept").is_not_null(), "_c_start", "_c_name"],
            descending=[True, True, False],
        )
        .group_by("local_date", "department", maintain_order=True)
        .agg(pl.col("_c_name").first().alias("campaign"))
    )
    keyed = frame.select("local_date", "department").join(
        cands, on=["local_date", "department"], how="left", nulls_equal=True,
        maintain_order="left",
    )
    return keyed.get_column("campaign").fill_null(HORS_CAMPAGNE)


def _key_expr(dim: str) -> pl.Expr:
    date = pl.col("local_date")
    if dim == "day":
        return date.dt.strftime("%Y-%m-%d")
    if dim == "week":
        return pl.format(
            "{}-W{}", date.dt.iso_year(), date.dt.week().cast(pl.String).str.zfill(2)
        )
    if dim == "month":
        return date.dt.strftime("%Y-%m")
    if dim == "slot":
        slot = pl.col("local_slot").cast(pl.Int32)
        return pl.format(
            "{}:{}",
            (slot // 2).cast(pl.String).str.zfill(2),
            pl.when(slot % 2 == 1).then(pl.lit("30")).otherwise(pl.lit("00")),
        )
    if dim == "agent":
        return pl.col("agent_id")
    return pl.col(dim)


def with_group_keys(
    frame: pl.DataFrame, by: Sequence[str], campaigns: pl.DataFrame | None = None
) -> pl.DataFrame:
    """FRAME plus one text key column per dimension of BY, named after it.

    Keys are computed from the raw columns of DIM_SOURCES; CAMPAIGNS is needed only for
    the `campaign` dimension.
    """
    cols = []
    for dim in by:
        if dim == "campaign":
            cols.append(campaign_names(frame, campaigns).alias("campaign"))
        else:
            cols.append(_key_expr(dim).cast(pl.String).alias(dim))
    return frame.with_columns(cols) if cols else frame


def _aggregate(frame: pl.DataFrame, by: Sequence[str], aggs: list[pl.Expr]) -> pl.DataFrame:
    if by:
        return frame.group_by(list(by)).agg(aggs)
    return frame.select(aggs)


def _cast_stats(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(name).cast(STATS_BY_NAME[name].dtype) for name in frame.columns
        if name in STATS_BY_NAME
    )


# --------------------------------------------------------------------------- thresholds


def with_thresholds(
    rows: pl.DataFrame,
    sites: pl.DataFrame,
    defaults: Thresholds,
    sl_seconds: int | None = None,
    short_abandon_seconds: int | None = None,
) -> pl.DataFrame:
    """ROWS (with `site`) plus each row's thresholds `sl_s` and `short_s`.

    Precedence: the override given here, else the site's own column in SITES, else
    DEFAULTS (the settings).
    """
    per_site = sites.select(
        "site",
        pl.col("sl_seconds").fill_null(defaults.sl_seconds).alias("_site_sl"),
        pl.col("short_abandon_seconds")
        .fill_null(defaults.short_abandon_seconds)
        .alias("_site_short"),
    )
    out = rows.join(per_site, on="site", how="left", maintain_order="left")
    sl = pl.lit(sl_seconds) if sl_seconds is not None else pl.col("_site_sl").fill_null(
        defaults.sl_seconds
    )
    short = (
        pl.lit(short_abandon_seconds)
        if short_abandon_seconds is not None
        else pl.col("_site_short").fill_null(defaults.short_abandon_seconds)
    )
    return out.with_columns(
        sl.cast(pl.Int64).alias("sl_s"), short.cast(pl.Int64).alias("short_s")
    ).drop("_site_sl", "_site_short")


# ---------------------------------------------------------------- stage 1: statistics


def phone_stats(rows: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed calls → phone statistics per group.

    ROWS carry `outcome`, `wait_seconds` (null when unknown: counted in the totals, not
    in means, never within the SL nor short), `handle_seconds` (talk + wrap) and the
    row's thresholds `sl_s`, `short_s`.
    """
    outcome = pl.col("outcome")
    wait = pl.col("wait_seconds")
    answered = outcome == "answered"
    abandoned = outcome == "abandoned"
    short = (abandoned & (wait < pl.col("short_s"))).fill_null(False)
    long_abandon = abandoned & ~short
    aggs = [
        pl.len().alias("ph_received"),
        (outcome == "deflected").sum().alias("ph_deflected"),
        answered.sum().alias("ph_answered"),
        abandoned.sum().alias("ph_abandoned"),
        short.sum().alias("ph_short_abandoned"),
        (answered & (wait <= pl.col("sl_s"))).fill_null(False).sum().alias("ph_answered_in_sl"),
        wait.filter(answered).sum().alias("ph_answered_wait_sum"),
        wait.filter(answered).count().alias("ph_answered_wait_n"),
        pl.col("handle_seconds").filter(answered).sum().alias("ph_handle_sum"),
        wait.filter(long_abandon).sum().alias("ph_long_abandon_wait_sum"),
        wait.filter(long_abandon).count().alias("ph_long_abandon_wait_n"),
        wait.filter(answered | abandoned).max().alias("ph_max_wait"),
    ]
    return _cast_stats(_aggregate(rows, by, aggs))


def email_flags(
    rows: pl.DataFrame, sites: pl.DataFrame, calendar: HolidayCalendar | None = None
) -> pl.DataFrame:
    """E-mails plus their reply flags: `replied`, `within_48h`, `within_5wd`, `reply_us`.

    ROWS carry `site`, `local_date` (of receipt), `received_at` and `answered_at` (first
    reply, naive UTC). 48 h are real elapsed hours, inclusive. The 5-working-day deadline
    is the end of the 5th working day of CALENDAR after the local day of receipt; a reply
    is in time when its local date (site's zone) is on or before that day. `reply_us` is
    the delay in microseconds (null without reply), kept exact for medians.
    """
    tz = sites.select("site", "timezone")
    frame = rows.join(tz, on="site", how="left", maintain_order="left").with_columns(
        pl.col("timezone").fill_null("Europe/Paris")
    )
    frame = with_local_columns(frame, "answered_at", "timezone", "_reply_date", None)
    deadlines = working_day_deadlines(
        frame.get_column("local_date").to_list(), REPLY_WORKING_DAYS, calendar
    ).rename({"day": "local_date", "deadline": "_deadline"})
    frame = frame.join(deadlines, on="local_date", how="left")
    replied = pl.col("answered_at").is_not_null()
    delay = pl.col("answered_at") - pl.col("received_at")
    return frame.with_columns(
        replied.alias("replied"),
        (replied & (delay <= REPLY_48H)).fill_null(False).alias("within_48h"),
        (replied & (pl.col("_reply_date") <= pl.col("_deadline"))).fill_null(False)
        .alias("within_5wd"),
        delay.dt.total_microseconds().cast(pl.Int64).alias("reply_us"),
    ).drop("timezone", "_reply_date", "_deadline")


def email_stats(flagged: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Flagged, keyed e-mails of the cohort (see email_flags) → e-mail statistics per group."""
    aggs = [
        pl.len().alias("em_received"),
        pl.col("replied").sum().alias("em_replied"),
        pl.col("within_48h").sum().alias("em_within_48h"),
        pl.col("within_5wd").sum().alias("em_within_5wd"),
        pl.col("reply_us").drop_nulls().implode().alias("em_reply_us")
        if not by
        else pl.col("reply_us").drop_nulls().alias("em_reply_us"),
    ]
    return _cast_stats(_aggregate(flagged, by, aggs))


def site_period_bounds(sites: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per site: `lo`, `hi`, the naive UTC instants where local START begins and END ends.

    Local midnights are converted by the house rule of dashboard.localtime.
    """
    if sites.height == 0:
        return pl.DataFrame(
            schema={"site": pl.String, "lo": pl.Datetime("us"), "hi": pl.Datetime("us")}
        )
    frame = sites.select("site", "timezone").with_columns(
        pl.lit(dt.datetime.combine(start, dt.time())).cast(pl.Datetime("us")).alias("_lo"),
        pl.lit(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
        .cast(pl.Datetime("us"))
        .alias("_hi"),
    )
    return _localize_columns(frame, {"_lo": "lo", "_hi": "hi"}).select("site", "lo", "hi")


def _localize_columns(frame: pl.DataFrame, cols: dict[str, str]) -> pl.DataFrame:
    """Naive local columns (keys of COLS) → naive UTC columns (values), per row's `timezone`."""
    if frame.height == 0:
        return frame.with_columns(pl.col(src).alias(dst) for src, dst in cols.items())
    parts = []
    for tz in frame.get_column("timezone").unique().to_list():
        part = frame.filter(pl.col("timezone") == tz)
        parts.append(part.with_columns(localize(pl.col(src), tz).alias(dst)
                                       for src, dst in cols.items()))
    return pl.concat(parts)


def _calendar_keys(
    start: dt.date, end: dt.date, by: Sequence[str], departments: Sequence[str | None],
    campaigns: pl.DataFrame | None,
) -> pl.DataFrame:
    """Per group of BY's calendar dimensions: `_snap`, its last local day in [START, END]."""
    days = pl.DataFrame({"local_date": pl.date_range(start, end, eager=True)})
    cal_dims = [d for d in by if d in CALENDAR_DIMENSIONS]
    if "campaign" in by:
        # A campaign may cover one département only: its days depend on the département.
        days = days.join(
            pl.DataFrame({"department": list(departments)}, schema={"department": pl.String}),
            how="cross",
        )
    group = cal_dims + (["department"] if "campaign" in by else [])
    if not group:
        return pl.DataFrame({"_snap": [end]}, schema={"_snap": pl.Date})
    keyed = with_group_keys(days, cal_dims, campaigns)
    return keyed.group_by(group).agg(pl.col("local_date").max().alias("_snap"))


def backlog_stats(
    rows: pl.DataFrame,
    by: Sequence[str],
    sites: pl.DataFrame,
    start: dt.date,
    end: dt.date,
    campaigns: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """E-mails → `em_backlog`, those open at the end of each group's last day in the period.

    ROWS carry `site`, `local_date` (of receipt), `resolved_at` and the raw dimension
    columns; they must include every e-mail received on or before END that is still open
    at the start of START (queries.contacts.backlog_rows).

    An e-mail is in the stock at the end of local day D when it was received on or before
    D and first replied after D (or never), in its site's time zone.
    The stock is a level: with calendar dimensions each group takes it at its own last day.
    """
    if "slot" in by:
        raise ValueError("the backlog is a stock at an instant: it has no slot grouping")
    tz = sites.select("site", "timezone")
    frame = rows.join(tz, on="site", how="left", maintain_order="left").with_columns(
        pl.col("timezone").fill_null("Europe/Paris")
    )
    frame = with_local_columns(frame, "resolved_at", "timezone", "_res_date", None)
    frame = frame.with_columns(
        pl.max_horizontal("_res_date", "local_date").alias("_out_date")
    ).with_columns(
        pl.when(pl.col("_res_date").is_null()).then(None).otherwise(pl.col("_out_date"))
        .alias("_out_date")
    )
    # Keys that do not depend on the day: these carry the stock levels.
    keep = backlog_level_keys(by)
    keyed = with_group_keys(frame, keep)
    inflow = keyed.group_by(keep + ["local_date"]).agg(pl.len().cast(pl.Int64).alias("_d"))
    outflow = (
        keyed.filter(pl.col("_out_date").is_not_null())
        .group_by(keep + ["_out_date"])
        .agg((-pl.len().cast(pl.Int64)).alias("_d"))
        .rename({"_out_date": "local_date"})
    )
    events = pl.concat([inflow, outflow.select(inflow.columns)])
    departments = (
        keyed.get_column("department").unique().to_list() if "campaign" in by else []
    )
    return backlog_from_events(events, by, start, end, departments, campaigns)


def backlog_level_keys(by: Sequence[str]) -> list[str]:
    """The keys of BY a backlog level is kept per: those that do not depend on the day
    (plus the département, which decides a campaign's days)."""
    keep = [d for d in by if d not in CALENDAR_DIMENSIONS]
    if "campaign" in by and "department" not in keep:
        keep.append("department")
    return keep


def backlog_since(by: Sequence[str], start: dt.date, end: dt.date) -> dt.date:
    """The first day whose own stock level the backlog of BY reads (backlog_from_events):
    START with a calendar dimension (a level per day, week, month or campaign), else END
    (the level at the period's end only); the changes before it may come summed on one
    day."""
    return start if any(d in CALENDAR_DIMENSIONS for d in by) else end


def backlog_from_events(
    events: pl.DataFrame, by: Sequence[str], start: dt.date, end: dt.date,
    departments: Sequence[str | None], campaigns: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Stock changes → `em_backlog` per group (see backlog_stats).

    EVENTS carry the level keys (backlog_level_keys), `local_date` and `_d`, the change
    of the stock at the end of that day (+ received, − left); changes before START may
    be summed on any one day before it.
    """
    keep = backlog_level_keys(by)
    events = events.group_by(keep + ["local_date"]).agg(pl.col("_d").sum())
    out_schema = {d: pl.String for d in by} | {"em_backlog": pl.Int64}
    if events.height == 0:
        return pl.DataFrame(schema=out_schema)
    # A surrogate id per combination of level keys (nulls included: join_asof's `by`
    # never matches nulls).
    combos = events.select(keep).unique().with_row_index("_kid") if keep else pl.DataFrame(
        {"_kid": [0]}, schema={"_kid": pl.UInt32}
    )
    events = (
        events.join(combos, on=keep, how="left", nulls_equal=True) if keep
        else events.with_columns(pl.lit(0, pl.UInt32).alias("_kid"))
    )
    levels = (
        events.sort("_kid", "local_date")
        .with_columns(pl.col("_d").cum_sum().over("_kid").alias("_level"))
        .select("_kid", "local_date", "_level")
        .sort("local_date")
    )
    snaps = _calendar_keys(start, end, by, departments, campaigns)
    if "campaign" in by:
        grid = combos.join(snaps, on="department", how="inner", nulls_equal=True)
    else:
        grid = combos.join(snaps, how="cross")
    grid = grid.sort("_snap").join_asof(
        levels, left_on="_snap", right_on="local_date", by="_kid", strategy="backward",
        check_sortedness=False,
    )
    grid = grid.with_columns(pl.col("_level").fill_null(0)).filter(pl.col("_level") > 0)
    if not by:
        return pl.DataFrame({"em_backlog": [int(grid.get_column("_level").sum())]},
                            schema={"em_backlog": pl.Int64})
    return _cast_stats(
        grid.group_by(list(by)).agg(pl.col("_level").sum().alias("em_backlog"))
    ).select(*by, "em_backlog")


def handled_stats(
    phone: pl.DataFrame, emails: pl.DataFrame, followups: pl.DataFrame, by: Sequence[str]
) -> pl.DataFrame:
    """Handled contacts → online-promotion and repeat-contact statistics per group.

    PHONE are keyed calls, EMAILS keyed flagged e-mails of the cohort; the handled ones
    are answered calls and replied e-mails. FOLLOWUPS (`caller_key`, `received_at`) are
    every contact of their callers up to 7 days after the last one (any channel or site).
    A handled contact repeats when its caller has a contact received strictly after it
    and at most 7 × 24 h later.
    """
    cols = [*by, "online_service_promoted", "caller_key", "received_at"]
    handled = pl.concat(
        [
            phone.filter(pl.col("outcome") == "answered").select(cols),
            emails.filter(pl.col("replied")).select(cols),
        ]
    )
    repeat = with_repeat_flags(handled.filter(pl.col("caller_key").is_not_null()), followups)
    base = _aggregate(
        handled,
        by,
        [
            pl.len().alias("hd_handled"),
            pl.col("online_service_promoted").fill_null(False).sum().alias("hd_promoted"),
            pl.col("caller_key").is_not_null().sum().alias("hd_with_key"),
        ],
    )
    rep = _aggregate(repeat, by, [pl.col("_repeat").sum().alias("hd_repeat")])
    return _cast_stats(merge_stats([base, rep], by))


def with_repeat_flags(rows: pl.DataFrame, followups: pl.DataFrame) -> pl.DataFrame:
    """ROWS (`caller_key`, `received_at`) plus `_repeat`: the caller has a contact in
    FOLLOWUPS received strictly after and at most 7 × 24 h later (false without a key).
    Row order is not kept."""
    later = (
        followups.filter(pl.col("caller_key").is_not_null())
        .select("caller_key", pl.col("received_at").alias("_next"))
        .sort("_next")
    )
    matched = rows.sort("received_at").join_asof(
        later,
        left_on="received_at",
        right_on="_next",
        by="caller_key",
        strategy="forward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    return matched.with_columns(
        ((pl.col("_next") - pl.col("received_at")) <= REPEAT_WINDOW)
        .fill_null(False)
        .alias("_repeat")
    ).drop("_next")


def act_stats(counts: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed act counts (`n` per combination of raw columns) → `act_count` per group."""
    return _cast_stats(_aggregate(counts, by, [pl.col("n").sum().alias("act_count")]))


_PIECE = "15m"  # every real UTC offset is a multiple of 15 min: local slots align on it


def session_pieces(
    sessions: pl.DataFrame, sites: pl.DataFrame, start: dt.date, end: dt.date, *,
    by_day: bool, by_slot: bool,
) -> pl.DataFrame:
    """Sessions clipped to the period → pieces with `logged_us` (and local date / slot).

    The period is [local midnight of START, local midnight after END) in each site's
    zone. With BY_DAY pieces are split at local midnights and carry `local_date`; with
    BY_SLOT they are split at local half-hours and carry `local_date` and `local_slot`
    (the autumn repeated hour puts both occurrences in the same two slots; the spring
    gap leaves its slots empty).
    """
    bounds = site_period_bounds(sites, start, end)
    tz = sites.select("site", "timezone")
    frame = (
        sessions.join(bounds, on="site", how="inner")
        .join(tz, on="site", how="left")
        .with_columns(
            pl.max_horizontal("start_at", "lo").alias("_s"),
            pl.min_horizontal("end_at", "hi").alias("_e"),
        )
        .filter(pl.col("_e") > pl.col("_s"))
        .drop("lo", "hi", "start_at", "end_at")
    )
    if by_slot:
        frame = (
            frame.with_columns(
                pl.datetime_ranges(
                    pl.col("_s").dt.truncate(_PIECE), pl.col("_e"), _PIECE, closed="left"
                ).alias("_g")
            )
            .explode("_g")
            .with_columns(
                pl.max_horizontal("_g", "_s").alias("_ps"),
                pl.min_horizontal(pl.col("_g") + pl.duration(minutes=15), "_e").alias("_pe"),
            )
            .filter(pl.col("_pe") > pl.col("_ps"))
        )
        frame = with_local_columns(frame, "_ps", "timezone", "local_date", "local_slot")
    elif by_day:
        frame = with_local_columns(frame, "_s", "timezone", "_d0", None)
        frame = frame.with_columns((pl.col("_e") - pl.duration(microseconds=1)).alias("_e1"))
        frame = with_local_columns(frame, "_e1", "timezone", "_d1", None)
        frame = frame.with_columns(
            pl.date_ranges("_d0", "_d1").alias("local_date")
        ).explode("local_date").with_columns(
            pl.col("local_date").cast(pl.Datetime("us")).alias("_m0"),
            (pl.col("local_date") + pl.duration(days=1)).cast(pl.Datetime("us")).alias("_m1"),
        )
        frame = _localize_columns(frame, {"_m0": "_u0", "_m1": "_u1"}).with_columns(
            pl.max_horizontal("_s", "_u0").alias("_ps"),
            pl.min_horizontal("_e", "_u1").alias("_pe"),
        ).filter(pl.col("_pe") > pl.col("_ps"))
    else:
        frame = frame.with_columns(pl.col("_s").alias("_ps"), pl.col("_e").alias("_pe"))
    return frame.with_columns(
        (pl.col("_pe") - pl.col("_ps")).dt.total_microseconds().cast(pl.Int64).alias("logged_us")
    )


def session_stats(pieces: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed session pieces (see session_pieces) → `st_logged_us` per group."""
    return _cast_stats(_aggregate(pieces, by, [pl.col("logged_us").sum().alias("st_logged_us")]))


# ------------------------------------------------- team measures: base, presence, Erlang


def _minutes(hhmm: str) -> int:
    """'08:30' → 510, minutes after local midnight ('24:00' is the end of the day)."""
    try:
        hours, minutes = hhmm.strip().split(":")
        value = int(hours) * 60 + int(minutes)
    except (AttributeError, ValueError):
        raise ValueError(f"opening time {hhmm!r} is not HH:MM") from None
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"opening time {hhmm!r} is not within a day")
    return value


def open_windows(
    hours: pl.DataFrame, start: dt.date, end: dt.date, calendar: HolidayCalendar | None = None
) -> pl.DataFrame:
    """Per site and open local day of START..END: `open_lo`, `open_hi`, the naive UTC
    bounds of its opening hours.

    HOURS (queries.staffing.site_hours) carry `site`, `timezone`, `opens_at`, `closes_at`
    (local "HH:MM") and `open_weekdays` (ISO digits, "12345"). A day is open on the site's
    weekdays unless it is a public holiday of CALENDAR (default: France's). Local opening
    times become UTC by the house rule of dashboard.localtime, so a 23 h or 25 h day keeps
    its real opening length.
    """
    calendar = calendar or default_calendar()
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    closed: set[dt.date] = set()
    for year in {d.year for d in days}:
        closed |= set(calendar(year))
    rows = []
    for site, tz, opens, closes, weekdays in hours.select(
        "site", "timezone", "opens_at", "closes_at", "open_weekdays"
    ).iter_rows():
        lo, hi = _minutes(opens), _minutes(closes)
        open_days = {int(ch) for ch in (weekdays or "") if ch.isdigit()}
        if hi <= lo:
            continue
        for day in days:
            if day.isoweekday() in open_days and day not in closed:
                midnight = dt.datetime.combine(day, dt.time())
                rows.append((site, tz or "Europe/Paris", day,
                             midnight + dt.timedelta(minutes=lo),
                             midnight + dt.timedelta(minutes=hi)))
    frame = pl.DataFrame(
        rows,
        schema={"site": pl.String, "timezone": pl.String, "local_date": pl.Date,
                "_o": pl.Datetime("us"), "_c": pl.Datetime("us")},
        orient="row",
    )
    frame = _localize_columns(frame, {"_o": "open_lo", "_c": "open_hi"})
    return frame.select(
        "site", "local_date", pl.col("open_lo").cast(pl.Datetime("us")),
        pl.col("open_hi").cast(pl.Datetime("us")),
    )


def _overlap_us(lo: pl.Expr, hi: pl.Expr, win_lo: pl.Expr, win_hi: pl.Expr) -> pl.Expr:
    """Microseconds of [LO, HI) inside [WIN_LO, WIN_HI); 0 when apart or no window."""
    # min/max_horizontal skip nulls: without a window the overlap must be 0 explicitly.
    span = pl.min_horizontal(hi, win_hi) - pl.max_horizontal(lo, win_lo)
    inside = span.dt.total_microseconds().clip(lower_bound=0)
    return pl.when(win_lo.is_not_null() & win_hi.is_not_null()).then(inside).otherwise(0).cast(
        pl.Int64)


def slot_grid(
    hours: pl.DataFrame, windows: pl.DataFrame, start: dt.date, end: dt.date, *,
    slot_base: bool,
) -> pl.DataFrame:
    """Every local half-hour of the period, per site: its real length and its time base.

    One row per (`site`, `local_date`, `local_slot`) with `dur_us` (real length: 60 min
    for the two slots of the October repeated hour, and no row for the March gap's),
    `open_day` and `base_us`, the part of it in the time base W (see the module
    docstring): the whole slot on an open day when SLOT_BASE, else its overlap with the
    opening hours of WINDOWS (open_windows). Built from the 15-minute UTC pieces of the
    period: every real UTC offset is a multiple of 15 min, so a piece lies in one slot.
    """
    return slot_grids(hours, windows, start, end)[slot_base]


def slot_grids(
    hours: pl.DataFrame, windows: pl.DataFrame, start: dt.date, end: dt.date
) -> dict[bool, pl.DataFrame]:
    """slot_grid for both time bases at once: {slot_base: grid}.

    Sites with the same time zone and the same opening windows have the same grid but for
    the site's name: it is built once per such group (most centres of a network share
    their hours), then given to each site of the group."""
    groups = hours.group_by("timezone", "opens_at", "closes_at", "open_weekdays",
                            maintain_order=True).agg(pl.col("site"))
    if groups.height == hours.height:
        return _slot_grids(hours, windows, start, end)
    parts: dict[bool, list[pl.DataFrame]] = {False: [], True: []}

    def days_of(site: str) -> pl.DataFrame:
        return windows.filter(pl.col("site") == site).drop("site").sort("local_date")

    for sites in groups.get_column("site").to_list():
        model = days_of(sites[0])
        alike = [s for s in sites if days_of(s).equals(model)]
        # A site whose windows differ (windows a caller built otherwise) gets its own grid.
        for batch in [alike] + [[s] for s in sites if s not in alike]:
            grids = _slot_grids(hours.filter(pl.col("site") == batch[0]),
                                windows.filter(pl.col("site") == batch[0]), start, end)
            names = pl.DataFrame({"site": batch}, schema={"site": pl.String})
            for base, grid in grids.items():
                parts[base].append(names.join(grid.drop("site"), how="cross")
                                   .select(grid.columns))
    return {base: pl.concat(frames) for base, frames in parts.items()}


def _slot_grids(
    hours: pl.DataFrame, windows: pl.DataFrame, start: dt.date, end: dt.date
) -> dict[bool, pl.DataFrame]:
    out_schema = {"site": pl.String, "local_date": pl.Date, "local_slot": pl.Int16,
                  "dur_us": pl.Int64, "open_day": pl.Boolean, "base_us": pl.Int64}
    bounds = site_period_bounds(hours, start, end)
    if bounds.height == 0:
        return {base: pl.DataFrame(schema=out_schema) for base in (False, True)}
    frame = (
        bounds.join(hours.select("site", "timezone"), on="site", how="left")
        .with_columns(pl.col("timezone").fill_null("Europe/Paris"),
                      pl.datetime_ranges("lo", "hi", _PIECE, closed="left").alias("_ps"))
        .explode("_ps")
        .with_columns(
            pl.min_horizontal(pl.col("_ps") + pl.duration(minutes=15), "hi").alias("_pe")
        )
    )
    frame = with_local_columns(frame, "_ps", "timezone")
    frame = frame.join(windows, on=["site", "local_date"], how="left")
    piece_us = (pl.col("_pe") - pl.col("_ps")).dt.total_microseconds().cast(pl.Int64)
    open_day = pl.col("open_lo").is_not_null()
    in_slots = pl.when(open_day).then(piece_us).otherwise(0)
    in_hours = _overlap_us(pl.col("_ps"), pl.col("_pe"), pl.col("open_lo"), pl.col("open_hi"))
    grid = frame.group_by("site", "local_date", "local_slot").agg(
        piece_us.sum().alias("dur_us"),
        open_day.any().alias("open_day"),
        in_hours.sum().alias("_base_hours"),
        in_slots.sum().alias("_base_slots"),
    )
    return {base: grid.rename({column: "base_us"}).select(
                pl.col(c).cast(t) for c, t in out_schema.items())
            for base, column in ((False, "_base_hours"), (True, "_base_slots"))}


def base_stats(grid: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed slot grid (slot_grid) → `st_base_us`, the length of the time base per group.

    Summed over time within a site, then the largest over the sites of the group (a
    group's agents are added across its sites, its time base is counted once).
    """
    per_site = _aggregate(grid, list(dict.fromkeys([*by, "site"])),
                          [pl.col("base_us").sum().alias("st_base_us")])
    return _cast_stats(_aggregate(per_site, by, [pl.col("st_base_us").max()]))


def base_logged_pieces(
    pieces: pl.DataFrame, windows: pl.DataFrame, *, slot_base: bool
) -> pl.DataFrame:
    """Session pieces (session_pieces, by day or by slot) plus `base_logged_us`, their
    logged-in time inside the time base: the piece on an open day when SLOT_BASE, else
    its overlap with that day's opening hours (WINDOWS, open_windows)."""
    frame = pieces.join(windows, on=["site", "local_date"], how="left")
    if slot_base:
        inside = pl.when(pl.col("open_lo").is_not_null()).then(pl.col("logged_us")).otherwise(0)
    else:
        inside = _overlap_us(pl.col("_ps"), pl.col("_pe"), pl.col("open_lo"), pl.col("open_hi"))
    return frame.with_columns(inside.cast(pl.Int64).alias("base_logged_us")).drop(
        "open_lo", "open_hi"
    )


def windows_on_quarters(windows: pl.DataFrame) -> bool:
    """Whether every opening window (open_windows) starts and ends on a UTC quarter hour:
    then a 15-minute piece of presence is wholly inside or outside it."""
    quarter = 15 * 60 * 1_000_000
    return windows.height == 0 or bool(windows.select(
        ((pl.col("open_lo").dt.epoch("us") % quarter == 0)
         & (pl.col("open_hi").dt.epoch("us") % quarter == 0)).all()).item())


def base_logged_quarters(
    quarters: pl.DataFrame, windows: pl.DataFrame, *, slot_base: bool
) -> pl.DataFrame:
    """Presence per UTC quarter hour (rollup_presence rows: `site`, `local_date`, `q_at`,
    `logged_us`) plus `base_logged_us`, as base_logged_pieces gives for the sessions'
    pieces; exact when windows_on_quarters(WINDOWS)."""
    frame = quarters.join(windows, on=["site", "local_date"], how="left")
    inside = pl.col("open_lo").is_not_null()
    if not slot_base:
        inside = inside & (pl.col("q_at") >= pl.col("open_lo")) & (
            pl.col("q_at") + pl.duration(minutes=15) <= pl.col("open_hi"))
    return frame.with_columns(
        pl.when(inside).then(pl.col("logged_us")).otherwise(0).cast(pl.Int64)
        .alias("base_logged_us")
    ).drop("open_lo", "open_hi")


def hours_on_slots(grid: pl.DataFrame) -> bool:
    """Whether every local half-hour of GRID (slot_grid with the opening-hours base) lies
    wholly inside or wholly outside the opening hours: then presence summed per slot
    splits exactly between them (base_logged_slots)."""
    return bool(grid.select(
        ((pl.col("base_us") == 0) | (pl.col("base_us") == pl.col("dur_us"))).all()).item())


def base_logged_slots(
    slots: pl.DataFrame, grid: pl.DataFrame, *, slot_base: bool
) -> pl.DataFrame:
    """Presence per local half-hour (rollup_presence_slots rows: `site`, `local_date`,
    `local_slot`, `logged_us`) plus `base_logged_us`, as base_logged_pieces gives for the
    sessions' pieces: the slot's presence when it lies in the time base, else 0. GRID is
    slot_grid with the opening-hours base; exact when hours_on_slots(GRID)."""
    keys = ["site", "local_date", "local_slot"]
    frame = slots.join(grid.select(*keys, "open_day", "base_us"), on=keys, how="left",
                       maintain_order="left")
    inside = pl.col("open_day").fill_null(False)
    if not slot_base:
        inside = pl.col("base_us").fill_null(0) > 0
    return frame.with_columns(
        pl.when(inside).then(pl.col("logged_us")).otherwise(0).cast(pl.Int64)
        .alias("base_logged_us")
    ).drop("open_day", "base_us")


def base_logged_stats(pieces: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed pieces (base_logged_pieces) → `st_base_logged_us` per group."""
    return _cast_stats(
        _aggregate(pieces, by, [pl.col("base_logged_us").sum().alias("st_base_logged_us")])
    )


def site_patience(phone: pl.DataFrame) -> pl.DataFrame:
    """Calls with thresholds (with_thresholds) → per `site` its `patience_s`, the
    `patience_seconds` metric of its calls (null without a long abandon)."""
    return patience_from_stats(phone_stats(phone, ("site",)))


def patience_from_stats(stats: pl.DataFrame) -> pl.DataFrame:
    """Phone statistics per `site` → per `site` its `patience_s` (see site_patience)."""
    stats = complete_stats(stats, ("site",))
    return stats.select("site", _formulas()["patience_seconds"].alias("patience_s"))


def _erlang_required(calls: int, interval_s: float, aht: float | None, target: float,
                     t: float, patience: float | None) -> int | None:
    if aht is None:
        return None
    if aht <= 0:
        return 0  # no handle time, no load
    if patience is None:
        return erlang.required_agents(calls, interval_s, aht, target, t)
    return erlang.required_agents_erlang_a(calls, interval_s, aht, patience, target, t)


def required_cells(
    phone: pl.DataFrame, grid: pl.DataFrame, targets: pl.DataFrame
) -> pl.DataFrame:
    """Calls → the agents Erlang requires in each cell (site × local date × slot).

    PHONE rows carry `site`, `local_date`, `local_slot`, `outcome`, `wait_seconds`,
    `handle_seconds` and their thresholds `sl_s`, `short_s` (with_thresholds). GRID is
    slot_grid's; TARGETS has per `site` its `sl_target` (fraction) and `patience_s` (mean
    patience in seconds for Erlang A; null: Erlang C).

    A cell's offered calls exclude short abandons; its AHT is its answered calls' mean
    handle time, else its site's over all of PHONE, else every site's; the interval is
    the cell's real length. Returns `site`, `local_date`, `local_slot`, `calls`,
    `aht_seconds`, `required` (0 without calls; null when no AHT is known), `base_us`
    (the cell's time in the base) and `unknown` (a cell of the base with calls whose
    requirement cannot be computed).
    """
    return required_from_inputs(cell_inputs(phone), grid, targets)


def cell_inputs(phone: pl.DataFrame) -> pl.DataFrame:
    """Calls (see required_cells) → per cell with answered or abandoned calls: `calls`
    (offered, short abandons excluded), `_h` (handle seconds of answered calls), `_n`
    (answered calls) and `_t` (the SL threshold)."""
    keys = ["site", "local_date", "local_slot"]
    outcome = pl.col("outcome")
    answered = outcome == "answered"
    short = ((outcome == "abandoned") & (pl.col("wait_seconds") < pl.col("short_s"))).fill_null(
        False)
    waited = phone.filter(outcome.is_in(["answered", "abandoned"]))
    handle = pl.col("handle_seconds").filter(answered)
    return waited.group_by(keys).agg(
        (~short).sum().cast(pl.Int64).alias("calls"),
        handle.sum().cast(pl.Float64).alias("_h"),
        answered.sum().cast(pl.Int64).alias("_n"),
        pl.col("sl_s").first().cast(pl.Float64).alias("_t"),
    )


def required_from_inputs(
    cells: pl.DataFrame, grid: pl.DataFrame, targets: pl.DataFrame
) -> pl.DataFrame:
    """Cell inputs (cell_inputs) → the cells of required_cells."""
    keys = ["site", "local_date", "local_slot"]
    out_schema = {"site": pl.String, "local_date": pl.Date, "local_slot": pl.Int16,
                  "calls": pl.Int64, "aht_seconds": pl.Float64, "required": pl.Int64,
                  "base_us": pl.Int64, "unknown": pl.Boolean}
    if cells.height == 0:
        return pl.DataFrame(schema=out_schema)
    cells = cells.with_columns(pl.col("local_slot").cast(pl.Int16))
    per_site = cells.group_by("site").agg(
        (pl.col("_h").sum() / pl.col("_n").sum()).alias("_site_aht")
    )
    n_all = int(cells["_n"].sum())
    all_aht = (float(cells["_h"].sum()) / n_all) if n_all else None
    cells = (
        cells.join(per_site, on="site", how="left")
        .join(grid.select(*keys, "dur_us", "base_us"), on=keys, how="left")
        .join(targets.select("site", "sl_target", "patience_s"), on="site", how="left")
        .with_columns(
            pl.when(pl.col("_n") > 0).then(pl.col("_h") / pl.col("_n"))
            .otherwise(pl.col("_site_aht")).fill_nan(None)
            .fill_null(pl.lit(all_aht, dtype=pl.Float64)).alias("aht_seconds"),
            pl.col("base_us").fill_null(0),
            (pl.col("dur_us").fill_null(0).cast(pl.Float64) / 1e6).alias("_interval"),
        )
    )
    inputs = ["calls", "_interval", "aht_seconds", "sl_target", "_t", "patience_s"]
    todo = cells.filter((pl.col("calls") > 0) & (pl.col("base_us") > 0)
                        & (pl.col("_interval") > 0))
    distinct = todo.select(inputs).unique()
    # Erlang C cells with a known positive AHT are solved in one vectorised call; the
    # others (Erlang A, unknown or zero AHT, missing target) one by one.
    fast = (pl.col("patience_s").is_null() & (pl.col("aht_seconds") > 0)
            & pl.col("sl_target").is_not_null() & pl.col("_t").is_not_null()).fill_null(False)
    many, rest = distinct.filter(fast), distinct.filter(~fast)
    required = erlang.required_agents_many(*(many[c].to_numpy() for c in inputs[:5]))
    results = [_erlang_required(*row) for row in rest.iter_rows()]
    solved = pl.concat([
        many.with_columns(pl.Series("required", required, dtype=pl.Int64)),
        rest.with_columns(pl.Series("required", results, dtype=pl.Int64)),
    ])
    cells = cells.join(solved, on=inputs, how="left", nulls_equal=True).with_columns(
        pl.when(pl.col("calls") == 0).then(0).otherwise(pl.col("required")).alias("required"),
    ).with_columns(_unknown_requirement())
    return cells.select(pl.col(c).cast(t) for c, t in out_schema.items())


def _unknown_requirement() -> pl.Expr:
    """`unknown`: a cell of the time base with calls whose requirement is not known."""
    return ((pl.col("base_us") > 0) & (pl.col("calls") > 0)
            & pl.col("required").is_null()).alias("unknown")


def cells_in_base(cells: pl.DataFrame, grid: pl.DataFrame) -> pl.DataFrame:
    """Required cells (required_from_inputs) with the time base of GRID (slot_grid)
    instead of the grid they were solved on: `base_us` and `unknown` again.

    The same as solving them on GRID when their grid's base holds GRID's: a cell outside
    GRID's base weighs nothing in required_stats, whatever its requirement (the opening
    hours lie within the open days' slots, so the slot base holds the other)."""
    keys = ["site", "local_date", "local_slot"]
    out = cells.drop("base_us", "unknown").join(
        grid.select(*keys, "base_us"), on=keys, how="left", maintain_order="left",
    ).with_columns(pl.col("base_us").fill_null(0))
    return out.with_columns(_unknown_requirement()).select(cells.columns)


def required_stats(cells: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Keyed cells (required_cells) → `st_required_us` (required agents × time in the
    base) and `st_required_unknown` (cells of the base whose requirement is unknown)."""
    return _cast_stats(_aggregate(cells, by, [
        (pl.col("required").fill_null(0) * pl.col("base_us")).sum().alias("st_required_us"),
        pl.col("unknown").sum().alias("st_required_unknown"),
    ]))


def attach_base(stats: pl.DataFrame, base: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """STATS (merge_stats) plus `st_base_us` of BASE for their groups, adding no group."""
    if not by:
        return merge_stats([stats, base], ())
    return stats.join(base, on=list(by), how="left", nulls_equal=True)


def empty_stats(by: Sequence[str]) -> pl.DataFrame:
    """A statistics frame with no group: the shape merge_stats starts from."""
    return pl.DataFrame(schema={d: pl.String for d in by})


def merge_stats(frames: Sequence[pl.DataFrame], by: Sequence[str]) -> pl.DataFrame:
    """Statistics frames of several families → one frame, a row per group found in any.

    With BY empty each frame has one row (or none) and the result at most one.
    """
    frames = [f for f in frames if f is not None]
    if not by:
        # One row per family; an empty family frame means "nothing": complete_stats fills it.
        cols = [f for f in frames if f.width and f.height]
        if any(f.height != 1 for f in cols):
            raise ValueError("ungrouped statistics must have exactly one row")
        return pl.concat(cols, how="horizontal") if cols else pl.DataFrame()

    def join(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
        """Full join on the group keys, null keys matching each other."""
        return a.join(b, on=list(by), how="full", coalesce=True, nulls_equal=True)

    frames = [f.with_columns(pl.col(d).cast(pl.String) for d in by) for f in frames]
    return reduce(join, frames) if frames else empty_stats(by)


def complete_stats(stats: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """STATS with every statistic present: absent sums 0, absent max null, absent lists [].

    With BY empty the result has exactly one row.
    """
    if not by and stats.height == 0:
        stats = pl.DataFrame({"_one": [1]})
    fill = []
    for s in STATS:
        if s.name in stats.columns:
            col = pl.col(s.name)
        else:
            col = pl.lit(None, dtype=s.dtype)
        if s.merge in ("sum", "stock", "span"):
            col = col.fill_null(0)
        elif s.merge == "concat":
            col = col.fill_null(pl.lit([], dtype=s.dtype))
        fill.append(col.cast(s.dtype).alias(s.name))
    return stats.with_columns(fill).select(*by, *[s.name for s in STATS])


# ------------------------------------------------------------------- stage 2: KPIs


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """NUM / DEN as a float, null when DEN is 0 (or null)."""
    return pl.when(den > 0).then(num.cast(pl.Float64) / den.cast(pl.Float64)).otherwise(None)


def _formulas() -> dict[str, pl.Expr]:
    c = pl.col
    handled = c("ph_answered") + c("em_replied")
    agent_hours = c("st_logged_us").cast(pl.Float64) / 3_600_000_000
    logged_in = _ratio(c("st_base_logged_us"), c("st_base_us"))
    required = (
        pl.when(c("st_required_unknown") > 0).then(None)
        .otherwise(_ratio(c("st_required_us"), c("st_base_us")))
    )
    return {
        "received": c("ph_received"),
        "deflected": c("ph_deflected"),
        "offered": c("ph_answered") + c("ph_abandoned"),
        "answered": c("ph_answered"),
        "abandoned": c("ph_abandoned"),
        "short_abandoned": c("ph_short_abandoned"),
        "answer_rate": _ratio(c("ph_answered"), c("ph_received") - c("ph_short_abandoned")),
        "abandon_rate": _ratio(
            c("ph_abandoned") - c("ph_short_abandoned"),
            c("ph_answered") + c("ph_abandoned") - c("ph_short_abandoned"),
        ),
        "service_level": _ratio(
            c("ph_answered_in_sl"),
            c("ph_answered") + c("ph_abandoned") - c("ph_short_abandoned"),
        ),
        "asa_seconds": _ratio(c("ph_answered_wait_sum"), c("ph_answered_wait_n")),
        "aht_seconds": _ratio(c("ph_handle_sum"), c("ph_answered")),
        "abandon_wait_seconds": _ratio(
            c("ph_long_abandon_wait_sum"), c("ph_long_abandon_wait_n")
        ),
        "max_wait_seconds": c("ph_max_wait"),
        "patience_seconds": _ratio(
            c("ph_answered_wait_sum") + c("ph_long_abandon_wait_sum"),
            c("ph_long_abandon_wait_n"),
        ),
        "emails_received": c("em_received"),
        "emails_replied": c("em_replied"),
        "reply_within_48h_rate": _ratio(c("em_within_48h"), c("em_received")),
        "reply_within_5wd_rate": _ratio(c("em_within_5wd"), c("em_received")),
        "median_reply_hours": c("em_reply_us").list.median() / 3_600_000_000,
        "backlog": c("em_backlog"),
        "acts": c("act_count"),
        "acts_per_100_handled": 100 * _ratio(c("act_count"), handled),
        "online_promotion_rate": _ratio(c("hd_promoted"), c("hd_handled")),
        "repeat_contact_rate": _ratio(c("hd_repeat"), c("hd_with_key")),
        "agent_hours": agent_hours,
        "occupancy": _ratio(c("ph_handle_sum").cast(pl.Float64) * 1e6, c("st_logged_us")),
        "handled_per_agent_hour": _ratio(
            handled.cast(pl.Float64) * 3.6e9, c("st_logged_us")
        ),
        "agents_logged_in": logged_in,
        "required_agents": required,
        "staffing_gap": logged_in - required,
    }


def kpis_from_stats(
    stats: pl.DataFrame, by: Sequence[str], unavailable: Collection[str] = ()
) -> pl.DataFrame:
    """Statistics per group → KPIs: BY keys then METRICS in order, rows sorted by BY.

    Metrics in UNAVAILABLE (see unavailable_metrics) are null; every other rate is null
    exactly when its denominator is 0. Null keys sort last.
    """
    stats = complete_stats(stats, by)
    formulas = _formulas()
    exprs = []
    for m in METRICS:
        dtype = pl.Int64 if m.key in INTEGER_METRICS else pl.Float64
        expr = pl.lit(None, dtype=dtype) if m.key in unavailable else formulas[m.key]
        exprs.append(expr.cast(dtype).alias(m.key))
    out = stats.select(*[pl.col(d).cast(pl.String) for d in by], *exprs)
    if by:
        out = out.sort(list(by), nulls_last=True)
    return out
