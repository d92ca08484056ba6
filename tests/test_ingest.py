"""The importer on real SQLite and PostgreSQL: rules, exit codes, upserts, transactions, files."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import re

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from dashboard.ingest import ingest_file, load
from dashboard.ingest import read as reading
from dashboard.store import database as dbmod
from dashboard.store import schema

HEADER = ("contact_id,channel,site,department,queue,received_at,answered_at,ended_at,outcome,"
          "wait_seconds,talk_seconds,wrap_seconds,agent_id,online_service_promoted")

GOOD = [
    "g1,phone,rouen,60,particuliers,2015-03-02T09:00:00,2015-03-02T09:00:30,"
    "2015-03-02T09:05:00,answered,30,270,20,A1,oui",
    "g2,phone,rouen,60,particuliers,2015-03-02T09:10:00,,2015-03-02T09:10:45,abandoned,,0,,,",
    "g3,phone,chartres,28,,2015-03-02T09:20:00,,,deflected,,,,,",
    "g4,email,chartres,93,,2015-03-02T10:00:00,2015-03-03T11:00:00,,replied,,,,B2,non",
    "g5,email,rouen,04,,2015-03-02T10:30:00,,,pending,,,,,",
]


def write(path, lines, encoding="utf-8"):
    """Write text lines as a file (no trailing-newline surprises)."""
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def count(url, table=schema.contacts):
    """Rows in TABLE."""
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def rows(url, table=schema.contacts, order="id"):
    """Every row of TABLE as dicts."""
    with dbmod.get_engine(url).connect() as conn:
        return [dict(m) for m in conn.execute(select(table).order_by(table.c[order])).mappings()]


def by_id(url):
    """contacts keyed by contact_id."""
    return {r["contact_id"]: r for r in rows(url)}


def read_quarantine(path):
    """The quarantine file as dicts."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def imports(url):
    """Rows of the imports table in order."""
    return rows(url, schema.imports)


# -- every rejection rule, with its line number -------------------------------------------

