"""The synthetic demo council (csc.demo): valid extracts, extract-like behaviour, realistic
rates and the story of the May 2011 action plan.

Rates are recomputed here in pandas, straight from kpis.md, on the current version of each
record (the latest month's row for each key), as the store would hold them.
"""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pandas as pd
import pytest

from csc import demo

SPEC_COLUMNS = {
    "referrals": ["referral_id", "child_id", "referral_date", "area_office", "team", "source"],
    "assessments": ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "child_seen",
                    "area_office", "team", "worker_id"],
    "cp_plans": ["cp_plan_id", "child_id", "start_date", "end_date", "category", "previous_plans", "area_office",
                 "team", "worker_id"],
    "involvements": ["involvement_id", "child_id", "worker_id", "start_date", "end_date", "area_office", "team",
                     "change_reason"],
    "transfers": ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"],
    "workforce": ["worker_id", "area_office", "team", "role", "is_qualified", "is_agency", "fte", "start_date",
                  "end_date", "leave_reason"],
    "establishment": ["team", "area_office", "funded_fte"],
    "audits": ["audit_id", "child_id", "audit_date", "area_office", "subject", "grade", "is_smart"],
    "supervisions": ["supervision_id", "worker_id", "supervision_date"],
}
KEYS = {
    "referrals": "referral_id", "assessments": "assessment_id", "cp_plans": "cp_plan_id",
    "involvements": "involvement_id", "transfers": "transfer_id", "workforce": "worker_id",
    "establishment": "team", "audits": "audit_id", "supervisions": "supervision_id",
}
# (start or requested column, end column) that must not run backwards
SPANS = {
    "assessments": ("start_date", "completed_date"),
    "cp_plans": ("start_date", "end_date"),
    "involvements": ("start_date", "end_date"),
    "transfers": ("requested_date", "accepted_date"),
    "workforce": ("start_date", "end_date"),
}
CHANGE_REASONS = {"MANAGE", "FCONTA", "LEFTRL", "ORGRST", "TSPROC", "ABSENC", "CHCHAN", "PCCHAN", "SWDIED", "OTHERS"}
GRADES = {"Outstanding", "Good", "Adequate", "Requires improvement", "Inadequate"}
BANK = holidays.country_holidays("GB", subdiv="ENG", years=range(2005, 2014))
BANK_DAYS = np.array(sorted(BANK), dtype="datetime64[D]")
PRE = ("2010-04", "2011-04")    # before the action plan
LATE = ("2012-01", "2012-03")   # the last quarter of the demo


@pytest.fixture(scope="module")
def short():
    return demo.generate("2011-01", "2011-06")


@pytest.fixture(scope="module")
def full():
    return demo.generate()


@pytest.fixture(scope="module")
def cur(full):
    return current(full)


# --- helpers ------------------------------------------------------------------------------

def month_end(period: str) -> dt.date:
    p = pd.Period(period, "M")
    return p.end_time.date()


def date_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.endswith("_date")]


def current(out) -> dict[str, pd.DataFrame]:
    """The current version of each record: the latest month's row for its key."""
    cur = {}
    for sheet, key in KEYS.items():
        frames = []
        for period, sheets in out:
            df = sheets[sheet].copy()
            df["period"] = period
            frames.append(df)
        df = pd.concat(frames, ignore_index=True)
        if sheet != "establishment":
            df = df.drop_duplicates(key, keep="last").reset_index(drop=True)
        for c in date_columns(df):
            df[c] = pd.to_datetime(df[c])
        cur[sheet] = df
    return cur


def wd(a, b) -> np.ndarray:
    """Working days d with a < d <= b (England and Wales bank holidays excluded)."""
    a = np.asarray(a, dtype="datetime64[D]")
    b = np.asarray(b, dtype="datetime64[D]")
    return np.busday_count(a + 1, b + 1, holidays=BANK_DAYS)


def months(first: str, last: str) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    out = []
    for p in pd.period_range(first, last, freq="M"):
        out.append((str(p), p.start_time.normalize(), p.end_time.normalize()))
    return out


def pct(num, den) -> float:
    return 100.0 * num / den if den else np.nan


def in_month(df, col, m0, m1):
    return df[(df[col] >= m0) & (df[col] <= m1)]


def open_at(df, m1, start="start_date", end="end_date"):
    return df[(df[start] <= m1) & (df[end].isna() | (df[end] > m1))]


