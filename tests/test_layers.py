"""Imports only go down the road (ingest → database → queries → metrics → charts → pages).

Reads every module's imports with `ast` (function-level and TYPE_CHECKING ones too: an
import hidden in a function to dodge a cycle is still a cycle) and checks three rules:
no import cycle between modules; Streamlit only in dashboard/ui, dashboard/charts, pages
and the launcher; each layer imports only the layers its package docstring names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Layer → the layers it may import (itself included). The package docstrings say the same
# in words; a new layer must be added here before it can be imported.
ALLOWED = {
    "core": {"core"},
    "store": {"core", "store"},
    "metrics": {"core", "metrics"},
    "queries": {"core", "store", "queries"},
    "engine": {"core", "store", "metrics", "queries", "engine"},
    "ingest": {"core", "store", "metrics", "queries", "engine", "ingest"},
    "charts": {"core", "metrics", "engine", "charts"},
    "review": {"core", "store", "metrics", "queries", "engine", "charts", "review"},
    "demo": {"core", "store", "metrics", "engine", "demo"},
    "ui": {"core", "store", "metrics", "queries", "engine", "charts", "review", "ui"},
    "pages": {"core", "store", "metrics", "queries", "engine", "charts", "review", "ui"},
    "delivery": {"core", "store", "metrics", "queries", "engine", "charts", "review",
                 "delivery"},
    "cli": {"core", "store", "metrics", "queries", "engine", "ingest", "charts", "review",
            "demo", "delivery", "cli"},
    "serve": {"core", "serve"},
    "top": {"cli"},  # dashboard/__init__.py and __main__.py
}
STREAMLIT_LAYERS = {"ui", "charts", "pages"}
STREAMLIT_MODULES = {"dashboard.serve.launcher"}  # it runs Streamlit's own command line


def module_name(path: Path, root: Path) -> str:
    """Dotted module name of PATH under ROOT (a package's __init__ is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    """The layer a module belongs to: dashboard's sub-package, queries or pages."""
    parts = module.split(".")
    if parts[0] in ("queries", "pages"):
        return parts[0]
    if parts[0] == "dashboard":
        return parts[1] if len(parts) > 1 and parts[1] not in ("__main__",) else "top"
    raise ValueError(module)


def imports_of(source: str, module: str, known: set[str]) -> set[str]:
    """The project modules SOURCE (of MODULE) imports, and every third-party top name."""
    found = set()
    package = module if module in {k.rpartition(".")[0] for k in known} else \
        module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the project modules and third-party top names it imports."""
    files = [p for d in ("dashboard", "queries", "pages") for p in (root / d).rglob("*.py")]
    known = {module_name(p, root) for p in files}
    return {module_name(p, root): imports_of(p.read_text(), module_name(p, root), known)
            for p in files}


def project_edges(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph restricted to the project's own modules (an import of a package's name
    counts as an import of its __init__)."""
    return {m: {t for t in targets if t in graph and t != m} for m, targets in graph.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that breaks a layer rule, as 'module → target (reason)'."""
    out = []
    for module, targets in sorted(graph.items()):
        layer = layer_of(module)
        for target in sorted(targets):
            top = target.split(".")[0]
            if top == "streamlit" and layer not in STREAMLIT_LAYERS \
                    and module not in STREAMLIT_MODULES:
                out.append(f"{module} → {target} (Streamlit outside ui, charts and pages)")
            if top in ("dashboard", "queries", "pages") and target in graph:
                if layer_of(target) not in ALLOWED[layer]:
                    out.append(f"{module} → {target} ({layer} may not import "
                               f"{layer_of(target)})")
    return out


@pytest.fixture(scope="module")
def graph():
    return import_graph(ROOT)


def test_the_checker_sees_every_layer(graph):
    layers = {layer_of(m) for m in graph}
    assert layers == set(ALLOWED), layers ^ set(ALLOWED)
    # Sanity: the graph holds imports we know are there.
    assert "dashboard.core.filters" in graph["queries._common"]
    assert "streamlit" in graph["dashboard.ui.cache"]


def test_no_import_cycle_between_modules(graph):
    assert cycles(project_edges(graph)) == []


def test_each_layer_imports_only_the_layers_below_it(graph):
    assert violations(graph) == []


def test_queries_import_nothing_above_the_store(graph):
    bad = [f"{m} → {t}" for m, targets in graph.items() if layer_of(m) == "queries"
           for t in targets if t in graph and layer_of(t) in ("engine", "ui", "pages")]
    assert bad == []


def test_the_checker_catches_a_cycle_a_streamlit_import_and_an_upward_import(tmp_path):
    """The rules above can fail: a made-up tree breaking each one is caught."""
    files = {
        "dashboard/__init__.py": "",
        "dashboard/core/__init__.py": "",
        "dashboard/core/a.py": "from dashboard.core import b\n",
        "dashboard/core/b.py": "def f():\n    from dashboard.core.a import x\n",
        "dashboard/engine/__init__.py": "",
        "dashboard/engine/kpis.py": "import streamlit as st\n",
        "queries/__init__.py": "",
        "queries/q.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                        "    from dashboard.engine.kpis import Filters\n",
        "pages/p.py": "from dashboard.engine import kpis\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    fake = import_graph(tmp_path)
    assert cycles(project_edges(fake)) == [["dashboard.core.a", "dashboard.core.b"]]
    assert violations(fake) == [
        "dashboard.engine.kpis → streamlit (Streamlit outside ui, charts and pages)",
        "queries.q → dashboard.engine.kpis (queries may not import engine)",
    ]
