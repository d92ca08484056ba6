"""erlang.required_agents_many and metrics.required_from_inputs against the scalar code.

required_agents_many must give exactly what required_agents gives, element by element,
and required_from_inputs exactly what solving each cell with the scalar functions gives.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import polars as pl
import pytest

from dashboard.metrics import erlang
from dashboard.metrics import staffing as m_staffing


def scalar_many(calls, interval, aht, target, t) -> list[int]:
    return [
        erlang.required_agents(*(float(v) for v in row))
        for row in zip(calls, interval, aht, target, t, strict=True)
    ]


def random_inputs(seed: int, size: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 2001, size).astype(float),
        rng.choice([900.0, 1800.0, 1799.5], size),
        rng.uniform(1.0, 1200.0, size),
        rng.uniform(0.5, 0.95, size),
        rng.uniform(0.0, 120.0, size),
    )


def check(*arrays) -> np.ndarray:
    got = erlang.required_agents_many(*(np.asarray(x, dtype=float) for x in arrays))
    assert got.dtype == np.int64
    assert got.tolist() == scalar_many(*arrays)
    return got


@pytest.mark.parametrize("seed", [0, 1])
def test_many_matches_scalar_on_random_inputs(seed):
    check(*random_inputs(seed, 3000))


def test_many_matches_scalar_on_python_random_inputs():
    rnd = random.Random(42)
    rows = [
        (rnd.randint(0, 2000), rnd.choice([900.0, 1800.0, 1799.5]), rnd.uniform(1, 1200),
         rnd.uniform(0.5, 0.95), float(rnd.randint(0, 120)))
        for _ in range(2000)
    ]
    check(*zip(*rows, strict=True))


def test_many_whatever_numpy_exp_returns(monkeypatch):
    """A numpy exp off by far more than an ulp is caught by the math.exp confirmation."""
    inputs = random_inputs(3, 500)
    expected = scalar_many(*inputs)
    exp = np.exp
    for factor in (0.9, 1.1, 1 - 1e-15, 1 + 1e-15):
        monkeypatch.setattr(np, "exp", lambda x, f=factor: exp(x) * f)
        assert erlang.required_agents_many(*inputs).tolist() == expected


def test_many_edge_cases():
    # Zero calls, tiny loads, whole-number loads, a zero threshold, targets at the edges.
    check([0, 0, 1, 1e-9, 3, 1800, 900, 5],
          [1800, 900, 1800, 1800, 1799.5, 1800, 900, 1800],
          [300, 1, 1, 1200, 0.001, 1, 2, 60],
          [0.8, 0.5, 0.8, 0.95, 0.999, 0.8, 0.5, 1e-9],
          [20, 0, 20, 120, 1, 0, 0, 1e9])
    # Loads of several thousand erlangs, alone, together and among small ones (both the
    # numpy prefix and the plain-Python tail of the Erlang B recursion).
    big = [20000, 36000, 50000, 27000]
    check(big, [1800] * 4, [600, 300, 360, 400], [0.8, 0.9, 0.95, 0.5], [20, 60, 0, 120])
    check([30000], [1800], [300], [0.8], [20])
    calls, interval, aht, target, t = random_inputs(5, 300)
    calls[::10] = 20000 + np.arange(30) * 300
    check(calls, interval, aht, target, t)
    # A single element, and empty arrays.
    assert erlang.required_agents_many([120], [1800], [300], [0.8], [20]).tolist() == [
        erlang.required_agents(120, 1800, 300, 0.8, 20)
    ]
    empty = erlang.required_agents_many(*(np.array([], dtype=float),) * 5)
    assert empty.dtype == np.int64 and empty.shape == (0,)


@pytest.mark.parametrize(
    "bad",
    [
        (-1.0, 1800, 300, 0.8, 20),
        (float("nan"), 1800, 300, 0.8, 20),
        (float("inf"), 1800, 300, 0.8, 20),
        (10, 0, 300, 0.8, 20),
        (10, -1800, 300, 0.8, 20),
        (10, 1800, 0, 0.8, 20),
        (10, 1800, float("inf"), 0.8, 20),
        (10, 1800, float("nan"), 0.8, 20),
        (10, 1800, 300, 0.0, 20),
        (10, 1800, 300, 1.0, 20),
        (10, 1800, 300, float("nan"), 20),
        (10, 1800, 300, 0.8, -1),
        (10, 1800, 300, 0.8, float("inf")),
        (0, 1800, 300, 1.5, 20),  # invalid even without load, as in required_agents
    ],
)
def test_many_rejects_what_the_scalar_rejects(bad):
    with pytest.raises(ValueError) as scalar:
        erlang.required_agents(*bad)
    good = (100, 1800, 300, 0.8, 20)
    arrays = [np.array([g, b, g], dtype=float) for g, b in zip(good, bad, strict=True)]
    with pytest.raises(ValueError) as many:
        erlang.required_agents_many(*arrays)
    assert str(many.value) == str(scalar.value)


def test_many_rejects_mismatched_arrays():
    with pytest.raises(ValueError):
        erlang.required_agents_many([1, 2], [1800], [300], [0.8], [20])
    with pytest.raises(ValueError):
        erlang.required_agents_many(*(np.ones((2, 2)),) * 5)


# ------------------------------------------------------------------ required_from_inputs

DAY = dt.date(2024, 3, 4)
SLOT_US = 1800 * 1_000_000


def cells_frame(rows) -> pl.DataFrame:
    """(site, slot, calls, handle seconds, answered, threshold) → cell inputs."""
    return pl.DataFrame(
        [(s, DAY, slot, c, h, n, t) for s, slot, c, h, n, t in rows],
        schema={"site": pl.String, "local_date": pl.Date, "local_slot": pl.Int16,
                "calls": pl.Int64, "_h": pl.Float64, "_n": pl.Int64, "_t": pl.Float64},
        orient="row",
    )


def grid_frame(sites, slots) -> pl.DataFrame:
    rows = [(s, DAY, slot, SLOT_US, 0 if slot == 7 else SLOT_US // 2)
            for s in sites for slot in slots]
    return pl.DataFrame(
        rows, orient="row",
        schema={"site": pl.String, "local_date": pl.Date, "local_slot": pl.Int16,
                "dur_us": pl.Int64, "base_us": pl.Int64},
    )


TARGETS = pl.DataFrame(
    {"site": ["C", "A", "Z"], "sl_target": [0.8, 0.9, 0.85],
     "patience_s": [None, 120.0, None]},
    schema={"site": pl.String, "sl_target": pl.Float64, "patience_s": pl.Float64},
)


def scalar_reference(cells, grid, targets) -> pl.DataFrame:
    """required_from_inputs's frame, its `required` and `unknown` solved cell by cell."""
    out = m_staffing.required_from_inputs(cells, grid, targets)
    keys = ["site", "local_date", "local_slot"]
    joined = out.join(cells.select(*keys, "_t"), on=keys, how="left").join(
        grid.select(*keys, "dur_us"), on=keys, how="left").join(targets, on="site", how="left")
    required = []
    for row in joined.iter_rows(named=True):
        interval = (row["dur_us"] or 0) / 1e6
        if row["calls"] == 0:
            required.append(0)
        elif row["base_us"] > 0 and interval > 0:
            aht, patience = row["aht_seconds"], row["patience_s"]
            if aht is None:
                required.append(None)
            elif aht <= 0:
                required.append(0)
            elif patience is None:
                required.append(erlang.required_agents(
                    row["calls"], interval, aht, row["sl_target"], row["_t"]))
            else:
                required.append(erlang.required_agents_erlang_a(
                    row["calls"], interval, aht, patience, row["sl_target"], row["_t"]))
        else:
            required.append(None)
    return out.with_columns(pl.Series("required", required, dtype=pl.Int64)).with_columns(
        ((pl.col("base_us") > 0) & (pl.col("calls") > 0) & pl.col("required").is_null())
        .alias("unknown")
    )


