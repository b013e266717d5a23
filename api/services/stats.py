"""Compliance statistics rolled up the tree.

Counted figures come from `unit_stats` (per-unit direct counters kept exact by
api/services/counters/) summed over a subtree by materialised path: one grouped range
scan over the unit's descendants, never a scan of the members. What depends on the clock
or on a date range is counted live from `reports` (open reports past their deadline; the
report figures when `from`/`to` are given; the median time to resolve), through the
`status, due_at` index and the reports' units.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    SQLColumnExpression,
    and_,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.csv_safety import safe_text
from api.core.db import utcnow
from api.core.enums import DocumentStatus, Platform, ReportStatus
from api.core.errors import Forbidden, NotFound, Unprocessable
from api.core.i18n import msg
from api.models import Document, Report, Unit, UnitDocumentAcks
from api.models.report import OPEN_STATUSES
from api.models.stats import PLATFORM_COLUMNS
from api.services import counters
from api.services.authz import Action, Principal, in_subtree, scope_filter, subtree_end
from api.services.counters import COUNT_COLUMNS

# The total row's unit_name: always Vietnamese (a value of the table, not a message).
TOTAL_VI = msg("stats.total_row").render("vi")
VN_OFFSET = timedelta(hours=7)  # Vietnam time, no daylight saving
MAX_PERIODS = 1000
PATH_SEGMENT = 33  # 32 hex digits and a slash


def _forbidden() -> Forbidden:
    return Forbidden(detail=msg("stats.role_may_not_read"))


def _not_found() -> NotFound:
    return NotFound("not_found", msg("units.not_found"))


async def resolve_unit(
    session: AsyncSession, principal: Principal, unit_id: uuid.UUID | None
) -> Unit:
    """The unit asked for (404 outside the caller's statistics scope), or by default the
    caller's one scope root (the one root unit for admins); 422 when that is ambiguous."""
    if not principal.can_anywhere(Action.STATS_READ):
        raise _forbidden()
    visible = select(Unit).where(scope_filter(principal, Action.STATS_READ, Unit.path))
    if unit_id is not None:
        unit = await session.scalar(visible.where(Unit.id == unit_id))
        if unit is None:
            raise _not_found()
        return unit
    paths = principal.paths_for(Action.STATS_READ)
    if paths is None:
        roots = list((await session.scalars(select(Unit).where(Unit.parent_id.is_(None)))).all())
    else:
        roots = list((await session.scalars(select(Unit).where(Unit.path.in_(paths)))).all())
        roots = [
            u for u in roots if not any(u.path.startswith(o.path) and u is not o for o in roots)
        ]
    if len(roots) != 1:
        raise Unprocessable(
            "validation_failed",
            msg("stats.choose_unit"),
            extra={
                "errors": [{"loc": ["query", "unit_id"], "msg": "required here", "type": "missing"}]
            },
        )
    return roots[0]


async def _children(session: AsyncSession, unit: Unit) -> list[Unit]:
    return list(
        (
            await session.scalars(
                select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.name_search, Unit.code)
            )
        ).all()
    )


def _prefix(path_column: SQLColumnExpression[str], unit: Unit) -> ColumnElement[str]:
    """A descendant's path cut to its child-of-`unit` ancestor; `unit`'s own path for
    the unit itself."""
    return func.substr(path_column, 1, len(unit.path) + PATH_SEGMENT)


@dataclass
class Rollup:
    """A subtree's figures: its counters (COUNT_COLUMNS, and `reports_overdue` when counted
    live) and the median hours to resolve its reports."""

    counts: dict[str, int] = field(default_factory=dict)
    median_hours_to_resolve: float | None = None


# A row of a statistics table (JSON object, CSV or XLSX row): the unit's columns and its
# figures.
StatsRow = dict[str, object]


async def _rollups(session: AsyncSession, units: list[Unit]) -> dict[uuid.UUID, Rollup]:
    """{unit id: its subtree's counters and median}: the folded rollup plus the subtree's
    pending deltas, read in one statement (api/services/counters/), so a read made after
    a write's answer includes that write."""
    out: dict[uuid.UUID, Rollup] = {}
    for chunk in counters.chunks([u.id for u in units], uses=2):  # a unit may have many children
        rows = await session.execute(counters.pending_rollups(), {"unit_ids": list(chunk)})
        for row in rows.all():
            rollup = out.setdefault(row.unit_id, Rollup(dict.fromkeys(COUNT_COLUMNS, 0)))
            for c in COUNT_COLUMNS:
                rollup.counts[c] += int(getattr(row, c) or 0)
            if row.median_hours_to_resolve is not None:
                rollup.median_hours_to_resolve = row.median_hours_to_resolve
    return out


