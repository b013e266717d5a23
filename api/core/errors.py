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

log = logging.getLogger("qd85.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

# code -> (status, title vi, title en). The code is the contract; titles are for people.
CODES: dict[str, tuple[int, str, str]] = {
    "bad_request": (400, "Yêu cầu không hợp lệ", "Bad request"),
    "invalid_json": (400, "Nội dung JSON không hợp lệ", "Malformed JSON body"),
    "invalid_grant": (400, "Thông tin cấp quyền không hợp lệ", "Invalid grant"),
    "unsupported_grant_type": (400, "Kiểu cấp quyền không được hỗ trợ", "Unsupported grant type"),
    "unauthorized": (401, "Chưa xác thực", "Authentication required"),
    "invalid_token": (401, "Mã truy cập không hợp lệ", "Invalid or expired token"),
    "invalid_client": (401, "Ứng dụng không hợp lệ", "Invalid client credentials"),
    "forbidden": (403, "Không có quyền", "Forbidden"),
    "not_found": (404, "Không tìm thấy", "Not found"),
    "file_missing": (404, "Tệp không còn trong kho lưu trữ", "File missing from the store"),
    "method_not_allowed": (405, "Phương thức không được phép", "Method not allowed"),
    "not_acceptable": (406, "Không đáp ứng được định dạng yêu cầu", "Not acceptable"),
    "conflict": (409, "Xung đột dữ liệu", "Conflict"),
    "duplicate": (409, "Dữ liệu đã tồn tại", "Already exists"),
    "unit_cycle": (
        409,
        "Không thể chuyển đơn vị vào chính cây con của nó",
        "Move would create a cycle",
    ),
    "unit_not_empty": (
        409,
        "Đơn vị còn đơn vị con hoặc đảng viên đang hoạt động",
        "Unit is not empty",
    ),
    "unit_dissolved": (409, "Đơn vị đã giải thể", "Unit is dissolved"),
    "duplicate_account": (
        409,
        "Tài khoản đã được đảng viên khác khai báo",
        "Account already declared by another member",
    ),
    "invalid_transition": (409, "Không thể chuyển sang trạng thái này", "Invalid state transition"),
    "declaration_conflict": (
        409,
        "Khai báo mâu thuẫn với các tài khoản hiện có",
        "Declaration conflicts with the member's accounts",
    ),
    "roster_changed": (
        409,
        "Danh sách đảng viên đã thay đổi từ lúc xem trước",
        "The roster changed since the preview",
    ),
    "sync_not_applicable": (
        409,
        "Không thể áp dụng lần đồng bộ này",
        "This sync cannot be applied",
    ),
    "sync_has_rejected_rows": (
        422,
        "Lần đồng bộ có dòng bị từ chối",
        "The sync has rejected rows",
    ),
    "mass_deactivation": (
        422,
        "Đồng bộ sẽ chuyển đi quá nhiều đảng viên",
        "The sync would deactivate too many members",
    ),
    "unsupported_encoding": (
        422,
        "Bảng mã của tệp không được hỗ trợ",
        "The file's text encoding is not supported",
    ),
    "invalid_file": (422, "Tệp không hợp lệ", "Invalid file"),
    "document_not_published": (
        409,
        "Văn bản chưa được ban hành hoặc đã lưu trữ",
        "The document is not published",
    ),
    "report_closed": (409, "Báo cáo đã đóng", "The report is closed"),
    "evidence_limit": (409, "Đã đạt số tệp chứng cứ tối đa", "Evidence file limit reached"),
    "invalid_url": (422, "Liên kết không hợp lệ", "Not a valid link"),
    "invalid_account_url": (422, "Địa chỉ tài khoản không hợp lệ", "Not an account address"),
    "idempotency_in_progress": (
        409,
        "Yêu cầu cùng khóa đang được xử lý",
        "A request with this Idempotency-Key is in progress",
    ),
    "version_mismatch": (412, "Phiên bản dữ liệu đã thay đổi", "Version mismatch"),
    "payload_too_large": (413, "Nội dung quá lớn", "Payload too large"),
    "unsupported_media_type": (415, "Kiểu nội dung không được hỗ trợ", "Unsupported media type"),
    "validation_failed": (422, "Dữ liệu không hợp lệ", "Validation failed"),
    "invalid_cursor": (422, "Con trỏ phân trang không hợp lệ", "Invalid cursor"),
    "idempotency_key_mismatch": (
        422,
        "Khóa Idempotency-Key đã dùng cho nội dung khác",
        "Idempotency-Key reused with a different body",
    ),
    "tree_too_large": (
        422,
        "Cây đơn vị quá lớn; hãy giảm độ sâu",
        "Subtree too large; lower the depth",
    ),
    "rate_limited": (429, "Quá nhiều yêu cầu", "Too many requests"),
    "internal_error": (500, "Lỗi hệ thống", "Internal server error"),
    "service_unavailable": (503, "Dịch vụ tạm thời không khả dụng", "Service unavailable"),
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
    """Base of every error a service raises; rendered as a problem by the handler."""

    default_code = "bad_request"

    def __init__(
        self,
        code: str | None = None,
        vi: str | None = None,
        en: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.code = code or self.default_code
        if self.code not in CODES:
            raise KeyError(f"unregistered problem code {self.code!r}")
        self.status = CODES[self.code][0]
        self.detail_vi = vi
        self.detail_en = en or vi
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.code if en is None else en)


class BadRequest(AppError):
    default_code = "bad_request"


class Unauthorized(AppError):
    default_code = "unauthorized"

    def __init__(
        self, code: str | None = None, vi: str | None = None, en: str | None = None
    ) -> None:
        super().__init__(code, vi, en, headers={"WWW-Authenticate": 'Bearer realm="qd85"'})


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
    detail_vi: str | None = None,
    detail_en: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    status, title_vi, title_en = CODES[code]
    lang = pick_language(request.headers.get("accept-language"))
    title = title_en if lang == "en" else title_vi
    detail = (detail_en if lang == "en" else detail_vi) or title
    body: dict[str, Any] = {
        "type": f"https://qd85.vn/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
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


def problem(request: Request, code: str, vi: str | None = None, en: str | None = None) -> Response:
    return _problem_response(request, code, detail_vi=vi, detail_en=en)


async def app_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return _problem_response(
        request,
        exc.code,
        detail_vi=exc.detail_vi,
        detail_en=exc.detail_en,
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
            detail_vi="Nội dung yêu cầu không phải JSON hợp lệ (UTF-8).",
            detail_en="The request body is not valid JSON (UTF-8).",
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
        detail_vi="Một số trường không hợp lệ; xem 'errors'.",
        detail_en="Some fields are invalid; see 'errors'.",
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
            detail_vi="Dữ liệu vừa được thay đổi bởi một yêu cầu khác; hãy tải lại và thử lại.",
            detail_en="The data was changed by a concurrent request; reload and retry.",
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
