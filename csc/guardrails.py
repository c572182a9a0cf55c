"""Guardrails on a month's upload: warnings that name their consequence, and the default month.

Warnings never block a load (errors do). Each carries a machine-readable `code` (listed, with its
wording, in `docs/extract-format.md`; `CODES` is the list a test checks the page against).

Which KPIs a sheet or column feeds is read from the KPI SQL files (`queries/kpis/*.sql`), not
kept by hand: a KPI is fed by a sheet when its SQL reads `cur_<sheet>`, and by one of that
sheet's columns when the column is named in the same CTE (the `name as (...)` block) that reads
the table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from functools import lru_cache

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from csc import spec, workdays
from csc.extract import Extract, Problem
from csc.months import add_months, month_of, months_between, period_end, period_label

# code -> what it warns of (the wording lives in the functions below and in the docs)
CODES = {
    "sheet_ignored": "a sheet that is not part of the extract was ignored",
    "sheet_empty": "a recognised sheet is empty and was skipped",
    "sheet_chart": "a sheet named as a sheet of the extract is a chart, and was skipped",
    "columns_ignored": "columns that are not part of the extract were ignored",
    "sheet_no_rows": "a sheet has a header row but no data rows",
    "sheet_hidden": "a sheet read is hidden in Excel",
    "excel_errors": "cells hold an Excel error (#N/A, #REF!, ...), read as blank",
    "formulas_without_values": "cells hold a formula with no saved result, read as blank",
    "worker_unknown": "rows name a worker no loaded workforce row knows",
    "column_missing": "an optional column that feeds KPIs is missing",
    "sheet_missing": "a sheet the previous month's import had, which feeds KPIs, is missing",
    "period_loaded": "the month is already loaded: this load updates it (with the difference)",
    "period_dates": "most of the file's event dates fall in another month",
    "period_no_dates": "none of the file's event dates falls in the month chosen (spread over other months)",
    "period_later_dates": "event dates fall after the month following the month chosen",
    "period_file_name": "the file name names another month",
    "period_skipped": "a month between this one and the nearest loaded month is not loaded",
    "period_late": "a month long past is loaded for the first time: its data-timeliness figure will be large",
    "area_office_new": "rows name an area office no loaded record and no establishment list knows",
    "ids_leading_zeros": "an id with leading zeros and the same id without them are both in the file",
    "funded_fte_large": "a team's funded FTE is larger than any team's could be (hours or a total, not FTE?)",
    "establishment_vs_staff": "the funded FTE add up to many times the FTE in post (ten times over, or listed twice?)",
    "census_beside_workforce": "a census's unlinked workers would be counted beside the loaded workforce sheets' workers",
    # what the readers of other sources (Annex A, the SSD, the workforce census) read, and left
    "teams_not_checked": "an Annex A or SSD file was checked with no database to look its teams up in",
    "teams_unmapped_listed": "a refused file's teams with no area office are now listed on the Teams page",
    "teams_unmapped_not_listed": "a read-only check could not list the teams with no area office on the Teams page",
    "annex_a_read": "what an Annex A list was read as: its columns, and those not used",
    "annex_a_lists_ignored": "Annex A lists the dashboard does not read were ignored",
    "annex_a_sheets_ignored": "sheets that are not Annex A lists were ignored",
    "annex_a_sheets_by_title": "the lists were found by their titles, not by the names List 1 ... List 11",
    "annex_a_column_near_miss": "a column's heading is close to one read, but not one of them, so it was not used",
    "annex_a_rows_repeated": "rows that repeat an earlier row exactly were ignored",
    "annex_a_no_team": "rows with no allocated team count under the area office for no team",
    "annex_a_kpis_not_fed": "KPIs that need the extract's own sheets get nothing from an Annex A file",
    "annex_a_workers_inferred": "changes of social worker are inferred from successive Annex A imports",
    "ssd_read": "which SSD tables were read, as which sheets, with their rows",
    "ssd_table_ignored": "a file in the SSD zip is not a table the dashboard reads and was ignored",
    "ssd_sheet_ignored": "a sheet that is neither an SSD table nor a sheet of the extract was ignored",
    "ssd_sheet_and_table": "a sheet of the extract and an SSD table give the same records: the sheet was used",
    "ssd_other_roles": "involvements of professionals other than the allocated social worker were left out",
    "ssd_change_reason_unknown": "a change of worker gives a reason that is not one of the codes; it was left blank",
    "ssd_kpis_not_fed": "KPIs the SSD has no source for stay empty",
    "census_read": "what a workforce census was read as, and the month it loads as",
    "census_schema_unread": "a census breaks its schema in a field the dashboard does not read",
    "census_period": "a census is checked or loaded as its census date's month, not the month typed",
}

# Dates that say when something happened (not snapshots such as a worker's start date).
EVENT_DATES = {
    "referrals": ("referral_date",),
    "assessments": ("start_date", "completed_date"),
    "cp_plans": ("start_date", "end_date"),
    "transfers": ("requested_date", "accepted_date"),
    "audits": ("audit_date",),
    "supervisions": ("supervision_date",),
}
NO_DATES_MIN = 3  # event dates in a file before none in its month is worth a word (`period_no_dates`)
FILE_MONTH = re.compile(r"(?<!\d)(19\d\d|20\d\d)[-_ .]?(0[1-9]|1[0-2])(?!\d)")
_PROJECTION = re.compile(r"^\s*(?:[a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*(?:\s+as\s+[a-z_][a-z0-9_]*)?\s*,?\s*$")


# --- which KPIs a sheet or column feeds ----------------------------------------------------


@lru_cache(maxsize=4)
def _feeds(mtimes: tuple) -> dict[str, dict[str, set[str]]]:
    from csc import kpis

    out: dict[str, dict[str, set[str]]] = {s: {"*": set()} for s in spec.SHEETS}
    for kpi in kpis.registry().values():
        chunks = kpis.sql_blocks(kpi.sql)
        sql = "".join(chunks)
        # words used other than in a bare projection (`col,` or `x.col as col,`): a column only
        # passed through to the records (team, worker_id for drill-down) does not make the figure
        used = set(re.findall(r"[a-z_][a-z0-9_]*", "\n".join(
            line for line in sql.splitlines() if not _PROJECTION.match(line))))
        for name, sheet in spec.SHEETS.items():
            table = re.compile(rf"\bcur_{name}\b")
            for chunk in chunks:
                if not table.search(chunk):
                    continue
                out[name]["*"].add(kpi.name)
                words = set(re.findall(r"[a-z_][a-z0-9_]*", chunk))
                for col in sheet.column_names:
                    if col in words and col in used:
                        out[name].setdefault(col, set()).add(kpi.name)
    return out


def feeds(sheet: str, column: str | None = None) -> list[str]:
    """The KPIs (by name, sorted) that read a sheet, or one of its columns."""
    from csc import kpis

    key = tuple((name, kpi.sql) for name, kpi in kpis.registry().items())  # staging included
    return sorted(_feeds(key).get(sheet, {}).get(column or "*", set()))


def _titles(names: list[str]) -> str:
    from csc import kpis, wording

    return wording.joined([f"*{kpis.get(n).title}*" for n in names])


# --- the warnings --------------------------------------------------------------------------


def _w(code: str, message: str, **kw) -> Problem:
    return Problem("warning", message, code=code, **kw)


def missing_columns(extract: Extract, period: str) -> list[Problem]:
    """An optional column absent from a sheet that is there, when the column feeds a KPI."""
    out = []
    for name, data in extract.sheets.items():
        if data.table is None or not data.headers and data.rows == 0:
            continue
        for col in data.spec.columns:
            if col.required or col.name in data.headers:
                continue
            fed = feeds(name, col.name)
            if fed:
                out.append(_w(
                    "column_missing",
                    f"`{col.name}` is missing from sheet \"{data.title}\": {_titles(fed)} will have no value for "
                    f"{period} from this file.",
                    sheet=data.title, column=col.name, expected="a column headed " + " or ".join(
                        f'"{h}"' for h in col.headers),
                ))
    return out


def _previous_import(cur: duckdb.DuckDBPyConnection, period: str) -> tuple | None:
    rows = cur.execute(
        "select import_id, period, row_counts from imports where status = 'loaded' and period < $p "
        "order by period desc, import_id desc limit 1", {"p": period}).fetchall()
    return rows[0] if rows else None


def missing_sheets(cur: duckdb.DuckDBPyConnection, extract: Extract, period: str) -> list[Problem]:
    """A sheet that the previous month's import had, that feeds KPIs, absent from this file."""
    import json

    prev = _previous_import(cur, period)
    if prev is None or getattr(extract, "source_format", "extract") != "extract":
        return []
    had = [s for s, n in json.loads(prev[2]).items() if n]
    out = []
    for name in had:
        if name in extract.sheets or name not in spec.SHEETS:
            continue
        fed = feeds(name)
        if fed:
            out.append(_w(
                "sheet_missing",
                f"The `{name}` sheet is missing (import {prev[0]} for {prev[1]} had it): {_titles(fed)} will have no "
                f"new {name} records for {period}; only records already loaded count.",
                sheet=name,
            ))
    return out


