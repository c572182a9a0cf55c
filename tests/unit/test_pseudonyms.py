"""Pseudonyms of child ids: HMAC-SHA-256 of the id's UTF-8 text, first 128 bits in hex, the same
whichever way it is worked out (Python per distinct id, DuckDB SQL). Expected values are RFC 4231's
published HMAC-SHA-256 test vectors (cut to 32 hex digits), not this code's output, so a faster
way that hashed differently would fail here; existing databases keep matching."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pyarrow as pa

from csc import pseudonyms

# (key, message, HMAC-SHA-256 in hex): RFC 4231 test cases 1, 2, 6 and 7 (a 20-byte key, a short
# one, and a 131-byte key, longer than SHA-256's block, which HMAC hashes first)
RFC_4231 = [
    (b"\x0b" * 20, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (b"\xaa" * 131, "Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    (b"\xaa" * 131, "This is a test using a larger than block-size key and a larger than block-size data. The key "
                    "needs to be hashed before being used by the HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
]


def test_python_and_sql_give_rfc_4231s_values():
    con = duckdb.connect()
    for key, message, mac in RFC_4231:
        assert pseudonyms.hash_ids([message], key) == [mac[:32]]
        got = con.execute(f"select {pseudonyms.hmac_sql('$m')}", {**pseudonyms.pads(key), "m": message}).fetchall()
        assert got[0][0] == mac[:32]


def test_a_table_gets_each_ids_pseudonym_and_keeps_blanks():
    key, message, mac = RFC_4231[1]
    table = pa.table({"x": [1, 2, 3, 4], "child_id": [message, None, "Hi There", message]})
    out = pseudonyms.pseudonymise(table, key)
    assert out.column_names == ["x", "child_id"]
    assert out.column("x").to_pylist() == [1, 2, 3, 4]
    ids = out.column("child_id").to_pylist()
    assert ids[0] == ids[3] == mac[:32]
    assert ids[1] is None
    assert ids[2] == hmac.new(key, b"Hi There", hashlib.sha256).hexdigest()[:32]
    assert pseudonyms.pseudonymise(pa.table({"x": [1]}), key).column_names == ["x"]  # no child ids: unchanged


def test_any_key_and_text_hash_like_the_standard_library():
    """Keys shorter than, equal to and longer than a block; non-ASCII ids; an empty id."""
    con = duckdb.connect()
    ids = ["Ünïcode 1", "C000001", "", "😀 id"]
    for key in (b"short", b"k" * 64, b"a-much-longer-key-than-sixty-four-bytes-" * 3):
        want = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:32] for v in ids]
        assert pseudonyms.hash_ids(ids, key) == want
        con.register("t", pa.table({"id": ids}))
        got = [r[0] for r in con.execute(f"select {pseudonyms.hmac_sql('id')} from t", pseudonyms.pads(key)).fetchall()]
        assert got == want


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def test_pseudonyms_worked_out_ahead_are_used_and_what_they_miss_is_hashed_then():
    """`Ahead` only saves work: ids it saw come from it, ids it did not are hashed by
    `pseudonymise`, and under another key it is not used at all."""
    key = b"the-store-key"
    table = pa.table({"child_id": ["C1", "C2", None, "C3", "C1"]})
    want = [_mac(key, "C1"), _mac(key, "C2"), None, _mac(key, "C3"), _mac(key, "C1")]
    ahead = pseudonyms.Ahead(pa.chunked_array([["C2", "C1", "C9", None]]), key)
    assert ahead.known(key)[0].to_pylist() == ["C2", "C1", "C9"]
    assert pseudonyms.pseudonymise(table, key, ahead).column("child_id").to_pylist() == want  # C3 hashed then
    elsewhere = pseudonyms.Ahead(pa.chunked_array([["C1", "C2", "C3"]]), b"another key")
    assert elsewhere.known(key) is None
    assert pseudonyms.pseudonymise(table, key, elsewhere).column("child_id").to_pylist() == want
    broken = pseudonyms.Ahead(pa.chunked_array([["C1"]]), key, prepare=lambda ids: 1 / 0)  # a failure is no failure
    assert broken.known(key) is None
    assert pseudonyms.pseudonymise(table, key, broken).column("child_id").to_pylist() == want


def test_a_sheets_child_ids_are_hashed_ahead_as_its_check_types_them(tmp_path):
    """Read with the store's key, a sheet's child ids (spaces around them, or kept by Excel as
    numbers, or a number's text "5678.0") are all among those worked out ahead, so the load hashes none."""
    from csc import extract
    from tests.conftest import write_xlsx

    header = ["referral_id", "child_id", "referral_date", "area_office", "team"]
    rows = [header, ["R1", " C1 ", "2012-03-01", "North", "N1"], ["R2", 1234, "2012-03-02", "North", "N1"],
            ["R3", "C1", "2012-03-03", "North", "N1"], ["R4", "0042", "2012-03-04", "North", "N1"],
            ["R5", "5678.0", "2012-03-05", "North", "N1"]]
    key = b"the-store-key"
    result = extract.read_workbook(write_xlsx(tmp_path / "x.xlsx", {"Referrals": rows}), id_key=key)
    data = result.sheets["referrals"]
    assert result.ok and data.table.column("child_id").to_pylist() == ["C1", "1234", "C1", "0042", "5678"]
    ids, hashed = data.pseudonyms.known(key)
    assert sorted(ids.to_pylist()) == ["0042", "1234", "5678", "C1"]
    assert dict(zip(ids.to_pylist(), hashed.to_pylist())) == {v: _mac(key, v) for v in ("0042", "1234", "5678", "C1")}
    assert extract.read_workbook(tmp_path / "x.xlsx").sheets["referrals"].pseudonyms is None  # no key: no work
