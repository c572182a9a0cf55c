"""Complementary suppression for the board, worked by hand on small margins, and attacked by
brute force on a generated council with many small cells (every selection of area offices)."""

from __future__ import annotations

import itertools
import random
from types import SimpleNamespace

import pandas as pd
import pytest

from csc import privacy
from tests.disclosure import recovered, small_totals

RATE = SimpleNamespace(unit="pct", aggregate="ratio")
COUNT = SimpleNamespace(unit="count", aggregate="sum")
MEDIAN = SimpleNamespace(unit="days", aggregate="median")
TIMELINESS = SimpleNamespace(unit="days", aggregate="sum")
T = (None, None)


def areas_margin(total, **areas):
    cells = {T: total, **{(a, None): v for a, v in areas.items()}}
    parent_of = {(a, None): T for a in areas}
    return cells, parent_of


def test_the_issue_example_hides_the_next_smallest_area_not_a_zero():
    # transfers waiting, Feb 2012: all areas 26 = Cambridge City 9 + Fenland 12 + Integrated Access 0 +
    # Huntingdon 5. Huntingdon (5) is hidden; alone it would be 26 - 9 - 12 - 0 = 5, so the next-smallest
    # area with something to hide is hidden too: Cambridge City (9), not Integrated Access (0).
    cells, parent_of = areas_margin((26, None), Cambridge=(9, None), Fenland=(12, None), Integrated=(0, None),
                                    Huntingdon=(5, None))
    assert privacy.protect_cells(COUNT, cells, parent_of) == {("Huntingdon", None), ("Cambridge", None)}


def test_a_rate_is_hidden_with_its_smallest_denominator_sibling():
    # 2 of 18 (numerator small) in Fenland; the others 10 of 40 and 30 of 60: 10 of 40 goes with it
    cells, parent_of = areas_margin((42, 118), Fenland=(2, 18), City=(10, 40), Hunts=(30, 60))
    assert privacy.protect_cells(RATE, cells, parent_of) == {("Fenland", None), ("City", None)}


def test_two_hidden_areas_need_nothing_more():
    cells, parent_of = areas_margin((30, 60), A=(1, 10), B=(3, 20), C=(26, 30))
    assert privacy.protect_cells(RATE, cells, parent_of) == {("A", None), ("B", None)}


def test_a_small_total_hides_an_area_so_the_total_is_not_their_sum():
    # all areas 3 of 20 is hidden; every area is 0 of something or 3 of 7 (hidden): 0 of 6 and 0 of 7
    # are shown, so 3 of 20 = 3 of 7 + 0 of 6 + 0 of 7 ... the hidden total still needs a second hidden
    # area only when no area is hidden; here A (3 of 7) is hidden already, so nothing more.
    cells, parent_of = areas_margin((3, 20), A=(3, 7), B=(0, 6), C=(0, 7))
    assert privacy.protect_cells(RATE, cells, parent_of) == {T, ("A", None)}
    # a hidden total with every area shown: the smallest area is hidden
    cells, parent_of = areas_margin((4, 40), A=(0, 8), B=(4, 32))
    assert privacy.protect_cells(COUNT, {k: (v[0], None) for k, v in cells.items()}, parent_of) == {T, ("B", None)}


def test_an_area_with_one_team_hides_with_it():
    # Integrated Access has one team: the team is the area, so both are hidden or neither;
    # the area office then needs a partner in the all-areas margin
    cells = {T: (40, None), ("IA", None): (4, None), ("X", None): (36, None), ("team", "IA", "t1"): (4, None),
             ("team", "X", "x1"): (20, None), ("team", "X", "x2"): (16, None)}
    parent_of = {("IA", None): T, ("X", None): T, ("team", "IA", "t1"): ("IA", None),
                 ("team", "X", "x1"): ("X", None), ("team", "X", "x2"): ("X", None)}
    hidden = privacy.protect_cells(COUNT, cells, parent_of)
    assert {("IA", None), ("team", "IA", "t1"), ("X", None)} <= hidden
    # X hidden with both teams shown would give X = 20 + 16: a team of X is hidden too
    assert ("team", "X", "x2") in hidden


def test_a_median_is_protected_on_its_count_and_timeliness_never():
    cells, parent_of = areas_margin((None, 30), A=(None, 3), B=(None, 12), C=(None, 15))
    assert privacy.protect_cells(MEDIAN, cells, parent_of) == {("A", None), ("B", None)}
    cells, parent_of = areas_margin((3, None))
    assert privacy.protect_cells(TIMELINESS, cells, parent_of) == set()


