"""The board pack: the action plan for one month and one area selection, as an Excel workbook
(native line charts) or a self-contained HTML report (plotly XmR charts, prints to PDF).

No Streamlit here. Both formats show the same content, gathered once by `collect`:

- a summary of every action and KPI: value, target, RAG, the SPC variation and assurance icons in
  words, the change since last month and whether the target will be met by the due date;
- per action, each KPI's monthly figures (period, value, numerator, denominator, target; the board's pack
  has no numerator or denominator for a rate or median) and a
  chart (Excel: a line chart with the target as a second series; HTML: the XmR chart);
- the commentary for the month (what we did, what changed, what next);
- notes: each KPI's definition, the extracts loaded, the area selection, when the pack was
  produced, and the small-number rule when it was applied.

The board's pack is suppressed exactly as the board's view is (`report.overview(...,
suppress=True)`, `report.series(..., suppress=True)`): counts from 1 to 5, and rates with a
numerator or denominator from 1 to 5, are shown as `c`. No pack holds record-level data.
Every text cell of the workbook is neutralised against formula injection
(`csc.exports.neutralise`); every text in the HTML is escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from csc import charts, exports, kpis, privacy, report, revisions, spc, verdict
from csc.plan import Action, Plan

ROLES = ("board", "director", "analyst")
SUPPRESSION_RULE = (
    f"Small numbers are suppressed, as the Department for Education publishes children's statistics: any count "
    f"from {privacy.LOW} to {privacy.HIGH}, and any rate whose numerator or denominator is from {privacy.LOW} to "
    f"{privacy.HIGH}, is shown as \"{privacy.SUPPRESSED}\". Suppressed months are left out of the charts and of the "
    "SPC limits. Rates and medians are shown without the numbers behind them (177 of 178 would show the 1 not counted)."
)
RAG_WORDS = {spc.GREEN: "Green", spc.AMBER: "Amber", spc.RED: "Red"}
UNIT_WORDS = {"pct": "%", "days": "working days", "count": "number", "per_fte": "per FTE"}
NO_VALUE = "–"
SUMMARY_SHEET, COMMENTARY_SHEET, NOTES_SHEET = "Summary", "Commentary", "Notes"
SUMMARY_HEADER_ROW = 5
COMMENTARY_FIELDS = (("did", "What we did"), ("changed", "What changed"), ("next", "What next"))
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# --- what both formats show ------------------------------------------------------------------


@dataclass
class Measure:
    """One KPI of one action: its summary row and its monthly figures for the selection."""

    action: Action
    kpi: kpis.Kpi
    target: float | None
    row: dict  # a row of report.overview
    monthly: pd.DataFrame  # period, numerator, denominator, value (, suppressed)
    true_monthly: pd.DataFrame | None = None  # the board's pack: the unsuppressed series, for the ratings only

    @property
    def suppressed(self) -> bool:
        return _hidden(self.row)

    @property
    def value(self) -> float | None:
        return _num(self.row.get("value"))

    @property
    def has_figures(self) -> bool:
        return not self.monthly.empty

    @property
    def has_values(self) -> bool:
        return bool(self.monthly["value"].notna().any()) if self.has_figures else False


@dataclass
class Pack:
    plan: Plan
    period: str
    areas: tuple[str, ...] | None
    role: str
    produced: dt.datetime
    measures: list[Measure]
    imports: pd.DataFrame  # import_id, period, file_name, imported_at (loaded imports)
    version: str = ""  # the data version the pack was made from (csc.revisions.version_words)
    revised: pd.DataFrame = field(default_factory=pd.DataFrame)  # csc.revisions.for_report

    @property
    def revised_words(self) -> str:
        n = len(self.revised)
        if not n:
            return "No figure of the pack has been revised since it was first shown."
        return (f"{n} figure(s) revised since first shown (a later extract changed the records behind them): see "
                "Revised figures.")

    def revision(self, m: Measure) -> dict | None:
        """The revision of a measure's figure for the pack's month (all areas), if it was revised."""
        if self.revised.empty or self.areas:
            return None
        hit = self.revised[(self.revised["kpi"] == m.kpi.name) & (self.revised["period"] == self.period)
                           & (self.revised["area"] == "All areas")]
        return hit.iloc[0].to_dict() if not hit.empty else None

    @property
    def suppress(self) -> bool:
        return self.role == "board"

    @property
    def selection(self) -> report.Selection:
        return report.Selection(self.areas, None, self.period)

    @property
    def area_label(self) -> str:
        return self.selection.label

    @property
    def month_label(self) -> str:
        return spc.period_label(self.period)

    @property
    def title(self) -> str:
        return f"Board pack: {self.plan.title}"

    @property
    def version_words(self) -> str:
        if self.suppress:
            return "Board version: small numbers suppressed (shown as c)"
        return f"{self.role.capitalize()} version: small numbers not suppressed; not for publication"

    def measures_of(self, action: Action) -> list[Measure]:
        return [m for m in self.measures if m.action.id == action.id]

    def commentary(self, action: Action) -> dict[str, str]:
        entry = action.commentary.get(self.period) or {}
        return {key: str(entry.get(key) or "") for key, _ in COMMENTARY_FIELDS}


def collect(
    cur: duckdb.DuckDBPyConnection,
    plan: Plan,
    period: str,
    areas=None,
    role: str = "director",
    produced: dt.datetime | None = None,
) -> Pack:
    """Everything the pack shows, for `period` (YYYY-MM) and the area offices `areas` (None or
    empty: all areas together). The board's figures are suppressed as the board's view is."""
    if not isinstance(period, str) or not _PERIOD.match(period):
        raise ValueError(f'The period "{period}" is not a month written as YYYY-MM (for example 2011-06).')
    if role not in ROLES:
        raise ValueError(f"The role must be one of {', '.join(ROLES)}, not {role!r}.")
    area_tuple = tuple(areas) if areas else None
    suppress = role == "board"
    sel = report.Selection(area_tuple, None, period)
    overview = report.overview(cur, plan, sel, period, suppress=suppress)
    rows = {(r["action"], r["kpi"]): r for r in overview.to_dict("records")} if not overview.empty else {}
    registry = kpis.registry()
    measures = []
    for action in plan.actions:
        for name in action.kpis:
            kpi = registry.get(name)
            if kpi is None:
                continue
            monthly = report.series(cur, kpi, sel, suppress=suppress)
            true_monthly = report.series(cur, kpi, sel) if suppress else None
            measures.append(Measure(action, kpi, action.target(name), rows.get((action.id, name), {}), monthly,
                                    true_monthly))
    imports = cur.execute(
        "select import_id, period, file_name, imported_at from imports where status = 'loaded' order by period, import_id"
    ).df()
    revised = revisions.for_report(cur, [m.kpi.name for m in measures], period, area_tuple, suppress)
    return Pack(plan, period, area_tuple, role, produced or dt.datetime.now().replace(microsecond=0), measures, imports,
                revisions.version_words(cur), revised)


# --- words and numbers ----------------------------------------------------------------------


def _num(value) -> float | None:
    """A float, or None for a missing value (None, NaN, pandas NA)."""
    return spc.clean_value(value)


def _text(value) -> str | None:
    """A label from a DataFrame cell: None for None, NaN or an empty string."""
    return value if isinstance(value, str) and value else None


def rag_words(m: Measure) -> str:
    # the board's rating is the director's, worked out from the true figures (report.overview)
    rag = _text(m.row.get("rag"))
    if rag:
        return RAG_WORDS.get(rag, rag)
    if m.target is None:
        return "No target"
    return NO_VALUE


def variation_words(m: Measure) -> str:
    variation = _text(m.row.get("variation"))
    return spc.variation_label(variation, m.kpi.improvement) if variation else NO_VALUE


def assurance_words(m: Measure) -> str:
    assurance = _text(m.row.get("assurance"))
    if assurance:
        return spc.assurance_label(assurance)
    return "No target" if m.target is None else NO_VALUE


def verdict_words(m: Measure) -> str:
    """The one verdict's sentence (`csc.verdict`), as the Overview and the Action page say it."""
    return _text(m.row.get("verdict")) or NO_VALUE


