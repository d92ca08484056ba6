"""A period's team statistics per cell (site × local date × half-hour): the Erlang
requirement, the time bases and the agents' presence, from which the engine derives the
team measures of every grouping.

None of them depends on the grouping, so the engine computes them once per period and
filters, and shares them between the calls of a page (dashboard.period_cache).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from dashboard import metrics as m


@dataclass(frozen=True)
class TeamPeriod:
    """Per cell: the slot grids of both time bases, the required agents and the presence."""

    grids: dict[bool, pl.DataFrame]  # metrics.slot_grids: {slot_base: grid}
    cells: pl.DataFrame  # metrics.required_from_inputs, solved on the slot base's grid
    presence: pl.DataFrame | None  # rollup_presence rows, None when not read

    def grid(self, slot_base: bool) -> pl.DataFrame:
        """The slot grid with the time base of a grouping by slot (SLOT_BASE) or not."""
        return self.grids[slot_base]

    def required(self, slot_base: bool) -> pl.DataFrame:
        """The required cells, in the time base of a grouping by slot (SLOT_BASE) or not."""
        if slot_base:
            return self.cells
        return m.cells_in_base(self.cells, self.grids[False])


def team_period(
    inputs: pl.DataFrame, hours: pl.DataFrame, windows: pl.DataFrame, targets: pl.DataFrame,
    start: dt.date, end: dt.date, presence: pl.DataFrame | None,
) -> TeamPeriod:
    """The TeamPeriod of the cell inputs INPUTS (metrics.cell_inputs' columns) of START..END,
    with the sites' HOURS, their open WINDOWS and TARGETS (see metrics.required_cells)."""
    grids = m.slot_grids(hours, windows, start, end)
    # Solved once on the slot base, which holds the opening hours' (cells_in_base).
    return TeamPeriod(grids, m.required_from_inputs(inputs, grids[True], targets), presence)
