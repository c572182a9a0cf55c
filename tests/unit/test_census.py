"""The DfE children's social work workforce census XML (csc.census): the public sample
(../shared/external-data/csww) loads and its agency, turnover and vacancy figures are worked out by
hand; a small hand-made census tests leavers and the link to the case system's workers through the
SSD registration number."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from csc import annexa, census, kpis
from csc.store import Store
from tests.unit import test_ssd
from tests.conftest import external

D = dt.date


def _sample() -> Path:
    return external("csww/liia-tools_social_work_workforce_2022.xml")


def figure(store, name, period):
    df = kpis.results(store.cursor(), kpi=name, period=period)
    df = df[df["area"].isna()]
    return (float(df["numerator"].iloc[0]), float(df["denominator"].iloc[0])) if len(df) else None


def text(problems) -> str:
    return "\n".join(p.message for p in problems)


def test_the_schema_is_the_public_one():
    public = _sample().with_suffix(".xsd")
    assert census.SCHEMA_FILE.read_bytes() == public.read_bytes()


def test_a_census_named_for_a_month_not_begun_loads_as_its_census_month(store):
    """A census loads as its census date's month whatever month is named; a month not begun yet
    (a slip of the command's --period) refused it, though that month was never to be used."""
    result = store.import_file(_sample(), "2099-01", user="t")
    assert result.status == "loaded", text(result.errors)
    assert result.period == "2022-09"


def test_the_sample_census_loads_with_hand_worked_figures(store):
    result = store.import_file(_sample(), "2026-11", user="t")
    assert result.status == "loaded", text(result.errors)
    assert result.period == "2022-09"  # the census date, 30/09/2022, whatever month was named
    assert result.row_counts == {"workforce": 30, "establishment": 1}
    warnings = text(result.warnings)
    assert "Loaded for 2022-09" in warnings
    assert "Workforce census at 30/09/2022 (LA 301)" in warnings
    # the 12 records without QualInst fail the XSD, in a field the dashboard does not read: warnings
    assert warnings.count("Tag 'QualInst' expected") == 12
    # each with its code (docs/extract-format.md)
    codes = [w.code for w in result.warnings]
    assert codes.count("census_schema_unread") == 12
    assert codes.count("census_period") == codes.count("census_read") == 1
    assert None not in codes

    # In post at 30/09/2022 = RoleStartDate on or before it (none given: in post since before the
    # census year) and no RoleEndDate or one after it. FTE = FTE, or FTE30 where FTE is 0.
    # Permanent (AgencyWorker 0) in post:
    #   wf3752370095 0.843488, Aj9242652291 0.859218, QW8564363911 0.978729,
    #   ZQ9393137749 0.821627 (FTE 0 -> FTE30), eW7601111729 0.63075 (FTE 0 -> FTE30), Jd1465867330 0.034436
    #   (TB9669555723 and Wr5514040878 are in post but have FTE 0 and no FTE30: blank, add nothing;
    #   oP8178849586, Jv2635496195, rK9218104079 start after 30/09/2022; zU6140515687 left in 2018)
    permanent = 0.843488 + 0.859218 + 0.978729 + 0.821627 + 0.63075 + 0.034436  # = 4.168248
    # Agency (AgencyWorker 1) in post:
    #   Oz2054309383 0.521371, iP8098309864 0.23246 (FTE30), nH9419631053 0.133587, JJ3661684122 0.903669 (FTE30),
    #   tN2120744892 0.803122 (no dates), OW2475789301 0.908092 (FTE30), Kv3016593719 0.12232 (no dates),
    #   QK8499162867 0.078464 (FTE30), cD9282390165 0.192894, cm3809724991 0.530908 (FTE30, no start),
    #   PQ5842914246 0.443976 (FTE30), Pv9093835426 0.561974
    #   (Yk7226043359 left in 2019; Zo9779760045, To5555885076, ih3342923522, PA8564166424 start in 2023;
    #   od1620971821 has no FTE above 0)
    agency = (0.521371 + 0.23246 + 0.133587 + 0.903669 + 0.803122 + 0.908092 + 0.12232 + 0.078464 + 0.192894
              + 0.530908 + 0.443976 + 0.561974)  # = 5.432837
    num, den = figure(store, "agency_rate_pct", "2022-09")
    assert (num, den) == (pytest.approx(agency), pytest.approx(agency + permanent))  # 5.432837 / 9.601085 = 56.6%
    # turnover: no permanent worker's RoleEndDate falls in 01/10/2021-30/09/2022 (they are 2018,
    # 2023) -> 0 of the permanent FTE
    num, den = figure(store, "turnover_rate_pct", "2022-09")
    assert (num, den) == (0.0, pytest.approx(permanent))
    # vacancies: NumberOfVacancies 79.68 over 79.68 + the permanent FTE in post
    num, den = figure(store, "vacancy_rate_pct", "2022-09")
    assert (num, den) == (pytest.approx(79.68), pytest.approx(79.68 + permanent))  # 79.68 / 83.848248 = 95.0%
    # the workforce page says which census the figures come from
    note = census.census_note(store.cursor())
    assert "2022-09 from the census at 30 September (\"liia-tools_social_work_workforce_2022.xml\"" in note


SMALL = """<?xml version="1.0" encoding="utf-8"?>
<Message>
  <Header>
    <CollectionDetails><Collection>CSWW</Collection><Year>2022</Year><ReferenceDate>2022-09-30</ReferenceDate></CollectionDetails>
    <Source><SourceLevel>L</SourceLevel><LEA>999</LEA></Source>
  </Header>
  <LALevelVacancies><NumberOfVacancies>2.50</NumberOfVacancies><NoAgencyFTE>0.80</NoAgencyFTE><NoAgencyHeadcount>1</NoAgencyHeadcount></LALevelVacancies>
  {workers}
</Message>
"""


def worker(swe, agency, fte, start=None, end=None, reason=None, fte30=None):
    parts = [f"<AgencyWorker>{agency}</AgencyWorker>", f"<SWENo>{swe}</SWENo>", f"<FTE>{fte}</FTE>",
             "<QualInst>University</QualInst>"]
    parts += [f"<RoleStartDate>{start}</RoleStartDate>"] if start else []
    parts += [f"<RoleEndDate>{end}</RoleEndDate>"] if end else []
    parts += [f"<ReasonLeave>{reason}</ReasonLeave>"] if reason else []
    parts += [f"<FTE30>{fte30}</FTE30>"] if fte30 else []
    return "<CSWWWorker>" + "".join(parts) + "</CSWWWorker>"


WORKERS = [
    worker("SW0000100001", 0, "1.000000", "2020-01-01"),                          # W1 in the SSD tables
    worker("SW0000200002", 0, "0", "2015-01-01", "2022-06-30", "1", "0.500000"),  # left in the year: FTE30 0.5
    worker("SW0000200003", 1, "0.800000", "2022-01-01"),                          # agency
    worker("SW0000200004", 0, "0.600000", "2022-10-15"),                          # starts after the census date
]


def test_a_small_census_with_a_leaver_linked_to_the_case_system(tmp_path):
    path = tmp_path / "csww.xml"
    path.write_text(SMALL.format(workers="\n  ".join(WORKERS)))
    with Store.open(tmp_path / "db.duckdb") as store:
        annexa.save_team_areas(store, pd.DataFrame({"team": list(test_ssd.TEAMS),
                                                    "area_office": list(test_ssd.TEAMS.values())}), "t")
        ssd_file = test_ssd.workbook(tmp_path)
        assert store.import_file(ssd_file, "2022-08", user="t").status == "loaded"
        result = store.import_file(path, "2022-09", user="t")
        assert result.status == "loaded", text(result.errors)
        assert "1 worker(s) linked to the case system's worker" in text(result.warnings)
        cur = store.cursor()
        rows = cur.execute("select worker_id, team, area_office, is_agency, fte, start_date, end_date, leave_reason "
                           "from cur_workforce where import_period = '2022-09' order by 1").fetchall()
        assert rows == [
            ("SW0000200002", "Workforce census", "Not allocated", False, 0.5, D(2015, 1, 1), D(2022, 6, 30), "Resignation"),
            ("SW0000200003", "Workforce census", "Not allocated", True, 0.8, D(2022, 1, 1), None, None),
            ("SW0000200004", "Workforce census", "Not allocated", False, 0.6, D(2022, 10, 15), None, None),
            # SWE number SW0000100001 is the SSD's SW100001, W1's: the case system's id, team and area office
            ("W1", "Assessment Team North", "North", False, 1.0, D(2020, 1, 1), None, None),
        ]
        # 30/09/2022: permanent in post = W1 1.0 (SW0000200004 starts later); agency in post SW0000200003 0.8
        assert figure(store, "agency_rate_pct", "2022-09") == (pytest.approx(0.8), pytest.approx(1.8))
        # leavers in 01/10/2021-30/09/2022: SW0000200002, 0.5 FTE, over 1.0 FTE in post -> 50%
        assert figure(store, "turnover_rate_pct", "2022-09") == (pytest.approx(0.5), pytest.approx(1.0))
        # establishment: "Assessment Team North" 1.0 (W1), "Workforce census" 0 + 2.5 vacancies;
        # vacancies = max(0, 1.0 - 1.0) + max(0, 2.5 - 0) = 2.5 over 3.5
        assert figure(store, "vacancy_rate_pct", "2022-09") == (pytest.approx(2.5), pytest.approx(3.5))

        # a later SSD upload keeps the census's dates, agency flag and FTE for W1
        again = shutil.copy(ssd_file, tmp_path / "ssd-later.xlsx")
        assert store.import_file(again, "2022-10", user="t").status == "loaded"
        assert cur.execute("select fte, start_date, is_agency from cur_workforce where worker_id = 'W1'").fetchall() == [
            (1.0, D(2020, 1, 1), False)]


def test_a_census_with_a_dtd_is_refused(tmp_path):
    path = tmp_path / "evil.xml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY x "boom">]>'
                    + SMALL.split("?>", 1)[1].format(workers=WORKERS[0]))
    extract = census.read(path)
    assert not extract.ok
    assert "declares a DTD or entities" in text(extract.errors)


