from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from api.core.enums import Declaration, Membership, MemberStatus
from api.schemas.accounts import AccountRead
from api.schemas.common import Email, Input, Output, PersonName, Phone, ShortText, omittable
from api.schemas.documents import DocumentSummary
from api.schemas.reports import ReportWithReporter
from api.schemas.units import UnitRead

# The rule for external_id, shared with roster sync rows (api/services/roster/rows.py
# validates them with `field_adapter(MemberCreate, ...)`): printable ASCII without blanks,
# after the surrounding whitespace (line breaks, tabs, NBSP, ...) is stripped.
EXTERNAL_ID_MAX = 64
EXTERNAL_ID_PATTERN = r"^[\x21-\x7e]+$"
ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=EXTERNAL_ID_MAX, pattern=EXTERNAL_ID_PATTERN)
]


class MemberCreate(Input):
    external_id: ExternalId | None = None
    full_name: PersonName
    unit_id: uuid.UUID
    membership: Membership
    status: MemberStatus = MemberStatus.active
    position: ShortText | None = None
    is_leader: bool = False
    email: Email | None = None
    phone: Phone | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "external_id": "DV-0001234",
                    "full_name": "Nguyễn Văn An",
                    "unit_id": "0b6d3c9e-5f1a-4f7e-9a52-2d8f1e6c0a11",
                    "membership": "official",
                    "position": "Bí thư chi bộ",
                    "is_leader": True,
                    "email": "an.nv@example.vn",
                    "phone": "0912345678",
                }
            ]
        }
    )


class MemberUpdate(Input):
    external_id: ExternalId | None = None
    full_name: PersonName | SkipJsonSchema[None] = omittable()
    unit_id: uuid.UUID | SkipJsonSchema[None] = omittable()
    membership: Membership | SkipJsonSchema[None] = omittable()
    status: MemberStatus | SkipJsonSchema[None] = omittable()
    position: ShortText | None = None
    is_leader: bool | SkipJsonSchema[None] = omittable()
    email: Email | None = None
    phone: Phone | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"position": "Phó bí thư", "is_leader": True}]}
    )


class MemberRead(Output):
    id: uuid.UUID
    external_id: str | None
    full_name: str
    unit_id: uuid.UUID
    membership: Membership
    status: MemberStatus
    position: str | None
    is_leader: bool
    email: str | None
    phone: str | None
    declaration: Declaration
    declared_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class MeRead(MemberRead):
    """The caller's own record for a mobile home screen."""

    unit: UnitRead
    accounts: list[AccountRead]
    reports: list[ReportWithReporter] = Field(
        description="The caller's latest 20 reports, newest first "
        "(all of them: `GET /reports?mine=true`)."
    )
    pending_documents: list[DocumentSummary] = Field(
        description="Up to 20 published documents addressed to the caller that still await "
        "their acknowledgement (all of them: `GET /documents?ack_state=pending`)."
    )


class UserSummary(Output):
    id: uuid.UUID
    username: str
    active: bool
    created_at: datetime


class AuditEventBrief(Output):
    at: datetime
    action: str
    entity_type: str
    entity_id: uuid.UUID | None
    actor_type: str
    actor_id: uuid.UUID | None
    changes: dict[str, object]


class MeExport(Output):
    """Everything qd85 holds about the caller (data subject access)."""

    exported_at: datetime
    member: MemberRead | None
    unit: UnitRead | None
    user: UserSummary | None
    grants: list[dict[str, str | None]]
    audit_about_me: list[AuditEventBrief]
    audit_by_me: list[AuditEventBrief]
    audit_by_me_truncated: bool
    accounts: list[AccountRead]
    reports: list[ReportWithReporter] = Field(description="Every report the caller filed.")
