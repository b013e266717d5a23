"""Apply: a previewed sync becomes the roster (no FastAPI here).

Apply executes exactly those rows, in one transaction, as a fixed sequence of
statements (`apply`): checks (409), units, new members, updates, deactivations,
token invalidation, the statistics counters of the units touched
(api/services/counters/), the sync's status, the audit event.

Mass deactivation: a snapshot whose deactivations exceed 20% of the active and exempt
members of its scope is previewed normally (`mass_deactivation: true`) so it can be
inspected, and applying it is refused (422 `mass_deactivation`) unless
`allow_mass_deactivation=true` was given at creation or on apply. The same holds for
rejected rows (422 `sync_has_rejected_rows`; `skip_rejected=true` applies the rest).

409 `roster_changed` on apply: a member the sync names changed version, a member now
holds the external_id of a planned creation, a target unit was dissolved or left the
caller's scope, or (snapshot) the scope's fingerprint (members, sum of versions,
latest update) moved. The updates themselves also check each member's version.

Applying an applied sync answers 200 with the sync unchanged; a failed one is 409
`sync_not_applicable`. If a statement fails during apply, everything is rolled back and
the sync is marked `failed` in a separate transaction (500 problem with `sync_id`); when
the database became unreachable meanwhile (api/core/resilience.py) the sync stays
`previewed` and the answer is a 503 problem, so the same apply can be retried.

The statements run as named steps (`STEPS`, in order) after the sync is claimed; tests
wrap a step (monkeypatch.setitem) to cut the transaction off at that point.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.core.db import own_transaction, utcnow
from api.core.enums import MemberStatus, RowAction, SyncMode, SyncStatus, UnitStatus
from api.core.errors import AppError
from api.core.i18n import msg
from api.core.resilience import is_unavailable
from api.core.text_vi import fold, name_sort_key
from api.services import audit, counters
from api.services.authz import Action, Principal, require, scope_filter
from api.services.roster.common import (
    BATCH,
    CHANGING,
    COUNT_KEYS,
    FIELD_BITS,
    MEMBERS,
    ON_ROSTER,
    SYNC_ROWS,
    SYNCS,
    UNIT_COUNT_KEYS,
    UNITS,
    USERS,
    SyncRow,
    is_mass,
)
from api.services.roster.diff import scope_fingerprint
from api.services.roster.errors import refusal, roster_changed
from api.services.roster.reads import get_row
from api.services.roster.stage import KEYS, bulk_settings, create_temp, drop_temp, load
from api.services.roster.units import apply_units

log = logging.getLogger("qd85.roster")

_R = SYNC_ROWS.alias("r")  # the sync's diff rows, in every step


@dataclass(frozen=True)
class ApplyRun:
    """What every step of one apply works with."""

    session: AsyncSession
    conn: AsyncConnection
    principal: Principal
    sync: SyncRow  # the sync's summary row, as read before the claim
    options: dict[str, object]
    now: datetime

    @property
    def of_sync(self) -> ColumnElement[bool]:
        sync_id: uuid.UUID = self.sync.id
        return _R.c.sync_id == sync_id


Step = Callable[[ApplyRun], Awaitable[None]]


async def apply(
    session: AsyncSession,
    principal: Principal,
    sync_id: uuid.UUID,
    *,
    allow_mass_deactivation: bool = False,
    skip_rejected: bool = False,
) -> None:
    """Apply exactly the previewed diff, in the caller's transaction. An applied sync is
    left as it is (200); refusals raise before anything changes; an unexpected failure
    rolls back, marks the sync `failed` and raises a 500 problem."""
    row = await get_row(session, principal, sync_id)
    if row.status == SyncStatus.applied:
        return
    options = _applicable(principal, row, allow_mass_deactivation, skip_rejected)
    try:
        await _apply_steps(session, principal, row, options)
    except AppError:
        raise
    except IntegrityError as exc:
        # A unique key taken since the preview (an external_id or a unit code).
        raise roster_changed(sync_id, "a new member or unit already exists") from exc
    except Exception as exc:
        await session.rollback()
        if is_unavailable(exc):
            # The database went away (or this connection did): the transaction is lost
            # whole, and nothing is wrong with the sync itself. It stays `previewed`, so
            # the partner retries the apply once the service answers again (503 now).
            raise
        await _mark_failed(sync_id, exc)
        log.exception("roster sync %s failed during apply", sync_id)
        raise AppError(
            "internal_error",
            msg("roster.apply_failed"),
            extra={"sync_id": str(sync_id)},
        ) from exc


def _applicable(
    principal: Principal, row: SyncRow, allow_mass_deactivation: bool, skip_rejected: bool
) -> dict[str, object]:
    """The refusals that come before anything is written (403, 409, 422), then the
    options the sync is applied with (given at creation or on apply; kept with it)."""
    sync_id = row.id
    if row.status != SyncStatus.previewed:
        raise refusal(
            "sync_not_applicable",
            msg("roster.sync_failed"),
            sync_id,
        )
    if row.scope_path is not None:
        require(principal, Action.ROSTER_SYNC, row.scope_path)
    else:
        require(principal, Action.ROSTER_SYNC)
    options = row.options or {}
    if (row.rejected or row.units_rejected) and not (skip_rejected or options.get("skip_rejected")):
        raise refusal(
            "sync_has_rejected_rows",
            msg("roster.has_rejected_rows", rejected=row.rejected + row.units_rejected),
            sync_id,
        )
    if is_mass(row) and not (allow_mass_deactivation or options.get("allow_mass_deactivation")):
        raise refusal(
            "mass_deactivation",
            msg(
                "roster.mass_deactivation",
                deactivated=row.deactivated,
                scope_members=row.scope_members,
            ),
            sync_id,
        )
    return {
        **options,
        "allow_mass_deactivation": bool(
            allow_mass_deactivation or options.get("allow_mass_deactivation")
        ),
        "skip_rejected": bool(skip_rejected or options.get("skip_rejected")),
    }


async def _mark_failed(sync_id: uuid.UUID, exc: BaseException) -> None:
    """In its own transaction (`own_transaction`): the request's was rolled back."""
    try:
        async with own_transaction() as conn:
            await conn.execute(
                update(SYNCS)
                .where(SYNCS.c.id == sync_id, SYNCS.c.status == SyncStatus.previewed)
                .values(
                    status=SyncStatus.failed,
                    failure_code="apply_failed",
                    failure_detail=f"{type(exc).__name__} while applying; nothing was applied"[
                        :1000
                    ],
                    version=SYNCS.c.version + 1,
                    updated_at=utcnow(),
                )
            )
    except Exception:  # the original failure is the one to report
        log.exception("could not mark roster sync %s failed", sync_id)


