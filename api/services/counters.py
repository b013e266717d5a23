"""Per-unit compliance counters (`unit_stats`, `unit_document_acks`), kept exact by
recounting the units a transaction touched, inside that transaction.

Every service that changes what the statistics count calls `touch(session, units)` with
the units whose direct rows changed (a member's old and new unit, an account's member's
unit, a report's unit, a document's audience subtree). The recount is set-based — one
aggregate statement per kind of row for the whole set of units — so a roster sync of
100,000 rows recounts its units in a handful of statements.

Direct counters are recounted (the roster apply's `shift` excepted): a recount from the rows cannot drift,
whatever the path that changed them, and `qd85 recount` is the same code over every unit.
Rollups of a write's one or two units take the recount's difference (new − old) as a
delta, added to the unit's and its ancestors' rollups as the transaction's last
statements. Concurrency on PostgreSQL: the touched units' rows are locked `FOR NO KEY
UPDATE` in id order first (compatible with the key-share locks that foreign-key checks
take), so two transactions touching one unit recount one after the other and the second
sees the first's committed rows (READ COMMITTED takes a new snapshot per statement); the
rollup rows are locked in id order only just before they change, so writes in different
units share an ancestor (ultimately the root) only from their delta to their commit.
Bottom-up recounts (subtrees, moves, roster applies) lock the same rollup rows before
reading the children's, so a delta and a recount never overwrite each other.
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
    or_,
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
from api.models.stats import PLATFORM_COLUMNS, UnitDocumentAcks, UnitRollup, UnitStats
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
# Bound parameters one statement may carry: asyncpg allows 32,767, SQLite 32,766 (its
# default since 3.32). A statement that lists ids takes `PARAM_BUDGET // uses` of them at a
# time (`uses`: how often the statement names the list), leaving the rest of the budget to
# its other parameters (enum values, literals, defaults). Never a number of rows per
# statement: a row's parameter count is what crosses the limit (issue 21).
PARAM_BUDGET = 30_000
# Up to this many touched units, rollups change by deltas; beyond, bottom-up recounts.
DELTA_UNITS = 64
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


async def _lock(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        for id_set in _id_sets(session, ids):
            await session.execute(
                select(Unit.id).where(Unit.id.in_(id_set)).order_by(Unit.id)
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
    for chunk in chunks(list(paths)):
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
    their rows, then bring the rollups of the units and of all their ancestors up to date,
    in the caller's transaction. `reports=True` when resolved reports changed: the medians
    of the ancestors are recomputed too. `moved_from`: former paths of units that moved
    away (the units themselves included), whose old ancestors' rollups must lose them.

    A few units (up to DELTA_UNITS: a write's one or two) take the delta path: each unit's new
    counters minus its old ones are added to its rollup and its ancestors' in one
    executemany, the transaction's last statements, so the shared ancestors' rows (the
    root's above all) are held only from there to the commit. More units (a subtree) or a
    move recount the rollups bottom-up instead."""
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
    if len(touched) <= DELTA_UNITS and not moved_from:
        await _touch_by_deltas(session, dict(touched), reports)
        return
    paths = await _with_ancestors(session, dict(touched), moved_from)
    await _lock(session, list(paths))
    for id_set in _id_sets(session, sorted(u for u, _ in touched)):
        await _recount_direct(session, id_set)
    await _hold_rollups(session, list(paths))
    await _rollups(session, paths)
    if reports or moved_from:
        targets = list(paths.items())
        if not reports:  # a move: only the ancestors' subtrees changed
            direct = {u for u, _ in touched}
            targets = [(u, p) for u, p in targets if u not in direct]
        await _medians(session, targets)


async def _direct_counts(
    session: AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, ...]]:
    rows = await session.execute(
        select(UnitStats.unit_id, *(getattr(UnitStats, c) for c in COUNT_COLUMNS))
        .where(UnitStats.unit_id.in_(ids))
    )  # fmt: skip
    return {row[0]: tuple(row[1:]) for row in rows.all()}


async def _touch_by_deltas(
    session: AsyncSession, touched: dict[uuid.UUID, str], reports: bool
) -> None:
    if not touched:
        return
    ids = sorted(touched)
    await _lock(session, ids)  # one recount of a unit at a time; `before` is then current
    before = await _direct_counts(session, ids)
    await _recount_direct(session, ids)
    after = await _direct_counts(session, ids)
    zeros = (0,) * len(COUNT_COLUMNS)
    deltas: dict[uuid.UUID, list[int]] = {}
    for unit_id, path in touched.items():
        change = [
            a - b
            for a, b in zip(after.get(unit_id, zeros), before.get(unit_id, zeros), strict=True)
        ]
        if not any(change):
            continue
        for ancestor in _ancestry(path):
            total = deltas.setdefault(ancestor, [0] * len(COUNT_COLUMNS))
            for i, value in enumerate(change):
                total[i] += value
    if not deltas and not reports:
        return
    paths = await _with_ancestors(session, touched) if reports else {}
    # Without medians to compute, the update below locks the rows itself, one by one in
    # id order: the shared rows are then held for one round trip and the commit.
    await _hold_rollups(session, sorted(set(deltas) | set(paths)), lock=reports)
    if deltas:
        await session.execute(
            update(ROLLUPS).where(ROLLUPS.c.unit_id == bindparam("uid"))
            .values({c: ROLLUPS.c[c] + bindparam(f"d_{c}") for c in COUNT_COLUMNS})
            .execution_options(synchronize_session=False),
            [{"uid": unit_id, **{f"d_{c}": v for c, v in zip(COUNT_COLUMNS, change, strict=True)}}
             for unit_id, change in sorted(deltas.items())],
        )  # fmt: skip
    if reports:
        await _medians(session, list(paths.items()))