def re_referral_pct(cur, m0, m1):
    r = cur["referrals"].sort_values(["referral_date", "referral_id"])
    prev = r.groupby("child_id")["referral_date"].shift(1)
    r = r.assign(prev=prev)
    r = in_month(r, "referral_date", m0, m1)
    since = r["referral_date"] - pd.DateOffset(months=12)
    return pct((r["prev"].notna() & (r["prev"] >= since)).sum(), len(r))


def assessments_timely_pct(cur, m0, m1):
    a = in_month(cur["assessments"], "completed_date", m0, m1)
    limit = np.where(a["assessment_type"] == "Initial", 7, 35)
    return pct((wd(a["start_date"].values, a["completed_date"].values) <= limit).sum(), len(a))


def assessments_qualified_pct(cur, m0, m1, area=None):
    a = in_month(cur["assessments"], "completed_date", m0, m1)
    if area:
        a = a[a["area_office"] == area]
    q = cur["workforce"].set_index("worker_id")["is_qualified"]
    a = a[a["worker_id"].isin(q.index)]
    return pct(a["worker_id"].map(q).eq("Y").sum(), len(a))


def transfer_timely_pct(cur, m0, m1):
    t = in_month(cur["transfers"], "accepted_date", m0, m1)
    return pct((wd(t["requested_date"].values, t["accepted_date"].values) <= 5).sum(), len(t))


def qualified_open(cur, m1):
    w = cur["workforce"]
    return open_at(w[w["is_qualified"] == "Y"], m1)


def turnover_rate_pct(cur, m1):
    w = cur["workforce"]
    perm = w[(w["is_qualified"] == "Y") & (w["is_agency"] == "N")]
    left = perm[(perm["end_date"] > m1 - pd.DateOffset(months=12)) & (perm["end_date"] <= m1)]
    return pct(left["fte"].sum(), open_at(perm, m1)["fte"].sum())


def agency_rate_pct(cur, m1):
    q = qualified_open(cur, m1)
    return pct(q.loc[q["is_agency"] == "Y", "fte"].sum(), q["fte"].sum())


def vacancy_rate_pct(cur, period, m1):
    e = cur["establishment"]
    e = e[e["period"] <= period].drop_duplicates("team", keep="last")
    q = qualified_open(cur, m1)
    perm = q[q["is_agency"] == "N"].groupby("team")["fte"].sum()
    gap = np.maximum(0.0, e["funded_fte"].to_numpy() - e["team"].map(perm).fillna(0.0).to_numpy())
    return pct(gap.sum(), e["funded_fte"].sum())


def caseload_avg(cur, m1):
    q = qualified_open(cur, m1)
    inv = open_at(cur["involvements"], m1)
    inv = inv[inv["worker_id"].isin(cur["workforce"].loc[cur["workforce"]["is_qualified"] == "Y", "worker_id"])]
    fte = cur["workforce"].set_index("worker_id")["fte"]
    holders = inv["worker_id"].unique()
    del q
    return len(inv) / fte.loc[holders].sum()


def supervision_pct(cur, m1):
    q = qualified_open(cur, m1)
    s = cur["supervisions"]
    s = s[(s["supervision_date"] >= m1 - pd.Timedelta(days=41)) & (s["supervision_date"] <= m1)]
    return pct(q["worker_id"].isin(s["worker_id"]).sum(), len(q))


def cp_3plus_workers_pct(cur, m1, area=None):
    plans = open_at(cur["cp_plans"], m1)
    if area:
        plans = plans[plans["area_office"] == area]
    inv = cur["involvements"]
    inv = inv[inv["start_date"] <= m1]
    j = plans[["cp_plan_id", "child_id", "start_date"]].merge(
        inv[["child_id", "worker_id", "end_date"]], on="child_id", suffixes=("", "_inv"))
    j = j[j["end_date"].isna() | (j["end_date"] >= j["start_date"])]
    workers = j.groupby("cp_plan_id")["worker_id"].nunique()
    return pct((workers >= 3).sum(), len(plans))


def caseload_stability_pct(cur, m1, area=None):
    inv = cur["involvements"]
    opened = open_at(inv, m1).sort_values(["start_date", "involvement_id"])
    latest = opened.groupby("child_id").tail(1).set_index("child_id")["area_office"]
    kids = latest.index if area is None else latest.index[latest == area]
    recent = inv[(inv["start_date"] <= m1) & (inv["end_date"].isna() | (inv["end_date"] > m1 - pd.DateOffset(months=6)))]
    n = recent[recent["child_id"].isin(kids)].groupby("child_id")["worker_id"].nunique()
    return pct((n == 1).sum(), len(kids))


