"""The KPIs' figures are aggregated from all their records at once (`csc.kpis._pooled_sql`): each
KPI must get what its own aggregation gives (`_aggregate_sql(kpi, teams=True)`, the one the Spark
translation and a single KPI's figures use), by area office, by team and for all areas, whatever
kind of KPI it is: a percentage, a ratio, a sum, one for all areas only. Worked out by hand on
records written out below, then compared with the KPI's own aggregation."""

from __future__ import annotations

import dataclasses
import math

import duckdb
import pytest

from csc import kpis

# period, area, team, numerator, denominator
RECORDS = """
    select * from (values
        ('2011-04', 'North', 'N1', 1.0, 1.0),
        ('2011-04', 'North', 'N1', 0.0, 1.0),
        ('2011-04', 'North', null, 1.0, 1.0),
        ('2011-04', 'South', 'S1', 1.0, 1.0),
        ('2011-04', null, 'X1', 0.0, 1.0),
        ('2011-05', 'South', 'S1', 2.5, 0.5),
        ('2011-05', 'South', 'S1', 0.0, 0.0)
    ) as t(period, area, team, numerator, denominator)
"""


def kpi(name: str, **changes) -> kpis.Kpi:
    return dataclasses.replace(kpis.get("supervision_pct"), name=name, **{"sql": RECORDS, **changes})


PCT = kpi("a_pct")  # a percentage: 100 x numerators / denominators
RATIO = kpi("a_ratio", unit="per_fte")  # a ratio: numerators / denominators
SUM = kpi("a_sum", aggregate="sum", unit="count")  # numerators added
WHOLE = kpi("a_whole", aggregate="sum", unit="days", all_areas_only=True)  # all areas together only


def rows(cur, sql: str) -> dict[tuple, list[tuple]]:
    """(kpi, period, area, team) -> its (numerator, denominator, value)s, of the rows with a value
    (a record with no area office gives an area office row with none: two rows of all areas'
    key, as each KPI's own aggregation gives)."""
    out: dict[tuple, list[tuple]] = {}
    for r in cur.execute(f"select kpi, period, area, team, numerator, denominator, value from ({sql}) "
                         "where value is not null order by all").fetchall():
        out.setdefault(r[:4], []).append(r[4:])
    return out


@pytest.fixture
def cur():
    con = duckdb.connect()
    yield con.cursor()
    con.close()


def own(cur, k: kpis.Kpi) -> dict[tuple, list[tuple]]:
    sql = f"with records as ({k.sql}) select kpi, period, area, team, numerator, denominator, value from ({kpis._aggregate_sql(k, teams=True)})"
    return rows(cur, sql)


def test_pooled_figures_are_each_kpis_own(cur):
    pooled = rows(cur, kpis._pooled_sql([PCT, RATIO, SUM, WHOLE]))
    expected = {}
    for k in (PCT, RATIO, SUM, WHOLE):
        expected |= own(cur, k)
    assert pooled.keys() == expected.keys()
    for key, figures in expected.items():
        assert len(figures) == len(pooled[key]), key
        for mine, theirs in zip(figures, pooled[key]):
            assert all((a is None and b is None) or math.isclose(a, b, rel_tol=1e-12)
                       for a, b in zip(mine, theirs)), (key, figures, pooled[key])


def test_pooled_figures_worked_by_hand(cur):
    got = {key: figures[-1] for key, figures in rows(cur, kpis._pooled_sql([PCT, RATIO, SUM, WHOLE])).items()}
    # April, all areas: 3 of 5 -> 60% (ordered last of the two rows keyed as all areas: the other is
    # the area office row of the record with none, 0 of 1); North: 2 of 3; North's team N1: 1 of 2;
    # its record with no team: "(no team)"; the record with no area office but a team: "(no area)"
    assert got[("a_pct", "2011-04", None, None)] == (3.0, 5.0, 60.0)
    assert got[("a_pct", "2011-04", "North", None)][:2] == (2.0, 3.0)
    assert got[("a_pct", "2011-04", "North", "N1")] == (1.0, 2.0, 50.0)
    assert got[("a_pct", "2011-04", "North", "(no team)")] == (1.0, 1.0, 100.0)
    assert got[("a_pct", "2011-04", "(no area)", "X1")] == (0.0, 1.0, 0.0)
    assert got[("a_pct", "2011-04", None, None)] == got[("a_ratio", "2011-04", None, None)][:2] + (60.0,)
    # May, South: 2.5 over 0.5 -> 5 (a ratio, no x100); a percentage 500
    assert got[("a_ratio", "2011-05", "South", None)] == (2.5, 0.5, 5.0)
    assert got[("a_pct", "2011-05", "South", None)] == (2.5, 0.5, 500.0)
    # a sum: the numerators, no denominator
    assert got[("a_sum", "2011-04", None, None)] == (3.0, None, 3.0)
    assert got[("a_sum", "2011-04", "South", "S1")] == (1.0, None, 1.0)
    # all areas only: one row a month, none by area office or team
    assert sorted(key[1:] for key in got if key[0] == "a_whole") == [("2011-04", None, None), ("2011-05", None, None)]
    assert got[("a_whole", "2011-05", None, None)] == (2.5, None, 2.5)


