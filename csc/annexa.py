"""Read Ofsted's Annex A workbook, which councils already produce for inspection, as an import.

Annex A is a set of lists of children ("List 1" contacts ... "List 11" adopters), one sheet
each, headed with Ofsted's published column names. Three of them carry what the dashboard's
contract sheets hold:

- **List 3 (referrals)** -> `referrals`
- **List 4 (assessments)** -> `assessments`, every one a "Single" (continuous) assessment
- **List 7 (child protection)** -> `cp_plans`

The other lists, and any other sheet, are ignored with a warning. The values are validated by
`csc.extract`'s own bulk validation in DuckDB (the same rules and messages as the extract), then
three things the lists lack are added, also in DuckDB:

- **keys**: Annex A has no referral, assessment or plan ids, so each record is identified by its
  list, its child and its date: `A3-<child>-<YYYYMMDD>` (referral date), `A4-...` (assessment
  start), `A7-...` (plan start). `<child>` is the keyed hash the store keeps instead of the child
  id (`csc.pseudonyms.pseudonymise`), so no child id reaches the database through a key. The same
  record in next month's list has the same key, so it updates rather than duplicates.
- **area office**: from the Allocated Team through the team -> area office mapping analysts
  keep on the Teams page (table `team_areas`). A file naming a team nobody has mapped is refused
  with an error naming the team(s); the teams are recorded in `team_areas` without an area so
  the Teams page lists them for mapping. Rows with no Allocated Team count under the area office
  "Not allocated".
- **assessment type**: "Single".

Changes of social worker (the two Action 3 KPIs) need involvements, which Annex A does not
have. Where no involvements sheet is loaded, `rebuild_inferred` infers them from the Allocated
Worker each child has on Lists 4 and 7 in successive monthly Annex A imports, into the table
`inferred_involvements` (same columns as `cur_involvements`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from csc import scratch, spec
from csc.annexa_lists import (
    EXTRACT_NAMED,
    LIST_TITLES,
    LISTS,
    MAX_SHOWN,
    NO_TEAM_AREA,
    SIDE_TABLES,
    TEAMS_PAGE,
    AnnexAExtract,
    AnnexList,
    error,
    rows_named,
    shown,
    teams_not_checked,
    warning,
    list_number,
    named_list,
    team_key,
)
from csc.annexa_tables import (  # noqa: F401 - the names other modules know Annex A's tables by
    SCHEMA,
    inferred_sql,
    inferred_summary,
    involvements_inferred,
    rebuild_inferred,
)
from csc.annexa_teams import (  # noqa: F401 - the names other modules know the mapping by
    MappingChanged,
    MappingError,
    last_change,
    mapping_seen,
    record_unmapped,
    save_team_areas,
    team_table,
)
from csc.extract import (
    MAX_PROBLEMS_PER_SHEET,
    Problem,
    SheetData,
    map_headers,
    inspect_once,
    open_reader,
    sheet_text,
    validate_values,
)
from csc.filesafety import (
    HEADER_SEARCH_ROWS,
    SAVE_AS,
    FileRefused,
    check_file,
    damaged,
    sheet_parts,
    sheet_too_big,
    workbook_sheets,
)
from csc.pseudonyms import hmac_sql, pads

# --- recognising the workbook ---------------------------------------------------------------


def is_annex_a(path: str | Path, original_name: str | None = None) -> bool:
    """Whether a workbook is an Annex A return: one of its sheets is named "List 1" ... "List 11";
    or, with none so named, its sheets are named after Annex A's lists ("Contacts", "Referrals",
    "Child Protection", ...) and either one of them is not an extract sheet or the headings of a
    "Referrals", "Assessments" or "Child Protection" sheet are Annex A's (no record id).
    Reads the file's list of sheets (and then the headings of those three: the reader parses the
    whole sheet to give them, so it is kept for the read that follows, `csc.extract.sheet_text`),
    after the same file checks as any upload; a file that fails them is not Annex A (the extract
    reader then says what is wrong with it)."""
    path = Path(path)
    name = original_name or path.name
    try:
        check_file(path, original_name)
        parts = sheet_parts(path, name)
    except Exception:
        return False
    if any(list_number(t) is not None for t in parts):
        return True
    named = {t: named_list(t) for t in parts if named_list(t) is not None}
    if not named:
        return False
    if any(spec.sheet_for(t) is not None and named_list(t) is None for t in parts):
        return False  # a sheet only the monthly extract has (Workforce, Transfers, ...): no need to look inside
    shared = {t: n for t, n in named.items() if n in EXTRACT_NAMED}
    if not shared:
        return True  # only lists the extract has no sheet for (Contacts, Early help, ...)
    # a Referrals, Assessments or Child Protection sheet decides, by its headings: an extract with
    # a summary tab named like a list ("Children in care") is still an extract (a review: it loaded
    # as Annex A, its record ids replaced and its other sheets dropped)
    try:
        return _headings_are_annex_a(path, name, parts, shared)
    except Exception:
        return False


def _headings_are_annex_a(path: Path, name: str, parts: dict[str, str], named: dict[str, int]) -> bool:
    """A "Referrals"/"Assessments"/"Child Protection" sheet whose header row names Annex A columns
    and not the extract's record id. The sheets are measured (bounded) before the reader opens them."""
    extents = inspect_once(path, name, {parts[t] for t in named}, {t: parts[t] for t in named})
    reader = open_reader(path, name)  # kept for the read that follows (`csc.extract.sheet_text`)
    for title, n in named.items():
        extent = extents.get(parts[title])
        if extent is None or sheet_too_big(title, extent):
            continue
        lst = LISTS[n]
        batch = sheet_text(reader, title).slice(0, HEADER_SEARCH_ROWS)
        header_map = lst.header_map()
        extract_map = lst.spec.header_map()  # the extract's sheet of the same name
        for row in batch.to_pylist():
            words = {spec.norm(v) for v in row.values() if v is not None}
            annex_a = sum(1 for w in words if w in header_map)
            if annex_a >= 2:
                keys = {spec.norm(h) for h in lst.spec.column(lst.key_column).headers}
                # Annex A's headings, not the extract's: its record id absent, and more of
                # Annex A's headings than of the extract's (an extract whose record id is misspelt,
                # "Referal ID", is an extract missing a column, not Annex A: a review)
                if not words & keys and annex_a > sum(1 for w in words if w in extract_map):
                    return True
                break
    return False


