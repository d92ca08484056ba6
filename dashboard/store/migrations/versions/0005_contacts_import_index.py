"""contacts: index on (site, channel, import_id), so that the Données page finds each
site's and channel's last import without scanning every contact

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 22:00:00
"""

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_site_channel_import_id'),
                              ['site', 'channel', 'import_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_site_channel_import_id'))
