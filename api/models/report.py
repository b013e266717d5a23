from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base, TimestampMixin, binary_string, new_id, utcnow
from api.core.enums import (
    Platform,
    Priority,
    ProposedAction,
    ReportCategory,
    ReportOutcome,
    ReportStatus,
)
from api.models.types import enum_column

OPEN_STATUSES = frozenset({ReportStatus.submitted, ReportStatus.in_review, ReportStatus.escalated})


class Report(TimestampMixin, Base):
    """A reported post. `unit_id` is the reporter's unit and `subject_unit_id` the unit
    the report is about (the subject member's, or the impersonated member's or unit), both
    as they were at filing; handlers in scope of either see the report.

    `content_hash` is the SHA-256 of `canonical_url`. `open_key` equals it while the
    report is an open primary (not a duplicate; submitted, in review or escalated) and is
    NULL otherwise: its unique index makes two concurrent reports of one link end as one
    primary and one duplicate, never two workflows."""

    __tablename__ = "reports"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    reporter_member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    unit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    subject_member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    subject_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    impersonated_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT")
    )
    impersonated_member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT")
    )
    url: Mapped[str] = mapped_column(String(2048))
    canonical_url: Mapped[str] = mapped_column(String(2048))
    content_hash: Mapped[str] = mapped_column(binary_string(64), index=True)
    open_key: Mapped[str | None] = mapped_column(binary_string(64), unique=True)
    platform: Mapped[Platform] = mapped_column(enum_column(Platform, "platform"))
    category: Mapped[ReportCategory] = mapped_column(enum_column(ReportCategory, "report_category"))
    description: Mapped[str] = mapped_column(Text)
    description_search: Mapped[str] = mapped_column(Text)
    proposed_action: Mapped[ProposedAction] = mapped_column(
        enum_column(ProposedAction, "proposed_action")
    )
    observed_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "report_status"), default=ReportStatus.submitted
    )
    outcome: Mapped[ReportOutcome | None] = mapped_column(
        enum_column(ReportOutcome, "report_outcome")
    )
    authority: Mapped[str | None] = mapped_column(String(300))
    reference: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[Priority] = mapped_column(
        enum_column(Priority, "priority"), default=Priority.normal
    )
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    due_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("reports.id", ondelete="RESTRICT"), index=True
    )
    report_count: Mapped[int] = mapped_column(default=1)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        Index("ix_reports_created_at_id", "created_at", "id"),
        Index("ix_reports_status_due_at", "status", "due_at"),
    )


class ReportEvent(Base):
    """One entry of a report's timeline: filing, a move, an assignment, a priority
    change, a linked duplicate, an evidence file. `by_reporter` marks the reporter's own
    entries, whose actor is hidden from viewers who may not know the reporter."""

    __tablename__ = "report_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    by_reporter: Mapped[bool] = mapped_column(default=False)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(String(2000))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_report_events_report_id_at_id", "report_id", "at", "id"),)


class ReportEvidence(Base):
    """An evidence file: its bytes live in the storage backend under their SHA-256 and
    are never modified; this row is never updated."""

    __tablename__ = "report_evidence"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="RESTRICT"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column()
    by_reporter: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
