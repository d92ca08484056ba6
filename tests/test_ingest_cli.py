"""`python -m dashboard ingest`: summary line, one-line errors, exit codes 0/1/2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from dashboard.cli.main import main
from dashboard.store import database as dbmod
from dashboard.store import schema

ROOT = Path(__file__).resolve().parent.parent
HEADER = "contact_id,channel,site,department,received_at,outcome,wait_seconds"
OK = ["k1,phone,rouen,60,2015-03-02T09:00:00,answered,4",
      "k2,phone,rouen,60,2015-03-02T09:01:00,abandoned,2"]
BAD = "k3,phone,rouen,60,2015-03-02T09:02:00,answered,-1"


def run(*args):
    return CliRunner().invoke(main, ["ingest", *map(str, args)])


def contacts(url):
    with dbmod.get_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.contacts)).scalar_one()


def test_cli_exit_codes_and_summary(sqlite_url, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("\n".join([HEADER, *OK]) + "\n", encoding="utf-8")
    # A fresh database: the command creates the schema itself.
    result = run("contacts", good, "--db", sqlite_url, "--site", "rouen")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "read 2, inserted 2, updated 0, unchanged 0, rejected 0"
    assert "warning: unknown site 'rouen' created with time zone Europe/Paris" in result.stderr

    mixed = tmp_path / "mixed.csv"
    mixed.write_text("\n".join([HEADER, *OK, BAD]) + "\n", encoding="utf-8")
    result = run("contacts", mixed, "--db", sqlite_url, "--quarantine-dir", tmp_path / "q",
                 "--source", "good")
    assert result.exit_code == 1
    (quarantine,) = (tmp_path / "q").iterdir()
    assert result.stdout.strip() == (
        "read 3, inserted 0, updated 0, unchanged 2, rejected 1 "
        f"(negative wait_seconds: 1); quarantine: {quarantine}")
    assert quarantine.name.startswith("mixed.") and quarantine.name.endswith(".rejected.csv")

    broken = tmp_path / "broken.csv"
    broken.write_text("contact_id,channel\nx,phone\n", encoding="utf-8")
    result = run("contacts", broken, "--db", sqlite_url)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("error: missing required column(s): site, department, "
                             "received_at, outcome (or give --site / --department)\n")
    assert contacts(sqlite_url) == 2


def test_cli_errors_are_one_line(sqlite_url, tmp_path):
    result = run("contacts", tmp_path / "absent.csv", "--db", sqlite_url)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: cannot open")

    good = tmp_path / "good.csv"
    good.write_text("\n".join([HEADER, *OK]) + "\n", encoding="utf-8")
    result = run("contacts", good, "--db", f"sqlite:///{tmp_path}/no/such/dir/\0x.sqlite")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.output


def test_python_m_dashboard_ingest(sqlite_url, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("\n".join([HEADER, *OK]) + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "ingest", "contacts", str(good), "--db", sqlite_url,
         "--site", "rouen", "--timezone", "Europe/Paris"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "read 2, inserted 2, updated 0, unchanged 0, rejected 0\n"
    assert contacts(sqlite_url) == 2
