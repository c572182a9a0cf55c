"""Breakdowns beside the KPI series (`csc.breakdowns`): by team, referrals per month, assessment
timeliness by type, and the words that go with the charts — from tiny hand-made extracts and
hand-made frames, every expected value worked out by hand.

Working days (wd(a, b): weekdays a < d <= b that are not bank holidays): July 2011 has none;
Mon 4 -> Tue 12 July = 6, Mon 4 -> Thu 14 July = 8. May 2011 has bank holidays on Mon 2 and
Mon 30.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import plotly.graph_objects as go
import pytest

from csc import breakdowns, charts, kpis, privacy, spc, suppression

JULY_IMPORT = dt.datetime(2011, 8, 5, 9, 0)
WORKFORCE = ["worker_id", "area_office", "team", "is_qualified", "is_agency", "fte", "start_date", "end_date"]
SUPERVISION = ["supervision_id", "worker_id", "supervision_date"]
REFERRAL = ["referral_id", "child_id", "referral_date", "area_office"]
ASSESSMENT = ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "area_office"]


def day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def worker(wid, area, team, agency="N", fte=1.0):
    return [wid, area, team, "Y", agency, fte, day("2010-01-01"), None]


# --- by team ------------------------------------------------------------------------------------


@pytest.fixture
def teams(store, load):
    """July 2011. North 1: W1, W2 (0.5 FTE), W3 agency; South 1: W4-W10; W11 in no team.
    Supervised in the 42 days to 31 July: W1, W4-W9."""
    load({
        "Workforce": [WORKFORCE,
                      worker("W1", "North", "North 1"), worker("W2", "North", "North 1", fte=0.5),
                      worker("W3", "North", "North 1", agency="Y"),
                      *[worker(f"W{i}", "South", "South 1") for i in range(4, 11)],
                      worker("W11", "South", None)],
        "Supervisions": [SUPERVISION, *[[f"S{w}", w, day("2011-07-05")] for w in
                                        ("W1", "W4", "W5", "W6", "W7", "W8", "W9")]],
    }, period="2011-07", imported_at=JULY_IMPORT)
    return store


def test_team_table_aggregates_the_records_by_team(teams):
    long = breakdowns.team_table(teams.cursor(), ["supervision_pct"], "2011-07")
    df = long.set_index("team")
    # North 1: W1 of W1-W3 -> 1 of 3; South 1: W4-W9 of W4-W10 -> 6 of 7; W11 unsupervised, no team
    assert (df.loc["North 1", "numerator"], df.loc["North 1", "denominator"]) == (1, 3)
    assert df.loc["South 1", "value"] == pytest.approx(600 / 7)
    assert df.loc[breakdowns.NO_TEAM, "value"] == 0
    assert df.loc[breakdowns.NO_TEAM, "area"] == "South"
    assert not long["suppressed"].any()  # the analyst's: every figure shown


def test_team_table_follows_the_area_filter(teams):
    df = breakdowns.team_table(teams.cursor(), ["agency_rate_pct"], "2011-07", areas=("North",))
    # North 1: agency W3 1.0 of 2.5 FTE
    assert df["team"].tolist() == ["North 1"]
    assert df["value"].iloc[0] == pytest.approx(40.0)


def test_team_table_reads_the_stored_figures_and_makes_no_table_per_view(teams):
    """Worked out once per import with the KPIs (issue 17): a view's table runs no KPI's SQL, which
    made the months' temporary tables on the page's cursor twice a call."""
    cur = teams.cursor()
    long = breakdowns.team_table(cur, ["supervision_pct", "agency_rate_pct"], "2011-07")
    assert len(long) == 6  # North 1, South 1 and (no team) for each (W11: supervised 0 of 1, agency 0 of 1 FTE)
    assert long["kpi"].tolist() == ["supervision_pct"] * 3 + ["agency_rate_pct"] * 3  # the page's order, not a-z
    assert cur.execute("select count(*) from duckdb_tables() where temporary").fetchone()[0] == 0


def test_a_team_with_no_value_for_any_measure_is_not_listed(store, load):
    """The stored team figures are those with a value. North 2's only worker left in June: one
    leaver, but no one in post, so no base for turnover and nothing for the other measures."""
    load({"Workforce": [WORKFORCE, worker("W1", "North", "North 1"),
                        ["W12", "North", "North 2", "Y", "N", 1.0, day("2010-01-01"), day("2011-06-15")]]},
         period="2011-07", imported_at=JULY_IMPORT)
    long = breakdowns.team_table(store.cursor(), ["turnover_rate_pct", "agency_rate_pct", "caseload_avg"], "2011-07")
    assert "North 2" not in set(long["team"])
    assert "North 1" in set(long["team"])


def test_team_table_suppresses_small_numbers_for_the_board(teams):
    long = breakdowns.team_table(teams.cursor(), ["supervision_pct"], "2011-07", suppress=True)
    by_team = long.set_index("team")
    assert bool(by_team.loc["North 1", "suppressed"])  # 1 of 3
    assert not by_team.loc["South 1", "suppressed"]  # 6 of 7
    assert pd.isna(by_team.loc["North 1", "value"])


def test_team_table_wide_shows_c_for_suppressed_and_a_dash_for_no_value(teams):
    long = breakdowns.team_table(teams.cursor(), ["supervision_pct", "vacancy_rate_pct"], "2011-07", suppress=True)
    wide = breakdowns.team_table_wide(long, ["supervision_pct", "vacancy_rate_pct"]).set_index("Team")
    assert wide.loc["North 1", "Supervised in last 6 weeks"] == "c"
    assert wide.loc["South 1", "Supervised in last 6 weeks"] == "85.7%"
    # no establishment sheet: no vacancy figure for any team
    assert wide.loc["South 1", "Vacancy rate"] == "–"


def test_team_table_is_empty_with_its_columns_when_no_kpi_has_records(store):
    long = breakdowns.team_table(store.cursor(), ["supervision_pct"], "2011-07")
    assert long.empty and "suppressed" in long.columns


# --- referrals per month ----------------------------------------------------------------------


@pytest.fixture
def referrals(store, load):
    """North: 2 in May, none in June, 1 in July; South: 6 in July."""
    rows = [REFERRAL,
            ["R1", "C1", day("2011-05-03"), "North"], ["R2", "C2", day("2011-05-20"), "North"],
            ["R3", "C3", day("2011-07-01"), "North"]]
    rows += [[f"S{i}", f"CS{i}", day(f"2011-07-{i + 10:02d}"), "South"] for i in range(6)]
    load({"Referrals": rows}, period="2011-07", imported_at=JULY_IMPORT)
    return store


def test_referrals_are_counted_per_month_and_area_with_all_areas(referrals):
    df = breakdowns.referrals_by_month(referrals.cursor(), "2011-05", "2011-07")
    got = {(r.period, r.area): r.value for r in df.itertuples()}
    assert got[("2011-05", "North")] == 2
    assert got[("2011-07", "South")] == 6
    assert got[("2011-07", breakdowns.ALL_AREAS)] == 7


def test_months_with_no_referrals_are_zero_not_missing(referrals):
    df = breakdowns.referrals_by_month(referrals.cursor(), "2011-05", "2011-07")
    got = {(r.period, r.area): r.value for r in df.itertuples()}
    assert got[("2011-06", "North")] == 0
    assert got[("2011-06", breakdowns.ALL_AREAS)] == 0
    assert got[("2011-05", "South")] == 0


def test_the_area_filter_keeps_all_areas_and_the_chosen_office(referrals):
    df = breakdowns.referrals_by_month(referrals.cursor(), "2011-05", "2011-07", areas=("North",))
    assert set(df["area"]) == {breakdowns.ALL_AREAS, "North"}


def test_referral_counts_from_1_to_5_are_suppressed_for_the_board(referrals):
    df = breakdowns.referrals_by_month(referrals.cursor(), "2011-07", "2011-07", suppress=True)
    got = df.set_index("area")
    assert bool(got.loc["North", "suppressed"]) and pd.isna(got.loc["North", "value"])  # 1
    # South's 6 is not small, but all areas' 7 minus 6 would give North's 1: hidden with it
    assert bool(got.loc["South", "suppressed"]) and pd.isna(got.loc["South", "value"])
    assert got.loc[breakdowns.ALL_AREAS, "value"] == 7


def test_referral_counts_hidden_once_stay_hidden_when_a_later_extract_revises_them(referrals, load):
    """July: all areas 7 = North 1 + South 6, both hidden. The August extract brings five late July
    referrals for North: 12 = 6 + 6, none small. Shown, South's 6 (unchanged) and the old total 7
    would give North's old 1 back: both stay hidden in July, whatever their numbers now."""
    rows = [REFERRAL,
            ["R1", "C1", day("2011-05-03"), "North"], ["R2", "C2", day("2011-05-20"), "North"],
            ["R3", "C3", day("2011-07-01"), "North"]]
    rows += [[f"S{i}", f"CS{i}", day(f"2011-07-{i + 10:02d}"), "South"] for i in range(6)]
    rows += [[f"L{i}", f"CL{i}", day(f"2011-07-{i + 20:02d}"), "North"] for i in range(5)]  # late July
    rows += [[f"A{area}{i}", f"CA{area}{i}", day(f"2011-08-{i + 1:02d}"), area] for i in range(6)
             for area in ("North", "South")]
    load({"Referrals": rows}, period="2011-08", imported_at=JULY_IMPORT + dt.timedelta(days=31))
    cur = referrals.cursor()
    shown = breakdowns.referrals_by_month(cur, "2011-07", "2011-08")
    assert {(r.period, r.area): r.value for r in shown.itertuples()} == {
        ("2011-07", breakdowns.ALL_AREAS): 12, ("2011-07", "North"): 6, ("2011-07", "South"): 6,
        ("2011-08", breakdowns.ALL_AREAS): 12, ("2011-08", "North"): 6, ("2011-08", "South"): 6}
    board = breakdowns.referrals_by_month(cur, "2011-07", "2011-08", suppress=True).set_index(["period", "area"])
    assert board["suppressed"].to_dict() == {
        ("2011-07", breakdowns.ALL_AREAS): False, ("2011-07", "North"): True, ("2011-07", "South"): True,
        ("2011-08", breakdowns.ALL_AREAS): False, ("2011-08", "North"): False, ("2011-08", "South"): False}
    # the same decision whatever months are chosen: August alone, and July chosen with North only
    assert not breakdowns.referrals_by_month(cur, "2011-08", "2011-08", suppress=True)["suppressed"].any()
    north = breakdowns.referrals_by_month(cur, "2011-07", "2011-07", areas=("North",), suppress=True)
    assert north.set_index("area")["suppressed"].to_dict() == {breakdowns.ALL_AREAS: False, "North": True}


