"""Threshold alerts: the pure decisions by hand, the [[alerts]] reference entries, then
firing and recovery on a crafted day through real `deliver` runs against a loopback SMTP
server, and the Aujourd'hui page under AppTest.

The crafted day D = Friday 04/12/2026 (Europe/Paris, UTC+1), thresholds of the test file:
Rouen answer_rate below 0.85 over 60 min; Chartres answer_rate below 0.85 over 60 min.
Rouen, half-hours 09:00 and 09:30: 4 calls each, 3 answered (wait 10 s), 1 abandoned
after 60 s (not short): answer rate 3 / (4 − 0) = 75,0 % in both → crossed over 09:00–10:00
once the 09:30 half-hour is complete (a contact at 10:00 or later).
Then 10:00: 4 calls, 4 answered: 100,0 % → recovered (from a contact at 10:30 on).
Chartres, 09:00 and 09:30: 2 calls each, both answered: 100,0 %, never crossed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dashboard.cli.main import main
from dashboard.core.formatting import NNBSP
from dashboard.delivery import alerts as delivery_alerts
from dashboard.delivery import due
from dashboard.metrics import alerts as rules
from dashboard.store import database as dbmod
from dashboard.store import reference, schema
from dashboard.store import subscriptions as subs
from dashboard.store.users import save_user
from dashboard.core.access import User
from tests.factories import Rows
from tests.test_delivery import Inbox, parts, smtp_server  # noqa: F401 (the fixture)

D = dt.date(2026, 12, 4)
FROM = "tableau@dashboard.example"
PUBLIC = "https://dash.example.fr"


def pct(text: str) -> str:
    return text.replace(" %", f"{NNBSP}%")


# ------------------------------------------------------------------ pure decisions

AR = rules.Threshold("rouen", "answer_rate", 0.85, 60)  # K = 60 / 30 = 2 half-hours
S9, S930, S10, S1030 = 18, 19, 20, 21  # 09:00 = slot 18 (9 × 2)


def test_complete_half_hours_are_inside_opening_and_before_the_latest_contact():
    # Opening 08:30–19:00: slots 17 (08:30) … 37 (18:30). Latest contact 10:00 local:
    # 08:30, 09:00 and 09:30 end at or before 10:00 → complete; 10:00 does not.
    got = rules.complete_slots(D, "08:30", "19:00", "12345", dt.datetime(2026, 12, 4, 10, 0))
    assert got == [17, 18, 19]
    # 09:59: 09:30 ends at 10:00 > 09:59 → not complete.
    assert rules.complete_slots(D, "08:30", "19:00", "12345",
                                dt.datetime(2026, 12, 4, 9, 59)) == [17, 18]
    # After closing: the last complete slot is 18:30 (37); a Saturday has none.
    late = rules.complete_slots(D, "08:30", "19:00", "12345", dt.datetime(2026, 12, 4, 22))
    assert (late[0], late[-1], len(late)) == (17, 37, 21)
    assert rules.complete_slots(dt.date(2026, 12, 5), "08:30", "19:00", "12345",
                                dt.datetime(2026, 12, 5, 12)) == []
    assert rules.complete_slots(D, "08:30", "19:00", "12345", None) == []
    # Friday 25/12/2026 is Christmas, a public holiday: the site is closed.
    assert rules.complete_slots(dt.date(2026, 12, 25), "08:30", "19:00", "12345",
                                dt.datetime(2026, 12, 25, 12)) == []


def test_crossed_only_when_every_half_hour_of_the_window_is_below():
    complete = [17, S9, S930]
    # 0.75 and 0.72 both below 0.85 → crossed; the value is the nearest: max = 0.75.
    d = rules.decide(AR, {S9: 0.75, S930: 0.72}, complete)
    assert (d.crossed, d.recovered, d.first_slot, d.last_slot, d.value) == (
        True, False, S9, S930, 0.75)
    # One half-hour at 0.85 (not below) breaks it; the latest is right → recovered.
    d = rules.decide(AR, {S9: 0.70, S930: 0.85}, complete)
    assert (d.crossed, d.recovered, d.value) == (False, True, 0.85)
    # A null half-hour (no call) is not crossed and the latest null is not a recovery.
    d = rules.decide(AR, {S9: 0.70, S930: None}, complete)
    assert (d.crossed, d.recovered) == (False, False)
    d = rules.decide(AR, {S9: None, S930: 0.70}, complete)
    assert (d.crossed, d.recovered) == (False, False)  # latest wrong: not recovered
    # Fewer complete half-hours than the window: nothing to decide yet.
    assert rules.decide(AR, {S9: 0.5}, [S9]) is None
    assert rules.decide(AR, {}, []) is None


def test_staffing_gap_fires_below_and_backlog_above():
    gap = rules.Threshold("rouen", "staffing_gap", -1, 30)  # K = 1
    assert rules.decide(gap, {S9: -1.5}, [S9]).crossed is True  # −1.5 < −1
    assert rules.decide(gap, {S9: -1.0}, [S9]).recovered is True  # −1 is not below −1
    backlog = rules.Threshold("rouen", "backlog", 200, 60)
    d = rules.decide(backlog, {}, [S9, S930], day_value=201)
    assert (d.crossed, d.first_slot, d.last_slot, d.value) == (True, S930, S930, 201)
    assert rules.decide(backlog, {}, [S9], day_value=200).recovered is True  # at, not above
    assert rules.decide(backlog, {}, [], day_value=500) is None


def test_one_message_each_way_per_episode():
    crossed = rules.Decision(True, False, S9, S930, 0.7)
    recovered = rules.Decision(False, True, S930, S10, 0.9)
    neither = rules.Decision(False, False, S930, S10, None)
    assert rules.step(crossed, is_open=False) == "open"
    assert rules.step(crossed, is_open=True) is None  # still crossed: no storm
    assert rules.step(neither, is_open=True) is None
    assert rules.step(recovered, is_open=True) == "recover"
    assert rules.step(recovered, is_open=False) is None
    assert rules.step(None, is_open=True) is None


def test_replay_gives_the_days_episodes():
    # 09:00 0.7, 09:30 0.7 → opens on 09:00–10:00 at 0.7; 10:00 0.8 → still below (the
    # window 09:30–10:30 crossed, no new message); 10:30 0.9 → recovers; 11:00 0.5 alone
    # is one half-hour below: not crossed over 60 min; 11:30 0.6 → opens on 11:00–12:00.
    values = {18: 0.7, 19: 0.7, 20: 0.8, 21: 0.9, 22: 0.5, 23: 0.6}
    got = rules.replay(AR, values, [17, 18, 19, 20, 21, 22, 23])
    assert [(e.opened_slot, e.opened_end, e.opened_value, e.closed_slot, e.closed_value)
            for e in got] == [(18, 19, 0.7, 21, 0.9), (22, 23, 0.6, None, None)]
    # The page keeps the stored episodes of a pair, the replayed ones elsewhere.
    stored = rules.Episode("rouen", "answer_rate", 0.85, 60, 19, 20, 0.8)
    other = rules.Episode("chartres", "answer_rate", 0.85, 60, 18, 19, 0.6)
    assert rules.day_view([stored], got + [other]) == [other, stored]


def test_french_lines():
    ep = rules.Episode("rouen", "answer_rate", 0.85, 60, 18, 19, 0.72)
    assert rules.opened_subject(ep, "Rouen") == pct(
        "Alerte – Rouen – taux de décroché sous 85 % : au plus 72,0 % de 09:00 à 10:00")
    assert rules.warning_line(ep) == pct(
        "Taux de décroché sous 85 % depuis 09:00 (au plus 72,0 % par demi-heure sur la "
        "dernière heure, de 09:00 à 10:00)")
    done = rules.Episode("rouen", "answer_rate", 0.85, 60, 18, 19, 0.72, 21, 0.88)
    assert rules.recovered_subject(done, "Rouen") == pct(
        "Fin d'alerte – Rouen – taux de décroché revenu à 88,0 % de 10:30 à 11:00")
    gap = rules.Episode("rouen", "staffing_gap", -2, 30, 18, 18, -2.5)
    assert rules.warning_line(gap).startswith("Écart d'effectif sous −2 agents depuis 09:00 "
                                              "(au plus −2,5")


# ------------------------------------------------------------------ reference file

def test_alert_entries_are_validated_in_one_line(tmp_path):
    base = '[[alerts]]\nsite = "rouen"\nmetric = "{m}"\nthreshold = {t}\n{extra}'
    cases = [
        (dict(m="speed", t=1, extra=""), "metric 'speed' is not one of"),
        (dict(m="answer_rate", t=85, extra=""), "a fraction between 0 and 1"),
        (dict(m="answer_rate", t=0.8, extra="minutes = 45\n"), "multiple of 30 from 30 to"),
        (dict(m="answer_rate", t=0.8, extra="minutes = 270\n"), "multiple of 30 from 30 to"),
        (dict(m="backlog", t=-3, extra=""), "0 or more"),
        (dict(m="backlog", t='"many"', extra=""), "threshold must be a number"),
    ]
    for i, (values, message) in enumerate(cases):
        path = tmp_path / f"bad{i}.toml"
        path.write_text(base.format(**values), encoding="utf-8")
        with pytest.raises(reference.ReferenceError, match=message) as caught:
            reference.read_reference(path)
        assert "\n" not in str(caught.value)
    good = tmp_path / "good.toml"
    good.write_text(base.format(m="staffing_gap", t=-1, extra=""), encoding="utf-8")
    (row,) = reference.read_reference(good)["alerts"]
    assert row == {"site": "rouen", "metric": "staffing_gap", "threshold": -1.0,
                   "minutes": 60}


def test_pilot_thresholds_are_loaded_and_updated(db_url, tmp_path):
    engine = dbmod.get_engine(db_url)
    pilot = reference.read_reference()["alerts"]
    with engine.connect() as conn:
        rows = conn.execute(select(schema.alert_thresholds.c.site,
                                   schema.alert_thresholds.c.metric)).all()
    assert sorted(rows) == sorted((r["site"], r["metric"]) for r in pilot)
    assert {r["site"] for r in pilot} == {"rouen", "chartres"}
    path = tmp_path / "one.toml"
    path.write_text('[[alerts]]\nsite = "rouen"\nmetric = "answer_rate"\nthreshold = 0.5\n'
                    'minutes = 90\n', encoding="utf-8")
    assert reference.load_reference(engine, path)["alerts"] == 1
    with engine.connect() as conn:
        got = conn.execute(select(schema.alert_thresholds.c.threshold,
                                  schema.alert_thresholds.c.minutes).where(
            schema.alert_thresholds.c.site == "rouen",
            schema.alert_thresholds.c.metric == "answer_rate")).one()
    assert tuple(got) == (0.5, 90)


# ------------------------------------------------------------------ the crafted day

def craft(url: str) -> Rows:
    """Thresholds, users and their subscriptions, and the first import of D (module doc):
    Rouen 09:00 and 09:30 at 3/4 each, Chartres at 2/2, one contact at 10:00 on each site
    so that 09:30 is complete."""
    engine = dbmod.get_engine(url)
    with engine.begin() as conn:
        conn.execute(schema.alert_thresholds.delete())
        conn.execute(schema.alert_thresholds.insert(), [
            dict(site="rouen", metric="answer_rate", threshold=0.85, minutes=60),
            dict(site="chartres", metric="answer_rate", threshold=0.85, minutes=60)])
        for user in (User("sup.rouen", "supervisor", site="rouen"),
                     User("sup.chartres", "supervisor", site="chartres"),
                     User("dir", "national"),
                     User("agent.a1", "agent", site="rouen", agent_id="a1")):
            save_user(conn, user)
            subs.add_subscription(conn, user.login, "alert", f"{user.login}@example.fr",
                                  now=dt.datetime(2026, 12, 1))
    rows = Rows(url)
    for start in ("09:00", "09:30"):
        hh, mm = start.split(":")
        for i in range(3):
            rows.call(f"2026-12-04 {hh}:{int(mm) + 5 * i:02d}", wait=10, agent="a1")
        rows.call(f"2026-12-04 {hh}:{int(mm) + 20:02d}", outcome="abandoned", wait=60)
        for i in range(2):
            rows.call(f"2026-12-04 {hh}:{int(mm) + 5 * i:02d}", wait=10, site="chartres",
                      department="28", agent="c1")
    rows.call("2026-12-04 10:00", wait=10, agent="a1")
    rows.call("2026-12-04 10:00", wait=10, site="chartres", department="28", agent="c1")
    return rows


def good_half_hour(rows: Rows) -> None:
    """The rest of Rouen's 10:00 half-hour (3 more answered: 4/4) and a call at 10:30."""
    for minute in (5, 10, 15):
        rows.call(f"2026-12-04 10:{minute:02d}", wait=10, agent="a1")
    rows.call("2026-12-04 10:30", wait=10, agent="a1")


