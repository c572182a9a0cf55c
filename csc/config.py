"""Configuration as data: paths and settings from the environment, never hard-coded in pages."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "csc.duckdb"
QUERIES = ROOT / "queries"
ACTION_PLAN = ROOT / "data" / "action_plan.toml"


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    """The database file: an explicit path, else $CSC_DB, else data/csc.duckdb."""
    return Path(explicit or os.environ.get("CSC_DB") or DEFAULT_DB)


@dataclass(frozen=True)
class Paths:
    db: Path

    @property
    def uploads(self) -> Path:
        return self.db.parent / "uploads"


def id_key(db: Path) -> bytes:
    """The secret for pseudonymising child ids and encrypting kept files: $CSC_ID_KEY, else the
    key file $CSC_KEY_FILE, else ~/.config/csc/id_key made on first use; never in the data folder
    (see `csc.crypto`). Losing it means new extracts no longer match old ones."""
    from csc import crypto

    return crypto.secret(Path(db))
