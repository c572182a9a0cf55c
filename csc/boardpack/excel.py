"""The board pack as an Excel workbook: Summary, one sheet per action (native line charts),
Commentary, Revised, Notes. Every text cell is neutralised against formula injection."""

from __future__ import annotations

import datetime as dt
import io
import math
import re

import duckdb
import pandas as pd

from csc import exports, kpis, privacy, wording
from csc.plan import Action, Plan
from csc.boardpack.content import Measure, Pack, _hidden, _num, collect
from csc.boardpack.words import (
    COMMENTARY_FIELDS,
    COMMENTARY_SHEET,
    NOTES_SHEET,
    NO_VALUE,
    REVISED_COLUMNS,
    SUMMARY_HEADER_ROW,
    SUMMARY_SHEET,
    _applies,
    _count_format,
    assurance_words,
    direction_words,
    month_of,
    notes_lines,
    rag_words,
    status_words,
    target_words,
    trajectory_words,
    value_words,
    variation_words,
    verdict_words,
)


# --- Excel ------------------------------------------------------------------------------------

_FILLS = {"Green": "C6EFCE", "Amber": "FFEB9C", "Red": "FFC7CE"}
_HEADER_FILL = "DDE4EE"


def _number_format(kpi: kpis.Kpi) -> str:
    return {"pct": '0.0"%"', "count": "#,##0", "days": '0.0" days"', "per_fte": "0.0"}.get(kpi.unit, "0.0")


def _change_format(kpi: kpis.Kpi) -> str:
    unit = ' pts"' if kpi.unit == "pct" else (' days"' if kpi.unit == "days" else "")
    if unit:
        return f'+0.0"{unit};-0.0"{unit};0.0"{unit}'
    return "+0.0;-0.0;0.0"


def _put(ws, row: int, col: int, value, number_format: str | None = None, bold: bool = False, wrap: bool = False,
         fill: str | None = None, size: int | None = None, align: str | None = None):
    """Write one cell safely: text neutralised and stored as text (never a formula), NaN as blank."""
    from openpyxl.styles import Alignment, Font, PatternFill

    if isinstance(value, str):
        value = exports.neutralise(value)
    elif value is not None and not isinstance(value, (dt.date, dt.datetime)):
        value = _num(value)
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if number_format and isinstance(value, float):
        cell.number_format = number_format
    if bold or size:
        cell.font = Font(bold=bold, size=size or 11)
    cell.alignment = Alignment(wrap_text=wrap, vertical="top", horizontal=align)
    if fill:
        cell.fill = PatternFill("solid", start_color=fill, end_color=fill)
    return cell


def _header(ws, row: int, names: list[str]) -> None:
    for col, name in enumerate(names, start=1):
        _put(ws, row, col, name, bold=True, wrap=True, fill=_HEADER_FILL)


def _widths(ws, widths: list[float]) -> None:
    from openpyxl.utils import get_column_letter

    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def _fit_rows(ws, first: int, last: int) -> None:
    """Set the height of rows with wrapped text (spreadsheets do not all size them on opening)."""
    for row in range(first, last + 1):
        lines = 1
        for cell in ws[row]:
            if not isinstance(cell.value, str) or not (cell.alignment and cell.alignment.wrap_text):
                continue
            width = ws.column_dimensions[cell.column_letter].width or 8.43
            per_line = max(1, int(width * 1.1))
            lines = max(lines, sum(max(1, math.ceil(len(part) / per_line)) for part in cell.value.split("\n")))
        if lines > 1:
            ws.row_dimensions[row].height = 15 * min(lines, 30)


