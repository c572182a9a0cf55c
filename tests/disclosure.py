"""An attacker for the board's figures: given what the board can see of one (KPI, month) as sums
of unknown leaf cells (teams), which hidden cells can it work out exactly?

Every figure the board sees is a sum of leaves (a team, an area office = its teams, all areas =
every team, a selection of area offices = their teams); numerators, denominators and counts all
add up this way, so one linear system covers "total minus the others", differences of selections,
complements and rate × denominator. A hidden cell is recovered exactly when its own sum lies in
the span of the visible sums. Written separately from `csc.privacy`, which it checks."""

from __future__ import annotations

import numpy as np


def recovered(leaves: list, visible: list[frozenset], hidden: dict[str, frozenset]) -> list[str]:
    """Names of the hidden cells whose leaf sets are linear combinations of the visible ones."""
    index = {leaf: i for i, leaf in enumerate(leaves)}

    def vec(cells: frozenset) -> np.ndarray:
        v = np.zeros(len(leaves))
        for c in cells:
            v[index[c]] = 1.0
        return v

    rows = [vec(s) for s in set(visible) if s]
    base = np.array(rows) if rows else np.zeros((0, len(leaves)))
    rank = np.linalg.matrix_rank(base) if len(rows) else 0
    out = []
    for name, cells in hidden.items():
        if not cells:
            continue  # a cell with no records is a known zero, not a secret
        stacked = np.vstack([base, vec(cells)]) if len(rows) else vec(cells)[None, :]
        if np.linalg.matrix_rank(stacked) == rank:
            out.append(name)
    return out


def small_complements(kpi, rows) -> list:
    """The shown rows of a rate (not a plain count) whose complement the board could work out and
    which is from 1 to 5: "177 of 178" gives the 1 not counted; a rate with its denominator gives
    the numerator (rate × denominator), and so the complement too. `rows`: what the board sees
    (value, numerator, denominator, and `suppressed`); returns (row, complement) pairs."""
    import math

    def known(x):
        return x is not None and not (isinstance(x, float) and math.isnan(x))

    out = []
    if kpi.aggregate == "sum":
        return out
    scale = 100.0 if kpi.unit == "pct" else 1.0
    for r in rows.to_dict("records"):
        if r.get("suppressed") or not known(r.get("denominator")):
            continue  # no denominator: neither the complement nor rate × denominator
        num = r.get("numerator")
        if not known(num) and known(r.get("value")) and kpi.aggregate == "ratio":
            num = r["value"] * r["denominator"] / scale
        if known(num) and 1 <= round(r["denominator"] - num, 6) <= 5:
            out.append((r, r["denominator"] - num))
    return out


def exact_fractions(kpi, rows, most: int = 1000) -> list:
    """The shown values of a rate (not a plain count) that give their fraction back: a value to
    full precision is the simplest fraction near it (`Fraction.limit_denominator`), 96.3963963963964%
    being 107 of 111, and so the 4 not counted. A value to one decimal, as the screen shows it,
    is a decimal fraction (98.3% is 983/1000) and says no more than the screen. Returns (row,
    fraction) pairs."""
    import math
    from fractions import Fraction

    if kpi.aggregate == "sum":
        return []
    scale = 100 if kpi.unit == "pct" else 1
    out = []
    for r in rows.to_dict("records"):
        v = r.get("value")
        if r.get("suppressed") or v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        f = Fraction(float(v) / scale).limit_denominator(most)
        if abs(float(f) - float(v) / scale) < 1e-12 and (10 * scale) % f.denominator:
            out.append((r, f))
    return out


def small_totals(leaves: list, visible: list[frozenset], value: dict, limit: int = 14) -> list[frozenset]:
    """The sets of leaves not seen one by one whose total the board can work out (their sum lies
    in the span of the visible sums, e.g. "all areas minus the offices shown") and which is from 1
    to 5 (two hidden offices of 2 and 3: "5 between them"), but for the sets that are a visible
    cell's own. `value`: leaf -> its count. Every subset is tried, so at most `limit` leaves unseen."""
    import itertools

    seen_one = {next(iter(s)) for s in visible if len(s) == 1}
    unseen = [leaf for leaf in leaves if leaf not in seen_one]
    if len(unseen) > limit:
        raise ValueError(f"{len(unseen)} leaves unseen: too many to try every subset")
    index = {leaf: i for i, leaf in enumerate(leaves)}
    rows = [[1.0 if leaf in s else 0.0 for leaf in leaves] for s in set(visible) if s]
    base = np.array(rows) if rows else np.zeros((0, len(leaves)))
    # what no visible sum can tell apart: the null space of the visible sums
    _, sv, vt = np.linalg.svd(base) if len(rows) else (None, np.array([]), np.eye(len(leaves)))
    rank = int((sv > 1e-9).sum())
    null = vt[rank:]  # each row orthogonal to every visible sum
    shown = set(visible)
    out = []
    for n in range(1, len(unseen) + 1):
        for subset in itertools.combinations(unseen, n):
            s = frozenset(subset)
            if s in shown:
                continue
            v = np.zeros(len(leaves))
            for leaf in s:
                v[index[leaf]] = 1.0
            if null.size and np.abs(null @ v).max() > 1e-9:
                continue  # not a sum the board can work out
            if 1 <= round(sum(value[leaf] for leaf in s), 6) <= 5:
                out.append(s)
    return out
