"""The phone outcome `ivr` (the caller ended the call in the voice server without asking
for an agent): the contacts' outcome check admits it, and the rollups whose statistics
are already taken per outcome (rollup_cells, rollup_agent_cells) gain `ph_ivr`. No
contact could be `ivr` before, so every stored figure stays as it is: no rebuild needed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_OUTCOME = ("(channel = 'phone' AND outcome IN ('answered', 'abandoned', 'deflected'{ivr}))"
            " OR (channel = 'email' AND outcome IN ('replied', 'pending', 'closed'))")
_CELLS = ('rollup_cells', 'rollup_agent_cells')


def _outcome_check(with_ivr: bool) -> None:
    # SQLite cannot alter a constraint: batch mode copies the table with the new check.
    with op.batch_alter_table('contacts') as batch:
        batch.drop_constraint(op.f('ck_contacts_outcome'), type_='check')
        batch.create_check_constraint(
            'outcome', _OUTCOME.format(ivr=", 'ivr'" if with_ivr else ''))


def upgrade() -> None:
    _outcome_check(True)
    for table in _CELLS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('ph_ivr', sa.Integer(), nullable=False,
                                       server_default='0'))


def downgrade() -> None:
    op.execute("DELETE FROM contacts WHERE outcome = 'ivr'")
    for table in _CELLS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('ph_ivr')
    _outcome_check(False)
