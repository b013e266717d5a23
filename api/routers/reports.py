from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import File, Query, Response, UploadFile
from fastapi.responses import StreamingResponse

from api.core.enums import Platform, ReportCategory, ReportStatus
from api.core.errors import problem_responses
from api.core.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from api.deps import IfMatchDep, PrincipalDep, SessionDep, etag_of
from api.idempotency import IdempotencyDep
from api.loaders import VisibleReport
from api.routers.common import (
    FILE_REDIRECT,
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    authed_router,
    file_response,
    set_etag,
)
from api.schemas.common import Rfc3339Datetime
from api.schemas.reports import (
    EvidenceRead,
    ReportCreate,
    ReportRead,
    ReportUpdate,
    ReportWithReporter,
    TimelineEntry,
    TransitionIn,
)
from api.services import files, reports

router = authed_router("/api/v1/reports", "reports")
AnyReport = ReportWithReporter | ReportRead


@router.post(
    "",
    name="create",
    status_code=201,
    response_model=AnyReport,
    responses={
        200: {
            "model": AnyReport,
            "description": "The caller already has an open report of this link",
        },
        **problem_responses(401, 403, 409, 413, 422, 429),
    },
)
async def file_report(
    body: ReportCreate, principal: PrincipalDep, session: SessionDep, idem: IdempotencyDep
) -> Response:
    """File a report (members). A link matching an open report is linked to it
    (`duplicate_of`) and the open one's `report_count` grows. When the link names (or was
    posted on) a member's declared account, `subject_member_id` is set and that member's
    unit managers see the report too. A member who already has an open report of the link
    gets it back (200). Rate limited per member (429). Honours `Idempotency-Key`."""
    if (replay := await idem.replay(body)) is not None:
        return replay
    visible, created = await reports.file(session, principal, body)
    report = visible.report
    headers = {"Location": f"/api/v1/reports/{report.id}", "ETag": etag_of(report.version)}
    return await idem.respond(
        201 if created else 200, reports.read_model(principal, visible), headers
    )


# The list's filters, named here so that the endpoint reads as its list of parameters.
StatusesParam = Annotated[list[ReportStatus] | None, Query(description="One or more statuses.")]
SubtreeParam = Annotated[
    uuid.UUID | None,
    Query(
        description="Reports filed in this unit's subtree (the reporter's unit at filing).",
    ),
]
OverdueParam = Annotated[
    bool | None, Query(description="Open (submitted, in review, escalated) and past `due_at`.")
]
MineParam = Annotated[bool, Query(description="Only the reports the caller filed.")]
WordsParam = Annotated[
    str | None,
    Query(max_length=200, description="Words of the description, diacritic-insensitive."),
]
FiledFromParam = Annotated[
    Rfc3339Datetime | None,
    Query(alias="from", description="Filed at or after (RFC 3339 with offset)."),
]
FiledToParam = Annotated[
    Rfc3339Datetime | None,
    Query(alias="to", description="Filed before (RFC 3339 with offset)."),
]
SortParam = Annotated[
    Literal["created_at", "due_at"],
    Query(
        description="`created_at`: newest first (the default); `due_at`: the nearest "
        "deadline first, as a handling queue reads."
    ),
]