def test_hidden_counts_that_total_from_1_to_5_hide_one_more():
    # transfers waiting: all areas 26 = Huntingdon 2 + Fenland 3 + Cambridge 9 + City 12. Huntingdon and
    # Fenland are hidden on their own, and each is the other's partner, but 26 - 9 - 12 = 5 between
    # them is itself a count from 1 to 5: Cambridge (9) is hidden too (14 between the three)
    cells, parent_of = areas_margin((26, None), Huntingdon=(2, None), Fenland=(3, None), Cambridge=(9, None),
                                    City=(12, None))
    assert privacy.protect_cells(COUNT, cells, parent_of) == {("Huntingdon", None), ("Fenland", None),
                                                              ("Cambridge", None)}
    # a rate's numerators are not known from what the board sees: two small cells are enough
    cells, parent_of = areas_margin((26, 60), Huntingdon=(2, 10), Fenland=(3, 10), Cambridge=(9, 20), City=(12, 20))
    assert privacy.protect_cells(RATE, cells, parent_of) == {("Huntingdon", None), ("Fenland", None)}


def test_hidden_teams_under_hidden_areas_that_total_from_1_to_5_hide_one_more():
    # all areas 50 = A 4 + B 20 + C 26. A (4) is hidden, and B with it (24 between them); A's one team
    # a1 (4) with A; in B, b1 (1) is hidden on its own and B is hidden already. The board sees 50, C 26
    # and b2 19: 50 - 26 - 19 = 5 = a1 + b1, two teams' count from 1 to 5, so b2 is hidden too.
    cells = {T: (50, None), ("A", None): (4, None), ("B", None): (20, None), ("C", None): (26, None),
             ("team", "A", "a1"): (4, None), ("team", "B", "b1"): (1, None), ("team", "B", "b2"): (19, None),
             ("team", "C", "c1"): (26, None)}
    parent_of = {("A", None): T, ("B", None): T, ("C", None): T, ("team", "A", "a1"): ("A", None),
                 ("team", "B", "b1"): ("B", None), ("team", "B", "b2"): ("B", None), ("team", "C", "c1"): ("C", None)}
    assert privacy.protect_cells(COUNT, cells, parent_of) == {
        ("A", None), ("B", None), ("team", "A", "a1"), ("team", "B", "b1"), ("team", "B", "b2")}


def test_the_partner_rule_is_no_clue_to_a_hidden_count():
    # A second review: transfers waiting, all areas 29 = Alpha 7 + Charlie 7 + Delta 5 + Echo 10. Delta
    # (5) is hidden with the next smallest, Alpha (7: it wins the tie with Charlie by name). The board
    # sees 29, Charlie 7, Echo 10: Alpha + Delta = 12. Knowing the rule, Delta as the partner would be
    # at most 6 (at 7 Charlie wins the tie), so Alpha would be the small one, at least 6: no. So Delta
    # is the small one and Alpha the partner, at most 7: 7 + 5, both exact. Charlie (7) is hidden too:
    # Alpha + Charlie + Delta = 19, each at most Echo's 10, and no cell is fixed.
    cells, parent_of = areas_margin((29, None), Alpha=(7, None), Charlie=(7, None), Delta=(5, None),
                                    Echo=(10, None))
    assert privacy.protect_cells(COUNT, cells, parent_of) == {("Alpha", None), ("Charlie", None), ("Delta", None)}
    # the issue example is no such case: Huntingdon 5 with Cambridge 9 (14), Fenland 12 shown; Huntingdon
    # may be 2 to 5 (Cambridge the partner) or 9 to 11 (Huntingdon the partner, Cambridge small)
    cells, parent_of = areas_margin((26, None), Cambridge=(9, None), Fenland=(12, None), Integrated=(0, None),
                                    Huntingdon=(5, None))
    assert privacy.protect_cells(COUNT, cells, parent_of) == {("Huntingdon", None), ("Cambridge", None)}


def test_the_partner_rule_is_no_clue_to_a_hidden_rate_whose_denominators_are_seen():
    # The same review: re-referrals, all referral counts shown. Xav 25 of 30 (5 not re-referred: small),
    # Yew 0 of 8, Zed 6 of 12, Wye 10 of 20; all areas 41 of 70. Xav is hidden with the next smallest
    # count, Yew (8): 25 re-referrals between them. Xav's 30 is more than Zed's 12, so Xav cannot be the
    # partner: it is the small one, 1 to 5 re-referrals (Yew would need 20 or more of 8: no) or 25 to 29;
    # with Yew 0 to 8, Xav is 25 exactly, 5 not. Zed (12) is hidden too: Xav is then 25 to 29.
    shown = SimpleNamespace(unit="pct", aggregate="ratio", denominator_shown="referrals_by_area")
    cells, parent_of = areas_margin((41, 70), Xav=(25, 30), Yew=(0, 8), Zed=(6, 12), Wye=(10, 20))
    assert privacy.protect_cells(shown, cells, parent_of) == {("Xav", None), ("Yew", None), ("Zed", None)}


