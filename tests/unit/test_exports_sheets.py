"""A workbook with a sheet per chart (the Action page's measure download, the Workforce page's
charts): names Excel accepts, each table in its sheet, and no text ever a formula."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from csc import exports


def test_sheet_names_excel_would_refuse_are_mended():
    taken: set[str] = set()
    got = [exports.sheet_name(w, taken) for w in ["Area offices", "Rate: a/b?", "x" * 40, "x" * 40, "", "AREA OFFICES"]]
    assert got == ["Area offices", "Rate  a b", "x" * 31, "x" * 29 + " 2", "Sheet", "AREA OFFICES 2"]


def test_each_table_in_its_sheet_and_no_formula():
    data = exports.to_excel_sheets({
        "Monthly figures": pd.DataFrame({"period": ["2012-03"], "value": [100.0]}),
        "Area offices": pd.DataFrame({"area": ["=HYPERLINK(\"http://evil.example\",\"x\")"], "value": [50.0]}),
    })
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Monthly figures", "Area offices"]
    assert [[c.value for c in row] for row in book["Monthly figures"].iter_rows()] == [["period", "value"], ["2012-03", 100]]
    cell = book["Area offices"]["A2"]
    assert cell.data_type == "s" and not str(cell.value).startswith("=")


def test_a_csvs_numbers_carry_no_binary_noise():
    # A review: the Overview's CSV had a change of -2.299999999999997 and a rate of 21.551724137931036
    import pandas as pd

    from csc import exports

    df = pd.DataFrame({"change": [-2.299999999999997, 3.9000000000000057], "rate": [21.551724137931036, None],
                       "count": [7, 1_000_000_000]})
    text = exports.to_csv_bytes(df).decode("utf-8-sig").splitlines()
    assert text == ['"change","rate","count"', "-2.3,21.5517241379,7", '3.9,"",1000000000']
