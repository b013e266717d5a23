from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base, TimestampMixin, new_id
from api.core.enums import DocType, DocumentStatus
from api.models.types import enum_column


class Document(TimestampMixin, Base):
    """A regulation or guidance document addressed to the subtree of `audience_unit_id`.

    Its *content* (title, summary, body, attached file) is what members acknowledge:
    `revision` starts at 1, stays 1 while the document is a draft (edits change it in
    place) and goes up by one each time the content of a published document changes; each
    published revision is kept in `document_revisions`. Metadata (code, issuer, issued_on,
    doc_type, audience, requires_ack, ack_due_at) changes in place. The attached file is
    content-addressed (`file_sha256` names it in the store). `search_text` is the folded
    "code title" that `q` matches."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(500))
    search_text: Mapped[str] = mapped_column(String(600))
    doc_type: Mapped[DocType] = mapped_column(enum_column(DocType, "doc_type"))
    issuer: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column()
    summary: Mapped[str | None] = mapped_column(String(4000))
    body: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_content_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int | None] = mapped_column()
    audience_unit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    requires_ack: Mapped[bool] = mapped_column(default=True)
    ack_due_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[DocumentStatus] = mapped_column(
        enum_column(DocumentStatus, "document_status"), default=DocumentStatus.draft
    )
    revision: Mapped[int] = mapped_column(default=1)
    published_at: Mapped[datetime | None] = mapped_column()
    archived_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[uuid.UUID | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (Index("ix_documents_issued_on_id", "issued_on", "id"),)


class DocumentRevision(TimestampMixin, Base):
    """The content of one published revision, as it was (immutable once written).
    Revision 1 is written when the document is published; later ones when the content of
    the published document changes. `created_at` is when the revision became current."""

    __tablename__ = "document_revisions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(String(4000))
    body: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_content_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int | None] = mapped_column()
    created_by_id: Mapped[uuid.UUID | None] = mapped_column()

    __table_args__ = (UniqueConstraint("document_id", "revision"),)


class DocumentAcknowledgement(TimestampMixin, Base):
    """A member's acknowledgement of one revision of a document. The unique key
    (document_id, revision, member_id) makes acknowledging idempotent (also under
    concurrent requests) and is the index every acknowledgement query uses: "who has
    acknowledged the current revision" (the pending/done lists, an anti-join on it) and
    the statistics' count of acknowledgements of current revisions."""

    __tablename__ = "document_acknowledgements"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column()
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    acknowledged_at: Mapped[datetime] = mapped_column()

    __table_args__ = (UniqueConstraint("document_id", "revision", "member_id"),)
