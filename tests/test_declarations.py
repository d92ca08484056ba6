"""The contact statistics and the rollup grains are declared once; what derives from them
agrees with them (dashboard.core.contact_stats, store.schema's Table.info["grain"])."""

from __future__ import annotations

import polars as pl

from dashboard.core.contact_stats import CONTACT_STATS, PHONE_STATS, raw_phone_agg
from dashboard.engine import rollups
from dashboard.metrics.definitions import STATS_BY_NAME
from dashboard.store import schema
from queries import rollups as q_rollups


def test_every_contact_statistic_is_a_summed_stat_of_the_registry():
    for stat in CONTACT_STATS:
        assert STATS_BY_NAME[stat.name].merge == "sum", stat.name
    assert schema.CONTACT_SUMS == tuple(s.name for s in CONTACT_STATS)


def test_each_coarse_rollup_has_its_declared_grain_then_every_coarse_column():
    for name in rollups._COARSE:
        table = rollups.TABLE_BY_NAME[name]
        grain = table.info["grain"]
        columns = [c.name for c in table.c]
        assert tuple(columns[:len(grain)]) == grain, name
        for stat in CONTACT_STATS:
            assert stat.coarse in columns, (name, stat.coarse)
    for table in (schema.rollup_cells, schema.rollup_agent_cells):
        columns = [c.name for c in table.c]
        assert tuple(columns[:len(table.info["grain"])]) == table.info["grain"]
        assert set(schema.CONTACT_SUMS) <= set(columns)


def test_the_table_choice_reads_the_declared_grains():
    assert q_rollups.SITE_GRAIN == {"local_date", "local_slot", "site", "channel", "outcome"}
    assert q_rollups.CELL_GRAIN == {"local_date", "local_slot", "site"}
    assert q_rollups.AGENT_CELL_GRAIN == {"local_date", "site", "agent_id"}


def test_phone_statistics_from_the_declarations_by_hand():
    # SL 20 s, short abandon 5 s. Answered: waits 10 (in SL), 30, unknown; abandoned:
    # waits 3 (short), 40 (long), unknown (neither); one deflected call; two calls that
    # ended in the voice server (wait 0, in no other count: not received, not short).
    calls = pl.DataFrame({
        "outcome": ["answered", "answered", "answered", "abandoned", "abandoned",
                    "abandoned", "deflected", "ivr", "ivr"],
        "wait_seconds": [10, 30, None, 3, 40, None, None, 0, 0],
        "handle_seconds": [100, 200, 50, None, None, None, None, 0, 0],
        "sl_s": [20] * 9, "short_s": [5] * 9,
    })
    got = calls.select(raw_phone_agg(s, pl.col("sl_s"), pl.col("short_s"))
                       for s in PHONE_STATS).row(0, named=True)
    assert got == {
        "ph_received": 7, "ph_ivr": 2, "ph_deflected": 1, "ph_answered": 3, "ph_abandoned": 3,
        "ph_short_abandoned": 1, "ph_answered_in_sl": 1,
        "ph_answered_wait_sum": 40, "ph_answered_wait_n": 2, "ph_handle_sum": 350,
        "ph_long_abandon_wait_sum": 40, "ph_long_abandon_wait_n": 1,
    }