def test_a_denominator_of_nothing_gives_no_value(cur):
    # May's second record has a denominator of 0, but the month's South total is 0.5: a value; a
    # team of denominators adding to 0 alone would have none
    zero = kpi("zero_pct", sql=RECORDS.replace("2.5, 0.5", "2.5, 0.0"))
    got = rows(cur, kpis._pooled_sql([zero]))
    assert ("zero_pct", "2011-05", "South", None) not in got
    assert ("zero_pct", "2011-05", None, None) not in got


# --- a KPI with nothing to aggregate is left out ------------------------------------------------


def test_an_extract_of_some_sheets_gives_the_figures_of_every_kpi_computed(tmp_path, monkeypatch):
    """Assessments and workforce alone, then referrals a month later: the KPIs whose tables of
    records are empty are left out of the recompute (`kpis._without_records`), and the results
    are those of a store that computes every KPI."""
    from csc import demo
    from csc.store import Store

    monkeypatch.setenv("CSC_ID_KEY", "pooled-test")
    (april, first), (may, second) = demo.generate("2010-04", "2010-05")
    books = [demo.write_workbook({k: first[k] for k in ("assessments", "workforce")}, tmp_path / "a.xlsx"),
             demo.write_workbook({"referrals": second["referrals"]}, tmp_path / "b.xlsx")]
    results = []
    for every in (False, True):
        if every:
            monkeypatch.setattr(kpis, "_without_records", lambda cur, chosen: set())
        with Store.open(tmp_path / f"{every}" / "csc.duckdb") as store:
            for book, period in zip(books, (april, may)):
                assert store.import_file(book, period, user="t").status == "loaded"
            cur = store.cursor()
            results.append([cur.execute(f"select * exclude (hidden), hidden from {t} order by all").fetchall()
                            for t in ("kpi_results", "kpi_team_results")])
    left_out, computed = results
    assert {r[0] for r in computed[0]} >= {"assessments_timely_pct", "agency_rate_pct", "re_referral_pct",
                                           "data_timeliness_days"}
    for mine, theirs in zip(left_out, computed):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs):
            assert all(x == y or (isinstance(x, float) and math.isclose(x, y, rel_tol=1e-12)) for x, y in zip(a, b)), (a, b)


def test_a_later_groups_kpi_reads_its_own_months_however_it_spells_them():
    sql = "select * from KPI_MONTHS join Kpi_Months using (period) join kpi_months_other using (period), kpi_months"
    got = kpis._reading_months(kpi("spelt", sql=sql), "_kpi_months_1").sql
    assert got == ("select * from _kpi_months_1 join _kpi_months_1 using (period) join kpi_months_other "
                   "using (period), _kpi_months_1")
    assert kpis._reading_months(kpi("spelt", sql=sql), "kpi_months").sql == sql


def test_a_kpi_of_no_table_of_records_is_never_left_out(store):
    # a council's own KPI of the months alone has records with every table of records empty
    months_only = kpi("months_only", sql="select period, null::varchar as area, null::varchar as team, "
                                         "null::varchar as record_id, null::varchar as child_id, "
                                         "null::varchar as worker_id, 1.0 as numerator, 1.0 as denominator "
                                         "from kpi_months")
    cur = store.cursor()
    assert kpis._without_records(cur, [months_only, kpis.get("child_seen_pct")]) == {"child_seen_pct"}
