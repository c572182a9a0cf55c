"""A generator of Standard Safeguarding Dataset tables (the SSD column names of
../shared/external-data/ssd/schema), for loading tests at scale: `write_zip(path, children)`
writes one CSV per table into a .zip, as an analyst exporting the SSD would."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zipfile
from pathlib import Path

TEAMS = [("D1", "Assessment Team North"), ("D2", "Safeguarding South"), ("D3", "Children in Need East")]


def tables(children: int, seed: int = 1, last: dt.date = dt.date(2024, 3, 31)) -> dict[str, list[dict]]:
    rnd = random.Random(seed)
    first = last - dt.timedelta(days=3 * 365)
    workers = [f"W{i}" for i in range(1, max(10, children // 15))]

    def day(lo: dt.date = first, hi: dt.date = last) -> dt.date:
        return lo + dt.timedelta(days=rnd.randrange(max(1, (hi - lo).days)))

    out: dict[str, list[dict]] = {k: [] for k in ("ssd_department", "ssd_professionals", "ssd_cin_episodes",
                                                     "ssd_cin_assessments", "ssd_cp_plans", "ssd_involvements",
                                                     "ssd_initial_cp_conference")}
    out["ssd_department"] = [{"dept_team_id": i, "dept_team_name": n, "dept_team_parent_id": "", "dept_team_parent_name": ""}
                             for i, n in TEAMS]
    for i, w in enumerate(workers):
        out["ssd_professionals"].append({
            "prof_professional_id": w, "prof_staff_id": f"S{i}", "prof_professional_name": f"Worker {i}",
            "prof_social_worker_registration_no": f"SW{100000 + i}" if rnd.random() < 0.85 else "",
            "prof_professional_job_title": "Social Worker", "prof_professional_caseload": rnd.randrange(25),
            "prof_professional_department": rnd.choice(TEAMS)[0], "prof_full_time_equivalency": rnd.choice([1, 1, 0.8, 0.5]),
            "prof_agency_worker_flag": "PLACEHOLDER_DATA"})
    n_ref = n_ass = n_plan = n_inv = 0
    for c in range(children):
        person = f"P{c}"
        for _ in range(rnd.choice([1, 1, 1, 2, 3])):
            n_ref += 1
            ref_date = day()
            team = rnd.choice(TEAMS)[0]
            out["ssd_cin_episodes"].append({
                "cine_referral_id": f"R{n_ref}", "cine_person_id": person, "cine_referral_date": ref_date.isoformat(),
                "cine_cin_primary_need_code": "N1", "cine_referral_source_code": "1A",
                "cine_referral_source_desc": "Police", "cine_referral_nfa": "N", "cine_close_reason": "",
                "cine_close_date": "", "cine_referral_team": team, "cine_referral_worker_id": rnd.choice(workers)})
            if rnd.random() < 0.8:
                n_ass += 1
                start = min(last, ref_date + dt.timedelta(days=rnd.randrange(10)))
                done = start + dt.timedelta(days=rnd.randrange(5, 70))
                out["ssd_cin_assessments"].append({
                    "cina_assessment_id": f"A{n_ass}", "cina_person_id": person, "cina_referral_id": f"R{n_ref}",
                    "cina_assessment_start_date": start.isoformat(),
                    "cina_assessment_auth_date": done.isoformat() if done <= last else "1900-01-01",
                    "cina_assessment_child_seen": rnd.choice(["Y", "Y", "N", ""]), "cina_assessment_team": team,
                    "cina_assessment_worker_id": rnd.choice(workers)})
            worker = rnd.choice(workers)
            n_inv += 1
            inv_start = ref_date
            inv_end = inv_start + dt.timedelta(days=rnd.randrange(30, 400))
            out["ssd_involvements"].append({
                "invo_involvements_id": f"I{n_inv}", "invo_professional_id": worker,
                "invo_professional_role_id": rnd.choice(["CW", "CW", "CW", "FSW"]), "invo_professional_team": team,
                "invo_involvement_start_date": inv_start.isoformat(),
                "invo_involvement_end_date": inv_end.isoformat() if inv_end <= last else "",
                "invo_worker_change_reason": rnd.choice(["", "MANAGE", "LEFTRL", "ORGRST"]), "invo_person_id": person,
                "invo_referral_id": f"R{n_ref}"})
            if rnd.random() < 0.15:
                n_plan += 1
                p_start = min(last, ref_date + dt.timedelta(days=rnd.randrange(15, 60)))
                p_end = p_start + dt.timedelta(days=rnd.randrange(90, 700))
                icpc = f"C{n_plan}" if rnd.random() < 0.7 else ""
                out["ssd_cp_plans"].append({
                    "cppl_cp_plan_id": f"PL{n_plan}", "cppl_referral_id": f"R{n_ref}", "cppl_icpc_id": icpc,
                    "cppl_person_id": person, "cppl_cp_plan_start_date": p_start.isoformat(),
                    "cppl_cp_plan_end_date": p_end.isoformat() if p_end <= last else "1900-01-01",
                    "cppl_cp_plan_initial_category": rnd.choice(["Neglect", "Emotional abuse", "Physical abuse"]),
                    "cppl_cp_plan_ola": "N", "cppl_cp_plan_latest_category": "Neglect"})
                if icpc:
                    out["ssd_initial_cp_conference"].append({
                        "icpc_icpc_id": icpc, "icpc_icpc_meeting_id": f"M{n_plan}", "icpc_s47_enquiry_id": "",
                        "icpc_person_id": person, "icpc_cp_plan_id": f"PL{n_plan}", "icpc_referral_id": f"R{n_ref}",
                        "icpc_icpc_transfer_in": "N", "icpc_icpc_target_date": p_start.isoformat(),
                        "icpc_icpc_date": p_start.isoformat(), "icpc_icpc_outcome_cp_flag": "Y",
                        "icpc_icpc_outcome_json": "", "icpc_icpc_team": rnd.choice(TEAMS)[0],
                        "icpc_icpc_worker_id": rnd.choice(workers)})
    return out


def write_zip(path: Path, children: int, seed: int = 1) -> dict[str, int]:
    """Write the tables as CSV files in a .zip; returns the row count of each table."""
    data = tables(children, seed)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, rows in data.items():
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["x"])
            writer.writeheader()
            writer.writerows(rows)
            zf.writestr(f"{name}.csv", buf.getvalue())
    return {k: len(v) for k, v in data.items()}
