"""Open a page of the app under Streamlit's AppTest the way the served app runs it:
the frame (dashboard/ui/app.py) first, then the page through st.navigation."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.core import formatting as fmt

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "ui" / "app.py")


def open_page(monkeypatch, url: str, page: str, login: str, **params) -> AppTest:
    """AppTest on PAGE (e.g. "pages/aujourdhui.py") as LOGIN, with query PARAMS set before
    the first run, as when a link is opened."""
    monkeypatch.setenv("DASHBOARD_DB_URL", url)
    monkeypatch.setenv("DASHBOARD_AUTH_MODE", "demo")
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["demo_user"] = login
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    at.switch_page(str(ROOT / page)).run()
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