def _landscape(ws) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _sheet_name(action_id: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\']", "-", str(action_id)).strip() or "Action"
    name = name[:31]
    base, n = name, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


def action_sheet_names(plan: Plan) -> dict[str, str]:
    """The sheet of each action (its id, made safe for Excel and unique)."""
    taken = {SUMMARY_SHEET.lower(), COMMENTARY_SHEET.lower(), NOTES_SHEET.lower()}
    return {a.id: _sheet_name(a.id, taken) for a in plan.actions}


#: The Summary's columns: what a reader needs first (printed), then reference columns.
SUMMARY_COLUMNS = [
    "Action", "Measure", "Month", "Value", "Target", "RAG", "Variation (SPC)", "Assurance (SPC)",
    "Change since last month", "Will the target be met by the due date?", "Status", "Due", "Owner", "Action title",
    "KPI", "Unit", "Direction",
]
SUMMARY_PRINTED_COLUMNS = 12  # Action .. Due fit an A4 landscape page


def _title_block(ws, pack: Pack, heading: str) -> None:
    _put(ws, 1, 1, heading, bold=True, size=14)
    _put(ws, 2, 1, f"{pack.plan.title} · {pack.month_label} · {pack.area_label}")
    _put(ws, 3, 1, f"{pack.version_words} · produced {pack.produced:%d %B %Y %H:%M}")


def _summary_sheet(wb, pack: Pack) -> None:
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(SUMMARY_SHEET)
    _title_block(ws, pack, f"Board pack for {pack.month_label}: summary of every action and measure")
    _put(ws, 4, 1, f"{pack.version} · {pack.revised_words}")
    _header(ws, SUMMARY_HEADER_ROW, SUMMARY_COLUMNS)
    col = {name: i for i, name in enumerate(SUMMARY_COLUMNS, start=1)}
    row = SUMMARY_HEADER_ROW
    for m in pack.measures:
        row += 1
        a, k = m.action, m.kpi
        for name, value in (("Action", a.id), ("Measure", wording.measure_title(k, pack.areas)), ("Month", month_of(m) or NO_VALUE),
                            ("Status", status_words(pack, a, short=True)), ("Due", a.due), ("Owner", a.owner), ("Action title", a.title),
                            ("KPI", k.name), ("Unit", wording.UNIT_WORDS.get(k.unit, k.unit)), ("Direction", direction_words(k))):
            _put(ws, row, col[name], value, wrap=name in ("Measure", "Status", "Owner", "Action title"))
        if m.suppressed:
            _put(ws, row, col["Value"], privacy.SUPPRESSED, align="right")
        else:
            _put(ws, row, col["Value"], m.value if m.value is not None else NO_VALUE, _number_format(k), align="right")
        _put(ws, row, col["Target"], m.target if m.target is not None else "no target set", _number_format(k), align="right")
        rag = rag_words(m)
        _put(ws, row, col["RAG"], rag, fill=_FILLS.get(rag))
        _put(ws, row, col["Variation (SPC)"], variation_words(m), wrap=True)
        _put(ws, row, col["Assurance (SPC)"], assurance_words(m), wrap=True)
        change = _num(m.row.get("change_month"))
        _put(ws, row, col["Change since last month"], change if change is not None else NO_VALUE, _change_format(k),
             align="right")
        _put(ws, row, col["Will the target be met by the due date?"], trajectory_words(m), wrap=True)
    _widths(ws, [7, 34, 9, 11, 10, 9, 30, 30, 12, 18, 10, 11, 26, 40, 26, 12, 16])
    _fit_rows(ws, SUMMARY_HEADER_ROW, row)
    ws.freeze_panes = ws.cell(row=SUMMARY_HEADER_ROW + 1, column=3)
    last = get_column_letter(len(SUMMARY_COLUMNS))
    ws.auto_filter.ref = f"A{SUMMARY_HEADER_ROW}:{last}{row}"
    _landscape(ws)
    ws.print_area = f"A1:{get_column_letter(SUMMARY_PRINTED_COLUMNS)}{row}"
    ws.print_title_rows = f"{SUMMARY_HEADER_ROW}:{SUMMARY_HEADER_ROW}"


MONTHLY_COLUMNS = ["Period", "Value", "Numerator", "Denominator", "Target"]
CHART_VALUE_COLUMN = "Value for the chart"


def _line_chart(ws, m: Measure, header_row: int, last_row: int, value_col: int, target_col: int | None, unit: str,
                areas=None):
    from openpyxl.chart import LineChart, Reference

    chart = LineChart()
    # at most 60 characters; a measure counted for all areas only says so when offices are chosen
    tail = " (all areas)" if wording.measure_title(m.kpi, areas) != m.kpi.title else ""
    room = 60 - len(tail)
    chart.title = (m.kpi.title if len(m.kpi.title) <= room else m.kpi.title[:room - 3] + "...") + tail
    chart.y_axis.title = unit
    chart.x_axis.title = "Month"
    chart.height = 9
    chart.width = 18
    chart.legend.position = "b"
    chart.add_data(Reference(ws, min_col=value_col, min_row=header_row, max_row=last_row), titles_from_data=True)
    if target_col is not None:
        chart.add_data(Reference(ws, min_col=target_col, min_row=header_row, max_row=last_row), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=header_row + 1, max_row=last_row))
    # openpyxl 3.1 marks axes deleted unless told otherwise: Excel would draw no axes.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.number_format = "General"
    values = chart.series[0]
    values.marker.symbol = "circle"
    values.marker.size = 5
    values.graphicalProperties.line.solidFill = "12436D"
    values.marker.graphicalProperties.solidFill = "12436D"
    values.marker.graphicalProperties.line.solidFill = "12436D"
    values.smooth = False
    if target_col is not None:
        target = chart.series[1]
        target.graphicalProperties.line.solidFill = "0B0C0C"
        target.graphicalProperties.line.dashStyle = "dash"
        target.marker.symbol = "none"
        target.smooth = False
    return chart


