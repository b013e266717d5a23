"""Compliance statistics kept exact without a shared hot row (`unit_stats`,
`unit_document_acks`, `counter_deltas`, `unit_rollups`).

Direct counters: every service that changes what the statistics count calls
`touch(session, units)` with the units whose own rows changed (a member's old and new
unit, an account's member's unit, a report's unit, a document's audience subtree). Those
units' rows are locked (`FOR NO KEY UPDATE`, compatible with foreign-key checks) and their
`unit_stats` recounted from the rows, set-based, in the writing transaction: a unit's
counters cannot drift, whatever the path that changed its rows, and `qd85 recount` is the
same code over every unit. A roster apply moves each changed member's contribution instead
(`shift`), in proportion to the rows changed.

Subtree figures: the write appends the change of each unit's counters to
`counter_deltas` (insert-only, stamped with the unit's path) and touches nothing above
the unit. The folder (`fold`: a task in each worker every `QD85_FOLD_INTERVAL_SECONDS`,
one at a time across replicas under a PostgreSQL advisory lock; `qd85 fold`) claims
pending deltas, adds them to the rollups of every unit on their paths, refreshes the
medians their resolved reports changed, and deletes them, in one transaction. A read
takes the rollup plus the subtree's pending deltas in one statement (`pending_rollups`):
exact at once, whether or not the folder has run. So writes in different units never wait
on each other: the root's rollup row is written by the folder alone. SQLite has one writer
at a time: it folds inside each writing transaction.

Moves: `detach` appends the moving units' counters negated under their old paths before
the move; `touch(…, moved=True)` recounts them (the documents addressing them change with
their ancestors) and appends them whole under the new paths.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
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
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.core.db import upsert_insert, utcnow
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
from api.models.stats import (
    PLATFORM_COLUMNS,
    CounterDelta,
    UnitDocumentAcks,
    UnitRollup,
    UnitStats,
)
from api.services.authz import in_subtree

UnitSet = Iterable[uuid.UUID | None] | Select[Any]
logger = logging.getLogger("qd85.counters")


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
        select(
            Member.unit_id.label("unit_id"),
            ack.document_id.label("document_id"),
            func.count().label("acks"),
        )
        .select_from(ack)
        .join(Member, and_(Member.id == ack.member_id, Member.status == MemberStatus.active))
        .join(
            Document,
            and_(Document.id == ack.document_id, Document.revision == ack.revision, documents),
        )
        .join(u, u.id == Member.unit_id)
        .join(a, and_(a.id == Document.audience_unit_id, _addressed(u.path, a.path)))
        .where(Member.unit_id.in_(ids))
        .group_by(Member.unit_id, ack.document_id)
    )


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
RESOLVED = COUNT_COLUMNS.index("reports_resolved")
# Bound parameters one statement may carry: asyncpg allows 32,767, SQLite 32,766 (its
# default since 3.32). A statement that lists ids takes `PARAM_BUDGET // uses` of them at a
# time (`uses`: how often the statement names the list), leaving the rest of the budget to
# its other parameters (enum values, literals, defaults). Never a number of rows per
# statement: a row's parameter count is what crosses the limit (issue 21).
PARAM_BUDGET = 30_000
# Up to this many touched units, rollups change by deltas; beyond, bottom-up recounts.
DELTA_UNITS = 64
DELTAS: Table = CounterDelta.__table__  # type: ignore[assignment]
_STATS: Table = UnitStats.__table__  # type: ignore[assignment]
_UDA: Table = UnitDocumentAcks.__table__  # type: ignore[assignment]
ROLLUPS: Table = UnitRollup.__table__  # type: ignore[assignment]  # Core: executemany by bound id, not ORM bulk by primary key


def chunks(items: Sequence[Any], uses: int = 1) -> Iterator[Sequence[Any]]:
    """`items` in slices that keep a statement naming them `uses` times within budget."""
    size = PARAM_BUDGET // uses
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _ancestry(path: str) -> list[uuid.UUID]:
    """The ids on a materialised path, root first (the unit itself last)."""
    return [uuid.UUID(hex=part) for part in path.strip("/").split("/") if part]


# How often the largest statement given an id set names it (`_recount_direct`'s upsert).
ID_SET_USES = 6


def _id_sets(session: AsyncSession, ids: Sequence[uuid.UUID]) -> Iterator[Any]:
    """What `column.in_(…)` takes for a set of unit ids: on PostgreSQL one array parameter
    unnested (a statement that names the set several times stays small and plans fast,
    whatever its size); on SQLite lists short enough for its parameter limit."""
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield select(func.unnest(bindparam("unit_ids", list(ids), type_=postgresql.ARRAY(Uuid()))))
    else:
        yield from chunks(ids, uses=ID_SET_USES)


def _recount_statements(ids: Any, returning: bool = True) -> tuple[Any, Any, Any, Any]:
    """The four statements that recount the units `ids` (a set expression): their
    per-document acknowledgements (delete, insert) and their counters (delete, insert),
    the last two `returning` the old and the new counters."""
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
    counters = (UnitStats.unit_id, *(getattr(UnitStats, c) for c in COUNT_COLUMNS))
    old = delete(UnitStats).where(UnitStats.unit_id.in_(ids))
    new = insert(UnitStats).from_select(["unit_id", *COUNT_COLUMNS], rows)
    return (
        delete(UnitDocumentAcks).where(UnitDocumentAcks.unit_id.in_(ids)),
        insert(UnitDocumentAcks).from_select(["unit_id", "document_id", "acks"], _acks(ids)),
        old.returning(*counters) if returning else old,
        new.returning(*counters) if returning else new,
    )


# What a write changed, so which counters of its units it recounts: everything (members,
# documents), or only what an account or a report write can change. An account write
# changes the members' and accounts' counters, never acknowledgements or documents; a
# report write only the reports' (the recounts the campaign writes make, kept small).
ALL, ACCOUNTS, REPORTS = "all", "accounts", "reports"
_PARTS = {ACCOUNTS: (_member_counts, _account_counts), REPORTS: (_report_counts,)}


def _partial_statements(dialect: str, ids: Any, part: str) -> tuple[Any, Any]:
    """The two statements that recount only `part`'s counters of the units `ids`: their
    counters before (all of them), and an upsert of the part's columns `returning` all of
    them after. Units with no counters row yet take the full recount (`touch`)."""
    subs = [count(ids) for count in _PARTS[part]]
    zero = literal(0)
    values = {c.name: func.coalesce(c, zero) for sub in subs for c in sub.c if c.name != "unit_id"}
    rows = select(Unit.id, *(v.label(name) for name, v in values.items()))
    for sub in subs:
        rows = rows.outerjoin(sub, sub.c.unit_id == Unit.id)
    counters = (UnitStats.unit_id, *(getattr(UnitStats, c) for c in COUNT_COLUMNS))
    upsert = upsert_insert(dialect, UnitStats.__table__).from_select(
        ["unit_id", *values], rows.where(Unit.id.in_(ids))
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=[UnitStats.unit_id],
        set_={name: getattr(upsert.excluded, name) for name in values},
    )
    return select(*counters).where(UnitStats.unit_id.in_(ids)), upsert.returning(*counters)


def _partial_in_one(ids: Any, part: str) -> Any:
    """PostgreSQL, a write's few units, already locked: `part`'s counters recounted and the
    change appended as deltas in one statement (data-modifying CTEs, one snapshot taken
    after the lock, so `before` is current). Units with no counters row yet are left
    alone; the statement returns the ids that had one (the rest take the full recount)."""
    subs = [count(ids) for count in _PARTS[part]]
    zero = literal(0)
    values = {c.name: func.coalesce(c, zero) for sub in subs for c in sub.c if c.name != "unit_id"}
    counters = (UnitStats.unit_id, *(getattr(UnitStats, c) for c in COUNT_COLUMNS))
    before = select(*counters).where(UnitStats.unit_id.in_(ids)).cte("before")
    rows = select(Unit.id, *(v.label(name) for name, v in values.items()))
    for sub in subs:
        rows = rows.outerjoin(sub, sub.c.unit_id == Unit.id)
    upsert = postgresql.insert(_STATS).from_select(
        ["unit_id", *values], rows.where(Unit.id.in_(select(before.c.unit_id)))
    )
    after = (
        upsert.on_conflict_do_update(
            index_elements=[UnitStats.unit_id],
            set_={name: getattr(upsert.excluded, name) for name in values},
        )
        .returning(*counters)
        .cte("after")
    )
    change = [(after.c[c] - before.c[c]).label(c) for c in COUNT_COLUMNS]
    medians = and_(
        bindparam("reports", type_=Boolean), after.c.reports_resolved != before.c.reports_resolved
    )
    delta = (
        insert(DELTAS)
        .from_select(
            ["unit_id", "path", "reports", "created_at", *COUNT_COLUMNS],
            select(after.c.unit_id, Unit.path, medians, bindparam("created_at"), *change)
            .select_from(after)
            .join(before, before.c.unit_id == after.c.unit_id)
            .join(Unit, Unit.id == after.c.unit_id)
            .where(or_(*(after.c[c] != before.c[c] for c in COUNT_COLUMNS))),
        )
        .returning(DELTAS.c.unit_id)
        .cte("delta")
    )
    return select(
        select(func.array_agg(before.c.unit_id)).scalar_subquery(),
        select(func.count()).select_from(delta).scalar_subquery(),
    )


# A write's recount runs for every counted write: its statements are built once per
# dialect and part, over a bound list of ids (building them is most of their cost in Python).
_BOUND: dict[tuple[str, str], tuple[Any, ...]] = {}


def _bound_statements(session: AsyncSession, part: str = ALL) -> tuple[Any, ...]:
    name = session.get_bind().dialect.name
    if (name, part) not in _BOUND:
        ids: Any = (
            select(func.unnest(bindparam("unit_ids", type_=postgresql.ARRAY(Uuid()))))
            if name == "postgresql"
            else bindparam("unit_ids", expanding=True)
        )
        _BOUND[name, part] = (
            _recount_statements(ids) if part == ALL else _partial_statements(name, ids, part)
        )
        if name == "postgresql" and part != ALL:
            _BOUND[name, part] += (_partial_in_one(ids, part),)
    return _BOUND[name, part]


CountMap = dict[uuid.UUID, tuple[int, ...]]


async def _recount_part(
    session: AsyncSession, ids: list[uuid.UUID], part: str
) -> tuple[CountMap, CountMap]:
    """Recount `part`'s counters of the units `ids` (a write's few, locked); counters
    before and after as `_recount_direct`. A unit never counted is recounted whole."""
    if part != ALL:
        read, upsert = _bound_statements(session, part)[:2]
        conn = await session.connection()
        params = {"unit_ids": ids}
        before = {row[0]: tuple(row[1:]) for row in (await conn.execute(read, params)).all()}
        if len(before) == len(ids):
            after = {row[0]: tuple(row[1:]) for row in (await conn.execute(upsert, params)).all()}
            return before, after
    return await _recount_direct(session, ids)


async def _recount_direct(session: AsyncSession, ids: Any) -> tuple[CountMap, CountMap]:
    """Recount the units `ids`; returns their counters before and after ({unit id:
    COUNT_COLUMNS values}) when `ids` is a list (of at most an id set's size), nothing
    ({}, {}) for a set expression (a subtree, every unit)."""
    if isinstance(ids, list):
        statements, params = _bound_statements(session), {"unit_ids": ids}
    else:
        statements, params = _recount_statements(ids, returning=False), {}
    conn = await session.connection()  # Core: the ids are a statement parameter, not rows
    results: list[CountMap] = []
    for i, statement in enumerate(statements):
        result = await conn.execute(statement, params)
        if i >= 2 and params:
            results.append({row[0]: tuple(row[1:]) for row in result.all()})
    return (results[0], results[1]) if results else ({}, {})


async def _rollup(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """Rollups of units that all lie at one depth, from their own counters and their
    children's rollups (which are current: deeper levels go first)."""
    child, r = aliased(Unit), aliased(UnitRollup)
    children = (
        select(
            child.parent_id.label("parent_id"),
            *(func.sum(getattr(r, c)).label(c) for c in COUNT_COLUMNS),
        )
        .join(r, r.unit_id == child.id)
        .where(child.parent_id.in_(ids))
        .group_by(child.parent_id)
        .subquery()
    )
    zero = literal(0)
    rows = (
        select(
            Unit.id,
            *(
                (
                    func.coalesce(getattr(UnitStats, c), zero)
                    + func.coalesce(getattr(children.c, c), zero)
                ).label(c)
                for c in COUNT_COLUMNS
            ),
        )
        .outerjoin(UnitStats, UnitStats.unit_id == Unit.id)
        .outerjoin(children, children.c.parent_id == Unit.id)
        .where(Unit.id.in_(ids))
    )
    # An upsert that leaves the stored median alone (it changes only with resolved reports).
    upsert = upsert_insert(session.get_bind().dialect.name, ROLLUPS).from_select(
        ["unit_id", *COUNT_COLUMNS], rows
    )
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
        Report.status == ReportStatus.resolved,
        Report.closed_at.is_not(None),
        *where,
    ]
    out: dict[str, float | None] = dict.fromkeys(paths)
    for chunk in chunks(list(paths)):
        scope = in_subtree(Unit.path, chunk[0]) if len(chunk) == 1 else prefix.in_(chunk)
        if session.get_bind().dialect.name == "postgresql":
            stmt = (
                select(prefix, func.percentile_cont(0.5).within_group(resolve_hours(session)))
                .select_from(Report)
                .join(Unit, Unit.id == Report.unit_id)
                .where(scope, *resolved)
                .group_by(prefix)
            )
            for row in (await session.execute(stmt)).all():
                out[row[0]] = round(float(row[1]), 4)
        else:
            stmt = (
                select(prefix, resolve_hours(session))
                .select_from(Report)
                .join(Unit, Unit.id == Report.unit_id)
                .where(scope, *resolved)
            )
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
            update(ROLLUPS)
            .where(ROLLUPS.c.unit_id == bindparam("uid"))
            .values(median_hours_to_resolve=bindparam("m"))
            .execution_options(synchronize_session=False),
            params,
        )