def already_loaded(cur: duckdb.DuckDBPyConnection, extract: Extract, period: str, key: bytes | None) -> list[Problem]:
    """The month is already loaded: say by whom and when, and what this load changes."""
    rows = cur.execute(
        "select import_id, imported_at, user_name, file_name from imports where status = 'loaded' and period = $p "
        "order by import_id desc", {"p": period}).fetchall()
    if not rows:
        return []
    import_id, at, user, file_name = rows[0]
    changed, new, gone = difference(cur, extract, import_id, key)
    when = f"{at.day} {at:%b %Y}"
    return [_w(
        "period_loaded",
        f"{period} is already loaded (import {import_id}, {when} by {user}, from \"{file_name}\"): this load updates "
        f"it; {_rows(changed, 'changes', 'change')}, {new:,} {'is' if new == 1 else 'are'} new, {gone:,} "
        f"{'is' if gone == 1 else 'are'} not in this file and stay{'s' if gone == 1 else ''} current as import "
        f"{import_id} loaded {'it' if gone == 1 else 'them'}"
        + (f" (roll import {import_id} back first if {'it' if gone == 1 else 'they'} should go)." if gone else "."),
        value=str(import_id),
    )]


def _rows(n: int, one: str, many: str) -> str:
    return f"1 row {one}" if n == 1 else f"{n:,} rows {many}"


