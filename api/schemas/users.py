from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from api.core.enums import Role
from api.schemas.common import Input, Output, ShortText

# Taken exactly as typed: Input strips whitespace, but the login form does not, so a
# stripped password could never be used to log in.
Password = Annotated[str, StringConstraints(strip_whitespace=False)]


class GrantIn(Input):
    role: Role
    unit_id: uuid.UUID | None = Field(default=None, description="Required except for admin.")


class GrantOut(Output):
    role: Role
    unit_id: uuid.UUID | None


class UserCreate(Input):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-@]*$")
    password: Password = Field(min_length=10, max_length=256)
    member_id: uuid.UUID | None = None
    grants: list[GrantIn] = Field(default_factory=list, max_length=50)

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "username": "an.nv", "password": "a-long-passphrase",
        "member_id": "5d2c1a4b-8e9f-4a3b-9c7d-6e5f4a3b2c1d", "grants": [],
    }]})  # fmt: skip


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
    role: Role = Field(description="`partner` or `analyst`.")
    unit_id: uuid.UUID

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "CSDL đảng viên tỉnh", "role": "partner", "unit_id": "0b6d3c9e-5f1a-4f7e-9a52-2d8f1e6c0a11",
    }]})  # fmt: skip


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
