"""Reads of reports: the wire model of one report, the list with its filters, the
caller's own reports and a report's timeline.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter

from sqlalchemy import and_, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import utcnow
from api.core.enums import (
    Platform,
    ReportCategory,
    ReportStatus,
)
from api.core.errors import Forbidden
from api.core.i18n import msg
from api.core.pagination import Order, paginate, paginate_rows
from api.core.text_vi import fold
from api.models import Report, ReportEvent, Unit
from api.models.report import OPEN_STATUSES
from api.schemas.reports import (
    ReportRead,
    ReportWithReporter,
    TimelineEntry,
)
from api.services.authz import Principal, in_subtree
from api.services.reports.core import (
    REPORT_UNIT,
    Visible,
    can_list,
    sees_reporter,
    visible_stmt,
)
from api.services.reports.workflow import allowed_moves

COMPUTED = frozenset({"overdue", "allowed_transitions"})


def read_model(principal: Principal, v: Visible, now: datetime | None = None) -> ReportRead:
    report = v.report
    now = now or utcnow()
    data = {name: getattr(report, name) for name in ReportRead.model_fields if name not in COMPUTED}
    data["overdue"] = report.status in OPEN_STATUSES and report.due_at < now
    data["allowed_transitions"] = allowed_moves(principal, v)
    if sees_reporter(principal, v):
        return ReportWithReporter(**data, reporter_member_id=report.reporter_member_id)
    return ReportRead(**data)


_ORDER = Order("reports", (Report.created_at, Report.id), descending=True)
# Its own cursor kind: a cursor of one order is refused by the other (422).
_DUE_ORDER = Order("reports:due_at", (Report.due_at, Report.id))
_EVENT_ORDER = Order("report-events", (ReportEvent.at, ReportEvent.id))


async def list_reports(
    session: AsyncSession,
    principal: Principal,
    *,
    status: Sequence[ReportStatus] | None,
    category: ReportCategory | None,
    platform: Platform | None,
    unit_id: uuid.UUID | None,
    assignee_id: uuid.UUID | None,
    overdue: bool | None,
    subject_member_id: uuid.UUID | None,
    mine: bool,
    q: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    cursor: str | None,
    limit: int,
    sort: str = "created_at",
) -> tuple[list[Visible], str | None]:
    """Newest first, or by `due_at` (nearest deadline first, then id). `unit_id` matches
    reports filed in the unit's subtree (the reporter's unit at filing), the unit the
    statistics count a report in."""
    if not can_list(principal):
        raise Forbidden(detail=msg("reports.role_may_not_read"))
    stmt = visible_stmt(principal)
    if status:
        stmt = stmt.where(Report.status.in_(status))
    if category is not None:
        stmt = stmt.where(Report.category == category)
    if platform is not None:
        stmt = stmt.where(Report.platform == platform)
    if assignee_id is not None:
        stmt = stmt.where(Report.assignee_id == assignee_id)
    if subject_member_id is not None:
        stmt = stmt.where(Report.subject_member_id == subject_member_id)
    if mine:
        stmt = stmt.where(Report.reporter_member_id == principal.member_id)
    if overdue is not None:
        late = and_(Report.status.in_(OPEN_STATUSES), Report.due_at < utcnow())
        stmt = stmt.where(late if overdue else not_(late))
    if created_from is not None:
        stmt = stmt.where(Report.created_at >= created_from)
    if created_to is not None:
        stmt = stmt.where(Report.created_at < created_to)
    if q and (folded := fold(q)):
        stmt = stmt.where(Report.description_search.contains(folded, autoescape=True))
    if unit_id is not None:
        path = await session.scalar(select(Unit.path).where(Unit.id == unit_id))
        if path is None:
            return [], None
        stmt = stmt.where(in_subtree(REPORT_UNIT.path, path))
    order = _DUE_ORDER if sort == "due_at" else _ORDER
    rows, next_cursor = await paginate_rows(
        session, stmt, order=order, cursor=cursor, limit=limit, holder=itemgetter(0)
    )
    return [Visible(r[0], r[1], r[2]) for r in rows], next_cursor


async def own_reports(
    session: AsyncSession, principal: Principal, limit: int | None
) -> list[ReportWithReporter]:
    """The reports the caller filed, newest first (all of them when `limit` is None)."""
    if principal.member_id is None:
        return []
    stmt = visible_stmt(principal).where(Report.reporter_member_id == principal.member_id)
    stmt = stmt.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)
    now = utcnow()
    rows = (await session.execute(stmt)).all()
    models = [read_model(principal, Visible(r[0], r[1], r[2]), now) for r in rows]
    return [m for m in models if isinstance(m, ReportWithReporter)]  # all: the caller filed them


async def timeline(
    session: AsyncSession, principal: Principal, v: Visible, *, cursor: str | None, limit: int
) -> tuple[list[TimelineEntry], str | None]:
    """Oldest first. For a viewer who may not know the reporter, the reporter's own
    entries carry no actor."""
    stmt = select(ReportEvent).where(ReportEvent.report_id == v.report.id)
    items, next_cursor = await paginate(
        session, stmt, order=_EVENT_ORDER, cursor=cursor, limit=limit
    )
    hide = not sees_reporter(principal, v)
    out = []
    for event in items:
        entry = TimelineEntry.model_validate(event)
        if hide and event.by_reporter:
            entry = entry.model_copy(update={"actor_id": None, "actor_type": None})
        out.append(entry)
    return out, next_cursor