def trajectory_words(m: Measure) -> str:
    status = _text(m.row.get("trajectory"))
    if status:
        return status
    if m.action.due_period is None:
        return "Ongoing: no due date" if m.action.due.strip().lower() == "ongoing" else f"No due date ({m.action.due})"
    return NO_VALUE


def value_words(m: Measure, value=None) -> str:
    value = m.value if value is None else value
    if m.suppressed and value is None:
        return privacy.SUPPRESSED
    return m.kpi.format(_num(value)) if _num(value) is not None else NO_VALUE


def change_words(kpi: kpis.Kpi, change) -> str:
    change = _num(change)
    if change is None:
        return NO_VALUE
    unit = " pts" if kpi.unit == "pct" else kpi.unit_suffix
    return f"{change:+.1f}{unit}"


def target_words(m: Measure) -> str:
    return m.kpi.format(m.target) if m.target is not None else "no target set"


def direction_words(kpi: kpis.Kpi) -> str:
    return "Higher is better" if kpi.direction == "higher" else "Lower is better"


def _applies(kpi: kpis.Kpi, column: str, board: bool = False) -> bool:
    """Whether a KPI has this column at all: a median has no numerator, a count no denominator.
    The board's pack has neither for a rate or median: the board sees rates, never the counts
    behind them (`privacy.rates_only`)."""
    if board and column in ("numerator", "denominator") and kpi.aggregate != "sum":
        return False
    if column == "numerator":
        return kpi.aggregate != "median"
    if column == "denominator":
        return kpi.aggregate != "sum"
    return True


