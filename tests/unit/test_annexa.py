"""Ofsted's Annex A workbook read as an import (csc.annexa): recognition, header variations, the
contract's validation, derived keys, the team -> area mapping, and inferred changes of worker."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os

import pandas as pd
import pytest

from csc import annexa, kpis, manifest
from csc.store import Store
from tests.conftest import cut_short, edit_parts, write_xlsx

D = dt.date
KEY = os.environ["CSC_ID_KEY"].encode()

# Ofsted's published headings (List 3, 4 and 7), with the columns the dashboard does not use.
L3 = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)", "Date of referral",
      "Referral Source", "Referral NFA?", "Number of Referrals in Last 12 Months", "Allocated Team",
      "Allocated Worker"]
L4 = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)", "Disability",
      "Continuous Assessment Start Date", "Child seen during continuous assessment",
      "Continuous Assessment Date of Authorisation",
      "Was the child assessed as requiring LA children's social care support?", "Allocated Team", "Allocated Worker"]
L7 = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)", "Disability",
      "Child Protection Plan Start Date", "Initial Category of Abuse", "Latest Category of Abuse",
      "Date of the Last Statutory Visit", "Child Protection Plan End Date",
      "Number of Previous Child Protection Plans", "Allocated Team", "Allocated Worker"]
TEAMS = {"North Assessment Team": "North", "South Safeguarding": "South", "Duty and Assessment": "North"}


def referral(child, date, team="North Assessment Team", source="Police", worker="W1"):
    return [child, "Female", "WBRI", D(2008, 5, 1), 2, date, source, "No", 0, team, worker]


def assessment(child, start, done=None, seen="Yes", team="North Assessment Team", worker="W1"):
    return [child, "Male", "WBRI", D(2007, 1, 1), 4, "No", start, seen, done, "Yes" if done else None, team, worker]


def plan(child, start, end=None, previous=0, team="South Safeguarding", worker="W5", category="Neglect"):
    return [child, "Female", "WBRI", D(2006, 1, 1), 5, "No", start, category, category, D(2011, 4, 20), end,
            previous, team, worker]


def annex(tmp_path, name="annex-a.xlsx", referrals=(), assessments=(), plans=(), extra=None, titles=True):
    """An Annex A workbook in the published layout: a title row above each list's headings."""
    def sheet(title, header, rows):
        return ([[f"Annex A {title}"], []] if titles else []) + [header, *rows]

    sheets = {"List 1 - Contacts": [["Child Unique ID", "Gender", "Date of Contact"], ["C9", "Male", D(2011, 4, 1)]]}
    if referrals is not None:
        sheets["List 3 - Referrals"] = sheet("List 3", L3, referrals)
    if assessments is not None:
        sheets["List 4 - Assessments"] = sheet("List 4", L4, assessments)
    if plans is not None:
        sheets["List 7 - Child Protection"] = sheet("List 7", L7, plans)
    sheets.update(extra or {})
    return write_xlsx(tmp_path / name, sheets)


def hashed(child: str) -> str:
    return hmac.new(KEY, child.encode(), hashlib.sha256).hexdigest()[:32]


def read(path, teams=TEAMS, today=D(2011, 8, 1)):
    return annexa.read(path, teams, id_key=KEY, today=today)


def messages(problems) -> str:
    return "\n".join(p.message for p in problems)


def mapped(store, teams=TEAMS, user="analyst@council"):
    annexa.save_team_areas(store, pd.DataFrame({"team": list(teams), "area_office": list(teams.values())}), user)


def rows(store, sql: str) -> list[tuple]:
    return store.cursor().execute(sql).fetchall()


# --- recognising the workbook -------------------------------------------------------------


@pytest.mark.parametrize("title, number", [
    ("List 3", 3), ("List 3 - Referrals", 3), ("list_3", 3), ("LIST3 REFERRALS", 3), (" List 7 - Child Protection", 7),
    ("List 10", 10), ("List 11 - Adopters", 11), ("List 1", 1), ("List 3 (2)", 3),
    ("List 12", None), ("Referrals", None), ("Listings", None), ("CP Plans", None),
])
def test_list_titles(title, number):
    assert annexa.list_number(title) == number


