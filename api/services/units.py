"""The organisation tree: materialised paths, moves with a cycle check, merges."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, literal, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import utcnow
from api.core.enums import MemberStatus, UnitLevel, UnitStatus
from api.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.core.i18n import Message, msg
from api.core.pagination import Order, paginate
from api.core.text_vi import fold
from api.core.versioning import check_version
from api.models import Member, Unit
from api.schemas.units import UnitCreate, UnitUpdate
from api.services import audit, counters
from api.services.authz import Action, Principal, in_subtree, require, scope_filter

MAX_TREE_NODES = 5000
_UNIT_NOT_FOUND = ("not_found", msg("units.not_found"))


def child_path(parent_path: str | None, unit_id: uuid.UUID) -> str:
    return f"{parent_path or '/'}{unit_id.hex}/"


def visible(principal: Principal, action: Action = Action.UNIT_READ) -> Select[Unit]:
    return select(Unit).where(scope_filter(principal, action, Unit.path))


@dataclass(frozen=True, slots=True)
class Visible:
    """A unit the caller may see (its path is the unit's own)."""

    unit: Unit


async def get_visible(session: AsyncSession, principal: Principal, unit_id: uuid.UUID) -> Visible:
    unit: Unit | None = await session.scalar(visible(principal).where(Unit.id == unit_id))
    if unit is None:
        raise NotFound(*_UNIT_NOT_FOUND)
    return Visible(unit)


async def _reference(
    session: AsyncSession, principal: Principal, unit_id: uuid.UUID, field: str
) -> Unit:
    """A unit named in a request body: unknown or out of scope is a 422 on that field."""
    unit: Unit | None = await session.scalar(visible(principal).where(Unit.id == unit_id))
    if unit is None:
        raise unknown_reference(field, msg("words.unit"))
    return unit


def unknown_reference(field: str, what: Message) -> Unprocessable:
    """422 on `field`, which names `what` (a word: `msg("words.unit")`) that is unknown."""
    return Unprocessable(
        "validation_failed",
        msg("units.unknown_reference", field=field, what=what),
        extra={
            "errors": [
                {"loc": ["body", field], "msg": f"unknown {what.render('en')}", "type": "reference"}
            ]
        },
    )


def null_field(name: str) -> Unprocessable:
    return Unprocessable(
        "validation_failed",
        msg("http.field_cannot_be_null", name=name),
        extra={"errors": [{"loc": ["body", name], "msg": "may not be null", "type": "null"}]},
    )


def ensure_active(unit: Unit) -> None:
    if unit.status is not UnitStatus.active:
        raise Conflict("unit_dissolved", msg("units.dissolved", code=unit.code))


def _snapshot(unit: Unit) -> dict[str, object]:
    return {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level,
        "parent_id": unit.parent_id,
        "status": unit.status,
        "merged_into_id": unit.merged_into_id,
        "declaration_required": unit.declaration_required,
        "declaration_deadline_days": unit.declaration_deadline_days,
    }


async def create(session: AsyncSession, principal: Principal, data: UnitCreate) -> Unit:
    require(principal, Action.UNIT_MANAGE)
    parent: Unit | None = None
    if data.parent_id is None:
        if not principal.is_admin:
            raise Forbidden(detail=msg("units.root_create_admin_only"))
    else:
        parent = await _reference(session, principal, data.parent_id, "parent_id")
        require(principal, Action.UNIT_MANAGE, parent.path)
        ensure_active(parent)
    if await session.scalar(select(exists().where(Unit.code == data.code))):
        raise _duplicate_code(data.code)
    unit_id = uuid.uuid4()
    unit = Unit(
        id=unit_id,
        code=data.code,
        name=data.name,
        name_search=fold(data.name),
        level=data.level,
        parent_id=parent.id if parent else None,
        path=child_path(parent.path if parent else None, unit_id),
        depth=parent.depth + 1 if parent else 0,
        declaration_required=data.declaration_required,
        declaration_deadline_days=data.declaration_deadline_days,
    )
    session.add(unit)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _duplicate_code(data.code) from exc
    audit.record(session, principal, "unit.create", "unit", unit.id, unit.id, _snapshot(unit))
    return unit


def _duplicate_code(code: str) -> Conflict:
    return Conflict("duplicate", msg("units.code_taken", code=code))


_ORDER = Order("units", (Unit.code, Unit.id))


async def list_units(
    session: AsyncSession,
    principal: Principal,
    *,
    parent_id: uuid.UUID | None,
    q: str | None,
    level: UnitLevel | None,
    status: UnitStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Unit], str | None]:
    require(principal, Action.UNIT_READ)
    stmt = visible(principal)
    if parent_id is not None:
        stmt = stmt.where(Unit.parent_id == parent_id)
    if q:
        folded = fold(q)
        stmt = stmt.where(
            (Unit.name_search.contains(folded, autoescape=True)) | (Unit.code == q.strip())
        )
    if level is not None:
        stmt = stmt.where(Unit.level == level)
    if status is not None:
        stmt = stmt.where(Unit.status == status)
    return await paginate(session, stmt, order=_ORDER, cursor=cursor, limit=limit)