async def touch(
    session: AsyncSession,
    units: UnitSet,
    *,
    reports: bool = False,
    moved: bool = False,
    part: str = ALL,
) -> None:
    """Recount the direct counters of these units (ids, or a SELECT of unit ids) from their
    rows, in the caller's transaction, and append the change to `counter_deltas` for the
    folder to carry up the tree. `reports=True` when resolved reports changed (the folder
    refreshes the medians above). `moved=True` after the units moved: `detach` took their
    old counters off their old ancestors, so they are added whole under their new paths.

    A few units (a write's one or two, up to DELTA_UNITS) are compared before and after in
    Python and append one row each; more units append their counters negated, recount,
    and append the new ones (set-based: two INSERT … SELECT per id set). A SELECT is
    resolved to its ids first, so a write's small set always takes the first way. `part`
    (ACCOUNTS, REPORTS): the write changed only those rows, so a few units recount only
    those counters."""
    await session.flush()
    reports = reports or moved  # the medians of the new ancestors change with a move
    if isinstance(units, Select):
        units = (await session.scalars(units)).all()
    ids = sorted({u for u in units if u is not None})
    if not ids:
        return
    if len(ids) <= DELTA_UNITS and not moved:
        await _touch_few(session, ids, reports, part)
    else:
        for id_set in _id_sets(session, ids):
            await _lock(session, id_set)
            if not moved:
                await _append_stats(session, id_set, -1, reports)
            await _recount_direct(session, id_set)
            await _append_stats(session, id_set, 1, reports)
    await _fold_inline(session)


