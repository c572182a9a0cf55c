"""Reading values as the contract says (`docs/extract-format.md`): ids, dates, flags, numbers,
enums, sheet and header names, blank rows, and the file-level defences' building blocks."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import corpus  # noqa: E402
from corpus import d, raw_workbook, sheet_xml, write_xlsx  # noqa: E402

from csc import filesafety, spec  # noqa: E402
from csc.extract import read_workbook  # noqa: E402

TODAY = dt.date(2011, 6, 30)


def read(tmp_path, sheets, name="x.xlsx", today=TODAY):
    path = write_xlsx(tmp_path / name, sheets)
    return read_workbook(path, today=today)


def column(result, sheet, col):
    assert result.ok, [p.message for p in result.errors]
    return result.sheets[sheet].table.column(col).to_pylist()


def one_column(tmp_path, sheet_rows, sheet, col):
    return column(read(tmp_path, {sheet: sheet_rows}), sheet, col)


def test_a_column_written_month_first_is_said_before_its_rows(tmp_path):
    """A review fixed only the rows listed of a month-first column, and loaded the rest misdated:
    the column's problem (the dates that could be either are read day-first) came last of 269.
    It now comes first, before the rows it explains. 40 dates can only be month-first (04/13/2011,
    the 13th to the 28th of April and May), 3 could be either (04/02, 04/03, 04/05/2011)."""
    rows = corpus.referrals(43)
    for i, day in enumerate(range(13, 29)):
        rows[1 + i][2] = f"04/{day}/2011"
    for i, day in enumerate(range(13, 29)):
        rows[17 + i][2] = f"05/{day}/2011"
    for i, day in enumerate(range(13, 21)):
        rows[33 + i][2] = f"06/{day}/2011"
    rows[41][2], rows[42][2], rows[43][2] = "04/02/2011", "04/03/2011", "04/05/2011"
    result = read(tmp_path, {"referrals": rows})
    first, *rest = result.errors
    assert first.message.startswith('Sheet "referrals", column "referral_date": 40 date(s) can only be month-first '
                                    '(US order), and 3 other date(s) in the column could be either, such as '
                                    '"04/02/2011" (row 42)')
    assert len(rest) == 40 and all("US-style month/day" in p.message for p in rest)


# --- ids and text ----------------------------------------------------------------------


def test_an_id_or_name_too_long_or_holding_a_character_no_one_can_see_is_refused(tmp_path):
    """A review loaded a zero-width space as a child id, a control character inside one, and ids
    of 10,000 characters (gigabytes of memory). 255 characters are accepted, 256 are not; Excel
    writes a control character as _x0001_."""
    rows = corpus.referrals(5)
    rows[1][1] = "\u200b"
    rows[2][1] = "C_x0001_2"
    rows[3][0] = "R" * 256
    rows[4][4] = "Team\u200bA"
    rows[5][0] = "R" * 255
    result = read(tmp_path, {"referrals": rows})
    assert [p.message for p in result.errors] == [
        'Sheet "referrals", row 2, column "child_id": "<U+200B>" holds a zero-width space, which cannot be seen and '
        "makes it another value than the one it looks like: type the value again in Excel.",
        'Sheet "referrals", row 3, column "child_id": "C<U+0001>2" holds a control character (U+0001), which cannot '
        "be seen and makes it another value than the one it looks like: type the value again in Excel.",
        'Sheet "referrals", row 4, column "referral_id": a value of 256 characters is too long: ids, names and '
        "categories are at most 255 characters.",
        'Sheet "referrals", row 5, column "team": "Team<U+200B>A" holds a zero-width space, which cannot be seen and '
        "makes it another value than the one it looks like: type the value again in Excel.",
    ]
    # the length and the character are found in the whole value, not in the part a problem quotes
    # (a review: 10,000 characters were said as 341, and a character after the 320th was "cannot be
    # read ()"); and the other invisible characters a copy brings
    rows = corpus.referrals(5)
    rows[1][0] = "R" * 10_000
    rows[2][1] = "C" * 399 + "\u200f" + "D" * 100
    rows[3][1] = "C12\u00ad34"
    rows[4][4] = "\u202eTeam A"
    rows[5][5] = "Police\u2063"
    problems = [p.message for p in read(tmp_path, {"referrals": rows}, name="hidden.xlsx").errors]
    assert len(problems) == 6, problems  # the 500 characters of row 3 are also too long
    assert problems[0] == ('Sheet "referrals", row 2, column "referral_id": a value of 10,000 characters is too long: '
                           "ids, names and categories are at most 255 characters.")
    assert problems[1].startswith('Sheet "referrals", row 3, column "child_id": a value of 500 characters')
    assert problems[2].startswith('Sheet "referrals", row 3, column "child_id": "…' + "C" * 40 + "<U+200F>" + "D" * 31 + "…")
    assert problems[2].endswith(' (149 characters)" holds a right-to-left mark (character 400 of 500), which cannot be seen and makes '
                                "it another value than the one it looks like: type the value again in Excel.")
    assert '"C12<U+00AD>34" holds a soft hyphen, which' in problems[3]
    assert '"<U+202E>Team A" holds a text-direction control, which' in problems[4]
    assert '"Police<U+2063>" holds an invisible operator, which' in problems[5]
    # a name of 255 characters, none of them ASCII (510 bytes), is no error
    rows = corpus.referrals(1)
    rows[1][4] = "é" * 255
    assert column(read(tmp_path, {"referrals": rows}, name="long.xlsx"), "referrals", "team") == ["é" * 255]


def test_ids_are_trimmed_and_inner_spaces_collapsed(tmp_path):
    rows = corpus.referrals(4)
    rows[1][0] = "  R 1  "
    rows[2][0] = "R\u00a0\u00a02\t"
    rows[3][1] = "C\n3"
    rows[4][3] = "  North   East "
    result = read(tmp_path, {"referrals": rows})
    assert column(result, "referrals", "referral_id") == ["R 1", "R 2", "R3", "R4"]
    assert column(result, "referrals", "child_id")[2] == "C 3"
    assert column(result, "referrals", "area_office")[3] == "North East"


def test_numbers_typed_into_id_cells_lose_the_trailing_point_zero(tmp_path):
    rows = corpus.referrals(4)
    rows[1][0], rows[2][0], rows[3][0], rows[4][0] = 12345.0, "67890.00", 678, "00042"
    assert one_column(tmp_path, rows, "referrals", "referral_id") == ["12345", "67890", "678", "00042"]


def test_a_date_in_an_id_column_is_read_as_text(tmp_path):
    rows = corpus.referrals(1)
    rows[1][1] = d(3)
    assert one_column(tmp_path, rows, "referrals", "child_id")[0].startswith("2011-04-03")


# --- dates ------------------------------------------------------------------------------

DATE_SPELLINGS = [
    d(5),  # an Excel date cell
    dt.datetime(2011, 4, 5, 14, 30),  # a date-time cell: the time is dropped
    "2011-04-05",
    "2011-4-5",
    "5/4/2011",
    "05/04/2011",
    "05-04-2011",
    "05.04.2011",
    "5.4.2011",
    "2011-04-05 14:30",
    "05/04/2011 09:15:00",
    "2011-04-05T10:00:00",
    " 05/04/2011 ",
]


@pytest.mark.parametrize("value", DATE_SPELLINGS, ids=[str(v) for v in DATE_SPELLINGS])
def test_every_accepted_date_spelling(tmp_path, value):
    rows = corpus.referrals(1)
    rows[1][2] = value
    assert one_column(tmp_path, rows, "referrals", "referral_date") == [d(5)]


def test_plain_spaces_at_either_end_are_trimmed_in_a_column_of_plain_text(tmp_path):
    """Columns of plain ASCII text, with no tab, line break or double space anywhere (the column
    is judged from its bytes at once): a space at the start or end is still trimmed, a lone space
    is blank, and inner single spaces stay."""
    from csc.extract import _surely_tidy

    teams = [" Team A", "Team B ", "Team C", " ", "Team D"]
    assert _surely_tidy(pa.chunked_array([pa.array(["team", *teams])]))  # the quick judgement applies
    assert not _surely_tidy(pa.chunked_array([pa.array(["Team B ", " Team C"])]))  # two spaces in a row
    rows = corpus.referrals(5)
    for i, team in enumerate(teams, start=1):
        rows[i][4] = team
    rows[2][5] = "Police "
    result = read(tmp_path, {"referrals": rows})
    assert column(result, "referrals", "team") == ["Team A", "Team B", "Team C", None, "Team D"]
    assert column(result, "referrals", "source") == ["Police"] * 5


def test_cleaning_a_column_gives_what_cleaning_each_value_by_hand_gives():
    """Each value trimmed, runs of white space made one space, "" blank: worked out value by value
    in Python, against the column's clean-up, which judges most columns from their bytes at once
    (`_surely_tidy`, `_may_have_spaced_ends`) including chunks cut from a longer array (a slice's
    buffer holds the values around it: a spaced value outside the slice changes nothing) and
    blanks whose slots hold bytes."""
    import random
    import re

    from csc.extract import _clean, _surely_tidy

    def by_hand(value):
        if value is None:
            return None
        text = " ".join(value.replace("\u00a0", " ").split())
        return text or None

    rnd, judged = random.Random(17), 0
    pieces = ["Team", "A", "b", " ", "  ", "\t", "\n", "\u00a0", "7", ""]
    for trial in range(300):
        values = ["".join(rnd.choice(pieces) for _ in range(rnd.randrange(4))) if rnd.random() > 0.1 else None
                  for _ in range(rnd.randrange(1, 12))]
        if trial % 2 == 0:  # plain text only (no two spaces in a row): the judgement from the bytes decides
            values = [v if v is None else re.sub(" +", " ", re.sub("[\t\n\u00a0]", "", v)) for v in values]
        whole = pa.array(["before", *values, " after "])
        col = pa.chunked_array([whole.slice(1, len(values))])
        assert _clean(col).to_pylist() == [by_hand(v) for v in values], values
        judged += _surely_tidy(col)
    assert judged > 40  # many columns were judged from their bytes (spaces either side of two values meet)
    # a blank whose slot holds " x": its bytes may send the column the slow way, never change a value
    offsets, data = pa.array([0, 2, 4, 6], pa.int32()), pa.py_buffer(b"ab xcd")
    holed = pa.StringArray.from_buffers(3, offsets.buffers()[1], data, pa.array([True, False, True]).buffers()[1])
    assert holed.to_pylist() == ["ab", None, "cd"]
    assert _clean(pa.chunked_array([holed])).to_pylist() == ["ab", None, "cd"]


def test_dates_in_their_usual_spelling_are_checked_in_one_pass_and_others_in_a_second(tmp_path, monkeypatch):
    """The expression for every date spelling costs DuckDB milliseconds a column to plan, whatever
    the rows: a sheet whose dates are all in the usual spelling (an Excel date cell's) is checked
    without it; one date in another spelling sends the sheet to a second pass with it, and is read
    the same as before (the spellings above)."""
    import csc.extract as extract

    planned: list[bool] = []
    real = extract._parse_expr

    def parse_expr(col, t, usual_dates=False):
        if col.type == spec.DATE:
            planned.append(usual_dates)
        return real(col, t, usual_dates)

    monkeypatch.setattr(extract, "_parse_expr", parse_expr)
    rows = corpus.referrals(3)
    assert one_column(tmp_path, rows, "referrals", "referral_date") == [d(2), d(3), d(4)]
    assert planned and all(planned)  # one pass, dates in their usual spelling only
    planned.clear()
    rows[2][2] = "03/04/2011"
    assert one_column(tmp_path, rows, "referrals", "referral_date") == [d(2), d(3), d(4)]
    assert True in planned and False in planned  # a second pass, with every spelling


@pytest.mark.parametrize("value", ["04/05/11", "2011/04/05", "5 April 2011", "April 5, 2011", "20110405", "05/04",
                                   "32/01/2011", "29/02/2011", "tomorrow"])
def test_other_date_spellings_are_errors(tmp_path, value):
    rows = corpus.referrals(1)
    rows[1][2] = value
    result = read(tmp_path, {"referrals": rows})
    (error,) = result.errors
    assert (error.sheet, error.row, error.column, error.value) == ("referrals", 2, "referral_date", value)
    assert "is not a date" in error.message and "31/03/2011" in error.expected


def test_date_range_is_1990_to_the_day_of_import(tmp_path):
    rows = corpus.referrals(4)
    rows[1][2], rows[2][2], rows[3][2], rows[4][2] = "01/01/1990", TODAY, "31/12/1989", TODAY + dt.timedelta(days=1)
    result = read(tmp_path, {"referrals": rows})
    assert [(p.row, p.value) for p in result.errors] == [(4, "31/12/1989"), (5, "01/07/2011")]
    assert all("outside the accepted range" in p.message for p in result.errors)
    assert "30/06/2011" in result.errors[0].message  # the day of the import
    assert not any("placeholder" in p.message for p in result.errors)


@pytest.mark.parametrize("value", [dt.date(1900, 1, 1), "01/01/1900", "1900-01-01"])
def test_a_placeholder_date_is_said_to_be_one(tmp_path, value):
    """A case system's "no date" (1 January 1900) was two errors with no word of what it is (a review)."""
    rows = corpus.referrals(1)
    rows[1][2] = value
    (error,) = read(tmp_path, {"referrals": rows}).errors
    assert "outside the accepted range" in error.message
    assert error.message.endswith('It looks like a placeholder for "no date": leave the cell blank instead.')


def test_dates_are_typed_as_dates(tmp_path):
    result = read(tmp_path, {"referrals": corpus.referrals(2)})
    assert result.sheets["referrals"].table.schema.field("referral_date").type == pa.date32()


# --- flags, numbers, enums ----------------------------------------------------------------

FLAGS = [("Y", True), ("y", True), ("Yes", True), ("YES", True), ("True", True), ("true", True), ("1", True), (1, True),
         (True, True), ("N", False), ("n", False), ("No", False), ("no", False), ("FALSE", False), ("0", False),
         (0, False), (False, False), (None, None), ("  ", None)]


def test_flags_any_case_and_blank_is_unknown(tmp_path):
    rows = corpus.assessments(len(FLAGS))
    for i, (value, _) in enumerate(FLAGS, start=1):
        rows[i][5] = value
    assert one_column(tmp_path, rows, "assessments", "child_seen") == [want for _, want in FLAGS]


def test_numbers_from_cells_and_text(tmp_path):
    rows = [corpus.ESTABLISHMENT, ["A", "N", 0.5], ["B", "N", "2.25"], ["C", "N", "1,234"], ["D", "N", " 3 "],
            ["E", "N", 0], ["F", "N", "1e1"], ["G", "N", "1,234,567.5"], ["H", "N", "+1,000"]]
    assert one_column(tmp_path, rows, "establishment", "funded_fte") == [0.5, 2.25, 1234.0, 3.0, 0.0, 10.0, 1234567.5,
                                                                          1000.0]


@pytest.mark.parametrize("value, hint", [("12,5", "write 12.5"), ("7,25", "write 7.25"), ("1,2,3", None),
                                         ("12,50", "write 12.50"), ("1,23", "write 1.23")])
def test_a_comma_is_read_only_between_thousands(tmp_path, value, hint):
    """A review's "12,5" funded FTE (a decimal comma) was stored as 125, "1,2,3" as 123: a comma
    is now read only between thousands, and anything else is no number, said as such."""
    rows = [corpus.ESTABLISHMENT, ["A", "N", value]]
    (error,) = read(tmp_path, {"establishment": rows}).errors
    assert "is not a number" in error.message and error.value == value
    assert ("decimal comma" in error.message) == (hint is not None)
    assert hint is None or hint in error.message


@pytest.mark.parametrize("value", ["inf", "NaN", "-", "3 posts", "0x10", "£3"])
def test_non_numbers_are_errors(tmp_path, value):
    rows = [corpus.ESTABLISHMENT, ["A", "N", value]]
    (error,) = read(tmp_path, {"establishment": rows}).errors
    assert "is not a number" in error.message and error.value == value


@pytest.mark.parametrize("value, said", [("1e400", "is too large to be a number"), ("-2e308", "is below 0"),
                                         ("1e308", "is too large (at most 1,000,000,000)"),
                                         ("1000000001", "is too large (at most 1,000,000,000)")])
def test_a_number_beyond_any_float_is_an_error(tmp_path, value, said):
    # it read as infinity and loaded: a funded FTE of inf made the vacancy rate inf / inf; and two of
    # 1e308, each a float, summed to infinity there (a red-team review: the board's Overview failed)
    rows = [corpus.ESTABLISHMENT, ["A", "N", value]]
    (error,) = read(tmp_path, {"establishment": rows}).errors
    assert f'"{value}" {said}' in error.message and error.value == value


def test_an_establishment_total_row_is_refused(tmp_path):
    # A red-team review: "Total | All areas | 206" under the teams loaded, the council's vacancy rate
    # went from 13.0% to 56.5%, and "All areas" became an area office at 100%
    rows = [corpus.ESTABLISHMENT, ["Team A", "North", 100], ["Team B", "South", 106], ["Total", "All areas", 206]]
    (error,) = read(tmp_path, {"establishment": rows}).errors
    assert error.message == ('Sheet "establishment", row 4: team "Total" of area office "All areas" (funded FTE 206) '
                             "looks like a total, not a team: the teams' funded FTE would be counted twice in the "
                             "vacancy rate. Delete the total row (or any row that adds up others) and upload again.")
    assert (error.row, error.column, error.value) == (4, "team", "Total")
    for team, area in (("Grand Total", "North"), ("ALL TEAMS", "All areas"), ("Sub-total", "South"),
                       ("North Total", "North")):  # the last as Excel's pivot tables write it
        rows[3][:2] = [team, area]
        assert len(read(tmp_path, {"establishment": rows}).errors) == 1, (team, area)
    # names, not totals; and a county-wide team may sit under "All areas" (a review)
    for team, area in (("All Saints", "North"), ("Totally Team", "South"), ("Total Care Team", "South"),
                       ("Emergency Duty Team", "All areas")):
        rows[3][:2] = [team, area]
        assert read(tmp_path, {"establishment": rows}).ok, (team, area)


def test_a_required_column_missing_names_an_ignored_heading_that_may_be_it(tmp_path):
    # A red-team review: a workforce sheet headed "FTE (0-1)" was told only that fte was missing
    rows = corpus.workforce(2)
    rows[0][6] = "FTE (0-1)"
    errors = read(tmp_path, {"workforce": rows}).errors
    assert [e.message for e in errors] == [
        'Sheet "workforce": the required column "fte" (also accepted as \'FTE\') is missing from the header row (row 1). '
        'Add it, or rename the column that holds it. The column headed "FTE (0-1)" was ignored: if it holds fte, '
        'rename it "fte".']
    rows[0][6] = "Hours"  # nothing like it: no hint
    (error,) = read(tmp_path, {"workforce": rows}).errors
    assert error.message.endswith("Add it, or rename the column that holds it.")


def test_an_fte_far_too_large_is_told_its_own_maximum(tmp_path):
    # a review: an FTE of 2e9 was told "at most 1,000,000,000" where the column's own maximum is 1
    rows = corpus.workforce(1)
    rows[1][6] = 2e9
    (error,) = read(tmp_path, {"workforce": rows}).errors
    assert error.message.endswith('"2000000000" is out of range; expected a number greater than 0 and at most 1.')


def test_fte_is_more_than_zero_and_at_most_one(tmp_path):
    rows = corpus.workforce(4)
    rows[1][6], rows[2][6], rows[3][6], rows[4][6] = 1, 0.01, "0.5", 1.0001
    result = read(tmp_path, {"workforce": rows})
    assert [(p.row, p.column) for p in result.errors] == [(5, "fte")]


def test_whole_numbers(tmp_path):
    rows = corpus.cp_plans(3)
    rows[1][5], rows[2][5], rows[3][5] = 3, "2.0", None
    assert one_column(tmp_path, rows, "cp_plans", "previous_plans") == [3, 2, None]


def test_enums_are_case_insensitive_with_synonyms(tmp_path):
    rows = corpus.assessments(6)
    for i, v in enumerate(["initial", "CORE", "Single Assessment", "Continuous Assessment", "continuous-assessment",
                           " Initial Assessment "], start=1):
        rows[i][2] = v
    assert one_column(tmp_path, rows, "assessments", "assessment_type") == [
        "Initial", "Core", "Single", "Single", "Single", "Initial"]


def test_audit_subject_and_grade_synonyms(tmp_path):
    rows = corpus.audits(5)
    subjects = ["Child Protection Plan", "CP Plan", "assessment", "Other", "cp_plan"]
    grades = ["requires improvement", "Requires improvement to be good", "GOOD", "outstanding", "Inadequate"]
    for i in range(5):
        rows[i + 1][4], rows[i + 1][5] = subjects[i], grades[i]
    result = read(tmp_path, {"audits": rows})
    assert column(result, "audits", "subject") == ["cp_plan", "cp_plan", "assessment", "other", "cp_plan"]
    assert column(result, "audits", "grade") == ["Requires improvement", "Requires improvement", "Good", "Outstanding",
                                                 "Inadequate"]


def test_change_reason_codes(tmp_path):
    rows = corpus.involvements(2)
    rows[1][7], rows[2][7] = "leftrl", None
    assert one_column(tmp_path, rows, "involvements", "change_reason") == ["LEFTRL", None]


# --- sheets and headers -------------------------------------------------------------------


@pytest.mark.parametrize("title,name", [
    ("CP Plans", "cp_plans"), ("Child Protection", "cp_plans"), ("cp-plans", "cp_plans"), ("CP_PLANS", "cp_plans"),
    ("Allocations", "involvements"), ("Staff", "workforce"), ("REFERRALS", "referrals"), ("Super Visions", "supervisions"),
])
def test_sheet_names_match_ignoring_case_spaces_and_punctuation(title, name):
    assert spec.sheet_for(title).name == name


def test_unrelated_sheet_names_do_not_match():
    assert spec.sheet_for("Referrals 2010") is None
    assert spec.sheet_for("Sheet1") is None


def test_headers_match_aliases_ignoring_case_spaces_and_punctuation(tmp_path):
    rows = corpus.referrals(2)
    rows[0] = ["REFERRAL-ID", "Child Unique ID", "Date of Referral:", "area", "Allocated_Team", "Referral Source"]
    result = read(tmp_path, {"Referrals": rows})
    assert result.ok, [p.message for p in result.problems]
    data = result.sheets["referrals"]
    assert data.headers == {"referral_id": "REFERRAL-ID", "child_id": "Child Unique ID",
                            "referral_date": "Date of Referral:", "area_office": "area", "team": "Allocated_Team",
                            "source": "Referral Source"}
    assert data.table.column_names == ["excel_row", "referral_id", "child_id", "referral_date", "area_office", "team",
                                       "source"]


def test_columns_may_come_in_any_order_and_optional_ones_be_absent(tmp_path):
    rows = [["area_office", "referral_date", "child_id", "referral_id"], ["North", d(2), "C1", "R1"]]
    result = read(tmp_path, {"referrals": rows})
    assert column(result, "referrals", "referral_id") == ["R1"]
    assert "team" not in result.sheets["referrals"].table.column_names


def test_unknown_sheets_and_columns_are_warned_not_refused(tmp_path):
    rows = [r + ["x", "y"] for r in corpus.referrals(2)]
    rows[0][-2:] = ["Notes", "Case Worker Phone"]
    result = read(tmp_path, {"Cover": [["Monthly extract"]], "referrals": rows})
    assert result.ok
    warnings = [p.message for p in result.warnings]
    assert 'Sheet "Cover" is not part of the extract and was ignored.' in warnings
    assert any('2 column(s) that are not part of the extract were ignored: "Notes", "Case Worker Phone"' in w
               for w in warnings)


def test_blank_rows_are_skipped_and_row_numbers_stay_right(tmp_path):
    rows = [["Title"], [None]] + corpus.referrals(2) + [[None] * 6, [None, "  ", None]] + corpus.referrals(1, start=3)[1:]
    rows[-1][2] = "nonsense"
    result = read(tmp_path, {"referrals": rows})
    (error,) = result.errors
    assert error.row == 8 and error.value == "nonsense"
    rows[-1][2] = d(9)
    result = read(tmp_path, {"referrals": rows}, name="y.xlsx")
    assert column(result, "referrals", "excel_row") == [4, 5, 8]
    assert result.row_counts == {"referrals": 3}


def test_empty_sheet_and_header_only_sheet_are_warned(tmp_path):
    result = read(tmp_path, {"referrals": corpus.referrals(1), "audits": [], "workforce": [corpus.WORKFORCE]})
    assert result.ok
    warnings = [p.message for p in result.warnings]
    assert 'Sheet "audits" is empty and was skipped.' in warnings
    assert 'Sheet "workforce" has a header row but no data rows.' in warnings
    assert result.row_counts == {"referrals": 1, "workforce": 0}


def test_header_may_sit_below_title_rows_up_to_row_ten(tmp_path):
    rows = [["Title"]] + [[None]] * 8 + corpus.referrals(1)
    result = read(tmp_path, {"referrals": rows})
    assert result.sheets["referrals"].header_row == 10
    assert column(result, "referrals", "excel_row") == [11]


def test_a_filter_row_above_the_headings_is_not_taken_for_them(tmp_path):
    """A report's filter row ("Area | North | Team | All") names two columns: it was taken for the
    header row, with three "required column missing" errors pointing at it (a review). The row
    naming the most columns is the header."""
    rows = [["Referrals report"], ["area_office", "North", "team", "All"], [None]] + corpus.referrals(2)
    result = read(tmp_path, {"referrals": rows})
    assert result.ok, [p.message for p in result.errors]
    assert result.sheets["referrals"].header_row == 4
    assert column(result, "referrals", "referral_id") == ["R1", "R2"]


def test_every_problem_has_its_fields(tmp_path):
    rows = corpus.referrals(1)
    rows[1][2] = "soon"
    (error,) = read(tmp_path, {"referrals": rows}).errors
    assert error.as_dict() == {
        "severity": "error", "sheet": "referrals", "row": 2, "column": "referral_date", "value": "soon",
        "expected": spec.SHEETS["referrals"].column("referral_date").expectation(), "message": error.message}


def test_formula_cells_are_read_from_their_cached_values(tmp_path):
    rows = corpus.referrals(1)
    rows[1][1] = corpus.Formula('"C"&"99"', "C99")
    rows[1][2] = corpus.Formula("DATE(2011,4,7)", d(7))
    path = raw_workbook(tmp_path / "f.xlsx", {"referrals": sheet_xml(rows)})
    result = read_workbook(path, today=TODAY)
    assert column(result, "referrals", "child_id") == ["C99"]
    assert column(result, "referrals", "referral_date") == [d(7)]


def test_error_cells_and_formulas_with_no_saved_result_are_warned_of_not_read_as_blank_silently(tmp_path):
    """A review's #N/A in an optional column (an assessment's completed date) loaded as blank
    without a word, and formulas written by a program (openpyxl, pandas: no saved result) loaded
    blank in every row. Both are named, by cell, and the file still loads as before."""
    rows = corpus.assessments(3)
    rows[1][4] = "#N/A"  # openpyxl writes an error cell, as Excel does for a failed formula
    rows[2][4] = "=D3+10"  # a formula with no saved result
    rows[3][5] = '=IF(TRUE,"Y","N")'
    result = read(tmp_path, {"assessments": rows})
    assert result.ok
    assert column(result, "assessments", "completed_date") == [None, None, d(8)]
    (errors,) = [p for p in result.warnings if p.code == "excel_errors"]
    assert errors.message == ('Sheet "assessments": 1 cell(s) hold an Excel error, which is read as blank: E2 (#N/A). '
                              "If the dashboard uses their column, fix the formulas (or the values) in Excel and "
                              "upload again.")
    (formulas,) = [p for p in result.warnings if p.code == "formulas_without_values"]
    assert formulas.message.startswith('Sheet "assessments": 2 cell(s) hold a formula with no saved result (E3, F4), '
                                       "which is read as blank")
    # a file written without cell references names no cell: said without an empty list (a review
    # read "which is read as blank:  and 1 more.")
    rows = corpus.assessments(2)
    rows[1][4] = corpus.Formula("D2+10")
    xml = sheet_xml(rows, refs=False).replace(
        '<c t="inlineStr"><is><t xml:space="preserve">Y</t></is></c>', '<c t="e"><v>#N/A</v></c>', 1)
    result = read_workbook(raw_workbook(tmp_path / "norefs.xlsx", {"assessments": xml}), today=TODAY)
    said = {p.code: p.message for p in result.warnings}
    assert said["excel_errors"] == ('Sheet "assessments": 1 cell(s) hold an Excel error, which is read as blank. If '
                                    "the dashboard uses their column, fix the formulas (or the values) in Excel and "
                                    "upload again.")
    assert said["formulas_without_values"].startswith('Sheet "assessments": 1 cell(s) hold a formula with no saved '
                                                      "result, which is read as blank: the file")
    # a required column: the blank is an error, as before, and the warning says why it is blank
    rows = corpus.referrals(1)
    rows[1][3] = "#REF!"
    result = read(tmp_path, {"referrals": rows}, name="r.xlsx")
    assert [p.column for p in result.errors] == ["area_office"]
    assert any(p.code == "excel_errors" and "D2 (#REF!)" in p.message for p in result.warnings)


def test_cells_named_across_many_buffers_are_the_first_in_the_sheet(tmp_path, monkeypatch):
    """The buffers of a large sheet are looked at by two threads at once (`_Scanner.usual`) and
    measured in order: the cells named are the sheet's first, in its order, and every one is
    counted, as when the sheet is one buffer. (Small chunks of a sheet inflating over 8 times
    over: ISA-L keeps output that zlib leaves as input, and the end of the part was taken for a
    part cut short.)"""
    rows = corpus.assessments(6000)
    marked = list(range(5900, 0, -450))  # from the bottom up, so an out-of-order merge shows
    for r in marked:
        rows[r][4] = f"=D{r + 1}+10"  # a formula with no saved result, in column E
    path = read(tmp_path, {"assessments": rows}).path
    first = sorted(marked)[:5]
    want = (f'{len(marked)} cell(s) hold a formula with no saved result ({", ".join(f"E{r + 1}" for r in first)} '
            f"and {len(marked) - 5} more)")
    for chunk in (16_000, 1 << 30):
        monkeypatch.setattr(filesafety, "CHUNK", chunk)
        result = read_workbook(path, today=TODAY)
        (formulas,) = [p for p in result.warnings if p.code == "formulas_without_values"]
        assert want in formulas.message, (chunk, formulas.message)


def test_formulas_with_saved_results_are_not_warned_of(tmp_path):
    rows = corpus.referrals(1)
    rows[1][1] = corpus.Formula('"C"&"99"', "C99")
    path = raw_workbook(tmp_path / "f.xlsx", {"referrals": sheet_xml(rows)})
    result = read_workbook(path, today=TODAY)
    assert result.ok and not [p for p in result.warnings if p.code in ("excel_errors", "formulas_without_values")]


# --- the file: names and defences -------------------------------------------------------


def test_name_must_be_xlsx_or_xlsm_but_case_does_not_matter(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(1)})
    assert read_workbook(path, original_name="APRIL.XLSX", today=TODAY).ok
    assert read_workbook(path, original_name="april.xlsm", today=TODAY).ok
    (error,) = read_workbook(path, original_name="april.zip", today=TODAY).errors
    assert '"april.zip" is named ".zip", not .xlsx or .xlsm' in error.message and "Save As" in error.message