async def subtree(session: AsyncSession, root: Unit, depth: int) -> list[Unit]:
    """The root and its descendants down to `depth` levels, in path order."""
    stmt = (
        select(Unit)
        .where(in_subtree(Unit.path, root.path), Unit.depth <= root.depth + depth)
        .order_by(Unit.depth, Unit.code)
        .limit(MAX_TREE_NODES + 1)
    )
    units = list((await session.scalars(stmt)).all())
    if len(units) > MAX_TREE_NODES:
        raise Unprocessable(
            "tree_too_large",
            msg("units.tree_too_large", max_tree_nodes=MAX_TREE_NODES),
        )
    return units


async def update(
    session: AsyncSession,
    principal: Principal,
    unit: Unit,
    data: UnitUpdate,
    expected_version: int | None,
) -> Unit:
    require(principal, Action.UNIT_MANAGE, unit.path)
    check_version(expected_version, unit.version)
    before = _snapshot(unit)
    fields = data.model_dump(exclude_unset=True)
    for required in ("name", "level", "declaration_required", "declaration_deadline_days"):
        if required in fields and fields[required] is None:
            raise null_field(required)
    moving = "parent_id" in fields and fields["parent_id"] != unit.parent_id
    if moving:
        # The subtree's counters leave its old ancestors (added back under the new ones
        # below, recounted: the documents addressing the moved units change with them).
        await counters.detach(session, counters.subtree_units(unit.path))
        await _move(session, principal, unit, fields["parent_id"])
    for name in ("name", "level", "declaration_required", "declaration_deadline_days"):
        if name in fields:
            setattr(unit, name, fields[name])
    if "name" in fields:
        unit.name_search = fold(unit.name)
    changes = audit.changed(before, _snapshot(unit))
    if changes:
        unit.updated_at = utcnow()
        await session.flush()
        audit.record(session, principal, "unit.update", "unit", unit.id, unit.id, changes)
    if moving:
        await counters.touch(session, counters.subtree_units(unit.path), moved=True)
    return unit


async def _move(
    session: AsyncSession, principal: Principal, unit: Unit, new_parent_id: uuid.UUID | None
) -> None:
    if new_parent_id is None:
        if not principal.is_admin:
            raise Forbidden(
                detail=msg("units.root_move_admin_only"),
            )
        new_parent = None
    else:
        new_parent = await _reference(session, principal, new_parent_id, "parent_id")
        require(principal, Action.UNIT_MANAGE, new_parent.path)
        if new_parent.path.startswith(unit.path):
            raise Conflict(
                "unit_cycle",
                msg("units.move_cycle"),
            )
        ensure_active(new_parent)
    old_path = unit.path
    new_path = child_path(new_parent.path if new_parent else None, unit.id)
    await _rebase_descendants(
        session, old_path, new_path, (new_parent.depth + 1 if new_parent else 0) - unit.depth
    )
    unit.parent_id = new_parent.id if new_parent else None
    unit.path = new_path
    unit.depth = new_parent.depth + 1 if new_parent else 0


