"""What the report modules share: the report as the caller may see it, who sees and who
handles it, and the timeline events every change writes.

Who sees a report: its reporter, and handlers (REPORT_HANDLE: managers and reviewers)
whose scope holds the reporter's unit at filing (`unit_id`) or the unit the report is
about (`subject_unit_id`). Parties to a report — its reporter, its subject member and the
impersonated member — never handle it (separation of duties), and a subject never learns
the reporter: they get `ReportRead`, and the reporter's timeline entries lose their actor.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from sqlalchemy import ColumnElement, Select, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.core.db import utcnow
from api.core.enums import ReportStatus
from api.core.errors import Forbidden, NotFound, Unprocessable
from api.core.i18n import Message, msg
from api.models import Report, ReportEvent, Unit
from api.services import audit
from api.services.authz import Action, Principal, require, scope_filter

NOT_FOUND = ("not_found", msg("reports.not_found"))


@dataclass(frozen=True, slots=True)
class Visible:
    """A report the caller may see, with the paths of its two units (the subject's may
    be None)."""

    report: Report
    unit_path: str
    subject_path: str | None


def parties(report: Report) -> set[uuid.UUID]:
    return {
        m
        for m in (
            report.reporter_member_id,
            report.subject_member_id,
            report.impersonated_member_id,
        )
        if m is not None
    }


def covers(principal: Principal, v: Visible) -> bool:
    return principal.covers(Action.REPORT_HANDLE, v.unit_path) or (
        v.subject_path is not None and principal.covers(Action.REPORT_HANDLE, v.subject_path)
    )


def is_reporter(principal: Principal, report: Report) -> bool:
    return principal.member_id is not None and principal.member_id == report.reporter_member_id


def may_handle(principal: Principal, v: Visible) -> bool:
    return covers(principal, v) and principal.member_id not in parties(v.report)


def sees_reporter(principal: Principal, v: Visible) -> bool:
    """The reporter themself, and handlers who are not the subject (a handler who filed
    it knows anyway)."""
    if is_reporter(principal, v.report):
        return True
    subjects = {v.report.subject_member_id, v.report.impersonated_member_id} - {None}
    return covers(principal, v) and principal.member_id not in subjects


def require_handler(principal: Principal, v: Visible) -> None:
    if not covers(principal, v):
        require(principal, Action.REPORT_HANDLE, v.unit_path)  # raises the 403
    if principal.member_id in parties(v.report):
        raise Forbidden(
            detail=msg("reports.party_cannot_handle"),
        )


# The reporter's unit and the subject's unit, joined into every read.
REPORT_UNIT, SUBJECT_UNIT = aliased(Unit, name="report_unit"), aliased(Unit, name="subject_unit")


def visible_stmt(principal: Principal) -> Select[Report, str, str | None]:
    ru, su = REPORT_UNIT, SUBJECT_UNIT
    conditions: list[ColumnElement[bool]] = [
        scope_filter(principal, Action.REPORT_HANDLE, ru.path),
        scope_filter(principal, Action.REPORT_HANDLE, su.path),
    ]
    if principal.member_id is not None:
        conditions.append(Report.reporter_member_id == principal.member_id)
    return (
        select(Report, ru.path, su.path)
        .join(ru, ru.id == Report.unit_id)
        .outerjoin(su, su.id == Report.subject_unit_id)
        .where(or_(*conditions))
    )


async def get_visible(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> Visible:
    row = (await session.execute(visible_stmt(principal).where(Report.id == report_id))).first()
    if row is None:
        raise NotFound(*NOT_FOUND)
    return Visible(row[0], row[1], row[2])


def can_list(principal: Principal) -> bool:
    return principal.member_id is not None or principal.can_anywhere(Action.REPORT_HANDLE)


def field_error(field: str, code: str, message: Message, kind: str | None = None) -> Unprocessable:
    """422 on `field`, its detail the catalog message `message`."""
    shown = message.render("en")
    return Unprocessable(
        code,
        message,
        extra={"errors": [{"loc": ["body", field], "msg": shown, "type": kind or code}]},
    )


class EventRow(TypedDict):
    """The values of one report_events row, for a multi-row INSERT."""

    id: uuid.UUID
    report_id: uuid.UUID
    at: datetime
    kind: str
    actor_type: str
    actor_id: uuid.UUID | None
    by_reporter: bool
    from_status: str | None
    to_status: str | None
    comment: str | None
    data: object  # the event's details as JSON (audit.plain)


def event(
    report_id: uuid.UUID,
    kind: str,
    principal: Principal | None,
    *,
    by_reporter: bool = False,
    from_status: ReportStatus | None = None,
    to_status: ReportStatus | None = None,
    comment: str | None = None,
    data: Mapping[str, object] | None = None,
) -> EventRow:
    return {
        "id": uuid.uuid4(),
        "report_id": report_id,
        "at": utcnow(),
        "kind": kind,
        "actor_type": principal.kind if principal else "system",
        "actor_id": principal.id if principal else None,
        "by_reporter": by_reporter,
        "from_status": from_status.value if from_status else None,
        "to_status": to_status.value if to_status else None,
        "comment": comment,
        "data": audit.plain(data or {}),
    }


async def add_events(session: AsyncSession, events: list[EventRow]) -> None:
    if events:
        await session.execute(insert(ReportEvent), events)
