"""Users (people who log in) and API clients (partner systems, statistics scripts)."""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import utcnow
from api.core.enums import Role
from api.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.core.i18n import Message, msg
from api.core.pagination import Order, paginate
from api.core.security import hash_password_off_loop, new_secret, sha256_hex
from api.core.versioning import check_version
from api.models import ApiClient, Grant, Member, Unit, User
from api.schemas.users import ClientCreate, GrantIn, UserCreate, UserUpdate
from api.services import audit
from api.services.authz import (
    CLIENT_ROLES,
    USER_GRANT_ROLES,
    Action,
    Principal,
    require,
    scope_filter,
)
from api.services.units import unknown_reference

_USER_NOT_FOUND = ("not_found", msg("users.not_found"))
_CLIENT_NOT_FOUND = ("not_found", msg("users.client_not_found"))


def _bad_grant(index: int, message: Message, kind: str = "grant") -> Unprocessable:
    en = message.render("en")
    return Unprocessable(
        "validation_failed",
        message,
        extra={"errors": [{"loc": ["body", "grants", index], "msg": en, "type": kind}]},
    )


async def _check_grants(session: AsyncSession, grants: list[GrantIn]) -> list[GrantIn]:
    out: list[GrantIn] = []
    for i, g in enumerate(grants):
        if g.role not in USER_GRANT_ROLES:
            raise _bad_grant(
                i,
                msg("users.role_not_grantable", role=g.role),
            )
        if g.role is Role.admin:
            out.append(GrantIn(role=Role.admin, unit_id=None))
            continue
        if g.unit_id is None:
            raise _bad_grant(i, msg("users.unit_id_required"))
        if not await session.scalar(select(exists().where(Unit.id == g.unit_id))):
            # Like every reference to a row that does not exist (unknown_reference).
            raise _bad_grant(i, msg("users.unknown_unit_id"), "reference")
        out.append(g)
    unique = {(g.role, g.unit_id): g for g in out}
    return list(unique.values())


async def grants_of(
    session: AsyncSession, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Grant]]:
    by_user: dict[uuid.UUID, list[Grant]] = {uid: [] for uid in user_ids}
    if user_ids:
        for g in (
            await session.scalars(
                select(Grant).where(Grant.user_id.in_(user_ids)).order_by(Grant.role)
            )
        ).all():
            by_user[g.user_id].append(g)
    return by_user


def _visible_users(principal: Principal) -> Select[User]:
    """Admins see every user; managers the users linked to members in their scope."""
    stmt = select(User)
    if principal.is_admin:
        return stmt
    return (
        stmt.join(Member, Member.id == User.member_id)
        .join(Unit, Unit.id == Member.unit_id)
        .where(scope_filter(principal, Action.USER_MANAGE, Unit.path))
    )


@dataclass(frozen=True, slots=True)
class Visible:
    """A user account the caller manages (403 first for a caller who manages none)."""

    user: User


