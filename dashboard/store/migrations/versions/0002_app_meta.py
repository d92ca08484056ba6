"""app meta

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 16:31:23.329037
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_app_meta'))
    )


def downgrade() -> None:
    op.drop_table('app_meta')
