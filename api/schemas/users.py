from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, WithJsonSchema

from api.core.enums import Role
from api.schemas.common import Input, Output, ShortText

# Taken exactly as typed: Input strips whitespace, but the login form does not, so a
# stripped password could never be used to log in.
Password = Annotated[str, StringConstraints(strip_whitespace=False)]


def _roles(*roles: Role) -> WithJsonSchema:
    """The roles the service accepts here, documented as an enumeration of their own (the
    service, not the type, refuses the others, with its own problem)."""
    return WithJsonSchema({"type": "string", "enum": [r.value for r in roles]})


_UUID = {"type": "string", "format": "uuid"}
USER_SCOPED_ROLES = (Role.manager, Role.reviewer, Role.analyst)


def _grant_schema(schema: dict[str, Any]) -> None:
    """An admin grant has no unit (one given is ignored); every other grant needs one."""
    common = {"type": "object", "additionalProperties": False}
    schema.clear()
    schema["anyOf"] = [
        {
            **common,
            "properties": {
                "role": {"const": Role.admin.value},
                "unit_id": {"anyOf": [_UUID, {"type": "null"}]},
            },
            "required": ["role"],
        },
        {
            **common,
            "properties": {
                "role": {"enum": [r.value for r in USER_SCOPED_ROLES]},
                "unit_id": _UUID,
            },
            "required": ["role", "unit_id"],
        },
    ]


class GrantIn(Input):
    role: Role
    unit_id: uuid.UUID | None = Field(default=None, description="Required except for admin.")

    model_config = ConfigDict(json_schema_extra=_grant_schema)


class GrantOut(Output):
    role: Role
    unit_id: uuid.UUID | None


class UserCreate(Input):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-@]*$")
    password: Password = Field(min_length=10, max_length=256)
    member_id: uuid.UUID | None = None
    grants: list[GrantIn] = Field(default_factory=list, max_length=50)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "an.nv",
                    "password": "a-long-passphrase",
                    "member_id": "5d2c1a4b-8e9f-4a3b-9c7d-6e5f4a3b2c1d",
                    "grants": [],
                }
            ]
        }
    )


class UserUpdate(Input):
    active: bool | None = None
    password: Password | None = Field(default=None, min_length=10, max_length=256)
    grants: list[GrantIn] | None = Field(default=None, max_length=50)

    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})


class UserRead(Output):
    id: uuid.UUID
    username: str
    member_id: uuid.UUID | None
    active: bool
    grants: list[GrantOut]
    version: int
    created_at: datetime
    updated_at: datetime


class ClientCreate(Input):
    name: ShortText
    role: Annotated[Role, _roles(Role.partner, Role.analyst)] = Field(
        description="`partner` or `analyst`."
    )
    unit_id: uuid.UUID

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "CSDL đảng viên tỉnh",
                    "role": "partner",
                    "unit_id": "0b6d3c9e-5f1a-4f7e-9a52-2d8f1e6c0a11",
                }
            ]
        }
    )


class ClientRead(Output):
    id: uuid.UUID
    client_id: str
    name: str
    role: Role
    unit_id: uuid.UUID
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ClientCreated(ClientRead):
    client_secret: str = Field(description="Shown only in this response.")
