from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Query, Response

from api.core.db import utcnow
from api.core.enums import Platform, SeriesInterval, SeriesKey
from api.core.errors import problem_responses
from api.deps import PrincipalDep, SessionDep
from api.models import Document, Unit
from api.routers.common import (
    EXPORT_OK,
    AcceptHeader,
    ExportParam,
    FormatParam,
    authed_router,
    export_response,
    tabular_format,
)
from api.schemas.common import Rfc3339Datetime
from api.schemas.stats import ComplianceReport, ComplianceRow, DocumentAckStats, ReportSeries
from api.services import stats

router = authed_router("/api/v1/stats", "stats")
ERRORS = problem_responses(401, 403, 404, 422)
UnitParam = Annotated[
    uuid.UUID | None,
    Query(
        description="The unit (default: the caller's one scope root; 404 outside the "
        "caller's statistics scope)."
    ),
]
FromParam = Annotated[
    Rfc3339Datetime | None, Query(alias="from", description="RFC 3339 with offset.")
]
ToParam = Annotated[
    Rfc3339Datetime | None, Query(alias="to", description="RFC 3339 with offset; exclusive.")
]


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {200: EXPORT_OK, **ERRORS}


COMPLIANCE_COLUMNS = [
    "unit_id",
    "unit_code",
    "unit_name",
    "is_total",
    "members_active",
    "leaders_active",
    "members_declared",
    "declaration_rate",
    "members_with_accounts",
    "leaders_with_accounts",
    "accounts_total",
    "accounts_verified",
    "accounts_pending",
    *(f"accounts_{p.value}" for p in Platform),
    "ack_rate",
    "acks_done",
    "acks_expected",
    "reports_filed",
    "reports_open",
    "reports_overdue",
    "reports_resolved",
    "median_hours_to_resolve",
]
SERIES_COLUMNS = ["period_start", "key", "count"]
DOCUMENT_COLUMNS = [
    "unit_id",
    "unit_code",
    "unit_name",
    "is_total",
    "addressed",
    "acknowledged",
    "ack_rate",
]
GroupByParam = Annotated[
    Literal["child", "self"],
    Query(description="`child`: a row per child unit and a total row; `self`: the unit only."),
]
IntervalParam = Annotated[
    SeriesInterval, Query(description="Periods in Vietnam time (UTC+7); weeks start on Monday.")
]
ByParam = Annotated[SeriesKey, Query(description="What each point counts by.")]
DocUnitParam = Annotated[
    uuid.UUID | None,
    Query(
        description="The unit to break down (default: the document's audience unit, or the "
        "caller's one scope root inside it)."
    ),
]


async def _compliance(
    principal: PrincipalDep,
    session: SessionDep,
    unit_id: uuid.UUID | None,
    group_by: str,
    start: datetime | None,
    end: datetime | None,
) -> tuple[Unit, list[dict[str, Any]]]:
    unit = await stats.resolve_unit(session, principal, unit_id)
    return unit, await stats.compliance(session, unit, group_by=group_by, start=start, end=end)


def _compliance_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**r, **{f"accounts_{p.value}": r["accounts_by_platform"][p] for p in Platform}}
        for r in rows
    ]


@router.get("/compliance", name="compliance", response_model=ComplianceReport, responses=ERRORS)
async def compliance(
    principal: PrincipalDep,
    session: SessionDep,
    unit_id: UnitParam = None,
    group_by: GroupByParam = "child",
    report_from: FromParam = None,
    report_to: ToParam = None,
    format: FormatParam = None,
    accept: AcceptHeader = None,
) -> Any:
    """Compliance figures of the unit's subtree, per child unit and in total. Every
    figure is defined in the schema and equals the length of the matching list:
    `members_active` = `GET /members?unit_id=…&status=active`, `accounts_verified` =
    `GET /accounts?unit_id=…&status=verified`, `reports_open` = `GET /reports?unit_id=…`
    with the open statuses, `reports_overdue` = `…&overdue=true`. `from`/`to` bound the
    report figures by filing time. Managers, reviewers and analysts read their scope.
    The same table as CSV or XLSX: `GET /stats/compliance/export`."""
    as_of = utcnow()
    unit, rows = await _compliance(principal, session, unit_id, group_by, report_from, report_to)
    if fmt := tabular_format(format, accept):
        return export_response(
            fmt, f"compliance-{unit.code}", COMPLIANCE_COLUMNS, _compliance_table(rows)
        )
    return ComplianceReport(
        unit_id=unit.id,
        group_by=group_by,
        report_from=report_from,
        report_to=report_to,
        generated_at=utcnow(),
        as_of=as_of,
        rows=[ComplianceRow(**r) for r in rows],
    )


