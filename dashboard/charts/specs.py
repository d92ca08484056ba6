"""Vega-Lite specs of the pages' charts, each built once per distinct input.

A warm page render spent about a third of its CPU building Altair charts and validating
them against the Vega-Lite schema, inside a lock Streamlit holds for every session's
chart, so sessions queued behind each other. The chart functions (dashboard/charts) are
pure functions of small frames: the spec of `build(*args)` is kept, keyed by the function
and a digest of its arguments, in a process-wide cache bounded in bytes, and every render
gets its own copy (Streamlit edits the spec it is given).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import altair as alt
import polars as pl
import pyarrow as pa
from streamlit import dataframe_util

MAX_BYTES = 64 * 1024 * 1024  # the specs kept, as JSON text and Arrow bytes

# Altair's theme and data transformer are process-wide settings: one conversion at a time.
ALTAIR_LOCK = threading.Lock()
_cache_lock = threading.Lock()
# key → (the spec as JSON text without its tables, its tables as Arrow IPC bytes)
_specs: OrderedDict[tuple[str, str], tuple[str, dict[str, bytes]]] = OrderedDict()
_held = 0


def to_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec: data inline as named datasets, no row limit, and none of
    Altair's default theme (its fixed 300-pixel sizes), as st.altair_chart would send it."""
    with ALTAIR_LOCK, alt.theme.enable("none"), \
            alt.data_transformers.enable("default", max_rows=None):
        return chart.to_dict()


def _feed(value: Any, digest: hashlib._Hash) -> None:
    """Add VALUE to DIGEST, frames by their Arrow IPC bytes (schema and values)."""
    if isinstance(value, pl.DataFrame):
        # Through pyarrow: Polars' own writers would call back into a Python file object
        # from Polars' threads (see widgets.data_table on Polars and threads).
        table = value.to_arrow(compat_level=pl.CompatLevel.oldest())
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        data = sink.getvalue()
        digest.update(b"F%d:" % data.size)
        digest.update(data)
    elif isinstance(value, pl.Series):
        _feed(value.to_frame(), digest)
    elif isinstance(value, (list, tuple)):
        digest.update(b"(%d:" % len(value))
        for item in value:
            _feed(item, digest)
        digest.update(b")")
    elif isinstance(value, dict):
        _feed(sorted(value.items(), key=lambda kv: repr(kv[0])), digest)
    elif value is None or isinstance(value, (str, int, float, bool, dt.date, dt.time,
                                             dt.timedelta)):
        text = repr((type(value).__name__, value)).encode()
        digest.update(b"V%d:" % len(text))
        digest.update(text)
    else:  # an argument we cannot digest faithfully must never share a cache entry
        raise TypeError(f"chart argument of type {type(value).__name__} cannot be keyed")


def key_of(build: Callable, args: tuple, kwargs: dict) -> tuple[str, str]:
    """The cache key of build(*args, **kwargs): the function's name and the arguments' digest."""
    digest = hashlib.blake2b(digest_size=20)
    _feed(args, digest)
    _feed(kwargs, digest)
    return f"{build.__module__}.{build.__qualname__}", digest.hexdigest()


def _arrow_datasets(full: dict) -> dict[str, bytes]:
    """Pop the spec's named tables, each as the Arrow IPC bytes Streamlit sends.

    Streamlit converts every named dataset of a spec to Arrow (through pandas) on each
    render, unless it is bytes already: converted once here, by Streamlit's own function,
    a render sends them as they are (a tenth of a warm Aujourd'hui render's CPU)."""
    datasets = full.get("datasets", {})
    tables = {name: rows for name, rows in datasets.items() if isinstance(rows, list)}
    for name in tables:
        del datasets[name]
    if not datasets:
        full.pop("datasets", None)
    return {name: dataframe_util.convert_anything_to_arrow_bytes(rows)
            for name, rows in tables.items()}


def spec(build: Callable[..., alt.TopLevelMixin], *args: Any, **kwargs: Any) -> dict:
    """The Vega-Lite spec of the chart build(*args, **kwargs), built once per distinct input;
    its named tables come as Arrow IPC bytes (see _arrow_datasets)."""
    global _held
    key = key_of(build, args, kwargs)
    with _cache_lock:
        entry = _specs.get(key)
        if entry is not None:
            _specs.move_to_end(key)
    if entry is None:
        full = to_spec(build(*args, **kwargs))
        tables = _arrow_datasets(full)
        entry = (json.dumps(full, separators=(",", ":")), tables)
        with _cache_lock:
            if key not in _specs:
                _specs[key] = entry
                _held += _size(entry)
                while _held > MAX_BYTES and len(_specs) > 1:
                    _, old = _specs.popitem(last=False)
                    _held -= _size(old)
    text, tables = entry
    out = json.loads(text)
    if tables:
        out["datasets"] = {**out.get("datasets", {}), **tables}
    return out


def _size(entry: tuple[str, dict[str, bytes]]) -> int:
    text, tables = entry
    return len(text) + sum(len(data) for data in tables.values())


def clear() -> None:
    """Forget every kept spec (tests, benchmarks)."""
    global _held
    with _cache_lock:
        _specs.clear()
        _held = 0
