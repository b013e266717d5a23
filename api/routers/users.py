from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from api.core.errors import problem_responses
from api.core.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from api.deps import IfMatchDep, PrincipalDep, SessionDep
from api.loaders import VisibleUser
from api.models import Grant, User
from api.routers.common import (
    CREATE_ERRORS,
    LIST_ERRORS,
    WRITE_ERRORS,
    authed_router,
    set_etag,
)
from api.schemas.users import GrantOut, UserCreate, UserRead, UserUpdate
from api.services import users

router = authed_router("/api/v1/users", "users")
# Unlike scoped reads (404 only), reading a user needs the user.manage action: 403 too.
GET_ERRORS = problem_responses(401, 403, 404, 422)


def _read(user: User, grants: list[Grant]) -> UserRead:
    return UserRead(
        id=user.id,
        username=user.username,
        member_id=user.member_id,
        active=user.active,
        grants=[GrantOut.model_validate(g) for g in grants],
        version=user.version,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


@router.get("", name="list", response_model=Page[UserRead], responses=LIST_ERRORS)
async def list_users(
    principal: PrincipalDep,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=64, description="Part of the username.")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[UserRead]:
    """Admins: every user. Managers: users linked to members in their scope."""
    items, next_cursor = await users.list_users(session, principal, q=q, cursor=cursor, limit=limit)
    grants = await users.grants_of(session, [u.id for u in items])
    return Page(items=[_read(u, grants[u.id]) for u in items], next_cursor=next_cursor)


@router.post("", name="create", status_code=201, response_model=UserRead, responses=CREATE_ERRORS)
async def create_user(
    body: UserCreate, principal: PrincipalDep, session: SessionDep, response: Response
) -> UserRead:
    """Admins create any user; managers create logins for members in their scope (no grants).
    The password is never returned."""
    user, grants = await users.create_user(session, principal, body)
    set_etag(response, user.version)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return _read(user, grants)


@router.get("/{user_id}", name="get", response_model=UserRead, responses=GET_ERRORS)
async def get_user(seen: VisibleUser, session: SessionDep, response: Response) -> UserRead:
    user = seen.user
    set_etag(response, user.version)
    return _read(user, (await users.grants_of(session, [user.id]))[user.id])


@router.patch("/{user_id}", name="update", response_model=UserRead, responses=WRITE_ERRORS)
async def update_user(
    body: UserUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleUser,
    response: Response,
) -> UserRead:
    """Change `active`, `password` or `grants`; each ends the user's outstanding tokens."""
    user, grants = await users.update_user(session, principal, seen.user, body, if_match)
    set_etag(response, user.version)
    return _read(user, grants)
