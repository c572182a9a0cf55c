"""The board's suppression of the stored KPI results: which figures of `kpi_results` and
`kpi_team_results` the board may not see, decided once per recompute (`csc.kpis.materialise`).

The decision for one (KPI, month) is `csc.privacy.protect_cells` over its tree of cells (all
areas, each area office, each team). Many trees have no small cell at all, and then nothing is
hidden (complementary suppression only ever starts from a cell hidden on its own), so the primary
rule is worked out in SQL for every row at once, only the trees with a small cell are read, as
plain tuples, and handed to `protect_cells` with a partner choice keyed by the database's
secret (`partner_secret`, `privacy.keyed_choice`: a partner no one can bound by its shown
siblings). The hidden rows are then flagged in one update per table.

**Once hidden, hidden in every later version** (a review, 2026-12-04): a figure the board was
denied stays denied when a later import revises it, whatever its numbers become, and so do the
partners hidden with it. Otherwise the versions give it back: Huntingdon 6 of 33 (18.2%) hidden
only to protect Fenland's 1 of 36 was shown as 20.6% after six more transfers arrived, and the
revised figures said it "was 18.2%"; transfers waiting, all areas 29 = Fenland 17 + two hidden
offices, then 30 with both shown (6 and 7) and no revision for the 7, gave the first office's
hidden 5 back. Every cell the board was ever denied is kept in `kpi_hidden_ever` (a cell: KPI,
month, area office or null for all areas, team or null), and is hidden again before the partners
are chosen (`privacy.protect_cells(before=...)`). The table only grows, so a full recompute makes
the decisions the incremental one kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import duckdb
import pyarrow as pa

from csc import config, privacy
from csc.schema import has_table

# the board's one-level tables (`csc.breakdowns`), whose hidden cells are kept in `kpi_hidden_ever`
# under these names; the referrals by area office are counts, the re-referral rate's denominators
REFERRALS_MARGIN, TIMELINESS_MARGIN = "referrals_by_area", "assessment_timeliness_by_type"
COUNT_TABLES = (REFERRALS_MARGIN,)  # what a KPI header's `denominator_shown` may name

SCHEMA = """
create table if not exists kpi_hidden_ever (
    kpi varchar not null,
    period varchar not null,
    area varchar,                        -- null: all areas together
    team varchar                         -- null: the area office (or all areas) itself
);
"""


def _rows(cur: duckdb.DuckDBPyConnection, registry: dict, since: str | None) -> tuple[list[tuple], list[tuple]]:
    """The rows of `kpi_results` and of `kpi_team_results` (of the months from `since` on; None:
    all) whose (KPI, month) has a cell hidden on its own (`privacy.primary`, worked out here in SQL
    for every row at once), each in rowid order. The trees are found once for both tables."""
    by = {agg: [n for n, k in registry.items() if k.aggregate == agg and not privacy.exempt(k)]
          for agg in ("ratio", "sum", "median")}
    # the tables and their columns are named in Python; the query of the trees is a file
    trees = (config.queries() / "app" / "small_cell_trees.sql").read_text()
    cur.execute(f"create or replace temp table _small_trees as {trees}",
                {**by, "complement": [n for n in by["ratio"] if registry[n].denominator_shown],
                 "high": privacy.HIGH, "digits": privacy.DIGITS, "since": since})
    rows = tuple(cur.execute(
        f"select rowid as rid, kpi, period, area, {'team, ' if team else ''}numerator, denominator from {table} "
        "semi join _small_trees using (kpi, period) where $since is null or period >= $since order by rid",
        {"since": since}).fetchall() for table, team in (("kpi_results", False), ("kpi_team_results", True)))
    cur.execute("drop table _small_trees")
    return rows


def _hidden_before(cur: duckdb.DuckDBPyConnection, since: str | None, registry: dict | None = None) -> dict[tuple, set]:
    """(KPI, month) -> the cells of it the board was denied in any earlier version (of the months
    from `since` on), keyed as `hidden_rows` keys them; and, for a rate whose denominators the
    board sees as the counts of a one-level table (`denominator_shown`), the cells whose count it
    is denied there (a rate shown beside a hidden count of at most 16 gives the count back: 46.2%
    is only 6 of 13). That table's decision is made first (`csc.kpis.materialise(margins=...)`)."""
    out: dict[tuple, set] = {}
    counted = {k.denominator_shown: name for name, k in (registry or {}).items()
               if getattr(k, "denominator_shown", "")}
    for kpi, period, area, team in cur.execute(
            "select kpi, period, area, team from kpi_hidden_ever where $since is null or period >= $since",
            {"since": since}).fetchall():
        out.setdefault((counted.get(kpi, kpi), period), set()).add((area, None) if team is None else ("team", area, team))
    return out


SECRET_SCHEMA = "create table if not exists board_secret (secret blob not null)"
_THIS_PROCESS = secrets.token_bytes(32)


def partner_secret(cur: duckdb.DuckDBPyConnection) -> bytes:
    """The secret that keys the board's choice of partners (`privacy.keyed_choice`), kept in the
    database (`keep_partner_secret`), so that a recompute, a view and a command read it without the
    deployment's key: the board never sees the database, and who has the database has the counts.
    A database with imports gets one when it is opened for writing (`Store._ensure_schema`: one
    made before this was kept); a bare connection, or a database opened only to read since, gets
    this process's own: the cells hidden before stay hidden whatever it picks (`kpi_hidden_ever`)."""
    return stored_partner_secret(cur) or _THIS_PROCESS


def stored_partner_secret(cur: duckdb.DuckDBPyConnection) -> bytes | None:
    """The partner secret kept in the database, or None."""
    if not has_table(cur, "board_secret"):
        return None
    rows = cur.execute("select secret from board_secret").fetchall()
    return bytes(rows[0][0]) if rows else None


def derived_secret(key: bytes) -> bytes:
    """The partner secret of a database whose records are pseudonymised with `key`
    (`config.id_key`): a rebuild, from the database or from the kept files alone, derives the same
    one under the same key and so chooses the same partners."""
    return hmac.new(key, b"csc: the board's partner secret", hashlib.sha256).digest()


def keep_partner_secret(cur: duckdb.DuckDBPyConnection, secret: bytes, replace: bool = False) -> None:
    """Keep `secret` as the database's partner secret: when it has none (each import's, from the
    key: `derived_secret`), or in place of the one it has (`replace`: a rebuild keeps the replaced
    database's, whatever the key is now)."""
    cur.execute(SECRET_SCHEMA)
    if not replace and cur.execute("select count(*) from board_secret").fetchall()[0][0]:
        return
    cur.execute("delete from board_secret")
    cur.execute("insert into board_secret values ($s)", {"s": secret})


def partners(secret: bytes | None, what: str):
    """Month -> the board's partner choice for `what` (a KPI, or a one-level table) in that month
    (`privacy.keyed_choice`); without a secret, None for every month (the next smallest: the worked
    examples')."""
    if secret is None:
        return lambda month: None
    return lambda month: privacy.keyed_choice(secret, what, month)