@router.get(
    "/compliance/export",
    name="compliance_export",
    responses=EXPORT_RESPONSES,
    response_class=Response,
)
async def compliance_export(
    principal: PrincipalDep,
    session: SessionDep,
    format: ExportParam,
    unit_id: UnitParam = None,
    group_by: GroupByParam = "child",
    report_from: FromParam = None,
    report_to: ToParam = None,
) -> Response:
    """The rows of `GET /stats/compliance` as a table: one column per figure
    (`accounts_by_platform` as `accounts_<platform>` columns), a row per child unit and
    the total row."""
    unit, rows = await _compliance(principal, session, unit_id, group_by, report_from, report_to)
    return export_response(
        format, f"compliance-{unit.code}", COMPLIANCE_COLUMNS, _compliance_table(rows)
    )


async def _series(
    principal: PrincipalDep,
    session: SessionDep,
    unit_id: uuid.UUID | None,
    start: datetime | None,
    end: datetime | None,
    interval: SeriesInterval,
    by: SeriesKey,
) -> tuple[Unit, datetime, datetime, list[dict[str, Any]]]:
    unit = await stats.resolve_unit(session, principal, unit_id)
    end = end or utcnow()
    default_span = {
        "day": timedelta(days=30),
        "week": timedelta(weeks=12),
        "month": timedelta(days=365),
    }
    start = start or end - default_span[interval]
    points = await stats.report_series(
        session, unit, start=start, end=end, interval=interval.value, by=by.value
    )
    return unit, start, end, points


@router.get("/reports", name="reports", response_model=ReportSeries, responses=ERRORS)
async def report_series(
    principal: PrincipalDep,
    session: SessionDep,
    unit_id: UnitParam = None,
    series_from: FromParam = None,
    series_to: ToParam = None,
    interval: IntervalParam = SeriesInterval.day,
    by: ByParam = SeriesKey.category,
    format: FormatParam = None,
    accept: AcceptHeader = None,
) -> Any:
    """Reports filed in the unit's subtree per period and key (`from` defaults to 30
    days, 12 weeks or 12 months before `to`, which defaults to now; at most 1,000
    periods). The same series as CSV or XLSX: `GET /stats/reports/export`."""
    as_of = utcnow()
    unit, start, end, points = await _series(
        principal, session, unit_id, series_from, series_to, interval, by
    )
    if fmt := tabular_format(format, accept):
        return export_response(fmt, f"reports-{unit.code}", SERIES_COLUMNS, points)
    return ReportSeries(
        unit_id=unit.id,
        interval=interval,
        by=by,
        series_from=start,
        series_to=end,
        as_of=as_of,
        points=points,
    )


@router.get(
    "/reports/export", name="reports_export", responses=EXPORT_RESPONSES, response_class=Response
)
async def report_series_export(
    principal: PrincipalDep,
    session: SessionDep,
    format: ExportParam,
    unit_id: UnitParam = None,
    series_from: FromParam = None,
    series_to: ToParam = None,
    interval: IntervalParam = SeriesInterval.day,
    by: ByParam = SeriesKey.category,
) -> Response:
    """The points of `GET /stats/reports` as a table: `period_start`, `key`, `count`."""
    unit, _start, _end, points = await _series(
        principal, session, unit_id, series_from, series_to, interval, by
    )
    return export_response(format, f"reports-{unit.code}", SERIES_COLUMNS, points)


async def _document_rows(
    principal: PrincipalDep, session: SessionDep, document_id: uuid.UUID, unit_id: uuid.UUID | None
) -> tuple[Document, Unit, list[dict[str, Any]]]:
    document, audience = await stats.document_for_stats(session, principal, document_id)
    unit = await stats.resolve_unit(
        session, principal, unit_id or stats.default_document_unit(principal, audience)
    )
    return document, unit, await stats.document_acks(session, document, audience, unit)


@router.get(
    "/documents/{document_id}",
    name="documents",
    response_model=DocumentAckStats,
    responses=ERRORS,
)
async def document_stats(
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    unit_id: DocUnitParam = None,
    format: FormatParam = None,
    accept: AcceptHeader = None,
) -> Any:
    """Acknowledgement of a published (or archived) document's current revision per
    child unit: active members it addresses, those who acknowledged, the rate. The same
    table as CSV or XLSX: `GET /stats/documents/{document_id}/export`."""
    as_of = utcnow()
    document, unit, rows = await _document_rows(principal, session, document_id, unit_id)
    if fmt := tabular_format(format, accept):
        return export_response(fmt, f"document-{document.id}", DOCUMENT_COLUMNS, rows)
    return DocumentAckStats(
        document_id=document.id, revision=document.revision, unit_id=unit.id, as_of=as_of, rows=rows
    )


@router.get(
    "/documents/{document_id}/export",
    name="documents_export",
    responses=EXPORT_RESPONSES,
    response_class=Response,
)
async def document_stats_export(
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    format: ExportParam,
    unit_id: DocUnitParam = None,
) -> Response:
    """The rows of `GET /stats/documents/{document_id}` as a table."""
    _document, _unit, rows = await _document_rows(principal, session, document_id, unit_id)
    return export_response(format, f"document-{document_id}", DOCUMENT_COLUMNS, rows)
