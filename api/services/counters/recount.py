"""Direct counters: what each unit's own rows count, recounted set-based (the statements
are built once per dialect and part), and the rollups built bottom-up from them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    CompoundSelect,
    Executable,
    Select,
    SQLColumnExpression,
    Subquery,
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
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import ScalarSelect

from api.core.db import upsert_insert
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
    CounterDelta,
    UnitDocumentAcks,
    UnitRollup,
    UnitStats,
)
from api.services.authz import in_subtree

UnitSet = Iterable[uuid.UUID | None] | Select[uuid.UUID]
# A set of unit ids as `column.in_(…)` takes it: a list, a SELECT of ids (an unnested
# array parameter, a subtree, a union), a scalar subquery, or the bound list that the
# statements built once name.
IdSet = (
    Sequence[uuid.UUID]
    | Select[uuid.UUID]
    | CompoundSelect[uuid.UUID]
    | ScalarSelect[uuid.UUID]
    | BindParameter[uuid.UUID]
)
T = TypeVar("T")
logger = logging.getLogger("qd85.counters")


def one_if(flag: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((flag, 1), else_=0))


def addressed(
    unit_path: SQLColumnExpression[str], audience_path: SQLColumnExpression[str]
) -> ColumnElement[bool]:
    """The document's audience unit is the unit or one of its ancestors."""
    return func.substr(unit_path, 1, func.length(audience_path)) == audience_path


def _member_counts(ids: IdSet) -> Subquery:
    active = Member.status == MemberStatus.active
    has_account = exists().where(Account.member_id == Member.id, Account.claim_key.is_not(None))
    return (
        select(
            Member.unit_id.label("unit_id"),
            one_if(active).label("members_active"),
            one_if(and_(active, Member.is_leader)).label("leaders_active"),
            one_if(and_(active, Member.declaration != Declaration.not_declared)).label(
                "members_declared"
            ),
            one_if(and_(active, has_account)).label("members_with_accounts"),
            one_if(and_(active, Member.is_leader, has_account)).label("leaders_with_accounts"),
        )
        .where(Member.unit_id.in_(ids))
        .group_by(Member.unit_id)
        .subquery()
    )


def _account_counts(ids: IdSet) -> Subquery:
    claimed = Account.claim_key.is_not(None)
    return (
        select(
            Member.unit_id.label("unit_id"),
            one_if(claimed).label("accounts_total"),
            one_if(Account.status == AccountStatus.verified).label("accounts_verified"),
            one_if(Account.status == AccountStatus.pending).label("accounts_pending"),
            *(
                one_if(and_(claimed, Account.platform == p)).label(f"accounts_{p.value}")
                for p in Platform
            ),
        )
        .join(Member, Member.id == Account.member_id)
        .where(Member.unit_id.in_(ids))
        .group_by(Member.unit_id)
        .subquery()
    )


def _report_counts(ids: IdSet) -> Subquery:
    return (
        select(
            Report.unit_id.label("unit_id"),
            func.count().label("reports_filed"),
            one_if(Report.status.in_(OPEN_STATUSES)).label("reports_open"),
            one_if(Report.status == ReportStatus.resolved).label("reports_resolved"),
        )
        .where(Report.unit_id.in_(ids))
        .group_by(Report.unit_id)
        .subquery()
    )


def counted_documents() -> ColumnElement[bool]:
    return and_(Document.status == DocumentStatus.published, Document.requires_ack.is_(True))


def documents_addressing(ids: IdSet) -> Subquery:
    u, a = aliased(Unit), aliased(Unit)
    return (
        select(u.id.label("unit_id"), func.count(Document.id).label("n_docs"))
        .join(Document, counted_documents())
        .join(a, and_(a.id == Document.audience_unit_id, addressed(u.path, a.path)))
        .where(u.id.in_(ids))
        .group_by(u.id)
        .subquery()
    )


def _acks(ids: IdSet) -> Select[uuid.UUID, uuid.UUID, int]:
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
        .join(a, and_(a.id == Document.audience_unit_id, addressed(u.path, a.path)))
        .where(Member.unit_id.in_(ids))
        .group_by(Member.unit_id, ack.document_id)
    )