def _referrals_db(rows: list[tuple[str, str, int]], hidden: list[tuple]):
    """A bare database: `rows` (date, area office, how many) as current referrals, and the cells
    of referrals by area office the board was denied before."""
    import duckdb


    con = duckdb.connect()
    con.execute("create table cur_referrals (referral_date date, area_office varchar)")
    for date, area, n in rows:
        con.execute("insert into cur_referrals select $d::date, $a from range($n)", {"d": date, "a": area, "n": n})
    con.execute(suppression.SCHEMA)
    suppression.add_hidden(con, [(breakdowns.REFERRALS_MARGIN, period, part, None) for period, part in hidden])
    return con


@pytest.fixture
def next_smallest(monkeypatch):
    """The partner the next smallest (a tie to the name that sorts first), not the deployment's
    keyed choice (`privacy.keyed_choice`): for the worked examples below, which name the partner."""
    monkeypatch.setattr(suppression, "partner_secret", lambda cur: None)


def test_an_all_areas_referral_count_hidden_before_is_hidden_again_with_a_partner(monkeypatch):
    """July: all areas 20 = North 10 + South 10, nothing small; the total was hidden in an earlier
    version, so it is hidden again, and one office with it (else 10 + 10 gives it back): one of the
    two, chosen by the database's secret (each for some secret; with the next smallest, the first
    of two the same size, North)."""
    con = _referrals_db([("2011-07-01", "North", 10), ("2011-07-02", "South", 10)], [("2011-07", None)])
    seen = set()
    for n in range(12):
        suppression.keep_partner_secret(con, f"deployment {n}".encode(), replace=True)
        board = breakdowns.referrals_by_month(con, "2011-07", "2011-07", suppress=True).set_index("area")
        hidden = board["suppressed"].to_dict()
        assert hidden.pop(breakdowns.ALL_AREAS) and sorted(hidden.values()) == [False, True]
        seen.add(next(a for a, h in hidden.items() if h))
    assert seen == {"North", "South"}
    monkeypatch.setattr(suppression, "partner_secret", lambda cur: None)
    board = breakdowns.referrals_by_month(con, "2011-07", "2011-07", suppress=True).set_index("area")
    assert board["suppressed"].to_dict() == {breakdowns.ALL_AREAS: True, "North": True, "South": False}


