from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import Header, Query, Response

from api.core.db import utcnow
from api.core.enums import Platform
from api.core.errors import problem_responses
from api.deps import PrincipalDep, SessionDep
from api.routers.common import authed_router
from api.schemas.common import Rfc3339Datetime
from api.schemas.stats import ComplianceReport, ComplianceRow, DocumentAckStats, ReportSeries
from api.services import stats

router = authed_router("/api/v1/stats", "stats")
ERRORS = problem_responses(401, 403, 404, 422)
CSV = "text/csv; charset=utf-8"
FormatParam = Annotated[
    Literal["json", "csv"] | None,
    Query(description="`csv` for UTF-8 CSV with a BOM (Excel); same as `Accept: text/csv`."),
]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]
UnitParam = Annotated[
    uuid.UUID | None,
    Query(description="The unit (default: the caller's one scope root; 404 outside the "
          "caller's statistics scope)."),
]  # fmt: skip
FromParam = Annotated[
    Rfc3339Datetime | None, Query(alias="from", description="RFC 3339 with offset.")
]
ToParam = Annotated[
    Rfc3339Datetime | None, Query(alias="to", description="RFC 3339 with offset; exclusive.")
]


def _ok(model: type[Any], csv_note: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model, "content": {"text/csv": {
        "schema": {"type": "string"}, "example": csv_note}}}, **ERRORS}  # fmt: skip


def _wants_csv(fmt: str | None, accept: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return (
        bool(accept) and "text/csv" in (accept or "") and "application/json" not in (accept or "")
    )


def _csv(filename: str, columns: list[str], rows: list[dict[str, Any]]) -> Response:
    return Response(
        stats.to_csv(columns, rows), media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )  # fmt: skip


COMPLIANCE_COLUMNS = [
    "unit_id", "unit_code", "unit_name", "is_total", "members_active", "leaders_active",
    "members_declared", "declaration_rate", "members_with_accounts", "leaders_with_accounts",
    "accounts_total", "accounts_verified", "accounts_pending",
    *(f"accounts_{p.value}" for p in Platform),
    "ack_rate", "acks_done", "acks_expected", "reports_filed", "reports_open", "reports_overdue",
    "reports_resolved", "median_hours_to_resolve",
]  # fmt: skip


@router.get(
    "/compliance", name="compliance", response_model=ComplianceReport,
    responses=_ok(ComplianceReport, "unit_id,unit_code,unit_name,is_total,members_active,…"),
)  # fmt: skip
async def compliance(
    principal: PrincipalDep, session: SessionDep, unit_id: UnitParam = None,
    group_by: Annotated[Literal["child", "self"], Query(
        description="`child`: a row per child unit and a total row; `self`: the unit only.")] = "child",
    report_from: FromParam = None, report_to: ToParam = None, format: FormatParam = None,
    accept: AcceptHeader = None,
) -> Any:  # fmt: skip
    """Compliance figures of the unit's subtree, per child unit and in total. Every
    figure is defined in the schema and equals the length of the matching list:
    `members_active` = `GET /members?unit_id=…&status=active`, `accounts_verified` =
    `GET /accounts?unit_id=…&status=verified`, `reports_open` = `GET /reports?unit_id=…`
    with the open statuses, `reports_overdue` = `…&overdue=true`. `from`/`to` bound the
    report figures by filing time. Managers, reviewers and analysts read their scope."""
    as_of = utcnow()
    unit = await stats.resolve_unit(session, principal, unit_id)
    rows = await stats.compliance(
        session, unit, group_by=group_by, start=report_from, end=report_to
    )
    if _wants_csv(format, accept):
        flat = [
            {**r, **{f"accounts_{p.value}": r["accounts_by_platform"][p] for p in Platform}}
            for r in rows
        ]
        return _csv(f"compliance-{unit.code}.csv", COMPLIANCE_COLUMNS, flat)
    return ComplianceReport(
        unit_id=unit.id, group_by=group_by, report_from=report_from, report_to=report_to,
        generated_at=utcnow(), as_of=as_of, rows=[ComplianceRow(**r) for r in rows],
    )  # fmt: skip


@router.get(
    "/reports", name="reports", response_model=ReportSeries,
    responses=_ok(ReportSeries, "period_start,key,count"),
)  # fmt: skip
async def report_series(
    principal: PrincipalDep, session: SessionDep, unit_id: UnitParam = None,
    series_from: FromParam = None, series_to: ToParam = None,
    interval: Annotated[Literal["day", "week", "month"], Query(
        description="Periods in Vietnam time (UTC+7); weeks start on Monday.")] = "day",
    by: Annotated[Literal["category", "platform", "status"], Query()] = "category",
    format: FormatParam = None, accept: AcceptHeader = None,
) -> Any:  # fmt: skip
    """Reports filed in the unit's subtree per period and key (`from` defaults to 30
    days, 12 weeks or 12 months before `to`, which defaults to now; at most 1,000
    periods)."""
    as_of = utcnow()
    unit = await stats.resolve_unit(session, principal, unit_id)
    end = series_to or utcnow()
    default_span = {
        "day": timedelta(days=30),
        "week": timedelta(weeks=12),
        "month": timedelta(days=365),
    }
    start = series_from or end - default_span[interval]
    points = await stats.report_series(
        session, unit, start=start, end=end, interval=interval, by=by
    )
    if _wants_csv(format, accept):
        return _csv(f"reports-{unit.code}.csv", ["period_start", "key", "count"], points)
    return ReportSeries(unit_id=unit.id, interval=interval, by=by, series_from=start,
                        series_to=end, as_of=as_of, points=points)  # fmt: skip


@router.get(
    "/documents/{document_id}", name="documents", response_model=DocumentAckStats,
    responses=_ok(DocumentAckStats, "unit_id,unit_code,unit_name,is_total,addressed,acknowledged,ack_rate"),
)  # fmt: skip
async def document_stats(
    document_id: uuid.UUID, principal: PrincipalDep, session: SessionDep,
    unit_id: Annotated[uuid.UUID | None, Query(
        description="The unit to break down (default: the document's audience unit, or the "
        "caller's one scope root inside it).")] = None,
    format: FormatParam = None, accept: AcceptHeader = None,
) -> Any:  # fmt: skip
    """Acknowledgement of a published (or archived) document's current revision per
    child unit: active members it addresses, those who acknowledged, the rate."""
    as_of = utcnow()
    document, audience = await stats.document_for_stats(session, principal, document_id)
    unit = await stats.resolve_unit(
        session, principal, unit_id or stats.default_document_unit(principal, audience)
    )
    rows = await stats.document_acks(session, document, audience, unit)
    if _wants_csv(format, accept):
        columns = [
            "unit_id",
            "unit_code",
            "unit_name",
            "is_total",
            "addressed",
            "acknowledged",
            "ack_rate",
        ]
        return _csv(f"document-{document.id}.csv", columns, rows)
    return DocumentAckStats(document_id=document.id, revision=document.revision, unit_id=unit.id,
                            as_of=as_of, rows=rows)  # fmt: skip
