"""Contacts of the simulated sites: calls and e-mails drawn from the demand plan, their
caller keys and repeat contacts, the acts of management of handled contacts, and the
contact rows as the store wants them.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from dashboard.core import localtime
from dashboard.demo.agents import _agent_ids
from dashboard.demo.demand import (
    DAY,
    DAY_NOISE_SIGMA,
    OUT_OF_HOURS_SHARE,
    QUEUES,
    SOURCE,
    _day_number,
    _email_curve,
    _phone_curve,
    _SitePlan,
    _to_utc,
)

# --- service ---------------------------------------------------------------------------
PATIENCE_MEAN = 150.0
QUICK_HANGUP_SHARE = 0.03  # callers who hang up within 5 s (short abandons)
EMAIL_CLOSED_SHARE = 0.03
NO_AGENT_SHARE = 0.02
# Callers who end their call in the voice server (a recorded answer: opening hours, the
# online services' address) without asking for an agent, per call that asks for one.
VOICE_SERVER_SHARE = 0.08
PROMOTION_START, PROMOTION_END = 0.20, 0.45

# --- labels ----------------------------------------------------------------------------
KEYLESS_PHONE_SHARE = 0.10  # withheld numbers: no caller key
REPEAT_SHARE = 0.18
REPEAT_LAG_MEAN = 1.5 * DAY
REPEAT_WINDOW = 7 * DAY
REPEAT_WEIGHT_HANDLED = 0.3  # abandoned/deflected contacts are followed up with weight 1
REPEAT_ATTEMPTS = 4
ACT_TYPES = (
    "delai_paiement", "changement_adresse", "rectification_declaration", "remise_gracieuse",
    "duplicata_avis", "adhesion_prelevement", "creation_espace_particulier", "attestation",
)
ACTS_PER_HANDLED = {None: 0.28, "avis": 0.34, "declarative": 0.38}
ACT_MIX = {
    None: (0.10, 0.20, 0.10, 0.05, 0.15, 0.10, 0.10, 0.20),
    "avis": (0.25, 0.08, 0.05, 0.15, 0.15, 0.18, 0.07, 0.07),
    "declarative": (0.05, 0.12, 0.30, 0.05, 0.06, 0.05, 0.25, 0.12),
}


# ======================================================================================
# Drawing calls and e-mails
# ======================================================================================


@dataclass
class _Carry:
    """State carried from one chunk to the next for one site."""

    emails: pl.DataFrame | None = None  # e-mails not yet handled
    tail: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # 7-day caller tail
    phone_no: int = 0
    email_no: int = 0
    act_no: int = 0


def _lognormal(rng, mean, sigma, size):
    return rng.lognormal(math.log(mean) - sigma**2 / 2, sigma, size)


def _draw_calls(plan: _SitePlan, chunk_days: list[int], rng) -> pl.DataFrame:
    """In-hours and out-of-hours calls of the chunk, sorted by arrival (local seconds)."""
    site = plan.site
    curve = _phone_curve(site)
    t_parts, d_parts, oh_parts, k_parts = [], [], [], []
    for i in chunk_days:
        base = _day_number(plan.days[i]) * DAY
        for j, dept in enumerate(plan.departments):
            if not plan.covered[i, j]:
                continue
            kind = plan.kind[i][j]
            if plan.open_days[i]:
                lam = plan.expected_phone[i, j] * rng.lognormal(0.0, DAY_NOISE_SIGMA)
                n = int(rng.poisson(lam))
                minute = rng.choice(len(curve), size=n, p=curve) + site.opens
                t = base + minute * 60 + rng.integers(0, 60, n)
                n_oh = int(rng.poisson(lam * OUT_OF_HOURS_SHARE))
                early = rng.random(n_oh) < 0.5
                oh = np.where(
                    early,
                    base + rng.integers(max(0, site.opens * 60 - 3600), site.opens * 60, n_oh),
                    base + rng.integers(site.closes * 60, min(DAY, site.closes * 60 + 5400), n_oh),
                )
                t = np.concatenate([t, oh])
                flag = np.concatenate([np.zeros(n, bool), np.ones(n_oh, bool)])
            else:
                n_oh = int(rng.poisson(plan.closed_calls[i, j]))
                t = base + rng.integers(9 * 3600, 18 * 3600, n_oh)
                flag = np.ones(n_oh, bool)
            t_parts.append(t)
            oh_parts.append(flag)
            d_parts.append(np.full(len(t), j))
            k_parts.append(np.full(len(t), _KIND_CODE[kind]))
    if not t_parts:
        return pl.DataFrame(schema={"t": pl.Int64, "dept": pl.Int64, "closed": pl.Boolean,
                                    "kind": pl.Int8})
    frame = pl.DataFrame({
        "t": np.concatenate(t_parts).astype(np.int64),
        "dept": np.concatenate(d_parts).astype(np.int64),
        "closed": np.concatenate(oh_parts),
        "kind": np.concatenate(k_parts).astype(np.int8),
    })
    return frame.sort("t", maintain_order=True)


def _draw_emails(plan: _SitePlan, chunk_days: list[int], rng) -> pl.DataFrame:
    curve = _email_curve()
    t_parts, d_parts, k_parts = [], [], []
    for i in chunk_days:
        if not plan.open_days[i]:
            continue
        base = _day_number(plan.days[i]) * DAY
        for j in range(len(plan.departments)):
            if not plan.covered[i, j]:
                continue
            n = int(rng.poisson(plan.expected_email[i, j] * rng.lognormal(0.0, DAY_NOISE_SIGMA)))
            minute = rng.choice(len(curve), size=n, p=curve) + 7 * 60
            t_parts.append(base + minute * 60 + rng.integers(0, 60, n))
            d_parts.append(np.full(n, j))
            k_parts.append(np.full(n, _KIND_CODE[plan.kind[i][j]]))
    if not t_parts:
        return pl.DataFrame(schema={"t": pl.Int64, "dept": pl.Int64, "kind": pl.Int8})
    frame = pl.DataFrame({
        "t": np.concatenate(t_parts).astype(np.int64),
        "dept": np.concatenate(d_parts).astype(np.int64),
        "kind": np.concatenate(k_parts).astype(np.int8),
    })
    return frame.sort("t", maintain_order=True)


_KINDS: tuple[str | None, ...] = (None, "avis", "declarative", "other")
_KIND_CODE = {k: i for i, k in enumerate(_KINDS)}


def _by_kind(table: dict, kind_codes: np.ndarray, default_key=None) -> np.ndarray:
    """Rows of TABLE (by campaign kind) for each kind code."""
    rows = [np.asarray(table.get(k, table[default_key]), dtype=float) for k in _KINDS]
    return np.stack(rows)[kind_codes]


def _choose(rng, probs: np.ndarray) -> np.ndarray:
    """One category per row of PROBS (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return (u >= cum).sum(axis=1).clip(0, probs.shape[1] - 1)


# ======================================================================================
# Caller keys and repeat contacts
# ======================================================================================


def _caller_keys(seed: int, carry: _Carry, dept: str, t: np.ndarray,
                 weight: np.ndarray, ids: list[str], rng) -> list[str | None]:
    """Caller keys for new keyed contacts of one département, sorted by time; see simulation.py."""
    tail = carry.tail.get(dept)
    n_tail = 0 if tail is None else len(tail["t"])
    all_t = t if tail is None else np.concatenate([tail["t"], t])
    all_w = weight if tail is None else np.concatenate([tail["w"], weight])
    n = len(t)
    pos = np.arange(n_tail, n_tail + n)
    parent = np.arange(n_tail + n)
    todo = rng.random(n) < REPEAT_SHARE
    # The earlier contact is drawn by how many contacts back it is (exponential, a mean of
    # REPEAT_LAG_MEAN's worth of contacts), not by clock time: a time lag landing on a
    # weekend would make the first Monday call everybody's earlier contact.
    per_second = n / max(DAY, float(t[-1] - t[0])) if n else 0.0
    mean_back = max(1.0, per_second * REPEAT_LAG_MEAN)
    for _ in range(REPEAT_ATTEMPTS):
        j = pos - 1 - np.floor(rng.exponential(mean_back, n)).astype(np.int64)
        ok = todo & (j >= 0)
        jj = np.where(ok, j, 0)
        ok &= all_t[pos] - all_t[jj] <= REPEAT_WINDOW
        accept = ok & (rng.random(n) < all_w[jj])
        parent[pos[accept]] = jj[accept]
        todo &= ~accept
    root = parent
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    keys: list[str | None] = [None] * (n_tail + n)
    if tail is not None:
        keys[:n_tail] = tail["key"].tolist()
    for k in range(n):
        r = root[n_tail + k]
        if r == n_tail + k:
            keys[r] = hashlib.sha256(f"{SOURCE}:{seed}:{ids[k]}".encode()).hexdigest()
    for k in range(n):
        keys[n_tail + k] = keys[root[n_tail + k]]
    # Keep the last seven days as the tail of the next chunk.
    if n_tail + n:
        keep = all_t >= all_t[-1] - REPEAT_WINDOW
        carry.tail[dept] = {"t": all_t[keep], "w": all_w[keep],
                            "key": np.array(keys, dtype=object)[keep]}
    return keys[n_tail:]


# ======================================================================================
# Acts of management and contact rows
# ======================================================================================


def _acts(plan, team, contacts: pl.DataFrame, carry: _Carry, rng, tz) -> pl.DataFrame:
    """Acts of management from the handled contacts that have their agent."""
    site = plan.site
    handled = contacts.filter(pl.col("handled") & (pl.col("agent") >= 0))
    kinds = handled["kind"].to_numpy()
    rate = np.array([ACTS_PER_HANDLED.get(k, ACTS_PER_HANDLED[None]) for k in _KINDS])[kinds]
    count = rng.poisson(rate)
    idx = np.repeat(np.arange(handled.height), count)
    rows = handled[idx]
    k = len(idx)
    act_type = _choose(rng, _by_kind(ACT_MIX, rows["kind"].to_numpy()))
    done = rows["done_local"].to_numpy()
    is_phone = (rows["channel"] == "phone").to_numpy()
    day_close = (done // DAY) * DAY + site.closes * 60
    # Phone: during the wrap-up, before closing when the call ended in time. E-mail: while
    # writing the reply.
    room = np.where(is_phone, np.minimum(rows["wrap_seconds"].to_numpy(),
                                         np.maximum(0, day_close - done)),
                    -rows["talk_seconds"].to_numpy())
    performed = done + (rng.random(k) * room).astype(np.int64)
    frame = pl.DataFrame({
        "performed": performed,
        "act_type": pl.Series([ACT_TYPES[x] for x in act_type], dtype=pl.String),
        "dept": rows["dept"], "agent": rows["agent"], "contact_id": rows["contact_id"],
    })
    frame = frame.with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) + carry.act_no + 1).alias("no")
    )
    carry.act_no += k
    frame = _to_utc(frame, "performed", "performed_at", tz)
    frame = frame.with_columns(
        pl.format("A-{}-{}", pl.lit(site.code), pl.col("no").cast(pl.String).str.zfill(8))
        .alias("act_id"),
        localtime.local_date(pl.col("performed_at"), tz).alias("local_date"),
        localtime.local_slot(pl.col("performed_at"), tz).alias("local_slot"),
        _dept_names(plan).alias("department"),
        _agent_ids(team).alias("agent_id"),
    )
    # An act must fall within its département's coverage (a late e-mail reply might not).
    frame = frame.filter(_covered(plan, "local_date"))
    return frame.select(
        pl.lit(SOURCE).alias("source"), "act_id", "performed_at", "act_type",
        pl.lit(site.code).alias("site"), "department", "agent_id", "contact_id",
        "local_date", "local_slot",
    )