def cp_2years_pct(cur, m0, m1):
    c = in_month(cur["cp_plans"], "end_date", m0, m1)
    return pct((c["end_date"] >= c["start_date"] + pd.DateOffset(years=2)).sum(), len(c))


def series(fn, cur, first, last, *args, **kwargs) -> pd.Series:
    vals = {}
    for period, m0, m1 in months(first, last):
        vals[period] = fn(cur, *args, m0=m0, m1=m1, **kwargs) if "m0" in fn.__code__.co_varnames else \
            fn(cur, *args, m1=m1, **kwargs)
    return pd.Series(vals)


def mean_over(fn, cur, window, **kwargs) -> float:
    return float(series(fn, cur, *window, **kwargs).mean())


# --- the same seed gives the same extracts ----------------------------------------------------

def test_same_seed_gives_identical_extracts(short):
    again = demo.generate("2011-01", "2011-06")
    assert [p for p, _ in again] == [p for p, _ in short]
    for (_, a), (_, b) in zip(short, again):
        assert a.keys() == b.keys()
        for sheet in a:
            pd.testing.assert_frame_equal(a[sheet], b[sheet])


def test_another_seed_gives_other_extracts(short):
    other = demo.generate("2011-01", "2011-06", seed=7)
    assert not other[0][1]["referrals"].equals(short[0][1]["referrals"])
    assert not other[3][1]["involvements"].equals(short[3][1]["involvements"])


def test_periods_run_month_by_month_from_first_to_last(short):
    assert [p for p, _ in short] == ["2011-01", "2011-02", "2011-03", "2011-04", "2011-05", "2011-06"]


def test_last_before_first_is_refused():
    with pytest.raises(ValueError):
        demo.generate("2011-06", "2011-01")


# --- every workbook honours the extract contract ----------------------------------------------

def test_every_sheet_has_exactly_the_spec_columns(short):
    for _, sheets in short:
        assert list(sheets) == list(SPEC_COLUMNS)
        for sheet, df in sheets.items():
            assert list(df.columns) == SPEC_COLUMNS[sheet], sheet


def test_keys_are_unique_within_each_sheet(full):
    for _, sheets in full:
        for sheet, key in KEYS.items():
            assert not sheets[sheet][key].duplicated().any(), sheet


def test_required_values_are_present(short):
    required = {
        "referrals": ["referral_id", "child_id", "referral_date", "area_office"],
        "assessments": ["assessment_id", "child_id", "assessment_type", "start_date", "area_office"],
        "cp_plans": ["cp_plan_id", "child_id", "start_date", "area_office"],
        "involvements": ["involvement_id", "child_id", "worker_id", "start_date", "area_office"],
        "transfers": ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "area_office"],
        "workforce": ["worker_id", "area_office", "is_qualified", "is_agency", "fte", "start_date"],
        "establishment": ["team", "area_office", "funded_fte"],
        "audits": ["audit_id", "audit_date", "area_office", "subject", "grade"],
        "supervisions": ["supervision_id", "worker_id", "supervision_date"],
    }
    for _, sheets in short:
        for sheet, cols in required.items():
            assert not sheets[sheet][cols].isna().any().any(), sheet


def test_dates_are_dates_within_bounds(full):
    earliest = dt.date(1990, 1, 1)
    for period, sheets in full:
        latest = month_end(period)
        assert latest <= dt.date(2012, 3, 31)
        for sheet, df in sheets.items():
            for col in date_columns(df):
                values = [v for v in df[col] if v is not None]
                assert all(type(v) is dt.date for v in values), (period, sheet, col)
                if values:
                    assert min(values) >= earliest, (period, sheet, col)
                    assert max(values) <= latest, (period, sheet, col)


def test_no_end_before_its_start(full):
    for period, sheets in full:
        for sheet, (start, end) in SPANS.items():
            df = sheets[sheet]
            done = df[df[end].notna()]
            assert (done[end] >= done[start]).all(), (period, sheet)


def test_fte_is_above_zero_and_at_most_one(full):
    for _, sheets in full:
        for df, col in ((sheets["workforce"], "fte"),):
            assert df[col].dtype == float
            assert ((df[col] > 0) & (df[col] <= 1)).all()
        assert (sheets["establishment"]["funded_fte"] >= 0).all()


