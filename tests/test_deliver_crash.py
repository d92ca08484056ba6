"""`deliver` killed mid-run: a real `python -m dashboard deliver` subprocess is killed
with SIGKILL while the SMTP server holds its first message, and the next runs send every
due message exactly once. Then the one window where a message can go out twice (the
server accepted, the run died before recording it): at-least-once, by design (see
dashboard.delivery.runner), with the same Message-ID on both copies.

Slower than the rest (a subprocess starts and imports the app: a few seconds per
database).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.delivery import runner, smtp
from dashboard.store import database as dbmod
from tests.test_delivery import (FROM, PUBLIC, T_UTC, Inbox, craft, rows_of, run,  # noqa: F401
                                 smtp_server, subscribe)

ROOT = Path(__file__).resolve().parent.parent
LOGINS = ("sup.rouen", "dir", "agent.a1")


@pytest.fixture
def crafted(db_url):
    craft(db_url)
    for login in LOGINS:
        subscribe(db_url, login)
    return db_url


@pytest.mark.timeout(180)
def test_kill_9_while_sending_loses_nothing_and_duplicates_nothing(crafted, smtp_server):
    inbox, server = smtp_server(Inbox(stall=60))
    env = {**os.environ, "DASHBOARD_SMTP_URL": server, "DASHBOARD_MAIL_FROM": FROM,
           "DASHBOARD_PUBLIC_URL": PUBLIC}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "deliver", "--now", "2026-12-05T06:30",
         "--db", crafted],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert inbox.stalled.wait(timeout=90), proc.communicate(timeout=5)
        assert proc.poll() is None  # still waiting for the server's answer to DATA
        # Its claim is committed before the send: one row sending, the others pending.
        assert sorted((r["status"], r["attempts"]) for r in rows_of(crafted)) == [
            ("pending", 0), ("pending", 0), ("sending", 1)]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert inbox.received == []  # the server never said 250 for it
    (stuck,) = [r for r in rows_of(crafted) if r["status"] == "sending"]

    # 10 minutes later: the two untouched messages go; the claimed one waits its lease.
    later = run(crafted, server, T_UTC + dt.timedelta(minutes=10))
    assert len(later.sent) == 2
    assert stuck["id"] not in [r["id"] for r in rows_of(crafted) if r["status"] == "sent"]
    # Once the lease (15 min) has passed, it is sent: its 2nd attempt.
    after = run(crafted, server, T_UTC + runner.LEASE + dt.timedelta(minutes=1))
    assert len(after.sent) == 1
    assert sorted(m["To"] for m in inbox.received) == sorted(f"{x}@example.fr" for x in LOGINS)
    by_id = {r["id"]: r for r in rows_of(crafted)}
    assert (by_id[stuck["id"]]["status"], by_id[stuck["id"]]["attempts"]) == ("sent", 2)
    assert {r["status"] for r in by_id.values()} == {"sent"}
    assert run(crafted, server, T_UTC + dt.timedelta(hours=2)).sent == []
    assert len(inbox.received) == 3


class Killed(BaseException):
    """Stands for a kill -9: nothing after it runs, not even an except Exception."""


def test_death_between_the_servers_250_and_the_update_sends_twice(crafted, smtp_server):
    inbox, server = smtp_server()
    config = smtp.parse_url(server, timeout=10)
    calls = []

    def accepted_then_killed(message):
        smtp.send(config, message)
        calls.append(message["Message-ID"])
        if len(calls) == 1:
            raise Killed

    with pytest.raises(Killed):
        runner.deliver(dbmod.get_engine(crafted), T_UTC, accepted_then_killed, FROM, PUBLIC)
    assert len(inbox.received) == 1
    first = inbox.received[0]
    (stuck,) = [r for r in rows_of(crafted) if r["status"] == "sending"]
    # Before the lease passes, a run sends the two others and leaves that one alone.
    assert len(run(crafted, server, T_UTC + dt.timedelta(minutes=5),
                   mailer=accepted_then_killed).sent) == 2
    assert len(inbox.to(first["To"])) == 1
    # After it, the message goes again: the documented at-least-once window.
    again = run(crafted, server, T_UTC + runner.LEASE + dt.timedelta(minutes=1),
                mailer=accepted_then_killed)
    assert len(again.sent) == 1
    copies = inbox.to(first["To"])
    assert len(copies) == 2 and copies[0]["Message-ID"] == copies[1]["Message-ID"]
    assert copies[0]["Message-ID"] == f"<delivery-{stuck['id']}-daily-2026-12-04@dashboard.example>"
    assert len(inbox.received) == 4  # 3 messages, one of them twice
    assert {(r["status"]) for r in rows_of(crafted)} == {"sent"}
