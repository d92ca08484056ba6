"""Mapping files: every feature on a vendor-shaped export, the errors they give, privacy."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dashboard.cli.main import main
from dashboard.ingest import ingest_file
from dashboard.ingest.kinds import KINDS
from dashboard.ingest.mapping import MappingError, load_mapping
from dashboard.store import database as dbmod
from dashboard.store import schema

# An ACD export in its own shape: French headers, codes, a day and a time apart, h:mm:ss
# durations, sentinels, test calls to leave out.
EXPORT = [
    "Appel;Jour;Heure;Décroché;Statut;Attente;Conversation;Agent;Numéro;Type;Commentaire",
    "A1;02/03/2015;09:00:00;02/03/2015 09:00:30;REP;0:00:30;0:04:10;DUPONT;0601020304;PART;ok",
    "A2;02/03/2015;23:59:50;;ABD;0:00:40;0:00:00;-;;PART;",
    "A3;02/03/2015;10:00:00;;TEST;0:00:00;0:00:00;-;;PART;appel de test",
    "A4;2015-03-02;10:00:00;;ABD;0:00:05;0:00:00;-;;PRO;date au mauvais format",
    "A5;02/03/2015;10:05:00;02/03/2015 10:05:09;REP;9 s;0:01:00;MARTIN;0601020304;PRO;",
    "A6;02/03/2015;10:06:00;;XFER;0:00:10;0:00:00;-;;PRO;code inconnu",
    "A7;02/03/2015;10:07:00;;DISS;;;-;0700000000;PART;",
]

MAPPING = """
kind = "contacts"
source = "acd-rouen"
encoding = "cp1252"
ignore = ["Commentaire"]

[none]
Agent = ["-"]

[[skip]]
column = "Statut"
equals = "TEST"
reason = "test call"

[constants]
channel = "phone"
site = "rouen"
department = "60"

