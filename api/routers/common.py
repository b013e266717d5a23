"""Router helpers: the authenticated router factory, documented error responses, file
downloads and tabular (CSV/XLSX) exports: the one router module the others import."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from api.core.errors import problem_responses
from api.deps import etag_of, get_principal
from api.services import exports
from api.services.files import Storage

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


# A stored file's download (report evidence, a document's attachment): once the API has
# authorised the caller, the bytes stream through, or (s3 with presigning on) a 307 sends
# the client to a short-lived URL of the object itself, with the same Content-Disposition
# and type, so large files do not pass through the API.
FILE_REDIRECT = {
    307: {
        "description": "The file at a short-lived presigned URL of the object store "
        "(QD85_STORAGE_S3_PRESIGN_SECONDS > 0)",
        "headers": {
            "Location": {
                "description": "The presigned URL, valid for a short time",
                "schema": {"type": "string", "format": "uri"},
            }
        },
    },
    **problem_responses(503),
}


async def file_response(
    store: Storage, key: str, size: int, content_type: str, disposition: str
) -> Response:
    url = await store.download_url(key, disposition, content_type)
    if url is not None:
        # The URL is a bearer credential for this one object: no cache may keep it.
        return RedirectResponse(url, 307, headers={"Cache-Control": "no-store"})
    return StreamingResponse(
        await store.open(key),
        media_type=content_type,
        headers={
            "Content-Length": str(size),
            "Content-Disposition": disposition,
            "ETag": f'"{key}"',
        },
    )


# --- tabular exports (statistics, a roster sync's changes) ---------------------------

# `?format=csv|xlsx` (and `Accept: text/csv`) on the JSON operations keep working for
# existing callers, but are not in the document: one operation, one representation, so
# generated clients never get `JSON | string`. The `/export` operations are documented.
FormatParam = Annotated[Literal["json", "csv", "xlsx"] | None, Query(include_in_schema=False)]
ExportParam = Annotated[
    exports.ExportFormat,
    Query(
        description="`csv`: UTF-8 with a BOM, comma-separated; `xlsx`: an Excel workbook "
        "(one sheet, header row, frozen panes, numeric cells), which Excel opens whatever "
        "the list separator of its locale (`;` on vi-VN)."
    ),
]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]


EXPORT_OK: dict[str, Any] = {
    "description": "The table as CSV or XLSX (by `format`), as an attachment.",
    "content": {
        media: {"schema": {"type": "string", "format": "binary"}}
        for media in (exports.CSV_MEDIA_TYPE.split(";")[0], exports.XLSX_MEDIA_TYPE)
    },
}


def tabular_format(fmt: str | None, accept: str | None) -> exports.ExportFormat | None:
    """The export a JSON operation was asked for (`?format=`, or `Accept: text/csv`)."""
    if fmt == "csv":
        return "csv"
    if fmt == "xlsx":
        return "xlsx"
    if fmt is None and accept and "text/csv" in accept and "application/json" not in accept:
        return "csv"
    return None


def export_response(
    fmt: exports.ExportFormat, stem: str, columns: list[str], rows: list[dict[str, Any]]
) -> Response:
    return Response(
        exports.render(fmt, stem, columns, rows),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )
