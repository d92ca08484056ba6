"""Scheduled e-mails: what is due when, each message built as its reader (scope), a real
SMTP server on the loopback, exactly-once under reruns and concurrent runs, retries.

The crafted database (figures worked by hand below), local day D = Friday 04/12/2026:
Rouen on D — a1 answers 2 calls (wait 10 s, talk 100 s), a2 one (wait 30 s, talk 300 s),
a3 one (wait 10 s, talk 240 s); one call abandoned after 60 s, one after 2 s (short,
< 5 s); two e-mails, one replied by a1 an hour later.
  received = 4 answered + 2 abandoned = 6; short abandons 1
  answer rate = 4 / (6 − 1) = 80,0 %; service level = 3 within 20 s / (6 − 1) = 60,0 %
  e-mails 2 received, 1 replied, within 48 h 1/2 = 50,0 %
Rouen on D−7 (27/11) — a1 answers 2 calls (wait 5 s, talk 120 s): 2 received, 100,0 %.
Chartres on D — c1 answers 7 calls after 40 s, 3 abandoned after 100 s; 3 e-mails, none
replied: 10 received, 7/10 = 70,0 %, SL 0/10 = 0,0 %, e-mails 3 / 0 / 0,0 %.
Both sites on D: 16 received, 11 answered, 1 short: 11/15 = 73,3 %, SL 3/15 = 20,0 %;
e-mails 5 received, 1 replied, 1/5 = 20,0 %.
"""

from __future__ import annotations

import asyncio
import re
import datetime as dt
import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import select, update

from dashboard.cli.main import main
from dashboard.core.formatting import NNBSP
from dashboard.delivery import due, messages, runner, smtp
from dashboard.store import database as dbmod
from dashboard.store import schema
from dashboard.store import subscriptions as subs
from dashboard.store.users import save_user
from dashboard.core.access import User
from tests.factories import Rows

D = dt.date(2026, 12, 4)
T = dt.datetime(2026, 12, 5, 6, 30)  # local: D+1 06:30, the daily message of D is due
T_UTC = due.to_utc(T)  # 05:30 UTC (CET = UTC+1)
FROM = "tableau@dashboard.example"
PUBLIC = "https://dash.example.fr"


def pct(text: str) -> str:
    """A French percentage as fr_percent writes it: "80,0 %" with a narrow space."""
    return text.replace(" %", f"{NNBSP}%")


def shows(value: str, text: str) -> bool:
    """Whether TEXT shows VALUE as a whole number ("0,0 %" is not in "80,0 %")."""
    return re.search(rf"(?<![\d,]){re.escape(pct(value))}", text) is not None