def difference(cur: duckdb.DuckDBPyConnection, extract: Extract, import_id: int, key: bytes | None) -> tuple[int, int, int]:
    """(rows that change, rows that are new, rows of the earlier import not in this file), by key,
    comparing every column of the contract (a column the file lacks counts as blank)."""
    from csc.pseudonyms import pseudonymise

    changed = new = gone = 0
    for name, sheet in spec.SHEETS.items():
        keys = list(sheet.key)
        data = extract.sheets.get(name)
        if data is None or data.table is None:
            gone += cur.execute(f"select count(*) from raw_{name} where import_id = $id",
                                {"id": import_id}).fetchall()[0][0]
            continue
        table = pseudonymise(data.table, key, data.pseudonyms) if key is not None else data.table
        cur.register("incoming_diff", table)
        try:
            present = set(table.column_names)
            new_col = {col: (f"n.{col}" if col in present else "null") for col in sheet.column_names}
            join = " and ".join(f"o.{k} = n.{k}" for k in keys)
            differs = " or ".join(f"o.{col} is distinct from {new_col[col]}" for col in sheet.column_names
                                  if col not in keys)
            old = f"(select * from raw_{name} where import_id = {int(import_id)})"
            changed += cur.execute(f"select count(*) from {old} as o join incoming_diff as n on {join} "
                                   f"where {differs or 'false'}").fetchall()[0][0]
            new += cur.execute(f"select count(*) from incoming_diff as n anti join {old} as o on {join}").fetchall()[0][0]
            gone += cur.execute(f"select count(*) from {old} as o anti join incoming_diff as n on {join}").fetchall()[0][0]
        finally:
            cur.unregister("incoming_diff")
    return changed, new, gone


