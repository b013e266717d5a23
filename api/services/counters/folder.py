"""The folder: pending deltas merged into the rollups, one fold at a time across replicas;
the read of rollups plus pending deltas; `recount_all`, which excludes the folder."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import (
    CompoundSelect,
    Float,
    Row,
    and_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from api.core.db import upsert_insert, utcnow
from api.models import Unit
from api.models.stats import (
    CounterDelta,
    UnitDocumentAcks,
    UnitRollup,
    UnitStats,
)
from api.services.counters.medians import refresh_medians
from api.services.counters.recount import (
    COUNT_COLUMNS,
    ROLLUPS,
    ancestry,
    id_sets,
    recount_direct,
    rollup,
)

logger = logging.getLogger("qd85.counters")


# --------------------------------------------------------------------------- the folder

# The PostgreSQL advisory lock of the folder: one fold at a time across every replica, and
# `qd85 recount` excludes it.
FOLD_LOCK = 0x71643835
FOLD_BATCH = 5_000


async def fold_inline(session: AsyncSession) -> None:
    """SQLite has one writer at a time: fold in the writing transaction itself."""
    if session.get_bind().dialect.name != "postgresql":
        while await fold(session):
            pass


async def fold(session: AsyncSession, batch: int = FOLD_BATCH, settle: float = 0) -> int:
    """Merge up to `batch` pending deltas into the rollups of every unit on their paths,
    refresh the medians their resolved reports changed, and delete them — in the caller's
    transaction, so a crash before the commit leaves them pending for the next fold.
    Returns how many were folded (0 also when another folder holds the lock). Deltas are
    claimed by `DELETE … RETURNING` over `FOR UPDATE SKIP LOCKED`: even two folders
    without the lock could not claim one delta twice.

    `settle` (seconds): deltas that change medians are left pending until they are that
    old. Reads add pending deltas, so every count stays exact; what waits is only the
    median refresh, which then serves every report resolved meanwhile at once. A median of
    a province or of the nation is a percentile over all its resolved reports: refreshed
    once per `settle` rather than once per fold (`QD85_MEDIAN_REFRESH_SECONDS`)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and not await session.scalar(select(func.pg_try_advisory_xact_lock(FOLD_LOCK))):
        return 0
    claimed = await _claim(session, batch, settle, postgres)
    totals, medians = _sum_up(claimed)
    await _hold_rollups(session, sorted(totals.keys() | medians))
    if totals:
        await session.execute(
            update(ROLLUPS)
            .where(ROLLUPS.c.unit_id == bindparam("uid"))
            .values({c: ROLLUPS.c[c] + bindparam(f"d_{c}") for c in COUNT_COLUMNS})
            .execution_options(synchronize_session=False),
            [
                {
                    "uid": unit_id,
                    **{f"d_{c}": v for c, v in zip(COUNT_COLUMNS, change, strict=True)},
                }
                for unit_id, change in sorted(totals.items())
            ],
        )
    if medians:
        await refresh_medians(session, await _paths(session, sorted(medians)))
    return len(claimed)


async def _claim(
    session: AsyncSession, batch: int, settle: float, postgres: bool
) -> Sequence[Row[str, bool, *tuple[int, ...]]]:
    """Delete up to `batch` of the oldest pending deltas (settled ones, with `settle`)
    and return them: path, reports, COUNT_COLUMNS..."""
    oldest = select(CounterDelta.id).order_by(CounterDelta.id).limit(batch)
    if settle > 0:
        cutoff = utcnow() - timedelta(seconds=settle)
        oldest = oldest.where(
            or_(CounterDelta.reports.is_(False), CounterDelta.created_at < cutoff)
        )
    if postgres:
        oldest = oldest.with_for_update(skip_locked=True)
    return (
        await session.execute(
            delete(CounterDelta)
            .where(CounterDelta.id.in_(oldest.scalar_subquery()))
            .returning(
                CounterDelta.path,
                CounterDelta.reports,
                *(getattr(CounterDelta, c) for c in COUNT_COLUMNS),
            )
        )
    ).all()


def _sum_up(
    claimed: Sequence[Row[str, bool, *tuple[int, ...]]],
) -> tuple[dict[uuid.UUID, list[int]], set[uuid.UUID]]:
    """The claimed deltas' changes summed per unit on their paths, and the units whose
    medians their resolved reports changed."""
    totals: dict[uuid.UUID, list[int]] = {}
    medians: set[uuid.UUID] = set()
    for path, reports, *change in claimed:
        above = ancestry(path)
        if reports:
            medians.update(above)
        if not any(change):
            continue
        for unit_id in above:
            total = totals.setdefault(unit_id, [0] * len(COUNT_COLUMNS))
            for i, value in enumerate(change):
                total[i] += value
    return totals, medians