async def _apply_steps(
    session: AsyncSession, principal: Principal, sync: SyncRow, options: dict[str, object]
) -> None:
    """The apply transaction: claim the sync, then each of STEPS in order (one service
    function, one transaction)."""
    conn = await session.connection()
    await bulk_settings(conn)
    run = ApplyRun(session, conn, principal, sync, options, utcnow())
    if not await _claim(run):
        return
    for step in STEPS.values():
        await step(run)


async def _claim(run: ApplyRun) -> bool:
    """The row lock makes a concurrent apply wait, then find it applied (False)."""
    sync_id = run.sync.id
    claimed = await run.conn.execute(
        update(SYNCS)
        .where(SYNCS.c.id == sync_id, SYNCS.c.status == SyncStatus.previewed)
        .values(version=SYNCS.c.version + 1, updated_at=run.now)
    )
    if claimed.rowcount == 1:
        return True
    status = await run.conn.scalar(select(SYNCS.c.status).where(SYNCS.c.id == sync_id))
    if status == SyncStatus.applied:
        return False
    raise refusal(
        "sync_not_applicable",
        msg("roster.not_applicable"),
        sync_id,
    )


async def _check_unchanged(run: ApplyRun) -> None:
    """Has the roster changed since the preview? (409, nothing written yet)"""
    conn, sync, sync_id, r, of_sync = run.conn, run.sync, run.sync.id, _R, run.of_sync
    m, u = MEMBERS.alias("m"), UNITS.alias("u")
    if sync.mode == SyncMode.snapshot and sync.fingerprint is not None:
        fingerprint, _ = await scope_fingerprint(conn, sync.scope_path)
        if fingerprint != sync.fingerprint:
            raise roster_changed(sync_id, "members of the scope were added, moved or edited")
    stale = await conn.scalar(
        select(literal(1))
        .select_from(r.join(m, m.c.id == r.c.member_id))
        .where(of_sync, r.c.action != RowAction.create.value, m.c.version != r.c.member_version)
        .limit(1)
    )
    if stale:
        raise roster_changed(sync_id, "a member named by the sync was edited")
    taken = await conn.scalar(
        select(literal(1))
        .select_from(r.join(m, m.c.external_id == r.c.external_id))
        .where(of_sync, r.c.action == RowAction.create.value)
        .limit(1)
    )
    if taken:
        raise roster_changed(sync_id, "a member to be created already exists")
    gone = await conn.scalar(
        select(literal(1))
        .select_from(r.join(u, u.c.id == r.c.unit_id))
        .where(
            of_sync,
            r.c.action.in_([RowAction.create.value, *CHANGING]),
            or_(
                u.c.status != UnitStatus.active.value,
                not_(scope_filter(run.principal, Action.ROSTER_SYNC, u.c.path)),
            ),
        )
        .limit(1)
    )
    if gone:
        raise roster_changed(sync_id, "a target unit was dissolved or left your scope")