def test_flags_and_enums_take_listed_values(full):
    for _, sheets in full:
        assert set(sheets["workforce"]["is_qualified"]) <= {"Y", "N"}
        assert set(sheets["workforce"]["is_agency"]) <= {"Y", "N"}
        assert set(sheets["assessments"]["child_seen"].dropna()) <= {"Y", "N"}
        assert set(sheets["assessments"]["assessment_type"]) <= {"Initial", "Core"}
        assert set(sheets["involvements"]["change_reason"].dropna()) <= CHANGE_REASONS
        assert set(sheets["audits"]["grade"]) <= GRADES
        assert set(sheets["audits"]["subject"]) <= {"assessment", "cp_plan"}
        assert set(sheets["audits"]["is_smart"].dropna()) <= {"Y", "N"}
        assert sheets["audits"].loc[sheets["audits"]["subject"] == "assessment", "is_smart"].isna().all()
        plans = sheets["cp_plans"]
        assert plans["previous_plans"].dtype == float
        assert ((plans["previous_plans"] >= 0) & (plans["previous_plans"] % 1 == 0)).all()


def test_workers_in_assessments_and_involvements_are_in_that_months_workforce(full):
    for period, sheets in full:
        known = set(sheets["workforce"]["worker_id"])
        for sheet in ("assessments", "involvements", "cp_plans"):
            used = set(sheets[sheet]["worker_id"].dropna())
            assert used <= known, (period, sheet, sorted(used - known)[:5])


def test_the_council_has_three_area_offices_and_the_integrated_access_team(short):
    sheets = short[0][1]
    assert set(sheets["referrals"]["area_office"]) == set(demo.AREAS)
    assert set(sheets["referrals"]["team"]) == {"Integrated Access Team"}
    est = sheets["establishment"]
    assert "Integrated Access Team" in set(est["team"])
    per_area = est[est["area_office"].isin(demo.AREAS)].groupby("area_office")["team"].count()
    assert per_area.between(2, 3).all() and len(per_area) == 3
    assert set(sheets["transfers"]["from_team"]) == {"Integrated Access Team"}
    assert set(sheets["transfers"]["to_team"]) <= set(est["team"]) - {"Integrated Access Team"}


# --- extracts behave like real ones: new records and changed records -------------------------

def test_assessment_started_one_month_and_completed_the_next_is_in_both_files(short):
    (_, first), (_, second) = short[2], short[3]  # March and April 2011
    a1 = first["assessments"].set_index("assessment_id")
    a2 = second["assessments"].set_index("assessment_id")
    open_then = a1[a1["completed_date"].isna()]
    completed_next = a2[a2["completed_date"].notna() & (a2["completed_date"] >= dt.date(2011, 4, 1))]
    both = open_then.index.intersection(completed_next.index)
    assert len(both) > 50
    one = both[0]
    assert a1.loc[one, "start_date"] == a2.loc[one, "start_date"]
    assert pd.isna(a1.loc[one, "child_seen"]) or a1.loc[one, "child_seen"] is None
    assert a2.loc[one, "completed_date"].month == 4


def test_ended_involvements_plans_and_accepted_transfers_reappear(short):
    prev, this = short[2][1], short[3][1]
    for sheet, key, end in (("involvements", "involvement_id", "end_date"),
                            ("cp_plans", "cp_plan_id", "end_date"),
                            ("transfers", "transfer_id", "accepted_date")):
        earlier = prev[sheet]
        later = this[sheet]
        was_open = set(earlier.loc[earlier[end].isna(), key])
        closed_now = later[later[end].notna() & (later[end] >= dt.date(2011, 4, 1))]
        assert len(was_open & set(closed_now[key])) > 0, sheet
        # a record that changed in the month is in the file; one that did not is not
        started_before = later[(later[SPANS[sheet][0]] < dt.date(2011, 4, 1)) & later[end].isna()]
        if sheet != "cp_plans":  # a plan also reappears when its worker changes
            assert started_before.empty, sheet


def test_workforce_lists_everyone_in_post_in_the_month_including_leavers(short):
    for period, sheets in short[1:]:
        w = sheets["workforce"]
        m0 = pd.Period(period, "M").start_time.date()
        assert (w["end_date"].isna() | (w["end_date"] >= m0)).all()
        leavers = w[w["end_date"].notna()]
        assert len(leavers) > 0
        assert leavers["leave_reason"].notna().all()
        assert 225 <= len(w) <= 275


