from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from api.core.enums import AccountKind, AccountPurpose, AccountStatus, Declaration, Platform
from api.schemas.common import (
    NONBLANK_PATTERN,
    Input,
    Output,
    ShortText,
    Text,
    omittable,
)


class AccountCreate(Input):
    """A declaration. Give exactly one of `url` and `handle` (both or neither is 422
    `validation_failed`); a URL that names no account is 422 `invalid_account_url`."""

    platform: Platform | None = Field(
        default=None, description="Inferred from the URL's host when omitted."
    )
    url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=NONBLANK_PATTERN,
        description="Profile/page URL (or use `handle`).",
    )
    handle: str | None = Field(
        default=None,
        max_length=200,
        pattern=NONBLANK_PATTERN,
        description="`@handle` or a phone number (Zalo).",
    )
    kind: AccountKind = AccountKind.profile
    display_name: ShortText | None = None
    purpose: AccountPurpose = AccountPurpose.personal

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "platform": "facebook",
                    "url": "https://www.facebook.com/nguyen.van.an",
                    "kind": "profile",
                    "display_name": "Nguyễn Văn An",
                    "purpose": "personal",
                }
            ]
        }
    )


class AccountUpdate(Input):
    display_name: ShortText | None = None
    kind: AccountKind | SkipJsonSchema[None] = omittable()
    purpose: AccountPurpose | SkipJsonSchema[None] = omittable()

    model_config = ConfigDict(json_schema_extra={"examples": [{"purpose": "work"}]})


Note = Annotated[str, Text(1000)]  # the column holds 1,000 characters


class ReviewNote(Input):
    note: Note | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "Đã đối chiếu"}]})


class RejectNote(Input):
    note: Annotated[str, Text(1000, min_length=1)]

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Không phải tài khoản của đảng viên"}]}
    )


class CloseIn(Input):
    note: Note | None = None
    declare_none: bool = Field(
        default=False,
        description="When this closes the member's last active account: record that they now have "
        "no accounts (`declared_none`) instead of returning to `not_declared`.",
    )


class DeclarationIn(Input):
    has_accounts: bool

    model_config = ConfigDict(json_schema_extra={"examples": [{"has_accounts": False}]})


class DeclarationRead(Output):
    member_id: uuid.UUID
    declaration: Declaration
    declared_at: datetime | None
    active_accounts: int


class AccountRead(Output):
    id: uuid.UUID
    member_id: uuid.UUID
    platform: Platform
    kind: AccountKind
    purpose: AccountPurpose
    url: str
    canonical_key: str
    canonical_url: str
    display_name: str | None
    status: AccountStatus
    review_note: str | None
    reviewed_by_id: uuid.UUID | None
    reviewed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
