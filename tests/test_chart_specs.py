"""Chart specs built once per distinct input (dashboard/chart_specs.py)."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl
import pyarrow as pa
import pytest
from streamlit import dataframe_util

from dashboard.charts import specs as chart_specs

calls: list[int] = []


def bars(frame: pl.DataFrame, title: str = "t") -> alt.Chart:
    """A small chart that counts how often it is built."""
    calls.append(1)
    return alt.Chart(frame).mark_bar().encode(x="slot:O", y="n:Q").properties(title=title)


@pytest.fixture(autouse=True)
def _fresh():
    chart_specs.clear()
    calls.clear()
    yield
    chart_specs.clear()


def _frame(n: int = 3) -> pl.DataFrame:
    return pl.DataFrame({"slot": list(range(n)), "n": [i * 2 for i in range(n)]})


def _values(spec: dict) -> list[dict]:
    """The spec's one table, read back from the Arrow IPC bytes Streamlit is handed."""
    (data,) = spec["datasets"].values()
    assert isinstance(data, bytes)
    return pa.ipc.open_stream(data).read_all().to_pylist()


def test_the_spec_holds_the_data_and_no_default_theme():
    spec = chart_specs.spec(bars, _frame())
    assert _values(spec) == [{"slot": 0, "n": 0}, {"slot": 1, "n": 2}, {"slot": 2, "n": 4}]
    assert spec["mark"]["type"] == "bar" and spec["title"] == "t"
    # Altair's default theme would add a fixed 300-pixel view; Streamlit sizes the chart.
    assert "continuousWidth" not in str(spec.get("config", {}))


def test_a_chart_is_built_once_per_distinct_input():
    first = chart_specs.spec(bars, _frame())
    again = chart_specs.spec(bars, _frame())  # an equal frame, another object
    assert again == first and len(calls) == 1
    chart_specs.spec(bars, _frame(), title="u")
    chart_specs.spec(bars, _frame(4))
    chart_specs.spec(bars, _frame().with_columns(pl.col("n").cast(pl.Float64)))
    assert len(calls) == 4  # other title, other rows, other type: built anew


def test_every_render_gets_its_own_copy():
    first = chart_specs.spec(bars, _frame())
    first["datasets"].clear()  # Streamlit edits the spec it is given
    assert _values(chart_specs.spec(bars, _frame()))[1] == {"slot": 1, "n": 2}


def test_more_rows_than_altairs_limit_are_kept():
    spec = chart_specs.spec(bars, _frame(6000))
    assert len(_values(spec)) == 6000


def test_keys_tell_values_and_types_apart():
    def key(*args):
        return chart_specs.key_of(bars, args, {})

    day = dt.date(2015, 3, 29)
    assert key(1) != key(1.0) != key("1")
    assert key(None, day) == key(None, dt.date(2015, 3, 29)) != key(None, day.replace(day=30))
    assert key((1, 2)) != key((12,)) and key([1, 2]) == key((1, 2))
    assert key({"a": 1, "b": 2}) == key({"b": 2, "a": 1})
    with pytest.raises(TypeError):
        key(object())


def test_the_tables_are_what_streamlit_would_send():
    (rows,) = chart_specs.to_spec(bars(_frame()))["datasets"].values()
    (sent,) = chart_specs.spec(bars, _frame())["datasets"].values()
    assert sent == dataframe_util.convert_anything_to_arrow_bytes(rows)


def test_the_cache_is_bounded_in_bytes(monkeypatch):
    monkeypatch.setattr(chart_specs, "MAX_BYTES", 1)
    chart_specs.spec(bars, _frame(3))
    chart_specs.spec(bars, _frame(4))
    assert len(chart_specs._specs) == 1  # the older spec went
    chart_specs.spec(bars, _frame(3))
    assert len(calls) == 3
