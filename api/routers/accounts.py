from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body, Query, Response
from fastapi.openapi.models import Example

from api.core.enums import AccountStatus, Platform
from api.core.errors import problem_responses
from api.core.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from api.deps import IfMatchDep, PrincipalDep, SessionDep, etag_of
from api.idempotency import IdempotencyDep
from api.loaders import VisibleAccount, VisibleMember
from api.routers.common import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, authed_router, set_etag
from api.schemas.accounts import (
    AccountCreate,
    AccountRead,
    AccountUpdate,
    CloseIn,
    DeclarationIn,
    DeclarationRead,
    RejectNote,
    ReviewNote,
)
from api.services import accounts, members

router = authed_router("/api/v1", "accounts")
DECLARE_ERRORS = problem_responses(401, 403, 404, 409, 413, 422)
ACTION_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)
_NOTE: dict[str, Example] = {"note": {"summary": "with a note", "value": {"note": "Đã đối chiếu"}}}
_CLOSE: dict[str, Example] = {
    "close": {"summary": "last account, now none", "value": {"declare_none": True}}
}


@router.post(
    "/members/{member_id}/accounts",
    name="declare",
    status_code=201,
    response_model=AccountRead,
    responses={
        200: {"model": AccountRead, "description": "The member already holds this account"},
        **DECLARE_ERRORS,
    },
)
async def declare_account(
    member_id: uuid.UUID,
    body: AccountCreate,
    principal: PrincipalDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> Response:
    """Declare a page or account (the member themself, or a manager in scope). The URL or
    handle is canonicalised per platform; a second active declaration of one account by
    another member is 409 `duplicate_account`; the same member gets the existing one (200).
    Honours `Idempotency-Key`."""
    if (replay := await idem.replay(body)) is not None:
        return replay
    # Loaded here, not by VisibleMember: a replay answers first, as it always has.
    seen = await members.get_visible(session, principal, member_id)
    account, created = await accounts.declare(session, principal, seen, body)
    headers = {"Location": f"/api/v1/accounts/{account.id}", "ETag": etag_of(account.version)}
    return await idem.respond(201 if created else 200, AccountRead.model_validate(account), headers)


@router.get(
    "/members/{member_id}/accounts",
    name="list_for_member",
    response_model=Page[AccountRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_member_accounts(
    seen: VisibleMember,
    principal: PrincipalDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[AccountRead]:
    """The member's accounts (every status), oldest first."""
    items, next_cursor = await accounts.list_for_member(
        session, principal, seen, cursor=cursor, limit=limit
    )
    return Page(items=[AccountRead.model_validate(a) for a in items], next_cursor=next_cursor)


@router.post(
    "/members/{member_id}/declaration",
    name="declaration",
    response_model=DeclarationRead,
    responses=DECLARE_ERRORS,
)
async def declare_state(
    member_id: uuid.UUID,
    body: DeclarationIn,
    principal: PrincipalDep,
    session: SessionDep,
    idem: IdempotencyDep,
) -> Response:
    """`{"has_accounts": false}` records "I have no personal pages" (`declared_none`); 409
    `declaration_conflict` while active accounts remain. `true` confirms the declared
    accounts (409 when there are none). Honours `Idempotency-Key`."""
    if (replay := await idem.replay(body)) is not None:
        return replay
    # Loaded here, not by VisibleMember: a replay answers first, as it always has.
    seen = await members.get_visible(session, principal, member_id)
    member = seen.member
    active = await accounts.set_declaration(session, principal, seen, body.has_accounts)
    out = DeclarationRead(
        member_id=member.id,
        declaration=member.declaration,
        declared_at=member.declared_at,
        active_accounts=active,
    )
    return await idem.respond(200, out)


@router.get("/accounts", name="list", response_model=Page[AccountRead], responses=LIST_ERRORS)
async def list_accounts(
    principal: PrincipalDep,
    session: SessionDep,
    unit_id: Annotated[
        uuid.UUID | None, Query(description="Members of this unit and its subtree.")
    ] = None,
    platform: Platform | None = None,
    status: AccountStatus | None = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Part of the member's name or the account key."),
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[AccountRead]:
    """Accounts of the members in the caller's scope, oldest declaration first."""
    items, next_cursor = await accounts.list_accounts(
        session,
        principal,
        unit_id=unit_id,
        platform=platform,
        status=status,
        q=q,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[AccountRead.model_validate(a) for a in items], next_cursor=next_cursor)


@router.get("/accounts/{account_id}", name="get", response_model=AccountRead, responses=READ_ERRORS)
async def get_account(seen: VisibleAccount, response: Response) -> AccountRead:
    set_etag(response, seen.account.version)
    return AccountRead.model_validate(seen.account)


@router.patch(
    "/accounts/{account_id}", name="update", response_model=AccountRead, responses=WRITE_ERRORS
)
async def update_account(
    body: AccountUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleAccount,
    response: Response,
) -> AccountRead:
    """Change `display_name`, `kind` or `purpose` (owner or manager). Status changes are
    the actions below; sending `status` here is 422."""
    account = await accounts.update(session, principal, seen, body, if_match)
    set_etag(response, account.version)
    return AccountRead.model_validate(account)


async def _act(
    session: SessionDep,
    principal: PrincipalDep,
    seen: accounts.Visible,
    action: str,
    if_match: int | None,
    response: Response,
    note: str | None = None,
    declare_none: bool = False,
) -> AccountRead:
    account = await accounts.transition(
        session,
        principal,
        seen,
        action,
        note=note,
        declare_none=declare_none,
        expected_version=if_match,
    )
    set_etag(response, account.version)
    return AccountRead.model_validate(account)


@router.post(
    "/accounts/{account_id}/verify",
    name="verify",
    response_model=AccountRead,
    responses=ACTION_ERRORS,
)
async def verify_account(
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleAccount,
    response: Response,
    body: Annotated[ReviewNote | None, Body(openapi_examples=_NOTE)] = None,
) -> AccountRead:
    """`pending` → `verified` (a manager in scope; never the owner)."""
    return await _act(
        session, principal, seen, "verify", if_match, response, body.note if body else None
    )


@router.post(
    "/accounts/{account_id}/reject",
    name="reject",
    response_model=AccountRead,
    responses=ACTION_ERRORS,
)
async def reject_account(
    body: RejectNote,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleAccount,
    response: Response,
) -> AccountRead:
    """`pending` → `rejected`, with a note (a manager in scope; never the owner)."""
    return await _act(session, principal, seen, "reject", if_match, response, body.note)


@router.post(
    "/accounts/{account_id}/close",
    name="close",
    response_model=AccountRead,
    responses=ACTION_ERRORS,
)
async def close_account(
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleAccount,
    response: Response,
    body: Annotated[CloseIn | None, Body(openapi_examples=_CLOSE)] = None,
) -> AccountRead:
    """The page was closed (owner or manager). Closing the member's last active account
    returns them to `not_declared`, or `declared_none` with `declare_none: true`."""
    body = body or CloseIn()
    return await _act(
        session, principal, seen, "close", if_match, response, body.note, body.declare_none
    )


@router.post(
    "/accounts/{account_id}/compromised",
    name="compromised",
    response_model=AccountRead,
    responses=ACTION_ERRORS,
)
async def mark_compromised(
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    seen: VisibleAccount,
    response: Response,
    body: Annotated[ReviewNote | None, Body(openapi_examples=_NOTE)] = None,
) -> AccountRead:
    """The account was reported hacked (owner or manager); it stays the member's claim."""
    return await _act(
        session,
        principal,
        seen,
        "compromised",
        if_match,
        response,
        body.note if body else None,
    )
