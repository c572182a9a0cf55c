"""An action's status worked out from its measures, beside the status its owner typed
(the rule is written out in docs/action-status.md). No Streamlit here.

Each measure with a value and a target gets a verdict:

- the latest month is at or after the action's due month: "met" or "missed" (the latest value
  against the target, as `spc.trajectory` judges it);
- before the due month, with at least 3 months since the action started: the trajectory's
  "on track" / "at risk" / "off track" (the projection to the due month and its range);
- otherwise (an ongoing action, or too few months to project): the RAG of the latest month,
  green → "on track", amber → "at risk", red → "off track".

The action's derived status, first rule that applies:

1. no measure has a verdict → "not rated";
2. every measure has reached its due month and met its target → "complete";
3. any measure missed its target at or after the due month, or more than half are off track → "off track";
4. any measure off track or at risk → "at risk";
5. otherwise → "on track".

A "met" or "missed" names the month it judged ("met its target in March 2012, after its due month
(October 2011)"): the latest month with a value, which may be later than the due month.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from csc import spc, wording

ON_TRACK, AT_RISK, OFF_TRACK, COMPLETE, NOT_RATED = "on track", "at risk", "off track", "complete", "not rated"
MET, MISSED = "met", "missed"
_FROM_RAG = {spc.GREEN: ON_TRACK, spc.AMBER: AT_RISK, spc.RED: OFF_TRACK}
_FROM_TRAJECTORY = {
    spc.TARGET_MET: MET,
    spc.TARGET_MISSED: MISSED,
    spc.ON_TRACK: ON_TRACK,
    spc.AT_RISK: AT_RISK,
    spc.OFF_TRACK: OFF_TRACK,
}


def verdict(rag: str | None, trajectory: str | None) -> str | None:
    """One measure's verdict from its RAG and its trajectory status (see the module docstring)."""
    if isinstance(trajectory, str) and trajectory in _FROM_TRAJECTORY:
        return _FROM_TRAJECTORY[trajectory]
    return _FROM_RAG.get(rag) if isinstance(rag, str) else None


@dataclass(frozen=True)
class Measure:
    name: str
    rag: str | None
    trajectory: str | None
    verdict: str | None
    shortfall: float | None  # how far the latest value misses its target, as a fraction of the target
    period: str | None = None  # the latest month with a value: the month a "met" or "missed" judged
    due_period: str | None = None


def shortfall(value: Any, target: Any, direction: str | None) -> float | None:
    """How far ``value`` misses ``target`` as a fraction of it (0 when it meets it; None when unrated)."""
    value, target = spc.clean_value(value), spc.clean_value(target)
    direction = spc.normalise_direction(direction)
    if value is None or target is None or direction == spc.NEUTRAL:
        return None
    gap = (target - value) if direction == spc.INCREASE else (value - target)
    return max(0.0, gap) / (abs(target) or 1.0)


def measure(name: str, periods: Sequence[Any], values: Sequence[Any], target: float | None, direction: str,
            start: str | None, due_period: str | None, bounds: tuple[float, float] | None = None) -> Measure:
    """A measure's verdict from its monthly values (the same RAG and trajectory the pages show)."""
    present = [(p, v) for p, v in zip(periods, values) if spc.clean_value(v) is not None]
    latest = present[-1][1] if present else None
    rag = spc.rag(latest, target, direction)
    traj = None
    if start and due_period and present:
        traj = spc.trajectory(list(periods), list(values), start, due_period, target, direction, bounds=bounds).status
    return Measure(name, rag, traj, verdict(rag, traj), shortfall(latest, target, direction),
                   present[-1][0] if present else None, due_period)


@dataclass(frozen=True)
class ActionStatus:
    status: str
    reason: str  # "2 of 2 measures missed their target in their due month, October 2011"
    counts: dict[str, int]  # rag → number of measures (green/amber/red/none)
    worst: str | None  # the measure furthest from its target (None when every measure meets it)


def _n(k: int, total: int, singular: str, plural: str) -> str:
    return f"{k} of {total} measure{'s' if total != 1 else ''} {singular if k == 1 else plural}"


def _judged(k: int, total: int, verb: str, measures: list[Measure]) -> str:
    """"1 of 1 measure met its target in March 2012, after its due month (October 2011)": the
    month judged named (`wording.judged_when`), one month when the measures share it."""
    months = {m.period for m in measures}
    dues = {m.due_period for m in measures}
    judged = months.pop() if len(months) == 1 else None
    due = dues.pop() if len(dues) == 1 else None
    when = wording.judged_when(judged, due, plural=k != 1)
    return _n(k, total, f"{verb} its target {when}", f"{verb} their target {when}")


