from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base, TimestampMixin, binary_string, new_id
from api.core.enums import UnitLevel, UnitStatus
from api.models.types import enum_column


class Unit(TimestampMixin, Base):
    """A party organisation. `path` is the materialised path of ids from the root
    ("/<hex>/<hex>/"), so a subtree is one range scan on its unique index."""

    __tablename__ = "units"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(binary_string(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_search: Mapped[str] = mapped_column(String(300))
    level: Mapped[UnitLevel] = mapped_column(enum_column(UnitLevel, "unit_level"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    path: Mapped[str] = mapped_column(binary_string(400), unique=True)
    depth: Mapped[int] = mapped_column(default=0)
    status: Mapped[UnitStatus] = mapped_column(
        enum_column(UnitStatus, "unit_status"), default=UnitStatus.active
    )
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    declaration_required: Mapped[bool] = mapped_column(default=True)
    declaration_deadline_days: Mapped[int] = mapped_column(default=30)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (Index("ix_units_name_search", "name_search"),)