def deliver(url: str, server: str, at: str, monkeypatch):
    monkeypatch.setenv("DASHBOARD_SMTP_URL", server)
    monkeypatch.setenv("DASHBOARD_MAIL_FROM", FROM)
    monkeypatch.setenv("DASHBOARD_PUBLIC_URL", PUBLIC)
    result = CliRunner().invoke(main, ["deliver", "--now", at, "--db", url])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def stored(url: str) -> list[dict]:
    with dbmod.get_engine(url).connect() as conn:
        return [dict(r) for r in conn.execute(
            select(schema.alerts).order_by(schema.alerts.c.id)).mappings()]


def test_an_alert_fires_once_and_recovers_once(db_url, smtp_server, monkeypatch):
    inbox, server = smtp_server()
    rows = craft(db_url)
    # 10:05 local: 09:00 and 09:30 complete, both 3 / (4 − 0 short) = 75,0 % < 85 %.
    out = deliver(db_url, server, "2026-12-04T10:05", monkeypatch)
    assert out[0] == "alerts: 1 opened, 0 recovered, 0 closed at the day change (2 new due)"
    assert sorted(m["To"] for m in inbox.received) == ["dir@example.fr",
                                                        "sup.rouen@example.fr"]
    (alert,) = stored(db_url)
    # Window 09:00–10:00: slot 18 (9 × 2); nearest value of 0.75 and 0.75 is 0.75.
    assert (alert["site"], alert["metric"], alert["local_date"], alert["opened_slot"],
            alert["opened_value"], alert["closed_at"]) == (
        "rouen", "answer_rate", D, 18, 0.75, None)
    assert alert["opened_at"] == due.to_utc(dt.datetime(2026, 12, 4, 10, 5))
    msg = inbox.to("sup.rouen@example.fr")[0]
    assert msg["Subject"] == pct(
        "Alerte – Rouen – taux de décroché sous 85 % : au plus 75,0 % de 09:00 à 10:00")
    text, html = parts(msg)
    assert "Chartres" not in text and "Chartres" not in html
    assert f"{PUBLIC}/aujourdhui?jour=2026-12-04" in text and "<a href=" in html
    # A rerun, and another five minutes later: still crossed, no new message (no storm).
    assert deliver(db_url, server, "2026-12-04T10:05", monkeypatch)[0].startswith(
        "alerts: 0 opened, 0 recovered")
    deliver(db_url, server, "2026-12-04T10:10", monkeypatch)
    assert len(inbox.received) == 2
    # The good half-hour: 10:00 at 4 / 4 = 100,0 %, complete from the 10:30 call.
    good_half_hour(rows)
    out = deliver(db_url, server, "2026-12-04T10:35", monkeypatch)
    assert out[0] == "alerts: 0 opened, 1 recovered, 0 closed at the day change (2 new due)"
    recovered = inbox.received[2:]
    assert sorted(m["To"] for m in recovered) == ["dir@example.fr", "sup.rouen@example.fr"]
    assert recovered[0]["Subject"] == pct(
        "Fin d'alerte – Rouen – taux de décroché revenu à 100,0 % de 10:00 à 10:30")
    (alert,) = stored(db_url)
    assert (alert["closed_slot"], alert["closed_value"]) == (20, 1.0)
    deliver(db_url, server, "2026-12-04T10:40", monkeypatch)
    assert len(inbox.received) == 4  # recovered once
    assert inbox.to("sup.chartres@example.fr") == [] and inbox.to("agent.a1@example.fr") == []