def dates_month(extract: Extract) -> tuple[str | None, int, int]:
    """(the month holding most of the file's event dates when more than half of them, that month's
    count, all event dates); (None, ...) when no month holds more than half."""
    return _most(date_months(extract))


def _most(counts: Counter[str]) -> tuple[str | None, int, int]:
    """`dates_month` of the months' counts `date_months` gives."""
    total = sum(counts.values())
    if not total:
        return None, 0, 0
    month, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    return (month if n * 2 > total else None), n, total


def date_months(extract: Extract) -> Counter[str]:
    """How many of the file's event dates fall in each month ("YYYY-MM")."""
    counts: Counter[str] = Counter()
    for name, cols in EVENT_DATES.items():
        data = extract.sheets.get(name)
        if data is None or data.table is None:
            continue
        for col in cols:
            if col in data.table.column_names:
                column = data.table.column(col)
                if not len(column):
                    continue
                days = pc.value_counts(column.drop_null())  # each distinct day once, then its month
                months = pc.strftime(days.field("values"), format="%Y-%m").to_pylist()
                for month, n in zip(months, days.field("counts").to_pylist()):
                    counts[month] += n
    return counts


def file_name_month(name: str | None) -> str | None:
    if not name:
        return None
    from pathlib import Path

    found = {f"{y}-{m}" for y, m in FILE_MONTH.findall(Path(name).stem)}
    return found.pop() if len(found) == 1 else None


def period_mismatch(extract: Extract, period: str, file_name: str | None) -> list[Problem]:
    out = []
    counts = date_months(extract)  # once: a count of every event date column's days
    month, n, total = _most(counts)
    if month is not None and month != period:
        out.append(_w(
            "period_dates",
            f"{n:,} of the file's {total:,} event dates fall in {month}, not {period}: check the reporting month "
            f"(is this {month}'s extract?).",
            value=month, expected=period,
        ))
    elif total >= NO_DATES_MIN and not counts.get(period):
        # spread over other months, none in this one: a wrong month, or dates written month first
        # (a review's 11/02/2026 ... 11/10/2026, November's audits, loaded as February to October)
        months = sorted(counts)
        out.append(_w(
            "period_no_dates",
            f"None of the file's {total:,} event dates falls in {period} (they run from {months[0]} to {months[-1]}): "
            "check the reporting month, and that dates typed as text are written day first (31/03/2012).",
            value=f"{months[0]} to {months[-1]}", expected=period,
        ))
    after = add_months(period, 1)  # an extract is made in the month after its own
    later = sorted(m for m in counts if m > after)
    if later and not (month is not None and month > after):  # (else said above: most dates are later)
        n_later = sum(counts[m] for m in later)
        out.append(_w(
            "period_later_dates",
            f"{n_later:,} of the file's {total:,} event dates fall after {after} (from {later[0]} to {later[-1]}), "
            f"though an extract for {period} is made in {after} at the latest: check those dates (a date typed as "
            "text is read day first: 04/11/2012 is 4 November) and the reporting month.",
            value=f"{later[0]} to {later[-1]}", expected=f"{after} or before",
        ))
    named = file_name_month(file_name)
    if named is not None and named != period:
        out.append(_w(
            "period_file_name",
            f"The file name \"{file_name}\" names {named}, not {period}: check the reporting month.",
            value=named, expected=period,
        ))
    return out


