"""The audit trail: one event per mutation, added to the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import Enum

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.context import client_addr_var, request_id_var
from api.core.pagination import Order, paginate
from api.models import AuditEvent, Unit
from api.services.authz import Action, Principal, require, scope_filter

SECRET_FIELDS = frozenset(
    {
        "password",
        "password_hash",
        "client_secret",
        "secret_hash",
        "token",
        "access_token",
        "refresh_token",
    }
)
REDACTED = "[redacted]"


def plain(value: object) -> object:
    """The value as JSON stores it: enums by value, ids and times as text, secrets
    redacted; any other value as it is."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return _plain_fields(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _plain_fields(value: Mapping[str, object]) -> dict[str, object]:
    return {k: (REDACTED if k in SECRET_FIELDS else plain(v)) for k, v in value.items()}


def changed(before: Mapping[str, object], after: Mapping[str, object]) -> dict[str, list[object]]:
    """{field: [old, new]} for the fields whose value differs."""
    return {k: [plain(before.get(k)), plain(v)] for k, v in after.items() if before.get(k) != v}


def record(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    unit_id: uuid.UUID | None,
    changes: Mapping[str, object] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_type=principal.kind if principal else "system",
        actor_id=principal.id if principal else None,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        unit_id=unit_id,
        changes=_plain_fields(changes or {}),
        request_id=request_id_var.get(),
        client_addr=client_addr_var.get(),
    )
    session.add(event)
    return event


_ORDER = Order("audit", (AuditEvent.at, AuditEvent.id), descending=True)


async def list_events(
    session: AsyncSession,
    principal: Principal,
    *,
    entity_type: str | None,
    entity_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[AuditEvent], str | None]:
    """Newest first. Managers see events placed in their subtree; admins everything."""
    require(principal, Action.AUDIT_READ)
    stmt: Select[AuditEvent] = select(AuditEvent)
    if not principal.is_admin:
        stmt = stmt.join(Unit, Unit.id == AuditEvent.unit_id).where(
            scope_filter(principal, Action.AUDIT_READ, Unit.path)
        )
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if actor_id:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    return await paginate(session, stmt, order=_ORDER, cursor=cursor, limit=limit)
