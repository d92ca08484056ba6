"""Open a page of the app under Streamlit's AppTest the way the served app runs it.

Why the patch: AppTest resets Streamlit's "pages/ folder" flag before every run, so from
the second run on Streamlit takes its old multipage road (`_mpa_v1`), which runs a page
whose URL path matches a file of pages/ *alone*, without app.py — no identity, no
sidebar, filters left over from the previous run. The served app takes that road only
until app.py has run once (st.navigation then switches it off for the process). Here
the old road simply runs app.py, as the served app does on every run after the first.
"""

from __future__ import annotations

import runpy
from pathlib import Path

from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from dashboard import formatting as fmt

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _run_entry_script(main_script_path: str) -> None:
    runpy.run_path(main_script_path, run_name="__main__")


def open_page(monkeypatch, url: str, page: str, login: str, **params) -> AppTest:
    """AppTest on PAGE (e.g. "pages/aujourdhui.py") as LOGIN, with query PARAMS set before
    the first run, as when a link is opened."""
    monkeypatch.setattr(script_runner, "_mpa_v1", _run_entry_script)
    monkeypatch.setenv("DASHBOARD_DB_URL", url)
    monkeypatch.setenv("DASHBOARD_AUTH_MODE", "demo")
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["demo_user"] = login
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    at.switch_page(page).run()
    return at


def metric(at: AppTest, label: str):
    """The st.metric labelled LABEL (after the target icon some labels start with)."""
    found = [m for m in at.metric if m.label.split("] ")[-1] == label]
    assert len(found) == 1, [m.label for m in at.metric]
    return found[0]


def number(text: str) -> int:
    """French integer text ("1 234") → 1234."""
    return int(text.replace(fmt.NNBSP, "").replace(" ", ""))


def texts(at: AppTest) -> str:
    """Every caption, info and markdown text of the page, with every table cell and
    column name, in one string (to look for names that must not be there)."""
    parts = [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [m.value for m in at.markdown]
    for frame in at.dataframe:
        value = frame.value
        parts += [str(c) for c in value.columns]
        parts += [str(v) for v in value.to_numpy().ravel()]
    return "\n".join(parts)