def hidden_rows(registry: dict, area_rows: list[tuple], team_rows: list[tuple],
                before: dict[tuple, set] | None = None, *, secret: bytes | None) -> tuple[list[int], list[int]]:
    """The rowids to hide: `area_rows` (rowid, kpi, period, area, numerator, denominator) of
    `kpi_results` and `team_rows` (rowid, kpi, period, area, team, numerator, denominator) of
    `kpi_team_results`, each in rowid order (a tree with no small cell, and none hidden before,
    may be left out: none of its cells is hidden). `before`: (KPI, month) -> the cells hidden in
    an earlier version, hidden again (`_hidden_before`). `secret`: what keys the partners' choice
    (`partner_secret`); None: the next smallest (`privacy.protect_cells`' worked examples)."""
    before = before or {}
    trees: dict[tuple, list] = {}  # (kpi, period) -> [area rows, team rows], in table order
    for r in area_rows:
        trees.setdefault((r[1], r[2]), ([], []))[0].append(r)
    for r in team_rows:
        tree = trees.get((r[1], r[2]))
        if tree is not None:  # teams of a month with no all-areas or area row are not decided on
            tree[1].append(r)
    hidden_a: list[int] = []
    hidden_t: list[int] = []
    for (name, period), (areas, teams) in trees.items():
        kpi = registry.get(name)
        if kpi is None or privacy.exempt(kpi):
            continue
        if getattr(kpi, "denominator_shown", ""):
            # no team figure at all: a team's rate beside its office's count (which the board sees)
            # gives the team's numbers back when the count is small enough (46.2% of at most 16);
            # the areas are decided as a tree of their own
            hidden_t.extend(r[0] for r in teams)
            teams = []
        cells, parent_of, index = {}, {}, {}
        for rid, _k, _p, area, num, den in areas:
            k = (area, None)
            cells[k], index[k] = (num, den), ("a", rid)
            if k != (None, None):
                parent_of[k] = (None, None)
        for rid, _k, _p, area, team, num, den in teams:
            k = ("team", area, team)
            cells[k], index[k] = (num, den), ("t", rid)
            parent_of[k] = (area, None)
        for k in privacy.protect_cells(kpi, cells, parent_of, before.get((name, period), frozenset()),
                                       partners(secret, name)(period)):
            which, rid = index[k]
            (hidden_a if which == "a" else hidden_t).append(rid)
    return sorted(hidden_a), sorted(hidden_t)


def board_suppression(cur: duckdb.DuckDBPyConnection, kpis: dict, since: str | None = None) -> None:
    """Decide, once for every (KPI, month), which figures the board may not see: primary and
    complementary suppression over all areas, each area office and each team
    (`csc.privacy.protect_cells`), written to the `hidden` column of both results tables.
    `kpis`: the KPI registry (name -> `csc.kpis.Kpi`), passed in so this module needs no import of
    `csc.kpis`, which calls it. `since`: decide only the months from it on (the months
    recomputed; the others keep their decision: each (KPI, month) is decided on its own, with the
    cells it was denied before). The cells hidden are added to `kpi_hidden_ever`."""
    cur.execute(SCHEMA)
    hidden_a, hidden_t = hidden_rows(kpis, *_rows(cur, kpis, since), _hidden_before(cur, since, kpis),
                                     secret=partner_secret(cur))
    for table, rids in (("kpi_results", hidden_a), ("kpi_team_results", hidden_t)):
        if rids:
            cur.register("hidden_rids", pa.table({"rid": pa.array(rids, pa.int64())}))
            cur.execute(f"update {table} set hidden = true where rowid in (select rid from hidden_rids)")
            cur.unregister("hidden_rids")
    if hidden_a or hidden_t:
        cur.execute((config.queries() / "app" / "hidden_ever_add.sql").read_text(), {"since": since})


# --- one-level tables: referrals by area office, assessment timeliness by type ---------------


def hidden_parts(cur: duckdb.DuckDBPyConnection, table: str, since: str | None = None) -> dict[str, set]:
    """Month -> the parts (area offices, types; None: the total) of the one-level table `table`
    (`csc.breakdowns.REFERRALS_MARGIN`, `TIMELINESS_MARGIN`) the board was denied in any version,
    kept in `kpi_hidden_ever` under the table's name as its KPI (`privacy.protect_margin(before=...)`)."""
    if not has_table(cur, "kpi_hidden_ever"):
        return {}
    out: dict[str, set] = {}
    for period, part in cur.execute("select period, area from kpi_hidden_ever where kpi = $t and "
                                    "($since is null or period >= $since)", {"t": table, "since": since}).fetchall():
        out.setdefault(period, set()).add(part)
    return out


def add_hidden(cur: duckdb.DuckDBPyConnection, cells: list[tuple]) -> None:
    """Add cells (KPI or table, month, area, team) to those the board was ever denied, each once."""
    if not cells:
        return
    cur.execute(SCHEMA)
    columns = zip(("kpi", "period", "area", "team"), zip(*cells))
    cur.register("hidden_new", pa.table({name: pa.array(values, pa.string()) for name, values in columns}))
    cur.execute("insert into kpi_hidden_ever select distinct * from hidden_new except select * from kpi_hidden_ever")
    cur.unregister("hidden_new")
