"""Guidance documents: CRUD, publish/archive, the attached file, revisions and the
members' acknowledgements (rules in api/services/documents/)."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import Body, Query, Response
from fastapi.openapi.models import Example
from fastapi.responses import StreamingResponse

from api.core.enums import AckState, DocType, DocumentStatus
from api.core.errors import NotFound, problem_responses
from api.core.i18n import msg
from api.core.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from api.deps import IfMatchDep, MultipartFileDep, PrincipalDep, SessionDep, etag_of
from api.idempotency import IdempotencyDep
from api.loaders import VisibleDocument
from api.routers.common import (
    CREATE_ERRORS,
    FILE_REDIRECT,
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    authed_router,
    file_response,
    set_etag,
)
from api.schemas.documents import (
    AcknowledgeIn,
    AcknowledgementRead,
    AcknowledgementState,
    DocumentCreate,
    DocumentRead,
    DocumentSummary,
    DocumentUpdate,
    RevisionRead,
    document_fields,
    file_of,
)
from api.services import documents
from api.services.files import DOCX, PDF, safe_filename, storage

router = authed_router("/api/v1/documents", "documents")
ACTION_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)
UPLOAD_ERRORS = problem_responses(401, 403, 404, 409, 412, 413, 415, 422, 503)
ACK_ERRORS = problem_responses(401, 403, 404, 409, 413, 422)
_ACK: dict[str, Example] = {"empty": {"summary": "nothing to send", "value": {}}}
_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                # Up to five other (text) fields are read and ignored; a second file is 422.
                "additionalProperties": {"type": "string"},
                "maxProperties": 6,
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "minLength": 1,
                        "description": "PDF or DOCX (recognised by content), at most 20 MB.",
                    }
                },
            }
        }
    },
}


def _read(seen: documents.Visible) -> DocumentRead:
    doc = seen.document
    return DocumentRead(
        **document_fields(doc),
        body=doc.body,
        has_body=doc.body is not None,
        ack_state=seen.ack_state,
        acknowledged_at=seen.acknowledged_at,
    )


async def _fresh(
    session: SessionDep, principal: PrincipalDep, document_id: uuid.UUID
) -> DocumentRead:
    """The document as the caller now sees it, after a change (audience, revision and the
    caller's own acknowledgement state re-read in the same transaction)."""
    return _read(await documents.get_visible(session, principal, document_id))


@router.post(
    "", name="create", status_code=201, response_model=DocumentRead, responses=CREATE_ERRORS
)
async def create_document(
    body: DocumentCreate, principal: PrincipalDep, session: SessionDep, idem: IdempotencyDep
) -> Response:
    """Create a draft (managers for an audience unit in their scope; admins). An audience
    unit that is unknown or outside the caller's scope is 422; a dissolved one 409.
    Honours `Idempotency-Key`."""
    if (replay := await idem.replay(body)) is not None:
        return replay
    doc = await documents.create(session, principal, body)
    headers = {"Location": f"/api/v1/documents/{doc.id}", "ETag": etag_of(doc.version)}
    return await idem.respond(201, await _fresh(session, principal, doc.id), headers)


@router.get("", name="list", response_model=Page[DocumentSummary], responses=LIST_ERRORS)
async def list_documents(
    principal: PrincipalDep,
    session: SessionDep,
    status: Annotated[
        DocumentStatus | None,
        Query(description="Default: drafts and published; archived only when asked for."),
    ] = None,
    doc_type: DocType | None = None,
    requires_ack: bool | None = None,
    audience_unit_id: Annotated[
        uuid.UUID | None, Query(description="Documents addressed to exactly this unit.")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Part of the code or title, diacritic-insensitive."),
    ] = None,
    ack_state: Annotated[
        AckState | None,
        Query(
            description="Members: `pending` (still to acknowledge) or `done`, for the caller's own "
            "acknowledgement of the current revision."
        ),
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[DocumentSummary]:
    """Documents the caller may read, newest `issued_on` first: for members, the
    published documents addressed to their unit (or an ancestor of it) with their own
    `ack_state`; for managers, those addressed in or above their scope (drafts only in
    it). Roles without document rights get 403."""
    items, next_cursor = await documents.list_documents(
        session,
        principal,
        status=status,
        doc_type=doc_type,
        requires_ack=requires_ack,
        audience_unit_id=audience_unit_id,
        q=q,
        ack_state=ack_state,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=documents.summaries(items), next_cursor=next_cursor)


@router.get("/{document_id}", name="get", response_model=DocumentRead, responses=READ_ERRORS)
async def get_document(seen: VisibleDocument, response: Response) -> DocumentRead:
    """The document with its Markdown body and the caller's own acknowledgement state."""
    set_etag(response, seen.document.version)
    return _read(seen)


@router.patch("/{document_id}", name="update", response_model=DocumentRead, responses=WRITE_ERRORS)
async def update_document(
    body: DocumentUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleDocument,
    response: Response,
) -> DocumentRead:
    """Change fields (managers in scope). On a published document a change of `title`,
    `summary` or `body` makes a new revision that members acknowledge again; other fields
    change in place. Archived documents are read only (409)."""
    doc = await documents.update(session, principal, seen, body, if_match)
    set_etag(response, doc.version)
    return await _fresh(session, principal, seen.document.id)


@router.delete(
    "/{document_id}",
    name="delete",
    status_code=204,
    response_class=Response,
    responses=ACTION_ERRORS,
)
async def delete_document(
    principal: PrincipalDep, session: SessionDep, if_match: IfMatchDep, seen: VisibleDocument
) -> Response:
    """Delete a draft (409 for published or archived documents: archive them instead)."""
    await documents.delete(session, principal, seen, if_match)
    return Response(status_code=204)


@router.post(
    "/{document_id}/publish", name="publish", response_model=DocumentRead, responses=ACTION_ERRORS
)
async def publish_document(
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleDocument,
    response: Response,
) -> DocumentRead:
    """`draft` → `published` (needs a body or a file, else 422); revision 1 is recorded and
    members of the audience are asked to acknowledge it."""
    doc = await documents.publish(session, principal, seen, if_match)
    set_etag(response, doc.version)
    return await _fresh(session, principal, seen.document.id)


@router.post(
    "/{document_id}/archive", name="archive", response_model=DocumentRead, responses=ACTION_ERRORS
)
async def archive_document(
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleDocument,
    response: Response,
) -> DocumentRead:
    """`published` → `archived`: read only, no longer asks for acknowledgements."""
    doc = await documents.archive(session, principal, seen, if_match)
    set_etag(response, doc.version)
    return await _fresh(session, principal, seen.document.id)


# --- the attached file ---------------------------------------------------------------------


@router.put(
    "/{document_id}/file",
    name="upload_file",
    response_model=DocumentRead,
    responses=UPLOAD_ERRORS,
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload_file(
    upload: MultipartFileDep,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleDocument,
    response: Response,
) -> DocumentRead:
    """Attach or replace the document's file (multipart, field `file`): PDF or DOCX
    recognised by content (415 otherwise, 422 when empty), at most 20 MB (413). On a
    published document new bytes make a new revision."""
    documents.ready_for_file(principal, seen, if_match)
    async with upload.open() as file:
        doc = await documents.attach_file(
            session, principal, seen, file.file, file.filename, if_match
        )
    set_etag(response, doc.version)
    return await _fresh(session, principal, seen.document.id)


@router.delete(
    "/{document_id}/file", name="delete_file", response_model=DocumentRead, responses=ACTION_ERRORS
)
async def delete_file(
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleDocument,
    response: Response,
) -> DocumentRead:
    """Remove the attached file (404 when there is none; 422 when a published document
    would be left without body or file). On a published document: a new revision."""
    doc = await documents.remove_file(session, principal, seen, if_match)
    set_etag(response, doc.version)
    return await _fresh(session, principal, seen.document.id)


def _disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name."""
    plain = unicodedata.normalize("NFKD", filename.replace("đ", "d").replace("Đ", "D"))
    fallback = "".join(c for c in plain if 32 <= ord(c) < 127 and c not in '"\\')
    return f"attachment; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(filename)}"


@router.get(
    "/{document_id}/file",
    name="download_file",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The attached file", "content": {PDF: {}, DOCX: {}}},
        **READ_ERRORS,
        **FILE_REDIRECT,
    },
)
async def download_file(seen: VisibleDocument) -> Response:
    """The attached file of the current revision (404 when there is none)."""
    doc = seen.document
    if doc.file_sha256 is None or doc.file_name is None or doc.file_content_type is None:
        raise NotFound("not_found", msg("documents.no_file"))
    # Names stored before issue 14 may carry another type's extension.
    name = safe_filename(doc.file_name, doc.file_content_type)
    return await file_response(
        storage(), doc.file_sha256, doc.file_size or 0, doc.file_content_type, _disposition(name)
    )


# --- revisions and acknowledgements ------------------------------------------------------


@router.get(
    "/{document_id}/revisions",
    name="list_revisions",
    response_model=Page[RevisionRead],
    responses=READ_ERRORS,
)
async def list_revisions(
    seen: VisibleDocument,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[RevisionRead]:
    """The published revisions, newest first, each with its content as it was (a draft
    has none yet)."""
    rows, next_cursor = await documents.list_revisions(session, seen, cursor=cursor, limit=limit)
    items = [
        RevisionRead(
            document_id=r.document_id,
            revision=r.revision,
            title=r.title,
            summary=r.summary,
            body=r.body,
            file=file_of(r),
            created_at=r.created_at,
            created_by_id=r.created_by_id,
        )
        for r in rows
    ]
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/{document_id}/acknowledgements",
    name="acknowledge",
    status_code=201,
    response_model=AcknowledgementRead,
    responses={
        200: {"model": AcknowledgementRead, "description": "Already acknowledged (this revision)"},
        **ACK_ERRORS,
    },
)
async def acknowledge(
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    idem: IdempotencyDep,
    body: Annotated[AcknowledgeIn | None, Body(openapi_examples=_ACK)] = None,
) -> Response:
    """The caller (a member the document is addressed to) acknowledges its current
    revision: 201 the first time, 200 with the same record afterwards. A draft or a
    document not addressed to the caller is 404; an archived one 409
    `document_not_published`. Honours `Idempotency-Key`."""
    if (replay := await idem.replay(body or AcknowledgeIn())) is not None:
        return replay
    # Loaded here, not by VisibleDocument: a replay answers first, as it always has.
    seen = await documents.get_visible(session, principal, document_id)
    ack, created = await documents.acknowledge(session, principal, seen)
    return await idem.respond(201 if created else 200, AcknowledgementRead.model_validate(ack))


@router.get(
    "/{document_id}/acknowledgements",
    name="list_acknowledgements",
    response_model=Page[AcknowledgementState],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_acknowledgements(
    seen: VisibleDocument,
    principal: PrincipalDep,
    session: SessionDep,
    state: Annotated[
        AckState | None, Query(description="`pending`, `done`, or both when omitted.")
    ] = None,
    unit_id: Annotated[
        uuid.UUID | None, Query(description="Members of this unit and its subtree.")
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[AcknowledgementState]:
    """For managers: the active members of the audience in the caller's scope and whether
    they acknowledged the current revision, in Vietnamese name order."""
    items, next_cursor = await documents.list_acknowledgements(
        session, principal, seen, state=state, unit_id=unit_id, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)