# --------------------------------------------------------------------- SMTP server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping what it accepted; it can refuse the first N DATA
    commands (451) or stall on the first one for STALL seconds."""

    def __init__(self, refuse_first: int = 0, stall: float = 0.0) -> None:
        self.refuse_first = refuse_first
        self.stall = stall
        self.data_commands = 0
        self.stalled = threading.Event()
        self.received: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        if self.data_commands <= self.refuse_first:
            return "451 4.3.0 Try again later"
        if self.stall and self.data_commands == 1:
            self.stalled.set()
            await asyncio.sleep(self.stall)
            if server.transport is None or server.transport.is_closing():
                return "451 4.4.2 Client gone"  # never accepted: the client is dead
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        msg["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.received.append(msg)
        return "250 2.0.0 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        """The messages received for ADDRESS."""
        return [m for m in self.received if m["To"] == address]


@pytest.fixture
def smtp_server():
    """Start a loopback SMTP server with a given Inbox; stopped after the test."""
    started = []

    def start(inbox: Inbox | None = None) -> tuple[Inbox, str]:
        inbox = inbox or Inbox()
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return inbox, f"smtp://127.0.0.1:{port}"

    yield start
    for controller in started:
        controller.stop()


def parts(msg) -> tuple[str, str]:
    """(plain text, HTML) of a received message."""
    return tuple(msg.get_body((kind,)).get_content().replace("\r\n", "\n")
                 for kind in ("plain", "html"))


# ---------------------------------------------------------------------- the database

def craft(url: str) -> None:
    """The two sites' rows of the module docstring, and five users."""
    rows = Rows(url)
    day, week_before = "2026-12-04", "2026-11-27"
    for _ in range(2):
        rows.call(f"{day} 10:00", wait=10, talk=100, agent="a1")
    rows.call(f"{day} 10:05", wait=30, talk=300, agent="a2")
    rows.call(f"{day} 10:10", wait=10, talk=240, agent="a3")
    rows.call(f"{day} 10:15", outcome="abandoned", wait=60, agent=None)
    rows.call(f"{day} 10:20", outcome="abandoned", wait=2, agent=None)
    rows.email(f"{day} 09:00", replied=f"{day} 10:00", agent="a1")
    rows.email(f"{day} 09:30")
    for _ in range(2):
        rows.call(f"{week_before} 10:00", wait=5, talk=120, agent="a1")
    for _ in range(7):
        rows.call(f"{day} 11:00", wait=40, site="chartres", department="28", agent="c1")
    for _ in range(3):
        rows.call(f"{day} 11:30", outcome="abandoned", wait=100, site="chartres",
                  department="28", agent=None)
    for _ in range(3):
        rows.email(f"{day} 08:00", site="chartres", department="28")
    with dbmod.get_engine(url).begin() as conn:
        for user in (User("sup.rouen", "supervisor", site="rouen", display_name="Sup Rouen"),
                     User("sup.chartres", "supervisor", site="chartres"),
                     User("dir", "national", display_name="Direction"),
                     User("agent.a1", "agent", site="rouen", agent_id="a1",
                          display_name="Alice Agent"),
                     User("agent.a2", "agent", site="rouen", agent_id="a2")):
            save_user(conn, user)


@pytest.fixture
def crafted(db_url):
    craft(db_url)
    return db_url


def subscribe(url: str, login: str, kind: str = "daily", address: str | None = None) -> int:
    with dbmod.get_engine(url).begin() as conn:
        return subs.add_subscription(conn, login, kind, address or f"{login}@example.fr",
                                     now=T_UTC - dt.timedelta(days=1))


def run(url: str, server_url: str, now: dt.datetime = T_UTC, mailer=None) -> runner.Summary:
    """One delivery run at NOW (naive UTC) against the server at SERVER_URL."""
    config = smtp.parse_url(server_url, timeout=10)
    return runner.deliver(dbmod.get_engine(url), now,
                          mailer or (lambda m: smtp.send(config, m)), FROM, PUBLIC,
                          scrub=config.scrub)


def rows_of(url: str) -> list[dict]:
    with dbmod.get_engine(url).connect() as conn:
        return [dict(r) for r in conn.execute(
            select(schema.deliveries).order_by(schema.deliveries.c.id)).mappings()]


# ------------------------------------------------------------------------- due times

def test_daily_is_due_from_six_local_the_next_day():
    # D+1 05:59 local: D's message is not due yet; the latest due is D−1's.
    assert due.latest_due("daily", due.to_utc(dt.datetime(2026, 12, 5, 5, 59))).key == \
        "daily:2026-12-03"
    period = due.latest_due("daily", due.to_utc(dt.datetime(2026, 12, 5, 6, 0)))
    assert period.key == "daily:2026-12-04"
    # 06:00 in Paris in December is 05:00 UTC (UTC+1); in July 04:00 UTC (UTC+2).
    assert period.due_at == dt.datetime(2026, 12, 5, 5, 0)
    assert due.daily_period(dt.date(2026, 7, 1)).due_at == dt.datetime(2026, 7, 2, 4, 0)
    assert period.previous().key == "daily:2026-11-27"


