"""Campaign deadlines as reference data (the dates inside a campaign that drive its load,
read by the forecast): a new table only, no stored figure changes. `reference load`
fills it from the reference file.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 22:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deadlines',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('campaign', sa.String(length=100), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=True),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['campaign'], ['campaigns.name'], name=op.f('fk_deadlines_campaign_campaigns'), onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadlines')),
    sa.UniqueConstraint('campaign', 'day', 'department', name=op.f('uq_deadlines_campaign_day_department'))
    )


def downgrade() -> None:
    op.drop_table('deadlines')
