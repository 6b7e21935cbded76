"""The import graph drawn from the code (ast, function-level imports included): no cycle between
files, no import from a lower layer to a higher one, kernels import nothing of fibench outside
fibench.kernels, suites are grids only; no pyplot or ``matplotlib.use`` in the package, and the
report needs no matplotlib. Failures list the offending edges as ``file:line importer -> imported``.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: folder -> the package it is installed as (pyproject `package-dir`)
PACKAGES = {"fibench": "fibench", "kernels": "fibench.kernels", "suites": "fibench.suites"}

#: layer -> the layers it may import from (itself included); kernels <- mpc <- fi, incentives <- bench <- cli
ALLOWED = {
    "kernels": {"kernels"},
    "base": {"base"},  # leaf helpers directly in fibench/ (e.g. fibench.validation)
    "mpc": {"kernels", "base", "mpc"},
    "fi": {"kernels", "base", "mpc", "fi"},
    "incentives": {"kernels", "base", "mpc", "incentives"},
    "bench": {"kernels", "base", "mpc", "fi", "incentives", "bench", "suites"},  # the runner reads the grids
    "cli": {"kernels", "base", "mpc", "fi", "incentives", "bench", "suites", "cli"},
    "root": {"kernels", "base", "mpc", "fi", "incentives"},  # fibench/__init__: a lazy facade
    "suites": {"suites"},  # grids only: no fibench code at all
}


def _modules() -> dict[str, Path]:
    mods = {}
    for folder, pkg in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            mods[".".join([pkg, *parts])] = path
    return mods


MODULES = _modules()


def layer(mod: str) -> str:
    parts = mod.split(".")
    if parts[:2] == ["fibench", "kernels"]:
        return "kernels"
    if parts[:2] == ["fibench", "suites"]:
        return "suites"
    if len(parts) == 1:
        return "root"
    if parts[1] in ("mpc", "fi", "incentives", "bench", "cli"):
        return parts[1]
    return "base"


def _is_package(mod: str) -> bool:
    return MODULES[mod].name == "__init__.py"


def _known(name: str) -> str | None:
    """The module file an import of ``name`` loads (the longest known prefix), or None."""
    parts = name.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in MODULES:
            return cand
        parts.pop()
    return None


def _imports(mod: str) -> list[tuple[str, int, str]]:
    """``(imported name, line, kind)`` for every import statement in the module, at any depth;
    kind is ``fibench`` for a module of this tree, else ``external``."""
    path = MODULES[mod]
    tree = ast.parse(path.read_text(), str(path))
    pkg = mod if _is_package(mod) else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # `from a import b`: b may be a submodule
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for n in names:
            out.append((n, node.lineno, "fibench" if n == "fibench" or n.startswith("fibench.") else "external"))
    return out


def _graph():
    edges = {}  # (src, dst) -> first line
    for mod in MODULES:
        for name, line, kind in _imports(mod):
            if kind != "fibench":
                continue
            dst = _known(name)
            if dst is not None and dst != mod:
                edges.setdefault((mod, dst), line)
    return edges


EDGES = _graph()


def _fmt(edges) -> str:
    return "\n".join(f"  {MODULES[s].relative_to(ROOT)}:{line} {s} -> {d}" for (s, d), line in sorted(edges.items()))


def _cycles(edges) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    succ: dict[str, list[str]] = {}
    for s, d in edges:
        succ.setdefault(s, []).append(d)
    index, low, stack, on, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in succ.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(MODULES):
        if v not in index:
            visit(v)
    return comps


def test_graph_is_read():
    assert "fibench.bench.runner" in MODULES and "fibench.kernels.ring" in MODULES
    assert ("fibench.bench.runner", "fibench.bench.results") in EDGES


def test_no_cycle_between_files():
    comps = _cycles(EDGES)
    msg = []
    for comp in comps:
        inside = {e: line for e, line in EDGES.items() if e[0] in comp and e[1] in comp}
        msg.append(f"cycle among {', '.join(comp)}:\n{_fmt(inside)}")
    assert not comps, "import cycles:\n" + "\n".join(msg)


def _folder_edges() -> dict:
    """For every package folder, the imports between its direct children (files and sub-folders;
    a package's own ``__init__`` is the child ``__init__``): ``{folder: {(child, child), ...}}``."""
    def child(mod: str, folder: str):
        if mod == folder:
            return "__init__"
        if not mod.startswith(folder + "."):
            return None
        return mod[len(folder) + 1:].split(".")[0]

    folders = {m for m in MODULES if _is_package(m)}
    out = {}
    for folder in folders:
        es = set()
        for s, d in EDGES:
            a, b = child(s, folder), child(d, folder)
            if a and b and a != b:
                es.add((a, b))
        out[folder] = es
    return out


def _reach(succ: dict, v) -> set:
    todo, reach = list(succ.get(v, ())), set()
    while todo:
        w = todo.pop()
        if w not in reach:
            reach.add(w)
            todo.extend(succ.get(w, ()))
    return reach


def _sccs(edges: set) -> list:
    """The cycles of a small graph: for each node that reaches itself, the nodes it shares a
    cycle with."""
    succ: dict = {}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
    reach = {v: _reach(succ, v) for v in succ}
    comps = {tuple(sorted(w for w in r if v in reach.get(w, ()))) for v, r in reach.items() if v in r}
    return sorted(list(c) for c in comps)


def test_no_cycle_between_folders():
    """At every folder level (e.g. fibench/mpc: shares.py, context.py, protocols/, dealer/ ...)
    the imports between siblings form no cycle."""
    bad = {f: comps for f, es in _folder_edges().items() if (comps := _sccs(es))}
    assert not bad, f"folder-level import cycles: {bad}"


def test_at_most_six_floors_and_eight_modules_in_fibench():
    """Floors: the longest import chain between the top-level parts of fibench (kernels, mpc,
    fi, incentives, bench, cli, suites and the leaf helpers directly in fibench/)."""
    top = _folder_edges()["fibench"]
    succ: dict = {}
    for a, b in top:
        succ.setdefault(a, set()).add(b)

    def floors(v, seen=()):
        return 1 + max((floors(w, seen + (v,)) for w in succ.get(v, ()) if w not in seen), default=0)

    depth = max(floors(v) for v in {a for e in top for a in e})
    assert depth <= 6, f"{depth} floors: {sorted(top)}"
    direct = [m for m in MODULES if m.count(".") == 1 and layer(m) != "kernels" and layer(m) != "suites"
              and not _is_package(m)]
    assert len(direct) <= 8, direct


def test_no_import_upward_or_sideways():
    bad = {(s, d): line for (s, d), line in EDGES.items() if layer(d) not in ALLOWED[layer(s)]}
    assert not bad, ("imports against the layers (kernels <- mpc <- fi, incentives <- bench <- cli; "
                     "suites import no fibench code):\n" + _fmt(bad))


def _outside(of_layer: str, own: str, external=()) -> dict:
    """Imports by modules of ``of_layer`` of fibench modules outside package ``own`` (by name,
    even where no file is found) and of the ``external`` top-level packages."""
    bad = {}
    for mod in MODULES:
        if layer(mod) != of_layer:
            continue
        for name, line, kind in _imports(mod):
            mine = name == own or name.startswith(own + ".")
            if (kind == "fibench" and not mine) or (kind == "external" and name.split(".")[0] in external):
                bad[(mod, name)] = line
    return bad


def test_kernels_import_nothing_of_fibench_outside_kernels():
    bad = _outside("kernels", "fibench.kernels")
    assert not bad, "kernels importing fibench outside fibench.kernels:\n" + _fmt(bad)


def test_suites_are_grids_only():
    bad = _outside("suites", "fibench.suites", ("numpy", "numba", "pandas", "matplotlib"))
    assert not bad, "suites importing code (they hold grids and names only):\n" + _fmt(bad)


@pytest.mark.parametrize("name", sorted(m for m in MODULES if layer(m) == "suites" and m != "fibench.suites"))
def test_suite_names_point_into_measures_and_plots(name):
    suite = importlib.import_module(name)
    refs = [("MEASURE", suite.MEASURE, "fibench.bench.measures.")]
    refs += [("PLOTS", r, "fibench.bench.plots.") for r in getattr(suite, "PLOTS", ())]
    refs += [("TABLES", r, "fibench.bench.") for r in getattr(suite, "TABLES", {}).values()]
    bad = [(what, r) for what, r, prefix in refs if not (isinstance(r, str) and r.startswith(prefix) and ":" in r)]
    assert not bad, f"{name}: {bad}"


def test_no_pyplot_and_no_global_backend():
    bad = {}
    for mod, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "use" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "matplotlib":
                bad[(mod, "matplotlib.use()")] = node.lineno
        for name, line, _ in _imports(mod):
            if name.startswith("matplotlib.pyplot"):
                bad[(mod, name)] = line
    assert not bad, "global matplotlib state (draw on matplotlib.figure.Figure instead):\n" + _fmt(bad)


def test_report_needs_no_matplotlib():
    """Every module the report can import (transitively, function-level imports included)."""
    seen, todo, hits = set(), ["fibench.bench.report"], {}
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        for name, line, kind in _imports(mod):
            if kind == "external" and name.split(".")[0] == "matplotlib":
                hits[(mod, name)] = line
            elif kind == "fibench" and _known(name):
                todo.append(_known(name))
    assert not hits, "fibench report would import matplotlib:\n" + _fmt(hits)
