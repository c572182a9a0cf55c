"""The `csc` modules import one another without a circle, and each imports alone.

The graph counts every import, those inside functions too: a circle hidden by an import inside a
function still ties the modules together (and still breaks when the order of first use changes)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "csc"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The `csc` modules a file imports anywhere in it (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from csc import x` may name a module; `from csc.x import y` names module csc.x (or csc.x.y)
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found |= {n for n in names if n in known}
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(path, set(mods)) - {name} for name, path in mods.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports (its modules in order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_circle_through_three_and_none_in_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_imports_inside_functions(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("from csc import spec\n\ndef late():\n    from csc.store import Store\n    import csc.kpis\n")
    assert imports_of(f, {"csc.spec", "csc.store", "csc.kpis", "csc.plan"}) == {"csc.spec", "csc.store", "csc.kpis"}


def test_no_circle_of_imports_between_csc_modules():
    edges = graph()
    assert len(edges) > 30 and edges["csc.store"]  # the whole package was read
    cycle = find_cycle(edges)
    assert cycle is None, "a circle of imports: " + " -> ".join(cycle)


ALONE = """
import importlib, os, sys, traceback
# third-party libraries first, so each fork starts fast; no csc module is loaded before the fork
import duckdb, numpy, pandas, pyarrow, plotly.graph_objects, openpyxl  # noqa
failed = 0
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        print("FAILED", name, flush=True)
"""


def test_each_module_imports_alone_in_a_fresh_interpreter():
    """Each module imported first, in an interpreter where no `csc` module is loaded yet (a fork
    of one that has loaded only the third-party libraries)."""
    names = sorted(n for n in modules() if n != "csc.__main__")  # __main__ runs the command line
    assert "csc.store" in names and "csc.annexa" in names
    done = subprocess.run([sys.executable, "-c", ALONE, *names], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "FAILED" not in done.stdout, done.stdout + done.stderr