def test_the_boards_referral_decision_does_not_depend_on_the_months_chosen():
    """North and South were hidden in July before. North has referrals in May only now, South 6
    and East 10 in July. Chosen from May, North is a July cell (0, hidden again); chosen from
    July alone it must be too, else 'no North row' says 0 and South = 16 - 10 - 0 = 6."""
    con = _referrals_db([("2011-05-03", "North", 2), ("2011-07-10", "South", 6), ("2011-07-10", "East", 10)],
                        [("2011-07", "North"), ("2011-07", "South")])
    for start in ("2011-05", "2011-07"):
        df = breakdowns.referrals_by_month(con, start, "2011-07", suppress=True)
        july = df[df["period"] == "2011-07"].set_index("area")
        assert july["suppressed"].to_dict() == {breakdowns.ALL_AREAS: False, "East": False, "North": True,
                                                "South": True}, start
        assert july.loc[breakdowns.ALL_AREAS, "value"] == 16 and july.loc["East", "value"] == 10


def _re_referrals(store, load):
    """March 2012: 22 first referrals in East (children C1 to C22). July 2012: North 8 referrals
    (C1 to C6 again, and two new children), South 12 (C7 to C12 again, six new), East 20 (C13 to
    C22 again, ten new). Re-referrals in July: North 6 of 8, South 6 of 12, East 10 of 20, all
    areas 22 of 40; March: 0 of 22."""
    rows = [REFERRAL] + [[f"M{i}", f"C{i}", day("2012-03-05"), "East"] for i in range(1, 23)]
    for area, again, new in (("North", range(1, 7), 2), ("South", range(7, 13), 6), ("East", range(13, 23), 10)):
        rows += [[f"J{area}{i}", f"C{i}", day("2012-07-10"), area] for i in again]
        rows += [[f"J{area}new{i}", f"{area}{i}", day("2012-07-10"), area] for i in range(new)]
    load({"Referrals": rows}, period="2012-07", imported_at=dt.datetime(2012, 8, 6, 9, 0))


def test_a_re_referral_rate_beside_its_referral_count_hides_a_small_complement(store, load, next_smallest):
    """North's 75% beside its 8 referrals would tell the board that 2 children referred in July
    were not re-referrals: North is hidden, and South (the next smallest count, 12) with it, so
    the rates shown (all areas 55%, East 50%) and the counts give only North + South = 12 of 20."""
    from tests.disclosure import small_complements

    _re_referrals(store, load)
    cur = store.cursor()
    kpi = kpis.get("re_referral_pct")
    director = kpis.results(cur, kpi="re_referral_pct", period="2012-07").set_index("area")
    assert director.loc["North", ["numerator", "denominator"]].tolist() == [6, 8]
    everyone = breakdowns.ALL_AREAS
    board = kpis.results(cur, kpi="re_referral_pct", board=True).fillna({"area": everyone})
    july = board[board["period"] == "2012-07"].set_index("area")
    assert july["suppressed"].to_dict() == {everyone: False, "East": False, "North": True, "South": True}
    assert july.loc[everyone, "value"] == 55.0 and july.loc["East", "value"] == 50.0
    assert not board[board["period"] == "2012-03"]["suppressed"].any()
    # the counts the board sees beside the rates: every one shown
    counts = breakdowns.referrals_by_month(cur, "2012-03", "2012-07", suppress=True)
    assert not counts["suppressed"].any()
    assert counts[counts["period"] == "2012-07"].set_index("area")["value"].to_dict() == {
        everyone: 40, "East": 20, "North": 8, "South": 12}
    seen = counts.rename(columns={"value": "denominator"})[["period", "area", "denominator"]]

    def attack(rates):
        rates = rates.drop(columns=["numerator", "denominator"])
        return small_complements(kpi, rates.merge(seen, on=["period", "area"], how="left"))

    assert not attack(board)
    # the attack works: with the director's rates it finds North's 2
    director = kpis.results(cur, kpi="re_referral_pct").fillna({"area": everyone}).assign(suppressed=False)
    found = attack(director)
    assert [(r["period"], r["area"], c) for r, c in found] == [("2012-07", "North", 2)]