def test_a_small_complement_is_hidden_where_the_board_sees_the_denominator():
    # re-referrals, July: North 6 of 8 (75%), South 6 of 12, East 10 of 20, all areas 22 of 40. The
    # board sees the referral counts (8, 12, 20, 40) beside the rates, so 75% of 8 tells that 6 were
    # re-referred and 2 were not: North's complement (2) is small, and North is hidden with the next
    # smallest denominator, South. A rate with no denominator shown keeps all four.
    shown = SimpleNamespace(unit="pct", aggregate="ratio", denominator_shown=True)
    cells, parent_of = areas_margin((22, 40), North=(6, 8), South=(6, 12), East=(10, 20))
    assert privacy.protect_cells(shown, cells, parent_of) == {("North", None), ("South", None)}
    assert privacy.protect_cells(RATE, cells, parent_of) == set()
    # a complement of 0 (8 of 8) and of 6 are not small; 5 is
    assert not privacy.primary(shown, 8, 8) and not privacy.primary(shown, 14, 20) and privacy.primary(shown, 15, 20)


def test_the_simple_suppression_of_a_rate_with_a_shown_denominator_hides_a_small_complement():
    shown = SimpleNamespace(unit="pct", aggregate="ratio", denominator_shown=True, suppressible=True)
    df = pd.DataFrame({"numerator": [6.0, 6.0, 0.0], "denominator": [8.0, 12.0, 3.0], "value": [75.0, 50.0, 0.0]})
    out = privacy.suppress_kpi(df, shown)
    assert out["suppressed"].tolist() == [True, False, True]  # complement 2; complement 6; denominator 3
    assert out["value"].isna().tolist() == [True, False, True]
    assert privacy.suppress_kpi(df, RATE)["suppressed"].tolist() == [False, False, True]


def test_which_selections_the_board_may_see():
    hidden = {"A", "B"}
    assert privacy.selection_hidden(hidden, False, {"C", "D"}) is False  # no hidden area
    assert privacy.selection_hidden(hidden, False, {"A", "C"}) is True  # one of the hidden pair
    assert privacy.selection_hidden(hidden, False, {"A", "B"}) is False  # A + B = total - C - D anyway
    assert privacy.selection_hidden(hidden, False, {"A", "B", "C"}) is False
    assert privacy.selection_hidden(hidden, True, {"A", "B", "C"}) is True  # total hidden: would give it away
    assert privacy.selection_hidden(set(), True, {"A", "B"}) is False
    # a rate the board sees without its counts cannot be taken apart: total minus shown offices is
    # not worked out, so a selection holding a hidden office would be new (a red-team review)
    assert privacy.selection_hidden(hidden, False, {"A", "B"}, derivable=False) is True
    assert privacy.selection_hidden(hidden, False, {"A", "B", "C"}, derivable=False) is True
    assert privacy.selection_hidden(hidden, False, {"C", "D"}, derivable=False) is False


def _stored_month(cells: dict[str | None, tuple[float, float, bool]]) -> pd.DataFrame:
    """One month's stored board decision: area (None: all areas) -> (numerator, denominator, hidden)."""
    return pd.DataFrame([{"period": "2011-05", "area": a, "numerator": n, "denominator": d, "suppressed": h}
                         for a, (n, d, h) in cells.items()])


def _by_office(kpi) -> SimpleNamespace:
    return SimpleNamespace(**vars(kpi), all_areas_only=False)


def _selection(df_rows: list[tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"period": "2011-05", "numerator": n, "denominator": d,
                          "value": 100 * n / d if d else None} for n, d in df_rows])


def test_the_board_sees_a_selection_of_offices_only_where_it_could_work_it_out():
    # Two offices hidden (3 of 9 and 1 of 2 audited plans SMART), two shown, all areas shown: the
    # red-team's Cambridge City + Huntingdon. Together they are 4 of 11, 36.4%: a rate the board
    # sees without counts, so new, and its numerator is from 1 to 5 as well. Hidden.
    stored = _stored_month({None: (20.0, 40.0, False), "A": (3.0, 9.0, True), "B": (1.0, 2.0, True),
                            "C": (8.0, 14.0, False), "D": (8.0, 15.0, False)})
    sel = SimpleNamespace(areas=("A", "B"))
    out = privacy.board_view(stored, _by_office(RATE), sel, _selection([(4.0, 11.0)]))
    assert out["suppressed"].tolist() == [True] and out["value"].isna().all()
    # with a shown office beside them (12 of 25, 48%: no small number in it) still new, still hidden
    sel = SimpleNamespace(areas=("A", "B", "C"))
    assert privacy.board_view(stored, _by_office(RATE), sel, _selection([(12.0, 25.0)]))["suppressed"].tolist() == [True]
    # a count the board adds up: 12 = all areas 20 - D's 8, which it sees anyway: shown
    counts = _stored_month({None: (20.0, None, False), "A": (3.0, None, True), "B": (1.0, None, True),
                            "C": (8.0, None, False), "D": (8.0, None, False)})
    out = privacy.board_view(counts, _by_office(COUNT), sel, pd.DataFrame([{"period": "2011-05", "numerator": 12.0,
                                                                 "denominator": None, "value": 12.0}]))
    assert out["suppressed"].tolist() == [False] and out["value"].tolist() == [12.0]


