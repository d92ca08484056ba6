"""The real "Anonymous Bank" call log through its mapping file and the importer.

Every expected figure is computed here from the TSV with the csv module in plain Python,
not with the mapping's code: the test restates the rules in its own words.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import statistics
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dashboard.ingest import ingest_file
from dashboard.store import database as dbmod
from dashboard.store import schema

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "examples" / "anonymous-bank.toml"
TSV = "anonymous-bank-1999-02.tsv"
SECRET = "bank-example-secret"


def secs(clock: str) -> int:
    h, m, s = clock.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s)


@pytest.fixture
def calls(shared_data):
    """The TSV's rows (skips, with the reason, where ../shared/data is absent)."""
    path = shared_data / TSV
    if not path.is_file():
        pytest.skip(f"{path} is absent: the real data sets live outside the repository")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_bank_figures(db_url, shared_data, calls, tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_CALLER_KEY_SECRET", SECRET)
    report = ingest_file(db_url, "contacts", shared_data / TSV, mapping=MAPPING,
                         quarantine_dir=tmp_path / "q")

    agent = [c for c in calls if c["outcome"] == "AGENT"]
    hang = [c for c in calls if c["outcome"] == "HANG"]
    phantom = [c for c in calls if c["outcome"] == "PHANTOM"]
    # The data set's documentation: "0:00:00" in q_start means the call never queued. A
    # HANG that never queued ended in the voice response unit (outcome ivr); the others
    # abandoned the queue, and those with a service time keep none (no talk for them).
    ivr = [c for c in hang if c["q_start"] == "0:00:00"]
    abandoned = [c for c in hang if c["q_start"] != "0:00:00"]
    hang_served = [c for c in hang if int(c["ser_time"]) > 0]
    assert (len(calls), len(agent), len(hang), len(phantom), len(hang_served)) == (
        33344, 27162, 5904, 278, 97)  # the data set
    assert (len(ivr), len(abandoned)) == (1941, 3963)

    assert report.source == "anonymous-bank"  # the mapping's default
    assert report.rows_read == len(calls)
    assert report.skipped_by_reason == {"PHANTOM call": len(phantom)}
    # Every row accounted for: read = skipped + loaded + rejected, and nothing rejected.
    assert report.inserted == len(agent) + len(hang)
    assert report.rows_read == report.skipped + report.inserted + report.rejected
    assert report.rejected == 0 and report.rejected_by_reason == {}
    assert report.exit_code == 0

    served = agent + hang  # every row that is not a PHANTOM is stored
    short = [h for h in abandoned if int(h["q_time"]) < 5]
    c = schema.contacts.c
    with dbmod.get_engine(db_url).connect() as conn:
        def scalar(*what, where=()):
            return conn.execute(select(*what).where(c.site == "bank", *where)).scalar_one()

        assert scalar(func.count(), where=[c.outcome == "answered"]) == len(agent)
        assert scalar(func.count(), where=[c.outcome == "abandoned"]) == len(abandoned)
        assert scalar(func.count(), where=[c.outcome == "ivr"]) == len(ivr)
        # Service time only for served calls: no abandon or ivr call has talk.
        assert scalar(func.count(), where=[c.outcome != "answered", c.talk_seconds > 0]) == 0
        assert scalar(func.count(), where=[c.outcome == "abandoned", c.wait_seconds < 5]) == \
            len(short)
        mean_wait = scalar(func.avg(c.wait_seconds), where=[c.outcome == "answered"])
        assert float(mean_wait) == pytest.approx(statistics.fmean(int(a["q_time"])
                                                                  for a in agent), abs=1e-9)
        mean_talk = scalar(func.avg(c.talk_seconds), where=[c.outcome == "answered"])
        assert float(mean_talk) == pytest.approx(statistics.fmean(int(a["ser_time"])
                                                                  for a in agent), abs=1e-9)
        within_20 = scalar(func.count(), where=[c.outcome == "answered", c.wait_seconds <= 20])
        assert within_20 == sum(int(a["q_time"]) <= 20 for a in agent)
        servers = {a["server"] for a in agent if a["server"] != "NO_SERVER"}
        assert scalar(func.count(c.agent_id.distinct())) == len(servers)
        assert scalar(func.count(), where=[c.outcome == "answered", c.agent_id.is_(None)]) == (
            sum(a["server"] == "NO_SERVER" for a in agent))
        assert scalar(func.count(c.queue.distinct())) == len({x["type"] for x in served})
        identified = [x for x in served if x["customer_id"] != "0"]
        assert scalar(func.count(c.caller_key)) == len(identified)
        assert scalar(func.count(c.caller_key.distinct())) == len(
            {x["customer_id"] for x in identified})

        # Received when queued, else when leaving the voice menu; a time more than 12 h
        # before vru_entry is on the next day (Israel: UTC+2 in February).
        def received(x):
            clock = x["q_start"] if x["q_start"] != "0:00:00" else x["vru_exit"]
            day = dt.date(1999, int(x["date"][2:4]), int(x["date"][4:]))
            if secs(clock) < secs(x["vru_entry"]) - 12 * 3600:
                day += dt.timedelta(days=1)
            local = dt.datetime.combine(day, dt.time(), ZoneInfo("Asia/Jerusalem")) + \
                dt.timedelta(seconds=secs(clock))
            return local.astimezone(dt.UTC).replace(tzinfo=None), day

        stored = {r.contact_id: (r.received_at, r.local_date) for r in conn.execute(
            select(c.contact_id, c.received_at, c.local_date).where(c.site == "bank"))}
        expected = {f"{x['date']}-{x['vru+line']}-{x['call_id']}": received(x) for x in served}
        assert stored == expected
        # The (site, local day) pairs the import reports for refreshing rollups.
        assert report.touched == {("bank", day) for _, day in expected.values()}
        wrapped = [x for x in served if secs(x["q_start"] if x["q_start"] != "0:00:00"
                                             else x["vru_exit"]) < secs(x["vru_entry"]) - 43200]
        assert wrapped  # the file does cross midnight

        # Caller ids are hashed with the secret; the raw ids are nowhere.
        known = next(a for a in agent if a["customer_id"] not in ("0", ""))
        key = f"{known['date']}-{known['vru+line']}-{known['call_id']}"
        expected_key = hmac.new(SECRET.encode(), known["customer_id"].encode(),
                                hashlib.sha256).hexdigest()
        assert conn.execute(select(c.caller_key).where(c.contact_id == key)).scalar_one() == \
            expected_key
        assert scalar(func.count(), where=[c.caller_key == known["customer_id"]]) == 0

    # The month's figures through the engine (metrics.md), against the counts above.
    from dashboard.core.access import ALL_ROWS
    from dashboard.core.filters import Filters
    from dashboard.engine.kpis import compute_kpis

    kpis = compute_kpis(dbmod.get_engine(db_url), Filters(
        start=dt.date(1999, 2, 1), end=dt.date(1999, 3, 1), sites=("bank",), scope=ALL_ROWS))
    row = kpis.row(0, named=True)
    received = len(agent) + len(abandoned)  # answered + abandoned + deflected (none here)
    assert (row["received"], row["ivr_ended"], row["abandoned"]) == (
        received, len(ivr), len(abandoned))
    assert row["answer_rate"] == pytest.approx(len(agent) / (received - len(short)))
    in_sl = sum(int(a["q_time"]) <= 20 for a in agent)
    assert row["service_level"] == pytest.approx(in_sl / (received - len(short)))


def test_bank_reimport_changes_nothing(sqlite_url, shared_data, calls, tmp_path, monkeypatch):
    """The same export twice: every row unchanged, no duplicate."""
    from dashboard.store import reference

    dbmod.upgrade(sqlite_url)
    reference.load_reference(dbmod.get_engine(sqlite_url))
    monkeypatch.setenv("DASHBOARD_CALLER_KEY_SECRET", SECRET)
    first = ingest_file(sqlite_url, "contacts", shared_data / TSV, mapping=MAPPING,
                        quarantine_dir=tmp_path)
    again = ingest_file(sqlite_url, "contacts", shared_data / TSV, mapping=MAPPING,
                        quarantine_dir=tmp_path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.inserted)
    assert again.touched == set()
    with dbmod.get_engine(sqlite_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.contacts)).scalar_one() \
            == first.inserted
