"""Small-number suppression for the board view, as DfE publishes children's statistics: any
count from 1 to 5, and any rate whose numerator or denominator is from 1 to 5, is shown as `c`.
A figure in FTE is small when it is above 0 and at most 5: below 1 FTE is a part-time member of
staff, a person. Each figure is rounded to `DIGITS` decimals before the test, so a sum of FTEs
that is 5 but for floating point (5.000000000000007) is 5. Applied to the data before it is
cached, charted, hovered or downloaded."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd

SUPPRESSED = "c"
LOW, HIGH = 1, 5  # a count from LOW to HIGH; any figure above 0 and at most HIGH
DIGITS = 6  # decimals a figure is rounded to before the test (sums of FTEs carry floating-point error)


def is_small(v) -> bool:
    """A figure the board may not see on its own: above 0 and at most `HIGH` once rounded to
    `DIGITS` decimals (a count from 1 to 5; an FTE sum of 0.6 is one part-time person)."""
    if v is None or pd.isna(v):
        return False
    r = round(float(v), DIGITS)
    return 0 < r <= HIGH


def small(series: pd.Series) -> pd.Series:
    s = pd.to_numeric(series, errors="coerce").round(DIGITS)
    return s.gt(0) & s.le(HIGH)


def suppress(df: pd.DataFrame, value: str = "value", numerator: str = "numerator", denominator: str = "denominator",
             complement: bool = False) -> pd.DataFrame:
    """Blank out small numbers: value, numerator and denominator become missing where suppressed,
    and a boolean `suppressed` column says which rows were."""
    out = df.copy()
    mask = pd.Series(False, index=out.index)
    for col in (numerator, denominator):
        if col in out:
            mask |= small(out[col])
    if value in out and numerator not in out and denominator not in out:
        mask |= small(out[value])
    if complement and numerator in out and denominator in out:  # `denominator_shown`: the rest counts people too
        mask |= small(pd.to_numeric(out[denominator], errors="coerce") - pd.to_numeric(out[numerator], errors="coerce"))
    out["suppressed"] = mask
    for col in (value, numerator, denominator):
        if col in out:
            out[col] = out[col].astype("float64").where(~mask)
    return out


def suppress_counts(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """For tables of plain counts: each count from 1 to 5 becomes `c` (as text)."""
    out = df.copy()
    for col in columns:
        mask = small(out[col])
        out[col] = out[col].astype(object).where(~mask, SUPPRESSED)
    return out


def suppress_kpi(df: pd.DataFrame, kpi) -> pd.DataFrame:
    """Suppress a KPI's figures for the board. A figure that counts no people (its header says
    `suppress: no`; data timeliness is working days between a month's end and its extract) has
    no small numbers to hide."""
    if exempt(kpi):
        return df.assign(suppressed=False)
    return suppress(df, complement=bool(getattr(kpi, "denominator_shown", False)))


# --- complementary suppression, decided once where the KPI results are made ---------------------
#
# The cells of one (KPI, month) form a tree: all areas (the total) is the sum of the area offices,
# and each area office is the sum of its teams. Numerators and denominators add up along the tree
# (for a median KPI the count of records does), so a hidden cell could come back as "parent minus
# the shown children". `protect` hides cells until no margin (a parent and its children) has
# exactly one unknown: whenever a parent is shown and exactly one child is hidden, a partner child
# is hidden too (or, with no other child, the parent); whenever a parent is hidden and every child
# is shown, a partner child is hidden; and, where the board can add cells up (`additive`),
# whenever the hidden cells under a shown parent (or the hidden cells under those) total from 1 to
# 5, or the rule itself would fix one of them to one who knows it (`_pinned`), a partner is hidden
# (with none shown, the parent). Repeated until nothing changes. The partner is a shown child with
# something in it (if any), chosen by the database's secret (`keyed_choice`) for the stored
# figures; the worked examples in the tests use the next smallest.
#
# A multi-area selection is shown to the board only when it contains no hidden area, or it
# contains every hidden area and the total is shown (`selection_hidden`): then its figure is the
# total minus shown areas, or a sum of shown areas, and tells nothing new (and, where it adds up,
# its hidden areas together total 0 or more than 5).

TOTAL = None


def counts_people(unit: str, aggregate: str) -> bool:
    """The default of a KPI header's `suppress`: every figure counts people (cases, children,
    staff) except a sum of days (data timeliness: working days from a month's end to its extract)."""
    return not (unit == "days" and aggregate == "sum")


def exempt(kpi) -> bool:
    """A figure that counts no people (its header says `suppress: no`; data timeliness: working
    days from a month's end to its extract) has no small numbers to hide."""
    return not getattr(kpi, "suppressible", counts_people(kpi.unit, kpi.aggregate))


def complement(numerator, denominator):
    """The records a ratio's denominator counts and its numerator does not (8 referrals, 6 of
    them re-referrals: 2); None when either is missing."""
    if numerator is None or denominator is None or pd.isna(numerator) or pd.isna(denominator):
        return None
    return float(denominator) - float(numerator)


def primary(kpi, numerator, denominator) -> bool:
    """Hidden on its own: a numerator or denominator that is small (`is_small`: from 1 to 5, or
    an FTE above 0 and at most 5; for a median, the count of records; for a count, the count).
    For a ratio whose denominator the board sees as a count of its own (`denominator_shown`: the
    re-referral rate, beside the referrals by area office), the complement too: 8 referrals shown
    beside a rate of 75% would tell that 2 were not re-referrals."""
    if exempt(kpi):
        return False
    if kpi.aggregate == "ratio":
        return (is_small(numerator) or is_small(denominator)
                or (getattr(kpi, "denominator_shown", False) and is_small(complement(numerator, denominator))))
    if kpi.aggregate == "sum":
        return is_small(numerator)
    return is_small(denominator)


def size(kpi, numerator, denominator) -> float:
    """How big a cell is: 0 has nothing in it (never a partner while another has something), and
    by size the worked examples' partner is chosen."""
    return _number(numerator if kpi.aggregate == "sum" else denominator)


def _number(v) -> float:
    return 0.0 if v is None or pd.isna(v) else float(v)


def additive(kpi):
    """What of a cell the board can add up over a margin, as a function of (numerator,
    denominator), or None: a count's count, and a rate's numerator and complement when the board
    sees its denominator (`denominator_shown`). For these, the cells hidden under a shown parent
    have a total the board can work out (the parent minus the children shown), and a total from 1
    to 5 is a small number too. A rate's numerator is not known from its value alone, nor a
    median's count of records, so for them there is no such total."""
    if exempt(kpi):
        return None
    if kpi.aggregate == "sum":
        return lambda n, d: (_number(n),)
    if kpi.aggregate == "ratio" and getattr(kpi, "denominator_shown", False):
        return lambda n, d: (_number(n), _number(d) - _number(n))
    return None


def _small_total(parts, cells: dict, keys) -> bool:
    totals = [sum(t) for t in zip(*(parts(*cells[k]) for k in keys))]
    return any(is_small(t) for t in totals)


_MAX_AUDITED = 8  # hidden cells in one margin the partner audit looks at (3 ** 7 ways for the others)


def _options(kpi, cell, shown: list, key, before: bool, total: int, ordered: bool = True) -> list[tuple[int, int, bool]]:
    """What an attacker who knows the rule allows a hidden cell's count (a count's, or a rate's
    numerator) to be, as (low, high, hidden on its own) ranges: small on its own, or a partner, or
    anything if it was hidden in an earlier version. A partner chosen by size (`ordered`: the next
    smallest shown cell) is no bigger than any shown sibling, ties going to the key that sorts
    first; one chosen by a secret (`keyed_choice`) has something in it and no other bound."""
    n, d = cell
    if kpi.aggregate == "sum":
        low, high = 0, total
        primary_ranges = [(LOW, HIGH)]
    else:  # a rate whose denominator the board sees: its numerator, from 0 to the denominator
        low, high = 0, int(round(_number(d)))
        primary_ranges = ([(low, high)] if is_small(d) else [(LOW, HIGH), (high - HIGH, high - LOW)])
    out = [(max(a, low), min(b, high), True) for a, b in primary_ranges if max(a, low) <= min(b, high)]
    if before:
        out.append((low, high, False))
        return out
    bound = None  # the partner's size is at most this
    for s, size_s in (shown if ordered else ()):
        limit = size_s if str(key) < str(s) else size_s - 1
        bound = limit if bound is None else min(bound, limit)
    size_h = _number(n) if kpi.aggregate == "sum" else _number(d)
    if kpi.aggregate == "sum":
        top = high if bound is None else min(high, int(bound))
        if top >= 1:
            out.append((1, top, False))  # a partner with something in it (shown siblings had)
    elif bound is None or size_h <= bound:  # a rate's size, its denominator, is public
        out.append((low, high, False))
    return out


def _pinned(kpi, cells: dict, kids: list, hidden: set, before, parts, ordered: bool = True) -> bool:
    """Whether an attacker who knows the partner rule can work out one hidden child of a shown
    parent exactly (a review: transfers waiting 29 = Alpha 7 + Charlie 7 + Delta 5 + Echo 10, Alpha
    and Delta hidden: Delta, were it the partner, would be at most 6 (Charlie wins a tie at 7), so
    Delta is the small one and Alpha the partner at 7 at most: 12 = 7 + 5, both exact)."""
    group = [k for k in kids if k in hidden]
    if len(group) < 2:
        return False
    total = int(round(sum(parts(*cells[k])[0] for k in group)))
    shown = [(k, size(kpi, *cells[k])) for k in kids if k not in hidden and size(kpi, *cells[k]) > 0]
    options = {k: _options(kpi, cells[k], shown, k, k in before, total, ordered) for k in group}
    # first the outer bounds alone, for a group of any size: a total at the least (or the most) the
    # cells can hold fixes every one of them (a review: nine teams of 1, hidden, under 29 with a 20)
    lows = [min((a for a, _, _ in options[k]), default=0) for k in group]
    highs = [max((b for _, b, _ in options[k]), default=total) for k in group]
    if total in (sum(lows), sum(highs)):
        return True
    if len(group) > _MAX_AUDITED:
        return False
    for h in group:
        rest = [options[k] for k in group if k != h]
        values: set = set()
        for low, high, own in options[h]:
            for combo in itertools.product(*rest):
                if not (own or any(o for _, _, o in combo)):
                    continue  # some hidden cell is hidden on its own
                lo = max(low, total - sum(b for _, b, _ in combo))
                hi = min(high, total - sum(a for a, _, _ in combo))
                values.update(range(lo, hi + 1) if hi - lo < 2 else (lo, lo + 1))
                if len(values) > 1:
                    break
            if len(values) > 1:
                break
        if len(values) == 1:
            return True
    return False


def keyed_choice(secret: bytes, *scope) -> Callable[[list], object]:
    """The partner rule of the stored figures: of the shown cells a partner may be (`protect_cells`),
    the one a keyed hash (HMAC-SHA-256 of the database's secret) picks for `scope` (the KPI or
    table, and the month) and that set of cells. The same set of cells gives the same pick in every
    recompute; one who knows the rule but not the secret cannot bound the partner by its shown
    siblings, as with the next smallest (docs/decisions.md, "A partner no one can bound"). The
    secret: the database's (`csc.suppression.partner_secret`)."""
    key = hmac.new(secret, b"csc: the board's partner choice", hashlib.sha256).digest()
    prefix = "\x1f".join(map(str, scope))

    def choose(candidates: list):
        ordered = sorted(candidates, key=str)
        text = "\x1e".join([prefix, *map(str, ordered)]).encode()
        pick = int.from_bytes(hmac.new(key, text, hashlib.sha256).digest()[:8], "big") % len(ordered)
        return ordered[pick]
    return choose


def protect_cells(kpi, cells: dict, parent_of: dict, before=frozenset(),
                  choose: Callable[[list], object] | None = None) -> set:
    """The cells of one (KPI, month) to hide from the board.

    `cells`: key -> (numerator, denominator); `parent_of`: key -> its parent's key (the total has
    none); `before`: keys the board was denied in an earlier version of these figures, hidden
    again whatever their numbers now (`csc.suppression`: a value hidden once, then revised, would
    otherwise come back by comparing the versions). `choose`: of the shown cells a partner may be
    (those with something in them, if any), the one to hide (`keyed_choice`, as the stored
    figures are decided); None: the next smallest, a tie going to the key that sorts first (the
    rule of the worked examples in the tests). Returns the set of hidden keys.

    Beside the rule of one unknown per margin, where the board can add the cells up (`additive`:
    counts, and rates whose denominator it sees), the hidden cells under a shown parent must not
    total from 1 to 5 (Huntingdon 2 and Fenland 3 hidden together: "5 between them"), nor the hidden
    cells below them (a hidden area's hidden teams, with its shown teams taken off): else a
    partner of that level is hidden too."""
    if exempt(kpi):
        return set()
    hidden = {k for k, (n, d) in cells.items() if primary(kpi, n, d) or k in before}
    children: dict = {}
    for k, p in parent_of.items():
        if k in cells and p in cells:
            children.setdefault(p, []).append(k)
    for p in children:
        children[p].sort(key=lambda k: (size(kpi, *cells[k]), str(k)))
    parts = additive(kpi)

    def partner(kids):
        """The partner among `kids` (sorted by size): a shown cell, one with something in it if
        any, chosen by `choose` (None: the smallest, a tie going to the key that sorts first), or
        None."""
        shown = [k for k in kids if k not in hidden]
        candidates = [k for k in shown if size(kpi, *cells[k]) > 0] or shown
        if not candidates:
            return None
        return candidates[0] if choose is None else choose(candidates)

    def small_group_below(p):
        """A cell to hide so that no total of hidden cells under shown `p` is small, or None."""
        level = [k for k in children[p] if k in hidden]
        above = [p]
        while level:
            if _small_total(parts, cells, level):
                return partner([k for q in above for k in children.get(q, ())])
            above = [k for k in level if children.get(k)]
            deeper = [k for k in level if not children.get(k)] + [k for q in above for k in children[q] if k in hidden]
            if sorted(map(str, deeper)) == sorted(map(str, level)):
                return None
            level = deeper
        return None

    changed = True
    while changed:
        changed = False
        for p, kids in children.items():
            n_hidden = sum(k in hidden for k in kids)
            if (p in hidden and n_hidden == 0) or (p not in hidden and n_hidden == 1):
                pick = partner(kids)
                if pick is not None:
                    hidden.add(pick)
                elif p not in hidden:
                    hidden.add(p)
                else:
                    continue
                changed = True
            elif parts is not None and p not in hidden and n_hidden:
                pick = small_group_below(p)
                if pick is None and _pinned(kpi, cells, kids, hidden, before, parts, choose is None):
                    # a partner, or, with none shown, the parent (a review: six teams of 1
                    # under an office of 6, all hidden, are each 1)
                    pick = partner(kids)
                    if pick is None:
                        pick = p
                if pick is not None:
                    hidden.add(pick)
                    changed = True
    return hidden


def _key(area, team=None):
    area = None if area is None or (isinstance(area, float) and pd.isna(area)) else area
    team = None if team is None or (isinstance(team, float) and pd.isna(team)) else team
    return (area, team)


def protect(kpi, areas: pd.DataFrame, teams: pd.DataFrame | None = None,
            chooser: Callable[[str], Callable | None] = lambda month: None) -> tuple[pd.Series, pd.Series | None]:
    """Complementary suppression for one KPI over every month (the first implementation, row by
    row, kept as the tests' oracle for `csc.suppression`, which decides the stored figures).

    `areas`: period, area (missing for all areas), numerator, denominator. `teams`: period, area,
    team, numerator, denominator (or None). `chooser`: month -> its partner choice (as
    `protect_margin`'s). Returns the `hidden` flags (aligned to each frame)."""
    a_hidden = pd.Series(False, index=areas.index)
    t_hidden = pd.Series(False, index=teams.index) if teams is not None else None
    if exempt(kpi):
        return a_hidden, t_hidden
    team_groups = dict(tuple(teams.groupby("period"))) if teams is not None and len(teams) else {}
    for period, rows in areas.groupby("period"):
        cells, parent_of, index = {}, {}, {}
        for i, r in zip(rows.index, rows.itertuples(index=False)):
            k = _key(r.area)
            cells[k], index[k] = (r.numerator, r.denominator), ("a", i)
            if k != (None, None):
                parent_of[k] = (None, None)
        t_rows = team_groups.get(period)
        if t_rows is not None:
            for i, r in zip(t_rows.index, t_rows.itertuples(index=False)):
                k = ("team", r.area, r.team)
                cells[k], index[k] = (r.numerator, r.denominator), ("t", i)
                parent_of[k] = _key(r.area)
        for k in protect_cells(kpi, cells, parent_of, choose=chooser(period)):
            which, i = index[k]
            (a_hidden if which == "a" else t_hidden).at[i] = True
    return a_hidden, t_hidden


def selection_hidden(hidden_areas, total_hidden: bool, selection, derivable: bool = True) -> bool:
    """Whether the board may not see the figure of a multi-area selection for one (KPI, month):
    hidden when it holds a hidden area, unless it holds every hidden area, the total is shown and
    the board can add the KPI's figures up (`derivable`: `additive`, a count or a rate whose
    denominator it sees): its figure is then the total minus shown areas, which the board can
    already work out. A rate or median the board sees without its counts cannot be taken apart
    so, and such a selection's would be new: 4 of 11 audited plans SMART (36.4%) from two offices
    each shown as c (a red-team review on the demo council)."""
    hidden_areas, selection = set(hidden_areas), set(selection)
    if not hidden_areas & selection:
        return False
    return not (derivable and hidden_areas <= selection and not total_hidden)


def board_view(stored: pd.DataFrame, kpi, sel, df: pd.DataFrame, total: pd.DataFrame | None = None) -> pd.DataFrame:
    """A selection's monthly series (`csc.report._series`) as the board may see it: the stored
    decision (`stored`: the KPI's results over the selection's months, `kpis.results(...,
    board=True)`) for all areas and for one area office, `selection_hidden` for several. Hidden
    months stay as rows (a gap shown as c), with numerator, denominator and value missing; a rate
    or median has no numerator or denominator in any month (`rates_only`)."""
    if not sel.areas or kpi.all_areas_only or len(sel.areas) == 1:
        if not sel.areas or kpi.all_areas_only:
            rows = stored[stored["area"].isna()]
        else:
            rows = stored[stored["area"] == sel.areas[0]]
        hidden = dict(zip(rows["period"], rows["suppressed"].astype(bool)))
    else:
        # and, however it is made up, the selection's own figure follows the 1-5 rule (`primary`)
        own = {p: (n, d) for p, n, d in zip(df["period"], df["numerator"], df["denominator"])}
        hidden = {p: primary(kpi, n, d) for p, (n, d) in own.items()}
        derivable = additive(kpi) is not None
        # `total`: the true all-areas series. A selection of every office whose figure is all areas'
        # is that figure, shown or hidden as it is (a review: every office ticked showed c for nine
        # rates that "All areas" showed)
        totals = {} if total is None else {p: (n, d) for p, n, d in
                                           zip(total["period"], total["numerator"], total["denominator"])}
        for period, rows in stored.groupby("period"):
            total_hidden = bool(rows[rows["area"].isna()]["suppressed"].any())
            offices = set(rows.loc[rows["area"].notna(), "area"])
            if offices and offices <= set(sel.areas) and _same_figure(totals.get(period), own.get(period)):
                hidden[period] = total_hidden
                continue
            hidden_areas = rows.loc[rows["area"].notna() & rows["suppressed"].astype(bool), "area"]
            hidden[period] = hidden.get(period, False) or selection_hidden(hidden_areas, total_hidden, sel.areas,
                                                                           derivable)
    out = df.copy()
    mask = out["period"].map(lambda p: bool(hidden.get(p, False))).astype(bool)
    out["suppressed"] = mask
    for col in ("value", "numerator", "denominator"):
        if col in out:
            out[col] = out[col].astype("float64").where(~mask)
    return rates_only(kpi, out)


def _same_figure(a: tuple | None, b: tuple | None) -> bool:
    """Two (numerator, denominator) pairs the same: both missing alike, or equal to 1e-9."""
    if a is None or b is None:
        return False
    for x, y in zip(a, b):
        x_missing, y_missing = x is None or pd.isna(x), y is None or pd.isna(y)
        if x_missing != y_missing or (not x_missing and abs(float(x) - float(y)) > 1e-9 * max(1.0, abs(float(y)))):
            return False
    return True


#: Decimals of a rate or median as the board receives it: as shown on screen (`spc.format_value`).
#: At full precision a rate gives its fraction back: 96.3963963963964% is 107 of 111, and so the
#: 4 not counted (a review recovered every one of 655 rates so).
SHOWN_DECIMALS = 1


def shown(value):
    """A rate or median as the board receives it: rounded to `SHOWN_DECIMALS`, as Python's
    `round` does (the rounding `f"{v:.1f}"` shows); None or NaN as it is."""
    if value is None or pd.isna(value):
        return value
    return round(float(value), SHOWN_DECIMALS)


def round_rates(df: pd.DataFrame, rates, value: str = "value") -> pd.DataFrame:
    """`df` with the values of its rows whose `rates` is True (a boolean per row, or one for all)
    rounded as the board receives them (`shown`)."""
    if value not in df or df.empty:
        return df
    out = df.copy()
    mask = pd.Series(rates, index=out.index, dtype=bool)
    out[value] = out[value].astype("float64")
    out.loc[mask, value] = out.loc[mask, value].map(shown)
    return out


def rates_only(kpi, df: pd.DataFrame) -> pd.DataFrame:
    """The board sees a rate (or median), never the counts behind it: numerator and denominator
    missing for every KPI that is not a plain count, and the value rounded as shown (`shown`).
    177 of 178 would disclose the 1 case not counted, a rate times its denominator gives the
    numerator, and so that complement; so would a rate to many decimals."""
    if kpi.aggregate == "sum":
        return df
    out = round_rates(df, True)
    for col in ("numerator", "denominator"):
        if col in out:
            out[col] = float("nan")
    return out


def published_only(result):
    """An XmR result for drawing a board series that has a hidden month: its published values,
    and no mean, limits or special causes (each is worked out from every month, so with the
    shown months it would give the hidden ones back). Nor are the ratings in words (`verdict.assess`)."""
    import dataclasses

    points = tuple(dataclasses.replace(p, mean=None, lpl=None, upl=None, point_type=None, rule=None)
                   for p in result.points)
    return dataclasses.replace(result, points=points, mean=None, lpl=None, upl=None, variation=None,
                               assurance=None, trial_limits=False, segments=())


def spc_as_shown(result):
    """An XmR result for drawing a board series with no hidden month: its mean, limits, moving
    ranges and baseline mean rounded as the board's rates are (`shown`). The board chooses the
    months: over one month the mean is that month's value, over two the mean and the limits give
    both, and at full precision a value gives its fraction back (a review read 15 of 16 off a
    mean of 93.75). The signals and ratings are the true ones."""
    import dataclasses

    r = shown
    points = tuple(dataclasses.replace(p, mean=r(p.mean), lpl=r(p.lpl), upl=r(p.upl)) for p in result.points)
    segments = tuple(dataclasses.replace(s, mean=r(s.mean), mean_moving_range=r(s.mean_moving_range), lpl=r(s.lpl),
                                         upl=r(s.upl), raw_lpl=r(s.raw_lpl), raw_upl=r(s.raw_upl))
                     for s in result.segments)
    shift = dataclasses.replace(result.shift, baseline_mean=r(result.shift.baseline_mean)) if result.shift else None
    return dataclasses.replace(result, mean=r(result.mean), lpl=r(result.lpl), upl=r(result.upl), points=points,
                               segments=segments, shift=shift)


def trajectory_as_shown(traj):
    """A trajectory for the board, its fitted line, band and latest value rounded as the board's
    rates are (`shown`): a line fitted to three months and its band, at full precision, give the
    three months back."""
    import dataclasses

    if traj is None:
        return None
    r = shown
    points = tuple(dataclasses.replace(p, projected=r(p.projected), lower=r(p.lower), upper=r(p.upper))
                   for p in traj.points)
    return dataclasses.replace(traj, points=points, projected=r(traj.projected), lower=r(traj.lower),
                               upper=r(traj.upper), slope=r(traj.slope), intercept=r(traj.intercept),
                               latest_value=r(traj.latest_value))


COUNT_CELL = type("CountCell", (), {"unit": "count", "aggregate": "sum"})()
RATE_CELL = type("RateCell", (), {"unit": "pct", "aggregate": "ratio"})()


def protect_margin(df: pd.DataFrame, part: str, total_label=None, kind=COUNT_CELL, value: str = "value",
                   before: dict | None = None,
                   chooser: Callable[[str], Callable | None] = lambda month: None) -> pd.DataFrame:
    """Primary and complementary suppression of a one-level table per month: rows of `part`
    (e.g. area offices, or assessment types) that add up to a total. The total is the row whose
    `part` is `total_label`; with none, the parts' sum (shown elsewhere) is taken as the total.
    `before`: month -> the parts the board was denied in an earlier version (None or
    `total_label`: the total), hidden again (`csc.suppression.hidden_parts`). `chooser`: month ->
    the partner choice of that month (`keyed_choice`; the default, None: the next smallest).
    Adds `suppressed` and blanks value, numerator and denominator where it is set."""
    out = df.copy()
    hidden = np.zeros(len(out), dtype=bool)
    before = before or {}
    # only the months with a small cell, or one hidden before, can hide anything (the parts are not
    # negative: a small total has a small part); the others are not looked at row by row
    measures = [value] if kind.aggregate == "sum" else ["numerator", "denominator"][kind.aggregate != "ratio":]
    any_small = (pd.concat([small(out[c]) for c in measures], axis=1).any(axis=1) if len(out)
                 else pd.Series(False, index=out.index))
    decide = out["period"].isin(set(out.loc[any_small, "period"]) | set(before)).to_numpy()
    # the rows to decide as plain lists, grouped by month in their order (a month's rows looked at
    # through pandas one by one took ~1.4 ms a month: most of a small council's full recompute)
    rows = out[decide]
    at = np.flatnonzero(decide)  # each row's position in `out`
    names = rows[part].tolist()
    if kind.aggregate == "sum":
        figures = [(v, None) for v in rows[value].tolist()]
    else:
        figures = list(zip(rows["numerator"].tolist(), rows["denominator"].tolist()))
    months: dict = {}
    for i, period in enumerate(rows["period"].tolist()):
        if not pd.isna(period):  # a row with no month is in no month's margin (as groupby left it)
            months.setdefault(period, []).append(i)
    for period in sorted(months):
        mine = months[period]
        totals = [i for i in mine if total_label is not None and names[i] == total_label]
        cells, parent_of, index = {}, {}, {}
        for i in mine:
            if i in totals:
                continue
            key = ("part", names[i])
            cells[key], index[key], parent_of[key] = figures[i], at[i], "total"
        if totals:
            cells["total"], index["total"] = figures[totals[0]], at[totals[0]]
        else:  # the parts' sum, missing figures left out
            n = sum(figures[i][0] for i in mine if not pd.isna(figures[i][0]))
            cells["total"] = (n, None) if kind.aggregate == "sum" else (
                n, sum(figures[i][1] for i in mine if not pd.isna(figures[i][1])))
        denied = {"total" if p is None or p == total_label else ("part", p) for p in before.get(period, ())}
        keys = protect_cells(kind, cells, parent_of, denied, chooser(period))
        if "total" in keys and "total" not in index:  # the total is shown elsewhere: hide every part
            keys |= set(parent_of)
        for k in keys:
            if k in index:
                hidden[index[k]] = True
    out["suppressed"] = hidden
    for col in (value, "numerator", "denominator"):
        if col in out:
            out[col] = out[col].astype("float64").where(~hidden)
    return out