def test_a_selection_of_every_office_is_all_areas_when_its_figure_is_theirs():
    # A review: ticking every office showed c for nine rates that "All areas" showed. When the
    # selection's figure is all areas' own (20 of 40 both), it is shown or hidden as all areas is;
    # when it is not (records with no office: 19 of 38), the rule for a selection holds (hidden).
    stored = _stored_month({None: (20.0, 40.0, False), "A": (3.0, 9.0, True), "B": (1.0, 2.0, True),
                            "C": (8.0, 14.0, False), "D": (8.0, 15.0, False)})
    every = SimpleNamespace(areas=("A", "B", "C", "D"))
    total = _selection([(20.0, 40.0)])
    out = privacy.board_view(stored, _by_office(RATE), every, _selection([(20.0, 40.0)]), total=total)
    assert out["suppressed"].tolist() == [False] and out["value"].tolist() == [50.0]
    out = privacy.board_view(stored, _by_office(RATE), every, _selection([(19.0, 38.0)]), total=total)
    assert out["suppressed"].tolist() == [True]
    assert privacy.board_view(stored, _by_office(RATE), every, _selection([(20.0, 40.0)]))["suppressed"].tolist() == [True]
    hidden_total = stored.assign(suppressed=[True, True, True, False, False])
    out = privacy.board_view(hidden_total, _by_office(RATE), every, _selection([(20.0, 40.0)]), total=total)
    assert out["suppressed"].tolist() == [True]  # all areas hidden: so is its figure under another name
    three = SimpleNamespace(areas=("A", "B", "C"))  # not every office: the selection's rule
    assert privacy.board_view(stored, _by_office(RATE), three, _selection([(12.0, 25.0)]),
                              total=total)["suppressed"].tolist() == [True]


def test_a_selections_own_figure_follows_the_1_to_5_rule_however_it_is_made_up():
    # A and B hidden, total shown, a count: by the margin rule the selection A + B could be shown
    # (total minus the shown offices). Were its own count from 1 to 5 (the stored decision never lets
    # it be: the hidden cells under a shown parent total 0 or more than 5), it is hidden all the same.
    counts = _stored_month({None: (20.0, None, False), "A": (3.0, None, True), "B": (1.0, None, True),
                            "C": (16.0, None, False)})
    sel = SimpleNamespace(areas=("A", "B"))
    out = privacy.board_view(counts, _by_office(COUNT), sel, pd.DataFrame([{"period": "2011-05", "numerator": 4.0,
                                                                 "denominator": None, "value": 4.0}]))
    assert out["suppressed"].tolist() == [True] and out["value"].isna().all()


# --- a generated council with many small cells, attacked by brute force ---------------------------


def _council(seed: int):
    """8 area offices of 1 to 3 teams, each team's numerator and denominator from 0 to 9."""
    rnd = random.Random(seed)
    teams = {f"A{i}": [f"A{i}t{j}" for j in range(rnd.choice((1, 2, 3)))] for i in range(8)}
    leaf = {}
    for a, ts in teams.items():
        for t in ts:
            den = rnd.choice((0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20))
            leaf[(a, t)] = (rnd.randint(0, den), den)
    return teams, leaf


def _attack(kpi, teams, leaf, protect):
    """What the board sees of one month, and which hidden cells it recovers."""
    def total(keys):
        n = sum(leaf[k][0] for k in keys)
        d = sum(leaf[k][1] for k in keys)
        return n, d

    present = [k for k in leaf if leaf[k][1] > 0]  # a cell with no cases has no row (no value)
    cells, parent_of = {T: total(present)}, {}
    for a, ts in teams.items():
        keys = [(a, t) for t in ts if (a, t) in present]
        if keys:
            cells[(a, None)] = total(keys)
            parent_of[(a, None)] = T
            for k in keys:
                cells[("team", *k)] = leaf[k]
                parent_of[("team", *k)] = (a, None)
    hidden = protect(kpi, cells, parent_of)

    def leaves_of(key):
        if key == T:
            return frozenset(present)
        if key[0] == "team":
            return frozenset([key[1:]])
        return frozenset(k for k in present if k[0] == key[0])

    visible = [leaves_of(k) for k in cells if k not in hidden]
    hidden_areas = {k[0] for k in hidden if k != T and k[0] != "team"}
    areas = [k[0] for k in cells if k != T and k[0] != "team"]
    for n in range(2, len(areas) + 1):
        for sel in itertools.combinations(areas, n):
            if not privacy.selection_hidden(hidden_areas, T in hidden, sel):
                visible.append(frozenset().union(*(leaves_of((a, None)) for a in sel)))
    secret = {str(k): leaves_of(k) for k in hidden}
    return len(hidden), recovered(present, visible, secret)


