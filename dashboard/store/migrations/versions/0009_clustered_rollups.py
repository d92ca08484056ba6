"""Key the rollups read over long periods by their grain: rollup_site_days,
rollup_site_slots and rollup_cells get a primary key, local date first; on SQLite they
become WITHOUT ROWID tables stored in that order (a period is one range of the table,
read without a lookup per row). Their rows are copied as they are. New, keyed the same
way: rollup_dept_days, rollup_daily without the queue, filled from rollup_daily. No
rebuild needed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# table → (its primary key, whether the (local_date, site) index stays beside it)
KEYS = {
    'rollup_site_days': (('local_date', 'site', 'channel', 'outcome'), False),
    'rollup_site_slots': (('local_date', 'local_slot', 'site', 'channel', 'outcome'), False),
    'rollup_cells': (('local_date', 'local_slot', 'site'), True),
}


def _index(table: str) -> str:
    return f'ix_{table}_local_date_site'


def _copy_as(table: str, *, keyed: bool, had_index: bool, wants_index: bool) -> None:
    """SQLite: the table again with or without its key (a table's storage cannot be
    altered), its rows copied over, with or without the (local_date, site) index."""
    key, _ = KEYS[table]
    bind = op.get_bind()
    old = sa.Table(table, sa.MetaData(), autoload_with=bind)
    columns = [sa.Column(c.name, c.type, nullable=c.nullable) for c in old.columns]
    names = ', '.join(c.name for c in old.columns)
    if had_index:  # index names are the schema's: it must go before the new table's
        op.drop_index(_index(table), table_name=table)
    op.rename_table(table, f'{table}_previous')
    if keyed:
        op.create_table(table, *columns, sa.PrimaryKeyConstraint(*key, name=f'pk_{table}'),
                        sqlite_with_rowid=False)
    else:
        op.create_table(table, *columns)
    op.execute(f'INSERT INTO {table} ({names}) SELECT {names} FROM {table}_previous')
    op.drop_table(f'{table}_previous')
    if wants_index:
        op.create_index(_index(table), table, ['local_date', 'site'], unique=False)


_SUMS = ('n', 'wait_n', 'wait_sum', 'handle_sum', 'in_sl', 'short', 'long_wait_sum',
         'long_wait_n', 'handled', 'promoted', 'with_key', 'repeats', 'replied', 'within_48h',
         'within_5wd')
_BIG = ('wait_sum', 'handle_sum', 'long_wait_sum')
_DEPT_GRAIN = ('local_date', 'site', 'department', 'channel', 'outcome')


def _create_dept_days() -> None:
    op.create_table('rollup_dept_days',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('wait_n', sa.Integer(), nullable=False),
    sa.Column('wait_sum', sa.BigInteger(), nullable=False),
    sa.Column('wait_max', sa.Integer(), nullable=True),
    *[sa.Column(c, sa.BigInteger() if c in _BIG else sa.Integer(), nullable=False)
      for c in _SUMS if c not in ('n', 'wait_n', 'wait_sum')],
    sa.PrimaryKeyConstraint(*_DEPT_GRAIN, name=op.f('pk_rollup_dept_days')),
    sqlite_with_rowid=False,
    )
    grain = ', '.join(_DEPT_GRAIN)
    # The same sums as a rebuild computes, taken over rollup_daily's queues.
    op.execute(
        f"INSERT INTO rollup_dept_days ({grain}, {', '.join(_SUMS)}, wait_max) "
        f"SELECT {grain}, {', '.join(f'SUM({c})' for c in _SUMS)}, MAX(wait_max) "
        f"FROM rollup_daily GROUP BY {grain}"
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    _create_dept_days()
    for table, (key, keep_index) in KEYS.items():
        if sqlite:
            _copy_as(table, keyed=True, had_index=True, wants_index=keep_index)
            continue
        op.create_primary_key(f'pk_{table}', table, list(key))
        if not keep_index:
            op.drop_index(_index(table), table_name=table)
    for table in (*KEYS, 'rollup_dept_days'):  # the planner's statistics
        op.execute(f'ANALYZE {table}')


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_table('rollup_dept_days')
    for table, (key, keep_index) in KEYS.items():
        if sqlite:
            _copy_as(table, keyed=False, had_index=keep_index, wants_index=True)
            continue
        op.drop_constraint(f'pk_{table}', table, type_='primary')
        if not keep_index:
            op.create_index(_index(table), table, ['local_date', 'site'], unique=False)
