"""Filing a report: the link canonicalised (api/services/canonical/links.py), the
subject found from the declared account it names, deduplication against the open report
of the same link, the rate limit and the deadline.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.db import utcnow
from api.core.enums import (
    Platform,
    Priority,
    ReportCategory,
    ReportStatus,
)
from api.core.errors import Forbidden
from api.core.i18n import msg
from api.core.security import sha256_hex
from api.core.text_vi import fold
from api.models import Account, Member, Report, Unit
from api.models.report import OPEN_STATUSES
from api.schemas.reports import ReportCreate
from api.services import audit, counters, ratelimit
from api.services.authz import Principal
from api.services.canonical import ContentLink, InvalidAccountUrl, canonical_content
from api.services.reports.core import (
    Visible,
    add_events,
    event,
    field_error,
    get_visible,
)


def report_policy() -> ratelimit.Policy:
    s = get_settings()
    return ratelimit.Policy("report", s.report_rate_limit, s.report_rate_window_seconds)


def due_at(category: ReportCategory, filed_at: datetime) -> datetime:
    s = get_settings()
    hours = s.report_due_hours.get(category.value, s.report_due_default_hours)
    return filed_at + timedelta(hours=hours)


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
            raise field_error(
                "impersonated_member_id",
                "validation_failed",
                msg("reports.impersonated_member_unknown"),
                "reference",
            )
    if data.impersonated_unit_id is not None:
        impersonated_unit = await session.scalar(
            select(Unit.id).where(Unit.id == data.impersonated_unit_id)
        )
        if impersonated_unit is None:
            raise field_error(
                "impersonated_unit_id",
                "validation_failed",
                msg("reports.impersonated_unit_unknown"),
                "reference",
            )
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
        raise Forbidden(detail=msg("reports.members_file_only"))
    try:
        link = canonical_content(data.platform.value if data.platform else None, data.url)
    except InvalidAccountUrl as exc:
        raise field_error("url", "invalid_url", exc.message) from exc
    if data.impersonated_member_id is not None and data.impersonated_unit_id is not None:
        raise field_error(
            "impersonated_unit_id",
            "validation_failed",
            msg("reports.impersonated_member_or_unit"),
        )
    subject = await _subject(session, link.account_key, data)
    content_hash = sha256_hex(link.url.encode())
    primary = await _open_primary(session, content_hash)
    mine = await _open_report_of(session, principal, primary) if primary is not None else None
    if mine is not None:
        return await get_visible(session, principal, mine), False
    policy = report_policy()
    usage = await ratelimit.limiter.hit(policy, str(principal.member_id))
    if usage.count > policy.limit:
        raise ratelimit.exceeded(policy, usage)
    now = utcnow()
    values = _values(principal, data, link, content_hash, subject, now)
    report = await _insert(session, values, content_hash, primary, now)
    await _filed(session, principal, report)
    return await get_visible(session, principal, report.id), True


async def _filed(session: AsyncSession, principal: Principal, report: Report) -> None:
    """A new report's timeline entry, audit event and counters."""
    await add_events(
        session,
        [
            event(
                report.id,
                "filed",
                principal,
                by_reporter=True,
                to_status=report.status,
                data={"duplicate_of": report.duplicate_of},
            )
        ],
    )
    # The reporter's own actions are audited without a unit: admins read them, and a subject
    # who manages the reporter's unit cannot learn the reporter from the audit trail.
    audit.record(
        session,
        principal,
        "report.file",
        "report",
        report.id,
        None,
        {
            "category": report.category,
            "platform": report.platform,
            "canonical_url": report.canonical_url,
            "duplicate_of": report.duplicate_of,
            "subject_member_id": report.subject_member_id,
        },
    )
    await counters.touch(session, [report.unit_id], part=counters.REPORTS)


def _values(
    principal: Principal,
    data: ReportCreate,
    link: ContentLink,
    content_hash: str,
    subject: tuple[uuid.UUID | None, uuid.UUID | None],
    now: datetime,
) -> dict[str, object]:
    """The new report's columns."""
    subject_member, subject_unit = subject
    values: dict[str, object] = {
        "reporter_member_id": principal.member_id,
        "unit_id": principal.member_unit_id,
        "subject_member_id": subject_member,
        "subject_unit_id": subject_unit,
        "impersonated_unit_id": data.impersonated_unit_id,
        "impersonated_member_id": data.impersonated_member_id,
        "url": data.url,
        "canonical_url": link.url,
        "content_hash": content_hash,
        "platform": Platform(link.platform),
        "category": data.category,
        "description": data.description,
        "description_search": fold(data.description),
        "proposed_action": data.proposed_action,
        "observed_at": data.observed_at,
        "status": ReportStatus.submitted,
        "priority": Priority.normal,
        "due_at": due_at(data.category, now),
        "created_at": now,
        "updated_at": now,
    }
    return values


async def _open_report_of(
    session: AsyncSession, principal: Principal, primary: Report
) -> uuid.UUID | None:
    """The caller's open report of the primary's link (the primary or a duplicate)."""
    return await session.scalar(
        select(Report.id).where(
            or_(Report.id == primary.id, Report.duplicate_of == primary.id),
            Report.reporter_member_id == principal.member_id,
            Report.status.in_(OPEN_STATUSES),
        )
    )


async def _insert(
    session: AsyncSession,
    values: dict[str, object],
    content_hash: str,
    primary: Report | None,
    now: datetime,
) -> Report:
    """The report, as the open primary of its link, or as the duplicate of the one there
    is (or that appeared meanwhile)."""
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
            update(Report)
            .where(Report.id == primary.id)
            .values(
                report_count=Report.report_count + 1, version=Report.version + 1, updated_at=now
            )
            .execution_options(synchronize_session=False)
        )
        await add_events(
            session, [event(primary.id, "duplicate_linked", None, data={"report_id": report.id})]
        )
    return report


async def _open_primary(session: AsyncSession, content_hash: str) -> Report | None:
    return (
        await session.scalars(
            select(Report)
            .where(Report.open_key == content_hash)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()
