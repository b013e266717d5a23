"""Apply, the units of a snapshot (apply.py's `units` step): renames and level changes
at the version the preview saw (409 `roster_changed` otherwise), then new units, parents
first, under parents that are still active and in the caller's scope."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
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

from api.core.enums import UnitAction, UnitStatus
from api.services.authz import Action, Principal, scope_filter
from api.services.roster.common import SYNC_UNITS, UNITS
from api.services.roster.errors import roster_changed


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