def _count_format(value: float | None) -> str:
    return "#,##0" if value is None or float(value).is_integer() else "#,##0.00"


def _hidden(rec: dict) -> bool:
    """Whether a monthly row was suppressed for the board."""
    flag = rec.get("suppressed")
    return flag is not None and not pd.isna(flag) and bool(flag)


def month_of(m: Measure) -> str | None:
    return _text(m.row.get("period"))


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
        for name, value in (("Action", a.id), ("Measure", k.title), ("Month", month_of(m) or NO_VALUE),
                            ("Status", a.status), ("Due", a.due), ("Owner", a.owner), ("Action title", a.title),
                            ("KPI", k.name), ("Unit", UNIT_WORDS.get(k.unit, k.unit)), ("Direction", direction_words(k))):
            _put(ws, row, col[name], value, wrap=name in ("Measure", "Owner", "Action title"))
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


def _line_chart(ws, m: Measure, header_row: int, last_row: int, value_col: int, target_col: int | None, unit: str):
    from openpyxl.chart import LineChart, Reference

    chart = LineChart()
    chart.title = m.kpi.title if len(m.kpi.title) <= 60 else m.kpi.title[:57] + "..."
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
    _put(ws, 2, 1, f"Owner: {action.owner} · due {action.due} · status: {action.status}")
    _put(ws, 3, 1, f"{pack.area_label} · monthly figures up to {pack.month_label} · {pack.version_words}")
    row = 5
    measures = pack.measures_of(action)
    if not measures:
        _put(ws, row, 1, "This action has no measures.")
    for m in measures:
        k = m.kpi
        fmt = _number_format(k)
        _put(ws, row, 1, k.title, bold=True, size=12)
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
                                5 if m.target is not None else None, UNIT_WORDS.get(k.unit, k.unit))
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
        _put(ws, row, 4, action.status)
        if not any(notes.values()):
            _put(ws, row, 5, f"No commentary recorded for {pack.month_label}.", wrap=True)
            continue
        for col, (key, _) in enumerate(COMMENTARY_FIELDS, start=5):
            _put(ws, row, col, notes[key] or NO_VALUE, wrap=True)
    _widths(ws, [8, 40, 24, 11, 45, 45, 45])
    _fit_rows(ws, SUMMARY_HEADER_ROW, row)
    _landscape(ws)


def notes_lines(pack: Pack) -> list[tuple[str, str]]:
    """The notes about the pack itself, as (label, text)."""
    lines = [
        ("Produced", f"{pack.produced:%d %B %Y at %H:%M}"),
        ("Month", f"{pack.month_label} ({pack.period})"),
        ("Area offices", pack.area_label),
        ("Version", pack.version_words),
        ("Action plan", pack.plan.title),
        ("Data version", pack.version),
        ("Revised figures", pack.revised_words),
    ]
    if pack.suppress:
        lines.append(("Small numbers", SUPPRESSION_RULE))
    lines += [
        ("Figures", "Every figure is computed from the current version of each record across all the loaded "
                    "extracts listed below (a later extract can correct an earlier month). No record-level data is "
                    "included."),
        ("RAG", "Green meets the target; Amber misses it by no more than 10% of the target; Red misses it by more."),
        ("SPC", "XmR charts as NHS England's \"Making Data Count\" draws them: mean ± 2.66 × the mean moving range, "
                "limits from the months before each action started, recalculated once a new level has held for 7 "
                "steady months, and kept within the measure's range. Variation says whether the latest month "
                "shows a real change (special cause) or noise (common cause); assurance says whether the target "
                "is reliably met, reliably missed, or hit and miss."),
        ("Will the target be met?", "A straight-line trend of the months since the action started, projected to "
                                    "its due month with an 80% range."),
    ]
    return lines


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
        _put(ws, row, 4, UNIT_WORDS.get(k.unit, k.unit))
        _put(ws, row, 5, direction_words(k))
        _put(ws, row, 6, target_words(m))
        _put(ws, row, 7, k.description or NO_VALUE, wrap=True)
    _widths(ws, [26, 40, 9, 18, 16, 10, 90])
    _fit_rows(ws, notes_end + 1, row)
    _landscape(ws)