def test_is_annex_a_by_its_list_sheets(tmp_path):
    assert annexa.is_annex_a(annex(tmp_path))
    extract = write_xlsx(tmp_path / "extract.xlsx", {"Referrals": [["referral_id", "child_id"], ["R1", "C1"]]})
    assert not annexa.is_annex_a(extract)
    csv = tmp_path / "list.xlsx"
    csv.write_text("List 3,Child Unique ID\n")
    assert not annexa.is_annex_a(csv)  # not a workbook: the extract reader says what is wrong


def test_an_extract_with_a_tab_named_like_a_list_is_an_extract(tmp_path, store):
    """A review loaded a monthly extract with a summary tab "Children in care" (Annex A's List 8
    is "Children in care"): it was read as Annex A, its referral ids replaced by derived keys, its
    area offices taken from the team mapping and its workforce sheets dropped, without a word."""
    from tests.corpus import referrals, workforce

    summary = [["Children in care", "Count"], ["North", 12], ["South", 9]]
    with_sheets = write_xlsx(tmp_path / "extract.xlsx", {"referrals": referrals(3), "workforce": workforce(2),
                                                         "Children in care": summary})
    alone = write_xlsx(tmp_path / "referrals.xlsx", {"referrals": referrals(3), "Children in care": summary})
    assert not annexa.is_annex_a(with_sheets) and not annexa.is_annex_a(alone)  # the Referrals sheet's headings decide
    mapped(store, {"Team A": "North"})
    result = store.import_file(with_sheets, "2011-04", user="t")
    assert result.status == "loaded" and result.row_counts == {"referrals": 3, "workforce": 2}
    assert any(p.code == "sheet_ignored" and '"Children in care"' in p.message for p in result.warnings)
    assert rows(store, "select referral_id from cur_referrals order by 1") == [("R1",), ("R2",), ("R3",)]
    assert rows(store, "select source_format from imports") == [("extract",)]


def test_an_extract_with_its_record_id_misspelt_is_an_extract_missing_a_column(tmp_path):
    """"Referal ID" for referral_id: the other headings are the extract's, so the file is an extract
    missing its record id (it was read as Annex A, and loading it corrected later counted each
    referral twice, once under a derived key)."""
    from tests.corpus import referrals

    rows_ = referrals(3)
    rows_[0] = ["Referal ID", *rows_[0][1:]]
    path = write_xlsx(tmp_path / "typo.xlsx", {"Referrals": rows_})
    assert not annexa.is_annex_a(path)
    from csc.extract import read_workbook

    (error,) = read_workbook(path).errors
    assert error.column == "referral_id" and "is missing from the header row" in error.message


# --- reading ----------------------------------------------------------------------------------


def test_reads_lists_3_4_7_onto_the_contract(tmp_path):
    path = annex(
        tmp_path,
        referrals=[referral("C1", D(2011, 4, 5)), referral("C2", "12/04/2011", team="south  safeguarding")],
        assessments=[assessment("C1", D(2011, 4, 6), D(2011, 4, 20)), assessment("C2", D(2011, 4, 13), seen=None)],
        plans=[plan("C3", D(2011, 1, 10), previous=1), plan("C4", D(2010, 6, 1), D(2011, 4, 1), worker="W6")],
        extra={"Notes": [["Prepared for inspection"]]},
    )
    extract = read(path)
    assert extract.ok, messages(extract.errors)
    assert extract.source_format == "annex_a"
    assert extract.row_counts == {"referrals": 2, "assessments": 2, "cp_plans": 2}

    ref = extract.sheets["referrals"].table.to_pylist()
    assert ref[0]["referral_id"] == f"A3-{hashed('C1')}-20110405"
    assert ref[1]["referral_id"] == f"A3-{hashed('C2')}-20110412"  # a UK text date, parsed as the extract does
    assert [r["area_office"] for r in ref] == ["North", "South"]  # team matched ignoring case and spaces
    assert [r["team"] for r in ref] == ["North Assessment Team", "south safeguarding"]
    assert ref[0]["child_id"] == "C1"  # the store pseudonymises it on load, as for any extract
    assert ref[0]["source"] == "Police" and ref[0]["excel_row"] == 4  # title row, blank row, header row

    ass = extract.sheets["assessments"].table.to_pylist()
    assert [a["assessment_type"] for a in ass] == ["Single", "Single"]
    assert ass[0]["assessment_id"] == f"A4-{hashed('C1')}-20110406"
    assert (ass[0]["completed_date"], ass[0]["child_seen"], ass[0]["worker_id"]) == (D(2011, 4, 20), True, "W1")
    assert (ass[1]["completed_date"], ass[1]["child_seen"]) == (None, None)

    cp = extract.sheets["cp_plans"].table.to_pylist()
    assert cp[0]["cp_plan_id"] == f"A7-{hashed('C3')}-20110110"
    assert (cp[0]["previous_plans"], cp[0]["category"], cp[0]["area_office"]) == (1, "Neglect", "South")
    assert (cp[1]["end_date"], cp[1]["worker_id"]) == (D(2011, 4, 1), "W6")

    said = messages(extract.warnings)
    assert '"List 3 - Referrals" → referrals: 2 rows' in said
    assert '"List 4 - Assessments" → assessments: 2 rows' in said
    assert '"List 7 - Child Protection" → cp_plans: 2 rows' in said
    assert '"Date of referral" → referral_date' in said and '"Gender"' in said  # read, and not used
    assert 'assessment_type "Single" for every row' in said
    assert "List 1 - Contacts" in said and '"Notes"' in said  # ignored, with a warning
    assert "cannot feed" in said
    for kpi in ("transfer_timely_pct", "audit_good_pct", "turnover_rate_pct", "supervision_pct",
                "assessments_qualified_pct"):
        assert kpi in said
    for kpi in ("re_referral_pct", "assessments_timely_pct", "cp_repeat_pct"):  # fed by the file
        assert f"({kpi})" not in said
    # the changes-of-worker KPIs: inferred once their SQL reads inferred_involvements, else listed as not fed
    for name in ("cp_3plus_workers_pct", "caseload_stability_pct"):
        assert name in said
        if "inferred_involvements" in kpis.get(name).sql:
            assert f"({name})" in said.split("Changes of social worker")[1]


