"""Property: in any mix of valid rows and rows broken in one known way, the valid rows load
and each broken row is quarantined on its own line with the reason of its breakage —
whatever the batch size, on SQLite and PostgreSQL, with and without a mapping file."""

from __future__ import annotations

import csv
import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dashboard.ingest import ingest_file
from dashboard.store import database as dbmod
from dashboard.store import reference, schema

COLUMNS = ("contact_id", "channel", "site", "department", "received_at", "answered_at",
           "ended_at", "outcome", "wait_seconds", "talk_seconds", "agent_id",
           "online_service_promoted")


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
    row.update(site=site, department=department, received_at=received,
               agent_id=draw(st.sampled_from(["", "A1", "B2"])),
               online_service_promoted=draw(st.sampled_from(["", "oui", "non", "1", "false"])))
    kind = draw(st.sampled_from(["answered", "abandoned", "deflected", "replied", "pending",
                                 "closed"]))
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
        row.update(channel="email", outcome=kind)
    return row


def _set(**values):
    return lambda row: {**row, **values}


def _phone(outcome, **values):
    return lambda row: {**row, "channel": "phone", "outcome": outcome, "wait_seconds": "1",
                        "talk_seconds": "", "answered_at": "", "ended_at": "", **values}


def _email(outcome, **values):
    return lambda row: {**row, "channel": "email", "outcome": outcome, "wait_seconds": "",
                        "talk_seconds": "", "answered_at": "", "ended_at": "", **values}


# How a valid row is broken, and the reason category the importer must give.
BREAKAGES = {
    "missing contact_id": _set(contact_id=""),
    "missing channel": _set(channel=""),
    "missing site": _set(site=""),
    "missing received_at": _set(received_at=""),
    "missing outcome": _set(outcome=""),
    "unknown channel": _set(channel="fax"),
    "unknown outcome": _set(outcome="perdu"),
    "unparseable received_at": _set(received_at="le 3 mars"),
    "impossible received_at": _set(received_at="2015-02-30T10:00:00"),
    "unparseable answered_at": _email("replied", answered_at="demain"),
    "invalid department": _set(department="4"),
    "negative talk_seconds": _set(talk_seconds="-7"),
    "invalid talk_seconds": _set(talk_seconds="12 s"),
    "invalid online_service_promoted": _set(online_service_promoted="peut-être"),
    "agent_id too long": _set(agent_id="A" * 65),
    "outcome not valid for channel": lambda row: {
        **row, "outcome": "replied" if row["channel"] == "phone" else "answered"},
    "answered_at before received_at": _phone("answered", wait_seconds="",
                                             answered_at="2015-01-31T23:00:00"),
    "ended_at before received_at": _phone("abandoned", ended_at="2015-01-31T23:00:00"),
    "abandoned call with answered_at": lambda row: _phone(
        "abandoned", answered_at=row["received_at"])(row),
    "deflected call with talk_seconds > 0": _phone("deflected", talk_seconds="30"),
    "replied e-mail without answered_at": _email("replied"),
    "pending e-mail with answered_at": _email("pending", answered_at="2015-03-01T10:00:00"),
    "answered call without wait_seconds": _phone("answered", wait_seconds=""),
    "too many fields": None,  # an extra field at the end of the line
    "duplicate contact_id": None,  # the same id again, later in the file
}

mixes = st.lists(
    st.tuples(valid_rows(), st.none() | st.sampled_from(sorted(BREAKAGES))),
    min_size=1, max_size=30,
)
_counter = itertools.count()


def _prepare(url):
    if not dbmod.is_initialised(dbmod.get_engine(url)):
        dbmod.upgrade(url)
        reference.load_reference(dbmod.get_engine(url))


def _quarantined(report, delimiter=","):
    if not report.quarantine_path:
        return {}
    with report.quarantine_path.open(encoding="utf-8-sig", newline="") as fh:
        return {int(r["line"]): r["reason"].split(":")[0]
                for r in csv.DictReader(fh, delimiter=delimiter)}


def _stored(url, source):
    with dbmod.get_engine(url).connect() as conn:
        return set(conn.execute(select(schema.contacts.c.contact_id).where(
            schema.contacts.c.source == source)).scalars())


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(mix=mixes, batch_rows=st.integers(1, 8))
def test_valid_rows_load_and_broken_rows_are_quarantined(empty_db_url, mix, batch_rows):
    # One database for all examples; each example is its own source, so ids never meet.
    _prepare(empty_db_url)
    source = f"mix{next(_counter)}"
    expected_reject: dict[int, str] = {}
    valid_ids = set()
    again: list[tuple[str, str]] = []  # (id, line text) written again at the end
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{source}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            line = 1
            for i, (row, breakage) in enumerate(mix):
                row = {**row, "contact_id": f"c{i}"}
                line += 1
                if breakage in ("too many fields", "duplicate contact_id"):
                    if breakage == "duplicate contact_id":
                        again.append((row["contact_id"], row))
                        expected_reject[line] = breakage
                        valid_ids.add(row["contact_id"])
                        writer.writerow(row)
                    else:
                        fh.write(",".join(row[c] for c in COLUMNS) + ",extra\n")
                        expected_reject[line] = breakage
                elif breakage:
                    writer.writerow(BREAKAGES[breakage](row))
                    expected_reject[line] = breakage
                else:
                    valid_ids.add(row["contact_id"])
                    writer.writerow(row)
            for _, row in again:
                writer.writerow(row)  # the later line is the record; the earlier superseded
        report = ingest_file(empty_db_url, "contacts", path, quarantine_dir=Path(tmp),
                             batch_rows=batch_rows)
        quarantined = _quarantined(report)

    assert quarantined == expected_reject
    assert report.rejected == len(expected_reject)
    assert report.inserted == len(valid_ids)
    assert report.exit_code == (2 if not valid_ids else 1 if expected_reject else 0)
    assert _stored(empty_db_url, source) == valid_ids


