"""Derived series of the pilot review (Bilan, Effectifs, the review report): not KPIs.

Pure Polars, frames of the metrics engine in, frames (or French sentences) out. Every KPI
comes from dashboard.engine; what is derived here, with its rule:

- **ramp-up**: weekly figures of each département against the weeks since its coverage
  started: week 0 is its first *full* ISO week (Monday to Sunday) of coverage, so a
  coverage starting on a Sunday or mid-week does not show a near-empty week 0; the
  earliest coverage start when a département has several;
- **campaign weeks**: an ISO week belongs to a campaign when its Thursday falls within the
  campaign's dates (the ISO convention: most of its days), for the départements the
  campaign covers (all of them when it names none);
- **peak vs off-season**: per campaign and département, the campaign week with the most
  calls offered, against the mean weekly calls offered over the *off-season* weeks: full
  weeks (Monday on or after coverage start, Sunday on or before the last day of data)
  outside every campaign;
- **weekday × half-hour gap**: the mean of `staffing_gap` over the days of each weekday
  that have a value (closed days have none);
- **staffing extremes**: the N rows with the lowest (understaffed) and highest
  (overstaffed) `staffing_gap`, ties by key order;
- **slot volumes**: calls offered without short abandons (offered − short_abandoned) per
  half-hour, averaged over the days with at least one such call in that half-hour: the
  what-if calculator's starting point;
- **profile trim**: the half-hours from the first to the last with calls, agents or
  requirement, so a day profile does not show empty nights.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl

from dashboard.core import formatting as fmt
from dashboard.metrics.definitions import METRICS_BY_KEY

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
CHANNEL_VOLUMES = (("received", "Appels reçus"), ("emails_received", "Courriels reçus"))
# The indicators the review compares across sites and départements, in reading order.
COMPARED = ("answer_rate", "service_level", "reply_within_48h_rate", "reply_within_5wd_rate",
            "online_promotion_rate", "repeat_contact_rate")


# ------------------------------------------------------------------------- week keys


def week_monday(key: str) -> dt.date:
    """ISO week key "2015-W03" (the engine's `week` dimension) → its Monday."""
    year, week = key.split("-W")
    return dt.date.fromisocalendar(int(year), int(week), 1)


def _with_week_dates(frame: pl.DataFrame) -> pl.DataFrame:
    mondays = {k: week_monday(k) for k in frame.get_column("week").unique().to_list()}
    return frame.with_columns(
        pl.col("week").replace_strict(mondays, return_dtype=pl.Date).alias("week_start")
    )


def first_coverage(coverage: pl.DataFrame) -> pl.DataFrame:
    """Coverage periods → one row per département: its first start, name and site name."""
    return (
        coverage.sort("start_date")
        .group_by("department", maintain_order=True)
        .agg(
            pl.col("start_date").first().alias("opening"),
            pl.col("department_name").first(),
            pl.col("site_name").first(),
        )
        .with_columns((pl.col("department") + " " + pl.col("department_name")).alias("label"))
    )


# ------------------------------------------------------------------------- ramp-up


def ramp_up(
    weekly: pl.DataFrame, coverage: pl.DataFrame, max_weeks: int | None = None
) -> pl.DataFrame:
    """Weekly KPIs by (`week`, `department`) → aligned on the weeks since opening.

    Returns `department`, `label` ("60 Oise"), `site_name`, `opening`, `week`,
    `week_start`, `weeks_since_opening` (0 = the first full week of coverage) and the KPI
    columns of WEEKLY; weeks before it (and beyond MAX_WEEKS) are dropped.
    """
    if weekly.height == 0:
        return weekly.with_columns(
            pl.lit(None, pl.String).alias("label"), pl.lit(None, pl.String).alias("site_name"),
            pl.lit(None, pl.Date).alias("opening"), pl.lit(None, pl.Date).alias("week_start"),
            pl.lit(None, pl.Int64).alias("weeks_since_opening"),
        )
    opening = first_coverage(coverage).select("department", "label", "site_name", "opening")
    frame = _with_week_dates(weekly).join(opening, on="department", how="inner")
    # The first Monday on or after the opening day.
    first_monday = (pl.col("opening") + pl.duration(days=6)).dt.truncate("1w")
    frame = frame.with_columns(
        ((pl.col("week_start") - first_monday).dt.total_days() // 7)
        .cast(pl.Int64).alias("weeks_since_opening")
    ).filter(pl.col("weeks_since_opening") >= 0)
    if max_weeks is not None:
        frame = frame.filter(pl.col("weeks_since_opening") <= max_weeks)
    return frame.sort("department", "weeks_since_opening")


def ramp_reading(ramp: pl.DataFrame, weeks: int = 8) -> str:
    """One sentence: each département's calls offered and answer rate N weeks in."""
    if ramp.height == 0:
        return "Aucune semaine couverte dans la période."
    reached = ramp.group_by("label").agg(pl.col("weeks_since_opening").max().alias("n"))
    common = int(min(weeks, reached.get_column("n").min()))
    at = ramp.filter(pl.col("weeks_since_opening") == common).sort("offered", descending=True)
    parts = [
        f"{r['label']} {fmt.fr_number(r['offered'])} appels présentés "
        f"(décroché {fmt.fr_percent(r['answer_rate'])})"
        for r in at.iter_rows(named=True)
    ]
    return (f"À la semaine {common} depuis l'ouverture : " + " ; ".join(parts) + "."
            if parts else "Aucune semaine commune aux départements.")


# ------------------------------------------------------------------------- campaigns


def _campaign_of_weeks(weeks: pl.DataFrame, campaigns: pl.DataFrame) -> pl.DataFrame:
    """(`week`, `week_start`, `department`) → plus `campaign`, the campaign of its Thursday."""
    frame = weeks.with_columns((pl.col("week_start") + pl.duration(days=3)).alias("_thu"))
    if campaigns.height == 0:
        return frame.with_columns(pl.lit(None, pl.String).alias("campaign")).drop("_thu")
    cands = (
        frame.select("week", "department", "_thu").unique()
        .join(campaigns.select(pl.col("name").alias("campaign"), "start_date", "end_date",
                               pl.col("department").alias("_c_dept")), how="cross")
        .filter(pl.col("_thu").is_between(pl.col("start_date"), pl.col("end_date")),
                pl.col("_c_dept").is_null() | (pl.col("_c_dept") == pl.col("department")))
        .sort([pl.col("_c_dept").is_not_null(), "start_date"], descending=[True, True])
        .group_by("week", "department", maintain_order=True)
        .agg(pl.col("campaign").first())
    )
    return frame.join(cands, on=["week", "department"], how="left").drop("_thu")


def campaign_peaks(
    weekly: pl.DataFrame,
    campaigns: pl.DataFrame,
    coverage: pl.DataFrame,
    last_day: dt.date,
    by_campaign: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Each campaign's peak week per département against its off-season weeks.

    WEEKLY: KPIs by (`week`, `department`) with `offered` and `answer_rate`. BY_CAMPAIGN
    (optional): KPIs by (`campaign`, `department`), for the answer rate over the whole
    campaign and over the off-season (HORS_CAMPAGNE), as the engine computes them.
    Returns `campaign`, `department`, `label`, `peak_week`, `peak_week_start`,
    `peak_offered`, `off_season_weekly` (mean), `peak_ratio` (peak / off-season mean),
    `peak_answer_rate`, `campaign_answer_rate`, `off_season_answer_rate`.
    """
    schema = {"campaign": pl.String, "department": pl.String, "label": pl.String,
              "peak_week": pl.String, "peak_week_start": pl.Date, "peak_offered": pl.Int64,
              "off_season_weekly": pl.Float64, "peak_ratio": pl.Float64,
              "peak_answer_rate": pl.Float64, "campaign_answer_rate": pl.Float64,
              "off_season_answer_rate": pl.Float64}
    if weekly.height == 0:
        return pl.DataFrame(schema=schema)
    opening = first_coverage(coverage).select("department", "label", "opening")
    weeks = _with_week_dates(weekly).join(opening, on="department", how="inner").filter(
        pl.col("week_start") >= pl.col("opening").dt.truncate("1w"))
    weeks = _campaign_of_weeks(weeks, campaigns)
    full = (pl.col("week_start") >= pl.col("opening")) & (
        pl.col("week_start") + pl.duration(days=6) <= pl.lit(last_day))
    off = (
        weeks.filter(full & pl.col("campaign").is_null())
        .group_by("department").agg(pl.col("offered").mean().alias("off_season_weekly"))
    )
    peaks = (
        weeks.filter(pl.col("campaign").is_not_null())
        .sort("offered", "week_start", descending=[True, False])
        .group_by("campaign", "department", maintain_order=True)
        .agg(
            pl.col("label").first(),
            pl.col("week").first().alias("peak_week"),
            pl.col("week_start").first().alias("peak_week_start"),
            pl.col("offered").first().alias("peak_offered"),
            pl.col("answer_rate").first().alias("peak_answer_rate"),
        )
        .join(off, on="department", how="left")
        .with_columns(
            pl.when(pl.col("off_season_weekly") > 0)
            .then(pl.col("peak_offered") / pl.col("off_season_weekly"))
            .otherwise(None).alias("peak_ratio")
        )
    )
    if by_campaign is not None and by_campaign.height:
        from dashboard.metrics.definitions import HORS_CAMPAGNE

        rates = by_campaign.select("campaign", "department", "answer_rate")
        peaks = peaks.join(
            rates.rename({"answer_rate": "campaign_answer_rate"}),
            on=["campaign", "department"], how="left",
        ).join(
            rates.filter(pl.col("campaign") == HORS_CAMPAGNE)
            .select("department", pl.col("answer_rate").alias("off_season_answer_rate")),
            on="department", how="left",
        )
    else:
        peaks = peaks.with_columns(pl.lit(None, pl.Float64).alias("campaign_answer_rate"),
                                   pl.lit(None, pl.Float64).alias("off_season_answer_rate"))
    starts = campaigns.select(pl.col("name").alias("campaign"), "start_date")
    return (
        peaks.join(starts, on="campaign", how="left")
        .sort("start_date", "department")
        .select(pl.col(c).cast(t) for c, t in schema.items())
    )


def peaks_reading(peaks: pl.DataFrame) -> str:
    """One sentence: the strongest peak against the off-season."""
    ranked = peaks.filter(pl.col("peak_ratio").is_not_null()).sort("peak_ratio", descending=True)
    if ranked.height == 0:
        return "Pas de semaine de campagne et hors campagne à comparer sur la période."
    top = ranked.row(0, named=True)
    return (
        f"Pic le plus marqué : {top['label']} pendant la {top['campaign'].lower()}, "
        f"{fmt.fr_number(top['peak_offered'])} appels présentés la semaine du "
        f"{fmt.fr_date(top['peak_week_start'])}, soit {fmt.fr_decimal(top['peak_ratio'])} "
        f"fois une semaine hors campagne ; décroché cette semaine-là : "
        f"{fmt.fr_percent(top['peak_answer_rate'])}."
    )


def campaign_weeks(weekly: pl.DataFrame, campaigns: pl.DataFrame) -> pl.DataFrame:
    """Weekly KPIs by (`week`, `department`) plus `week_start` and `campaign` (null off-season)."""
    if weekly.height == 0:
        return weekly.with_columns(pl.lit(None, pl.Date).alias("week_start"),
                                   pl.lit(None, pl.String).alias("campaign"))
    return _campaign_of_weeks(_with_week_dates(weekly), campaigns).sort("week_start")


# ------------------------------------------------------------------- sites side by side


def channel_volumes(frame: pl.DataFrame, key: str, names: Mapping[str, str]) -> pl.DataFrame:
    """KPIs by KEY → long frame (`entity`, `channel`, `volume`): calls and e-mails received."""
    rows = []
    for r in frame.iter_rows(named=True):
        entity = names.get(r[key], r[key] or fmt.MISSING)
        for metric, label in CHANNEL_VOLUMES:
            rows.append((entity, label, int(r[metric] or 0)))
    return pl.DataFrame(rows, schema={"entity": pl.String, "channel": pl.String,
                                      "volume": pl.Int64}, orient="row")


def indicators_long(
    frame: pl.DataFrame, key: str, names: Mapping[str, str],
    metrics: Sequence[str] = COMPARED,
) -> pl.DataFrame:
    """KPIs by KEY → long frame (`entity`, `indicator`, `value`), rates as fractions."""
    rows = []
    for r in frame.iter_rows(named=True):
        entity = names.get(r[key], r[key] or fmt.MISSING)
        for metric in metrics:
            rows.append((entity, METRICS_BY_KEY[metric].label, r[metric]))
    return pl.DataFrame(rows, schema={"entity": pl.String, "indicator": pl.String,
                                      "value": pl.Float64}, orient="row")


def volume_reading(frame: pl.DataFrame, key: str, names: Mapping[str, str]) -> str:
    """One sentence: who receives the most calls and e-mails, and their share."""
    calls = int(frame.get_column("received").sum() or 0)
    emails = int(frame.get_column("emails_received").sum() or 0)
    if calls + emails == 0:
        return "Aucun contact sur la période."
    top = frame.sort("received", descending=True).row(0, named=True)
    share = top["received"] / calls if calls else None
    return (
        f"{fmt.fr_number(calls)} appels et {fmt.fr_number(emails)} courriels reçus ; "
        f"{names.get(top[key], top[key])} reçoit la plus grande part des appels "
        f"({fmt.fr_percent(share)})."
    )


def rate_reading(frame: pl.DataFrame, key: str, names: Mapping[str, str],
                 metric: str = "answer_rate") -> str:
    """One sentence: the highest and lowest value of a rate across KEY."""
    ranked = frame.filter(pl.col(metric).is_not_null()).sort(metric, descending=True)
    label = METRICS_BY_KEY[metric].label
    if ranked.height == 0:
        return f"{label} : aucune valeur sur la période."
    hi, lo = ranked.row(0, named=True), ranked.row(-1, named=True)
    if ranked.height == 1:
        return f"{label} : {fmt.fr_percent(hi[metric])} ({names.get(hi[key], hi[key])})."
    return (
        f"{label} le plus élevé : {names.get(hi[key], hi[key])} "
        f"({fmt.fr_percent(hi[metric])}) ; le plus bas : {names.get(lo[key], lo[key])} "
        f"({fmt.fr_percent(lo[metric])})."
    )


# ------------------------------------------------------------------------- staffing


def profile(slots: pl.DataFrame) -> pl.DataFrame:
    """KPIs by `slot` → the half-hours from the first to the last with calls, agents
    logged in or a requirement (the active part of the day), in slot order."""
    if slots.height == 0:
        return slots
    frame = slots.sort("slot")
    active = (
        (pl.col("offered").fill_null(0) > 0)
        | (pl.col("agents_logged_in").fill_null(0) > 0)
        | (pl.col("required_agents").fill_null(0) > 0)
    )
    idx = frame.with_row_index("_i").filter(active).get_column("_i")
    if idx.len() == 0:
        return frame.clear()
    return frame.slice(int(idx.min()), int(idx.max()) - int(idx.min()) + 1)


def profile_reading(prof: pl.DataFrame) -> str:
    """One sentence: the half-hours most under- and over-staffed on average."""
    ranked = prof.filter(pl.col("staffing_gap").is_not_null()).sort("staffing_gap")
    if ranked.height == 0:
        return "Pas d'effectif à comparer sur la période (aucun jour d'ouverture)."
    lo, hi = ranked.row(0, named=True), ranked.row(-1, named=True)
    parts = []
    if lo["staffing_gap"] < 0:
        parts.append(
            f"le créneau le plus en déficit est {lo['slot']} : "
            f"{fmt.fr_decimal(lo['agents_logged_in'])} agents connectés en moyenne pour "
            f"{fmt.fr_decimal(lo['required_agents'])} requis"
        )
    if hi["staffing_gap"] > 0:
        parts.append(
            f"le plus en excédent est {hi['slot']} "
            f"({fmt.fr_decimal(hi['staffing_gap'], 1)} agent(s) de plus que requis)"
        )
    if not parts:
        return "Les agents connectés suivent l'effectif requis à chaque demi-heure."
    text = " ; ".join(parts)
    return text[0].upper() + text[1:] + "."


def weekday_slot_gap(cells: pl.DataFrame) -> pl.DataFrame:
    """KPIs by (`day`, `slot`) → mean `staffing_gap` per weekday × half-hour.

    Returns `weekday` (1 = Monday), `weekday_label`, `slot`, `gap` (mean over the days
    with a value) and `days` (how many), sorted by weekday then slot.
    """
    schema = {"weekday": pl.Int8, "weekday_label": pl.String, "slot": pl.String,
              "gap": pl.Float64, "days": pl.UInt32}
    if cells.height == 0:
        return pl.DataFrame(schema=schema)
    frame = cells.filter(pl.col("staffing_gap").is_not_null()).with_columns(
        pl.col("day").str.to_date("%Y-%m-%d").dt.weekday().cast(pl.Int8).alias("weekday")
    )
    out = frame.group_by("weekday", "slot").agg(
        pl.col("staffing_gap").mean().alias("gap"), pl.len().alias("days")
    ).with_columns(
        pl.col("weekday").replace_strict(
            {i + 1: name for i, name in enumerate(WEEKDAYS)}, return_dtype=pl.String
        ).alias("weekday_label")
    )
    return out.sort("weekday", "slot").select(pl.col(c).cast(t) for c, t in schema.items())


def heatmap_reading(grid: pl.DataFrame) -> str:
    """One sentence: the weekday and half-hour with the deepest mean deficit."""
    if grid.height == 0:
        return "Pas d'effectif à comparer sur la période."
    lo = grid.sort("gap").row(0, named=True)
    under = grid.filter(pl.col("gap") < 0).height
    if lo["gap"] >= 0:
        return "Aucune demi-heure n'est en déficit en moyenne sur la période."
    return (
        f"Déficit le plus profond le {lo['weekday_label']} à {lo['slot']} "
        f"({fmt.fr_decimal(lo['gap'])} agent en moyenne) ; {under} demi-heures sur "
        f"{grid.height} sont en déficit en moyenne."
    )


def daily_reading(days: pl.DataFrame) -> str:
    """One sentence: how many open days were understaffed, and the worst one."""
    gaps = days.filter(pl.col("staffing_gap").is_not_null())
    if gaps.height == 0:
        return "Aucun jour d'ouverture sur la période."
    under = gaps.filter(pl.col("staffing_gap") < 0).sort("staffing_gap")
    if under.height == 0:
        return (f"Aucun des {gaps.height} jours d'ouverture n'est en déficit en moyenne sur "
                "ses heures d'ouverture.")
    worst = under.row(0, named=True)
    return (
        f"{under.height} jour(s) d'ouverture sur {gaps.height} en déficit en moyenne sur "
        f"leurs heures d'ouverture ; le plus marqué : {fmt.fr_date(worst['day'])} "
        f"({_signed(worst['staffing_gap'])} agent)."
    )


def staffing_extremes(
    frame: pl.DataFrame, keys: Sequence[str], n: int = 5
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(most understaffed, most overstaffed): the N rows of FRAME with the lowest
    negative and the highest positive `staffing_gap`, ties by KEYS."""
    valid = frame.filter(pl.col("staffing_gap").is_not_null())
    under = valid.filter(pl.col("staffing_gap") < 0).sort(["staffing_gap", *keys]).head(n)
    over = valid.filter(pl.col("staffing_gap") > 0).sort(
        ["staffing_gap", *keys], descending=[True] + [False] * len(keys)).head(n)
    return under, over


def slot_volumes(cells: pl.DataFrame) -> pl.DataFrame:
    """KPIs by (`day`, `slot`) → per `slot`: `calls`, the mean calls offered without short
    abandons over the `days` with at least one, sorted by slot."""
    frame = cells.with_columns(
        (pl.col("offered") - pl.col("short_abandoned")).alias("_calls")
    ).filter(pl.col("_calls") > 0)
    return frame.group_by("slot").agg(
        pl.col("_calls").mean().alias("calls"), pl.len().alias("days")
    ).sort("slot")


def busiest_slot(volumes: pl.DataFrame) -> str | None:
    """The half-hour with the most calls on average (the earliest on a tie)."""
    if volumes.height == 0:
        return None
    return volumes.sort(["calls", "slot"], descending=[True, False]).item(0, "slot")


def team_reading(frame: pl.DataFrame, key: str, names: Mapping[str, str]) -> str:
    """One sentence: agents logged in against agents required, per KEY (opening hours)."""
    rows = frame.filter(pl.col("required_agents").is_not_null()
                        & pl.col("agents_logged_in").is_not_null())
    if rows.height == 0:
        return "Pas d'effectif à comparer sur la période (aucun jour d'ouverture)."
    parts = [
        f"{names.get(r[key], r[key])} {fmt.fr_decimal(r['agents_logged_in'])} agents "
        f"connectés pour {fmt.fr_decimal(r['required_agents'])} requis "
        f"(écart {_signed(r['staffing_gap'])})"
        for r in rows.iter_rows(named=True)
    ]
    return "En moyenne sur les heures d'ouverture : " + " ; ".join(parts) + "."


def acts_reading(frame: pl.DataFrame, key: str, names: Mapping[str, str]) -> str:
    """One sentence: acts per 100 handled contacts and online promotion, highest first."""
    ranked = frame.filter(pl.col("acts_per_100_handled").is_not_null()).sort(
        "acts_per_100_handled", descending=True)
    if ranked.height == 0:
        return "Aucun acte de gestion ni contact traité sur la période."
    parts = [
        f"{names.get(r[key], r[key])} {fmt.fr_decimal(r['acts_per_100_handled'])} actes "
        f"pour 100 contacts traités (promotion en ligne "
        f"{fmt.fr_percent(r['online_promotion_rate'])})"
        for r in ranked.iter_rows(named=True)
    ]
    return " ; ".join(parts) + "."


def _signed(value: float | None) -> str:
    """+1,2 / −0,4 (a gap in agents, with its sign)."""
    if value is None:
        return fmt.MISSING
    text = fmt.fr_decimal(abs(value))
    if text.strip("0,") == "":
        return text  # rounds to zero: no sign
    return ("+" if value > 0 else "−") + text


def signed_agents(value: float | None) -> str:
    """A staffing gap as shown to people: "+1,2" or "−0,4" agents."""
    return _signed(value)