[columns]
contact_id = { template = "RN-{Appel}" }
received_at = { date = "Jour", date_format = "%d/%m/%Y", time = "Heure" }
answered_at = { from = "Décroché", format = "%d/%m/%Y %H:%M:%S" }
outcome = { from = "Statut", values = { REP = "answered", ABD = "abandoned", DISS = "deflected" } }
wait_seconds = { from = "Attente", format = "%H:%M:%S" }
talk_seconds = { from = "Conversation", format = "%H:%M:%S" }
agent_id = "agent"
caller_id = "Numéro"
queue = { from = "Type", values = { PART = "particuliers", PRO = "professionnels" } }
"""


def files(tmp_path, export=EXPORT, mapping=MAPPING, name="acd.csv"):
    data = tmp_path / name
    data.write_bytes(("\r\n".join(export) + "\r\n").encode("cp1252"))
    toml = tmp_path / "acd.toml"
    toml.write_text(mapping, encoding="utf-8")
    return data, toml


def stored(url):
    with dbmod.get_engine(url).connect() as conn:
        return {r["contact_id"]: dict(r) for r in conn.execute(
            select(schema.contacts)).mappings()}


def quarantine(report):
    with report.quarantine_path.open(encoding="utf-8-sig", newline="") as fh:
        return {int(r["line"]): r for r in csv.DictReader(fh, delimiter=";")}


def test_a_vendor_export_through_its_mapping(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_CALLER_KEY_SECRET", "s")
    data, toml = files(tmp_path)
    report = ingest_file(db_url, "contacts", data, mapping=toml, quarantine_dir=tmp_path / "q")
    assert report.error is None
    assert report.source == "acd-rouen" and report.mapping == str(toml)
    assert report.rows_read == 7
    assert report.skipped_by_reason == {"test call": 1}
    assert report.rejected_by_reason == {"unparseable received_at": 1, "invalid wait_seconds": 1,
                                         "unknown outcome": 1}
    assert report.warnings == []  # Commentaire is ignored on purpose
    assert (report.inserted, report.exit_code) == (3, 1)
    reasons = {line: r["reason"] for line, r in quarantine(report).items()}
    assert reasons == {
        5: "unparseable received_at: date '2015-03-02' (expected %d/%m/%Y)",
        6: "invalid wait_seconds: '9 s' (expected %H:%M:%S)",
        7: "unknown outcome: 'xfer'",
    }
    rows = stored(db_url)
    a1 = rows["RN-A1"]
    assert a1["received_at"] == dt.datetime(2015, 3, 2, 8, 0)  # Paris, UTC+1
    assert a1["answered_at"] == dt.datetime(2015, 3, 2, 8, 0, 30)
    assert (a1["wait_seconds"], a1["talk_seconds"], a1["agent_id"]) == (30, 250, "DUPONT")
    assert (a1["queue"], a1["outcome"], a1["source"]) == ("particuliers", "answered",
                                                          "acd-rouen")
    assert a1["caller_key"] == hmac.new(b"s", b"0601020304", hashlib.sha256).hexdigest()
    a2 = rows["RN-A2"]
    assert (a2["outcome"], a2["agent_id"], a2["caller_key"]) == ("abandoned", None, None)
    assert a2["local_date"] == dt.date(2015, 3, 2)
    assert rows["RN-A7"]["wait_seconds"] == 0  # deflected
    assert report.touched == {("rouen", dt.date(2015, 3, 2))}
    with dbmod.get_engine(db_url).connect() as conn:
        message = conn.execute(select(schema.imports.c.message)).scalar_one()
    assert message == "mapping: acd.toml"


def test_the_caller_id_never_leaves_the_importer(db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DASHBOARD_CALLER_KEY_SECRET", "s")
    export = EXPORT[:2] + [EXPORT[1].replace("A1;02/03/2015", "A9;31/02/2015")]
    data, toml = files(tmp_path, export)
    result = CliRunner().invoke(main, ["ingest", "contacts", str(data), "--db", db_url,
                                       "--mapping", str(toml), "--quarantine-dir",
                                       str(tmp_path / "q")])
    assert result.exit_code == 1, result.output
    assert "0601020304" not in result.output
    (path,) = (tmp_path / "q").iterdir()
    text = path.read_text(encoding="utf-8-sig")
    assert "0601020304" not in text and "Numéro" in text
    with dbmod.get_engine(db_url).connect() as conn:
        everything = [tuple(r) for t in (schema.contacts, schema.imports)
                      for r in conn.execute(select(t))]
    assert "0601020304" not in repr(everything)


def test_a_caller_id_column_may_not_feed_another_column(tmp_path):
    mapping = MAPPING.replace('contact_id = { template = "RN-{Appel}" }',
                              'contact_id = { template = "{Appel}-{Numéro}" }')
    data, toml = files(tmp_path, mapping=mapping)
    with pytest.raises(MappingError, match="raw identifier would be stored"):
        load_mapping(toml).bind(EXPORT[0].split(";"), KINDS["contacts"])


def test_a_mapping_naming_an_absent_column_loads_nothing(db_url, tmp_path):
    export = [EXPORT[0].replace("Heure", "Horaire")] + EXPORT[1:]
    data, toml = files(tmp_path, export)
    report = ingest_file(db_url, "contacts", data, mapping=toml)
    assert report.exit_code == 2
    assert report.error == ("mapping acd.toml: [columns] received_at names column 'Heure', "
                            "which the file's header lacks")
    assert stored(db_url) == {}


def test_a_required_column_left_unmapped_loads_nothing(db_url, tmp_path):
    mapping = MAPPING.replace('outcome = { from = "Statut", values = { REP = "answered", '
                              'ABD = "abandoned", DISS = "deflected" } }\n', "")
    data, toml = files(tmp_path, mapping=mapping)
    report = ingest_file(db_url, "contacts", data, mapping=toml)
    assert report.exit_code == 2
    assert report.error == "missing required column(s): outcome (map them in the mapping file)"


@pytest.mark.parametrize("text, message", [
    ("kind = 'calls'", "unknown kind 'calls'"),
    ("colums = {}", "unknown key(s) colums"),
    ("[columns]\nqueue = { form = 'x' }", "[columns] queue: unknown key(s) form"),
    ("[columns]\nqueue = { from = 'x', template = '{y}' }", "exactly one of from, template"),
    ("[columns]\nqueue = { date = 'd' }", "date needs time"),
    ("[columns]\nqueue = { from = 'x', default = 'y' }", "default goes with values"),
    ("[[skip]]\ncolumn = 'x'", "needs exactly one of equals"),
    ("[[skip]]\ncolumn = 'x'\nmatches = '('", "invalid regular expression"),
    ("[constants]\nqueue = 'a'\n[columns]\nqueue = 'b'", "both in [constants] and in [columns]"),
    ("delimiter = ';;'", "delimiter must be one character"),
    ("this is not toml", "not valid TOML"),
])
def test_invalid_mapping_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("mapping m.toml: ")


@pytest.mark.parametrize("columns, message", [
    ("[columns]\nwait_seconds = { from = 'a', format = '%S s' }", "a duration's format is"),
    ("[columns]\nqueue = { from = 'a', format = '%Y' }", "format applies to timestamps"),
    ("[columns]\nqueue = { date = 'a', time = 'b' }", "date and time build timestamps"),
    ("[columns]\ncolour = 'a'", "colour is not a column of contacts"),
    ("kind = 'acts'", "written for acts, not contacts"),
    ("ignore = ['nope']", "ignore names column 'nope'"),
])
def test_mappings_that_do_not_fit_the_kind_or_the_file(tmp_path, columns, message):
    path = tmp_path / "m.toml"
    path.write_text(columns, encoding="utf-8")
    with pytest.raises(MappingError, match=message):
        load_mapping(path).bind(["a", "b"], KINDS["contacts"])


def test_skip_tests_and_unmapped_columns_pass_through(db_url, tmp_path):
    export = [
        "id,when,result,queue,channel,note",
        "k1,2015-03-02 09:00,answered,particuliers,phone,",
        "k2,2015-03-02 09:01,answered,interne,phone,",
        "k3,2015-03-02 09:02,answered,particuliers,phone,",
        "k4,2015-03-02 09:03,answered,particuliers,fax,",
        "k5,2015-03-02 09:04,answered,,phone,",
        "k6,2015-03-02 09:05,answered,particuliers,phone,x",
    ]
    mapping = """