async def _apply_units_step(run: ApplyRun) -> None:
    """Units of a snapshot: updates, then new units parents first."""
    if run.sync.units_created or run.sync.units_updated:
        await apply_units(run.conn, run.principal, run.sync.id, run.now)


async def _name_keys(run: ApplyRun) -> None:
    """Sort and search keys of the names that are new to the roster, into `roster_keys`
    (computed here, in Python, only for the rows that need them: a no-op preview costs
    none)."""
    conn, r = run.conn, _R
    await create_temp(conn, KEYS)
    needs_keys = and_(
        run.of_sync,
        or_(
            r.c.action == RowAction.create.value,
            and_(r.c.action.in_(CHANGING), r.c.changed.op("&")(FIELD_BITS["full_name"]) != 0),
        ),
    )
    cache: dict[str, tuple[str, str]] = {}
    last_row = await conn.scalar(select(func.max(r.c.row_no)).where(run.of_sync)) or 0
    for low in range(0, last_row, BATCH):  # row_no ranges: one index range scan each
        part = (
            await conn.execute(
                select(r.c.row_no, r.c.full_name).where(
                    needs_keys, r.c.row_no > low, r.c.row_no <= low + BATCH
                )
            )
        ).all()
        batch = []
        for row_no, name in part:
            keys = cache.get(name)
            if keys is None:
                keys = cache[name] = (fold(name), name_sort_key(name))
            batch.append((row_no, *keys))
        await load(conn, KEYS, batch)
        if len(cache) > 100_000:
            cache.clear()
    cache.clear()


async def _create_members(run: ApplyRun) -> None:
    """New members."""
    r, k, now = _R, KEYS.alias("k"), run.now
    created = await run.conn.execute(
        insert(MEMBERS).from_select(
            [
                "id",
                "external_id",
                "full_name",
                "name_search",
                "name_sort",
                "unit_id",
                "membership",
                "status",
                "position",
                "is_leader",
                "email",
                "phone",
                "declaration",
                "declared_at",
                "version",
                "created_at",
                "updated_at",
            ],
            select(
                r.c.member_id,
                r.c.external_id,
                r.c.full_name,
                k.c.name_search,
                k.c.name_sort,
                r.c.unit_id,
                r.c.membership,
                r.c.status,
                r.c.position,
                r.c.is_leader,
                r.c.email,
                r.c.phone,
                literal("not_declared"),
                literal(None),
                literal(1),
                literal(now, MEMBERS.c.created_at.type),
                literal(now, MEMBERS.c.updated_at.type),
            )
            .select_from(r.join(k, k.c.row_no == r.c.row_no))
            .where(run.of_sync, r.c.action == RowAction.create.value),
        )
    )
    if created.rowcount != run.sync.created:
        raise roster_changed(run.sync.id, "new members could not all be created")


async def _update_members(run: ApplyRun) -> None:
    """Updates, moves, reactivations (each only if the member is still at its version)."""
    r, k, target, of_sync, sync = _R, KEYS.alias("k"), MEMBERS, run.of_sync, run.sync
    changed = await run.conn.execute(
        update(target)
        .where(
            target.c.id == r.c.member_id,
            target.c.version == r.c.member_version,
            of_sync,
            r.c.action.in_(CHANGING),
        )
        .values(
            full_name=r.c.full_name,
            unit_id=r.c.unit_id,
            membership=r.c.membership,
            status=r.c.status,
            position=r.c.position,
            is_leader=r.c.is_leader,
            email=r.c.email,
            phone=r.c.phone,
            version=target.c.version + 1,
            updated_at=run.now,
        )
    )
    if changed.rowcount != sync.updated + sync.moved + sync.reactivated:
        raise roster_changed(sync.id, "a member named by the sync was edited")
    await run.conn.execute(
        update(target)
        .where(
            target.c.id == r.c.member_id,
            k.c.row_no == r.c.row_no,
            of_sync,
            r.c.action.in_(CHANGING),
        )
        .values(name_search=k.c.name_search, name_sort=k.c.name_sort)
    )


