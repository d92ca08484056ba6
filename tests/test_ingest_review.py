"""The review's five import kinds (spec/review-data.md) through `ingest`: each loads a small
good file, re-imports update and never duplicate, and each bad input of the issue is
quarantined with its line and reason while the good rows load, on SQLite and PostgreSQL.

Expected rows and values are counted and converted by hand in the comments."""

from __future__ import annotations

import csv
import datetime as dt

import polars as pl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from dashboard.cli.main import main
from dashboard.ingest import KINDS, ingest_file
from dashboard.store import database as dbmod
from dashboard.store import schema


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _quarantine(report) -> dict[int, dict[str, str]]:
    """Line number → the quarantined row (its reason and the columns as read)."""
    with open(report.quarantine_path, encoding="utf-8-sig", newline="") as fh:
        sample = fh.readline()
        fh.seek(0)
        reader = csv.DictReader(fh, delimiter=";" if ";" in sample else ",")
        return {int(r["line"]): r for r in reader}


def _reasons(report) -> dict[int, str]:
    return {line: row["reason"] for line, row in _quarantine(report).items()}


def _rows(url, table, order="id"):
    with dbmod.get_engine(url).connect() as conn:
        return [r._asdict() for r in conn.execute(select(table).order_by(table.c[order]))]


def _count(url, table) -> int:
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _ingest(url, kind, path, tmp_path, **kw):
    return ingest_file(url, kind, path, quarantine_dir=tmp_path / "q", **kw)


# -- good files: loaded, then re-imported ---------------------------------------------------

# Semicolons and a decimal comma, as French spreadsheets write them; one row without its
# département (given by --department); a channel in capitals; handled and staff_hours empty.
RECEPTION = [
    "record_id;department;service;day;channel;received;handled;staff_hours",
    "LR1;60;sip-60-beauvais;2015-03-02;guichet;120;118;21,5",
    "LR2;;sip-60-beauvais;2015-03-02;Telephone;80;;",
    "LR3;28;sip-28-dreux;2015-03-03;courrier;0;0;0",
]
SURVEYS = [
    "response_id,answered_at,site,department,channel,satisfaction,resolved,knew_number,"
    "contact_id,comment",
    # Naive: Paris wall clock, 23:30 winter time (+01:00) = 22:30 UTC, local day 2 March.
    "R1,2015-03-02T23:30:00,rouen,60,phone,5,oui,non,C1,Très bien",
    # Exact: 23:30 UTC = 00:30 in Paris on 3 March.
    "R2,2015-03-02T23:30:00Z,chartres,28,Email,2,0,,,",
    "R3,2015-03-04T10:00:00,rouen,04,phone,3,,1,,",
]
STAFF = [
    "response_id,wave,population,site,department,tools,training,workload,acts_scope,overall",
    "S1,2014-10-15,centre_agent,rouen,,4,3,2,4,4",
    "S2,2014-10-15,local_agent,,60,5,,,,3",
    "S3,2015-04-15,Centre_Manager,chartres,28,1,2,3,4,5",
]
INCIDENTS = [
    "incident_id,component,site,start_at,end_at,severity,description",
    # Cayenne is UTC-3: 22:00 local on 2 March = 01:00 UTC on 3 March, local day 2 March.
    "I1,telephonie,cayenne,2015-03-02T22:00:00,2015-03-02T23:30:00,panne,Coupure totale",
    # No site: every site, naive times in Europe/Paris: 00:30 on 3 March = 23:30 UTC on 2.
    "I2,applications,,2015-03-03T00:30:00,2015-03-03T02:00:00,degrade,",
]
TRAINING = [
    "record_id,agent_id,day,hours,module",
    'T1,rouen-a001,2015-02-20,"6,5",accueil_telephonique',
    "T2,rouen-a001,2015-02-21,12,outils",  # 12 hours: the most a day may hold
]

GOOD = {
    "local-reception": (RECEPTION, {"department": "60"}),
    "surveys": (SURVEYS, {}),
    "staff-surveys": (STAFF, {}),
    "incidents": (INCIDENTS, {}),
    "training": (TRAINING, {}),
}
TABLES = {"local-reception": schema.local_reception, "surveys": schema.surveys,
          "staff-surveys": schema.staff_surveys, "incidents": schema.incidents,
          "training": schema.training}
UTC = dt.datetime  # stored timestamps are naive UTC


