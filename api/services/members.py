"""The member roster: scoped reads, Vietnamese search and sort, versioned updates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypedDict

from sqlalchemy import ColumnElement, Row, Select, bindparam, exists, or_, select
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import utcnow
from api.core.enums import Declaration, Membership, MemberStatus
from api.core.errors import Conflict, NotFound, Unprocessable
from api.core.i18n import msg
from api.core.pagination import Order, paginate_rows
from api.core.text_vi import fold, name_sort_key
from api.core.versioning import check_version
from api.models import Member, Unit, User
from api.schemas.members import MemberCreate, MemberUpdate
from api.services import audit, counters
from api.services.authz import Action, Principal, in_subtree, require, scope_filter
from api.services.units import ensure_active, unknown_reference

_NOT_FOUND = ("not_found", msg("members.not_found"))


_members, _units = Member.__table__, Unit.__table__
SORTS = {
    sort: Order(f"members:{sort}", (column, _members.c.id))
    for sort, column in (("name", _members.c.name_sort), ("updated_at", _members.c.updated_at))
}
_READ_BY_ID = select(_members).where(_members.c.id == bindparam("id"))


def _visible_clause(principal: Principal) -> ColumnElement[bool]:
    own = _members.c.id == principal.member_id if principal.member_id else None
    scoped = scope_filter(principal, Action.MEMBER_READ, _units.c.path)
    return or_(own, scoped) if own is not None else scoped


async def read_visible(
    session: AsyncSession, principal: Principal, member_id: uuid.UUID
) -> Row[*tuple[object, ...]]:
    """The member as a row, if the caller may see it: the lean GET path (Core, one
    statement; admins skip the scope join)."""
    conn = await session.connection()
    if principal.is_admin:
        row = (await conn.execute(_READ_BY_ID, {"id": member_id})).first()
    else:
        stmt = (
            select(_members)
            .join(_units, _units.c.id == _members.c.unit_id)
            .where(_members.c.id == member_id, _visible_clause(principal))
        )
        row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound(*_NOT_FOUND)
    return row


@dataclass(frozen=True, slots=True)
class Visible:
    """A member the caller may see (own record or in scope) and its unit's path."""

    member: Member
    path: str