BROKEN = [
    # (line text, expected quarantine reason); the line numbers follow from the order.
    ("b03,phone,rouen,60,,,,,answered,10,,,,", "missing received_at"),
    ("b04,fax,rouen,60,,2015-03-02T09:00:00,,,answered,10,,,,", "unknown channel: 'fax'"),
    ("b05,phone,rouen,60,,2015-03-02T09:00:00,,,lost,10,,,,", "unknown outcome: 'lost'"),
    ("b06,phone,rouen,60,,2015-03-02T09:00:00,,,replied,10,,,,",
     "outcome not valid for channel: 'replied' for phone"),
    ("b07,phone,rouen,60,,yesterday 9am,,,answered,10,,,,",
     "unparseable received_at: 'yesterday 9am'"),
    ("b08,phone,rouen,60,,2015-02-30T09:00:00,,,answered,10,,,,",
     "impossible received_at: '2015-02-30T09:00:00'"),
    ("b09,phone,rouen,60,,2015-03-02T09:00:00,,,answered,-5,,,,", "negative wait_seconds: '-5'"),
    ("b10,phone,rouen,60,,2015-03-02T09:00:00,2015-03-02T08:59:00,,answered,,,,,",
     "answered_at before received_at"),
    ("b11,phone,rouen,60,,2015-03-02T09:00:00,,2015-03-02T08:00:00,abandoned,5,,,,",
     "ended_at before received_at"),
    ("b12,phone,rouen,60,,2015-03-02T09:00:00,2015-03-02T09:01:00,,abandoned,60,,,,",
     "abandoned call with answered_at"),
    ("b13,phone,rouen,60,,2015-03-02T09:00:00,,,deflected,0,30,,,",
     "deflected call with talk_seconds > 0"),
    ("b14,email,rouen,60,,2015-03-02T09:00:00,,,replied,,,,,",
     "replied e-mail without answered_at"),
    ("b15,phone,rouen,4,,2015-03-02T09:00:00,,,answered,10,,,,", "invalid department: '4'"),
    ("b16,phone,rouen,60,,2015-03-02T09:00:00,,,answered,10,abc,,,", "invalid talk_seconds: 'abc'"),
    ("b17,phone,rouen,60,,2015-03-02T09:00:00,,,answered,10,,,,maybe",
     "invalid online_service_promoted: 'maybe'"),
    ("b18,phone,rouen,60,,2015-03-02T09:00:00,,,answered,,,,,",
     "answered call without wait_seconds: give wait_seconds, or answered_at (answered) / "
     "ended_at (abandoned)"),
    ("dup,phone,rouen,60,,2015-03-02T09:00:00,,,answered,10,,,,",
     "duplicate contact_id: superseded by line 20"),
    ("dup,phone,rouen,60,,2015-03-02T09:00:00,,,answered,11,,,,", None),  # line 20 wins
    ("b21,email,rouen,60,,2015-03-02T09:00:00,2015-03-02T10:00:00,,pending,,,,,",
     "pending e-mail with answered_at"),
    (",phone,rouen,60,,2015-03-02T09:00:00,,,answered,10,,,,", "missing contact_id"),
    ("b23,phone,rouen,60,,2015-03-02T09:00:00,,,answered,10,,,,,extra",
     "too many fields: 15 fields, header has 14"),
    ("b24,phone,rouen,60,,2015-03-02T09:00:00,,,abandoned,,,,,", "abandoned call without "
     "wait_seconds: give wait_seconds, or answered_at (answered) / ended_at (abandoned)"),
    ("b25,phone,rouen,60,,2015-03-02T09:00:00,2015-03-02T09:00:10,2015-03-02T09:00:05,"
     "answered,,,,,",
     "ended_at before answered_at"),
    ("b26,email,rouen,60,,2015-03-02T09:00:00,,,closed,,-1,,,", "negative talk_seconds: '-1'"),
    ("b27,phone,rouen,60,,2015-03-02T09:00:00+25:00,,,answered,10,,,,",
     "impossible received_at: '2015-03-02T09:00:00+25:00'"),
    ("b28,phone,rouen,60,,2015-03-02T09:00:00,,,abandoned,3,12,,,",
     "abandoned call with talk_seconds > 0"),
    ("b29,phone,rouen,60,,2015-03-02T09:00:00,2015-03-02T09:00:03,,deflected,3,,,,",
     "deflected call with answered_at"),
    ("b30,phone,rouen,60,,2015-03-02T09:00:00,,,answered,10,,,"
     + "A" * 65 + ",", "agent_id too long: more than 64 characters"),
    ("b31,phone,,60,,2015-03-02T09:00:00,,,answered,10,,,,", "missing site"),
    ("b32,phone,rouen,,,2015-03-02T09:00:00,,,answered,10,,,,", "missing department"),
    ("b33,phone,rouen,60,,2015-03-02T09:00:00,,,,10,,,,", "missing outcome"),
    ("b34,,rouen,60,,2015-03-02T09:00:00,,,answered,10,,,,", "missing channel"),
]


def test_every_rule_rejects_its_line_and_good_rows_still_load(db_url, tmp_path):
    lines = [HEADER, GOOD[0]] + [b for b, _ in BROKEN] + GOOD[1:]
    path = write(tmp_path / "mixed.csv", lines)
    report = ingest_file(db_url, "contacts", path, quarantine_dir=tmp_path / "q")

    expected = {i + 3: reason for i, (_, reason) in enumerate(BROKEN) if reason}
    assert report.exit_code == 1
    assert report.error is None
    assert report.rows_read == 1 + len(BROKEN) + 4
    assert report.rejected == len(expected)
    assert report.inserted == 5 + 1  # g1..g5 and line 20's "dup"
    assert report.quarantine_path.parent == tmp_path / "q"
    # One file per import, named after the file and the import's start (UTC).
    assert re.fullmatch(r"mixed\.\d{8}-\d{6}\.rejected\.csv", report.quarantine_path.name)
    quarantined = read_quarantine(report.quarantine_path)
    assert {int(r["line"]): r["reason"] for r in quarantined} == expected
    assert list(quarantined[0])[:3] == ["line", "reason", "contact_id"]
    assert sum(report.rejected_by_reason.values()) == len(expected)
    assert report.rejected_by_reason["duplicate contact_id"] == 1

    stored = by_id(db_url)
    assert set(stored) == {"g1", "g2", "g3", "g4", "g5", "dup"}
    assert stored["dup"]["wait_seconds"] == 11
    g1 = stored["g1"]
    assert (g1["wait_seconds"], g1["talk_seconds"], g1["wrap_seconds"]) == (30, 270, 20)
    assert g1["agent_id"] == "A1" and g1["online_service_promoted"] is True
    # Paris is UTC+1 in early March 2015.
    assert g1["received_at"] == dt.datetime(2015, 3, 2, 8, 0)
    assert g1["answered_at"] == dt.datetime(2015, 3, 2, 8, 0, 30)
    assert (g1["local_date"], g1["local_slot"]) == (dt.date(2015, 3, 2), 18)
    # An abandoned call without wait_seconds waits until it ends; defaults fill the rest.
    assert stored["g2"]["wait_seconds"] == 45
    assert stored["g2"]["wrap_seconds"] == 0
    assert stored["g3"]["wait_seconds"] == 0  # deflected: refused on arrival
    assert stored["g3"]["talk_seconds"] == 0
    assert stored["g4"]["wait_seconds"] is None  # e-mails never have a wait
    assert stored["g4"]["online_service_promoted"] is False
    assert stored["g5"]["department"] == "04"

    (rec,) = imports(db_url)
    assert rec["status"] == "partial" and rec["rows_rejected"] == len(expected)
    assert rec["rows_inserted"] == 6 and rec["rows_read"] == report.rows_read
    assert rec["quarantine_path"] == str(report.quarantine_path)
    assert {r["import_id"] for r in stored.values()} == {rec["id"]}


