from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from api.core.enums import UnitLevel, UnitStatus
from api.core.errors import problem_responses
from api.core.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from api.deps import IfMatchDep, PrincipalDep, SessionDep
from api.loaders import VisibleUnit
from api.routers.common import (
    CREATE_ERRORS,
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    authed_router,
    set_etag,
)
from api.schemas.units import UnitCreate, UnitMerge, UnitRead, UnitTree, UnitUpdate
from api.services import units

router = authed_router("/api/v1/units", "units")


@router.get("", name="list", response_model=Page[UnitRead], responses=LIST_ERRORS)
async def list_units(
    principal: PrincipalDep,
    session: SessionDep,
    parent_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    level: UnitLevel | None = None,
    status: UnitStatus | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[UnitRead]:
    """Units in the caller's scope, ordered by code."""
    items, next_cursor = await units.list_units(
        session,
        principal,
        parent_id=parent_id,
        q=q,
        level=level,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[UnitRead.model_validate(u) for u in items], next_cursor=next_cursor)


@router.post("", name="create", status_code=201, response_model=UnitRead, responses=CREATE_ERRORS)
async def create_unit(
    body: UnitCreate, principal: PrincipalDep, session: SessionDep, response: Response
) -> UnitRead:
    unit = await units.create(session, principal, body)
    set_etag(response, unit.version)
    response.headers["Location"] = f"/api/v1/units/{unit.id}"
    return UnitRead.model_validate(unit)


@router.get("/{unit_id}", name="get", response_model=UnitRead, responses=READ_ERRORS)
async def get_unit(seen: VisibleUnit, response: Response) -> UnitRead:
    set_etag(response, seen.unit.version)
    return UnitRead.model_validate(seen.unit)


@router.patch("/{unit_id}", name="update", response_model=UnitRead, responses=WRITE_ERRORS)
async def update_unit(
    body: UnitUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleUnit,
    response: Response,
) -> UnitRead:
    """Rename, reconfigure or move (`parent_id`) a unit; a move takes its subtree along."""
    unit = await units.update(session, principal, seen.unit, body, if_match)
    set_etag(response, unit.version)
    return UnitRead.model_validate(unit)


@router.get("/{unit_id}/tree", name="tree", response_model=UnitTree, responses=READ_ERRORS)
async def unit_tree(
    seen: VisibleUnit,
    session: SessionDep,
    depth: Annotated[int, Query(ge=0, le=6, description="Levels below the unit (0–6).")] = 2,
) -> UnitTree:
    root = seen.unit
    rows = await units.subtree(session, root, depth)
    nodes = {u.id: UnitTree.model_validate(u) for u in rows}
    for u in rows:
        if u.id != root.id and u.parent_id in nodes:
            nodes[u.parent_id].children.append(nodes[u.id])
    return nodes[root.id]


@router.post(
    "/{unit_id}/merge",
    name="merge",
    response_model=UnitRead,
    responses=WRITE_ERRORS,
)
async def merge_unit(
    body: UnitMerge,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleUnit,
    response: Response,
) -> UnitRead:
    """Move the unit's child units and members into `into_unit_id`; the unit is dissolved."""
    unit = await units.merge(session, principal, seen.unit, body.into_unit_id, if_match)
    set_etag(response, unit.version)
    return UnitRead.model_validate(unit)


@router.post(
    "/{unit_id}/dissolve",
    name="dissolve",
    response_model=UnitRead,
    responses=problem_responses(401, 403, 404, 409, 412),
)
async def dissolve_unit(
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleUnit,
    response: Response,
) -> UnitRead:
    """Dissolve a unit that has no active child units and no active members."""
    unit = await units.dissolve(session, principal, seen.unit, if_match)
    set_etag(response, unit.version)
    return UnitRead.model_validate(unit)