# --- reading --------------------------------------------------------------------------------


def read(
    path: str | Path,
    team_areas: Mapping[str, str | None] | None,
    *,
    id_key: bytes,
    original_name: str | None = None,
    today: dt.date | None = None,
) -> AnnexAExtract:
    """Read and validate an Annex A workbook into the contract's sheets; never raises for a bad
    file, it reports problems instead. `team_areas`: Allocated Team -> area office (None: not
    mapped yet; None: no database, so the teams are not checked). `id_key`: the store's key for
    pseudonymising child ids (`config.id_key`)."""
    path = Path(path)
    name = original_name or path.name
    today = today or dt.date.today()
    extract = AnnexAExtract(path)
    try:
        check_file(path, original_name)
        listed = workbook_sheets(path, name)  # every sheet, a name given twice included
        parts = {title: part for title, part, _ in listed}
        by_name = not any(list_number(t) is not None for t in parts)  # sheets named "Referrals", ...
        number = named_list if by_name else list_number
        wanted = {t: p for t, p in parts.items() if number(t) in LISTS}
        extents = inspect_once(path, name, set(wanted.values()), wanted)
        reader = open_reader(path, name)
        titles = [title for title, _, _ in listed]
    except FileRefused as exc:
        extract.problems.append(error(str(exc)))
        return extract
    except Exception as exc:  # the reader's own errors: a damaged workbook
        extract.problems.append(error(str(damaged(name, exc))))
        return extract

    check_teams = team_areas is not None
    mapping = {team_key(t): a for t, a in (team_areas or {}).items()}
    seen: dict[int, str] = {}
    other_lists: list[str] = []
    other_sheets: list[str] = []
    for title in titles:
        n = number(title)
        if n is None:
            other_sheets.append(title)
            continue
        if n not in LISTS:
            other_lists.append(title)
            continue
        if n in seen:
            extract.problems.append(
                error(
                    f'Sheet "{title}" and sheet "{seen[n]}" are both List {n}. Keep one of them (rename or delete the '
                    "other) and upload again.",
                    sheet=title,
                )
            )
            continue
        seen[n] = title
        extent = extents.get(parts.get(title, ""))
        if extent is None:
            extract.problems.append(error(str(damaged(name, f'sheet "{title}" has no worksheet part')), sheet=title))
            continue
        too_big = sheet_too_big(title, extent)
        if too_big:
            extract.problems.append(error(too_big, sheet=title))
            continue
        try:
            _read_list(reader, title, LISTS[n], extract, mapping, id_key, today, check_teams)
        except FileRefused as exc:  # the reader cannot open the workbook: that alone is said
            extract.problems[:] = [error(str(exc))]
            extract.sheets.clear()
            return extract
        except Exception as exc:  # a sheet the reader cannot parse
            extract.problems.append(error(f'Sheet "{title}" cannot be read: its cells are damaged, or written in a way Excel does not write '
                      f'them (the reader says: {exc}). {SAVE_AS}', sheet=title))

    if not seen:
        extract.problems.append(
            error(
                "This Annex A workbook has none of the lists the dashboard reads: "
                + ", ".join(f'"List {n}" ({LIST_TITLES[n].lower()})' for n in LISTS)
                + f". Its sheets are: {shown(list(titles))}."
            )
        )
    if other_lists:
        extract.problems.append(
            warning(
                f"Annex A lists the dashboard does not use were ignored: {shown(other_lists)}. It reads "
                + ", ".join(f"List {n} ({LIST_TITLES[n].lower()})" for n in LISTS)
                + ".",
                code="annex_a_lists_ignored",
            )
        )
    if other_sheets:
        extract.problems.append(
            warning(
                f"Sheets that are not Annex A lists were ignored: {shown(other_sheets)}. In an Annex A workbook "
                "only its lists are read; load the extract's own sheets (workforce, transfers, audits, ...) in the "
                "monthly extract workbook.",
                code="annex_a_sheets_ignored",
            )
        )
    if by_name and seen:
        extract.problems.append(
            warning(
                "This workbook's sheets are named after what the lists hold rather than \"List 1\" ... \"List 11\", "
                "so they were read as Annex A lists: "
                + ", ".join(f'"{t}" as List {n}' for n, t in sorted(seen.items()))
                + ". Ofsted's template names them \"List 3\", \"List 4\", \"List 7\" (with or without the title).",
                code="annex_a_sheets_by_title",
            )
        )
    if team_areas is None:
        extract.problems.append(teams_not_checked())
    if extract.ok:
        extract.problems.extend(_summary(extract))
    return extract


