"""Guidance documents and their acknowledgements (quán triệt).

Decisions (README "Guidance documents" bullet):

- **Who sees what.** A manager (Action.DOCUMENT_MANAGE) sees every document whose
  audience unit lies in their scope, drafts included, and may edit it; they also see (read
  only: 403 on changes) the published and archived documents addressed to an *ancestor* of
  their scope, since those address their members too. A member sees the published and
  archived documents addressed to their unit or any ancestor of it (audience path IN the
  prefixes of the member unit's path: one indexed lookup). Drafts are never shown to
  members. Reviewers, partners and analysts have no document rights: the list is 403 and
  every document 404 (unless they are also a member). A user who is both manager and
  member sees the union.
- **Lists** show drafts and published documents; archived ones only with
  `status=archived`. Order: `issued_on` descending, then id (keyset).
- **Revisions.** Content = title, summary, body, attached file. A draft is edited in
  place (revision 1). Publishing stores revision 1 in `document_revisions`; every later
  change of the content of a published document bumps `revision` and stores the new one,
  so members are asked again (acknowledgements are bound to a revision). Metadata (code,
  doc_type, issuer, issued_on, audience, requires_ack, ack_due_at) changes in place without
  a new revision. Archived documents are read only (409 `conflict`); publishing needs a
  body or a file (422), and a published document cannot lose both (422). Only drafts may
  be deleted (409 `conflict` otherwise); publish is draft → published and archive
  published → archived (409 `invalid_transition` otherwise).
- **Acknowledging** is for members the document is addressed to: a principal without a
  member record that can see the document gets 403; a draft or a document not addressed
  to the caller's member is 404, an archived one 409 `document_not_published`. It binds
  the current revision; repeating it (also concurrently) returns the same record (201 the
  first time, then 200). Documents with `requires_ack=false` may be acknowledged too
  ("read"), but are never `pending`.
- **Managers' acknowledgement list**: the `active` members of the audience subtree that
  lie in the caller's DOCUMENT_MANAGE scope (and in `unit_id`'s subtree when given), in
  Vietnamese name order, `done` (an acknowledgement of the current revision exists) or
  `pending` (NOT EXISTS); one keyset-paginated statement per page. (For a draft nobody
  has been asked yet, so everyone is `pending`.)
- **Files**: PDF or DOCX recognised by content, ≤ QD85_MAX_DOCUMENT_BODY bytes, stored
  content-addressed; replacing or removing the file of a published document is a content
  change (new revision), re-uploading the same bytes is not.
- **Audit**: document.create / update / publish / archive / delete / file / acknowledge,
  placed at the audience unit (acknowledgements at the member's unit). Bodies are
  recorded by SHA-256, not in full.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from api.core.config import get_settings
from api.core.db import new_id, upsert_insert, utcnow
from api.core.enums import AckState, DocType, DocumentStatus, MemberStatus
from api.core.errors import AppError, Conflict, Forbidden, NotFound, Unprocessable
from api.core.i18n import msg
from api.core.offload import FILES
from api.core.pagination import after, decode_cursor, keyset, page_of
from api.core.text_vi import fold
from api.core.versioning import check_version
from api.models import Document, DocumentAcknowledgement, DocumentRevision, Member, Unit
from api.schemas.documents import DocumentCreate, DocumentSummary, DocumentUpdate, document_fields
from api.services import audit, counters
from api.services.authz import Action, Principal, in_subtree, require, scope_filter
from api.services.files import DOCUMENT_TYPES, require_type, safe_filename, storage
from api.services.units import ensure_active, unknown_reference

_NOT_FOUND = ("not_found", msg("documents.not_found"))
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
class Seen:
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
    path = await session.scalar(select(Unit.path).where(Unit.id == principal.member_unit_id))
    return prefixes(path) if path else []


def _visible_clause(principal: Principal, addressed_to: list[str]) -> ColumnElement[bool]:
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


def _own_ack(principal: Principal) -> Any:
    return and_(
        Ack.document_id == Document.id,
        Ack.revision == Document.revision,
        Ack.member_id == principal.member_id,
    )


async def get_visible(session: AsyncSession, principal: Principal, document_id: uuid.UUID) -> Seen:
    addressed_to = await member_prefixes(session, principal)
    stmt: Select[*tuple[Any, ...]] = (
        select(Document, Unit.path)
        .join(Unit, Unit.id == Document.audience_unit_id)
        .where(Document.id == document_id, _visible_clause(principal, addressed_to))
    )
    if principal.member_id is not None:
        stmt = stmt.outerjoin(Ack, _own_ack(principal)).add_columns(Ack.acknowledged_at)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound(*_NOT_FOUND)
    addressed = row[1] in addressed_to
    acknowledged_at = row[2] if addressed else None
    return Seen(row[0], row[1], addressed, acknowledged_at)


def _can_read_anywhere(principal: Principal) -> bool:
    return principal.member_id is not None or principal.can_anywhere(MANAGE)


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
) -> tuple[list[tuple[Document, str, bool, datetime | None, bool]], str | None]:
    """(document, audience path, addressed, own acknowledged_at, has body) per item."""
    if not _can_read_anywhere(principal):
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
    stmt: Select[*tuple[Any, ...]] = (
        select(Document, Unit.path, Document.body.is_not(None).label("has_body"))
        .options(defer(Document.body))
        .join(Unit, Unit.id == Document.audience_unit_id)
        .where(_visible_clause(principal, addressed_to))
    )
    if principal.member_id is not None:
        stmt = stmt.outerjoin(Ack, _own_ack(principal)).add_columns(Ack.acknowledged_at)
    if status is not None:
        stmt = stmt.where(Document.status == status)
    else:
        stmt = stmt.where(Document.status.in_((DS.draft, DS.published)))
    if doc_type is not None:
        stmt = stmt.where(Document.doc_type == doc_type)
    if requires_ack is not None:
        stmt = stmt.where(Document.requires_ack.is_(requires_ack))
    if audience_unit_id is not None:
        stmt = stmt.where(Document.audience_unit_id == audience_unit_id)
    if q and (folded := fold(q)):
        stmt = stmt.where(Document.search_text.contains(folded, autoescape=True))
    if ack_state is not None:
        stmt = stmt.where(_list_ack_state_filter(ack_state, addressed_to))
    kind = "documents"
    columns = [Document.issued_on, Document.id]
    if cursor:
        issued, last_id = decode_cursor(cursor, kind, [str, uuid.UUID])
        try:
            issued_on = date.fromisoformat(issued)
        except ValueError:
            raise Unprocessable("invalid_cursor", msg("documents.cursor_malformed")) from None
        stmt = stmt.where(after(columns, [issued_on, last_id], descending=True))
    stmt = stmt.order_by(*(c.desc() for c in columns)).limit(limit + 1)
    rows = (await session.execute(stmt)).all()
    member = principal.member_id is not None
    items = [(r[0], r[1], r[1] in addressed_to, r[3] if member else None, bool(r[2])) for r in rows]
    return page_of(
        items, kind=kind, limit=limit, key=lambda i: (i[0].issued_on.isoformat(), i[0].id)
    )


def summaries(
    items: list[tuple[Document, str, bool, datetime | None, bool]],
) -> list[DocumentSummary]:
    """List items from `list_documents` rows (`GET /documents` and `/me`)."""
    return [
        DocumentSummary(
            **document_fields(doc),
            has_body=has_body,
            ack_state=ack_state(doc, addressed, acknowledged_at),
            acknowledged_at=acknowledged_at if addressed else None,
        )
        for doc, _, addressed, acknowledged_at, has_body in items
    ]


# --- changes -----------------------------------------------------------------------------


def _body_ref(body: str | None) -> str | None:
    return None if body is None else "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def snapshot(doc: Document) -> dict[str, Any]:
    """The audited view of a document: every field, the body by digest."""
    return {
        "code": doc.code,
        "title": doc.title,
        "doc_type": doc.doc_type,
        "issuer": doc.issuer,
        "issued_on": doc.issued_on.isoformat(),
        "summary": doc.summary,
        "body": _body_ref(doc.body),
        "file": doc.file_sha256,
        "audience_unit_id": doc.audience_unit_id,
        "requires_ack": doc.requires_ack,
        "ack_due_at": doc.ack_due_at,
        "status": doc.status,
        "revision": doc.revision,
    }


def _content(doc: Document) -> tuple[Any, ...]:
    """What members acknowledge: title, summary, body and the file's bytes (its name and
    type are not content: the same bytes uploaded again make no new revision)."""
    return tuple(getattr(doc, f) for f in (*CONTENT_FIELDS, "file_sha256"))


async def _lock(session: AsyncSession, doc: Document) -> None:
    """Re-read the row FOR UPDATE (refreshing `doc`): concurrent changes of one document
    queue up here and never write from a stale copy. SQLite omits FOR UPDATE."""
    await session.execute(
        select(Document)
        .where(Document.id == doc.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _audience(session: AsyncSession, principal: Principal, unit_id: uuid.UUID) -> Unit:
    unit = await session.scalar(
        select(Unit).where(Unit.id == unit_id, scope_filter(principal, MANAGE, Unit.path))
    )
    if unit is None:
        raise unknown_reference("audience_unit_id", msg("words.unit"))
    ensure_active(unit)
    return unit


def _null_field(name: str) -> Unprocessable:
    return Unprocessable(
        "validation_failed",
        msg("http.field_cannot_be_null", name=name),
        extra={"errors": [{"loc": ["body", name], "msg": "may not be null", "type": "null"}]},
    )


def _needs_content() -> Unprocessable:
    return Unprocessable(
        "validation_failed",
        msg("documents.needs_body_or_file"),
        extra={
            "errors": [
                {"loc": ["body", "body"], "msg": "body or file required", "type": "value_error"}
            ]
        },
    )


def _ensure_editable(doc: Document) -> None:
    if doc.status is DS.archived:
        raise Conflict(
            "conflict",
            msg("documents.archived_read_only"),
        )


async def _recount(session: AsyncSession, *paths: str) -> None:
    """The statistics of the audience subtree(s): which documents count for them, and
    which acknowledgements are of a current revision, may have changed."""
    await counters.touch(
        session, select(Unit.id).where(or_(*(in_subtree(Unit.path, p) for p in paths)))
    )


COUNTED = ("status", "revision", "requires_ack", "audience_unit_id")


def _require_manage(principal: Principal, seen: Seen) -> None:
    require(principal, MANAGE, seen.path)


def new_revision(session: AsyncSession, principal: Principal | None, doc: Document) -> None:
    """Store the document's current content as revision `doc.revision`."""
    session.add(
        DocumentRevision(
            document_id=doc.id,
            revision=doc.revision,
            title=doc.title,
            summary=doc.summary,
            body=doc.body,
            created_by_id=principal.id if principal else None,
            **{c: getattr(doc, c) for c in FILE_COLUMNS},
        )
    )