def skipped(cur: duckdb.DuckDBPyConnection, period: str) -> list[Problem]:
    loaded = [r[0] for r in cur.execute(
        "select distinct period from imports where status = 'loaded' order by period").fetchall()]
    if not loaded or period in loaded:
        return []
    before = [p for p in loaded if p < period]
    after = [p for p in loaded if p > period]
    out = []
    if before and months_between(before[-1], period):
        gap = months_between(before[-1], period)
        out.append(_w(
            "period_skipped",
            f"{before[-1]} is loaded but {_months(gap)} {'is' if len(gap) == 1 else 'are'} not: the KPIs have no "
            f"figure of {'its' if len(gap) == 1 else 'their'} own for {'it' if len(gap) == 1 else 'them'} until "
            f"{'it is' if len(gap) == 1 else 'they are'} loaded.",
            value=", ".join(gap),
        ))
    if after and months_between(period, after[0]):
        gap = months_between(period, after[0])
        out.append(_w(
            "period_skipped",
            f"{after[0]} is loaded but {_months(gap)} {'is' if len(gap) == 1 else 'are'} not: this load leaves a gap "
            "in the monthly series.",
            value=", ".join(gap),
        ))
    return out


def _months(months: list[str]) -> str:
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def late(cur: duckdb.DuckDBPyConnection, period: str, today: dt.date) -> list[Problem]:
    """A month first loaded after the month following it is over: its data-timeliness figure (the
    working days from its last day to its first load) will be large."""
    from csc import kpis

    loaded = cur.execute("select count(*) from imports where status = 'loaded' and period = $p",
                         {"p": period}).fetchall()[0][0]
    if loaded or period >= add_months(month_of(today), -1):
        return []
    days = workdays.wd(period_end(period), today)
    kpi = kpis.get("data_timeliness_days")
    target = f", against a target of {kpi.target:g}" if kpi.target is not None else ""
    return [_w(
        "period_late",
        f"{period} ended {days:,} working days ago and is loaded for the first time: its *{kpi.title}* figure "
        f"will be {days:,} days{target}.",
        value=str(days),
    )]


def leading_zeros(extract: Extract) -> list[Problem]:
    """Ids of one kind (a column name: child_id, worker_id, ...) written both with leading zeros and
    without them in the file ("013944" on one sheet, 13944 on another): Excel drops the zeros of an
    id typed as a number, and the two would count as two children (a review loaded such a file
    without a word). Said per column name, with how many ids and one of each spelling."""
    ids: dict[str, list[tuple[str, pa.ChunkedArray]]] = {}
    for data in extract.sheets.values():
        if data.table is None:
            continue
        for c in data.spec.columns:
            if c.type == spec.ID and c.name in data.table.column_names:
                ids.setdefault(c.name, []).append((data.title, data.table.column(c.name)))
    out = []
    for name, columns in ids.items():
        padded: dict[str, tuple[str, str]] = {}  # the id without its zeros -> (as written, sheet)
        for title, col in columns:
            for v in pc.unique(col.filter(pc.match_substring_regex(col, r"^0+[0-9]+$"))).to_pylist():
                padded.setdefault(v.lstrip("0") or "0", (v, title))
        if not padded:
            continue
        bare = pa.array(list(padded))
        found = []
        for title, col in columns:
            for v in pc.unique(col.filter(pc.is_in(col, value_set=bare))).to_pylist():
                found.append((v, title))
        if found:
            v, title = found[0]
            zeros, other = padded[v]
            out.append(_w(
                "ids_leading_zeros",
                f'{len({v for v, _ in found}):,} {name} value(s) are written both with leading zeros and without them, '
                f'such as "{zeros}" (sheet "{other}") and "{v}" (sheet "{title}"): they count as different ids. Excel '
                f"drops the leading zeros of an id typed as a number: format the {name} columns as Text in the case "
                "system's export (or in Excel, before typing), and upload again.",
                column=name, value=v, expected=zeros,
            ))
    return out


