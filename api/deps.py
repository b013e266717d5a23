"""FastAPI dependencies: the session (committed before the response is sent), the
authenticated principal, If-Match, a multipart upload. The principal is loaded by
api/services/identity.py (services load principals too); here the bearer token is
checked and the loaded principal cached (the cache and when it is forgotten:
api/services/identity.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.core.config import get_settings
from api.core.db import db
from api.core.errors import PreconditionFailed, Unauthorized, Unprocessable
from api.core.i18n import Message, msg
from api.core.security import InvalidToken, decode_access_token
from api.core.versioning import check_version
from api.services.authz import Principal
from api.services.files import UnsupportedFileType
from api.services.identity import load_client_principal, load_user_principal, principal_cache

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, closed as soon as the handler returns (scope="function")
    so its connection is back in the pool before the response is sent. Writes commit
    here, after the handler and before the response: a client never sees a 2xx for a
    write that did not commit. Any exception rolls back. Safe methods get an autocommit
    session (no BEGIN/COMMIT round trips)."""
    read_only = request.method in SAFE_METHODS
    maker = db.read_sessionmaker if read_only else db.sessionmaker
    async with maker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        if not read_only and session.in_transaction():
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

_INVALID = (
    "invalid_token",
    msg("http.invalid_token"),
)


async def get_principal(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    if not token:
        raise Unauthorized("unauthorized", msg("http.bearer_token_required"))
    try:
        claims = decode_access_token(token)
    except InvalidToken as exc:
        raise Unauthorized(*_INVALID) from exc
    key = (claims.kind, claims.sub, claims.token_version)
    principal = principal_cache.get(key)
    if principal is None:
        loader = load_user_principal if claims.kind == "user" else load_client_principal
        principal = await loader(session, claims.sub, claims.token_version)
        if principal is None:
            raise Unauthorized(*_INVALID)
        principal_cache.put(key, principal, get_settings().principal_cache_seconds)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]

_ETAG_RE = re.compile(r'^\s*(?:W/)?"(\d{1,12})"\s*$')


def etag_of(version: int) -> str:
    return f'"{version}"'


def parse_if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match", description='ETag from a previous read, e.g. `"3"`; 412 when stale.'
        ),
    ] = None,
) -> int | None:
    """The version the client expects; None when it sent no If-Match (or `*`)."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG_RE.match(if_match)
    if match is None:
        raise PreconditionFailed(
            "version_mismatch",
            msg("http.if_match_mismatch"),
        )
    return int(match.group(1))


IfMatchDep = Annotated[int | None, Depends(parse_if_match)]


# --- a multipart upload ------------------------------------------------------------------


def _bad_upload(message: Message) -> Unprocessable:
    return Unprocessable(
        "validation_failed",
        message,
        extra={
            "errors": [
                {"loc": ["body", "file"], "msg": message.render("en"), "type": "value_error"}
            ]
        },
    )


async def _read_form(request: Request) -> FormData:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedFileType(
            "unsupported_media_type",
            msg("http.upload_not_multipart"),
        )
    try:
        return await request.form(max_files=1, max_fields=5)
    except StarletteHTTPException as exc:
        if exc.status_code != 400:
            raise  # 413 from the body limit
        raise _bad_upload(msg("http.upload_malformed")) from exc


def _one_file(form: FormData) -> UploadFile:
    files = form.getlist("file")
    if len(files) != 1 or not isinstance(files[0], UploadFile):
        raise _bad_upload(msg("http.upload_no_file"))
    return files[0]


@dataclass(frozen=True, slots=True)
class MultipartFile:
    """The one file of a multipart/form-data body (field `file`), parsed only when the
    handler opens it: the caller's right to the resource and its If-Match are checked
    first, so a refused upload is answered before its body is read. 415 for another
    content type, 422 for a malformed body or anything but one file in `file`."""

    request: Request

    @asynccontextmanager
    async def open(self) -> AsyncIterator[UploadFile]:
        form = await _read_form(self.request)
        try:
            yield _one_file(form)
        finally:
            await form.close()


def multipart_file(request: Request) -> MultipartFile:
    return MultipartFile(request)


MultipartFileDep = Annotated[MultipartFile, Depends(multipart_file)]

__all__ = [
    "IfMatchDep",
    "MultipartFileDep",
    "PrincipalDep",
    "SessionDep",
    "check_version",
    "etag_of",
]
