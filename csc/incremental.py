"""What an import or rollback changes: the current tables of its records, brought up to date in
place, and the first month whose KPIs the change can move (docs/kpis.md, "What an import
recomputes").

A record's current version (`cur_<sheet>`) is the one from the latest loaded import holding its
key, so loading or rolling back import X changes the current version of the keys X holds rows
for, and of no other. `update` deletes those keys' current rows and inserts their versions as a
full rebuild makes them (`csc.schema.current_rows_sql`, for those keys only), and compares each
record's version before and after. The first month a change can move is the month of:

- a record whose two versions differ only in dates: the earliest of the dates that differ (old
  or new value; a blank is no date);
- a record whose other values differ, or that is new or gone: the earliest date of either
  version (a sheet keyed by the period, establishment, dates its rows by the period's first day);
- the import's own row of `imports` (data timeliness): its period;
- a change to a table rebuilt whole (`inferred_involvements`, from Annex A): the earliest date of
  its changed rows; one with no date at all (`referral_counts_current`): every month. They are
  rebuilt only when an import can change them (an Annex A one, or one that makes
  `cur_involvements` empty or not).

Those months are kept per table, and each KPI starts at the earliest of the tables it reads
(`first_months`).

This is safe because every KPI is backward-looking: its figure for month M depends on the
records only through what was known on M's last day, M1 (a date after M1 reads as a blank does:
not yet), and a record all of whose dates are after M1 or blank counts for nothing in M. Data
timeliness is the one KPI that reports a later fact (the import's day) at an earlier month (its
period), and the import's row dates it by its period. Only the columns a KPI may read are compared
(`readers`): the bookkeeping columns (`import_id`, and `import_period` of a sheet not keyed
by the period) move whenever a record is sent again, and a column such as `leave_reason` feeds no
figure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from functools import lru_cache

import duckdb

from csc import annexa_tables, spec
from csc.schema import current_rows_sql

#: Tables rebuilt whole from the raw Annex A rows by `annexa_tables.rebuild_inferred`.
WHOLE_TABLES = ("inferred_involvements", "referral_counts_current")
_STAR = re.compile(r"(?:\bselect\s+(?:distinct\s+)?|,\s*|\.)\*")  # select *, t.*, ..., *


def update(cur: duckdb.DuckDBPyConnection, sheets: Iterable[str], import_id: int) -> dict[str, str] | None:
    """After import `import_id` was loaded or rolled back (its status already set), bring the
    current tables of `sheets` (the import's) and the Annex A tables up to date, and return, for
    each KPI, the first month ("YYYY-MM") the change can move (`first_months`); None: any month of
    any KPI can move."""
    sheets = set(sheets)
    period, status, annex_a, has_involvements = cur.execute(
        "select period, status, source_format = 'annex_a' or exists (select 1 from raw_referral_counts where "
        "import_id = $id), exists (select 1 from cur_involvements) from imports where import_id = $id",
        {"id": import_id}).fetchall()[0]
    month = dt.date(int(period[:4]), int(period[5:7]), 1)
    earliest: dict[str, dt.date] = {"imports": month}  # table -> the earliest day its change can move

    def moved(table: str, day: dt.date | None) -> None:
        if day is not None:
            earliest[table] = min(day, earliest.get(table, day))

    every_month = False
    read = readers()  # the KPI files, looked at once
    ours = [sheet for sheet in spec.SHEETS.values() if sheet.name in sheets]
    unique = _unique_keys(cur, ours, import_id) if status == "loaded" else {}
    changes = [f"select '{sheet.name}' as sheet, min(earliest), count(*) filter (where earliest is null) "
               f"from ({_update_sheet(cur, sheet, import_id, status == 'loaded', read, unique.get(sheet.name))})"
               for sheet in ours]
    for name, day, undated in cur.execute(" union all ".join(changes)).fetchall() if changes else []:
        # the changed records of every sheet compared in one statement
        moved(f"cur_{name}", day)
        every_month |= bool(undated)
    if annex_a or ("involvements" in sheets
                   and cur.execute("select exists (select 1 from cur_involvements)").fetchall()[0][0] != has_involvements):
        # the Annex A tables read the Annex A imports' rows and whether any involvement is current:
        # an import of another kind that leaves cur_involvements (non-)empty changes neither
        for table in WHOLE_TABLES:
            cur.execute(f"create or replace temp table _before_{table} as select * from {table}")
        annexa_tables.rebuild_inferred(cur)
        for table in WHOLE_TABLES:
            day, undated = _compare_whole(cur, table)
            moved(table, day)
            every_month |= undated
            cur.execute(f"drop table _before_{table}")
    for sheet in spec.SHEETS.values():
        if sheet.name in sheets and _named_by(sheet, read):
            # a KPI that looks the records up (it reads their table) moves with the records naming them
            moved(f"cur_{sheet.name}", _naming_records(cur, sheet, read))
            cur.execute(f"drop table if exists _looked_up_{sheet.name}")
    cur.execute("; ".join(f"drop table if exists {t}" for sheet in spec.SHEETS
                          for t in (f"_old_{sheet}", f"_new_{sheet}", f"_changed_{sheet}")) + "; drop table if exists _touched")
    return None if every_month else first_months(earliest, month)


def first_months(earliest: dict[str, dt.date], fallback: dt.date) -> dict[str, str]:
    """KPI -> the first month ("YYYY-MM") a change can move its figures: the month of the earliest
    day of the changed tables it reads (`earliest`: table -> the earliest day its change can move;
    staging models included), else of `fallback` (the import's period). A KPI reads a table only
    through its SQL, so the months a change of another table moves are not its own: a correction of
    an old referral recomputes the referral KPIs from its month, and the others from the months
    their own tables moved. A KPI that reads a `raw_` table (a council's own) gets the earliest of all."""
    from csc import kpis

    out = {}
    for name, read in kpis.tables_read(tuple((k.name, k.sql) for k in kpis.registry().values())).items():
        days = [d for t, d in earliest.items() if t in read] if "raw_" not in read else list(earliest.values())
        out[name] = f"{min(days, default=fallback):%Y-%m}"
    return out


def _named_by(sheet: spec.Sheet, read: dict) -> list[str]:
    """The other tables whose records name one of `sheet`'s records by its key (a column of the
    key's name that a KPI reads): workforce's `worker_id`, named by assessments, involvements..."""
    if len(sheet.key) != 1 or sheet.key_includes_period:
        return []
    key = sheet.key[0]
    out = []
    for other in spec.SHEETS.values():
        cols = read.get(other.name, frozenset())
        if other is not sheet and key in other.column_names and (cols is None or key in cols):
            out.append(f"cur_{other.name}")
    return out


def _columns(cur, table: str) -> list[tuple[str, str]]:
    """(name, type) of each column of `table`, in order (`describe`: a fraction of the cost of
    information_schema, which this runs a few times an import)."""
    return [(name, kind) for name, kind, *_ in cur.execute(f"describe {table}").fetchall()]


def _naming_records(cur, sheet: spec.Sheet, read: dict) -> dt.date | None:
    """The earliest date of the records naming a record of `sheet` that is new, gone or whose
    values (not only dates) changed (`_looked_up_<sheet>`): a KPI may look a record up by its key
    whatever its dates (the qualified status of an assessment's worker), so it moves the months
    of the records that name it."""
    key = sheet.key[0]
    days = []
    for table in [*_named_by(sheet, read), *WHOLE_TABLES]:
        types = dict(_columns(cur, table))
        dates = [c for c, kind in types.items() if kind == "DATE"]
        if not dates or key not in types:
            continue
        days.append(cur.execute(f"select min(least({', '.join(dates)})) from {table} as t "
                                f"semi join _looked_up_{sheet.name} as k on k.{key} = t.{key}").fetchall()[0][0])
    days = [d for d in days if d is not None]
    return min(days) if days else None


def _unique_keys(cur, sheets: list[spec.Sheet], import_id: int) -> dict[str, bool]:
    """Sheet -> whether import `import_id` holds each of its keys once (a checked extract does), in one
    statement for all of `sheets`. A blank key counts as no key: a row with one reads as a repeat,
    and the safe way (a window picking one row of each key) is taken."""
    if not sheets:
        return {}
    return dict(cur.execute(" union all ".join(
        f"select '{sheet.name}', count(*) = count(distinct ({', '.join(sheet.key)})) from raw_{sheet.name} "
        "where import_id = $id" for sheet in sheets), {"id": import_id}).fetchall())


def _update_sheet(cur, sheet: spec.Sheet, import_id: int, loaded: bool, read: dict, unique: bool | None = None) -> str:
    """Replace the current rows of the keys import `import_id` holds in `sheet` (`loaded`: it was
    just loaded; else rolled back; `read`: `readers()`; `unique`: whether the import holds each key
    once, `_unique_keys`), keeping their versions before and after (`_old_<sheet>`,
    `_new_<sheet>`); return the SQL of the changed records (`changed_sql`)."""
    keys = [*sheet.key, *(["import_period"] if sheet.key_includes_period else [])]
    pick = ", ".join([f"r.{k}" for k in sheet.key] + (["i.period as import_period"] if sheet.key_includes_period else []))
    touched = (f"select distinct {pick} from raw_{sheet.name} as r join imports as i on i.import_id = r.import_id "
               "where r.import_id = $id")
    if not loaded:  # the keys, for their current rows from the other imports (`current_rows_sql`)
        cur.execute(f"create or replace temp table _touched as {touched}", {"id": import_id})
        touched = "select * from _touched"
    on = " and ".join(f"c.{k} = k.{k}" for k in keys)
    table, old, new = f"cur_{sheet.name}", f"_old_{sheet.name}", f"_new_{sheet.name}"
    replaced = cur.execute(f"create or replace temp table {old} as select c.rowid as old_rowid, c.* from {table} as c "
                           f"semi join ({touched}) as k on {on}", {"id": import_id} if loaded else {}).fetchall()[0][0]
    part = ", ".join(f"r.{c}" for c in sheet.column_names)
    by = ", ".join(keys)
    rows = f"""
        select {part}, i.period as import_period, r.import_id
        from raw_{sheet.name} as r join imports as i on i.import_id = r.import_id
        where r.import_id = $id
    """  # the import's own rows, as a current table holds them
    # whether a key of the import has a current version from a later period (or a later import of
    # its period): an extract loaded late, behind a newer one
    later = bool(replaced) and loaded and cur.execute(
        f"select exists (select 1 from {old} as o join imports as i on i.import_id = $id "
        "where o.import_period > i.period or (o.import_period = i.period and o.import_id > i.import_id))",
        {"id": import_id}).fetchall()[0][0]
    if replaced:  # (most of a monthly extract's records are new: nothing to delete)
        cur.execute(f"delete from {table} where rowid in (select old_rowid from {old})")
    if loaded and not later:
        # none of the import's keys had a current row (a sheet's first load), or none from later
        # than the import (the usual monthly extract): its rows are their current versions,
        # inserted straight from the raw rows (one of each key, the rule of `current_rows_sql`,
        # though a checked extract has no key twice: then no window is needed), and the versions
        # after are those rows of the current table
        once = "" if unique else f"qualify row_number() over (partition by {by}) = 1"
        cur.execute(f"insert into {table} by name select * from ({rows}) {once}", {"id": import_id})
        new = f"(select * from {table} where import_id = {int(import_id)})"
    else:
        if loaded:
            # the keys' current versions are now their old ones or the import's rows, whichever
            # comes from the latest period (then import): the raw rows of other imports need not
            # be read
            made = f"""
                select * from (
                    select * exclude (old_rowid) from {old}
                    union all by name
                    {rows}
                )
                qualify row_number() over (partition by {by} order by import_period desc, import_id desc) = 1
            """
        else:
            made = current_rows_sql(sheet, "_touched")
        if cur.execute(f"create or replace temp table {new} as {made}", {"id": import_id} if loaded else {}).fetchall()[0][0]:
            cur.execute(f"insert into {table} by name select * from {new}")
    changed = changed_sql(sheet, read.get(sheet.name, frozenset()), old, new)
    if _named_by(sheet, read):
        cur.execute(f"create or replace temp table _changed_{sheet.name} as {changed}")
        cur.execute(f"create or replace temp table _looked_up_{sheet.name} as "
                    f"select {sheet.key[0]} from _changed_{sheet.name} where not dates_only")
        changed = f"select * from _changed_{sheet.name}"
    return changed


def changed_sql(sheet: spec.Sheet, read: frozenset[str] | None = None, old: str = "_old", new: str = "_new") -> str:
    """The changed records of `sheet` (their key, whether only dates changed, and the earliest
    date the change can move: null when they have no date), from their versions before (`old`)
    and after (`new`), paired by key (the rules of this module's docstring). `read`: the columns
    a KPI may read (`readers`; None: any), the only ones compared; the bookkeeping columns
    among them count as values (the period as its first day)."""
    keys = [*sheet.key, *(["import_period"] if sheet.key_includes_period else [])]

    def used(c: str) -> bool:
        return read is None or c in read

    period_is_date = sheet.key_includes_period or used("import_period")
    date_columns = [c.name for c in sheet.columns if c.type == spec.DATE and used(c.name)]
    dates = [f"{{t}}.{c}" for c in date_columns]
    dates += ["strptime({t}.import_period, '%Y-%m')::date"] if period_is_date else []
    others = [f"{{t}}.{c.name}" for c in sheet.columns if c.name not in keys and c.type != spec.DATE and used(c.name)]
    others += ["{t}.import_id"] if used("import_id") else []

    def least(items: list[str]) -> str:
        return f"least({', '.join(items)})" if items else "null::date"

    both = [d.format(t="o") for d in dates] + [d.format(t="n") for d in dates]
    same = " and ".join(f"{c.format(t='o')} is not distinct from {c.format(t='n')}" for c in others) or "true"
    moved = least([f"case when {d.format(t='o')} is distinct from {d.format(t='n')} "
                   f"then least({d.format(t='o')}, {d.format(t='n')}) end" for d in dates])
    differ = " or ".join(f"{c.format(t='o')} is distinct from {c.format(t='n')}" for c in [*others, *dates]) or "false"
    on = " and ".join(f"o.{k} = n.{k}" for k in keys)
    key = ", ".join(f"coalesce(o.{k}, n.{k}) as {k}" for k in keys)
    dates_only = f"coalesce(o.{keys[0]} is not null and n.{keys[0]} is not null and {same}, false)"
    return f"""
        select {key}, {dates_only} as dates_only,
               case when {dates_only} then {moved} else {least(both)} end as earliest
        from {old} as o full join {new} as n on {on}
        where o.{keys[0]} is null or n.{keys[0]} is null or {differ}
    """


def _compare_whole(cur, table: str) -> tuple[dt.date | None, bool]:
    """The earliest date of the rows of `table` that differ from `_before_<table>` (either way),
    and whether a differing row has no date."""
    dates = [name for name, kind in _columns(cur, table) if kind == "DATE"]
    first = f"least({', '.join(dates)})" if dates else "null::date"
    return cur.execute(f"""
        select min(earliest), count(*) filter (where earliest is null)
        from (
            select {first} as earliest from (select * from _before_{table} except all select * from {table})
            union all
            select {first} from (select * from {table} except all select * from _before_{table})
        )
    """).fetchall()[0][0:2]


def readers() -> dict[str, frozenset[str] | None]:
    """Sheet -> the columns of its `cur_` table a KPI may read (None: any): the words of every
    block of KPI SQL (a common table expression, or the final select; staging models included)
    that names the table, unless such a block selects `*` (`select *`, `t.*`) or `columns(`. A
    column read nowhere (e.g. `leave_reason`, `change_reason`) cannot move a figure, so it is not
    compared; a sheet no KPI reads has none."""
    from csc import kpis

    return _readers(tuple(k.sql for k in kpis.registry().values()))


@lru_cache(maxsize=4)
def _readers(sqls: tuple[str, ...]) -> dict[str, frozenset[str] | None]:
    from csc import kpis

    out: dict[str, set[str] | None] = {}
    for sql in sqls:
        for block in kpis.sql_blocks(sql):
            for sheet in set(re.findall(r"\bcur_([a-z0-9_]+)\b", block)):
                if _STAR.search(block) or "columns(" in block:
                    out[sheet] = None
                elif out.get(sheet, set()) is not None:
                    out[sheet] = out.get(sheet, set()) | set(re.findall(r"[a-z_][a-z0-9_]*", block))
    return {k: None if v is None else frozenset(v) for k, v in out.items()}
