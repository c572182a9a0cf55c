"""Who may use the dashboard, and which of its pages: roles, the roles file, the identity a
signed-in account's claims give, and the viewer. No Streamlit here (csc.ui asks Streamlit who is
signed in and calls these)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from csc import config

ROLES = ("director", "board", "analyst")
ROLE_LABELS = {"director": "Director", "board": "Board member", "analyst": "Performance analyst"}
# Pages each role may use; a page not listed for a role is never registered for it.
PAGE_ROLES = {
    "overview": ROLES,
    "action": ROLES,
    "workforce": ROLES,
    "practice": ROLES,
    "region": ROLES,  # registered only when $CSC_REGION_DIR names pooled results (dashboard.py)
    "plan": ("director", "analyst"),
    "data_quality": ("director", "analyst"),
    "imports": ("director", "analyst"),
    "upload": ("analyst",),
    "teams": ("analyst",),
    "audit": ("analyst",),
}


@dataclass(frozen=True)
class Viewer:
    user: str
    role: str | None
    local: bool

    @property
    def is_board(self) -> bool:
        return self.role == "board"

    def may(self, page: str) -> bool:
        return self.role in PAGE_ROLES.get(page, ())


def roles_file() -> Path:
    return Path(os.environ.get("CSC_ROLES", config.ROOT / "data" / "roles.toml"))


def _roles(roles: dict | None) -> dict:
    if roles is None:
        path = roles_file()
        roles = tomllib.loads(path.read_text()) if path.exists() else {}
    return roles


def role_for(email: str | None, roles: dict | None = None) -> str | None:
    """The role mapped to an e-mail address, else to its domain; None means no access."""
    if not email:
        return None
    roles = _roles(roles)
    email = email.strip().lower()
    users = {k.lower(): v for k, v in roles.get("users", {}).items()}
    domains = {k.lower(): v for k, v in roles.get("domains", {}).items()}
    role = users.get(email) or domains.get(email.rsplit("@", 1)[-1])
    return role if role in ROLES else None


STABLE_CLAIMS = ("oid", "sub")  # Entra ID's object id; any provider's subject


def identity(claims: dict, roles: dict | None = None) -> tuple[str | None, str, str | None]:
    """(role, who, why not) for a signed-in account's claims.

    A stable claim listed in the roles file's `[subjects]` (`oid`, then `sub`: ids the identity
    provider never reassigns) gives its role. Otherwise the e-mail address (`[users]`, then
    `[domains]`) does, but only when the provider has not said it is unverified: a token with
    `email_verified = false` is refused, and with `require_verified_email = true` in the roles file
    so is one that does not say (see docs/deployment.md)."""
    roles = _roles(roles)
    email = claims.get("email")
    who = email or claims.get("sub") or claims.get("oid") or "unknown"
    subjects = {str(k).strip().lower(): v for k, v in roles.get("subjects", {}).items()}
    for claim in STABLE_CLAIMS:
        value = claims.get(claim)
        if value and subjects.get(str(value).strip().lower()) in ROLES:
            return subjects[str(value).strip().lower()], who, None
    verified = claims.get("email_verified")
    if isinstance(verified, str):
        verified = verified.strip().lower() == "true"
    if email and (verified is False or (verified is None and roles.get("require_verified_email"))):
        return None, who, "unverified"
    role = role_for(email, roles)
    return role, who, None if role else "not mapped"