def test_establishment_lists_every_team_every_month(short):
    for _, sheets in short:
        est = sheets["establishment"]
        assert len(est) == len(demo.TEAMS)
        assert est["team"].is_unique


def test_supervisions_and_audits_are_dated_in_their_month(short):
    for period, sheets in short[1:]:
        m0, m1 = pd.Period(period, "M").start_time.date(), month_end(period)
        for sheet, col in (("supervisions", "supervision_date"), ("audits", "audit_date")):
            dates = sheets[sheet][col]
            assert dates.between(m0, m1).all(), (period, sheet)


def test_first_file_carries_the_open_caseload(short):
    first = short[0][1]
    start = dt.date(2011, 1, 1)
    plans = first["cp_plans"]
    open_before = plans[(plans["start_date"] < start) & plans["end_date"].isna()]
    assert len(open_before) > 250
    inv = first["involvements"]
    assert (inv["start_date"] < start).sum() > 2500
    assert (first["assessments"]["start_date"] < start).any()
    assert (first["transfers"]["requested_date"] < start).any()
    # later files only hold what started or changed in their month
    assert len(short[1][1]["involvements"]) < len(inv) / 3


def test_referral_assessment_and_transfer_dates_fall_on_working_days(cur):
    checks = [(cur["referrals"], "referral_date"), (cur["assessments"], "start_date"),
              (cur["assessments"], "completed_date"), (cur["transfers"], "requested_date"),
              (cur["transfers"], "accepted_date")]
    for df, col in checks:
        days = df[col].dropna().dt.date
        assert all(d.weekday() < 5 and d not in BANK for d in days), col


# --- volumes and rates in the published ranges --------------------------------------------------

def test_about_5000_referrals_and_400_new_cp_plans_a_year(cur):
    year = (pd.Timestamp("2010-04-01"), pd.Timestamp("2011-03-31"))
    refs = in_month(cur["referrals"], "referral_date", *year)
    plans = in_month(cur["cp_plans"], "start_date", *year)
    assert 4600 <= len(refs) <= 5400
    assert 340 <= len(plans) <= 460


def test_about_250_staff_some_unqualified(full):
    for _, sheets in full[1:]:  # the first file also lists the year's earlier leavers
        w = sheets["workforce"]
        assert 225 <= len(w) <= 280
        unqualified = (w["is_qualified"] == "N").sum()
        assert 15 <= unqualified <= 35


def test_referrals_dip_in_august_and_december(cur):
    r = cur["referrals"]
    r = r[(r["referral_date"] >= "2010-04-01") & (r["referral_date"] <= "2012-03-31")]
    by_month = r.groupby(r["referral_date"].dt.month).size()
    typical = by_month.drop([8, 12]).mean()
    assert by_month[8] < 0.85 * typical
    assert by_month[12] < 0.85 * typical


def test_re_referrals_about_22_percent(cur):
    assert 19 <= mean_over(re_referral_pct, cur, ("2010-04", "2012-03")) <= 25


def test_assessments_in_time_80_to_85_percent_before_the_action(cur):
    assert 80 <= mean_over(assessments_timely_pct, cur, PRE) <= 85


def test_workforce_rates_before_the_action(cur):
    assert 12 <= mean_over(turnover_rate_pct, cur, PRE) <= 18
    assert 14 <= mean_over(agency_rate_pct, cur, PRE) <= 19
    vacancy = np.mean([vacancy_rate_pct(cur, p, m1) for p, _, m1 in months(*PRE)])
    assert 12 <= vacancy <= 18
    assert 16 <= mean_over(caseload_avg, cur, PRE) <= 20
    assert 90 <= mean_over(supervision_pct, cur, PRE) <= 98


def test_cp_plans_of_two_years_or_more_about_4_percent(cur):
    ended = in_month(cur["cp_plans"], "end_date", pd.Timestamp("2010-04-01"), pd.Timestamp("2012-03-31"))
    long = ended["end_date"] >= ended["start_date"] + pd.DateOffset(years=2)
    assert 2 <= 100 * long.mean() <= 6


def test_changes_of_worker_have_reasons(cur):
    inv = cur["involvements"]
    reasons = inv.loc[inv["start_date"] >= "2010-04-01", "change_reason"].value_counts()
    for code in ("TSPROC", "LEFTRL", "ORGRST", "MANAGE"):
        assert reasons.get(code, 0) > 50, code


