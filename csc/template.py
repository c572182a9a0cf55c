"""The downloadable blank extract: every sheet with its headers, a notes sheet explaining each
column, and Excel data validation on flag and enum columns. Generated from `csc.spec`."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from csc import spec

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
REQUIRED_FILL = PatternFill("solid", fgColor="C00000")
ROWS_VALIDATED = 50_000


def build_template() -> Workbook:
    wb = Workbook()
    notes = wb.active
    notes.title = "Notes"
    notes.append(["Monthly extract for the Children's Social Care performance dashboard"])
    notes["A1"].font = Font(bold=True, size=14)
    notes.append(["One workbook per reporting month. Any subset of the sheets may be filled in; headers in red are required."])
    notes.append(["Dates: an Excel date, 2011-03-31 or 31/03/2011 (day first). Flags: Y or N. Leave optional cells blank when unknown."])
    notes.append([])
    notes.append(["sheet", "column", "type", "required", "also accepted as", "what is expected"])
    for cell in notes[5]:
        cell.font = Font(bold=True)
    for sheet in spec.SHEETS.values():
        ws = wb.create_sheet(sheet.name)
        ws.append(list(sheet.column_names))
        for i, col in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = REQUIRED_FILL if col.required else HEADER_FILL
            ws.column_dimensions[get_column_letter(i)].width = max(14, len(col.name) + 4)
            letter = get_column_letter(i)
            rng = f"{letter}2:{letter}{ROWS_VALIDATED}"
            if col.type == spec.FLAG:
                dv = DataValidation(type="list", formula1='"Y,N"', allow_blank=not col.required)
            elif col.type == spec.ENUM:
                dv = DataValidation(type="list", formula1='"' + ",".join(col.values) + '"', allow_blank=not col.required)
            elif col.type == spec.DATE:
                dv = DataValidation(type="date", operator="greaterThanOrEqual", formula1="DATE(1990,1,1)",
                                    allow_blank=not col.required)
            else:
                dv = None
            if dv is not None:
                dv.error = f"{col.name}: {col.expectation()}"
                dv.errorTitle = "Not an accepted value"
                dv.showErrorMessage = True
                ws.add_data_validation(dv)
                dv.add(rng)
            notes.append([sheet.name, col.name, spec.TYPE_WORDS[col.type], "yes" if col.required else "no",
                          ", ".join(col.aliases), col.expectation()])
        ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEF", (16, 22, 18, 10, 48, 70)):
        notes.column_dimensions[letter].width = width
    return wb


def write_template(path: Path) -> None:
    build_template().save(path)


def template_bytes() -> bytes:
    buf = BytesIO()
    build_template().save(buf)
    return buf.getvalue()