def _july(load, offices):
    """`offices`: (area office, team, referrals in July 2012, how many of them re-referrals): each
    re-referred child was referred in March 2012 too, in the same office and team."""
    rows, k = [REFERRAL + ["team"]], 0
    for area, team, n, again in offices:
        for i in range(n):
            k += 1
            if i < again:
                rows.append([f"M{k}", f"C{k}", day("2012-03-05"), area, team])
            rows.append([f"J{k}", f"C{k}", day("2012-07-10"), area, team])
    load({"Referrals": rows}, period="2012-07", imported_at=dt.datetime(2012, 8, 6, 9, 0))


def _board_july(cur):
    """What the board sees of July: re-referral rates and referral counts by office (None: hidden),
    and whether it gets any team's rate, or the stored decision shows one."""
    everyone = breakdowns.ALL_AREAS
    rates = kpis.results(cur, kpi="re_referral_pct", period="2012-07", board=True).fillna({"area": everyone})
    counts = breakdowns.referrals_by_month(cur, "2012-07", "2012-07", suppress=True)
    teams = kpis.team_results(cur, kpi="re_referral_pct", period="2012-07", board=True)
    return ({r.area: None if r.suppressed else r.value for r in rates.itertuples()},
            {r.area: None if r.suppressed else r.value for r in counts.itertuples()},
            not teams.empty or cur.execute("select count(*) from kpi_team_results where kpi = 're_referral_pct' "
                                           "and period = '2012-07' and not hidden").fetchall()[0][0] > 0)


def _hidden_group(rates, counts):
    """What the board can work out of the hidden offices together: (re-referrals, not), from all
    areas' rate and count less the offices shown (a rate times its count is its numerator)."""
    everyone = breakdowns.ALL_AREAS
    shown = [a for a in rates if a != everyone and rates[a] is not None]
    num = round(rates[everyone] * counts[everyone] / 100) - sum(round(rates[a] * counts[a] / 100) for a in shown)
    den = counts[everyone] - sum(counts[a] for a in shown)
    return num, den - num


@pytest.mark.parametrize("offices, hidden, group", [
    # a review's four councils (2026-12-04), each worked by hand:
    # A: North 1 of 3 (its count 3 hidden, and South's 13 with it), East 17 of 20 (3 not re-referred).
    #    The rates of the offices whose count is hidden are hidden: else South's 46.2% with North +
    #    South = 16 referrals could only be 6 of 13, and North 3. East is hidden for its complement.
    ([("North", "N1", 3, 1), ("South", "S1", 13, 6), ("East", "E1", 20, 17)], {"North", "South", "East"}, None),
    # A, where the rates alone would show South: North 1 of 3 and East 5 of 40 are hidden on their own
    #    (6 of 43 together), but North's count 3 hides South's 13 with it in the counts: South's rate too
    ([("North", "N1", 3, 1), ("South", "S1", 13, 6), ("East", "E1", 40, 5)], {"North", "South", "East"}, None),
    # B: South 6 of 8 (2 not) is hidden with the next smallest count, North (16, of two teams: 1 of 3
    #    and 6 of 13); no team rate is shown (46.2% of at most North's 16 could only be 6 of 13)
    ([("North", "A", 3, 1), ("North", "B", 13, 6), ("South", "S1", 8, 6), ("East", "E1", 20, 10)],
     {"North", "South"}, (13, 11)),
    # C: East 19 of 20 (1 not) with North 8 of 8 would give the pair 27 of 28: 1 not re-referred
    #    between them; South (12) is hidden too: 33 of 40, 7 not
    ([("North", "N1", 8, 8), ("South", "S1", 12, 6), ("East", "E1", 20, 19), ("West", "W1", 30, 15)],
     {"North", "South", "East"}, (33, 7)),
    # D: North 6 of 8 (2 not) and South 11 of 12 (1 not) are both small, but together 17 of 20 (3
    #    not): East (20) is hidden too
    ([("North", "N1", 8, 6), ("South", "S1", 12, 11), ("East", "E1", 20, 10)], {"North", "South", "East"}, None),
])
def test_no_count_from_1_to_5_comes_from_re_referral_rates_and_referral_counts(store, load, offices, hidden, group,
                                                                              next_smallest):
    _july(load, offices)
    rates, counts, teams_shown = _board_july(store.cursor())
    assert {a for a, v in rates.items() if v is None} == hidden
    _assert_no_small_count(rates, counts, teams_shown)
    if group is not None:  # the hidden offices together: neither total from 1 to 5
        assert _hidden_group(rates, counts) == group
    else:  # every office hidden: all areas' own figures only
        assert len(hidden) == len(offices) - (1 if offices[0][0] == offices[1][0] else 0)


def _assert_no_small_count(rates, counts, teams_shown):
    assert rates[breakdowns.ALL_AREAS] is not None and not teams_shown
    # every rate shown has its count shown, so neither its re-referrals nor the rest are from 1 to 5
    for area, rate in rates.items():
        if rate is not None:
            n = round(rate * counts[area] / 100)
            assert not (1 <= n <= 5 or 1 <= counts[area] - n <= 5), area
    if any(rate is not None for area, rate in rates.items() if area != breakdowns.ALL_AREAS):
        assert not any(1 <= n <= 5 for n in _hidden_group(rates, counts))  # the hidden offices together


@pytest.mark.parametrize("secret", ["deployment 1", "deployment 2", "deployment 3"])
@pytest.mark.parametrize("offices", [
    [("North", "N1", 3, 1), ("South", "S1", 13, 6), ("East", "E1", 20, 17)],
    [("North", "A", 3, 1), ("North", "B", 13, 6), ("South", "S1", 8, 6), ("East", "E1", 20, 10)],
    [("North", "N1", 8, 8), ("South", "S1", 12, 6), ("East", "E1", 20, 19), ("West", "W1", 30, 15)],
    [("North", "N1", 8, 6), ("South", "S1", 12, 11), ("East", "E1", 20, 10)],
])
def test_no_count_from_1_to_5_comes_back_whichever_partners_the_secret_chooses(store, load, offices, secret,
                                                                              monkeypatch):
    # the councils above, with the partners the database's secret chooses (the stored decision's
    # rule): whichever offices are hidden with the small ones, no count from 1 to 5 is given back
    monkeypatch.setenv("CSC_ID_KEY", secret)
    _july(load, offices)
    _assert_no_small_count(*_board_july(store.cursor()))


