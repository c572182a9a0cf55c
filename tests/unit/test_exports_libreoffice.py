"""Every formula starter, neutralised by `csc.exports` and checked the way a user meets it: the
CSV and the Excel download opened by LibreOffice Calc (formulas evaluated, the way Excel opens a
CSV), saved again, and every cell of the result inspected for a formula."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from csc import exports

# Each value a spreadsheet could run; the control below proves LibreOffice runs the plain ones.
ATTACKS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1,1)",
    "=HYPERLINK(\"http://evil.example/\",\"x\")",
    "+cmd|' /C calc'!A0",
    " =1+1",
    "  +1+1",
    "\n=1+1",
    "\r=1+1",
    "\t=1+1",
    "\u200b=1+1",
    "\ufeff=1+1",
    "\u00a0=1+1",
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(1,1)",
    "﹦1+1",
    "−1+1",
    ";=1+1",
    "a;=1+1",
    "a,=1+1",
    "a\t=1+1",
    "x|=1+1",
]


def office() -> str:
    found = shutil.which("libreoffice") or shutil.which("soffice")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice is required in CI (apt-get install -y libreoffice-calc)")
        pytest.skip("LibreOffice is not installed")
    return found


def reopen(path: Path, tmp_path: Path, infilter: str | None = None) -> openpyxl.Workbook:
    """Open the file in LibreOffice Calc, save it as .xlsx, and read what Calc made of each cell."""
    out = tmp_path / f"out-{path.stem}"
    cmd = [office(), f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless", "--norestore"]
    if infilter:
        cmd += [f"--infilter={infilter}"]
    done = subprocess.run(cmd + ["--convert-to", "xlsx", "--outdir", str(out), str(path)],
                          capture_output=True, text=True, timeout=240)
    result = out / (path.stem + ".xlsx")
    assert done.returncode == 0 and result.exists(), done.stdout + done.stderr
    return openpyxl.load_workbook(result)  # not data_only: formulas stay formulas


# separator ",", quote '"', UTF-8, from line 1, ..., token 13: evaluate formulas (as Excel would)
CSV_FILTER = "CSV Text - txt - csv (StarCalc):44,34,76,1,,1033,false,true,false,false,false,-1,true"
SEMICOLON_FILTER = "CSV Text - txt - csv (StarCalc):59,34,76,1,,1033,false,true,false,false,false,-1,true"


def formulas(wb: openpyxl.Workbook) -> list[str]:
    return [f"{c.coordinate}={c.value!r}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("="))]


def test_libreoffice_runs_the_plain_values_so_the_check_can_fail(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("note\n=1+1\nx\n\"a\r=2+2\"\n", encoding="utf-8")
    assert formulas(reopen(plain, tmp_path, CSV_FILTER)) == ["A2='=1+1'"]
    semi = tmp_path / "semi.csv"
    semi.write_text('note,other\n"a;=1+1",x\n', encoding="utf-8")  # a separator inside a value
    assert formulas(reopen(semi, tmp_path, SEMICOLON_FILTER)) == ["B2='=1+1\",x'"]


@pytest.mark.parametrize("infilter", [CSV_FILTER, SEMICOLON_FILTER], ids=["comma", "semicolon"])
def test_no_formula_survives_a_csv_download(tmp_path, infilter):
    df = pd.DataFrame({"note": ATTACKS, "=header": ["x"] * len(ATTACKS)})
    path = tmp_path / "download.csv"
    path.write_bytes(exports.to_csv_bytes(df))
    assert formulas(reopen(path, tmp_path, infilter)) == []


def test_no_formula_survives_an_excel_download(tmp_path):
    df = pd.DataFrame({"note": ATTACKS, "=header": ["x"] * len(ATTACKS)})
    path = tmp_path / "download.xlsx"
    path.write_bytes(exports.to_excel_bytes(df))
    assert formulas(reopen(path, tmp_path)) == []
    assert formulas(openpyxl.load_workbook(path)) == []


@pytest.mark.parametrize("value", ATTACKS)
def test_each_formula_starter_is_neutralised(value):
    assert exports.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["North", "Team A", "a, b", "x-y", "C1", " hello", "2011-04", "", None, 3.5])
def test_ordinary_values_are_left_alone(value):
    assert exports.neutralise(value) == value