def _after_content_change(
    session: AsyncSession, principal: Principal, doc: Document, before: tuple[Any, ...]
) -> None:
    """A published document whose content changed gets a new revision."""
    if doc.status is DS.published and _content(doc) != before:
        if doc.body is None and doc.file_sha256 is None:
            raise _needs_content()
        doc.revision += 1
        new_revision(session, principal, doc)


async def create(session: AsyncSession, principal: Principal, data: DocumentCreate) -> Document:
    require(principal, MANAGE)
    unit = await _audience(session, principal, data.audience_unit_id)
    doc = Document(
        code=data.code,
        title=data.title,
        search_text=fold(f"{data.code} {data.title}"),
        doc_type=data.doc_type,
        issuer=data.issuer,
        issued_on=data.issued_on,
        summary=data.summary,
        body=data.body,
        audience_unit_id=unit.id,
        requires_ack=data.requires_ack,
        ack_due_at=data.ack_due_at,
        status=DS.draft,
        revision=1,
        created_by_id=principal.id,
    )
    session.add(doc)
    await session.flush()
    audit.record(session, principal, "document.create", "document", doc.id, unit.id, snapshot(doc))
    return doc


async def update(
    session: AsyncSession,
    principal: Principal,
    seen: Seen,
    data: DocumentUpdate,
    expected_version: int | None,
) -> Document:
    doc = seen.document
    _require_manage(principal, seen)
    await _lock(session, doc)
    check_version(expected_version, doc.version)
    _ensure_editable(doc)
    fields = data.model_dump(exclude_unset=True)
    for name in REQUIRED_FIELDS:
        if name in fields and fields[name] is None:
            raise _null_field(name)
    if "audience_unit_id" in fields and fields["audience_unit_id"] != doc.audience_unit_id:
        await _audience(session, principal, fields["audience_unit_id"])
    before, content = snapshot(doc), _content(doc)
    for name, value in fields.items():
        setattr(doc, name, value)
    doc.search_text = fold(f"{doc.code} {doc.title}")
    _after_content_change(session, principal, doc, content)
    changes = audit.changed(before, snapshot(doc))
    if changes:
        doc.updated_at = utcnow()
        await session.flush()
        audit.record(
            session, principal, "document.update", "document", doc.id, doc.audience_unit_id, changes
        )
        if doc.status is not DS.draft and changes.keys() & set(COUNTED):
            audience = await session.scalar(
                select(Unit.path).where(Unit.id == doc.audience_unit_id)
            )
            await _recount(session, seen.path, audience or seen.path)
    return doc


