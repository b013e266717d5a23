from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Query, Response

from api.core.enums import Declaration, Membership, MemberStatus
from api.core.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from api.deps import IfMatchDep, PrincipalDep, SessionDep, etag_of
from api.idempotency import IdempotencyDep
from api.loaders import VisibleMember
from api.routers.common import (
    CREATE_ERRORS,
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    authed_router,
    set_etag,
)
from api.schemas.members import MemberCreate, MemberRead, MemberUpdate
from api.services import members

router = authed_router("/api/v1/members", "members")


@router.get("", name="list", response_model=Page[MemberRead], responses=LIST_ERRORS)
async def list_members(
    principal: PrincipalDep,
    session: SessionDep,
    unit_id: Annotated[
        uuid.UUID | None, Query(description="This unit and its whole subtree.")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Name search, diacritic-insensitive.")
    ] = None,
    status: MemberStatus | None = None,
    membership: Membership | None = None,
    is_leader: bool | None = None,
    declaration: Declaration | None = None,
    sort: Annotated[
        Literal["name", "updated_at"],
        Query(
            description="`name`: Vietnamese order (given name, "
            "family name, middle name); `updated_at`: oldest change first."
        ),
    ] = "name",
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[MemberRead]:
    items, next_cursor = await members.list_members(
        session,
        principal,
        unit_id=unit_id,
        q=q,
        status=status,
        membership=membership,
        is_leader=is_leader,
        declaration=declaration,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[MemberRead.model_validate(m) for m in items], next_cursor=next_cursor)


@router.post("", name="create", status_code=201, response_model=MemberRead, responses=CREATE_ERRORS)
async def create_member(
    body: MemberCreate, principal: PrincipalDep, session: SessionDep, idem: IdempotencyDep
) -> Response:
    """Create a member. Honours `Idempotency-Key`: a retry returns the first response."""
    if (replay := await idem.replay(body)) is not None:
        return replay
    member = await members.create(session, principal, body)
    headers = {"Location": f"/api/v1/members/{member.id}", "ETag": etag_of(member.version)}
    return await idem.respond(201, MemberRead.model_validate(member), headers)


@router.get("/{member_id}", name="get", response_model=MemberRead, responses=READ_ERRORS)
async def get_member(
    member_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, response: Response
) -> MemberRead:
    member = await members.read_visible(session, principal, member_id)
    set_etag(response, member.version)
    return MemberRead.model_validate(member)


@router.patch("/{member_id}", name="update", response_model=MemberRead, responses=WRITE_ERRORS)
async def update_member(
    body: MemberUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleMember,
    response: Response,
) -> MemberRead:
    member = await members.update(session, principal, seen, body, if_match)
    set_etag(response, member.version)
    return MemberRead.model_validate(member)
