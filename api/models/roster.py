"""Roster syncs: one row per sync (the evidence: who, when, options, counts, outcome) and
its persisted diff, one row per body row (members and, for snapshots, units).

The diff rows are written once, set-based, when the sync is previewed, and are what
`apply` executes: `member_id` of a `create` row is chosen at preview, so applying is
exactly the previewed diff and applying twice cannot create twice. They are not
changed afterwards (they are the evidence of what was planned); `GET …/changes` pages
them by `row_no`. `sync_id`, `member_id` and `unit_id` of the member rows carry no foreign
keys: the rows are written only by the service, in the transaction that writes their
sync, and an insert of 100,000 of them should not pay 100,000 key checks (a quarter of a
second).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base, TimestampMixin, binary_string, new_id
from api.core.enums import RowAction, SyncMode, SyncStatus, UnitAction
from api.models.types import enum_column


class RosterSync(TimestampMixin, Base):
    """One sync request: kept forever as evidence. `fingerprint` is the state of the
    scope's roster at preview (count, sum of versions, latest change), compared again
    at apply (409 `roster_changed` when it moved)."""

    __tablename__ = "roster_syncs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    mode: Mapped[SyncMode] = mapped_column(enum_column(SyncMode, "sync_mode"))
    status: Mapped[SyncStatus] = mapped_column(enum_column(SyncStatus, "sync_status"))
    source: Mapped[str] = mapped_column(String(16))
    scope_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rows_total: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    moved: Mapped[int] = mapped_column(default=0)
    deactivated: Mapped[int] = mapped_column(default=0)
    reactivated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    units_created: Mapped[int] = mapped_column(default=0)
    units_updated: Mapped[int] = mapped_column(default=0)
    units_unchanged: Mapped[int] = mapped_column(default=0)
    units_rejected: Mapped[int] = mapped_column(default=0)
    scope_members: Mapped[int] = mapped_column(default=0)
    fingerprint: Mapped[str | None] = mapped_column(String(128))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_detail: Mapped[str | None] = mapped_column(String(1000))
    applied_at: Mapped[datetime | None] = mapped_column()
    applied_by_type: Mapped[str | None] = mapped_column(String(16))
    applied_by_id: Mapped[uuid.UUID | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (Index("ix_roster_syncs_created_at_id", "created_at", "id"),)


class RosterSyncRow(Base):
    """One member row of a sync's diff. Values are the member as it will be after the
    sync (the row's fields, or the member's current ones where the body left a field
    out); `before_*` the member as it was, for rows that change it; `changed` a bit set
    of the fields that differ (see api.services.roster.FIELD_BITS)."""

    __tablename__ = "roster_sync_rows"

    sync_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    row_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    action: Mapped[RowAction] = mapped_column(enum_column(RowAction, "roster_row_action"))
    external_id: Mapped[str | None] = mapped_column(String(64))
    member_id: Mapped[uuid.UUID | None] = mapped_column()
    member_version: Mapped[int | None] = mapped_column()
    unit_id: Mapped[uuid.UUID | None] = mapped_column()
    unit_code: Mapped[str | None] = mapped_column(String(64))
    full_name: Mapped[str | None] = mapped_column(String(200))
    membership: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[str | None] = mapped_column(String(200))
    is_leader: Mapped[bool | None] = mapped_column(Boolean)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    changed: Mapped[int] = mapped_column(default=0)
    before_full_name: Mapped[str | None] = mapped_column(String(200))
    before_unit_id: Mapped[uuid.UUID | None] = mapped_column()
    before_membership: Mapped[str | None] = mapped_column(String(32))
    before_status: Mapped[str | None] = mapped_column(String(32))
    before_position: Mapped[str | None] = mapped_column(String(200))
    before_is_leader: Mapped[bool | None] = mapped_column(Boolean)
    before_email: Mapped[str | None] = mapped_column(String(254))
    before_phone: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_field: Mapped[str | None] = mapped_column(String(32))
    error_detail: Mapped[str | None] = mapped_column(String(500))


class RosterSyncUnit(Base):
    """One unit row of a snapshot (`units` in a JSON body). New units get their id and
    path at preview; apply inserts them parents first."""

    __tablename__ = "roster_sync_units"

    sync_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("roster_syncs.id", ondelete="CASCADE"), primary_key=True
    )
    row_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    action: Mapped[UnitAction | None] = mapped_column(enum_column(UnitAction, "roster_unit_action"))
    code: Mapped[str | None] = mapped_column(binary_string(64))
    name: Mapped[str | None] = mapped_column(String(300))
    name_search: Mapped[str | None] = mapped_column(String(300))
    level: Mapped[str | None] = mapped_column(String(32))
    parent_code: Mapped[str | None] = mapped_column(binary_string(64))
    id_hex: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[uuid.UUID | None] = mapped_column()
    unit_version: Mapped[int | None] = mapped_column()
    parent_id: Mapped[uuid.UUID | None] = mapped_column()
    path: Mapped[str | None] = mapped_column(binary_string(400))
    depth: Mapped[int | None] = mapped_column()
    before_name: Mapped[str | None] = mapped_column(String(300))
    before_level: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_field: Mapped[str | None] = mapped_column(String(32))
    error_detail: Mapped[str | None] = mapped_column(String(500))
