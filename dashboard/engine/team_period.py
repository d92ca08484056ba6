"""A period's team statistics per cell (site × local date × half-hour): the Erlang
requirement, the time bases and the agents' presence, from which the engine derives the
team measures of every grouping.

None of them depends on the grouping, so the engine computes them once per period and
filters, and shares them between the calls of a page (dashboard.engine.period_cache).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import polars as pl

from dashboard.metrics import sessions as m_sessions
from dashboard.metrics import staffing as m_staffing


class TeamPeriod:
    """Per cell, in both time bases: the slot grid, the required agents and the presence.

    The figures of one time base are derived when a grouping first asks for them, once:
    a page of one kind of grouping (Aujourd'hui: by half-hour) never pays for the other.
    """

    def __init__(self, grids: dict[bool, pl.DataFrame], solved: pl.DataFrame,
                 presence_in: Callable[[bool], pl.DataFrame] | None) -> None:
        self.grids = grids  # metrics.slot_grids: {slot_base: grid}
        self._solved = solved  # metrics.required_from_inputs on the slot base's grid
        self._presence_in = presence_in
        self._derived: dict[tuple[str, bool], pl.DataFrame] = {}
        self._lock = threading.Lock()

    def _once(self, what: str, slot_base: bool, make: Callable[[], pl.DataFrame]
              ) -> pl.DataFrame:
        with self._lock:  # the calls sharing a period may ask at the same time
            key = (what, slot_base)
            if key not in self._derived:
                self._derived[key] = make()
            return self._derived[key]

    def grid(self, slot_base: bool) -> pl.DataFrame:
        """The slot grid with the time base of a grouping by slot (SLOT_BASE) or not."""
        return self.grids[slot_base]

    def required(self, slot_base: bool) -> pl.DataFrame:
        """The required cells, in the time base of a grouping by slot (SLOT_BASE) or not."""
        if slot_base:
            return self._solved
        # Solved once on the slot base, which holds the opening hours' (cells_in_base).
        return self._once("cells", False, lambda: m_staffing.cells_in_base(self._solved,
                                                                  self.grids[False]))

    def presence(self, slot_base: bool) -> pl.DataFrame | None:
        """The presence rows with their time in the base (metrics.base_logged_slots or
        base_logged_quarters), or None when the period was read without presence."""
        if self._presence_in is None:
            return None
        return self._once("logged", slot_base, lambda: self._presence_in(slot_base))


def team_period(
    inputs: pl.DataFrame, grids: dict[bool, pl.DataFrame], targets: pl.DataFrame,
    presence: Callable[[], pl.DataFrame] | None, windows: pl.DataFrame, *,
    on_slots: bool = False,
    first: bool | None = None,
) -> TeamPeriod:
    """The TeamPeriod of the cell inputs INPUTS (metrics.cell_inputs' columns) on GRIDS
    (metrics.slot_grids of the period's open WINDOWS) with TARGETS (see
    metrics.required_cells), and the presence PRESENCE() gives (asked for once the
    requirement is solved: it may be read meanwhile) per half-hour (ON_SLOTS) or per
    quarter hour.

    FIRST: the time base (slot_base) whose figures are derived at once, in the worker that
    reads the period (dashboard.engine.background), rather than by the caller asking for them."""
    solved = m_staffing.required_from_inputs(inputs, grids[True], targets)
    rows = None if presence is None else presence()

    def presence_in(slot_base: bool) -> pl.DataFrame:
        if on_slots:
            return m_sessions.base_logged_slots(rows, grids[False], slot_base=slot_base)
        return m_sessions.base_logged_quarters(rows, windows, slot_base=slot_base)

    period = TeamPeriod(grids, solved, None if presence is None else presence_in)
    if first is not None:
        period.required(first)
        period.presence(first)
    return period
