"""social_accounts.display_name_search: the folded display name, for ?q= (issue 14)

Revision ID: 8c3d5e7f9a05
Revises: 837cc7f20c91
Create Date: 2026-12-04 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c3d5e7f9a05"
down_revision: str | None = "837cc7f20c91"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000


def upgrade() -> None:
    from api.core.text_vi import fold

    with op.batch_alter_table("social_accounts") as batch:
        batch.add_column(sa.Column("display_name_search", sa.String(length=200), nullable=True))
    conn = op.get_bind()
    accounts = sa.table(
        "social_accounts",
        sa.column("id", sa.Uuid()),
        sa.column("display_name", sa.String()),
        sa.column("display_name_search", sa.String()),
    )
    last = None
    while True:
        query = (
            sa.select(accounts.c.id, accounts.c.display_name)
            .where(accounts.c.display_name.is_not(None))
            .order_by(accounts.c.id)
            .limit(BATCH)
        )
        if last is not None:
            query = query.where(accounts.c.id > last)
        rows = conn.execute(query).all()
        if not rows:
            break
        conn.execute(
            accounts.update()
            .where(accounts.c.id == sa.bindparam("b_id"))
            .values(display_name_search=sa.bindparam("b_search")),
            [{"b_id": r.id, "b_search": fold(r.display_name)[:200]} for r in rows],
        )
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("social_accounts") as batch:
        batch.drop_column("display_name_search")