@pytest.mark.parametrize("variant", [
    {"Child Unique ID": "Child Unique Id", "Date of referral": "Date Of Referral"},
    {"Child Unique ID": "  CHILD UNIQUE ID ", "Date of referral": "date of referral", "Allocated Team": "Allocated  team"},
    {"Child Unique ID": "Child ID", "Date of referral": "Referral Date", "Allocated Team": "Team"},
    {"Child Unique ID": "Child Unique ID\n", "Date of referral": "Date of Referral:", "Referral Source": "Source of referral"},
])
@pytest.mark.parametrize("sheet_title", ["List 3", "list_3 referrals", "LIST 3 - REFERRALS"])
def test_header_and_sheet_name_variations(tmp_path, variant, sheet_title):
    header = [variant.get(h, h) for h in L3]
    path = write_xlsx(tmp_path / "a.xlsx", {sheet_title: [["Referrals in the last 6 months"], header,
                                                          referral("C1", D(2011, 4, 5))]})
    extract = read(path)
    assert extract.ok, messages(extract.errors)
    row = extract.sheets["referrals"].table.to_pylist()[0]
    assert (row["referral_date"], row["area_office"], row["source"]) == (D(2011, 4, 5), "North", "Police")


def test_the_contracts_validation_rules_and_messages(tmp_path):
    path = annex(
        tmp_path,
        referrals=[referral("C1", "31/02/2011"), referral(None, D(2011, 4, 1))],
        assessments=[assessment("C1", D(2011, 4, 20), D(2011, 4, 6)), assessment("C2", "4/13/2011")],
        plans=[plan("C3", D(2011, 1, 10), previous="two"), plan("C4", D(2012, 1, 1))],
    )
    extract = read(path)
    assert not extract.ok
    found = {(p.sheet, p.row, p.column) for p in extract.errors}
    assert found == {
        ("List 3 - Referrals", 4, "Date of referral"),  # not a date
        ("List 3 - Referrals", 5, "Child Unique ID"),  # required, blank
        ("List 4 - Assessments", 4, "Continuous Assessment Date of Authorisation"),  # before the start
        ("List 4 - Assessments", 5, "Continuous Assessment Start Date"),  # US order
        ("List 7 - Child Protection", 4, "Number of Previous Child Protection Plans"),  # not a whole number
        ("List 7 - Child Protection", 5, "Child Protection Plan Start Date"),  # after the day of the import
    }
    said = messages(extract.errors)
    assert "US-style month/day date" in said and "is before the" in said
    assert not extract.sheets  # nothing to load


