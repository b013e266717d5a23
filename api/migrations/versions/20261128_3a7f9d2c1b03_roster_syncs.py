"""roster syncs

Revision ID: 3a7f9d2c1b03
Revises: 6d0c5b3a9e02
Create Date: 2026-11-28 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.core.db

revision: str = '3a7f9d2c1b03'
down_revision: str | None = '6d0c5b3a9e02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
