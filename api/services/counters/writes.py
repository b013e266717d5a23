"""What a write calls: `touch` (recount its units, append the change), `detach` (before
a move), `acknowledged` (the campaign write, by increments)."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    Select,
    Update,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from api.core.db import upsert_insert, utcnow
from api.core.enums import (
    MemberStatus,
)
from api.models import Member, Unit
from api.models.stats import (
    CounterDelta,
    UnitStats,
)
from api.services.counters.folder import fold_inline
from api.services.counters.recount import (
    ALL,
    COUNT_COLUMNS,
    DELTA_UNITS,
    DELTAS,
    RESOLVED,
    STATS,
    UDA,
    IdSet,
    UnitSet,
    bound_statements,
    id_sets,
    recount_direct,
    recount_part,
)


async def touch(
    session: AsyncSession,
    units: UnitSet,
    *,
    reports: bool = False,
    moved: bool = False,
    part: str = ALL,
) -> None:
    """Recount the direct counters of these units (ids, or a SELECT of unit ids) from their
    rows, in the caller's transaction, and append the change to `counter_deltas` for the
    folder to carry up the tree. `reports=True` when resolved reports changed (the folder
    refreshes the medians above). `moved=True` after the units moved: `detach` took their
    old counters off their old ancestors, so they are added whole under their new paths.

    A few units (a write's one or two, up to DELTA_UNITS) are compared before and after in
    Python and append one row each; more units append their counters negated, recount,
    and append the new ones (set-based: two INSERT … SELECT per id set). A SELECT is
    resolved to its ids first, so a write's small set always takes the first way. `part`
    (ACCOUNTS, REPORTS): the write changed only those rows, so a few units recount only
    those counters."""
    await session.flush()
    reports = reports or moved  # the medians of the new ancestors change with a move
    if isinstance(units, Select):
        units = (await session.scalars(units)).all()
    ids = sorted({u for u in units if u is not None})
    if not ids:
        return
    if len(ids) <= DELTA_UNITS and not moved:
        await _touch_few(session, ids, reports, part)
    else:
        for id_set in id_sets(session, ids):
            await lock_units(session, id_set)
            if not moved:
                await append_stats(session, id_set, -1, reports)
            await recount_direct(session, id_set)
            await append_stats(session, id_set, 1, reports)
    await fold_inline(session)


async def detach(session: AsyncSession, units: Select[uuid.UUID]) -> None:
    """Before these units move: their counters, negated, under their current paths (so
    they leave their old ancestors' rollups); `touch(…, moved=True)` adds them back
    under the new paths, and folds on SQLite (the old ancestors' medians are only right
    once the units have moved)."""
    await session.flush()
    await lock_units(session, units)
    await append_stats(session, units, -1, True)


async def lock_units(session: AsyncSession, ids: IdSet) -> None:
    """Lock the units' rows (PostgreSQL, `FOR NO KEY UPDATE`, compatible with foreign-key
    checks) until the commit: one recount of a unit at a time, a write's `before` is then
    current, and a unit's path (read after the lock) cannot change under a delta."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(Unit.id)
            .where(Unit.id.in_(ids))
            .order_by(Unit.id)
            .with_for_update(key_share=True)
        )


async def append_stats(session: AsyncSession, ids: IdSet, sign: int, reports: bool) -> None:
    """Append the units' direct counters × sign under their current paths."""
    stats = (
        select(
            UnitStats.unit_id,
            Unit.path,
            literal(reports),
            *((getattr(UnitStats, c) * sign).label(c) for c in COUNT_COLUMNS),
        )
        .join(Unit, Unit.id == UnitStats.unit_id)
        .where(UnitStats.unit_id.in_(ids))
    )
    await session.execute(
        insert(CounterDelta).from_select(["unit_id", "path", "reports", *COUNT_COLUMNS], stats)
    )


async def _touch_few(session: AsyncSession, ids: list[uuid.UUID], reports: bool, part: str) -> None:
    """A write's one or two units: locked, recounted, and one delta row each."""
    lock = select(Unit.id, Unit.path).where(Unit.id.in_(ids)).order_by(Unit.id)
    if session.get_bind().dialect.name == "postgresql":
        lock = lock.with_for_update(key_share=True)  # see lock_units
    paths = dict((await session.execute(lock)).all())
    if session.get_bind().dialect.name == "postgresql" and part != ALL:
        one = bound_statements(session, part)[-1]
        params = {"unit_ids": ids, "reports": reports, "created_at": utcnow()}
        counted, _ = (await (await session.connection()).execute(one, params)).one()
        ids = [u for u in ids if u not in set(counted or ())]  # never counted: below
        if not ids:
            return
    before, after = await recount_part(session, ids, part)
    zeros = (0,) * len(COUNT_COLUMNS)
    rows = []
    for unit_id, path in paths.items():
        change = [
            a - b
            for a, b in zip(after.get(unit_id, zeros), before.get(unit_id, zeros), strict=True)
        ]
        # Medians move only with the resolved reports (resolved is final: a report enters
        # the median once, when it is resolved).
        medians = reports and change[RESOLVED] != 0
        if any(change) or medians:
            rows.append(
                {
                    "unit_id": unit_id,
                    "path": path,
                    "reports": medians,
                    **dict(zip(COUNT_COLUMNS, change, strict=True)),
                }
            )
    if rows:
        await session.execute(insert(CounterDelta), rows)


