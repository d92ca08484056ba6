"""`python -m dashboard kpis`: formats, filters, overrides and one-line argument errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from dashboard.cli.main import main
from dashboard.core.formatting import NNBSP
from dashboard.metrics.definitions import METRIC_KEYS, METRICS
from dashboard.store import database as dbmod
from dashboard.store import reference
from tests.factories import Rows


@pytest.fixture
def cli_db(sqlite_url):
    """A SQLite database with a few hand-made rows (the CLI is database-agnostic; parity
    between databases is tested in test_engine_parity)."""
    dbmod.upgrade(sqlite_url)
    reference.load_reference(dbmod.get_engine(sqlite_url))
    rows = Rows(sqlite_url)
    rows.call("2015-04-02 09:00", wait=20, talk=300, wrap=60, agent="a1", queue="particuliers")
    rows.call("2015-04-02 09:05", outcome="abandoned", wait=4)
    rows.call("2015-04-02 09:10", outcome="abandoned", wait=30, queue="recouvrement")
    rows.call("2015-04-03 10:00", wait=45, talk=100, agent=None, site="chartres",
              department="28")
    rows.email("2015-04-02 08:00", replied="2015-04-02 10:30", agent="a1")
    rows.act("2015-04-02 09:30", agent="a1")
    rows.session("a1", "2015-04-02 08:00", "2015-04-02 12:00")
    return sqlite_url


def run(*args):
    return CliRunner().invoke(main, ["kpis", *args])


def test_json_default_format(cli_db):
    result = run("--db", cli_db, "--from", "2015-04-02", "--to", "2015-04-03")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert isinstance(data, list) and len(data) == 1
    row = data[0]
    assert list(row) == list(METRIC_KEYS)
    assert row["received"] == 4 and isinstance(row["received"], int)
    assert row["short_abandoned"] == 1
    # answered 2 / (4 received - 1 short)
    assert row["answer_rate"] == pytest.approx(2 / 3)
    assert row["service_level"] == pytest.approx(1 / 3)  # wait 20 in, 45 out, of 4 - 1
    assert row["median_reply_hours"] == 2.5
    assert row["agent_hours"] == 4.0
    assert row["acts_per_100_handled"] == pytest.approx(100 / 3)  # 1 act / (2 + 1) handled
    assert row["repeat_contact_rate"] is None  # no caller keys: null, not 0


def test_json_grouped_with_filters_and_overrides(cli_db):
    result = run("--db", cli_db, "--from", "2015-04-02", "--to", "2015-04-03",
                 "--by", "day,site", "--site", "rouen,chartres", "--channel", "phone")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(r["day"], r["site"]) for r in data] == [
        ("2015-04-02", "rouen"), ("2015-04-03", "chartres")
    ]
    assert list(data[0])[:2] == ["day", "site"]
    assert data[0]["emails_received"] == 0  # --channel phone
    assert data[0]["agent_hours"] is None  # staffing cannot follow a channel filter
    # Repeated options and a threshold override: wait 30 becomes short with 31.
    result = run("--db", cli_db, "--from", "2015-04-02", "--to", "2015-04-02",
                 "--queue", "particuliers", "--queue", "recouvrement",
                 "--short-abandon-seconds", "31", "--sl-seconds", "0")
    row = json.loads(result.output)[0]
    assert row["received"] == 3 and row["short_abandoned"] == 2  # waits 4 and 30 < 31
    assert row["service_level"] == 0.0  # 20 > 0, of 3 offered - 2 short
    result = run("--db", cli_db, "--from", "2015-04-02", "--to", "2015-04-02",
                 "--queue", "recouvrement")
    assert json.loads(result.output)[0]["received"] == 1


def test_csv_format(cli_db):
    result = run("--db", cli_db, "--from", "2015-04-02", "--to", "2015-04-03", "--by", "agent",
                 "--format", "csv")
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.output)))
    assert list(table[0]) == ["agent", *METRIC_KEYS]
    assert [r["agent"] for r in table] == ["a1", ""]  # null agent: empty cell
    a1 = table[0]
    assert a1["answered"] == "1"
    assert a1["aht_seconds"] == "360.0"
    assert a1["abandon_rate"] == "0.0"  # 0 abandoned / 1 offered
    assert a1["repeat_contact_rate"] == ""  # no caller key: null → empty cell
    assert table[1]["abandon_rate"] == "0.5"  # (2 - 1 short) / (3 offered - 1 short)
    assert float(a1["occupancy"]) == pytest.approx(360 / (4 * 3600))


def test_table_format_is_french(cli_db):
    result = run("--db", cli_db, "--from", "2015-04-02", "--to", "2015-04-03", "--format",
                 "table", "--by", "agent")
    assert result.exit_code == 0, result.output
    text = result.output
    for metric in METRICS:
        assert metric.label in text
    assert "non attribué" in text
    assert f"100,0{NNBSP}%" in text  # a1's answer rate
    assert f"2,5{NNBSP}%" in text  # a1's occupancy: 360 s / 4 h
    assert "—" in text
    assert f"6{NNBSP}min{NNBSP}00{NNBSP}s" in text  # a1's handle time, 360 s


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2015-13-01", "--to", "2015-04-02"], "--from must be a date"),
        (["--from", "01/04/2015", "--to", "2015-04-02"], "--from must be a date"),
        (["--from", "2015-04-03", "--to", "2015-04-02"], "is before"),
        (["--to", "2015-04-02"], "Missing option '--from'"),
        (["--from", "2015-04-01", "--to", "2015-04-02", "--by", "year"], "unknown --by"),
        (["--from", "2015-04-01", "--to", "2015-04-02", "--by", "day,day"], "repeated"),
        (["--from", "2015-04-01", "--to", "2015-04-02", "--channel", "fax"], "--channel"),
        (["--from", "2015-04-01", "--to", "2015-04-02", "--format", "xml"], "--format"),
        (["--from", "2015-04-01", "--to", "2015-04-02", "--sl-seconds", "-1"], "--sl-seconds"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(cli_db, args, message):
    result = run("--db", cli_db, *args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and message in lines[0]


def test_database_without_schema_is_one_line_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    result = run("--db", url, "--from", "2015-04-01", "--to", "2015-04-02")
    assert result.exit_code == 1
    assert "db upgrade" in result.output
    dbmod.get_engine(url).dispose()