def test_all_good_exits_0_without_quarantine(db_url, tmp_path):
    report = ingest_file(db_url, "contacts", write(tmp_path / "ok.csv", [HEADER] + GOOD),
                         quarantine_dir=tmp_path / "q")
    assert (report.exit_code, report.inserted, report.rejected) == (0, 5, 0)
    assert report.quarantine_path is None and not (tmp_path / "q").exists()
    assert imports(db_url)[0]["status"] == "loaded"


def test_all_rows_rejected_exits_2_and_loads_nothing(db_url, tmp_path):
    path = write(tmp_path / "bad.csv", [HEADER, BROKEN[0][0], BROKEN[1][0]])
    report = ingest_file(db_url, "contacts", path, quarantine_dir=tmp_path / "q")
    assert report.exit_code == 2
    assert "all 2 rows were rejected" in report.error
    assert len(read_quarantine(report.quarantine_path)) == 2
    assert count(db_url) == 0
    (rec,) = imports(db_url)
    assert (rec["status"], rec["rows_rejected"], rec["rows_inserted"]) == ("failed", 2, 0)


def test_header_only_file_loads_nothing_and_succeeds(db_url, tmp_path):
    report = ingest_file(db_url, "contacts", write(tmp_path / "empty.csv", [HEADER]))
    assert (report.exit_code, report.rows_read) == (0, 0)
    assert "the file has no data rows" in report.warnings


# -- re-imports ------------------------------------------------------------------------------

def test_same_file_twice_is_unchanged_and_a_modified_row_is_updated(db_url, tmp_path):
    path = write(tmp_path / "day.csv", [HEADER] + GOOD)
    first = ingest_file(db_url, "contacts", path)
    second = ingest_file(db_url, "contacts", path)
    assert (first.inserted, first.updated, first.unchanged) == (5, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 5)
    assert second.exit_code == 0
    assert count(db_url) == 5
    before = by_id(db_url)

    changed = [GOOD[0].replace(",270,", ",300,")] + GOOD[1:]
    third = ingest_file(db_url, "contacts", write(path, [HEADER] + changed))
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 4)
    after = by_id(db_url)
    assert count(db_url) == 5
    assert after["g1"]["talk_seconds"] == 300
    assert after["g1"]["id"] == before["g1"]["id"]
    assert after["g1"]["import_id"] == third.import_id
    assert after["g2"]["import_id"] == first.import_id
    assert [r["status"] for r in imports(db_url)] == ["loaded"] * 3

    # Another source with the same ids is other records, not an update.
    other = ingest_file(db_url, "contacts", path, source="other-acd")
    assert other.inserted == 5 and count(db_url) == 10


def test_absent_optional_column_keeps_stored_values(db_url, tmp_path):
    ingest_file(db_url, "contacts", write(tmp_path / "day.csv", [HEADER] + GOOD[:1]))
    slim = ("contact_id,channel,site,department,received_at,outcome,wait_seconds",
            "g1,phone,rouen,60,2015-03-02T09:00:00,answered,31")
    report = ingest_file(db_url, "contacts", write(tmp_path / "day.csv", list(slim)))
    assert (report.updated, report.unchanged) == (1, 0)
    g1 = by_id(db_url)["g1"]
    assert g1["wait_seconds"] == 31
    assert (g1["talk_seconds"], g1["agent_id"], g1["queue"]) == (270, "A1", "particuliers")


