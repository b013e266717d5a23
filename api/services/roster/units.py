"""The units of a snapshot, in both phases: their diff (`diff_units`, run by the
preview: rejections, changes to existing units, new units placed under their parents)
and their apply (`apply_units`, apply.py's `units` step: renames and level changes at
the version the preview saw, 409 `roster_changed` otherwise, then new units, parents
first, under parents that are still active and in the caller's scope)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core.db import new_id
from api.core.enums import UnitAction, UnitStatus
from api.core.text_vi import fold
from api.services.authz import Action, Principal, scope_filter
from api.services.roster.common import (
    SYNC_UNITS,
    UNITS,
    Scope,
    in_scope,
)
from api.services.roster.errors import roster_changed
from api.services.roster.rows import UnitRow


async def diff_units(
    conn: AsyncConnection,
    sync_id: uuid.UUID,
    principal: Principal,
    scope: Scope,
    units: list[UnitRow],
) -> None:
    """roster_sync_units: new units get an id and a path (parents first, level by
    level); existing ones in scope are compared; the rest is rejected."""
    await conn.execute(insert(SYNC_UNITS), [_unit_row(sync_id, given) for given in units])
    su = SYNC_UNITS
    dup = (
        select(su.c.code)
        .where(su.c.sync_id == sync_id)
        .group_by(su.c.code)
        .having(func.count() > 1)
    )
    await _reject_units(
        conn,
        sync_id,
        su.c.code.in_(dup),
        "duplicate_code",
        "code",
        "the code appears in several unit rows",
    )
    await _compare_existing_units(conn, sync_id, principal, scope)
    await _place_new_units(conn, sync_id, principal, scope)
    await _reject_units(
        conn,
        sync_id,
        true(),
        "unknown_parent",
        "parent_code",
        "parent_code names no active unit in the sync's scope (or the units form a cycle)",
    )


def _unit_row(sync_id: uuid.UUID, given: UnitRow) -> dict[str, object]:
    unit_id = new_id()
    rejected = given.error_detail is not None
    return {
        "sync_id": sync_id,
        "row_no": given.row_no,
        "code": given.code,
        "name": given.name,
        "name_search": fold(given.name) if given.name else None,
        "level": given.level,
        "parent_code": given.parent_code,
        "id_hex": unit_id.hex,
        "unit_id": None if rejected else unit_id,
        "action": UnitAction.rejected.value if rejected else None,
        "error_code": "validation_failed" if rejected else None,
        "error_field": given.error_field,
        "error_detail": given.error_detail,
    }


async def _reject_units(
    conn: AsyncConnection,
    sync_id: uuid.UUID,
    where: ColumnElement[bool],
    code: str,
    field: str,
    detail: str,
) -> None:
    """Reject the units of the sync not yet decided that `where` holds for."""
    su = SYNC_UNITS
    await conn.execute(
        update(su)
        .where(su.c.sync_id == sync_id, su.c.action.is_(None), where)
        .values(
            action=UnitAction.rejected.value,
            unit_id=None,
            error_code=code,
            error_field=field,
            error_detail=detail,
        )
    )


async def _compare_existing_units(
    conn: AsyncConnection, sync_id: uuid.UUID, principal: Principal, scope: Scope
) -> None:
    """Existing units: compared, never moved or dissolved."""
    su = SYNC_UNITS
    pending = and_(su.c.sync_id == sync_id, su.c.action.is_(None))
    u, pu = UNITS.alias("u"), UNITS.alias("pu")
    await conn.execute(
        update(su)
        .where(pending, su.c.code == u.c.code)
        .values(
            unit_id=u.c.id,
            unit_version=u.c.version,
            before_name=u.c.name,
            before_level=u.c.level,
            path=u.c.path,
            parent_id=u.c.parent_id,
        )
    )
    known = su.c.unit_version.is_not(None)
    cur = select(u.c.path).where(u.c.id == su.c.unit_id).scalar_subquery()
    await _reject_units(
        conn,
        sync_id,
        and_(known, not_(in_scope(principal, scope, cur))),
        "out_of_scope",
        "code",
        "the unit is outside the sync's scope",
    )
    status = select(u.c.status).where(u.c.id == su.c.unit_id).scalar_subquery()
    await _reject_units(
        conn,
        sync_id,
        and_(known, status != UnitStatus.active.value),
        "unit_dissolved",
        "code",
        "the unit is dissolved",
    )
    parent_code = select(pu.c.code).where(pu.c.id == su.c.parent_id).scalar_subquery()
    await _reject_units(
        conn,
        sync_id,
        and_(known, su.c.parent_code.is_not(None), su.c.parent_code.is_distinct_from(parent_code)),
        "unit_move_not_supported",
        "parent_code",
        "a sync does not move units; move it with PATCH /units/{id}",
    )
    await conn.execute(
        update(su)
        .where(pending, known)
        .values(
            action=case(
                (
                    or_(su.c.name != su.c.before_name, su.c.level != su.c.before_level),
                    UnitAction.update.value,
                ),
                else_=UnitAction.unchanged.value,
            )
        )
    )


async def _place_new_units(
    conn: AsyncConnection, sync_id: uuid.UUID, principal: Principal, scope: Scope
) -> None:
    """New units: under an existing active unit in scope, then under new ones, level by
    level."""
    su = SYNC_UNITS
    pending = and_(su.c.sync_id == sync_id, su.c.action.is_(None))
    u = UNITS.alias("u")
    await conn.execute(
        update(su)
        .where(
            pending,
            su.c.parent_code == u.c.code,
            u.c.status == UnitStatus.active.value,
            in_scope(principal, scope, u.c.path),
        )
        .values(
            parent_id=u.c.id,
            path=u.c.path + su.c.id_hex + "/",
            depth=u.c.depth + 1,
            action=UnitAction.create.value,
        )
    )
    parent = SYNC_UNITS.alias("p")
    while True:
        result = await conn.execute(
            update(su)
            .where(
                pending,
                parent.c.sync_id == sync_id,
                parent.c.code == su.c.parent_code,
                parent.c.action == UnitAction.create.value,
            )
            .values(
                parent_id=parent.c.unit_id,
                path=parent.c.path + su.c.id_hex + "/",
                depth=parent.c.depth + 1,
                action=UnitAction.create.value,
            )
        )
        if not result.rowcount:
            break


async def apply_units(
    conn: AsyncConnection, principal: Principal, sync_id: uuid.UUID, now: datetime
) -> None:
    """The units of a snapshot: updates, then new units parents first."""
    await _update_units(conn, sync_id, now)
    await _create_units(conn, principal, sync_id, now)


async def _update_units(conn: AsyncConnection, sync_id: uuid.UUID, now: datetime) -> None:
    """Renames and level changes, each only if the unit is still at its version."""
    su, u = SYNC_UNITS, UNITS
    updated = await conn.execute(
        update(u)
        .where(
            u.c.id == su.c.unit_id,
            u.c.version == su.c.unit_version,
            su.c.sync_id == sync_id,
            su.c.action == UnitAction.update.value,
        )
        .values(
            name=su.c.name,
            name_search=su.c.name_search,
            level=su.c.level,
            version=u.c.version + 1,
            updated_at=now,
        )
    )
    expected = await conn.scalar(
        select(func.count()).where(su.c.sync_id == sync_id, su.c.action == UnitAction.update.value)
    )
    if updated.rowcount != expected:
        raise roster_changed(sync_id, "a unit of the snapshot was edited")


async def _create_units(
    conn: AsyncConnection, principal: Principal, sync_id: uuid.UUID, now: datetime
) -> None:
    """New units, parents first: each round inserts those whose parent exists, until a
    round inserts none."""
    su, u = SYNC_UNITS, UNITS
    new = and_(
        su.c.sync_id == sync_id,
        su.c.action == UnitAction.create.value,
        not_(exists(select(literal(1)).where(u.c.id == su.c.unit_id))),
    )
    parent = UNITS.alias("parent")
    while True:
        # Paths from the parents as they are now; parents must still be active and in scope.
        bad = await conn.scalar(
            select(literal(1))
            .select_from(su.join(parent, parent.c.id == su.c.parent_id))
            .where(
                new,
                or_(
                    parent.c.status != UnitStatus.active.value,
                    not_(scope_filter(principal, Action.ROSTER_SYNC, parent.c.path)),
                ),
            )
            .limit(1)
        )
        if bad:
            raise roster_changed(
                sync_id, "the parent of a new unit was dissolved or left your scope"
            )
        await conn.execute(
            update(su)
            .where(new, parent.c.id == su.c.parent_id)
            .values(path=parent.c.path + su.c.id_hex + "/", depth=parent.c.depth + 1)
        )
        ready = and_(new, exists(select(literal(1)).where(u.c.id == su.c.parent_id)))
        if not await _insert_units(conn, ready, now):
            break


async def _insert_units(conn: AsyncConnection, ready: ColumnElement[bool], now: datetime) -> int:
    """Insert the staged new units matching `ready`; how many."""
    su, u = SYNC_UNITS, UNITS
    inserted = await conn.execute(
        insert(u).from_select(
            [
                "id",
                "code",
                "name",
                "name_search",
                "level",
                "parent_id",
                "path",
                "depth",
                "status",
                "declaration_required",
                "declaration_deadline_days",
                "version",
                "created_at",
                "updated_at",
            ],
            select(
                su.c.unit_id,
                su.c.code,
                su.c.name,
                su.c.name_search,
                su.c.level,
                su.c.parent_id,
                su.c.path,
                su.c.depth,
                literal(UnitStatus.active.value),
                true(),
                literal(30),
                literal(1),
                literal(now, u.c.created_at.type),
                literal(now, u.c.updated_at.type),
            ).where(ready),
        )
    )
    return int(inserted.rowcount)
