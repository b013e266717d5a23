"""Migrations that move data, run over rows written the way the service writes them:
the test database is taken down to the revision before, then up to head again."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.cli import alembic_config
from api.core.db import db
from api.core.text_vi import fold
from api.models import Account
from tests.support.factories import make_account, make_member, make_unit


async def _migrate(url: str, down_to: str) -> None:
    """Down to `down_to`, then up to head; head again whatever fails (the suite goes on)."""
    await db.dispose()  # no pooled connection holds a lock the DDL waits on
    try:
        await asyncio.to_thread(command.downgrade, alembic_config(url), down_to)
    finally:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


async def test_display_name_search_is_backfilled(session: AsyncSession, database: str) -> None:
    """8c3d5e7f9a05 adds `display_name_search` and fills it, batch by batch, with the
    folded display name of every account that has one (accounts without keep NULL)."""
    unit = await make_unit(session)
    member = await make_member(session, unit)
    names = ["Nguyễn Văn Ánh", "ĐẶNG  THỊ   Lan", None]
    accounts = [await make_account(session, member, display_name=n) for n in names]
    ids = [a.id for a in accounts]
    await session.close()

    await _migrate(database, "837cc7f20c91")

    async with db.sessionmaker() as s:
        rows = dict(
            (
                await s.execute(
                    select(Account.id, Account.display_name_search).where(Account.id.in_(ids))
                )
            ).all()
        )
    assert [rows[i] for i in ids] == ["nguyen van anh", fold("ĐẶNG  THỊ   Lan"), None]
    assert fold("ĐẶNG  THỊ   Lan") == "dang thi lan"
