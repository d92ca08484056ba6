"""Erlang C (M/M/N) and Erlang A (M/M/N+M) staffing formulas: pure functions, no I/O.

Notation (spec/metrics.md, section Staffing): λ arrival rate, h mean handle time (AHT),
μ = 1/h, N agents, A = λh the offered load in erlangs, t the service-level threshold,
θ the abandonment rate of a waiting caller (1/θ = mean patience).

Erlang C (Gans, Koole & Mandelbaum 2003, "Telephone call centers: tutorial, review and
research prospects", M&SOM 5(2), section 4.1):

    P(wait) = C(N, A),  SL(t) = 1 − C·exp(−(N−A)·t/h),  ASA = C·h/(N−A)   (N > A)

C is derived from the Erlang B recursion B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)) and
C = N·B / (N − A·(1−B)): no factorial or power is ever formed, so loads of thousands of
erlangs stay exact to rounding. For N ≤ A the queue is unstable: C = 1, SL = 0, ASA = ∞.

Erlang A (Mandelbaum & Zeltyn, "The Palm/Erlang-A queue, with applications to call
centers", 2007; Garnett, Mandelbaum & Reiman 2002, M&SOM 4(3)): callers abandon after an
exponential patience. The number in system is a birth-death chain with birth rate λ and
death rate kμ (k ≤ N) or Nμ + (k−N)θ (k > N); it is stable for every N ≥ 1. This module
computes its stationary distribution exactly on a truncated state space whose tail is
below 1e-17 (log space, so hundreds of agents and heavy overload are safe), then:

* P(wait) = P(an arrival finds all N agents busy) (PASTA);
* P(abandon) = θ·E[queue length] / λ (rate balance of the abandonment flow);
* a caller finding j callers waiting is in position j+1. While at position m the caller
  leaves that position at rate Nμ + mθ (a service, one of the m−1 ahead abandoning, or
  the caller itself abandoning), so P(answered | j) = Nμ / (Nμ + (j+1)θ), and given that
  it is answered its wait is a sum of independent exponentials of rates Nμ + iθ,
  i = 1..j+1. For such an arithmetic sequence of rates exp(−θ·W) is Beta(Nμ/θ + 1, j+1)
  distributed (compare Mellin transforms), which gives the exact identity
  P(W ≤ t) = P(K ≥ j+1) with K negative binomial of shape r = Nμ/θ + 1 and success
  probability z = 1 − exp(−θt). The service level is then an exact finite sum;
* ASA = E[wait | answered] (the dashboard's `asa_seconds` is the mean wait of answered
  calls), and mean_wait_seconds = E[queue length]/λ over all callers (Little's law).

Service level in Erlang A, following Mandelbaum & Zeltyn: SL(t) = P(answered with
wait ≤ t) over **all arrivals** — a caller who abandons counts as a miss. To match the
dashboard's observed service level (spec: answered within t / (offered − short
abandons)), pass `short_abandon_seconds`: both the service level and the abandonment
rate are then taken over the callers who did not abandon within that many seconds, the
way spec/metrics.md defines them.

Patience: `estimate_patience` is the maximum-likelihood estimator of Brown et al. (2005,
"Statistical analysis of a telephone call center", JASA 100) under exponential patience:
θ̂ = abandons / total time spent waiting by all callers who waited.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

# Truncation of the Erlang A state space: the neglected tail is below e^-40 ≈ 4e-18 of
# the stationary mass; the cap keeps absurd inputs (patience of years) from eating memory.
_LOG_TAIL = -40.0
_MAX_QUEUE_STATES = 2_000_000


def _check_agents(n: int) -> int:
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"the number of agents must be a whole number ≥ 0, not {n!r}")
    return int(n)


def _check_nonneg(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number ≥ 0, not {value!r}")
    return value


def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, not {value!r}")
    return value


def _check_target(target_sl: float) -> float:
    target_sl = float(target_sl)
    # SL < 1 for every finite staffing (some caller always waits), so a target of 1 has no
    # answer; 0 would make any staffing "enough".
    if not 0 < target_sl < 1:
        raise ValueError(
            f"the service-level target must be a fraction in (0, 1), not {target_sl!r}"
        )
    return target_sl


def offered_load(calls: float, interval_seconds: float, aht_seconds: float) -> float:
    """Offered load A = λ·h in erlangs: calls per second times the mean handle time."""
    calls = _check_nonneg("calls", calls)
    interval_seconds = _check_positive("interval_seconds", interval_seconds)
    aht_seconds = _check_positive("aht_seconds", aht_seconds)
    return calls * aht_seconds / interval_seconds


def erlang_b(n: int, a: float) -> float:
    """Erlang B blocking probability B(N, A), by the stable recursion on N."""
    n = _check_agents(n)
    a = _check_nonneg("offered load", a)
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def _c_from_b(n: int, a: float, b: float) -> float:
    # Stable for n > a: the denominator is > n − a > 0.
    return n * b / (n - a * (1.0 - b))


def erlang_c(n: int, a: float) -> float:
    """Erlang C probability of waiting C(N, A); 1.0 when N ≤ A (unstable queue)."""
    n = _check_agents(n)
    a = _check_nonneg("offered load", a)
    if n <= a:
        return 1.0
    return _c_from_b(n, a, erlang_b(n, a))


def service_level(n: int, a: float, aht: float, t: float) -> float:
    """Erlang C share of calls answered within t seconds; 0.0 when N ≤ A."""
    aht = _check_positive("aht", aht)
    t = _check_nonneg("t", t)
    c = erlang_c(n, a)
    if n <= a:
        return 0.0
    return min(1.0, max(0.0, 1.0 - c * math.exp(-(n - a) * t / aht)))


def asa(n: int, a: float, aht: float) -> float:
    """Erlang C average speed of answer in seconds; math.inf when N ≤ A."""
    aht = _check_positive("aht", aht)
    c = erlang_c(n, a)
    if n <= a:
        return math.inf
    return c * aht / (n - a)


def occupancy(n: int, a: float) -> float:
    """Agent occupancy A/N, capped at 1 (an overloaded team is busy all the time)."""
    n = _check_agents(n)
    a = _check_nonneg("offered load", a)
    if n == 0:
        return 1.0 if a > 0 else 0.0
    return min(1.0, a / n)


def required_agents(
    calls: float,
    interval_seconds: float,
    aht_seconds: float,
    target_sl: float,
    target_seconds: float,
) -> int:
    """Smallest N > A whose Erlang C service level reaches the target (0 when no calls)."""
    a = offered_load(calls, interval_seconds, aht_seconds)
    target_sl = _check_target(target_sl)
    target_seconds = _check_nonneg("target_seconds", target_seconds)
    if a == 0:
        return 0
    # Walk up from the first stable N, carrying B(n) along: O(A + √A) steps in all,
    # since the answer lies O(√A) above A (square-root staffing).
    n = math.floor(a)
    b = erlang_b(n, a)
    while True:
        n += 1
        b = a * b / (n + a * b)
        c = _c_from_b(n, a, b)
        if 1.0 - c * math.exp(-(n - a) * target_seconds / aht_seconds) >= target_sl:
            return n


# Below this many elements still in the Erlang B recursion, plain Python floats beat numpy
# calls on tiny slices (same operations in the same order, so the same bits).
_FEW_ELEMENTS = 16
# numpy's exp and math.exp agree to a couple of ulps, so a service level farther than this
# from the target compares the same way with either.
_NEAR_TIE = 1e-12


def required_agents_many(
    calls: np.ndarray,
    interval_seconds: np.ndarray,
    aht_seconds: np.ndarray,
    target_sl: np.ndarray,
    target_seconds: np.ndarray,
) -> np.ndarray:
    """required_agents of each element of equal-length arrays, vectorised (int64 array)."""
    arrays = [
        np.asarray(x, dtype=np.float64)
        for x in (calls, interval_seconds, aht_seconds, target_sl, target_seconds)
    ]
    if arrays[0].ndim != 1 or any(x.shape != arrays[0].shape for x in arrays):
        raise ValueError("required_agents_many takes one-dimensional arrays of equal length")
    calls, interval, aht, target, t = arrays
    valid = (
        np.isfinite(calls) & (calls >= 0) & np.isfinite(interval) & (interval > 0)
        & np.isfinite(aht) & (aht > 0) & (target > 0) & (target < 1)
        & np.isfinite(t) & (t >= 0)
    )
    with np.errstate(all="ignore"):  # invalid elements are the scalar code's to reject
        a = calls * aht / interval  # as offered_load computes it
    valid &= np.isfinite(a)
    out = np.zeros(a.size, dtype=np.int64)

    def scalar(i: int) -> int:
        return required_agents(calls[i], interval[i], aht[i], target[i], t[i])

    # Invalid inputs (and overflowing loads) go first to the scalar code, which raises.
    for i in np.flatnonzero(~valid):
        out[i] = scalar(i)
    todo = np.flatnonzero(a != 0)
    n, sure = _required_many(a[todo], aht[todo], target[todo], t[todo])
    out[todo] = n
    for i in todo[~sure]:
        out[i] = scalar(i)
    return out


def _required_many(
    a: np.ndarray, aht: np.ndarray, target: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """required_agents's search for valid loads a > 0: the answers, and which are sure."""
    size = a.size
    if size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    fl = np.floor(a)
    order = np.argsort(-fl, kind="stable")
    a, aht, target, t, fl = a[order], aht[order], target[order], t[order], fl[order]

    # Erlang B up to floor(A), as erlang_b does; with the loads sorted decreasingly the
    # elements still recursing at step k are a prefix. Memory: a few arrays of `size`.
    b = np.ones(size)
    ab = np.empty(size)
    m = size
    for k in range(1, int(fl[0]) + 1):
        while fl[m - 1] < k:
            m -= 1
        if m <= _FEW_ELEMENTS:
            for i in range(m):
                ai, bi = float(a[i]), float(b[i])
                for kk in range(k, int(fl[i]) + 1):
                    bi = ai * bi / (kk + ai * bi)
                b[i] = bi
            break
        np.multiply(a[:m], b[:m], out=ab[:m])
        np.divide(ab[:m], k + ab[:m], out=b[:m])

    # Walk up from floor(A) + 1 as required_agents does, dropping the elements served, and
    # keep C and the exponent at the answer N and at N − 1 for the confirmation.
    hit_n, hit_c, hit_x = np.empty(size), np.empty(size), np.empty(size)
    prev_c, prev_x = np.full(size, np.nan), np.full(size, np.nan)
    near = np.zeros(size, dtype=bool)
    live = np.arange(size)
    la, lb, ln, lt, lh, lg = a, b, fl.copy(), t, aht, target
    lc_prev, lx_prev, lnear = prev_c.copy(), prev_x.copy(), near.copy()
    while live.size:
        ln = ln + 1.0
        ab = la * lb
        lb = ab / (ln + ab)
        c = ln * lb / (ln - la * (1.0 - lb))
        x = -(ln - la) * lt / lh
        level = 1.0 - c * np.exp(x)
        lnear |= np.abs(level - lg) < _NEAR_TIE
        hit = level >= lg
        done = live[hit]
        hit_n[done], hit_c[done], hit_x[done] = ln[hit], c[hit], x[hit]
        prev_c[done], prev_x[done], near[done] = lc_prev[hit], lx_prev[hit], lnear[hit]
        keep = ~hit
        live, la, lb, ln, lt, lh, lg, lnear = (
            v[keep] for v in (live, la, lb, ln, lt, lh, lg, lnear)
        )
        lc_prev, lx_prev = c[keep], x[keep]

    # numpy's exp may differ from math.exp in the last bit, which could shift the answer:
    # recheck N (reached) and N − 1 (not reached, when N − 1 > A) with math.exp, as the
    # scalar code compares; a near tie at an earlier step also goes back to the scalar code.
    level = 1.0 - hit_c * np.fromiter(map(math.exp, hit_x.tolist()), float, size)
    sure = (level >= target) & ~near
    has_prev = hit_n - 1.0 > a
    x_prev = prev_x[has_prev].tolist()
    level_prev = 1.0 - prev_c[has_prev] * np.fromiter(map(math.exp, x_prev), float, len(x_prev))
    sure[has_prev] &= ~(level_prev >= target[has_prev])
    n_out, sure_out = np.empty(size, dtype=np.int64), np.empty(size, dtype=bool)
    n_out[order], sure_out[order] = hit_n.astype(np.int64), sure
    return n_out, sure_out


