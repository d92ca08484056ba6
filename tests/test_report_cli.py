"""`python -m dashboard report`: the review report as one self-contained HTML file, built
from the same Review as `python -m dashboard review` and the Bilan page."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from dashboard.cli.main import main
from dashboard.core import formatting as fmt
from dashboard.core.access import ALL_ROWS
from dashboard.core.filters import Filters
from dashboard.engine.kpis import compute_kpis
from dashboard.review import assessment
from dashboard.store import database as dbmod

PERIOD = ["--from", "2015-04-01", "--to", "2015-06-30"]
SECTIONS = ["Synthèse", *[f"{i}. {title}" for i, (_, title) in
                          enumerate(assessment.QUESTIONS, 1)],
            "Soulagement des services locaux (objectif 4)"]


def run(*args):
    return CliRunner().invoke(main, ["report", *args])


def _report(demo_db_url, tmp_path, *args) -> str:
    out = tmp_path / "bilan.html"
    result = run("--db", demo_db_url, *args, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def april_june(demo_db_url, tmp_path_factory) -> str:
    """The report of PERIOD, written once for the tests that only read it."""
    return _report(demo_db_url, tmp_path_factory.mktemp("report"), *PERIOD)


def _review(url: str, start: dt.date, end: dt.date) -> assessment.Review:
    engine = dbmod.get_engine(url)
    with engine.connect() as conn:
        inputs = assessment.gather(
            conn, lambda f, by, metrics: compute_kpis(engine, f, by, metrics=metrics),
            Filters(start=start, end=end, scope=ALL_ROWS))
    return assessment.build(inputs)


def _headings(page: str) -> list[tuple[str, str]]:
    return re.findall(r"<h2 id='([^']+)'>(.*?)</h2>", page)


def test_report_has_every_section_chart_and_reading_and_no_external_resource(april_june):
    page = april_june
    assert page.startswith("<!DOCTYPE html><html lang='fr'>")
    assert [html.unescape(t) for _, t in _headings(page)] == SECTIONS
    assert page.count("<h2") == len(SECTIONS)
    # Every figure is a drawn chart with its reading and its data.
    figures = re.findall(r"<figure>(.*?)</figure>", page, flags=re.S)
    assert len(figures) >= 12
    for figure in figures:
        assert figure.startswith("<svg") and "<figcaption>" in figure
        assert "<details><summary>Données du graphique</summary><table>" in figure
    assert "Période du 01/04/2015 au 30/06/2015" in page
    assert "Rouen" in page and "Chartres" in page
    # Nothing to fetch: no script, no link, no remote URL outside SVG namespaces.
    assert "<script" not in page and "<link" not in page
    urls = set(re.findall(r"(?:https?:)?//[^\s\"')<]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def test_the_table_of_contents_links_every_section(april_june):
    page = april_june
    ids = re.findall(r" id='([^']+)'", page)
    assert len(ids) == len(set(ids))
    toc = re.search(r"<nav class='toc'[^>]*>(.*?)</nav>", page, flags=re.S).group(1)
    links = re.findall(r"<a href='#([^']+)'>(.*?)</a>", toc)
    assert [html.unescape(t) for _, t in links] == SECTIONS
    sections = dict(_headings(page))
    assert [anchor for anchor, _ in links] == list(sections)
    # Every in-page link, the summary's included, reaches an element of the page.
    assert set(re.findall(r"href='#([^']+)'", page)) <= set(ids)
    # The summary comes first: before the table of contents and every question.
    assert page.index("id='synthese'") < page.index("<nav class='toc'") < page.index(
        f"id='{links[1][0]}'")


def test_the_summary_shows_the_reviews_objectives_and_answers(demo_db_url, april_june):
    page = april_june
    review = _review(demo_db_url, dt.date(2015, 4, 1), dt.date(2015, 6, 30))
    summary = re.search(r"<section class='summary'>(.*?)</section>", page, flags=re.S).group(1)
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>"
                      r"<td>(.*?)</td></tr>", summary)
    assert len(rows) == 4
    for objective, (label, verdict, value, _target, sentence) in zip(review.objectives, rows):
        assert html.unescape(label).endswith(objective.label)
        assert html.unescape(re.sub(r"<[^>]+>", "", verdict)).endswith(objective.verdict)
        shown = (fmt.MISSING if objective.value is None
                 else fmt.fr_decimal(objective.value) if objective.key == "acts"
                 else fmt.fr_percent(objective.value))
        assert html.unescape(value) == shown
        assert html.unescape(sentence) == objective.sentence
    for question in review.questions:
        assert html.escape(question.answer) in summary


def test_report_and_json_show_the_same_numbers(demo_db_url, april_june):
    page = april_june
    result = CliRunner().invoke(main, ["review", "--db", demo_db_url, *PERIOD])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    summary = re.search(r"<section class='summary'>(.*?)</section>", page, flags=re.S).group(1)
    for objective in figures["objectives"]:
        assert html.escape(objective["sentence"]) in summary
        assert f"</span> {objective['verdict']}</span>" in summary
    for question in figures["questions"]:
        assert html.escape(question["answer"]) in page


def _hidden_groups(url: str, start: str, end: str) -> int:
    with dbmod.get_engine(url).connect() as conn:
        return len(conn.execute(text(
            "SELECT 1 FROM staff_surveys WHERE wave BETWEEN :s AND :e "
            "GROUP BY wave, population, site, department HAVING COUNT(*) < 5"),
            {"s": start, "e": end}).all())


def test_small_barometer_groups_are_hidden_in_the_report_and_the_json(demo_db_url, april_june):
    page = april_june
    hidden = _hidden_groups(demo_db_url, "2015-04-01", "2015-06-30")
    assert hidden > 0
    part = page[page.index("<h3>Le baromètre par vague et population</h3>"):]
    table = re.search(r"<table>(.*?)</table>", part, flags=re.S).group(1)
    head = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table)]
    rows = [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
            for r in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1])]
    figures = head.index("Répondants")
    masked = [r for r in rows if r[figures] == fmt.SMALL_GROUP]
    assert len(masked) == hidden
    for row in masked:
        assert set(row[figures:]) == {fmt.SMALL_GROUP}, row

    result = CliRunner().invoke(main, ["review", "--db", demo_db_url, *PERIOD])
    staff = json.loads(result.output)["staff"]
    hidden_json = [g for g in staff if g["hidden"]]
    assert len(hidden_json) == hidden
    for group in hidden_json:
        figures = {k: v for k, v in group.items()
                   if k not in ("wave", "population", "site", "department", "hidden")}
        assert set(figures.values()) == {None}, group


def test_the_report_opens_on_the_whole_pilot_by_default(demo_db_url, tmp_path):
    page = _report(demo_db_url, tmp_path)
    with dbmod.get_engine(demo_db_url).connect() as conn:
        first = conn.execute(text("SELECT MIN(start_date) FROM coverage")).scalar_one()
        last = conn.execute(text("SELECT MAX(local_date) FROM contacts")).scalar_one()
    assert (f"Période du {fmt.fr_date(str(first)[:10])} au {fmt.fr_date(str(last)[:10])}"
            in page)


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
