"""Annex A as real files have it: the five sample workbooks and the official headings in
../shared/external-data/annex-a (drop-down codes, D2I/SSD headings, sheets named after their lists),
validation without a database, the unmapped-teams message, re-referrals from List 3's count,
and inferred involvements that end where the plan or assessment ended."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from csc import annexa, annexa_teams, kpis
from csc.store import Store
from tests.conftest import write_xlsx

D = dt.date
KEY = os.environ["CSC_ID_KEY"].encode()
TODAY = D(2026, 1, 1)


def _external() -> Path:
    for parent in Path(__file__).resolve().parents:
        candidate = parent.parent / "shared" / "external-data" / "annex-a"
        if candidate.exists():
            return candidate
    pytest.skip("../shared/external-data is not beside this checkout", allow_module_level=True)


SAMPLES = sorted(_external().glob("liia-tools_Annex_A_*.xlsx")) if _external() else []
SAMPLE = next(p for p in SAMPLES if "7498eca" in p.name)
HEADINGS = json.loads((_external() / "liia-tools_annex-a-merge_headers.json").read_text())
# The teams the samples name, mapped to two made-up area offices
TEAMS = {
    "Multi Agency Safeguarding Hub": "Front Door",
    "Locality 4 Duty Team": "Locality 4",
    "Locality 2 Unit 1": "Locality 2",
    "Children in Care Team 1": "Locality 4",
    "Children in Care Team 3": "Locality 4",
    "Locality 4 Unit 2": "Locality 4",
    "Locality 4 Unit 1": "Locality 4",
}


def edited(src: Path, dest: Path, sheet: str, changes: dict[str, object] | None = None,
           headings: dict[str, str] | None = None, rename: dict[str, str] | None = None,
           drop: tuple[str, ...] = ()) -> Path:
    """A copy of a sample with cells of one list changed: `changes` heading -> a value, or a list of
    values down the column; `headings` old -> new heading text; `rename` sheet titles."""
    wb = openpyxl.load_workbook(src)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    for heading, value in (changes or {}).items():
        col = header.index(heading) + 1
        values = value if isinstance(value, list) else [value] * (ws.max_row - 1)
        for i, v in enumerate(values, start=2):
            ws.cell(i, col, v)
    for old, new in (headings or {}).items():
        ws.cell(1, header.index(old) + 1, new)
    for title in drop:
        del wb[title]
    for old, new in (rename or {}).items():
        wb[old].title = new
    wb.save(dest)
    return dest


def read(path, teams=TEAMS):
    return annexa.read(path, teams, id_key=KEY, today=TODAY)


def text(problems) -> str:
    return "\n".join(p.message for p in problems)


def column(extract, sheet, name):
    return extract.sheets[sheet].table.column(name).to_pylist()


# --- the five sample versions and the official headings ---------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem[-7:])
def test_every_sample_version_reads(path):
    assert len(SAMPLES) == 5
    assert annexa.is_annex_a(path)
    extract = read(path)
    assert extract.ok, text(extract.errors)
    # counted by opening the sample: 6 rows under List 3's headings, 5 under List 4's, 7 under List 7's
    # List 3's "Number of Referrals in Last 12 Months" is kept beside the referrals (a side table,
    # not counted as a sheet)
    assert extract.row_counts == {"referrals": 6, "assessments": 5, "cp_plans": 7}
    assert column(extract, "referral_counts", "prior_referrals_12m") == [0, 2, 1, 0, 2, 0]
    assert column(extract, "assessments", "completed_date")[0] == D(2021, 2, 8)
    assert "looks like" not in text(extract.warnings)
    # every note carries its code (docs/extract-format.md): one per list read, the eight lists
    # left, the KPIs it cannot feed and those inferred (with the teams mapped: no teams note)
    assert sorted(p.code for p in extract.warnings) == sorted(
        ["annex_a_read"] * 3 + ["annex_a_lists_ignored", "annex_a_kpis_not_fed", "annex_a_workers_inferred"])


def test_the_official_headings_are_all_read(tmp_path):
    """A workbook headed with exactly the published headings (List 3, 4, 7) reads every column the
    dashboard uses, and none of the others is taken for one of them."""
    rows = {
        "List 3": ["C1", "a) Male", "a) WBRI", D(2008, 1, 1), 3, D(2025, 6, 2), "q) 6: Police", "b) No", 1,
                   "Locality 4 Duty Team", "W1"],
        "List 4": ["C1", "a) Male", "a) WBRI", D(2008, 1, 1), 3, "b) No", D(2025, 6, 3), "b) No", D(2025, 7, 1),
                   "a) Yes", "Locality 4 Duty Team", "W1"],
    }
    sheets = {t: [HEADINGS[t], rows[t]] for t in rows}
    path = write_xlsx(tmp_path / "official.xlsx", sheets)
    extract = read(path)
    assert extract.ok, text(extract.errors)
    assert set(extract.sheets["referrals"].headers) >= {"child_id", "referral_date", "source", "prior_referrals_12m",
                                                         "team"}
    assert column(extract, "referral_counts", "prior_referrals_12m") == [1]
    assert set(extract.sheets["assessments"].headers) >= {"child_id", "start_date", "completed_date", "child_seen",
                                                           "team", "worker_id"}
    assert column(extract, "referrals", "source") == ["6: Police"]  # the drop-down code dropped
    assert column(extract, "assessments", "child_seen") == [False]  # "b) No"
    assert "looks like" not in text(extract.warnings)
    # List 7's official headings name every column the dashboard reads from it
    l7 = annexa.LISTS[7].header_map()
    from csc import spec

    assert {l7[spec.norm(h)] for h in HEADINGS["List 7"] if spec.norm(h) in l7} == {
        "child_id", "start_date", "end_date", "category", "previous_plans", "team", "worker_id"}


# --- drop-down codes --------------------------------------------------------------------------


def test_drop_down_codes_are_read_by_their_meaning(tmp_path):
    path = edited(SAMPLE, tmp_path / "coded.xlsx", "List 4", {
        "Child Seen During Continuous Assessment": ["a) Yes", "b) No", "c) Unknown", "a)Yes", " b)  No "]})
    path = edited(path, tmp_path / "coded2.xlsx", "List 7", {
        "Initial Category of Abuse": ["a) Neglect", "b) Physical abuse", "c) Sexual abuse", "d) Emotional abuse",
                                      "e) Multiple", "a) Neglect", "Neglect"]})
    extract = read(path)
    assert extract.ok, text(extract.errors)
    assert column(extract, "assessments", "child_seen") == [True, False, None, True, False]
    assert column(extract, "cp_plans", "category") == ["Neglect", "Physical abuse", "Sexual abuse", "Emotional abuse",
                                                       "Multiple", "Neglect", "Neglect"]
    # team and worker are free text: kept as written
    assert column(extract, "cp_plans", "team")[1] == "Locality 4 Unit 1"


def test_a_value_that_is_no_code_is_still_refused(tmp_path):
    path = edited(SAMPLE, tmp_path / "bad.xlsx", "List 4", {"Child Seen During Continuous Assessment": "Perhaps"})
    extract = read(path)
    assert not extract.ok
    assert '"Perhaps" is not Y or N' in text(extract.errors)


# --- headings written by councils' own SQL ------------------------------------------------------


def test_d2i_ssd_headings_are_aliases(tmp_path):
    path = edited(SAMPLE, tmp_path / "d2i.xlsx", "List 4", headings={
        "Child Unique ID": "ChildUniqueID",
        "Continuous Assessment Start Date": "ContinuousAssessmentStart",
        "Continuous Assessment Date of Authorisation": "ContinuousAssessmentAuthDate",
        "Child Seen During Continuous Assessment": "ContinuousAssessmentChildSeen",
    })
    path = edited(path, tmp_path / "d2i2.xlsx", "List 7", headings={
        "Child Protection Plan Start Date": "ChildProtectionPlanStartDate",
        "Sum of Number of Previous Child Protection Plans": "NumberOfPreviousChildProtectionPlans",
    })
    extract = read(path)
    assert extract.ok, text(extract.errors)
    # the sample's authorisation dates, so no assessment looks open
    assert column(extract, "assessments", "completed_date") == [D(2021, 2, 8), D(2021, 1, 19), D(2020, 11, 11),
                                                                D(2021, 2, 2), D(2021, 2, 2)]
    assert column(extract, "assessments", "child_seen") == [True] * 5
    assert column(extract, "cp_plans", "previous_plans") == [0, 1, 1, 0, 0, 0, 0]  # as in the sample


def test_a_column_that_looks_like_a_known_field_is_never_dropped_silently(tmp_path):
    path = edited(SAMPLE, tmp_path / "odd.xlsx", "List 4", headings={
        "Continuous Assessment Date of Authorisation": "Continuous Assmt Authorised Date"})
    extract = read(path)
    assert extract.ok  # the column is optional ...
    assert "completed_date" not in extract.sheets["assessments"].table.column_names
    (warning,) = [p for p in extract.warnings if "looks like" in p.message]  # ... but its loss is said
    assert warning.column == "Continuous Assmt Authorised Date"
    assert '"Continuous Assessment Date of Authorisation" (completed_date)' in warning.message


# --- validate: no database, a locked one, an existing one ----------------------------------------


def csc(*args: str) -> subprocess.CompletedProcess:
    """`python -m csc ...` in its own process (as an analyst runs it), without $CSC_ID_KEY or $CSC_DB."""
    env = {k: v for k, v in os.environ.items() if k not in ("CSC_DB", "CSC_ID_KEY")}
    return subprocess.run([sys.executable, "-m", "csc", *args], cwd=Path(__file__).resolve().parents[2], env=env,
                          capture_output=True, text=True, timeout=300)


def test_validate_without_a_database_recognises_annex_a(tmp_path):
    run = csc("validate", str(SAMPLE), "--db", str(tmp_path / "none" / "csc.duckdb"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No sheet of the extract was found" not in run.stdout
    assert '"List 3" → referrals: 6 rows' in run.stdout
    assert "were not checked against the Teams page" in run.stdout
    assert not (tmp_path / "none").exists()  # nothing stored, not even a key file


def test_validate_with_a_locked_database_recognises_annex_a(tmp_path):
    with Store.open(tmp_path / "csc.duckdb"):  # held read-write by this process: the other cannot open it
        run = csc("validate", str(SAMPLE), "--db", str(tmp_path / "csc.duckdb"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"List 7" → cp_plans: 7 rows' in run.stdout


def test_validate_against_a_database_says_truly_where_unmapped_teams_are(tmp_path):
    db = tmp_path / "csc.duckdb"
    Store.open(db).close()
    run = csc("validate", str(SAMPLE), "--db", str(db))
    assert run.returncode == 1
    assert "now listed" not in run.stdout and "now lists" not in run.stdout
    assert "were not added to the Teams page" in run.stdout
    with Store.open(db) as store:
        assert annexa_teams.team_areas(store.cursor()) == {}  # validate stored nothing
        # the Upload page's check (read-write) does list them on the Teams page, apart from the data
        # (issue 14: a refused file changes no table the figures come from), and says so
        from csc import uploads

        checked = uploads.check(store, SAMPLE.read_bytes(), SAMPLE.name, "ana", "analyst")
        assert "The Teams page (Manage > Teams) now lists the team(s) with no area office" in text(checked.extract.warnings)
        assert annexa_teams.team_areas(store.cursor()) == {}  # the mapping itself is unchanged
        waiting = {t for (t,) in store.cursor().execute("select team from teams_awaiting_area").fetchall()}
        assert waiting == set(TEAMS)


# --- sheets named after their lists ---------------------------------------------------------------

SF_NAMES = {"List 1": "Contacts", "List 2": "Early Help", "List 3": "Referrals", "List 4": "Assessments",
            "List 5": "Section 47", "List 6": "Children in Need", "List 7": "Child Protection",
            "List 8": "Children in Care", "List 9": "Care Leavers", "List 10": "Adoption", "List 11": "Adopters"}


def test_social_finance_sheet_names_are_accepted(tmp_path):
    path = edited(SAMPLE, tmp_path / "sf.xlsx", "List 3", rename=SF_NAMES)
    assert annexa.is_annex_a(path)
    extract = read(path)
    assert extract.ok, text(extract.errors)
    assert extract.row_counts == {"referrals": 6, "assessments": 5, "cp_plans": 7}
    assert '"Referrals" as List 3, "Assessments" as List 4, "Child Protection" as List 7' in text(extract.warnings)


def test_only_the_three_extract_named_lists_are_told_apart_by_their_headings(tmp_path):
    others = tuple(t for t in SF_NAMES if t not in ("List 3", "List 4", "List 7"))
    path = edited(SAMPLE, tmp_path / "three.xlsx", "List 3", drop=others,
                  rename={"List 3": "Referrals", "List 4": "Assessments", "List 7": "Child Protection"})
    assert annexa.is_annex_a(path)
    with Store.open(tmp_path / "csc.duckdb") as store:
        extract = store.validate(path)
    assert "referral_id" not in text(extract.errors)  # not read as the monthly extract
    assert "no area office" in text(extract.errors)  # read as Annex A: the teams are not mapped yet
    # a monthly extract with the same sheet names is not Annex A
    extract_file = write_xlsx(tmp_path / "extract.xlsx", {"Referrals": [
        ["referral_id", "child_id", "referral_date", "area_office"], ["R1", "C1", D(2011, 4, 1), "North"]]})
    assert not annexa.is_annex_a(extract_file)


# --- re-referrals from List 3's count --------------------------------------------------------------


def re_referrals(store, period):
    df = kpis.results(store.cursor(), kpi="re_referral_pct", period=period)
    row = df[df["area"].isna()].iloc[0]
    return row["numerator"], row["denominator"]


def mapped_store(tmp_path) -> Store:
    import pandas as pd

    store = Store.open(tmp_path / "csc.duckdb")
    annexa.save_team_areas(store, pd.DataFrame({"team": list(TEAMS), "area_office": list(TEAMS.values())}), "t")
    return store


def test_re_referrals_from_the_list_3_count_when_annex_a_is_the_only_history(tmp_path):
    with mapped_store(tmp_path) as store:
        assert store.import_file(SAMPLE, "2020-09", user="t").status == "loaded"
        # six referrals dated 16/09/2020; "Number of Referrals in Last 12 Months" is 0, 2, 1, 0, 2, 0:
        # three had an earlier referral, and no earlier referral is loaded -> 3 of 6
        assert re_referrals(store, "2020-09") == (3.0, 6.0)


def test_loaded_referrals_win_when_they_cover_the_twelve_months(tmp_path):
    with mapped_store(tmp_path) as store:
        # a monthly extract whose referrals go back to 01/08/2019, more than 12 months before
        # 16/09/2020: the loaded history covers the window, so it alone decides
        old = write_xlsx(tmp_path / "old.xlsx", {"Referrals": [
            ["referral_id", "child_id", "referral_date", "area_office"],
            ["R1", "997679", D(2019, 8, 1), "Locality 4"],       # 997679: more than 12 months before
            ["R2", "10897459", D(2020, 3, 1), "Locality 2"],     # 10897459: within the 12 months
        ]})
        assert store.import_file(old, "2019-08", user="t").status == "loaded"
        assert store.import_file(SAMPLE, "2020-09", user="t").status == "loaded"
        # only 10897459's September referral has a loaded referral in the 12 months before it -> 1 of 6
        assert re_referrals(store, "2020-09") == (1.0, 6.0)


# --- inferred involvements end where the record ended ----------------------------------------------


def test_one_snapshot_counts_only_children_whose_plan_or_assessment_is_open(tmp_path):
    with mapped_store(tmp_path) as store:
        assert store.import_file(SAMPLE, "2021-02", user="t").status == "loaded"
        cur = store.cursor()
        # 12 children: 5 on List 4 (every assessment authorised, 11/11/2020 to 08/02/2021) and 7 on
        # List 7, of which 5 plans ended (17/09/2020 to 16/02/2021) and 2 (Petra Wills's) are open.
        assert cur.execute("select count(*), count(end_date) from inferred_involvements").fetchall() == [(12, 10)]
        assert cur.execute("select max(end_date) from inferred_involvements").fetchall() == [(D(2021, 2, 16),)]
        # caseload stability, February 2021: only the 2 open plans are open at 28/02/2021, each with
        # one worker -> 2 of 2 (not 12 of 12)
        df = kpis.results(cur, kpi="caseload_stability_pct", period="2021-02")
        row = df[df["area"].isna()].iloc[0]
        assert (row["numerator"], row["denominator"]) == (2.0, 2.0)


def test_the_samples_are_the_files_the_readme_names():
    assert {p.name for p in SAMPLES} == {f"liia-tools_Annex_A_{c}.xlsx" for c in
                                         ("7498eca", "97dcc78", "9c0af37", "abaad9e", "c85a496")}


def test_text_dates_as_sql_writes_them(tmp_path):
    """Councils' SQL exports write dates as dd/mm/yyyy text, not date cells."""
    path = edited(SAMPLE, tmp_path / "text-dates.xlsx", "List 3", {"Date of Referral": "16/09/2020"})
    path = edited(path, tmp_path / "text-dates2.xlsx", "List 4", {
        "Continuous Assessment Date of Authorisation": ["08/02/2021", "19/01/2021", "11/11/2020", "02/02/2021", ""]})
    extract = read(path)
    assert extract.ok, text(extract.errors)
    assert column(extract, "referrals", "referral_date") == [D(2020, 9, 16)] * 6
    assert column(extract, "assessments", "completed_date") == [D(2021, 2, 8), D(2021, 1, 19), D(2020, 11, 11),
                                                                D(2021, 2, 2), None]


def test_a_monthly_extract_with_its_own_sheets_is_never_probed(tmp_path, monkeypatch):
    """An extract naming "Referrals" beside a sheet only the extract has is not opened a second time."""
    monkeypatch.setattr(annexa, "_headings_are_annex_a", lambda *a: pytest.fail("probed"))
    path = write_xlsx(tmp_path / "extract.xlsx", {
        "Referrals": [["Child Unique ID", "Date of Referral"], ["C1", D(2011, 4, 1)]],
        "Workforce": [["worker_id", "area_office"], ["W1", "North"]]})
    assert not annexa.is_annex_a(path)