# --------------------------------------------------------------------------- Erlang A


@dataclass(frozen=True)
class ErlangAMetrics:
    """Steady-state performance of an M/M/N+M queue (Erlang A)."""

    prob_wait: float  # P(an arrival finds every agent busy)
    abandon_rate: float  # P(abandon), over callers not abandoning within short_abandon_seconds
    service_level: float  # P(answered within t), same denominator as abandon_rate
    asa_seconds: float | None  # mean wait of answered callers (None: nobody is answered)
    mean_wait_seconds: float  # mean time in queue over all callers, abandons included
    occupancy: float  # busy agents / N = carried load / N
    short_abandon_prob: float  # P(abandon with a wait < short_abandon_seconds), over all


def _nb_cdf(size: int, r: float, theta_t: float) -> np.ndarray:
    """P(K ≤ i), i = 0..size−1, for K negative binomial (shape r, success 1 − e^−θt)."""
    if theta_t == 0:
        return np.ones(size)
    # pmf p_i = Γ(i+r)/(Γ(r) i!) z^i (1−z)^r, built in log space from p_0 = (1−z)^r.
    log_z = math.log(-math.expm1(-theta_t))
    i = np.arange(1, size, dtype=float)
    log_steps = log_z + np.log(i - 1 + r) - np.log(i)  # log p_i − log p_{i−1}
    log_p = -r * theta_t + np.concatenate(([0.0], np.cumsum(log_steps)))
    return np.minimum(np.cumsum(np.exp(log_p)), 1.0)