def test_no_referrals_gives_an_empty_frame(store):
    assert breakdowns.referrals_by_month(store.cursor(), "2011-05", "2011-07").empty


# --- assessment timeliness by type ------------------------------------------------------------


@pytest.fixture
def assessments(store, load):
    load({"Assessments": [
        ASSESSMENT,
        # Initial, limit 7: 6 working days (in time), 8 (late)
        ["A1", "C1", "Initial", day("2011-07-04"), day("2011-07-12"), "North"],
        ["A2", "C2", "Initial", day("2011-07-04"), day("2011-07-14"), "South"],
        # Core, limit 35: Tue 3 May -> Fri 1 July: May 4-31 19 (30 May a holiday), June 22, 1 July = 42, late
        ["A3", "C3", "Core", day("2011-05-03"), day("2011-07-01"), "North"],
        # Single, limit 45: the same 42 days, in time
        ["A4", "C4", "Single", day("2011-05-03"), day("2011-07-01"), "South"],
        # not completed: not counted
        ["A5", "C5", "Initial", day("2011-07-04"), None, "North"],
    ]}, period="2011-07", imported_at=JULY_IMPORT)
    return store


def test_timeliness_is_by_type_with_each_types_limit(assessments):
    df = breakdowns.assessment_timeliness(assessments.cursor(), "2011-07", "2011-07").set_index("assessment_type")
    assert (df.loc["Initial", "numerator"], df.loc["Initial", "denominator"]) == (1, 2)
    assert df.loc["Core", "value"] == 0
    assert df.loc["Single", "value"] == 100
    assert df.loc["Initial", "label"] == "Initial (7 days)"


def test_timeliness_follows_the_area_filter(assessments):
    df = breakdowns.assessment_timeliness(assessments.cursor(), "2011-07", "2011-07", areas=("South",))
    got = df.set_index("assessment_type")["value"].to_dict()
    assert got == {"Initial": 0.0, "Single": 100.0}


def test_timeliness_title_names_the_lowest_and_highest_type(assessments):
    df = breakdowns.assessment_timeliness(assessments.cursor(), "2011-07", "2011-07")
    assert breakdowns.timeliness_title(df) == (
        "Assessments within timescale in July 2011: Core lowest at 0%, Single highest at 100%"
    )


# --- the words --------------------------------------------------------------------------------


def frame(rows):
    return pd.DataFrame(rows, columns=["period", "area", "numerator", "denominator", "value"])


def test_areas_finding_with_a_target_counts_offices_meeting_it_and_names_the_furthest():
    kpi = kpis.get("transfer_timely_pct")  # higher is better
    df = frame([("2011-07", "All areas", 3, 4, 75.0), ("2011-07", "North", 1, 2, 50.0),
                ("2011-07", "South", 2, 2, 100.0), ("2011-06", "North", 0, 3, 0.0)])
    assert breakdowns.areas_finding(kpi, df, 90, funnel=True) == (
        "Transfers accepted within 5 working days: 1 of 2 area offices met the target of 90% in July 2011; "
        "North furthest off at 50%"
        # issue 15: both offices had 2 cases in July, fewer than 10, so the title says so
        "; small bases in North (2 cases), South (2 cases): compare offices on the funnel plot's limits, not the raw swings"
    )
    # on a page with no funnel plot, none is mentioned (a review: the Practice page sent readers to one)
    assert breakdowns.areas_finding(kpi, df, 90).endswith(
        "; small bases in North (2 cases), South (2 cases): with so few cases a rate swings from month to month, so "
        "compare offices with care")


def test_areas_finding_says_both_when_two_offices_meet_the_target():
    kpi = kpis.get("cp_3plus_workers_pct")  # lower is better
    df = frame([("2011-07", "North", 0, 6, 0.0), ("2011-07", "South", 1, 20, 5.0)])
    assert breakdowns.areas_finding(kpi, df, 10) == (
        "Children on a protection plan who have had 3 or more social workers: both area offices met the target "
        "of 10% in July 2011"
        # issue 15: North had 6 cases in July, fewer than 10
        "; small base in North (6 cases): with so few cases a rate swings from month to month, so compare offices "
        "with care"
    )


def test_areas_finding_without_a_target_names_highest_and_lowest():
    kpi = kpis.get("transfers_waiting_count")
    df = frame([("2011-07", "North", 4, None, 4.0), ("2011-07", "South", 9, None, 9.0)])
    assert breakdowns.areas_finding(kpi, df, None) == (
        "Transfers waiting to be accepted at the month end: South highest (9) and North lowest (4) in July 2011"
    )


def test_areas_finding_with_one_office_falls_back_to_its_series():
    kpi = kpis.get("transfer_timely_pct")
    df = frame([("2011-06", "North", 0, 3, 0.0), ("2011-07", "North", 1, 2, 50.0),
                ("2011-07", "All areas", 1, 2, 50.0)])
    assert breakdowns.areas_finding(kpi, df, 90) == (
        "Transfers accepted within 5 working days (North) rose to 50% in July 2011, below the target of 90%"
    )