async def acknowledged(
    session: AsyncSession,
    member_id: uuid.UUID,
    unit_id: uuid.UUID | None,
    document_id: uuid.UUID,
    requires_ack: bool,
) -> None:
    """One new acknowledgement of a published document's current revision: the campaign
    write (millions of members acknowledge within days), so instead of recounting the
    member's unit it adds one to the unit's per-document count and, for a document that
    requires acknowledgement, to its `ack_done` — under the unit's lock, so exact — and
    appends that as a delta. A member not active counts nowhere; a unit never counted
    is recounted instead.

    `unit_id` is where the caller believes the member is (the principal's, possibly a
    cached second old): that unit is locked first, then the member's unit is read under
    the lock. The lock serialises this with a move of the member, whose recount would
    count the acknowledgement; if the member is elsewhere by then, both units are
    recounted. Four statements on PostgreSQL (lock, member, one statement for the three
    counters, nothing to fold); SQLite folds inline."""
    await session.flush()
    if unit_id is None:
        return
    lock = select(Unit.path).where(Unit.id == unit_id)
    if session.get_bind().dialect.name == "postgresql":
        lock = lock.with_for_update(key_share=True)  # see lock_units
    path = await session.scalar(lock)
    current = await session.scalar(
        select(Member.unit_id).where(Member.id == member_id, Member.status == MemberStatus.active)
    )
    if current is None:
        return
    if path is None or current != unit_id:
        await touch(session, [unit_id, current])
        return
    if session.get_bind().dialect.name == "postgresql":
        bumped = await session.scalar(_ack_counts(unit_id, path, document_id, requires_ack))
    else:
        bumped = await _ack_counts_apart(session, unit_id, path, document_id, requires_ack)
    if bumped is None:  # never counted: a recount counts this acknowledgement too
        await touch(session, [unit_id])
        return
    await fold_inline(session)


def _ack_bump(unit_id: uuid.UUID, requires_ack: bool) -> Update:
    return (
        update(STATS)
        .where(STATS.c.unit_id == unit_id)
        .values(ack_done=STATS.c.ack_done + int(requires_ack))
    )


def _ack_per_document(dialect: str) -> postgresql.Insert | sqlite.Insert:
    upsert: postgresql.Insert | sqlite.Insert = upsert_insert(dialect, UDA)
    return upsert


def _ack_delta(path: str) -> dict[str, object]:
    return {
        "path": path,
        "reports": False,
        "created_at": utcnow(),  # a Python default: an INSERT … SELECT names it
        **{c: int(c == "ack_done") for c in COUNT_COLUMNS},
    }


def _ack_counts(
    unit_id: uuid.UUID, path: str, document_id: uuid.UUID, requires_ack: bool
) -> Select[uuid.UUID] | ReturningInsert[uuid.UUID]:
    """PostgreSQL: the unit's `ack_done`, its per-document count and the delta in one
    statement (data-modifying CTEs); the unit's id, or None when it has no counters yet."""
    bumped = _ack_bump(unit_id, requires_ack).returning(STATS.c.unit_id).cte("bumped")
    per_document = (
        _ack_per_document("postgresql")
        .from_select(
            ["document_id", "unit_id", "acks"],
            select(literal(document_id), bumped.c.unit_id, literal(1)),
        )
        .on_conflict_do_update(
            index_elements=[UDA.c.document_id, UDA.c.unit_id], set_={"acks": UDA.c.acks + 1}
        )
        .returning(UDA.c.unit_id)
        .cte("per_document")
    )
    if not requires_ack:
        return select(per_document.c.unit_id)
    delta = _ack_delta(path)
    return (
        insert(DELTAS)
        .from_select(
            ["unit_id", *delta],
            select(per_document.c.unit_id, *(literal(v) for v in delta.values())),
        )
        .returning(DELTAS.c.unit_id)
    )


async def _ack_counts_apart(
    session: AsyncSession,
    unit_id: uuid.UUID,
    path: str,
    document_id: uuid.UUID,
    requires_ack: bool,
) -> uuid.UUID | None:
    """SQLite (no data-modifying CTEs): the same three writes, one statement each."""
    conn = await session.connection()
    if not (await conn.execute(_ack_bump(unit_id, requires_ack))).rowcount:
        return None
    upsert = _ack_per_document("sqlite").values(unit_id=unit_id, document_id=document_id, acks=1)
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[UDA.c.document_id, UDA.c.unit_id], set_={"acks": UDA.c.acks + 1}
        )
    )
    if requires_ack:
        await conn.execute(insert(DELTAS).values(unit_id=unit_id, **_ack_delta(path)))
    return unit_id