async def _deactivate_members(run: ApplyRun) -> None:
    """Deactivations: absent members become `transferred`, never deleted."""
    r, target = _R, MEMBERS
    gone_rows = await run.conn.execute(
        update(target)
        .where(
            target.c.id == r.c.member_id,
            target.c.version == r.c.member_version,
            run.of_sync,
            r.c.action == RowAction.deactivate.value,
        )
        .values(
            status=MemberStatus.transferred.value, version=target.c.version + 1, updated_at=run.now
        )
    )
    if gone_rows.rowcount != run.sync.deactivated:
        raise roster_changed(run.sync.id, "a member to be deactivated was edited")


async def _invalidate_tokens(run: ApplyRun) -> None:
    """Members who left the roster: their users' tokens stop working at once."""
    r = _R
    leaving = select(r.c.member_id).where(
        run.of_sync,
        r.c.action.in_([RowAction.deactivate.value, *CHANGING]),
        r.c.before_status.in_(ON_ROSTER),
        r.c.status.not_in(ON_ROSTER),
    )
    await run.conn.execute(
        update(USERS)
        .where(USERS.c.member_id.in_(leaving))
        .values(token_version=USERS.c.token_version + 1, updated_at=run.now)
    )
    await drop_temp(run.conn, KEYS)


async def _shift_statistics(run: ApplyRun) -> None:
    """Statistics: each changed member's contribution moves from where it was to where
    it is (work in proportion to the rows changed, not to the units' sizes)."""
    r, of_sync = _R, run.of_sync
    changed_rows = and_(of_sync, r.c.action.in_([RowAction.deactivate.value, *CHANGING]))
    now_m = MEMBERS.alias("now_m")
    sides = union_all(
        # Deactivation rows carry the member's (unchanged) unit and leadership as values.
        select(
            r.c.member_id,
            func.coalesce(r.c.before_unit_id, r.c.unit_id).label("unit_id"),
            r.c.before_status.label("status"),
            func.coalesce(r.c.before_is_leader, r.c.is_leader).label("is_leader"),
            literal(-1).label("sign"),
        ).where(changed_rows),
        select(now_m.c.id, now_m.c.unit_id, now_m.c.status, now_m.c.is_leader, literal(1))
        .select_from(r.join(now_m, now_m.c.id == r.c.member_id))
        .where(changed_rows),
    ).subquery("sides")
    fresh = (
        select(r.c.unit_id, r.c.status, r.c.is_leader)
        .where(of_sync, r.c.action == RowAction.create.value)
        .subquery("fresh")
    )
    await counters.shift(run.session, sides, fresh)


async def _mark_applied(run: ApplyRun) -> None:
    """The sync is applied; one audit event with the counts."""
    sync, now, principal = run.sync, run.now, run.principal
    await run.conn.execute(
        update(SYNCS)
        .where(SYNCS.c.id == sync.id)
        .values(
            status=SyncStatus.applied,
            applied_at=now,
            applied_by_type=principal.kind,
            applied_by_id=principal.id,
            updated_at=now,
            options=run.options,
        )
    )
    counts = {key: getattr(sync, key) for key in (*COUNT_KEYS.values(), *UNIT_COUNT_KEYS.values())}
    audit.record(
        run.session,
        principal,
        "roster_sync.apply",
        "roster_sync",
        sync.id,
        sync.scope_unit_id,
        {"mode": sync.mode, **counts},
    )


# The steps of an apply after the claim, in order. Tests wrap one to fail at that point.
STEPS: dict[str, Step] = {
    "checks": _check_unchanged,
    "units": _apply_units_step,
    "keys": _name_keys,
    "create": _create_members,
    "update": _update_members,
    "deactivate": _deactivate_members,
    "tokens": _invalidate_tokens,
    "statistics": _shift_statistics,
    "done": _mark_applied,
}
