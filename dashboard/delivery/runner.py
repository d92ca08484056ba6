"""Claim, send, retry: each due message goes out once, whatever the runs do.

States of a `deliveries` row (naive UTC times):

    pending --claim--> sending --accepted--> sent
                          |--refused, attempts < MAX_ATTEMPTS--> pending (next_attempt_at)
                          |--refused, attempts = MAX_ATTEMPTS--> failed
                          '--lease_until passed (the run died)--> claimable again, or
                             failed when it was the last attempt

- A message exists once: `plan` inserts (subscription, period) rows with ON CONFLICT DO
  NOTHING on their unique pair, so reruns and concurrent runs add nothing twice.
- A claim is one UPDATE … WHERE id = :id AND (pending and due, or sending with its lease
  passed) AND attempts < MAX; only the runner whose UPDATE changed the row sends it (the
  database serialises the two UPDATEs; the second one's WHERE no longer matches).
- The lease (LEASE, 15 min) is far longer than one SMTP exchange (smtp.DEFAULT_TIMEOUT),
  so a live runner never loses a message to another one.
- "Never twice" and kill -9: a message is sent after its claim is committed and marked
  sent after the server accepted it. A run killed between those two points (the server
  said 250, the UPDATE to sent never ran) leaves the row 'sending'; after the lease the
  next run sends it again. We chose at-least-once for that window (milliseconds wide):
  a duplicate is better than a message silently lost, and the copy carries the same
  Message-ID (`message_id`), so mail clients that de-duplicate show it once. A run
  killed before the server's 250 loses nothing and duplicates nothing.
- Back-off after the n-th refused attempt: BACKOFF × 2^(n−1) from the run's time (5, 10,
  20, 40 min); the 5th refusal marks the row failed (store.subscriptions.failed_deliveries).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.core.access import User
from dashboard.delivery import due, messages
from dashboard.store import schema

D = schema.deliveries
S = schema.subscriptions
U = schema.users
MAX_ATTEMPTS = 5
BACKOFF = dt.timedelta(minutes=5)
LEASE = dt.timedelta(minutes=15)
PLANNED_KINDS = ("daily", "weekly")  # alerts are planned by their own rules
INTERRUPTED = ("envoi interrompu : le processus s'est arrêté pendant l'envoi, avant d'en "
               "enregistrer le résultat")

# kind → (engine, user, period key, public URL) → Content. Alerts add their own builder.
Builder = Callable[[Engine, User, str, str], messages.Content]
Mailer = Callable[[EmailMessage], None]


class Withheld(Exception):
    """A builder's refusal to build a message for this reader (an alert of a site the
    user may not see): the row is failed at once, never retried."""


def _periodic(engine: Engine, user: User, key: str, public_url: str) -> messages.Content:
    return messages.build(engine, user, due.parse_key(key), public_url)


BUILDERS: dict[str, Builder] = {"daily": _periodic, "weekly": _periodic}


class Clock:
    """The run's time: --now T at the start, then moving with the real elapsed time (so
    that a lease taken late in a long run still lasts LEASE)."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self._t0 = time.monotonic()

    def now(self) -> dt.datetime:
        """The current time of the run (naive UTC)."""
        return self.start + dt.timedelta(seconds=time.monotonic() - self._t0)


@dataclass
class Summary:
    """What one run did."""

    planned: int = 0
    sent: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the log."""
        return (f"{len(self.sent)} sent, {len(self.retry)} to retry, "
                f"{len(self.failed)} failed ({self.planned} new due)")


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ATTEMPTS-th refused attempt: 5, 10, 20, 40… minutes."""
    return BACKOFF * 2 ** (attempts - 1)


def _insert_ignore(conn, values: dict) -> int:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(D)
    elif dialect == "sqlite":
        stmt = sqlite.insert(D)
    else:  # pragma: no cover - the two supported databases are above
        raise RuntimeError(f"unsupported database {dialect}")
    stmt = stmt.values(**values).on_conflict_do_nothing(
        index_elements=["subscription_id", "period"])
    return conn.execute(stmt).rowcount


def record_due(conn, subscription_id: int, kind: str, key: str, due_at: dt.datetime,
               now: dt.datetime) -> bool:
    """Record the message KEY of a subscription as due (an alert rule calls this too);
    False when it was already recorded, whatever its state."""
    return _insert_ignore(conn, dict(
        subscription_id=subscription_id, kind=kind, period=key, status="pending", attempts=0,
        due_at=due_at, next_attempt_at=due_at, updated_at=now)) == 1


def plan(engine: Engine, now: dt.datetime) -> int:
    """Record the latest due period of every subscription of an active user (the
    existing rows stay as they are); returns how many were new."""
    query = (select(S.c.id, S.c.kind).join(U, U.c.login == S.c.login)
             .where(U.c.active, S.c.kind.in_(PLANNED_KINDS)).order_by(S.c.id))
    new = 0
    with engine.begin() as conn:
        for sub_id, kind in conn.execute(query).all():
            period = due.latest_due(kind, now)
            new += record_due(conn, sub_id, kind, period.key, period.due_at, now)
    return new


def _claimable(now: dt.datetime):
    return and_(
        D.c.attempts < MAX_ATTEMPTS,
        or_(and_(D.c.status == "pending", D.c.next_attempt_at <= now),
            and_(D.c.status == "sending", D.c.lease_until <= now)),
    )