[[skip]]
column = "queue"
in = ["interne", "formation"]
[[skip]]
column = "id"
matches = "^k3$"
[[skip]]
column = "channel"
not_in = ["phone", "email"]
[[skip]]
column = "queue"
empty = true
[[skip]]
column = "note"
not_equals = "y"
[constants]
site = "rouen"
department = "60"
wait_seconds = "5"
[columns]
contact_id = "ID"
received_at = { from = "When", format = "%Y-%m-%d %H:%M" }
outcome = "result"
"""
    data = tmp_path / "e.csv"
    data.write_text("\n".join(export) + "\n", encoding="utf-8")
    toml = tmp_path / "m.toml"
    toml.write_text(mapping, encoding="utf-8")
    report = ingest_file(db_url, "contacts", data, mapping=toml)
    assert report.skipped_by_reason == {"queue in interne, formation": 1, "id matches ^k3$": 1,
                                        "channel not in phone, email": 1, "queue empty": 1,
                                        "note ≠ y": 1}
    assert report.summary().startswith("read 6, skipped 5 (")
    assert (report.inserted, report.exit_code) == (1, 0)
    k1 = stored(db_url)["k1"]
    # queue and channel are not mapped: taken as they are, by name.
    assert (k1["queue"], k1["channel"], k1["wait_seconds"]) == ("particuliers", "phone", 5)
    assert k1["received_at"] == dt.datetime(2015, 3, 2, 8, 0)


def test_a_value_map_default_an_exact_timestamp_and_a_coalesce(db_url, tmp_path):
    export = ["id,stamp,code,agent,backup",
              "k1,2015-03-02T09:00:00+0100,OK,,B1",
              "k2,2015-03-02T09:00:00+0100,whatever,A1,B2"]
    mapping = """
[constants]
site = "rouen"
department = "60"
channel = "phone"
wait_seconds = "0"
[columns]
contact_id = "id"
received_at = { from = "stamp", format = "%Y-%m-%dT%H:%M:%S%z" }
outcome = { from = "code", values = { OK = "answered" }, default = "abandoned" }
agent_id = { from = ["agent", "backup"] }
"""
    data = tmp_path / "e.csv"
    data.write_text("\n".join(export) + "\n", encoding="utf-8")
    toml = tmp_path / "m.toml"
    toml.write_text(mapping, encoding="utf-8")
    report = ingest_file(db_url, "contacts", data, mapping=toml, timezone="Asia/Tokyo")
    assert (report.inserted, report.warnings) == (2, [])
    rows = stored(db_url)
    # An offset in the format makes the time exact, whatever --timezone says.
    assert rows["k1"]["received_at"] == dt.datetime(2015, 3, 2, 8, 0)
    assert (rows["k1"]["outcome"], rows["k2"]["outcome"]) == ("answered", "abandoned")
    assert (rows["k1"]["agent_id"], rows["k2"]["agent_id"]) == ("B1", "A1")


def test_a_translation_reading_a_second_column_and_a_field_kept_for_some_rows(
        db_url, tmp_path):
    # HANG without a queue entry ended in the voice server; talk only for served calls.
    export = ["id,stamp,res,queued,talk",
              "k1,2015-03-02T09:00:00,AGENT,09:00:10,120",   # answered, talk kept
              "k2,2015-03-02T09:01:00,HANG,09:01:05,30",     # abandoned: talk dropped
              "k3,2015-03-02T09:02:00,HANG,,0",              # never queued: ivr
              "k4,2015-03-02T09:03:00,AGENT,,bad"]           # AGENT: kept, so checked
    mapping = """
