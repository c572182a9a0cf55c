"""Child ids never reach the database: each is replaced by a keyed hash (moved from `csc.store`).

The hash is HMAC-SHA-256 (RFC 2104) of the id's UTF-8 text, its first 128 bits in hex. The same
value is worked out two ways, both tested against RFC 4231's test vectors and `hmac`: per
distinct id in Python (`pseudonymise`, `hash_ids`) and in DuckDB SQL (`hmac_sql`, for
`csc.annexa`'s record keys)."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.compute as pc

BLOCK = 64  # SHA-256's block size in bytes: HMAC pads (or first hashes) the key to it


def pads(key: bytes) -> dict[str, bytes]:
    """The key padded to a block and XORed with HMAC's inner and outer pads (`ipad`, `opad`)."""
    k = key if len(key) <= BLOCK else hashlib.sha256(key).digest()
    k = k.ljust(BLOCK, b"\0")
    return {"ipad": bytes(b ^ 0x36 for b in k), "opad": bytes(b ^ 0x5C for b in k)}


def hmac_sql(expr: str) -> str:
    """DuckDB SQL for the pseudonym of the text `expr` (parameters: `pads(key)`)."""
    return f"left(sha256($opad || unhex(sha256($ipad || encode({expr})))), 32)"


def hash_ids(ids: list[str], key: bytes) -> list[str]:
    """The pseudonym of each id: HMAC-SHA-256 from two hash objects that have taken in the padded
    key once and are copied per id (what `hmac.digest` does, without digesting the key's two
    blocks again for every id: half the hashing)."""
    p = pads(key)
    inner, outer = hashlib.sha256(p["ipad"]), hashlib.sha256(p["opad"])
    out = []
    for v in ids:
        h = inner.copy()
        h.update(v.encode())
        o = outer.copy()
        o.update(h.digest())
        out.append(o.hexdigest()[:32])
    return out


def pseudonymise(table: pa.Table, key: bytes) -> pa.Table:
    """Replace child ids with their pseudonyms, so the database never holds them. Each distinct
    id is hashed once; the column is mapped back in Arrow (a blank id stays blank)."""
    if "child_id" not in table.column_names:
        return table
    ids = table.column("child_id").combine_chunks()
    distinct = pc.unique(ids).drop_null()
    hashed = pa.array(hash_ids(distinct.to_pylist(), key), pa.string())
    out = pc.take(hashed, pc.index_in(ids, value_set=distinct))
    idx = table.column_names.index("child_id")
    return table.set_column(idx, "child_id", out)
