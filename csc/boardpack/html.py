"""The board pack as one self-contained HTML page (plotly XmR charts, prints to PDF). Every text
is escaped.

The page's frame and its style sheet are the template ``csc/templates/boardpack.html``, filled with
`string.Template`: ``$title``, ``$n_charts``, ``$plotlyjs`` and ``$body`` (values already escaped or
HTML made here; a literal dollar sign in the template is ``$$``)."""

from __future__ import annotations

import datetime as dt
import html
import re
import string
import textwrap
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from csc import charts, privacy, report, spc, status, verdict, wording
from csc.plan import Action, Plan
from csc.boardpack.content import Measure, Pack, _hidden, _num, collect
from csc.boardpack.words import (
    COMMENTARY_FIELDS,
    NO_VALUE,
    REVISED_COLUMNS,
    SUPPRESSION_RULE,
    _applies,
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


# --- HTML -------------------------------------------------------------------------------------

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "boardpack.html"
NUM = ' class="num"'


@cache
def _page() -> string.Template:
    """The page's template (read once)."""
    return string.Template(TEMPLATE.read_text(encoding="utf-8"))


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _rag_html(words: str) -> str:
    if words in wording.RAG_WORDS.values():
        return f'<span class="rag rag-{words.lower()}">{_e(words)}</span>'
    return _e(words)


def _figure(pack: Pack, m: Measure) -> tuple[str, object] | None:
    """The XmR chart of a measure (None when no month has a value to chart)."""
    if not m.has_values:
        return None
    df = report.through(m.monthly, pack.period)  # a series ending before the pack's month: "no value for" it
    periods = list(df["period"])
    values = [_num(v) for v in df["value"]]
    # the ratings from the true figures; for the board, a chart of the published months only
    true_df = report.through(m.true_monthly, pack.period) if m.true_monthly is not None else df
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
        head = "".join(f"<th scope=\"col\" class=\"num\">{_e(wording.month_short(r['period']))}</th>" for r in chunk)
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
            _e(wording.measure_title(m.kpi, pack.areas)),
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
        derived = pack.status_of(action)
        body.append(f"<p class=\"meta\">Owner: {_e(action.owner)} · due {_e(action.due)} · status from the figures: "
                    f"<strong>{_e(derived.status)}</strong> · "
                    f"{status.comparison(action.status, derived, mark=lambda s: f'<b>{_e(s)}</b>', esc=_e)}</p>")
        body.append(f"<h3>Commentary for {_e(pack.month_label)}</h3>")
        body.append(_commentary_html(pack, action))
        for m in pack.measures_of(action):
            heading = (f"<h3>{_e(wording.measure_title(m.kpi, pack.areas))}</h3><p class=\"muted\">{_e(m.kpi.description)} "
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

    return _page().substitute(
        n_charts=n_charts,
        title=f"{_e(pack.title)} — {_e(pack.month_label)} — {_e(pack.area_label)}",
        plotlyjs=get_plotlyjs(),
        body="\n".join(body),
    )


def build_html(cur: duckdb.DuckDBPyConnection, plan: Plan, period: str, areas=None, role: str = "director",
               produced: dt.datetime | None = None, period_from: str | None = None) -> str:
    """The pack as one self-contained HTML page (plotly embedded once, no network needed)."""
    return html_text(collect(cur, plan, period, areas, role, produced, period_from))