async def detach(session: AsyncSession, units: Select[Any]) -> None:
    """Before these units move: their counters, negated, under their current paths (so
    they leave their old ancestors' rollups); `touch(…, moved=True)` adds them back
    under the new paths, and folds on SQLite (the old ancestors' medians are only right
    once the units have moved)."""
    await session.flush()
    await _lock(session, units)
    await _append_stats(session, units, -1, True)


async def _lock(session: AsyncSession, ids: Any) -> None:
    """Lock the units' rows (PostgreSQL, `FOR NO KEY UPDATE`, compatible with foreign-key
    checks) until the commit: one recount of a unit at a time, a write's `before` is then
    current, and a unit's path (read after the lock) cannot change under a delta."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(Unit.id)
            .where(Unit.id.in_(ids))
            .order_by(Unit.id)
            .with_for_update(key_share=True)
        )


async def _append_stats(session: AsyncSession, ids: Any, sign: int, reports: bool) -> None:
    """Append the units' direct counters × sign under their current paths."""
    stats = (
        select(
            UnitStats.unit_id,
            Unit.path,
            literal(reports),
            *((getattr(UnitStats, c) * sign).label(c) for c in COUNT_COLUMNS),
        )
        .join(Unit, Unit.id == UnitStats.unit_id)
        .where(UnitStats.unit_id.in_(ids))
    )
    await session.execute(
        insert(CounterDelta).from_select(["unit_id", "path", "reports", *COUNT_COLUMNS], stats)
    )


