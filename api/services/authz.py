"""Who may do what, where. Scope is a set of unit subtrees; queries filter by it.

Default deny: a role not in ROLE_ACTIONS, or an action not listed for a role, grants
nothing. `admin` may do everything everywhere (its grants carry no unit).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.orm import QueryableAttribute

from api.core.enums import Role
from api.core.errors import Forbidden
from api.core.i18n import msg


class Action(StrEnum):
    UNIT_READ = "unit.read"
    UNIT_MANAGE = "unit.manage"
    MEMBER_READ = "member.read"
    MEMBER_MANAGE = "member.manage"
    USER_MANAGE = "user.manage"
    CLIENT_MANAGE = "client.manage"
    AUDIT_READ = "audit.read"
    STATS_READ = "stats.read"
    ACCOUNT_READ = "account.read"
    ACCOUNT_MANAGE = "account.manage"
    ACCOUNT_VERIFY = "account.verify"
    REPORT_HANDLE = "report.handle"
    DOCUMENT_MANAGE = "document.manage"
    ROSTER_SYNC = "roster.sync"


A = Action
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.manager: frozenset(
        {
            A.UNIT_READ,
            A.UNIT_MANAGE,
            A.MEMBER_READ,
            A.MEMBER_MANAGE,
            A.USER_MANAGE,
            A.AUDIT_READ,
            A.STATS_READ,
            A.ACCOUNT_READ,
            A.ACCOUNT_MANAGE,
            A.ACCOUNT_VERIFY,
            A.REPORT_HANDLE,
            A.DOCUMENT_MANAGE,
        }
    ),
    Role.reviewer: frozenset(
        {A.UNIT_READ, A.MEMBER_READ, A.ACCOUNT_READ, A.REPORT_HANDLE, A.STATS_READ}
    ),
    Role.partner: frozenset({A.UNIT_READ, A.MEMBER_READ, A.ROSTER_SYNC}),
    Role.analyst: frozenset({A.STATS_READ}),
    # `member` rights concern the caller's own record and are checked by ownership.
    Role.member: frozenset(),
}

# Roles a user grant may carry (partner is for API clients; member comes from member_id).
USER_GRANT_ROLES = frozenset({Role.admin, Role.manager, Role.reviewer, Role.analyst})
CLIENT_ROLES = frozenset({Role.partner, Role.analyst})


@dataclass(frozen=True, slots=True)
class ScopedGrant:
    role: Role
    unit_id: uuid.UUID | None
    path: str | None


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "user" | "client"
    id: uuid.UUID
    name: str
    member_id: uuid.UUID | None = None
    member_unit_id: uuid.UUID | None = None
    # The member's unit's path when it was loaded (None: not loaded, ask the database).
    member_unit_path: str | None = None
    grants: tuple[ScopedGrant, ...] = field(default_factory=tuple)

    @property
    def is_admin(self) -> bool:
        return any(g.role is Role.admin for g in self.grants)

    @property
    def roles(self) -> set[Role]:
        roles = {g.role for g in self.grants}
        if self.member_id is not None:
            roles.add(Role.member)
        return roles

    def paths_for(self, action: Action) -> list[str] | None:
        """Subtree roots where `action` is allowed; None means everywhere (admin)."""
        if self.is_admin:
            return None
        return [
            g.path
            for g in self.grants
            if g.path is not None and action in ROLE_ACTIONS.get(g.role, ())
        ]

    def can_anywhere(self, action: Action) -> bool:
        paths = self.paths_for(action)
        return paths is None or bool(paths)

    def covers(self, action: Action, path: str) -> bool:
        paths = self.paths_for(action)
        return paths is None or any(path.startswith(p) for p in paths)


def subtree_end(path: str) -> str:
    """Exclusive upper bound of the subtree rooted at `path` ('/…/x/' → '/…/x0'): every
    descendant path starts with `path`, and '/' < '0' < every id character."""
    return path[:-1] + "0"


# A units.path column: of the table, of a mapped class or an alias of it.
PathColumn = ColumnElement[str] | QueryableAttribute[str]


def in_subtree(column: PathColumn, path: str) -> ColumnElement[bool]:
    return and_(column >= path, column < subtree_end(path))


def scope_filter(
    principal: Principal, action: Action, path_column: PathColumn
) -> ColumnElement[bool]:
    """The WHERE clause limiting `path_column` (a units.path) to the caller's scope."""
    paths = principal.paths_for(action)
    if paths is None:
        return true()
    if not paths:
        return false()
    return or_(*(in_subtree(path_column, p) for p in _outermost(paths)))


def _outermost(paths: list[str]) -> list[str]:
    ordered = sorted(set(paths))
    out: list[str] = []
    for p in ordered:
        if not any(p.startswith(o) for o in out):
            out.append(p)
    return out


def require(principal: Principal, action: Action, path: str | None = None) -> None:
    """403 unless `action` is allowed at `path` (or anywhere, when path is None)."""
    allowed = principal.can_anywhere(action) if path is None else principal.covers(action, path)
    if not allowed:
        raise Forbidden(
            detail=msg("authz.role_may_not"),
        )
