"""Who may use the dashboard, and which of its pages: the roles, the rule that gives a page to a
role, the roles file, the identity a signed-in account's claims give, the viewer, and local mode.
No Streamlit here: csc.ui asks Streamlit who is signed in and calls these; csc.pages says which
roles each page is for."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from csc import config

ROLES = ("director", "board", "analyst")
ROLE_LABELS = {"director": "Director", "board": "Board member", "analyst": "Performance analyst"}
# Who a page is for (csc.pages): a page not for a role is never registered in its navigation, and
# refuses it where the page is drawn.
EVERYONE = ROLES
MANAGERS = ("director", "analyst")  # the action plan, imports, data quality
ANALYSTS = ("analyst",)  # uploads, rollbacks, team mapping, the audit log


class ForRoles(Protocol):
    roles: tuple[str, ...]


def may(role: str | None, page: ForRoles) -> bool:
    """Whether a role may use a page (a csc.pages.Page)."""
    return role in ROLES and role in page.roles


@dataclass(frozen=True)
class Viewer:
    user: str
    role: str | None
    local: bool

    @property
    def is_board(self) -> bool:
        return self.role == "board"

    def may(self, page: ForRoles) -> bool:
        return may(self.role, page)


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


# --- local mode: no sign-in, this computer only -------------------------------------------------


def is_local_address(address: str) -> bool:
    """Whether the server's address (`server.address`) serves this computer only: `localhost` or a
    loopback IP. Empty (every interface) or a name or address others can reach is not."""
    if address in ("localhost", ""):
        return address == "localhost"
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def local_role(preview: str | None = None) -> str:
    """The role in local mode: the one being previewed, else $CSC_LOCAL_ROLE, else analyst."""
    role = preview or os.environ.get("CSC_LOCAL_ROLE", "analyst")
    return role if role in ROLES else "analyst"