# -- files that cannot be read ---------------------------------------------------------------

def test_missing_required_column_loads_nothing(db_url, tmp_path):
    cols = HEADER.split(",")
    drop = cols.index("outcome")
    lines = [",".join(c for i, c in enumerate(line.split(",")) if i != drop)
             for line in [HEADER] + GOOD]
    report = ingest_file(db_url, "contacts", write(tmp_path / "noout.csv", lines))
    assert report.exit_code == 2
    assert report.error == "missing required column(s): outcome"
    assert "\n" not in report.error
    assert count(db_url) == 0
    (rec,) = imports(db_url)
    assert rec["status"] == "failed" and rec["message"] == report.error


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "neither a CSV nor a Parquet file"),
    (b"PAR1 this is not really parquet", "not a readable Parquet file"),
    (b"", "has no header row"),
    (b"\n\n  \n", "has no header row"),
])
def test_unreadable_file_exits_2(db_url, tmp_path, content, message):
    path = tmp_path / "junk.csv"
    path.write_bytes(content)
    report = ingest_file(db_url, "contacts", path)
    assert report.exit_code == 2 and message in report.error
    assert "\n" not in report.error
    assert count(db_url) == 0


def test_text_that_is_not_the_format_exits_2(db_url, tmp_path):
    path = write(tmp_path / "notes.txt", ["Dear supervisor,", "here are the calls."])
    report = ingest_file(db_url, "contacts", path)
    assert report.exit_code == 2
    assert report.error.startswith("missing required column(s): contact_id")


def test_bad_options_exit_2(db_url, tmp_path):
    path = write(tmp_path / "ok.csv", [HEADER] + GOOD)
    bad_zone = ingest_file(db_url, "contacts", path, timezone="Mars/Olympus")
    assert bad_zone.error == "unknown time zone 'Mars/Olympus'"
    assert "invalid --department" in ingest_file(db_url, "contacts", path, department="4").error
    assert "source name" in ingest_file(db_url, "contacts", path, source="x" * 65).error
    assert count(db_url) == 0
    with pytest.raises(ValueError, match="unknown import kind"):
        ingest_file(db_url, "calls", path)


# -- one transaction -------------------------------------------------------------------------

def _failing_after_first_batch(monkeypatch, exc):
    """Batches of 2 rows; staging the second one raises EXC."""
    calls = []
    real = load.stage_batch

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(reading, "BATCH_ROWS", 2)
    monkeypatch.setattr(load, "stage_batch", flaky)
    return calls


def test_crash_mid_file_leaves_the_database_as_before(db_url, tmp_path, monkeypatch):
    path = write(tmp_path / "day.csv", [HEADER] + GOOD[:2])
    ingest_file(db_url, "contacts", path)
    before = rows(db_url)
    more = [GOOD[0].replace(",270,", ",999,"), GOOD[1]] + GOOD[2:] + [
        f"n{i},phone,rouen,60,,2015-03-03T09:00:00,,,deflected,,,,," for i in range(6)]
    calls = _failing_after_first_batch(monkeypatch, RuntimeError("disk on fire"))
    new_site = [line.replace(",chartres,", ",evry,") for line in more]
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest_file(db_url, "contacts", write(path, [HEADER] + new_site))
    assert len(calls) == 2  # the first batch was written, then rolled back
    assert rows(db_url) == before
    with dbmod.get_engine(db_url).connect() as conn:
        assert conn.execute(select(schema.sites.c.code).where(
            schema.sites.c.code == "evry")).first() is None
    recs = imports(db_url)
    assert [r["status"] for r in recs] == ["loaded", "failed"]
    assert recs[1]["message"] == "RuntimeError: disk on fire"


def test_database_error_mid_file_exits_2(db_url, tmp_path, monkeypatch):
    lines = [HEADER] + GOOD
    _failing_after_first_batch(monkeypatch, OperationalError("UPDATE", {}, Exception("gone")))
    report = ingest_file(db_url, "contacts", write(tmp_path / "day.csv", lines))
    assert report.exit_code == 2 and report.error.startswith("database error:")
    assert (report.inserted, count(db_url)) == (0, 0)
    assert imports(db_url)[0]["status"] == "failed"


