"""Threshold alerts at the start of `deliver`: open, recover, and the messages they make due.

`evaluate(engine, now)` runs before the runner sends anything:
1. Alerts still open from an earlier local day are closed (closed_at = the run's time,
   closed_value null) without any message: an alert describes half-hours of its own day,
   and a "recovered" message sent overnight or the next morning would say nothing true.
2. For each site with thresholds whose latest day with data is NOW's local day (an old
   database never fires alerts for a past day), the figures of that day are read from the
   KPI engine and each threshold decided by dashboard.metrics.alerts (pure).
3. Per threshold, one transaction: its first statement is a no-op UPDATE of the
   threshold's row, which serialises concurrent runs on this site and metric (PostgreSQL:
   a row lock; SQLite: the database's write lock). Inside it the open alert is read, at
   most one per site and metric; a crossing inserts the alert (insert-if-absent on the
   unique site, metric, day and opening half-hour: a second run that got there anyway
   adds nothing) and records one message per subscriber; a recovery closes it with one
   UPDATE … WHERE closed_at IS NULL and records the recovery messages. Messages are keyed
   `alert:{id}:open` / `alert:{id}:recovered` per subscription (runner.record_due), so a
   message exists once whatever the runs do.

Subscribers: the `alert` subscriptions of active users who may see the site — its
supervisors, the directorate (national) and admins. The message is built as its reader
(`build`): a reader who may no longer see the site gets nothing (runner.Withheld).
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, replace

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.core import formatting as fmt
from dashboard.core.access import ALL_ROWS, User, scope_for
from dashboard.core.filters import Filters
from dashboard.delivery import due, messages, runner
from dashboard.engine import alert_reads
from dashboard.metrics import alerts as rules
from dashboard.store import schema
from queries import alerts as q_alerts
from queries import overview, staffing

A = schema.alerts
T = schema.alert_thresholds
S = schema.subscriptions
U = schema.users
READERS = ("supervisor", "national", "admin")  # agents receive no site's alert


@dataclass
class Outcome:
    """What an evaluation did: alerts opened and recovered (ids), messages made due."""

    opened: list[int]
    recovered: list[int]
    due: int = 0
    closed_overnight: int = 0

    def line(self) -> str:
        """One line for the log."""
        return (f"alerts: {len(self.opened)} opened, {len(self.recovered)} recovered, "
                f"{self.closed_overnight} closed at the day change ({self.due} new due)")


def _insert_ignore(conn, values: dict) -> int:
    stmt = (postgresql.insert(A) if conn.dialect.name == "postgresql" else sqlite.insert(A))
    stmt = stmt.values(**values).on_conflict_do_nothing(
        index_elements=["site", "metric", "local_date", "opened_slot"])
    return conn.execute(stmt).rowcount


def _readers(conn, site: str) -> list[int]:
    """Ids of the `alert` subscriptions of active users who may see SITE."""
    query = (select(S.c.id).join(U, U.c.login == S.c.login)
             .where(S.c.kind == "alert", U.c.active,
                    or_(U.c.role.in_(("national", "admin")),
                        and_(U.c.role == "supervisor", U.c.site == site)))
             .order_by(S.c.id))
    return list(conn.execute(query).scalars())


def _record(conn, site: str, key: str, now: dt.datetime) -> int:
    return sum(runner.record_due(conn, sub_id, "alert", key, due_at=now, now=now)
               for sub_id in _readers(conn, site))


def close_past_days(engine: Engine, today: dt.date, now: dt.datetime) -> int:
    """Close, without a message, the alerts left open on a local day before TODAY."""
    with engine.begin() as conn:
        return conn.execute(update(A).where(A.c.closed_at.is_(None), A.c.local_date < today)
                            .values(closed_at=now)).rowcount


def apply(engine: Engine, threshold: rules.Threshold, day: dt.date,
          decision: rules.Decision | None, now: dt.datetime, outcome: Outcome) -> None:
    """Open or recover THRESHOLD's alert on DECISION, in one transaction (module doc)."""
    if decision is None:
        return
    with engine.begin() as conn:
        # First statement: the lock that makes this site and metric one run's at a time.
        conn.execute(update(T).where(T.c.site == threshold.site, T.c.metric == threshold.metric)
                     .values(minutes=T.c.minutes))
        open_id = conn.execute(
            select(A.c.id).where(A.c.site == threshold.site, A.c.metric == threshold.metric,
                                 A.c.closed_at.is_(None))
            .order_by(A.c.id).limit(1)).scalar()
        action = rules.step(decision, open_id is not None)
        if action == "open":
            if not _insert_ignore(conn, dict(
                    site=threshold.site, metric=threshold.metric, local_date=day,
                    threshold=threshold.threshold, opened_slot=decision.first_slot,
                    opened_value=decision.value, opened_at=now)):
                return  # this episode was opened (and recovered) already
            alert_id = conn.execute(select(A.c.id).where(
                A.c.site == threshold.site, A.c.metric == threshold.metric,
                A.c.local_date == day, A.c.opened_slot == decision.first_slot)).scalar_one()
            outcome.opened.append(alert_id)
            outcome.due += _record(conn, threshold.site, f"alert:{alert_id}:open", now)
        elif action == "recover":
            done = conn.execute(
                update(A).where(A.c.id == open_id, A.c.closed_at.is_(None))
                .values(closed_slot=decision.last_slot, closed_value=decision.value,
                        closed_at=now)).rowcount
            if done:
                outcome.recovered.append(open_id)
                outcome.due += _record(conn, threshold.site, f"alert:{open_id}:recovered", now)


