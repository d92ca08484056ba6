"""Threshold alerts (issue 23): the per-site thresholds (reference data) and the alerts
they opened and closed. New tables only, no stored figure changes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_thresholds',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('metric', sa.String(length=16), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('minutes', sa.Integer(), server_default='60', nullable=False),
    sa.CheckConstraint("metric IN ('answer_rate', 'service_level', 'backlog', 'staffing_gap')", name=op.f('ck_alert_thresholds_metric')),
    sa.CheckConstraint('minutes >= 30 AND minutes <= 240 AND minutes % 30 = 0', name=op.f('ck_alert_thresholds_minutes')),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_alert_thresholds_site_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_thresholds')),
    sa.UniqueConstraint('site', 'metric', name=op.f('uq_alert_thresholds_site_metric'))
    )
    op.create_table('alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('metric', sa.String(length=16), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('opened_slot', sa.SmallInteger(), nullable=False),
    sa.Column('opened_value', sa.Float(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closed_slot', sa.SmallInteger(), nullable=True),
    sa.Column('closed_value', sa.Float(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("metric IN ('answer_rate', 'service_level', 'backlog', 'staffing_gap')", name=op.f('ck_alerts_metric')),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_alerts_site_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('site', 'metric', 'local_date', 'opened_slot', name=op.f('uq_alerts_site_metric_local_date_opened_slot'))
    )
    op.create_index(op.f('ix_alerts_local_date_site'), 'alerts', ['local_date', 'site'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_alerts_local_date_site'), table_name='alerts')
    op.drop_table('alerts')
    op.drop_table('alert_thresholds')