def test_required_from_inputs_matches_the_scalar_functions():
    cells = cells_frame([
        ("C", 1, 120, 120 * 300.0, 120, 20.0),  # Erlang C
        ("C", 2, 40, 0.0, 0, 20.0),  # no answered call: the site's AHT
        ("C", 3, 0, 0.0, 0, 20.0),  # no offered call
        ("C", 4, 700, 700 * 250.0, 690, 60.0),
        ("C", 5, 120, 120 * 300.0, 120, 20.0),  # same inputs as slot 1
        ("C", 7, 50, 50 * 200.0, 50, 20.0),  # outside the base
        ("C", 9, 50, 50 * 200.0, 50, 20.0),  # not in the grid
        ("A", 1, 120, 120 * 300.0, 120, 20.0),  # Erlang A, same inputs as a C cell
        ("A", 2, 30, 30 * 180.0, 30, 0.0),
        ("Z", 1, 25, 0.0, 25, 20.0),  # zero AHT
        ("Z", 2, 10, 0.0, 10, 20.0),
    ])
    grid = grid_frame(["C", "A", "Z"], [1, 2, 3, 4, 5, 7])
    got = m_staffing.required_from_inputs(cells, grid, TARGETS)
    expected = scalar_reference(cells, grid, TARGETS)
    assert got.sort("site", "local_slot").equals(expected.sort("site", "local_slot"))
    required = dict(zip(zip(got["site"], got["local_slot"]), got["required"], strict=True))
    assert required[("C", 1)] == required[("C", 5)] == erlang.required_agents(
        120, 1800.0, 300.0, 0.8, 20.0)
    assert required[("A", 1)] is not None and required[("Z", 1)] == 0
    assert required[("C", 7)] is None and required[("C", 9)] is None


def test_required_from_inputs_without_any_handle_time():
    cells = cells_frame([
        ("C", 1, 40, 0.0, 0, 20.0),  # no AHT anywhere: unknown
        ("A", 1, 30, 0.0, 0, 20.0),
        ("C", 2, 0, 0.0, 0, 20.0),
    ])
    grid = grid_frame(["C", "A"], [1, 2])
    got = m_staffing.required_from_inputs(cells, grid, TARGETS)
    expected = scalar_reference(cells, grid, TARGETS)
    assert got.sort("site", "local_slot").equals(expected.sort("site", "local_slot"))
    assert got.filter(pl.col("calls") > 0)["required"].null_count() == 2
    assert got["unknown"].sum() == 2
