"""The contacts forecast and its measured accuracy: pure Polars and numpy, frames in and out.

**Day totals**, per site × channel × département (a *series*): on the site's open days, a
log-linear regression of log(1 + contacts), least squares with a small ridge, on

- the département's own level (one intercept per series, not penalised);
- the weekday, and the open day right after a public holiday on an open weekday
  (French public holidays: the `holidays` package, dashboard.core.workdays);
- a trend (per year);
- the coverage ramp-up: exp(−days since the coverage start / TAU), TAU = 14 days;
- the campaign calendar of the reference data: in a campaign, and its opening fortnight
  (min(1, days since its start / 14)), once for any campaign and once per kind, and the
  days to each of its deadlines in DEADLINE_BANDS (a few bumps before and after), once
  for any deadline and once per kind of campaign. The per-kind columns are ridge-shrunk
  deviations from the shared ones: a kind never seen yet moves as every campaign did.

The calendar moves every series of a channel alike: one regression per channel over the
series read, each at its own level. Its last days' errors correct it (LEVEL_*): the
weighted mean of a series' log residuals over the last two weeks (half-life three days)
is added to every horizon, so the level follows the season the calendar does not know.

A **closed day** (a weekday the site does not open, or a public holiday) is forecast as
the mean of the series' closed days of the same weekday in the last CLOSED_WEEKS weeks
(a holiday on an opening weekday: of every closed day then): refused calls, no load.

**Half-hours** (calls): the site's day forecast (the sum of its départements') times the
share of the day that fell in each half-hour on the same weekday's open days of the last
PROFILE_WEEKS weeks. Only the half-hours of the opening hours are forecast, on open days:
a closed day has none. The agents needed are their Erlang C requirement, at the AHT of
the last AHT_WEEKS weeks for that weekday and half-hour (`agents_needed`).

**Intervals** (80 %, day totals): the forecast times exp of the 10th and 90th percentiles
of the log errors, log(1 + actual) − log(1 + forecast), that the same model made from
earlier origins on targets of the last INTERVAL_DAYS days before the origin, by horizon
band (HORIZON_BANDS: 1, 2–3, 4–7, 8–14, 15–21, 22–28 days) and open or closed target.
Half-hours carry their day's interval in proportion.

**Backtest**: rolling origin, every day (weekly origins would put every horizon-h target
on one weekday) once a series has MIN_HISTORY days; WAPE = Σ|actual − forecast| / Σ
actual at horizons 1, 7 and 28 days, for the model and for the seasonal naive forecast
(the same weekday's value at the origin's last observation of it, `naive_lag`), on the
same targets.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from dashboard.core.workdays import HolidayCalendar, default_calendar
from dashboard.metrics import erlang

HORIZON = 28  # days after the origin (the last day with data)
REPORTED_HORIZONS = (1, 7, 28)
HORIZON_BANDS = ((1, 1), (2, 3), (4, 7), (8, 14), (15, 21), (22, 28))
INTERVAL = (0.10, 0.90)  # the 80 % interval's quantiles of past log errors
INTERVAL_DAYS = 182  # past errors on targets of the last half-year
MIN_ERRORS = 20  # fewer past errors than this in a band: no interval
MIN_HISTORY = 28  # days of a series' own history before it is forecast
CLOSED_WEEKS = 8
PROFILE_WEEKS = 6
AHT_WEEKS = 6
RIDGE = 1.0  # the penalty on every coefficient but the départements' levels
TAU = 14.0  # days: the coverage ramp-up's time constant (fixed; see the README)
OPENING_DAYS = 14  # a campaign's opening fortnight
LEVEL_DAYS, LEVEL_HALF_LIFE = 14, 3.0
# Days from a deadline (day − deadline), each band one bump of the regression.
DEADLINE_BANDS = ((-28, -22), (-21, -15), (-14, -8), (-7, -4), (-3, -1), (0, 0), (1, 2),
                  (3, 6), (7, 13), (14, 20))
SLOTS = 48


@dataclass(frozen=True)
class Reference:
    """The calendar the model reads: reference data (queries.forecast.reference) and holidays.

    `sites`: site, opens_at, closes_at ("HH:MM"), open_weekdays (ISO digits);
    `coverage`: site, department, start_date, end_date (inclusive, null: still served);
    `campaigns`: name, kind, start_date, end_date, department (null: every département);
    `deadlines`: campaign (a campaign's name), day, department (null: every département).
    """

    sites: pl.DataFrame
    coverage: pl.DataFrame
    campaigns: pl.DataFrame
    deadlines: pl.DataFrame
    holidays: HolidayCalendar | None = None

    def holiday_set(self, first: dt.date, last: dt.date) -> set[dt.date]:
        """Public holidays between FIRST and LAST (default calendar: France's)."""
        calendar = self.holidays or default_calendar()
        out: set[dt.date] = set()
        for year in range(first.year, last.year + 1):
            out |= {d for d in calendar(year) if first <= d <= last}
        return out


# ======================================================================================
# Measures
# ======================================================================================


def naive_lag(h: int) -> int:
    """Days back the seasonal naive forecast looks for a target H days after the origin:
    the same weekday's last observation, 7·⌈h/7⌉ (h = 1..7: 7, 8..14: 14, …). So the
    target origin + h takes the value of day origin − 7 + ((h − 1) mod 7) + 1."""
    if h < 1:
        raise ValueError("the horizon must be at least 1 day")
    return 7 * math.ceil(h / 7)


def seasonal_naive(values: dict[dt.date, float], origin: dt.date, h: int) -> float | None:
    """The seasonal naive forecast of day origin + H from VALUES (day → contacts)."""
    return values.get(origin + dt.timedelta(days=h - naive_lag(h)))


def wape(actual: Sequence[float], forecast: Sequence[float]) -> float | None:
    """Σ|actual − forecast| / Σ actual (null when nothing was expected nor happened)."""
    a = np.asarray(actual, dtype=float)
    f = np.asarray(forecast, dtype=float)
    total = a.sum()
    return float(np.abs(a - f).sum() / total) if total > 0 else None


def interval_coverage(actual: Sequence[float], low: Sequence[float],
                      high: Sequence[float]) -> float | None:
    """Share of ACTUAL values within [low, high] (null without any interval)."""
    a, lo, hi = (np.asarray(x, dtype=float) for x in (actual, low, high))
    known = ~(np.isnan(lo) | np.isnan(hi))
    if not known.any():
        return None
    return float(((a[known] >= lo[known]) & (a[known] <= hi[known])).mean())


# ======================================================================================
# The panel of one channel: series × days, their calendar features
# ======================================================================================


def _minutes(hhmm: str) -> int:
    hours, minutes = str(hhmm).split(":")
    return int(hours) * 60 + int(minutes)


def opening_slots(opens_at: str, closes_at: str) -> list[int]:
    """The local half-hours (0..47) that overlap the opening hours OPENS_AT..CLOSES_AT."""
    lo, hi = _minutes(opens_at), _minutes(closes_at)
    return [s for s in range(SLOTS) if s * 30 < hi and (s + 1) * 30 > lo]


@dataclass
class _Panel:
    """One channel's series and days (index 0 = DAY0), with their calendar features."""

    channel: str
    keys: list[tuple[str, str]]  # (site, department) per series
    day0: dt.date
    y: np.ndarray  # [S, D] contacts, 0-filled inside each series' span
    first: np.ndarray  # [S] first day index with data
    last: np.ndarray  # [S] last day index the series is served (coverage end)
    open: np.ndarray  # [S, D] the site is open
    opens_on: np.ndarray  # [S, 8] the site opens on this ISO weekday (index 1..7)
    x: np.ndarray  # [S, D, F] calendar features, the ramp-up excepted
    since: np.ndarray  # [S, D] days since the coverage start
    campaign: np.ndarray  # [S, D] a campaign covers the day
    weekday: np.ndarray  # [D] ISO weekday
    names: list[str]


_WEEKDAYS = {1, 2, 3, 4, 5}  # a site the reference data does not know: Monday–Friday


def _site_rows(ref: Reference) -> dict[str, tuple[set[int], str, str]]:
    out = {}
    for site, opens, closes, weekdays in ref.sites.select(
            "site", "opens_at", "closes_at", "open_weekdays").iter_rows():
        out[site] = ({int(c) for c in (weekdays or "") if c.isdigit()}, opens, closes)
    return out


def _panel(days: pl.DataFrame, channel: str, ref: Reference, day0: dt.date,
           n_days: int) -> _Panel | None:
    """The panel of CHANNEL from DAYS (site, department, channel, local_date, contacts)."""
    rows = days.filter(pl.col("channel") == channel)
    if rows.height == 0:
        return None
    keys = sorted(set(rows.select("site", "department").iter_rows()))
    index = {k: i for i, k in enumerate(keys)}
    n = len(keys)
    y = np.zeros((n, n_days))
    first = np.full(n, n_days, dtype=np.int64)
    for site, dept, day, value in rows.select(
            "site", "department", "local_date", "contacts").iter_rows():
        s, d = index[(site, dept)], (day - day0).days
        if 0 <= d < n_days:
            y[s, d] += value
            if value > 0:
                first[s] = min(first[s], d)
    dates = [day0 + dt.timedelta(days=i) for i in range(n_days)]
    hol = ref.holiday_set(dates[0], dates[-1])
    weekday = np.array([d.isoweekday() for d in dates])
    is_hol = np.array([d in hol for d in dates])
    sites = _site_rows(ref)
    last = np.full(n, n_days - 1, dtype=np.int64)
    since = np.zeros((n, n_days))
    cov = ref.coverage
    for s, (site, dept) in enumerate(keys):
        starts = cov.filter((pl.col("site") == site) & (pl.col("department") == dept))
        start_days = sorted((r - day0).days for r in starts.get_column("start_date"))
        ends = [e for e in starts.get_column("end_date").to_list()]
        if ends and all(e is not None for e in ends):
            last[s] = min(n_days - 1, (max(ends) - day0).days)
        # Days since the latest coverage start on or before each day (else the first data).
        anchor = np.full(n_days, float(first[s]))
        for start in start_days:
            anchor[np.arange(n_days) >= start] = start
        since[s] = np.maximum(np.arange(n_days) - anchor, 0.0)
    open_ = np.zeros((n, n_days), dtype=bool)
    opens_on = np.zeros((n, 8), dtype=bool)
    for s, (site, _) in enumerate(keys):
        weekdays = sites.get(site, (_WEEKDAYS, "", ""))[0]
        opens_on[s, list(weekdays)] = True
        open_[s] = opens_on[s, weekday] & ~is_hol
    kinds = sorted(set(ref.campaigns.get_column("kind").to_list()))
    names = [f"weekday_{w}" for w in range(2, 8)] + ["after_holiday", "trend"]
    names += ["campaign", "campaign_opening"]
    names += [f"{p}_{k}" for k in kinds for p in ("campaign", "campaign_opening")]
    names += [f"deadline_{lo}_{hi}" for lo, hi in DEADLINE_BANDS]
    names += [f"deadline_{k}_{lo}_{hi}" for k in kinds for lo, hi in DEADLINE_BANDS]
    col = {name: i for i, name in enumerate(names)}
    x = np.zeros((n, n_days, len(names)))
    in_campaign = np.zeros((n, n_days), dtype=bool)
    t = np.arange(n_days)
    for w in range(2, 8):
        x[:, :, col[f"weekday_{w}"]] = weekday == w
    x[:, :, col["trend"]] = t / 365.0
    for s, (site, dept) in enumerate(keys):
        closed_holiday = is_hol & opens_on[s, weekday]
        x[s, 1:, col["after_holiday"]] = closed_holiday[:-1] & open_[s, 1:]
        for name, kind, start, end, c_dept in ref.campaigns.select(
                "name", "kind", "start_date", "end_date", "department").iter_rows():
            if c_dept is not None and c_dept != dept:
                continue
            lo, hi = (start - day0).days, (end - day0).days
            inside = (t >= lo) & (t <= hi)
            opening = np.where(inside, np.minimum(1.0, (t - lo) / OPENING_DAYS), 0.0)
            in_campaign[s] |= inside
            for suffix in ("", f"_{kind}"):
                x[s, :, col[f"campaign{suffix}"]] = np.maximum(
                    x[s, :, col[f"campaign{suffix}"]], inside)
                x[s, :, col[f"campaign_opening{suffix}"]] = np.maximum(
                    x[s, :, col[f"campaign_opening{suffix}"]], opening)
        kind_of = dict(ref.campaigns.select("name", "kind").iter_rows())
        for campaign, day, d_dept in ref.deadlines.select(
                "campaign", "day", "department").iter_rows():
            if d_dept is not None and d_dept != dept:
                continue
            delta = t - (day - day0).days
            kind = kind_of.get(campaign)
            for lo, hi in DEADLINE_BANDS:
                hit = (delta >= lo) & (delta <= hi)
                x[s, :, col[f"deadline_{lo}_{hi}"]] += hit
                if kind is not None:
                    x[s, :, col[f"deadline_{kind}_{lo}_{hi}"]] += hit
    return _Panel(channel, keys, day0, y, first, last, open_, opens_on, x, since,
                  in_campaign, weekday, names)


# ======================================================================================
# The regression: cumulative normal equations, solved at each origin
# ======================================================================================


@dataclass
class _Fit:
    """The regression's sums over the training rows of days 0..d, for each day d, and the
    features. The départements' levels are profiled out (Frisch–Waugh): only F × F
    systems are solved, one per origin."""

    x: np.ndarray  # [S, D, F] the features
    g: np.ndarray  # [D, F, F] Σ x xᵀ
    b: np.ndarray  # [D, F] Σ x z, z = log(1 + contacts)
    a: np.ndarray  # [S, D, F] per series Σ x
    c: np.ndarray  # [S, D] per series Σ z
    n: np.ndarray  # [S, D] per series rows

    def solve(self, origin: int) -> tuple[np.ndarray, np.ndarray]:
        """The coefficients and the series' levels fitted on days 0..ORIGIN."""
        n = self.n[:, origin]
        a, c = self.a[:, origin, :], self.c[:, origin]
        inv = np.where(n > 0, 1.0 / np.maximum(n, 1.0), 0.0)
        g = self.g[origin] - (a * inv[:, None]).T @ a
        b = self.b[origin] - (a * inv[:, None]).T @ c
        beta = np.linalg.solve(g + RIDGE * np.eye(g.shape[0]), b)
        return beta, (c - a @ beta) * inv


def _training_mask(panel: _Panel) -> np.ndarray:
    d = np.arange(panel.y.shape[1])[None, :]
    return panel.open & (d >= panel.first[:, None]) & (d <= panel.last[:, None])


def _fit(panel: _Panel) -> _Fit:
    x = np.concatenate([panel.x, np.exp(-panel.since / TAU)[:, :, None]], axis=2)
    mask = _training_mask(panel).astype(float)
    z = np.log1p(panel.y) * mask
    xm = x * mask[:, :, None]
    return _Fit(x, np.cumsum(np.einsum("sdf,sdg->dfg", xm, xm), axis=0),
                np.cumsum(np.einsum("sdf,sd->df", xm, z), axis=0),
                np.cumsum(xm, axis=1), np.cumsum(z, axis=1), np.cumsum(mask, axis=1))


def _level(panel: _Panel, fit: _Fit, beta: np.ndarray, alpha: np.ndarray,
           origin: int) -> np.ndarray:
    """Per series: the weighted mean log error over the last LEVEL_DAYS open days."""
    lo = max(0, origin - LEVEL_DAYS + 1)
    days = np.arange(lo, origin + 1)
    mask = _training_mask(panel)[:, lo:origin + 1]
    pred = alpha[:, None] + fit.x[:, lo:origin + 1, :] @ beta
    resid = np.log1p(panel.y[:, lo:origin + 1]) - pred
    w = 0.5 ** ((origin - days) / LEVEL_HALF_LIFE)[None, :] * mask
    total = w.sum(axis=1)
    return np.where(total > 0, (w * resid).sum(axis=1) / np.where(total > 0, total, 1), 0.0)


def _closed_means(panel: _Panel, origin: int) -> tuple[np.ndarray, np.ndarray]:
    """Per series, the mean contacts of its closed days in the last CLOSED_WEEKS weeks
    by ISO weekday [S, 8] (nan: none) and over all of them [S] (0: none)."""
    lo = max(0, origin - 7 * CLOSED_WEEKS + 1)
    days = np.arange(lo, origin + 1)
    closed = ~panel.open[:, days] & (days[None, :] >= panel.first[:, None])
    values = panel.y[:, days] * closed
    by_day = np.full((len(panel.keys), 8), np.nan)
    for w in range(1, 8):
        on = closed & (panel.weekday[days] == w)[None, :]
        count = on.sum(axis=1)
        by_day[:, w] = np.where(count > 0, (values * on).sum(axis=1) / np.maximum(count, 1),
                                np.nan)
    count = closed.sum(axis=1)
    return by_day, np.where(count > 0, values.sum(axis=1) / np.maximum(count, 1), 0.0)


@dataclass
class _Run:
    """The forecasts of one channel's panel from a run of origins: one row per origin,
    series and target day (arrays of equal length)."""

    origin: np.ndarray
    series: np.ndarray
    h: np.ndarray
    target: np.ndarray
    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    actual: np.ndarray  # nan beyond the data
    naive: np.ndarray
    open: np.ndarray
    campaign: np.ndarray


def _band(h: np.ndarray) -> np.ndarray:
    out = np.zeros(h.shape, dtype=np.int64)
    for i, (lo, hi) in enumerate(HORIZON_BANDS):
        out[(h >= lo) & (h <= hi)] = i
    return out


class _Errors:
    """The log errors of past forecasts, for the intervals: kept per horizon band and open
    or closed target, in the order of their target days, once the target is observed."""

    def __init__(self) -> None:
        keys = 2 * len(HORIZON_BANDS)
        self.pending: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.target = [np.zeros(64, dtype=np.int64) for _ in range(keys)]
        self.error = [np.zeros(64) for _ in range(keys)]
        self.size = [0] * keys

    def add(self, target: np.ndarray, key: np.ndarray, error: np.ndarray) -> None:
        """Hold errors (arrays of equal length) until their target day is reached."""
        for t in np.unique(target):
            on = target == t
            self.pending.setdefault(int(t), []).append((key[on], error[on]))

    def advance(self, origin: int) -> None:
        """Make the errors on targets up to ORIGIN available."""
        for t in sorted(t for t in self.pending if t <= origin):
            for key, error in self.pending.pop(t):
                for k in np.unique(key):
                    self._append(int(k), t, error[key == k])

    def _append(self, k: int, t: int, values: np.ndarray) -> None:
        n, m = self.size[k], values.size
        if n + m > self.error[k].size:
            grow = max(2 * self.error[k].size, n + m)
            self.error[k] = np.resize(self.error[k], grow)
            self.target[k] = np.resize(self.target[k], grow)
        self.error[k][n:n + m] = values
        self.target[k][n:n + m] = t
        self.size[k] = n + m

    def quantiles(self, origin: int) -> np.ndarray:
        """[key] → (low, high) quantiles of the errors on targets of the INTERVAL_DAYS
        days up to ORIGIN (nan: fewer than MIN_ERRORS)."""
        out = np.full((len(self.size), 2), np.nan)
        for k, n in enumerate(self.size):
            start = np.searchsorted(self.target[k][:n], origin - INTERVAL_DAYS + 1)
            pool = self.error[k][start:n]
            if pool.size >= MIN_ERRORS:
                out[k] = np.quantile(pool, INTERVAL)
        return out


def _key(h: np.ndarray, is_open: np.ndarray) -> np.ndarray:
    """The errors' pool of each forecast: its horizon band and whether the site opens."""
    return 2 * _band(h) + is_open.astype(np.int64)


def _run(panel: _Panel, origins: Iterable[int], last_data: int, *,
         horizon: int = HORIZON) -> _Run:
    """Forecast from each origin (a day index: data up to it) the next HORIZON days of
    every series with MIN_HISTORY days of its own, with the intervals the errors of the
    earlier origins of the run give; actuals and the seasonal naive forecast beside."""
    fit = _fit(panel)
    n_days = panel.y.shape[1]
    parts: list[dict[str, np.ndarray]] = []
    errors = _Errors()
    hs = np.arange(1, horizon + 1)
    lags = np.array([naive_lag(int(h)) for h in hs])
    for origin in origins:
        ready = np.flatnonzero((panel.first <= origin)
                               & (origin - panel.first + 1 >= MIN_HISTORY))
        if ready.size == 0:
            continue
        beta, alpha = fit.solve(origin)
        level = _level(panel, fit, beta, alpha, origin)
        targets = origin + hs
        valid = (targets[None, :] < n_days) & (targets[None, :] <= panel.last[ready, None])
        si, hi = np.nonzero(valid)
        s, h, t = ready[si], hs[hi], targets[hi]
        if s.size == 0:
            continue
        is_open = panel.open[s, t]
        log_pred = alpha[s] + fit.x[s, t, :] @ beta + level[s]
        expected = np.expm1(np.maximum(log_pred, 0.0))
        by_day, overall = _closed_means(panel, origin)
        closed_value = by_day[s, panel.weekday[t]]
        # A holiday on an opening weekday has no closed day of its weekday to copy.
        holiday = panel.opens_on[s, panel.weekday[t]]
        closed_value = np.where(holiday | np.isnan(closed_value), overall[s], closed_value)
        expected = np.where(is_open, expected, closed_value)
        errors.advance(origin)
        q = errors.quantiles(origin)[_key(h, is_open)]
        base = np.log1p(expected)
        low = np.maximum(np.expm1(base + q[:, 0]), 0.0)
        high = np.maximum(np.expm1(base + q[:, 1]), 0.0)
        observed = t <= last_data
        actual = np.where(observed, panel.y[s, np.minimum(t, n_days - 1)], np.nan)
        naive = panel.y[s, t - lags[hi]]
        parts.append({"origin": np.full(s.size, origin), "series": s, "h": h, "target": t,
                      "expected": expected, "low": low, "high": high, "actual": actual,
                      "naive": naive, "open": is_open, "campaign": panel.campaign[s, t]})
        if observed.any():
            errors.add(t[observed], _key(h[observed], is_open[observed]),
                       np.log1p(actual[observed]) - base[observed])
    if not parts:
        dtypes = {"origin": np.int64, "series": np.int64, "h": np.int64, "target": np.int64,
                  "open": bool, "campaign": bool}
        return _Run(**{k: np.zeros(0, dtype=dtypes.get(k, float))
                       for k in _Run.__dataclass_fields__})
    return _Run(**{k: np.concatenate([p[k] for p in parts]) for k in parts[0]})


# ======================================================================================
# Public: the panels of a history, forecasts, the backtest
# ======================================================================================

DAY_SCHEMA = {"site": pl.String, "department": pl.String, "channel": pl.String,
              "local_date": pl.Date, "contacts": pl.Float64}
SLOT_SCHEMA = {"site": pl.String, "local_date": pl.Date, "local_slot": pl.Int64,
               "calls": pl.Float64}


@dataclass
class _Runs:
    """The panels of a history (one per channel) and their runs of origins."""

    day0: dt.date
    last_data: int  # day index of the last day with data
    panels: dict[str, _Panel]
    runs: dict[str, _Run]


def _runs(days: pl.DataFrame, ref: Reference, first_origin: dt.date | None,
          last_origin: dt.date | None, every: int, horizon: int = HORIZON) -> _Runs | None:
    days = days.select(list(DAY_SCHEMA)).cast(DAY_SCHEMA)
    if days.height == 0:
        return None
    day0 = days.get_column("local_date").min()
    last = days.get_column("local_date").max()
    last_data = (last - day0).days
    n_days = last_data + 1 + horizon
    lo = 0 if first_origin is None else max(0, (first_origin - day0).days)
    hi = last_data if last_origin is None else min(last_data, (last_origin - day0).days)
    origins = range(hi, lo - 1, -every)[::-1]  # the last origin always in, then every N
    panels, runs = {}, {}
    for channel in sorted(set(days.get_column("channel").to_list())):
        panel = _panel(days, channel, ref, day0, n_days)
        if panel is not None:
            panels[channel] = panel
            runs[channel] = _run(panel, origins, last_data, horizon=horizon)
    return _Runs(day0, last_data, panels, runs)


def _run_frame(r: _Runs) -> pl.DataFrame:
    frames = []
    for channel, run in r.runs.items():
        keys = r.panels[channel].keys
        frames.append(pl.DataFrame({
            "site": [keys[s][0] for s in run.series],
            "department": [keys[s][1] for s in run.series],
            "channel": channel,
            "origin": [r.day0 + dt.timedelta(days=int(o)) for o in run.origin],
            "horizon_days": run.h,
            "local_date": [r.day0 + dt.timedelta(days=int(t)) for t in run.target],
            "expected": run.expected, "low": run.low, "high": run.high,
            "actual": run.actual, "naive": run.naive,
            "open": run.open, "campaign": run.campaign,
        }, schema_overrides={"origin": pl.Date, "local_date": pl.Date,
                             "horizon_days": pl.Int64}))
    out = pl.concat(frames) if frames else pl.DataFrame()
    return out.with_columns(pl.col(c).fill_nan(None) for c in ("low", "high", "actual", "naive"))


def backtest_days(days: pl.DataFrame, ref: Reference, every: int = 1,
                  first_origin: dt.date | None = None) -> pl.DataFrame:
    """The rolling-origin forecasts of day totals from the history DAYS (site, department,
    channel, local_date, contacts): one row per origin (every EVERY days up to the last day
    with data), series and target day within HORIZON: `expected`, `low`, `high`,
    `actual` (null beyond the data), `naive`, `open` (the site opens that day) and
    `campaign` (a campaign covers it)."""
    r = _runs(days, ref, first_origin, None, every)
    return _run_frame(r) if r is not None else pl.DataFrame()


# ======================================================================================
# Half-hours: the intraday profile per weekday
# ======================================================================================


def _slot_matrix(slots: pl.DataFrame, site: str, day0: dt.date, n_days: int) -> np.ndarray:
    """[D, 48] a site's calls per local day and half-hour (0 where none)."""
    out = np.zeros((n_days, SLOTS))
    part = slots.filter(pl.col("site") == site)
    for day, slot, calls in part.select("local_date", "local_slot", "calls").iter_rows():
        d = (day - day0).days
        if 0 <= d < n_days and 0 <= slot < SLOTS:
            out[d, slot] += calls
    return out


def _profile(calls: np.ndarray, site_open: np.ndarray, weekday: np.ndarray,
             origin: int) -> np.ndarray:
    """[8, 48] per ISO weekday the share of the day's calls in each half-hour, over the
    site's open days of that weekday in the PROFILE_WEEKS weeks up to ORIGIN (any open
    day of them when that weekday has none; nan without any)."""
    lo = max(0, origin - 7 * PROFILE_WEEKS + 1)
    days = np.arange(lo, origin + 1)
    days = days[site_open[days] & (calls[days].sum(axis=1) > 0)]
    out = np.full((8, SLOTS), np.nan)
    if days.size == 0:
        return out
    overall = calls[days].sum(axis=0) / calls[days].sum()
    for w in range(1, 8):
        same = days[weekday[days] == w]
        out[w] = calls[same].sum(axis=0) / calls[same].sum() if same.size else overall
    return out


@dataclass
class _Site:
    """What the half-hours of one site need: its calls, open days and opening slots."""

    calls: np.ndarray  # [D, 48]
    open: np.ndarray  # [D]
    slots: np.ndarray  # the opening hours' half-hours
    series: np.ndarray  # its series in the phone panel


def _sites(r: _Runs, slots: pl.DataFrame, ref: Reference) -> dict[str, _Site]:
    panel = r.panels.get("phone")
    if panel is None:
        return {}
    hours = {site: (opens, closes) for site, opens, closes in ref.sites.select(
        "site", "opens_at", "closes_at").iter_rows()}
    slots = slots.select(list(SLOT_SCHEMA)).cast(SLOT_SCHEMA)
    out = {}
    for site in sorted({k[0] for k in panel.keys}):
        series = np.array([i for i, k in enumerate(panel.keys) if k[0] == site])
        opens, closes = hours.get(site, ("08:30", "17:30"))
        out[site] = _Site(_slot_matrix(slots, site, r.day0, panel.y.shape[1]),
                          panel.open[series[0]], np.array(opening_slots(opens, closes)),
                          series)
    return out


def _site_days(run: _Run, site: _Site, origin: int, first: np.ndarray
               ) -> dict[int, tuple[float, float, float]] | None:
    """Target day → the site's (expected, low, high) from ORIGIN, summed over its
    départements; None unless every série of the site with data by then is forecast."""
    rows = (run.origin == origin) & np.isin(run.series, site.series)
    started = site.series[first[site.series] <= origin]
    if not started.size or set(np.unique(run.series[rows])) != set(started):
        return None
    out: dict[int, list[float]] = {}
    for t, e, lo, hi in zip(run.target[rows], run.expected[rows], run.low[rows],
                            run.high[rows]):
        acc = out.setdefault(int(t), [0.0, 0.0, 0.0])
        acc[0] += e
        acc[1] += lo
        acc[2] += hi
    return {t: tuple(v) for t, v in out.items()}


DAY_FORECAST_SCHEMA = {"site": pl.String, "department": pl.String, "channel": pl.String,
                       "origin": pl.Date, "horizon_days": pl.Int64, "local_date": pl.Date,
                       "expected": pl.Float64, "low": pl.Float64, "high": pl.Float64}
SLOT_FORECAST_SCHEMA = {"site": pl.String, "origin": pl.Date, "horizon_days": pl.Int64,
                        "local_date": pl.Date, "local_slot": pl.Int64,
                        "expected": pl.Float64, "low": pl.Float64, "high": pl.Float64}


def forecast(days: pl.DataFrame, slots: pl.DataFrame, ref: Reference,
             horizon: int = HORIZON) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The HORIZON days after the last day with data (the origin) of DAYS (site,
    department, channel, local_date, contacts): per series and day `expected`, `low`,
    `high` (80 %, from the errors of the daily origins of the INTERVAL_DAYS before); and
    from SLOTS (site, local_date, local_slot, calls: every phone call received, per site
    and half-hour) the calls per half-hour of each site's opening hours: the site's day
    forecast (summed over its départements, interval too) times the weekday's profile,
    0 on a closed day. Returns (days, slots)."""
    if not 1 <= horizon <= HORIZON:
        raise ValueError(f"the horizon must be 1 to {HORIZON} days, got {horizon}")
    empty = (pl.DataFrame(schema=DAY_FORECAST_SCHEMA), pl.DataFrame(schema=SLOT_FORECAST_SCHEMA))
    if days.height == 0:
        return empty
    last = days.get_column("local_date").cast(pl.Date).max()
    r = _runs(days, ref, last - dt.timedelta(days=INTERVAL_DAYS + HORIZON), last, 1,
              horizon=HORIZON)
    if r is None:
        return empty
    frame = _run_frame(r)
    day_frame = frame.filter((pl.col("origin") == last) & (pl.col("horizon_days") <= horizon)
                             ).select(list(DAY_FORECAST_SCHEMA))
    return day_frame, _slot_forecast(r, slots, ref, horizon)


_Z80 = 1.2815515655446004  # the standard normal's 90 % quantile: an 80 % two-sided band


def slot_bounds(expected: float, low: float | None, high: float | None
                ) -> tuple[float | None, float | None]:
    """A half-hour's 80 % bounds around EXPECTED from its share of the day's (LOW, HIGH):
    the day's interval covers the day total, but a half-hour of a few calls also varies
    by chance around its share. The two spreads add up as variances: the day's (half the
    interval's width over z = 1.2816) and the Poisson one (the expected count); the
    bounds are EXPECTED ± z × their combined deviation, the low one never below 0."""
    if low is None or high is None or np.isnan(low) or np.isnan(high):
        return low, high
    z = _Z80
    spread = math.sqrt(((high - low) / (2 * z)) ** 2 + max(expected, 0.0))
    return max(0.0, expected - z * spread), expected + z * spread


def _slot_forecast(r: _Runs, slots: pl.DataFrame, ref: Reference, horizon: int
                   ) -> pl.DataFrame:
    rows = []
    panel, run = r.panels.get("phone"), r.runs.get("phone")
    origin = r.day0 + dt.timedelta(days=r.last_data)
    for code, site in _sites(r, slots, ref).items():
        totals = _site_days(run, site, r.last_data, panel.first)
        if totals is None:
            continue
        profile = _profile(site.calls, site.open, panel.weekday, r.last_data)
        for h in range(1, horizon + 1):
            t = r.last_data + h
            day = r.day0 + dt.timedelta(days=t)
            share = profile[panel.weekday[t]]
            for slot in site.slots:
                if site.open[t] and t in totals and not np.isnan(share[slot]):
                    e, lo, hi = (v * share[slot] for v in totals[t])
                    lo, hi = slot_bounds(e, lo, hi)
                else:
                    e, lo, hi = 0.0, 0.0, 0.0  # a closed day: no half-hour in hours
                rows.append((code, origin, h, day, int(slot), e, lo, hi))
    frame = pl.DataFrame(rows, schema=SLOT_FORECAST_SCHEMA, orient="row")
    return frame.with_columns(pl.col(c).fill_nan(None) for c in ("low", "high"))


def handle_times(cells: pl.DataFrame, origin: dt.date, weeks: int = AHT_WEEKS
                 ) -> pl.DataFrame:
    """CELLS (site, local_date, local_slot, aht_seconds, answered: the engine's per day and
    half-hour) → per site, ISO `weekday` and `local_slot` the answered calls' mean handle
    time over the WEEKS weeks up to ORIGIN (`aht_seconds`), with the site's over all of
    them beside (`site_aht_seconds`, for the half-hours without an answered call)."""
    recent = cells.filter(
        pl.col("local_date").is_between(origin - dt.timedelta(days=7 * weeks - 1), origin),
        pl.col("answered") > 0, pl.col("aht_seconds").is_not_null(),
    ).with_columns((pl.col("aht_seconds") * pl.col("answered")).alias("_handle"),
                   pl.col("local_date").dt.weekday().cast(pl.Int64).alias("weekday"))
    site = recent.group_by("site").agg(
        (pl.col("_handle").sum() / pl.col("answered").sum()).alias("site_aht_seconds"))
    cell = recent.group_by("site", "weekday", "local_slot").agg(
        (pl.col("_handle").sum() / pl.col("answered").sum()).alias("aht_seconds"))
    return cell.join(site, on="site", how="left").select(
        "site", "weekday", pl.col("local_slot").cast(pl.Int64), "aht_seconds",
        "site_aht_seconds").sort("site", "weekday", "local_slot")


def agents_needed(slot_forecast: pl.DataFrame, aht: pl.DataFrame, targets: pl.DataFrame,
                  aht_seconds: float | None = None) -> pl.DataFrame:
    """SLOT_FORECAST (forecast's half-hours) with `aht_seconds` (AHT: handle_times' for
    the weekday and half-hour, else the site's; AHT_SECONDS for every one when given) and
    the Erlang C `agents_needed` for `expected` calls, `agents_needed_low` and `_high`
    for the interval's, each the smallest N reaching the site's service-level target
    (TARGETS: site, sl_target, sl_seconds) over the half-hour; null without a known AHT."""
    frame = slot_forecast.with_columns(
        pl.col("local_date").dt.weekday().cast(pl.Int64).alias("weekday"))
    if aht_seconds is not None:
        frame = frame.with_columns(pl.lit(float(aht_seconds)).alias("aht_seconds"))
    else:
        site_aht = aht.group_by("site").agg(pl.col("site_aht_seconds").first())
        frame = (frame.join(aht.select("site", "weekday", "local_slot", "aht_seconds"),
                            on=["site", "weekday", "local_slot"], how="left")
                 .join(site_aht, on="site", how="left")
                 .with_columns(pl.col("aht_seconds").fill_null(pl.col("site_aht_seconds")))
                 .drop("site_aht_seconds"))
    frame = frame.join(targets.select("site", "sl_target", "sl_seconds"), on="site",
                       how="left", maintain_order="left")
    handle = frame.get_column("aht_seconds").fill_null(0.0).to_numpy()
    target = frame.get_column("sl_target").to_numpy()
    threshold = frame.get_column("sl_seconds").cast(pl.Float64).to_numpy()
    needs = {}
    for col, name in (("expected", "agents_needed"), ("low", "agents_needed_low"),
                      ("high", "agents_needed_high")):
        calls = frame.get_column(col).fill_null(-1.0).to_numpy()
        known = (handle > 0) & (calls >= 0)
        solve = known & (calls > 0)
        need = np.zeros(frame.height, dtype=np.int64)
        if solve.any():
            need[solve] = erlang.required_agents_many(
                calls[solve], np.full(int(solve.sum()), 1800.0), handle[solve],
                target[solve], threshold[solve])
        needs[name] = pl.Series(name, np.where(known, need, -1)).replace(-1, None)
    return frame.with_columns(**needs).drop("weekday", "sl_target", "sl_seconds")


BACKTEST_SCHEMA = {"site": pl.String, "channel": pl.String, "grain": pl.String,
                   "horizon_days": pl.Int64, "origins": pl.Int64, "model_wape": pl.Float64,
                   "naive_wape": pl.Float64, "interval_coverage": pl.Float64,
                   "campaign_model_wape": pl.Float64, "campaign_naive_wape": pl.Float64}


def _summary(site: str, channel: str, grain: str, h: int, origins: set[int],
             actual, expected, naive, campaign, low=None, high=None) -> dict:
    a, e, n, c = (np.asarray(v, dtype=float) for v in (actual, expected, naive, campaign))
    c = c.astype(bool)
    return {"site": site, "channel": channel, "grain": grain, "horizon_days": h,
            "origins": len(origins), "model_wape": wape(a, e), "naive_wape": wape(a, n),
            "interval_coverage": (interval_coverage(a, low, high) if low is not None
                                  else None),
            "campaign_model_wape": wape(a[c], e[c]), "campaign_naive_wape": wape(a[c], n[c])}


def backtest(days: pl.DataFrame, slots: pl.DataFrame, ref: Reference,
             every: int = 1) -> pl.DataFrame:
    """The rolling-origin backtest of DAYS (site, department, channel, local_date,
    contacts) and SLOTS (site, local_date, local_slot, calls): one row per site, channel,
    grain and horizon of REPORTED_HORIZONS, origins every EVERY days.

    `day`: each département's day totals, summed per site; `slot`: the site's calls per
    half-hour of its opening hours on its open days (the cells Erlang staffs), from
    origins where all its départements with data are forecast. `origins`: the origins
    whose target was observed; `model_wape`, `naive_wape` on the same targets;
    `interval_coverage` (day grain): the share of actuals inside the 80 % interval;
    `campaign_*`: the same WAPE over the target days a campaign covers."""
    r = _runs(days, ref, None, None, every)
    if r is None:
        return pl.DataFrame(schema=BACKTEST_SCHEMA)
    rows = []
    for channel, run in r.runs.items():
        panel = r.panels[channel]
        site_of = np.array([k[0] for k in panel.keys])
        for h in REPORTED_HORIZONS:
            on = (run.h == h) & ~np.isnan(run.actual)
            for site in sorted(set(site_of)):
                sel = on & (site_of[run.series] == site)
                rows.append(_summary(site, channel, "day", h, set(run.origin[sel].tolist()),
                                     run.actual[sel], run.expected[sel], run.naive[sel],
                                     run.campaign[sel], run.low[sel], run.high[sel]))
    if "phone" in r.runs:
        rows += _slot_backtest(r, slots, ref)
    order = {"phone": 0, "email": 1}
    rows.sort(key=lambda x: (x["site"], order.get(x["channel"], 2), x["grain"],
                             x["horizon_days"]))
    return pl.DataFrame(rows, schema=BACKTEST_SCHEMA, orient="row")


def _slot_backtest(r: _Runs, slots: pl.DataFrame, ref: Reference) -> list[dict]:
    run, panel = r.runs["phone"], r.panels["phone"]
    rows = []
    for code, site in _sites(r, slots, ref).items():
        acc = {h: ([], [], [], [], set()) for h in REPORTED_HORIZONS}
        for origin in np.unique(run.origin[np.isin(run.series, site.series)]):
            totals = _site_days(run, site, int(origin), panel.first)
            if totals is None:
                continue
            profile = _profile(site.calls, site.open, panel.weekday, int(origin))
            for h in REPORTED_HORIZONS:
                t = int(origin) + h
                if t > r.last_data or not site.open[t] or t not in totals:
                    continue
                share = profile[panel.weekday[t], site.slots]
                if np.isnan(share).any():
                    continue
                actual, expected, naive, campaign, origins = acc[h]
                actual.append(site.calls[t, site.slots])
                expected.append(totals[t][0] * share)
                naive.append(site.calls[t - naive_lag(h), site.slots])
                campaign.append(np.full(site.slots.size,
                                        panel.campaign[site.series, t].any()))
                origins.add(int(origin))
        for h, (actual, expected, naive, campaign, origins) in acc.items():
            cat = (lambda v: np.concatenate(v) if v else np.zeros(0))
            rows.append(_summary(code, "phone", "slot", h, origins, cat(actual),
                                 cat(expected), cat(naive), cat(campaign)))
    return rows
