"""Evidence files of a report: added by its reporter or a handler while it is open,
stored by content (api/services/files.py), listed and read back.
"""

from __future__ import annotations

import uuid
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.errors import AppError, Conflict, NotFound
from api.core.i18n import msg
from api.core.pagination import Order, paginate
from api.models import Report, ReportEvidence
from api.models.report import OPEN_STATUSES
from api.services import audit, files
from api.services.authz import Principal
from api.services.reports.core import (
    Visible,
    add_events,
    event,
    is_reporter,
    require_handler,
)

MAX_EVIDENCE = 20


async def add_evidence(
    session: AsyncSession,
    principal: Principal,
    v: Visible,
    upload: BinaryIO,
    filename: str | None,
) -> ReportEvidence:
    """Store an evidence file (PNG, JPEG, WebP or PDF by content, ≤ 10 MB) for an open
    report: by its reporter, or by a handler who is not a party."""
    report = v.report
    if not is_reporter(principal, report):
        require_handler(principal, v)
    if report.status not in OPEN_STATUSES:
        raise Conflict(
            "report_closed",
            msg("reports.closed_no_evidence"),
        )
    count = await session.scalar(select(func.count()).where(ReportEvidence.report_id == report.id))
    if (count or 0) >= MAX_EVIDENCE:
        raise Conflict(
            "evidence_limit",
            msg("reports.evidence_limit", max_evidence=MAX_EVIDENCE),
        )
    limit = get_settings().max_evidence_body
    upload.seek(0, 2)
    if upload.tell() > limit:
        raise AppError(
            "payload_too_large",
            msg("reports.evidence_too_large", limit=limit),
        )
    content_type = files.require_type(upload, files.EVIDENCE_TYPES)
    stored = await files.storage().put(upload)
    evidence = ReportEvidence(
        report_id=report.id,
        filename=files.safe_filename(filename, content_type),
        content_type=content_type,
        size=stored.size,
        sha256=stored.key,
        uploaded_by_id=principal.id,
        by_reporter=is_reporter(principal, report),
    )
    session.add(evidence)
    await session.flush()
    await _record(session, principal, report, evidence)
    return evidence


async def _record(
    session: AsyncSession, principal: Principal, report: Report, evidence: ReportEvidence
) -> None:
    """The timeline entry and the audit event of a new evidence file (a reporter's audit
    event is placed at no unit, a handler's at the report's unit)."""
    report_id = report.id
    await add_events(
        session,
        [
            event(
                report_id,
                "evidence",
                principal,
                by_reporter=evidence.by_reporter,
                data={
                    "evidence_id": evidence.id,
                    "sha256": evidence.sha256,
                    "size": evidence.size,
                },
            )
        ],
    )
    audit.record(
        session,
        principal,
        "report.evidence",
        "report",
        report_id,
        None if evidence.by_reporter else report.unit_id,
        {
            "evidence_id": evidence.id,
            "sha256": evidence.sha256,
            "size": evidence.size,
            "content_type": evidence.content_type,
        },
    )


_ORDER = Order("report-evidence", (ReportEvidence.created_at, ReportEvidence.id))


async def list_evidence(
    session: AsyncSession, v: Visible, *, cursor: str | None, limit: int
) -> tuple[list[ReportEvidence], str | None]:
    stmt = select(ReportEvidence).where(ReportEvidence.report_id == v.report.id)
    return await paginate(session, stmt, order=_ORDER, cursor=cursor, limit=limit)


async def get_evidence(session: AsyncSession, v: Visible, evidence_id: uuid.UUID) -> ReportEvidence:
    evidence = await session.scalar(
        select(ReportEvidence).where(
            ReportEvidence.id == evidence_id, ReportEvidence.report_id == v.report.id
        )
    )
    if evidence is None:
        raise NotFound("not_found", msg("reports.evidence_not_found"))
    return evidence