def test_a_schema_error_in_a_field_read_refuses_the_file(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_text(SMALL.format(workers=worker("SW0000000001", 2, "1.0", "2020-01-01")))  # AgencyWorker 2
    extract = census.read(path)
    assert not extract.ok
    assert "AgencyWorker" in text(extract.errors)


@pytest.mark.parametrize("name", ["liia-tools_cin-2022.xml", "csc-validator-be-cin_CIN_Census_2026.xml"])
def test_a_real_cin_census_is_refused_for_what_it_is(store, name):
    # the real DfE children in need census returns: they were called "a CSV or text file" and the
    # analyst told to save them as a workbook, which would not help (found by a review)
    path = _sample().parent.parent / "cin" / name
    before = store.imports()
    result = store.import_file(path, "2022-03", user="t")
    assert result.status == "refused"
    said = text(result.errors)
    assert f'"{name}" is a DfE CIN census return (XML), which the dashboard does not read' in said
    assert "Save As" not in said and "CSV" not in said
    assert len(store.imports()) == len(before)


def test_a_census_beside_the_workforce_sheets_warns_that_unlinked_workers_may_count_twice(tmp_path):
    """A review loaded a census beside a council's workforce sheets: its workers, known by their
    Social Work England numbers only, were counted on top of the sheets' (98 published figures
    moved). Whether they are the same people only the analyst knows: the upload says so first,
    with the numbers, and the Workforce page's note says it while both are loaded."""
    from tests.corpus import write_xlsx, workforce

    path = tmp_path / "csww.xml"
    path.write_text(SMALL.format(workers="\n  ".join(WORKERS)))
    with Store.open(tmp_path / "db.duckdb") as store:
        # the sheets: W1..W3 in post since 01/01/2010, so on 30/09/2022 too
        sheets = write_xlsx(tmp_path / "x.xlsx", {"workforce": workforce(3)})
        assert store.import_file(sheets, "2022-08", user="t").status == "loaded"
        checked = store.validate(path, period="2022-09")
        (warning,) = [p for p in checked.problems if p.code == "census_beside_workforce"]
        # in post on 30/09/2022, not linked: SW0000100001 (2020, no SSD here to link it) and SW0000200003
        # (agency, 2022); SW0000200002 left on 30/06/2022 and SW0000200004 starts on 15/10/2022.
        # Beside them W1, W2, W3. Both list workers in post from 2020-01 (the later of 2010-01 and 2020-01)
        assert ("This census has 2 worker(s) in post on 30/09/2022 that it cannot link to the case system"
                in warning.message)
        assert "already list 3 other worker(s) in post that day" in warning.message
        assert "(from 2020-01)" in warning.message
        assert store.import_file(path, "2022-09", user="t").status == "loaded"
        # the same census checked again (a corrected file, say): its unlinked workers are loaded now,
        # under their SWE numbers, and still beside the sheets' (a review: it then said nothing)
        (again,) = [p for p in store.validate(path, period="2022-09").problems if p.code == "census_beside_workforce"]
        assert "This census has 2 worker(s) in post on 30/09/2022" in again.message
        note = census.census_note(store.cursor())
        # the census's 4 workers are all unlinked (team "Workforce census"), and each shares month ends
        # with W1..W3 (in post since 2010, not left): SW0000200002 2015-01 to 30/06/2022, SW0000200004
        # from 15/10/2022, in post on 31/10/2022
        assert ("4 of them, not linked to the case system (area \"Not allocated\"), were in post at the same month "
                "ends as 3 workers of the workforce sheets") in note and "counted twice" in note
        board = census.census_note(store.cursor(), board=True)  # the board sees no small numbers
        assert "counted twice" in board and not any(ch.isdigit() for ch in board.split("):", 1)[1])


def test_a_census_alone_or_linked_says_nothing_of_counting_twice(tmp_path):
    path = tmp_path / "csww.xml"
    path.write_text(SMALL.format(workers="\n  ".join(WORKERS)))
    with Store.open(tmp_path / "alone" / "db.duckdb") as store:
        checked = store.validate(path, period="2022-09")
        assert checked.ok and not [p for p in checked.problems if p.code == "census_beside_workforce"]
        store.import_file(path, "2022-09", user="t")
        note = census.census_note(store.cursor())
        assert "counted twice" not in note and "Workers it does not link" in note
    with Store.open(tmp_path / "linked" / "db.duckdb") as store:
        # the sheets list W1 only, in post since 2010; the SSD tables give W1's registration
        # (SW100001), so the census's SW0000100001 is W1 and replaces its row: nobody is beside the
        # census's unlinked workers
        from tests.corpus import write_xlsx, workforce

        annexa.save_team_areas(store, pd.DataFrame({"team": list(test_ssd.TEAMS),
                                                    "area_office": list(test_ssd.TEAMS.values())}), "t")
        assert store.import_file(write_xlsx(tmp_path / "x.xlsx", {"workforce": workforce(1)}), "2022-07",
                                 user="t").status == "loaded"
        assert store.import_file(test_ssd.workbook(tmp_path), "2022-08", user="t").status == "loaded"
        checked = store.validate(path, period="2022-09")
        assert checked.ok and not [p for p in checked.problems if p.code == "census_beside_workforce"]
        store.import_file(path, "2022-09", user="t")
        note = census.census_note(store.cursor())
        assert "counted twice" not in note and "Workers it does not link" in note


def test_a_census_worker_and_a_sheet_worker_in_post_at_no_common_month_end_are_not_counted_twice(tmp_path):
    """The KPIs count a worker in post at a month end (start on or before it, not ended by it): a
    sheet worker in post from 05/09/2022 to 20/09/2022 is in post at no month end, so beside an
    unlinked census worker nothing is counted twice, and the note says nothing of it (a review:
    it did, counting any overlap of dates)."""
    from tests.corpus import write_xlsx, WORKFORCE

    path = tmp_path / "csww.xml"
    path.write_text(SMALL.format(workers=worker("SW0000300001", 0, "1.000000", "2022-01-01")))
    with Store.open(tmp_path / "db.duckdb") as store:
        short = [list(WORKFORCE), ["W7", "North", "Team A", "Social Worker", "Y", "N", 1, D(2022, 9, 5), D(2022, 9, 20), None]]
        assert store.import_file(write_xlsx(tmp_path / "x.xlsx", {"workforce": short}), "2022-09",
                                 user="t").status == "loaded"
        assert store.import_file(path, "2022-09", user="t").status == "loaded"
        note = census.census_note(store.cursor())
        assert "counted twice" not in note and "Workers it does not link" in note
        # one more day, to 30/09/2022 ... still not in post at it (it ended on it); to 01/10/2022: in post on 30/09
        short[1][8] = D(2022, 10, 1)
        assert store.import_file(write_xlsx(tmp_path / "y.xlsx", {"workforce": short}), "2022-10",
                                 user="t").status == "loaded"
        assert "1 of them, not linked" in census.census_note(store.cursor())


def test_a_census_loaded_again_under_another_month_is_unchanged_and_warned_of_its_own_month(store, tmp_path):
    """The month typed is not the census's: it was the month of the "already loaded" check and of the
    warnings, so the same census loaded twice "as 2022-10" made two imports of 2022-09."""
    path = tmp_path / "csww.xml"
    path.write_text(SMALL.format(workers="\n  ".join(WORKERS)))
    first = store.import_file(path, "2022-10", user="t")
    assert first.status == "loaded" and first.period == "2022-09"
    assert "period_loaded" not in [p.code for p in first.warnings]
    again = store.import_file(path, "2022-10", user="t")
    assert (again.status, again.period, again.import_id) == ("unchanged", "2022-09", first.import_id)
    other = tmp_path / "csww-corrected.xml"  # another census of the same date: replaces September's
    other.write_text(SMALL.format(workers="\n  ".join(WORKERS[:3])))
    replaced = store.import_file(other, "2022-10", user="t")
    assert replaced.status == "loaded" and replaced.period == "2022-09"
    assert "period_loaded" in [p.code for p in replaced.warnings]  # September is loaded: said of September
    assert [p.code for p in replaced.warnings][-1] == "census_period"  # after the month's own warnings
    assert store.cursor().execute("select period, status from imports order by import_id").fetchall() == [
        ("2022-09", "loaded"), ("2022-09", "loaded")]


def test_a_linked_census_worker_whose_case_system_record_has_no_team_is_not_called_unlinked(tmp_path):
    """The census links SW0000100005 to the case system's W5 (the SSD registers SW100005), but W5's
    record has no team (no department), so the census row goes under the census's placeholder
    team. The note told unlinked workers by that team: it called W5 unlinked, and beside a sheet
    worker in post since 2010 "counted twice", where the upload's own check (by the registrations)
    rightly said nothing."""
    from tests.corpus import WORKFORCE, write_xlsx

    path = tmp_path / "csww.xml"
    path.write_text(SMALL.format(workers=worker("SW0000100005", 0, "1.000000", "2020-01-01")))
    professionals = [*test_ssd.PROFESSIONALS, ["W5", "S5", "SW100005", "Social Worker", None, 1, None]]
    with Store.open(tmp_path / "db.duckdb") as store:
        annexa.save_team_areas(store, pd.DataFrame({"team": list(test_ssd.TEAMS),
                                                    "area_office": list(test_ssd.TEAMS.values())}), "t")
        sheet = [list(WORKFORCE), ["X1", "North", "Team A", "Social Worker", "Y", "N", 1, D(2010, 1, 1), None, None]]
        assert store.import_file(write_xlsx(tmp_path / "x.xlsx", {"workforce": sheet}), "2022-07",
                                 user="t").status == "loaded"
        assert store.import_file(test_ssd.workbook(tmp_path, {"ssd_professionals": professionals}), "2022-08",
                                 user="t").status == "loaded"
        result = store.import_file(path, "2022-09", user="t")
        assert result.status == "loaded" and "1 worker(s) linked" in text(result.warnings)
        assert not [p for p in result.problems if p.code == "census_beside_workforce"]
        assert store.cursor().execute("select team, area_office from cur_workforce where worker_id = 'W5'").fetchall() == [
            ("Workforce census", "Not allocated")]  # linked, under the placeholder team: its record has none
        note = census.census_note(store.cursor())
        assert "counted twice" not in note and "Every one of them is linked to the case system's worker." in note
