"""The demo seed's logins: the partner operator (roster sync from the web app) signs in
with a password, holds only the partner role at Hà Nội, and may preview a sync there."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.services.demo import DEMO_PASSWORD, seed


async def _token(client: httpx.AsyncClient, username: str) -> str:
    r = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": DEMO_PASSWORD},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


class TestDemoPartnerOperator:
    async def test_signs_in_as_partner_of_hanoi_and_previews_a_csv(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await seed(session)
        await session.commit()
        h = {"Authorization": f"Bearer {await _token(client, 'partner.hn')}"}
        me = (await client.get("/api/v1/auth/me", headers=h)).json()
        assert me["roles"] == ["partner"]
        csv = "Mã đảng viên,Họ và tên,Chi bộ,Loại đảng viên\nDV-HN-0101,Lê Thị Tám,HN.BD.CB01,Chính thức\n".encode()  # noqa: E501
        r = await client.post(
            "/api/v1/roster/syncs",
            params={"mode": "upsert", "scope_unit_code": "HN"},
            content=csv,
            headers={**h, "Content-Type": "text/csv"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["counts"]["created"] == 1, [
            (e["field"], e["detail"]) for e in r.json()["errors"]
        ]
        # Outside Hà Nội the partner sees nothing.
        r = await client.post(
            "/api/v1/roster/syncs",
            params={"mode": "upsert", "scope_unit_code": "HCM"},
            content=csv,
            headers={**h, "Content-Type": "text/csv"},
        )
        assert r.status_code in (404, 422), r.text