# -- encodings and delimiters ----------------------------------------------------------------

def test_utf8_with_bom(db_url, tmp_path):
    path = write(tmp_path / "bom.csv", [HEADER] + GOOD[:1] + [
        GOOD[1].replace("particuliers", "procédures collectives")], encoding="utf-8-sig")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    report = ingest_file(db_url, "contacts", path)
    assert (report.exit_code, report.inserted, report.warnings) == (0, 2, [])
    assert by_id(db_url)["g2"]["queue"] == "procédures collectives"


def test_cp1252_semicolons_and_decimal_commas(db_url, tmp_path):
    lines = [
        HEADER.replace(",", ";"),
        "w1;phone;rouen;60;dégrèvement;2015-03-02T09:00:00;;;answered;12,0;95,5;3,4;;oui",
        "w2;phone;rouen;60;fiscalité locale;02/03/2015 09:00;;;answered;1;;;;",
        'w3;email;chartres;28;"réclamation; urgente";2015-03-02T10:00:00;'
        "2015-03-02T12:00:00;;replied;;;;;non",
    ]
    path = write(tmp_path / "export-acd.csv", lines, encoding="cp1252")
    report = ingest_file(db_url, "contacts", path, encoding="cp1252",
                         quarantine_dir=tmp_path / "q")
    assert (report.exit_code, report.inserted, report.rejected) == (1, 2, 1)
    stored = by_id(db_url)
    assert stored["w1"]["queue"] == "dégrèvement"
    assert (stored["w1"]["wait_seconds"], stored["w1"]["talk_seconds"]) == (12, 96)
    assert stored["w1"]["wrap_seconds"] == 3
    assert stored["w3"]["queue"] == "réclamation; urgente"
    with open(report.quarantine_path, encoding="utf-8-sig", newline="") as fh:
        (bad,) = list(csv.DictReader(fh, delimiter=";"))
    assert bad["line"] == "3" and bad["queue"] == "fiscalité locale"
    assert bad["reason"] == "unparseable received_at: '02/03/2015 09:00'"


def test_cp1252_file_read_as_utf8_exits_2_with_a_hint(db_url, tmp_path):
    path = write(tmp_path / "w.csv", [HEADER, GOOD[0].replace("particuliers", "dégrèvement")],
                 encoding="cp1252")
    report = ingest_file(db_url, "contacts", path)
    assert report.exit_code == 2
    assert report.error == ("w.csv is not valid utf-8: byte 0xe9 cannot be decoded "
                            "(try --encoding cp1252)")
    assert count(db_url) == 0


def test_tab_separated_and_quoted_newlines_keep_line_numbers(db_url, tmp_path):
    lines = [HEADER.replace(",", "\t"),
             GOOD[0].replace(",", "\t").replace("particuliers", '"two\nlines"'),
             "x\tphone\trouen\t60\t\tnever\t\t\tanswered\t1\t\t\t\t"]
    report = ingest_file(db_url, "contacts", write(tmp_path / "t.tsv", lines),
                         quarantine_dir=tmp_path)
    assert (report.inserted, report.rejected) == (1, 1)
    assert by_id(db_url)["g1"]["queue"] == "two\nlines"
    with open(report.quarantine_path, encoding="utf-8-sig", newline="") as fh:
        (bad,) = list(csv.DictReader(fh, delimiter="\t"))
    assert bad["line"] == "4"  # the quoted field spans lines 2 and 3


def test_unknown_columns_are_a_warning(db_url, tmp_path):
    lines = [HEADER + ",Commentaire,score", GOOD[0] + ",rappeler,3"]
    report = ingest_file(db_url, "contacts", write(tmp_path / "x.csv", lines))
    assert report.exit_code == 0
    assert report.warnings == ["unknown column(s) ignored: Commentaire, score"]


def test_site_and_department_defaults(db_url, tmp_path):
    lines = ["contact_id,channel,received_at,outcome,wait_seconds,department",
             "d1,phone,2015-03-02T09:00:00,answered,4,",
             "d2,phone,2015-03-02T09:00:00,answered,4,93"]
    report = ingest_file(db_url, "contacts", write(tmp_path / "d.csv", lines),
                         site="chartres", department="28")
    assert report.exit_code == 0
    stored = by_id(db_url)
    assert [(stored[k]["site"], stored[k]["department"]) for k in ("d1", "d2")] == [
        ("chartres", "28"), ("chartres", "93")]