async def _touch_few(session: AsyncSession, ids: list[uuid.UUID], reports: bool, part: str) -> None:
    """A write's one or two units: locked, recounted, and one delta row each."""
    lock = select(Unit.id, Unit.path).where(Unit.id.in_(ids)).order_by(Unit.id)
    if session.get_bind().dialect.name == "postgresql":
        lock = lock.with_for_update(key_share=True)  # see _lock
    paths = dict((await session.execute(lock)).all())
    if session.get_bind().dialect.name == "postgresql" and part != ALL:
        one = _bound_statements(session, part)[-1]
        params = {"unit_ids": ids, "reports": reports, "created_at": utcnow()}
        counted, _ = (await (await session.connection()).execute(one, params)).one()
        ids = [u for u in ids if u not in set(counted or ())]  # never counted: below
        if not ids:
            return
    before, after = await _recount_part(session, ids, part)
    zeros = (0,) * len(COUNT_COLUMNS)
    rows = []
    for unit_id, path in paths.items():
        change = [
            a - b
            for a, b in zip(after.get(unit_id, zeros), before.get(unit_id, zeros), strict=True)
        ]
        # Medians move only with the resolved reports (resolved is final: a report enters
        # the median once, when it is resolved).
        medians = reports and change[RESOLVED] != 0
        if any(change) or medians:
            rows.append(
                {
                    "unit_id": unit_id,
                    "path": path,
                    "reports": medians,
                    **dict(zip(COUNT_COLUMNS, change, strict=True)),
                }
            )
    if rows:
        await session.execute(insert(CounterDelta), rows)


async def acknowledged(
    session: AsyncSession,
    member_id: uuid.UUID,
    unit_id: uuid.UUID | None,
    document_id: uuid.UUID,
    requires_ack: bool,
) -> None:
    """One new acknowledgement of a published document's current revision: the campaign
    write (millions of members acknowledge within days), so instead of recounting the
    member's unit it adds one to the unit's per-document count and, for a document that
    requires acknowledgement, to its `ack_done` — under the unit's lock, so exact — and
    appends that as a delta. A member not active counts nowhere; a unit never counted
    is recounted instead.

    `unit_id` is where the caller believes the member is (the principal's, possibly a
    cached second old): that unit is locked first, then the member's unit is read under
    the lock. The lock serialises this with a move of the member, whose recount would
    count the acknowledgement; if the member is elsewhere by then, both units are
    recounted. Four statements on PostgreSQL (lock, member, one statement for the three
    counters, nothing to fold); SQLite folds inline."""
    await session.flush()
    if unit_id is None:
        return
    lock = select(Unit.path).where(Unit.id == unit_id)
    if session.get_bind().dialect.name == "postgresql":
        lock = lock.with_for_update(key_share=True)  # see _lock
    path = await session.scalar(lock)
    current = await session.scalar(
        select(Member.unit_id).where(Member.id == member_id, Member.status == MemberStatus.active)
    )
    if current is None:
        return
    if path is None or current != unit_id:
        await touch(session, [unit_id, current])
        return
    if session.get_bind().dialect.name == "postgresql":
        bumped = await session.scalar(_ack_counts(unit_id, path, document_id, requires_ack))
    else:
        bumped = await _ack_counts_apart(session, unit_id, path, document_id, requires_ack)
    if bumped is None:  # never counted: a recount counts this acknowledgement too
        await touch(session, [unit_id])
        return
    await _fold_inline(session)


