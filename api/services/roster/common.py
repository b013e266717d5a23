"""What the steps of a roster sync share: the tables, the fields a row may change and
the scope a sync is placed in. No FastAPI here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast as typed

from sqlalchemy import ColumnElement, Row, Table, and_

from api.core.enums import MemberStatus, RowAction, SyncMode, UnitAction
from api.models import Member, RosterSync, RosterSyncRow, RosterSyncUnit, Unit, User
from api.services.authz import Action, PathColumn, Principal, in_subtree, scope_filter

BATCH = 5000
GUARD_RATIO = 0.2
ERRORS_SHOWN = 100
ON_ROSTER = (MemberStatus.active.value, MemberStatus.exempt.value)
FIELDS = (
    "full_name",
    "unit_code",
    "membership",
    "status",
    "position",
    "is_leader",
    "email",
    "phone",
)
FIELD_BITS = {name: 1 << i for i, name in enumerate(FIELDS)}
CHANGING = (RowAction.update.value, RowAction.move.value, RowAction.reactivate.value)
COUNT_KEYS = {
    RowAction.create: "created",
    RowAction.update: "updated",
    RowAction.move: "moved",
    RowAction.deactivate: "deactivated",
    RowAction.reactivate: "reactivated",
    RowAction.unchanged: "unchanged",
    RowAction.rejected: "rejected",
}
UNIT_COUNT_KEYS = {
    UnitAction.create: "units_created",
    UnitAction.update: "units_updated",
    UnitAction.unchanged: "units_unchanged",
    UnitAction.rejected: "units_rejected",
}

SYNCS, SYNC_ROWS, SYNC_UNITS, MEMBERS, UNITS, USERS = (
    typed(Table, model.__table__)
    for model in (RosterSync, RosterSyncRow, RosterSyncUnit, Member, Unit, User)
)


@dataclass(frozen=True)
class Scope:
    unit_id: uuid.UUID | None
    path: str | None  # the subtree rows must fall in (None: the caller's whole scope)


def in_scope(principal: Principal, scope: Scope, path: PathColumn) -> ColumnElement[bool]:
    """`path` (a units.path expression) lies in the caller's sync scope and, when the
    sync names a scope unit, in its subtree."""
    clause = scope_filter(principal, Action.ROSTER_SYNC, path)
    if scope.path is not None:
        clause = and_(clause, in_subtree(path, scope.path))
    return clause


# A roster_syncs row as the reads select it (with its scope unit's code and path); its
# columns are read by name.
SyncRow = Row[*tuple[object, ...]]


def is_mass(row: SyncRow) -> bool:
    """A snapshot whose deactivations exceed GUARD_RATIO of its scope's members."""
    return bool(row.mode == SyncMode.snapshot and row.deactivated > GUARD_RATIO * row.scope_members)
