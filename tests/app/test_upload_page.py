"""The Upload and Imports pages (AppTest): the guardrail warnings before loading, the reporting
month's default, the problems table, and the page showing the new state at once after a load or
a rollback. Each test has its own small database of hand-made workbooks: March 2012 loaded."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest

from csc.store import Store
from tests.app.test_pages import page, texts
from tests.conftest import external, write_xlsx

D = dt.date
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TRANSFER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
ASSESSMENT = ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "area_office", "worker_id"]
MARCH = [TRANSFER, ["T1", "C1", "Intake", "North A", D(2012, 3, 5), D(2012, 3, 6), "North"],
         ["T2", "C2", "Intake", "North A", D(2012, 3, 12), D(2012, 3, 13), "North"]]


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "csc.duckdb"
    with Store.open(path) as store:
        wb = write_xlsx(tmp_path / "extract-2012-03.xlsx", {"Transfers": MARCH})
        result = store.import_file(wb, "2012-03", user="Ann", imported_at=dt.datetime(2012, 4, 3, 9, 15))
        assert result.status == "loaded"
    return path


def workbook(sheets: dict) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


APRIL = {"Transfers": [TRANSFER, ["T3", "C3", "Intake", "North A", D(2012, 4, 16), D(2012, 4, 17), "North"]],
         "Assessments": [ASSESSMENT, ["A1", "C4", "Initial", D(2012, 4, 2), D(2012, 4, 5), "North", "W1"]]}


def upload(at, name: str, data: bytes):
    at.file_uploader[0].set_value((name, data, XLSX)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(markdown: str) -> str:
    """What a person reads: the Markdown source without its backslash escapes (user and file text
    is escaped so that it stays text, issue 14)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def warnings(at) -> list[str]:
    return [shown(w.value) for w in at.warning]


def test_the_month_defaults_to_the_one_after_the_latest_loaded(db):
    at = page(db, "app_pages/upload.py")
    assert at.file_uploader[0].label == "Extract workbook (.xlsx, .xlsm), or an Annex A, SSD or census file"
    assert at.text_input(key="upload_period").value == "2012-04"  # not the clock's month


def test_the_month_follows_the_files_dates(db):
    june = {"Transfers": [TRANSFER, ["T9", "C9", "Intake", "North A", D(2012, 6, 4), D(2012, 6, 5), "North"]]}
    at = upload(page(db, "app_pages/upload.py"), "june.xlsx", workbook(june))
    assert at.text_input(key="upload_period").value == "2012-06"
    assert at.button(key="load").label == "Load it as the extract for 2012-06"


def test_warnings_name_their_consequence_before_loading(db):
    at = upload(page(db, "app_pages/upload.py"), "extract-2012-04.xlsx", workbook(APRIL))
    # plain words on the page (the message's own Markdown marks dropped, issue 14: file text stays text)
    assert ('child_seen is missing from sheet "Assessments": Assessments where the child was seen will have no '
            "value for 2012-04 from this file.") in warnings(at)
    # the analyst says June: the dates and the file name both say April, and April and May are skipped
    at.text_input(key="upload_period").set_value("2012-06").run()
    said = "\n".join(warnings(at))
    assert "4 of the file's 4 event dates fall in 2012-04, not 2012-06" in said
    assert 'The file name "extract-2012-04.xlsx" names 2012-04, not 2012-06' in said
    assert "2012-03 is loaded but 2012-04 to 2012-05 are not" in said
    assert at.button(key="load").label == "Load it as the extract for 2012-06"  # warnings never block


def test_a_month_already_loaded_shows_the_difference_before_replacing(db):
    # T1 the same, T2 accepted a day later, T5 new: 1 changes, 1 new, 0 gone
    rows = [TRANSFER, MARCH[1], ["T2", "C2", "Intake", "North A", D(2012, 3, 12), D(2012, 3, 14), "North"],
            ["T5", "C5", "Intake", "North A", D(2012, 3, 19), D(2012, 3, 20), "North"]]
    at = upload(page(db, "app_pages/upload.py"), "march-fixed.xlsx", workbook({"Transfers": rows}))
    assert at.text_input(key="upload_period").value == "2012-03"  # where its dates point
    assert ('2012-03 is already loaded (import 1, 3 Apr 2012 by Ann, from "extract-2012-03.xlsx"): this load '
            "updates it; 1 row changes, 1 is new, 0 are not in this file and stay current as import 1 loaded "
            "them.") in warnings(at)
    assert at.button(key="load").label == "Update the extract for 2012-03"


def test_the_problems_table_leads_with_the_problem_and_shows_a_blank_as_blank(db):
    rows = [TRANSFER, ["T7", "C7", "Intake", None, D(2012, 4, 2), D(2012, 4, 3), "North"]]
    at = upload(page(db, "app_pages/upload.py"), "bad.xlsx", workbook({"Transfers": rows}))
    (table,) = [d.value for d in at.dataframe if "Problem" in d.value.columns]
    assert list(table.columns) == ["Problem", "Sheet", "Row", "Column", "Value found", "Expected"]
    first = table.iloc[0]
    assert (first["Sheet"], int(first["Row"]), first["Column"], first["Value found"]) == (
        "Transfers", 2, "to_team", "(blank)")
    assert "None" not in table.astype(str).to_string()


