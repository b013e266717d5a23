from __future__ import annotations

import uuid

from fastapi import Response

from api.core.errors import problem_responses
from api.core.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from api.deps import PrincipalDep, SessionDep
from api.routers.common import CREATE_ERRORS, LIST_ERRORS, authed_router
from api.schemas.users import ClientCreate, ClientCreated, ClientRead
from api.services import users

router = authed_router("/api/v1/clients", "clients")
ADMIN_ERRORS = problem_responses(401, 403, 404, 409)


@router.get("", name="list", response_model=Page[ClientRead], responses=LIST_ERRORS)
async def list_clients(
    principal: PrincipalDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[ClientRead]:
    """API clients (admins only)."""
    items, next_cursor = await users.list_clients(session, principal, cursor=cursor, limit=limit)
    return Page(items=[ClientRead.model_validate(c) for c in items], next_cursor=next_cursor)


@router.post(
    "", name="create", status_code=201, response_model=ClientCreated, responses=CREATE_ERRORS
)
async def create_client(
    body: ClientCreate, principal: PrincipalDep, session: SessionDep, response: Response
) -> ClientCreated:
    """Create a partner or analyst client. `client_secret` is shown only in this response."""
    client, secret = await users.create_client(session, principal, body)
    response.headers["Location"] = f"/api/v1/clients/{client.id}"
    response.headers["Cache-Control"] = "no-store"
    return ClientCreated.model_validate(
        {**ClientRead.model_validate(client).model_dump(), "client_secret": secret}
    )


@router.get("/{client_id}", name="get", response_model=ClientRead, responses=ADMIN_ERRORS)
async def get_client(
    client_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> ClientRead:
    return ClientRead.model_validate(await users.get_client(session, principal, client_id))


@router.post(
    "/{client_id}/rotate-secret",
    name="rotate_secret",
    response_model=ClientCreated,
    responses=ADMIN_ERRORS,
)
async def rotate_secret(
    client_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, response: Response
) -> ClientCreated:
    """Issue a new secret (shown once); the old secret and its tokens stop working."""
    client = await users.get_client(session, principal, client_id)
    secret = await users.rotate_client_secret(session, principal, client)
    response.headers["Cache-Control"] = "no-store"
    return ClientCreated.model_validate(
        {**ClientRead.model_validate(client).model_dump(), "client_secret": secret}
    )


@router.delete("/{client_id}", name="revoke", status_code=204, responses=ADMIN_ERRORS)
async def revoke_client(
    client_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> Response:
    """Revoke the client: its secret and tokens stop working. The record is kept."""
    client = await users.get_client(session, principal, client_id)
    await users.revoke_client(session, principal, client)
    return Response(status_code=204)
