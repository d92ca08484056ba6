"""Erlang C / Erlang A: published values, independent implementations, limits, the CLI.

The reference values here never come from dashboard.metrics.erlang itself: they are textbook
figures, the direct factorial formula in exact rational arithmetic, a generator-matrix
solution of the birth-death chain, a uniformisation of a waiting caller's chain, and a
seeded discrete-event simulation of the FIFO queue with impatient callers.
"""

from __future__ import annotations

import heapq
import json
import math
import random
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

from dashboard.cli.staffing import staffing as staffing_cmd
from dashboard.metrics import erlang

HALF_HOUR = 1800.0


def direct_erlang_c(n: int, a: Fraction) -> Fraction:
    """The spec's Erlang C formula, with factorials and powers, in exact arithmetic."""
    last = a**n / math.factorial(n) * Fraction(n) / (n - a)
    return last / (sum(a**k / math.factorial(k) for k in range(n)) + last)


def direct_erlang_b(n: int, a: Fraction) -> Fraction:
    """Erlang's loss formula (A^N/N!) / Σ_{k≤N} A^k/k!, exactly."""
    return (a**n / math.factorial(n)) / sum(a**k / math.factorial(k) for k in range(n + 1))


# ------------------------------------------------------------------ published values


def test_textbook_example_needs_14_agents():
    # 100 calls in 30 min at 180 s AHT: A = 100·180/1800 = 10 erlangs; 80 % in 20 s.
    assert erlang.offered_load(100, HALF_HOUR, 180) == pytest.approx(10.0)
    assert erlang.required_agents(100, HALF_HOUR, 180, 0.8, 20) == 14


def test_thirteen_agents_fall_just_short():
    # By hand: C(13, 10) from the factorial formula, SL = 1 − C·e^{−(13−10)·20/180}.
    c = float(direct_erlang_c(13, Fraction(10)))
    by_hand = 1 - c * math.exp(-3 * 20 / 180)
    assert by_hand == pytest.approx(0.796, abs=5e-4)
    assert erlang.service_level(13, 10.0, 180, 20) == pytest.approx(by_hand, abs=1e-12)
    assert round(erlang.service_level(13, 10.0, 180, 20), 3) == 0.796
    assert erlang.asa(13, 10.0, 180) == pytest.approx(c * 180 / 3, rel=1e-12)


def test_erlang_c_table_value():
    # Erlang C tables: A = 10, N = 11 → P(wait) = 0.6821.
    assert erlang.erlang_c(11, 10.0) == pytest.approx(0.6821, abs=5e-5)


def test_erlang_b_table_value():
    # Erlang B tables: A = 10, N = 10 → blocking 0.2146.
    assert erlang.erlang_b(10, 10.0) == pytest.approx(0.2146, abs=5e-5)


# ------------------------------------------------------------------ independent formula


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 21, 34, 45, 60])
def test_matches_exact_factorial_formula(n):
    for a in {Fraction(n, 10), Fraction(n, 2), Fraction(9 * n, 10), Fraction(n) - Fraction(1, 7),
              Fraction(1, 3), Fraction(n + 3, 2)}:
        assert erlang.erlang_b(n, float(a)) == pytest.approx(float(direct_erlang_b(n, a)),
                                                            rel=1e-11)
        if a < n:
            c = float(direct_erlang_c(n, a))
            assert erlang.erlang_c(n, float(a)) == pytest.approx(c, rel=1e-10)
            h, t = 240.0, 30.0
            sl = 1 - c * math.exp(-float(n - a) * t / h)
            assert erlang.service_level(n, float(a), h, t) == pytest.approx(sl, rel=1e-9)
            assert erlang.asa(n, float(a), h) == pytest.approx(c * h / float(n - a), rel=1e-9)
        else:
            assert erlang.erlang_c(n, float(a)) == 1.0


def test_unstable_queue_has_no_finite_answer():
    assert erlang.erlang_c(10, 10.0) == 1.0
    assert erlang.erlang_c(9, 10.0) == 1.0
    assert erlang.service_level(10, 10.0, 180, 20) == 0.0
    assert erlang.asa(9, 10.0, 180) == math.inf
    assert erlang.occupancy(9, 10.0) == 1.0
    assert erlang.occupancy(14, 10.0) == pytest.approx(10 / 14)


