"""Who sees a document: the scoped statement, `get_visible` and its `Visible`, the
audience prefixes of a member (the rules are in api/services/documents/__init__.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import AckState, DocumentStatus
from api.core.errors import NotFound
from api.core.i18n import msg
from api.models import Document, DocumentAcknowledgement, Unit
from api.services.authz import Action, Principal, scope_filter

NOT_FOUND = ("not_found", msg("documents.not_found"))
DS = DocumentStatus
MANAGE = Action.DOCUMENT_MANAGE
Ack = DocumentAcknowledgement
CONTENT_FIELDS = ("title", "summary", "body")
REQUIRED_FIELDS = (
    "code",
    "title",
    "doc_type",
    "issuer",
    "issued_on",
    "audience_unit_id",
    "requires_ack",
)
FILE_COLUMNS = ("file_sha256", "file_name", "file_content_type", "file_size")


@dataclass(frozen=True, slots=True)
class Visible:
    """A document as the caller sees it: its audience unit's path, whether it is
    addressed to the caller's member, and that member's acknowledgement of the current
    revision (None when there is none)."""

    document: Document
    path: str
    addressed: bool
    acknowledged_at: datetime | None

    @property
    def ack_state(self) -> AckState | None:
        return ack_state(self.document, self.addressed, self.acknowledged_at)


def ack_state(doc: Document, addressed: bool, acknowledged_at: datetime | None) -> AckState | None:
    if not addressed:
        return None
    if acknowledged_at is not None:
        return AckState.done
    if doc.status is DS.published and doc.requires_ack:
        return AckState.pending
    return None


def prefixes(path: str) -> list[str]:
    """The paths of a unit and of all its ancestors ('/a/b/' → ['/a/', '/a/b/'])."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


async def member_prefixes(session: AsyncSession, principal: Principal) -> list[str]:
    """The unit paths a document must be addressed to for the caller's member to be in
    its audience (their unit and its ancestors); empty for principals without a member."""
    if principal.member_unit_id is None:
        return []
    path = principal.member_unit_path or await session.scalar(
        select(Unit.path).where(Unit.id == principal.member_unit_id)
    )
    return prefixes(path) if path else []


def visible_clause(principal: Principal, addressed_to: list[str]) -> ColumnElement[bool]:
    if principal.is_admin:
        return true()
    not_draft = Document.status != DS.draft
    parts = [scope_filter(principal, MANAGE, Unit.path)]
    ancestors = sorted({a for p in principal.paths_for(MANAGE) or [] for a in prefixes(p)})
    if ancestors:
        parts.append(and_(not_draft, Unit.path.in_(ancestors)))
    if addressed_to:
        parts.append(and_(not_draft, Unit.path.in_(addressed_to)))
    return or_(*parts)


def own_ack(principal: Principal) -> ColumnElement[bool]:
    return and_(
        Ack.document_id == Document.id,
        Ack.revision == Document.revision,
        Ack.member_id == principal.member_id,
    )


async def get_visible(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID
) -> Visible:
    addressed_to = await member_prefixes(session, principal)
    stmt: Select[*tuple[Any, ...]] = (
        select(Document, Unit.path)
        .join(Unit, Unit.id == Document.audience_unit_id)
        .where(Document.id == document_id, visible_clause(principal, addressed_to))
    )
    if principal.member_id is not None:
        stmt = stmt.outerjoin(Ack, own_ack(principal)).add_columns(Ack.acknowledged_at)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound(*NOT_FOUND)
    addressed = row[1] in addressed_to
    acknowledged_at = row[2] if addressed else None
    return Visible(row[0], row[1], addressed, acknowledged_at)


def can_read_anywhere(principal: Principal) -> bool:
    return principal.member_id is not None or principal.can_anywhere(MANAGE)
