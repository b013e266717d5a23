"""guidance documents

Revision ID: 6d0c5b3a9e02
Revises: 5e1a7c0b2d01
Create Date: 2026-11-28 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.core.db

revision: str = '6d0c5b3a9e02'
down_revision: str | None = '5e1a7c0b2d01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