#: A team's funded FTE above this is said (`funded_fte_large`): more than any English council's
#: children's social work staff in one team. The spec's "number >= 0" gives no maximum, so it is a
#: warning, not an error (docs/extract-format.md).
FUNDED_FTE_MAX = 500


def large_funded_fte(extract: Extract) -> list[Problem]:
    """Establishment rows whose funded FTE is beyond any team's: hours typed for FTE (37 a full-time
    post: a team of 14 posts is 518), a service's total on one row, or a slip (1e308 on two rows
    summed to infinity in the vacancy rate). Said once for the sheet, with how many rows and the
    largest."""
    data = extract.sheets.get("establishment")
    if data is None or data.table is None or "funded_fte" not in data.table.column_names:
        return []
    fte = data.table.column("funded_fte")
    big = pc.fill_null(pc.greater(fte, FUNDED_FTE_MAX), False)
    n = pc.sum(big).as_py() or 0
    if not n:
        return []
    i = pc.index(fte, pc.max(fte)).as_py()
    row = data.table.column("excel_row")[i].as_py() if "excel_row" in data.table.column_names else None
    team = data.table.column("team")[i].as_py() if "team" in data.table.column_names else None
    largest = fte[i].as_py()
    return [_w(
        "funded_fte_large",
        f'Sheet "{data.title}": {n:,} row(s) give a team a funded FTE above {FUNDED_FTE_MAX:,}, the largest '
        f'{largest:,.6g} (team "{team}"): more than any team could have. Check that the column holds FTE (1 for a '
        "full-time post), not hours or a total for the service: the vacancy rate is worked out from it.",
        sheet=data.title, row=row, column="funded_fte", value=f"{largest:g}", expected=f"at most {FUNDED_FTE_MAX:,}",
    )]


#: Funded FTE more than this many times the FTE in post in the same file is said
#: (`establishment_vs_staff`): a vacancy rate above 60%, where England's is about a fifth.
FUNDED_TO_STAFF_MAX = 2.5


def establishment_vs_staff(extract: Extract, period: str) -> list[Problem]:
    """The establishment's funded FTE against the FTE of the file's own workforce in post at the
    month's end: many times more is FTE typed ten times over (160 for 16), or a team listed twice,
    and would load with no word (a red-team review: the vacancy rate went from 13.0% to 91.3%)."""
    est, wf = extract.sheets.get("establishment"), extract.sheets.get("workforce")
    if est is None or est.table is None or wf is None or wf.table is None or "funded_fte" not in est.table.column_names:
        return []
    funded = pc.sum(est.table.column("funded_fte")).as_py() or 0.0
    t, end = wf.table, period_end(period)
    # in post at the month's end as the workforce KPIs count (`stg_workers_in_post`): leaving after it
    in_post = pc.greater(pc.fill_null(t.column("end_date"), dt.date.max), pa.scalar(end)) \
        if "end_date" in t.column_names else pa.array([True] * t.num_rows)
    if "start_date" in t.column_names:
        in_post = pc.and_(in_post, pc.fill_null(pc.less_equal(t.column("start_date"), pa.scalar(end)), True))
    staff = pc.sum(pc.filter(t.column("fte"), in_post)).as_py() or 0.0  # fte: a required column
    if staff <= 0 or funded <= FUNDED_TO_STAFF_MAX * staff:
        return []
    return [_w(
        "establishment_vs_staff",
        f'Sheet "{est.title}": the teams\' funded FTE add up to {funded:,.1f}, {funded / staff:,.1f} times the '
        f'{staff:,.1f} FTE in post at the end of {period_label(period)} on sheet "{wf.title}": a vacancy rate of '
        f"{100 * (1 - staff / funded):.0f}% or more. Check that the funded FTE are FTE (1 for a full-time post, "
        "not hours or ten times over) and that no team or total is listed twice.",
        sheet=est.title, column="funded_fte", value=f"{funded:g}", expected=f"at most {FUNDED_TO_STAFF_MAX:g} times "
        "the FTE in post",
    )]