def test_missing_columns_and_no_list(tmp_path):
    header = [h for h in L3 if h != "Allocated Team"]
    path = write_xlsx(tmp_path / "a.xlsx", {"List 3": [header, referral("C1", D(2011, 4, 5))[:-2] + ["W1"]]})
    extract = read(path)
    assert [p.column for p in extract.errors] == ["Allocated Team"]
    assert "area office" in extract.errors[0].message

    path = write_xlsx(tmp_path / "b.xlsx", {"List 1": [["Child Unique ID", "Date of Contact"], ["C1", D(2011, 4, 1)]]})
    extract = read(path)
    assert "none of the lists the dashboard reads" in messages(extract.errors)


def test_a_workbook_the_reader_cannot_open_is_refused_as_damaged_alone(tmp_path):
    """The reader opens the workbook at the first list it reads (`csc.extract.LazyReader`): styles
    cut short refuse the file as damaged, with that one error, as when it opened first."""
    path = annex(tmp_path, referrals=[referral("C1", D(2011, 4, 5))])
    edit_parts(path, xl__styles_xml=cut_short)
    extract = read(path)
    assert [p.severity for p in extract.problems] == ["error"] and not extract.sheets
    assert extract.problems[0].message.startswith('"annex-a.xlsx" is damaged or incomplete and cannot be opened (')


def test_two_sheets_given_one_list_name_are_both_named_in_an_error(tmp_path):
    """A workbook whose list of sheets names "List 3" twice (Excel refuses it; a hand-made file
    need not): the list of sheets is read from the workbook itself, every entry kept, and the
    file is refused for it, as when the reader gave the list."""
    path = annex(tmp_path, referrals=[referral("C1", D(2011, 4, 5))], assessments=None, plans=None,
                 extra={"Other": [["x"]]})
    edit_parts(path, xl__workbook_xml=lambda xml: xml.replace(b'name="Other"', b'name="List 3 - Referrals"'))
    extract = read(path)
    assert any('"List 3 - Referrals" and sheet "List 3 - Referrals" are both List 3' in p.message
               for p in extract.errors), messages(extract.problems)


def test_same_child_and_date_twice(tmp_path):
    # an exact repeat is dropped with a warning; two different rows with one key are refused
    path = annex(tmp_path, referrals=[referral("C1", D(2011, 4, 5)), referral("C1", D(2011, 4, 5))],
                 assessments=[assessment("C1", D(2011, 4, 6)), assessment("C1", D(2011, 4, 6), worker="W2")],
                 plans=[])
    extract = read(path)
    assert [(p.sheet, p.row) for p in extract.errors] == [("List 4 - Assessments", 5)]
    assert "already has a assessment" not in extract.errors[0].message
    assert "on row 4, with different details" in extract.errors[0].message
    assert "1 row(s) repeat an earlier row exactly and were ignored (row 5)" in messages(extract.warnings)

    path = annex(tmp_path, name="ok.xlsx", referrals=[referral("C1", D(2011, 4, 5)), referral("C1", D(2011, 4, 5))])
    extract = read(path)
    assert extract.ok and extract.row_counts["referrals"] == 1


def test_unmapped_teams_are_refused_and_blank_teams_are_not_allocated(tmp_path):
    path = annex(tmp_path, referrals=[referral("C1", D(2011, 4, 5), team="Hub"), referral("C2", D(2011, 4, 6), team=None),
                                      referral("C3", D(2011, 4, 7), team="hub ")],
                 plans=[plan("C4", D(2011, 1, 1), team="Edge of Care")])
    extract = read(path)
    assert extract.unmapped_teams == ["Hub", "Edge of Care"]
    errors = {p.sheet: p for p in extract.errors}
    assert set(errors) == {"List 3 - Referrals", "List 7 - Child Protection"}
    assert '"Hub" (rows 4, 6)' in errors["List 3 - Referrals"].message
    assert "Teams page" in errors["List 3 - Referrals"].message and errors["List 3 - Referrals"].column == "Allocated Team"

    extract = read(path, teams={**TEAMS, "HUB": "West", "Edge of Care": None})  # None: seen, not mapped yet
    assert extract.unmapped_teams == ["Edge of Care"]
    extract = read(path, teams={**TEAMS, "HUB": "West", "Edge of Care": "East"})
    assert extract.ok, messages(extract.errors)
    assert [r["area_office"] for r in extract.sheets["referrals"].table.to_pylist()] == ["West", "Not allocated", "West"]
    assert '1 row(s) have no "Allocated Team"; they count under the area office "Not allocated"' in messages(
        extract.warnings)


# --- through the store ------------------------------------------------------------------------


