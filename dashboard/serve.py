"""`python -m dashboard.serve [streamlit options]`: serve app.py with Streamlit.

Altair imports pandas lazily; when several sessions render their first chart at once on
a fresh server, their threads can meet a half-initialised pandas module. Importing the
chart stack here, once, before Streamlit starts any session thread, closes that window.
"""

from __future__ import annotations

import sys
from pathlib import Path

import altair  # noqa: F401  (see the module docstring)
import pandas  # noqa: F401
import polars  # noqa: F401
import vl_convert  # noqa: F401
from streamlit.web import cli

APP = Path(__file__).resolve().parent.parent / "app.py"


def main() -> None:
    """Run `streamlit run app.py` with the given options."""
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
