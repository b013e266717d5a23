"""Wire types of roster syncs (SPEC §5 "Roster sync").

`RosterSyncIn` documents the JSON body; the body itself is streamed and validated row by
row (api/services/roster/rows.py) with the rules of `MemberCreate`, so one bad row is
a rejected row, not a 422 for the whole body."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from api.core.enums import (
    Membership,
    MemberStatus,
    RowAction,
    SyncMode,
    SyncSource,
    SyncStatus,
    UnitAction,
    UnitLevel,
)
from api.schemas.common import Code, Email, Input, Output, PersonName, Phone, ShortText, UnitName
from api.schemas.members import ExternalId


class RosterMemberIn(Input):
    """One member row. A field left out keeps the member's current value (a new member
    gets the default); `null` clears `position`, `email` and `phone`. `membership` is
    required for a member the roster does not hold yet. Vietnamese labels are accepted
    for `membership` and `status` (`chính thức`, `dự bị`, `miễn sinh hoạt`, …)."""

    external_id: ExternalId
    full_name: PersonName
    unit_code: Code
    membership: Membership | None = None
    status: MemberStatus | None = None
    position: ShortText | None = None
    is_leader: bool | None = None
    email: Email | None = None
    phone: Phone | None = None


class RosterUnitIn(Input):
    """A unit carried by a snapshot: created when its code is new (under `parent_code`,
    an existing unit in scope or another unit of the body); an existing unit in scope
    gets the `name` and `level` given. Units are never moved or dissolved by a sync."""

    code: Code
    name: UnitName
    level: UnitLevel
    parent_code: Code | None = None


class RosterSyncIn(Input):
    """The JSON body. NDJSON, CSV and XLSX bodies carry member rows only, with `mode`
    and `scope_unit_code` as query parameters."""

    mode: SyncMode
    scope_unit_code: Code | None = None
    units: list[RosterUnitIn] = Field(default_factory=list)
    members: list[RosterMemberIn] = Field(default_factory=list)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mode": "snapshot",
                    "scope_unit_code": "HN.BD",
                    "units": [
                        {
                            "code": "HN.BD.01",
                            "name": "Chi bộ Khu phố 1",
                            "level": "cell",
                            "parent_code": "HN.BD",
                        }
                    ],
                    "members": [
                        {
                            "external_id": "DV-0001234",
                            "full_name": "Nguyễn Văn An",
                            "unit_code": "HN.BD.01",
                            "membership": "official",
                            "position": "Bí thư chi bộ",
                            "is_leader": True,
                            "email": "an.nv@example.vn",
                            "phone": "0912345678",
                        },
                        {
                            "external_id": "DV-0001235",
                            "full_name": "Trần Thị Bình",
                            "unit_code": "HN.BD.01",
                            "membership": "probationary",
                        },
                    ],
                }
            ]
        }
    )


class SyncCounts(Output):
    """Member rows by what they do. `deactivated` counts members of a snapshot's scope
    absent from its body (set to `transferred`)."""

    created: int
    updated: int
    moved: int
    deactivated: int
    reactivated: int
    unchanged: int
    rejected: int


class UnitCounts(Output):
    created: int
    updated: int
    unchanged: int
    rejected: int


class RowError(Output):
    """A rejected row: `row` is its number in the body (CSV/XLSX: the sheet row, the
    header being row 1; NDJSON: the line; JSON: the position in `members`/`units`)."""

    row: int
    kind: Literal["member", "unit"]
    external_id: str | None = Field(description="The member's external_id (a unit's code).")
    code: str = Field(examples=["unknown_unit"])
    field: str | None = None
    detail: str | None = None


class RosterSyncSummary(Output):
    id: uuid.UUID
    mode: SyncMode
    status: SyncStatus
    source: SyncSource = Field(
        description="Body format: json, ndjson, csv, xlsx, xls or ods (spreadsheets as "
        "their content shows, whatever the Content-Type said)."
    )
    scope_unit_id: uuid.UUID | None
    scope_unit_code: str | None
    counts: SyncCounts
    unit_counts: UnitCounts
    rows_total: int = Field(description="Member rows in the body.")
    scope_members: int = Field(
        description="Active and exempt members in the scope at preview (the base of the "
        "mass-deactivation guard; snapshots only)."
    )
    mass_deactivation: bool = Field(
        description="Applying would deactivate more than 20% of `scope_members`."
    )
    allow_mass_deactivation: bool
    skip_rejected: bool
    encoding: str | None = Field(description="How the body's text was read (CSV).")
    ignored_columns: list[str] = Field(
        description="CSV/spreadsheet columns that were not recognised."
    )
    sheet: str | None = Field(
        description="The worksheet that was read (spreadsheets: the first visible one).",
    )
    failure_code: str | None
    failure_detail: str | None
    actor_type: str
    actor_id: uuid.UUID | None
    applied_by_type: str | None
    applied_by_id: uuid.UUID | None
    created_at: datetime
    applied_at: datetime | None
    version: int


class RosterSyncRead(RosterSyncSummary):
    errors: list[RowError] = Field(description="The first 100 rejected rows, by row number.")
    errors_truncated: bool


class ChangeError(Output):
    code: str
    field: str | None
    detail: str | None


class RosterChangeRead(Output):
    """One member row of the diff. `changes` maps each changed field to `[before,
    after]` (a new member: `[null, value]` for every value it gets; `unit_code` stands
    for the unit)."""

    row: int
    action: RowAction
    external_id: str | None
    member_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    unit_code: str | None
    full_name: str | None
    changes: dict[str, list[Any]]
    error: ChangeError | None


class RosterUnitChangeRead(Output):
    row: int
    action: UnitAction
    code: str | None
    unit_id: uuid.UUID | None
    parent_code: str | None
    name: str | None
    level: str | None
    changes: dict[str, list[Any]]
    error: ChangeError | None