def test_weekly_is_the_last_complete_iso_week_from_monday_seven():
    # Monday 07/12/2026: before 07:00 the last week due is 23–29/11 (ISO week 48), from
    # 07:00 it is 30/11–06/12 (week 49: 2026's week 1 starts on Monday 29/12/2025, and
    # 30/11 is 336 days = 48 weeks after it).
    early = due.latest_due("weekly", due.to_utc(dt.datetime(2026, 12, 7, 6, 59)))
    assert early.key == "weekly:2026-W48"
    late = due.latest_due("weekly", due.to_utc(dt.datetime(2026, 12, 7, 7, 0)))
    assert (late.key, late.start, late.end) == (
        "weekly:2026-W49", dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    # Mid-week (Friday 11/12), still week 49; keys read back into the same period.
    assert due.latest_due("weekly", due.to_utc(dt.datetime(2026, 12, 11, 12))) == late
    assert due.parse_key("weekly:2026-W49") == late
    assert due.parse_key("daily:2026-12-04") == due.daily_period(D)
    assert due.latest_due("alert", T_UTC) is None


# ------------------------------------------------------------------------- SMTP URL

def test_smtp_url_is_parsed_and_its_password_never_shown():
    config = smtp.parse_url("smtp://mailer%40x.fr:s3cr%3At@mail.example.fr:587?starttls=1")
    assert (config.host, config.port, config.user, config.password, config.starttls,
            config.ssl) == ("mail.example.fr", 587, "mailer@x.fr", "s3cr:t", True, False)
    assert "s3cr" not in repr(config) and "s3cr" not in config.masked
    assert config.scrub("535 bad password s3cr:t") == "535 bad password ***"
    assert smtp.parse_url("smtps://h").port == 465 and smtp.parse_url("smtp://h").port == 25
    for bad in ("http://u:hunter2@h", "smtp://u:hunter2@h?starttls=maybe",
                "smtp://u:hunter2@h?tls=1", "smtps://u:hunter2@h?starttls=1",
                "smtp://u:hunter2@:25"):
        with pytest.raises(smtp.SmtpUrlError) as info:
            smtp.parse_url(bad)
        assert "hunter2" not in str(info.value) and "***" in str(info.value)


def test_a_refused_login_is_stored_without_the_password(crafted, smtp_server):
    inbox, server = smtp_server()
    subscribe(crafted, "sup.rouen")
    # The loopback server offers no AUTH: the login fails, every attempt is refused.
    summary = run(crafted, server.replace("smtp://", "smtp://bob:hunter2@"))
    assert summary.sent == [] and len(summary.retry) == 1
    (row,) = rows_of(crafted)
    assert row["error"] and "hunter2" not in row["error"] and row["attempts"] == 1
    assert inbox.received == []


# ------------------------------------------------------------- messages and scopes

def test_supervisor_daily_message_holds_its_site_only(crafted, smtp_server):
    inbox, server = smtp_server()
    subscribe(crafted, "sup.rouen")
    summary = run(crafted, server)
    assert len(summary.sent) == 1
    (msg,) = inbox.to("sup.rouen@example.fr")
    assert msg["Subject"] == "Tableau de bord – activité du 04/12/2026 – Rouen"
    assert msg["From"] == FROM and msg["X-Envelope-To"] == "sup.rouen@example.fr"
    text, html = parts(msg)
    lines = {line.split("  ")[0]: line.split() for line in text.splitlines() if "  " in line}
    # Label, D, D−7: received 6 vs 2; answered 4 vs 2.
    assert lines["Appels reçus"][-2:] == ["6", "2"]
    assert lines["Appels décrochés"][-2:] == ["4", "2"]
    assert pct("80,0 %") in text and pct("60,0 %") in text and pct("100,0 %") in text
    assert pct("50,0 %") in html
    for chartres in ("Chartres", "chartres"):
        assert chartres not in text and chartres not in html
    for chartres in ("70,0 %", "73,3 %", "0,0 %", "20,0 %"):
        assert not shows(chartres, text) and not shows(chartres, html)
    assert f"{PUBLIC}/aujourdhui?jour=2026-12-04" in html
    assert f"{PUBLIC}/aujourdhui?jour=2026-12-04" in text


def test_directorate_daily_message_holds_both_sites_and_their_total(crafted, smtp_server):
    inbox, server = smtp_server()
    subscribe(crafted, "dir")
    run(crafted, server)
    (msg,) = inbox.to("dir@example.fr")
    assert msg["Subject"] == "Tableau de bord – activité du 04/12/2026 – tous les sites"
    text, _ = parts(msg)
    blocks = text.split("\n\n")
    total = next(b for b in blocks if b.startswith("Ensemble des sites"))
    rouen = next(b for b in blocks if b.startswith("Rouen"))
    chartres = next(b for b in blocks if b.startswith("Chartres"))
    assert "16" in total.splitlines()[2] and pct("73,3 %") in total
    assert pct("20,0 %") in total  # SL 3/15 and e-mails within 48 h 1/5
    assert pct("80,0 %") in rouen and pct("70,0 %") in chartres and shows("0,0 %", chartres)


def test_agent_daily_message_holds_own_figures_and_the_team_median(crafted, smtp_server):
    inbox, server = smtp_server()
    subscribe(crafted, "agent.a1")
    run(crafted, server)
    (msg,) = inbox.to("agent.a1@example.fr")
    assert msg["Subject"] == "Tableau de bord – activité du 04/12/2026 – Rouen"
    text, html = parts(msg)
    lines = {line.split("  ")[0]: line for line in text.splitlines() if "  " in line}
    # a1: 2 calls answered (a2 1, a3 1: median 1), 1 e-mail replied (median of 1, 0, 0 is
    # 0), AHT 100 s (a2 300 s, a3 240 s: median of 100, 240, 300 is 240 s = 4 min 00 s);
    # on 27/11: 2 calls, AHT 120 s, no e-mail replied (0: a count of a day a1 worked).
    assert lines["Appels décrochés"].split()[-3:] == ["2", "1", "2"]
    assert lines["Courriels traités"].split()[-3:] == ["1", "0", "0"]
    aht = lines["Durée moyenne de traitement"]
    assert aht.index(f"1{NNBSP}min{NNBSP}40{NNBSP}s") < aht.index(f"4{NNBSP}min{NNBSP}00{NNBSP}s")
    assert f"2{NNBSP}min{NNBSP}00{NNBSP}s" in aht
    # Nobody else's own figure: a2's 300 s, any agent id, the other site.
    for other in (f"5{NNBSP}min", "a2", "a3", "Chartres", "c1"):
        assert other not in text and other not in html
    assert "Alice Agent" in text
    assert f"{PUBLIC}/mes-statistiques?periode=2026-12-04&periode=2026-12-04" in text


def test_agent_with_no_activity_and_a_day_with_no_data_say_so(crafted, smtp_server):
    inbox, server = smtp_server()
    with dbmod.get_engine(crafted).begin() as conn:
        save_user(conn, User("agent.a9", "agent", site="rouen", agent_id="a9"))
    subscribe(crafted, "agent.a9")
    subscribe(crafted, "sup.chartres")
    run(crafted, server)
    text, _ = parts(inbox.to("agent.a9@example.fr")[0])
    assert "Aucune activité enregistrée à votre nom le 04/12/2026." in text
    # Tuesday 08/12 06:30: the 07/12 is due, and nothing was imported for it.
    run(crafted, server, due.to_utc(dt.datetime(2026, 12, 8, 6, 30)))
    latest = inbox.to("sup.chartres@example.fr")[-1]
    assert latest["Subject"] == "Tableau de bord – activité du 07/12/2026 – Chartres"
    text, html = parts(latest)
    assert "Aucune donnée importée pour le 07/12/2026" in text and "%" not in text


def test_page_paths_are_the_apps():
    from dashboard.ui.navigation import PAGES

    paths = {p.url_path: p.roles for p in PAGES}
    assert "supervisor" in paths[messages.MANAGER_PAGE]
    assert "national" in paths[messages.MANAGER_PAGE]
    assert paths[messages.AGENT_PAGE] == ("agent",)
    assert "national" in paths[messages.REVIEW_PAGE]
    assert "supervisor" in paths[messages.SITE_WEEK_PAGE]


@pytest.mark.timeout(120)
def test_weekly_message_is_the_review_report_of_the_scope(crafted, smtp_server):
    """Slower (several seconds): the review report renders its charts to SVG."""
    inbox, server = smtp_server()
    subscribe(crafted, "sup.rouen", "weekly")
    subscribe(crafted, "agent.a1", "weekly")
    run(crafted, server, due.to_utc(dt.datetime(2026, 12, 7, 7, 5)))
    (msg,) = inbox.to("sup.rouen@example.fr")
    assert msg["Subject"] == ("Tableau de bord – bilan de la semaine du 30/11/2026 au "
                              "06/12/2026 – Rouen")
    text, html = parts(msg)
    assert "<svg" in html and "<img" not in html and "Chartres" not in html
    assert f"{PUBLIC}/effectifs?periode=2026-11-30&amp;periode=2026-12-06" in html
    assert "Objectifs" in text
    (mine,) = inbox.to("agent.a1@example.fr")
    text, _ = parts(mine)
    # The week 30/11–06/12 holds D only for a1: the same 2 calls and 1 reply.
    lines = {line.split("  ")[0]: line for line in text.splitlines() if "  " in line}
    assert lines["Appels décrochés"].split()[-3:] == ["2", "1", "2"]


# ------------------------------------------------------------------- exactly once

def test_a_rerun_at_the_same_time_sends_nothing_again(crafted, smtp_server):
    inbox, server = smtp_server()
    for login in ("sup.rouen", "dir", "agent.a1"):
        subscribe(crafted, login)
    first = run(crafted, server)
    assert (len(first.sent), first.planned) == (3, 3)
    second = run(crafted, server)
    assert (second.sent, second.planned) == ([], 0)
    # An hour later, still the same period: nothing more either.
    assert run(crafted, server, T_UTC + dt.timedelta(hours=1)).sent == []
    assert len(inbox.received) == 3
    assert [(r["status"], r["attempts"], r["period"]) for r in rows_of(crafted)] == \
        [("sent", 1, "daily:2026-12-04")] * 3
    # The next day, the next period; and never the back-fill of older days.
    run(crafted, server, T_UTC + dt.timedelta(days=1))
    assert [r["period"] for r in rows_of(crafted)][3:] == ["daily:2026-12-05"] * 3
    assert len(inbox.received) == 6


def test_a_claim_is_taken_by_one_runner_only(crafted):
    subscribe(crafted, "sup.rouen")
    engine = dbmod.get_engine(crafted)
    runner.plan(engine, T_UTC)
    (delivery_id,) = runner.candidates(engine, T_UTC)
    assert runner.claim(engine, delivery_id, T_UTC, "first") is True
    assert runner.claim(engine, delivery_id, T_UTC, "second") is False
    # Before the lease passes nobody else may take it; after it, the next run may.
    assert runner.claim(engine, delivery_id, T_UTC + runner.LEASE / 2, "second") is False
    assert runner.claim(engine, delivery_id, T_UTC + runner.LEASE, "second") is True
    (row,) = rows_of(crafted)
    assert (row["status"], row["attempts"], row["claim_token"]) == ("sending", 2, "second")


def test_two_runners_at_once_send_each_message_once(crafted, smtp_server):
    inbox, server = smtp_server()
    logins = ("sup.rouen", "sup.chartres", "dir", "agent.a1", "agent.a2")
    for login in logins:
        subscribe(crafted, login)
    config = smtp.parse_url(server, timeout=10)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def mailer(message):
        smtp.send(config, message)

    def one_run():
        try:
            barrier.wait(timeout=10)
            results.append(runner.deliver(dbmod.get_engine(crafted), T_UTC, mailer, FROM,
                                          PUBLIC))
        except Exception as exc:  # reported below, a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(len(r.sent) for r in results) == 5
    assert sorted(m["To"] for m in inbox.received) == sorted(f"{x}@example.fr" for x in logins)
    assert {(r["status"], r["attempts"]) for r in rows_of(crafted)} == {("sent", 1)}


# ------------------------------------------------------------------------ retries

def test_a_refused_message_is_retried_after_its_back_off(crafted, smtp_server):
    inbox, server = smtp_server(Inbox(refuse_first=2))
    subscribe(crafted, "sup.rouen")
    minutes = dt.timedelta(minutes=1)
    first = run(crafted, server)
    assert first.sent == [] and "451" in first.retry[0]
    (row,) = rows_of(crafted)
    # 1st refusal: 5 min of back-off from the run's time.
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == (
        "pending", 1, T_UTC + 5 * minutes)
    assert "451" in row["error"]
    assert run(crafted, server, T_UTC + 4 * minutes).retry == []  # not yet
    assert rows_of(crafted)[0]["attempts"] == 1
    second = run(crafted, server, T_UTC + 5 * minutes)
    assert len(second.retry) == 1
    # 2nd refusal: 10 min from that run, T + 5 + 10.
    assert rows_of(crafted)[0]["next_attempt_at"] == T_UTC + 15 * minutes
    assert run(crafted, server, T_UTC + 14 * minutes).sent == []
    third = run(crafted, server, T_UTC + 15 * minutes)
    assert len(third.sent) == 1
    (row,) = rows_of(crafted)
    assert (row["status"], row["attempts"], row["error"]) == ("sent", 3, None)
    assert inbox.data_commands == 3 and len(inbox.received) == 1


def test_a_message_refused_five_times_is_failed_and_reported(crafted, smtp_server):
    inbox, server = smtp_server(Inbox(refuse_first=99))
    subscribe(crafted, "sup.rouen")
    minutes = dt.timedelta(minutes=1)
    # Attempts at T, then after 5, 10, 20 and 40 minutes of back-off: T+5, T+15, T+35, T+75.
    for at in (0, 5, 15, 35):
        assert len(run(crafted, server, T_UTC + at * minutes).retry) == 1
    last = run(crafted, server, T_UTC + 75 * minutes)
    assert last.retry == [] and len(last.failed) == 1
    (row,) = rows_of(crafted)
    assert (row["status"], row["attempts"]) == ("failed", 5)
    assert run(crafted, server, T_UTC + 300 * minutes).failed == []  # given up for good
    assert inbox.data_commands == 5
    with dbmod.get_engine(crafted).connect() as conn:
        failed = subs.failed_deliveries(conn)
    assert failed.select("login", "email", "kind", "period", "attempts").rows() == [
        ("sup.rouen", "sup.rouen@example.fr", "daily", "daily:2026-12-04", 5)]
    assert "451" in failed["error"][0]


def test_a_disabled_user_receives_nothing(crafted, smtp_server):
    inbox, server = smtp_server()
    subscribe(crafted, "sup.rouen")
    engine = dbmod.get_engine(crafted)
    runner.plan(engine, T_UTC)  # recorded while active …
    with engine.begin() as conn:  # … then disabled before the send
        conn.execute(update(schema.users).where(schema.users.c.login == "sup.rouen")
                     .values(active=False))
    summary = run(crafted, server)
    assert summary.sent == [] and len(summary.failed) == 1 and inbox.received == []
    assert rows_of(crafted)[0]["status"] == "failed"


# ---------------------------------------------------------------------------- CLI

def test_deliver_command_sends_and_reports_in_one_line(crafted, smtp_server, monkeypatch):
    inbox, server = smtp_server()
    subscribe(crafted, "sup.rouen")
    monkeypatch.setenv("DASHBOARD_SMTP_URL", server)
    monkeypatch.setenv("DASHBOARD_MAIL_FROM", FROM)
    monkeypatch.setenv("DASHBOARD_PUBLIC_URL", PUBLIC + "/")
    result = CliRunner().invoke(main, ["deliver", "--now", "2026-12-05T06:30", "--db", crafted])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "deliver at 2026-12-05 06:30 (Europe/Paris): 1 sent, 0 to retry, 0 failed (1 new due)")
    assert len(inbox.received) == 1
    again = CliRunner().invoke(main, ["deliver", "--now", "2026-12-05T05:31+00:00",
                                      "--db", crafted])
    assert again.output.splitlines()[-1].endswith("0 sent, 0 to retry, 0 failed (0 new due)")
    monkeypatch.setenv("DASHBOARD_SMTP_URL", "smtp://u:hunter2@h?starttls=2")
    bad = CliRunner().invoke(main, ["deliver", "--db", crafted])
    assert bad.exit_code == 1 and len(bad.output.splitlines()) == 1
    assert "hunter2" not in bad.output
    monkeypatch.delenv("DASHBOARD_SMTP_URL")
    unset = CliRunner().invoke(main, ["deliver", "--db", crafted])
    assert unset.output == "Error: DASHBOARD_SMTP_URL is not set: no mail server to send to\n"


