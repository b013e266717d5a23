"""Roster sync endpoints (SPEC §5 "Roster sync"). The POST reads the raw request body
(JSON, NDJSON, CSV or a spreadsheet by Content-Type), so its request body is documented by hand."""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from typing import Annotated, Any

from fastapi import Query, Request, Response

from api.core.enums import RowAction, SyncMode, SyncStatus
from api.core.errors import problem_responses
from api.core.i18n import msg
from api.core.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from api.deps import PrincipalDep, SessionDep
from api.idempotency import IdempotencyDep
from api.routers.common import (
    EXPORT_OK,
    LIST_ERRORS,
    READ_ERRORS,
    AcceptHeader,
    ExportParam,
    FormatParam,
    authed_router,
    export_response,
    tabular_format,
)
from api.schemas.common import CODE_PATTERN
from api.schemas.roster import (
    RosterChangeRead,
    RosterSyncIn,
    RosterSyncRead,
    RosterSyncSummary,
    RosterUnitChangeRead,
)
from api.services import roster
from api.services.roster.errors import invalid_file
from api.services.roster.parse import ODS_MEDIA_TYPE, XLS_MEDIA_TYPE, XLSX_MEDIA_TYPE

router = authed_router("/api/v1/roster", "roster")
SPOOL_IN_MEMORY = 1 << 20


_EXAMPLE = RosterSyncIn.model_json_schema()["examples"][0]
_CSV_EXAMPLE = (
    "STT,Mã đảng viên,Họ và tên,Chi bộ,Loại đảng viên,Chức vụ,Email,Số điện thoại\n"
    "1,DV-0001234,Nguyễn Văn An,HN.BD.01,chính thức,Bí thư chi bộ,an.nv@example.vn,0912345678\n"
    "2,DV-0001235,Trần Thị Bình,HN.BD.01,dự bị,,,\n"
)
_NDJSON_EXAMPLE = (
    '{"external_id": "DV-0001234", "full_name": "Nguyễn Văn An", "unit_code": "HN.BD.01", '
    '"membership": "official"}\n'
    '{"external_id": "DV-0001235", "full_name": "Trần Thị Bình", "unit_code": "HN.BD.01", '
    '"membership": "probationary"}\n'
)
_REQUEST_BODY = {
    "required": True,
    "description": "The roster, chosen by Content-Type: JSON, NDJSON, CSV or a spreadsheet "
    "(XLSX, XLS or ODS, told apart by content). JSON carries `mode`, `scope_unit_code`, "
    "`units` and `members`; the other formats carry member rows only (with `mode` and "
    "`scope_unit_code` as query parameters). CSV/spreadsheet headers may be the field names "
    "or their Vietnamese aliases (see the README).",
    "content": {
        "application/json": {
            "schema": {"$ref": "#/components/schemas/RosterSyncIn"},
            "examples": {"snapshot": {"summary": "A snapshot with a new unit", "value": _EXAMPLE}},
        },
        "application/x-ndjson": {
            "schema": {"type": "string", "description": "One member object per line."},
            "examples": {"upsert": {"summary": "Two member rows", "value": _NDJSON_EXAMPLE}},
        },
        XLSX_MEDIA_TYPE: {
            "schema": {
                "type": "string",
                "format": "binary",
                "description": "The first visible sheet; a header row as in CSV.",
            },
        },
        XLS_MEDIA_TYPE: {
            "schema": {
                "type": "string",
                "format": "binary",
                "description": "Excel 97–2003; read as XLSX is.",
            },
        },
        ODS_MEDIA_TYPE: {
            "schema": {
                "type": "string",
                "format": "binary",
                "description": "OpenDocument spreadsheet; read as XLSX is.",
            },
        },
        # Last: openapi-python-client sends a file body with the last binary media type.
        "text/csv": {
            "schema": {
                "type": "string",
                "format": "binary",
                "description": "UTF-8 (BOM "
                "optional), TCVN3 or Windows-1258; comma, semicolon or tab; a header row.",
            },
            "examples": {
                "vietnamese_headers": {"summary": "Vietnamese headers", "value": _CSV_EXAMPLE}
            },
        },
    },
}
CREATE_ERRORS = problem_responses(400, 401, 403, 409, 413, 415, 422, 503)
APPLY_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)