async def get_visible(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> Visible:
    require(principal, Action.USER_MANAGE)
    user: User | None = await session.scalar(_visible_users(principal).where(User.id == user_id))
    if user is None:
        raise NotFound(*_USER_NOT_FOUND)
    return Visible(user)


def _managers_only_plain_members(
    principal: Principal, grants: Sequence[GrantIn] | Sequence[Grant]
) -> None:
    if not principal.is_admin and grants:
        raise Forbidden(
            detail=msg("users.manager_no_role_grants"),
        )


async def create_user(
    session: AsyncSession, principal: Principal, data: UserCreate
) -> tuple[User, list[Grant]]:
    require(principal, Action.USER_MANAGE)
    _managers_only_plain_members(principal, data.grants)
    if not principal.is_admin and data.member_id is None:
        raise Forbidden(
            detail=msg("users.manager_member_users_only"),
        )
    if data.member_id is not None:
        member_q = select(Member.id).where(Member.id == data.member_id)
        if not principal.is_admin:
            member_q = member_q.join(Unit, Unit.id == Member.unit_id).where(
                scope_filter(principal, Action.USER_MANAGE, Unit.path)
            )
        if await session.scalar(member_q) is None:
            raise unknown_reference("member_id", msg("words.member"))
        if await session.scalar(select(exists().where(User.member_id == data.member_id))):
            raise Conflict("duplicate", msg("users.member_has_user"))
    username = data.username.lower()
    if await session.scalar(select(exists().where(User.username == username))):
        raise _duplicate_username(username)
    grants = await _check_grants(session, data.grants)
    user = User(
        username=username,
        password_hash=await hash_password_off_loop(data.password),
        member_id=data.member_id,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _duplicate_username(username) from exc
    rows = [Grant(user_id=user.id, role=g.role, unit_id=g.unit_id) for g in grants]
    session.add_all(rows)
    await session.flush()
    audit.record(
        session,
        principal,
        "user.create",
        "user",
        user.id,
        await _audit_unit(session, user),
        {
            "username": username,
            "member_id": data.member_id,
            "password": "set",
            "grants": [{"role": g.role, "unit_id": g.unit_id} for g in grants],
        },
    )
    return user, rows


def _duplicate_username(username: str) -> Conflict:
    return Conflict("duplicate", msg("users.username_taken", username=username))


async def _audit_unit(session: AsyncSession, user: User) -> uuid.UUID | None:
    if user.member_id is None:
        return None
    return await session.scalar(select(Member.unit_id).where(Member.id == user.member_id))


async def update_user(
    session: AsyncSession,
    principal: Principal,
    user: User,
    data: UserUpdate,
    expected_version: int | None,
) -> tuple[User, list[Grant]]:
    check_version(expected_version, user.version)
    current = (await grants_of(session, [user.id]))[user.id]
    _managers_only_plain_members(principal, current)
    fields = data.model_dump(exclude_unset=True)
    if "grants" in fields:
        _managers_only_plain_members(principal, data.grants or [])
    if principal.kind == "user" and user.id == principal.id and fields.get("active") is False:
        raise Conflict("conflict", msg("users.self_deactivation"))
    changes: dict[str, object] = {}
    if fields.get("active") is not None and fields["active"] != user.active:
        changes["active"] = [user.active, fields["active"]]
        user.active = fields["active"]
    if fields.get("password") is not None:
        user.password_hash = await hash_password_off_loop(fields["password"])
        changes["password"] = "changed"  # noqa: S105 - audit marker, never the value
    if "grants" in fields and data.grants is not None:
        new = await _check_grants(session, data.grants)
        before = sorted((g.role.value, str(g.unit_id)) for g in current)
        after = sorted((g.role.value, str(g.unit_id)) for g in new)
        if before != after:
            await session.execute(delete(Grant).where(Grant.user_id == user.id))
            current = [Grant(user_id=user.id, role=g.role, unit_id=g.unit_id) for g in new]
            session.add_all(current)
            changes["grants"] = [before, after]
    if changes:
        # Any of these changes ends the user's outstanding sessions.
        user.token_version += 1
        user.updated_at = utcnow()
        await session.flush()
        audit.record(
            session,
            principal,
            "user.update",
            "user",
            user.id,
            await _audit_unit(session, user),
            changes,
        )
    return user, current


_USER_ORDER = Order("users", (User.username, User.id))
_CLIENT_ORDER = Order("clients", (ApiClient.created_at, ApiClient.id))


async def list_users(
    session: AsyncSession, principal: Principal, *, q: str | None, cursor: str | None, limit: int
) -> tuple[list[User], str | None]:
    require(principal, Action.USER_MANAGE)
    stmt = _visible_users(principal)
    if q:
        stmt = stmt.where(User.username.contains(q.strip().lower(), autoescape=True))
    return await paginate(session, stmt, order=_USER_ORDER, cursor=cursor, limit=limit)


# --- API clients (admin only) ---------------------------------------------------------


def _require_admin(principal: Principal) -> None:
    require(principal, Action.CLIENT_MANAGE)


async def create_client(
    session: AsyncSession, principal: Principal | None, data: ClientCreate
) -> tuple[ApiClient, str]:
    if principal is not None:
        _require_admin(principal)
    if data.role not in CLIENT_ROLES:
        raise Unprocessable(
            "validation_failed",
            msg("users.client_role"),
            extra={
                "errors": [
                    {"loc": ["body", "role"], "msg": "must be partner or analyst", "type": "enum"}
                ]
            },
        )
    if not await session.scalar(select(exists().where(Unit.id == data.unit_id))):
        raise unknown_reference("unit_id", msg("words.unit"))
    secret = new_secret()
    client = ApiClient(
        client_id="qd85_" + secrets.token_hex(8),
        name=data.name,
        secret_hash=sha256_hex(secret),
        role=data.role,
        unit_id=data.unit_id,
    )
    session.add(client)
    await session.flush()
    audit.record(
        session,
        principal,
        "client.create",
        "client",
        client.id,
        client.unit_id,
        {"name": client.name, "role": client.role, "client_id": client.client_id},
    )
    return client, secret


def verify_client_secret(client: ApiClient, secret: str) -> bool:
    return hmac.compare_digest(client.secret_hash, sha256_hex(secret))


async def get_client(
    session: AsyncSession, principal: Principal, client_id: uuid.UUID
) -> ApiClient:
    _require_admin(principal)
    client = await session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(*_CLIENT_NOT_FOUND)
    return client


async def list_clients(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> tuple[list[ApiClient], str | None]:
    _require_admin(principal)
    return await paginate(
        session, select(ApiClient), order=_CLIENT_ORDER, cursor=cursor, limit=limit
    )


async def rotate_client_secret(
    session: AsyncSession, principal: Principal, client: ApiClient
) -> str:
    if not client.active:
        raise Conflict("conflict", msg("users.client_revoked"))
    secret = new_secret()
    client.secret_hash = sha256_hex(secret)
    client.token_version += 1
    client.updated_at = utcnow()
    await session.flush()
    audit.record(
        session,
        principal,
        "client.rotate_secret",
        "client",
        client.id,
        client.unit_id,
        {"client_secret": "rotated"},
    )
    return secret


async def revoke_client(session: AsyncSession, principal: Principal, client: ApiClient) -> None:
    if not client.active:
        return
    client.active = False
    client.token_version += 1
    client.updated_at = utcnow()
    await session.flush()
    audit.record(
        session,
        principal,
        "client.revoke",
        "client",
        client.id,
        client.unit_id,
        {"active": [True, False]},
    )
