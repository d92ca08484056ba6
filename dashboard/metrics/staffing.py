"""Staffing with Erlang: the agents each cell (site × local date × slot) required for its
site's service-level target, and their time-weighted mean over the time base.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dashboard.metrics import erlang
from dashboard.metrics.grouping import aggregate, cast_stats, merge_stats


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
    return cast_stats(aggregate(cells, by, [
        (pl.col("required").fill_null(0) * pl.col("base_us")).sum().alias("st_required_us"),
        pl.col("unknown").sum().alias("st_required_unknown"),
    ]))


def attach_base(stats: pl.DataFrame, base: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """STATS (merge_stats) plus `st_base_us` of BASE for their groups, adding no group."""
    if not by:
        return merge_stats([stats, base], ())
    return stats.join(base, on=list(by), how="left", nulls_equal=True)
