"""A roster apply: each changed member's contribution moved between units, in proportion
to the rows changed, instead of a recount of every unit it touched."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    Subquery,
    Table,
    Uuid,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from api.core.enums import (
    AccountStatus,
    Declaration,
    DocumentStatus,
    MemberStatus,
    Platform,
)
from api.models import Account, Document, DocumentAcknowledgement, Member, Unit
from api.models.stats import (
    PLATFORM_COLUMNS,
    CounterDelta,
    UnitDocumentAcks,
    UnitStats,
)
from api.services.counters.folder import fold_inline
from api.services.counters.recount import (
    COUNT_COLUMNS,
    addressed,
    counted_documents,
    documents_addressing,
    id_sets,
    one_if,
    recount_direct,
)
from api.services.counters.writes import append_stats, lock_units

# --------------------------------------------------------------------------- roster apply


async def shift(session: AsyncSession, sides: Subquery, fresh: Subquery) -> None:
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
    await lock_units(session, touched)
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
    for id_set in id_sets(session, uncounted):
        await recount_direct(session, id_set)
        await append_stats(session, id_set, 1, False)
    await fold_inline(session)


def _contributions(sides: Subquery, fresh: Subquery) -> Subquery:
    """Per unit, the signed sum of the members' contributions to each counter."""
    n_docs = documents_addressing(select(sides.c.unit_id).union(select(fresh.c.unit_id)))
    zero = literal(0)  # one parameter, bound once for both sides
    moved = _moved(sides, _owned(sides), n_docs, _acked(sides), zero)
    both = moved.union_all(_fresh(fresh, n_docs, zero))
    both_rows = both.subquery()
    return (
        select(
            both_rows.c.unit_id,
            *(func.sum(getattr(both_rows.c, c)).label(c) for c in COUNT_COLUMNS),
        )
        .group_by(both_rows.c.unit_id)
        .subquery()
    )


def _owned(sides: Subquery) -> Subquery:
    """Per member who existed before: the accounts' counters it carries."""
    claimed = Account.claim_key.is_not(None)
    return (
        select(
            Account.member_id.label("member_id"),
            one_if(claimed).label("accounts_total"),
            one_if(Account.status == AccountStatus.verified).label("accounts_verified"),
            one_if(Account.status == AccountStatus.pending).label("accounts_pending"),
            *(
                one_if(and_(claimed, Account.platform == p)).label(f"accounts_{p.value}")
                for p in Platform
            ),
        )
        .where(Account.member_id.in_(select(sides.c.member_id)))
        .group_by(Account.member_id)
        .subquery()
    )


def _acked(sides: Subquery) -> Subquery:
    """Per (member, unit) once, though a member's two sides may name the same unit: the
    member's acknowledgements of counted documents addressing the unit."""
    ack, u, a = DocumentAcknowledgement, aliased(Unit), aliased(Unit)
    places = select(sides.c.member_id, sides.c.unit_id).distinct().subquery()
    return (
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
                counted_documents(),
            ),
        )
        .join(u, u.id == places.c.unit_id)
        .join(a, and_(a.id == Document.audience_unit_id, addressed(u.path, a.path)))
        .group_by(places.c.member_id, places.c.unit_id)
        .subquery()
    )


def _moved(
    sides: Subquery, owned: Subquery, n_docs: Subquery, acked: Subquery, zero: BindParameter[int]
) -> Select[uuid.UUID, *tuple[int, ...]]:
    """Per unit, the signed contributions of the members who existed before (each side
    of a member: +1 as it is now, −1 as it was)."""
    m = aliased(Member)
    active = sides.c.status == MemberStatus.active
    sign = sides.c.sign
    has_account = func.coalesce(owned.c.accounts_total, 0) > 0

    def signed(flag: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((flag, sign), else_=0))

    return (
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


def _fresh(
    fresh: Subquery, n_docs: Subquery, zero: BindParameter[int]
) -> Select[uuid.UUID, *tuple[int, ...]]:
    """Per unit, the contributions of the members just created: no declaration, account
    or acknowledgement yet."""
    new_active = fresh.c.status == MemberStatus.active
    return (
        select(
            fresh.c.unit_id.label("unit_id"),
            one_if(new_active).label("members_active"),
            one_if(and_(new_active, fresh.c.is_leader)).label("leaders_active"),
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


def _document_deltas(sides: Subquery) -> Subquery:
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
        .join(a, and_(a.id == Document.audience_unit_id, addressed(u.path, a.path)))
        .where(sides.c.status == MemberStatus.active)
        .group_by(sides.c.unit_id, ack.document_id)
        .subquery()
    )


async def _apply_deltas(session: AsyncSession, sides: Subquery, fresh: Subquery) -> None:
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
