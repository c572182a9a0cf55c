"""The shared SQL building blocks (`queries/staging/stg_*.sql`) and how a query includes them
(`csc.kpis.with_staging`): as common table expressions before its own, dependencies first, so
each KPI stays one self-contained statement (DuckDB, and Spark through sqlglot)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from csc import kpis


def model(tmp_path: Path, name: str, sql: str) -> kpis.Query:
    path = tmp_path / f"{name}.sql"
    path.write_text(f"-- staging: {name}\n-- description: a test model\n{sql}\n")
    return kpis.read_query(path)


def test_models_come_before_the_query_dependencies_first(tmp_path):
    models = {"stg_a": model(tmp_path, "stg_a", "select 1 as x"),
              "stg_b": model(tmp_path, "stg_b", "select x + 1 as y from stg_a")}
    sql = kpis.with_staging("-- kpi: k\nwith\n\nmine as (select y from stg_b)\n\nselect * from mine;", models)
    assert sql == ("with\n\nstg_a as (\nselect 1 as x\n),\n\nstg_b as (\nselect x + 1 as y from stg_a\n),\n\n"
                   "mine as (select y from stg_b)\n\nselect * from mine")


def test_a_query_without_with_and_one_reading_no_model(tmp_path):
    models = {"stg_a": model(tmp_path, "stg_a", "select 1 as x")}
    assert kpis.with_staging("select x from stg_a", models) == "with\n\nstg_a as (\nselect 1 as x\n)\n\nselect x from stg_a"
    # a name in a comment, or one that is no model, includes nothing
    assert kpis.with_staging("select 1 -- not stg_a\n", models) == "select 1 -- not stg_a"
    assert kpis.with_staging("select * from stg_other", models) == "select * from stg_other"


def test_models_reading_each_other_in_a_circle_are_refused(tmp_path):
    models = {"stg_a": model(tmp_path, "stg_a", "select * from stg_b"),
              "stg_b": model(tmp_path, "stg_b", "select * from stg_a")}
    with pytest.raises(ValueError, match="circle"):
        kpis.with_staging("select * from stg_a", models)


def test_every_staging_model_is_read_by_a_kpi_or_an_app_query():
    text = "\n".join(k.sql for k in kpis.registry().values())
    text += "\n".join(kpis.app_sql(p.stem) for p in (kpis.queries_dir() / "app").glob("*.sql"))
    for name in kpis.staging():
        assert re.search(rf"\b{name} as \(", text), f"{name} is read by nothing"


def test_each_model_runs_and_its_header_names_its_file(store):
    cur = store.cursor()
    kpis.prepare(cur, ("2011-04", "2011-06"))
    for name, q in kpis.staging().items():
        assert q.get("staging") == name
        assert q.get("description")
        cur.execute(f"select * from ({q.body}) limit 0")  # runs on an empty store


def test_kpis_read_the_shared_blocks_not_copies():
    """The transfers' working days, the workforce in post and the completed assessments are each
    worked out in one staging model: no KPI file reads cur_transfers with the calendar, or repeats
    the in-post condition over cur_workforce."""
    for path in sorted(kpis.kpi_dir().glob("*.sql")):
        own = path.read_text()
        if "cur_transfers" in own:
            assert "calendar" not in own, path.name
        assert not re.search(r"from cur_assessments\s+where completed_date is not null", own), path.name
        assert "coalesce(end_date, '9999-12-31'::date) as end_or_open,\n    from cur_workforce" not in own, path.name
