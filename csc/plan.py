"""The action plan: the default from `data/action_plan.toml`, and every change people make to it
in the dashboard kept in `plan_changes` (who, when, what), the latest change winning."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from csc import config, kpis

STATUSES = ("not started", "on track", "at risk", "off track", "complete")
EDITABLE = ("title", "owner", "due", "status")


@dataclass(frozen=True)
class Action:
    id: str
    title: str
    owner: str
    start: str  # YYYY-MM: the month the action started (limits are rebased here)
    due: str  # YYYY-MM-DD or "ongoing"
    status: str
    kpis: tuple[str, ...]
    targets: dict[str, float | None] = field(default_factory=dict)
    commentary: dict[str, dict[str, str]] = field(default_factory=dict)  # period -> {did, changed, next}

    @property
    def due_period(self) -> str | None:
        return self.due[:7] if self.due[:4].isdigit() else None

    def target(self, kpi: str) -> float | None:
        if kpi in self.targets:
            return self.targets[kpi]
        return kpis.get(kpi).target


@dataclass(frozen=True)
class Plan:
    title: str
    actions: tuple[Action, ...]

    def action(self, action_id: str) -> Action:
        return next(a for a in self.actions if a.id == action_id)

    def action_for(self, kpi: str) -> Action | None:
        return next((a for a in self.actions if kpi in a.kpis), None)

    def target(self, kpi: str) -> float | None:
        action = self.action_for(kpi)
        return action.target(kpi) if action else kpis.get(kpi).target


def file_stamp(path: Path | None = None) -> str:
    """What the plan file (`load_default`'s) is now: its path, size and time of change. The app's
    data version carries it (`csc.ui.version`), so a plan file edited while the server runs moves
    every figure built from the plan, as the board pack, which reads the file afresh, would."""
    path = path or config.ACTION_PLAN
    try:
        found = path.stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{found.st_size}:{found.st_mtime_ns}"


class PlanFileError(ValueError):
    """The plan file cannot be read as a plan: the message says where and what, in plain words."""


#: What each action in the plan file must have
REQUIRED = ("id", "title", "owner", "due")


def load_default(path: Path | None = None) -> Plan:
    """The plan as the file has it (`data/action_plan.toml`); `PlanFileError` if it is missing, is
    not UTF-8 or not TOML, has no actions, or has an action without one of `REQUIRED`, with an id
    another action has, or with `kpis` that are not a list of the KPIs defined (`kpis.registry`).
    A key present with an empty value (an owner not yet named) loads as it is."""
    path = path or config.ACTION_PLAN
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PlanFileError(f"The action plan file {path} is missing.") from None
    except OSError as exc:
        raise PlanFileError(f"The action plan file {path} cannot be read: {exc.strerror or exc}.") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise PlanFileError(f"The action plan file {path} is not saved as UTF-8 (line {line}): save it again "
                            "as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlanFileError(f"The action plan file {path} is not valid TOML: {exc}.") from None
    found = data.get("actions")
    if not isinstance(found, list) or not found or not all(isinstance(a, dict) for a in found):
        raise PlanFileError(f"The action plan file {path} has no actions: each is an [[actions]] table.")
    known = kpis.registry()
    seen: set[str] = set()
    for n, a in enumerate(found, start=1):
        name = f'action {a["id"]}' if a.get("id") not in (None, "") else f"the {_ordinal(n)} action"
        missing = [key for key in REQUIRED if key not in a]
        if missing:
            raise PlanFileError(f"The action plan file {path}: {name} has no "
                                + " and no ".join(f'"{key}"' for key in missing) + ".")
        if str(a["id"]) in seen:
            raise PlanFileError(f"The action plan file {path}: two actions have the id {a['id']}.")
        seen.add(str(a["id"]))
        measures = a.get("kpis", [])
        if not isinstance(measures, list) or not all(isinstance(m, str) for m in measures):
            raise PlanFileError(f'The action plan file {path}: {name}\'s "kpis" is not a list of KPI names '
                                '(kpis = ["name", ...]).')
        unknown = [m for m in measures if m not in known]
        if unknown:
            raise PlanFileError(f"The action plan file {path}: {name} lists "
                                + ", ".join(f'"{m}"' for m in unknown)
                                + (", which is not a KPI" if len(unknown) == 1 else ", which are not KPIs")
                                + " (each KPI is a file in queries/kpis/).")
    actions = tuple(
        Action(
            id=str(a["id"]),
            title=str(a["title"]),
            owner=str(a["owner"]),
            start=a.get("start", ""),
            due=str(a["due"]),
            status=a.get("status", "not started"),
            kpis=tuple(a.get("kpis", ())),
        )
        for a in found
    )
    return Plan(data.get("title", "Action plan"), actions)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def current(cur: duckdb.DuckDBPyConnection, default: Plan | None = None) -> Plan:
    """The default plan with the latest change to each field applied."""
    plan = default or load_default()
    rows = cur.execute(
        "select action_id, field, value from plan_changes "
        "qualify row_number() over (partition by action_id, field order by change_id desc) = 1"
    ).fetchall()
    changes: dict[str, dict[str, str | None]] = {}
    for action_id, fld, value in rows:
        changes.setdefault(action_id, {})[fld] = value
    actions = []
    for a in plan.actions:
        ch = changes.get(a.id, {})
        updates = {k: v for k, v in ch.items() if k in EDITABLE and v is not None}
        targets = {k.split(":", 1)[1]: (None if v in (None, "") else float(v)) for k, v in ch.items() if k.startswith("target:")}
        commentary = {k.split(":", 1)[1]: json.loads(v) for k, v in ch.items() if k.startswith("commentary:") and v}
        actions.append(replace(a, **updates, targets=targets, commentary=commentary))
    return Plan(plan.title, tuple(actions))


def history(cur: duckdb.DuckDBPyConnection, action_id: str | None = None):
    where = "where action_id = $id" if action_id else ""
    return cur.execute(
        f"select changed_at, changed_by, role, action_id, field, value from plan_changes {where} order by change_id desc",
        {"id": action_id} if action_id else {},
    ).df()


def validate_change(plan: Plan, action_id: str, fld: str, value: str | None) -> str | None:
    """An error message for an unacceptable change, or None."""
    ids = {a.id for a in plan.actions}
    if action_id not in ids:
        return f"There is no action {action_id}."
    if fld == "status" and value not in STATUSES:
        return f"Status must be one of: {', '.join(STATUSES)}."
    if fld == "due" and value != "ongoing":
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return 'The due date must be a date (YYYY-MM-DD) or "ongoing".'
    if fld.startswith("target:"):
        kpi = fld.split(":", 1)[1]
        if kpi not in plan.action(action_id).kpis:
            return f"{kpi} is not a measure of action {action_id}."
        if value not in (None, ""):
            try:
                float(value)
            except ValueError:
                return "A target must be a number."
    if fld not in EDITABLE and not fld.startswith(("target:", "commentary:")):
        return f"{fld} cannot be changed."
    return None


def record_change(store, action_id: str, fld: str, value: str | None, user: str, role: str | None) -> None:
    """Keep one change to the plan (and say so in the audit log), in one transaction."""
    plan = current(store.cursor())
    problem = validate_change(plan, action_id, fld, value)
    if problem:
        raise ValueError(problem)
    with store.transaction(user, "plan_change", {"action": action_id, "field": fld, "value": value}, role=role) as w:
        w.cur.execute(
            "insert into plan_changes (action_id, field, value, changed_by, role, changed_at) "
            "values ($a, $f, $v, $u, $r, $t)",
            {"a": action_id, "f": fld, "v": value, "u": user, "r": role, "t": dt.datetime.now()},
        )
