"""The deployment's secret, kept out of the data folder, and what it protects.

One secret does two jobs:

- **Pseudonyms.** Child ids are replaced by HMAC-SHA-256(secret, id). Ids such as C000000-C199999
  can be enumerated, so the hash is only safe while the secret is not where the database is.
- **Kept files at rest.** Uploaded workbooks kept for rebuild are encrypted with AES-256-GCM under
  a key derived from the secret (HMAC-SHA-256(secret, "csc kept-file encryption v1")).

Where the secret comes from, first found wins:

1. `$CSC_ID_KEY` (the secret itself, from the deployment's secrets manager);
2. the file `$CSC_KEY_FILE`;
3. `~/.config/csc/id_key` (`$XDG_CONFIG_HOME/csc/id_key`), created on first use (mode 0600 in a
   0700 folder): local and demo mode work out of the box.

A key file inside the data folder is refused: whoever copies the data folder must not get the key.
A key file left by an older version beside the database (`data/.id_key`) is moved to the key file
location on first use, so pseudonyms already stored keep matching.

Rotation: put the new secret in place, give the old one as `$CSC_OLD_ID_KEY` or `$CSC_OLD_KEY_FILE`
and run `python -m csc rebuild` (see docs/deployment.md): kept files are decrypted with whichever
key opens them, every import is replayed (pseudonymised and encrypted again under the new secret).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"CSCENC1\n"  # kept files start with this; then a 12-byte nonce, then the ciphertext
LEGACY_KEY_NAME = ".id_key"


class KeyError_(Exception):
    """The secret cannot be found or is kept where it must not be; the message says what to do."""


def default_key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "csc" / "id_key"


def key_file() -> Path:
    return Path(os.environ.get("CSC_KEY_FILE") or default_key_file()).expanduser()


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _write_new(path: Path, text: str) -> None:
    """Make the file `path` holding `text`, whole or not at all: written under another name in the
    same folder (0600) and linked to `path`, which fails if it exists (FileExistsError, as with
    O_EXCL), so that another thread or process reading the key never finds it empty."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: made in place, as before
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
    finally:
        os.unlink(tmp)


def secret(db: Path | None = None) -> bytes:
    """The deployment's secret (see the module's docstring). `db`: the database it is for, whose
    folder must not hold the key file."""
    env = os.environ.get("CSC_ID_KEY")
    if env:
        return env.encode()
    path = key_file()
    data_dir = Path(db).parent if db is not None else None
    if data_dir is not None and _inside(path, data_dir):
        raise KeyError_(f"The key file {path} is inside the data folder {data_dir}: anyone with a copy of the "
                        "data folder could undo the pseudonyms. Set CSC_KEY_FILE to a path outside it "
                        "(see docs/deployment.md).")
    legacy = data_dir / LEGACY_KEY_NAME if data_dir is not None else None
    if legacy is not None and legacy.is_file():
        old = legacy.read_text().strip()
        if not path.exists():
            _write_new(path, old)
        elif _read_key(path).decode() != old:
            raise KeyError_(f"{legacy} (left by an older version) differs from the key file {path}. Keep the one "
                            "the database was built with outside the data folder, set CSC_KEY_FILE to it and "
                            f"delete {legacy}.")
        legacy.unlink()
    if not path.exists():
        try:
            _write_new(path, secrets.token_hex(32))
        except FileExistsError:
            pass  # another process made it first
        except OSError as exc:
            raise KeyError_(f"The key file {path} does not exist and cannot be made ({(exc.strerror or str(exc)).lower()}). "
                            "Set CSC_KEY_FILE to a file path outside the data folder whose folder can be "
                            "written, or give the secret itself as CSC_ID_KEY (see docs/deployment.md).") from exc
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    """The secret in the key file `path`, or a message saying what is wrong with the file."""
    if path.is_dir():
        raise KeyError_(f"The key file {path} is a folder, not a file. Set CSC_KEY_FILE to the path of the key "
                        f"file itself (for example {path}/id_key), outside the data folder (see docs/deployment.md).")
    try:
        key = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else "it is not text"
        raise KeyError_(f"The key file {path} cannot be read ({why}). Check its permissions, or set CSC_KEY_FILE "
                        "to the key file the database was built with (see docs/deployment.md).") from exc
    if not key:
        raise KeyError_(f"The key file {path} is empty: an empty key would make the pseudonyms reversible. Put the "
                        "key the database was built with back in it (or delete the file to make a new key for a "
                        "new database; see docs/deployment.md).")
    return key.encode()


def old_secrets() -> list[bytes]:
    """Secrets replaced by a rotation, still accepted for decrypting kept files."""
    out = []
    if os.environ.get("CSC_OLD_ID_KEY"):
        out.append(os.environ["CSC_OLD_ID_KEY"].encode())
    if os.environ.get("CSC_OLD_KEY_FILE"):
        out.append(_read_key(Path(os.environ["CSC_OLD_KEY_FILE"]).expanduser()))
    return out


def file_key(secret_: bytes) -> bytes:
    return hmac.digest(secret_, b"csc kept-file encryption v1", "sha256")


def encrypt(data: bytes, secret_: bytes) -> bytes:
    nonce = os.urandom(12)
    return MAGIC + nonce + AESGCM(file_key(secret_)).encrypt(nonce, data, MAGIC)


def is_encrypted(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def decrypt(blob: bytes, secret_: bytes | list[bytes]) -> bytes:
    """The plaintext of `encrypt`; tries each secret given. A file written before encryption (no
    MAGIC) is returned as it is."""
    if not is_encrypted(blob):
        return blob
    nonce, body = blob[len(MAGIC):len(MAGIC) + 12], blob[len(MAGIC) + 12:]
    for s in [secret_] if isinstance(secret_, bytes) else secret_:
        try:
            return AESGCM(file_key(s)).decrypt(nonce, body, MAGIC)
        except InvalidTag:
            continue
    raise KeyError_("A kept file cannot be decrypted with the key configured (nor any old key given): "
                    "the key has changed. Give the old one as CSC_OLD_KEY_FILE (see docs/deployment.md).")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- files and folders only this user may read ---------------------------------------------


def private_dir(path: Path) -> Path:
    """Create (or tighten) a folder to mode 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes, durable: bool = True) -> None:
    """Write a file readable by this user only (0600), never through a symlink planted there.
    `durable=False`: a scratch copy removed within the call that made it (no fsync: ~10 ms for
    a 6 MB workbook)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def tighten(db: Path) -> None:
    """The data folder 0700 (when it is ours and not a shared folder such as /tmp), the database's
    files 0600, and `uploads/` 0700 with its files 0600. Never raises."""
    import stat

    folder = Path(db).parent
    try:
        st = folder.stat()
        if st.st_uid == os.getuid() and not st.st_mode & stat.S_ISVTX:
            os.chmod(folder, 0o700)
        for f in folder.glob(Path(db).name + "*"):
            if f.is_file() and not f.is_symlink():
                os.chmod(f, 0o600)
        uploads = folder / "uploads"
        if uploads.is_dir() and not uploads.is_symlink():
            os.chmod(uploads, 0o700)
            for f in uploads.iterdir():
                if not f.is_symlink():
                    os.chmod(f, 0o700 if f.is_dir() else 0o600)
    except OSError:
        pass
