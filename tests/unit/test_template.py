"""The downloadable blank template: generated from `csc.spec`, so it says what the contract says."""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import corpus  # noqa: E402

from csc import spec  # noqa: E402
from csc.extract import read_workbook  # noqa: E402
from csc.template import template_bytes, write_template  # noqa: E402


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.xlsx"
    write_template(path)
    return path


@pytest.fixture(scope="module")
def wb(template):
    return openpyxl.load_workbook(template)


def test_every_sheet_with_its_headers_in_order(wb):
    assert [s for s in wb.sheetnames if s != "Notes"] == list(spec.SHEETS)
    for sheet in spec.SHEETS.values():
        ws = wb[sheet.name]
        assert [c.value for c in ws[1]] == list(sheet.column_names), sheet.name
        assert ws.max_row == 1  # blank: headers only


def test_the_notes_sheet_describes_every_column(wb):
    notes = wb["Notes"]
    rows = [tuple(c.value for c in r) for r in notes.iter_rows()]
    header_at = next(i for i, r in enumerate(rows) if r[:2] == ("sheet", "column"))
    described = {(r[0], r[1]): r for r in rows[header_at + 1:] if r[0]}
    for sheet in spec.SHEETS.values():
        for col in sheet.columns:
            row = described[(sheet.name, col.name)]
            assert row[2] == spec.TYPE_WORDS[col.type]
            assert row[3] == ("yes" if col.required else "no")
            assert (row[4] or "") == ", ".join(col.aliases)
            assert row[5] == col.expectation()


def test_flag_and_enum_columns_have_excel_drop_down_lists(wb):
    for sheet in spec.SHEETS.values():
        ws = wb[sheet.name]
        lists = {}
        for dv in ws.data_validations.dataValidation:
            if dv.type == "list":
                for rng in str(dv.sqref).split():
                    lists[rng.split(":")[0].rstrip("0123456789")] = dv.formula1
        for i, col in enumerate(sheet.columns, start=1):
            letter = get_column_letter(i)
            if col.type == spec.FLAG:
                assert lists.get(letter) == '"Y,N"', (sheet.name, col.name)
            elif col.type == spec.ENUM:
                assert lists.get(letter) == '"' + ",".join(col.values) + '"', (sheet.name, col.name)
            else:
                assert letter not in lists, (sheet.name, col.name)


def test_date_columns_refuse_dates_before_1990_in_excel(wb):
    for sheet in spec.SHEETS.values():
        ws = wb[sheet.name]
        dated = {str(dv.sqref).split(":")[0].rstrip("0123456789") for dv in ws.data_validations.dataValidation
                 if dv.type == "date" and dv.formula1 == "DATE(1990,1,1)"}
        want = {get_column_letter(i) for i, c in enumerate(sheet.columns, start=1) if c.type == spec.DATE}
        assert dated == want, sheet.name


def test_the_blank_template_validates_without_errors(template):
    result = read_workbook(template)
    assert result.ok, [p.message for p in result.errors]
    assert result.row_counts == dict.fromkeys(spec.SHEETS, 0)
    assert any('Sheet "Notes" is not part of the extract' in p.message for p in result.warnings)


def test_a_filled_in_template_loads(template, tmp_path, store):
    wb = openpyxl.load_workbook(template)
    for row in corpus.referrals(3)[1:]:
        wb["referrals"].append(row)
    for row in corpus.workforce(2)[1:]:
        wb["workforce"].append(row)
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    result = store.import_file(path, "2011-04")
    assert result.status == "loaded", [p.message for p in result.errors]
    assert result.row_counts["referrals"] == 3 and result.row_counts["workforce"] == 2


def test_template_bytes_is_the_same_workbook():
    from io import BytesIO

    wb = openpyxl.load_workbook(BytesIO(template_bytes()))
    assert wb.sheetnames == ["Notes", *spec.SHEETS]