REVISED_SHEET = "Revised"
REVISED_COLUMNS = ["Measure", "Month", "Area", "Was", "Now", "Changed by", "File"]


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


def _revised_html(pack: Pack) -> str:
    if pack.revised.empty:
        return ""
    head = "".join(f"<th scope=\"col\">{_e(h)}</th>" for h in REVISED_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_e(v)}</td>" for v in (r["title"], r["period"], r["area"], r["was"] or NO_VALUE,
                                                       r["now"], r["changed"], r["file_name"])) + "</tr>"
        for r in pack.revised.to_dict("records"))
    return (f"<section id=\"revised\" class=\"revised\"><h2>Revised figures</h2><p>{_e(pack.revised_words)}</p>"
            f"<table class=\"revised\"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></section>")


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
                produced: dt.datetime | None = None) -> bytes:
    """The pack as an .xlsx workbook: Summary, one sheet per action, Commentary, Notes."""
    return excel_bytes(collect(cur, plan, period, areas, role, produced))


# --- HTML -------------------------------------------------------------------------------------

CSS = """
:root { --text: #0b0c0c; --muted: #505a5f; --rule: #b1b4b6; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; color: var(--text); margin: 0 auto; padding: 24px;
       max-width: 1000px; font-size: 15px; line-height: 1.4; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 22px; margin: 32px 0 4px; border-top: 4px solid #12436D; padding-top: 8px; }
h3 { font-size: 17px; margin: 20px 0 4px; }
.meta, .muted { color: var(--muted); }
.notice { border-left: 6px solid #F46A25; padding: 6px 12px; background: #fdf1ea; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 6px; text-align: left; vertical-align: top; }
thead th { background: #dde4ee; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.rag { display: inline-block; padding: 1px 6px; border-radius: 3px; font-weight: bold; }
.rag-green { background: #c6efce; } .rag-amber { background: #ffeb9c; } .rag-red { background: #ffc7ce; }
.kpi { break-inside: avoid; page-break-inside: avoid; }
table.monthly { font-size: 11px; table-layout: fixed; }
table.monthly tbody + tbody tr:first-child th, table.monthly tbody + tbody tr:first-child td { border-top: 2px solid var(--rule); }
table.monthly tbody tr:first-child { background: #dde4ee; }
table.monthly th[scope="row"] { width: 82px; }
figure.chart { margin: 0; min-width: 0; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
dl.commentary dt { font-weight: bold; margin-top: 6px; }
dl.commentary dd { margin: 0 0 4px; white-space: pre-wrap; }
nav.toc ul { columns: 2; padding-left: 18px; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@page { size: A4 landscape; margin: 10mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav.toc, .no-print, .modebar, .modebar-container { display: none !important; }
  section.action, section.notes { break-before: page; page-break-before: always; }
  h2 { margin-top: 0; }
  h3 { margin-top: 8px; break-after: avoid; page-break-after: avoid; }
  tr, table.monthly, figure.chart { break-inside: avoid; page-break-inside: avoid; }
  table.monthly { font-size: 8pt; margin: 4px 0 8px; }
  table.monthly th, table.monthly td { padding: 1px 4px; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
"""


NUM = ' class="num"'


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _rag_html(words: str) -> str:
    if words in _FILLS:
        return f'<span class="rag rag-{words.lower()}">{_e(words)}</span>'
    return _e(words)


