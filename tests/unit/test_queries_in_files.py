"""Queries live in `.sql` files (`queries/`), not in Python strings (issue 16).

A string in a `csc` module with four lines or more that reads like a query (`select` and `from`)
is one that belongs in `queries/app/`. Not counted: docstrings, the table DDL of `csc/schema.py`,
and the few f-strings that *generate* SQL from Python values that cannot be `$` parameters (table
or column names, one statement per KPI or per SSD table); each of those is named below with why."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "csc"

#: (module file, function) whose f-string builds its SQL in Python, and why it must.
GENERATED = {
    ("schema.py", None): "the table DDL stays in Python (docs/contributing.md)",
    ("kpis.py", "_aggregate_sql"): "grouping sets and measures follow each KPI's header",
    ("kpis.py", "_pooled_sql"): "every KPI's records pooled, each kind's measures picked by the KPIs' headers",
    ("kpis.py", "zero_counts_sql"): "runs on Spark too, which binds no $ parameters",
    ("ssd.py", "_map_sql"): "one select per SSD table, its columns and date parsing generated",
    ("annexa.py", "_derive"): "the list's date column, constant columns and record signature",
    ("incremental.py", "_update_sheet"): "each sheet's own columns and key (an import's new current rows)",
    ("incremental.py", "changed_sql"): "each sheet's own key, date and other columns, compared one by one",
    ("incremental.py", "_compare_whole"): "the table's name and its date columns, read from the catalog",
}

_SELECT = re.compile(r"\bselect\b", re.IGNORECASE)
_FROM = re.compile(r"\bfrom\b", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    kinds = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, kinds) and n.body and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)}


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def query_strings(path: Path) -> list[tuple[int, str | None, str]]:
    """(line, enclosing function, first line) of each string in the file that reads as a
    multi-line query: four lines or more with `select` and `from`; not a docstring, nor a constant
    part of an f-string (the f-string is judged whole)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip |= {id(v) for v in node.values}
    found = []

    def visit(node: ast.AST, func: str | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func = node.name
        text = _text(node)
        if (text is not None and id(node) not in skip and text.count("\n") >= 3
                and _SELECT.search(text) and _FROM.search(text)):
            found.append((node.lineno, func, text.strip().splitlines()[0]))
        for child in ast.iter_child_nodes(node):
            visit(child, func)

    visit(tree, None)
    return found


def test_the_scan_finds_a_query_in_a_string_and_skips_docstrings(tmp_path):
    f = tmp_path / "m.py"
    f.write_text('"""select\nthis\nfrom\nhere"""\n\ndef q(t):\n    """Select one from\n\na\nb."""\n'
                 '    a = "select 1 from x"\n    return f"""\n    select *\n    from {t}\n    """\n')
    assert query_strings(f) == [(12, "q", "select *")]


def test_no_module_holds_a_multi_line_query_in_a_string():
    found = [f"{path.relative_to(ROOT)}:{line} in {func}(): {first}"
             for path in sorted(PACKAGE.rglob("*.py"))
             for line, func, first in query_strings(path)
             if (path.name, func) not in GENERATED and (path.name, None) not in GENERATED]
    assert not found, "move these queries to queries/app/*.sql:\n" + "\n".join(found)


def test_each_generated_query_named_here_still_exists():
    """The list above shrinks when one of them moves to a file."""
    for (name, func), _why in GENERATED.items():
        hits = query_strings(PACKAGE / name)
        assert any(func is None or f == func for _, f, _ in hits), (name, func)