def new_area_offices(cur: duckdb.DuckDBPyConnection, extract: Extract) -> list[Problem]:
    """Area offices the file names that neither the loaded records nor any establishment list (the
    file's or the loaded one) knows: each would become an area office in every filter and chart,
    the board's included (a review loaded "Fenlnad" and a 10,000-character name without a word).
    Nothing is said with no establishment list, loaded or in the file: there is nothing to compare with."""
    listed = {r[0] for r in cur.execute("select distinct area_office from cur_establishment "
                                        "where area_office is not null").fetchall()}
    data = extract.sheets.get("establishment")
    if data is not None and data.table is not None and "area_office" in data.table.column_names:
        listed |= {v for v in pc.unique(data.table.column("area_office")).to_pylist() if v}
    if not listed:  # no establishment list, loaded or in the file: nothing to compare with
        return []
    known = set(listed)
    for sheet in spec.SHEETS.values():
        if sheet.name != "establishment" and any(c.name == "area_office" for c in sheet.columns):
            known |= {r[0] for r in cur.execute(f"select distinct area_office from cur_{sheet.name} "
                                                "where area_office is not null").fetchall()}
    rows: Counter = Counter()
    where: dict[str, str] = {}
    for name, data in extract.sheets.items():
        if name == "establishment" or data.table is None or "area_office" not in data.table.column_names:
            continue
        for item in pc.value_counts(data.table.column("area_office")).to_pylist():  # distinct names, counted
            v = item["values"]
            if v and v not in known:
                rows[v] += item["counts"]
                where.setdefault(v, data.title)
    if not rows:
        return []

    def named(v: str) -> str:
        shown = v if len(v) <= 40 else f"{v[:40]}… ({len(v):,} characters)"
        return f'"{shown}" ({rows[v]:,} row{"s" if rows[v] != 1 else ""}, sheet "{where[v]}")'

    names = "; ".join(named(v) for v, _ in rows.most_common(5)) + (f"; and {len(rows) - 5:,} more" if len(rows) > 5 else "")
    return [_w(
        "area_office_new",
        f"{len(rows):,} area office name(s) not seen before and on no establishment list: {names}. Each would "
        "become an area office in every filter and chart, the board's included: check the spelling, or add the "
        "office to the establishment sheet if it is new.",
        column="area_office", value=", ".join(list(rows)[:5])[:200],
    )]


def census_beside_workforce(cur: duckdb.DuckDBPyConnection, extract: Extract) -> list[Problem]:
    """A workforce census whose workers in post at its census date are not linked to the case
    system's (known by their Social Work England number only), loaded where the workforce sheets of
    other sources already list other workers in post that day: both are counted, so where they are
    the same people every workforce figure counts them twice (a review loaded a census beside the
    demo council's sheets and 98 published figures moved). Said before the load, with the numbers;
    whether they are the same people only the analyst can tell."""
    day = getattr(extract, "census_date", None)  # only a census has one (`csc.census.CensusExtract`)
    data = extract.sheets.get("workforce")
    if day is None or data is None or data.table is None:
        return []
    incoming = data.table.select(["worker_id", "start_date", "end_date"])
    unlinked = pc.is_in(incoming.column("worker_id"), value_set=pa.array(sorted(extract.unlinked), pa.string()))
    cur.register("_census_incoming", incoming.append_column("unlinked", unlinked))
    try:
        def in_post(t: str) -> str:  # as the KPIs' month-end snapshot has it (stg_workers_in_post)
            return f"{t}.start_date <= $day and coalesce({t}.end_date, '9999-12-31'::date) > $day"
        (census_n, census_first), = cur.execute(
            f"select count(*), min(c.start_date) from _census_incoming as c where c.unlinked and {in_post('c')}",
            {"day": day}).fetchall()
        (sheet_n, sheet_first), = cur.execute(
            f"select count(*), min(w.start_date) from cur_workforce as w join imports as i on i.import_id = w.import_id "
            f"where i.source_format <> $census and {in_post('w')} "
            "and w.worker_id not in (select worker_id from _census_incoming)",
            {"day": day, "census": extract.source_format}).fetchall()
    finally:
        cur.unregister("_census_incoming")
    if not census_n or not sheet_n:
        return []
    since = max(census_first, sheet_first).strftime("%Y-%m")
    return [_w(
        "census_beside_workforce",
        f"This census has {census_n:,} worker(s) in post on {day:%d/%m/%Y} that it cannot link to the case system "
        f"(no loaded SSD professionals table gives their Social Work England numbers), and the loaded workforce "
        f"sheets already list {sheet_n:,} other worker(s) in post that day. Both would be counted: where they are "
        "the same people, the workforce figures (agency, turnover, vacancies) count them twice, in every month both "
        f"list workers in post (from {since}). Load the SSD professionals table first to link them, or do not "
        "load this census beside the workforce sheets.",
        column="worker_id", value=f"{census_n} beside {sheet_n}",
    )]