def _figure(pack: Pack, m: Measure) -> tuple[str, object] | None:
    """The XmR chart of a measure (None when no month has a value to chart)."""
    if not m.has_values:
        return None
    df = m.monthly
    periods = list(df["period"])
    values = [_num(v) for v in df["value"]]
    # the ratings from the true figures; for the board, a chart of the published months only
    true_df = m.true_monthly if m.true_monthly is not None else df
    assessed = verdict.assess(m.kpi, true_df, m.target, m.action.start, m.action.due_period,
                              shown=df if m.true_monthly is not None else None)
    result, vd = assessed.result, assessed.verdict
    unit = m.kpi.unit_suffix
    latest_month = month_of(m) or periods[-1]
    if m.suppressed:
        title = f"{m.kpi.title}: suppressed in {spc.period_label(latest_month)} (small numbers)"
    else:
        title = vd.headline
    source = f"monthly extracts, {pack.area_label}" + (", small numbers suppressed" if pack.suppress else "")
    fig = charts.xmr_chart(periods, values, result, title, target=m.target, unit=unit, source=_e(source),
                           due_period=m.action.due_period, verdict=vd, small_base=verdict.small_base_flags(m.kpi, df))
    _fit_for_paper(fig, title)
    return title, fig


CHART_PLOT_HEIGHT = 220  # px of plot area: a chart and its table fit an A4 landscape page


def _fit_for_paper(fig, title: str) -> None:
    """Wrap the title and make room above the plot for it and for the SPC icons' words, so that
    nothing overlaps at the pack's width; keep the plot short enough to print with its table."""
    lines = textwrap.wrap(title, 90) or [title]
    icons = next((a for a in fig.layout.annotations if a.name == "icons"), None)
    icon_lines = (str(icons.text).count("<br>") + 1) if icons is not None else 0
    top = 20 + 24 * len(lines) + 18 * icon_lines + 14
    bottom = 100  # x-axis labels, the legend and the source line
    fig.update_layout(
        title=dict(text="<br>".join(lines), y=1, yref="container", yanchor="top", pad=dict(t=16)),
        margin=dict(t=top, b=bottom),
        height=top + CHART_PLOT_HEIGHT + bottom,
    )


