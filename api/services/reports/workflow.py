"""The handling workflow (SPEC §5): one explicit state table (`WORKFLOW`), the moves
along it, duplicates that follow their primary, assignment and priority.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import utcnow
from api.core.enums import ReportStatus
from api.core.errors import Conflict, Forbidden
from api.core.i18n import msg
from api.core.versioning import check_version
from api.models import Report
from api.models.report import OPEN_STATUSES
from api.schemas.reports import ReportUpdate, TransitionIn
from api.services import audit, counters
from api.services.authz import Principal
from api.services.identity import load_user_principal
from api.services.reports.core import (
    Visible,
    add_events,
    event,
    field_error,
    is_reporter,
    may_handle,
    require_handler,
)

TERMINAL = frozenset({ReportStatus.resolved, ReportStatus.dismissed, ReportStatus.withdrawn})


@dataclass(frozen=True, slots=True)
class Move:
    """A legal move: who makes it ("handler" or "reporter") and the transition-body
    fields it requires (all others of `MOVE_FIELDS` must be absent)."""

    by: str
    requires: frozenset[str] = frozenset()


MOVE_FIELDS = ("outcome", "authority", "reference")
# The whole workflow (SPEC §5). Any (from, to) not listed is 409 `invalid_transition`.
WORKFLOW: dict[tuple[ReportStatus, ReportStatus], Move] = {
    (ReportStatus.submitted, ReportStatus.in_review): Move("handler"),
    (ReportStatus.submitted, ReportStatus.dismissed): Move("handler"),
    (ReportStatus.in_review, ReportStatus.dismissed): Move("handler"),
    (ReportStatus.in_review, ReportStatus.escalated): Move(
        "handler", frozenset({"authority", "reference"})
    ),
    (ReportStatus.in_review, ReportStatus.resolved): Move("handler", frozenset({"outcome"})),
    (ReportStatus.escalated, ReportStatus.resolved): Move("handler", frozenset({"outcome"})),
    (ReportStatus.submitted, ReportStatus.withdrawn): Move("reporter"),
}


class AllowedMove(TypedDict):
    to: ReportStatus
    requires: list[str]


def allowed_moves(principal: Principal, v: Visible) -> list[AllowedMove]:
    """The moves `transition` would accept from this caller now, with their required
    fields (the same rules, read from the one WORKFLOW table)."""
    report = v.report
    out: list[AllowedMove] = []
    for (source, target), move in WORKFLOW.items():
        if source is not report.status:
            continue
        if move.by == "reporter":
            allowed = is_reporter(principal, report)
        else:
            allowed = report.duplicate_of is None and may_handle(principal, v)
        if allowed:
            out.append({"to": target, "requires": sorted(move.requires)})
    return out


async def _lock(session: AsyncSession, report: Report) -> None:
    """Re-read FOR UPDATE (no-op lock on SQLite) so moves on one report queue up."""
    await session.execute(
        select(Report)
        .where(Report.id == report.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _invalid(report: Report, to: ReportStatus, *, duplicate: bool = False) -> Conflict:
    """409: no such move (or, for a duplicate, none of its own: it follows its primary)."""
    message_id = "reports.invalid_move_duplicate" if duplicate else "reports.invalid_move"
    return Conflict("invalid_transition", msg(message_id, status=report.status.value, to=to.value))


async def transition(
    session: AsyncSession,
    principal: Principal,
    v: Visible,
    data: TransitionIn,
    expected_version: int | None,
) -> Report:
    report = v.report
    await _lock(session, report)
    check_version(expected_version, report.version)
    move = _legal_move(principal, v, data)
    await _make_move(session, principal, report, move, data)
    return report


def _legal_move(principal: Principal, v: Visible, data: TransitionIn) -> Move:
    """The WORKFLOW move from the report's status to `data.to`, if this caller may make
    it with these fields (409, 403, 422 otherwise)."""
    report = v.report
    move = WORKFLOW.get((report.status, data.to))
    if move is None:
        raise _invalid(report, data.to)
    if move.by == "reporter":
        if not is_reporter(principal, report):
            raise Forbidden(
                detail=msg("reports.withdraw_reporter_only"),
            )
    else:
        require_handler(principal, v)
        if report.duplicate_of is not None:
            raise _invalid(report, data.to, duplicate=True)
    for name in MOVE_FIELDS:
        given = getattr(data, name) is not None
        if name in move.requires and not given:
            raise field_error(
                name,
                "validation_failed",
                msg("reports.field_required_for_move", name=name, to=data.to.value),
            )
        if given and name not in move.requires:
            raise field_error(
                name,
                "validation_failed",
                msg("reports.field_not_for_move", name=name, to=data.to.value),
            )
    return move


def _audit_move(
    session: AsyncSession,
    principal: Principal,
    report: Report,
    move: Move,
    data: TransitionIn,
    before: ReportStatus,
) -> None:
    audit_unit = None if is_reporter(principal, report) else report.unit_id
    audit.record(
        session,
        principal,
        "report.transition",
        "report",
        report.id,
        audit_unit,
        {
            "status": [before, data.to],
            "comment": data.comment,
            **{k: getattr(data, k) for k in move.requires},
        },
    )


def _move_changes(move: Move, data: TransitionIn, now: datetime) -> dict[str, object]:
    """The report's fields a move sets: the status, the fields the move requires, and
    closed_at / open_key when it leaves the open states."""
    changes: dict[str, object] = {"status": data.to}
    for name in move.requires:
        changes[name] = getattr(data, name)
    if data.to in TERMINAL:
        changes["closed_at"] = now
    if data.to not in OPEN_STATUSES:
        changes["open_key"] = None
    return changes


async def _make_move(
    session: AsyncSession, principal: Principal, report: Report, move: Move, data: TransitionIn
) -> None:
    """The move's changes to the report and its duplicates, its timeline events, audit
    and counters."""
    before = report.status
    now = utcnow()
    changes = _move_changes(move, data, now)
    if data.to is ReportStatus.withdrawn and report.duplicate_of is None:
        await _promote_duplicate(session, principal, report, now)
    for name, value in changes.items():
        setattr(report, name, value)
    report.updated_at = now
    await session.flush()
    await add_events(
        session,
        [
            event(
                report.id,
                "transition",
                principal,
                by_reporter=is_reporter(principal, report),
                from_status=before,
                to_status=data.to,
                comment=data.comment,
                data={k: getattr(data, k) for k in move.requires},
            )
        ],
    )
    if report.duplicate_of is None and data.to is not ReportStatus.withdrawn:
        await _mirror(session, principal, report, before, data.to, changes, data.comment, now)
    if report.duplicate_of is not None and data.to is ReportStatus.withdrawn:
        await session.execute(
            update(Report)
            .where(Report.id == report.duplicate_of, Report.report_count > 1)
            .values(
                report_count=Report.report_count - 1, version=Report.version + 1, updated_at=now
            )
            .execution_options(synchronize_session=False)
        )
    _audit_move(session, principal, report, move, data, before)
    # The report's unit and those of the duplicates that followed it.
    await counters.touch(
        session,
        select(Report.unit_id).where(or_(Report.id == report.id, Report.duplicate_of == report.id)),
        reports=data.to is ReportStatus.resolved,
        part=counters.REPORTS,
    )


async def _mirror(
    session: AsyncSession,
    principal: Principal,
    primary: Report,
    before: ReportStatus,
    after: ReportStatus,
    changes: dict[str, object],
    comment: str | None,
    now: datetime,
) -> None:
    """The primary's move applies to its live (not withdrawn) duplicates: resolving the
    primary resolves them with the same outcome."""
    live = and_(Report.duplicate_of == primary.id, Report.status != ReportStatus.withdrawn)
    ids = list((await session.scalars(select(Report.id).where(live))).all())
    if not ids:
        return
    values = {k: v for k, v in changes.items() if k != "open_key"}
    await session.execute(
        update(Report)
        .where(live)
        .values(**values, version=Report.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await add_events(
        session,
        [
            event(
                i,
                "transition",
                principal,
                from_status=before,
                to_status=after,
                comment=comment,
                data={"with_primary": primary.id},
            )
            for i in ids
        ],
    )


async def _promote_duplicate(
    session: AsyncSession, principal: Principal, primary: Report, now: datetime
) -> None:
    """The primary is withdrawn: its oldest live duplicate becomes the primary of the
    others, so the reports of others keep their workflow."""
    live = list(
        (
            await session.scalars(
                select(Report)
                .where(Report.duplicate_of == primary.id, Report.status != ReportStatus.withdrawn)
                .order_by(Report.created_at, Report.id)
                .with_for_update()
            )
        ).all()
    )
    if not live:
        return
    heir, rest = live[0], live[1:]
    primary.open_key = None
    await session.flush()
    heir.duplicate_of = None
    heir.open_key = primary.content_hash
    heir.report_count = len(live)
    heir.updated_at = now
    for other in rest:
        other.duplicate_of = heir.id
        other.updated_at = now
    await session.flush()
    await add_events(
        session, [event(heir.id, "promoted", None, data={"previous_primary": primary.id})]
    )


async def _assignable(session: AsyncSession, user_id: uuid.UUID, v: Visible) -> bool:
    assignee = await load_user_principal(session, user_id, None)
    return assignee is not None and may_handle(assignee, v)


async def update_report(
    session: AsyncSession,
    principal: Principal,
    v: Visible,
    data: ReportUpdate,
    expected_version: int | None,
) -> Report:
    require_handler(principal, v)
    report = v.report
    await _lock(session, report)
    check_version(expected_version, report.version)
    if report.status not in OPEN_STATUSES:
        raise Conflict(
            "report_closed",
            msg("reports.closed_no_assignment"),
        )
    fields = data.model_dump(exclude_unset=True)
    if "priority" in fields and fields["priority"] is None:
        raise field_error(
            "priority",
            "validation_failed",
            msg("reports.priority_null"),
        )
    new_assignee = fields.get("assignee_id")
    if (
        new_assignee is not None
        and new_assignee != report.assignee_id
        and not await _assignable(session, new_assignee, v)
    ):
        raise field_error(
            "assignee_id",
            "validation_failed",
            msg("reports.assignee_not_handler"),
            "reference",
        )
    before = {k: getattr(report, k) for k in fields}
    changes = audit.changed(before, fields)
    if not changes:
        return report
    for name, value in fields.items():
        setattr(report, name, value)
    report.updated_at = utcnow()
    await session.flush()
    events = [
        event(
            report.id,
            "assignment" if name == "assignee_id" else "priority",
            principal,
            data={name: value},
        )
        for name, value in fields.items()
        if name in changes
    ]
    await add_events(session, events)
    audit.record(session, principal, "report.update", "report", report.id, report.unit_id, changes)
    return report
