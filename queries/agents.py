"""Agents' display names, for the users allowed to see them."""

from __future__ import annotations

from sqlalchemy import Connection, select

from dashboard.core.access import Scope
from dashboard.store import schema

A = schema.agents


def agent_names(conn: Connection, scope: Scope) -> dict[str, str]:
    """agent_id → display name, only for agents whose names SCOPE may see."""
    if scope.role == "admin":
        query = select(A.c.agent_id, A.c.display_name)
    elif scope.role == "supervisor":
        query = select(A.c.agent_id, A.c.display_name).where(A.c.site == scope.site)
    elif scope.role == "agent":
        query = select(A.c.agent_id, A.c.display_name).where(A.c.agent_id == scope.agent_id)
    else:  # national: agent-level figures are pseudonymised, never named
        return {}
    return {agent: name for agent, name in conn.execute(query).all() if name}
