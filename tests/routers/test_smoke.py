from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import Role
from tests.support.factories import auth, make_member, make_unit, make_user


async def test_manager_reads_member_in_scope(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    root = await make_unit(session)
    a = await make_unit(session, root)
    m = await make_member(session, a, full_name="Nguyễn Văn Đức")
    manager = await make_user(session, grants=[(Role.manager, a)])
    r = await client.get(f"/api/v1/members/{m.id}", headers=auth(manager))
    assert r.status_code == 200, r.text
    assert r.json()["full_name"] == "Nguyễn Văn Đức"
    assert r.headers["etag"] == '"1"'