def _queue_log_weights(lam: float, nmu: float, theta: float) -> np.ndarray:
    """log q_j, j = 0..K, with q_j = π(N+j)/π(N) = Π_{i≤j} λ/(Nμ + iθ), tail negligible."""
    y, x = lam / theta, nmu / theta
    # The weights peak near j = y − x (when positive) with a spread of order √y; below
    # capacity they also fall at least geometrically, by λ/(Nμ + θ) a step.
    k = max(0.0, y - x) + 12.0 * math.sqrt(y + 1.0) + 64
    if lam < nmu + theta:
        k = min(k, -45.0 / math.log(lam / (nmu + theta)) + 64)
    k = math.ceil(k)
    while True:
        if k > _MAX_QUEUE_STATES:
            raise ValueError("patience too long for an Erlang A computation: use Erlang C")
        i = np.arange(1, k + 1, dtype=float)
        log_q = np.concatenate(([0.0], np.cumsum(math.log(lam) - np.log(nmu + i * theta))))
        ratio = lam / (nmu + (k + 1) * theta)  # ratios decrease in i: geometric tail bound
        if ratio < 1 and log_q[-1] + math.log(ratio / (1 - ratio)) - log_q.max() < _LOG_TAIL:
            return log_q
        k *= 2


def erlang_a_metrics(
    n: int,
    calls: float,
    interval_seconds: float,
    aht_seconds: float,
    patience_seconds: float,
    t: float,
    short_abandon_seconds: float = 0.0,
) -> ErlangAMetrics:
    """Erlang A (M/M/N+M) waiting, abandonment, service level and ASA for N agents."""
    n = _check_agents(n)
    a = offered_load(calls, interval_seconds, aht_seconds)
    patience_seconds = _check_positive("patience_seconds", patience_seconds)
    t = _check_nonneg("t", t)
    s = _check_nonneg("short_abandon_seconds", short_abandon_seconds)
    lam, mu, theta = calls / interval_seconds, 1.0 / aht_seconds, 1.0 / patience_seconds
    if lam == 0:
        return ErlangAMetrics(0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    if n == 0:
        # Nobody is ever answered: every caller waits out its patience. Occupancy is
        # reported as saturated, as `occupancy` does for Erlang C.
        short = -math.expm1(-theta * s)
        return ErlangAMetrics(1.0, 1.0, 0.0, None, patience_seconds, 1.0, short)

    b = erlang_b(n, a)
    if b == 0.0:
        # Underflow: P(all N busy) < 1e-308, nobody ever waits.
        return ErlangAMetrics(0.0, 0.0, 1.0, 0.0, 0.0, a / n, 0.0)
    nmu = n * mu
    log_q = _queue_log_weights(lam, nmu, theta)
    # Unnormalised weights: Σ_{k<N} = 1 − B and π(N+j) ∝ B·q_j (Erlang B is π(N) over the
    # states 0..N), so nothing overflows even when the queue mass dwarfs the rest.
    top = log_q.max()
    log_b = math.log(b)
    log_z = np.logaddexp(math.log1p(-b) - log_b - top, math.log(np.exp(log_q - top).sum()))
    pi_q = np.exp(log_q - top - log_z)  # π(N+j) for j = 0..K
    j = np.arange(pi_q.size, dtype=float)
    prob_wait = float(min(1.0, pi_q.sum()))
    mean_queue = float((j * pi_q).sum())
    p_abandon = min(1.0, theta * mean_queue / lam)

    p_answer_given_j = nmu / (nmu + (j + 1) * theta)
    answered_mass = pi_q * p_answer_given_j
    # Given answered from position j+1, the wait is Σ_{i=1..j+1} Exp(Nμ + iθ).
    mean_wait_answered = np.cumsum(1.0 / (nmu + (j + 1) * theta))
    p_answered = (1.0 - prob_wait) + float(answered_mass.sum())
    asa_s = float((answered_mass * mean_wait_answered).sum()) / p_answered

    r = nmu / theta + 1.0
    within_t = 1.0 - _nb_cdf(pi_q.size, r, theta * t)  # P(K ≥ j+1) = 1 − P(K ≤ j)
    sl_all = (1.0 - prob_wait) + float((answered_mass * within_t).sum())

    short = 0.0
    if s > 0:
        # Position j+1 at time s: answered by then, still waiting (patience > s and offered
        # wait > s; the offered wait is Σ_{i=1..j+1} Exp(Nμ + (i−1)θ), shape Nμ/θ), or
        # abandoned — the rest.
        answered_by_s = p_answer_given_j * (1.0 - _nb_cdf(pi_q.size, r, theta * s))
        waiting_at_s = math.exp(-theta * s) * _nb_cdf(pi_q.size, r - 1.0, theta * s)
        short = float((pi_q * np.clip(1.0 - answered_by_s - waiting_at_s, 0.0, 1.0)).sum())
    kept = max(1.0 - short, 1e-300)  # short ≤ P(abandon) < 1 for N ≥ 1; guard rounding
    return ErlangAMetrics(
        prob_wait=prob_wait,
        abandon_rate=min(1.0, max(0.0, (p_abandon - short) / kept)),
        service_level=min(1.0, max(0.0, sl_all / kept)),
        asa_seconds=asa_s,
        mean_wait_seconds=mean_queue / lam,
        occupancy=min(1.0, a * (1.0 - p_abandon) / n),
        short_abandon_prob=short,
    )


def _smallest(pred, guess: int, lowest: int) -> int:
    """Smallest n ≥ lowest with pred(n) true, for pred monotone (false … false true …)."""
    cache: dict[int, bool] = {}

    def ok(k: int) -> bool:
        if k not in cache:
            cache[k] = pred(k)
        return cache[k]

    guess = max(guess, lowest)
    if ok(guess):
        hi, step = guess, 1
        lo = hi - step
        while lo >= lowest and ok(lo):
            hi, step = lo, step * 2
            lo = hi - step
        lo = max(lo, lowest - 1)  # ok(lo) is false, or lo is below the range
    else:
        lo, step = guess, 1
        hi = lo + step
        while not ok(hi):
            lo, step = hi, step * 2
            hi = lo + step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def required_agents_erlang_a(
    calls: float,
    interval_seconds: float,
    aht_seconds: float,
    patience_seconds: float,
    target_sl: float,
    target_seconds: float,
) -> int:
    """Smallest N ≥ 1 whose Erlang A service level (over all callers) reaches the target."""
    target_sl = _check_target(target_sl)
    a = offered_load(calls, interval_seconds, aht_seconds)
    if a == 0:
        return 0
    # The Erlang C answer is a close first guess; the exponential search then bisection
    # need a few dozen evaluations at most, as the service level increases with N.
    guess = required_agents(calls, interval_seconds, aht_seconds, target_sl, target_seconds)
    return _smallest(
        lambda k: erlang_a_metrics(
            k, calls, interval_seconds, aht_seconds, patience_seconds, target_seconds
        ).service_level
        >= target_sl,
        guess,
        1,
    )


def estimate_patience(
    abandoned_count: int, total_wait_seconds_of_all_queued_calls: float
) -> float | None:
    """Mean patience in seconds, 1/θ̂ with θ̂ = abandons / total wait; None without abandons."""
    abandoned = _check_nonneg("abandoned_count", abandoned_count)
    total_wait = _check_nonneg("total wait", total_wait_seconds_of_all_queued_calls)
    # Exponential patience censored by service: answered callers' waits count as
    # exposure without an event, so the MLE is events over total exposure (Brown et al.).
    if abandoned == 0:
        return None
    return total_wait / abandoned


# --------------------------------------------------------------------------- staffing


@dataclass(frozen=True)
class StaffingResult:
    """Required staffing and the performance of a given (or the required) staffing."""

    model: str  # "erlang_c" or "erlang_a"
    required_agents: int
    offered_load_erlangs: float
    agents: int  # the staffing the figures below describe
    stable: bool  # False: Erlang C with agents ≤ load, the queue grows without bound
    service_level: float
    asa_seconds: float | None  # None when unstable (the wait is unbounded)
    occupancy: float
    prob_wait: float
    abandon_rate: float | None  # None for Erlang C (no abandonment in the model)

    def to_dict(self) -> dict:
        """A JSON-ready dict (no infinities)."""
        return asdict(self)


def staffing(
    calls: float,
    interval_minutes: float,
    aht_seconds: float,
    target_sl: float,
    target_seconds: float,
    patience_seconds: float | None = None,
    agents: int | None = None,
) -> StaffingResult:
    """Required agents for the target, and the figures for `agents` (default: required)."""
    interval_minutes = _check_positive("interval_minutes", interval_minutes)
    interval_seconds = interval_minutes * 60.0
    a = offered_load(calls, interval_seconds, aht_seconds)
    if agents is not None:
        agents = _check_agents(agents)
    if patience_seconds is None:
        need = required_agents(calls, interval_seconds, aht_seconds, target_sl, target_seconds)
        n = need if agents is None else agents
        stable = n > a or a == 0
        return StaffingResult(
            model="erlang_c",
            required_agents=need,
            offered_load_erlangs=a,
            agents=n,
            stable=stable,
            service_level=service_level(n, a, aht_seconds, target_seconds) if a else 1.0,
            asa_seconds=asa(n, a, aht_seconds) if stable and a else (0.0 if stable else None),
            occupancy=occupancy(n, a),
            prob_wait=erlang_c(n, a) if a else 0.0,
            abandon_rate=None,
        )
    need = required_agents_erlang_a(
        calls, interval_seconds, aht_seconds, patience_seconds, target_sl, target_seconds
    )
    n = need if agents is None else agents
    m = erlang_a_metrics(n, calls, interval_seconds, aht_seconds, patience_seconds, target_seconds)
    return StaffingResult(
        model="erlang_a",
        required_agents=need,
        offered_load_erlangs=a,
        agents=n,
        stable=True,
        service_level=m.service_level,
        asa_seconds=m.asa_seconds,
        occupancy=m.occupancy,
        prob_wait=m.prob_wait,
        abandon_rate=m.abandon_rate,
    )