def _action_sheet(wb, pack: Pack, action: Action, name: str) -> None:
    ws = wb.create_sheet(name)
    _put(ws, 1, 1, f"{action.id} · {action.title}", bold=True, size=14)
    _put(ws, 2, 1, f"Owner: {action.owner} · due {action.due} · {status_words(pack, action)}")
    _put(ws, 3, 1, f"{pack.area_label} · monthly figures up to {pack.month_label} · {pack.version_words}")
    row = 5
    measures = pack.measures_of(action)
    if not measures:
        _put(ws, row, 1, "This action has no measures.")
    for m in measures:
        k = m.kpi
        fmt = _number_format(k)
        _put(ws, row, 1, wording.measure_title(k, pack.areas), bold=True, size=12)
        _put(ws, row + 1, 1, k.description or NO_VALUE)
        _put(ws, row + 2, 1, f"Target: {target_words(m)} · {direction_words(k).lower()} · latest: {value_words(m)}"
             f" · RAG: {rag_words(m)} · {verdict_words(m)}")
        header_row = row + 3
        if not m.has_figures:
            _put(ws, header_row, 1, f"No figures for this selection up to {pack.month_label}.")
            row = header_row + 2
            continue
        needs_chart_column = pack.suppress and not m.monthly["value"].notna().all()
        names = MONTHLY_COLUMNS + ([CHART_VALUE_COLUMN] if needs_chart_column else [])
        _header(ws, header_row, names)
        r = header_row
        for rec in m.monthly.to_dict("records"):
            r += 1
            hidden = _hidden(rec)
            _put(ws, r, 1, rec["period"])
            for col, key in ((2, "value"), (3, "numerator"), (4, "denominator")):
                if not _applies(k, key, pack.suppress):
                    continue
                if hidden:
                    _put(ws, r, col, privacy.SUPPRESSED, align="right")
                else:
                    number = _num(rec[key])
                    _put(ws, r, col, number, fmt if key == "value" else _count_format(number))
            _put(ws, r, 5, m.target, fmt)
            if needs_chart_column:
                _put(ws, r, 6, None if hidden else _num(rec["value"]), fmt)
        if m.has_values:
            chart = _line_chart(ws, m, header_row, r, 6 if needs_chart_column else 2,
                                5 if m.target is not None else None, wording.UNIT_WORDS.get(k.unit, k.unit), pack.areas)
            ws.add_chart(chart, f"H{header_row}")
        elif m.suppressed or "suppressed" in m.monthly:
            _put(ws, header_row, 8, "No chart: every month is suppressed (small numbers).")
        # leave room for the chart (9 cm: about 18 rows) below the block's table
        row = max(r, header_row + 18) + 2
    _widths(ws, [11, 12, 12, 13, 10, 12, 3])
    _landscape(ws)


def _commentary_sheet(wb, pack: Pack) -> None:
    ws = wb.create_sheet(COMMENTARY_SHEET)
    _title_block(ws, pack, f"Commentary for {pack.month_label}")
    header = ["Action", "Action title", "Owner", "Status"] + [label for _, label in COMMENTARY_FIELDS]
    _header(ws, SUMMARY_HEADER_ROW, header)
    row = SUMMARY_HEADER_ROW
    for action in pack.plan.actions:
        row += 1
        notes = pack.commentary(action)
        _put(ws, row, 1, action.id)
        _put(ws, row, 2, action.title, wrap=True)
        _put(ws, row, 3, action.owner, wrap=True)
        _put(ws, row, 4, status_words(pack, action, short=True), wrap=True)
        if not any(notes.values()):
            _put(ws, row, 5, f"No commentary recorded for {pack.month_label}.", wrap=True)
            continue
        for col, (key, _) in enumerate(COMMENTARY_FIELDS, start=5):
            _put(ws, row, col, notes[key] or NO_VALUE, wrap=True)
    _widths(ws, [8, 40, 24, 11, 45, 45, 45])
    _fit_rows(ws, SUMMARY_HEADER_ROW, row)
    _landscape(ws)


