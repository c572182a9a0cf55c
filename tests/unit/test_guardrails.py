"""The upload guardrails (csc.guardrails): each warning from a hand-made workbook, with its code
and its wording worked out by hand; the default reporting month; which KPIs a column feeds.

The transfers below are requested on a Monday and accepted the next day, in weeks with no bank
holiday: March 2012 (Mon 5 -> Tue 6, Mon 12 -> Tue 13, Mon 19 -> Tue 20) and April 2012 (Mon 16 ->
Tue 17, Mon 23 -> Tue 24).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from csc import guardrails
from tests.conftest import write_xlsx

D = dt.date
TRANSFER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
MARCH = [TRANSFER,
         ["T1", "C1", "Intake", "North A", D(2012, 3, 5), D(2012, 3, 6), "North"],
         ["T2", "C2", "Intake", "North A", D(2012, 3, 12), D(2012, 3, 13), "North"],
         ["T3", "C3", "Intake", "North A", D(2012, 3, 19), D(2012, 3, 20), "North"]]
APRIL = [TRANSFER,
         ["T4", "C4", "Intake", "North A", D(2012, 4, 16), D(2012, 4, 17), "North"],
         ["T5", "C5", "Intake", "South A", D(2012, 4, 23), D(2012, 4, 24), "South"]]
SUPERVISIONS = [["supervision_id", "worker_id", "supervision_date"], ["S1", "W1", D(2012, 3, 7)]]
ON_TIME = D(2012, 5, 10)  # April's extract loaded in May: not late


def codes(problems) -> list[str]:
    return [p.code for p in problems if p.code in guardrails.CODES and p.code not in
            ("sheet_ignored", "sheet_empty", "columns_ignored", "sheet_no_rows", "worker_unknown")]


def by_code(problems, code):
    found = [p for p in problems if p.code == code]
    assert found, [(p.code, p.message) for p in problems]
    return found


@pytest.fixture
def march(store, tmp_path):
    path = write_xlsx(tmp_path / "extract-2012-03.xlsx", {"Transfers": MARCH, "Supervisions": SUPERVISIONS})
    result = store.import_file(path, "2012-03", user="Ann Analyst", imported_at=dt.datetime(2012, 4, 3, 9, 15))
    assert result.status == "loaded", [p.message for p in result.problems]
    return result


def test_the_next_month_complete_and_on_time_has_no_guardrail_warning(store, march, tmp_path):
    path = write_xlsx(tmp_path / "extract-2012-04.xlsx", {"Transfers": APRIL, "Supervisions": SUPERVISIONS})
    extract = store.validate(path, period="2012-04", as_of=ON_TIME)
    assert extract.ok
    assert codes(extract.warnings) == []


def test_a_missing_optional_column_names_the_kpi_that_loses_its_value(store, tmp_path):
    header = ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "area_office", "worker_id"]
    rows = [header, ["A1", "C1", "Initial", D(2012, 4, 2), D(2012, 4, 5), "North", "W1"]]
    path = write_xlsx(tmp_path / "extract-2012-04.xlsx", {"Assessments": rows})
    extract = store.validate(path, period="2012-04", as_of=ON_TIME)
    (w,) = by_code(extract.warnings, "column_missing")
    assert w.message == ('`child_seen` is missing from sheet "Assessments": *Assessments where the child was seen* '
                         "will have no value for 2012-04 from this file.")
    assert (w.sheet, w.column) == ("Assessments", "child_seen")
    assert extract.ok  # a warning never blocks the load


def test_a_missing_column_feeding_three_kpis_names_all_three(store, tmp_path):
    rows = [["assessment_id", "child_id", "assessment_type", "start_date", "child_seen", "area_office", "worker_id"],
            ["A1", "C1", "Initial", D(2012, 4, 2), "Y", "North", "W1"]]
    path = write_xlsx(tmp_path / "a.xlsx", {"Assessments": rows})
    (w,) = by_code(store.validate(path, period="2012-04", as_of=ON_TIME).warnings, "column_missing")
    assert w.column == "completed_date"
    for title in ("*Assessments where the child was seen*", "*Assessments completed within timescale*",
                  "*Assessments completed by a qualified social worker*"):
        assert title in w.message


def test_a_sheet_last_month_had_and_this_month_lacks(store, march, tmp_path):
    path = write_xlsx(tmp_path / "extract-2012-04.xlsx", {"Transfers": APRIL})
    (w,) = by_code(store.validate(path, period="2012-04", as_of=ON_TIME).warnings, "sheet_missing")
    assert w.message == (f"The `supervisions` sheet is missing (import {march.import_id} for 2012-03 had it): "
                         "*Qualified social workers supervised in the last 6 weeks* will have no new supervisions "
                         "records for 2012-04; only records already loaded count.")


def test_a_month_already_loaded_says_by_whom_and_what_changes(store, march, tmp_path):
    # against March's import: T1 the same, T2 accepted a day later (changes), T3 not in the file
    # (gone), T6 new
    rows = [TRANSFER, MARCH[1],
            ["T2", "C2", "Intake", "North A", D(2012, 3, 12), D(2012, 3, 14), "North"],
            ["T6", "C6", "Intake", "South A", D(2012, 3, 26), D(2012, 3, 27), "South"]]
    path = write_xlsx(tmp_path / "extract-2012-03-v2.xlsx", {"Transfers": rows, "Supervisions": SUPERVISIONS})
    (w,) = by_code(store.validate(path, period="2012-03", as_of=D(2012, 4, 5)).warnings, "period_loaded")
    assert w.message == (f'2012-03 is already loaded (import {march.import_id}, 3 Apr 2012 by Ann Analyst, from '
                         f'"extract-2012-03.xlsx"): this load updates it; 1 row changes, 1 is new, 1 is not in this '
                         f"file and stays current as import {march.import_id} loaded it (roll import {march.import_id} "
                         "back first if it should go).")


def test_a_child_id_alone_does_not_count_as_a_change(store, march, tmp_path):
    """Child ids are stored pseudonymised: the same id in the new file is no change."""
    path = write_xlsx(tmp_path / "same.xlsx", {"Transfers": MARCH, "Supervisions": SUPERVISIONS})
    (w,) = by_code(store.validate(path, period="2012-03", as_of=D(2012, 4, 5)).warnings, "period_loaded")
    assert "0 rows change, 0 are new, 0 are not in this file" in w.message


def test_dates_in_another_month_and_a_file_name_naming_it(store, march, tmp_path):
    path = write_xlsx(tmp_path / "extract-2012-04.xlsx", {"Transfers": APRIL, "Supervisions": SUPERVISIONS})
    warnings = store.validate(path, period="2012-06", as_of=D(2012, 7, 5)).warnings
    # 2 transfers x (requested, accepted) = 4 dates in April, and 1 supervision in March: 4 of 5
    (dates,) = by_code(warnings, "period_dates")
    assert dates.message == ("4 of the file's 5 event dates fall in 2012-04, not 2012-06: check the reporting month "
                             "(is this 2012-04's extract?).")
    (name,) = by_code(warnings, "period_file_name")
    assert name.message == 'The file name "extract-2012-04.xlsx" names 2012-04, not 2012-06: check the reporting month.'
    # and 2012-04 and 2012-05 are skipped
    (skip,) = by_code(warnings, "period_skipped")
    assert skip.message.startswith("2012-03 is loaded but 2012-04 to 2012-05 are not")


def test_dates_spread_over_other_months_and_none_in_the_month_chosen(store, tmp_path):
    """A review's November audits typed month first as text, 11/02/2026 ... 11/10/2026, loaded as
    11 February to 11 October without a word: no month held more than half of them. None falls in
    the month chosen: said, with the months they run over."""
    audits = [["audit_id", "child_id", "audit_date", "area_office", "subject", "grade", "is_smart"]]
    audits += [[f"AU{i}", f"C{i}", day, "North", "CP Plan", "Good", "Y"]
               for i, day in enumerate(["11/02/2012", "11/05/2012", "11/09/2012", "11/10/2012"], start=1)]
    path = write_xlsx(tmp_path / "audits.xlsx", {"Audits": audits})
    extract = store.validate(path, period="2012-11", as_of=D(2012, 12, 3))
    assert extract.ok, [p.message for p in extract.errors]
    (w,) = by_code(extract.warnings, "period_no_dates")
    assert w.message == ("None of the file's 4 event dates falls in 2012-11 (they run from 2012-02 to 2012-10): check "
                         "the reporting month, and that dates typed as text are written day first (31/03/2012).")
    assert "period_dates" not in codes(extract.warnings)
    # one of them in the month: nothing said
    audits[4][2] = "20/11/2012"
    path = write_xlsx(tmp_path / "audits2.xlsx", {"Audits": audits})
    assert "period_no_dates" not in codes(store.validate(path, period="2012-11", as_of=D(2012, 12, 3)).warnings)


def test_dates_after_the_month_following_the_month_chosen(store, tmp_path):
    """A review's April extract with its text dates typed month first where they could be either
    (04/10/2012 meant as 10 April, read as 4 October) loaded without a word: no month held most of
    them, and one fell in April. An extract for April is made in May at the latest: later dates are
    said, with the months they run over."""
    audits = [["audit_id", "child_id", "audit_date", "area_office", "subject", "grade", "is_smart"]]
    audits += [[f"AU{i}", f"C{i}", day, "North", "CP Plan", "Good", "Y"]
               for i, day in enumerate(["04/02/2012", "04/05/2012", "04/10/2012", "04/11/2012", "10/04/2012"], 1)]
    path = write_xlsx(tmp_path / "audits.xlsx", {"Audits": audits})
    extract = store.validate(path, period="2012-04", as_of=D(2012, 12, 3))
    assert extract.ok, [p.message for p in extract.errors]
    # 4 Feb, 4 May (the month after: an extract made then can hold it), 4 Oct, 4 Nov, 10 Apr
    (w,) = by_code(extract.warnings, "period_later_dates")
    assert w.message == ("2 of the file's 5 event dates fall after 2012-05 (from 2012-10 to 2012-11), though an "
                         "extract for 2012-04 is made in 2012-05 at the latest: check those dates (a date typed as "
                         "text is read day first: 04/11/2012 is 4 November) and the reporting month.")
    assert {"period_dates", "period_no_dates"}.isdisjoint(codes(extract.warnings))
    # most of them later (March's 6 transfer dates, for January): said once, as the month they point to
    march = write_xlsx(tmp_path / "march.xlsx", {"Transfers": MARCH})
    warnings = codes(store.validate(march, period="2012-01", as_of=D(2012, 12, 3)).warnings)
    assert "period_dates" in warnings and "period_later_dates" not in warnings
    # the same dates for November: none after December
    assert "period_later_dates" not in codes(store.validate(path, period="2012-11", as_of=D(2012, 12, 3)).warnings)


def test_an_id_with_leading_zeros_and_without_them(store, tmp_path):
    """A review's child 013944, text on the assessments sheet and the number 13944 on referrals
    (Excel drops an id's leading zeros when it is typed as a number), loaded as two children
    without a word. 0042 and 42 are a second pair; 007 on its own, and 8 without a partner, are not."""
    referrals = [["referral_id", "child_id", "referral_date", "area_office"],
                 ["R1", 13944, D(2012, 4, 2), "North"], ["R2", 42, D(2012, 4, 3), "North"],
                 ["R3", 8, D(2012, 4, 4), "North"]]
    assessments = [["assessment_id", "child_id", "assessment_type", "start_date", "area_office"],
                   ["A1", "013944", "Single", D(2012, 4, 5), "North"], ["A2", "0042", "Single", D(2012, 4, 5), "North"],
                   ["A3", "007", "Single", D(2012, 4, 6), "North"]]
    path = write_xlsx(tmp_path / "zeros.xlsx", {"Referrals": referrals, "Assessments": assessments})
    extract = store.validate(path, period="2012-04", as_of=ON_TIME)
    assert extract.ok, [p.message for p in extract.errors]
    (w,) = by_code(extract.warnings, "ids_leading_zeros")
    assert w.message == ('2 child_id value(s) are written both with leading zeros and without them, such as '
                         '"013944" (sheet "Assessments") and "13944" (sheet "Referrals"): they count as different '
                         "ids. Excel drops the leading zeros of an id typed as a number: format the child_id columns "
                         "as Text in the case system's export (or in Excel, before typing), and upload again.")
    # the same ids, all with their zeros: nothing said
    referrals[1][1], referrals[2][1] = "013944", "0042"
    path = write_xlsx(tmp_path / "zeros2.xlsx", {"Referrals": referrals, "Assessments": assessments})
    assert "ids_leading_zeros" not in codes(store.validate(path, period="2012-04", as_of=ON_TIME).warnings)


def test_a_month_skipped(store, march, tmp_path):
    path = write_xlsx(tmp_path / "may.xlsx", {"Supervisions": [SUPERVISIONS[0], ["S9", "W1", D(2012, 5, 9)]]})
    (w,) = by_code(store.validate(path, period="2012-05", as_of=D(2012, 6, 6)).warnings, "period_skipped")
    assert w.message == ("2012-03 is loaded but 2012-04 is not: the KPIs have no figure of its own for it until it "
                         "is loaded.")


def test_a_month_long_past_says_its_timeliness_figure(store, tmp_path):
    # February 2012 loaded on Thu 5 April 2012: March 2012 has 22 working days (Thu 1 - Fri 30, no
    # bank holiday), then Mon 2 - Thu 5 April: 4 -> 26 working days (Good Friday is the 6th)
    rows = [TRANSFER, ["T1", "C1", "Intake", "North A", D(2012, 2, 6), D(2012, 2, 7), "North"]]
    path = write_xlsx(tmp_path / "feb.xlsx", {"Transfers": rows})
    (w,) = by_code(store.validate(path, period="2012-02", as_of=D(2012, 4, 5)).warnings, "period_late")
    assert w.message == ("2012-02 ended 26 working days ago and is loaded for the first time: its *Working days from "
                         "the month end to its data being loaded* figure will be 26 days, against a target of 5.")
    # loaded in March (the month after) it is on time
    assert "period_late" not in codes(store.validate(path, period="2012-02", as_of=D(2012, 3, 9)).warnings)


def test_the_import_keeps_the_warnings_with_their_codes(store, march, tmp_path):
    path = write_xlsx(tmp_path / "extract-2012-04.xlsx", {"Transfers": APRIL})
    result = store.import_file(path, "2012-06", user="tester", imported_at=dt.datetime(2012, 7, 4, 9))
    assert result.status == "loaded"
    assert sorted(codes(result.warnings)) == ["period_dates", "period_file_name", "period_skipped", "sheet_missing"]
    assert {w["code"] for w in result.as_dict()["warnings"]} >= {"period_dates", "sheet_missing"}


def test_the_import_row_keeps_every_warning_in_the_order_the_check_gives_them(store, march, tmp_path):
    """The guardrails' warnings are worked out beside the load (`Store.import_file`): the import's row
    still keeps them, after the read's own, as the check of the same file lists them."""
    path = write_xlsx(tmp_path / "extract-2012-04.xlsx", {"Transfers": APRIL, "Notes": [["anything"], ["x"]]})
    checked = store.validate(path, period="2012-06", as_of=dt.date(2012, 7, 4))
    result = store.import_file(path, "2012-06", user="tester", imported_at=dt.datetime(2012, 7, 4, 9))
    assert result.status == "loaded"
    assert [p.code for p in result.warnings] == [p.code for p in checked.warnings]
    assert [p.code for p in result.warnings][0] == "sheet_ignored"  # the read's, then the guardrails'
    assert sorted(codes(result.warnings)) == ["period_dates", "period_file_name", "period_skipped", "sheet_missing"]
    kept = store.cursor().execute("select warnings from imports where import_id = $id",
                                  {"id": result.import_id}).fetchall()[0][0]
    assert json.loads(kept) == [p.message for p in result.warnings]


def test_default_month_is_the_files_then_the_next_due_never_the_clocks(store, march, tmp_path):
    cur = store.cursor()
    assert guardrails.default_period(cur) == "2012-04"  # the month after the latest loaded
    june = [TRANSFER, ["T9", "C9", "Intake", "North A", D(2012, 6, 4), D(2012, 6, 5), "North"]]
    extract = store.validate(write_xlsx(tmp_path / "x.xlsx", {"Transfers": june}))
    assert guardrails.default_period(cur, extract) == "2012-06"  # where the file's dates point
    assert guardrails.default_period(cur, None, "extract-2012-05.xlsx") == "2012-05"


def test_default_month_with_nothing_loaded_and_nothing_to_go_on(store):
    assert guardrails.default_period(store.cursor()) is None


def test_which_kpis_a_column_feeds_is_read_from_the_kpi_sql():
    assert guardrails.feeds("assessments", "child_seen") == ["child_seen_pct"]
    assert guardrails.feeds("audits", "is_smart") == ["cp_plan_smart_pct"]
    assert guardrails.feeds("referrals", "source") == []  # read by no KPI
    assert guardrails.feeds("assessments", "team") == []  # only passed through to the records
    assert guardrails.feeds("supervisions") == ["supervision_pct"]


def test_the_docs_list_every_warning_code_and_nothing_else():
    from pathlib import Path
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "extract-format.md").read_text()
    section = doc.split("## Warnings", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([a-z_]+)` \|", section, re.M)
    assert listed == list(guardrails.CODES)


def test_every_warning_the_code_makes_names_its_code():
    """Every warning built in csc/ (`Problem("warning", ...)` or a reader's warning helper) is
    given a code, written where it is made, that guardrails.CODES (and so the docs) lists: a
    machine reading `--json` never meets a warning without one."""
    import ast
    from pathlib import Path

    def required_code(fn: ast.FunctionDef) -> bool:  # a helper that cannot be called without a code
        a = fn.args
        positional = a.posonlyargs + a.args
        return any(x.arg == "code" for x in positional[:len(positional) - len(a.defaults)]) or any(
            x.arg == "code" and d is None for x, d in zip(a.kwonlyargs, a.kw_defaults))

    root = Path(__file__).resolve().parents[2] / "csc"
    seen, bare = 0, []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        helpers = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and required_code(f)
                   for n in ast.walk(f)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue  # log.warning(...) is a log line, not a Problem
            name, args = node.func.id, node.args
            if name == "_w":
                code = args[0] if args else None
            elif name in ("warning", "_warning") or (
                    name == "Problem" and args and isinstance(args[0], ast.Constant) and args[0].value == "warning"):
                code = next((k.value for k in node.keywords if k.arg == "code"), None)
            else:
                continue
            seen += 1
            if isinstance(code, ast.Name) and code.id == "code" and id(node) in helpers:
                continue  # the helper passes on the code its callers must give (checked at each call)
            if not (isinstance(code, ast.Constant) and code.value in guardrails.CODES):
                bare.append(f"{path.name}:{node.lineno}")
    assert seen > 40 and not bare, bare


def test_every_warning_code_the_code_gives_is_documented():
    """Each `code="..."` written in csc/ is one of guardrails.CODES (so the docs list it)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "csc"
    used = {c for p in root.glob("*.py") for c in re.findall(r'(?:code=|_w\(\s*)"([a-z_]+)"', p.read_text())}
    assert used and used <= set(guardrails.CODES), used - set(guardrails.CODES)


def test_rows_naming_an_unknown_worker_are_counted_and_the_workers_listed(store, tmp_path):
    """Workforce knows W1 and W2; the assessments name W1, W3 twice, a blank worker and W4, and
    the involvements 12 unknown workers, W10..W21 (the first ten listed, sorted as text)."""
    workforce = [["worker_id", "area_office", "team", "role", "is_qualified", "is_agency", "fte", "start_date"],
                 ["W1", "North", "North A", "Social Worker", "Y", "N", 1, D(2010, 1, 4)],
                 ["W2", "North", "North A", "Social Worker", "Y", "N", 1, D(2010, 1, 4)]]
    header = ["assessment_id", "child_id", "assessment_type", "start_date", "area_office", "worker_id"]
    assessments = [header] + [[f"A{i}", "C1", "Initial", D(2012, 3, 1), "North", w]
                              for i, w in enumerate(["W1", "W3", None, "W3", "W4"])]
    involvements = [["involvement_id", "child_id", "worker_id", "start_date", "area_office", "team"]] + [
        [f"I{i}", "C1", f"W{i}", D(2012, 3, 1), "North", "North A"] for i in range(10, 22)]
    path = write_xlsx(tmp_path / "extract-2012-03.xlsx",
                      {"Workforce": workforce, "Assessments": assessments, "Involvements": involvements})
    extract = store.validate(path)
    assert extract.ok, [p.message for p in extract.errors]
    found = by_code(extract.warnings, "worker_unknown")
    assert [p.message for p in found] == [
        'Sheet "Assessments": 3 row(s) name a worker that no loaded workforce row knows (W3, W4). They count as '
        "unknown workers in the KPIs until a workforce sheet lists them.",
        'Sheet "Involvements": 12 row(s) name a worker that no loaded workforce row knows (W10, W11, W12, W13, W14, '
        "W15, W16, W17, W18, W19 and 2 more). They count as unknown workers in the KPIs until a workforce sheet "
        "lists them.",
    ]
    assert [p.column for p in found] == ["worker_id", "worker_id"]


def test_an_area_office_on_no_establishment_list_is_named_before_the_load(store, tmp_path):
    # March's establishment lists North and South; April's referrals name "Fenlnad" twice (a typo) and a
    # 200-character name once (255 are accepted): each would become an area office in every filter,
    # the board's too
    establishment = [["period", "team", "area_office", "funded_fte"], ["2012-03", "North A", "North", 10.0],
                     ["2012-03", "South A", "South", 8.0]]
    march = write_xlsx(tmp_path / "march.xlsx", {"Transfers": MARCH, "Establishment": establishment})
    assert store.import_file(march, "2012-03", user="t").status == "loaded"
    referrals = [["referral_id", "child_id", "referral_date", "area_office", "team", "source"],
                 ["R1", "C1", D(2012, 4, 2), "North", "North A", "Police"],
                 ["R2", "C2", D(2012, 4, 3), "Fenlnad", "North A", "Police"],
                 ["R3", "C3", D(2012, 4, 4), "Fenlnad", "North A", "Police"],
                 ["R4", "C4", D(2012, 4, 5), "y" * 200, "North A", "Police"]]
    april = write_xlsx(tmp_path / "april.xlsx", {"Transfers": APRIL, "Referrals": referrals})
    extract = store.validate(april, period="2012-04", as_of=ON_TIME)
    (warning,) = by_code(extract.problems, "area_office_new")
    assert warning.message.startswith('2 area office name(s) not seen before and on no establishment list: '
                                      '"Fenlnad" (2 rows, sheet "Referrals"); '
                                      f'"{"y" * 40}… (200 characters)" (1 row, sheet "Referrals")')
    # South (April's transfers) is on March's establishment list; North is known: neither is named
    assert '"South"' not in warning.message and '"North"' not in warning.message


def test_a_funded_fte_beyond_any_team_is_said(store, tmp_path):
    """The spec's "number >= 0" lets any funded FTE in, and two rows of 1e308 summed to infinity in the
    vacancy rate. Hours typed for FTE (37 a full-time post) or the service's total on one row are the
    careless cases: said, with the largest; 500 itself and below are not (370 hours, ten posts, pass)."""
    est = [["team", "area_office", "funded_fte"], ["Team A", "North", 12.5], ["Team B", "North", 370],
           ["Team C", "South", 1480], ["Team D", "South", 500]]
    path = write_xlsx(tmp_path / "fte.xlsx", {"Establishment": est})
    extract = store.validate(path, period="2012-04", as_of=ON_TIME)
    assert extract.ok, [p.message for p in extract.errors]
    (w,) = by_code(extract.warnings, "funded_fte_large")
    assert w.message == ('Sheet "Establishment": 1 row(s) give a team a funded FTE above 500, the largest 1,480 (team '
                         '"Team C"): more than any team could have. Check that the column holds FTE (1 for a full-time '
                         "post), not hours or a total for the service: the vacancy rate is worked out from it.")
    assert (w.row, w.column, w.value, w.expected) == (4, "funded_fte", "1480", "at most 500")
    est[2][2], est[3][2] = 1e308, 1e308  # once a warning; now beyond any number accepted (test_extract.py)
    huge = store.validate(write_xlsx(tmp_path / "huge.xlsx", {"Establishment": est}), period="2012-04", as_of=ON_TIME)
    assert [(p.row, '"1e+308" is too large (at most 1,000,000,000)' in p.message) for p in huge.errors] == [(3, True), (4, True)]
    est[2][2], est[3][2] = 37, 500
    path = write_xlsx(tmp_path / "fine.xlsx", {"Establishment": est})
    assert "funded_fte_large" not in codes(store.validate(path, period="2012-04", as_of=ON_TIME).warnings)


def test_funded_fte_many_times_the_staff_in_post_is_said(store, tmp_path):
    """A red-team review: funded FTE typed ten times over (160 for 16) loaded with no word, and the
    vacancy rate went from 13.0% to 91.3%. Against the same file's workforce in post at the month's
    end: 4 workers of 1 FTE in post at 30 April 2012 (a fifth left in March, a sixth on 30 April:
    neither counted)."""
    from tests.corpus import WORKFORCE

    workers = [WORKFORCE] + [[f"W{i}", "North", "Team A", "Social Worker", "Y", "N", 1, D(2010, 1, 1), None, None]
                             for i in range(1, 5)]
    workers.append(["W5", "North", "Team A", "Social Worker", "Y", "N", 1, D(2010, 1, 1), D(2012, 3, 31), "Resigned"])
    # leaving on the month's last day is not in post at its end, as the workforce KPIs count (a review)
    workers.append(["W6", "North", "Team A", "Social Worker", "Y", "N", 1, D(2010, 1, 1), D(2012, 4, 30), "Resigned"])
    est = [["team", "area_office", "funded_fte"], ["Team A", "North", 6], ["Team B", "North", 4]]
    path = write_xlsx(tmp_path / "fine.xlsx", {"Workforce": workers, "Establishment": est})
    assert "establishment_vs_staff" not in codes(store.validate(path, period="2012-04", as_of=ON_TIME).warnings)
    est[1][2], est[2][2] = 60, 40  # ten times over: 100 funded against 4 in post
    path = write_xlsx(tmp_path / "ten.xlsx", {"Workforce": workers, "Establishment": est})
    extract = store.validate(path, period="2012-04", as_of=ON_TIME)
    assert extract.ok
    (w,) = by_code(extract.warnings, "establishment_vs_staff")
    assert w.message == ('Sheet "Establishment": the teams\' funded FTE add up to 100.0, 25.0 times the 4.0 FTE in post '
                         'at the end of April 2012 on sheet "Workforce": a vacancy rate of 96% or more. Check that the '
                         "funded FTE are FTE (1 for a full-time post, not hours or ten times over) and that no team or "
                         "total is listed twice.")
    est[1][2], est[2][2] = 6, 4.1  # 10.1 = 2.5 x 4 + 0.1: just over
    path = write_xlsx(tmp_path / "edge.xlsx", {"Workforce": workers, "Establishment": est})
    assert "establishment_vs_staff" in codes(store.validate(path, period="2012-04", as_of=ON_TIME).warnings)
    est[2][2] = 4  # 10 = 2.5 x 4: not over
    path = write_xlsx(tmp_path / "line.xlsx", {"Workforce": workers, "Establishment": est})
    assert "establishment_vs_staff" not in codes(store.validate(path, period="2012-04", as_of=ON_TIME).warnings)
