"""Planned shifts (issue 22): the `schedules` import kind that schedule adherence compares
with the agents' sessions. A new table only, no stored figure changes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('schedules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('shift_id', sa.String(length=128), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('start_at', sa.DateTime(), nullable=False),
    sa.Column('end_at', sa.DateTime(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('activity', sa.String(length=16), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("activity IS NULL OR activity IN ('telephone', 'courriel', 'pause', 'formation')", name=op.f('ck_schedules_activity')),
    sa.CheckConstraint('end_at > start_at', name=op.f('ck_schedules_end_after_start')),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_schedules_site_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules')),
    sa.UniqueConstraint('source', 'shift_id', name=op.f('uq_schedules_source_shift_id'))
    )
    op.create_index(op.f('ix_schedules_agent_id_local_date'), 'schedules', ['agent_id', 'local_date'], unique=False)
    op.create_index(op.f('ix_schedules_site_local_date'), 'schedules', ['site', 'local_date'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_schedules_site_local_date'), table_name='schedules')
    op.drop_index(op.f('ix_schedules_agent_id_local_date'), table_name='schedules')
    op.drop_table('schedules')
