"""The KPI reference in `docs/kpis.md` says what the KPIs' `.sql` headers say.

- The block between `<!-- generated: kpis -->` and `<!-- end generated -->` is
  `csc.kpidocs.kpi_markdown()`; regenerate it with `python -m csc docs`.
- `python -m csc docs --check` exits 1 when a header changed and the page did not.
- The header reader (`csc.kpis.read_query`, `parse_kpi`) reads what the headers declare.
"""

from __future__ import annotations

import shutil

import pytest

from csc import cli, config, kpidocs, kpis

DOC = config.ROOT / "docs" / "kpis.md"


def test_generated_reference_matches_the_headers():
    text = DOC.read_text()
    assert kpidocs.START.format("kpis") in text and kpidocs.END in text
    assert kpidocs.block(text, "kpis") == kpidocs.kpi_markdown().strip(), (
        "docs/kpis.md is out of date: run python -m csc docs")


def test_the_reference_states_each_kpis_header():
    block = kpidocs.block(DOC.read_text(), "kpis")
    # worked out by hand from queries/kpis/transfer_timely_pct.sql and data_timeliness_days.sql
    assert "**transfer_timely_pct** — *Transfers accepted within 5 working days.* Of the transfers" in block
    assert "Higher is better; target 90%." in block
    assert "shown on the Practice page (Transfers)" in block
    para = block.split("**data_timeliness_days**")[1].split("**")[0]
    assert "Lower is better; target 5 working days." in para
    assert "never suppressed (counts no people)" in para
    assert "all areas only" in para
    assert "### A1 — Clear systems and protocols" in block


@pytest.fixture
def queries_copy(tmp_path, monkeypatch):
    folder = tmp_path / "queries"
    shutil.copytree(config.QUERIES, folder)
    monkeypatch.setenv("CSC_QUERIES", str(folder))
    return folder


def test_docs_check_fails_when_a_header_changes_and_docs_rewrites_the_page(tmp_path, queries_copy, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("kpis.md", "extract-format.md"):
        shutil.copy(config.ROOT / "docs" / name, docs / name)
    assert cli.main(["docs", "--docs", str(docs), "--check"]) == 0
    sql = queries_copy / "kpis" / "cp_2years_pct.sql"
    sql.write_text(sql.read_text().replace("-- title: Child protection plans ending after 2 years or more",
                                           "-- title: Plans that lasted two years"))
    assert cli.main(["docs", "--docs", str(docs), "--check"]) == 1
    assert "Out of date: kpis.md" in capsys.readouterr().out
    assert "Plans that lasted two years" not in (docs / "kpis.md").read_text()
    assert cli.main(["docs", "--docs", str(docs)]) == 0
    text = (docs / "kpis.md").read_text()
    assert "**cp_2years_pct** — *Plans that lasted two years.*" in text
    assert "## Readings of ambiguous points" in text  # the hand-written parts are kept
    assert cli.main(["docs", "--docs", str(docs), "--check"]) == 0


def test_a_header_is_read_whole(tmp_path):
    path = tmp_path / "odd_pct.sql"
    path.write_text(
        "-- kpi: odd_pct\n-- title: Odd things\n-- action: A1\n-- unit: pct\n-- direction: higher\n"
        "-- target: 50\n-- aggregate: ratio\n-- page: practice\n-- section: Odd\n-- order: 3\n"
        "-- empty: Nothing odd\n-- empty: happened.\n-- description: Of the things,\n"
        "-- description: the odd ones.\nselect 1 -- key: not a header\n-- title: not a header either\n"
    )
    kpi = kpis.parse_kpi(path, {})
    assert (kpi.title, kpi.short_title, kpi.label) == ("Odd things", "Odd things", "Odd things")
    assert kpi.empty_message == "Nothing odd happened."
    assert kpi.description == "Of the things, the odd ones."
    assert (kpi.denominator, kpi.suppressible, kpi.page, kpi.section, kpi.order) == ("cases", True, "practice", "Odd", 3)
    assert not kpi.reads_inferred
    assert kpi.target == 50.0


@pytest.mark.parametrize("line, match", [
    ("-- page: overview", "page"),
    ("-- denominator: people", "denominator"),
    ("-- suppress: maybe", "suppress"),
    ("-- kpi: even_pct", "even_pct"),
])
def test_a_bad_header_is_refused(tmp_path, line, match):
    path = tmp_path / "odd_pct.sql"
    path.write_text(f"-- title: Odd\n-- action: A1\n-- unit: pct\n-- direction: higher\n-- aggregate: ratio\n"
                    f"{line}\nselect 1\n")
    with pytest.raises(ValueError, match=match):
        kpis.parse_kpi(path, {})


def test_the_kpis_that_read_inferred_involvements_are_read_from_their_sql():
    assert {k.name for k in kpis.registry().values() if k.reads_inferred} == {
        "cp_3plus_workers_pct", "caseload_stability_pct"}