def _read_list(reader, title: str, lst: AnnexList, extract: AnnexAExtract, mapping: dict[str, str | None],
               id_key: bytes, today: dt.date, check_teams: bool = True) -> None:
    header_map = lst.header_map()
    batch = sheet_text(reader, title)
    if batch.num_rows == 0 or all(batch.column(i).null_count == batch.num_rows for i in range(batch.num_columns)):
        extract.problems.append(warning(f'Sheet "{title}" is empty and was skipped.', sheet=title, code="sheet_empty"))
        return
    probe = [list(r.values()) for r in batch.slice(0, HEADER_SEARCH_ROWS).to_pylist()]
    h = next(
        (i for i, row in enumerate(probe) if sum(1 for v in row if v is not None and spec.norm(v) in header_map) >= 2),
        None,
    )
    if h is None:
        extract.problems.append(
            error(
                f'Sheet "{title}": no row of Annex A column headings was found in its first {HEADER_SEARCH_ROWS} rows. '
                "Keep the published headings (for example "
                + ", ".join(f'"{lst.headings[c][0]}"' for c in lst.required)
                + ") in one row near the top.",
                sheet=title,
                expected="a header row naming the columns",
            )
        )
        return
    excel_header = h + 1
    headers, use, unused = map_headers(probe[h], header_map, title, excel_header, extract.problems)
    missing = [c for c in lst.required if c not in headers]
    for c in missing:
        why = " The dashboard needs it to give each record its area office." if c == "team" else ""
        extract.problems.append(
            error(
                f'Sheet "{title}": the column "{lst.headings[c][0]}" is missing from the header row (row '
                f"{excel_header}).{why} Add it, or rename the column that holds it; also accepted: "
                + ", ".join(f'"{x}"' for x in lst.headings[c][1:4])
                + ".",
                sheet=title, row=excel_header, column=lst.headings[c][0],
                expected="a column headed " + " or ".join(f'"{x}"' for x in lst.headings[c]),
            )
        )
    extract.problems.extend(_look_alikes(lst, title, headers, unused))
    if missing or any(p.severity == "error" and p.sheet == title for p in extract.problems):
        return

    data = batch.slice(h + 1)
    first = excel_header + 1
    arrays = {col: _decoded(data.column(idx), lst.spec.column(col)) for col, idx in use.items()}
    arrays["excel_row"] = pa.array(range(first, first + data.num_rows), pa.int64())
    table = pa.table(arrays)

    unmapped = _unmapped_teams(table, mapping) if check_teams else []
    for team, _ in unmapped:
        if team not in extract.unmapped_teams:
            extract.unmapped_teams.append(team)
    if unmapped:
        extract.problems.append(
            error(
                f'Sheet "{title}", column "{headers["team"]}": {len(unmapped):,} team(s) have no area office yet: '
                + ", ".join(f'"{t}" ({rows_named(r)})' for t, r in unmapped[:MAX_SHOWN])
                + (f" and {len(unmapped) - MAX_SHOWN:,} more" if len(unmapped) > MAX_SHOWN else "")
                + f". Map each team to its area office on {TEAMS_PAGE}, then upload this file again.",
                sheet=title, column=headers["team"], value=", ".join(t for t, _ in unmapped[:MAX_SHOWN]),
                expected="a team mapped to an area office on the Teams page",
            )
        )

    typed, problems = validate_values(table, lst.spec, title, headers, today)
    extract.problems.extend(problems)
    if typed is None or unmapped:
        return
    final, problems, notes = _derive(typed, lst, title, headers, mapping, id_key)
    extract.problems.extend(problems)
    if final is None:
        return
    headers = {**headers, lst.key_column: f"{lst.prefix}-<child>-<date>", "area_office": headers["team"]}
    sides = {}
    for col in lst.extra:  # kept beside the contract sheet, in a side table keyed like it
        if col.name in final.column_names:
            sides[SIDE_TABLES[col.name]] = SheetData(
                spec.Sheet(SIDE_TABLES[col.name], (lst.key_column,), (lst.spec.column(lst.key_column), col)),
                title, excel_header, headers, final.select(["excel_row", lst.key_column, col.name]), final.num_rows)
            final = final.drop_columns([col.name])
    extract.sheets[lst.sheet] = SheetData(spec.SHEETS[lst.sheet], title, excel_header, headers, final, final.num_rows)
    extract.sheets.update(sides)
    extract.lists[lst.sheet] = title
    extract.problems.extend(notes)
    extract.problems.append(_where_from(lst, title, headers, unused, final.num_rows))
    if final.num_rows == 0:
        extract.problems.append(warning(f'Sheet "{title}" has a header row but no data rows.', sheet=title, code="sheet_no_rows"))


