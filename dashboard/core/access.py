"""Who sees what: users, roles and the row scope that every query obeys.

The scope is derived from the user's row in the `users` table only — never from query
parameters or session state — and the query layer turns it into WHERE conditions
(queries/_common.row_conditions), so a page cannot show rows it was not meant to read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import polars as pl
from sqlalchemy import ColumnElement, Table, false

from dashboard.core import config

ROLES = ("agent", "supervisor", "national", "admin")
ROLE_LABELS = {
    "agent": "Agent",
    "supervisor": "Superviseur de site",
    "national": "Direction nationale",
    "admin": "Administrateur",
}


@dataclass(frozen=True)
class User:
    """One row of the `users` table."""

    login: str
    role: str
    site: str | None = None
    agent_id: str | None = None
    display_name: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Scope:
    """The rows a user may read: all, one site's, or one agent's own."""

    role: str
    site: str | None = None
    agent_id: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role == "supervisor" and not self.site:
            raise ValueError("a supervisor's scope needs a site")
        if self.role == "agent" and not self.agent_id:
            raise ValueError("an agent's scope needs an agent_id")

    @property
    def sees_all_sites(self) -> bool:
        """National and admin users read every site."""
        return self.role in ("national", "admin")

    def conditions(self, table: Table) -> list[ColumnElement[bool]]:
        """WHERE conditions restricting TABLE to this scope's rows."""
        if self.sees_all_sites:
            return []
        if self.role == "supervisor":
            if "site" not in table.c:
                return [false()]
            return [table.c.site == self.site]
        # An agent reads the rows that carry its own agent_id, nothing else.
        if "agent_id" not in table.c:
            return [false()]
        conds = [table.c.agent_id == self.agent_id]
        if self.site and "site" in table.c:
            conds.append(table.c.site == self.site)
        return conds

    def allows_site(self, site: str) -> bool:
        """Whether figures of SITE may be shown at all in this scope."""
        return self.sees_all_sites or self.site == site

    def may_see_agent_names(self, site: str | None) -> bool:
        """Agents' names: for the supervisors of their site and for admins only."""
        return self.role == "admin" or (self.role == "supervisor" and self.site == site)


ALL_ROWS = Scope("admin")


def scope_for(user: User) -> Scope:
    """The scope a user's role and site give."""
    if user.role == "agent":
        return Scope("agent", site=user.site, agent_id=user.agent_id)
    if user.role == "supervisor":
        return Scope("supervisor", site=user.site)
    return Scope(user.role)


_PROCESS_SALT = secrets.token_hex(16)


def _pseudonym_key() -> str:
    # A keyed hash: agent ids are guessable (rouen-a01…), so an unkeyed hash would be
    # reversed by trying them all. Without a configured secret the key lives as long as
    # the process: pseudonyms then change on restart, but are never reversible.
    return config.get("DASHBOARD_PSEUDONYM_SECRET") or _PROCESS_SALT


def pseudonym(agent_id: str) -> str:
    """A stable, non-reversible label for an agent in views that must not name agents."""
    digest = hmac.new(_pseudonym_key().encode(), agent_id.encode(), hashlib.sha256).hexdigest()
    return f"agent-{digest[:8]}"


def present_agents(frame: pl.DataFrame, scope: Scope, column: str = "agent") -> pl.DataFrame:
    """FRAME with agent ids pseudonymised where SCOPE may not identify agents (national)."""
    if column not in frame.columns or scope.role != "national":
        return frame
    return frame.with_columns(
        pl.col(column).map_elements(pseudonym, return_dtype=pl.String)
    )
