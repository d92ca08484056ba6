"""`python -m dashboard deliver [--now T]`: send the e-mails due at T, then exit.

Meant for cron or a systemd timer every few minutes; reruns and concurrent runs send
nothing twice (dashboard.delivery.runner says how, and what a kill -9 can do).
"""

from __future__ import annotations

import datetime as dt
import functools

import click
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from dashboard.cli.options import db_option, initialised_engine, resolve_db
from dashboard.core import config
from dashboard.delivery import alerts, due, runner, smtp


def parse_now(value: str | None) -> dt.datetime:
    """--now: ISO date-time, local (Europe/Paris) unless it carries an offset → naive UTC."""
    if value is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date-time YYYY-MM-DDTHH:MM[+HH:MM]", param_hint="--now"
        ) from None
    if moment.tzinfo is None:
        return due.to_utc(moment)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


@click.command("deliver")
@click.option("--now", "now", default=None, metavar="T",
              help="the time to deliver at, YYYY-MM-DDTHH:MM local (Europe/Paris) or with "
              "an offset [default: now]")
@db_option
def deliver(now, db_url) -> None:
    """Send the subscriptions' messages due at T (default now) and exit."""
    start = parse_now(now)
    server = config.get("DASHBOARD_SMTP_URL")
    mail_from = config.get("DASHBOARD_MAIL_FROM")
    if not server:
        raise click.ClickException("DASHBOARD_SMTP_URL is not set: no mail server to send to")
    if not mail_from:
        raise click.ClickException("DASHBOARD_MAIL_FROM is not set: no sender address")
    try:
        settings = smtp.parse_url(server)
    except smtp.SmtpUrlError as exc:
        raise click.ClickException(str(exc)) from None
    url = resolve_db(db_url)
    try:
        engine = initialised_engine(url)
        if not inspect(engine).has_table("deliveries"):
            raise click.ClickException("no subscriptions table in this database: run "
                                       "`python -m dashboard db upgrade` first")
        if inspect(engine).has_table("alerts"):  # thresholds first: their messages go now
            click.echo(alerts.evaluate(engine, start).line())
        summary = runner.deliver(
            engine, start, functools.partial(smtp.send, settings), mail_from,
            config.public_url(), scrub=settings.scrub, report=click.echo)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"database error: {first}") from exc
    local = due.local_now(start).strftime("%Y-%m-%d %H:%M")
    click.echo(f"deliver at {local} ({config.DEFAULT_TIMEZONE}): {summary.line()}")
