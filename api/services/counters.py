"""Per-unit compliance counters (`unit_stats`, `unit_document_acks`), kept exact by
recounting the units a transaction touched, inside that transaction.

Every service that changes what the statistics count calls `touch(session, units)` with
the units whose direct rows changed (a member's old and new unit, an account's member's
unit, a report's unit, a document's audience subtree). The recount is set-based — one
aggregate statement per kind of row for the whole set of units — so a roster sync of
100,000 rows recounts its units in a handful of statements.

Why recount rather than add deltas: a recount from the rows cannot drift, whatever the
path that changed them, and `qd85 recount` is the same code over every unit. Concurrency:
on PostgreSQL the touched units' rows are first locked `FOR NO KEY UPDATE` in id order
(compatible with the key-share locks that foreign-key checks take), so two transactions
touching one unit recount one after the other, and the second one's statements see the
first one's committed rows (READ COMMITTED takes a new snapshot per statement).
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Select,
    Table,
    Uuid,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.core.enums import (
    AccountStatus,
    Declaration,
    DocumentStatus,
    MemberStatus,
    Platform,
    ReportStatus,
)
from api.models import Account, Document, DocumentAcknowledgement, Member, Report, Unit
from api.models.report import OPEN_STATUSES
from api.models.stats import UnitDocumentAcks, UnitRollup, UnitStats
from api.services.authz import in_subtree

UnitSet = Iterable[uuid.UUID | None] | Select[Any]


def _one(flag: Any) -> Any:
    return func.sum(case((flag, 1), else_=0))


def _addressed(unit_path: Any, audience_path: Any) -> Any:
    """The document's audience unit is the unit or one of its ancestors."""
    return func.substr(unit_path, 1, func.length(audience_path)) == audience_path


def _member_counts(ids: Any) -> Any:
    active = Member.status == MemberStatus.active
    has_account = exists().where(Account.member_id == Member.id, Account.claim_key.is_not(None))
    return (
        select(
            Member.unit_id.label("unit_id"),
            _one(active).label("members_active"),
            _one(and_(active, Member.is_leader)).label("leaders_active"),
            _one(and_(active, Member.declaration != Declaration.not_declared)).label(
                "members_declared"
            ),
            _one(and_(active, has_account)).label("members_with_accounts"),
            _one(and_(active, Member.is_leader, has_account)).label("leaders_with_accounts"),
        )
        .where(Member.unit_id.in_(ids))
        .group_by(Member.unit_id)
        .subquery()
    )


def _account_counts(ids: Any) -> Any:
    claimed = Account.claim_key.is_not(None)
    return (
        select(
            Member.unit_id.label("unit_id"),
            _one(claimed).label("accounts_total"),
            _one(Account.status == AccountStatus.verified).label("accounts_verified"),
            _one(Account.status == AccountStatus.pending).label("accounts_pending"),
            *(
                _one(and_(claimed, Account.platform == p)).label(f"accounts_{p.value}")
                for p in Platform
            ),
        )
        .join(Member, Member.id == Account.member_id)
        .where(Member.unit_id.in_(ids))
        .group_by(Member.unit_id)
        .subquery()
    )


def _report_counts(ids: Any) -> Any:
    return (
        select(
            Report.unit_id.label("unit_id"),
            func.count().label("reports_filed"),
            _one(Report.status.in_(OPEN_STATUSES)).label("reports_open"),
            _one(Report.status == ReportStatus.resolved).label("reports_resolved"),
        )
        .where(Report.unit_id.in_(ids))
        .group_by(Report.unit_id)
        .subquery()
    )


def _counted_documents() -> Any:
    return and_(Document.status == DocumentStatus.published, Document.requires_ack.is_(True))


def _documents_addressing(ids: Any) -> Any:
    u, a = aliased(Unit), aliased(Unit)
    return (
        select(u.id.label("unit_id"), func.count(Document.id).label("n_docs"))
        .join(Document, _counted_documents())
        .join(a, and_(a.id == Document.audience_unit_id, _addressed(u.path, a.path)))
        .where(u.id.in_(ids))
        .group_by(u.id)
        .subquery()
    )


def _acks(ids: Any) -> Any:
    """Acknowledgements of current revisions of published documents addressing the
    member's unit, by active members of the units, per (unit, document)."""
    ack, u, a = DocumentAcknowledgement, aliased(Unit), aliased(Unit)
    # Archived documents keep their figures (their statistics stay readable).
    documents = Document.status.in_([DocumentStatus.published, DocumentStatus.archived])
    return (
        select(Member.unit_id.label("unit_id"), ack.document_id.label("document_id"),
               func.count().label("acks"))
        .select_from(ack)
        .join(Member, and_(Member.id == ack.member_id, Member.status == MemberStatus.active))
        .join(Document, and_(Document.id == ack.document_id, Document.revision == ack.revision,
                             documents))
        .join(u, u.id == Member.unit_id)
        .join(a, and_(a.id == Document.audience_unit_id, _addressed(u.path, a.path)))
        .where(Member.unit_id.in_(ids))
        .group_by(Member.unit_id, ack.document_id)
    )  # fmt: skip