def test_deliver_on_a_schema_without_the_tables_says_so(sqlite_url, monkeypatch):
    dbmod.upgrade(sqlite_url, "0014")
    monkeypatch.setenv("DASHBOARD_SMTP_URL", "smtp://127.0.0.1:1")
    monkeypatch.setenv("DASHBOARD_MAIL_FROM", FROM)
    result = CliRunner().invoke(main, ["deliver", "--db", sqlite_url])
    assert result.exit_code == 1
    assert result.output == ("Error: no subscriptions table in this database: run "
                             "`python -m dashboard db upgrade` first\n")


def test_public_url_setting(monkeypatch):
    from dashboard.core import config

    monkeypatch.delenv("DASHBOARD_PUBLIC_URL", raising=False)
    assert config.public_url() == "http://localhost:8501"
    monkeypatch.setenv("DASHBOARD_PUBLIC_URL", "https://tdb.example.fr/app/")
    assert config.public_url() == "https://tdb.example.fr/app"
    assert messages.link(config.public_url(), "aujourdhui", D, D) == \
        "https://tdb.example.fr/app/aujourdhui?jour=2026-12-04"
    assert messages.link(config.public_url(), "bilan", D - dt.timedelta(days=6), D) == \
        "https://tdb.example.fr/app/bilan?periode=2026-11-28&periode=2026-12-04"


def test_a_claim_left_by_a_dead_run_on_its_last_attempt_is_failed(crafted, smtp_server):
    inbox, server = smtp_server()
    subscribe(crafted, "sup.rouen")
    engine = dbmod.get_engine(crafted)
    runner.plan(engine, T_UTC)
    with engine.begin() as conn:  # as a 5th attempt's claim left by a killed run
        conn.execute(update(schema.deliveries).values(
            status="sending", attempts=5, claim_token="dead", lease_until=T_UTC))
    summary = run(crafted, server, T_UTC + dt.timedelta(minutes=1))
    assert summary.sent == [] and summary.failed == [
        "1 message(s) interrupted on their last attempt"]
    (row,) = rows_of(crafted)
    assert (row["status"], row["attempts"], row["error"]) == ("failed", 5, runner.INTERRUPTED)
    assert inbox.received == []
