"""A new KPI is one `.sql` file and a plan entry (docs/contributing.md, "Adding a KPI").

On a copy of `queries/` ($CSC_QUERIES) one KPI file is added, and the KPI named in a copy of the
action plan; opening a database made before the KPI existed computes it (so does `python -m csc
refresh`), and it is then on its page (Practice, Transfers), in the board pack, in `kpis --json` and in the
generated docs. Nothing else is touched: no Python list, no docs edit by hand.

The figures, by hand from tests/app/conftest.py: transfers are requested on a Monday and
accepted the next day (1 working day) or the Tuesday a week later (6). Accepted by the next
working day in July 2011: South 2 of 2 (100%), North 1 of 2 (50%), all areas 3 of 4 (75%);
in June: South 3/3, North 0/3, all 3/6 (50%).
"""

from __future__ import annotations

import json
import os
import shutil

import duckdb
import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from csc import cli, config, pages, ui
from tests.app.conftest import build_council

NAME = "transfer_next_day_pct"
TITLE = "Transfers accepted by the next working day"
NEW_KPI = f"""\
-- kpi: {NAME}
-- title: {TITLE}
-- action: A1
-- unit: pct
-- direction: higher
-- target: 60
-- aggregate: ratio
-- short_title: Accepted next day
-- denominator: cases
-- page: practice
-- section: Transfers
-- order: 11
-- empty: No transfers were accepted in these months.
-- description: Of the transfers accepted in the month, the percentage accepted on the day of the
-- description: request or the next working day. Area: the receiving area office.
with

months as (select * from kpi_months),

final as (
    select
        months.period,
        t.area_office as area,
        t.to_team as team,
        t.transfer_id as record_id,
        t.child_id,
        null::varchar as worker_id,
        (t.wait_days <= 1)::int::double as numerator,
        1.0 as denominator,
    from stg_transfers_accepted as t
    inner join months on t.accepted_date between months.m0 and months.m1
)

select * from final
"""


@pytest.fixture
def council(tmp_path, monkeypatch):
    """The small council, loaded before the new KPI exists; then the KPI and its plan entry."""
    db = build_council(tmp_path)
    queries = tmp_path / "queries"
    shutil.copytree(config.QUERIES, queries)
    (queries / "kpis" / f"{NAME}.sql").write_text(NEW_KPI)
    monkeypatch.setenv("CSC_QUERIES", str(queries))
    plan_file = tmp_path / "action_plan.toml"
    old = 'kpis = ["transfer_timely_pct", "transfer_median_days", "transfers_waiting_count"]'
    text = config.ACTION_PLAN.read_text()
    assert old in text
    plan_file.write_text(text.replace(old, old[:-1] + f', "{NAME}"]'))
    monkeypatch.setattr(config, "ACTION_PLAN", plan_file)
    return db


def kpis_json(db, capsys, *args) -> list[dict]:
    capsys.readouterr()
    assert cli.main(["kpis", "--db", str(db), "--json", "--kpi", NAME, *args]) == 0
    return json.loads(capsys.readouterr().out)


def kpis_with_values(db) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select count(distinct kpi) from kpi_results").fetchall()[0][0]
    finally:
        con.close()


def test_a_new_kpi_reaches_every_place_once_the_database_is_opened(council, tmp_path, capsys):
    db = council
    before = kpis_with_values(db)  # the database was made before the KPI existed

    # kpis --json: the first open by this code finds results made by other definitions
    # (`kpis.made_by_other_code`) and makes them again, so the new KPI is there at once
    rows = {(r["period"], r["area"]): r for r in kpis_json(db, capsys)}
    assert kpis_with_values(db) == before + 1
    assert (rows[("2011-07", None)]["numerator"], rows[("2011-07", None)]["denominator"]) == (3.0, 4.0)
    assert rows[("2011-07", None)]["value"] == 75.0
    assert rows[("2011-07", "North")]["value"] == 50.0 and rows[("2011-07", "South")]["value"] == 100.0
    assert rows[("2011-06", None)]["value"] == 50.0

    # an explicit refresh (a KPI file edited while the server runs) still works
    assert cli.main(["refresh", "--db", str(db), "--json", "--user", "analyst@council"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kpis"] == 20 and summary["latest_period"] == "2011-07"
    assert summary["kpis_with_values"] == before + 1 == kpis_with_values(db)

    # both are in the audit log: the one on opening, and the analyst's
    con = duckdb.connect(str(db), read_only=True)
    audited = con.execute("select user_name, role, detail from audit_log where action = 'refresh' "
                          "order by audit_id").fetchall()
    con.close()
    assert [(user, role) for user, role, _ in audited] == [("system", None), ("analyst@council", "operator")]
    assert "code behind the figures changed" in audited[0][2]

    # the board pack
    pack = tmp_path / "pack.html"
    assert cli.main(["boardpack", str(pack), "--db", str(db), "--period", "2011-07"]) == 0
    html = pack.read_text()
    assert TITLE in html and "75.0%" in html.split(TITLE, 1)[1][:3000]

    # the generated docs
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("kpis.md", "extract-format.md"):
        shutil.copy(config.ROOT / "docs" / name, docs / name)
    assert cli.main(["docs", "--docs", str(docs)]) == 0
    text = (docs / "kpis.md").read_text()
    assert f"**{NAME}** — *{TITLE}.* Of the transfers accepted in the month" in text
    assert "Higher is better; target 60%." in text and "shown on the Practice page (Transfers)" in text

    # its page: Practice, the Transfers tab, after the three transfer KPIs
    ui.clear_caches()  # figures cached by other tests' councils of the same data version
    os.environ["CSC_DB"] = str(db)  # as tests/app/test_pages.py does
    st_config.set_option("server.address", "127.0.0.1")
    at = AppTest.from_file(str(config.ROOT / "dashboard.py"), default_timeout=60)
    at.session_state["preview_role"] = "director"
    at.run()
    at.switch_page(pages.get("practice").file).run()
    assert not at.exception, [e.value for e in at.exception]
    at.session_state["practice-tab"] = "Transfers"  # only the open tab is drawn
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    charts = [json.loads(e.proto.spec)["layout"]["title"]["text"].replace("<br>", " ") for e in at.get("plotly_chart")]
    ours = [t for t in charts if t.startswith(TITLE)]
    assert ours and "1 of 2 area offices met the target of 60% in July 2011; North furthest off at 50%" in ours[0]
    transfers = [t for t in charts if t.startswith(("Transfers", "Median working days", TITLE))]
    assert transfers[-1] == ours[0]  # order 11: last in its section
    ui.clear_caches()