ModeParam = Annotated[
    SyncMode | None,
    Query(description="`snapshot` or `upsert`; required for NDJSON, CSV and spreadsheet bodies."),
]
ScopeParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        pattern=CODE_PATTERN,
        description="The unit whose subtree a snapshot covers (and an upsert is limited to).",
    ),
]
DryRunParam = Annotated[
    bool, Query(description="`true` (default): preview only. `false`: preview and apply.")
]
MassParam = Annotated[
    bool,
    Query(description="Allow a snapshot to deactivate more than 20% of its scope's members."),
]
SkipParam = Annotated[bool, Query(description="Apply the good rows of a sync with rejected rows.")]


async def _spool(request: Request) -> tuple[Any, int, str]:
    """The body into a temporary file (memory up to 1 MB, then disk), hashed on the way:
    (file, size, sha256 of the body with its content type and query)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by the caller
    digest = hashlib.sha256()
    digest.update(request.headers.get("content-type", "").encode() + b"\n")
    digest.update(str(sorted(request.query_params.multi_items())).encode() + b"\n")
    size = 0
    try:
        async for chunk in request.stream():
            spool.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size, digest.hexdigest()


@router.post(
    "/syncs",
    name="create",
    status_code=201,
    response_model=RosterSyncRead,
    responses=CREATE_ERRORS,
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def create_sync(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    idem: IdempotencyDep,
    mode: ModeParam = None,
    scope_unit_code: ScopeParam = None,
    dry_run: DryRunParam = True,
    allow_mass_deactivation: MassParam = False,
    skip_rejected: SkipParam = False,
) -> Response:
    """Preview (and with `dry_run=false` apply) a roster from a partner system. The
    response is the sync with its counts and first rejected rows; `GET …/changes` pages
    the whole diff. Partner clients (in their unit's subtree) and admins. Honours
    `Idempotency-Key` (the key covers the body, its Content-Type and the query)."""
    fmt = roster.body_format(principal, request.headers.get("content-type"))
    spool, size, digest = await _spool(request)
    with spool:
        if size == 0:
            raise invalid_file(msg("roster.empty_body"))
        if (replay := await idem.replay(f"roster-sync {digest}".encode())) is not None:
            return replay
        options = roster.SyncRequest(
            fmt=fmt,
            mode=mode.value if mode else None,
            scope_unit_code=scope_unit_code,
            allow_mass_deactivation=allow_mass_deactivation,
            skip_rejected=skip_rejected,
        )
        sync_id = await roster.preview_and_apply(
            session, principal, spool, options, dry_run=dry_run
        )
    sync = await roster.read(session, principal, sync_id)
    return await idem.respond(201, sync, {"Location": f"/api/v1/roster/syncs/{sync_id}"})


@router.get("/syncs", name="list", response_model=Page[RosterSyncSummary], responses=LIST_ERRORS)
async def list_syncs(
    principal: PrincipalDep,
    session: SessionDep,
    status: SyncStatus | None = None,
    mode: SyncMode | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[RosterSyncSummary]:
    """The caller's syncs and those in their sync scope, newest first."""
    items, next_cursor = await roster.list_syncs(
        session, principal, status=status, mode=mode, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/syncs/{sync_id}", name="get", response_model=RosterSyncRead, responses=READ_ERRORS)
async def get_sync(
    sync_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> RosterSyncRead:
    return await roster.read(session, principal, sync_id)


ActionParam = Annotated[RowAction | None, Query(description="Only rows with this action.")]
CHANGE_COLUMNS = [
    "row",
    "action",
    "external_id",
    "full_name",
    "unit_code",
    "member_id",
    "changes",
    "error_code",
    "error_field",
    "error_detail",
]
EXPORT_PAGE = 1000


async def _all_changes(
    session: SessionDep, principal: PrincipalDep, sync_id: uuid.UUID, action: RowAction | None
) -> list[dict[str, Any]]:
    """Every member row of the diff, flattened for a table (`changes` as
    `field: before → after` lines)."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        items, cursor = await roster.list_changes(
            session, principal, sync_id, action=action, cursor=cursor, limit=EXPORT_PAGE
        )
        for c in items:
            rows.append(
                {
                    "row": c.row,
                    "action": c.action,
                    "external_id": c.external_id,
                    "full_name": c.full_name,
                    "unit_code": c.unit_code,
                    "member_id": c.member_id,
                    "changes": "\n".join(
                        f"{field}: {_shown(before)} → {_shown(after)}"
                        for field, (before, after) in c.changes.items()
                    ),
                    "error_code": c.error.code if c.error else None,
                    "error_field": c.error.field if c.error else None,
                    "error_detail": c.error.detail if c.error else None,
                }
            )
        if cursor is None:
            return rows


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


@router.get(
    "/syncs/{sync_id}/changes",
    name="changes",
    response_model=Page[RosterChangeRead],
    responses=READ_ERRORS,
)
async def list_changes(
    sync_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    action: ActionParam = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    format: FormatParam = None,
    accept: AcceptHeader = None,
) -> Any:
    """The member rows of the diff in row order: what each does, the changed fields
    (`[before, after]`) and, for rejected rows, why. Absent members of a snapshot
    (`deactivate`) follow the body's rows. All of them as CSV or XLSX:
    `GET /roster/syncs/{sync_id}/changes/export`."""
    if fmt := tabular_format(format, accept):
        rows = await _all_changes(session, principal, sync_id, action)
        return export_response(fmt, f"roster-sync-{sync_id}", CHANGE_COLUMNS, rows)
    items, next_cursor = await roster.list_changes(
        session, principal, sync_id, action=action, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/syncs/{sync_id}/changes/export",
    name="changes_export",
    responses={200: EXPORT_OK, **READ_ERRORS},
    response_class=Response,
)
async def export_changes(
    sync_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    format: ExportParam,
    action: ActionParam = None,
) -> Response:
    """Every member row of the diff (not a page) as a table, in row order: the row
    number, action, member, the changed fields (one `field: before → after` line each)
    and, for rejected rows, the error."""
    rows = await _all_changes(session, principal, sync_id, action)
    return export_response(format, f"roster-sync-{sync_id}", CHANGE_COLUMNS, rows)


@router.get(
    "/syncs/{sync_id}/unit-changes",
    name="unit_changes",
    response_model=Page[RosterUnitChangeRead],
    responses=READ_ERRORS,
)
async def list_unit_changes(
    sync_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[RosterUnitChangeRead]:
    """The unit rows of a snapshot (`units` of a JSON body), in row order."""
    items, next_cursor = await roster.list_unit_changes(
        session, principal, sync_id, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/syncs/{sync_id}/apply", name="apply", response_model=RosterSyncRead, responses=APPLY_ERRORS
)
async def apply_sync(
    sync_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    allow_mass_deactivation: MassParam = False,
    skip_rejected: SkipParam = False,
) -> RosterSyncRead:
    """Apply exactly the previewed diff in one transaction. 409 `roster_changed` when the
    roster changed since the preview; 422 `mass_deactivation` / `sync_has_rejected_rows`
    unless allowed (here or at creation). An applied sync is returned unchanged."""
    await roster.apply(
        session,
        principal,
        sync_id,
        allow_mass_deactivation=allow_mass_deactivation,
        skip_rejected=skip_rejected,
    )
    return await roster.read(session, principal, sync_id)
