"""A rule-aware attacker over two levels (all areas -> area offices -> teams) for a count: every way
of filling the hidden teams that adds up to what the board sees and makes the rule
(`csc.privacy.protect_cells`) hide exactly the same cells; a hidden cell with one value in all of
them is worked out. Written apart from `csc.privacy`, which it checks (a research helper's; it
found the next smallest partner's leak, and checks the keyed partner that closed it: docs/decisions.md,
"A partner no one can bound"). Against a keyed rule, `hidden_sets` is what "the same cells" means.

A month: all areas T -> 3 or 4 area offices (key (area, None)) -> 1 to 3 teams each (key ("team",
area, team)), each team's count drawn from VALUES. Groups of hidden teams with a known sum: those of
a shown office (the office minus its shown teams); those of all hidden offices together (T minus the
shown offices and the shown teams of hidden offices) when T is shown; when T is hidden that sum is
tried up to `CAP_T_HIDDEN`. Months with more than `MAX_CANDIDATES` fillings are skipped.
"""

from __future__ import annotations

import itertools
import math
import random
from types import SimpleNamespace


COUNT = SimpleNamespace(unit="count", aggregate="sum")
T = (None, None)
VALUES = (0, 1, 2, 3, 4, 5, 6, 7, 7, 9, 14)
MAX_CANDIDATES = 200_000
CAP_T_HIDDEN = 40


def month(seed: int):
    rnd = random.Random(seed)
    offices = ["A", "B", "C", "D"][: rnd.choice((3, 4))]
    teams = {o: [f"{o.lower()}{j}" for j in range(rnd.choice((1, 2, 3)))] for o in offices}
    leaf = {(o, t): rnd.choice(VALUES) for o, ts in teams.items() for t in ts}
    return teams, leaf


def tree(teams, leaf):
    cells, parent_of = {T: (sum(leaf.values()), None)}, {}
    for o, ts in teams.items():
        cells[(o, None)] = (sum(leaf[(o, t)] for t in ts), None)
        parent_of[(o, None)] = T
        for t in ts:
            cells[("team", o, t)] = (leaf[(o, t)], None)
            parent_of[("team", o, t)] = (o, None)
    return cells, parent_of


def compositions(total: int, k: int):
    """Every k-tuple of non-negative integers summing to total."""
    if k == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in compositions(total - first, k - 1):
            yield (first, *rest)


def n_compositions(total: int, k: int) -> int:
    return math.comb(total + k - 1, k - 1) if total >= 0 else 0


def hidden_sets(protect, kpi, cells, parent_of) -> set[frozenset]:
    """Every set of cells `protect` (a rule taking `choose`, as `csc.privacy.protect_cells`) hides
    over every choice of partner it could make: what one who knows the rule but not the secret that
    keys the choice (`csc.privacy.keyed_choice`, which picks afresh for each set of candidates) must
    allow. The choices are run through like an odometer: each run follows the choices fixed so far
    and takes the first of any after them."""
    out: set[frozenset] = set()
    fixed: list[int] = []
    while True:
        widths: list[int] = []

        def choose(candidates, widths=widths):
            i = len(widths)
            widths.append(len(candidates))
            if i == len(fixed):
                fixed.append(0)
            return candidates[fixed[i]]

        out.add(frozenset(protect(kpi, cells, parent_of, choose=choose)))
        del fixed[len(widths):]
        i = len(fixed) - 1
        while i >= 0 and fixed[i] + 1 >= widths[i]:
            i -= 1
        if i < 0:
            return out
        fixed[i] += 1
        del fixed[i + 1:]


def attack(teams, leaf, protect, consistent=None):
    """-> dict with hidden set, candidates tried, kept, pinned {key: value}, or skipped."""
    cells, parent_of = tree(teams, leaf)
    hidden = protect(COUNT, cells, parent_of)
    if consistent is None:
        def consistent(c, p):
            return protect(COUNT, c, p) == hidden
    hidden_teams = [k for k in cells if k[0] == "team" and k in hidden]
    out = {"hidden": hidden, "cells": cells, "t_hidden": T in hidden}
    if not hidden_teams:
        out.update(tried=0, kept=0, pinned={})
        return out
    val = {k: v[0] for k, v in cells.items()}
    groups = []  # (leaf keys, sums allowed)
    for o in teams:
        ok = (o, None)
        kids = [("team", o, t) for t in teams[o]]
        hk = [k for k in kids if k in hidden]
        if ok not in hidden and hk:
            groups.append((hk, [val[ok] - sum(val[k] for k in kids if k not in hidden)]))
    under_hidden = [k for k in hidden_teams if (k[1], None) in hidden]
    if under_hidden:
        shown_teams_hidden_offices = sum(val[("team", o, t)] for o in teams if (o, None) in hidden
                                         for t in teams[o] if ("team", o, t) not in hidden)
        if T not in hidden:
            rest = val[T] - sum(val[(o, None)] for o in teams if (o, None) not in hidden) - shown_teams_hidden_offices
            groups.append((under_hidden, [rest]))
        else:
            groups.append((under_hidden, list(range(CAP_T_HIDDEN + 1))))
    size = 1
    for keys, sums in groups:
        size *= sum(n_compositions(s, len(keys)) for s in sums)
    out["size"] = size
    if size > MAX_CANDIDATES:
        out["skipped"] = True
        return out
    per_group = [[dict(zip(keys, c)) for s in sums for c in compositions(s, len(keys))] for keys, sums in groups]
    seen: dict = {k: set() for k in hidden}
    tried = kept = 0
    for combo in itertools.product(*per_group):
        tried += 1
        fill = {}
        for g in combo:
            fill.update(g)
        v = dict(val)
        v.update(fill)
        for o in teams:  # offices and total from their teams
            v[(o, None)] = sum(v[("team", o, t)] for t in teams[o])
        v[T] = sum(v[(o, None)] for o in teams)
        if any(v[k] != val[k] for k in cells if k not in hidden):
            continue  # a shown cell would differ (cannot happen with fixed group sums, kept as a check)
        trial = {k: (x, None) for k, x in v.items()}
        if consistent(trial, parent_of):
            kept += 1
            for k in hidden:
                seen[k].add(v[k])
    out.update(tried=tried, kept=kept, pinned={k: next(iter(s)) for k, s in seen.items() if len(s) == 1})
    assert kept >= 1, "the true month must be consistent"
    return out