def test_areas_finding_with_too_few_offices_to_compare_says_it_is_all_areas():
    """An office chosen that has no figure of its own (a review: Integrated Access on the Practice
    page), or one office left with a value in the last month: the title is all areas' figure, and
    says so (it read as the office's own)."""
    kpi = kpis.get("transfer_timely_pct")
    only_all = frame([("2011-06", "All areas", 3, 4, 75.0), ("2011-07", "All areas", 4, 4, 100.0)])
    assert breakdowns.areas_finding(kpi, only_all, 90) == (
        "Transfers accepted within 5 working days (all areas together) rose to 100% in July 2011, meeting the "
        "target of 90%")
    one_left = frame([("2011-07", "All areas", 4, 4, 100.0), ("2011-07", "North", 4, 4, 100.0),
                      ("2011-06", "South", 1, 2, 50.0), ("2011-06", "All areas", 3, 4, 75.0)])
    assert breakdowns.areas_finding(kpi, one_left, 90).startswith(
        "Transfers accepted within 5 working days (all areas together) rose to 100% in July 2011")


def test_funnel_finding_names_offices_outside_the_limits():
    kpi = kpis.get("transfer_timely_pct")
    points = pd.DataFrame({"area": ["North", "South"], "band": [spc.BEYOND_998, spc.WITHIN_95],
                           "side": ["below", None]})
    assert breakdowns.funnel_finding(kpi, points, "2011-07") == (
        "Transfers accepted within 5 working days: North below the 99.8% limit in July 2011"
    )


@pytest.mark.parametrize("values, status, words", [
    ([70, 50, 75], spc.AT_RISK, "at risk of missing 90% by September 2011"),
    # a review: "off track to meet 90% by September 2011" read as on course to meet it (falling from
    # 70% to 50% by July, the line projects well under 90% by September)
    ([70, 60, 50], spc.OFF_TRACK, "not on track to meet 90% by September 2011"),
])
def test_trajectory_title_states_the_status_against_the_target(values, status, words):
    from csc import verdict

    kpi = kpis.get("transfer_timely_pct")
    result = spc.trajectory(["2011-05", "2011-06", "2011-07"], values, "2011-05", "2011-09", 90,
                            "increase", bounds=(0, 100))
    assert result.status == status
    assert breakdowns.trajectory_title(kpi, result) == f"Transfers accepted within 5 working days: {words}"
    assert verdict._trajectory_words(result, False) == words.replace("90%", "it")


def test_trajectory_title_after_the_due_month_names_the_month_it_judged():
    # due October at 100%: October missed it (99.8%), March meets it; a title that says "met by
    # October" while October missed it told the Director a wrong month (a review)
    kpi = kpis.get("assessments_qualified_pct")
    periods = ["2011-09", "2011-10", "2011-11", "2011-12", "2012-01", "2012-02", "2012-03"]
    values = [99.0, 99.8, 100, 100, 100, 100, 100]
    later = spc.trajectory(periods, values, "2011-05", "2011-10", 100, "increase", bounds=(0, 100))
    assert breakdowns.trajectory_title(kpi, later) == (
        f"{kpi.title}: target of 100% met in March 2012, after its due month (October 2011)")
    at_due = spc.trajectory(periods[:2], values[:2], "2011-05", "2011-10", 100, "increase", bounds=(0, 100))
    assert breakdowns.trajectory_title(kpi, at_due) == f"{kpi.title}: target of 100% missed in its due month, October 2011"


def test_empty_message_speaks_of_the_work_and_of_suppression():
    kpi = kpis.get("transfer_timely_pct")
    assert breakdowns.empty_message(kpi, frame([])) == "No transfers were accepted in these months."
    suppressed = frame([("2011-07", "All areas", None, None, None)]).assign(suppressed=True)
    assert breakdowns.empty_message(kpi, suppressed) == breakdowns.ALL_SUPPRESSED
    assert breakdowns.empty_message(kpi, frame([("2011-07", "All areas", 3, 4, 75.0)])) is None


def test_funnel_plots_only_for_shares_of_counted_cases():
    assert kpis.get("transfer_timely_pct").is_count_proportion
    assert not kpis.get("vacancy_rate_pct").is_count_proportion  # FTE
    assert not kpis.get("agency_rate_pct").is_count_proportion  # FTE
    assert not kpis.get("caseload_avg").is_count_proportion  # per FTE
    assert not kpis.get("transfer_median_days").is_count_proportion


def test_funnel_figure_is_withheld_when_an_office_is_suppressed():
    kpi = kpis.get("transfer_timely_pct")
    df = frame([("2011-07", "North", None, None, None), ("2011-07", "South", 40, 50, 80.0)])
    df["suppressed"] = [True, False]
    fig, points, why = breakdowns.funnel_figure(kpi, df, "2011-07", "test")
    assert fig is None and points is None
    assert "5 or fewer" in why


# --- figures ------------------------------------------------------------------------------------


def test_area_figure_puts_the_numbers_behind_each_point_in_the_hover():
    kpi = kpis.get("transfer_timely_pct")
    df = frame([("2011-06", "North", 0, 3, 0.0), ("2011-07", "North", 1, 2, 50.0),
                ("2011-06", "South", 3, 3, 100.0), ("2011-07", "South", 2, 2, 100.0)])
    fig = breakdowns.area_figure(kpi, df, 90, "test")
    north = next(t for t in fig.data if (t.meta or {}).get("group") == "North")
    assert [list(r) for r in north.customdata] == [[0, 3], [1, 2]]
    assert "%{customdata[0]:,.0f} of %{customdata[1]:,.0f}" in north.hovertemplate
    assert charts.alt_text(fig).startswith("Line chart: ")


def test_a_line_ending_before_the_month_chosen_names_its_month():
    # A review: the labels named a line's month only when it ended before the data's last month,
    # so with every office's last value in June and July chosen, "North 50%" read as July's
    kpi = kpis.get("transfer_timely_pct")
    df = frame([("2011-05", "North", 1, 2, 50.0), ("2011-06", "North", 1, 2, 50.0),
                ("2011-05", "South", 3, 3, 100.0), ("2011-06", "South", 2, 2, 100.0)])

    def labels(fig):
        return sorted(a.text for a in fig.layout.annotations if a.text.startswith(("North", "South")))

    assert labels(breakdowns.area_figure(kpi, df, 90, "test", period="2011-07")) == [
        "North 50% (June 2011)", "South 100% (June 2011)"]
    assert labels(breakdowns.area_figure(kpi, df, 90, "test", period="2011-06")) == ["North 50%", "South 100%"]
    assert labels(breakdowns.area_figure(kpi, df, 90, "test")) == ["North 50%", "South 100%"]  # the data's last


