"""Reported posts: filing with deduplication and the link to members, the handling
workflow (one explicit state table), deadlines, assignment, the timeline and evidence.

Who sees a report: its reporter, and handlers (REPORT_HANDLE: managers and reviewers)
whose scope holds the reporter's unit at filing (`unit_id`) or the unit the report is
about (`subject_unit_id`). Parties to a report — its reporter, its subject member and the
impersonated member — never handle it (separation of duties), and a subject never learns
the reporter: they get `ReportRead`, and the reporter's timeline entries lose their actor.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import ColumnElement, and_, func, insert, not_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.core.config import get_settings
from api.core.db import utcnow
from api.core.enums import (
    Platform,
    Priority,
    ReportCategory,
    ReportStatus,
)
from api.core.errors import AppError, Conflict, Forbidden, NotFound, Unprocessable
from api.core.pagination import keyset, page_of
from api.core.security import sha256_hex
from api.core.text_vi import fold
from api.core.versioning import check_version
from api.models import Account, Member, Report, ReportEvent, ReportEvidence, Unit
from api.models.report import OPEN_STATUSES
from api.schemas.reports import (
    ReportCreate,
    ReportRead,
    ReportUpdate,
    ReportWithReporter,
    TimelineEntry,
    TransitionIn,
)
from api.services import audit, counters, files, ratelimit
from api.services.authz import Action, Principal, in_subtree, require, scope_filter
from api.services.canonical import InvalidAccountUrl, canonical_content
from api.services.identity import load_user_principal

RS = ReportStatus
_NOT_FOUND = ("not_found", "Không tìm thấy báo cáo.", "Report not found.")
MAX_EVIDENCE = 20
TERMINAL = frozenset({RS.resolved, RS.dismissed, RS.withdrawn})


@dataclass(frozen=True, slots=True)
class Move:
    """A legal move: who makes it ("handler" or "reporter") and the transition-body
    fields it requires (all others of `MOVE_FIELDS` must be absent)."""

    by: str
    requires: frozenset[str] = frozenset()


MOVE_FIELDS = ("outcome", "authority", "reference")
# The whole workflow (SPEC §5). Any (from, to) not listed is 409 `invalid_transition`.
WORKFLOW: dict[tuple[ReportStatus, ReportStatus], Move] = {
    (RS.submitted, RS.in_review): Move("handler"),
    (RS.submitted, RS.dismissed): Move("handler"),
    (RS.in_review, RS.dismissed): Move("handler"),
    (RS.in_review, RS.escalated): Move("handler", frozenset({"authority", "reference"})),
    (RS.in_review, RS.resolved): Move("handler", frozenset({"outcome"})),
    (RS.escalated, RS.resolved): Move("handler", frozenset({"outcome"})),
    (RS.submitted, RS.withdrawn): Move("reporter"),
}


@dataclass(frozen=True, slots=True)
class Visible:
    """A report the caller may see, with the paths of its two units (the subject's may
    be None)."""

    report: Report
    unit_path: str
    subject_path: str | None


# --------------------------------------------------------------------------- who


def _parties(report: Report) -> set[uuid.UUID]:
    return {
        m
        for m in (
            report.reporter_member_id,
            report.subject_member_id,
            report.impersonated_member_id,
        )
        if m is not None
    }


def _covers(principal: Principal, v: Visible) -> bool:
    return principal.covers(Action.REPORT_HANDLE, v.unit_path) or (
        v.subject_path is not None and principal.covers(Action.REPORT_HANDLE, v.subject_path)
    )


def is_reporter(principal: Principal, report: Report) -> bool:
    return principal.member_id is not None and principal.member_id == report.reporter_member_id


def may_handle(principal: Principal, v: Visible) -> bool:
    return _covers(principal, v) and principal.member_id not in _parties(v.report)


def sees_reporter(principal: Principal, v: Visible) -> bool:
    """The reporter themself, and handlers who are not the subject (a handler who filed
    it knows anyway)."""
    if is_reporter(principal, v.report):
        return True
    subjects = {v.report.subject_member_id, v.report.impersonated_member_id} - {None}
    return _covers(principal, v) and principal.member_id not in subjects


def _require_handler(principal: Principal, v: Visible) -> None:
    if not _covers(principal, v):
        require(principal, Action.REPORT_HANDLE, v.unit_path)  # raises the 403
    if principal.member_id in _parties(v.report):
        raise Forbidden(
            vi="Không ai xử lý báo cáo do mình gửi hoặc báo cáo về chính mình.",
            en="Nobody handles a report they filed or a report about themselves.",
        )


def allowed_moves(principal: Principal, v: Visible) -> list[dict[str, Any]]:
    """The moves `transition` would accept from this caller now, with their required
    fields (the same rules, read from the one WORKFLOW table)."""
    report = v.report
    out = []
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


# --------------------------------------------------------------------------- reads


# The reporter's unit and the subject's unit, joined into every read.
RU, SU = aliased(Unit, name="report_unit"), aliased(Unit, name="subject_unit")


def _visible_stmt(principal: Principal) -> Any:
    ru, su = RU, SU
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
    row = (await session.execute(_visible_stmt(principal).where(Report.id == report_id))).first()
    if row is None:
        raise NotFound(*_NOT_FOUND)
    return Visible(row[0], row[1], row[2])


def can_list(principal: Principal) -> bool:
    return principal.member_id is not None or principal.can_anywhere(Action.REPORT_HANDLE)


async def list_reports(
    session: AsyncSession, principal: Principal, *, status: Sequence[ReportStatus] | None,
    category: ReportCategory | None, platform: Platform | None, unit_id: uuid.UUID | None,
    assignee_id: uuid.UUID | None, overdue: bool | None, subject_member_id: uuid.UUID | None,
    mine: bool, q: str | None, created_from: datetime | None, created_to: datetime | None,
    cursor: str | None, limit: int, sort: str = "created_at",
) -> tuple[list[Visible], str | None]:  # fmt: skip
    """Newest first, or by `due_at` (nearest deadline first, then id). `unit_id` matches reports filed in the unit's subtree (the reporter's
    unit at filing), the unit the statistics count a report in."""
    if not can_list(principal):
        raise Forbidden(
            vi="Vai trò của bạn không được xem báo cáo.", en="Your role may not read reports."
        )
    stmt = _visible_stmt(principal)
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
        stmt = stmt.where(in_subtree(RU.path, path))
    if sort == "due_at":
        # Its own cursor kind: a cursor of one order is refused by the other (422).
        stmt = keyset(stmt, kind="reports:due_at", columns=[Report.due_at, Report.id],
                      types=[datetime, uuid.UUID], cursor=cursor, limit=limit)  # fmt: skip
        rows = [Visible(r[0], r[1], r[2]) for r in (await session.execute(stmt)).all()]
        return page_of(
            rows, kind="reports:due_at", limit=limit, key=lambda v: (v.report.due_at, v.report.id)
        )
    stmt = keyset(stmt, kind="reports", columns=[Report.created_at, Report.id],
                  types=[datetime, uuid.UUID], cursor=cursor, limit=limit, descending=True)  # fmt: skip
    rows = [Visible(r[0], r[1], r[2]) for r in (await session.execute(stmt)).all()]
    return page_of(
        rows, kind="reports", limit=limit, key=lambda v: (v.report.created_at, v.report.id)
    )


async def own_reports(
    session: AsyncSession, principal: Principal, limit: int | None
) -> list[ReportWithReporter]:
    """The reports the caller filed, newest first (all of them when `limit` is None)."""
    if principal.member_id is None:
        return []
    stmt = _visible_stmt(principal).where(Report.reporter_member_id == principal.member_id)
    stmt = stmt.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)
    now = utcnow()
    rows = (await session.execute(stmt)).all()
    models = [read_model(principal, Visible(r[0], r[1], r[2]), now) for r in rows]
    return [m for m in models if isinstance(m, ReportWithReporter)]  # all: the caller filed them


# --------------------------------------------------------------------------- filing


def report_policy() -> ratelimit.Policy:
    s = get_settings()
    return ratelimit.Policy("report", s.report_rate_limit, s.report_rate_window_seconds)


def due_at(category: ReportCategory, filed_at: datetime) -> datetime:
    s = get_settings()
    hours = s.report_due_hours.get(category.value, s.report_due_default_hours)
    return filed_at + timedelta(hours=hours)


def _field_error(field: str, code: str, vi: str, en: str, kind: str | None = None) -> Unprocessable:
    return Unprocessable(
        code, vi, en, extra={"errors": [{"loc": ["body", field], "msg": en, "type": kind or code}]}
    )


def _event(
    report_id: uuid.UUID, kind: str, principal: Principal | None, *, by_reporter: bool = False,
    from_status: ReportStatus | None = None, to_status: ReportStatus | None = None,
    comment: str | None = None, data: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": uuid.uuid4(), "report_id": report_id, "at": utcnow(), "kind": kind,
        "actor_type": principal.kind if principal else "system",
        "actor_id": principal.id if principal else None, "by_reporter": by_reporter,
        "from_status": from_status.value if from_status else None,
        "to_status": to_status.value if to_status else None, "comment": comment,
        "data": audit._plain(data or {}),
    }  # fmt: skip


async def _add_events(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    if events:
        await session.execute(insert(ReportEvent), events)


async def _subject(
    session: AsyncSession, account_key: str | None, data: ReportCreate
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(subject member, subject unit): the holder of the declared account the link names
    or was posted on; else the impersonated member's unit, or the impersonated unit. The
    impersonated references are checked first (422 when unknown), whatever the link."""
    impersonated_unit: uuid.UUID | None = None
    if data.impersonated_member_id is not None:
        impersonated_unit = await session.scalar(
            select(Member.unit_id).where(Member.id == data.impersonated_member_id)
        )
        if impersonated_unit is None:
            raise _field_error(
                "impersonated_member_id", "validation_failed",
                "Không tìm thấy đảng viên bị mạo danh.", "Unknown impersonated member.", "reference",
            )  # fmt: skip
    if data.impersonated_unit_id is not None:
        impersonated_unit = await session.scalar(
            select(Unit.id).where(Unit.id == data.impersonated_unit_id)
        )
        if impersonated_unit is None:
            raise _field_error(
                "impersonated_unit_id", "validation_failed",
                "Không tìm thấy đơn vị bị mạo danh.", "Unknown impersonated unit.", "reference",
            )  # fmt: skip
    if account_key is not None:
        row = (
            await session.execute(
                select(Member.id, Member.unit_id)
                .join(Account, Account.member_id == Member.id)
                .where(Account.claim_key == account_key)
            )
        ).first()
        if row is not None:
            return row[0], row[1]
    return None, impersonated_unit