def _ack_done(ids: Any) -> Any:
    """From the units' per-document counts (written first): those of documents that
    require acknowledgement."""
    uda = UnitDocumentAcks
    return (
        select(uda.unit_id.label("unit_id"), func.sum(uda.acks).label("ack_done"))
        .join(Document, and_(Document.id == uda.document_id, _counted_documents()))
        .where(uda.unit_id.in_(ids))
        .group_by(uda.unit_id)
        .subquery()
    )


COUNT_COLUMNS = tuple(c.name for c in UnitStats.__table__.columns if c.name != "unit_id")
CHUNK = 2000
ROLLUPS: Table = UnitRollup.__table__  # type: ignore[assignment]  # Core: executemany by bound id, not ORM bulk by primary key


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _ancestry(path: str) -> list[uuid.UUID]:
    """The ids on a materialised path, root first (the unit itself last)."""
    return [uuid.UUID(hex=part) for part in path.strip("/").split("/") if part]


def _id_sets(session: AsyncSession, ids: list[uuid.UUID]) -> Iterator[Any]:
    """What `column.in_(…)` takes for a set of unit ids: on PostgreSQL one array parameter
    unnested (a statement that names the set several times stays small and plans fast,
    whatever its size); on SQLite lists of at most CHUNK ids (its parameter limit)."""
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield select(func.unnest(bindparam("unit_ids", ids, type_=postgresql.ARRAY(Uuid()))))
    else:
        yield from _chunks(ids)


async def _lock(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        for chunk in _chunks(sorted(ids)):
            await session.execute(
                select(Unit.id).where(Unit.id.in_(chunk)).order_by(Unit.id)
                .with_for_update(key_share=True)
            )  # fmt: skip


async def _recount_direct(session: AsyncSession, ids: Any) -> None:
    await session.execute(delete(UnitDocumentAcks).where(UnitDocumentAcks.unit_id.in_(ids)))
    per_document = _acks(ids)
    await session.execute(
        insert(UnitDocumentAcks).from_select(["unit_id", "document_id", "acks"], per_document)
    )
    m, acc, rep = _member_counts(ids), _account_counts(ids), _report_counts(ids)
    docs, done = _documents_addressing(ids), _ack_done(ids)
    zero = literal(0)
    values: dict[str, Any] = {}
    for sub in (m, acc, rep):
        for column in sub.c:
            if column.name != "unit_id":
                values[column.name] = func.coalesce(column, zero)
    values["ack_expected"] = func.coalesce(m.c.members_active, zero) * func.coalesce(
        docs.c.n_docs, zero
    )
    values["ack_done"] = func.coalesce(done.c.ack_done, zero)
    rows = (
        select(Unit.id, *(values[name].label(name) for name in COUNT_COLUMNS))
        .outerjoin(m, m.c.unit_id == Unit.id)
        .outerjoin(acc, acc.c.unit_id == Unit.id)
        .outerjoin(rep, rep.c.unit_id == Unit.id)
        .outerjoin(docs, docs.c.unit_id == Unit.id)
        .outerjoin(done, done.c.unit_id == Unit.id)
        .where(Unit.id.in_(ids))
    )
    await session.execute(delete(UnitStats).where(UnitStats.unit_id.in_(ids)))
    await session.execute(insert(UnitStats).from_select(["unit_id", *COUNT_COLUMNS], rows))


async def _rollup(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """Rollups of units that all lie at one depth, from their own counters and their
    children's rollups (which are current: deeper levels go first)."""
    child, r = aliased(Unit), aliased(UnitRollup)
    children = (
        select(child.parent_id.label("parent_id"),
               *(func.sum(getattr(r, c)).label(c) for c in COUNT_COLUMNS))
        .join(r, r.unit_id == child.id)
        .where(child.parent_id.in_(ids))
        .group_by(child.parent_id)
        .subquery()
    )  # fmt: skip
    zero = literal(0)
    rows = (
        select(Unit.id, *(
            (func.coalesce(getattr(UnitStats, c), zero) + func.coalesce(getattr(children.c, c), zero)).label(c)
            for c in COUNT_COLUMNS
        ))
        .outerjoin(UnitStats, UnitStats.unit_id == Unit.id)
        .outerjoin(children, children.c.parent_id == Unit.id)
        .where(Unit.id.in_(ids))
    )  # fmt: skip
    # An upsert that leaves the stored median alone (it changes only with resolved reports).
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(ROLLUPS).from_select(["unit_id", *COUNT_COLUMNS], rows)
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=[ROLLUPS.c.unit_id],
            set_={c: getattr(upsert.excluded, c) for c in COUNT_COLUMNS},
        )
    )


