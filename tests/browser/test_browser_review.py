"""The whole pilot review in headless Chromium: Bilan des pilotes as the national director,
every section shown and no exception; the report it downloads, and the one the command
line writes, opened offline with every section, its table of contents and its charts."""

from __future__ import annotations

from click.testing import CliRunner

from dashboard.cli.main import main
from dashboard.review import assessment
from tests.browser.conftest import screenshot, wait_for_app

QUESTIONS = [f"{i}. {title}" for i, (_, title) in enumerate(assessment.QUESTIONS, 1)]
RELIEF = "Soulagement des services locaux (objectif 4)"
PAGE_HEADERS = ["Les quatre objectifs", *QUESTIONS, RELIEF]
REPORT_SECTIONS = ["Synthèse", *QUESTIONS, RELIEF]


def _open_bilan(pg, app_url: str) -> None:
    """Bilan as the national director, once its last section is drawn (the review is
    computed under a spinner, which the frame's wait does not see)."""
    pg.goto(f"{app_url}/bilan?demo_user=directeur")
    wait_for_app(pg)
    pg.locator("[data-testid=stMain] h2", has_text=RELIEF).wait_for(timeout=180_000)
    wait_for_app(pg)


def _wait_for_charts(pg, timeout_s: int = 90) -> int:
    """Wait until every chart of the page is drawn; their number."""
    charts = pg.locator("[data-testid=stVegaLiteChart]")
    drawn = pg.locator("[data-testid=stVegaLiteChart] canvas, "
                       "[data-testid=stVegaLiteChart] svg.marks")
    for _ in range(timeout_s):
        if charts.count() and drawn.count() >= charts.count():
            break
        pg.wait_for_timeout(1000)
    assert charts.count() and drawn.count() >= charts.count(), (charts.count(), drawn.count())
    return charts.count()


def test_bilan_shows_every_section_to_the_national_director(app_url, page):
    _open_bilan(page, app_url)
    main_area = page.locator("[data-testid=stMain]")
    assert main_area.locator("h2").all_inner_texts() == PAGE_HEADERS
    for header in PAGE_HEADERS:
        assert main_area.get_by_role("heading", name=header, exact=True).is_visible()
    # The four verdicts are written out, never only coloured, each beside its figure.
    text = main_area.inner_text()
    block = text[text.index(f"\n{PAGE_HEADERS[0]}\n"):text.index(QUESTIONS[0])]
    verdicts = [v.capitalize() for v in assessment.VERDICTS]
    badges = [line for line in block.splitlines()
              if any(line.strip() == v or line.strip().endswith(f" {v}") for v in verdicts)]
    assert len(badges) == 4, block
    assert main_area.locator("[data-testid=stMetric]").count() == 4
    assert _wait_for_charts(page) == 12
    assert "moins de 5 réponses" in main_area.inner_text()
    assert page.locator("[data-testid=stException]").count() == 0
    screenshot(page, "bilan-revue")


def _check_report_offline(chromium, path) -> None:
    """Open the report file PATH with no server: every section, a table of contents whose
    links all land on an element, every chart drawn, not one request but the file's."""
    url = path.resolve().as_uri()
    pg = chromium.new_page(viewport={"width": 1100, "height": 900})
    requests: list[str] = []
    pg.on("request", lambda request: requests.append(request.url))
    try:
        pg.goto(url)
        pg.wait_for_load_state("load")
        assert pg.locator("h2").all_inner_texts() == REPORT_SECTIONS
        toc = pg.locator("nav.toc a")
        assert toc.all_inner_texts() == REPORT_SECTIONS
        # Every in-page link names an element of the page.
        assert pg.evaluate("""() => [...document.querySelectorAll("a[href^='#']")]
            .every(a => document.getElementById(a.getAttribute('href').slice(1)))""")
        toc.nth(len(REPORT_SECTIONS) - 1).click()
        assert pg.url.endswith("#soulagement")
        figures = pg.locator("figure")
        assert figures.count() >= 12
        for i in range(figures.count()):
            figure = figures.nth(i)
            assert figure.locator("svg path, svg rect").count() > 0
            assert figure.locator("figcaption").inner_text().strip()
        assert "moins de 5 réponses" in pg.locator("#personnels ~ table").first.inner_text()
    finally:
        pg.close()
    assert all(r.split("#")[0] == url for r in requests), requests


def test_the_downloaded_report_opens_offline_with_every_section(app_url, page, chromium,
                                                                tmp_path):
    _open_bilan(page, app_url)
    with page.expect_download(timeout=180_000) as info:
        page.get_by_role("button", name="Télécharger le rapport de bilan (HTML)").click()
    download = info.value
    assert download.suggested_filename.startswith("bilan-")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    _check_report_offline(chromium, path)
    assert page.locator("[data-testid=stException]").count() == 0


def test_the_command_line_report_opens_offline_with_every_section(chromium, demo_db_url,
                                                                  tmp_path):
    out = tmp_path / "bilan.html"
    result = CliRunner().invoke(main, ["report", "--db", demo_db_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    _check_report_offline(chromium, out)