async def file(
    session: AsyncSession, principal: Principal, data: ReportCreate
) -> tuple[Visible, bool]:
    """File a report; (report, created). A link that matches an open primary report
    becomes its duplicate (`duplicate_of`) and the primary's `report_count` grows; the
    unique `open_key` makes this hold for reports arriving at the same moment. A member
    who already has an open report of that link gets it back (not created, not counted
    against the rate limit)."""
    if principal.member_id is None or principal.member_unit_id is None:
        raise Forbidden(vi="Chỉ đảng viên mới gửi được báo cáo.", en="Only members file reports.")
    try:
        link = canonical_content(data.platform.value if data.platform else None, data.url)
    except InvalidAccountUrl as exc:
        raise _field_error("url", "invalid_url", exc.detail_vi, exc.detail_en) from exc
    if data.impersonated_member_id is not None and data.impersonated_unit_id is not None:
        raise _field_error(
            "impersonated_unit_id", "validation_failed",
            "Chỉ nêu một trong hai: đảng viên hoặc đơn vị bị mạo danh.",
            "Give the impersonated member or the impersonated unit, not both.",
        )  # fmt: skip
    subject_member, subject_unit = await _subject(session, link.account_key, data)
    content_hash = sha256_hex(link.url.encode())
    primary = await _open_primary(session, content_hash)
    if primary is not None:
        mine = await session.scalar(
            select(Report.id).where(
                or_(Report.id == primary.id, Report.duplicate_of == primary.id),
                Report.reporter_member_id == principal.member_id,
                Report.status.in_(OPEN_STATUSES),
            )
        )
        if mine is not None:
            return await get_visible(session, principal, mine), False
    policy = report_policy()
    usage = await ratelimit.limiter.hit(policy, str(principal.member_id))
    if usage.count > policy.limit:
        raise ratelimit.exceeded(policy, usage)
    now = utcnow()
    values: dict[str, Any] = {
        "reporter_member_id": principal.member_id, "unit_id": principal.member_unit_id,
        "subject_member_id": subject_member, "subject_unit_id": subject_unit,
        "impersonated_unit_id": data.impersonated_unit_id,
        "impersonated_member_id": data.impersonated_member_id,
        "url": data.url, "canonical_url": link.url, "content_hash": content_hash,
        "platform": Platform(link.platform), "category": data.category,
        "description": data.description, "description_search": fold(data.description),
        "proposed_action": data.proposed_action, "observed_at": data.observed_at,
        "status": RS.submitted, "priority": Priority.normal, "due_at": due_at(data.category, now),
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    report: Report | None = None
    if primary is None:
        candidate = Report(**values, open_key=content_hash)
        try:
            async with session.begin_nested():
                session.add(candidate)
            report = candidate
        except IntegrityError:
            # Another report of this link became the open primary meanwhile.
            primary = await _open_primary(session, content_hash)
            if primary is None:
                raise
    if report is None:
        assert primary is not None
        report = Report(**{**values, "status": primary.status}, duplicate_of=primary.id)
        session.add(report)
        await session.flush()
        await session.execute(
            update(Report).where(Report.id == primary.id)
            .values(report_count=Report.report_count + 1, version=Report.version + 1,
                    updated_at=now)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        await _add_events(session, [_event(primary.id, "duplicate_linked", None,
                                           data={"report_id": report.id})])  # fmt: skip
    await _add_events(session, [_event(report.id, "filed", principal, by_reporter=True,
                                       to_status=report.status,
                                       data={"duplicate_of": report.duplicate_of})])  # fmt: skip
    # The reporter's own actions are audited without a unit: admins read them, and a subject
    # who manages the reporter's unit cannot learn the reporter from the audit trail.
    audit.record(session, principal, "report.file", "report", report.id, None, {
        "category": report.category, "platform": report.platform,
        "canonical_url": report.canonical_url, "duplicate_of": report.duplicate_of,
        "subject_member_id": report.subject_member_id,
    })  # fmt: skip
    await counters.touch(session, [report.unit_id], part=counters.REPORTS)
    return await get_visible(session, principal, report.id), True


async def _open_primary(session: AsyncSession, content_hash: str) -> Report | None:
    return (
        await session.scalars(
            select(Report)
            .where(Report.open_key == content_hash)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()


# --------------------------------------------------------------------------- handling


async def _lock(session: AsyncSession, report: Report) -> None:
    """Re-read FOR UPDATE (no-op lock on SQLite) so moves on one report queue up."""
    await session.execute(
        select(Report).where(Report.id == report.id).with_for_update()
        .execution_options(populate_existing=True)
    )  # fmt: skip


def _invalid(report: Report, to: ReportStatus, why_vi: str = "", why_en: str = "") -> Conflict:
    return Conflict(
        "invalid_transition",
        f"Không thể chuyển báo cáo từ '{report.status.value}' sang '{to.value}'.{why_vi}",
        f"A report cannot go from '{report.status.value}' to '{to.value}'.{why_en}",
    )


async def transition(
    session: AsyncSession, principal: Principal, v: Visible, data: TransitionIn,
    expected_version: int | None,
) -> Report:  # fmt: skip
    report = v.report
    await _lock(session, report)
    check_version(expected_version, report.version)
    move = WORKFLOW.get((report.status, data.to))
    if move is None:
        raise _invalid(report, data.to)
    if move.by == "reporter":
        if not is_reporter(principal, report):
            raise Forbidden(
                vi="Chỉ người gửi mới rút được báo cáo của mình.",
                en="Only the reporter withdraws their own report.",
            )
    else:
        _require_handler(principal, v)
        if report.duplicate_of is not None:
            raise _invalid(
                report, data.to, " Báo cáo trùng đi theo báo cáo gốc.",
                " A duplicate follows its primary report.",
            )  # fmt: skip
    for name in MOVE_FIELDS:
        given = getattr(data, name) is not None
        if name in move.requires and not given:
            raise _field_error(name, "validation_failed",
                               f"Cần trường '{name}' để chuyển sang '{data.to.value}'.",
                               f"'{name}' is required to move to '{data.to.value}'.")  # fmt: skip
        if given and name not in move.requires:
            raise _field_error(name, "validation_failed",
                               f"Trường '{name}' không dùng khi chuyển sang '{data.to.value}'.",
                               f"'{name}' does not apply to a move to '{data.to.value}'.")  # fmt: skip
    before = report.status
    now = utcnow()
    changes: dict[str, Any] = {"status": data.to}
    for name in move.requires:
        changes[name] = getattr(data, name)
    if data.to in TERMINAL:
        changes["closed_at"] = now
    if data.to not in OPEN_STATUSES:
        changes["open_key"] = None
    if data.to is RS.withdrawn and report.duplicate_of is None:
        await _promote_duplicate(session, principal, report, now)
    for name, value in changes.items():
        setattr(report, name, value)
    report.updated_at = now
    await session.flush()
    await _add_events(session, [_event(
        report.id, "transition", principal, by_reporter=is_reporter(principal, report),
        from_status=before, to_status=data.to, comment=data.comment,
        data={k: getattr(data, k) for k in move.requires},
    )])  # fmt: skip
    if report.duplicate_of is None and data.to is not RS.withdrawn:
        await _mirror(session, principal, report, before, changes, data.comment, now)
    if report.duplicate_of is not None and data.to is RS.withdrawn:
        await session.execute(
            update(Report).where(Report.id == report.duplicate_of, Report.report_count > 1)
            .values(report_count=Report.report_count - 1, version=Report.version + 1,
                    updated_at=now)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    audit_unit = None if is_reporter(principal, report) else report.unit_id
    audit.record(session, principal, "report.transition", "report", report.id, audit_unit, {
        "status": [before, data.to], "comment": data.comment,
        **{k: getattr(data, k) for k in move.requires},
    })  # fmt: skip
    # The report's unit and those of the duplicates that followed it.
    await counters.touch(session, select(Report.unit_id).where(
        or_(Report.id == report.id, Report.duplicate_of == report.id)),
        reports=data.to is RS.resolved, part=counters.REPORTS)  # fmt: skip
    return report


async def _mirror(
    session: AsyncSession, principal: Principal, primary: Report, before: ReportStatus,
    changes: dict[str, Any], comment: str | None, now: datetime,
) -> None:  # fmt: skip
    """The primary's move applies to its live (not withdrawn) duplicates: resolving the
    primary resolves them with the same outcome."""
    live = and_(Report.duplicate_of == primary.id, Report.status != RS.withdrawn)
    ids = list((await session.scalars(select(Report.id).where(live))).all())
    if not ids:
        return
    values = {k: v for k, v in changes.items() if k != "open_key"}
    await session.execute(
        update(Report).where(live)
        .values(**values, version=Report.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    await _add_events(session, [
        _event(i, "transition", principal, from_status=before, to_status=changes["status"],
               comment=comment, data={"with_primary": primary.id})
        for i in ids
    ])  # fmt: skip


async def _promote_duplicate(
    session: AsyncSession, principal: Principal, primary: Report, now: datetime
) -> None:
    """The primary is withdrawn: its oldest live duplicate becomes the primary of the
    others, so the reports of others keep their workflow."""
    live = list(
        (
            await session.scalars(
                select(Report)
                .where(Report.duplicate_of == primary.id, Report.status != RS.withdrawn)
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
    await _add_events(session, [_event(heir.id, "promoted", None,
                                       data={"previous_primary": primary.id})])  # fmt: skip


async def _assignable(session: AsyncSession, user_id: uuid.UUID, v: Visible) -> bool:
    assignee = await load_user_principal(session, user_id, None)
    return assignee is not None and may_handle(assignee, v)


async def update_report(
    session: AsyncSession, principal: Principal, v: Visible, data: ReportUpdate,
    expected_version: int | None,
) -> Report:  # fmt: skip
    _require_handler(principal, v)
    report = v.report
    await _lock(session, report)
    check_version(expected_version, report.version)
    if report.status not in OPEN_STATUSES:
        raise Conflict(
            "report_closed",
            "Báo cáo đã đóng; không đổi được người xử lý hay mức ưu tiên.",
            "The report is closed; its assignee and priority no longer change.",
        )
    fields = data.model_dump(exclude_unset=True)
    if "priority" in fields and fields["priority"] is None:
        raise _field_error("priority", "validation_failed", "Mức ưu tiên không được để trống.",
                           "priority cannot be null.")  # fmt: skip
    new_assignee = fields.get("assignee_id")
    if (
        new_assignee is not None
        and new_assignee != report.assignee_id
        and not await _assignable(session, new_assignee, v)
    ):
        raise _field_error(
                "assignee_id", "validation_failed",
                "Người được giao phải là người xử lý đang hoạt động có phạm vi gồm báo cáo này "
                "và không liên quan đến báo cáo.",
                "The assignee must be an active handler whose scope holds this report and who "
                "is not a party to it.", "reference",
            )  # fmt: skip
    before = {k: getattr(report, k) for k in fields}
    changes = audit.changed(before, fields)
    if not changes:
        return report
    for name, value in fields.items():
        setattr(report, name, value)
    report.updated_at = utcnow()
    await session.flush()
    events = [
        _event(report.id, "assignment" if name == "assignee_id" else "priority", principal,
               data={name: value})
        for name, value in fields.items() if name in changes
    ]  # fmt: skip
    await _add_events(session, events)
    audit.record(session, principal, "report.update", "report", report.id, report.unit_id, changes)
    return report


# --------------------------------------------------------------------------- timeline


async def timeline(
    session: AsyncSession, principal: Principal, v: Visible, *, cursor: str | None, limit: int
) -> tuple[list[TimelineEntry], str | None]:
    """Oldest first. For a viewer who may not know the reporter, the reporter's own
    entries carry no actor."""
    stmt = keyset(
        select(ReportEvent).where(ReportEvent.report_id == v.report.id), kind="report-events",
        columns=[ReportEvent.at, ReportEvent.id], types=[datetime, uuid.UUID], cursor=cursor,
        limit=limit,
    )  # fmt: skip
    rows = list((await session.scalars(stmt)).all())
    items, next_cursor = page_of(rows, kind="report-events", limit=limit,
                                 key=lambda e: (e.at, e.id))  # fmt: skip
    hide = not sees_reporter(principal, v)
    out = []
    for event in items:
        entry = TimelineEntry.model_validate(event)
        if hide and event.by_reporter:
            entry = entry.model_copy(update={"actor_id": None, "actor_type": None})
        out.append(entry)
    return out, next_cursor


# --------------------------------------------------------------------------- evidence


async def add_evidence(
    session: AsyncSession, principal: Principal, v: Visible, upload: BinaryIO,
    filename: str | None,
) -> ReportEvidence:  # fmt: skip
    """Store an evidence file (PNG, JPEG, WebP or PDF by content, ≤ 10 MB) for an open
    report: by its reporter, or by a handler who is not a party."""
    report = v.report
    if not is_reporter(principal, report):
        _require_handler(principal, v)
    if report.status not in OPEN_STATUSES:
        raise Conflict(
            "report_closed",
            "Báo cáo đã đóng; không thêm được chứng cứ.",
            "The report is closed; no more evidence can be added.",
        )
    count = await session.scalar(select(func.count()).where(ReportEvidence.report_id == report.id))
    if (count or 0) >= MAX_EVIDENCE:
        raise Conflict(
            "evidence_limit",
            f"Mỗi báo cáo có tối đa {MAX_EVIDENCE} tệp chứng cứ.",
            f"A report holds at most {MAX_EVIDENCE} evidence files.",
        )
    limit = get_settings().max_evidence_body
    upload.seek(0, 2)
    if upload.tell() > limit:
        raise AppError(
            "payload_too_large",
            f"Tệp chứng cứ vượt quá {limit} byte.",
            f"The evidence file exceeds {limit} bytes.",
        )
    content_type = files.require_type(upload, files.EVIDENCE_TYPES)
    stored = await files.storage().put(upload)
    evidence = ReportEvidence(
        report_id=report.id, filename=files.safe_filename(filename, content_type),
        content_type=content_type, size=stored.size, sha256=stored.key,
        uploaded_by_id=principal.id, by_reporter=is_reporter(principal, report),
    )  # fmt: skip
    session.add(evidence)
    await session.flush()
    await _add_events(session, [_event(
        report.id, "evidence", principal, by_reporter=evidence.by_reporter,
        data={"evidence_id": evidence.id, "sha256": stored.key, "size": stored.size},
    )])  # fmt: skip
    audit_unit = None if evidence.by_reporter else report.unit_id
    audit.record(session, principal, "report.evidence", "report", report.id, audit_unit, {
        "evidence_id": evidence.id, "sha256": stored.key, "size": stored.size,
        "content_type": content_type,
    })  # fmt: skip
    return evidence


async def list_evidence(
    session: AsyncSession, v: Visible, *, cursor: str | None, limit: int
) -> tuple[list[ReportEvidence], str | None]:
    stmt = keyset(
        select(ReportEvidence).where(ReportEvidence.report_id == v.report.id),
        kind="report-evidence", columns=[ReportEvidence.created_at, ReportEvidence.id],
        types=[datetime, uuid.UUID], cursor=cursor, limit=limit,
    )  # fmt: skip
    rows = list((await session.scalars(stmt)).all())
    return page_of(rows, kind="report-evidence", limit=limit, key=lambda e: (e.created_at, e.id))


async def get_evidence(session: AsyncSession, v: Visible, evidence_id: uuid.UUID) -> ReportEvidence:
    evidence = await session.scalar(
        select(ReportEvidence).where(
            ReportEvidence.id == evidence_id, ReportEvidence.report_id == v.report.id
        )
    )
    if evidence is None:
        raise NotFound("not_found", "Không tìm thấy tệp chứng cứ.", "Evidence not found.")
    return evidence