def test_no_calls_need_no_agents():
    assert erlang.required_agents(0, HALF_HOUR, 180, 0.8, 20) == 0
    assert erlang.required_agents_erlang_a(0, HALF_HOUR, 180, 120, 0.8, 20) == 0
    res = erlang.staffing(0, 30, 180, 0.8, 20)
    assert (res.required_agents, res.service_level, res.prob_wait) == (0, 1.0, 0.0)


@pytest.mark.parametrize("args", [
    (-1, HALF_HOUR, 180, 0.8, 20),
    (100, 0, 180, 0.8, 20),
    (100, HALF_HOUR, 0, 0.8, 20),
    (100, HALF_HOUR, 180, 1.0, 20),
    (100, HALF_HOUR, 180, 0.0, 20),
    (100, HALF_HOUR, 180, 0.8, -1),
    (math.nan, HALF_HOUR, 180, 0.8, 20),
])
def test_invalid_input_is_rejected(args):
    with pytest.raises(ValueError):
        erlang.required_agents(*args)


# ------------------------------------------------------------------ large loads


@pytest.mark.parametrize("load", [500.0, 2000.0, 6000.0])
def test_large_loads_are_finite_and_near_square_root_staffing(load):
    calls = load * HALF_HOUR / 180
    n = erlang.required_agents(calls, HALF_HOUR, 180, 0.8, 20)
    # Square-root staffing N ≈ A + β√A with β ≈ 1 for 80/20 at these sizes.
    assert load < n <= load + 3 * math.sqrt(load) + 3
    for k in (n - 1, n, n + 5):
        sl = erlang.service_level(k, load, 180, 20)
        assert math.isfinite(sl) and 0.0 <= sl <= 1.0
    sl_needed, sl_one_less = (erlang.service_level(k, load, 180, 20) for k in (n, n - 1))
    assert sl_needed >= 0.8 > sl_one_less
    assert 0.0 < erlang.erlang_c(n, load) < 1.0
    assert 0.0 < erlang.erlang_b(n, load) < 1.0


def test_large_load_erlang_a_is_finite():
    # 500 erlangs, 2 min patience, from under- to over-staffed.
    calls = 500 * HALF_HOUR / 180
    for n in (300, 480, 500, 520, 700):
        m = erlang.erlang_a_metrics(n, calls, HALF_HOUR, 180, 120, 20)
        for value in (m.prob_wait, m.abandon_rate, m.service_level, m.occupancy):
            assert math.isfinite(value) and 0.0 <= value <= 1.0
        assert m.asa_seconds is not None and 0.0 <= m.asa_seconds < 1e4
    # Erlang A's SL counts abandons as misses, so a 2000-erlang target is met near A.
    n = erlang.required_agents_erlang_a(2000 * HALF_HOUR / 180, HALF_HOUR, 180, 120, 0.8, 20)
    assert 1500 < n < 2100


# ------------------------------------------------------------------ monotonicity


def test_service_level_increases_with_agents():
    for load in (0.5, 10.0, 73.3, 500.0):
        sls = [erlang.service_level(n, load, 180, 20)
               for n in range(math.floor(load) + 1, math.floor(load) + 40)]
        # Strictly increasing until it rounds to 1 (small loads, many agents).
        assert all(x < y or x == y == 1.0 for x, y in zip(sls, sls[1:]))
        assert sls[-1] > 0.999


def test_required_agents_increase_with_calls():
    needs = [erlang.required_agents(calls, HALF_HOUR, 180, 0.8, 20) for calls in range(0, 2000, 7)]
    assert all(x <= y for x, y in zip(needs, needs[1:]))
    assert needs[-1] > needs[1] > needs[0] == 0


def test_erlang_a_service_level_increases_with_agents():
    for patience in (10.0, 120.0, 900.0):
        sls = [erlang.erlang_a_metrics(n, 100, HALF_HOUR, 180, patience, 20).service_level
               for n in range(1, 30)]
        assert all(x < y for x, y in zip(sls, sls[1:]))


def test_required_agents_erlang_a_is_the_smallest():
    for calls, patience in ((100, 120.0), (37, 30.0), (900, 300.0), (100, 5.0)):
        n = erlang.required_agents_erlang_a(calls, HALF_HOUR, 180, patience, 0.8, 20)
        assert erlang.erlang_a_metrics(n, calls, HALF_HOUR, 180, patience, 20).service_level >= 0.8
        if n > 1:
            below = erlang.erlang_a_metrics(n - 1, calls, HALF_HOUR, 180, patience, 20)
            assert below.service_level < 0.8


