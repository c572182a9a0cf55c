"""No Python list names KPIs: everything the app needs to know about a KPI is in its `.sql`
header (docs/contributing.md). A list, tuple, set or dict in `csc/`, `pages/` or `dashboard.py`
holding a KPI's id would be one more place a new KPI has to be added by hand."""

from __future__ import annotations

import ast

import pytest

from csc import config, kpis

SOURCES = sorted([*(config.ROOT / "csc").rglob("*.py"), *(config.ROOT / "pages").glob("*.py"),
                  config.ROOT / "dashboard.py"])


def kpi_collections(path, names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None] + list(node.values)
        else:
            continue
        hits = [i.value for i in items if isinstance(i, ast.Constant) and i.value in names]
        if hits:
            found.append(f"{path.name}:{node.lineno} {hits}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(config.ROOT)))
def test_no_collection_names_a_kpi(path):
    assert kpi_collections(path, set(kpis.registry())) == []


def test_the_guard_finds_a_list_of_kpis(tmp_path):
    """Guard the guard: the lists this issue removed would be found."""
    path = tmp_path / "probe.py"
    path.write_text('KPIS = ("caseload_avg", "vacancy_rate_pct")\nMESSAGES = {"audit_good_pct": "x"}\n'
                    'ok = get("data_timeliness_days")\n')
    assert kpi_collections(path, set(kpis.registry())) == [
        "probe.py:1 ['caseload_avg', 'vacancy_rate_pct']", "probe.py:2 ['audit_good_pct']"]
