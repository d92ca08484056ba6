"""Screenshot pages of a running app in Debian's headless Chromium, for people to look at.

    python scripts/screenshot.py http://localhost:8501/ screenshots/accueil.png [--width 1400]

Waits until Streamlit has finished running the page, and fails if the page shows an
exception.
"""

from __future__ import annotations

import argparse
import sys

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def wait_for_streamlit(page, timeout_ms: int = 60_000) -> None:
    """Wait for the app to render and for its running indicator to go away."""
    page.wait_for_selector("[data-testid=stMain] h1", timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=timeout_ms)
    page.wait_for_timeout(1500)  # let Vega finish drawing the charts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.goto(args.url)
        wait_for_streamlit(page)
        page.screenshot(path=args.out, full_page=True)
        errors = page.locator("[data-testid=stException]").count()
        browser.close()
    if errors:
        print(f"{args.url}: the page shows {errors} exception(s)", file=sys.stderr)
        return 1
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