def test_an_alert_left_open_is_closed_at_the_day_change_without_a_message(
        db_url, smtp_server, monkeypatch):
    inbox, server = smtp_server()
    craft(db_url)
    deliver(db_url, server, "2026-12-04T10:05", monkeypatch)
    out = deliver(db_url, server, "2026-12-05T08:00", monkeypatch)
    assert out[0] == "alerts: 0 opened, 0 recovered, 1 closed at the day change (0 new due)"
    (alert,) = stored(db_url)
    assert alert["closed_at"] == due.to_utc(dt.datetime(2026, 12, 5, 8))
    assert alert["closed_value"] is None and len(inbox.received) == 2


def test_an_old_database_fires_nothing(db_url, smtp_server, monkeypatch):
    inbox, server = smtp_server()
    craft(db_url)
    # A week later, D is no longer the local day: no evaluation at all.
    out = deliver(db_url, server, "2026-12-11T10:05", monkeypatch)
    assert out[0].startswith("alerts: 0 opened") and stored(db_url) == []


def test_a_reader_who_may_not_see_the_site_gets_nothing(db_url, smtp_server, monkeypatch):
    inbox, server = smtp_server()
    craft(db_url)
    deliver(db_url, server, "2026-12-04T10:05", monkeypatch)
    (alert,) = stored(db_url)
    engine = dbmod.get_engine(db_url)
    from dashboard.delivery import runner

    with engine.begin() as conn:  # as if recorded for Chartres' supervisor by mistake
        sub = conn.execute(select(schema.subscriptions.c.id).where(
            schema.subscriptions.c.login == "sup.chartres")).scalar_one()
        now = due.to_utc(dt.datetime(2026, 12, 4, 10, 6))
        assert runner.record_due(conn, sub, "alert", f"alert:{alert['id']}:open", now, now)
    deliver(db_url, server, "2026-12-04T10:06", monkeypatch)
    assert inbox.to("sup.chartres@example.fr") == []
    with engine.connect() as conn:
        row = conn.execute(select(schema.deliveries).where(
            schema.deliveries.c.subscription_id == sub)).mappings().one()
    assert (row["status"], row["attempts"]) == ("failed", 1)  # at once, never retried