# -- the same through a mapping file -------------------------------------------------------

VENDOR = ("Ref", "Date", "Heure", "Résultat", "Attente", "Conseiller")
MAPPING = """
[none]
Heure = ["--:--"]
Conseiller = ["AUCUN"]

[[skip]]
column = "Résultat"
equals = "TEST"

[constants]
channel = "phone"
site = "rouen"
department = "60"

[columns]
contact_id = { template = "V-{Ref}" }
received_at = { date = "Date", date_format = "%d/%m/%Y", time = "Heure", time_format = "%H:%M" }
outcome = { from = "Résultat", values = { DEC = "answered", ABA = "abandoned" } }
wait_seconds = { from = "Attente", format = "%M:%S" }
agent_id = "Conseiller"
"""


@st.composite
def vendor_rows(draw):
    return {
        "Date": f"{draw(st.integers(1, 28)):02d}/02/2015",
        "Heure": f"{draw(st.integers(8, 18)):02d}:{draw(st.integers(0, 59)):02d}",
        "Résultat": draw(st.sampled_from(["DEC", "ABA"])),
        "Attente": f"{draw(st.integers(0, 9))}:{draw(st.integers(0, 59)):02d}",
        "Conseiller": draw(st.sampled_from(["AUCUN", "A1", "B2"])),
    }


VENDOR_BREAKAGES = {
    # breakage: (how, expected category or None for a skipped row)
    "code not in the value map": (_set(**{"Résultat": "XFER"}), "unknown outcome"),
    "date in another format": (_set(Date="2015-02-03"), "unparseable received_at"),
    "time in another format": (_set(Heure="9h30"), "unparseable received_at"),
    "time sentinel": (_set(Heure="--:--"), "missing received_at"),
    "duration in another format": (_set(Attente="90"), "invalid wait_seconds"),
    "empty reference": (_set(Ref=""), "missing contact_id"),
    "test call": (_set(**{"Résultat": "TEST"}), None),
}


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(mix=st.lists(st.tuples(vendor_rows(), st.none() | st.sampled_from(
    sorted(VENDOR_BREAKAGES))), min_size=1, max_size=25), batch_rows=st.integers(1, 6))
def test_mapped_rows_load_and_unmappable_rows_are_quarantined(sqlite_url, mix, batch_rows):
    _prepare(sqlite_url)
    source = f"vendor{next(_counter)}"
    expected_reject, valid, skipped = {}, set(), 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{source}.csv"
        toml = Path(tmp) / "m.toml"
        toml.write_text(MAPPING, encoding="utf-8")
        with path.open("w", encoding="cp1252", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=VENDOR, delimiter=";", lineterminator="\r\n")
            writer.writeheader()
            for i, (row, breakage) in enumerate(mix):
                row = {**row, "Ref": str(i)}
                if breakage:
                    how, category = VENDOR_BREAKAGES[breakage]
                    row = how(row)
                    if category:
                        expected_reject[i + 2] = category
                    else:
                        skipped += 1
                else:
                    valid.add(f"V-{i}")
                writer.writerow(row)
        report = ingest_file(sqlite_url, "contacts", path, mapping=toml, encoding="cp1252",
                             source=source, quarantine_dir=Path(tmp), batch_rows=batch_rows)
        quarantined = _quarantined(report, ";")
    assert quarantined == expected_reject
    assert report.skipped == skipped
    assert report.inserted == len(valid)
    assert report.rows_read == len(mix)
    assert _stored(sqlite_url, source) == valid


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 1000])
def test_the_batch_size_changes_nothing(db_url, tmp_path, batch_rows):
    # An id three times, across batches: the last line is the record.
    lines = ["contact_id,channel,site,department,received_at,outcome,wait_seconds",
             "d,phone,rouen,60,2015-03-02T09:00:00,answered,1",
             "x,phone,rouen,60,2015-03-02T09:00:00,answered,5",
             "d,phone,rouen,60,2015-03-02T09:00:00,answered,2",
             "y,phone,rouen,60,2015-03-03T09:00:00,answered,5",
             "d,phone,rouen,60,2015-03-04T09:00:00,answered,3"]
    path = tmp_path / "dups.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest_file(db_url, "contacts", path, batch_rows=batch_rows,
                         quarantine_dir=tmp_path)
    assert (report.inserted, report.rejected) == (3, 2)
    with report.quarantine_path.open(encoding="utf-8-sig", newline="") as fh:
        assert [(r["line"], r["reason"]) for r in csv.DictReader(fh)] == [
            ("2", "duplicate contact_id: superseded by line 6"),
            ("4", "duplicate contact_id: superseded by line 6")]
    with dbmod.get_engine(db_url).connect() as conn:
        wait = conn.execute(select(schema.contacts.c.wait_seconds).where(
            schema.contacts.c.contact_id == "d")).scalar_one()
    assert wait == 3