@pytest.mark.parametrize("body, kind", [
    ("<!DOCTYPE html>\n<html><body><table><tr><td>referral_id</td></tr></table></body></html>", "a web page (HTML)"),
    ("<html xmlns:x=\"urn:schemas-microsoft-com:office:excel\"><table><tr><td>1</td></tr></table></html>",
     "a web page (HTML)"),
    ("<table><tr><td>referral_id</td></tr></table>", "a web page (HTML)"),
    ("referral_id,child_id\nR1,C1\n", "a CSV or text file"),
])
def test_a_web_page_or_a_text_file_under_an_excel_name_is_called_what_it_is(tmp_path, body, kind):
    """A system's "export to Excel" that writes HTML under an .xls name was called "a CSV or text
    file" (a review)."""
    path = tmp_path / "export.xls"
    path.write_text(body)
    (error,) = read_workbook(path, original_name="export.xlsx", today=TODAY).errors
    assert error.message.startswith(f'"export.xlsx" is {kind}') and "Save As" in error.message


@pytest.mark.parametrize("head,complete,want", [
    (b'<?xml version="1.0"?><worksheet/>', True, None),
    (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- a -->\n<worksheet>', True, None),
    (b'<?xml version="1.0"?><!DOCTYPE x><worksheet/>', True, "entity"),
    (b'<?xml version="1.0"?><!-- <!DOCTYPE inside a comment is text --><worksheet/>', True, None),
    (b'<?xml version="1.0"?><!-- a --><!ENTITY x "y"><worksheet/>', True, "entity"),
    (b"<?xml version='1.0'?><!--" + b"x" * 100, False, "long"),
    ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x>'.encode("utf-16-le"), True, "entity"),
    (b"\xfe\xff" + '<?xml version="1.0"?><!DOCTYPE x>'.encode("utf-16-be"), True, "entity"),
])
def test_xml_prolog_check(head, complete, want):
    assert filesafety._prolog_problem(head, complete) == want


def _extent(xml: str) -> tuple[int, int]:
    data = xml.encode()
    root = filesafety._ROOT_PREFIX.search(data)
    scanner = filesafety._Scanner(root.group(1) or b"" if root else b"")
    scanner.feed(data)
    return (scanner.rows, scanner.cols) if scanner.fast else filesafety._exact_extent(iter([data]))


def test_sheet_extent_is_measured_from_the_xml():
    assert _extent(sheet_xml(corpus.referrals(3))) == (999_999, 26)  # a bound: single letters, under 7 digits
    far = sheet_xml(corpus.referrals(1)).replace("</sheetData>", '<row r="9"><c r="ZZ9"><v>1</v></c></row></sheetData>')
    rows, cols = _extent(far)
    assert cols == 702 and rows * cols <= filesafety.MAX_CELLS
    deep = sheet_xml(corpus.referrals(1)).replace("</sheetData>",
                                                  '<row r="3000000"><c r="B3000000"><v>1</v></c></row></sheetData>')
    assert _extent(deep)[0] == 3_000_000
    no_refs = sheet_xml([["a", "b", "c"], ["d"]], refs=False)
    assert _extent(no_refs) == (2, 3)
    mixed = '<worksheet><sheetData><row r="7"><c r="C7"><v>1</v></c><c><v>2</v></c></row><row><c/></row></sheetData></worksheet>'
    assert _extent(mixed) == (8, 4)


def test_a_far_cell_written_in_lower_case_is_measured_as_far():
    # A red-team review: the reader takes "zz999999" as ZZ999999, and the bounds knew only capitals,
    # so a 2 KB sheet measured 26 columns wide asked the reader for a 999,999 x 702 grid (22 GB)
    far = sheet_xml(corpus.referrals(1)).replace(
        "</sheetData>", '<row r="999999"><c r="zz999999" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')
    rows, cols = _extent(far)
    assert (rows, cols) == (999_999, 702) or rows * cols > filesafety.MAX_CELLS
    assert filesafety.sheet_too_big("referrals", filesafety.Extent(rows=rows, cols=cols))


def _rewritten(path: Path, old: bytes, new: bytes, rename: tuple[str, str] | None = None) -> Path:
    """The workbook at `path` with `old` replaced by `new` in its relationships (and a part renamed)."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    rels = "xl/_rels/workbook.xml.rels"
    assert old in parts[rels]
    parts[rels] = parts[rels].replace(old, new)
    if rename:
        parts[rename[1]] = parts.pop(rename[0])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def test_a_sheet_named_with_an_escaped_character_is_refused_before_the_reader_opens_it(tmp_path):
    # A red-team review: Target="worksheets/sheet&#49;.xml" is sheet1.xml to an XML parser (these
    # checks measured that small sheet), and the part literally named "sheet&#49;.xml" to the reader
    # (a far cell there, never measured: 22 GB asked for)
    small = sheet_xml(corpus.referrals(1))
    far = small.replace("</sheetData>", '<row r="999999"><c r="ZZ999999"><v>1</v></c></row></sheetData>')
    path = raw_workbook(tmp_path / "escaped.xlsx", {"referrals": far})
    path = _rewritten(path, b'Target="worksheets/sheet1.xml"', b'Target="worksheets/sheet&#49;.xml"',
                      rename=("xl/worksheets/sheet1.xml", "xl/worksheets/sheet&#49;.xml"))
    with __import__("zipfile").ZipFile(path, "a") as zf:
        zf.writestr("xl/worksheets/sheet1.xml", small)
    (error,) = read_workbook(path, today=TODAY).errors
    assert error.message.startswith('"escaped.xlsx" is damaged or incomplete and cannot be opened (a part of the '
                                    "workbook is named with an escaped character")


def test_a_sheet_the_reader_cannot_parse_is_said_in_words_first(tmp_path):
    # a red-team review: the reader's own words ("calamine error: Xlsx error: ...") were the message
    xml = sheet_xml(corpus.referrals(1)).replace("</sheetData>",
                                                 '<row r="3"><c r="A3" t="s"><v>99</v></c></row></sheetData>')
    ss = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
          "<si><t>x</t></si></sst>")
    path = raw_workbook(tmp_path / "bad_index.xlsx", {"referrals": xml}, shared_strings=ss)
    (error,) = read_workbook(path, today=TODAY).errors
    assert error.message.startswith('Sheet "referrals" cannot be read: its cells are damaged, or written in a way '
                                    "Excel does not write them (the reader says: ")
    assert error.message.endswith('Open it in Excel and use File > Save As > "Excel Workbook (.xlsx)", then upload the '
                                  "saved .xlsx file.")


def test_a_sheet_part_named_in_another_case_is_found_and_two_sheets_of_one_name_are_refused(tmp_path):
    # a review: part names are not case-sensitive to Excel or the reader, and "Sheet1.xml" for
    # sheet1.xml was refused; two sheets of one name (which Excel never writes) are refused
    path = raw_workbook(tmp_path / "case.xlsx", {"referrals": sheet_xml(corpus.referrals(2))})
    path = _rewritten(path, b'Target="worksheets/sheet1.xml"', b'Target="worksheets/Sheet1.xml"')
    result = read_workbook(path, today=TODAY)
    assert result.ok and result.row_counts == {"referrals": 2}
    path = raw_workbook(tmp_path / "twice.xlsx", {"referrals": sheet_xml(corpus.referrals(2)),
                                                  "Referrals ": sheet_xml(corpus.referrals(1))})
    with __import__("zipfile").ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'name="Referrals "', b'name="REFERRALS"')
    with __import__("zipfile").ZipFile(path, "w") as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    (error,) = read_workbook(path, today=TODAY).errors
    assert error.message.startswith('Sheet "REFERRALS" and sheet "referrals" both mean the "referrals" sheet')


@pytest.mark.parametrize("where", ["prefixed cell", "a part of another name"])
def test_cells_the_reader_would_find_anywhere_are_measured(tmp_path, where):
    # A review: the reader matches tags by their local name, whatever their prefix, and follows a
    # relationship's Target as written ("./", "..", a tab, another case ...), so a far cell under
    # another prefix, or in a part the checks did not expect it to open, went unmeasured (22 GB)
    small = sheet_xml(corpus.referrals(1))
    far_cell = '<row r="999999"><x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' \
               'r="ZZ999999"><x:v>1</x:v></x:c></row>'
    if where == "prefixed cell":
        path = raw_workbook(tmp_path / "prefixed.xlsx", {"referrals": small.replace("</sheetData>",
                                                                                     far_cell + "</sheetData>")})
    else:
        far = small.replace("</sheetData>", '<row r="999999"><c r="ZZ999999"><v>1</v></c></row></sheetData>')
        path = raw_workbook(tmp_path / "other.xlsx", {"referrals": small}, extra={"xl/./worksheets/sheet1.xml": far})
    (error,) = read_workbook(path, today=TODAY).errors
    assert "999,999 rows by 702 columns" in error.message


FAR_CELLS = {  # a second review's ways of writing a cell the reader places at ZZ999999
    "no space before r": '<row r="999999"><c s="0"r="ZZ999999"><v>1</v></c></row>',
    "two r attributes": '<row r="999999"><c r="A1" r="ZZ999999"><v>1</v></c></row>',
    "a > in a quoted value": '<row r="999999"><c foo="x>y" r="ZZ999999"><v>1</v></c></row>',
    "an empty prefix": '<row r="999999"><:c r="ZZ999999"><v>1</v></:c></row>',
    "a prefix with =": '<row r="999999"><a=b:c r="ZZ999999"><v>1</v></a=b:c></row>',
}


@pytest.mark.parametrize("how", sorted(FAR_CELLS))
def test_a_far_cell_however_written_is_measured(tmp_path, how):
    far = sheet_xml(corpus.referrals(1)).replace("</sheetData>", FAR_CELLS[how] + "</sheetData>")
    (error,) = read_workbook(raw_workbook(tmp_path / "far.xlsx", {"referrals": far}), today=TODAY).errors
    assert "702 columns" in error.message, error.message


def test_rows_inside_rows_are_refused_and_a_tag_longer_than_a_chunk_is_read_whole(tmp_path, monkeypatch):
    # a second review: 20,000 nested rows (the reader counts rows by their ends) asked for 10 GB, and
    # a cell tag longer than a chunk was cut, its reference never seen
    nested = sheet_xml(corpus.referrals(1)).replace("</sheetData>", '<row r="5">' * 50 + "<c><v>1</v></c>"
                                                    + "</row>" * 50 + "</sheetData>")
    (error,) = read_workbook(raw_workbook(tmp_path / "nested.xlsx", {"referrals": nested}), today=TODAY).errors
    assert "has cells down to row 1,000,000,000" in error.message
    monkeypatch.setattr(filesafety, "CHUNK", 4096)
    long = sheet_xml(corpus.referrals(1)).replace(
        "</sheetData>", '<row r="999999"><c ' + 'a="b" ' * 5000 + 'r="ZZ999999"><v>1</v></c></row></sheetData>')
    (error,) = read_workbook(raw_workbook(tmp_path / "long.xlsx", {"referrals": long}), today=TODAY).errors
    assert "702 columns" in error.message


@pytest.mark.parametrize("part, head", [("xl/worksheets/sheet1.xml/", ""), ("xl/./worksheets/sheet1.xml", "x")])
def test_a_part_the_checks_would_not_have_looked_at_is_measured(tmp_path, part, head):
    # a second review: a part named with a trailing "/" (skipped as a folder), or one that does not
    # begin like XML, was never measured, and the reader, sent there, read it
    far = head + sheet_xml(corpus.referrals(1)).replace(
        "</sheetData>", '<row r="999999"><c r="ZZ999999"><v>1</v></c></row></sheetData>')
    path = raw_workbook(tmp_path / "other.xlsx", {"referrals": sheet_xml(corpus.referrals(1))}, extra={part: far})
    (error,) = read_workbook(path, today=TODAY).errors
    assert f"has a part ({part}) whose cells span 999,999 rows by 702 columns" in error.message


def test_the_fast_search_for_unusual_cells_finds_what_the_look_ahead_finds():
    """The scanner's RE2 search (no look-ahead) against Python's expression with its look-ahead:
    pieces of cell tags put together at random, buffers cut anywhere, with and without a
    namespace prefix; then cases worked out by hand."""
    import random

    rnd = random.Random(7)
    pieces = [b"<c", b"<c ", b" ", b"r", b"=", b'"', b"A", b"Z", b"a", b"AB", b"1", b"0", b"123456", b"1234567", b">",
              b"/", b"\t", b"\n", b"\r", b"x:", b"<x:c", b"\xc3\xa9", b"\xff", b'r="', b'<c r="', b'<c r="B12"',
              b'<c r="AA1"', b"<row>", b"'"]
    for prefix in (b"", b"x:", b"a.b-c:"):
        scanner = filesafety._Scanner(prefix)
        for _ in range(10_000):
            buf = b"".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 12)))
            assert scanner._any(buf) == (scanner.not_simple.search(buf) is not None), (prefix, buf)
    scanner = filesafety._Scanner(b"")
    for buf, unusual in [(b'<c r="A1" t="s"><v>0</v></c><c r="Z999999"/>', False), (b'<c r="AA1">', True),
                         (b'<c r="A1234567">', True), (b"<c><v>1</v></c>", True), (b'<c t="s" r="A1">', True),
                         (b'<col min="1"/><cols>', False), (b'<c r="a1">', True), (b'<c r="A1', True), (b"<c ", True)]:
        assert scanner._any(buf) == unusual, buf


def test_a_loose_bound_is_measured_exactly_before_refusing(tmp_path, monkeypatch):
    """One cell far right (column ZZ) on row 1 and 20,000 ordinary rows read in small chunks: the
    cheap bounds (702 columns x 999,999 rows) are too loose, so the sheet is measured exactly
    (702 x 20,001 cells, within the limit) and loads."""
    monkeypatch.setattr(filesafety, "CHUNK", 70_000)
    rows = corpus.referrals(20_000)
    xml = sheet_xml(rows).replace('<row r="1">', '<row r="1"><c r="ZZ1" t="inlineStr"><is><t>far</t></is></c>', 1)
    path = raw_workbook(tmp_path / "far_ok.xlsx", {"referrals": xml})
    measured = []
    exact = filesafety._exact_extent
    monkeypatch.setattr(filesafety, "_exact_extent", lambda chunks: measured.append(exact(chunks)) or measured[-1])
    result = read_workbook(path, today=TODAY)
    assert result.ok, [p.message for p in result.errors]
    assert result.row_counts == {"referrals": 20_000}
    assert measured == [(20_001, 702)]


def test_chunks_read_ahead_come_in_order_with_their_error_and_stop_when_closed():
    """`filesafety.read_ahead`: the same chunks in the same order; an error of the source after
    the chunks before it; a consumer that stops early stops the thread, which closes the source."""
    import threading

    assert list(filesafety.read_ahead(iter([b"a", b"b", b"c"]))) == [b"a", b"b", b"c"]

    def failing():
        yield b"one"
        yield b"two"
        raise filesafety.FileRefused("expands to more than the size it declares")

    got = []
    with pytest.raises(filesafety.FileRefused, match="more than the size it declares"):
        for chunk in filesafety.read_ahead(failing()):
            got.append(chunk)
    assert got == [b"one", b"two"]

    made, closed = [], threading.Event()

    def endless():
        try:
            while True:
                made.append(1)
                yield b"x"
        finally:
            closed.set()

    ahead = filesafety.read_ahead(endless(), depth=2)
    assert next(ahead) == b"x"
    ahead.close()  # returns once the thread has stopped
    assert closed.is_set()
    assert not any(t.name == "csc-inflate" and t.is_alive() for t in threading.enumerate())
    assert len(made) <= 5  # at most a few ahead, never the endless rest


def test_a_hidden_sheet_read_is_warned_of(tmp_path):
    """A review's workbook: a visible "Referrals Nov" (not a sheet name the extract knows, so
    ignored) and a hidden "referrals" of last month's data, which was read without a word."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    visible = wb.create_sheet("Referrals Nov")
    for row in corpus.referrals(2):
        visible.append(row)
    stale = wb.create_sheet("referrals")
    for row in corpus.referrals(1):
        stale.append(row)
    stale.sheet_state = "hidden"
    path = tmp_path / "hidden.xlsx"
    wb.save(path)
    result = read_workbook(path, today=TODAY)
    assert result.ok and result.row_counts == {"referrals": 1}
    (hidden,) = [p for p in result.warnings if p.code == "sheet_hidden"]
    assert hidden.message.startswith('Sheet "referrals" is hidden in Excel, and was read as the "referrals" sheet')
    assert any(p.code == "sheet_ignored" and '"Referrals Nov"' in p.message for p in result.warnings)
    assert not [p for p in read(tmp_path, {"referrals": corpus.referrals(1)}, name="v.xlsx").warnings
                if p.code == "sheet_hidden"]
    assert "(unhide it to see it, or delete it if it is an old copy)" in hidden.message
    # "very hidden" (a review: Excel's Unhide does not list it, so "unhide it" could not be followed)
    stale.sheet_state = "veryHidden"
    wb.save(path)
    (hidden,) = [p for p in read_workbook(path, today=TODAY).warnings if p.code == "sheet_hidden"]
    assert hidden.message.endswith('(it is "very hidden", so Excel\'s Unhide does not list it: show it from the '
                                   "Visual Basic editor (Alt+F11, its Visible property), or delete it if it is an old "
                                   "copy).")


def test_a_chart_sheet_named_as_a_sheet_of_the_extract_is_said_to_be_a_chart(tmp_path):
    """Excel's "Move Chart" to a new sheet, named "Workforce", beside the rows on "Workforce data":
    it was reported as empty, which sent the analyst looking for rows in the chart."""
    import openpyxl
    from openpyxl.chart import BarChart, Reference

    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "Workforce data"
    for row in corpus.referrals(3):
        data.append(row)
    referrals = wb.create_sheet("Referrals")
    for row in corpus.referrals(2):
        referrals.append(row)
    chart = BarChart()
    chart.add_data(Reference(data, min_col=1, min_row=1, max_row=4))
    wb.create_chartsheet("Workforce").add_chart(chart)
    path = tmp_path / "chart.xlsx"
    wb.save(path)
    result = read_workbook(path, today=TODAY)
    assert result.ok and result.row_counts == {"referrals": 2}
    (said,) = [p for p in result.warnings if p.sheet == "Workforce"]
    assert said.code == "sheet_chart"
    assert said.message == ('Sheet "Workforce" is a chart, not a sheet of rows, so nothing was read from it. If the '
                            'records are meant to be loaded, put them on an ordinary worksheet named "Workforce" (give '
                            "the chart another name) and upload again.")