def _keyed(secret: bytes):
    """`privacy.protect_cells` with partners chosen by `secret`, as the stored decision chooses them
    (or by `choose`, an attacker's trial of every choice: `tests.disclosure_two_level.hidden_sets`)."""
    def rule(kpi, cells, parent_of, choose=None):
        return privacy.protect_cells(kpi, cells, parent_of, choose=choose or privacy.keyed_choice(secret, "count", "m"))
    return rule


@pytest.mark.parametrize("keyed", [False, True], ids=["next smallest", "keyed"])
def test_no_hidden_cell_of_a_generated_council_comes_back_from_any_selection(keyed):
    hidden_total, leaks = 0, []
    for seed in range(60):
        teams, leaf = _council(seed)
        rule = _keyed(f"deployment {seed}".encode()) if keyed else privacy.protect_cells
        n, back = _attack(RATE, teams, leaf, rule)
        hidden_total += n
        leaks += [(seed, b) for b in back]
    assert hidden_total > 300  # many small cells were hidden ...
    assert leaks == []  # ... and none comes back


def test_the_attack_finds_what_primary_suppression_alone_leaves():
    # the same councils with only the 1-5 rule: the attack must find cells, or it proves nothing
    def primary_only(kpi, cells, parent_of):
        return {k for k, (n, d) in cells.items() if privacy.primary(kpi, n, d)}

    leaks = sum(len(_attack(RATE, *_council(seed), primary_only)[1]) for seed in range(60))
    assert leaks > 20


def _count_attack(seed: int, protect):
    """A generated month of a count (transfers waiting): 5 area offices of 1 to 3 teams, each team
    0 to 9; the sets of teams the board cannot see one by one whose total it works out to be from
    1 to 5, with every selection of offices it may see."""
    rnd = random.Random(seed)
    teams = {f"A{i}": [f"A{i}t{j}" for j in range(rnd.choice((1, 2, 3)))] for i in range(5)}
    leaf = {(a, t): rnd.choice((0, 1, 2, 3, 4, 6, 9, 14)) for a, ts in teams.items() for t in ts}
    cells, parent_of = {T: (sum(leaf.values()), None)}, {}
    for a, ts in teams.items():
        cells[(a, None)] = (sum(leaf[(a, t)] for t in ts), None)
        parent_of[(a, None)] = T
        for t in ts:
            cells[("team", a, t)], parent_of[("team", a, t)] = (leaf[(a, t)], None), (a, None)
    hidden = protect(COUNT, cells, parent_of)

    def leaves_of(key):
        if key == T:
            return frozenset(leaf)
        return frozenset([key[1:]]) if key[0] == "team" else frozenset(k for k in leaf if k[0] == key[0])

    visible = [leaves_of(k) for k in cells if k not in hidden]
    hidden_areas = {k[0] for k in hidden if k != T and k[0] != "team"}
    for n in range(2, len(teams) + 1):
        for sel in itertools.combinations(teams, n):
            if not privacy.selection_hidden(hidden_areas, T in hidden, sel):
                visible.append(frozenset().union(*(leaves_of((a, None)) for a in sel)))
    return small_totals(list(leaf), visible, leaf)


def test_no_total_of_hidden_counts_from_1_to_5_in_a_generated_council(monkeypatch):
    leaks = [(seed, sorted(s)) for seed in range(40) for s in _count_attack(seed, privacy.protect_cells)]
    assert leaks == []
    keyed = [(seed, sorted(s)) for seed in range(40) for s in _count_attack(seed, _keyed(f"deployment {seed}".encode()))]
    assert keyed == []
    # the attack finds them where only one unknown per margin is kept (the rule before 2026-12-04)
    monkeypatch.setattr(privacy, "additive", lambda kpi: None)
    assert sum(len(_count_attack(seed, privacy.protect_cells)) for seed in range(40)) > 5