def evaluate(engine: Engine, now: dt.datetime) -> Outcome:
    """Open and recover the alerts at NOW (naive UTC) and record their messages."""
    today = due.local_now(now).date()
    outcome = Outcome([], [], closed_overnight=close_past_days(engine, today, now))
    with engine.connect() as conn:
        found = alert_reads.thresholds_of(q_alerts.thresholds(conn, Filters(today, today, scope=ALL_ROWS)))
        hours = {r["site"]: r for r in staffing.site_hours(conn).iter_rows(named=True)}
        sites = sorted({t.site for t in found})
        current = [s for s in sites
                   if overview.last_day_with_data(conn, ALL_ROWS, (s,)) == today]
    for site in current:
        mine = [t for t in found if t.site == site]
        values, complete, backlog = alert_reads.site_day(engine, site, today, hours[site],
                                             {t.metric for t in mine})
        for threshold in mine:
            decision = rules.decide(threshold, values.get(threshold.metric, {}), complete,
                                    backlog)
            apply(engine, threshold, today, decision, now, outcome)
    return outcome


# ------------------------------------------------------------------------------ message

def _window_minutes(conn, row) -> int:
    minutes = conn.execute(select(T.c.minutes).where(
        T.c.site == row["site"], T.c.metric == row["metric"])).scalar()
    return int(minutes or 60)


def build(engine: Engine, user: User, key: str, public_url: str) -> messages.Content:
    """The message of KEY ("alert:{id}:open" or "alert:{id}:recovered") for USER, who must
    be allowed to see the alert's site (else runner.Withheld: nothing is sent)."""
    _, alert_id, what = key.split(":")
    scope = scope_for(user)
    with engine.connect() as conn:
        row = conn.execute(select(A).where(A.c.id == int(alert_id))).mappings().first()
        if row is None:
            raise runner.Withheld(f"alerte {alert_id} introuvable")
        if user.role not in READERS or not scope.allows_site(row["site"]):
            raise runner.Withheld("ce destinataire ne peut pas voir les chiffres de ce site")
        names = messages.site_names(conn)
        episode = rules.stored_episode(row, _window_minutes(conn, row))
    site_name = names.get(row["site"], row["site"])
    day = row["local_date"]
    url = messages.link(public_url, messages.MANAGER_PAGE, day, day)
    name = rules.NAMES[episode.metric]
    if what == "open":
        title = rules.opened_subject(episode, site_name)
        line = (f"{site_name}, le {fmt.fr_date(day)} : {name} "
                f"{rules.limit_text(episode.metric, episode.threshold)}. "
                + rules.warning_line(episode) + ".")
    elif what == "recovered":
        title = rules.recovered_subject(replace_closed(episode, row), site_name)
        line = (f"{site_name}, le {fmt.fr_date(day)} : "
                + rules.recovered_line(replace_closed(episode, row)) + ".")
    else:
        raise ValueError(f"not an alert key: {key!r}")
    note = ("Seuil fixé dans les données de référence du site ; un seul message à "
            "l'ouverture de l'alerte et un seul à son retour à la normale.")
    text = f"{line}\n\n{note}\n\nOuvrir le tableau de bord : {url}\n"
    body = (f"<p>{html.escape(line)}</p><p><small>{html.escape(note)}</small></p>")
    page = ("<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title></head><body style='font-family:Arial,"
            f"sans-serif'><h1>{html.escape(title)}</h1>{body}"
            f"<p><a href='{html.escape(url, quote=True)}'>Ouvrir le tableau de bord</a></p>"
            "</body></html>")
    return messages.Content(title, text, page)


def replace_closed(episode: rules.Episode, row) -> rules.Episode:
    """EPISODE with its recovery as stored (a recovery message needs it)."""
    return replace(episode, closed_slot=row["closed_slot"], closed_value=row["closed_value"])


runner.BUILDERS["alert"] = build
