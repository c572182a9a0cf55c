"""When the KPI files are read: outside the dashboard at every call (a change is seen at once);
in the dashboard once per data version (`kpis.files_key`), so that a page view looks at no file
and a KPI's definition moves with its stored values (an import, a rollback, `csc refresh`)."""

from __future__ import annotations

import shutil

from csc import config, kpis

NAME = "agency_rate_pct"


def retitle(queries, title: str) -> None:
    path = queries / "kpis" / f"{NAME}.sql"
    lines = path.read_text().splitlines()
    lines = [f"-- title: {title}" if line.startswith("-- title:") else line for line in lines]
    path.write_text("\n".join(lines) + "\n")


def test_files_are_read_again_when_the_data_version_moves_and_at_once_outside_the_dashboard(tmp_path, monkeypatch):
    queries = tmp_path / "queries"
    shutil.copytree(config.QUERIES, queries)
    monkeypatch.setenv("CSC_QUERIES", str(queries))
    version = ["db@1"]
    monkeypatch.setattr(kpis, "files_key", lambda: version[0])
    monkeypatch.setattr(kpis, "_by_key", None)
    assert kpis.get(NAME).title == "Qualified social worker FTE filled by agency workers"

    retitle(queries, "Agency share, edited")
    assert kpis.get(NAME).title == "Qualified social worker FTE filled by agency workers"  # same data version
    version[0] = "db@2"  # an import or a refresh
    assert kpis.get(NAME).title == "Agency share, edited"

    retitle(queries, "Agency share, edited again")
    monkeypatch.setattr(kpis, "files_key", None)  # the command line, the tests
    assert kpis.get(NAME).title == "Agency share, edited again"
