"""An upload, from the browser's bytes to an import, without passing through a shared folder.

`check` and `load` each put the bytes in a folder of their own (`tempfile.mkdtemp`, mode 0700,
the file created with O_EXCL|O_NOFOLLOW, so nothing planted in /tmp can redirect it) and remove it
afterwards. The digest `check` returns is shown to the analyst and handed to `load`, which refuses
bytes that differ from the ones checked. A refused file is audited; for an Annex A file the teams
it names without an area office are listed for the Teams page (team names only, apart from the data).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from csc import annexa
from csc.extract import Extract
from csc.store import ImportResult, Store, private_copy


@dataclass
class Checked:
    extract: Extract
    sha256: str
    name: str

    @property
    def ok(self) -> bool:
        return self.extract.ok


def check(store: Store, data: bytes, name: str, user: str, role: str | None) -> Checked:
    """Validate the bytes, storing nothing but, for a refused file, the audit entry (and Annex A's
    waiting teams)."""
    digest = hashlib.sha256(data).hexdigest()
    with private_copy(data, name) as path:
        extract = store.validate(path, original_name=name, sha256=digest)  # the digest of these bytes: not hashed again
    if not extract.ok:
        store.audit(user, role, "upload_refused", {"file": name, "sha256": digest, "problems": len(extract.errors)})
        annexa.record_unmapped(store, extract, user=user, role=role, name=name)
    return Checked(extract, digest, name)


def load(store: Store, data: bytes, name: str, period: str, user: str, role: str | None, checked_sha256: str,
         progress=None) -> ImportResult:
    """Import the bytes that were checked: refused if their digest is not `checked_sha256`."""
    with private_copy(data, name) as path:
        return store.import_file(path, period, user=user, role=role, original_name=name, progress=progress,
                                 expected_sha256=checked_sha256)
