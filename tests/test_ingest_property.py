"""Property: in any mix of valid rows and rows broken in one known way, the valid rows load
and each broken row is quarantined on its own line with the reason of its breakage."""

from __future__ import annotations

import csv
import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dashboard import db as dbmod
from dashboard import reference, schema
from dashboard.ingest import ingest_file

COLUMNS = ("contact_id", "channel", "site", "department", "received_at", "answered_at",
           "ended_at", "outcome", "wait_seconds", "talk_seconds")


@st.composite
def valid_rows(draw):
    """A consistent contact (without its id)."""
    day = draw(st.integers(1, 28))
    hour = draw(st.integers(0, 23))
    minute = draw(st.integers(0, 59))
    received = f"2015-02-{day:02d}T{hour:02d}:{minute:02d}:00"
    site, department = draw(st.sampled_from([("rouen", "60"), ("rouen", "04"),
                                             ("chartres", "28"), ("chartres", "93")]))
    row = dict.fromkeys(COLUMNS, "")
    row.update(site=site, department=department, received_at=received)
    kind = draw(st.sampled_from(["answered", "abandoned", "deflected", "replied", "pending"]))
    wait = draw(st.integers(0, 600))
    if kind == "answered":
        row.update(channel="phone", outcome="answered", wait_seconds=str(wait),
                   talk_seconds=str(draw(st.integers(0, 900))))
    elif kind == "abandoned":
        row.update(channel="phone", outcome="abandoned", wait_seconds=str(wait))
    elif kind == "deflected":
        row.update(channel="phone", outcome="deflected")
    elif kind == "replied":
        row.update(channel="email", outcome="replied",
                   answered_at=f"2015-03-{day:02d}T{hour:02d}:{minute:02d}:00")
    else:
        row.update(channel="email", outcome="pending")
    return row


def _set(**values):
    return lambda row: {**row, **values}


# How a valid row is broken, and the reason category the importer must give.
BREAKAGES = {
    "missing received_at": _set(received_at=""),
    "missing outcome": _set(outcome=""),
    "unknown channel": _set(channel="fax"),
    "unknown outcome": _set(outcome="perdu"),
    "unparseable received_at": _set(received_at="le 3 mars"),
    "impossible received_at": _set(received_at="2015-02-30T10:00:00"),
    "invalid department": _set(department="4"),
    "negative talk_seconds": _set(talk_seconds="-7"),
    "outcome not valid for channel": lambda row: {
        **row, "outcome": "replied" if row["channel"] == "phone" else "answered"},
    "answered_at before received_at": lambda row: {
        **row, "channel": "phone", "outcome": "answered", "wait_seconds": "",
        "answered_at": "2015-01-31T23:00:00"},
    "abandoned call with answered_at": lambda row: {
        **row, "channel": "phone", "outcome": "abandoned", "wait_seconds": "1",
        "talk_seconds": "", "answered_at": row["received_at"]},
}

mixes = st.lists(
    st.tuples(valid_rows(), st.none() | st.sampled_from(sorted(BREAKAGES))),
    min_size=1, max_size=30,
)
_counter = itertools.count()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(mix=mixes)
def test_valid_rows_load_and_broken_rows_are_quarantined(sqlite_url, mix):
    # One database for all examples; each example is its own source, so ids never meet.
    if not dbmod.is_initialised(dbmod.get_engine(sqlite_url)):
        dbmod.upgrade(sqlite_url)
        reference.load_reference(dbmod.get_engine(sqlite_url))
    source = f"mix{next(_counter)}"
    expected_reject: dict[int, str] = {}
    valid_ids = set()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{source}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            for i, (row, breakage) in enumerate(mix):
                row = {**row, "contact_id": f"c{i}"}
                if breakage:
                    row = BREAKAGES[breakage](row)
                    expected_reject[i + 2] = breakage
                else:
                    valid_ids.add(row["contact_id"])
                writer.writerow(row)
        report = ingest_file(sqlite_url, "contacts", path, quarantine_dir=Path(tmp))
        quarantined = {}
        if report.quarantine_path:
            with report.quarantine_path.open(encoding="utf-8-sig", newline="") as fh:
                quarantined = {int(r["line"]): r["reason"].split(":")[0]
                               for r in csv.DictReader(fh)}

    assert quarantined == expected_reject
    assert report.rejected == len(expected_reject)
    assert report.inserted == len(valid_ids)
    assert report.exit_code == (2 if not valid_ids else 1 if expected_reject else 0)
    with dbmod.get_engine(sqlite_url).connect() as conn:
        stored = set(conn.execute(select(schema.contacts.c.contact_id).where(
            schema.contacts.c.source == source)).scalars())
    assert stored == valid_ids
