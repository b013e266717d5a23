"""The reads: the document list, revisions and the managers' acknowledgement list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter

from sqlalchemy import ColumnElement, Select, and_, exists, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from api.core.enums import AckState, DocType, DocumentStatus, MemberStatus
from api.core.errors import Unprocessable
from api.core.i18n import msg
from api.core.pagination import Order, after, decode_cursor, paginate, paginate_rows
from api.core.text_vi import fold
from api.models import Document, DocumentRevision, Member, Unit
from api.schemas.documents import (
    AcknowledgementState,
    DocumentSummary,
    document_fields,
)
from api.services.authz import Principal, in_subtree, require, scope_filter
from api.services.documents.core import (
    DS,
    MANAGE,
    Ack,
    Visible,
    ack_state,
    can_read_anywhere,
    member_prefixes,
    own_ack,
    visible_clause,
)


def _list_ack_state_filter(state: AckState, addressed_to: list[str]) -> ColumnElement[bool]:
    if not addressed_to:
        return false()
    addressed = Unit.path.in_(addressed_to)
    if state is AckState.done:
        return and_(addressed, Ack.id.is_not(None))
    return and_(
        addressed,
        Document.status == DS.published,
        Document.requires_ack.is_(True),
        Ack.id.is_(None),
    )


@dataclass(frozen=True, slots=True)
class Listed:
    """One item of `list_documents`: the document, its audience unit's path, whether it
    is addressed to the caller's member, that member's acknowledgement of the current
    revision (None for a caller without a member) and whether it has a body (the body
    itself is not loaded)."""

    document: Document
    path: str
    addressed: bool
    acknowledged_at: datetime | None
    has_body: bool


# The cursor holds the issue date as ISO text (a malformed one has its own message).
_ORDER = Order("documents", (Document.issued_on, Document.id), descending=True)
_REVISION_ORDER = Order("document-revisions", (DocumentRevision.revision,), descending=True)


def _filters(
    status: DocumentStatus | None,
    doc_type: DocType | None,
    requires_ack: bool | None,
    audience_unit_id: uuid.UUID | None,
    q: str | None,
) -> list[ColumnElement[bool]]:
    """The list's filters on the document itself (drafts and published ones unless a
    status is asked for)."""
    if status is not None:
        out = [Document.status == status]
    else:
        out = [Document.status.in_((DS.draft, DS.published))]
    if doc_type is not None:
        out.append(Document.doc_type == doc_type)
    if requires_ack is not None:
        out.append(Document.requires_ack.is_(requires_ack))
    if audience_unit_id is not None:
        out.append(Document.audience_unit_id == audience_unit_id)
    if q and (folded := fold(q)):
        out.append(Document.search_text.contains(folded, autoescape=True))
    return out


async def list_documents(
    session: AsyncSession,
    principal: Principal,
    *,
    status: DocumentStatus | None,
    doc_type: DocType | None,
    requires_ack: bool | None,
    audience_unit_id: uuid.UUID | None,
    q: str | None,
    ack_state: AckState | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Listed], str | None]:
    if not can_read_anywhere(principal):
        require(principal, MANAGE)  # raises 403
    if ack_state is not None and principal.member_id is None:
        raise Unprocessable(
            "validation_failed",
            msg("documents.ack_state_members_only"),
            extra={
                "errors": [
                    {
                        "loc": ["query", "ack_state"],
                        "msg": "only for members",
                        "type": "value_error",
                    }
                ]
            },
        )
    addressed_to = await member_prefixes(session, principal)
    stmt: Select[*tuple[object, ...]] = (
        select(Document, Unit.path, Document.body.is_not(None).label("has_body"))
        .options(defer(Document.body))
        .join(Unit, Unit.id == Document.audience_unit_id)
        .where(visible_clause(principal, addressed_to))
    )
    if principal.member_id is not None:
        stmt = stmt.outerjoin(Ack, own_ack(principal)).add_columns(Ack.acknowledged_at)
    stmt = stmt.where(*_filters(status, doc_type, requires_ack, audience_unit_id, q))
    if ack_state is not None:
        stmt = stmt.where(_list_ack_state_filter(ack_state, addressed_to))
    if cursor:
        issued, last_id = decode_cursor(cursor, _ORDER.kind, [str, uuid.UUID])
        try:
            issued_on = date.fromisoformat(issued)
        except ValueError:
            raise Unprocessable("invalid_cursor", msg("documents.cursor_malformed")) from None
        stmt = stmt.where(after(_ORDER.columns, [issued_on, last_id], descending=True))
    rows, next_cursor = await paginate_rows(
        session, stmt, order=_ORDER, cursor=None, limit=limit, holder=itemgetter(0)
    )
    member = principal.member_id is not None
    items = [
        Listed(r[0], r[1], r[1] in addressed_to, r[3] if member else None, bool(r[2])) for r in rows
    ]
    return items, next_cursor


def summaries(items: list[Listed]) -> list[DocumentSummary]:
    """List items from `list_documents` rows (`GET /documents` and `/me`)."""
    return [
        DocumentSummary(
            **document_fields(i.document),
            has_body=i.has_body,
            ack_state=ack_state(i.document, i.addressed, i.acknowledged_at),
            acknowledged_at=i.acknowledged_at if i.addressed else None,
        )
        for i in items
    ]


async def list_revisions(
    session: AsyncSession, seen: Visible, *, cursor: str | None, limit: int
) -> tuple[list[DocumentRevision], str | None]:
    """Published revisions, newest first (a draft has none yet)."""
    stmt = select(DocumentRevision).where(DocumentRevision.document_id == seen.document.id)
    return await paginate(session, stmt, order=_REVISION_ORDER, cursor=cursor, limit=limit)


def _manages_part(principal: Principal, path: str) -> bool:
    """Whether the caller manages documents somewhere in the subtree at `path` (the
    subtree lies in their scope, or part of their scope lies in it)."""
    paths = principal.paths_for(MANAGE)
    return paths is None or any(p.startswith(path) or path.startswith(p) for p in paths)


async def list_acknowledgements(
    session: AsyncSession,
    principal: Principal,
    seen: Visible,
    *,
    state: AckState | None,
    unit_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[AcknowledgementState], str | None]:
    """The active members addressed by the document in the caller's scope, with their
    acknowledgement of the current revision; one statement per page."""
    if not _manages_part(principal, seen.path):
        require(principal, MANAGE, seen.path)  # raises 403
    doc = seen.document
    acked = and_(
        Ack.document_id == doc.id, Ack.revision == doc.revision, Ack.member_id == Member.id
    )
    stmt: Select[*tuple[object, ...]] = (
        select(Member.id, Member.full_name, Member.unit_id, Member.name_sort)
        .join(Unit, Unit.id == Member.unit_id)
        .where(
            Member.status == MemberStatus.active,
            in_subtree(Unit.path, seen.path),
            scope_filter(principal, MANAGE, Unit.path),
        )
    )
    if state is AckState.done:
        stmt = stmt.join(Ack, acked).add_columns(Ack.acknowledged_at)
    elif state is AckState.pending:
        stmt = stmt.where(~exists().where(acked))
    else:
        stmt = stmt.outerjoin(Ack, acked).add_columns(Ack.acknowledged_at)
    if unit_id is not None:
        path = await session.scalar(select(Unit.path).where(Unit.id == unit_id))
        if path is None:
            return [], None
        stmt = stmt.where(in_subtree(Unit.path, path))
    order = Order(f"document-acks:{state.value if state else 'all'}", (Member.name_sort, Member.id))
    rows, next_cursor = await paginate_rows(session, stmt, order=order, cursor=cursor, limit=limit)
    items = []
    for r in rows:
        acknowledged_at = None if state is AckState.pending else r.acknowledged_at
        items.append(
            AcknowledgementState(
                member_id=r.id,
                full_name=r.full_name,
                unit_id=r.unit_id,
                revision=doc.revision,
                state=AckState.done if acknowledged_at is not None else AckState.pending,
                acknowledged_at=acknowledged_at,
            )
        )
    return items, next_cursor
