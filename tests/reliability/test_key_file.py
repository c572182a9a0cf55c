"""A key file kept wrongly (a folder, an empty file, a path that cannot be made) is said in plain
words, by the CLI and on the Upload page, and nothing is stored (before, a raw IsADirectoryError)."""

from __future__ import annotations

import datetime as dt

import pytest

from csc import cli, config, crypto
from csc.store import Store
from tests.app.test_pages import page
from tests.conftest import write_xlsx

D = dt.date
TRANSFERS = [["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"],
             ["T1", "C1", "Intake", "North A", D(2012, 3, 5), D(2012, 3, 6), "North"]]


@pytest.fixture
def no_env_key(monkeypatch):
    monkeypatch.delenv("CSC_ID_KEY")
    return monkeypatch


def test_a_folder_given_as_the_key_file_is_named_as_such(tmp_path, no_env_key):
    (tmp_path / "keys").mkdir()
    no_env_key.setenv("CSC_KEY_FILE", str(tmp_path / "keys"))
    with pytest.raises(crypto.KeyError_, match=r"keys is a folder, not a file.*keys/id_key"):
        config.id_key(tmp_path / "data" / "csc.duckdb")


def test_an_empty_key_file_is_refused_not_used(tmp_path, no_env_key):
    (tmp_path / "id_key").write_text("  \n")
    no_env_key.setenv("CSC_KEY_FILE", str(tmp_path / "id_key"))
    with pytest.raises(crypto.KeyError_, match="is empty"):  # an empty HMAC key would make the pseudonyms reversible
        config.id_key(tmp_path / "data" / "csc.duckdb")


def test_a_key_file_under_a_file_cannot_be_made_and_says_so(tmp_path, no_env_key):
    (tmp_path / "plain").write_text("not a folder")
    no_env_key.setenv("CSC_KEY_FILE", str(tmp_path / "plain" / "id_key"))
    with pytest.raises(crypto.KeyError_, match=r"plain/id_key (does not exist and )?cannot be (made|read)"):
        config.id_key(tmp_path / "data" / "csc.duckdb")


def test_the_cli_says_what_to_fix_and_stores_nothing(tmp_path, no_env_key, capsys):
    (tmp_path / "keys").mkdir()
    no_env_key.setenv("CSC_KEY_FILE", str(tmp_path / "keys"))
    db = tmp_path / "data" / "csc.duckdb"
    wb = write_xlsx(tmp_path / "extract-2012-03.xlsx", {"Transfers": TRANSFERS})
    assert cli.main(["import", str(wb), "--period", "2012-03", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "is a folder, not a file" in err and "Traceback" not in err
    with Store.open(db, read_only=True) as store:
        assert store.imports().empty


def test_the_upload_page_says_it_before_any_file(tmp_path, no_env_key):
    db = tmp_path / "data" / "csc.duckdb"
    with Store.open(db):
        pass
    (tmp_path / "keys").mkdir()
    no_env_key.setenv("CSC_KEY_FILE", str(tmp_path / "keys"))
    at = page(db, "app_pages/upload.py")
    said = " ".join(e.value for e in at.error)
    assert "No file can be checked or loaded until the key is put right" in said and "is a folder" in said
    assert not at.file_uploader  # nothing to drop a file into


def test_a_new_key_file_is_never_read_empty_by_another_thread(tmp_path, no_env_key):
    """On a new deployment the first uses make the key at once: the file was created empty and then
    written, and a thread reading it in between was told the key file is empty."""
    import threading

    for attempt in range(20):
        no_env_key.setenv("CSC_KEY_FILE", str(tmp_path / f"keys-{attempt}" / "id_key"))
        start = threading.Barrier(8)
        keys, failures = [], []

        def use(start=start, keys=keys, failures=failures) -> None:
            start.wait()
            try:
                keys.append(config.id_key(tmp_path / "data" / "csc.duckdb"))
            except crypto.KeyError_ as exc:
                failures.append(str(exc))

        threads = [threading.Thread(target=use) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == [] and len(set(keys)) == 1 and len(keys[0]) == 64
        assert [p.name for p in (tmp_path / f"keys-{attempt}").iterdir()] == ["id_key"]  # nothing else left