# --- the story of the report ---------------------------------------------------------------------

def test_unqualified_staff_assess_before_the_action_and_not_by_2012(cur):
    before = series(assessments_qualified_pct, cur, *PRE)
    assert before.max() < 92 and before.mean() < 90
    late = series(assessments_qualified_pct, cur, *LATE)
    assert late.min() >= 99


def test_transfers_slow_before_the_action_and_timely_after(cur):
    assert mean_over(transfer_timely_pct, cur, PRE) < 35
    assert mean_over(transfer_timely_pct, cur, LATE) > 80


def test_too_many_worker_changes_before_the_action(cur):
    assert 20 <= mean_over(cp_3plus_workers_pct, cur, PRE) <= 26


def test_one_area_lags_on_worker_changes(cur):
    late = {a: mean_over(cp_3plus_workers_pct, cur, LATE, area=a) for a in demo.AREAS}
    stable = {a: mean_over(caseload_stability_pct, cur, LATE, area=a) for a in demo.AREAS}
    others = [a for a in demo.AREAS if a != "Fenland"]
    assert late["Fenland"] > max(late[a] for a in others) + 5
    assert stable["Fenland"] < min(stable[a] for a in others) - 5
    for a in others:
        assert late[a] < mean_over(cp_3plus_workers_pct, cur, PRE, area=a) - 5
        assert stable[a] > mean_over(caseload_stability_pct, cur, PRE, area=a) + 4


def test_import_dates_get_timelier_after_may_2011():
    def days(period):
        at = demo.import_datetime(period).date()
        return int(wd(np.datetime64(month_end(period)), np.datetime64(at)))

    before = [days(p) for p in ("2010-04", "2010-09", "2011-01", "2011-03")]
    after = [days(p) for p in ("2011-09", "2011-12", "2012-03")]
    assert all(d >= 12 for d in before)
    assert all(1 <= d <= 5 for d in after)
    assert demo.import_datetime("2011-04") == demo.import_datetime("2011-04")


# --- writing and importing -----------------------------------------------------------------------

def test_written_workbook_has_a_sheet_per_key_with_real_date_cells(short, tmp_path):
    import openpyxl

    sheets = short[1][1]
    path = demo.write_workbook(sheets, tmp_path / "extract-2011-02.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == list(sheets)
    ws = wb["assessments"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == SPEC_COLUMNS["assessments"]
    assert len(rows) == len(sheets["assessments"]) + 1
    cells = next(ws.iter_rows(min_row=2, max_row=2))
    start = cells[SPEC_COLUMNS["assessments"].index("start_date")]
    assert start.is_date and "yy" in start.number_format
    assert any(r[4] is None for r in rows[1:])  # open assessments: an empty completed_date
    wf = list(wb["workforce"].iter_rows(min_row=2, max_row=2))[0]
    assert isinstance(wf[SPEC_COLUMNS["workforce"].index("fte")].value, (int, float))


def test_same_content_gives_the_same_file_bytes(short, tmp_path):
    a = demo.write_workbook(short[1][1], tmp_path / "a.xlsx")
    b = demo.write_workbook(short[1][1], tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()


def test_demo_months_import_through_the_store_without_problems(tmp_path):
    seen = []
    results = demo.run_demo(tmp_path / "csc.duckdb", first="2011-01", last="2011-02",
                            progress=lambda done, total, message: seen.append((done, total)))
    assert [r.status for r in results] == ["loaded"] * 2
    assert [p.message for r in results for p in r.problems] == []
    assert not (tmp_path / "demo").exists()  # the workbooks were written to a private folder, since removed
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".xlsx"] == []
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1]

    from csc.store import Store

    with Store.open(tmp_path / "csc.duckdb") as store:
        imports = store.imports()
        assert list(imports["period"]) == ["2011-01", "2011-02"]
        assert list(imports["user_name"]) == ["demo", "demo"]
        ends = [pd.Timestamp(month_end(p)) + pd.Timedelta(days=1) for p in imports["period"]]
        assert (imports["imported_at"] >= pd.Series(ends)).all()
        # the same seed writes the same files, so running it again changes nothing
        again = demo.run_demo(None, first="2011-01", last="2011-02", out_dir=tmp_path / "again", store=store)
        assert [r.status for r in again] == ["unchanged"] * 2
