"""Preview: a roster body becomes a recorded sync with its diff (status `previewed`).

1. **Stage.** The spooled body is parsed and validated in Python
   (api/services/roster/parse.py) and loaded in batches of 5,000 into a temporary table
   (`roster_stage`): COPY through asyncpg on PostgreSQL, a batched executemany on
   SQLite. Memory holds one batch.
2. **Diff** (api/services/roster/diff.py). One `INSERT … SELECT` writes
   `roster_sync_rows`; a snapshot adds the absent members. Counts are one `GROUP BY`;
   the scope's fingerprint one aggregate.

Audit: one event per preview (`roster_sync.preview`) and per apply
(`roster_sync.apply`) with the counts, placed at the scope unit. The diff rows are the
per-member evidence (an event per member would be 100,000 events).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import IO, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.core.db import new_id, utcnow
from api.core.enums import SyncMode, SyncStatus, UnitStatus
from api.core.errors import Conflict, Unprocessable
from api.core.i18n import msg
from api.core.offload import PARSING
from api.services import audit
from api.services.authz import Action, Principal, require, scope_filter
from api.services.roster.common import SYNCS, UNITS, Scope
from api.services.roster.diff import (
    count_actions,
    diff_absent,
    diff_members,
    scope_fingerprint,
)
from api.services.roster.encodings import JSON
from api.services.roster.errors import body_mismatch
from api.services.roster.parse import RosterReader
from api.services.roster.rows import validate_mode, validate_scope_code
from api.services.roster.stage import (
    STAGE,
    batches,
    bulk_settings,
    create_temp,
    drop_temp,
    is_pg,
    load,
    temp_name,
)
from api.services.roster.units import diff_units
from api.services.units import unknown_reference


@dataclass(frozen=True)
class SyncRequest:
    fmt: str
    mode: str | None
    scope_unit_code: str | None
    allow_mass_deactivation: bool
    skip_rejected: bool


async def preview(
    session: AsyncSession, principal: Principal, body: IO[bytes], request: SyncRequest
) -> uuid.UUID:
    """Validate the body and record the sync with its diff (status `previewed`)."""
    require(principal, Action.ROSTER_SYNC)
    reader = RosterReader(body, request.fmt)
    scope: Scope | None = None
    mode = request.mode
    if request.fmt != JSON:
        mode = validate_mode(request.mode)
        scope = await _resolve_scope(session, principal, mode, request.scope_unit_code, "query")
    conn = await session.connection()
    await _stage_body(conn, reader)
    if scope is None:
        mode = validate_mode(_pick(reader.mode, "mode" in reader.top_level, request.mode, "mode"))
        code = validate_scope_code(
            _pick(
                reader.scope_unit_code,
                "scope_unit_code" in reader.top_level,
                request.scope_unit_code,
                "scope_unit_code",
            )
        )
        scope = await _resolve_scope(session, principal, mode, code, "body")
    assert mode is not None
    if reader.units and mode != SyncMode.snapshot:
        raise Unprocessable(
            "validation_failed",
            msg("roster.units_need_snapshot"),
            extra={
                "errors": [
                    {"loc": ["body", "units"], "msg": "snapshot only", "type": "value_error"}
                ]
            },
        )
    sync_id = await _record(conn, principal, reader, request, mode, scope)
    counts = await _diff(conn, sync_id, principal, reader, mode, scope)
    audit.record(
        session,
        principal,
        "roster_sync.preview",
        "roster_sync",
        sync_id,
        scope.unit_id,
        {"mode": mode, "source": reader.source or request.fmt, "rows": reader.rows, **counts},
    )
    return sync_id


async def _stage_body(conn: AsyncConnection, reader: RosterReader) -> None:
    """The body's rows into `roster_stage`."""
    await bulk_settings(conn)
    await create_temp(conn, STAGE)
    # Parsing runs in a worker thread, a batch at a time (api/core/offload.py).
    parsed = batches(reader.members())
    while (batch := await PARSING.run(next, parsed, None)) is not None:
        await load(conn, STAGE, batch)
    reader.finish()
    if await is_pg(conn):
        await conn.exec_driver_sql(f"ANALYZE {temp_name(conn, STAGE)}")


