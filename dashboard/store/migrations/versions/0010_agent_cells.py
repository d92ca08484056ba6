"""rollup_agent_cells: rollup_agents' statistics per local date × site × agent, already
taken per channel and outcome (as rollup_cells is of rollup_site_slots). Filled from
rollup_agents with the sums a rebuild computes: no rebuild needed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 11:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_BIG = ('ph_answered_wait_sum', 'ph_handle_sum', 'ph_long_abandon_wait_sum')
# Each statistic: (rollup_agents' column, channel or None, outcomes or None) — the rules
# of queries.rollups._COARSE_STATS, written out: a migration never follows later code.
_STATS = {
    'ph_received': ('n', 'phone', None),
    'ph_deflected': ('n', 'phone', ('deflected',)),
    'ph_answered': ('n', 'phone', ('answered',)),
    'ph_abandoned': ('n', 'phone', ('abandoned',)),
    'ph_short_abandoned': ('short', 'phone', ('abandoned',)),
    'ph_answered_in_sl': ('in_sl', 'phone', ('answered',)),
    'ph_answered_wait_sum': ('wait_sum', 'phone', ('answered',)),
    'ph_answered_wait_n': ('wait_n', 'phone', ('answered',)),
    'ph_handle_sum': ('handle_sum', 'phone', ('answered',)),
    'ph_long_abandon_wait_sum': ('long_wait_sum', 'phone', ('abandoned',)),
    'ph_long_abandon_wait_n': ('long_wait_n', 'phone', ('abandoned',)),
    'em_received': ('n', 'email', None),
    'em_replied': ('replied', 'email', None),
    'em_within_48h': ('within_48h', 'email', None),
    'em_within_5wd': ('within_5wd', 'email', None),
    'hd_handled': ('handled', None, None),
    'hd_promoted': ('promoted', None, None),
    'hd_with_key': ('with_key', None, None),
    'hd_repeat': ('repeats', None, None),
}


def _picked(column: str, channel, outcomes) -> str:
    conds = []
    if channel is not None:
        conds.append(f"channel = '{channel}'")
    if outcomes is not None:
        conds.append(f"outcome IN ({', '.join(repr(o) for o in outcomes)})")
    if not conds:
        return f'SUM({column})'
    return f"SUM(CASE WHEN {' AND '.join(conds)} THEN {column} ELSE 0 END)"


def upgrade() -> None:
    op.create_table('rollup_agent_cells',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=True),
    *[sa.Column(name, sa.BigInteger() if name in _BIG else sa.Integer(), nullable=False)
      for name in _STATS],
    sa.Column('ph_max_wait', sa.Integer(), nullable=True),
    )
    op.create_index(op.f('ix_rollup_agent_cells_local_date_site'), 'rollup_agent_cells',
                    ['local_date', 'site'], unique=False)
    sums = ', '.join(_picked(*rule) for rule in _STATS.values())
    longest = ("MAX(CASE WHEN channel = 'phone' AND outcome IN ('answered', 'abandoned') "
               "THEN wait_max END)")
    op.execute(
        f"INSERT INTO rollup_agent_cells (local_date, site, agent_id, {', '.join(_STATS)}, "
        f"ph_max_wait) SELECT local_date, site, agent_id, {sums}, {longest} "
        f"FROM rollup_agents GROUP BY local_date, site, agent_id")
    op.execute('ANALYZE rollup_agent_cells')


def downgrade() -> None:
    op.drop_index(op.f('ix_rollup_agent_cells_local_date_site'),
                  table_name='rollup_agent_cells')
    op.drop_table('rollup_agent_cells')
