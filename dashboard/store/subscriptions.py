"""The `subscriptions` table (who receives what by e-mail) and the delivery log's report.

The delivery log itself (`deliveries`) is written by dashboard.delivery.runner only; what
is read here is the list of messages given up on, for the Données page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, delete, select

from dashboard.store import schema

S = schema.subscriptions
D = schema.deliveries
KINDS = schema.SUBSCRIPTION_KINDS
# Plausible, not RFC 5322: one @, no space, a dot in the domain, no header-breaking
# character (a newline in an address would let it add headers to the message).
_EMAIL = re.compile(r"[^@\s<>,;\"']+@[^@\s<>,;\"'.]+(\.[^@\s<>,;\"'.]+)+")


class SubscriptionError(ValueError):
    """A subscription that cannot be written."""


@dataclass(frozen=True)
class Subscription:
    """One row of the `subscriptions` table."""

    id: int
    login: str
    kind: str
    email: str
    created_at: dt.datetime


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def add_subscription(conn: Connection, login: str, kind: str, email: str,
                     now: dt.datetime | None = None) -> int:
    """Subscribe LOGIN to KIND at EMAIL; returns the new id (SubscriptionError if invalid)."""
    if kind not in KINDS:
        raise SubscriptionError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    email = email.strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise SubscriptionError(f"{email!r} is not an e-mail address")
    user = conn.execute(select(schema.users.c.login).where(schema.users.c.login == login))
    if user.first() is None:
        raise SubscriptionError(f"no user {login!r}")
    same = conn.execute(select(S.c.id).where(S.c.login == login, S.c.kind == kind,
                                             S.c.email == email)).scalar()
    if same is not None:
        raise SubscriptionError(f"{login} already receives {kind} at {email} "
                                f"(subscription {same})")
    result = conn.execute(S.insert().values(login=login, kind=kind, email=email,
                                            created_at=now or _utc_now()))
    return int(result.inserted_primary_key[0])


def list_subscriptions(conn: Connection) -> list[Subscription]:
    """Every subscription, by login, kind and id."""
    rows = conn.execute(select(S).order_by(S.c.login, S.c.kind, S.c.id)).mappings().all()
    return [Subscription(**dict(r)) for r in rows]


def remove_subscription(conn: Connection, subscription_id: int) -> bool:
    """Delete a subscription (and its delivery log); returns False when there was none."""
    return conn.execute(delete(S).where(S.c.id == subscription_id)).rowcount > 0


def failed_deliveries(conn: Connection) -> pl.DataFrame:
    """Messages given up on after their last attempt, latest first: id, login, email,
    kind, period, attempts, error, updated_at (naive UTC)."""
    query = (
        select(D.c.id, S.c.login, S.c.email, D.c.kind, D.c.period, D.c.attempts, D.c.error,
               D.c.updated_at)
        .join(S, S.c.id == D.c.subscription_id)
        .where(D.c.status == "failed")
        .order_by(D.c.updated_at.desc(), D.c.id.desc())
    )
    rows = conn.execute(query).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=_FAILED_SCHEMA, orient="row")


_FAILED_SCHEMA = {"id": pl.Int64, "login": pl.String, "email": pl.String, "kind": pl.String,
                  "period": pl.String, "attempts": pl.Int64, "error": pl.String,
                  "updated_at": pl.Datetime("us")}


def failed_deliveries_schema() -> pl.DataFrame:
    """An empty frame of failed_deliveries' columns (a database before migration 0015)."""
    return pl.DataFrame(schema=_FAILED_SCHEMA)
