"""Beyond one machine: the records exported as Parquet, one file set per import, give the same
KPIs from the same SQL (`queries/kpis/*.sql`) with `cur_*` as views over the Parquet files, the
way an engine spread over many machines would read them from object storage."""

from __future__ import annotations

import duckdb
import pytest

from csc import cli, kpis, parquet, spec
from csc.store import Store
from tests.reliability.support import kpi_rows


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, workbooks):
    d = tmp_path_factory.mktemp("parquet")
    db = d / "csc.duckdb"
    with Store.open(db) as store:
        for key, period in (("feb", "2022-02"), ("mar", "2022-03"), ("small", "2022-04")):
            assert store.import_file(workbooks[key], period, user="analyst").status == "loaded"
        store.rollback(3, user="analyst")
    return db


def over_parquet(folder) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()  # in memory: nothing but the Parquet files
    parquet.parquet_views(con, folder)
    kpis.materialise(con)
    return con


def test_export_writes_one_file_set_per_import_hive_partitioned(loaded, tmp_path, monkeypatch):
    monkeypatch.delenv("CSC_COUNCIL", raising=False)
    assert cli.main(["export-parquet", str(tmp_path / "pq"), "--db", str(loaded)]) == 0
    files = sorted(p.relative_to(tmp_path / "pq").as_posix() for p in (tmp_path / "pq").rglob("*.parquet"))
    # under the council's folder: the default code, demo
    assert "demo/referrals/import_id=1/part.parquet" in files and "demo/referrals/import_id=2/part.parquet" in files
    assert "demo/supervisions/import_id=3/part.parquet" in files and "demo/referrals/import_id=3/part.parquet" in files
    assert "demo/cp_plans/import_id=3/part.parquet" not in files  # import 3 had no such sheet
    assert {"demo/imports.parquet", "demo/plan_changes.parquet", "demo/kpi_results.parquet"} <= set(files)
    con = duckdb.connect()
    n = con.execute(f"select count(*) from read_parquet('{tmp_path}/pq/demo/referrals/*/part.parquet', "
                    "hive_partitioning = true) where import_id = 2").fetchall()[0][0]
    with Store.open(loaded, read_only=True) as store:
        assert n == store.cursor().execute("select count(*) from raw_referrals where import_id = 2").fetchall()[0][0]


def test_councils_sit_side_by_side_each_code_in_its_path_and_kpi_rows(loaded, tmp_path, monkeypatch):
    monkeypatch.setenv("CSC_COUNCIL", "e09000001")
    assert cli.main(["export-parquet", str(tmp_path / "pq"), "--db", str(loaded)]) == 0
    assert cli.main(["export-parquet", str(tmp_path / "pq"), "--db", str(loaded), "--council", "E08000003"]) == 0
    assert parquet.councils(tmp_path / "pq") == ["e08000003", "e09000001"]
    for code in ("e08000003", "e09000001"):
        assert (tmp_path / "pq" / code / "referrals" / "import_id=1" / "part.parquet").exists()
        codes = duckdb.connect().execute(
            f"select distinct council from read_parquet('{tmp_path}/pq/{code}/kpi_results.parquet')").fetchall()
        assert codes == [(code,)]
    assert cli.main(["export-parquet", str(tmp_path / "pq"), "--db", str(loaded), "--council", "../up"]) == 2
    assert not (tmp_path / "up").exists()


def test_the_same_kpi_sql_over_parquet_gives_the_same_results(loaded, tmp_path):
    with Store.open(loaded, read_only=True) as store:
        parquet.export_parquet(store, tmp_path / "pq", council="demo")
        expected = kpi_rows(store.cursor())
        current = {s: store.cursor().execute(f"select count(*) from cur_{s}").fetchall()[0][0] for s in spec.SHEETS}
    con = over_parquet(tmp_path / "pq" / "demo")
    assert {s: con.execute(f"select count(*) from cur_{s}").fetchall()[0][0] for s in spec.SHEETS} == current
    assert len(expected) > 1000
    assert kpi_rows(con) == expected
    # and the results file the export wrote is the database's own table
    stored = duckdb.connect()
    stored.execute(f"create view kpi_results as select * exclude (council) "
                   f"from read_parquet('{tmp_path}/pq/demo/kpi_results.parquet')")
    assert kpi_rows(stored) == expected


def test_a_second_export_keeps_the_files_already_written_and_adds_the_new_import(loaded, tmp_path, workbooks):
    pq = tmp_path / "pq"
    work = tmp_path / "db"
    work.mkdir()
    (work / "csc.duckdb").write_bytes(loaded.read_bytes())
    with Store.open(work / "csc.duckdb") as store:
        first = parquet.export_parquet(store, pq, council="demo")
        stamp = (pq / "demo" / "referrals" / "import_id=1" / "part.parquet").stat().st_mtime_ns
        store.import_file(workbooks["mar-again"], "2022-03", user="analyst")
        second = parquet.export_parquet(store, pq, council="demo")
        expected = kpi_rows(store.cursor())
    assert second["kept"] == first["records"] and second["records"] == len(spec.SHEETS)
    assert (pq / "demo" / "referrals" / "import_id=1" / "part.parquet").stat().st_mtime_ns == stamp
    assert kpi_rows(over_parquet(pq / "demo")) == expected