async def _hold_rollups(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, lock: bool = True
) -> None:
    """Make sure the units have rollup rows, and on PostgreSQL (`lock`) lock them in id
    order until the commit: a delta added to a rollup and a bottom-up recount of it (which
    reads the children's rollups) must not interleave, or one would overwrite the other."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for id_set in _id_sets(session, sorted(ids)):
        # From the units table: the counters' defaults are bound once, not once per row.
        await session.execute(
            dialect.insert(ROLLUPS)
            .from_select(["unit_id"], select(Unit.id).where(Unit.id.in_(id_set)))
            .on_conflict_do_nothing(index_elements=[ROLLUPS.c.unit_id])
        )  # fmt: skip
        if lock and dialect is postgresql:
            await session.execute(
                select(ROLLUPS.c.unit_id).where(ROLLUPS.c.unit_id.in_(id_set))
                .order_by(ROLLUPS.c.unit_id).with_for_update(key_share=True)
            )  # fmt: skip


async def _with_ancestors(
    session: AsyncSession, paths: dict[uuid.UUID, str], moved_from: Sequence[str] = ()
) -> dict[uuid.UUID, str]:
    """The units and all their ancestors (and those of `moved_from`), with their paths."""
    out = dict(paths)
    for old in moved_from:
        for ancestor in _ancestry(old):
            out.setdefault(ancestor, "")
    for path in paths.values():
        for ancestor in _ancestry(path)[:-1]:
            out.setdefault(ancestor, "")
    missing = [u for u, p in out.items() if not p]
    for chunk in chunks(missing):
        for unit_id, path in (
            await session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(chunk)))
        ).all():
            out[unit_id] = path
    return {u: p for u, p in out.items() if p}


async def _rollups(session: AsyncSession, paths: dict[uuid.UUID, str]) -> None:
    levels: dict[int, list[uuid.UUID]] = {}
    for unit_id, path in paths.items():
        levels.setdefault(len(path), []).append(unit_id)
    for length in sorted(levels, reverse=True):
        for id_set in _id_sets(session, sorted(levels[length])):
            await _rollup(session, id_set)


async def shift(session: AsyncSession, sides: Any, fresh: Any) -> None:
    """Counters after members changed unit, status or leadership and nothing else they
    own (a roster sync apply): instead of recounting whole units, add each member's
    contribution at its new place and subtract it at its old one — work in proportion to
    the members changed, not to the units' sizes.

    `sides` (a subquery): member_id, unit_id, status, is_leader, sign (+1 the member as
    it is now, −1 as it was) for members who existed before. `fresh` (a subquery):
    unit_id, status, is_leader of members just created: no declaration, account or
    acknowledgement yet, so no lookups. Units that never had their counters recounted
    are recounted instead."""
    await session.flush()
    units = (
        await session.execute(
            select(Unit.id, Unit.path).where(
                or_(Unit.id.in_(select(sides.c.unit_id)), Unit.id.in_(select(fresh.c.unit_id)))
            )
        )
    ).all()
    if not units:
        return
    paths = await _with_ancestors(session, dict(units))
    await _lock(session, list(paths))
    uncounted = sorted(
        (
            await session.scalars(
                select(Unit.id).where(
                    or_(Unit.id.in_(select(sides.c.unit_id)), Unit.id.in_(select(fresh.c.unit_id))),
                    ~exists().where(UnitStats.unit_id == Unit.id),
                )
            )
        ).all()
    )
    await _apply_deltas(session, sides, fresh)
    for id_set in _id_sets(session, uncounted):
        await _recount_direct(session, id_set)
    await _hold_rollups(session, list(paths))
    await _rollups(session, paths)


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
            *(_one(and_(claimed, Account.platform == p)).label(f"accounts_{p.value}") for p in Platform),
        )
        .where(Account.member_id.in_(select(sides.c.member_id)))
        .group_by(Account.member_id)
        .subquery()
    )  # fmt: skip
    has_account = func.coalesce(owned.c.accounts_total, 0) > 0
    ack = DocumentAcknowledgement
    # Per (member, unit) once, though a member's two sides may name the same unit.
    places = select(sides.c.member_id, sides.c.unit_id).distinct().subquery()
    acked = (
        select(places.c.member_id.label("member_id"), places.c.unit_id.label("unit_id"),
               func.count().label("n"))
        .select_from(places)
        .join(ack, ack.member_id == places.c.member_id)
        .join(Document, and_(Document.id == ack.document_id, Document.revision == ack.revision,
                             _counted_documents()))
        .join(u, u.id == places.c.unit_id)
        .join(a, and_(a.id == Document.audience_unit_id, _addressed(u.path, a.path)))
        .group_by(places.c.member_id, places.c.unit_id)
        .subquery()
    )  # fmt: skip
    n_docs = _documents_addressing(select(sides.c.unit_id).union(select(fresh.c.unit_id)))

    def signed(flag: Any) -> Any:
        return func.sum(case((flag, sign), else_=0))

    zero = literal(0)
    old = (
        select(
            sides.c.unit_id.label("unit_id"),
            signed(active).label("members_active"),
            signed(and_(active, sides.c.is_leader)).label("leaders_active"),
            signed(and_(active, m.declaration != Declaration.not_declared)).label("members_declared"),
            signed(and_(active, has_account)).label("members_with_accounts"),
            signed(and_(active, sides.c.is_leader, has_account)).label("leaders_with_accounts"),
            *(func.sum(sign * func.coalesce(getattr(owned.c, c), zero)).label(c)
              for c in ("accounts_total", "accounts_verified", "accounts_pending", *PLATFORM_COLUMNS)),
            literal(0).label("reports_filed"), literal(0).label("reports_open"),
            literal(0).label("reports_resolved"),
            func.sum(case((active, sign * func.coalesce(n_docs.c.n_docs, zero)), else_=0)).label("ack_expected"),
            func.sum(case((active, sign * func.coalesce(acked.c.n, zero)), else_=0)).label("ack_done"),
        )
        .select_from(sides)
        .join(m, m.id == sides.c.member_id)
        .outerjoin(owned, owned.c.member_id == sides.c.member_id)
        .outerjoin(n_docs, n_docs.c.unit_id == sides.c.unit_id)
        .outerjoin(acked, and_(acked.c.member_id == sides.c.member_id, acked.c.unit_id == sides.c.unit_id))
        .group_by(sides.c.unit_id)
    )  # fmt: skip
    new_active = fresh.c.status == MemberStatus.active
    new = (
        select(
            fresh.c.unit_id.label("unit_id"),
            _one(new_active).label("members_active"),
            _one(and_(new_active, fresh.c.is_leader)).label("leaders_active"),
            *(literal(0).label(c) for c in COUNT_COLUMNS[2:] if c not in ("ack_expected", "ack_done")),
            func.sum(case((new_active, func.coalesce(n_docs.c.n_docs, zero)), else_=0)).label("ack_expected"),
            literal(0).label("ack_done"),
        )
        .select_from(fresh)
        .outerjoin(n_docs, n_docs.c.unit_id == fresh.c.unit_id)
        .group_by(fresh.c.unit_id)
    )  # fmt: skip
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
        select(sides.c.unit_id.label("unit_id"), ack.document_id.label("document_id"),
               func.sum(sides.c.sign).label("acks"))
        .select_from(sides)
        .join(ack, ack.member_id == sides.c.member_id)
        .join(Document, and_(Document.id == ack.document_id, Document.revision == ack.revision,
                             Document.status.in_([DocumentStatus.published, DocumentStatus.archived])))
        .join(u, u.id == sides.c.unit_id)
        .join(a, and_(a.id == Document.audience_unit_id, _addressed(u.path, a.path)))
        .where(sides.c.status == MemberStatus.active)
        .group_by(sides.c.unit_id, ack.document_id)
        .subquery()
    )  # fmt: skip


async def _apply_deltas(session: AsyncSession, sides: Any, fresh: Any) -> None:
    """Add the contributions to the units' counter rows. Units without a row yet are
    skipped by the join; `shift` recounts them (and their per-document rows) afterwards,
    which also replaces whatever deltas landed on their per-document rows here."""
    stats: Table = UnitStats.__table__  # type: ignore[assignment]
    delta = _contributions(sides, fresh)
    await session.execute(
        update(stats)
        .where(stats.c.unit_id == delta.c.unit_id)
        .values({c: stats.c[c] + delta.c[c] for c in COUNT_COLUMNS})
    )
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
                ~exists().where(uda.c.unit_id == moved.c.unit_id,
                                uda.c.document_id == moved.c.document_id),
            ),
        )
    )  # fmt: skip
    # A recount keeps no zero rows; neither do deltas.
    await session.execute(
        delete(uda).where(uda.c.acks == 0, uda.c.unit_id.in_(select(moved.c.unit_id)))
    )


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
        for id_set in _id_sets(session, sorted(levels[length])):
            await _rollup(session, id_set)
    await _medians(session, [(u, p) for u, p in units])
    return len(units)
