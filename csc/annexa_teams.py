"""The Annex A team -> area office mapping analysts keep on the Teams page, and the teams refused
uploads named (moved from `csc.annexa`)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from csc.annexa_lists import TEAMS_PAGE, shown, warning, team_key
from csc.extract import Extract


# --- the team -> area office mapping --------------------------------------------------------


class MappingError(Exception):
    """A team mapping the page cannot save, with a message for the analyst."""


class MappingChanged(MappingError):
    """The mapping changed after the table being saved was read from it: saving the table would
    undo that change (the mapping is saved whole), so nothing was saved."""


def team_areas(cur: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """Allocated Team -> area office (None: seen in an upload, not mapped yet)."""
    return dict(cur.execute("select team, area_office from team_areas order by team").fetchall())


def team_table(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The mapping for the Teams page, with the teams refused uploads named (not mapped yet) first."""
    return cur.execute(
        "select team, area_office, changed_by, changed_at from team_areas "
        "union all "
        "select w.team, null, null, w.first_seen from teams_awaiting_area as w "
        "where lower(w.team) not in (select lower(team) from team_areas) "
        "order by area_office is not null, lower(team)"
    ).df()


def mapping_seen(table: pd.DataFrame) -> str:
    """The mapping as a `team_table` showed it (its teams and area offices, in order), to tell
    whether it has changed since (`save_team_areas`'s `based_on`)."""
    return repr(table[["team", "area_office"]].values.tolist())


def last_change(table: pd.DataFrame) -> str:
    """" by <who> at <HH:MM>" of the latest change of a `team_table`, or "" when none is recorded
    (plain text: Markdown escapes are the caller's)."""
    latest = table.dropna(subset=["changed_at"]).sort_values("changed_at").tail(1)
    if latest.empty:
        return ""
    who = latest["changed_by"].iloc[0]
    return (f" by {who}" if isinstance(who, str) and who else "") + f" at {pd.to_datetime(latest['changed_at'].iloc[0]):%H:%M}"


def record_unmapped(store, extract: Extract, user: str | None = None, role: str | None = None,
                    name: str | None = None) -> list[str]:
    """Record the teams a refused Annex A upload named that nobody has mapped, so the Teams page lists
    them: team names only, in `teams_awaiting_area` (apart from the mapping and the data), audited."""
    teams = getattr(extract, "unmapped_teams", None)
    if not teams:
        return []
    if store.read_only:
        extract.problems.append(warning(
            f"This check opened the database read-only (storing nothing), so the team(s) with no area office were "
            f"not added to {TEAMS_PAGE}: {shown(teams)}. Add them there with their area offices, or check the file "
            "on the Upload page, which lists them there for you.", code="teams_unmapped_not_listed"))
        return []
    with store.transaction(user or "unknown", "teams_awaiting_area", role=role) as w:
        cur = w.cur
        known = {team_key(t) for t in team_areas(cur)}
        known |= {team_key(r[0]) for r in cur.execute("select team from teams_awaiting_area").fetchall()}
        new = []
        for t in teams:
            if team_key(t) not in known:
                known.add(team_key(t))
                new.append(t)
        if new:
            cur.executemany("insert into teams_awaiting_area (team, first_seen, seen_by) values (?, ?, ?)",
                            [(t, dt.datetime.now(), user) for t in new])
            w.detail.update(added=new, file=name)
        else:
            w.abandon()
    extract.problems.append(warning(
        f"{TEAMS_PAGE[0].upper() + TEAMS_PAGE[1:]} now lists the team(s) with no area office, at the top: "
        f"{shown(teams)}.", code="teams_unmapped_listed"))
    return new


def _clean(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = " ".join(str(value).split())
    return text or None


def save_team_areas(store, table: pd.DataFrame, user: str, role: str | None = None,
                    based_on: str | None = None) -> str:
    """Replace the mapping with the edited table (columns team, area_office): who and when are set
    on the rows whose area office (or spelling) changed; removed teams are deleted; audit-logged.

    `based_on` (`mapping_seen` of the table the edits were made on): the mapping must still be that
    one when this saves, under the write lock, else `MappingChanged` is raised and nothing is
    saved (another analyst's save, or an upload's waiting team, in between would be undone by
    this table, which replaces the mapping whole)."""
    wanted: dict[str, tuple[str, str | None]] = {}
    for team, area in zip(table["team"].tolist(), table["area_office"].tolist(), strict=True):
        team, area = _clean(team), _clean(area)
        if team is None:
            if area is not None:
                raise MappingError(f'A row gives the area office "{area}" but no team. Fill in the team or delete the row.')
            continue
        k = team_key(team)
        if k in wanted:
            raise MappingError(f'The team "{team}" is listed twice (as "{wanted[k][0]}" too). Keep one row for it.')
        wanted[k] = (team, area)
    now = dt.datetime.now()
    # the manifest keeps the mapping's new state when this commits (a rebuild replays Annex A
    # files with the mapping of their day)
    with store.transaction(user, "team_areas", role=role) as w:
        cur = w.cur
        if based_on is not None:
            stands = team_table(cur)
            if mapping_seen(stands) != based_on:
                raise MappingChanged(
                    f"The mapping was changed{last_change(stands)} while you were editing, so your changes were not "
                    "saved (saving them would have undone that change). The table below is the mapping as it now "
                    "stands; make your changes again and save.")
        current = {team_key(t): (t, a) for t, a in team_areas(cur).items()}
        waiting = {team_key(r[0]): r[0] for r in cur.execute("select team from teams_awaiting_area").fetchall()}
        removed = [current[k][0] for k in current if k not in wanted]
        # a waiting team still without an area office stays waiting; one deleted from the table is dropped
        changed = {k: v for k, v in wanted.items() if current.get(k) != v and not (k in waiting and k not in current
                                                                                    and v[1] is None)}
        dropped = [waiting[k] for k in waiting if k not in wanted and k not in current]
        if not removed and not changed and not dropped:
            w.abandon()
            return "Nothing to save: the mapping is unchanged."
        for k in changed:
            if k in waiting:
                cur.execute("delete from teams_awaiting_area where team = ?", [waiting[k]])
        for team in dropped:
            cur.execute("delete from teams_awaiting_area where team = ?", [team])
        for team in removed:
            cur.execute("delete from team_areas where team = ?", [team])
        for k, (team, area) in changed.items():
            if k in current:
                cur.execute("delete from team_areas where team = ?", [current[k][0]])
            cur.execute(
                "insert into team_areas (team, area_office, changed_by, changed_at) values (?, ?, ?, ?)",
                [team, area, user if area else None, now],
            )
        w.detail.update({"set": {t: a for t, a in changed.values()}, "removed": removed + dropped})
    mapped = sum(1 for _, a in changed.values() if a)
    parts = [f"{mapped} team(s) mapped"] if mapped else []
    if len(changed) - mapped:
        parts.append(f"{len(changed) - mapped} left without an area office")
    if removed or dropped:
        parts.append(f"{len(removed) + len(dropped)} removed")
    return "Saved: " + ", ".join(parts) + ". New Annex A uploads use this mapping."