async def _record(
    conn: AsyncConnection,
    principal: Principal,
    reader: RosterReader,
    request: SyncRequest,
    mode: str,
    scope: Scope,
) -> uuid.UUID:
    """The sync itself, `previewed`, its counts still zero."""
    sync_id = new_id()
    now = utcnow()
    await conn.execute(
        insert(SYNCS).values(
            id=sync_id,
            mode=mode,
            status=SyncStatus.previewed,
            source=reader.source or request.fmt,
            scope_unit_id=scope.unit_id,
            actor_type=principal.kind,
            actor_id=principal.id,
            options={
                "allow_mass_deactivation": request.allow_mass_deactivation,
                "skip_rejected": request.skip_rejected,
                "encoding": reader.encoding,
                "ignored_columns": reader.ignored_columns,
                "sheet": reader.sheet,
            },
            rows_total=reader.rows,
            created_at=now,
            updated_at=now,
            version=1,
        )
    )
    return sync_id


async def _diff(
    conn: AsyncConnection,
    sync_id: uuid.UUID,
    principal: Principal,
    reader: RosterReader,
    mode: str,
    scope: Scope,
) -> dict[str, int]:
    """The diff rows (units, members, absent members), then the sync's counts and, for a
    snapshot, the scope's fingerprint."""
    if reader.units:
        await diff_units(conn, sync_id, principal, scope, reader.units)
    await diff_members(conn, sync_id, principal, scope, mode)
    if mode == SyncMode.snapshot:
        assert scope.path is not None
        await diff_absent(conn, sync_id, scope.path)
    await drop_temp(conn, STAGE)

    counts = await count_actions(conn, sync_id)
    fingerprint, scope_members = (
        await scope_fingerprint(conn, scope.path) if mode == SyncMode.snapshot else (None, 0)
    )
    await conn.execute(
        update(SYNCS)
        .where(SYNCS.c.id == sync_id)
        .values(**counts, fingerprint=fingerprint, scope_members=scope_members)
    )
    return counts


async def _resolve_scope(
    session: AsyncSession, principal: Principal, mode: str, code: str | None, where: str
) -> Scope:
    """The scope unit: required for a snapshot; unknown or outside the caller's scope is
    422 on `scope_unit_code`. An upsert without one is placed at the partner's unit."""
    if code is None:
        if mode == SyncMode.snapshot:
            raise Unprocessable(
                "validation_failed",
                msg("roster.snapshot_needs_scope"),
                extra={
                    "errors": [
                        {
                            "loc": [where, "scope_unit_code"],
                            "msg": "required for a snapshot",
                            "type": "missing",
                        }
                    ]
                },
            )
        grants = [g for g in principal.grants if g.unit_id is not None and g.path is not None]
        paths = principal.paths_for(Action.ROSTER_SYNC)
        owner = next((g.unit_id for g in grants if paths and g.path in paths), None)
        return Scope(owner, None)
    row = (
        await session.execute(
            select(UNITS.c.id, UNITS.c.path, UNITS.c.status).where(
                UNITS.c.code == code, scope_filter(principal, Action.ROSTER_SYNC, UNITS.c.path)
            )
        )
    ).first()
    if row is None:
        error = unknown_reference("scope_unit_code", msg("words.unit"))
        error.extra["errors"][0]["loc"] = [where, "scope_unit_code"]
        raise error
    if row.status != UnitStatus.active:
        raise Conflict("unit_dissolved", msg("units.dissolved", code=code))
    return Scope(row.id, row.path)


T = TypeVar("T")


def _pick(body_value: T | None, body_has: bool, query_value: T | None, name: str) -> T | None:
    if body_has and query_value is not None and body_value != query_value:
        raise body_mismatch(name)
    return body_value if body_has else query_value
