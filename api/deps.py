"""FastAPI dependencies: the session, the authenticated principal, If-Match, the route
class that commits before the response is sent."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.db import db
from api.core.enums import MemberStatus, Role
from api.core.errors import PreconditionFailed, Unauthorized
from api.core.security import InvalidToken, decode_access_token
from api.core.versioning import check_version
from api.models import ApiClient, Grant, Member, Unit, User
from api.services.authz import Principal, ScopedGrant

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, closed as soon as the handler returns (scope="function")
    so its connection is back in the pool before the response is sent. Writes commit
    here, after the handler and before the response: a client never sees a 2xx for a
    write that did not commit. Any exception rolls back. Safe methods get an autocommit
    session (no BEGIN/COMMIT round trips)."""
    read_only = request.method in SAFE_METHODS
    maker = db.read_sessionmaker if read_only else db.sessionmaker
    async with maker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        if not read_only and session.in_transaction():
            await session.commit()
            # Any write may change a principal (grants, status, token version, unit
            # paths): this process forgets its cached checks at once.
            principal_cache.clear()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

_INVALID = (
    "invalid_token",
    "Mã truy cập không hợp lệ hoặc đã hết hạn.",
    "The access token is invalid or expired.",
)
LOGIN_STATUSES = (MemberStatus.active, MemberStatus.exempt)


_users, _members, _grants, _units, _clients = (
    User.__table__, Member.__table__, Grant.__table__, Unit.__table__, ApiClient.__table__,
)  # fmt: skip
_grant_units = _units.alias("grant_units")
# Built once: a principal check is on every request, so it is one prebuilt Core statement.
_USER_PRINCIPAL = (
    select(_users.c.username, _users.c.active, _users.c.token_version, _users.c.member_id,
           _members.c.unit_id, _members.c.status, _grants.c.role, _grants.c.unit_id.label("grant_unit_id"),
           _grant_units.c.path)
    .select_from(
        _users.outerjoin(_members, _members.c.id == _users.c.member_id)
        .outerjoin(_grants, _grants.c.user_id == _users.c.id)
        .outerjoin(_grant_units, _grant_units.c.id == _grants.c.unit_id)
    )
    .where(_users.c.id == bindparam("sub"))
)  # fmt: skip
_CLIENT_PRINCIPAL = (
    select(_clients.c.client_id, _clients.c.active, _clients.c.token_version, _clients.c.role,
           _clients.c.unit_id, _units.c.path)
    .select_from(_clients.join(_units, _units.c.id == _clients.c.unit_id))
    .where(_clients.c.id == bindparam("sub"))
)  # fmt: skip


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
        kind="user", id=user_id, name=first.username, member_id=first.member_id,
        member_unit_id=first.unit_id, grants=grants,
    )  # fmt: skip


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
        kind="client", id=client_id, name=row.client_id,
        grants=(ScopedGrant(Role(row.role), row.unit_id, row.path),),
    )  # fmt: skip


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


async def get_principal(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    if not token:
        raise Unauthorized(
            "unauthorized", "Cần đăng nhập (Bearer token).", "A bearer token is required."
        )
    try:
        claims = decode_access_token(token)
    except InvalidToken as exc:
        raise Unauthorized(*_INVALID) from exc
    key = (claims.kind, claims.sub, claims.token_version)
    principal = principal_cache.get(key)
    if principal is None:
        loader = load_user_principal if claims.kind == "user" else load_client_principal
        principal = await loader(session, claims.sub, claims.token_version)
        if principal is None:
            raise Unauthorized(*_INVALID)
        principal_cache.put(key, principal, get_settings().principal_cache_seconds)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]

_ETAG_RE = re.compile(r'^\s*(?:W/)?"(\d{1,12})"\s*$')


def etag_of(version: int) -> str:
    return f'"{version}"'


def parse_if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match", description='ETag from a previous read, e.g. `"3"`; 412 when stale.'
        ),
    ] = None,
) -> int | None:
    """The version the client expects; None when it sent no If-Match (or `*`)."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG_RE.match(if_match)
    if match is None:
        raise PreconditionFailed(
            "version_mismatch",
            "If-Match không khớp phiên bản hiện tại.",
            "If-Match does not match the current version.",
        )
    return int(match.group(1))


IfMatchDep = Annotated[int | None, Depends(parse_if_match)]

__all__ = ["IfMatchDep", "PrincipalDep", "SessionDep", "check_version", "etag_of"]