def derive(measures: Iterable[Measure]) -> ActionStatus:
    """The action's status from its measures' verdicts (rules 1–5 of the module docstring)."""
    measures = list(measures)
    counts = {k: sum(m.rag == k for m in measures) for k in (spc.GREEN, spc.AMBER, spc.RED)}
    counts["none"] = len(measures) - sum(counts.values())
    missing = [m for m in measures if m.shortfall]
    worst = max(missing, key=lambda m: m.shortfall).name if missing else None
    rated = [m.verdict for m in measures if m.verdict]
    total = len(rated)
    k = {v: rated.count(v) for v in (MET, MISSED, ON_TRACK, AT_RISK, OFF_TRACK)}
    if not rated:
        return ActionStatus(NOT_RATED, "no measure has both a value and a target yet", counts, worst)
    if k[MET] == total:
        return ActionStatus(COMPLETE, _judged(total, total, "met", measures), counts, worst)
    if k[MISSED]:
        return ActionStatus(OFF_TRACK, _judged(k[MISSED], total, "missed", [m for m in measures if m.verdict == MISSED]),
                            counts, worst)
    if k[OFF_TRACK] * 2 > total:
        return ActionStatus(OFF_TRACK, _n(k[OFF_TRACK], total, "is off track", "are off track"), counts, worst)
    if k[OFF_TRACK] or k[AT_RISK]:
        parts = []
        if k[OFF_TRACK]:
            parts.append(_n(k[OFF_TRACK], total, "is off track", "are off track"))
        if k[AT_RISK]:
            parts.append(f"{k[AT_RISK]} at risk" if parts else _n(k[AT_RISK], total, "is at risk", "are at risk"))
        return ActionStatus(AT_RISK, ", ".join(parts), counts, worst)
    return ActionStatus(ON_TRACK, _n(total, total, "is on track", "are on track or met"), counts, worst)


def from_overview(rows: Iterable[dict], due_period: str | None = None) -> ActionStatus:
    """The derived status of one action from its rows of `report.overview` (rag, trajectory,
    value, target, direction, title, period: the month its ratings judged) and its due month."""
    return derive(
        Measure(r["title"], r.get("rag"), r.get("trajectory"), verdict(r.get("rag"), r.get("trajectory")),
                shortfall(r.get("value"), r.get("target"), r.get("direction")), r.get("period"), due_period)
        for r in rows
    )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def no_rating(n: int) -> str:
    """"1 has no rating", "2 have no rating": `unrated`'s head, and the Overview tile's note."""
    return f"{n} {'has' if n == 1 else 'have'} no rating"


def unrated(rows: Iterable[dict]) -> str | None:
    """Why some measures have no RAG rating, in words ("2 have no rating: 1 hidden as c, 1 with no
    target"; "1 has no rating: no target"), or None when every measure has one: "every measure meets its target" said of an
    action with a measure hidden from the board, or with no target, was not true (a review).
    `rows`: rows of `report.overview` (rag, value, target, suppressed)."""
    why = {"hidden as c": 0, "with no target": 0, "with no value": 0}
    for r in rows:
        if isinstance(r.get("rag"), str):
            continue
        flag = r.get("suppressed")
        if not _missing(flag) and bool(flag):
            why["hidden as c"] += 1
        elif _missing(r.get("target")):
            why["with no target"] += 1
        else:
            why["with no value"] += 1
    n = sum(why.values())
    if not n:
        return None
    given = [(reason, k) for reason, k in why.items() if k]
    if len(given) == 1:  # "1 has no rating: hidden as c"
        return f"{no_rating(n)}: {given[0][0].removeprefix('with ')}"
    return f"{no_rating(n)}: " + ", ".join(f"{k} {reason}" for reason, k in given)


def differs(owner_status: str, derived: ActionStatus) -> bool:
    """Whether the owner's typed status disagrees with the figures (not rated never disagrees)."""
    return derived.status != NOT_RATED and owner_status.strip().lower() != derived.status


def comparison(owner_status: str, derived: ActionStatus, mark: Callable[[str], str] = str,
               esc: Callable[[str], str] = str) -> str:
    """"owner says on track; 2 of 2 measures missed their target in their due month, October 2011"
    when they differ,
    "owner says on track, and the figures agree (…)" when not, "…; the figures cannot say yet (…)"
    when they rate nothing: the one wording of the Overview
    and the Action page. `mark` sets the owner's status apart (bold, escaped for HTML or Markdown),
    `esc` escapes the reason."""
    said = f"owner says {mark(owner_status)}"
    if derived.status == NOT_RATED:  # nothing to agree or disagree with: "the figures agree" said too much (a review)
        return f"{said}; the figures cannot say yet ({esc(derived.reason)})"
    if not differs(owner_status, derived):
        return f"{said}, and the figures agree ({esc(derived.reason)})"
    return f"{said}; {esc(derived.reason)}"
