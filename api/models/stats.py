from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base, binary_string, utcnow
from api.core.enums import Platform

PLATFORM_COLUMNS = tuple(f"accounts_{p.value}" for p in Platform)


class Counts:
    """The counted figures (a mixin of UnitStats and UnitRollup)."""

    members_active: Mapped[int] = mapped_column(default=0)
    leaders_active: Mapped[int] = mapped_column(default=0)
    members_declared: Mapped[int] = mapped_column(default=0)
    members_with_accounts: Mapped[int] = mapped_column(default=0)
    leaders_with_accounts: Mapped[int] = mapped_column(default=0)
    accounts_total: Mapped[int] = mapped_column(default=0)
    accounts_verified: Mapped[int] = mapped_column(default=0)
    accounts_pending: Mapped[int] = mapped_column(default=0)
    accounts_facebook: Mapped[int] = mapped_column(default=0)
    accounts_zalo: Mapped[int] = mapped_column(default=0)
    accounts_youtube: Mapped[int] = mapped_column(default=0)
    accounts_tiktok: Mapped[int] = mapped_column(default=0)
    accounts_instagram: Mapped[int] = mapped_column(default=0)
    accounts_x: Mapped[int] = mapped_column(default=0)
    accounts_telegram: Mapped[int] = mapped_column(default=0)
    accounts_threads: Mapped[int] = mapped_column(default=0)
    accounts_linkedin: Mapped[int] = mapped_column(default=0)
    accounts_website: Mapped[int] = mapped_column(default=0)
    accounts_other: Mapped[int] = mapped_column(default=0)
    reports_filed: Mapped[int] = mapped_column(default=0)
    reports_open: Mapped[int] = mapped_column(default=0)
    reports_resolved: Mapped[int] = mapped_column(default=0)
    ack_expected: Mapped[int] = mapped_column(default=0)
    ack_done: Mapped[int] = mapped_column(default=0)


class UnitStats(Counts, Base):
    """Compliance counters of the rows that belong to one unit directly (not its
    subtree), recounted from those rows for the units a transaction touched, in that
    transaction (api/services/counters/). `qd85 recount` rebuilds every row.

    ack_expected = members_active × (published documents requiring acknowledgement that
    address the unit); ack_done = acknowledgements of those documents' current revisions
    by the unit's active members."""

    __tablename__ = "unit_stats"

    unit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )


class UnitRollup(Counts, Base):
    """The same counters summed over the unit's whole subtree, as folded: the rollup plus
    the subtree's pending `counter_deltas` is exact. Only the folder (and `qd85 recount`)
    writes these rows, never a request, so no write waits on an ancestor's row. Also the
    median time to resolve of the subtree's resolved reports, refreshed by the folder."""

    __tablename__ = "unit_rollups"

    unit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    median_hours_to_resolve: Mapped[float | None] = mapped_column()


class CounterDelta(Counts, Base):
    """A change of one unit's direct counters, appended (insert-only) by the transaction
    that made it, with the unit's path at that moment: the folder adds it to the rollups
    of every unit on that path and deletes it (api/services/counters/). A move appends
    the moved units' counters negated under their old paths and again under the new ones.
    `reports`: resolved reports changed, so the folder refreshes those medians."""

    __tablename__ = "counter_deltas"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    unit_id: Mapped[uuid.UUID] = mapped_column()
    path: Mapped[str] = mapped_column(binary_string(400))
    reports: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnitDocumentAcks(Base):
    """Acknowledgements of a published document's current revision by the active members
    of one unit (directly), for the per-document statistics."""

    __tablename__ = "unit_document_acks"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    acks: Mapped[int] = mapped_column(default=0)

    __table_args__ = (Index("ix_unit_document_acks_unit_id", "unit_id"),)