def _ack_done(ids: IdSet) -> Subquery:
    """From the units' per-document counts (written first): those of documents that
    require acknowledgement."""
    uda = UnitDocumentAcks
    return (
        select(uda.unit_id.label("unit_id"), func.sum(uda.acks).label("ack_done"))
        .join(Document, and_(Document.id == uda.document_id, counted_documents()))
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
STATS: Table = UnitStats.__table__  # type: ignore[assignment]
UDA: Table = UnitDocumentAcks.__table__  # type: ignore[assignment]
ROLLUPS: Table = UnitRollup.__table__  # type: ignore[assignment]  # Core: executemany by bound id, not ORM bulk by primary key


def chunks(items: Sequence[T], uses: int = 1) -> Iterator[Sequence[T]]:
    """`items` in slices that keep a statement naming them `uses` times within budget."""
    size = PARAM_BUDGET // uses
    for i in range(0, len(items), size):
        yield items[i : i + size]


def ancestry(path: str) -> list[uuid.UUID]:
    """The ids on a materialised path, root first (the unit itself last)."""
    return [uuid.UUID(hex=part) for part in path.strip("/").split("/") if part]


# How often the largest statement given an id set names it (`recount_direct`'s upsert).
ID_SET_USES = 6


def id_sets(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> Iterator[Select[uuid.UUID] | Sequence[uuid.UUID]]:
    """What `column.in_(…)` takes for a set of unit ids: on PostgreSQL one array parameter
    unnested (a statement that names the set several times stays small and plans fast,
    whatever its size); on SQLite lists short enough for its parameter limit."""
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield select(func.unnest(bindparam("unit_ids", list(ids), type_=postgresql.ARRAY(Uuid()))))
    else:
        yield from chunks(ids, uses=ID_SET_USES)


def _recount_statements(
    ids: IdSet, returning: bool = True
) -> tuple[Executable, Executable, Executable, Executable]:
    """The four statements that recount the units `ids` (a set expression): their
    per-document acknowledgements (delete, insert) and their counters (delete, insert),
    the last two `returning` the old and the new counters."""
    m, acc, rep = _member_counts(ids), _account_counts(ids), _report_counts(ids)
    docs, done = documents_addressing(ids), _ack_done(ids)
    zero = literal(0)
    values: dict[str, ColumnElement[int]] = {}
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


def _partial_statements(dialect: str, ids: IdSet, part: str) -> tuple[Executable, Executable]:
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


def _partial_in_one(ids: IdSet, part: str) -> Select[list[uuid.UUID] | None, int]:
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
    upsert = postgresql.insert(STATS).from_select(
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
_BOUND: dict[tuple[str, str], tuple[Executable, ...]] = {}


def bound_statements(session: AsyncSession, part: str = ALL) -> tuple[Executable, ...]:
    name = session.get_bind().dialect.name
    if (name, part) not in _BOUND:
        ids: IdSet = (
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


async def recount_part(
    session: AsyncSession, ids: list[uuid.UUID], part: str
) -> tuple[CountMap, CountMap]:
    """Recount `part`'s counters of the units `ids` (a write's few, locked); counters
    before and after as `recount_direct`. A unit never counted is recounted whole."""
    if part != ALL:
        read, upsert = bound_statements(session, part)[:2]
        conn = await session.connection()
        params = {"unit_ids": ids}
        before = {row[0]: tuple(row[1:]) for row in (await conn.execute(read, params)).all()}
        if len(before) == len(ids):
            after = {row[0]: tuple(row[1:]) for row in (await conn.execute(upsert, params)).all()}
            return before, after
    return await recount_direct(session, ids)


async def recount_direct(session: AsyncSession, ids: IdSet) -> tuple[CountMap, CountMap]:
    """Recount the units `ids`; returns their counters before and after ({unit id:
    COUNT_COLUMNS values}) when `ids` is a list (of at most an id set's size), nothing
    ({}, {}) for a set expression (a subtree, every unit)."""
    if isinstance(ids, list):
        statements, params = bound_statements(session), {"unit_ids": ids}
    else:
        statements, params = _recount_statements(ids, returning=False), {}
    conn = await session.connection()  # Core: the ids are a statement parameter, not rows
    results: list[CountMap] = []
    for i, statement in enumerate(statements):
        result = await conn.execute(statement, params)
        if i >= 2 and params:
            results.append({row[0]: tuple(row[1:]) for row in result.all()})
    return (results[0], results[1]) if results else ({}, {})


async def rollup(session: AsyncSession, ids: IdSet) -> None:
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


def subtree_units(path: str) -> Select[uuid.UUID]:
    return select(Unit.id).where(in_subtree(Unit.path, path))
