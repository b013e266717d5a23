from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from api.core.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from api.deps import PrincipalDep, SessionDep
from api.routers.common import LIST_ERRORS, authed_router
from api.schemas.audit import AuditEventRead
from api.schemas.common import Rfc3339Datetime
from api.services import audit

router = authed_router("/api/v1/audit-events", "audit")


@router.get("", name="list", response_model=Page[AuditEventRead], responses=LIST_ERRORS)
async def list_audit_events(
    principal: PrincipalDep,
    session: SessionDep,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[
        Rfc3339Datetime | None, Query(alias="from", description="Inclusive lower bound (RFC 3339).")
    ] = None,
    to: Annotated[
        Rfc3339Datetime | None, Query(description="Exclusive upper bound (RFC 3339).")
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[AuditEventRead]:
    """Newest first. Admins see everything; managers the events placed in their subtree."""
    items, next_cursor = await audit.list_events(
        session,
        principal,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor_id,
        action=action,
        since=from_,
        until=to,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[AuditEventRead.model_validate(e) for e in items], next_cursor=next_cursor)
