"""Configuration as data: paths and settings from the environment, never hard-coded in pages."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "csc.duckdb"
QUERIES = ROOT / "queries"
ACTION_PLAN = ROOT / "data" / "action_plan.toml"


def queries() -> Path:
    """The queries folder (kpis/, checks/, staging/, app/): $CSC_QUERIES, else `queries/`."""
    value = os.environ.get("CSC_QUERIES")
    return Path(value) if value else QUERIES


COUNCIL_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEFAULT_COUNCIL = "demo"


class ConfigError(ValueError):
    """A setting that cannot be used, with a message fit for the operator."""


def council(explicit: str | None = None) -> str:
    """This council's code, which names its folder in a Parquet export and its rows in pooled
    KPIs: an explicit code, else $CSC_COUNCIL, else "demo". Lower-case letters, digits, - and _
    (safe in a path and an object-storage prefix), e.g. an ONS or DfE LA code."""
    code = (explicit or os.environ.get("CSC_COUNCIL") or DEFAULT_COUNCIL).strip().lower()
    if not COUNCIL_CODE.match(code):
        raise ConfigError(f"The council code {code!r} is not usable: use 1 to 40 lower-case letters, digits, - or _.")
    return code


def region_dir() -> Path | None:
    """A folder of pooled KPI results (`python -m csc spark-kpis`) for the regional view: $CSC_REGION_DIR."""
    value = os.environ.get("CSC_REGION_DIR")
    return Path(value) if value else None


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
