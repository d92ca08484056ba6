"""The `users` table: who may log in, with which role, site and agent."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from dashboard.core.access import ROLES, User
from dashboard.store import schema

U = schema.users


class UserError(ValueError):
    """A user row that cannot be written."""


def get_user(conn: Connection, login: str) -> User | None:
    """The user with this login, or None."""
    row = conn.execute(select(U).where(U.c.login == login)).mappings().first()
    return User(**dict(row)) if row else None


def active_user(conn: Connection, login: str | None) -> User | None:
    """The user with this login if it exists and is active, else None."""
    if not login:
        return None
    user = get_user(conn, login)
    return user if user is not None and user.active else None


def list_users(conn: Connection) -> list[User]:
    """Every user, by role then login."""
    rows = conn.execute(select(U).order_by(U.c.role, U.c.login)).mappings().all()
    return [User(**dict(r)) for r in rows]


def save_user(conn: Connection, user: User) -> bool:
    """Insert or update USER; returns True when it was new."""
    if user.role not in ROLES:
        raise UserError(f"unknown role {user.role!r}; roles: {', '.join(ROLES)}")
    if user.role in ("agent", "supervisor") and not user.site:
        raise UserError(f"a user with role {user.role} needs --site")
    if user.role == "agent" and not user.agent_id:
        raise UserError("a user with role agent needs --agent-id")
    if user.site is not None:
        known = conn.execute(select(schema.sites.c.code).where(schema.sites.c.code == user.site))
        if known.first() is None:
            raise UserError(f"unknown site {user.site!r}")
    values = {
        "role": user.role, "site": user.site, "agent_id": user.agent_id,
        "display_name": user.display_name, "active": user.active,
    }
    if get_user(conn, user.login) is None:
        conn.execute(U.insert().values(login=user.login, **values))
        return True
    conn.execute(U.update().where(U.c.login == user.login).values(**values))
    return False


def remove_user(conn: Connection, login: str) -> bool:
    """Delete a user; returns False when there was none."""
    return conn.execute(delete(U).where(U.c.login == login)).rowcount > 0
