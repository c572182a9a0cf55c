"""Child ids never reach the database: each is replaced by a keyed hash (moved from `csc.store`)."""

from __future__ import annotations

import hmac

import pyarrow as pa


def pseudonymise(table: pa.Table, key: bytes) -> pa.Table:
    """Replace child ids with a keyed hash (HMAC-SHA-256, first 32 hex digits), so the database
    never holds them. Each distinct id is hashed once; the column is mapped back in Arrow."""
    if "child_id" not in table.column_names:
        return table
    import pyarrow.compute as pc

    ids = table.column("child_id").combine_chunks()
    distinct = pc.unique(ids).drop_null()
    hashed = pa.array([hmac.digest(key, v.encode(), "sha256").hex()[:32] for v in distinct.to_pylist()], pa.string())
    out = pc.take(hashed, pc.index_in(ids, value_set=distinct))  # null ids stay null
    idx = table.column_names.index("child_id")
    return table.set_column(idx, "child_id", out)
