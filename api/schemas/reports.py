"""Wire types of reported posts. The read model comes in two shapes: `ReportRead`,
which never names the reporter, and `ReportWithReporter`, only for the reporter
themself and for handlers who are not the report's subject."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from api.core.enums import (
    Platform,
    Priority,
    ProposedAction,
    ReportCategory,
    ReportOutcome,
    ReportStatus,
    TimelineKind,
)
from api.schemas.common import (
    NONBLANK_PATTERN,
    Input,
    Output,
    ShortText,
    Text,
    UtcDatetime,
    omittable,
)

Description = Annotated[str, Text(4000, min_length=1)]
Comment = Annotated[str, Text(2000)]


class ReportCreate(Input):
    """A report of a post. At most one of `impersonated_member_id` and
    `impersonated_unit_id` (both is 422 `validation_failed`); a link the server cannot
    resolve to content is 422 `invalid_url`."""

    url: str = Field(
        min_length=1,
        max_length=2048,
        pattern=NONBLANK_PATTERN,
        description="Link to the content (post, video, page).",
    )
    platform: Platform | None = Field(
        default=None, description="Inferred from the link's host when omitted."
    )
    category: ReportCategory
    description: Description
    proposed_action: ProposedAction
    observed_at: UtcDatetime | None = Field(
        default=None, description="When the reporter saw the content (RFC 3339 with offset)."
    )
    impersonated_unit_id: uuid.UUID | None = None
    impersonated_member_id: uuid.UUID | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://www.facebook.com/some.page/posts/1234567890",
                    "platform": "facebook",
                    "category": "fake_news",
                    "description": "Bài viết bịa đặt về chủ trương sáp nhập xã.",
                    "proposed_action": "refute",
                    "observed_at": "2026-11-27T20:15:00+07:00",
                }
            ]
        }
    )


class ReportUpdate(Input):
    assignee_id: uuid.UUID | None = Field(
        default=None, description="A handler (manager or reviewer) in scope; null unassigns."
    )
    priority: Priority | SkipJsonSchema[None] = omittable()

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"assignee_id": None, "priority": "high"}]}
    )


class TransitionIn(Input):
    """What the server reads from `POST /reports/{id}/transitions`; the document publishes
    it as `TransitionRequest` (its three variants below), which says the same per target.
    A required field missing, or one that does not belong to the move, is 422; the move
    itself depends on the report (409 `invalid_transition`)."""

    to: ReportStatus
    comment: Comment | None = None
    outcome: ReportOutcome | None = Field(default=None, description="Required for `resolved`.")
    authority: ShortText | None = Field(
        default=None, description="Required for `escalated`: the authority it was forwarded to."
    )
    reference: ShortText | None = Field(
        default=None, description="Required for `escalated`: the authority's reference number."
    )


# The documented request body of a transition: one complete variant per target, with a
# discriminator on `to` (services.reports.WORKFLOW: `authority` and `reference` to
# escalate, `outcome` to resolve, none of them otherwise). Every variant validates as a
# TransitionIn (tests/routers/test_openapi_document.py).
class TransitionToStatus(Input):
    """A move that needs no outcome: to `in_review`, `dismissed` or `withdrawn` (or back
    to `submitted`, where the workflow allows it)."""

    to: Literal["submitted", "in_review", "dismissed", "withdrawn"]
    comment: Comment | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"to": "in_review", "comment": "Đang xác minh"}]}
    )


class TransitionToEscalated(Input):
    """Forwarded to the authorities: `authority` and `reference` are required."""

    to: Literal["escalated"]
    comment: Comment | None = None
    authority: ShortText = Field(description="The authority it was forwarded to.")
    reference: ShortText = Field(description="The authority's reference number.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"to": "escalated", "authority": "Công an tỉnh A", "reference": "CV-123/2026"},
            ]
        }
    )


class TransitionToResolved(Input):
    """Handled: `outcome` is required."""

    to: Literal["resolved"]
    comment: Comment | None = None
    outcome: ReportOutcome

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"to": "resolved", "outcome": "refuted", "comment": "Đã đăng bài phản bác"},
            ]
        }
    )


TransitionRequest = Annotated[
    TransitionToStatus | TransitionToEscalated | TransitionToResolved,
    Field(discriminator="to"),
]


class AllowedTransition(Output):
    to: ReportStatus = Field(description="The status this caller may move the report to now.")
    requires: list[str] = Field(
        description="Fields the transition body must carry for this move (`outcome`; "
        "`authority` and `reference`); the others of them must be absent."
    )


class ReportRead(Output):
    id: uuid.UUID
    url: str
    canonical_url: str
    platform: Platform
    category: ReportCategory
    description: str
    proposed_action: ProposedAction
    observed_at: datetime | None
    status: ReportStatus
    outcome: ReportOutcome | None
    authority: str | None
    reference: str | None
    priority: Priority
    assignee_id: uuid.UUID | None
    unit_id: uuid.UUID = Field(description="The reporter's unit at filing.")
    impersonated_unit_id: uuid.UUID | None
    impersonated_member_id: uuid.UUID | None
    subject_member_id: uuid.UUID | None = Field(
        description="The member whose declared account the link names or was posted on."
    )
    due_at: datetime
    overdue: bool = Field(description="Open (submitted, in review, escalated) and past `due_at`.")
    duplicate_of: uuid.UUID | None
    report_count: int = Field(
        description="On a primary: the reports of this link in its workflow (itself included, "
        "withdrawn ones not); 1 on a duplicate."
    )
    closed_at: datetime | None
    allowed_transitions: list[AllowedTransition] = Field(
        description="The moves this caller may make now (the workflow, the caller's role and "
        "scope, separation of duties: nobody handles a report they filed or one about "
        "themselves; a duplicate follows its primary), each with its required fields, so "
        "clients never copy the workflow. Empty when there is none."
    )
    version: int
    created_at: datetime
    updated_at: datetime


class ReportWithReporter(ReportRead):
    reporter_member_id: uuid.UUID


class TimelineEntry(Output):
    id: uuid.UUID
    at: datetime
    kind: TimelineKind = Field(
        description="filed, duplicate_linked, promoted (became the primary when the previous "
        "one was withdrawn), transition, assignment, priority, evidence"
    )
    actor_type: str | None = Field(description="user, client or system; null when hidden")
    actor_id: uuid.UUID | None = Field(
        description="Hidden (null) on the reporter's own entries for viewers who may not "
        "know the reporter."
    )
    from_status: ReportStatus | None
    to_status: ReportStatus | None
    comment: str | None
    data: dict[str, object]


class EvidenceRead(Output):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
