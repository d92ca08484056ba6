"""`python -m dashboard users add|list|remove`: manage who may log in."""

from __future__ import annotations

import json

import click

from dashboard.cli.options import db_option, resolve_db
from dashboard.core.access import ROLES, User
from dashboard.store import database as dbmod
from dashboard.store import users as users_mod


@click.group("users")
def users() -> None:
    """Users: login, role (agent, supervisor, national, admin), site, agent."""


@users.command("add")
@click.argument("login")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--site", default=None, help="site code (supervisors and agents)")
@click.option("--agent-id", default=None, help="the agent's own agent_id (agents)")
@click.option("--name", "display_name", default=None, help="display name")
@click.option("--disabled", is_flag=True, help="create or update the user as disabled")
@db_option
def add(login, role, site, agent_id, display_name, disabled, db_url) -> None:
    """Create or update the user LOGIN."""
    url = resolve_db(db_url)
    dbmod.upgrade(url)
    user = User(login=login, role=role, site=site, agent_id=agent_id,
                display_name=display_name, active=not disabled)
    try:
        with dbmod.get_engine(url).begin() as conn:
            created = users_mod.save_user(conn, user)
    except users_mod.UserError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"{'created' if created else 'updated'} {login} ({role})")


@users.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@db_option
def list_(fmt, db_url) -> None:
    """List the users."""
    url = resolve_db(db_url)
    with dbmod.get_engine(url).connect() as conn:
        rows = users_mod.list_users(conn)
    if fmt == "json":
        click.echo(json.dumps([u.__dict__ for u in rows], ensure_ascii=False, indent=1))
        return
    for u in rows:
        state = "" if u.active else "  (disabled)"
        click.echo(f"{u.login:<28} {u.role:<10} {u.site or '-':<10} {u.agent_id or '-'}{state}")


@users.command("remove")
@click.argument("login")
@db_option
def remove(login, db_url) -> None:
    """Delete the user LOGIN."""
    url = resolve_db(db_url)
    with dbmod.get_engine(url).begin() as conn:
        if not users_mod.remove_user(conn, login):
            raise click.UsageError(f"no user {login!r}")
    click.echo(f"removed {login}")