def test_fit_figure_wraps_a_long_title_and_fixes_the_date_axis():
    fig = go.Figure(go.Scatter(x=[dt.date(2011, 4, 1), dt.date(2011, 7, 1)], y=[1, 2]))
    fig.update_layout(title_text="word " * 40, margin=dict(t=110))
    breakdowns.fit_figure(fig, "half")
    assert fig.layout.title.text.count("<br>") == 4  # 200 characters over lines of at most 48
    assert fig.layout.margin.t == 110 + 4 * 24
    assert list(fig.layout.xaxis.range) == [dt.date(2011, 3, 12), dt.date(2011, 7, 21)]


def test_downloads_show_c_where_suppressed():
    df = frame([("2011-07", "North", None, None, None), ("2011-07", "South", 40, 50, 80.0)])
    df["suppressed"] = [True, False]
    out = breakdowns.for_download(df)
    assert out.loc[0, ["value", "numerator", "denominator"]].tolist() == ["c", "c", "c"]
    assert out.loc[1, "value"] == 80.0


def test_the_boards_timeliness_by_type_has_rates_without_counts():
    # issue 13: 50 of 60, 30 of 40, 20 of 25 are no small numbers, so shown to the board, but as rates
    # only (60 - 50 = 10 is fine here; 177 of 178 would not be)
    rows = pd.DataFrame({"period": ["2011-07"] * 3, "assessment_type": ["Initial", "Core", "Single"],
                         "numerator": [50.0, 30.0, 20.0], "denominator": [60.0, 40.0, 25.0],
                         "value": [100 * 50 / 60, 75.0, 80.0]})

    class Cur:  # the by-type query gives `rows`; no figure was hidden before (no kpi_hidden_ever)
        def execute(self, sql, params=None):
            return SimpleNamespace(df=lambda: rows.copy(), fetchall=lambda: [(0,)])

    board = breakdowns.assessment_timeliness(Cur(), "2011-07", "2011-07", suppress=True)
    assert not board["suppressed"].any()
    assert board[["numerator", "denominator"]].isna().all(axis=None)
    assert board["value"].round(1).tolist() == [83.3, 75.0, 80.0]
    director = breakdowns.assessment_timeliness(Cur(), "2011-07", "2011-07")
    assert director["denominator"].tolist() == [60.0, 40.0, 25.0]


def test_the_boards_timeliness_by_type_hides_a_partner_type_the_secret_chooses():
    # Initial 2 of 4 is small; Core 20 of 25 or Single 30 of 40 is hidden with it (else all types
    # less the other two give it back): which one, the database's secret says, each for some
    rows = pd.DataFrame({"period": ["2011-07"] * 3, "assessment_type": ["Initial", "Core", "Single"],
                         "numerator": [2.0, 20.0, 30.0], "denominator": [4.0, 25.0, 40.0], "value": [50.0, 80.0, 75.0]})

    class Cur:  # the by-type query gives `rows`; no figure was hidden before; the database's partner secret
        def __init__(self, secret: bytes):
            self.secret = secret

        def execute(self, sql, params=None):
            found = [(self.secret,)] if "from board_secret" in sql else [(int("board_secret" in str(params)),)]
            return SimpleNamespace(df=lambda: rows.copy(), fetchall=lambda: found)

    partners = set()
    for n in range(12):
        board = breakdowns.assessment_timeliness(Cur(f"deployment {n}".encode()), "2011-07", "2011-07",
                                                 suppress=True).set_index("assessment_type")
        hidden = board["suppressed"].to_dict()
        assert hidden.pop("Initial") and sorted(hidden.values()) == [False, True]
        partners |= {t for t, h in hidden.items() if h}
    assert partners == {"Core", "Single"}


def _july_referrals(**offices: int) -> list[list]:
    """A Referrals sheet: each area office's referrals (a child each) on 4 July 2011."""
    return [REFERRAL] + [[f"{a}{i}", f"C{a}{i}", day("2011-07-04"), a] for a, n in offices.items() for i in range(n)]


