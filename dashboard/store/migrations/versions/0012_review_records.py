"""The review's other records (spec/review-data.md): local services' reception, users'
survey answers (and their rollup), the staff barometer, tool incidents and training, and
the targets of the review's four objectives. New tables only: no stored figure changes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:37:13
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_surveys',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('resolved_given', sa.Integer(), nullable=False)
    )
    with op.batch_alter_table('rollup_surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_surveys_local_date_site'), ['local_date', 'site'], unique=False)
    op.create_table('objectives',
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('partial_target', sa.Float(), nullable=False),
    sa.CheckConstraint("key IN ('service', 'efficiency', 'acts', 'relief')", name=op.f('ck_objectives_key')),
    sa.CheckConstraint('partial_target <= target', name=op.f('ck_objectives_partial_below_target')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_objectives'))
    )
    op.create_table('local_reception',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.String(length=128), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('service', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('handled', sa.Integer(), nullable=True),
    sa.Column('staff_hours', sa.Float(), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("channel IN ('guichet', 'telephone', 'courriel', 'courrier')", name=op.f('ck_local_reception_channel')),
    sa.CheckConstraint('received >= 0 AND (handled IS NULL OR handled >= 0) AND (staff_hours IS NULL OR staff_hours >= 0)', name=op.f('ck_local_reception_counts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_local_reception')),
    sa.UniqueConstraint('source', 'record_id', name=op.f('uq_local_reception_source_record_id'))
    )
    with op.batch_alter_table('local_reception', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_local_reception_department_day'), ['department', 'day'], unique=False)

    op.create_table('training',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.String(length=128), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('module', sa.String(length=64), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('hours > 0', name=op.f('ck_training_hours')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training')),
    sa.UniqueConstraint('source', 'record_id', name=op.f('uq_training_source_record_id'))
    )
    with op.batch_alter_table('training', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_agent_id_day'), ['agent_id', 'day'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.String(length=128), nullable=False),
    sa.Column('component', sa.String(length=16), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=True),
    sa.Column('start_at', sa.DateTime(), nullable=False),
    sa.Column('end_at', sa.DateTime(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("component IN ('telephonie', 'messagerie', 'applications')", name=op.f('ck_incidents_component')),
    sa.CheckConstraint("severity IN ('panne', 'degrade')", name=op.f('ck_incidents_severity')),
    sa.CheckConstraint('end_at >= start_at', name=op.f('ck_incidents_end_after_start')),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_incidents_site_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('source', 'incident_id', name=op.f('uq_incidents_source_incident_id'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_local_date'), ['local_date'], unique=False)

    op.create_table('staff_surveys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('response_id', sa.String(length=128), nullable=False),
    sa.Column('wave', sa.Date(), nullable=False),
    sa.Column('population', sa.String(length=16), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=True),
    sa.Column('department', sa.String(length=3), nullable=True),
    sa.Column('tools', sa.SmallInteger(), nullable=True),
    sa.Column('training', sa.SmallInteger(), nullable=True),
    sa.Column('workload', sa.SmallInteger(), nullable=True),
    sa.Column('acts_scope', sa.SmallInteger(), nullable=True),
    sa.Column('overall', sa.SmallInteger(), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("population IN ('centre_agent', 'centre_manager', 'local_agent', 'local_manager')", name=op.f('ck_staff_surveys_population')),
    sa.CheckConstraint('(tools IS NULL OR tools BETWEEN 1 AND 5) AND (training IS NULL OR training BETWEEN 1 AND 5) AND (workload IS NULL OR workload BETWEEN 1 AND 5) AND (acts_scope IS NULL OR acts_scope BETWEEN 1 AND 5) AND (overall IS NULL OR overall BETWEEN 1 AND 5)', name=op.f('ck_staff_surveys_answers')),
    sa.CheckConstraint('site IS NOT NULL OR department IS NOT NULL', name=op.f('ck_staff_surveys_where')),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_staff_surveys_site_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_surveys')),
    sa.UniqueConstraint('source', 'response_id', name=op.f('uq_staff_surveys_source_response_id'))
    )
    with op.batch_alter_table('staff_surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_surveys_wave'), ['wave'], unique=False)

    op.create_table('surveys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('response_id', sa.String(length=128), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('satisfaction', sa.SmallInteger(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('knew_number', sa.Boolean(), nullable=True),
    sa.Column('contact_id', sa.String(length=128), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("channel IN ('phone', 'email')", name=op.f('ck_surveys_channel')),
    sa.CheckConstraint('satisfaction BETWEEN 1 AND 5', name=op.f('ck_surveys_satisfaction')),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_surveys_site_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('source', 'response_id', name=op.f('uq_surveys_source_response_id'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surveys_site_local_date'), ['site', 'local_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_surveys_source_contact_id'), ['source', 'contact_id'], unique=False)



def downgrade() -> None:
    op.execute("DELETE FROM app_meta WHERE key = 'rollups_surveys'")
    with op.batch_alter_table('rollup_surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_surveys_local_date_site'))
    op.drop_table('rollup_surveys')
    op.drop_table('objectives')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surveys_source_contact_id'))
        batch_op.drop_index(batch_op.f('ix_surveys_site_local_date'))

    op.drop_table('surveys')
    with op.batch_alter_table('staff_surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_surveys_wave'))

    op.drop_table('staff_surveys')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_local_date'))

    op.drop_table('incidents')
    with op.batch_alter_table('training', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_agent_id_day'))

    op.drop_table('training')
    with op.batch_alter_table('local_reception', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_local_reception_department_day'))

    op.drop_table('local_reception')
