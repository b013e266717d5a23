"""The median time to resolve a subtree's reports (not additive: computed, not summed)."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import (
    ReportStatus,
)
from api.models import Report, Unit
from api.services.authz import in_subtree
from api.services.counters.recount import ROLLUPS, chunks


def resolve_hours(session: AsyncSession) -> ColumnElement[float | Decimal]:
    """(closed_at − created_at) in hours, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", Report.closed_at - Report.created_at) / 3600.0
    return (func.julianday(Report.closed_at) - func.julianday(Report.created_at)) * 24.0


async def subtree_medians(
    session: AsyncSession, paths: Sequence[str], where: Sequence[ColumnElement[bool]] = ()
) -> dict[str, float | None]:
    """{path: median hours to resolve of the resolved reports filed in its subtree}. The
    paths all have one length (one depth). PostgreSQL computes percentile_cont per group;
    SQLite (the embedded default, small data) hands the hours to Python."""
    if not paths:
        return {}
    length = len(paths[0])
    prefix = func.substr(Unit.path, 1, length).label("prefix")
    resolved = [
        Report.status == ReportStatus.resolved,
        Report.closed_at.is_not(None),
        *where,
    ]
    out: dict[str, float | None] = dict.fromkeys(paths)
    for chunk in chunks(list(paths)):
        scope = in_subtree(Unit.path, chunk[0]) if len(chunk) == 1 else prefix.in_(chunk)
        if session.get_bind().dialect.name == "postgresql":
            stmt = (
                select(prefix, func.percentile_cont(0.5).within_group(resolve_hours(session)))
                .select_from(Report)
                .join(Unit, Unit.id == Report.unit_id)
                .where(scope, *resolved)
                .group_by(prefix)
            )
            for row in (await session.execute(stmt)).all():
                out[row[0]] = round(float(row[1]), 4)
        else:
            stmt = (
                select(prefix, resolve_hours(session))
                .select_from(Report)
                .join(Unit, Unit.id == Report.unit_id)
                .where(scope, *resolved)
            )
            hours: dict[str, list[float]] = {}
            for row in (await session.execute(stmt)).all():
                hours.setdefault(row[0], []).append(float(row[1]))
            for key, values in hours.items():
                out[key] = round(statistics.median(values), 4)
    return out


async def refresh_medians(session: AsyncSession, units: Sequence[tuple[uuid.UUID, str]]) -> None:
    by_depth: dict[int, list[tuple[uuid.UUID, str]]] = {}
    for unit_id, path in units:
        by_depth.setdefault(len(path), []).append((unit_id, path))
    for group in by_depth.values():
        medians = await subtree_medians(session, [p for _, p in group])
        params = [{"uid": unit_id, "m": medians.get(path)} for unit_id, path in group]
        await session.execute(
            update(ROLLUPS)
            .where(ROLLUPS.c.unit_id == bindparam("uid"))
            .values(median_hours_to_resolve=bindparam("m"))
            .execution_options(synchronize_session=False),
            params,
        )