[constants]
site = "rouen"
department = "60"
channel = "phone"
wait_seconds = "4"
[columns]
contact_id = "id"
received_at = "stamp"
outcome = { from = "res", values = { AGENT = "answered", HANG = "abandoned" }, cases = [{ read = "HANG", column = "queued", empty = true, write = "ivr" }] }
talk_seconds = { from = "talk", format = "%M:%S", keep_if = { column = "res", equals = "AGENT" } }
"""
    mapping = mapping.replace('format = "%M:%S", ', "")
    data = tmp_path / "e.csv"
    data.write_text("\n".join(export) + "\n", encoding="utf-8")
    toml = tmp_path / "m.toml"
    toml.write_text(mapping, encoding="utf-8")
    report = ingest_file(db_url, "contacts", data, mapping=toml, quarantine_dir=tmp_path / "q")
    assert (report.inserted, report.rejected) == (3, 1)
    assert list(report.rejected_by_reason) == ["invalid talk_seconds"]
    rows = stored(db_url)
    assert {k: (r["outcome"], r["talk_seconds"]) for k, r in rows.items()} == {
        "k1": ("answered", 120), "k2": ("abandoned", 0), "k3": ("ivr", 0)}


@pytest.mark.parametrize("text, message", [
    ("[columns]\noutcome = { template = '{a}', cases = [{ column = 'b', empty = true, "
     "write = 'ivr' }] }", "cases go with from"),
    ("[columns]\noutcome = { from = 'a', cases = [{ column = 'b', empty = true }] }",
     "needs write"),
    ("[columns]\noutcome = { from = 'a', cases = [{ column = 'b', write = 'x' }] }",
     "needs exactly one of equals"),
    ("[columns]\ntalk_seconds = { from = 'a', keep_if = { column = 'b', colour = 1 } }",
     "unknown key(s) colour"),
])
def test_invalid_cases_and_keep_if_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_midnight_wrap_with_after(db_url, tmp_path):
    export = ["id,day,entry,queued",
              "k1,990201,23:59:56,0:00:02",   # next day
              "k2,990201,8:00:00,7:59:58",    # two seconds earlier: the log's own error
              "k3,990201,12:00:01,0:00:00",   # exactly 12 h 0 min 1 s earlier: next day
              "k4,990201,12:00:00,0:00:00"]   # exactly 12 h earlier: same day
    mapping = """
[constants]
site = "rouen"
department = "60"
channel = "phone"
outcome = "deflected"
[columns]
contact_id = "id"
received_at = { date = "day", date_format = "%y%m%d", time = "queued", after = "entry" }
"""
    data = tmp_path / "e.csv"
    data.write_text("\n".join(export) + "\n", encoding="utf-8")
    toml = tmp_path / "m.toml"
    toml.write_text(mapping, encoding="utf-8")
    report = ingest_file(db_url, "contacts", data, mapping=toml, timezone="UTC")
    assert report.inserted == 4
    rows = stored(db_url)
    assert rows["k1"]["received_at"] == dt.datetime(1999, 2, 2, 0, 0, 2)
    assert rows["k2"]["received_at"] == dt.datetime(1999, 2, 1, 7, 59, 58)
    assert rows["k3"]["received_at"] == dt.datetime(1999, 2, 2, 0, 0, 0)
    assert rows["k4"]["received_at"] == dt.datetime(1999, 2, 1, 0, 0, 0)


def test_the_command_line_overrides_the_mapping(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_CALLER_KEY_SECRET", "s")
    data, toml = files(tmp_path)
    report = ingest_file(db_url, "contacts", data, mapping=toml, source="other",
                         timezone="UTC", quarantine_dir=tmp_path / "q")
    assert report.source == "other"
    assert stored(db_url)["RN-A1"]["received_at"] == dt.datetime(2015, 3, 2, 9, 0)
    # utf-8 given on the command line: the cp1252 file can't be read.
    report = ingest_file(db_url, "contacts", data, mapping=toml, encoding="utf-8",
                         quarantine_dir=tmp_path / "q")
    assert report.exit_code == 2 and "not valid utf-8" in report.error
