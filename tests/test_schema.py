"""Schema creation and migration, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from dashboard.store import database as dbmod
from dashboard.store import reference, schema

TABLES = {"sites", "departments", "coverage", "campaigns", "agents", "agent_sessions",
          "contacts", "acts", "users", "imports", "app_meta"}


def _contact(**overrides):
    row = dict(
        source="t", contact_id="c1", channel="phone", site="rouen", department="60",
        received_at=dt.datetime(2015, 3, 2, 9, 0), outcome="answered", wait_seconds=3,
        talk_seconds=100, wrap_seconds=10, local_date=dt.date(2015, 3, 2), local_slot=20,
    )
    row.update(overrides)
    return row


def test_upgrade_creates_every_table_and_matches_the_models(empty_db_url):
    dbmod.upgrade(empty_db_url)
    engine = dbmod.get_engine(empty_db_url)
    assert TABLES <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        # The migration and the SQLAlchemy models describe the same schema.
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []


def test_upgrade_is_idempotent_and_downgrade_removes_everything(empty_db_url):
    dbmod.upgrade(empty_db_url)
    dbmod.upgrade(empty_db_url)
    engine = dbmod.get_engine(empty_db_url)
    with engine.begin() as conn:
        cfg = dbmod.alembic_config(empty_db_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not (TABLES & set(inspect(engine).get_table_names()))


def _sums(table, **grain):
    """A rollup row of GRAIN: three contacts, every other sum 0, no maximum wait."""
    sums = {c.name: (None if c.nullable else 0) for c in table.c if c.name not in grain}
    return {**grain, **sums, ("n" if "n" in table.c else "ph_received"): 3}


def test_keying_the_rollups_keeps_their_rows_both_ways(empty_db_url):
    dbmod.upgrade(empty_db_url, "0008")
    engine = dbmod.get_engine(empty_db_url)
    day = dt.date(2015, 4, 1)
    rows = {
        "rollup_site_days": [dict(local_date=day, site=s, channel="phone", outcome=o)
                             for s in ("rouen", "chartres") for o in ("answered", "abandoned")],
        "rollup_site_slots": [dict(local_date=day, local_slot=k, site="rouen", channel="phone",
                                   outcome="answered") for k in (17, 18)],
        "rollup_cells": [dict(local_date=day, local_slot=k, site=s)
                         for k in (17, 18) for s in ("rouen", "chartres")],
    }
    # The tables as they stand at 0008 (later revisions add columns).
    tables = {name: sa.Table(name, sa.MetaData(), autoload_with=engine) for name in rows}

    def stored():
        with engine.connect() as conn:
            return {name: sorted(tuple(r) for r in conn.execute(select(t))) for name, t in
                    tables.items()}

    with engine.begin() as conn:
        for name, grains in rows.items():
            conn.execute(insert(tables[name]), [_sums(tables[name], **g) for g in grains])
    before = stored()
    assert [len(v) for v in before.values()] == [4, 2, 4]
    daily = schema.rollup_daily
    with engine.begin() as conn:  # two queues and no queue of one département, one other
        conn.execute(insert(daily), [
            _sums(daily, local_date=day, site="rouen", department=dep, channel="phone",
                  queue=queue, outcome="answered") | {"n": n, "wait_max": wait_max}
            for dep, queue, n, wait_max in (("60", "particuliers", 2, 40),
                                            ("60", "recouvrement", 5, 90), ("60", None, 1, None),
                                            ("27", "particuliers", 7, 12))])
    dbmod.upgrade(empty_db_url, "0010")
    assert stored() == before
    dept = schema.rollup_dept_days
    with engine.connect() as conn:
        got = conn.execute(select(dept.c.department, dept.c.n, dept.c.wait_max)
                           .order_by(dept.c.department)).all()
    assert [tuple(r) for r in got] == [("27", 7, 12), ("60", 8, 90)]
    dbmod.upgrade(empty_db_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    for name, grains in rows.items():  # the grain is now a key
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(tables[name]), [_sums(tables[name], **grains[0])])
    assert stored() == before
    with engine.begin() as conn:
        cfg = dbmod.alembic_config(empty_db_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    assert stored() == before


def test_agent_cells_are_filled_from_the_agents_rollup(empty_db_url):
    dbmod.upgrade(empty_db_url, "0009")
    engine = dbmod.get_engine(empty_db_url)
    day = dt.date(2015, 4, 1)
    agents = schema.rollup_agents

    def row(agent, channel, outcome, **sums):
        return _sums(agents, local_date=day, site="rouen", agent_id=agent, channel=channel,
                     outcome=outcome) | sums

    with engine.begin() as conn:
        conn.execute(insert(agents), [
            row("a1", "phone", "answered", n=4, in_sl=3, wait_sum=50, wait_n=4,
                handle_sum=900, wait_max=30, handled=4, promoted=1, repeats=1),
            row("a1", "email", "replied", n=2, replied=2, within_48h=1, handled=2),
            row(None, "phone", "abandoned", n=5, short=2, long_wait_sum=200,
                long_wait_n=3, wait_max=95),
            row(None, "phone", "deflected", n=6),
            row(None, "email", "open", n=1),
        ])
    dbmod.upgrade(empty_db_url)
    cells = schema.rollup_agent_cells
    with engine.connect() as conn:
        got = {r.agent_id: r for r in conn.execute(select(cells)).mappings()}
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    assert set(got) == {"a1", None}
    a1, nobody = got["a1"], got[None]
    assert (a1["ph_received"], a1["ph_answered"], a1["ph_answered_in_sl"],
            a1["ph_answered_wait_sum"], a1["ph_handle_sum"], a1["ph_max_wait"]) == (
        4, 4, 3, 50, 900, 30)
    assert (a1["em_received"], a1["em_replied"], a1["em_within_48h"], a1["hd_handled"],
            a1["hd_promoted"], a1["hd_repeat"]) == (2, 2, 1, 6, 1, 1)
    # 5 abandoned + 6 deflected calls; the open e-mail; the longest wait of an abandon.
    assert (nobody["ph_received"], nobody["ph_abandoned"], nobody["ph_deflected"],
            nobody["ph_short_abandoned"], nobody["ph_long_abandon_wait_sum"],
            nobody["ph_long_abandon_wait_n"], nobody["em_received"], nobody["em_replied"],
            nobody["ph_max_wait"]) == (11, 5, 6, 2, 200, 3, 1, 0, 95)
    with engine.begin() as conn:
        cfg = dbmod.alembic_config(empty_db_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    assert "rollup_agent_cells" not in inspect(engine).get_table_names()


def test_contact_is_unique_within_its_source(db_url):
    engine = dbmod.get_engine(db_url)
    with engine.begin() as conn:
        conn.execute(insert(schema.contacts), [_contact(), _contact(source="other")])
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(schema.contacts), [_contact()])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.contacts)).scalar() == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"channel": "fax"},
        {"outcome": "replied"},  # an e-mail outcome on a call
        {"channel": "email", "outcome": "answered"},
        {"wait_seconds": -1},
        {"local_slot": 48},
        {"site": "nowhere"},  # foreign key to sites
    ],
)
def test_database_refuses_rows_that_break_the_contract(db_url, bad):
    engine = dbmod.get_engine(db_url)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(schema.contacts), [_contact(**bad)])


def test_reference_load_is_idempotent_and_updates(db_url, tmp_path):
    engine = dbmod.get_engine(db_url)
    reference.load_reference(engine)  # a second time: the fixture loaded it once
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.coverage)).scalar() == 4
        assert conn.execute(select(func.count()).select_from(schema.sites)).scalar() == 2
    edited = reference.PILOT_FILE.read_text(encoding="utf-8").replace(
        'name = "Chartres"', 'name = "Chartres (pilote)"'
    )
    path = tmp_path / "edited.toml"
    path.write_text(edited, encoding="utf-8")
    reference.load_reference(engine, path)
    with engine.connect() as conn:
        name = conn.execute(
            select(schema.sites.c.name).where(schema.sites.c.code == "chartres")
        ).scalar_one()
        assert name == "Chartres (pilote)"
        assert conn.execute(select(func.count()).select_from(schema.sites)).scalar() == 2


def test_pilot_reference_has_the_seed_coverage(db_url):
    with dbmod.get_engine(db_url).connect() as conn:
        rows = conn.execute(
            select(schema.coverage.c.site, schema.coverage.c.department,
                   schema.coverage.c.start_date)
        ).all()
    assert sorted(rows) == sorted([
        ("rouen", "60", dt.date(2014, 8, 4)),
        ("rouen", "04", dt.date(2015, 4, 1)),
        ("chartres", "28", dt.date(2015, 3, 1)),
        ("chartres", "93", dt.date(2015, 3, 1)),
    ])


def test_bad_reference_file_is_refused_in_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[coverage]]\nsite = "rouen"\ndepartment = "60"\nstart_date = "soon"\n')
    with pytest.raises(reference.ReferenceError, match="start_date must be a TOML date"):
        reference.read_reference(path)