async def fold_all(session: AsyncSession, settle: float = 0) -> int:
    """Fold until nothing is pending (nothing settled, with `settle`: see `fold`),
    committing after each batch (`qd85 fold`)."""
    total = 0
    while folded := await fold(session, settle=settle):
        await session.commit()
        total += folded
    await session.commit()
    return total


async def keep_folding(
    sessionmaker: async_sessionmaker[AsyncSession], interval: float, settle: float = 0
) -> None:
    """The folder of one worker (PostgreSQL): fold whatever is pending every `interval`
    seconds, forever. An error (the database away) is logged and retried at the next
    tick; nothing is lost, the deltas stay pending."""
    while True:
        try:
            async with sessionmaker() as session:
                await fold_all(session, settle)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("statistics fold failed; retrying", exc_info=True)
        await asyncio.sleep(interval)


async def _hold_rollups(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """Make sure the units have rollup rows."""
    for id_set in id_sets(session, ids):
        # From the units table: the counters' defaults are bound once, not once per row.
        await session.execute(
            upsert_insert(session.get_bind().dialect.name, ROLLUPS)
            .from_select(["unit_id"], select(Unit.id).where(Unit.id.in_(id_set)))
            .on_conflict_do_nothing(index_elements=[ROLLUPS.c.unit_id])
        )


async def _paths(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    out: list[tuple[uuid.UUID, str]] = []
    for id_set in id_sets(session, ids):
        out += [
            (u, p)
            for u, p in (
                await session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(id_set)))
            ).all()
        ]
    return out


# unit_id, COUNT_COLUMNS..., median_hours_to_resolve
PendingRollups = CompoundSelect[uuid.UUID, *tuple[int | float | None, ...]]


def pending_rollups() -> PendingRollups:
    """One statement (one snapshot: a fold committing meanwhile can neither hide a delta
    nor count it twice) giving, per unit of the `unit_ids` parameter, its folded rollup
    row and the sums of the pending deltas in its subtree; the caller adds them up.
    Columns: unit_id, COUNT_COLUMNS..., median_hours_to_resolve (null on pending rows).
    Built once per process: every statistics read runs it, and building it (two selects
    of some thirty columns) cost more than running it."""
    global _PENDING_ROLLUPS
    if _PENDING_ROLLUPS is None:
        unit_ids: BindParameter[uuid.UUID] = bindparam("unit_ids", expanding=True)
        target = aliased(Unit)
        folded = select(
            ROLLUPS.c.unit_id,
            *(ROLLUPS.c[c] for c in COUNT_COLUMNS),
            ROLLUPS.c.median_hours_to_resolve,
        ).where(ROLLUPS.c.unit_id.in_(unit_ids))
        pending = (
            select(
                target.id,
                *(func.sum(getattr(CounterDelta, c)) for c in COUNT_COLUMNS),
                literal(None, type_=Float).label("median_hours_to_resolve"),
            )
            .select_from(CounterDelta)
            .join(
                target,
                and_(
                    target.id.in_(unit_ids),
                    func.substr(CounterDelta.path, 1, func.length(target.path)) == target.path,
                ),
            )
            .group_by(target.id)
        )
        _PENDING_ROLLUPS = folded.union_all(pending)
    assert _PENDING_ROLLUPS is not None
    return _PENDING_ROLLUPS


_PENDING_ROLLUPS: PendingRollups | None = None


async def recount_all(session: AsyncSession) -> int:
    """Rebuild every counter, rollup and median from scratch (`qd85 recount`); returns
    the number of units. On PostgreSQL it holds the folder's lock and keeps writers from
    appending deltas until it commits (they wait): what it counts and what is pending
    must not overlap."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(FOLD_LOCK)))
        await session.execute(text("LOCK TABLE counter_deltas IN SHARE ROW EXCLUSIVE MODE"))
    for model in (CounterDelta, UnitStats, UnitRollup, UnitDocumentAcks):
        await session.execute(delete(model))
    await recount_direct(session, select(Unit.id))
    units = (await session.execute(select(Unit.id, Unit.path))).all()
    levels: dict[int, list[uuid.UUID]] = {}
    for unit_id, path in units:
        levels.setdefault(len(path), []).append(unit_id)
    for length in sorted(levels, reverse=True):
        for id_set in id_sets(session, sorted(levels[length])):
            await rollup(session, id_set)
    await refresh_medians(session, [(u, p) for u, p in units])
    return len(units)
