"""Board suppression, safe exports and the roles file, on tiny hand-made frames."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from csc import exports, privacy
from csc.access import identity, role_for


def test_rate_with_small_numerator_is_suppressed():
    df = pd.DataFrame({"numerator": [3.0], "denominator": [40.0], "value": [7.5]})
    out = privacy.suppress(df)
    assert out["suppressed"].tolist() == [True]
    assert out[["numerator", "denominator", "value"]].isna().all(axis=None)


def test_rate_with_small_denominator_is_suppressed():
    df = pd.DataFrame({"numerator": [0.0], "denominator": [5.0], "value": [0.0]})
    assert privacy.suppress(df)["suppressed"].tolist() == [True]


def test_zero_and_six_are_not_suppressed():
    # 0 of 6: neither 0 nor 6 is in 1..5, so the 0% is shown
    df = pd.DataFrame({"numerator": [0.0, 6.0], "denominator": [6.0, 12.0], "value": [0.0, 50.0]})
    out = privacy.suppress(df)
    assert out["suppressed"].tolist() == [False, False]
    assert out["value"].tolist() == [0.0, 50.0]


def test_an_fte_below_one_is_a_person_and_floating_point_noise_does_not_lift_five_past_the_rule():
    # vacancies of 0.6 FTE out of 23.3 (one part-time post), 5.000000000000007 FTE out of 72 (the
    # sum of FTEs that is 5 but for floating point, seen on the demo council), 5.1 of 72 and a gap
    # of 2e-16 FTE (zero but for floating point: nothing to hide)
    df = pd.DataFrame({"numerator": [0.6, 5.000000000000007, 5.1, 2e-16],
                       "denominator": [23.3, 72.0, 72.0, 40.0], "value": [2.6, 6.9, 7.1, 0.0]})
    assert privacy.suppress(df)["suppressed"].tolist() == [True, True, False, False]
    assert [privacy.is_small(v) for v in (0.6, 5.000000000000007, 5.1, 2e-16, 0, None, 1, 5, 6)] == \
        [True, True, False, False, False, False, True, True, False]


def test_a_count_of_five_is_shown_as_c_and_six_is_not():
    df = pd.DataFrame({"area": ["North", "South", "East"], "referrals": [5, 6, 0]})
    out = privacy.suppress_counts(df, ["referrals"])
    assert out["referrals"].tolist() == ["c", 6, 0]


def test_sum_kpi_with_only_a_value_is_suppressed_on_the_value():
    df = pd.DataFrame({"value": [4.0, 9.0]})
    assert privacy.suppress(df)["suppressed"].tolist() == [True, False]


def test_formula_text_is_neutralised_in_csv():
    df = pd.DataFrame({"note": ['=HYPERLINK("http://evil","x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "fine"]})
    text = exports.to_csv_bytes(df).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[1].startswith("\"'=HYPERLINK") or lines[1].startswith("'=HYPERLINK")
    assert "'+1" in text and "'-2" in text and "'@SUM(A1)" in text
    assert "fine" in text


def test_formula_text_is_inert_in_excel():
    df = pd.DataFrame({"note": ['=HYPERLINK("http://evil","x")', "=1+1"]})
    wb = openpyxl.load_workbook(io.BytesIO(exports.to_excel_bytes(df)))
    ws = wb.active
    assert ws["A2"].data_type == "s" and ws["A2"].value.startswith("'=")
    assert ws["A3"].value == "'=1+1"


def test_role_for_matches_address_then_domain_case_insensitively():
    roles = {"users": {"Director@Council.gov.uk": "director"}, "domains": {"council.gov.uk": "board"}}
    assert role_for("director@council.gov.uk", roles) == "director"
    assert role_for("someone@COUNCIL.gov.uk", roles) == "board"
    assert role_for("someone@elsewhere.org", roles) is None
    assert role_for(None, roles) is None


def test_unknown_role_name_in_file_gives_no_access():
    assert role_for("a@b.org", {"users": {"a@b.org": "superuser"}}) is None


def test_data_timeliness_days_are_not_suppressed_but_counts_are():
    from csc import kpis

    # 3 working days from month end to extract: days, not people, so the board sees 3
    days = pd.DataFrame({"numerator": [3.0], "denominator": [float("nan")], "value": [3.0]})
    out = privacy.suppress_kpi(days, kpis.get("data_timeliness_days"))
    assert out["value"].tolist() == [3.0] and out["suppressed"].tolist() == [False]
    # 3 transfers waiting: a small count of children, shown as c
    waiting = pd.DataFrame({"numerator": [3.0], "denominator": [float("nan")], "value": [3.0]})
    out = privacy.suppress_kpi(waiting, kpis.get("transfers_waiting_count"))
    assert out["suppressed"].tolist() == [True] and out["value"].isna().all()


ROLES = {"users": {"ana@council.gov.uk": "analyst"}, "domains": {"members.council.gov.uk": "board"},
         "subjects": {"6F1C0C1E-0000-4000-8000-000000000001": "director", "sub-stable-7": "analyst"}}


def test_an_unverified_email_is_refused_even_when_mapped():
    assert identity({"email": "ana@council.gov.uk", "email_verified": True}, ROLES) == (
        "analyst", "ana@council.gov.uk", None)
    assert identity({"email": "ana@council.gov.uk", "email_verified": False}, ROLES) == (
        None, "ana@council.gov.uk", "unverified")
    assert identity({"email": "ana@council.gov.uk", "email_verified": "false"}, ROLES)[0] is None
    assert identity({"email": "x@members.council.gov.uk", "email_verified": False}, ROLES)[0] is None


def test_a_missing_verification_claim_is_accepted_unless_the_roles_file_requires_it():
    assert identity({"email": "ana@council.gov.uk"}, ROLES)[0] == "analyst"
    assert identity({"email": "ana@council.gov.uk"}, {**ROLES, "require_verified_email": True})[:3:2] == (
        None, "unverified")


def test_roles_can_be_mapped_on_a_stable_claim():
    # Entra ID's object id (any case), whatever the e-mail says or whether it is verified
    assert identity({"oid": "6f1c0c1e-0000-4000-8000-000000000001", "email": "renamed@council.gov.uk",
                     "email_verified": False}, ROLES) == ("director", "renamed@council.gov.uk", None)
    assert identity({"sub": "sub-stable-7"}, ROLES) == ("analyst", "sub-stable-7", None)
    assert identity({"sub": "sub-unknown", "email": "nobody@elsewhere.org"}, ROLES) == (
        None, "nobody@elsewhere.org", "not mapped")
    assert identity({"sub": "sub-stable-7"}, {**ROLES, "subjects": {"sub-stable-7": "superuser"}})[0] is None
