"""`python -m dashboard subscriptions add|list|remove`: who receives what by e-mail."""

from __future__ import annotations

import json

import click

from dashboard.cli.options import db_option, resolve_db
from dashboard.store import database as dbmod
from dashboard.store import subscriptions as subs_mod


@click.group("subscriptions")
def subscriptions() -> None:
    """E-mail subscriptions: a user, a kind (daily, weekly, alert), an address."""


@subscriptions.command("add")
@click.argument("login")
@click.argument("kind")
@click.option("--email", "email", required=True, metavar="ADDRESS",
              help="where the messages go")
@db_option
def add(login, kind, email, db_url) -> None:
    """Subscribe the user LOGIN to KIND (daily: yesterday's figures; weekly: the review
    of the last complete week; alert) at --email ADDRESS."""
    url = resolve_db(db_url)
    dbmod.upgrade(url)
    try:
        with dbmod.get_engine(url).begin() as conn:
            new_id = subs_mod.add_subscription(conn, login, kind, email)
    except subs_mod.SubscriptionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"subscription {new_id}: {login} receives {kind} at {email.strip()}")


@subscriptions.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@db_option
def list_(fmt, db_url) -> None:
    """List the subscriptions."""
    url = resolve_db(db_url)
    dbmod.upgrade(url)
    with dbmod.get_engine(url).connect() as conn:
        rows = subs_mod.list_subscriptions(conn)
    if fmt == "json":
        click.echo(json.dumps([{**s.__dict__, "created_at": s.created_at.isoformat()}
                               for s in rows], ensure_ascii=False, indent=1))
        return
    for s in rows:
        click.echo(f"{s.id:>5}  {s.login:<28} {s.kind:<7} {s.email}")


@subscriptions.command("remove")
@click.argument("subscription_id", metavar="ID", type=int)
@db_option
def remove(subscription_id, db_url) -> None:
    """Delete the subscription ID (and its delivery log)."""
    url = resolve_db(db_url)
    dbmod.upgrade(url)
    with dbmod.get_engine(url).begin() as conn:
        if not subs_mod.remove_subscription(conn, subscription_id):
            raise click.ClickException(f"no subscription {subscription_id}")
    click.echo(f"removed subscription {subscription_id}")