def _invalid_transition(doc: Document, target: DocumentStatus) -> Conflict:
    return Conflict(
        "invalid_transition",
        msg("documents.invalid_move", status=doc.status.value, target=target.value),
    )


async def publish(
    session: AsyncSession, principal: Principal, seen: Seen, expected_version: int | None
) -> Document:
    """draft → published; stores revision 1 (a body or a file is required, 422)."""
    return await _move(session, principal, seen, expected_version, DS.draft, DS.published)


async def archive(
    session: AsyncSession, principal: Principal, seen: Seen, expected_version: int | None
) -> Document:
    """published → archived (read only from then on)."""
    return await _move(session, principal, seen, expected_version, DS.published, DS.archived)


async def _move(
    session: AsyncSession,
    principal: Principal,
    seen: Seen,
    expected_version: int | None,
    source: DocumentStatus,
    target: DocumentStatus,
) -> Document:
    doc = seen.document
    _require_manage(principal, seen)
    await _lock(session, doc)
    check_version(expected_version, doc.version)
    if doc.status is not source:
        raise _invalid_transition(doc, target)
    now = utcnow()
    if target is DS.published:
        if doc.body is None and doc.file_sha256 is None:
            raise _needs_content()
        doc.published_at = now
        new_revision(session, principal, doc)
    else:
        doc.archived_at = now
    doc.status, doc.updated_at = target, now
    await session.flush()
    audit.record(
        session,
        principal,
        f"document.{'publish' if target is DS.published else 'archive'}",
        "document",
        doc.id,
        doc.audience_unit_id,
        {"status": [source, target], "revision": doc.revision},
    )
    await _recount(session, seen.path)
    return doc


