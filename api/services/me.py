"""The caller's own record (`/me`): their member and unit, declared accounts, latest
reports and the documents awaiting their acknowledgement; and the export of everything
held about them (data subject access). Reports and documents are read through their
own services, so that `/me` shows exactly what the caller's own lists show."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import utcnow
from api.core.enums import AckState, DocumentStatus
from api.core.errors import NotFound
from api.core.i18n import msg
from api.models import Account, AuditEvent, Grant, Member, Unit, User
from api.schemas.accounts import AccountRead
from api.schemas.documents import DocumentSummary
from api.schemas.members import AuditEventBrief, MeExport, MemberRead, MeRead, UserSummary
from api.schemas.units import UnitRead
from api.services import documents, reports
from api.services.authz import Principal

EXPORT_ACTIONS_LIMIT = 1000
ME_REPORTS = 20


async def _own(session: AsyncSession, principal: Principal) -> tuple[Member, Unit]:
    if principal.member_id is None:
        raise NotFound(
            "not_found",
            msg("me.no_member"),
        )
    row = (
        await session.execute(
            select(Member, Unit)
            .join(Unit, Unit.id == Member.unit_id)
            .where(Member.id == principal.member_id)
        )
    ).one()
    return row[0], row[1]


async def read_me(session: AsyncSession, principal: Principal) -> MeRead:
    """The caller's own member record with its unit, declared accounts, latest reports
    and pending documents (404 for logins without a member)."""
    member, unit = await _own(session, principal)
    return MeRead.model_validate(
        {
            **MemberRead.model_validate(member).model_dump(),
            "unit": UnitRead.model_validate(unit),
            "accounts": await _accounts(session, member.id),
            "reports": await reports.own_reports(session, principal, ME_REPORTS),
            "pending_documents": await _pending_documents(session, principal),
        }
    )


async def _accounts(session: AsyncSession, member_id: uuid.UUID | None) -> list[AccountRead]:
    if member_id is None:
        return []
    rows = await session.scalars(
        select(Account)
        .where(Account.member_id == member_id)
        .order_by(Account.created_at, Account.id)
    )
    return [AccountRead.model_validate(a) for a in rows]


async def _pending_documents(session: AsyncSession, principal: Principal) -> list[DocumentSummary]:
    items, _ = await documents.list_documents(
        session,
        principal,
        status=DocumentStatus.published,
        doc_type=None,
        requires_ack=True,
        audience_unit_id=None,
        q=None,
        ack_state=AckState.pending,
        cursor=None,
        limit=ME_REPORTS,
    )
    return documents.summaries(items)


async def _grants(session: AsyncSession, user: User | None) -> list[dict[str, str | None]]:
    if user is None:
        return []
    grants = (await session.scalars(select(Grant).where(Grant.user_id == user.id))).all()
    return [
        {"role": g.role.value, "unit_id": str(g.unit_id) if g.unit_id else None} for g in grants
    ]


async def _audit(
    session: AsyncSession, principal: Principal
) -> tuple[list[AuditEvent], list[AuditEvent]]:
    """(the events about the caller, all of them; the latest 1,000 by the caller and one
    more, which tells that there were more)."""
    about_ids = [i for i in (principal.id, principal.member_id) if i is not None]
    about = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_id.in_(about_ids))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    by_me = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.actor_id == principal.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(EXPORT_ACTIONS_LIMIT + 1)
    )
    return list(about.all()), list(by_me.all())


async def export_me(session: AsyncSession, principal: Principal) -> MeExport:
    """Everything held about the caller: member record, unit, login, grants, declared
    accounts, the reports they filed, and the audit events about them (all) and by them
    (the latest 1,000)."""
    member = unit = None
    if principal.member_id is not None:
        member, unit = await _own(session, principal)
    user = await session.get(User, principal.id) if principal.kind == "user" else None
    grants = await _grants(session, user)
    about, by_me = await _audit(session, principal)
    return MeExport(
        exported_at=utcnow(),
        member=MemberRead.model_validate(member) if member else None,
        unit=UnitRead.model_validate(unit) if unit else None,
        user=UserSummary.model_validate(user) if user else None,
        grants=grants,
        audit_about_me=[AuditEventBrief.model_validate(e) for e in about],
        audit_by_me=[AuditEventBrief.model_validate(e) for e in by_me[:EXPORT_ACTIONS_LIMIT]],
        audit_by_me_truncated=len(by_me) > EXPORT_ACTIONS_LIMIT,
        accounts=await _accounts(session, principal.member_id),
        reports=await reports.own_reports(session, principal, None),
    )