@router.get("", name="list", response_model=Page[AnyReport], responses=LIST_ERRORS)
async def list_reports(
    principal: PrincipalDep,
    session: SessionDep,
    status: StatusesParam = None,
    category: ReportCategory | None = None,
    platform: Platform | None = None,
    unit_id: SubtreeParam = None,
    assignee_id: uuid.UUID | None = None,
    overdue: OverdueParam = None,
    subject_member_id: uuid.UUID | None = None,
    mine: MineParam = False,
    q: WordsParam = None,
    created_from: FiledFromParam = None,
    created_to: FiledToParam = None,
    sort: SortParam = "created_at",
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[AnyReport]:
    """Reports the caller may see, newest first or by deadline (`sort`): their own, and
    for managers and reviewers those filed in or about their scope."""
    items, next_cursor = await reports.list_reports(
        session,
        principal,
        status=status,
        category=category,
        platform=platform,
        unit_id=unit_id,
        assignee_id=assignee_id,
        overdue=overdue,
        subject_member_id=subject_member_id,
        mine=mine,
        q=q,
        created_from=created_from,
        created_to=created_to,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[reports.read_model(principal, v) for v in items], next_cursor=next_cursor)


@router.get("/{report_id}", name="get", response_model=AnyReport, responses=READ_ERRORS)
async def get_report(
    visible: VisibleReport, principal: PrincipalDep, response: Response
) -> ReportRead:
    set_etag(response, visible.report.version)
    return reports.read_model(principal, visible)


@router.patch("/{report_id}", name="update", response_model=AnyReport, responses=WRITE_ERRORS)
async def update_report(
    body: ReportUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    visible: VisibleReport,
    response: Response,
) -> ReportRead:
    """Set `assignee_id` (an active handler whose scope holds the report and who is not a
    party to it; null unassigns) and `priority`. Handlers only; honours `If-Match`."""
    report = await reports.update_report(session, principal, visible, body, if_match)
    set_etag(response, report.version)
    return reports.read_model(principal, visible)


@router.post(
    "/{report_id}/transitions",
    name="transition",
    response_model=AnyReport,
    responses=WRITE_ERRORS,
)
async def transition_report(
    body: TransitionIn,
    principal: PrincipalDep,
    session: SessionDep,
    if_match: IfMatchDep,
    visible: VisibleReport,
    response: Response,
) -> ReportRead:
    """Move the report through its workflow: `submitted` → `in_review` → `escalated`
    (with `authority` and `reference`) → `resolved` (with `outcome`); `in_review` →
    `resolved`; `submitted`|`in_review` → `dismissed` (handlers who are not parties to
    the report); `submitted` → `withdrawn` (the reporter). Any other move is 409
    `invalid_transition`; a duplicate follows its primary and is only withdrawn on its
    own. Honours `If-Match`."""
    report = await reports.transition(session, principal, visible, body, if_match)
    set_etag(response, report.version)
    return reports.read_model(principal, visible)


@router.get(
    "/{report_id}/timeline",
    name="timeline",
    response_model=Page[TimelineEntry],
    responses=READ_ERRORS,
)
async def report_timeline(
    visible: VisibleReport,
    principal: PrincipalDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[TimelineEntry]:
    """Every filing, move, comment, assignment and evidence file, oldest first."""
    items, next_cursor = await reports.timeline(
        session, principal, visible, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/{report_id}/evidence",
    name="add_evidence",
    status_code=201,
    response_model=EvidenceRead,
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422, 503),
)
async def add_evidence(
    visible: VisibleReport,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
    file: Annotated[
        UploadFile,
        File(
            description="PNG, JPEG, WebP or PDF (by content), ≤ 10 MB.",
            json_schema_extra={"minLength": 1},
        ),
    ],
) -> EvidenceRead:
    """Attach an evidence file to an open report (its reporter, or a handler who is not
    a party). Stored under its SHA-256 and never altered."""
    evidence = await reports.add_evidence(session, principal, visible, file.file, file.filename)
    response.headers["Location"] = f"/api/v1/reports/{visible.report.id}/evidence/{evidence.id}"
    return EvidenceRead.model_validate(evidence)


@router.get(
    "/{report_id}/evidence",
    name="list_evidence",
    response_model=Page[EvidenceRead],
    responses=READ_ERRORS,
)
async def list_evidence(
    visible: VisibleReport,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[EvidenceRead]:
    items, next_cursor = await reports.list_evidence(session, visible, cursor=cursor, limit=limit)
    return Page(items=[EvidenceRead.model_validate(e) for e in items], next_cursor=next_cursor)


@router.get(
    "/{report_id}/evidence/{evidence_id}",
    name="download_evidence",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file as uploaded.",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in sorted(files.EVIDENCE_TYPES)
            },
        },
        **READ_ERRORS,
        **FILE_REDIRECT,
    },
)
async def download_evidence(
    report_id: uuid.UUID, evidence_id: uuid.UUID, visible: VisibleReport, session: SessionDep
) -> Response:
    """Download an evidence file; whoever sees the report may."""
    # `report_id` is VisibleReport's; named here too so the document lists it first.
    evidence = await reports.get_evidence(session, visible, evidence_id)
    # Names stored before issue 14 may carry another type's extension.
    name = files.safe_filename(evidence.filename, evidence.content_type)
    return await file_response(
        files.storage(),
        evidence.sha256,
        evidence.size,
        evidence.content_type,
        "attachment; filename*=UTF-8''" + quote(name),
    )