async def delete(
    session: AsyncSession, principal: Principal, seen: Seen, expected_version: int | None
) -> None:
    doc = seen.document
    _require_manage(principal, seen)
    await _lock(session, doc)
    check_version(expected_version, doc.version)
    if doc.status is not DS.draft:
        raise Conflict(
            "conflict",
            msg("documents.delete_drafts_only"),
        )
    audit.record(
        session,
        principal,
        "document.delete",
        "document",
        doc.id,
        doc.audience_unit_id,
        snapshot(doc),
    )
    await session.delete(doc)
    await session.flush()


# --- the attached file ---------------------------------------------------------------------


def _too_large(limit: int) -> AppError:
    return AppError(
        "payload_too_large",
        msg("documents.file_too_large", limit=limit),
    )


def ready_for_file(principal: Principal, seen: Seen, expected_version: int | None) -> None:
    """Checks worth making before the upload is read: 403, 412, 409."""
    _require_manage(principal, seen)
    check_version(expected_version, seen.document.version)
    _ensure_editable(seen.document)


async def attach_file(
    session: AsyncSession,
    principal: Principal,
    seen: Seen,
    file: BinaryIO,
    filename: str | None,
    expected_version: int | None,
) -> Document:
    """Check the content's type (422 empty, 415 other types) and size (413), store it
    (content-addressed, in a worker thread) and attach it."""
    ready_for_file(principal, seen, expected_version)
    content_type = await FILES.run(require_type, file, DOCUMENT_TYPES)
    limit = get_settings().max_document_body
    file.seek(0, 2)
    if file.tell() > limit:
        raise _too_large(limit)
    stored = await storage().put(file)
    doc = seen.document
    await _lock(session, doc)
    check_version(expected_version, doc.version)
    _ensure_editable(doc)
    before, content = (doc.file_sha256, doc.file_name), _content(doc)
    doc.file_sha256, doc.file_size = stored.key, stored.size
    doc.file_name = safe_filename(filename, content_type)
    doc.file_content_type = content_type
    _after_content_change(session, principal, doc, content)
    if (doc.file_sha256, doc.file_name) != before:
        doc.updated_at = utcnow()
        await session.flush()
        audit.record(
            session,
            principal,
            "document.file",
            "document",
            doc.id,
            doc.audience_unit_id,
            {
                "file": [before[0], stored.key],
                "filename": [before[1], doc.file_name],
                "content_type": content_type,
                "size": stored.size,
                "revision": doc.revision,
            },
        )
        if content != _content(doc) and doc.status is DS.published:
            await _recount(session, seen.path)
    return doc


async def remove_file(
    session: AsyncSession, principal: Principal, seen: Seen, expected_version: int | None
) -> Document:
    doc = seen.document
    _require_manage(principal, seen)
    await _lock(session, doc)
    check_version(expected_version, doc.version)
    _ensure_editable(doc)
    if doc.file_sha256 is None:
        raise NotFound("not_found", msg("documents.no_file"))
    before, content = doc.file_sha256, _content(doc)
    for column in FILE_COLUMNS:
        setattr(doc, column, None)
    _after_content_change(session, principal, doc, content)
    doc.updated_at = utcnow()
    await session.flush()
    audit.record(
        session,
        principal,
        "document.file",
        "document",
        doc.id,
        doc.audience_unit_id,
        {"file": [before, None], "revision": doc.revision},
    )
    if doc.status is DS.published:
        await _recount(session, seen.path)
    return doc