# Annex A's drop-down values carry a letter code: "a) Yes", "b) No", "c) Unknown", "a) Neglect",
# "q) 6: Police". The code is dropped and the value read by its meaning.
_CODE = r"^[\s\p{Z}]*[A-Za-z]{1,2}\)[\s\p{Z}]*"
_UNKNOWN = r"(?i)^[\s\p{Z}]*(unknown|not known|not recorded|n/?a)[\s\p{Z}]*$"
_NOT_CODED = {"child_id", "team", "worker_id"}  # free text: a name such as "b) Team" is kept as written


def _decoded(col: pa.ChunkedArray, column: spec.Column) -> pa.ChunkedArray:
    """The column with Annex A's drop-down codes removed; for a Y/N column "Unknown" is blank."""
    import pyarrow.compute as pc

    if column.name in _NOT_CODED:
        return col
    if not pa.types.is_string(col.type):
        col = col.cast(pa.string())
    col = pc.replace_substring_regex(col, _CODE, "", max_replacements=1)
    if column.type == spec.FLAG:
        col = pc.if_else(pc.match_substring_regex(col, _UNKNOWN), pa.scalar(None, pa.string()), col)
    return col


_STOP = {"of", "the", "a", "an", "in", "on", "during", "was", "is", "to", "for", "and", "by"}
_SAME = {"auth": "authorisation", "authorization": "authorisation", "authorised": "authorisation",
         "authorized": "authorisation", "dob": "birth", "cp": "childprotection", "id": "identifier",
         "ref": "referral", "referrals": "referral", "plans": "plan", "no": "number", "num": "number"}


