"""The board's suppression of the stored KPI results: which figures of `kpi_results` and
`kpi_team_results` the board may not see, decided once per recompute (`csc.kpis.materialise`)."""

from __future__ import annotations

import duckdb


def board_suppression(cur: duckdb.DuckDBPyConnection) -> None:
    """Decide, once for every (KPI, month), which figures the board may not see: primary and
    complementary suppression over all areas, each area office and each team
    (`csc.privacy.protect`), written to the `hidden` column of both results tables."""
    from csc import privacy
    from csc.kpis import registry

    areas_df = cur.execute("select rowid as rid, * from kpi_results").df()
    teams_df = cur.execute("select rowid as rid, * from kpi_team_results").df()
    hidden_a, hidden_t = [], []
    for name, kpi in registry().items():
        a = areas_df[areas_df["kpi"] == name]
        t = teams_df[teams_df["kpi"] == name]
        ha, ht = privacy.protect(kpi, a, t)
        hidden_a += list(a.loc[ha[ha].index, "rid"])
        hidden_t += list(t.loc[ht[ht].index, "rid"])
    for table, rids in (("kpi_results", hidden_a), ("kpi_team_results", hidden_t)):
        if rids:
            cur.execute(f"update {table} set hidden = true where list_contains($rids, rowid)",
                        {"rids": [int(r) for r in rids]})
