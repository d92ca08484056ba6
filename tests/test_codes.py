"""Site and agent codes follow one pattern (dashboard/core/codes.py): in Python, in the
importer's Polars rules, on the command line and in reference files; a row that breaks it
is quarantined with its reason while the rest of its file loads, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import tomllib

import polars as pl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from dashboard.cli.main import main
from dashboard.core.codes import CODE_PATTERN, CODE_RULE, is_code
from dashboard.core.config import ROOT
from dashboard.ingest import ingest_file
from dashboard.store import database as dbmod
from dashboard.store import reference, schema

ACCEPTED = ["rouen", "chartres", "rouen-a001", "NO_SERVER", "DORIT", "A1", "x.y_z-0", "7",
            "a" * 64]
REJECTED = ["", "a" * 65, "J Dupont", "andré", "<img src=x>", "rouen\n", " rouen", "a/b",
            "a@b", "**x**", "[a](http://b)", "équipe", "a\tb", "rouen,"]


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _quarantine(report) -> dict[int, str]:
    with open(report.quarantine_path, encoding="utf-8-sig", newline="") as fh:
        return {int(r["line"]): r["reason"] for r in csv.DictReader(fh)}


def _scalars(url, sql):
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(text(sql)).scalars().all()


# -- the pattern --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ACCEPTED)
def test_codes_that_follow_the_pattern(value):
    assert is_code(value)


@pytest.mark.parametrize("value", REJECTED + [None, 12])
def test_values_that_break_it(value):
    assert not is_code(value)


def test_polars_reads_the_pattern_as_python_does():
    """The importer checks codes with Polars' regex engine, the reference file and --site
    with Python's: the one pattern must mean the same to both."""
    values = ACCEPTED + REJECTED
    found = pl.Series(values).str.contains(CODE_PATTERN).to_list()
    assert found == [True] * len(ACCEPTED) + [False] * len(REJECTED)


