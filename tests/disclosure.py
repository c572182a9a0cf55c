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
