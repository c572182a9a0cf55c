"""`python -m csc refresh`: recompute every KPI and check of an existing database, audited, with
`--json` like the other commands; and never a new empty database for a mistyped path."""

from __future__ import annotations

import datetime as dt
import json

from csc import cli
from csc.store import Store


def test_refresh_refuses_a_database_that_does_not_exist(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "csc.duckdb"
    assert cli.main(["refresh", "--db", str(missing)]) == 2
    assert "no database" in capsys.readouterr().err
    assert not missing.exists() and not missing.parent.exists()


def test_refresh_recomputes_the_figures_and_says_so(store, load, capsys):
    # two transfers accepted in April 2011: Mon 4 → Tue 5 April (1 working day, timely) and
    # Mon 4 → Tue 12 April (6, late): transfer_timely_pct 1 of 2 = 50%
    d = dt.date.fromisoformat
    load({"Transfers": [["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date",
                         "area_office"],
                        ["T1", "C1", "Intake", "N1", d("2011-04-04"), d("2011-04-05"), "North"],
                        ["T2", "C2", "Intake", "N1", d("2011-04-04"), d("2011-04-12"), "North"]]},
         period="2011-04")
    db = store.path
    store.cursor().execute("delete from kpi_results")  # as a database made before the KPI files existed
    store.close()
    assert cli.main(["refresh", "--db", str(db), "--json", "--user", "tester"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["latest_period"] == "2011-04" and out["kpi_rows"] > 0
    with Store.open(db) as again:
        cur = again.cursor()
        value = cur.execute("select value from kpi_results where kpi = 'transfer_timely_pct' and period = '2011-04' "
                            "and area is null").fetchall()
        audit = cur.execute("select user_name, role, detail from audit_log where action = 'refresh'").fetchall()
    assert value == [(50.0,)]
    assert [(u, r) for u, r, _ in audit] == [("tester", "operator")]
    assert json.loads(audit[0][2])["kpi_rows"] == out["kpi_rows"]
    assert cli.main(["refresh", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("Recomputed 19 KPIs")
