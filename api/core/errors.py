"""Errors as RFC 9457 problems with a stable machine `code` and vi/en titles."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from api.core.enums import TokenError
from api.core.i18n import Message, msg, text

log = logging.getLogger("qd85.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

# code -> status. The code is the contract; its title, for people, is the catalog's
# `title.<code>` (api/locale, in vi and en).
STATUSES: dict[str, int] = {
    "bad_request": 400,
    "invalid_json": 400,
    "invalid_grant": 400,
    "unsupported_grant_type": 400,
    "unauthorized": 401,
    "invalid_token": 401,
    "invalid_client": 401,
    "forbidden": 403,
    "not_found": 404,
    "file_missing": 404,
    "method_not_allowed": 405,
    "not_acceptable": 406,
    "conflict": 409,
    "duplicate": 409,
    "unit_cycle": 409,
    "unit_not_empty": 409,
    "unit_dissolved": 409,
    "duplicate_account": 409,
    "invalid_transition": 409,
    "declaration_conflict": 409,
    "roster_changed": 409,
    "sync_not_applicable": 409,
    "sync_has_rejected_rows": 422,
    "mass_deactivation": 422,
    "unsupported_encoding": 422,
    "invalid_file": 422,
    "document_not_published": 409,
    "report_closed": 409,
    "evidence_limit": 409,
    "invalid_url": 422,
    "invalid_account_url": 422,
    "idempotency_in_progress": 409,
    "version_mismatch": 412,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "validation_failed": 422,
    "invalid_cursor": 422,
    "idempotency_key_mismatch": 422,
    "tree_too_large": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "service_unavailable": 503,
}

# code -> (status, title vi, title en), from the catalogs.
CODES: dict[str, tuple[int, str, str]] = {
    code: (status, text(f"title.{code}", "vi"), text(f"title.{code}", "en"))
    for code, status in STATUSES.items()
}


def pick_language(accept_language: str | None) -> str:
    """'en' when the caller prefers English (by q-value), else 'vi' (the default)."""
    if not accept_language:
        return "vi"
    best, best_q = "vi", -1.0
    for part in accept_language.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower()[:2]
        if lang in ("vi", "en") and q > 0 and q > best_q:  # q=0: "not acceptable"
            best, best_q = lang, q
    return best


class AppError(Exception):
    """Base of every error a service raises; rendered as a problem by the handler.

    The detail is a catalog `Message` (`msg("units.dissolved", code=...)`), rendered in
    the request's language. The older form, the Vietnamese and English texts inline
    (`detail`, `en`), still works for what has not moved to the catalogs."""

    default_code = "bad_request"

    def __init__(
        self,
        code: str | None = None,
        detail: Message | str | None = None,
        en: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.code = code or self.default_code
        if self.code not in CODES:
            raise KeyError(f"unregistered problem code {self.code!r}")
        self.status = CODES[self.code][0]
        self.message = detail if isinstance(detail, Message) else None
        self._vi = None if isinstance(detail, Message) else detail
        self._en = en or self._vi
        self.headers = headers or {}
        self.extra = extra or {}
        if self.message is not None:
            super().__init__(self.message.render("en"))
        else:
            super().__init__(self.code if en is None else en)

    def detail(self, lang: str) -> str | None:
        """The detail in `lang` ("en", else vi), or None when there is none."""
        if self.message is not None:
            return self.message.render(lang)
        return self._en if lang == "en" else self._vi

    @property
    def detail_vi(self) -> str | None:
        return self.detail("vi")

    @property
    def detail_en(self) -> str | None:
        return self.detail("en")


class BadRequest(AppError):
    default_code = "bad_request"


class Unauthorized(AppError):
    default_code = "unauthorized"

    def __init__(
        self, code: str | None = None, detail: Message | str | None = None, en: str | None = None
    ) -> None:
        super().__init__(code, detail, en, headers={"WWW-Authenticate": 'Bearer realm="qd85"'})


class Forbidden(AppError):
    default_code = "forbidden"


class NotFound(AppError):
    default_code = "not_found"


class Conflict(AppError):
    default_code = "conflict"


class PreconditionFailed(AppError):
    default_code = "version_mismatch"


class Unprocessable(AppError):
    default_code = "validation_failed"


class RateLimited(AppError):
    default_code = "rate_limited"


class ProblemError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details with qd85's stable `code`."""

    type: str = Field(examples=["https://qd85.vn/problems/not_found"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str = Field(examples=["not_found"])
    request_id: str | None = None
    errors: list[ProblemError] | None = None
    error: TokenError | None = Field(
        default=None,
        description="The RFC 6749 error code: only on the token endpoint's 400 and 401.",
    )


def _problem_response(
    request: Request,
    code: str,
    *,
    detail: Message | AppError | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    status, title_vi, title_en = CODES[code]
    lang = pick_language(request.headers.get("accept-language"))
    title = title_en if lang == "en" else title_vi
    shown = detail.render(lang) if isinstance(detail, Message) else None
    if isinstance(detail, AppError):
        shown = detail.detail(lang)
    detail_text = shown or title
    body: dict[str, Any] = {
        "type": f"https://qd85.vn/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail_text,
        "instance": quote(request.url.path, safe="/:@!$&'()*+,;=-._~"),
        "code": code,
        "request_id": getattr(request.state, "request_id", None),
    }
    if extra:
        body.update(extra)
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**(headers or {}), "Content-Language": lang},
    )


def problem(request: Request, code: str, detail: Message | None = None) -> Response:
    return _problem_response(request, code, detail=detail)


async def app_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return _problem_response(
        request,
        exc.code,
        detail=exc,
        headers=exc.headers,
        extra=exc.extra,
    )


def _jsonable_loc(loc: Any) -> list[str | int]:
    return [p if isinstance(p, int) else str(p) for p in loc]


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return _problem_response(
            request,
            "invalid_json",
            detail=msg("http.body_not_json"),
        )
    if errors and all(tuple(e.get("loc", ()))[:1] == ("path",) for e in errors):
        # A malformed id in the path names no object: the same 404 as a missing one.
        return _problem_response(request, "not_found")
    items = [
        {
            "loc": _jsonable_loc(e.get("loc", ())),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    return _problem_response(
        request,
        "validation_failed",
        detail=msg("http.fields_invalid"),
        extra={"errors": items},
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. Starlette's 405 names only the methods
    of the first route that matched the path, but GET and POST /units (say) are two."""
    scope = request.scope
    routes = request.app.router.routes
    allowed = []
    for method in _METHODS:
        probe = {
            "type": "http",
            "path": scope["path"],
            "root_path": scope.get("root_path", ""),
            "method": method,
            "headers": [],
            "query_string": b"",
        }
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "bad_request")
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if exc.status_code == 400 and (media == "application/json" or media.endswith("+json")):
        # FastAPI's answer to a JSON body it cannot decode at all (invalid UTF-8, nesting
        # past the recursion limit, an integer past Python's digit limit).
        code = "invalid_json"
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="qd85"')
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = ", ".join(allowed)
    return _problem_response(request, code, headers=headers)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    from api.core.resilience import is_unavailable  # local: avoid import cycle at start-up

    if isinstance(exc, StaleDataError):
        # A versioned row changed under this request (a concurrent write won the race).
        return _problem_response(
            request,
            "conflict",
            detail=msg("http.concurrent_change"),
        )
    if is_unavailable(exc):
        log.warning("database unavailable: %s", exc)
        return _problem_response(request, "service_unavailable", headers={"Retry-After": "5"})
    log.exception(
        "unhandled error", extra={"request_id": getattr(request.state, "request_id", None)}
    )
    return _problem_response(request, "internal_error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the given statuses, all with the problem schema."""
    descriptions = {
        400: "Bad request",
        401: "Missing, invalid or expired token",
        403: "Role may not do this",
        404: "Not found or outside the caller's scope",
        409: "Conflict",
        412: "If-Match does not match the current version",
        413: "Body too large",
        415: "Unsupported media type",
        422: "Validation failed",
        429: "Rate limited",
        503: "Database or file store unavailable",
    }
    return {
        s: {
            "model": Problem,
            "description": descriptions.get(s, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }
