from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from api.core.db import Base, TimestampMixin, binary_string, new_id
from api.core.enums import AccountKind, AccountPurpose, AccountStatus, Platform
from api.core.text_vi import fold
from api.models.types import enum_column

# Statuses in which a declaration holds its canonical account: one member at a time.
CLAIMING_STATUSES = frozenset(
    {AccountStatus.pending, AccountStatus.verified, AccountStatus.compromised}
)


class Account(TimestampMixin, Base):
    """A social account or personal page declared by a member. `claim_key` equals
    `canonical_key` while the declaration is active (pending, verified, compromised) and
    is NULL otherwise; its unique index is what makes a second member's active claim on
    the same account impossible, even under concurrent requests."""

    __tablename__ = "social_accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    platform: Mapped[Platform] = mapped_column(enum_column(Platform, "platform"))
    kind: Mapped[AccountKind] = mapped_column(enum_column(AccountKind, "account_kind"))
    purpose: Mapped[AccountPurpose] = mapped_column(enum_column(AccountPurpose, "account_purpose"))
    url: Mapped[str] = mapped_column(String(2048))
    canonical_key: Mapped[str] = mapped_column(binary_string(400), index=True)
    canonical_url: Mapped[str] = mapped_column(String(2048))
    claim_key: Mapped[str | None] = mapped_column(binary_string(400), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    # fold(display_name): what `GET /accounts?q=` searches besides keys and member names
    # (issue 14). Kept by `_fold_display_name` whenever display_name is set.
    display_name_search: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[AccountStatus] = mapped_column(
        enum_column(AccountStatus, "account_status"), default=AccountStatus.pending
    )
    review_note: Mapped[str | None] = mapped_column(String(1000))
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @validates("display_name")
    def _fold_display_name(self, _key: str, value: str | None) -> str | None:
        self.display_name_search = fold(value)[:200] if value else None
        return value

    __table_args__ = (Index("ix_social_accounts_created_at_id", "created_at", "id"),)