def test_round_trip_through_the_store(store, tmp_path):
    mapped(store)
    path = annex(tmp_path, referrals=[referral("C1", D(2011, 4, 5)), referral("C2", D(2011, 4, 12))],
                 assessments=[assessment("C1", D(2011, 4, 6), D(2011, 4, 20))],
                 plans=[plan("C3", D(2011, 1, 10), previous=1)])
    result = store.import_file(path, "2011-04", user="tester", original_name="Annex A April.xlsx")
    assert result.status == "loaded", messages(result.problems)
    assert result.row_counts == {"referrals": 2, "assessments": 1, "cp_plans": 1}
    assert rows(store, "select source_format, file_name from imports") == [("annex_a", "Annex A April.xlsx")]
    assert rows(store, "select referral_id, child_id, area_office from cur_referrals order by referral_date") == [
        (f"A3-{hashed('C1')}-20110405", hashed("C1"), "North"),
        (f"A3-{hashed('C2')}-20110412", hashed("C2"), "North"),
    ]
    assert rows(store, "select assessment_type, area_office from cur_assessments") == [("Single", "North")]
    # no child id in the database: not in the records, not in their keys, not in the stored warnings
    con = store.cursor()
    for table in ("raw_referrals", "raw_assessments", "raw_cp_plans"):
        text = con.execute(f"select to_json(list(t)) from {table} as t").fetchall()[0][0]
        assert '"C1"' not in text and "-C1-" not in text and '"C3"' not in text
    stored = json.loads(rows(store, "select warnings from imports")[0][0])
    assert any("List 3 - Referrals" in w and "referrals: 2 rows" in w for w in stored)
    # the KPIs the lists feed are computed
    fed = {r[0] for r in rows(store, "select distinct kpi from kpi_results")}
    assert {"re_referral_pct", "assessments_timely_pct", "child_seen_pct", "cp_repeat_pct"} <= fed


def test_unmapped_team_refused_then_listed_then_loaded(store, tmp_path):
    mapped(store)
    path = annex(tmp_path, referrals=[referral("C1", D(2011, 4, 5), team="Hub")])
    result = store.import_file(path, "2011-04", user="tester")
    assert result.status == "refused"
    assert '"Hub"' in messages(result.errors) and "Teams page" in messages(result.errors)
    assert rows(store, "select count(*) from imports") == [(0,)] and rows(store, "select count(*) from raw_referrals") == [(0,)]
    # the team is listed for mapping, kept apart from the mapping itself: a refused file changes no data
    assert rows(store, "select count(*) from team_areas where team = 'Hub'") == [(0,)]
    assert rows(store, "select team, seen_by from teams_awaiting_area") == [("Hub", "tester")]
    assert annexa.team_table(store.cursor())["team"].tolist()[0] == "Hub"  # unmapped teams first
    assert store.import_file(path, "2011-04", user="tester").status == "refused"  # seen again: not listed twice
    assert rows(store, "select count(*) from teams_awaiting_area where lower(team) = 'hub'") == [(1,)]

    table = annexa.team_table(store.cursor())
    table.loc[table["team"] == "Hub", "area_office"] = "West"
    message = annexa.save_team_areas(store, table, "ana@council.gov.uk", "analyst")
    assert message.startswith("Saved: 1 team(s) mapped")
    assert rows(store, "select area_office, changed_by from team_areas where team = 'Hub'") == [
        ("West", "ana@council.gov.uk")]
    audit = rows(store, "select action, user_name, detail from audit_log where action = 'team_areas' order by audit_id")
    assert json.loads(audit[-1][2]) == {"set": {"Hub": "West"}, "removed": []}
    assert rows(store, "select count(*) from teams_awaiting_area") == [(0,)]  # no longer waiting
    result = store.import_file(path, "2011-04", user="tester")
    assert result.status == "loaded", messages(result.problems)
    assert rows(store, "select area_office from cur_referrals") == [("West",)]


