"""Wire types of reported posts. The read model comes in two shapes: `ReportRead`,
which never names the reporter, and `ReportWithReporter`, only for the reporter
themself and for handlers who are not the report's subject."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, JsonValue
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from api.core.enums import (
    Platform,
    Priority,
    ProposedAction,
    ReportCategory,
    ReportOutcome,
    ReportStatus,
)
from api.schemas.common import (
    NONBLANK_PATTERN,
    Input,
    Output,
    ShortText,
    Text,
    UtcDatetime,
    at_most_one,
    omittable,
)

Description = Annotated[str, Text(4000, min_length=1)]
Comment = Annotated[str, Text(2000)]


class ReportCreate(Input):
    url: str = Field(
        min_length=1, max_length=2048, pattern=NONBLANK_PATTERN,
        description="Link to the content (post, video, page).",
    )  # fmt: skip
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

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "url": "https://www.facebook.com/some.page/posts/1234567890",
        "platform": "facebook", "category": "fake_news",
        "description": "Bài viết bịa đặt về chủ trương sáp nhập xã.",
        "proposed_action": "refute", "observed_at": "2026-11-27T20:15:00+07:00",
    }], "anyOf": at_most_one("impersonated_member_id", "impersonated_unit_id")})  # fmt: skip


class ReportUpdate(Input):
    assignee_id: uuid.UUID | None = Field(
        default=None, description="A handler (manager or reviewer) in scope; null unassigns."
    )
    priority: Priority | SkipJsonSchema[None] = omittable()

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"assignee_id": None, "priority": "high"}]}
    )


_NULL: JsonDict = {"type": "null"}
_GIVEN: JsonDict = {"not": _NULL}
# What a move to each status needs (services.reports.WORKFLOW): `authority` and
# `reference` to escalate, `outcome` to resolve, none of them otherwise.
_MOVE_FIELDS_BY_TARGET: list[JsonValue] = [
    {"properties": {"to": {"enum": [s.value for s in ReportStatus
                                    if s not in (ReportStatus.escalated, ReportStatus.resolved)]},
                    "outcome": _NULL, "authority": _NULL, "reference": _NULL}},
    {"properties": {"to": {"const": ReportStatus.escalated.value}, "outcome": _NULL,
                    "authority": _GIVEN, "reference": _GIVEN},
     "required": ["authority", "reference"]},
    {"properties": {"to": {"const": ReportStatus.resolved.value}, "outcome": _GIVEN,
                    "authority": _NULL, "reference": _NULL},
     "required": ["outcome"]},
]  # fmt: skip


class TransitionIn(Input):
    to: ReportStatus
    comment: Comment | None = None
    outcome: ReportOutcome | None = Field(default=None, description="Required for `resolved`.")
    authority: ShortText | None = Field(
        default=None, description="Required for `escalated`: the authority it was forwarded to."
    )
    reference: ShortText | None = Field(
        default=None, description="Required for `escalated`: the authority's reference number."
    )

    # The fields a move needs, by target (the move itself depends on the report: 409).
    model_config = ConfigDict(json_schema_extra={"anyOf": _MOVE_FIELDS_BY_TARGET, "examples": [
        {"to": "in_review", "comment": "Đang xác minh"},
        {"to": "escalated", "authority": "Công an tỉnh A", "reference": "CV-123/2026"},
        {"to": "resolved", "outcome": "refuted", "comment": "Đã đăng bài phản bác"},
    ]})  # fmt: skip


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
    version: int
    created_at: datetime
    updated_at: datetime


class ReportWithReporter(ReportRead):
    reporter_member_id: uuid.UUID


class TimelineEntry(Output):
    id: uuid.UUID
    at: datetime
    kind: str = Field(
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