def test_two_evaluations_at_once_open_one_alert(db_url):
    import threading

    craft(db_url)
    now = due.to_utc(dt.datetime(2026, 12, 4, 10, 5))
    barrier, results, errors = threading.Barrier(2), [], []

    def one():
        try:
            barrier.wait(timeout=10)
            results.append(delivery_alerts.evaluate(dbmod.get_engine(db_url), now))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(len(r.opened) for r in results) == 1 and sum(r.due for r in results) == 2
    assert len(stored(db_url)) == 1


# ------------------------------------------------------------------------- the page

def alert_lines(at) -> list[str]:
    """The page's alert warnings (not the demo mode's own warning)."""
    return [w.value for w in at.warning if w.icon == ":material/notifications_active:"]


@pytest.mark.timeout(300)
def test_the_page_shows_the_days_alerts_within_the_scope(db_url, monkeypatch):
    from tests.apptest import open_page

    rows = craft(db_url)
    # Chartres crosses too: 2 abandoned (60 s) more in each half-hour, 2 / 4 = 50,0 %.
    for start in ("09:10", "09:40"):
        for _ in range(2):
            rows.call(f"2026-12-04 {start}", outcome="abandoned", wait=60, site="chartres",
                      department="28")
    # No `deliver` ran: the page replays the thresholds on the day's figures.
    at = open_page(monkeypatch, db_url, "pages/aujourdhui.py", "sup.rouen", jour="2026-12-04")
    warnings = alert_lines(at)
    assert warnings == [pct("Taux de décroché sous 85 % depuis 09:00 (au plus 75,0 % par "
                            "demi-heure sur la dernière heure, de 09:00 à 10:00)")]
    everything = "\n".join(warnings + [c.value for c in at.caption])
    assert "Chartres" not in everything and pct("50,0 %") not in everything
    # The directorate sees both, each named.
    at = open_page(monkeypatch, db_url, "pages/aujourdhui.py", "dir", jour="2026-12-04")
    warnings = alert_lines(at)
    assert len(warnings) == 2 and warnings[0].startswith("Chartres · ")
    assert pct("au plus 50,0 %") in warnings[0] and warnings[1].startswith("Rouen · ")
    # After the good half-hour, Rouen's alert is shown as recovered, in a caption.
    good_half_hour(rows)
    from dashboard.ui import cache

    cache.day_alerts.clear()
    at = open_page(monkeypatch, db_url, "pages/aujourdhui.py", "sup.rouen", jour="2026-12-04")
    assert alert_lines(at) == []
    assert any(pct("revenu à 100,0 % de 10:00 à 10:30") in c.value for c in at.caption)