# --- revisions and acknowledgements ------------------------------------------------------


async def list_revisions(
    session: AsyncSession, seen: Seen, *, cursor: str | None, limit: int
) -> tuple[list[DocumentRevision], str | None]:
    """Published revisions, newest first (a draft has none yet)."""
    kind = "document-revisions"
    stmt = keyset(
        select(DocumentRevision).where(DocumentRevision.document_id == seen.document.id),
        kind=kind,
        columns=[DocumentRevision.revision],
        types=[int],
        cursor=cursor,
        limit=limit,
        descending=True,
    )
    rows = list((await session.scalars(stmt)).all())
    return page_of(rows, kind=kind, limit=limit, key=lambda r: (r.revision,))


async def acknowledge(
    session: AsyncSession, principal: Principal, seen: Seen
) -> tuple[DocumentAcknowledgement, bool]:
    """The caller's member acknowledges the current revision; (record, created)."""
    doc = seen.document
    if principal.member_id is None:
        raise Forbidden(
            detail=msg("documents.ack_members_only"),
        )
    if not seen.addressed or doc.status is DS.draft:
        raise NotFound(*_NOT_FOUND)
    if doc.status is not DS.published:
        raise Conflict(
            "document_not_published",
            msg("documents.archived_no_acks"),
        )
    key = (
        Ack.document_id == doc.id,
        Ack.revision == doc.revision,
        Ack.member_id == principal.member_id,
    )
    # One statement whether or not the member (or a concurrent request of theirs) already
    # acknowledged: the unique key decides, with no savepoint (the campaign write).
    table = Ack.__table__
    added = await session.scalar(
        upsert_insert(session.get_bind().dialect.name, table)
        .values(
            id=new_id(),
            document_id=doc.id,
            revision=doc.revision,
            member_id=principal.member_id,
            acknowledged_at=utcnow(),
        )
        .on_conflict_do_nothing(
            index_elements=[table.c.document_id, table.c.revision, table.c.member_id]
        )
        .returning(table.c.id)
    )
    ack = (await session.scalars(select(Ack).where(*key))).one()  # inserted, or held the key
    if added is None:
        return ack, False
    audit.record(
        session,
        principal,
        "document.acknowledge",
        "document",
        doc.id,
        principal.member_unit_id,
        {"member_id": principal.member_id, "revision": doc.revision},
    )
    await counters.acknowledged(session, principal.member_id, doc.id, doc.requires_ack)
    return ack, True


def _manages_part(principal: Principal, path: str) -> bool:
    """Whether the caller manages documents somewhere in the subtree at `path` (the
    subtree lies in their scope, or part of their scope lies in it)."""
    paths = principal.paths_for(MANAGE)
    return paths is None or any(p.startswith(path) or path.startswith(p) for p in paths)


async def list_acknowledgements(
    session: AsyncSession,
    principal: Principal,
    seen: Seen,
    *,
    state: AckState | None,
    unit_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """The active members addressed by the document in the caller's scope, with their
    acknowledgement of the current revision; one statement per page."""
    if not _manages_part(principal, seen.path):
        require(principal, MANAGE, seen.path)  # raises 403
    doc = seen.document
    acked = and_(
        Ack.document_id == doc.id, Ack.revision == doc.revision, Ack.member_id == Member.id
    )
    stmt: Select[*tuple[Any, ...]] = (
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
    kind = f"document-acks:{state.value if state else 'all'}"
    stmt = keyset(
        stmt,
        kind=kind,
        columns=[Member.name_sort, Member.id],
        types=[str, uuid.UUID],
        cursor=cursor,
        limit=limit,
    )
    rows = (await session.execute(stmt)).all()
    items = [
        {
            "member_id": r.id,
            "full_name": r.full_name,
            "unit_id": r.unit_id,
            "name_sort": r.name_sort,
            "revision": doc.revision,
            "acknowledged_at": None if state is AckState.pending else r.acknowledged_at,
        }
        for r in rows
    ]
    for item in items:
        item["state"] = AckState.done if item["acknowledged_at"] is not None else AckState.pending
    return page_of(items, kind=kind, limit=limit, key=lambda i: (i["name_sort"], i["member_id"]))
