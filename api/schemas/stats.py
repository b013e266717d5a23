"""Wire types of the statistics. Every definition below is exact: each count equals the
length of the corresponding filtered list."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.core.enums import Platform, SeriesInterval, SeriesKey

AS_OF = (
    "When the read began: every counted figure includes every write answered (2xx) "
    "before it. `median_hours_to_resolve` is refreshed by the statistics folder and may lag "
    "by `QD85_MEDIAN_REFRESH_SECONDS` plus its interval and one fold (about 7 s with the "
    "defaults, 5 s and `QD85_FOLD_INTERVAL_SECONDS=1`)."
)


class ComplianceFigures(BaseModel):
    members_active: int = Field(description="Members with status `active`.")
    leaders_active: int = Field(description="Active members with `is_leader`.")
    members_declared: int = Field(
        description="Active members whose `declaration` is not `not_declared`."
    )
    declaration_rate: float | None = Field(
        description="members_declared / members_active (0–1); null when there are no active "
        "members."
    )
    members_with_accounts: int = Field(
        description="Active members with at least one active declaration (an account in "
        "`pending`, `verified` or `compromised`)."
    )
    leaders_with_accounts: int = Field(description="Active leaders with an active declaration.")
    accounts_total: int = Field(
        description="Active declarations (`pending`, `verified`, `compromised`) of the members "
        "of the subtree, whatever the member's status."
    )
    accounts_verified: int = Field(description="Accounts with status `verified`.")
    accounts_pending: int = Field(description="Accounts with status `pending`.")
    accounts_by_platform: dict[Platform, int] = Field(
        description="accounts_total by platform (every platform listed, zeros included)."
    )
    ack_rate: float | None = Field(
        description="Acknowledgements of the current revisions of published documents "
        "requiring acknowledgement, by active members they address / (active members "
        "addressed × those documents), summed over the subtree's units; 0–1, null when "
        "nothing is expected."
    )
    acks_done: int = Field(description="The numerator of ack_rate.")
    acks_expected: int = Field(description="The denominator of ack_rate.")
    reports_filed: int = Field(
        description="Reports filed by members of the subtree (the reporter's unit at filing), "
        "duplicates and withdrawn ones included; within from/to when given (by filing time)."
    )
    reports_open: int = Field(description="Of those: `submitted`, `in_review` or `escalated`.")
    reports_overdue: int = Field(description="Of those open: past `due_at` now.")
    reports_resolved: int = Field(description="Of those: `resolved`.")
    median_hours_to_resolve: float | None = Field(
        description="Median of (closed_at − created_at) in hours over the resolved ones; "
        "null when none."
    )


class ComplianceRow(ComplianceFigures):
    unit_id: uuid.UUID | None = Field(description="null on the total row")
    unit_code: str | None
    unit_name: str = Field(description="The unit's name; 'Tổng cộng' on the total row.")
    is_total: bool


class ComplianceReport(BaseModel):
    unit_id: uuid.UUID
    group_by: str
    report_from: datetime | None = Field(alias="from")
    report_to: datetime | None = Field(alias="to")
    generated_at: datetime
    as_of: datetime = Field(description=AS_OF)
    rows: list[ComplianceRow] = Field(
        description="One row per child unit (name order) and a last total row for the unit's "
        "whole subtree; with group_by=self only the unit's row."
    )

    model_config = {"populate_by_name": True}


class SeriesPoint(BaseModel):
    period_start: datetime = Field(
        description="Start of the day/week (Monday)/month in Vietnam time (UTC+7), as UTC."
    )
    key: str = Field(description="The category, platform or status.")
    count: int


class ReportSeries(BaseModel):
    unit_id: uuid.UUID
    interval: SeriesInterval
    by: SeriesKey
    series_from: datetime = Field(alias="from")
    series_to: datetime = Field(alias="to")
    as_of: datetime = Field(description=AS_OF)
    points: list[SeriesPoint] = Field(
        description="Reports filed in the subtree per period and key; periods without "
        "reports are omitted. The current status is counted for by=status."
    )

    model_config = {"populate_by_name": True}


class DocumentAckRow(BaseModel):
    unit_id: uuid.UUID | None
    unit_code: str | None
    unit_name: str
    is_total: bool
    addressed: int = Field(
        description="Active members of the unit's subtree the document addresses."
    )
    acknowledged: int = Field(
        description="Of those, members who acknowledged the current revision."
    )
    ack_rate: float | None = Field(description="acknowledged / addressed; null when 0 addressed.")


class DocumentAckStats(BaseModel):
    document_id: uuid.UUID
    revision: int
    unit_id: uuid.UUID
    as_of: datetime = Field(description=AS_OF)
    rows: list[DocumentAckRow]