# -- caller ids ------------------------------------------------------------------------------

def test_caller_id_is_stored_only_as_a_keyed_hash(db_url, tmp_path, monkeypatch):
    secret = "s3cret-for-tests"
    monkeypatch.setenv("DASHBOARD_CALLER_KEY_SECRET", secret)
    lines = [HEADER + ",caller_id",
             GOOD[0] + ",0601020304",
             GOOD[1] + ", 0601020304 ",
             GOOD[2] + ",",
             BROKEN[0][0] + ",FR-1234567890123"]
    report = ingest_file(db_url, "contacts", write(tmp_path / "c.csv", lines),
                         quarantine_dir=tmp_path / "q")
    assert (report.exit_code, report.inserted, report.rejected) == (1, 3, 1)
    expected = hmac.new(secret.encode(), b"0601020304", hashlib.sha256).hexdigest()
    stored = by_id(db_url)
    assert stored["g1"]["caller_key"] == expected
    assert stored["g2"]["caller_key"] == expected  # surrounding spaces do not count
    assert stored["g3"]["caller_key"] is None
    everything = repr(rows(db_url)) + repr(imports(db_url))
    assert "0601020304" not in everything
    text = report.quarantine_path.read_text(encoding="utf-8-sig")
    assert "FR-1234567890123" not in text and "caller_id" in text
    (bad,) = read_quarantine(report.quarantine_path)
    assert bad["caller_id"] == "" and bad["contact_id"] == "b03"


def test_caller_ids_without_a_secret_load_nothing(db_url, tmp_path):
    lines = [HEADER + ",caller_id", GOOD[0] + ",0601020304", GOOD[1] + ","]
    report = ingest_file(db_url, "contacts", write(tmp_path / "c.csv", lines))
    assert report.exit_code == 2
    assert "DASHBOARD_CALLER_KEY_SECRET is not set" in report.error
    assert "\n" not in report.error and "0601020304" not in report.error
    assert count(db_url) == 0
    assert imports(db_url)[0]["status"] == "failed"


def test_an_empty_caller_id_column_needs_no_secret(db_url, tmp_path):
    lines = [HEADER + ",caller_id", GOOD[0] + ",", GOOD[1] + ",  "]
    report = ingest_file(db_url, "contacts", write(tmp_path / "c.csv", lines))
    assert (report.exit_code, report.inserted) == (0, 2)


# -- Parquet ---------------------------------------------------------------------------------

def test_parquet_with_typed_columns(db_url, tmp_path):
    frame = pl.DataFrame({
        "contact_id": ["p1", "p2", "p3"],
        "channel": ["phone", "phone", "email"],
        "site": ["rouen", "rouen", "chartres"],
        "department": ["60", "60", "2A"],
        "received_at": [dt.datetime(2015, 3, 2, 9, 0), dt.datetime(2015, 7, 1, 9, 0),
                        dt.datetime(2015, 3, 2, 10, 0)],
        "answered_at": pl.Series([dt.datetime(2015, 3, 2, 8, 0, 20), None,
                                  dt.datetime(2015, 3, 3, 8, 0)]).dt.replace_time_zone("UTC"),
        "outcome": ["answered", "abandoned", "replied"],
        "wait_seconds": [None, -1, None],
        "talk_seconds": [12.0, 0.0, 0.0],
        "online_service_promoted": [True, None, False],
    })
    path = tmp_path / "acd.parquet"
    frame.write_parquet(path)
    report = ingest_file(db_url, "contacts", path, quarantine_dir=tmp_path)
    assert (report.exit_code, report.inserted, report.rejected) == (1, 2, 1)
    assert read_quarantine(report.quarantine_path)[0]["line"] == "3"  # row 2 = line 3
    assert report.rejected_by_reason == {"negative wait_seconds": 1}
    stored = by_id(db_url)
    # Naive Parquet timestamps are Paris wall clock; aware ones are exact.
    assert stored["p1"]["received_at"] == dt.datetime(2015, 3, 2, 8, 0)
    assert stored["p1"]["answered_at"] == dt.datetime(2015, 3, 2, 8, 0, 20)
    assert stored["p1"]["wait_seconds"] == 20
    assert stored["p1"]["talk_seconds"] == 12
    assert stored["p1"]["online_service_promoted"] is True
    assert stored["p3"]["department"] == "2A"


