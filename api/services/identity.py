"""Who the caller is: a user or an API client with its current grants and their unit
paths, loaded from the database. Here, in the services layer, and not in api/deps.py:
the token grants (api/services/auth.py) and report assignment (api/services/reports.py)
load principals too, and a service may not depend on the HTTP layer. api/deps.py
resolves the bearer token and caches what this module loads (`principal_cache`).

The cache is forgotten by this process whenever a transaction that changed what a
principal is made of commits (`_PRINCIPAL_WRITE`): users, grants, API clients, unit paths,
a member's unit or status. The engine events below see every statement, whatever issued
it (a service, a roster apply, the CLI), so no write path has to remember to clear it;
the acknowledgements, declarations and reports of a campaign leave it alone. Another
process's cache sees such a change within `principal_cache_seconds`."""

from __future__ import annotations

import re
import time
import uuid

from sqlalchemy import Connection, Engine, bindparam, event, select
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import MemberStatus, Role
from api.models import ApiClient, Grant, Member, Unit, User
from api.services.authz import Principal, ScopedGrant

LOGIN_STATUSES = (MemberStatus.active, MemberStatus.exempt)

_users, _members, _grants, _units, _clients = (
    User.__table__,
    Member.__table__,
    Grant.__table__,
    Unit.__table__,
    ApiClient.__table__,
)
_grant_units = _units.alias("grant_units")
_member_units = _units.alias("member_units")
# Built once: a principal check is on every request, so it is one prebuilt Core statement.
_USER_PRINCIPAL = (
    select(
        _users.c.username,
        _users.c.active,
        _users.c.token_version,
        _users.c.member_id,
        _members.c.unit_id,
        _members.c.status,
        _member_units.c.path.label("member_unit_path"),
        _grants.c.role,
        _grants.c.unit_id.label("grant_unit_id"),
        _grant_units.c.path,
    )
    .select_from(
        _users.outerjoin(_members, _members.c.id == _users.c.member_id)
        .outerjoin(_member_units, _member_units.c.id == _members.c.unit_id)
        .outerjoin(_grants, _grants.c.user_id == _users.c.id)
        .outerjoin(_grant_units, _grant_units.c.id == _grants.c.unit_id)
    )
    .where(_users.c.id == bindparam("sub"))
)
_CLIENT_PRINCIPAL = (
    select(
        _clients.c.client_id,
        _clients.c.active,
        _clients.c.token_version,
        _clients.c.role,
        _clients.c.unit_id,
        _units.c.path,
    )
    .select_from(_clients.join(_units, _units.c.id == _clients.c.unit_id))
    .where(_clients.c.id == bindparam("sub"))
)


async def load_user_principal(
    session: AsyncSession, user_id: uuid.UUID, token_version: int | None
) -> Principal | None:
    """The user with current grants and their current unit paths, in one query; None when
    the user is gone, inactive, its token version moved on, or its member left the roster."""
    conn = await session.connection()
    rows = (await conn.execute(_USER_PRINCIPAL, {"sub": user_id})).all()
    if not rows:
        return None
    first = rows[0]
    if not first.active or (token_version is not None and first.token_version != token_version):
        return None
    if first.member_id is not None and first.status not in LOGIN_STATUSES:
        return None
    grants = tuple(
        ScopedGrant(Role(r.role), r.grant_unit_id, r.path) for r in rows if r.role is not None
    )
    return Principal(
        kind="user",
        id=user_id,
        name=first.username,
        member_id=first.member_id,
        member_unit_id=first.unit_id,
        member_unit_path=first.member_unit_path,
        grants=grants,
    )


async def load_client_principal(
    session: AsyncSession, client_id: uuid.UUID, token_version: int | None
) -> Principal | None:
    conn = await session.connection()
    row = (await conn.execute(_CLIENT_PRINCIPAL, {"sub": client_id})).first()
    if row is None or not row.active:
        return None
    if token_version is not None and row.token_version != token_version:
        return None
    return Principal(
        kind="client",
        id=client_id,
        name=row.client_id,
        grants=(ScopedGrant(Role(row.role), row.unit_id, row.path),),
    )


# ----------------------------------------------------------------- the principal cache


class PrincipalCache:
    """Principal checks reused for `principal_cache_seconds`, keyed by (kind, id, token
    version): a new token version (password, grants, deactivation) is a cache miss."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, uuid.UUID, int], tuple[float, Principal]] = {}

    def get(self, key: tuple[str, uuid.UUID, int]) -> Principal | None:
        hit = self._items.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: tuple[str, uuid.UUID, int], principal: Principal, ttl: float) -> None:
        if ttl <= 0:
            return
        if len(self._items) >= 50_000:
            self._items.clear()
        self._items[key] = (time.monotonic() + ttl, principal)

    def clear(self) -> None:
        self._items.clear()


principal_cache = PrincipalCache()

# A statement that changes what some principal is made of: any write to users, grants,
# API clients or units (paths, status), and a write to members that names `unit_id` or
# `status` (a member user's unit and login status; a declaration does not). Conservative:
# a false match only costs a cache refill.
_PRINCIPAL_WRITE = re.compile(
    r"^\s*(?:(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(?:users|grants|api_clients|units)\b"
    r"|(?:UPDATE|DELETE\s+FROM)\s+\"?members\b(?:.*\b(?:unit_id|status)\b)?)",
    re.IGNORECASE | re.DOTALL,
)
_CHANGED = "qd85_principals_changed"


@event.listens_for(Engine, "before_cursor_execute")
def _note_principal_write(
    conn: Connection, cursor: DBAPICursor, statement: str, *args: object
) -> None:
    if _PRINCIPAL_WRITE.match(statement):
        conn.info[_CHANGED] = True


@event.listens_for(Engine, "commit")
def _forget_on_commit(conn: Connection) -> None:
    if conn.info.pop(_CHANGED, False):
        principal_cache.clear()


@event.listens_for(Engine, "rollback")
def _keep_on_rollback(conn: Connection) -> None:
    if not conn.invalidated:  # an invalidated connection's info is gone with it
        conn.info.pop(_CHANGED, None)
