from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base
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
    transaction (api/services/counters.py). `qd85 recount` rebuilds every row.

    ack_expected = members_active × (published documents requiring acknowledgement that
    address the unit); ack_done = acknowledgements of those documents' current revisions
    by the unit's active members."""

    __tablename__ = "unit_stats"

    unit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )


class UnitRollup(Counts, Base):
    """The same counters summed over the unit's whole subtree (the unit's own UnitStats
    plus its children's rollups), and the median time to resolve of the subtree's
    resolved reports; kept in the same transactions, bottom-up along the touched units'
    ancestors. A statistics read is then one row per child."""

    __tablename__ = "unit_rollups"

    unit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    median_hours_to_resolve: Mapped[float | None] = mapped_column()


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