# -- other kinds -----------------------------------------------------------------------------

def test_acts(db_url, tmp_path):
    lines = ["act_id,performed_at,act_type,site,department,agent_id,contact_id",
             "a1,2015-04-20T16:45:00,delai_paiement,rouen,04,A1,g1",
             "a2,2015-04-20T16:45:00,,rouen,04,A1,",
             "a3,2015-04-20T14:45:00Z,attestation,chartres,93,B2,"]
    report = ingest_file(db_url, "acts", write(tmp_path / "acts.csv", lines),
                         quarantine_dir=tmp_path)
    assert (report.exit_code, report.inserted) == (1, 2)
    assert report.rejected_by_reason == {"missing act_type": 1}
    assert report.warnings == []
    stored = {r["act_id"]: r for r in rows(db_url, schema.acts)}
    assert stored["a1"]["performed_at"] == dt.datetime(2015, 4, 20, 14, 45)
    assert (stored["a1"]["local_date"], stored["a1"]["local_slot"]) == (dt.date(2015, 4, 20), 33)
    assert stored["a3"]["local_slot"] == 33
    assert stored["a1"]["contact_id"] == "g1" and stored["a3"]["contact_id"] is None
    again = ingest_file(db_url, "acts", write(tmp_path / "acts.csv", lines),
                        quarantine_dir=tmp_path)
    assert (again.inserted, again.unchanged) == (0, 2)


def test_agents_upsert_by_agent_id(db_url, tmp_path):
    lines = ["agent_id,site,display_name,team,active",
             "A1,rouen,Agent Un,equipe 1,oui",
             "B2,chartres,Agent Deux,,false",
             "C3,rouen,,,peut-être"]
    report = ingest_file(db_url, "agents", write(tmp_path / "agents.csv", lines),
                         quarantine_dir=tmp_path)
    assert (report.inserted, report.rejected_by_reason) == (2, {"invalid active": 1})
    stored = {r["agent_id"]: r for r in rows(db_url, schema.agents, "agent_id")}
    assert stored["A1"]["active"] is True and stored["B2"]["active"] is False
    assert stored["A1"]["source"] == "agents"
    again = ingest_file(db_url, "agents", write(tmp_path / "staff.csv",
                                                ["agent_id,site,display_name",
                                                 "A1,rouen,Agent Un", "B2,rouen,Agent Deux"]))
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)
    stored = {r["agent_id"]: r for r in rows(db_url, schema.agents, "agent_id")}
    assert stored["B2"]["site"] == "rouen" and stored["B2"]["active"] is False
    assert stored["A1"]["team"] == "equipe 1"  # no team column: kept


def test_agent_sessions(db_url, tmp_path):
    lines = ["agent_id,site,start_at,end_at",
             "A1,rouen,2015-03-29T00:15:00+01:00,2015-03-29T04:00:00+02:00",
             "A1,rouen,2015-03-29T12:00:00,2015-03-29T11:00:00",
             "B2,chartres,2015-03-28T23:45:00Z,2015-03-29T07:00:00Z",
             "B2,chartres,2015-03-28T23:45:00Z,2015-03-29T08:00:00Z"]
    report = ingest_file(db_url, "agent-sessions", write(tmp_path / "s.csv", lines),
                         quarantine_dir=tmp_path)
    assert (report.inserted, report.rejected) == (2, 2)
    assert {int(r["line"]): r["reason"] for r in read_quarantine(report.quarantine_path)} == {
        3: "end_at before start_at", 4: "duplicate session: superseded by line 5"}
    stored = {r["agent_id"]: r for r in rows(db_url, schema.agent_sessions)}
    assert stored["A1"]["start_at"] == dt.datetime(2015, 3, 28, 23, 15)
    assert stored["A1"]["end_at"] == dt.datetime(2015, 3, 29, 2, 0)
    assert stored["A1"]["local_date"] == dt.date(2015, 3, 29)
    assert stored["B2"]["end_at"] == dt.datetime(2015, 3, 29, 8, 0)
    assert stored["B2"]["local_date"] == dt.date(2015, 3, 29)
    again = ingest_file(db_url, "agent-sessions", write(tmp_path / "s.csv", lines),
                        quarantine_dir=tmp_path)
    assert (again.inserted, again.unchanged) == (0, 2)
