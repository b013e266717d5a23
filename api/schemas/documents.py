from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
)
from pydantic.json_schema import SkipJsonSchema

from api.core.enums import AckState, DocType, DocumentStatus
from api.schemas.common import (
    Input,
    IsoDate,
    LongText,
    Output,
    ShortText,
    Text,
    UtcDatetime,
    omittable,
)

# Markdown bodies: well under the 1 MB JSON body limit even when every character is a
# \uXXXX escape of a Vietnamese letter.
MAX_BODY_CHARS = 100_000


# One-line text (code, title): tabs allowed, inner whitespace collapsed. Markdown keeps
# its line breaks and tabs.
DocCode = Annotated[str, Text(64, min_length=1, multiline=False, collapse=True, no_invisible=True)]
DocTitle = Annotated[str, Text(500, min_length=1, multiline=False, collapse=True)]
Markdown = Annotated[str, Text(MAX_BODY_CHARS, min_length=1)]

_EXAMPLE: dict[str, Any] = {
    "code": "85-QĐ/TW",
    "title": "Quy định về trách nhiệm của cán bộ, đảng viên trong việc thiết lập, sử dụng "
    "trang thông tin cá nhân trên mạng xã hội",
    "doc_type": "regulation",
    "issuer": "Ban Bí thư",
    "issued_on": "2022-10-07",
    "summary": "Trách nhiệm nêu gương, kiểm chứng thông tin và báo cáo thông tin xấu, độc.",
    "body": "## Nội dung chính\n\n- Gương mẫu khi sử dụng mạng xã hội\n- Kiểm chứng trước "
    "khi chia sẻ",
    "audience_unit_id": "0b6d3c9e-5f1a-4f7e-9a52-2d8f1e6c0a11",
    "requires_ack": True,
    "ack_due_at": "2026-12-31T17:00:00Z",
}


class DocumentCreate(Input):
    code: DocCode = Field(description="The document's number and symbol, e.g. `85-QĐ/TW`.")
    title: DocTitle
    doc_type: DocType
    issuer: ShortText
    issued_on: IsoDate
    summary: LongText | None = None
    body: Markdown | None = Field(default=None, description="Markdown (≤ 100,000 characters).")
    audience_unit_id: uuid.UUID = Field(description="The unit whose whole subtree it addresses.")
    requires_ack: bool = True
    ack_due_at: UtcDatetime | None = Field(
        default=None, description="RFC 3339 with an offset; a naive time is 422."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class DocumentUpdate(Input):
    """Every field optional. Changing `title`, `summary` or `body` of a published document
    makes a new revision; the other fields change in place."""

    code: DocCode | SkipJsonSchema[None] = omittable()
    title: DocTitle | SkipJsonSchema[None] = omittable()
    doc_type: DocType | SkipJsonSchema[None] = omittable()
    issuer: ShortText | SkipJsonSchema[None] = omittable()
    issued_on: IsoDate | SkipJsonSchema[None] = omittable()
    summary: LongText | None = None
    body: Markdown | None = None
    audience_unit_id: uuid.UUID | SkipJsonSchema[None] = omittable()
    requires_ack: bool | SkipJsonSchema[None] = omittable()
    ack_due_at: UtcDatetime | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"body": "## Nội dung sửa đổi\n\n…"}, {"ack_due_at": None}]}
    )


class AcknowledgeIn(Input):
    """Nothing to send: the caller acknowledges the current revision as their member."""

    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class DocumentFile(Output):
    filename: str
    content_type: str
    size: int
    sha256: str


class DocumentSummary(Output):
    """A document in a list (without the Markdown body; `has_body` tells whether it has
    one). `ack_state`/`acknowledged_at` are the caller's own, for the current revision:
    `done` once acknowledged, `pending` while a published document that requires
    acknowledgement and is addressed to the caller's unit is not, null otherwise (not
    addressed to the caller, or nothing asked)."""

    id: uuid.UUID
    code: str
    title: str
    doc_type: DocType
    issuer: str
    issued_on: date
    summary: str | None
    has_body: bool
    file: DocumentFile | None
    audience_unit_id: uuid.UUID
    requires_ack: bool
    ack_due_at: datetime | None
    status: DocumentStatus
    revision: int
    published_at: datetime | None
    archived_at: datetime | None
    created_by_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
    ack_state: AckState | None
    acknowledged_at: datetime | None


class DocumentRead(DocumentSummary):
    body: str | None


class RevisionRead(Output):
    document_id: uuid.UUID
    revision: int
    title: str
    summary: str | None
    body: str | None
    file: DocumentFile | None
    created_at: datetime
    created_by_id: uuid.UUID | None


class AcknowledgementRead(Output):
    document_id: uuid.UUID
    member_id: uuid.UUID
    revision: int
    acknowledged_at: datetime


class AcknowledgementState(Output):
    """One member of the audience in the caller's scope, for the current revision."""

    member_id: uuid.UUID
    full_name: str
    unit_id: uuid.UUID
    revision: int
    state: AckState
    acknowledged_at: datetime | None


def file_of(row: Any) -> DocumentFile | None:
    """The attached file of a document or revision row, if any."""
    if row.file_sha256 is None:
        return None
    return DocumentFile(
        filename=row.file_name,
        content_type=row.file_content_type,
        size=row.file_size,
        sha256=row.file_sha256,
    )


def document_fields(doc: Any) -> dict[str, Any]:
    """The stored fields of a Document as the read models name them (no body)."""
    names = (
        "id",
        "code",
        "title",
        "doc_type",
        "issuer",
        "issued_on",
        "summary",
        "audience_unit_id",
        "requires_ack",
        "ack_due_at",
        "status",
        "revision",
        "published_at",
        "archived_at",
        "created_by_id",
        "version",
        "created_at",
        "updated_at",
    )
    return {name: getattr(doc, name) for name in names} | {"file": file_of(doc)}