def _count(value: float) -> str:
    """A numerator or denominator: whole numbers without decimals, fte to two places."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


MONTHS_PER_TABLE_ROW = 12


def _monthly_table(m: Measure) -> str:
    """The monthly figures, months across (a year to a block), so a long series stays short on paper."""

    board = m.true_monthly is not None

    def cell(rec: dict, key: str, fmt) -> str:
        if not _applies(m.kpi, key):
            return ""
        if _hidden(rec):
            return privacy.SUPPRESSED
        value = _num(rec[key])
        return fmt(value) if value is not None else NO_VALUE

    records = m.monthly.to_dict("records")
    target = target_words(m) if m.target is not None else NO_VALUE
    blocks = []
    for start in range(0, len(records), MONTHS_PER_TABLE_ROW):
        chunk = records[start:start + MONTHS_PER_TABLE_ROW]
        head = "".join(f"<th scope=\"col\" class=\"num\">{_e(_short_month(r['period']))}</th>" for r in chunk)
        lines = [f"<tr><th scope=\"col\">Month</th>{head}</tr>"]
        for label, key, fmt in (("Value", "value", m.kpi.format), ("Numerator", "numerator", _count),
                                ("Denominator", "denominator", _count)):
            if board and not _applies(m.kpi, key, board):  # the board's: a rate, never the counts behind it
                continue
            cells = "".join(f"<td class=\"num\">{_e(cell(r, key, fmt))}</td>" for r in chunk)
            lines.append(f"<tr><th scope=\"row\">{label}</th>{cells}</tr>")
        target_cells = f"<td class=\"num\">{_e(target)}</td>" * len(chunk)
        lines.append(f"<tr><th scope=\"row\">Target</th>{target_cells}</tr>")
        blocks.append("<tbody>" + "".join(lines) + "</tbody>")
    return (f"<table class=\"monthly\"><caption class=\"sr-only\">Monthly figures: {_e(m.kpi.title)}</caption>"
            + "".join(blocks) + "</table>")


def _short_month(period: str) -> str:
    return f"{dt.date(int(period[:4]), int(period[5:7]), 1):%b %Y}"


def _summary_html(pack: Pack) -> str:
    head = ["Action", "Measure", f"Value ({pack.month_label})", "Target", "RAG", "Variation (SPC)", "Assurance (SPC)",
            "Change since last month", "Will the target be met by the due date?"]
    numeric = {2, 3, 7}
    out = ["<table class=\"summary\"><caption class=\"sr-only\">Every action and measure</caption><thead><tr>"]
    out += [f"<th scope=\"col\"{NUM if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(head)]
    out.append("</tr></thead><tbody>")
    for m in pack.measures:
        month = month_of(m)
        value = value_words(m)
        if month and month != pack.period and value not in (NO_VALUE, privacy.SUPPRESSED):
            value += f" ({spc.period_label(month)})"
        rev = pack.revision(m)
        if rev is not None:
            value += f" (revised: was {rev['was'] or NO_VALUE}, {rev['changed']})"
        cells = [
            f"<a href=\"#action-{_e(m.action.id)}\">{_e(m.action.id)}</a>",
            _e(m.kpi.title),
            _e(value),
            _e(target_words(m)),
            _rag_html(rag_words(m)),
            _e(variation_words(m)),
            _e(assurance_words(m)),
            _e(change_words(m.kpi, m.row.get("change_month"))),
            _e(trajectory_words(m)),
        ]
        out.append("<tr>" + "".join(
            f"<td{NUM if i in numeric else ''}>{c}</td>" for i, c in enumerate(cells)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _commentary_html(pack: Pack, action: Action) -> str:
    notes = pack.commentary(action)
    if not any(notes.values()):
        return f"<p class=\"muted\">No commentary recorded for {_e(pack.month_label)}.</p>"
    items = "".join(f"<dt>{_e(label)}</dt><dd>{_e(notes[key] or NO_VALUE)}</dd>" for key, label in COMMENTARY_FIELDS)
    return f"<dl class=\"commentary\">{items}</dl>"


def html_text(pack: Pack) -> str:
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    config = {"displayModeBar": False, "responsive": True, "displaylogo": False}
    body: list[str] = []
    body.append(f"<header><h1>{_e(pack.title)}</h1>")
    body.append(f"<p class=\"meta\">{_e(pack.month_label)} · {_e(pack.area_label)} · produced "
                f"{pack.produced:%d %B %Y %H:%M}</p>")
    body.append(f"<p class=\"meta version\">{_e(pack.version)} · {_e(pack.revised_words)}</p>")
    body.append(f"<p class=\"notice\">{_e(pack.version_words)}."
                + (f" {_e(SUPPRESSION_RULE)}" if pack.suppress else "") + "</p></header>")
    toc = "".join(f"<li><a href=\"#action-{_e(a.id)}\">{_e(a.id)} · {_e(a.title)}</a></li>" for a in pack.plan.actions)
    body.append(f"<nav class=\"toc\" aria-label=\"Contents\"><h2>Contents</h2><ul><li><a href=\"#summary\">Summary</a></li>"
                f"{toc}<li><a href=\"#notes\">Notes</a></li></ul></nav>")
    body.append(f"<section id=\"summary\" class=\"summary\"><h2>Summary for {_e(pack.month_label)}</h2>")
    body.append(_summary_html(pack))
    body.append("</section>")
    body.append(_revised_html(pack))

    n_charts = 0
    for action in pack.plan.actions:
        body.append(f"<section class=\"action\" id=\"action-{_e(action.id)}\">")
        body.append(f"<h2>{_e(action.id)} · {_e(action.title)}</h2>")
        body.append(f"<p class=\"meta\">Owner: {_e(action.owner)} · due {_e(action.due)} · status: "
                    f"<strong>{_e(action.status)}</strong></p>")
        body.append(f"<h3>Commentary for {_e(pack.month_label)}</h3>")
        body.append(_commentary_html(pack, action))
        for m in pack.measures_of(action):
            heading = (f"<h3>{_e(m.kpi.title)}</h3><p class=\"muted\">{_e(m.kpi.description)} "
                       f"Target: {_e(target_words(m))}; {_e(direction_words(m.kpi).lower())}.</p>"
                       f"<p class=\"verdict\">{_e(verdict_words(m))}</p>")
            if not m.has_figures:
                body.append(f"<div class=\"kpi\">{heading}<p>No figures for this selection up to "
                            f"{_e(pack.month_label)}.</p></div>")
                continue
            made = _figure(pack, m)
            if made is None:
                chart_html = "<p>No chart: every month is suppressed (small numbers).</p>"
            else:
                _title, fig = made
                n_charts += 1
                div_id = f"chart-{re.sub(r'[^A-Za-z0-9_-]', '-', action.id)}-{m.kpi.name}"
                alt = charts.alt_text(fig)
                chart_html = (
                    f"<figure class=\"chart\" aria-describedby=\"{div_id}-alt\">"
                    + pio.to_html(fig, full_html=False, include_plotlyjs=False, config=config, div_id=div_id)
                    + f"<figcaption id=\"{div_id}-alt\" class=\"sr-only\">{_e(alt)}</figcaption></figure>"
                )
            body.append(f"<div class=\"kpi\">{heading}{chart_html}{_monthly_table(m)}</div>")
        body.append("</section>")

    body.append("<section id=\"notes\" class=\"notes\"><h2>Notes</h2><dl class=\"commentary\">")
    body += [f"<dt>{_e(label)}</dt><dd>{_e(text)}</dd>" for label, text in notes_lines(pack)]
    body.append("</dl><h3>Extracts used (loaded imports)</h3>")
    if pack.imports.empty:
        body.append("<p>No extract is loaded.</p>")
    else:
        rows = "".join(
            f"<tr><td>{_e(r['period'])}</td><td>{_e(r['file_name'])}</td><td class=\"num\">{int(r['import_id'])}</td>"
            f"<td>{_e(pd.Timestamp(r['imported_at']).strftime('%Y-%m-%d %H:%M'))}</td></tr>"
            for r in pack.imports.to_dict("records")
        )
        body.append("<table class=\"imports\"><thead><tr><th scope=\"col\">Period</th><th scope=\"col\">File name</th>"
                    f"<th scope=\"col\" class=\"num\">Import</th><th scope=\"col\">Imported at</th></tr></thead>"
                    f"<tbody>{rows}</tbody></table>")
    body.append("<h3>Definitions of the measures</h3><table class=\"definitions\"><thead><tr><th scope=\"col\">Measure</th>"
                "<th scope=\"col\">Action</th><th scope=\"col\">Target</th><th scope=\"col\">Definition</th></tr></thead><tbody>")
    body += [f"<tr><td>{_e(m.kpi.title)} <span class=\"muted\">({_e(m.kpi.name)})</span></td><td>{_e(m.action.id)}</td>"
             f"<td>{_e(target_words(m))}, {_e(direction_words(m.kpi).lower())}</td><td>{_e(m.kpi.description)}</td></tr>"
             for m in pack.measures]
    body.append("</tbody></table></section>")

    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<meta name=\"generator\" content=\"csc dashboard\"><meta name=\"csc-charts\" content=\"{n_charts}\">"
        f"<title>{_e(pack.title)} — {_e(pack.month_label)} — {_e(pack.area_label)}</title>"
        f"<style>{CSS}</style>"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script>"
        "</head><body>" + "\n".join(body) + "</body></html>\n"
    )


def build_html(cur: duckdb.DuckDBPyConnection, plan: Plan, period: str, areas=None, role: str = "director",
               produced: dt.datetime | None = None) -> str:
    """The pack as one self-contained HTML page (plotly embedded once, no network needed)."""
    return html_text(collect(cur, plan, period, areas, role, produced))


# --- files ------------------------------------------------------------------------------------


def file_name(period: str, areas=None, role: str = "board", suffix: str = ".xlsx") -> str:
    """A file name saying what the pack is, e.g. board-pack-2011-06-north-board.xlsx."""
    parts = ["board-pack", period]
    if areas:
        parts.append("-".join(re.sub(r"[^a-z0-9]+", "-", a.lower()).strip("-") for a in areas)[:60])
    parts.append(role)
    return "-".join(p for p in parts if p) + suffix


def write(path, cur: duckdb.DuckDBPyConnection, plan: Plan, period: str, areas=None, role: str = "director",
          produced: dt.datetime | None = None) -> Path:
    """Write the pack to `path`: an Excel workbook for .xlsx, an HTML report for .html/.htm."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        data: bytes = build_excel(cur, plan, period, areas, role, produced)
    elif suffix in (".html", ".htm"):
        data = build_html(cur, plan, period, areas, role, produced).encode("utf-8")
    else:
        raise ValueError(f"The board pack is written as .xlsx or .html, not {suffix or 'a file without a suffix'}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path