# ------------------------------------------------------------------ Erlang A, exactly


def birth_death_stationary(n, lam, mu, theta, states):
    """π of the truncated M/M/N+M chain by solving πQ = 0, Σπ = 1 (dense linear algebra)."""
    q = np.zeros((states, states))
    for k in range(states):
        if k + 1 < states:
            q[k, k + 1] = lam
        if k > 0:
            q[k, k - 1] = min(k, n) * mu + max(k - n, 0) * theta
        q[k, k] = -q[k].sum()
    lhs = np.vstack([q.T, np.ones(states)])
    rhs = np.zeros(states + 1)
    rhs[-1] = 1.0
    return np.linalg.lstsq(lhs, rhs, rcond=None)[0]


def tagged_caller_outcomes(pi, n, mu, theta, horizon):
    """P(answered by `horizon`) and P(abandoned by `horizon`) for a Poisson arrival.

    Uniformisation of the caller's own chain: at position m it moves to m−1 at rate
    Nμ + (m−1)θ (position 0 = answered) and abandons at rate θ.
    """
    positions = len(pi) - n  # an arrival in state N+j starts at position j+1
    p = np.zeros(positions + 1)
    p[1:] = pi[n:]
    rate = n * mu + positions * theta  # ≥ every exit rate Nμ + mθ
    m = np.arange(positions + 1)
    forward = np.where(m > 0, n * mu + (m - 1) * theta, 0.0) / rate
    abandon = np.where(m > 0, theta, 0.0) / rate
    answered = abandoned = 0.0  # absorbed after k uniformised steps
    acc_answered = acc_abandoned = 0.0
    mean_jumps = rate * horizon
    weight = math.exp(-mean_jumps)  # Poisson(k; mean_jumps), from k = 0
    for k in range(1, int(mean_jumps + 12 * math.sqrt(mean_jumps) + 40)):
        acc_answered += weight * answered
        acc_abandoned += weight * abandoned
        moved = p * forward
        answered += moved[1]
        abandoned += (p * abandon).sum()
        p = p * (1 - forward - abandon) + np.append(moved[1:], 0.0)
        weight *= mean_jumps / k
    return float(pi[:n].sum()) + acc_answered, acc_abandoned


@pytest.mark.parametrize("n,calls,patience", [(5, 50, 120.0), (3, 60, 30.0), (8, 100, 300.0)])
def test_erlang_a_matches_generator_matrix_and_uniformisation(n, calls, patience):
    aht, t, short = 180.0, 20.0, 5.0
    lam, mu, theta = calls / HALF_HOUR, 1 / aht, 1 / patience
    pi = birth_death_stationary(n, lam, mu, theta, states=n + 150)
    queue = np.arange(len(pi)) - n
    p_wait = pi[n:].sum()
    p_abandon = theta * (pi[n:] * queue[n:]).sum() / lam
    answered_by_t, _ = tagged_caller_outcomes(pi, n, mu, theta, t)
    _, abandoned_by_short = tagged_caller_outcomes(pi, n, mu, theta, short)

    m = erlang.erlang_a_metrics(n, calls, HALF_HOUR, aht, patience, t)
    assert m.prob_wait == pytest.approx(p_wait, abs=1e-9)
    assert m.abandon_rate == pytest.approx(p_abandon, abs=1e-9)
    assert m.service_level == pytest.approx(answered_by_t, abs=1e-9)
    assert m.mean_wait_seconds == pytest.approx((pi[n:] * queue[n:]).sum() / lam, rel=1e-9)
    assert m.occupancy == pytest.approx((pi * np.minimum(np.arange(len(pi)), n)).sum() / n,
                                        rel=1e-9)

    # The spec's denominators: callers who did not abandon within `short` seconds.
    s = erlang.erlang_a_metrics(n, calls, HALF_HOUR, aht, patience, t, short_abandon_seconds=short)
    assert s.short_abandon_prob == pytest.approx(abandoned_by_short, abs=1e-9)
    kept = 1 - abandoned_by_short
    assert s.service_level == pytest.approx(answered_by_t / kept, abs=1e-9)
    assert s.abandon_rate == pytest.approx((p_abandon - abandoned_by_short) / kept, abs=1e-9)


def simulate_fifo_with_abandonment(n, lam, aht, patience, t, short, arrivals, seed):
    """Discrete-event simulation of a FIFO N-server queue with exponential patience.

    In FIFO order a caller's start of service depends only on earlier callers, so each
    caller takes the earliest free agent unless its patience runs out first.
    """
    rng = random.Random(seed)
    free_at = [0.0] * n  # heap of the times each agent becomes free
    clock = 0.0
    waited = abandoned = short_abandoned = answered = answered_in_t = 0
    answered_wait = 0.0
    for _ in range(arrivals):
        clock += rng.expovariate(lam)
        tau = rng.expovariate(1 / patience)
        wait = max(free_at[0] - clock, 0.0)
        waited += wait > 0
        if wait > tau:
            abandoned += 1
            short_abandoned += tau < short
        else:
            heapq.heapreplace(free_at, clock + wait + rng.expovariate(1 / aht))
            answered += 1
            answered_wait += wait
            answered_in_t += wait <= t
    return {
        "prob_wait": waited / arrivals,
        "abandon": abandoned / arrivals,
        "short": short_abandoned / arrivals,
        "sl": answered_in_t / arrivals,
        "asa": answered_wait / answered,
    }


def test_erlang_a_matches_simulation():
    # 5 agents, A = 5 erlangs, 2 min patience: about 19 % abandon, half the callers wait.
    n, calls, aht, patience, t, short = 5, 50, 180.0, 120.0, 20.0, 5.0
    sim = simulate_fifo_with_abandonment(n, calls / HALF_HOUR, aht, patience, t, short,
                                         arrivals=200_000, seed=20150328)
    m = erlang.erlang_a_metrics(n, calls, HALF_HOUR, aht, patience, t)
    assert 0.10 < sim["abandon"] < 0.25
    # Tolerances are about 4 standard deviations of 200k-arrival runs (measured over 20
    # seeds: 0.0025 for P(wait) and SL, 0.0015 for abandons, 0.18 s for ASA, 0.0003 short).
    assert m.prob_wait == pytest.approx(sim["prob_wait"], abs=0.01)
    assert m.abandon_rate == pytest.approx(sim["abandon"], abs=0.006)
    assert m.service_level == pytest.approx(sim["sl"], abs=0.01)
    assert m.asa_seconds == pytest.approx(sim["asa"], abs=0.8)
    s = erlang.erlang_a_metrics(n, calls, HALF_HOUR, aht, patience, t, short_abandon_seconds=short)
    assert s.short_abandon_prob == pytest.approx(sim["short"], abs=0.0015)


def test_infinite_patience_reproduces_erlang_c():
    for n, calls in ((13, 100), (11, 100), (60, 500)):
        a = erlang.offered_load(calls, HALF_HOUR, 180)
        m = erlang.erlang_a_metrics(n, calls, HALF_HOUR, 180, 1e9, 20)
        assert m.prob_wait == pytest.approx(float(direct_erlang_c(n, Fraction(a))), abs=1e-5)
        assert m.service_level == pytest.approx(erlang.service_level(n, a, 180, 20), abs=1e-5)
        assert m.asa_seconds == pytest.approx(erlang.asa(n, a, 180), rel=1e-3)
        assert m.abandon_rate < 1e-5
    assert erlang.required_agents_erlang_a(100, HALF_HOUR, 180, 1e9, 0.8, 20) == 14


def test_erlang_a_is_finite_when_agents_cannot_carry_the_load():
    # A = 12 erlangs on 10 agents: Erlang C has no steady state, Erlang A does.
    m = erlang.erlang_a_metrics(10, 120, HALF_HOUR, 180, 120, 20)
    # Agents carry at most N erlangs, so at least 1 − N/A of the callers must abandon.
    assert 1 - 10 / 12 <= m.abandon_rate < 1
    assert 0 < m.service_level < 1 and 0 < m.prob_wait <= 1
    assert m.asa_seconds is not None and 0 < m.asa_seconds < 120
    # Heavy overload: 2 agents, 20 erlangs.
    m = erlang.erlang_a_metrics(2, 200, HALF_HOUR, 180, 60, 20)
    assert m.abandon_rate >= 1 - 2 / 20 and m.prob_wait > 0.99
    assert 0.999 < m.occupancy <= 1.0