def test_a_refused_annex_a_file_changes_no_table_but_the_audited_waiting_list(store, tmp_path):
    mapped(store)
    tables = [r[0] for r in rows(store, "select table_name from information_schema.tables where table_name not in "
                                        "('audit_log', 'teams_awaiting_area', 'data_version') order by 1")]

    def snapshot():
        return {t: rows(store, f"select * from {t} order by all") for t in tables}

    manifest_file = manifest.manifest_path(store.path)
    before, manifest_before = snapshot(), manifest_file.read_bytes() if manifest_file.exists() else b""
    version_before = store.data_version()
    path = annex(tmp_path, referrals=[referral("C1", D(2011, 4, 5), team="Hub"),
                                      referral("C2", D(2011, 4, 6), team="Edge of Care")])
    assert store.import_file(path, "2011-04", user="ana", role="analyst").status == "refused"
    assert snapshot() == before  # the mapping, the records, the imports: all as they were
    assert (manifest_file.read_bytes() if manifest_file.exists() else b"") == manifest_before
    audit = rows(store, "select action, user_name, role, detail from audit_log order by audit_id")
    assert [(a, u, r) for a, u, r, _ in audit[-2:]] == [("import_refused", "ana", "analyst"),
                                                         ("teams_awaiting_area", "ana", "analyst")]
    assert sorted(json.loads(audit[-1][3])["added"]) == ["Edge of Care", "Hub"]
    assert store.data_version() == version_before + 1  # the Teams page's list changed: one write


def test_saving_the_mapping(store):
    mapped(store, {"North A": "North", "South A": "South"}, user="first")
    before = dict(rows(store, "select team, changed_at from team_areas"))
    table = pd.DataFrame({"team": ["North A", " south  a", "East A", None], "area_office": ["North", "Coast", None, None]})
    message = annexa.save_team_areas(store, table, "second")
    assert message == "Saved: 1 team(s) mapped, 1 left without an area office. New Annex A uploads use this mapping."
    after = {r[0]: r[1:] for r in rows(store, "select team, area_office, changed_by, changed_at from team_areas")}
    assert set(after) == {"North A", "south a", "East A"}
    assert after["North A"] == ("North", "first", before["North A"])  # unchanged: who and when kept
    assert after["south a"][:2] == ("Coast", "second")
    assert after["East A"][:2] == (None, None)
    assert annexa.save_team_areas(store, annexa.team_table(store.cursor()), "third").startswith("Nothing to save")
    with pytest.raises(annexa.MappingError, match="listed twice"):
        annexa.save_team_areas(store, pd.DataFrame({"team": ["A", "a "], "area_office": ["X", "Y"]}), "x")
    with pytest.raises(annexa.MappingError, match="no team"):
        annexa.save_team_areas(store, pd.DataFrame({"team": [""], "area_office": ["X"]}), "x")
    table = pd.DataFrame({"team": ["North A"], "area_office": ["North"]})
    assert "2 removed" in annexa.save_team_areas(store, table, "fourth")
    assert rows(store, "select team from team_areas") == [("North A",)]


def test_a_mapping_saved_on_an_old_reading_is_refused_and_the_newer_one_kept(store):
    """The mapping is saved whole from the editor's table: one read before another analyst's save
    would undo that save. With `based_on`, it is refused under the write lock, nothing is written
    (nor audited), and the message names who changed the mapping."""
    mapped(store, {"North A": "North"}, user="first")
    read = annexa.team_table(store.cursor())
    seen = annexa.mapping_seen(read)
    annexa.save_team_areas(store, pd.DataFrame({"team": ["North A", "South A"], "area_office": ["North", "South"]}),
                           "bob")
    audit_before, version = len(rows(store, "select * from audit_log")), store.data_version()
    edited = read.assign(area_office=["Coast"])  # made on the reading before bob's save
    with pytest.raises(annexa.MappingChanged, match="changed by bob at .* your changes were not saved"):
        annexa.save_team_areas(store, edited, "ana", based_on=seen)
    assert dict(rows(store, "select team, area_office from team_areas")) == {"North A": "North", "South A": "South"}
    assert len(rows(store, "select * from audit_log")) == audit_before and store.data_version() == version
    now = annexa.team_table(store.cursor())  # made again on the mapping as it stands: saved
    message = annexa.save_team_areas(store, now.assign(area_office=["Coast", "South"]), "ana",
                                     based_on=annexa.mapping_seen(now))
    assert message.startswith("Saved: 1 team(s) mapped")
    assert dict(rows(store, "select team, area_office from team_areas")) == {"North A": "Coast", "South A": "South"}