def _rule_aware_leaks(seed: int, keyed: bool = False) -> list:
    """A month of a count over 5 area offices (no teams), attacked by one who knows the rule: every
    way of filling the hidden offices that adds up to what is seen and makes the rule hide exactly
    the same offices; an office with one value in all of them is given back. `keyed`: the partners
    chosen by a secret, which the attacker does not know (any choice that hides the same offices)."""
    from tests.disclosure_two_level import hidden_sets

    rnd = random.Random(seed)
    names = ["A", "B", "C", "D", "E"]
    values = {a: rnd.choice((0, 1, 2, 3, 4, 5, 6, 7, 7, 9, 14)) for a in names}

    def margin(vals):
        return areas_margin((sum(vals.values()), None), **{a: (v, None) for a, v in vals.items()})

    def decide(vals):
        return (_keyed(f"deployment {seed}".encode()) if keyed else privacy.protect_cells)(COUNT, *margin(vals))

    def consistent(vals):
        if keyed:
            return hidden in hidden_sets(privacy.protect_cells, COUNT, *margin(vals))
        return decide(vals) == hidden

    hidden = decide(values)
    if T in hidden or not hidden:
        return []
    secret = [k[0] for k in hidden]
    total = sum(values[a] for a in secret)
    seen: dict = {a: set() for a in secret}
    for fill in itertools.product(range(total + 1), repeat=len(secret) - 1):
        last = total - sum(fill)
        if last < 0:
            continue
        trial = {**values, **dict(zip(secret, (*fill, last)))}
        if consistent(trial):
            for a in secret:
                seen[a].add(trial[a])
    return [(seed, a, values[a]) for a, vs in seen.items() if len(vs) == 1]


def test_a_hidden_count_comes_back_to_one_who_knows_the_rule_only_through_a_tie(monkeypatch):
    # An attacker who runs the whole rule on every way of filling the hidden offices (a second review).
    # With the audit (`privacy._pinned`) it finds one month of 400 (A 7, B 7, C 5, D 7, E 7: the
    # partner's tie with a shown office broken by name); without, 8 counts in 4 months. Hiding every
    # tied office instead was tried and taken out: a third review found it gave more back over teams
    # and offices together, and hid half of all teams on councils of many teams of 6 or 7.
    with_audit = [leak for seed in range(400) for leak in _rule_aware_leaks(seed)]
    assert {seed for seed, *_ in with_audit} <= {81}
    monkeypatch.setattr(privacy, "_pinned", lambda *args: False)
    without = [leak for seed in range(400) for leak in _rule_aware_leaks(seed)]
    assert len({seed for seed, *_ in without}) >= 4


def test_with_a_keyed_partner_no_hidden_count_of_one_margin_comes_back_to_one_who_knows_the_rule():
    # the same 400 months, the partners chosen by a secret the attacker does not know: none, month
    # 81's tie included (A 7, B 7, C 5, D 7, E 7: C's partner is any of the four 7s)
    assert [leak for seed in range(400) for leak in _rule_aware_leaks(seed, keyed=True)] == []


def test_the_audit_sees_a_large_group_and_a_group_with_nothing_shown_beside_it():
    # a third review: an office of 29 = nine teams of 1 and one of 20. The nine 1s are hidden; nine
    # cells of at least 1 that total 9 (29 - 20) are each 1: the 20 is hidden too.
    cells = {("A", None): (29, None), **{("team", "A", f"t{i}"): (1, None) for i in range(9)},
             ("team", "A", "big"): (20, None)}
    parent_of = {k: ("A", None) for k in cells if k[0] == "team"}
    assert ("team", "A", "big") in privacy.protect_cells(COUNT, cells, parent_of)
    # an office of 6 = six teams of 1, all hidden on their own: nothing is shown beside them, so each
    # would be 6 / 6 = 1; the office is hidden
    cells = {("A", None): (6, None), **{("team", "A", f"t{i}"): (1, None) for i in range(6)}}
    parent_of = {k: ("A", None) for k in cells if k[0] == "team"}
    assert ("A", None) in privacy.protect_cells(COUNT, cells, parent_of)


def test_referrals_by_area_hide_a_partner_for_a_small_office():
    import pandas as pd

    # June: all areas 30 = North 3 + South 12 + East 15. North (3) is hidden, and South (12, the
    # next smallest) with it, or 30 - 12 - 15 would give North's 3.
    df = pd.DataFrame({"period": ["2011-06"] * 4, "area": ["All areas", "North", "South", "East"],
                       "value": [30.0, 3.0, 12.0, 15.0]})
    out = privacy.protect_margin(df, "area", "All areas")
    assert out["suppressed"].tolist() == [False, True, True, False]
    assert out["value"].isna().tolist() == [False, True, True, False]


