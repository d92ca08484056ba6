"""The review report opened in headless Chromium: every section and chart drawn, and not a
single network request made."""

from __future__ import annotations

from click.testing import CliRunner

from dashboard.cli.main import main


def test_report_opens_offline_with_every_section_and_chart(chromium, demo_db_url, tmp_path):
    out = tmp_path / "bilan.html"
    result = CliRunner().invoke(main, ["report", "--db", demo_db_url, "--from", "2015-04-01",
                                       "--to", "2015-06-30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    url = out.resolve().as_uri()
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(url)
        page.wait_for_load_state("load")
        sections = page.locator("h2").all_inner_texts()
        # The review's plan (tests/browser/test_browser_review.py checks it in full).
        assert sections[0] == "Synthèse" and len(sections) == 7
        figures = page.locator("figure").count()
        assert figures >= 12
        # Every figure holds a drawn chart (SVG with marks) and its reading.
        assert page.locator("figure > svg, figure canvas").count() == figures
        for i in range(figures):
            figure = page.locator("figure").nth(i)
            assert figure.locator("svg path, svg rect").count() > 0
            assert figure.locator("figcaption").inner_text().strip()
            box = figure.locator("svg").first.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100
        assert page.locator("table").count() >= 8
    finally:
        page.close()
    assert requests == [url], requests


def test_bilan_page_downloads_the_report(app_url, page):
    from tests.browser.conftest import wait_for_app

    page.goto(f"{app_url}/bilan?demo_user=directeur")
    wait_for_app(page)
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="Télécharger le rapport de bilan (HTML)").click()
    download = info.value
    assert download.suggested_filename.startswith("bilan-")
    assert download.suggested_filename.endswith(".html")
    html = open(download.path(), encoding="utf-8").read()
    assert html.count("<h2 ") == 7 and html.count("<figure>") >= 12
    assert page.locator("[data-testid=stException]").count() == 0
