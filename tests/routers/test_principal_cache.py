"""The per-process principal cache: a repeated token skips the principal query; writes
in this process clear it; a change made elsewhere (another replica) holds for at most
`principal_cache_seconds`."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

import api.deps
from api.core.config import get_settings
from api.core.enums import Role
from api.models import User
from tests.support.factories import auth, make_member, make_unit, make_user


@pytest.fixture
def count_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    original = api.deps.load_user_principal

    async def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return await original(*args, **kwargs)

    monkeypatch.setattr(api.deps, "load_user_principal", counting)
    api.deps.principal_cache.clear()
    return calls


class TestPrincipalCache:
    async def test_repeated_token_is_checked_once(
        self, client: httpx.AsyncClient, session: AsyncSession, count_loads: list[int]
    ) -> None:
        unit = await make_unit(session)
        headers = auth(await make_user(session, grants=[(Role.manager, unit)]))
        for _ in range(3):
            assert (
                await client.get(f"/api/v1/units/{unit.id}", headers=headers)
            ).status_code == 200
        assert count_loads[0] == 1

    async def test_a_write_to_principals_in_this_process_clears_it(
        self, client: httpx.AsyncClient, session: AsyncSession, count_loads: list[int]
    ) -> None:
        unit = await make_unit(session)
        user = await make_user(session, grants=[(Role.admin, None)])
        headers = auth(user)
        await client.get(f"/api/v1/units/{unit.id}", headers=headers)
        # Any commit in this process that writes users, grants, clients, units or a
        # member's unit/status (here: a user's name) forgets the cached checks.
        await session.execute(update(User).where(User.id == user.id).values(username="renamed"))
        await session.commit()
        await client.get(f"/api/v1/units/{unit.id}", headers=headers)
        assert count_loads[0] == 2

    async def test_a_write_that_changes_no_principal_keeps_it(
        self, client: httpx.AsyncClient, session: AsyncSession, count_loads: list[int]
    ) -> None:
        """The campaign's writes (acknowledgements, declarations, reports; here a new
        member) leave the cache alone: a burst of them does not turn every read into a
        principal query."""
        unit = await make_unit(session)
        headers = auth(await make_user(session, grants=[(Role.admin, None)]))
        await client.get(f"/api/v1/units/{unit.id}", headers=headers)
        r = await client.post(
            "/api/v1/members",
            headers=headers,
            json={"full_name": "Lê Văn Tám", "unit_id": str(unit.id), "membership": "official"},
        )
        assert r.status_code == 201
        member_id = r.json()["id"]
        await client.get(f"/api/v1/units/{unit.id}", headers=headers)
        assert count_loads[0] == 1
        # Transferring that member changes a member's status: forgotten.
        r = await client.patch(
            f"/api/v1/members/{member_id}",
            headers={**headers, "If-Match": r.headers["ETag"]},
            json={"status": "transferred"},
        )
        assert r.status_code == 200, r.text
        await client.get(f"/api/v1/units/{unit.id}", headers=headers)
        assert count_loads[0] == 2

    async def test_change_elsewhere_takes_effect_within_the_bound(
        self, client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "principal_cache_seconds", 0.3)
        api.deps.principal_cache.clear()
        unit = await make_unit(session)
        member = await make_member(session, unit)
        user = await make_user(session, member=member)
        headers = auth(user)
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
        # Another replica deactivates the user: this process does not see the write (its
        # engine events would; the note they leave on the connection is dropped).
        await session.execute(update(User).where(User.id == user.id).values(active=False))
        (await session.connection()).info.pop("qd85_principals_changed")
        await session.commit()
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
        await asyncio.sleep(0.35)
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