def test_assessment_types_hide_a_partner_type():
    import pandas as pd

    # Initial 2 of 4 (small), Core 20 of 25, Single 30 of 40: Core (next-smallest denominator) goes too
    df = pd.DataFrame({"period": ["2011-06"] * 3, "assessment_type": ["Initial", "Core", "Single"],
                       "numerator": [2.0, 20.0, 30.0], "denominator": [4.0, 25.0, 40.0], "value": [50.0, 80.0, 75.0]})
    out = privacy.protect_margin(df, "assessment_type", None, kind=privacy.RATE_CELL)
    assert out["suppressed"].tolist() == [True, True, False]


def test_a_type_hidden_in_an_earlier_version_is_hidden_again_with_a_partner():
    import pandas as pd

    # June, revised: Initial 6 of 8, Core 20 of 25, Single 30 of 40, nothing small; Initial was hidden
    # in an earlier version, so it is hidden again, and Core (next-smallest denominator) with it
    df = pd.DataFrame({"period": ["2011-06"] * 3, "assessment_type": ["Initial", "Core", "Single"],
                       "numerator": [6.0, 20.0, 30.0], "denominator": [8.0, 25.0, 40.0], "value": [75.0, 80.0, 75.0]})
    out = privacy.protect_margin(df, "assessment_type", None, kind=privacy.RATE_CELL,
                                 before={"2011-06": {"Initial"}, "2011-05": {"Single"}})
    assert out["suppressed"].tolist() == [True, True, False]
    assert not privacy.protect_margin(df, "assessment_type", None, kind=privacy.RATE_CELL)["suppressed"].any()


def test_types_whose_total_is_small_are_all_hidden_month_by_month():
    import pandas as pd

    # The types add up to all assessments completed, shown elsewhere. June: Initial 3 of 3, Core 0 of
    # 8, Single 0 of 9: 3 in time of 20 in all, and 3 is small, so no type is shown, not only Initial
    # and a partner (Core and Single are not small: 0 in time). July: Initial 9 of 10, Core 20 of
    # 25, Single 30 of 40, nothing small. August: Initial 0 of 0, Core 7 of 9, Single 8 of 8: nothing
    # small (an empty type is not small either).
    df = pd.DataFrame({"period": ["2011-06"] * 3 + ["2011-07"] * 3 + ["2011-08"] * 3,
                       "assessment_type": ["Initial", "Core", "Single"] * 3,
                       "numerator": [3.0, 0.0, 0.0, 9.0, 20.0, 30.0, 0.0, 7.0, 8.0],
                       "denominator": [3.0, 8.0, 9.0, 10.0, 25.0, 40.0, 0.0, 9.0, 8.0],
                       "value": [100.0, 0.0, 0.0, 90.0, 80.0, 75.0, None, 77.8, 100.0]})
    out = privacy.protect_margin(df, "assessment_type", None, kind=privacy.RATE_CELL)
    assert out["suppressed"].tolist() == [True] * 3 + [False] * 6
    assert out["value"].isna().tolist() == [True] * 3 + [False] * 3 + [True, False, False]


def test_a_row_with_no_month_is_in_no_months_margin():
    import pandas as pd

    # June: all areas 30 = North 3 + South 12 + East 15, as above; a row with no month (none is
    # made by the tables, which always name one) is left as it is, in no month's margin
    df = pd.DataFrame({"period": ["2011-06"] * 4 + [None], "area": ["All areas", "North", "South", "East", "West"],
                       "value": [30.0, 3.0, 12.0, 15.0, 2.0]})
    out = privacy.protect_margin(df, "area", "All areas")
    assert out["suppressed"].tolist() == [False, True, True, False, False]


def test_the_two_level_attacker_works_out_a_count_through_the_partner_bound():
    # Worked by hand (a research helper's attacker, tests/disclosure_two_level.py): all areas 39 =
    # A 5 (a0 5) + B 22 (7, 9, 6) + C 0 + D 12 (d0 6, d1 6). A and a0 are small; D, the next smallest
    # office with something in it, is A's partner; D, hidden with none of its teams hidden, hides
    # d0 (tied with d1 at 6, first by name). The board sees A + D = 39 - 22 - 0 = 17. One who knows
    # the rule: D holds d1's 6, so D is not small and A is (A <= 5, D >= 12); d0 is D's partner, no
    # bigger than d1's 6, so D <= 12. Hence D = 12 and A = 5: a small count worked out over two
    # levels, which the one-margin audit does not see (docs/decisions.md, "Not covered").
    from tests.disclosure_two_level import attack

    teams = {"A": ["a0"], "B": ["b0", "b1", "b2"], "C": ["c0"], "D": ["d0", "d1"]}
    leaf = {("A", "a0"): 5, ("B", "b0"): 7, ("B", "b1"): 9, ("B", "b2"): 6, ("C", "c0"): 0,
            ("D", "d0"): 6, ("D", "d1"): 6}
    r = attack(teams, leaf, privacy.protect_cells)
    assert r["hidden"] == {("A", None), ("team", "A", "a0"), ("D", None), ("team", "D", "d0")}
    assert r["pinned"] == {("A", None): 5, ("team", "A", "a0"): 5, ("D", None): 12, ("team", "D", "d0"): 6}