async def get_visible(session: AsyncSession, principal: Principal, member_id: uuid.UUID) -> Visible:
    """The member and its unit's path, if the caller may see it (own record or in scope)."""
    stmt = (
        select(Member, Unit.path)
        .join(Unit, Unit.id == Member.unit_id)
        .where(Member.id == member_id, _visible_clause(principal))
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound(*_NOT_FOUND)
    return Visible(row[0], row[1])


# Member fields the statistics count by (api/services/counters/).
COUNTED_FIELDS = frozenset({"unit_id", "status", "is_leader"})


class _Snapshot(TypedDict):
    """The member fields an update audits."""

    external_id: str | None
    full_name: str
    unit_id: uuid.UUID
    membership: Membership
    status: MemberStatus
    position: str | None
    is_leader: bool
    email: str | None
    phone: str | None


def _snapshot(m: Member) -> _Snapshot:
    return {
        "external_id": m.external_id,
        "full_name": m.full_name,
        "unit_id": m.unit_id,
        "membership": m.membership,
        "status": m.status,
        "position": m.position,
        "is_leader": m.is_leader,
        "email": m.email,
        "phone": m.phone,
    }


def _set_name(member: Member, full_name: str) -> None:
    member.full_name = full_name
    member.name_search = fold(full_name)
    member.name_sort = name_sort_key(full_name)


async def _manageable_unit(session: AsyncSession, principal: Principal, unit_id: uuid.UUID) -> Unit:
    unit = await session.scalar(
        select(Unit).where(
            Unit.id == unit_id, scope_filter(principal, Action.MEMBER_MANAGE, Unit.path)
        )
    )
    if unit is None:
        raise unknown_reference("unit_id", msg("words.unit"))
    ensure_active(unit)
    return unit


def _duplicate_external_id(external_id: str) -> Conflict:
    return Conflict(
        "duplicate",
        msg("members.external_id_taken", external_id=external_id),
    )


async def create(session: AsyncSession, principal: Principal, data: MemberCreate) -> Member:
    require(principal, Action.MEMBER_MANAGE)
    unit = await _manageable_unit(session, principal, data.unit_id)
    if data.external_id and await session.scalar(
        select(exists().where(Member.external_id == data.external_id))
    ):
        raise _duplicate_external_id(data.external_id)
    member = Member(
        external_id=data.external_id,
        unit_id=unit.id,
        membership=data.membership,
        status=data.status,
        position=data.position,
        is_leader=data.is_leader,
        email=data.email,
        phone=data.phone,
        declaration=Declaration.not_declared,
    )
    _set_name(member, data.full_name)
    session.add(member)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _duplicate_external_id(data.external_id or "") from exc
    audit.record(
        session, principal, "member.create", "member", member.id, unit.id, _snapshot(member)
    )
    await counters.touch(session, [unit.id])
    return member


async def update(
    session: AsyncSession,
    principal: Principal,
    seen: Visible,
    data: MemberUpdate,
    expected_version: int | None,
) -> Member:
    member, unit_path = seen.member, seen.path
    require(principal, Action.MEMBER_MANAGE, unit_path)
    check_version(expected_version, member.version)
    fields = data.model_dump(exclude_unset=True)
    for required in ("full_name", "unit_id", "membership", "status", "is_leader"):
        if required in fields and fields[required] is None:
            raise _null_field(required)
    before = _snapshot(member)
    if "unit_id" in fields and fields["unit_id"] != member.unit_id:
        unit = await _manageable_unit(session, principal, fields["unit_id"])
        member.unit_id = unit.id
    if "external_id" in fields and fields["external_id"] != member.external_id:
        if fields["external_id"] and await session.scalar(
            select(
                exists().where(Member.external_id == fields["external_id"], Member.id != member.id)
            )
        ):
            raise _duplicate_external_id(fields["external_id"])
        member.external_id = fields["external_id"]
    if "full_name" in fields:
        _set_name(member, fields["full_name"])
    for name in ("membership", "status", "position", "is_leader", "email", "phone"):
        if name in fields:
            setattr(member, name, fields[name])
    changes = audit.changed(before, _snapshot(member))
    if changes:
        member.updated_at = utcnow()
        try:
            await session.flush()
        except IntegrityError as exc:
            raise _duplicate_external_id(str(fields.get("external_id"))) from exc
        await _updated(session, principal, member, before, changes)
    return member


async def _updated(
    session: AsyncSession,
    principal: Principal,
    member: Member,
    before: _Snapshot,
    changes: dict[str, list[object]],
) -> None:
    """What follows a member's change: its audit events, the end of its sessions when it
    left the roster, the statistics of its units."""
    audit.record(session, principal, "member.update", "member", member.id, member.unit_id, changes)
    if "unit_id" in changes:
        # Also placed under the unit the member left, so its managers see them go.
        audit.record(
            session,
            principal,
            "member.transfer_out",
            "member",
            member.id,
            before["unit_id"],
            {"unit_id": changes["unit_id"]},
        )
    if before["status"] in ON_ROSTER and member.status not in ON_ROSTER:
        # Leaving the roster ends the member's sessions for good: coming back to
        # `active` later must not revive the tokens issued before (issue 14).
        await session.execute(
            sa_update(User)
            .where(User.member_id == member.id)
            .values(token_version=User.token_version + 1, updated_at=utcnow())
        )
    if changes.keys() & COUNTED_FIELDS:
        await counters.touch(session, [before["unit_id"], member.unit_id])


# The statuses whose members may log in (identity.LOGIN_STATUSES, the roster's ON_ROSTER).
ON_ROSTER = frozenset({MemberStatus.active, MemberStatus.exempt})


def _null_field(name: str) -> Unprocessable:
    return Unprocessable(
        "validation_failed",
        msg("http.field_cannot_be_null", name=name),
        extra={"errors": [{"loc": ["body", name], "msg": "may not be null", "type": "null"}]},
    )


async def list_members(
    session: AsyncSession,
    principal: Principal,
    *,
    unit_id: uuid.UUID | None,
    q: str | None,
    status: MemberStatus | None,
    membership: Membership | None,
    is_leader: bool | None,
    declaration: Declaration | None,
    sort: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[Row[*tuple[object, ...]]], str | None]:
    require(principal, Action.MEMBER_READ)
    m = _members.c
    stmt: Select[*tuple[object, ...]] = select(_members)
    if not principal.is_admin:
        stmt = stmt.join(_units, _units.c.id == m.unit_id).where(
            scope_filter(principal, Action.MEMBER_READ, _units.c.path)
        )
    if unit_id is not None:
        path = await session.scalar(select(Unit.path).where(Unit.id == unit_id))
        if path is None:
            return [], None
        stmt = stmt.where(m.unit_id.in_(select(_units.c.id).where(in_subtree(_units.c.path, path))))
    if q:
        folded = fold(q)
        if folded:
            stmt = stmt.where(m.name_search.contains(folded, autoescape=True))
    if status is not None:
        stmt = stmt.where(m.status == status)
    if membership is not None:
        stmt = stmt.where(m.membership == membership)
    if is_leader is not None:
        stmt = stmt.where(m.is_leader == is_leader)
    if declaration is not None:
        stmt = stmt.where(m.declaration == declaration)
    conn = await session.connection()
    return await paginate_rows(conn, stmt, order=SORTS[sort], cursor=cursor, limit=limit)