# ------------------------------------------------------------------ patience, staffing()


def test_estimate_patience_by_hand():
    # Three answered callers waited 10, 20 and 30 s; three abandoned after 40, 50, 60 s.
    # θ̂ = 3 abandons / 210 s of waiting → mean patience 70 s.
    assert erlang.estimate_patience(3, 10 + 20 + 30 + 40 + 50 + 60) == pytest.approx(70.0)
    assert erlang.estimate_patience(0, 500.0) is None
    with pytest.raises(ValueError):
        erlang.estimate_patience(-1, 10.0)


def test_estimate_patience_recovers_simulated_patience():
    rng = random.Random(7)
    # Callers willing to wait Exp(mean 90 s), each answered after Exp(mean 60 s) if still there.
    abandons, exposure = 0, 0.0
    for _ in range(50_000):
        tau, offered = rng.expovariate(1 / 90), rng.expovariate(1 / 60)
        abandons += tau < offered
        exposure += min(tau, offered)
    assert erlang.estimate_patience(abandons, exposure) == pytest.approx(90.0, rel=0.03)


def test_staffing_result():
    res = erlang.staffing(100, 30, 180, 0.8, 20)
    assert (res.model, res.required_agents, res.agents, res.stable) == ("erlang_c", 14, 14, True)
    assert res.abandon_rate is None
    res = erlang.staffing(100, 30, 180, 0.8, 20, agents=10)
    assert not res.stable and res.service_level == 0.0 and res.asa_seconds is None
    res = erlang.staffing(100, 30, 180, 0.8, 20, patience_seconds=120, agents=10)
    assert res.model == "erlang_a" and res.stable and 0 < res.abandon_rate < 1
    assert res.required_agents == erlang.required_agents_erlang_a(100, HALF_HOUR, 180, 120, 0.8, 20)


# ------------------------------------------------------------------ CLI


def run_cli(*args):
    return CliRunner().invoke(staffing_cmd, [str(a) for a in args])


BASE = ("--calls", 100, "--interval-minutes", 30, "--aht-seconds", 180, "--target-seconds", 20)


@pytest.mark.parametrize("target", ["80", "0.8", "80%"])
def test_cli_textbook_example(target):
    result = run_cli(*BASE, "--target-sl", target)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["required_agents"] == 14 and out["agents"] == 14
    assert out["offered_load_erlangs"] == pytest.approx(10.0)
    assert out["service_level"] == pytest.approx(0.888, abs=5e-4)
    assert out["stable"] is True and out["target_sl"] == pytest.approx(0.8)
    assert "abandon_rate" not in out


def test_cli_given_agents():
    out = json.loads(run_cli(*BASE, "--target-sl", 80, "--agents", 13).stdout)
    assert out["required_agents"] == 14 and out["agents"] == 13
    assert round(out["service_level"], 3) == 0.796
    assert out["occupancy"] == pytest.approx(10 / 13, abs=1e-6)


def test_cli_unstable_load():
    result = run_cli(*BASE, "--agents", 9)
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["stable"] is False and out["service_level"] == 0.0
    assert out["asa_seconds"] is None and out["prob_wait"] == 1.0
    assert "cannot carry" in result.stderr


def test_cli_erlang_a():
    result = run_cli(*BASE, "--patience-seconds", 120, "--agents", 9)
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["stable"] is True and 1 - 9 / 10 <= out["abandon_rate"] < 1
    assert out["asa_seconds"] > 0 and out["patience_seconds"] == 120


@pytest.mark.parametrize("args", [
    ("--calls", -5, "--aht-seconds", 180),
    ("--calls", 100, "--aht-seconds", 180, "--interval-minutes", 0),
    ("--calls", "many", "--aht-seconds", 180),
    ("--aht-seconds", 180),
    ("--calls", 100, "--aht-seconds", 180, "--target-sl", 100),
    ("--calls", 100, "--aht-seconds", 180, "--agents", -1),
    ("--calls", 100, "--aht-seconds", 180, "--patience-seconds", 0),
])
def test_cli_bad_input_exits_2_with_one_line(args):
    result = run_cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:")
