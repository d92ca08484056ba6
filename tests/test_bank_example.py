"""The real "Anonymous Bank" call log through examples/anonymous_bank.py and the importer.

Every expected figure is computed here from the TSV with the csv module in plain Python,
not with the mapping's code: the test restates the rules in its own words.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import statistics
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dashboard import db as dbmod
from dashboard import schema
from dashboard.ingest import ingest_file

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "anonymous_bank.py"
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
    mapped = tmp_path / "bank-contacts.csv"
    done = subprocess.run([sys.executable, str(SCRIPT), str(shared_data / TSV), str(mapped)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    monkeypatch.setenv("DASHBOARD_CALLER_KEY_SECRET", SECRET)
    report = ingest_file(db_url, "contacts", mapped, timezone="Asia/Jerusalem",
                         source="anonymous-bank-1999-02", quarantine_dir=tmp_path / "q")

    agent = [c for c in calls if c["outcome"] == "AGENT"]
    hang = [c for c in calls if c["outcome"] == "HANG"]
    # A caller who hung up cannot have been served: those rows are the importer's to reject.
    hang_served = [c for c in hang if int(c["ser_time"]) > 0]
    assert (len(agent), len(hang), len(hang_served)) == (27162, 5904, 97)  # the data set

    assert report.rows_read == len(agent) + len(hang)
    assert report.inserted == len(agent) + len(hang) - len(hang_served)
    assert report.rejected_by_reason == {"abandoned call with talk_seconds > 0": len(hang_served)}
    assert report.exit_code == 1

    c = schema.contacts.c
    with dbmod.get_engine(db_url).connect() as conn:
        def scalar(*what, where=()):
            return conn.execute(select(*what).where(c.site == "bank", *where)).scalar_one()

        assert scalar(func.count(), where=[c.outcome == "answered"]) == len(agent)
        assert scalar(func.count(), where=[c.outcome == "abandoned"]) == (
            len(hang) - len(hang_served))
        mean_wait = scalar(func.avg(c.wait_seconds), where=[c.outcome == "answered"])
        assert float(mean_wait) == pytest.approx(statistics.fmean(int(a["q_time"])
                                                                  for a in agent), abs=1e-9)
        servers = {a["server"] for a in agent if a["server"] != "NO_SERVER"}
        assert scalar(func.count(c.agent_id.distinct())) == len(servers)
        assert scalar(func.count(), where=[c.outcome == "answered", c.agent_id.is_(None)]) == (
            sum(a["server"] == "NO_SERVER" for a in agent))

        # A call that queued after midnight belongs to the next day (Israel: UTC+2 in Feb).
        wrapped = [x for x in calls if x["q_start"] != "0:00:00"
                   and secs(x["q_start"]) < secs(x["vru_entry"]) - 12 * 3600]
        assert wrapped
        for x in wrapped:
            day = dt.date(1999, int(x["date"][2:4]), int(x["date"][4:])) + dt.timedelta(days=1)
            local = dt.datetime.combine(day, dt.time(), ZoneInfo("Asia/Jerusalem")) + \
                dt.timedelta(seconds=secs(x["q_start"]))
            key = f"{x['date']}-{x['vru+line']}-{x['call_id']}"
            row = conn.execute(select(c.received_at, c.local_date).where(
                c.contact_id == key)).one()
            assert row.received_at == local.astimezone(dt.UTC).replace(tzinfo=None)
            assert row.local_date == day

        # Caller ids are hashed with the secret; the raw ids are nowhere.
        known = next(a for a in agent if a["customer_id"] not in ("0", ""))
        key = f"{known['date']}-{known['vru+line']}-{known['call_id']}"
        expected = hmac.new(SECRET.encode(), known["customer_id"].encode(),
                            hashlib.sha256).hexdigest()
        assert conn.execute(select(c.caller_key).where(c.contact_id == key)).scalar_one() == \
            expected
        assert scalar(func.count(), where=[c.caller_key == known["customer_id"]]) == 0
    assert known["customer_id"] not in report.quarantine_path.read_text(encoding="utf-8-sig")
