"""Reads of roster syncs: one sync with its first rejected rows, the list, and the
diff rows page by page (no FastAPI here). A sync is visible to its author and to
whoever may sync its scope unit."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Row, and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import RowAction, SyncMode, SyncStatus, UnitAction
from api.core.errors import NotFound
from api.core.pagination import Order, paginate_rows
from api.schemas.roster import (
    ChangeError,
    RosterChangeRead,
    RosterSyncRead,
    RosterSyncSummary,
    RosterUnitChangeRead,
    RowError,
    SyncCounts,
    UnitCounts,
)
from api.services.authz import Action, PathColumn, Principal, require, scope_filter
from api.services.roster.common import (
    COUNT_KEYS,
    ERRORS_SHOWN,
    FIELD_BITS,
    FIELDS,
    SYNC_ROWS,
    SYNC_UNITS,
    SYNCS,
    UNITS,
    SyncRow,
    is_mass,
)
from api.services.roster.errors import NOT_FOUND


def _visible(principal: Principal, scope_path: PathColumn) -> ColumnElement[bool]:
    if principal.is_admin:
        return true()
    return or_(
        SYNCS.c.actor_id == principal.id,
        and_(scope_path.is_not(None), scope_filter(principal, Action.ROSTER_SYNC, scope_path)),
    )


_SCOPE_UNIT = UNITS.alias("scope_unit")
_SUMMARY = select(
    SYNCS, _SCOPE_UNIT.c.code.label("scope_unit_code"), _SCOPE_UNIT.c.path.label("scope_path")
).select_from(SYNCS.outerjoin(_SCOPE_UNIT, _SCOPE_UNIT.c.id == SYNCS.c.scope_unit_id))


async def get_row(session: AsyncSession, principal: Principal, sync_id: uuid.UUID) -> SyncRow:
    row = (
        await session.execute(
            _SUMMARY.where(SYNCS.c.id == sync_id, _visible(principal, _SCOPE_UNIT.c.path))
        )
    ).first()
    if row is None:
        raise NotFound(*NOT_FOUND)
    return row


def _summary(row: SyncRow) -> dict[str, object]:
    options = row.options or {}
    counts = SyncCounts(**{k: getattr(row, k) for k in COUNT_KEYS.values()})
    unit_counts = UnitCounts(
        created=row.units_created,
        updated=row.units_updated,
        unchanged=row.units_unchanged,
        rejected=row.units_rejected,
    )
    return {
        "id": row.id,
        "mode": row.mode,
        "status": row.status,
        "source": row.source,
        "scope_unit_id": row.scope_unit_id,
        "scope_unit_code": row.scope_unit_code,
        "counts": counts,
        "unit_counts": unit_counts,
        "rows_total": row.rows_total,
        "scope_members": row.scope_members,
        "mass_deactivation": is_mass(row),
        "allow_mass_deactivation": bool(options.get("allow_mass_deactivation")),
        "skip_rejected": bool(options.get("skip_rejected")),
        "encoding": options.get("encoding"),
        "ignored_columns": list(options.get("ignored_columns") or []),
        "sheet": options.get("sheet"),
        "failure_code": row.failure_code,
        "failure_detail": row.failure_detail,
        "actor_type": row.actor_type,
        "actor_id": row.actor_id,
        "applied_by_type": row.applied_by_type,
        "applied_by_id": row.applied_by_id,
        "created_at": row.created_at,
        "applied_at": row.applied_at,
        "version": row.version,
    }


async def read(session: AsyncSession, principal: Principal, sync_id: uuid.UUID) -> RosterSyncRead:
    """The sync with its first rejected rows (units first, then members, by row)."""
    row = await get_row(session, principal, sync_id)
    conn = await session.connection()
    unit_errors = await conn.execute(
        select(
            SYNC_UNITS.c.row_no,
            SYNC_UNITS.c.code,
            SYNC_UNITS.c.error_code,
            SYNC_UNITS.c.error_field,
            SYNC_UNITS.c.error_detail,
        )
        .where(SYNC_UNITS.c.sync_id == sync_id, SYNC_UNITS.c.action == UnitAction.rejected.value)
        .order_by(SYNC_UNITS.c.row_no)
        .limit(ERRORS_SHOWN + 1)
    )
    errors = [
        RowError(row=r[0], kind="unit", external_id=r[1], code=r[2], field=r[3], detail=r[4])
        for r in unit_errors
    ]
    member_errors = await conn.execute(
        select(
            SYNC_ROWS.c.row_no,
            SYNC_ROWS.c.external_id,
            SYNC_ROWS.c.error_code,
            SYNC_ROWS.c.error_field,
            SYNC_ROWS.c.error_detail,
        )
        .where(SYNC_ROWS.c.sync_id == sync_id, SYNC_ROWS.c.action == RowAction.rejected.value)
        .order_by(SYNC_ROWS.c.row_no)
        .limit(ERRORS_SHOWN + 1)
    )
    errors += [
        RowError(row=r[0], kind="member", external_id=r[1], code=r[2], field=r[3], detail=r[4])
        for r in member_errors
    ]
    return RosterSyncRead(
        **_summary(row), errors=errors[:ERRORS_SHOWN], errors_truncated=len(errors) > ERRORS_SHOWN
    )


_SYNC_ORDER = Order("roster_syncs", (SYNCS.c.created_at, SYNCS.c.id), descending=True)


async def list_syncs(
    session: AsyncSession,
    principal: Principal,
    *,
    status: SyncStatus | None,
    mode: SyncMode | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[RosterSyncSummary], str | None]:
    """Newest first: the caller's own syncs and those placed in their sync scope."""
    require(principal, Action.ROSTER_SYNC)
    stmt = _SUMMARY.where(_visible(principal, _SCOPE_UNIT.c.path))
    if status is not None:
        stmt = stmt.where(SYNCS.c.status == status)
    if mode is not None:
        stmt = stmt.where(SYNCS.c.mode == mode)
    items, next_cursor = await paginate_rows(
        session, stmt, order=_SYNC_ORDER, cursor=cursor, limit=limit
    )
    return [RosterSyncSummary(**_summary(r)) for r in items], next_cursor


