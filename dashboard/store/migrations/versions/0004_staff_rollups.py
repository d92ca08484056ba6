"""rollups for national scale: team presence per quarter hour, agents' logged time per
day, acts per day, contacts per agent and day, e-mail reply-delay bins

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_presence',
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('local_slot', sa.SmallInteger(), nullable=False),
    sa.Column('q_at', sa.DateTime(), nullable=False),
    sa.Column('logged_us', sa.BigInteger(), nullable=False)
    )
    with op.batch_alter_table('rollup_presence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_presence_local_date_site'), ['local_date', 'site'], unique=False)

    op.create_table('rollup_agent_days',
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('logged_us', sa.BigInteger(), nullable=False)
    )
    with op.batch_alter_table('rollup_agent_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_agent_days_local_date_site'), ['local_date', 'site'], unique=False)
        batch_op.create_index(batch_op.f('ix_rollup_agent_days_agent_id_local_date'), ['agent_id', 'local_date'], unique=False)

    op.create_table('rollup_acts',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False)
    )
    with op.batch_alter_table('rollup_acts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_acts_local_date_site'), ['local_date', 'site'], unique=False)


    op.create_table('rollup_agent_acts',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False)
    )
    with op.batch_alter_table('rollup_agent_acts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_agent_acts_local_date_site'), ['local_date', 'site'], unique=False)

    op.create_table('rollup_agents',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=True),
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
    with op.batch_alter_table('rollup_agents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_agents_local_date_site'), ['local_date', 'site'], unique=False)

    op.create_table('rollup_email_flow_daily',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('out_date', sa.Date(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False)
    )
    with op.batch_alter_table('rollup_email_flow_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_email_flow_daily_local_date_site'), ['local_date', 'site'], unique=False)

    op.create_table('rollup_email_hist',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('reply_bin', sa.SmallInteger(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False)
    )
    with op.batch_alter_table('rollup_email_hist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_email_hist_local_date_site'), ['local_date', 'site'], unique=False)

    with op.batch_alter_table('rollup_email_delays', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_bin', sa.SmallInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_rollup_email_delays_reply_bin_local_date'), ['reply_bin', 'local_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rollup_email_delays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_email_delays_reply_bin_local_date'))
        batch_op.drop_column('reply_bin')
    for table, indexes in (
        ('rollup_email_hist', ['ix_rollup_email_hist_local_date_site']),
        ('rollup_email_flow_daily', ['ix_rollup_email_flow_daily_local_date_site']),
        ('rollup_agents', ['ix_rollup_agents_local_date_site']),
        ('rollup_agent_acts', ['ix_rollup_agent_acts_local_date_site']),
        ('rollup_acts', ['ix_rollup_acts_local_date_site']),
        ('rollup_agent_days', ['ix_rollup_agent_days_agent_id_local_date',
                               'ix_rollup_agent_days_local_date_site']),
        ('rollup_presence', ['ix_rollup_presence_local_date_site']),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in indexes:
                batch_op.drop_index(batch_op.f(name))
        op.drop_table(table)
