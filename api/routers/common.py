"""Router helpers: the authenticated router factory and documented error responses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from api.core.errors import problem_responses
from api.deps import etag_of, get_principal

READ_ERRORS = problem_responses(401, 404, 422)
LIST_ERRORS = problem_responses(401, 403, 422)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)
CREATE_ERRORS = problem_responses(401, 403, 409, 413, 422)


def authed_router(prefix: str, tag: str, **kwargs: Any) -> APIRouter:
    """Every route on this router requires a valid bearer token."""
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        dependencies=[Depends(get_principal)],
        **kwargs,
    )


def public_router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(prefix=prefix, tags=[tag])


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_of(version)