def _dept_names(plan: _SitePlan) -> pl.Expr:
    return pl.col("dept").replace_strict(
        {j: d for j, d in enumerate(plan.departments)}, return_dtype=pl.String
    )


def _covered(plan: _SitePlan, date_col: str) -> pl.Expr:
    ok = pl.lit(False)
    for j, _ in enumerate(plan.departments):
        col = plan.covered[:, j]
        # Coverage as ranges of day indices (usually one range per département).
        edges = np.flatnonzero(np.diff(np.concatenate([[0], col.astype(int), [0]])))
        for lo, hi in zip(edges[::2], edges[1::2]):
            ok = ok | ((pl.col("dept") == j)
                       & pl.col(date_col).is_between(plan.days[lo], plan.days[hi - 1]))
    return ok


def _voice_server_calls(phone: pl.DataFrame, open_calls: np.ndarray,
                        r: np.random.Generator) -> pl.DataFrame:
    """Callers who ended their call in the voice server (outcome `ivr`), beside the calls
    of PHONE (the chunk's phone rows) that came in opening hours (OPEN_CALLS): about
    VOICE_SERVER_SHARE of them, each ending as the call beside it reaches the queue, with
    no wait, agent, caller key or act. (Out of hours the server answers every caller with
    the closed message: those calls are deflected.)"""
    picked = np.flatnonzero((r.random(phone.height) < VOICE_SERVER_SHARE) & open_calls)
    ended = phone[picked].with_columns(
        pl.col("contact_id").str.replace("^P-", "V-"),
    ).with_columns(
        pl.lit(None, pl.Datetime("us")).alias("answered_at"),
        pl.col("received_at").alias("ended_at"),
        pl.lit("ivr").alias("outcome_name"),
        pl.lit(0, pl.Int64).alias("wait_seconds"),
        pl.lit(0, pl.Int64).alias("talk_seconds"),
        pl.lit(0, pl.Int64).alias("wrap_seconds"),
        pl.lit(-1, pl.Int64).alias("agent"),
        pl.lit(None, pl.String).alias("caller_key"),
        pl.lit(False).alias("handled"),
        pl.lit(None, pl.Boolean).alias("online_service_promoted"),
    )
    return ended


def _finish_contacts(plan, team, contacts: pl.DataFrame, tz) -> pl.DataFrame:
    return contacts.with_columns(
        localtime.local_date(pl.col("received_at"), tz).alias("local_date"),
        localtime.local_slot(pl.col("received_at"), tz).alias("local_slot"),
        _dept_names(plan).alias("department"),
        _agent_ids(team).alias("agent_id"),
        pl.col("queue").replace_strict({i: q for i, q in enumerate(QUEUES)},
                                       return_dtype=pl.String).alias("queue_name"),
    ).select(
        pl.lit(SOURCE).alias("source"), "contact_id", "channel",
        pl.lit(plan.site.code).alias("site"), "department",
        pl.col("queue_name").alias("queue"), "received_at", "answered_at", "ended_at",
        pl.col("outcome_name").alias("outcome"),
        pl.col("wait_seconds").cast(pl.Int64), pl.col("talk_seconds").cast(pl.Int64),
        pl.col("wrap_seconds").cast(pl.Int64), "agent_id", "online_service_promoted",
        "caller_key", "local_date", "local_slot",
    ).sort("received_at", "contact_id")
