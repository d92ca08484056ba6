"""`python -m dashboard report`: the review report as one self-contained HTML file."""

from __future__ import annotations

import re

from click.testing import CliRunner

from dashboard.cli.main import main

PERIOD = ["--from", "2015-04-01", "--to", "2015-06-30"]
SECTIONS = ["1. Volume des contacts et calibrage des équipes", "2. Qualité de service",
            "3. Actes de gestion et promotion des services en ligne",
            "4. Usagers : recontacts"]


def run(*args):
    return CliRunner().invoke(main, ["report", *args])


def test_report_has_every_section_chart_and_reading_and_no_external_resource(demo_db_url,
                                                                            tmp_path):
    out = tmp_path / "bilan.html"
    result = run("--db", demo_db_url, *PERIOD, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html><html lang='fr'>")
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == SECTIONS
    # Volumes, ramp-up, peaks, staffing profile, quality, promotion, repeat contacts.
    assert page.count("<figure>") == 7
    assert page.count("<figcaption>") == 7
    assert len(re.findall(r"<svg\b", page)) >= 7
    assert "Période du 01/04/2015 au 30/06/2015" in page
    assert "Rouen" in page and "Chartres" in page
    # Nothing to fetch: no script, no link, no remote URL outside SVG namespaces.
    assert "<script" not in page and "<link" not in page
    urls = set(re.findall(r"(?:https?:)?//[^\s\"')<]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def test_report_in_a_supervisors_scope_shows_only_its_site(demo_db_url, tmp_path):
    out = tmp_path / "rouen.html"
    result = run("--db", demo_db_url, *PERIOD, "--out", str(out),
                 "--as-user", "superviseur.rouen")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "Rouen" in page and "Chartres" not in page and "Seine-Saint-Denis" not in page


def test_report_for_one_site(demo_db_url, tmp_path):
    out = tmp_path / "chartres.html"
    result = run("--db", demo_db_url, *PERIOD, "--out", str(out), "--site", "chartres")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "Chartres" in page and "60 Oise" not in page


def test_report_argument_errors_are_one_line(demo_db_url, tmp_path):
    out = str(tmp_path / "x.html")
    for args, message in (
        (["--from", "2015-06-30", "--to", "2015-04-01"], "is before"),
        (["--from", "30/06/2015", "--to", "2015-07-01"], "must be a date"),
        ([*PERIOD, "--site", "lyon"], "no such site"),
        ([*PERIOD, "--as-user", "nobody"], "no such active user"),
    ):
        result = run("--db", demo_db_url, *args, "--out", out)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and len(result.output.strip().splitlines()) == 1
    result = run("--db", demo_db_url, *PERIOD)
    assert result.exit_code == 2 and "--out" in result.output
