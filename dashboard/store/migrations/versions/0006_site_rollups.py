"""rollups per site only: rollup_site_days and rollup_site_slots (national views over long
periods, Erlang cells). Created empty: the rollups' definition changes (version 3), so the
engine reads the raw rows until `python -m dashboard rollups rebuild` fills them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 22:11:53.888732
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_site_days',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('wait_n', sa.Integer(), nullable=False),
    sa.Column('wait_sum', sa.BigInteger(), nullable=False),
    sa.Column('wait_max', sa.Integer(), nullable=True),
    sa.Column('handle_sum', sa.BigInteger(), nullable=False),
    sa.Column('in_sl', sa.Integer(), nullable=False),
    sa.Column('short', sa.Integer(), nullable=False),
    sa.Column('long_wait_sum', sa.BigInteger(), nullable=False),
    sa.Column('long_wait_n', sa.Integer(), nullable=False),
    sa.Column('handled', sa.Integer(), nullable=False),
    sa.Column('promoted', sa.Integer(), nullable=False),
    sa.Column('with_key', sa.Integer(), nullable=False),
    sa.Column('repeats', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.Column('within_48h', sa.Integer(), nullable=False),
    sa.Column('within_5wd', sa.Integer(), nullable=False)
    )
    with op.batch_alter_table('rollup_site_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_site_days_local_date_site'), ['local_date', 'site'], unique=False)

    op.create_table('rollup_site_slots',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('local_slot', sa.SmallInteger(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('wait_n', sa.Integer(), nullable=False),
    sa.Column('wait_sum', sa.BigInteger(), nullable=False),
    sa.Column('wait_max', sa.Integer(), nullable=True),
    sa.Column('handle_sum', sa.BigInteger(), nullable=False),
    sa.Column('in_sl', sa.Integer(), nullable=False),
    sa.Column('short', sa.Integer(), nullable=False),
    sa.Column('long_wait_sum', sa.BigInteger(), nullable=False),
    sa.Column('long_wait_n', sa.Integer(), nullable=False),
    sa.Column('handled', sa.Integer(), nullable=False),
    sa.Column('promoted', sa.Integer(), nullable=False),
    sa.Column('with_key', sa.Integer(), nullable=False),
    sa.Column('repeats', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.Column('within_48h', sa.Integer(), nullable=False),
    sa.Column('within_5wd', sa.Integer(), nullable=False)
    )
    with op.batch_alter_table('rollup_site_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_site_slots_local_date_site'), ['local_date', 'site'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rollup_site_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_site_slots_local_date_site'))

    op.drop_table('rollup_site_slots')
    with op.batch_alter_table('rollup_site_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_site_days_local_date_site'))

    op.drop_table('rollup_site_days')
