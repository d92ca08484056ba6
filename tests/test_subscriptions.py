"""`python -m dashboard subscriptions add|list|remove` and the subscriptions store."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from dashboard.cli.main import main
from dashboard.core.access import User
from dashboard.store import database as dbmod
from dashboard.store import schema
from dashboard.store import subscriptions as subs
from dashboard.store.users import remove_user, save_user


@pytest.fixture
def with_users(db_url):
    with dbmod.get_engine(db_url).begin() as conn:
        save_user(conn, User("sup.rouen", "supervisor", site="rouen"))
        save_user(conn, User("agent.a1", "agent", site="rouen", agent_id="a1"))
    return db_url


def cli(url, *args):
    return CliRunner().invoke(main, ["subscriptions", *args, "--db", url])


def test_add_list_remove(with_users):
    added = cli(with_users, "add", "sup.rouen", "daily", "--email", "sup@rouen.example.fr")
    assert added.exit_code == 0, added.output
    assert added.output == "subscription 1: sup.rouen receives daily at sup@rouen.example.fr\n"
    assert cli(with_users, "add", "agent.a1", "weekly", "--email", " a1@x.fr ").exit_code == 0
    assert cli(with_users, "add", "sup.rouen", "alert", "--email", "sup@rouen.example.fr"
               ).exit_code == 0
    listed = cli(with_users, "list", "--format", "json")
    rows = [(r["id"], r["login"], r["kind"], r["email"]) for r in json.loads(listed.output)]
    assert rows == [(2, "agent.a1", "weekly", "a1@x.fr"),
                    (3, "sup.rouen", "alert", "sup@rouen.example.fr"),
                    (1, "sup.rouen", "daily", "sup@rouen.example.fr")]
    table = cli(with_users, "list").output.splitlines()
    assert table[0].split() == ["2", "agent.a1", "weekly", "a1@x.fr"]
    assert cli(with_users, "remove", "1").output == "removed subscription 1\n"
    gone = cli(with_users, "remove", "1")
    assert (gone.exit_code, gone.output) == (1, "Error: no subscription 1\n")
    assert len(json.loads(cli(with_users, "list", "--format", "json").output)) == 2


@pytest.mark.parametrize("args, message", [
    (("nobody", "daily", "--email", "a@b.fr"), "no user 'nobody'"),
    (("sup.rouen", "monthly", "--email", "a@b.fr"),
     "unknown kind 'monthly'; kinds: daily, weekly, alert"),
    (("sup.rouen", "daily", "--email", "not-an-address"), "'not-an-address' is not an e-mail address"),
    (("sup.rouen", "daily", "--email", "a@b"), "'a@b' is not an e-mail address"),
    (("sup.rouen", "daily", "--email", "a b@c.fr"), "'a b@c.fr' is not an e-mail address"),
    (("sup.rouen", "daily", "--email", "a@c.fr\nBcc: x@y.fr"),
     "'a@c.fr\\nBcc: x@y.fr' is not an e-mail address"),
])
def test_bad_subscriptions_are_refused_in_one_line(with_users, args, message):
    result = cli(with_users, "add", *args)
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"


def test_the_same_subscription_twice_is_refused(with_users):
    cli(with_users, "add", "sup.rouen", "daily", "--email", "s@r.fr")
    again = cli(with_users, "add", "sup.rouen", "daily", "--email", "s@r.fr")
    assert again.output == ("Error: sup.rouen already receives daily at s@r.fr "
                            "(subscription 1)\n")


def test_removing_a_user_removes_its_subscriptions_and_their_log(with_users):
    engine = dbmod.get_engine(with_users)
    with engine.begin() as conn:
        sub_id = subs.add_subscription(conn, "sup.rouen", "daily", "s@r.fr")
        subs.add_subscription(conn, "agent.a1", "daily", "a@r.fr")
        now = schema.subscriptions.c.created_at  # any timestamp will do for the log row
        created = conn.execute(select(now).where(schema.subscriptions.c.id == sub_id)).scalar()
        conn.execute(schema.deliveries.insert().values(
            subscription_id=sub_id, kind="daily", period="daily:2026-12-04", status="failed",
            attempts=5, due_at=created, next_attempt_at=created, updated_at=created,
            error="451"))
        assert len(subs.failed_deliveries(conn)) == 1
        assert remove_user(conn, "sup.rouen")
    with engine.connect() as conn:
        assert [s.login for s in subs.list_subscriptions(conn)] == ["agent.a1"]
        assert conn.execute(select(func.count()).select_from(schema.deliveries)).scalar() == 0
        assert subs.failed_deliveries(conn).height == 0