async def _rebase_descendants(
    session: AsyncSession, old_root: str, new_root: str, depth_delta: int
) -> None:
    """Rewrite the paths of every strict descendant of `old_root` in one statement."""
    await session.execute(
        sql_update(Unit)
        .where(Unit.path > old_root, Unit.path < old_root[:-1] + "0")
        .values(
            path=literal(new_root) + func.substr(Unit.path, len(old_root) + 1),
            depth=Unit.depth + depth_delta,
        )
        .execution_options(synchronize_session=False)
    )


async def merge(
    session: AsyncSession,
    principal: Principal,
    unit: Unit,
    into_unit_id: uuid.UUID,
    expected_version: int | None,
) -> Unit:
    """Move the unit's children and members into the target and mark it dissolved."""
    require(principal, Action.UNIT_MANAGE, unit.path)
    check_version(expected_version, unit.version)
    ensure_active(unit)
    target = await _reference(session, principal, into_unit_id, "into_unit_id")
    require(principal, Action.UNIT_MANAGE, target.path)
    if target.path.startswith(unit.path):
        raise Conflict(
            "unit_cycle",
            msg("units.merge_cycle"),
        )
    ensure_active(target)
    moved = await _move_contents(session, unit, target)
    unit.status = UnitStatus.dissolved
    unit.merged_into_id = target.id
    unit.updated_at = utcnow()
    await session.flush()
    # The moved units' ancestors (and so the documents addressing them) changed; the
    # dissolved unit's members now count in the target.
    await counters.touch(session, moved.descendants, moved=True, reports=True)
    await counters.touch(session, [unit.id, target.id], reports=True)
    changes = {
        "into_unit_id": target.id,
        "children_moved": moved.children,
        "members_moved": moved.members,
    }
    audit.record(session, principal, "unit.merge", "unit", unit.id, unit.id, changes)
    audit.record(
        session,
        principal,
        "unit.merge_in",
        "unit",
        target.id,
        target.id,
        {"from_unit_id": unit.id, **changes},
    )
    return unit


@dataclass(frozen=True, slots=True)
class _Moved:
    """What a merge moved: every descendant of the merged unit, and how many child units
    and members went to the target."""

    descendants: list[uuid.UUID]
    children: int
    members: int


async def _move_contents(session: AsyncSession, unit: Unit, target: Unit) -> _Moved:
    """The merged unit's children and members go to the target."""
    # Children keep their subtrees: rebase every descendant from under `unit` to under
    # `target`. Their counters leave the old ancestors first, and come back under the new.
    descendants = select(Unit.id).where(in_subtree(Unit.path, unit.path), Unit.id != unit.id)
    moving = list((await session.scalars(descendants)).all())
    await counters.detach(session, descendants)
    await _rebase_descendants(session, unit.path, target.path, target.depth - unit.depth)
    moved_units = (
        await session.execute(
            sql_update(Unit)
            .where(Unit.parent_id == unit.id)
            .values(parent_id=target.id, version=Unit.version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    ).rowcount  # type: ignore[attr-defined]
    moved_members = (
        await session.execute(
            sql_update(Member)
            .where(Member.unit_id == unit.id)
            .values(unit_id=target.id, version=Member.version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    ).rowcount  # type: ignore[attr-defined]
    return _Moved(moving, moved_units, moved_members)


async def dissolve(
    session: AsyncSession, principal: Principal, unit: Unit, expected_version: int | None
) -> Unit:
    """Dissolve an empty unit (no active child units, no active or exempt members)."""
    require(principal, Action.UNIT_MANAGE, unit.path)
    check_version(expected_version, unit.version)
    ensure_active(unit)
    busy = await session.scalar(
        select(
            exists().where(Unit.parent_id == unit.id, Unit.status == UnitStatus.active)
            | exists().where(
                Member.unit_id == unit.id,
                Member.status.in_((MemberStatus.active, MemberStatus.exempt)),
            )
        )
    )
    if busy:
        raise Conflict(
            "unit_not_empty",
            msg("units.not_empty"),
        )
    unit.status = UnitStatus.dissolved
    unit.updated_at = utcnow()
    await session.flush()
    audit.record(
        session,
        principal,
        "unit.dissolve",
        "unit",
        unit.id,
        unit.id,
        {"status": ["active", "dissolved"]},
    )
    return unit