def give_up_interrupted(engine: Engine, now: dt.datetime) -> int:
    """Mark failed the claims left by dead runs that used the last attempt."""
    with engine.begin() as conn:
        return conn.execute(
            update(D).where(D.c.status == "sending", D.c.lease_until <= now,
                            D.c.attempts >= MAX_ATTEMPTS)
            .values(status="failed", error=INTERRUPTED, lease_until=None, updated_at=now)
        ).rowcount


def candidates(engine: Engine, now: dt.datetime) -> list[int]:
    """Ids of the rows a run may try to claim at NOW, oldest due first."""
    with engine.connect() as conn:
        return list(conn.execute(
            select(D.c.id).where(_claimable(now), D.c.kind.in_(list(BUILDERS)))
            .order_by(D.c.due_at, D.c.id)).scalars())


def claim(engine: Engine, delivery_id: int, now: dt.datetime, token: str) -> bool:
    """Take the row for this run (one UPDATE); False when another run has it or it is
    no longer due."""
    with engine.begin() as conn:
        return conn.execute(
            update(D).where(D.c.id == delivery_id, _claimable(now))
            .values(status="sending", attempts=D.c.attempts + 1, claim_token=token,
                    lease_until=now + LEASE, updated_at=now)
        ).rowcount == 1


def _finish(engine: Engine, delivery_id: int, token: str, **values) -> bool:
    # Only the holder of the claim may close it (a row whose lease passed and was taken
    # by another run is that run's now).
    with engine.begin() as conn:
        return conn.execute(
            update(D).where(D.c.id == delivery_id, D.c.claim_token == token,
                            D.c.status == "sending").values(**values)
        ).rowcount == 1


def message_id(delivery_id: int, period: str, mail_from: str) -> str:
    """The Message-ID of a delivery row: the same on every attempt (see the module doc)."""
    domain = mail_from.rpartition("@")[2].strip(" >") or "dashboard.invalid"
    return f"<delivery-{delivery_id}-{period.replace(':', '-')}@{domain}>"


def compose(content: messages.Content, mail_from: str, to: str, msg_id: str,
            now: dt.datetime) -> EmailMessage:
    """The e-mail: subject, From/To, a plain-text part and the HTML part."""
    msg = EmailMessage()
    msg["Subject"] = content.subject
    msg["From"] = mail_from
    msg["To"] = to
    msg["Date"] = format_datetime(now.replace(tzinfo=dt.UTC))
    msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(content.text)
    msg.add_alternative(content.html, subtype="html")
    return msg


def _target(engine: Engine, delivery_id: int):
    query = (select(D.c.period, D.c.kind, D.c.attempts, S.c.email, U)
             .join(S, S.c.id == D.c.subscription_id).join(U, U.c.login == S.c.login)
             .where(D.c.id == delivery_id))
    with engine.connect() as conn:
        return conn.execute(query).mappings().first()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def deliver(engine: Engine, start: dt.datetime, mailer: Mailer, mail_from: str,
            public_url: str, scrub: Callable[[str], str] = str,
            report: Callable[[str], None] | None = None) -> Summary:
    """Send what is due at START (naive UTC) and return what was done.

    MAILER hands one message to the server (raising on refusal); SCRUB cleans an error
    text before it is stored (the SMTP password); REPORT receives one line per message.
    """
    clock = Clock(start)
    token = secrets.token_hex(16)
    summary = Summary(planned=plan(engine, start))
    if interrupted := give_up_interrupted(engine, clock.now()):
        summary.failed.append(f"{interrupted} message(s) interrupted on their last attempt")
    for delivery_id in candidates(engine, clock.now()):
        if not claim(engine, delivery_id, clock.now(), token):
            continue  # another run took it
        row = _target(engine, delivery_id)
        label = f"{row['period']} to {row['email']} (delivery {delivery_id})"
        user = User(login=row["login"], role=row["role"], site=row["site"],
                    agent_id=row["agent_id"], display_name=row["display_name"],
                    active=row["active"])
        if not user.active:
            _finish(engine, delivery_id, token, status="failed", lease_until=None,
                    error="utilisateur désactivé : rien n'est envoyé en son nom",
                    updated_at=clock.now())
            summary.failed.append(label)
            continue
        msg_id = message_id(delivery_id, row["period"], mail_from)
        try:
            content = BUILDERS[row["kind"]](engine, user, row["period"], public_url)
            mailer(compose(content, mail_from, row["email"], msg_id, clock.now()))
        except Exception as exc:  # any failure to build or send is one refused attempt
            error = scrub(_one_line(exc))
            if row["attempts"] >= MAX_ATTEMPTS or isinstance(exc, Withheld):
                _finish(engine, delivery_id, token, status="failed", lease_until=None,
                        error=error, updated_at=clock.now())
                summary.failed.append(f"{label}: {error}")
            else:
                _finish(engine, delivery_id, token, status="pending", lease_until=None,
                        error=error, next_attempt_at=start + backoff(row["attempts"]),
                        updated_at=clock.now())
                summary.retry.append(f"{label}: {error}")
            continue
        _finish(engine, delivery_id, token, status="sent", lease_until=None, error=None,
                sent_at=clock.now(), message_id=msg_id, updated_at=clock.now())
        summary.sent.append(label)
    if report is not None:
        for line in summary.sent:
            report(f"sent {line}")
        for line in summary.retry:
            report(f"retry later {line}")
        for line in summary.failed:
            report(f"failed {line}")
    return summary