def test_stable_keys_across_two_monthly_imports(store, tmp_path):
    """Annex A lists the last six months each time: next month's copy of a record updates it."""
    mapped(store)
    april = annex(tmp_path, name="april.xlsx",
                  referrals=[referral("C1", D(2011, 4, 5)), referral("C2", D(2011, 4, 12))],
                  assessments=[assessment("C1", D(2011, 4, 6))],  # open at the end of April
                  plans=[plan("C3", D(2011, 1, 10))])
    may = annex(tmp_path, name="may.xlsx",
                referrals=[referral("C2", "12/04/2011", source="School"), referral("C1", D(2011, 4, 5)),
                           referral("C1", D(2011, 5, 20))],  # the same two, reordered, and a new one
                assessments=[assessment("C1", D(2011, 4, 6), D(2011, 5, 3))],  # now authorised
                plans=[plan("C3", D(2011, 1, 10), D(2011, 5, 31))])  # now ended
    assert store.import_file(april, "2011-04", user="t").status == "loaded"
    result = store.import_file(may, "2011-05", user="t")
    assert result.status == "loaded", messages(result.problems)

    assert rows(store, "select count(*) from raw_referrals") == [(5,)]
    assert rows(store, "select child_id, referral_date, source, import_period from cur_referrals order by 2, 1") == [
        (hashed("C1"), D(2011, 4, 5), "Police", "2011-05"),
        (hashed("C2"), D(2011, 4, 12), "School", "2011-05"),
        (hashed("C1"), D(2011, 5, 20), "Police", "2011-05"),
    ]
    assert rows(store, "select count(*), max(completed_date) from cur_assessments") == [(1, D(2011, 5, 3))]
    assert rows(store, "select count(*), max(end_date) from cur_cp_plans") == [(1, D(2011, 5, 31))]
    # the second month's re-referral within 12 months is counted once, not against a duplicate of itself
    may_rr = rows(store, "select numerator, denominator from kpi_results "
                         "where kpi = 're_referral_pct' and period = '2011-05' and area is null")
    assert may_rr == [(1.0, 1.0)]

    store.rollback(result.import_id, user="t")
    assert rows(store, "select count(*), max(source) from cur_referrals") == [(2, "Police")]
    assert rows(store, "select completed_date from cur_assessments") == [(None,)]


# --- inferred changes of worker -----------------------------------------------------------------


def kpi_with_inferred(name: str) -> kpis.Kpi:
    """The KPI as it reads once its involvements include the inferred ones (the change proposed in
    docs/annex-a.md); unchanged if the SQL already does."""
    kpi = kpis.get(name)
    if "inferred_involvements" in kpi.sql:
        return kpi
    sql = kpi.sql.replace(
        "from cur_involvements",
        "from (select * from cur_involvements union all by name select * from inferred_involvements)",
    )
    assert sql != kpi.sql
    return dataclasses.replace(kpi, sql=sql)


def figure(store, name: str, period: str, area: str | None = None):
    cur = store.cursor()
    kpis.prepare(cur)
    df = kpis.compute(cur, kpi_with_inferred(name))
    df = df[(df["period"] == period) & (df["area"].isna() if area is None else df["area"] == area)]
    return tuple(df[["numerator", "denominator"]].iloc[0]) if len(df) else None


def monthly(tmp_path, store, months: dict[str, dict]):
    for period, lists in months.items():
        path = annex(tmp_path, name=f"annex-{period}.xlsx", **lists)
        result = store.import_file(path, period, user="t")
        assert result.status == "loaded", messages(result.problems)
        yield result


WORKER_MONTHS = {
    # C1 on a plan from January: W1 in April, W2 in May, W3 in June: a third worker
    # C2 on a plan from March: W5 throughout
    # C3 assessed in April and May by W7, then not on any list in June (the case closed)
    "2011-04": {"plans": [plan("C1", D(2011, 1, 10), worker="W1"), plan("C2", D(2011, 3, 1))],
                "assessments": [assessment("C3", D(2011, 4, 1), worker="W7")]},
    "2011-05": {"plans": [plan("C1", D(2011, 1, 10), worker="W2"), plan("C2", D(2011, 3, 1))],
                "assessments": [assessment("C3", D(2011, 4, 1), D(2011, 5, 9), worker="W7")]},
    "2011-06": {"plans": [plan("C1", D(2011, 1, 10), worker="W3"), plan("C2", D(2011, 3, 1))]},
}


