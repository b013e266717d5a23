"""reported posts

Revision ID: 5e1a7c0b2d01
Revises: 059d0b099ff6
Create Date: 2026-11-28 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.core.db

revision: str = '5e1a7c0b2d01'
down_revision: str | None = '059d0b099ff6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