def _notes_sheet(wb, pack: Pack) -> None:
    ws = wb.create_sheet(NOTES_SHEET)
    _put(ws, 1, 1, "Notes", bold=True, size=14)
    row = 2
    notes_width = 40 + 9 + 18 + 16 + 10 + 90  # columns B to G, merged for each note
    for label, text in notes_lines(pack):
        row += 1
        _put(ws, row, 1, label, bold=True, wrap=True)
        _put(ws, row, 2, text, wrap=True)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=7)
        ws.row_dimensions[row].height = 15 * max(1, math.ceil(len(text) / (notes_width * 1.1)))
    notes_end = row
    row += 2
    _put(ws, row, 1, "Extracts used (loaded imports)", bold=True, size=12)
    row += 1
    _header(ws, row, ["Period", "File name", "Import", "Imported at"])
    if pack.imports.empty:
        row += 1
        _put(ws, row, 1, "No extract is loaded.")
    for rec in pack.imports.to_dict("records"):
        row += 1
        _put(ws, row, 1, rec["period"])
        _put(ws, row, 2, rec["file_name"])
        _put(ws, row, 3, int(rec["import_id"]))
        imported = rec["imported_at"]
        _put(ws, row, 4, pd.Timestamp(imported).strftime("%Y-%m-%d %H:%M") if not pd.isna(imported) else NO_VALUE)
    row += 2
    _put(ws, row, 1, "Definitions of the measures", bold=True, size=12)
    row += 1
    _header(ws, row, ["KPI", "Measure", "Action", "Unit", "Direction", "Target", "Definition"])
    for m in pack.measures:
        row += 1
        k = m.kpi
        _put(ws, row, 1, k.name)
        _put(ws, row, 2, k.title, wrap=True)
        _put(ws, row, 3, m.action.id)
        _put(ws, row, 4, wording.UNIT_WORDS.get(k.unit, k.unit))
        _put(ws, row, 5, direction_words(k))
        _put(ws, row, 6, target_words(m))
        _put(ws, row, 7, k.description or NO_VALUE, wrap=True)
    _widths(ws, [26, 40, 9, 18, 16, 10, 90])
    _fit_rows(ws, notes_end + 1, row)
    _landscape(ws)


REVISED_SHEET = "Revised"


def _revised_sheet(wb, pack: Pack) -> None:
    """Every figure of the pack's measures (its month and the 12 before) that changed after it was
    first shown: what it was, what it is, and the import that changed it."""
    ws = wb.create_sheet(REVISED_SHEET)
    _title_block(ws, pack, "Revised figures: changed since they were first shown")
    _header(ws, SUMMARY_HEADER_ROW, REVISED_COLUMNS)
    row = SUMMARY_HEADER_ROW
    for rec in pack.revised.to_dict("records"):
        row += 1
        for col, value in enumerate((rec["title"], rec["period"], rec["area"], rec["was"] or NO_VALUE, rec["now"],
                                     rec["changed"], rec["file_name"]), start=1):
            _put(ws, row, col, value, wrap=col == 1)
    _widths(ws, [40, 10, 14, 12, 12, 34, 30])
    _fit_rows(ws, SUMMARY_HEADER_ROW, row)
    _landscape(ws)


def excel_bytes(pack: Pack) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    wb.properties.title = f"{pack.title} ({pack.month_label})"
    wb.properties.creator = "csc dashboard"
    _summary_sheet(wb, pack)
    for action_id, name in action_sheet_names(pack.plan).items():
        _action_sheet(wb, pack, pack.plan.action(action_id), name)
    _commentary_sheet(wb, pack)
    if not pack.revised.empty:
        _revised_sheet(wb, pack)
    _notes_sheet(wb, pack)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def build_excel(cur: duckdb.DuckDBPyConnection, plan: Plan, period: str, areas=None, role: str = "director",
                produced: dt.datetime | None = None, period_from: str | None = None) -> bytes:
    """The pack as an .xlsx workbook: Summary, one sheet per action, Commentary, Notes."""
    return excel_bytes(collect(cur, plan, period, areas, role, produced, period_from))
