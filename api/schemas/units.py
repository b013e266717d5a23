from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from api.core.enums import UnitLevel, UnitStatus
from api.schemas.common import Code, Input, Output, UnitName, omittable

DeadlineDays = Annotated[int, Field(ge=1, le=3650)]


class UnitCreate(Input):
    code: Code = Field(examples=["HN.BD.CB01"])
    name: UnitName = Field(examples=["Chi bộ Khu phố 1"])
    level: UnitLevel
    parent_id: uuid.UUID | None = Field(
        default=None, description="Omitted only for a root (admins)."
    )
    declaration_required: bool = True
    declaration_deadline_days: DeadlineDays = 30

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "HN.BD.CB01",
                    "name": "Chi bộ Khu phố 1",
                    "level": "cell",
                    "parent_id": "0b6d3c9e-5f1a-4f7e-9a52-2d8f1e6c0a11",
                }
            ]
        }
    )


class UnitUpdate(Input):
    name: UnitName | SkipJsonSchema[None] = omittable()
    level: UnitLevel | SkipJsonSchema[None] = omittable()
    parent_id: uuid.UUID | None = Field(
        default=None, description="Move the unit (with its subtree) under another unit."
    )
    declaration_required: bool | SkipJsonSchema[None] = omittable()
    declaration_deadline_days: DeadlineDays | SkipJsonSchema[None] = omittable()

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Chi bộ Khu phố 1 (mới)"}]})


class UnitMerge(Input):
    into_unit_id: uuid.UUID

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"into_unit_id": "0b6d3c9e-5f1a-4f7e-9a52-2d8f1e6c0a11"}]}
    )


class UnitRead(Output):
    id: uuid.UUID
    code: str
    name: str
    level: UnitLevel
    parent_id: uuid.UUID | None
    status: UnitStatus
    merged_into_id: uuid.UUID | None
    declaration_required: bool
    declaration_deadline_days: int
    version: int
    created_at: datetime
    updated_at: datetime


class UnitTree(UnitRead):
    children: list[UnitTree] = Field(default_factory=list)
