"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 16:09:03.288480
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('name', name=op.f('uq_campaigns_name'))
    )
    op.create_table('departments',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_departments'))
    )
    op.create_table('imports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('imported_by', sa.String(length=128), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('rows_read', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows_inserted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows_updated', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows_unchanged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows_rejected', sa.Integer(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('quarantine_path', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    op.create_table('sites',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('timezone', sa.String(length=64), server_default='Europe/Paris', nullable=False),
    sa.Column('opens_at', sa.String(length=5), server_default='08:30', nullable=False),
    sa.Column('closes_at', sa.String(length=5), server_default='17:30', nullable=False),
    sa.Column('open_weekdays', sa.String(length=7), server_default='12345', nullable=False),
    sa.Column('sl_seconds', sa.Integer(), nullable=True),
    sa.Column('short_abandon_seconds', sa.Integer(), nullable=True),
    sa.Column('sl_target', sa.Float(), nullable=True),
    sa.Column('answer_rate_target', sa.Float(), nullable=True),
    sa.Column('email_48h_target', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_sites'))
    )
    op.create_table('acts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('act_id', sa.String(length=128), nullable=False),
    sa.Column('performed_at', sa.DateTime(), nullable=False),
    sa.Column('act_type', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.String(length=128), nullable=True),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('local_slot', sa.SmallInteger(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('local_slot BETWEEN 0 AND 47', name=op.f('ck_acts_slot')),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_acts_site_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acts')),
    sa.UniqueConstraint('source', 'act_id', name=op.f('uq_acts_source_act_id'))
    )
    with op.batch_alter_table('acts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acts_agent_id_local_date'), ['agent_id', 'local_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_acts_local_date_site'), ['local_date', 'site'], unique=False)

    op.create_table('agent_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('start_at', sa.DateTime(), nullable=False),
    sa.Column('end_at', sa.DateTime(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('end_at >= start_at', name=op.f('ck_agent_sessions_end_after_start')),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_agent_sessions_site_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_sessions')),
    sa.UniqueConstraint('source', 'agent_id', 'start_at', name=op.f('uq_agent_sessions_source_agent_id_start_at'))
    )
    with op.batch_alter_table('agent_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_sessions_agent_id_local_date'), ['agent_id', 'local_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_sessions_site_local_date'), ['site', 'local_date'], unique=False)

    op.create_table('agents',
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=True),
    sa.Column('team', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('source', sa.String(length=64), server_default='manual', nullable=False),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_agents_site_sites')),
    sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_agents'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('wait_seconds', sa.Integer(), nullable=True),
    sa.Column('talk_seconds', sa.Integer(), server_default='0', nullable=False),
    sa.Column('wrap_seconds', sa.Integer(), server_default='0', nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=True),
    sa.Column('online_service_promoted', sa.Boolean(), nullable=True),
    sa.Column('caller_key', sa.String(length=64), nullable=True),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('local_slot', sa.SmallInteger(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(channel = 'phone' AND outcome IN ('answered', 'abandoned', 'deflected')) OR (channel = 'email' AND outcome IN ('replied', 'pending', 'closed'))", name=op.f('ck_contacts_outcome')),
    sa.CheckConstraint("channel IN ('phone', 'email')", name=op.f('ck_contacts_channel')),
    sa.CheckConstraint('(wait_seconds IS NULL OR wait_seconds >= 0) AND talk_seconds >= 0 AND wrap_seconds >= 0', name=op.f('ck_contacts_durations')),
    sa.CheckConstraint('local_slot BETWEEN 0 AND 47', name=op.f('ck_contacts_slot')),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_contacts_site_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('source', 'contact_id', name=op.f('uq_contacts_source_contact_id'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_agent_id_local_date'), ['agent_id', 'local_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_caller_key_received_at'), ['caller_key', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_channel_received_at'), ['channel', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_local_date_site_channel'), ['local_date', 'site', 'channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_site_department_local_date'), ['site', 'department', 'local_date'], unique=False)

    op.create_table('coverage',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_coverage_site_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage')),
    sa.UniqueConstraint('site', 'department', 'start_date', name=op.f('uq_coverage_site_department_start_date'))
    )
    op.create_table('users',
    sa.Column('login', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=True),
    sa.Column('agent_id', sa.String(length=64), nullable=True),
    sa.Column('display_name', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.CheckConstraint("role IN ('agent', 'supervisor', 'national', 'admin')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_users_site_sites')),
    sa.PrimaryKeyConstraint('login', name=op.f('pk_users'))
    )
    


def downgrade() -> None:
    
    op.drop_table('users')
    op.drop_table('coverage')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_site_department_local_date'))
        batch_op.drop_index(batch_op.f('ix_contacts_local_date_site_channel'))
        batch_op.drop_index(batch_op.f('ix_contacts_channel_received_at'))
        batch_op.drop_index(batch_op.f('ix_contacts_caller_key_received_at'))
        batch_op.drop_index(batch_op.f('ix_contacts_agent_id_local_date'))

    op.drop_table('contacts')
    op.drop_table('agents')
    with op.batch_alter_table('agent_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_sessions_site_local_date'))
        batch_op.drop_index(batch_op.f('ix_agent_sessions_agent_id_local_date'))

    op.drop_table('agent_sessions')
    with op.batch_alter_table('acts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acts_local_date_site'))
        batch_op.drop_index(batch_op.f('ix_acts_agent_id_local_date'))

    op.drop_table('acts')
    op.drop_table('sites')
    op.drop_table('imports')
    op.drop_table('departments')
    op.drop_table('campaigns')
    