def _expected(kind):
    """The stored rows of each good file, worked out by hand (columns checked)."""
    d = dt.date
    if kind == "local-reception":
        return [
            {"record_id": "LR1", "department": "60", "service": "sip-60-beauvais",
             "day": d(2015, 3, 2), "channel": "guichet", "received": 120, "handled": 118,
             "staff_hours": 21.5},
            {"record_id": "LR2", "department": "60", "service": "sip-60-beauvais",
             "day": d(2015, 3, 2), "channel": "telephone", "received": 80, "handled": None,
             "staff_hours": None},
            {"record_id": "LR3", "department": "28", "service": "sip-28-dreux",
             "day": d(2015, 3, 3), "channel": "courrier", "received": 0, "handled": 0,
             "staff_hours": 0.0},
        ]
    if kind == "surveys":
        return [
            {"response_id": "R1", "answered_at": UTC(2015, 3, 2, 22, 30),
             "local_date": d(2015, 3, 2), "site": "rouen", "department": "60",
             "channel": "phone", "satisfaction": 5, "resolved": True, "knew_number": False,
             "contact_id": "C1", "comment": "Très bien"},
            {"response_id": "R2", "answered_at": UTC(2015, 3, 2, 23, 30),
             "local_date": d(2015, 3, 3), "site": "chartres", "department": "28",
             "channel": "email", "satisfaction": 2, "resolved": False, "knew_number": None,
             "contact_id": None, "comment": None},
            {"response_id": "R3", "answered_at": UTC(2015, 3, 4, 9, 0),
             "local_date": d(2015, 3, 4), "site": "rouen", "department": "04",
             "channel": "phone", "satisfaction": 3, "resolved": None, "knew_number": True,
             "contact_id": None, "comment": None},
        ]
    if kind == "staff-surveys":
        none = dict.fromkeys(("training", "workload", "acts_scope"))
        return [
            {"response_id": "S1", "wave": d(2014, 10, 15), "population": "centre_agent",
             "site": "rouen", "department": None, "tools": 4, "training": 3, "workload": 2,
             "acts_scope": 4, "overall": 4},
            {"response_id": "S2", "wave": d(2014, 10, 15), "population": "local_agent",
             "site": None, "department": "60", "tools": 5, **none, "overall": 3},
            {"response_id": "S3", "wave": d(2015, 4, 15), "population": "centre_manager",
             "site": "chartres", "department": "28", "tools": 1, "training": 2,
             "workload": 3, "acts_scope": 4, "overall": 5},
        ]
    if kind == "incidents":
        return [
            {"incident_id": "I1", "component": "telephonie", "site": "cayenne",
             "start_at": UTC(2015, 3, 3, 1, 0), "end_at": UTC(2015, 3, 3, 2, 30),
             "local_date": d(2015, 3, 2), "severity": "panne",
             "description": "Coupure totale"},
            {"incident_id": "I2", "component": "applications", "site": None,
             "start_at": UTC(2015, 3, 2, 23, 30), "end_at": UTC(2015, 3, 3, 1, 0),
             "local_date": d(2015, 3, 3), "severity": "degrade", "description": None},
        ]
    return [
        {"record_id": "T1", "agent_id": "rouen-a001", "day": d(2015, 2, 20), "hours": 6.5,
         "module": "accueil_telephonique"},
        {"record_id": "T2", "agent_id": "rouen-a001", "day": d(2015, 2, 21), "hours": 12.0,
         "module": "outils"},
    ]


def _add_site(url, code, timezone):
    with dbmod.get_engine(url).begin() as conn:
        conn.execute(schema.sites.insert().values(code=code, name=code, timezone=timezone))


