"""rollup_presence_slots: the agents' logged-in time per site × local date × half-hour
(rollup_presence summed per slot), what the team measures read when the opening hours
fall on half-hours. Filled here from rollup_presence, which holds the same time per
quarter hour, so the staff rollups stay complete: no rebuild needed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_presence_slots',
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('local_slot', sa.SmallInteger(), nullable=False),
    sa.Column('logged_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('local_date', 'site', 'local_slot', name=op.f('pk_rollup_presence_slots')),
    sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO rollup_presence_slots (site, local_date, local_slot, logged_us) "
        "SELECT site, local_date, local_slot, SUM(logged_us) FROM rollup_presence "
        "GROUP BY site, local_date, local_slot"
    )
    op.execute("ANALYZE rollup_presence_slots")


def downgrade() -> None:
    op.drop_table('rollup_presence_slots')
