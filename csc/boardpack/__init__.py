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

The package's modules: `content` (what the pack shows: `collect`, `Pack`, `Measure`), `words`
(its figures in words), `excel`, `html` (with the template `csc/templates/boardpack.html`) and
`files`. Their public names are all here.
"""

from __future__ import annotations

from csc.boardpack.content import (
    Measure,
    Pack,
    ROLES,
    collect,
)
from csc.exports import XLSX_MIME
from csc.boardpack.words import (
    COMMENTARY_FIELDS,
    COMMENTARY_SHEET,
    NOTES_SHEET,
    NO_VALUE,
    REVISED_COLUMNS,
    SUMMARY_HEADER_ROW,
    SUMMARY_SHEET,
    SUPPRESSION_RULE,
    assurance_words,
    change_words,
    direction_words,
    month_of,
    notes_lines,
    rag_words,
    target_words,
    trajectory_words,
    value_words,
    variation_words,
    verdict_words,
)
from csc.boardpack.excel import (
    CHART_VALUE_COLUMN,
    MONTHLY_COLUMNS,
    REVISED_SHEET,
    SUMMARY_COLUMNS,
    SUMMARY_PRINTED_COLUMNS,
    action_sheet_names,
    build_excel,
    excel_bytes,
)
from csc.boardpack.html import (
    CHART_PLOT_HEIGHT,
    MONTHS_PER_TABLE_ROW,
    NUM,
    build_html,
    html_text,
)
from csc.boardpack.files import (
    file_name,
    write,
)

__all__ = [
    "Measure",
    "Pack",
    "ROLES",
    "collect",
    "COMMENTARY_FIELDS",
    "COMMENTARY_SHEET",
    "NOTES_SHEET",
    "NO_VALUE",
    "REVISED_COLUMNS",
    "SUMMARY_HEADER_ROW",
    "SUMMARY_SHEET",
    "SUPPRESSION_RULE",
    "XLSX_MIME",
    "assurance_words",
    "change_words",
    "direction_words",
    "month_of",
    "notes_lines",
    "rag_words",
    "target_words",
    "trajectory_words",
    "value_words",
    "variation_words",
    "verdict_words",
    "CHART_VALUE_COLUMN",
    "MONTHLY_COLUMNS",
    "REVISED_SHEET",
    "SUMMARY_COLUMNS",
    "SUMMARY_PRINTED_COLUMNS",
    "action_sheet_names",
    "build_excel",
    "excel_bytes",
    "CHART_PLOT_HEIGHT",
    "MONTHS_PER_TABLE_ROW",
    "NUM",
    "build_html",
    "html_text",
    "file_name",
    "write",
]