@pytest.mark.parametrize("kind", list(GOOD))
def test_each_kind_loads_and_reimports_without_duplicates(db_url, tmp_path, kind):
    lines, options = GOOD[kind]
    if kind == "incidents":
        _add_site(db_url, "cayenne", "America/Cayenne")
    path = _write(tmp_path / f"{kind}.csv", lines)
    expected = _expected(kind)
    table = TABLES[kind]

    first = _ingest(db_url, kind, path, tmp_path, **options)
    assert (first.exit_code, first.error, first.rejected) == (0, None, 0), first.summary()
    assert (first.inserted, first.updated, first.unchanged) == (len(expected), 0, 0)
    stored = _rows(db_url, table)
    assert [{k: r[k] for k in e} for r, e in zip(stored, expected)] == expected
    assert {r["source"] for r in stored} == {kind}  # the file's stem
    assert {r["import_id"] for r in stored} == {first.import_id}

    again = _ingest(db_url, kind, path, tmp_path, **options)
    assert (again.exit_code, again.inserted, again.updated, again.unchanged) == (
        0, 0, 0, len(expected))
    assert _count(db_url, table) == len(expected)

    # The next export corrects the first record: one update, still no duplicate.
    sep = ";" if ";" in lines[0] else ","
    header, cells, *rest = list(csv.reader(lines, delimiter=sep))
    changed_column = {"local-reception": "received", "surveys": "satisfaction",
                      "staff-surveys": "overall", "incidents": "severity",
                      "training": "module"}[kind]
    new_value = {"local-reception": "121", "surveys": "4", "staff-surveys": "5",
                 "incidents": "degrade", "training": "outils"}[kind]
    cells[header.index(changed_column)] = new_value
    with open(tmp_path / f"{kind}.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=sep).writerows([header, cells, *rest])
    fixed = tmp_path / f"{kind}.csv"
    third = _ingest(db_url, kind, fixed, tmp_path, **options)
    assert (third.exit_code, third.inserted, third.updated, third.unchanged) == (
        0, 0, 1, len(expected) - 1)
    stored = _rows(db_url, table)
    assert len(stored) == len(expected)
    assert str(stored[0][changed_column]) == new_value
    # Only the changed row took the new import's id.
    assert [r["import_id"] for r in stored] == [third.import_id] + [first.import_id] * (
        len(expected) - 1)


def test_the_five_kinds_are_import_kinds():
    assert {"local-reception", "surveys", "staff-surveys", "incidents",
            "training"} <= set(KINDS)
    for name, kind in KINDS.items():
        assert kind.name == name


def test_a_parquet_file_with_typed_columns(db_url, tmp_path):
    """Parquet dates, integers, floats and booleans are read as the text a CSV would hold."""
    path = tmp_path / "accueil.parquet"
    pl.DataFrame({
        "record_id": ["P1", "P2"], "department": ["60", "60"],
        "service": ["sip-60-beauvais"] * 2,
        "day": [dt.date(2015, 3, 2), dt.date(2015, 3, 3)],
        "channel": ["guichet", "courriel"], "received": [40, 7], "handled": [39, None],
        "staff_hours": [7.25, None],
    }).write_parquet(path)
    report = _ingest(db_url, "local-reception", path, tmp_path)
    assert (report.exit_code, report.inserted) == (0, 2), report.summary()
    rows = _rows(db_url, schema.local_reception)
    assert [(r["day"], r["received"], r["handled"], r["staff_hours"]) for r in rows] == [
        (dt.date(2015, 3, 2), 40, 39, 7.25), (dt.date(2015, 3, 3), 7, None, None)]


# -- the bad inputs -----------------------------------------------------------------


def test_unknown_population_is_quarantined(db_url, tmp_path):
    path = _write(tmp_path / "barometre.csv", [
        STAFF[0],
        "S1,2014-10-15,centre_agent,rouen,,4,3,2,4,4",
        "S2,2014-10-15,centre_boss,rouen,,4,3,2,4,4",  # line 3
        "S3,2014-10-15,local_agent,,60,5,,,,3",
    ])
    report = _ingest(db_url, "staff-surveys", path, tmp_path)
    assert (report.exit_code, report.inserted, report.rejected) == (1, 2, 1)
    assert _reasons(report) == {3: "unknown population: 'centre_boss'"}
    assert [r["response_id"] for r in _rows(db_url, schema.staff_surveys)] == ["S1", "S3"]


def test_satisfaction_must_be_1_to_5(db_url, tmp_path):
    path = _write(tmp_path / "enquete.csv", [
        SURVEYS[0],
        "R1,2015-03-02T10:00:00,rouen,60,phone,5,,,,",
        "R2,2015-03-02T10:00:00,rouen,60,phone,7,,,,",  # line 3
        "R3,2015-03-02T10:00:00,rouen,60,phone,0,,,,",  # line 4
        'R4,2015-03-02T10:00:00,rouen,60,phone,"3,5",,,,',  # line 5
        "R5,2015-03-02T10:00:00,rouen,60,phone,,,,,",  # line 6
        "R6,2015-03-02T10:00:00,rouen,60,sms,4,,,,",  # line 7
        "R7,2015-03-02T10:00:00,rouen,60,email,1,peut-être,,,",  # line 8
    ])
    report = _ingest(db_url, "surveys", path, tmp_path)
    assert (report.exit_code, report.inserted, report.rejected) == (1, 1, 6)
    assert _reasons(report) == {
        3: "satisfaction must be 1 to 5: '7'",
        4: "satisfaction must be 1 to 5: '0'",
        5: "invalid satisfaction: '3,5' (not a whole number)",
        6: "missing satisfaction",
        7: "unknown channel: 'sms'",
        8: "invalid resolved: 'peut-être'",
    }
    assert report.rejected_by_reason["satisfaction must be 1 to 5"] == 2
    assert [r["response_id"] for r in _rows(db_url, schema.surveys)] == ["R1"]


AGENT_IDS = ("A-481516", "jdupont42")


@pytest.mark.parametrize("column", ["matricule", "Agent_ID"])
def test_an_agent_id_in_a_staff_survey_is_rejected_and_kept_nowhere(db_url, tmp_path, column):
    path = _write(tmp_path / "barometre.csv", [
        STAFF[0] + f",{column}",
        "S1,2014-10-15,centre_agent,rouen,,4,3,2,4,4,",
        f"S2,2014-10-15,centre_agent,rouen,,2,2,2,2,2,{AGENT_IDS[0]}",  # line 3
        "S3,2014-10-15,local_agent,,60,5,,,,3,  ",  # spaces only: no id
        f"S4,2014-10-15,local_agent,,60,1,,,,1,{AGENT_IDS[1]}",  # line 5
    ])
    report = _ingest(db_url, "staff-surveys", path, tmp_path)
    assert (report.exit_code, report.inserted, report.rejected) == (1, 2, 2)
    reason = f"agent id in an anonymous survey: column '{column}' (the value is not kept)"
    quarantined = _quarantine(report)
    assert {line: row["reason"] for line, row in quarantined.items()} == {3: reason, 5: reason}
    # The quarantined lines keep the rest of the row, and the id column empty.
    assert quarantined[3]["response_id"] == "S2"
    assert quarantined[3][column] == "" and quarantined[5][column] == ""
    assert [r["response_id"] for r in _rows(db_url, schema.staff_surveys)] == ["S1", "S3"]
    assert any("staff-surveys are anonymous" in w for w in report.warnings)
    # Nowhere: not in the quarantine file, not in any table (imports journal included).
    text = report.quarantine_path.read_text(encoding="utf-8-sig")
    with dbmod.get_engine(db_url).connect() as conn:
        stored = " ".join(str(row) for t in schema.metadata.sorted_tables
                          for row in conn.execute(select(t)))
    for value in AGENT_IDS:
        assert value not in text
        assert value not in stored


def test_a_mapping_may_not_make_a_column_from_the_agent_id(db_url, tmp_path):
    path = _write(tmp_path / "barometre.csv", [
        "wave,population,site,tools,matricule",
        f"2014-10-15,centre_agent,rouen,4,{AGENT_IDS[0]}",
    ])
    mapping = tmp_path / "barometre.toml"
    mapping.write_text('[columns]\nresponse_id = { template = "{wave}-{matricule}" }\n',
                       encoding="utf-8")
    report = _ingest(db_url, "staff-surveys", path, tmp_path, mapping=mapping)
    assert report.exit_code == 2
    assert report.error == ("mapping barometre.toml: response_id uses 'matricule': "
                            "staff-surveys are anonymous, an agent id is never stored")
    assert _count(db_url, schema.staff_surveys) == 0


def test_an_incident_that_ends_before_it_starts(db_url, tmp_path):
    path = _write(tmp_path / "incidents.csv", [
        INCIDENTS[0],
        "I1,telephonie,rouen,2015-03-02T09:00:00,2015-03-02T10:30:00,panne,",
        "I2,messagerie,rouen,2015-03-02T11:00:00,2015-03-02T10:59:00,panne,",  # line 3
        "I3,reseau,rouen,2015-03-02T11:00:00,2015-03-02T12:00:00,panne,",  # line 4
        "I4,telephonie,<b>x</b>,2015-03-02T11:00:00,2015-03-02T12:00:00,panne,",  # line 5
        "I5,telephonie,,2015-03-02T11:00:00,2015-03-02T12:00:00,coupure,",  # line 6
        "I6,telephonie,,2015-03-02T11:00:00,,panne,",  # line 7
    ])
    report = _ingest(db_url, "incidents", path, tmp_path)
    assert (report.exit_code, report.inserted, report.rejected) == (1, 1, 5)
    assert _reasons(report) == {
        3: "ends before it starts: end_at '2015-03-02T10:59:00' before start_at "
           "'2015-03-02T11:00:00'",
        4: "unknown component: 'reseau'",
        5: "invalid site: '<b>x</b>'",
        6: "unknown severity: 'coupure'",
        7: "missing end_at",
    }


def test_dates_in_another_format_are_rejected(db_url, tmp_path):
    path = _write(tmp_path / "accueil.csv", [
        RECEPTION[0],
        "LR1;60;sip-60-beauvais;2015-03-02;guichet;12;;",
        "LR2;60;sip-60-beauvais;02/03/2015;guichet;12;;",  # line 3
        "LR3;60;sip-60-beauvais;2015-02-30;guichet;12;;",  # line 4
        "LR4;60;sip-60-beauvais;;guichet;12;;",  # line 5
    ])
    report = _ingest(db_url, "local-reception", path, tmp_path)
    assert (report.exit_code, report.inserted, report.rejected) == (1, 1, 3)
    assert _reasons(report) == {
        3: "unparseable day: '02/03/2015' (expected YYYY-MM-DD)",
        4: "impossible day: '2015-02-30'",
        5: "missing day",
    }


def test_counts_and_hours_out_of_range(db_url, tmp_path):
    reception = _write(tmp_path / "accueil.csv", [
        RECEPTION[0],
        "LR1;60;sip-60-beauvais;2015-03-02;guichet;12;12;3",
        "LR2;60;sip-60-beauvais;2015-03-02;courrier;-2;;",  # line 3
        "LR3;60;sip-60-beauvais;2015-03-02;courriel;10;11;",  # line 4
        "LR4;60;sip-60-beauvais;2015-03-02;guichet;2,5;;",  # line 5
        "LR5;60;sip-60-beauvais;2015-03-02;guichet;5;;-0,5",  # line 6
        "LR6;60;sip 60;2015-03-02;guichet;5;;",  # line 7
        "LR7;60;sip-60-beauvais;2015-03-02;fax;5;;",  # line 8
    ])
    report = _ingest(db_url, "local-reception", reception, tmp_path)
    assert (report.exit_code, report.inserted, report.rejected) == (1, 1, 6)
    assert _reasons(report) == {
        3: "negative received: '-2'",
        4: "handled above received: handled '11', received '10'",
        5: "invalid received: '2,5' (not a whole number)",
        6: "negative staff_hours: '-0,5'",
        7: "invalid service: 'sip 60'",
        8: "unknown channel: 'fax'",
    }
    training = _write(tmp_path / "formation.csv", [
        TRAINING[0],
        "T1,rouen-a001,2015-02-20,7,outils",
        "T2,rouen-a001,2015-02-21,0,outils",  # line 3
        "T3,rouen-a001,2015-02-22,12.5,outils",  # line 4
        "T4,J. Dupont,2015-02-23,3,outils",  # line 5
        "T5,rouen-a001,2015-02-24,3,",  # line 6
    ])
    report = _ingest(db_url, "training", training, tmp_path)
    assert (report.exit_code, report.inserted, report.rejected) == (1, 1, 4)
    assert _reasons(report) == {
        3: "hours must be above 0 and at most 12: '0'",
        4: "hours must be above 0 and at most 12: '12.5'",
        5: "invalid agent_id: 'J. Dupont'",
        6: "missing module",
    }


def test_a_mapping_file_renames_columns_and_reads_french_dates(db_url, tmp_path):
    path = _write(tmp_path / "export-sip.csv", [
        "id;dept;sip;date;canal;recus;traites",
        "A1;60;sip-60-beauvais;02/03/2015;G;40;38",
        "A2;60;sip-60-beauvais;03/03/2015;T;25;20",
        "A3;60;sip-60-beauvais;2015-03-04;G;10;10",  # line 4: not the mapping's format
    ])
    mapping = tmp_path / "sip.toml"
    mapping.write_text("\n".join([
        'kind = "local-reception"',
        'source = "sip-oise"',
        "[columns]",
        'record_id = "id"',
        'department = "dept"',
        'service = "sip"',
        'day = { from = "date", format = "%d/%m/%Y" }',
        'channel = { from = "canal", values = { G = "guichet", T = "telephone" } }',
        'received = "recus"',
        'handled = "traites"',
    ]) + "\n", encoding="utf-8")
    report = _ingest(db_url, "local-reception", path, tmp_path, mapping=mapping)
    assert (report.exit_code, report.inserted, report.rejected) == (1, 2, 1)
    assert _reasons(report) == {4: "unparseable day: '2015-03-04' (expected %d/%m/%Y)"}
    rows = _rows(db_url, schema.local_reception)
    assert [(r["source"], r["record_id"], r["day"], r["channel"], r["received"], r["handled"])
            for r in rows] == [
        ("sip-oise", "A1", dt.date(2015, 3, 2), "guichet", 40, 38),
        ("sip-oise", "A2", dt.date(2015, 3, 3), "telephone", 25, 20),
    ]
    # The same mapping written for another kind is refused as a whole.
    other = _ingest(db_url, "training", path, tmp_path, mapping=mapping)
    assert (other.exit_code, other.error) == (
        2, "mapping sip.toml: written for local-reception, not training")


def test_site_and_department_defaults_where_they_make_sense(db_url, tmp_path):
    """--site stands in for surveys; an incident's empty site stays "every site"."""
    surveys = _write(tmp_path / "enquete.csv", [
        "response_id,answered_at,channel,satisfaction",
        "R1,2015-03-02T10:00:00,phone,4",
    ])
    report = _ingest(db_url, "surveys", surveys, tmp_path, site="chartres", department="28")
    assert (report.exit_code, report.inserted) == (0, 1)
    (row,) = _rows(db_url, schema.surveys)
    assert (row["site"], row["department"]) == ("chartres", "28")

    incidents = _write(tmp_path / "incidents.csv", [
        INCIDENTS[0], "I1,telephonie,,2015-03-02T09:00:00,2015-03-02T10:00:00,panne,"])
    report = _ingest(db_url, "incidents", incidents, tmp_path, site="rouen")
    assert (report.exit_code, report.inserted) == (0, 1)
    assert "--site is ignored for incidents" in report.warnings
    assert _rows(db_url, schema.incidents)[0]["site"] is None

    training = _write(tmp_path / "formation.csv", TRAINING[:2])
    report = _ingest(db_url, "training", training, tmp_path, site="rouen", department="60")
    assert report.exit_code == 0
    assert {"--site is ignored for training",
            "--department is ignored for training"} <= set(report.warnings)


def test_the_command_line_exit_statuses(db_url, tmp_path):
    def run(*args):
        return CliRunner().invoke(main, ["ingest", *map(str, args), "--db", db_url,
                                         "--quarantine-dir", tmp_path / "q"])

    good = _write(tmp_path / "formation.csv", TRAINING)
    result = run("training", good)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "read 2, inserted 2, updated 0, unchanged 0, rejected 0"

    mixed = _write(tmp_path / "incidents.csv", [
        INCIDENTS[0],
        "I1,telephonie,rouen,2015-03-02T09:00:00,2015-03-02T10:30:00,panne,",
        "I2,messagerie,rouen,2015-03-02T11:00:00,2015-03-02T10:00:00,panne,"])
    result = run("incidents", mixed)
    assert result.exit_code == 1
    assert "rejected 1 (ends before it starts: 1); quarantine: " in result.stdout

    nothing = _write(tmp_path / "enquete.csv", [
        "response_id,answered_at,site,department,channel", "R1,2015-03-02T10:00:00,rouen,60,phone"])
    result = run("surveys", nothing)
    assert result.exit_code == 2
    assert result.stderr == "error: missing required column(s): satisfaction\n"
    assert _count(db_url, schema.surveys) == 0


# -- the Données page ----------------------------------------------------------------------


def test_the_donnees_page_lists_the_imports_of_every_kind(db_url, tmp_path, monkeypatch):
    from tests.test_app_donnees import _page, _table

    _add_site(db_url, "cayenne", "America/Cayenne")
    for kind, (lines, options) in GOOD.items():
        report = _ingest(db_url, kind, _write(tmp_path / f"{kind}.csv", lines), tmp_path,
                         **options)
        assert report.exit_code == 0, report.summary()
    at = _page(monkeypatch, db_url)
    assert not at.exception, at.exception
    history = _table(at, "Type")
    assert history["Type"].tolist() == ["Formations", "Incidents des outils",
                                        "Baromètre des agents", "Enquête usagers",
                                        "Accueil des services locaux"]
    assert history["Insérées"].tolist() == ["2", "2", "3", "3", "3"]