def test_inferred_involvements_from_allocated_worker(store, tmp_path):
    mapped(store)
    list(monthly(tmp_path, store, WORKER_MONTHS))
    inferred = rows(store, "select child_id, worker_id, start_date, end_date, area_office, involvement_id "
                           "from inferred_involvements order by child_id, start_date")
    c1, c2, c3 = hashed("C1"), hashed("C2"), hashed("C3")
    expected = sorted([
        (c1, "W1", D(2011, 4, 1), D(2011, 5, 1), "South", f"INF-{c1}-201104"),
        (c1, "W2", D(2011, 5, 1), D(2011, 6, 1), "South", f"INF-{c1}-201105"),
        (c1, "W3", D(2011, 6, 1), None, "South", f"INF-{c1}-201106"),
        (c2, "W5", D(2011, 4, 1), None, "South", f"INF-{c2}-201104"),
        # May's list shows C3's assessment authorised on 9 May: the involvement ends there (not on 1 June)
        (c3, "W7", D(2011, 4, 1), D(2011, 5, 9), "North", f"INF-{c3}-201104"),
    ])
    assert inferred == expected
    assert annexa.involvements_inferred(store.cursor())
    assert annexa.inferred_summary(store.cursor()) == {"involvements": 5, "children": 3, "imports": 3}

    # cp_3plus_workers_pct: June, C1 has had W1, W2, W3 since its plan started; C2 only W5
    assert figure(store, "cp_3plus_workers_pct", "2011-06") == (1.0, 2.0)
    assert figure(store, "cp_3plus_workers_pct", "2011-05") == (0.0, 2.0)
    # caseload_stability_pct: April all three stable; May C1 changed (W1 -> W2), C2 stable, C3's
    # assessment ended on 9 May so C3 is not open at the month end: 1 of 2; June C1 changed, C2 stable
    assert figure(store, "caseload_stability_pct", "2011-04") == (3.0, 3.0)
    assert figure(store, "caseload_stability_pct", "2011-05") == (1.0, 2.0)
    assert figure(store, "caseload_stability_pct", "2011-06") == (1.0, 2.0)
    # the records behind May's figure show each inferred involvement's dates (C1's with W2 from 1 May)
    records = kpis.records(store.cursor(), kpis.get("caseload_stability_pct"), "2011-05")
    assert {(r.record_id, str(r.start_date)[:10]) for r in records.itertuples()} == {
        (f"INF-{c1}-201105", "2011-05-01"), (f"INF-{c2}-201104", "2011-04-01")}


def test_inference_follows_rollbacks_and_gives_way_to_an_involvements_sheet(store, tmp_path):
    mapped(store)
    results = list(monthly(tmp_path, store, WORKER_MONTHS))
    store.rollback(results[1].import_id, user="t")  # May: C1 goes straight from W1 to W3
    assert rows(store, "select worker_id, start_date, end_date from inferred_involvements "
                       f"where child_id = '{hashed('C1')}' order by start_date") == [
        ("W1", D(2011, 4, 1), D(2011, 6, 1)), ("W3", D(2011, 6, 1), None)]

    extract = write_xlsx(tmp_path / "extract.xlsx", {"Involvements": [
        ["involvement_id", "child_id", "worker_id", "start_date", "end_date", "area_office"],
        ["I1", "C1", "W1", D(2011, 1, 10), None, "South"]]})
    assert store.import_file(extract, "2011-06", user="t").status == "loaded"
    assert rows(store, "select count(*) from inferred_involvements") == [(0,)]
    assert not annexa.involvements_inferred(store.cursor())
    assert figure(store, "cp_3plus_workers_pct", "2011-06") == (0.0, 2.0)


def test_inference_ignores_contract_extracts(store, tmp_path):
    """Only Annex A imports are full monthly lists; a contract extract may be a delta."""
    path = write_xlsx(tmp_path / "extract.xlsx", {"CP Plans": [
        ["cp_plan_id", "child_id", "start_date", "area_office", "worker_id"], ["P1", "C1", D(2011, 1, 1), "North", "W1"]]})
    assert store.import_file(path, "2011-04", user="t").status == "loaded"
    assert rows(store, "select count(*) from inferred_involvements") == [(0,)]


def test_inferred_sql_on_an_empty_database(tmp_path):
    with Store.open(tmp_path / "db.duckdb") as s:
        assert rows(s, "select count(*) from inferred_involvements") == [(0,)]
        assert rows(s, "select count(*) from team_areas") == [(0,)]
        cols = [r[0] for r in s.cursor().execute("describe inferred_involvements").fetchall()]
        assert cols == [r[0] for r in s.cursor().execute("describe cur_involvements").fetchall()]