def _ack_bump(unit_id: uuid.UUID, requires_ack: bool) -> Any:
    return (
        update(_STATS)
        .where(_STATS.c.unit_id == unit_id)
        .values(ack_done=_STATS.c.ack_done + int(requires_ack))
    )


def _ack_per_document(dialect: str) -> Any:
    return upsert_insert(dialect, _UDA)


def _ack_delta(path: str) -> dict[str, Any]:
    return {
        "path": path,
        "reports": False,
        "created_at": utcnow(),  # a Python default: an INSERT … SELECT names it
        **{c: int(c == "ack_done") for c in COUNT_COLUMNS},
    }


def _ack_counts(unit_id: uuid.UUID, path: str, document_id: uuid.UUID, requires_ack: bool) -> Any:
    """PostgreSQL: the unit's `ack_done`, its per-document count and the delta in one
    statement (data-modifying CTEs); the unit's id, or None when it has no counters yet."""
    bumped = _ack_bump(unit_id, requires_ack).returning(_STATS.c.unit_id).cte("bumped")
    per_document = (
        _ack_per_document("postgresql")
        .from_select(
            ["document_id", "unit_id", "acks"],
            select(literal(document_id), bumped.c.unit_id, literal(1)),
        )
        .on_conflict_do_update(
            index_elements=[_UDA.c.document_id, _UDA.c.unit_id], set_={"acks": _UDA.c.acks + 1}
        )
        .returning(_UDA.c.unit_id)
        .cte("per_document")
    )
    if not requires_ack:
        return select(per_document.c.unit_id)
    delta = _ack_delta(path)
    return (
        insert(DELTAS)
        .from_select(
            ["unit_id", *delta],
            select(per_document.c.unit_id, *(literal(v) for v in delta.values())),
        )
        .returning(DELTAS.c.unit_id)
    )


async def _ack_counts_apart(
    session: AsyncSession,
    unit_id: uuid.UUID,
    path: str,
    document_id: uuid.UUID,
    requires_ack: bool,
) -> uuid.UUID | None:
    """SQLite (no data-modifying CTEs): the same three writes, one statement each."""
    conn = await session.connection()
    if not (await conn.execute(_ack_bump(unit_id, requires_ack))).rowcount:
        return None
    upsert = _ack_per_document("sqlite").values(unit_id=unit_id, document_id=document_id, acks=1)
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[_UDA.c.document_id, _UDA.c.unit_id], set_={"acks": _UDA.c.acks + 1}
        )
    )
    if requires_ack:
        await conn.execute(insert(DELTAS).values(unit_id=unit_id, **_ack_delta(path)))
    return unit_id


# --------------------------------------------------------------------------- the folder

# The PostgreSQL advisory lock of the folder: one fold at a time across every replica, and
# `qd85 recount` excludes it.
FOLD_LOCK = 0x71643835
FOLD_BATCH = 5_000


async def _fold_inline(session: AsyncSession) -> None:
    """SQLite has one writer at a time: fold in the writing transaction itself."""
    if session.get_bind().dialect.name != "postgresql":
        while await fold(session):
            pass