def _plain(value: object) -> object:
    return str(value) if isinstance(value, uuid.UUID) else value


async def list_changes(
    session: AsyncSession,
    principal: Principal,
    sync_id: uuid.UUID,
    *,
    action: RowAction | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[RosterChangeRead], str | None]:
    """The member rows of the diff by row number (keyset on row_no)."""
    await get_row(session, principal, sync_id)
    r = SYNC_ROWS
    bu = UNITS.alias("before_unit")
    stmt = (
        select(r, bu.c.code.label("before_unit_code"))
        .select_from(r.outerjoin(bu, bu.c.id == r.c.before_unit_id))
        .where(r.c.sync_id == sync_id)
    )
    if action is not None:
        stmt = stmt.where(r.c.action == action.value)
    order = Order(f"roster_changes:{sync_id}", (r.c.row_no,))
    items, next_cursor = await paginate_rows(session, stmt, order=order, cursor=cursor, limit=limit)
    return [_change(x) for x in items], next_cursor


def _change(x: Row[*tuple[object, ...]]) -> RosterChangeRead:
    changes: dict[str, list[object]] = {}
    if x.action == RowAction.create.value:
        changes = {f: [None, getattr(x, f)] for f in FIELDS if getattr(x, f) is not None}
    elif x.changed:
        for f, bit in FIELD_BITS.items():
            if x.changed & bit:
                before = x.before_unit_code if f == "unit_code" else getattr(x, f"before_{f}")
                if f == "status" and x.action == RowAction.deactivate.value:
                    before = x.before_status
                changes[f] = [_plain(before), _plain(getattr(x, f))]
    error = (
        ChangeError(code=x.error_code, field=x.error_field, detail=x.error_detail)
        if x.error_code
        else None
    )
    return RosterChangeRead(
        row=x.row_no,
        action=x.action,
        external_id=x.external_id,
        member_id=x.member_id,
        unit_id=x.unit_id,
        unit_code=x.unit_code,
        full_name=x.full_name,
        changes=changes,
        error=error,
    )


async def list_unit_changes(
    session: AsyncSession,
    principal: Principal,
    sync_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[RosterUnitChangeRead], str | None]:
    await get_row(session, principal, sync_id)
    su = SYNC_UNITS
    stmt = select(su).where(su.c.sync_id == sync_id)
    order = Order(f"roster_unit_changes:{sync_id}", (su.c.row_no,))
    items, next_cursor = await paginate_rows(session, stmt, order=order, cursor=cursor, limit=limit)
    out = []
    for x in items:
        changes: dict[str, list[object]] = {}
        if x.action == UnitAction.create.value:
            changes = {
                k: [None, getattr(x, k)]
                for k in ("code", "name", "level", "parent_code")
                if getattr(x, k) is not None
            }
        elif x.action == UnitAction.update.value:
            changes = {
                k: [getattr(x, f"before_{k}"), getattr(x, k)]
                for k in ("name", "level")
                if getattr(x, f"before_{k}") != getattr(x, k)
            }
        error = (
            ChangeError(code=x.error_code, field=x.error_field, detail=x.error_detail)
            if x.error_code
            else None
        )
        out.append(
            RosterUnitChangeRead(
                row=x.row_no,
                action=x.action,
                code=x.code,
                unit_id=x.unit_id,
                parent_code=x.parent_code,
                name=x.name,
                level=x.level,
                changes=changes,
                error=error,
            )
        )
    return out, next_cursor
