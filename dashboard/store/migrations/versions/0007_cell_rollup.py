"""rollup_cells: the contact statistics per site × local date × half-hour, already taken
per channel and outcome (team pages over long periods, Erlang cell inputs). Created empty:
the rollups' definition changes (version 4), so the engine reads the raw rows until
`python -m dashboard rollups rebuild` fills them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 01:05:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_cells',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('local_slot', sa.SmallInteger(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('ph_received', sa.Integer(), nullable=False),
    sa.Column('ph_deflected', sa.Integer(), nullable=False),
    sa.Column('ph_answered', sa.Integer(), nullable=False),
    sa.Column('ph_abandoned', sa.Integer(), nullable=False),
    sa.Column('ph_short_abandoned', sa.Integer(), nullable=False),
    sa.Column('ph_answered_in_sl', sa.Integer(), nullable=False),
    sa.Column('ph_answered_wait_sum', sa.BigInteger(), nullable=False),
    sa.Column('ph_answered_wait_n', sa.Integer(), nullable=False),
    sa.Column('ph_handle_sum', sa.BigInteger(), nullable=False),
    sa.Column('ph_long_abandon_wait_sum', sa.BigInteger(), nullable=False),
    sa.Column('ph_long_abandon_wait_n', sa.Integer(), nullable=False),
    sa.Column('em_received', sa.Integer(), nullable=False),
    sa.Column('em_replied', sa.Integer(), nullable=False),
    sa.Column('em_within_48h', sa.Integer(), nullable=False),
    sa.Column('em_within_5wd', sa.Integer(), nullable=False),
    sa.Column('hd_handled', sa.Integer(), nullable=False),
    sa.Column('hd_promoted', sa.Integer(), nullable=False),
    sa.Column('hd_with_key', sa.Integer(), nullable=False),
    sa.Column('hd_repeat', sa.Integer(), nullable=False),
    sa.Column('ph_max_wait', sa.Integer(), nullable=True)
    )
    with op.batch_alter_table('rollup_cells', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_cells_local_date_site'), ['local_date', 'site'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rollup_cells', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_cells_local_date_site'))

    op.drop_table('rollup_cells')