async def fold(session: AsyncSession, batch: int = FOLD_BATCH, settle: float = 0) -> int:
    """Merge up to `batch` pending deltas into the rollups of every unit on their paths,
    refresh the medians their resolved reports changed, and delete them — in the caller's
    transaction, so a crash before the commit leaves them pending for the next fold.
    Returns how many were folded (0 also when another folder holds the lock). Deltas are
    claimed by `DELETE … RETURNING` over `FOR UPDATE SKIP LOCKED`: even two folders
    without the lock could not claim one delta twice.

    `settle` (seconds): deltas that change medians are left pending until they are that
    old. Reads add pending deltas, so every count stays exact; what waits is only the
    median refresh, which then serves every report resolved meanwhile at once. A median of
    a province or of the nation is a percentile over all its resolved reports: refreshed
    once per `settle` rather than once per fold (`QD85_MEDIAN_REFRESH_SECONDS`)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and not await session.scalar(select(func.pg_try_advisory_xact_lock(FOLD_LOCK))):
        return 0
    oldest = select(CounterDelta.id).order_by(CounterDelta.id).limit(batch)
    if settle > 0:
        cutoff = utcnow() - timedelta(seconds=settle)
        oldest = oldest.where(
            or_(CounterDelta.reports.is_(False), CounterDelta.created_at < cutoff)
        )
    if postgres:
        oldest = oldest.with_for_update(skip_locked=True)
    claimed = (
        await session.execute(
            delete(CounterDelta)
            .where(CounterDelta.id.in_(oldest.scalar_subquery()))
            .returning(
                CounterDelta.path,
                CounterDelta.reports,
                *(getattr(CounterDelta, c) for c in COUNT_COLUMNS),
            )
        )
    ).all()
    totals: dict[uuid.UUID, list[int]] = {}
    medians: set[uuid.UUID] = set()
    for path, reports, *change in claimed:
        ancestry = _ancestry(path)
        if reports:
            medians.update(ancestry)
        if not any(change):
            continue
        for unit_id in ancestry:
            total = totals.setdefault(unit_id, [0] * len(COUNT_COLUMNS))
            for i, value in enumerate(change):
                total[i] += value
    await _hold_rollups(session, sorted(totals.keys() | medians))
    if totals:
        await session.execute(
            update(ROLLUPS)
            .where(ROLLUPS.c.unit_id == bindparam("uid"))
            .values({c: ROLLUPS.c[c] + bindparam(f"d_{c}") for c in COUNT_COLUMNS})
            .execution_options(synchronize_session=False),
            [
                {
                    "uid": unit_id,
                    **{f"d_{c}": v for c, v in zip(COUNT_COLUMNS, change, strict=True)},
                }
                for unit_id, change in sorted(totals.items())
            ],
        )
    if medians:
        await _medians(session, await _paths(session, sorted(medians)))
    return len(claimed)


async def fold_all(session: AsyncSession, settle: float = 0) -> int:
    """Fold until nothing is pending (nothing settled, with `settle`: see `fold`),
    committing after each batch (`qd85 fold`)."""
    total = 0
    while folded := await fold(session, settle=settle):
        await session.commit()
        total += folded
    await session.commit()
    return total


async def keep_folding(sessionmaker: Any, interval: float, settle: float = 0) -> None:
    """The folder of one worker (PostgreSQL): fold whatever is pending every `interval`
    seconds, forever. An error (the database away) is logged and retried at the next
    tick; nothing is lost, the deltas stay pending."""
    while True:
        try:
            async with sessionmaker() as session:
                await fold_all(session, settle)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("statistics fold failed; retrying", exc_info=True)
        await asyncio.sleep(interval)


async def _hold_rollups(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """Make sure the units have rollup rows."""
    for id_set in _id_sets(session, ids):
        # From the units table: the counters' defaults are bound once, not once per row.
        await session.execute(
            upsert_insert(session.get_bind().dialect.name, ROLLUPS)
            .from_select(["unit_id"], select(Unit.id).where(Unit.id.in_(id_set)))
            .on_conflict_do_nothing(index_elements=[ROLLUPS.c.unit_id])
        )


async def _paths(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    out: list[tuple[uuid.UUID, str]] = []
    for id_set in _id_sets(session, ids):
        out += [
            (u, p)
            for u, p in (
                await session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(id_set)))
            ).all()
        ]
    return out


def pending_rollups() -> Select[Any]:
    """One statement (one snapshot: a fold committing meanwhile can neither hide a delta
    nor count it twice) giving, per unit of the `unit_ids` parameter, its folded rollup
    row and the sums of the pending deltas in its subtree; the caller adds them up.
    Columns: unit_id, COUNT_COLUMNS..., median_hours_to_resolve (null on pending rows).
    Built once per process: every statistics read runs it, and building it (two selects
    of some thirty columns) cost more than running it."""
    global _PENDING_ROLLUPS
    if _PENDING_ROLLUPS is None:
        unit_ids: Any = bindparam("unit_ids", expanding=True)
        target = aliased(Unit)
        folded = select(
            ROLLUPS.c.unit_id,
            *(ROLLUPS.c[c] for c in COUNT_COLUMNS),
            ROLLUPS.c.median_hours_to_resolve,
        ).where(ROLLUPS.c.unit_id.in_(unit_ids))
        pending = (
            select(
                target.id,
                *(func.sum(getattr(CounterDelta, c)) for c in COUNT_COLUMNS),
                literal(None, type_=Float).label("median_hours_to_resolve"),
            )
            .select_from(CounterDelta)
            .join(
                target,
                and_(
                    target.id.in_(unit_ids),
                    func.substr(CounterDelta.path, 1, func.length(target.path)) == target.path,
                ),
            )
            .group_by(target.id)
        )
        _PENDING_ROLLUPS = folded.union_all(pending)  # type: ignore[assignment]
    assert _PENDING_ROLLUPS is not None
    return _PENDING_ROLLUPS


_PENDING_ROLLUPS: Select[Any] | None = None


# --------------------------------------------------------------------------- roster apply


async def shift(session: AsyncSession, sides: Any, fresh: Any) -> None:
    """Counters after members changed unit, status or leadership and nothing else they
    own (a roster sync apply): instead of recounting whole units, add each member's
    contribution at its new place and subtract it at its old one — work in proportion to
    the members changed, not to the units' sizes — and append the same as deltas.

    `sides` (a subquery): member_id, unit_id, status, is_leader, sign (+1 the member as
    it is now, −1 as it was) for members who existed before. `fresh` (a subquery):
    unit_id, status, is_leader of members just created: no declaration, account or
    acknowledgement yet, so no lookups. Units that never had their counters recounted
    are recounted instead."""
    await session.flush()
    touched = select(sides.c.unit_id).union(select(fresh.c.unit_id)).scalar_subquery()
    await _lock(session, touched)
    uncounted = sorted(
        (
            await session.scalars(
                select(Unit.id).where(
                    Unit.id.in_(touched), ~exists().where(UnitStats.unit_id == Unit.id)
                )
            )
        ).all()
    )
    await _apply_deltas(session, sides, fresh)
    for id_set in _id_sets(session, uncounted):
        await _recount_direct(session, id_set)
        await _append_stats(session, id_set, 1, False)
    await _fold_inline(session)


def _contributions(sides: Any, fresh: Any) -> Any:
    """Per unit, the signed sum of the members' contributions to each counter."""
    m, u, a = aliased(Member), aliased(Unit), aliased(Unit)
    active = sides.c.status == MemberStatus.active
    sign = sides.c.sign
    claimed = Account.claim_key.is_not(None)
    owned = (
        select(
            Account.member_id.label("member_id"),
            _one(claimed).label("accounts_total"),
            _one(Account.status == AccountStatus.verified).label("accounts_verified"),
            _one(Account.status == AccountStatus.pending).label("accounts_pending"),
            *(
                _one(and_(claimed, Account.platform == p)).label(f"accounts_{p.value}")
                for p in Platform
            ),
        )
        .where(Account.member_id.in_(select(sides.c.member_id)))
        .group_by(Account.member_id)
        .subquery()
    )
    has_account = func.coalesce(owned.c.accounts_total, 0) > 0
    ack = DocumentAcknowledgement
    # Per (member, unit) once, though a member's two sides may name the same unit.
    places = select(sides.c.member_id, sides.c.unit_id).distinct().subquery()
    acked = (
        select(
            places.c.member_id.label("member_id"),
            places.c.unit_id.label("unit_id"),
            func.count().label("n"),
        )
        .select_from(places)
        .join(ack, ack.member_id == places.c.member_id)
        .join(
            Document,
            and_(
                Document.id == ack.document_id,
                Document.revision == ack.revision,
                _counted_documents(),
            ),
        )
        .join(u, u.id == places.c.unit_id)
        .join(a, and_(a.id == Document.audience_unit_id, _addressed(u.path, a.path)))
        .group_by(places.c.member_id, places.c.unit_id)
        .subquery()
    )
    n_docs = _documents_addressing(select(sides.c.unit_id).union(select(fresh.c.unit_id)))

    def signed(flag: Any) -> Any:
        return func.sum(case((flag, sign), else_=0))

    zero = literal(0)
    old = (
        select(
            sides.c.unit_id.label("unit_id"),
            signed(active).label("members_active"),
            signed(and_(active, sides.c.is_leader)).label("leaders_active"),
            signed(and_(active, m.declaration != Declaration.not_declared)).label(
                "members_declared"
            ),
            signed(and_(active, has_account)).label("members_with_accounts"),
            signed(and_(active, sides.c.is_leader, has_account)).label("leaders_with_accounts"),
            *(
                func.sum(sign * func.coalesce(getattr(owned.c, c), zero)).label(c)
                for c in (
                    "accounts_total",
                    "accounts_verified",
                    "accounts_pending",
                    *PLATFORM_COLUMNS,
                )
            ),
            literal(0).label("reports_filed"),
            literal(0).label("reports_open"),
            literal(0).label("reports_resolved"),
            func.sum(case((active, sign * func.coalesce(n_docs.c.n_docs, zero)), else_=0)).label(
                "ack_expected"
            ),
            func.sum(case((active, sign * func.coalesce(acked.c.n, zero)), else_=0)).label(
                "ack_done"
            ),
        )
        .select_from(sides)
        .join(m, m.id == sides.c.member_id)
        .outerjoin(owned, owned.c.member_id == sides.c.member_id)
        .outerjoin(n_docs, n_docs.c.unit_id == sides.c.unit_id)
        .outerjoin(
            acked, and_(acked.c.member_id == sides.c.member_id, acked.c.unit_id == sides.c.unit_id)
        )
        .group_by(sides.c.unit_id)
    )
    new_active = fresh.c.status == MemberStatus.active
    new = (
        select(
            fresh.c.unit_id.label("unit_id"),
            _one(new_active).label("members_active"),
            _one(and_(new_active, fresh.c.is_leader)).label("leaders_active"),
            *(
                literal(0).label(c)
                for c in COUNT_COLUMNS[2:]
                if c not in ("ack_expected", "ack_done")
            ),
            func.sum(case((new_active, func.coalesce(n_docs.c.n_docs, zero)), else_=0)).label(
                "ack_expected"
            ),
            literal(0).label("ack_done"),
        )
        .select_from(fresh)
        .outerjoin(n_docs, n_docs.c.unit_id == fresh.c.unit_id)
        .group_by(fresh.c.unit_id)
    )
    both = old.union_all(new).subquery()
    return (
        select(both.c.unit_id, *(func.sum(getattr(both.c, c)).label(c) for c in COUNT_COLUMNS))
        .group_by(both.c.unit_id)
        .subquery()
    )


