from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Form, Request, Response

from api.core.errors import AppError, BadRequest, Unprocessable, problem_responses
from api.core.i18n import msg
from api.deps import PrincipalDep, SessionDep
from api.routers.common import authed_router, public_router
from api.schemas.auth import MeAuth, TokenResponse
from api.schemas.users import GrantOut
from api.services import auth

router = public_router("/api/v1/auth", "auth")
me_router = authed_router("/api/v1/auth", "auth")


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    cid, sep, secret = decoded.partition(":")
    return (cid, secret) if sep else None


def _no_nul(loc: list[str], value: str | None) -> None:
    """Identifiers looked up in the database must not hold NUL: PostgreSQL text cannot
    store or compare it (a 500 otherwise). Secrets are only hashed, so they may."""
    if value is not None and "\x00" in value:
        raise Unprocessable(
            "validation_failed",
            msg("auth.nul_in_parameter"),
            extra={"errors": [{"loc": loc, "msg": "NUL character", "type": "value_error"}]},
        )


def _missing(field: str) -> BadRequest:
    err = BadRequest("invalid_grant", msg("auth.missing_field", field=field))
    err.extra = {"error": "invalid_request"}
    return err


@router.post(
    "/token",
    name="token",
    response_model=TokenResponse,
    responses=problem_responses(400, 401, 413, 422, 429),
    summary="Obtain tokens (password, client_credentials or refresh_token grant)",
)
async def token(
    request: Request,
    response: Response,
    session: SessionDep,
    grant_type: Annotated[str, Form(max_length=64)],
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
    refresh_token: Annotated[str | None, Form(max_length=4096)] = None,
    scope: Annotated[str | None, Form(max_length=256)] = None,
) -> TokenResponse:
    response.headers["Cache-Control"] = "no-store"
    addr = request.client.host if request.client else "unknown"
    _no_nul(["body", "username"], username)
    _no_nul(["body", "client_id"], client_id)
    if grant_type == "password":
        if not username:
            raise _missing("username")
        issued = await auth.password_grant(session, username, password or "", addr)
    elif grant_type == "client_credentials":
        creds = (client_id, client_secret) if client_id else _basic_credentials(request)
        if not creds or not creds[0]:
            raise _missing("client_id")
        _no_nul(["header", "Authorization"], creds[0])
        try:
            issued = await auth.client_credentials_grant(session, creds[0], creds[1] or "", addr)
        except AppError as exc:
            if exc.code == "invalid_client" and not client_id:
                # RFC 6749 §5.2: answer a failed HTTP Basic client login with the Basic scheme.
                exc.headers["WWW-Authenticate"] = 'Basic realm="qd85"'
            raise
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise _missing("refresh_token")
        issued = await auth.refresh_grant(session, refresh_token)
    else:
        # The value is not echoed: a problem's detail is shown to people, never the input.
        err = BadRequest(
            "unsupported_grant_type",
            msg("auth.unsupported_grant_type"),
        )
        err.extra = {"error": "unsupported_grant_type"}
        raise err
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        scope=issued.scope,
    )


@router.post(
    "/revoke",
    name="revoke",
    status_code=200,
    responses=problem_responses(413, 422),
    summary="Revoke a refresh token (logout); unknown tokens are accepted silently (RFC 7009)",
)
async def revoke(
    session: SessionDep,
    token: Annotated[str, Form(min_length=1, max_length=4096)],
    token_type_hint: Annotated[str | None, Form(max_length=32)] = None,
) -> dict[str, str]:
    await auth.revoke(session, token)
    return {}


@me_router.get("/me", name="me", response_model=MeAuth, responses=problem_responses(401))
async def me(principal: PrincipalDep) -> MeAuth:
    return MeAuth(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        member_id=principal.member_id,
        roles=sorted(principal.roles),
        grants=[GrantOut(role=g.role, unit_id=g.unit_id) for g in principal.grants],
    )