def _words(text: str) -> set[str]:
    """The words of a heading, ignoring case, spaces and punctuation: "ContinuousAssessmentAuthDate"
    and "Continuous assessment - date of authorisation" share continuous, assessment, date, authorisation."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(text))
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {_SAME.get(w, w) for w in words if w not in _STOP}


def _look_alikes(lst: AnnexList, title: str, headers: dict[str, str], unused: list[str]) -> list[Problem]:
    """A warning for each column left unread whose heading looks like one the list reads (most of the
    words of a known heading) while that column was not found: never drop such a column silently."""
    problems = []
    for text in unused:
        words = _words(text)
        best = None
        for col, known in lst.headings.items():
            if col in headers:
                continue
            for k in known:
                kw = _words(k)
                common = len(words & kw)
                if common >= 2 and common / len(kw) >= 0.6 and (best is None or common / len(kw) > best[2]):
                    best = (col, known[0], common / len(kw))  # named by its published heading
        if best:
            problems.append(warning(
                f'Sheet "{title}": the column "{text}" looks like "{best[1]}" ({best[0]}) but is not one of the headings '
                f"read, so it was not used and {best[0]} is blank. Rename it \"{best[1]}\" and upload again if that is "
                "what it holds.", sheet=title, column=text, value=text, expected=f'a column headed "{best[1]}"',
                code="annex_a_column_near_miss"))
    return problems


def _unmapped_teams(table: pa.Table, mapping: dict[str, str | None]) -> list[tuple[str, list[int]]]:
    """Teams named in the sheet that have no area office, with the Excel rows naming them."""
    from csc import kpis

    known = pa.table({"k": pa.array([k for k, a in mapping.items() if a], pa.string())})
    con = scratch.cursor()
    try:
        con.register("sheet", table.select(["team", "excel_row"]))
        con.register("known", known)
        rows = con.execute(kpis.app_sql("unmapped_teams")).fetchall()
    finally:
        con.close()
    return [(t, r) for t, r in rows]


def _derive(typed: pa.Table, lst: AnnexList, title: str, headers: dict[str, str], mapping: dict[str, str | None],
            id_key: bytes) -> tuple[pa.Table | None, list[Problem], list[Problem]]:
    """Add the derived key, the area office and the constant columns, in DuckDB; refuse two different
    rows with the same key, drop rows that repeat an earlier row exactly."""
    con = scratch.cursor()
    try:
        con.register("typed", typed)
        con.register("areas", pa.table({"k": pa.array(list(mapping), pa.string()),
                                        "area": pa.array(list(mapping.values()), pa.string())}))
        cols = [c for c in typed.column_names if c != "excel_row"]
        date = lst.date_column
        consts = ", ".join(f"$c{i}::varchar as {c}" for i, (c, _) in enumerate(lst.constants))
        params = {**pads(id_key), "prefix": lst.prefix, "no_team": NO_TEAM_AREA,
                  **{f"c{i}": v for i, (_, v) in enumerate(lst.constants)}}
        con.execute(
            f"""
            create temp table derived as
            with keyed as (
                select
                    t.*,
                    $prefix || '-' || {hmac_sql('t.child_id')} || '-' || strftime(t.{date}, '%Y%m%d') as record_key,
                    case when t.team is null then $no_team else a.area end as area_office,
                    md5(to_json(struct_pack({', '.join(f'{c} := t.{c}' for c in cols)}))::varchar) as signature,
                from typed as t
                left join areas as a on a.k = lower(t.team)
            ),
            versions as (
                select record_key, count(distinct signature) as versions, min(excel_row) as first_row,
                from keyed
                group by record_key
            )
            select
                k.*,
                {consts + ',' if consts else ''}
                v.versions,
                v.first_row,
                row_number() over (partition by k.record_key order by k.excel_row) as nth,
            from keyed as k
            inner join versions as v on v.record_key = k.record_key
            """,
            params,
        )
        clashes = con.execute(
            f"select excel_row, first_row, strftime({date}, '%d/%m/%Y') from derived where nth > 1 and versions > 1 "
            "order by excel_row limit $n",
            {"n": MAX_PROBLEMS_PER_SHEET},
        ).fetchall()
        total = con.execute("select count(*) from derived where nth > 1 and versions > 1").fetchall()[0][0]
        if clashes:
            date_header = headers.get(date, date)
            problems = [
                error(
                    f'Sheet "{title}", row {row}: the same child already has {lst.a_noun} with "{date_header}" '
                    f"{day} on row {first}, with different details. Annex A has no {lst.noun} id, so the dashboard "
                    f"knows {lst.a_noun} by its child and date: keep one row for it (merge or delete the other) and "
                    "upload again.",
                    sheet=title, row=row, column=date_header, value=day,
                    expected=f"one row per child and {date_header}",
                )
                for row, first, day in clashes
            ]
            if total > len(clashes):
                problems.append(error(f'Sheet "{title}" has {total:,} such rows in all; only the first '
                                       f"{len(clashes):,} are listed.", sheet=title))
            return None, problems, []
        repeated = [r[0] for r in con.execute("select excel_row from derived where nth > 1 order by 1").fetchall()]
        no_team = con.execute("select count(*) from derived where nth = 1 and team is null").fetchall()[0][0]
        out = [lst.key_column, *cols, "area_office", *(c for c, _ in lst.constants)]
        final = con.sql(
            "select excel_row, record_key as " + lst.key_column + ", "
            + ", ".join(c for c in out[1:]) + " from derived where nth = 1 order by excel_row"
        ).to_arrow_table()
    finally:
        con.close()
    notes = []
    if repeated:
        notes.append(warning(
            f'Sheet "{title}": {len(repeated):,} row(s) repeat an earlier row exactly and were ignored '
            f"({rows_named(repeated)}).", sheet=title, code="annex_a_rows_repeated"))
    if no_team:
        notes.append(warning(
            f'Sheet "{title}": {no_team:,} row(s) have no "{headers["team"]}"; they count under the area office '
            f'"{NO_TEAM_AREA}".', sheet=title, column=headers["team"], code="annex_a_no_team"))
    return final, [], notes


def _where_from(lst: AnnexList, title: str, headers: dict[str, str], unused: list[str], rows: int) -> Problem:
    read_cols = [f'"{h}" → {c}' for c, h in headers.items() if c not in (lst.key_column, "area_office")]
    consts = ", ".join(f'{c} "{v}"' for c, v in lst.constants)
    message = (
        f'"{title}" → {lst.sheet}: {rows:,} row{"" if rows == 1 else "s"}. Read: {", ".join(read_cols)}; area_office from '
        f'"{headers["team"]}" through the Teams page'
        + (f"; {consts} for every row" if consts else "")
        + f". Each {lst.noun} is known by its child and {headers[lst.date_column]} ({lst.key_column} "
        f"{lst.prefix}-<child>-<YYYYMMDD>), so the same {lst.noun} in a later month's Annex A updates it."
    )
    if unused:
        message += f" Not used: {shown(unused)}."
    return warning(message, sheet=title, code="annex_a_read")


def _summary(extract: AnnexAExtract) -> list[Problem]:
    """Which KPIs this file feeds and which it cannot, from the tables each KPI's SQL reads."""
    from csc import kpis  # late import: only for the summary

    provided = set(extract.sheets)
    inferable = {"involvements"}
    cannot, inferred = [], []
    for kpi in kpis.registry().values():
        needs = set(re.findall(r"\bcur_([a-z_]+)", kpi.sql))
        if needs <= provided:
            continue
        label = f"{kpi.title} ({kpi.name})"
        if needs - provided <= inferable and "inferred_involvements" in kpi.sql:
            inferred.append(label)
        else:
            missing = sorted(needs - provided - inferable) or sorted(needs - provided)
            cannot.append(f"{label}: needs {', '.join(missing)}")
    problems = []
    if cannot:
        problems.append(warning(
            f"This Annex A file cannot feed {len(cannot)} KPI(s), which come from the extract's own sheets "
            "(workforce, establishment, transfers, audits, supervisions, involvements): " + "; ".join(cannot)
            + ". Load those sheets in the monthly extract workbook.", code="annex_a_kpis_not_fed"))
    if inferred:
        problems.append(warning(
            "Changes of social worker — " + "; ".join(inferred) + " — need an involvements sheet. Until one is "
            "loaded they are inferred from the Allocated Worker each child has on Lists 4 and 7 in successive "
            "monthly Annex A imports (a different worker from the previous import counts as a new involvement "
            "from that month), and the dashboard says the figure is inferred.", code="annex_a_workers_inferred"))
    return problems