KNOWN_LEAKS = (210, 587, 598, 641, 848, 944, 1023)  # generated months where the next smallest partner gives a count back


def _keyed_attack(teams, leaf, secret: bytes) -> dict:
    """The two-level attacker against the rule as the stored figures use it: partners chosen by a
    secret the attacker does not know, so a filling is kept when any choice of partners hides the
    same cells."""
    from tests.disclosure_two_level import attack, hidden_sets, tree

    rule = _keyed(secret)
    truth = rule(COUNT, *tree(teams, leaf))
    return attack(teams, leaf, rule, consistent=lambda c, p: truth in hidden_sets(rule, COUNT, c, p))


def test_with_a_keyed_partner_the_partner_bound_gives_nothing_back():
    # The month worked above, partners chosen by a secret: all areas 39 = A 5 (a0 5) + B 22 + C 0 +
    # D 12 (6, 6). The board sees A + D = 17 and one of D's teams (6), so A + the hidden team = 11.
    # The partner of A is any office with something in it, and the team hidden under D either of
    # its two, whatever their sizes: A 1 with D 16 (10 hidden, 6 shown) hides the same cells for
    # some secret, and so does each A from 1 to 5. Nothing is pinned, whichever secret.
    teams = {"A": ["a0"], "B": ["b0", "b1", "b2"], "C": ["c0"], "D": ["d0", "d1"]}
    leaf = {("A", "a0"): 5, ("B", "b0"): 7, ("B", "b1"): 9, ("B", "b2"): 6, ("C", "c0"): 0,
            ("D", "d0"): 6, ("D", "d1"): 6}
    for n in range(6):
        r = _keyed_attack(teams, leaf, f"secret {n}".encode())
        assert {("A", None), ("team", "A", "a0")} <= r["hidden"]
        assert not {k: v for k, v in r["pinned"].items() if 1 <= v <= 5}, (n, r["hidden"], r["pinned"])


def test_no_hidden_count_comes_back_over_offices_and_teams_to_one_who_knows_the_rule():
    # The property the board's rule should have over two levels, against one who knows the rule
    # but not the database's secret. With the next smallest partner (the rule before 2026-12-05)
    # the attacker finds small counts in the months KNOWN_LEAKS (seven of 1,200 generated; a
    # research helper, 2026-12-04); with a keyed partner, none in them nor in the first 20.
    from tests.disclosure_two_level import attack, month

    ordered = [seed for seed in KNOWN_LEAKS if any(1 <= v <= 5 for v in attack(*month(seed), privacy.protect_cells)
                                                   .get("pinned", {}).values())]
    assert ordered == list(KNOWN_LEAKS)  # the attacker finds them: else this test proves nothing
    leaks, skipped = {}, set()
    for seed in (*KNOWN_LEAKS, *range(20)):
        r = _keyed_attack(*month(seed), f"deployment {seed}".encode())
        small = {k: v for k, v in r.get("pinned", {}).items() if 1 <= v <= 5}
        if small:
            leaks[seed] = small
        if r.get("skipped"):
            skipped.add(seed)
    assert leaks == {}
    assert skipped == {13}  # too many fillings to try (attacked nothing): said, not counted as safe


def test_the_keyed_choice_is_the_same_for_the_same_cells_and_spread_over_them():
    cells = [("A", None), ("B", None), ("C", None)]
    choose = privacy.keyed_choice(b"one deployment", "transfers_waiting_count", "2012-02")
    assert choose(cells) == choose(list(reversed(cells))) == choose(cells[1:] + cells[:1])
    # over 300 months each of the three is picked about a third of the time (100 expected; a fair
    # pick is outside 70 to 130 less than once in 3,000)
    months = [f"{2000 + m // 12}-{m % 12 + 1:02d}" for m in range(300)]
    picks = [privacy.keyed_choice(b"one deployment", "transfers_waiting_count", m)(cells) for m in months]
    assert all(70 <= picks.count(c) <= 130 for c in cells), {c: picks.count(c) for c in cells}
    # another deployment's secret, or another KPI, picks differently in some months
    other = [privacy.keyed_choice(b"another deployment", "transfers_waiting_count", m)(cells) for m in months]
    kpi = [privacy.keyed_choice(b"one deployment", "referrals_count", m)(cells) for m in months]
    assert 150 < sum(a != b for a, b in zip(picks, other)) < 250
    assert 150 < sum(a != b for a, b in zip(picks, kpi)) < 250
