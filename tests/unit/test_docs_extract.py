"""The documentation of the extract format says what the code does.

- `docs/extract-format.md` holds the tables `csc.spec.render_markdown()` generates, between the
  markers; regenerate them when the spec changes.
- Every sheet, column, type, required flag, alias, enum value and synonym of the shared
  specification (`../shared/spec/extract-format.md`, the contract agreed with the council) is
  in `csc.spec`. In its alias column, an entry starting with a lower-case letter (such as "the
  receiving area office") describes the column rather than naming an alias, and text in
  parentheses is commentary.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from csc import spec

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "extract-format.md"
START, END = "<!-- generated: sheets -->", "<!-- end generated -->"


def shared_spec() -> Path:
    for parent in Path(__file__).resolve().parents:
        candidate = parent.parent / "shared" / "spec" / "extract-format.md"
        if candidate.exists():
            return candidate
    pytest.skip("the shared specification (../shared/spec/extract-format.md) is not beside this checkout")


def test_generated_tables_match_the_spec():
    text = DOC.read_text()
    assert START in text and END in text, f"{DOC} lacks the generated-block markers"
    block = text.split(START, 1)[1].split(END, 1)[0]
    assert block.strip() == spec.render_markdown().strip(), (
        "docs/extract-format.md is out of date: paste csc.spec.render_markdown() between the markers")


def parse_shared(text: str) -> dict[str, dict]:
    """{sheet: {"key": [...], "columns": {name: {"type", "required", "aliases", "synonyms"}}}}"""
    sheets: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"\*\*(\w+)\*\*.*?key (.+)$", line)
        if m:
            key = re.findall(r"`(\w+)`", m.group(2)) + (["period"] if "period" in m.group(2) else [])
            current = sheets[m.group(1)] = {"key": key, "columns": {}}
            continue
        if current is None or not line.startswith("|") or line.startswith(("| column", "|---")):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name, kind, req, also = cells[0], cells[1], cells[2], cells[3] if len(cells) > 3 else ""
        alias_part, _, synonym_part = also.partition(";")
        alias_part = re.sub(r"\([^)]*\)", "", alias_part)
        aliases = [a.strip() for a in alias_part.split(",") if a.strip() and a.strip()[0].isupper()]
        current["columns"][name] = {
            "type": kind,
            "required": req == "R",
            "aliases": aliases,
            "synonyms": re.findall(r'"([^"]+)"', synonym_part),
        }
    return sheets


def sheet_aliases(text: str) -> dict[str, list[str]]:
    line = next(line for line in text.split("\n- ") if line.startswith("Sheets are recognised"))
    line = " ".join(line.split())
    return {m.group(1): re.findall(r'"([^"]+)"', m.group(2) or "")
            for m in re.finditer(r"`([a-z][a-z_]+)`(?: \(also ([^)]*)\))?", line)}


@pytest.fixture(scope="module")
def shared() -> str:
    return shared_spec().read_text()


def test_every_shared_sheet_and_sheet_alias_is_in_the_spec(shared):
    tables = parse_shared(shared)
    assert set(tables) == set(spec.SHEETS)
    for name, aliases in sheet_aliases(shared).items():
        assert name in spec.SHEETS, name
        for alias in aliases:
            assert spec.sheet_for(alias) is spec.SHEETS[name], alias
    for name, table in tables.items():
        sheet = spec.SHEETS[name]
        assert [k for k in table["key"] if k != "period"] == list(sheet.key), name
        assert ("period" in table["key"]) == sheet.key_includes_period, name


def test_every_shared_column_type_and_alias_is_in_the_spec(shared):
    for name, table in parse_shared(shared).items():
        sheet = spec.SHEETS[name]
        assert list(table["columns"]) == list(sheet.column_names), name
        for col_name, want in table["columns"].items():
            col = sheet.column(col_name)
            where = f"{name}.{col_name}"
            assert col.required == want["required"], where
            for alias in want["aliases"]:
                assert alias in col.aliases, f"{where}: alias {alias!r} missing from csc.spec"
            kind = want["type"]
            if kind.startswith("enum:"):
                assert col.type == spec.ENUM, where
                assert [v.strip() for v in kind[5:].split(",")] == list(col.values), where
                mapping = col.enum_map()
                for synonym in want["synonyms"]:
                    assert spec.norm(synonym) in mapping, f"{where}: synonym {synonym!r}"
                assert mapping.get(spec.norm("Continuous Assessment"), "Single") == "Single"
            elif kind.startswith("whole number"):
                assert col.type == spec.WHOLE and col.minimum == 0, where
            elif kind.startswith("number"):
                assert col.type == spec.NUMBER, where
                if "0 <" in kind:
                    assert col.minimum == 0 and col.exclusive_minimum, where
                if "≤ 1" in kind:
                    assert col.maximum == 1, where
                if "≥ 0" in kind:
                    assert col.minimum == 0 and not col.exclusive_minimum, where
            else:
                assert col.type == {"id": spec.ID, "text": spec.TEXT, "date": spec.DATE, "flag": spec.FLAG}[kind], where


def test_the_parser_reads_what_it_should(shared):
    """Guard the guard: the shared tables are parsed, not silently skipped."""
    tables = parse_shared(shared)
    assert tables["referrals"]["columns"]["child_id"]["aliases"] == ["Child ID", "Child Unique ID"]
    assert tables["transfers"]["columns"]["area_office"]["aliases"] == []
    assert tables["involvements"]["columns"]["change_reason"]["aliases"] == ["Reason"]
    assert "Continuous Assessment" in tables["assessments"]["columns"]["assessment_type"]["synonyms"]
    assert tables["establishment"]["key"] == ["team", "period"]
    assert sheet_aliases(shared)["cp_plans"] == ["CP Plans", "Child Protection"]
    assert list(sheet_aliases(shared)) == list(spec.SHEETS)
    assert sum(len(t["columns"]) for t in tables.values()) == sum(len(s.columns) for s in spec.SHEETS.values())


def test_the_docs_state_the_projects_decisions():
    text = DOC.read_text()
    for phrase in ("latest period", "cached value", "1,000,000", "zip bomb", "Save As", "read as blank"):
        assert phrase in text, phrase