def test_after_a_load_every_table_and_control_shows_the_new_state(db):
    at = upload(page(db, "app_pages/upload.py"), "extract-2012-04.xlsx", workbook(APRIL))
    at.button(key="load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Loaded import 2 for 2012-04: 2 rows in 2 sheet(s). The dashboard now shows it." in shown(texts(at))
    assert at.file_uploader[0].value is None  # a fresh uploader: the file is not offered again
    assert not at.button  # no button to load it twice
    assert at.text_input(key="upload_period").value == "2012-05"  # the next month due
    (recent,) = [d.value for d in at.dataframe if "status" in d.value.columns]
    assert recent.iloc[0][["import_id", "period", "status"]].tolist() == [2, "2012-04", "Loaded"]  # in words (issue 18)


def test_after_a_rollback_the_history_checkbox_and_button_show_it_at_once(db):
    at = page(db, "app_pages/imports.py")
    at.checkbox(key="rollback_confirm_1").check().run()
    assert not at.button(key="rollback").disabled
    at.button(key="rollback").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Import 1 (2012-03) was rolled back; earlier versions of its records are current again." in shown(texts(at))
    (history,) = [d.value for d in at.dataframe if "status_label" in d.value.columns]
    assert history["status_label"].tolist() == ["Rolled back"]  # in words (issue 18)
    assert "Every import is already rolled back." in shown(texts(at))  # nothing left to roll back: no checkbox, no button
    assert not at.checkbox and not at.button


def test_after_a_rollback_the_choice_is_a_new_widget_showing_what_the_confirmation_names(db):
    # two imports loaded; rolling back the newer must leave a choice whose shown value is the one the
    # confirmation names (the old widget kept showing the rolled-back import while the page confirmed
    # another), so the choice is a new widget after each rollback
    at = upload(page(db, "app_pages/upload.py"), "extract-2012-04.xlsx", workbook(APRIL))
    at.button(key="load").click().run()
    at = page(db, "app_pages/imports.py")
    choice = at.selectbox(key="rollback_choice_0")
    assert choice.value == 2
    at.checkbox(key="rollback_confirm_2").check().run()
    at.button(key="rollback").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [w for w in at.selectbox if w.key == "rollback_choice_0"]  # the old widget is gone
    choice = at.selectbox(key="rollback_choice_1")
    assert choice.value == 1 and choice.options == ["1 · 2012-03 · extract-2012-03.xlsx"]
    confirm = at.checkbox(key="rollback_confirm_1")
    assert confirm.label == "Yes, roll back import 1" and not confirm.value


def _census() -> Path:
    return external("csww/liia-tools_social_work_workforce_2022.xml")


def test_a_workforce_census_is_offered_checked_and_loaded_as_its_census_month(db):
    # the real DfE census sample (30/09/2022): it loads as 2022-09 whatever month is named, so the page
    # offers that month, fixed, and compares it with what is loaded for that month; it offered
    # 2012-04 (the month after the latest loaded) and its button said so, then stored 2022-09
    at = page(db, "app_pages/upload.py")
    at.file_uploader[0].set_value((_census().name, _census().read_bytes(), "text/xml")).run()
    assert not at.exception, [e.value for e in at.exception]
    month = at.text_input(key="upload_period")
    assert month.value == "2022-09" and month.disabled
    assert [b.label for b in at.button if b.key == "load"] == ["Load it as the extract for 2022-09"]
    said = shown(texts(at))
    # the warnings are for 2022-09: ten years after the latest month loaded, said before the load
    assert "2012-04 to 2022-08 are not" in said and "Load it as the extract for 2012-04" not in said
    at.button(key="load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Loaded import 2 for 2022-09" in shown(texts(at))


def test_the_run_that_loads_draws_the_load_button_disabled(db, tmp_path):
    # a second click mid-load started another run, which stopped the load and froze the bar: the run
    # that loads shows the button disabled. March's own file again: nothing to change, so the page
    # stays on that run
    at = upload(page(db, "app_pages/upload.py"), "extract-2012-03.xlsx", (tmp_path / "extract-2012-03.xlsx").read_bytes())
    assert not at.button(key="load").disabled
    at.button(key="load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "This file is already loaded for 2012-03 (import 1); nothing was changed." in shown(texts(at))
    assert at.button(key="load").disabled


def test_an_upload_is_read_once_from_its_check_to_its_load(db, monkeypatch):
    """Checked on arrival, compared with the month the page chose and with another typed, loaded:
    one read of the file (it was three, each as costly as the load's own)."""
    reads: list[str] = []
    real = Store._read
    monkeypatch.setattr(Store, "_read", lambda self, path, name, today: reads.append(name) or real(self, path, name, today))
    at = upload(page(db, "app_pages/upload.py"), "extract-2012-04.xlsx", workbook(APRIL))
    at.text_input(key="upload_period").set_value("2012-03").run()  # a month already loaded: its warnings
    assert any("2012-03" in w for w in warnings(at))
    at.text_input(key="upload_period").set_value("2012-04").run()
    at.button(key="load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Loaded import 2 for 2012-04: 2 rows in 2 sheet(s)." in shown(texts(at))
    assert reads == ["extract-2012-04.xlsx"]


def test_a_month_that_has_not_begun_or_a_file_of_no_records_is_refused_before_the_load_button(db):
    """Said on the check, not after pressing Load: a month typed a year ahead (a review loaded
    2027-01 on 3 December 2026, the latest month everywhere from then on) and a workbook of empty
    sheets (loaded as a month of nothing)."""
    at = upload(page(db, "app_pages/upload.py"), "extract-2012-04.xlsx", workbook(APRIL))
    later = f"{dt.date.today().year + 1}-01"
    at.text_input(key="upload_period").set_value(later).run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"cannot be loaded as {later}: The month {later} has not begun yet" in shown(texts(at))
    assert not [b for b in at.button if b.key == "load"]
    at = upload(page(db, "app_pages/upload.py"), "empty.xlsx", workbook({"Transfers": [TRANSFER]}))
    assert "The file holds no records" in shown(texts(at))
    assert not [b for b in at.button if b.key == "load"]
