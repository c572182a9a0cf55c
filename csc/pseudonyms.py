"""Child ids never reach the database: each is replaced by a keyed hash (moved from `csc.store`).

The hash is HMAC-SHA-256 (RFC 2104) of the id's UTF-8 text, its first 128 bits in hex. The same
value is worked out two ways, both tested against RFC 4231's test vectors and `hmac`: per
distinct id in Python (`pseudonymise`, `hash_ids`) and in DuckDB SQL (`hmac_sql`, for
`csc.annexa`'s record keys)."""

from __future__ import annotations

import hashlib
import logging
import threading

import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger(__name__)

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


class Ahead:
    """The pseudonyms of ids worked out in a thread of their own while the caller goes on: a
    sheet's child ids as read, hashed while its values are checked (in DuckDB, which lets go of
    the interpreter) so that the load finds them done (`pseudonymise`: 0.05 s of an import of
    100,000 rows, issue 17). `ids`: text, as the check will type it, or not (an id found nowhere
    here is hashed by `pseudonymise` itself: this only saves work, never decides a value). A
    failure here is no failure: `pseudonymise` then hashes every id."""

    def __init__(self, ids: pa.Array | pa.ChunkedArray, key: bytes, prepare=None):
        self._key = key
        self._ids = self._hashed = None
        self._thread = threading.Thread(target=self._work, args=(ids, prepare), name="csc-pseudonyms-ahead",
                                        daemon=True)
        self._thread.start()

    def _work(self, ids, prepare) -> None:
        """`prepare(ids)`: the ids as the check will type them (run here, in the thread)."""
        try:
            distinct = pc.unique(prepare(ids) if prepare else ids).drop_null()
            hashed = pa.array(hash_ids(distinct.to_pylist(), self._key), pa.string())
        except Exception:  # noqa: BLE001 - nothing is lost: `pseudonymise` hashes every id itself
            log.exception("pseudonyms could not be worked out ahead; they are worked out at the load")
            return
        self._ids, self._hashed = distinct, hashed

    def known(self, key: bytes) -> tuple[pa.Array, pa.Array] | None:
        """(ids, their pseudonyms) under `key`, once worked out; None under another key or if the work failed."""
        self._thread.join()
        return (self._ids, self._hashed) if key == self._key and self._ids is not None else None


def pseudonymise(table: pa.Table, key: bytes, ahead: Ahead | None = None) -> pa.Table:
    """Replace child ids with their pseudonyms, so the database never holds them. Each distinct
    id is hashed once (or was, by `ahead`); the column is mapped back in Arrow (a blank id stays
    blank)."""
    if "child_id" not in table.column_names:
        return table
    ids = table.column("child_id").combine_chunks()
    distinct = pc.unique(ids).drop_null()
    known = ahead.known(key) if ahead is not None else None
    if known is None:
        hashed = pa.array(hash_ids(distinct.to_pylist(), key), pa.string())
    else:
        at = pc.index_in(distinct, value_set=known[0])
        hashed = pc.take(known[1], at)
        if at.null_count:  # ids the work ahead did not see (typed otherwise than read): hashed now
            missing = pc.is_null(at)
            fresh = pa.array(hash_ids(distinct.filter(missing).to_pylist(), key), pa.string())
            hashed = pc.replace_with_mask(hashed, missing, fresh)
    out = pc.take(hashed, pc.index_in(ids, value_set=distinct))
    idx = table.column_names.index("child_id")
    return table.set_column(idx, "child_id", out)