def test_the_partner_secret_is_kept_by_the_first_import_and_a_recompute_needs_no_key(tmp_path, monkeypatch):
    # July: all areas 24 = North 3 (small) + South 9 + East 12; North is hidden with South or East.
    from csc.store import Store
    from tests.conftest import write_xlsx

    rows = _july_referrals(North=3, South=9, East=12)
    secrets_kept, decisions = [], []
    for n, key in enumerate(("key one", "key one", "key two")):
        monkeypatch.setenv("CSC_ID_KEY", key)
        db = tmp_path / f"council{n}" / "csc.duckdb"
        with Store.open(db) as store:
            assert suppression.stored_partner_secret(store.cursor()) is None  # no import yet
            r = store.import_file(write_xlsx(tmp_path / f"july{n}.xlsx", {"Referrals": rows}), "2011-07", user="t")
            assert r.status == "loaded", r.message
            cur = store.cursor()
            secrets_kept.append(suppression.stored_partner_secret(cur))
            board = breakdowns.referrals_by_month(cur, "2011-07", "2011-07", suppress=True).set_index("area")
            decisions.append(board["suppressed"].to_dict())
    # the same key gives the same secret (a rebuild from the kept files alone chooses as the database did)
    assert len(secrets_kept[0]) == 32 and secrets_kept[0] == secrets_kept[1] != secrets_kept[2]
    for decided in decisions:
        assert decided[breakdowns.ALL_AREAS] is False and decided["North"] is True
        assert [decided["South"], decided["East"]].count(True) == 1
    # a recompute without the key (the code behind the figures changed: every month made again, as
    # on the first open after an upgrade), the cells denied before forgotten so that the partner is
    # chosen again: no key file is read or made, and the partner is the one the stored secret picks
    # (two stored secrets, one picking South and one East: the decision follows each)
    db = tmp_path / "council0" / "csc.duckdb"
    monkeypatch.delenv("CSC_ID_KEY")
    monkeypatch.setenv("CSC_KEY_FILE", str(db.parent / "inside-the-data-folder"))  # refused, were it read
    candidates = [("part", "South"), ("part", "East")]
    for wanted in ("South", "East"):
        secret = next(s for s in (f"stored {n}".encode() for n in range(100))
                      if privacy.keyed_choice(s, breakdowns.REFERRALS_MARGIN, "2011-07")(candidates)[1] == wanted)
        with Store.open(db) as store:
            suppression.keep_partner_secret(store.cursor(), secret, replace=True)
            store.cursor().execute("update kpi_state set fingerprint = 'made by older code'; delete from kpi_hidden_ever")
        with Store.open(db) as store:
            cur = store.cursor()
            assert cur.execute("select fingerprint from kpi_state").fetchall()[0][0] != "made by older code"
            board = breakdowns.referrals_by_month(cur, "2011-07", "2011-07", suppress=True).set_index("area")
            assert board["suppressed"].to_dict() == {breakdowns.ALL_AREAS: False, "North": True,
                                                     "South": wanted == "South", "East": wanted == "East"}
    assert decisions[0] == decisions[1]
    assert not (db.parent / "inside-the-data-folder").exists()


def test_a_database_from_before_the_partner_secret_gets_one_and_a_rebuild_hides_nothing_more(tmp_path, monkeypatch):
    # July: all areas 59 = North 3 + South 9 + East 12 + West 15 + Central 20, decided by the rule
    # before the secret (the next smallest: North with South), and no secret kept (a database of
    # the version before). A rebuild from it hides what it hid: North and South, no third office of
    # its own secret's choosing beside them (a review: one more figure hidden in each such month).
    from csc import recovery
    from csc.store import Store
    from tests.conftest import write_xlsx

    rows = _july_referrals(North=3, South=9, East=12, West=15, Central=20)
    db = tmp_path / "data" / "csc.duckdb"
    with monkeypatch.context() as old_rule:
        old_rule.setattr(suppression, "partner_secret", lambda cur: None)
        with Store.open(db) as store:
            assert store.import_file(write_xlsx(tmp_path / "july.xlsx", {"Referrals": rows}), "2011-07",
                                     user="t").status == "loaded"
            store.cursor().execute("drop table board_secret")
            before = breakdowns.referrals_by_month(store.cursor(), "2011-07", "2011-07", suppress=True)
    shown = before.set_index("area")["suppressed"].to_dict()
    assert shown == {breakdowns.ALL_AREAS: False, "North": True, "South": True, "East": False, "West": False,
                     "Central": False}
    # opened for writing under this version: a secret of its own, kept (the same in every process)
    with Store.open(db) as store:
        made = suppression.stored_partner_secret(store.cursor())
    with Store.open(db) as store:
        assert made is not None and suppression.stored_partner_secret(store.cursor()) == made
        store.cursor().execute("drop table board_secret")  # as a rebuild may find it
    recovery.rebuild(db, history="database")
    with Store.open(db, read_only=True) as store:
        after = breakdowns.referrals_by_month(store.cursor(), "2011-07", "2011-07", suppress=True)
    assert after.set_index("area")["suppressed"].to_dict() == shown


def test_a_trajectory_without_a_target_past_its_due_month_is_titled_so():
    from csc import kpis, spc

    kpi = kpis.get("transfers_waiting_count")
    result = spc.trajectory(["2011-04", "2011-05", "2011-06", "2011-07"], [3, 4, 6, 5], "2011-04", "2011-06", None,
                            "decrease")
    assert breakdowns.trajectory_title(kpi, result) == (
        f"{kpi.title}: no target, and its due month (June 2011) has passed")
    result = spc.trajectory(["2011-04", "2011-05", "2011-06"], [3, 4, 6], "2011-04", "2011-06", None, "decrease")
    assert breakdowns.trajectory_title(kpi, result) == (
        f"{kpi.title}: no target, and its due month (June 2011) is the latest month")


def test_areas_finding_counts_only_the_offices_with_a_figure_for_the_month_and_says_so():
    # A review: "0 of 2 area offices met the target" over three office lines, the third ending a year
    # earlier. North 50% and South 100% in July 2011; East's last figure is from June
    kpi = kpis.get("transfer_timely_pct")
    df = frame([("2011-07", "North", 10, 20, 50.0), ("2011-07", "South", 20, 20, 100.0),
                ("2011-06", "East", 12, 20, 60.0)])
    assert breakdowns.areas_finding(kpi, df, 90) == (
        "Transfers accepted within 5 working days: 1 of 2 area offices with a figure for July 2011 met the target "
        "of 90%; North furthest off at 50%")
    waiting = kpis.get("transfers_waiting_count")
    counts = frame([("2011-07", "North", None, None, 4.0), ("2011-07", "South", None, None, 9.0),
                    ("2011-06", "East", None, None, 2.0)])
    assert breakdowns.areas_finding(waiting, counts, None) == (
        "Transfers waiting to be accepted at the month end: South highest (9) and North lowest (4) in July 2011, "
        "of the 2 area offices with a figure for it")
    every = df[df["area"] != "East"]  # every office drawn has July: said as before
    assert breakdowns.areas_finding(kpi, every, 90).endswith("1 of 2 area offices met the target of 90% in July 2011; "
                                                             "North furthest off at 50%")