def warnings(cur: duckdb.DuckDBPyConnection, extract: Extract, period: str | None, file_name: str | None = None,
             today: dt.date | None = None, key: bytes | None = None) -> list[Problem]:
    """Every guardrail warning for loading `extract` as `period` (none that need a period without one)."""
    out = missing_columns(extract, period or "the month")
    out += leading_zeros(extract)
    out += large_funded_fte(extract)
    out += new_area_offices(cur, extract)
    out += census_beside_workforce(cur, extract)
    if period is None:
        return out
    today = today or dt.date.today()
    out += missing_sheets(cur, extract, period)
    out += establishment_vs_staff(extract, period)
    out += already_loaded(cur, extract, period, key)
    out += period_mismatch(extract, period, file_name)
    out += skipped(cur, period)
    out += late(cur, period, today)
    return out


def default_period(cur: duckdb.DuckDBPyConnection, extract: Extract | None = None,
                   file_name: str | None = None) -> str | None:
    """The reporting month to offer: a file that fixes its own month (a workforce census: its census
    date's, whatever month is named), else the month the file's dates point to (most of its event
    dates), else the month its name names, else the month after the latest loaded one; never the
    clock's. None when there is nothing to go on."""
    fixed = getattr(extract, "period", None) if extract is not None else None
    if fixed:
        return fixed
    if extract is not None:
        month = dates_month(extract)[0]
        if month:
            return month
    named = file_name_month(file_name)
    if named:
        return named
    latest = cur.execute("select max(period) from imports where status = 'loaded'").fetchall()[0][0]
    return add_months(latest, 1) if latest else None


# --- for the Upload page -------------------------------------------------------------------

BLANK = "(blank)"
PROBLEM_COLUMNS = ("Problem", "Sheet", "Row", "Column", "Value found", "Expected")


def problems_table(problems: list[Problem]) -> pd.DataFrame:
    """The problems as the Upload page shows and downloads them: the plain-English problem first,
    then where (sheet, Excel row, column), the value found (a blank one as "(blank)") and what was
    expected (a problem about no one cell has no value). No cell says "None"."""
    rows = [{
        "Problem": p.message,
        "Sheet": p.sheet or "",
        "Row": p.row,
        "Column": p.column or "",
        "Value found": _found(p),
        "Expected": p.expected or "",
    } for p in problems]
    df = pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS))
    df["Row"] = df["Row"].astype("Int64")
    return df


def _found(p: Problem) -> str:
    if p.value is not None and str(p.value).strip() != "":
        return str(p.value)
    return BLANK if p.row is not None and p.column else ""  # a cell that is blank; else no cell at all
