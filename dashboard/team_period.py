"""A period's team statistics per cell (site × local date × half-hour): the Erlang
requirement, the time bases and the agents' presence, from which the engine derives the
team measures of every grouping.

None of them depends on the grouping, so the engine computes them once per period and
filters, and shares them between the calls of a page (dashboard.period_cache).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dashboard import metrics as m


@dataclass(frozen=True)
class TeamPeriod:
    """Per cell, in both time bases: the slot grid, the required agents and the presence."""

    grids: dict[bool, pl.DataFrame]  # metrics.slot_grids: {slot_base: grid}
    cells: dict[bool, pl.DataFrame]  # metrics.required_from_inputs in each base
    # Presence rows with `base_logged_us` in each base; None when not read.
    logged: dict[bool, pl.DataFrame] | None

    def grid(self, slot_base: bool) -> pl.DataFrame:
        """The slot grid with the time base of a grouping by slot (SLOT_BASE) or not."""
        return self.grids[slot_base]

    def required(self, slot_base: bool) -> pl.DataFrame:
        """The required cells, in the time base of a grouping by slot (SLOT_BASE) or not."""
        return self.cells[slot_base]

    def presence(self, slot_base: bool) -> pl.DataFrame | None:
        """The presence rows with their time in the base (metrics.base_logged_slots or
        base_logged_quarters), or None when the period was read without presence."""
        return None if self.logged is None else self.logged[slot_base]


def team_period(
    inputs: pl.DataFrame, grids: dict[bool, pl.DataFrame], targets: pl.DataFrame,
    presence: pl.DataFrame | None, windows: pl.DataFrame, *, on_slots: bool = False,
) -> TeamPeriod:
    """The TeamPeriod of the cell inputs INPUTS (metrics.cell_inputs' columns) on GRIDS
    (metrics.slot_grids of the period's open WINDOWS) with TARGETS (see
    metrics.required_cells), and PRESENCE per half-hour (ON_SLOTS) or per quarter hour.

    Both bases are computed at once, in the worker that reads the period
    (dashboard.background), rather than by each of the page's calls in turn."""
    # Solved once on the slot base, which holds the opening hours' (cells_in_base).
    solved = m.required_from_inputs(inputs, grids[True], targets)
    cells = {True: solved, False: m.cells_in_base(solved, grids[False])}
    logged = None
    if presence is not None:
        logged = {base: (m.base_logged_slots(presence, grids[False], slot_base=base)
                         if on_slots else
                         m.base_logged_quarters(presence, windows, slot_base=base))
                  for base in (False, True)}
    return TeamPeriod(grids, cells, logged)
