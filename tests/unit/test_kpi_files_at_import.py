"""A KPI's definition and its stored values move together (csc/kpis.py, `files_key`): in the
dashboard the KPI files are read once per data version, and an import through the dashboard
recomputes the KPIs inside a run whose data version is the one before the import. The import
must compute with the files as they are then, not as the run first read them, or the pages read
the new definition beside values made by the old one until the next import.

By hand, on the small council of tests/app/conftest.py: July 2011's transfers all areas took
1, 1, 1 (South 2, North 1) and 6 working days (North); accepted within 10 working days: 4 of 4
= 100% (within 5: 3 of 4 = 75%)."""

from __future__ import annotations

import datetime as dt
import shutil

from csc import config, kpis
from csc.store import Store
from tests.app.conftest import REFERRAL, TRANSFER, build_council
from tests.conftest import write_xlsx

D = dt.date
NAME = "transfer_timely_pct"


def test_an_import_in_a_dashboard_run_computes_with_the_kpi_files_as_they_are(tmp_path, monkeypatch):
    queries = tmp_path / "queries"
    shutil.copytree(config.QUERIES, queries)
    monkeypatch.setenv("CSC_QUERIES", str(queries))
    monkeypatch.setattr(kpis, "_by_key", None)
    db = build_council(tmp_path)  # outside the dashboard: files read at every call

    # a dashboard run at the data version before the import (`ui.version`, read once a run)
    version = ["before"]
    monkeypatch.setattr(kpis, "files_key", lambda: version[0])
    assert kpis.get(NAME).title == "Transfers accepted within 5 working days"  # a page view read the files

    # the KPI is edited on disk while the server runs: within 10 working days
    path = queries / "kpis" / f"{NAME}.sql"
    sql = path.read_text().replace("(t.wait_days <= 5)", "(t.wait_days <= 10)")
    path.write_text(sql.replace("-- title: Transfers accepted within 5 working days",
                                "-- title: Transfers accepted within 10 working days"))

    # the Upload page loads August in that run (the run's data version moves only after the commit)
    transfers = [TRANSFER] + [[f"T-AUG-{i}", f"C-T-AUG-{i}", "Intake", "South A", D(2011, 8, 8), D(2011, 8, 9), "South"]
                              for i in range(2)]
    referrals = [REFERRAL] + [[f"R-AUG-{i}", f"C-R-AUG-{i}", D(2011, 8, 10), "South", "South A"] for i in range(7)]
    extract = write_xlsx(tmp_path / "extract-2011-08.xlsx", {"Referrals": referrals, "Transfers": transfers})
    with Store.open(db) as store:
        result = store.import_file(extract, "2011-08", user="test", imported_at=dt.datetime(2011, 9, 6, 9))
        assert result.status == "loaded", [p.message for p in result.problems]
        version[0] = "after"  # the commit moved the data version: the pages read the files again
        assert kpis.get(NAME).title == "Transfers accepted within 10 working days"
        july = store.cursor().execute(
            "select value from kpi_results where kpi = $k and period = '2011-07' and area is null", {"k": NAME}
        ).fetchall()
    assert july == [(100.0,)]  # the definition the pages now name: 4 of 4 within 10 working days
