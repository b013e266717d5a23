"""The writes: create, update, publish, archive, delete, the attached file and a
member's acknowledgement."""

from __future__ import annotations

import hashlib
import uuid
from typing import BinaryIO

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.db import new_id, upsert_insert, utcnow
from api.core.enums import DocumentStatus
from api.core.errors import AppError, Conflict, Forbidden, NotFound, Unprocessable
from api.core.i18n import msg
from api.core.offload import FILES
from api.core.text_vi import fold
from api.core.versioning import check_version
from api.models import Document, DocumentAcknowledgement, DocumentRevision, Unit
from api.schemas.documents import (
    DocumentCreate,
    DocumentUpdate,
)
from api.services import audit, counters
from api.services.authz import Principal, in_subtree, require, scope_filter
from api.services.documents.core import (
    CONTENT_FIELDS,
    DS,
    FILE_COLUMNS,
    MANAGE,
    NOT_FOUND,
    REQUIRED_FIELDS,
    Ack,
    Visible,
)
from api.services.files import DOCUMENT_TYPES, require_type, safe_filename, storage
from api.services.units import ensure_active, unknown_reference

# --- changes -----------------------------------------------------------------------------


def _body_ref(body: str | None) -> str | None:
    return None if body is None else "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def snapshot(doc: Document) -> dict[str, object]:
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


def _content(doc: Document) -> tuple[object, ...]:
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


def _require_manage(principal: Principal, seen: Visible) -> None:
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
    session: AsyncSession, principal: Principal, doc: Document, before: tuple[object, ...]
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
    seen: Visible,
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
    session: AsyncSession, principal: Principal, seen: Visible, expected_version: int | None
) -> Document:
    """draft → published; stores revision 1 (a body or a file is required, 422)."""
    return await _move(session, principal, seen, expected_version, DS.draft, DS.published)


async def archive(
    session: AsyncSession, principal: Principal, seen: Visible, expected_version: int | None
) -> Document:
    """published → archived (read only from then on)."""
    return await _move(session, principal, seen, expected_version, DS.published, DS.archived)


async def _move(
    session: AsyncSession,
    principal: Principal,
    seen: Visible,
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
    session: AsyncSession, principal: Principal, seen: Visible, expected_version: int | None
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


def ready_for_file(principal: Principal, seen: Visible, expected_version: int | None) -> None:
    """Checks worth making before the upload is read: 403, 412, 409."""
    _require_manage(principal, seen)
    check_version(expected_version, seen.document.version)
    _ensure_editable(seen.document)


async def attach_file(
    session: AsyncSession,
    principal: Principal,
    seen: Visible,
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
    session: AsyncSession, principal: Principal, seen: Visible, expected_version: int | None
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


# --- acknowledgements ------------------------------------------------------------------


async def acknowledge(
    session: AsyncSession, principal: Principal, seen: Visible
) -> tuple[DocumentAcknowledgement, bool]:
    """The caller's member acknowledges the current revision; (record, created)."""
    doc = seen.document
    if principal.member_id is None:
        raise Forbidden(
            detail=msg("documents.ack_members_only"),
        )
    if not seen.addressed or doc.status is DS.draft:
        raise NotFound(*NOT_FOUND)
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
    added = (
        await session.execute(
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
            .returning(*table.c)
        )
    ).first()
    if added is None:  # held the key: the earlier acknowledgement
        return (await session.scalars(select(Ack).where(*key))).one(), False
    ack = Ack(**added._mapping)  # the row as inserted (not added to the session)
    audit.record(
        session,
        principal,
        "document.acknowledge",
        "document",
        doc.id,
        principal.member_unit_id,
        {"member_id": principal.member_id, "revision": doc.revision},
    )
    await counters.acknowledged(
        session, principal.member_id, principal.member_unit_id, doc.id, doc.requires_ack
    )
    return ack, True