def test_every_shipped_site_code_fits():
    for path in (reference.PILOT_FILE, ROOT / "bench" / "national.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        codes = [s["code"] for s in data["sites"]] + [c["site"] for c in data["coverage"]]
        assert codes and all(is_code(c) for c in codes), path


def test_every_code_of_the_demo_fits(demo_db_url):
    codes = (_scalars(demo_db_url, "SELECT code FROM sites")
             + _scalars(demo_db_url, "SELECT agent_id FROM agents")
             + _scalars(demo_db_url, "SELECT DISTINCT agent_id FROM contacts "
                                     "WHERE agent_id IS NOT NULL")
             + _scalars(demo_db_url, "SELECT DISTINCT agent_id FROM acts"))
    assert len(codes) > 10
    assert [c for c in codes if not is_code(c)] == []


# -- imports ------------------------------------------------------------------------------

CONTACTS = "contact_id,channel,site,department,received_at,outcome,wait_seconds,agent_id"


def test_bad_codes_are_quarantined_and_create_no_site(db_url, tmp_path):
    lines = [CONTACTS,
             "g1,phone,rouen,60,2015-03-02T09:00:00,answered,5,A1",
             "b1,phone,<img src=x>,60,2015-03-02T09:01:00,answered,5,A1",
             "b2,phone,rouen,60,2015-03-02T09:02:00,answered,5,J Dupont",
             "g2,phone,evreux,27,2015-03-02T09:03:00,abandoned,40,",
             "b3,email,chartres,28,2015-03-02T09:04:00,pending,,andré"]
    before = set(_scalars(db_url, "SELECT code FROM sites"))
    report = ingest_file(db_url, "contacts", _write(tmp_path / "mixed.csv", lines),
                         quarantine_dir=tmp_path / "q")
    assert (report.exit_code, report.inserted, report.rejected) == (1, 2, 3)
    assert report.rejected_by_reason == {"invalid site": 1, "invalid agent_id": 2}
    assert _quarantine(report) == {3: "invalid site: '<img src=x>'",
                                   4: "invalid agent_id: 'J Dupont'",
                                   6: "invalid agent_id: 'andré'"}
    assert sorted(_scalars(db_url, "SELECT contact_id FROM contacts")) == ["g1", "g2"]
    # The good row's unknown site is created as before; the rejected one is not.
    assert set(_scalars(db_url, "SELECT code FROM sites")) == before | {"evreux"}
    # Imported again: the same rows rejected, nothing stored twice.
    again = ingest_file(db_url, "contacts", _write(tmp_path / "mixed.csv", lines),
                        quarantine_dir=tmp_path / "q")
    assert (again.inserted, again.unchanged, again.rejected) == (0, 2, 3)
    assert len(_scalars(db_url, "SELECT contact_id FROM contacts")) == 2


@pytest.mark.parametrize("kind, lines, reasons", [
    ("acts", ["act_id,performed_at,act_type,site,department,agent_id",
              "a1,2015-04-20T16:45:00,attestation,rouen,60,A1",
              "a2,2015-04-20T16:46:00,attestation,rouen,60,a b"],
     {3: "invalid agent_id: 'a b'"}),
    ("agents", ["agent_id,site,display_name,team",
                "A1,rouen,**Agent** Un,_t_",
                "A2,centre de Rouen,Agent Deux,",
                "é3,rouen,Agent Trois,"],
     {3: "invalid site: 'centre de Rouen'", 4: "invalid agent_id: 'é3'"}),
    ("agent-sessions", ["agent_id,site,start_at,end_at",
                        "A1,rouen,2015-03-02T08:00:00,2015-03-02T12:00:00",
                        "A1,<b>rouen</b>,2015-03-02T13:00:00,2015-03-02T17:00:00"],
     {3: "invalid site: '<b>rouen</b>'"}),
])
def test_every_kind_checks_its_codes(db_url, tmp_path, kind, lines, reasons):
    report = ingest_file(db_url, kind, _write(tmp_path / f"{kind}.csv", lines),
                         quarantine_dir=tmp_path / "q")
    assert (report.inserted, report.rejected) == (len(lines) - 1 - len(reasons), len(reasons))
    assert _quarantine(report) == reasons
    with dbmod.get_engine(db_url).connect() as conn:
        table = schema.metadata.tables[kind.replace("-", "_")]
        assert conn.execute(select(func.count()).select_from(table)).scalar_one() == \
            len(lines) - 1 - len(reasons)


def test_agents_names_are_free_text(db_url, tmp_path):
    """Names are not codes: they load as written (the pages escape them when shown)."""
    lines = ["agent_id,site,display_name,team", "A1,rouen,**x** [clic](http://evil.example),_t_"]
    report = ingest_file(db_url, "agents", _write(tmp_path / "agents.csv", lines))
    assert (report.inserted, report.rejected) == (1, 0)
    assert _scalars(db_url, "SELECT display_name FROM agents") == [
        "**x** [clic](http://evil.example)"]


def test_a_bad_site_option_loads_nothing_and_says_why_in_one_line(db_url, tmp_path):
    path = _write(tmp_path / "nosite.csv", ["contact_id,channel,department,received_at,outcome,"
                                            "wait_seconds",
                                            "k1,phone,60,2015-03-02T09:00:00,answered,4"])
    before = set(_scalars(db_url, "SELECT code FROM sites"))
    report = ingest_file(db_url, "contacts", path, site="<img src=x>")
    assert report.exit_code == 2
    assert report.error == f"invalid --site '<img src=x>' (a site code: {CODE_RULE})"
    assert _scalars(db_url, "SELECT count(*) FROM contacts") == [0]
    assert set(_scalars(db_url, "SELECT code FROM sites")) == before
    assert _scalars(db_url, "SELECT status FROM imports") == ["failed"]


# -- reference files ----------------------------------------------------------------------


@pytest.mark.parametrize("edit, code", [
    (('code = "rouen"', 'code = "centre de Rouen"'), "centre de Rouen"),
    (('site = "chartres"', 'site = "<img src=x>"'), "<img src=x>"),
])
def test_a_reference_file_with_a_bad_site_code_loads_nothing(empty_db_url, tmp_path, edit,
                                                            code):
    dbmod.upgrade(empty_db_url)
    source = reference.PILOT_FILE.read_text(encoding="utf-8")
    assert source.count(edit[0]) >= 1
    path = tmp_path / "centres.toml"
    path.write_text(source.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(reference.ReferenceError) as caught:
        reference.load_reference(dbmod.get_engine(empty_db_url), path)
    message = str(caught.value)
    assert message == f"{path}: site code {code!r} must be {CODE_RULE}"
    assert "\n" not in message
    assert _scalars(empty_db_url, "SELECT count(*) FROM sites") == [0]
    result = CliRunner().invoke(main, ["reference", "load", str(path), "--db", empty_db_url])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {message}"]
