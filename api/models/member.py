from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base, TimestampMixin, binary_string, new_id
from api.core.enums import Declaration, Membership, MemberStatus
from api.models.types import enum_column


class Member(TimestampMixin, Base):
    """A cadre or party member on the roster. `name_search` is the folded name
    (diacritics removed, đ→d); `name_sort` the Vietnamese collation key."""

    __tablename__ = "members"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    name_search: Mapped[str] = mapped_column(String(200))
    name_sort: Mapped[str] = mapped_column(binary_string(400))
    unit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    membership: Mapped[Membership] = mapped_column(enum_column(Membership, "membership"))
    status: Mapped[MemberStatus] = mapped_column(
        enum_column(MemberStatus, "member_status"), default=MemberStatus.active
    )
    position: Mapped[str | None] = mapped_column(String(200))
    is_leader: Mapped[bool] = mapped_column(default=False)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    declaration: Mapped[Declaration] = mapped_column(
        enum_column(Declaration, "declaration"), default=Declaration.not_declared
    )
    declared_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        Index("ix_members_name_sort_id", "name_sort", "id"),
        Index("ix_members_updated_at_id", "updated_at", "id"),
    )