def _document_deltas(sides: Any) -> Any:
    """Per (unit, document): the signed acknowledgements of the current revisions of
    published or archived documents addressing the unit, by members active there."""
    ack, u, a = DocumentAcknowledgement, aliased(Unit), aliased(Unit)
    return (
        select(
            sides.c.unit_id.label("unit_id"),
            ack.document_id.label("document_id"),
            func.sum(sides.c.sign).label("acks"),
        )
        .select_from(sides)
        .join(ack, ack.member_id == sides.c.member_id)
        .join(
            Document,
            and_(
                Document.id == ack.document_id,
                Document.revision == ack.revision,
                Document.status.in_([DocumentStatus.published, DocumentStatus.archived]),
            ),
        )
        .join(u, u.id == sides.c.unit_id)
        .join(a, and_(a.id == Document.audience_unit_id, _addressed(u.path, a.path)))
        .where(sides.c.status == MemberStatus.active)
        .group_by(sides.c.unit_id, ack.document_id)
        .subquery()
    )


async def _apply_deltas(session: AsyncSession, sides: Any, fresh: Any) -> None:
    """Add the contributions to the units' counter rows. Units without a row yet are
    skipped by the join; `shift` recounts them (and their per-document rows) afterwards,
    which also replaces whatever deltas landed on their per-document rows here."""
    stats: Table = UnitStats.__table__  # type: ignore[assignment]
    await _create_temp(session, SHIFTED)
    await session.execute(
        insert(SHIFTED).from_select(["unit_id", *COUNT_COLUMNS], _contributions(sides, fresh))
    )
    await session.execute(
        update(stats)
        .where(stats.c.unit_id == SHIFTED.c.unit_id)
        .values({c: stats.c[c] + SHIFTED.c[c] for c in COUNT_COLUMNS})
    )
    # The same change as deltas, for the units that had counters (the others are
    # recounted and appended whole by the caller).
    await session.execute(
        insert(CounterDelta).from_select(
            ["unit_id", "path", "reports", *COUNT_COLUMNS],
            select(
                SHIFTED.c.unit_id, Unit.path, literal(False), *(SHIFTED.c[c] for c in COUNT_COLUMNS)
            )
            .join(Unit, Unit.id == SHIFTED.c.unit_id)
            .where(exists().where(stats.c.unit_id == SHIFTED.c.unit_id)),
        )
    )
    await _drop_temp(session, SHIFTED)
    uda: Table = UnitDocumentAcks.__table__  # type: ignore[assignment]
    moved = _document_deltas(sides)
    await session.execute(
        update(uda)
        .where(uda.c.unit_id == moved.c.unit_id, uda.c.document_id == moved.c.document_id)
        .values(acks=uda.c.acks + moved.c.acks)
    )
    await session.execute(
        insert(uda).from_select(
            ["unit_id", "document_id", "acks"],
            select(moved.c.unit_id, moved.c.document_id, moved.c.acks).where(
                moved.c.acks != 0,
                ~exists().where(
                    uda.c.unit_id == moved.c.unit_id, uda.c.document_id == moved.c.document_id
                ),
            ),
        )
    )
    # A recount keeps no zero rows; neither do deltas.
    await session.execute(
        delete(uda).where(uda.c.acks == 0, uda.c.unit_id.in_(select(moved.c.unit_id)))
    )