def resolve_hours(session: AsyncSession) -> Any:
    """(closed_at − created_at) in hours, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", Report.closed_at - Report.created_at) / 3600.0
    return (func.julianday(Report.closed_at) - func.julianday(Report.created_at)) * 24.0


async def subtree_medians(
    session: AsyncSession, paths: Sequence[str], where: Sequence[Any] = ()
) -> dict[str, float | None]:
    """{path: median hours to resolve of the resolved reports filed in its subtree}. The
    paths all have one length (one depth). PostgreSQL computes percentile_cont per group;
    SQLite (the embedded default, small data) hands the hours to Python."""
    if not paths:
        return {}
    length = len(paths[0])
    prefix = func.substr(Unit.path, 1, length).label("prefix")
    resolved = [
        Report.status == ReportStatus.resolved, Report.closed_at.is_not(None), *where,
    ]  # fmt: skip
    out: dict[str, float | None] = dict.fromkeys(paths)
    for chunk in _chunks(list(paths)):
        scope = in_subtree(Unit.path, chunk[0]) if len(chunk) == 1 else prefix.in_(chunk)
        if session.get_bind().dialect.name == "postgresql":
            stmt = (
                select(prefix, func.percentile_cont(0.5).within_group(resolve_hours(session)))
                .select_from(Report).join(Unit, Unit.id == Report.unit_id)
                .where(scope, *resolved).group_by(prefix)
            )  # fmt: skip
            for row in (await session.execute(stmt)).all():
                out[row[0]] = round(float(row[1]), 4)
        else:
            stmt = (
                select(prefix, resolve_hours(session))
                .select_from(Report).join(Unit, Unit.id == Report.unit_id)
                .where(scope, *resolved)
            )  # fmt: skip
            hours: dict[str, list[float]] = {}
            for row in (await session.execute(stmt)).all():
                hours.setdefault(row[0], []).append(float(row[1]))
            for key, values in hours.items():
                out[key] = round(statistics.median(values), 4)
    return out


async def _medians(session: AsyncSession, units: Sequence[tuple[uuid.UUID, str]]) -> None:
    by_depth: dict[int, list[tuple[uuid.UUID, str]]] = {}
    for unit_id, path in units:
        by_depth.setdefault(len(path), []).append((unit_id, path))
    for group in by_depth.values():
        medians = await subtree_medians(session, [p for _, p in group])
        params = [{"uid": unit_id, "m": medians.get(path)} for unit_id, path in group]
        await session.execute(
            update(ROLLUPS).where(ROLLUPS.c.unit_id == bindparam("uid"))
            .values(median_hours_to_resolve=bindparam("m"))
            .execution_options(synchronize_session=False),
            params,
        )  # fmt: skip


async def touch(
    session: AsyncSession, units: UnitSet, *, reports: bool = False,
    moved_from: Sequence[str] = (),
) -> None:  # fmt: skip
    """Recount the direct counters of these units (ids, or a SELECT of unit ids) from
    their rows, then the rollups of the units and of all their ancestors, bottom-up, in
    the caller's transaction. `reports=True` when resolved reports changed: the medians of
    the ancestors are recomputed too. `moved_from`: former paths of units that moved away,
    (the units themselves included), whose old ancestors' rollups must lose them."""
    await session.flush()
    ids: Any
    if isinstance(units, Select):
        ids = units
    else:
        ids = sorted({u for u in units if u is not None})
        if not ids and not moved_from:
            return
    touched = (
        (await session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(ids)))).all()
        if not isinstance(ids, list) or ids
        else []
    )
    paths = dict(touched)
    for old in moved_from:
        for ancestor in _ancestry(old):
            paths.setdefault(ancestor, "")
    for _, path in touched:
        for ancestor in _ancestry(path)[:-1]:
            paths.setdefault(ancestor, "")
    missing = [u for u, p in paths.items() if not p]
    for chunk in _chunks(missing):
        for unit_id, path in (
            await session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(chunk)))
        ).all():
            paths[unit_id] = path
    paths = {u: p for u, p in paths.items() if p}
    await _lock(session, list(paths))
    for id_set in _id_sets(session, sorted(u for u, _ in touched)):
        await _recount_direct(session, id_set)
    levels: dict[int, list[uuid.UUID]] = {}
    for unit_id, path in paths.items():
        levels.setdefault(len(path), []).append(unit_id)
    for length in sorted(levels, reverse=True):
        for id_set in _id_sets(session, sorted(levels[length])):
            await _rollup(session, id_set)
    if reports or moved_from:
        targets = list(paths.items())
        if not reports:  # a move: only the ancestors' subtrees changed
            direct = {u for u, _ in touched}
            targets = [(u, p) for u, p in targets if u not in direct]
        await _medians(session, targets)


def subtree_units(path: str) -> Select[Any]:
    return select(Unit.id).where(in_subtree(Unit.path, path))


async def recount_all(session: AsyncSession) -> int:
    """Rebuild every counter, rollup and median from scratch (`qd85 recount`); returns
    the number of units."""
    for model in (UnitStats, UnitRollup, UnitDocumentAcks):
        await session.execute(delete(model))
    await _recount_direct(session, select(Unit.id))
    units = (await session.execute(select(Unit.id, Unit.path))).all()
    levels: dict[int, list[uuid.UUID]] = {}
    for unit_id, path in units:
        levels.setdefault(len(path), []).append(unit_id)
    for length in sorted(levels, reverse=True):
        for chunk in _chunks(sorted(levels[length])):
            await _rollup(session, chunk)
    await _medians(session, [(u, p) for u, p in units])
    return len(units)
