"""dashboard.ui.cache: the cached functions' arguments are keyed by their reprs (cheap to
hash), and every field still tells two calls apart."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import streamlit as st
from streamlit.runtime.caching import hashing
from streamlit.runtime.caching.cache_type import CacheType

from dashboard.core.access import Scope
from dashboard.core.filters import Filters, Overrides
from dashboard.engine import kpis as kpi_engine
from dashboard.ui import cache

BASE = Filters(dt.date(2015, 3, 2), dt.date(2015, 3, 6), sites=("rouen",),
               scope=Scope("supervisor", site="rouen"))
# One change per field of Filters (and of its scope), each to a value the base lacks.
CHANGES = {
    "start": dt.date(2015, 3, 1), "end": dt.date(2015, 3, 7), "sites": ("rouen", "chartres"),
    "departments": ("60",), "channels": ("phone",), "queues": ("particuliers",),
    "agents": ("r1",), "scope": Scope("supervisor", site="chartres"),
}


def _key(*args) -> str:
    hasher = hashlib.new("md5", usedforsecurity=False)
    for value in args:
        hashing.update_hash(value, hasher=hasher, cache_type=CacheType.DATA,
                            hash_source=_key, hash_funcs=cache.KEYS)
    return hasher.hexdigest()


def test_every_field_tells_two_calls_apart():
    assert set(CHANGES) == {f.name for f in dataclasses.fields(Filters)}
    keys = {_key(dataclasses.replace(BASE, **{name: value}))
            for name, value in CHANGES.items()}
    assert len(keys) == len(CHANGES) and _key(BASE) not in keys
    # Equal values, built separately, share a key.
    assert _key(Filters(dt.date(2015, 3, 2), dt.date(2015, 3, 6), sites=("rouen",),
                        scope=Scope("supervisor", site="rouen"))) == _key(BASE)
    assert _key(("received",), None) != _key(("received", "answer_rate"), None)
    assert _key(BASE, None) != _key(BASE, Overrides(sl_seconds=30))
    assert _key(Scope("agent", site="rouen", agent_id="r1")) != _key(
        Scope("agent", site="rouen", agent_id="r2"))


def test_a_tuple_of_other_values_is_hashed_item_by_item():
    # Not by repr: a dict's or an object's repr need not tell its contents apart.
    assert _key(("a", ({"x": 1},))) != _key(("a", ({"x": 2},)))
    assert _key(("a", (1, dt.date(2015, 3, 2)))) != _key(("a", (1, dt.date(2015, 3, 3))))


def test_the_cache_computes_once_per_distinct_call(db_url, monkeypatch):
    calls = []
    real = kpi_engine.compute_kpis

    def counted(engine, filters, *args, **kwargs):
        calls.append(filters)
        return real(engine, filters, *args, **kwargs)

    monkeypatch.setattr(kpi_engine, "compute_kpis", counted)
    st.cache_data.clear()
    other = dataclasses.replace(BASE, scope=Scope("supervisor", site="chartres"),
                                sites=("chartres",))
    for filters in (BASE, BASE, other, dataclasses.replace(BASE), other):
        cache.kpis(db_url, filters, (), None, ("received",))
    assert calls == [BASE, other]