def subtree_units(path: str) -> Select[Any]:
    return select(Unit.id).where(in_subtree(Unit.path, path))


async def recount_all(session: AsyncSession) -> int:
    """Rebuild every counter, rollup and median from scratch (`qd85 recount`); returns
    the number of units. On PostgreSQL it holds the folder's lock and keeps writers from
    appending deltas until it commits (they wait): what it counts and what is pending
    must not overlap."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(FOLD_LOCK)))
        await session.execute(text("LOCK TABLE counter_deltas IN SHARE ROW EXCLUSIVE MODE"))
    for model in (CounterDelta, UnitStats, UnitRollup, UnitDocumentAcks):
        await session.execute(delete(model))
    await _recount_direct(session, select(Unit.id))
    units = (await session.execute(select(Unit.id, Unit.path))).all()
    levels: dict[int, list[uuid.UUID]] = {}
    for unit_id, path in units:
        levels.setdefault(len(path), []).append(unit_id)
    for length in sorted(levels, reverse=True):
        for id_set in _id_sets(session, sorted(levels[length])):
            await _rollup(session, id_set)
    await _medians(session, [(u, p) for u, p in units])
    return len(units)


# A roster apply's contributions per unit, computed once for the counters and the deltas.
_temp = MetaData()
SHIFTED = Table(
    "counter_shift",
    _temp,
    Column("unit_id", Uuid(), primary_key=True),
    *(Column(c, Integer, nullable=False) for c in COUNT_COLUMNS),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def _temp_name(session: AsyncSession, table: Table) -> str:
    """Qualified, so that a DROP can only ever reach the temporary table."""
    schema = "pg_temp" if session.get_bind().dialect.name == "postgresql" else "temp"
    return f"{schema}.{table.name}"


async def _create_temp(session: AsyncSession, table: Table) -> None:
    await _drop_temp(session, table)
    conn = await session.connection()
    await conn.run_sync(lambda sync: table.create(sync))


async def _drop_temp(session: AsyncSession, table: Table) -> None:
    await session.execute(text(f"DROP TABLE IF EXISTS {_temp_name(session, table)}"))