def _report_window(
    unit: Unit, start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    window = [in_subtree(Unit.path, unit.path)]
    if start is not None:
        window.append(Report.created_at >= start)
    if end is not None:
        window.append(Report.created_at < end)
    return window


async def _open_not_due(session: AsyncSession, unit: Unit) -> dict[str, int]:
    """Per path prefix: open reports whose deadline has not passed. They are only the
    recent ones (deadlines are hours away), so overdue = open − these is cheap."""
    params = {
        "cut": len(unit.path) + PATH_SEGMENT,
        "low": unit.path,
        "high": subtree_end(unit.path),
        "now": utcnow(),
    }
    return {row.prefix: int(row.n) for row in (await session.execute(_OPEN_NOT_DUE, params))}


# Built once: every statistics read without a date range runs it (see pending_rollups).
_OPEN_PREFIX = func.substr(Unit.path, 1, bindparam("cut", type_=Integer)).label("prefix")
_OPEN_NOT_DUE = (
    select(_OPEN_PREFIX, func.count().label("n"))
    .select_from(Report)
    .join(Unit, Unit.id == Report.unit_id)
    .where(
        Report.status.in_(OPEN_STATUSES),
        Report.due_at >= bindparam("now", type_=DateTime(timezone=True)),
        Unit.path >= bindparam("low", type_=Unit.path.type),
        Unit.path < bindparam("high", type_=Unit.path.type),
    )
    .group_by(_OPEN_PREFIX)
)


async def _ranged_reports(
    session: AsyncSession, unit: Unit, start: datetime | None, end: datetime | None
) -> dict[str, dict[str, int]]:
    """Per path prefix: the report figures of reports filed within [start, end), counted
    live (a date range is not something counters can hold)."""
    now = utcnow()
    prefix = _prefix(Unit.path, unit).label("prefix")
    is_open = Report.status.in_(OPEN_STATUSES)
    stmt = (
        select(
            prefix,
            func.count().label("reports_filed"),
            func.sum(case((is_open, 1), else_=0)).label("reports_open"),
            func.sum(case((and_(is_open, Report.due_at < now), 1), else_=0)).label(
                "reports_overdue"
            ),
            func.sum(case((Report.status == ReportStatus.resolved, 1), else_=0)).label(
                "reports_resolved"
            ),
        )
        .join(Unit, Unit.id == Report.unit_id)
        .where(*_report_window(unit, start, end))
        .group_by(prefix)
    )
    out: dict[str, dict[str, int]] = {
        row.prefix: {
            k: int(getattr(row, k) or 0)
            for k in ("reports_filed", "reports_open", "reports_overdue", "reports_resolved")
        }
        for row in (await session.execute(stmt)).all()
    }
    return out


def _rate(done: int, expected: int) -> float | None:
    return done / expected if expected else None


def _figures(rollup: Rollup, not_due: int) -> StatsRow:
    counts = rollup.counts

    def count(c: str) -> int:
        return counts.get(c, 0)

    figures: StatsRow = {c: count(c) for c in COUNT_COLUMNS if c not in PLATFORM_COLUMNS}
    figures["accounts_by_platform"] = {p: count(f"accounts_{p.value}") for p in Platform}
    figures["declaration_rate"] = _rate(count("members_declared"), count("members_active"))
    figures["acks_done"] = figures.pop("ack_done")
    figures["acks_expected"] = figures.pop("ack_expected")
    figures["ack_rate"] = _rate(count("ack_done"), count("ack_expected"))
    figures["reports_overdue"] = counts.get("reports_overdue", count("reports_open") - not_due)
    figures["median_hours_to_resolve"] = rollup.median_hours_to_resolve
    return figures


async def compliance(
    session: AsyncSession,
    unit: Unit,
    *,
    group_by: str,
    start: datetime | None,
    end: datetime | None,
) -> list[StatsRow]:
    """Rows for each child (group_by=child) and a total, or the unit alone (self).
    Counted figures are the maintained rollups (one row per unit read); overdue is open
    minus the open reports not yet due; with `from`/`to` the report figures and the
    median are counted live over the reports filed in that window."""
    if start is not None and end is not None:
        _check_window(start, end)
    children = [] if group_by == "self" else await _children(session, unit)
    units = [*children, unit]
    rollups = await _rollups(session, units)
    window: _Window | None = None
    not_due: dict[str, int] = {}
    if start is not None or end is not None:
        window = await _window(session, unit, children, start, end)
    else:
        not_due = await _open_not_due(session, unit)

    def row(u: Unit, own: bool) -> StatsRow:
        pending = (
            sum(v for k, v in not_due.items() if k.startswith(u.path))
            if own
            else (not_due.get(u.path, 0))
        )
        return {
            "unit_id": u.id,
            "unit_code": u.code,
            "unit_name": u.name,
            "is_total": False,
            **_figures(_counts(rollups.get(u.id), window, u, own), pending),
        }

    if group_by == "self":
        return [row(unit, True)]
    rows = [row(child, False) for child in children]
    total = row(unit, True)
    rows.append(
        {**total, "unit_id": None, "unit_code": None, "unit_name": TOTAL_VI, "is_total": True}
    )
    return rows


@dataclass
class _Window:
    """The report figures counted live over a date range: per path prefix, and the
    medians of the children's subtrees and of the whole."""

    reports: dict[str, dict[str, int]]
    medians: dict[str, float | None]
    total_median: float | None


async def _window(
    session: AsyncSession,
    unit: Unit,
    children: list[Unit],
    start: datetime | None,
    end: datetime | None,
) -> _Window:
    ranged = await _ranged_reports(session, unit, start, end)
    window = _report_window(unit, start, end)[1:]
    medians = await counters.subtree_medians(session, [u.path for u in children], window)
    total_median = (await counters.subtree_medians(session, [unit.path], window))[unit.path]
    return _Window(ranged, medians, total_median)


def _counts(rollup: Rollup | None, window: _Window | None, u: Unit, own: bool) -> Rollup:
    """The unit's rollup (`own`: its whole subtree, else as a child), with the report
    figures and the median of the date range when there is one."""
    base = Rollup(dict(rollup.counts), rollup.median_hours_to_resolve) if rollup else Rollup()
    if window is not None:
        ranged = window.reports
        parts = (
            [v for k, v in ranged.items() if k.startswith(u.path)]
            if own
            else [ranged.get(u.path, {})]
        )
        for key in ("reports_filed", "reports_open", "reports_overdue", "reports_resolved"):
            base.counts[key] = sum(p.get(key, 0) for p in parts)
        base.median_hours_to_resolve = window.total_median if own else window.medians.get(u.path)
    return base


# --------------------------------------------------------------------------- series

INTERVALS = ("day", "week", "month")
SERIES_BY = {"category": Report.category, "platform": Report.platform, "status": Report.status}


def _check_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise Unprocessable(
            "validation_failed",
            msg("stats.to_before_from"),
            extra={
                "errors": [{"loc": ["query", "to"], "msg": "not after from", "type": "value_error"}]
            },
        )


def _period_sql(session: AsyncSession, interval: str) -> ColumnElement[datetime | str]:
    """The period's start in Vietnam time, as a naive local timestamp or text."""
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone("Asia/Ho_Chi_Minh", Report.created_at)
        return func.date_trunc(interval, local)
    local = func.datetime(Report.created_at, "+7 hours")
    if interval == "day":
        return func.date(local)
    if interval == "week":
        return func.date(local, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", local)


def _period_start(value: datetime | str) -> datetime:
    local: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return local.replace(tzinfo=UTC) - VN_OFFSET


def _periods(start: datetime, end: datetime, interval: str) -> int:
    days = (end - start).total_seconds() / 86400
    return int(days / {"day": 1, "week": 7, "month": 28}[interval]) + 1


async def report_series(
    session: AsyncSession, unit: Unit, *, start: datetime, end: datetime, interval: str, by: str
) -> list[StatsRow]:
    _check_window(start, end)
    if _periods(start, end, interval) > MAX_PERIODS:
        raise Unprocessable(
            "validation_failed",
            msg("stats.range_too_long", max_periods=MAX_PERIODS),
            extra={
                "errors": [
                    {"loc": ["query", "from"], "msg": "too many periods", "type": "value_error"}
                ]
            },
        )
    period = _period_sql(session, interval).label("period")
    key = SERIES_BY[by].label("key")
    stmt = (
        select(period, key, func.count().label("n"))
        .select_from(Report)
        .join(Unit, Unit.id == Report.unit_id)
        .where(
            in_subtree(Unit.path, unit.path), Report.created_at >= start, Report.created_at < end
        )
        .group_by(period, key)
        .order_by(period, key)
    )
    return [
        {
            "period_start": _period_start(row.period),
            "key": str(getattr(row.key, "value", row.key)),
            "count": int(row.n),
        }
        for row in (await session.execute(stmt)).all()
    ]


# --------------------------------------------------------------------------- documents


async def document_for_stats(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID
) -> tuple[Document, Unit]:
    """A published or archived document whose audience meets the caller's statistics
    scope (it addresses part of it, or lies inside it); 404 otherwise."""
    if not principal.can_anywhere(Action.STATS_READ):
        raise _forbidden()
    row = (
        await session.execute(
            select(Document, Unit)
            .join(Unit, Unit.id == Document.audience_unit_id)
            .where(Document.id == document_id, Document.status != DocumentStatus.draft)
        )
    ).first()
    paths = principal.paths_for(Action.STATS_READ)
    if row is None or (
        paths is not None
        and not any(row[1].path.startswith(p) or p.startswith(row[1].path) for p in paths)
    ):
        raise NotFound("not_found", msg("documents.not_found"))
    return row[0], row[1]


def default_document_unit(principal: Principal, audience: Unit) -> uuid.UUID | None:
    """The audience unit when the caller's statistics scope holds it; else the caller's
    one scope root inside the audience (None: let resolve_unit decide, 404 or 422)."""
    paths = principal.paths_for(Action.STATS_READ)
    if paths is None or any(audience.path.startswith(p) for p in paths):
        return audience.id
    inside = sorted({p for p in paths if p.startswith(audience.path)})
    outermost = [p for p in inside if not any(p != o and p.startswith(o) for o in inside)]
    if len(outermost) == 1:
        return uuid.UUID(hex=outermost[0].strip("/").rsplit("/", 1)[-1])
    return None


async def document_acks(
    session: AsyncSession, document: Document, audience: Unit, unit: Unit
) -> list[StatsRow]:
    """Per child of `unit` and in total: the active members the document addresses and
    those who acknowledged its current revision."""
    children = await _children(session, unit)
    rollups = await _rollups(session, [*children, unit, audience])
    prefix = _prefix(Unit.path, unit).label("prefix")
    acked: dict[str, int] = {
        row.prefix: int(row.n)
        for row in (
            await session.execute(
                select(prefix, func.sum(UnitDocumentAcks.acks).label("n"))
                .join(Unit, Unit.id == UnitDocumentAcks.unit_id)
                .where(
                    UnitDocumentAcks.document_id == document.id, in_subtree(Unit.path, unit.path)
                )
                .group_by(prefix)
            )
        ).all()
    }

    def active(u: Unit) -> int:
        rollup = rollups.get(u.id)
        return rollup.counts.get("members_active", 0) if rollup else 0

    def addressed(u: Unit) -> int:
        if u.path.startswith(audience.path):  # the audience holds this whole subtree
            return active(u)
        if audience.path.startswith(u.path):  # the audience lies inside it
            return active(audience)
        return 0

    def row(u: Unit, done: int, total: bool) -> StatsRow:
        n = addressed(u)
        return {
            "unit_id": None if total else u.id,
            "unit_code": None if total else u.code,
            "unit_name": TOTAL_VI if total else u.name,
            "is_total": total,
            "addressed": n,
            "acknowledged": done,
            "ack_rate": _rate(done, n),
        }

    rows = [row(child, acked.get(child.path, 0), False) for child in children]
    rows.append(row(unit, sum(acked.values()), True))
    return rows


# --------------------------------------------------------------------------- CSV


def to_csv(columns: Sequence[str], rows: Sequence[Mapping[str, object]]) -> bytes:
    """UTF-8 with a BOM (so Excel reads Vietnamese right), one header row, every text
    cell quoted and neutralised (api/core/csv_safety.py)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _cell(row.get(c)) for c in columns])
    return "\ufeff".encode() + buffer.getvalue().encode()


def _cell(value: object) -> str | int | float:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return safe_text(value)  # no formula injection when a spreadsheet opens the file
    if isinstance(value, int | float):
        return value
    return str(value)  # ids and the like: text, quoted
