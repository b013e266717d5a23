"""The counters at the sizes that once broke them (issue 21): writes that touch thousands of
units at once — a province's first roster snapshot, a document published to a big
audience, a moved subtree, `qd85 recount`. Statements whose bound parameters grew with
their input crossed PostgreSQL's 32,767 limit (and SQLite's of the same order) from about
2,000 touched units on. A few members per unit are enough to cross it; each test then
checks the maintained counters against a recount from scratch."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import db
from api.core.enums import Declaration, DocumentStatus, Membership, MemberStatus, UnitLevel
from api.core.text_vi import fold, name_sort_key
from api.models import Member, Unit, UnitStats
from api.services import counters
from api.services.units import child_path
from tests.routers.test_roster_support import post_sync
from tests.support.factories import make_document
from tests.support.stats import counter_diff, folded_rollup, maintained_and_rebuilt, recount
from tests.support.world import Org, build_org

UNITS = 3_000


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


async def bulk_cells(parent: Unit, n: int = UNITS, *, members_each: int = 1) -> list[uuid.UUID]:
    """`n` cells under `parent` with `members_each` active members each, inserted in two
    set-based statements (no counters kept: callers recount)."""
    units: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    for i in range(n):
        unit_id = uuid.uuid4()
        name = f"Chi bộ số {i}"
        units.append(
            {
                "id": unit_id,
                "code": f"{parent.code}.C{i:05d}",
                "name": name,
                "name_search": fold(name),
                "level": UnitLevel.cell,
                "parent_id": parent.id,
                "path": child_path(parent.path, unit_id),
                "depth": parent.depth + 1,
            }
        )
        for j in range(members_each):
            full_name = f"Nguyễn Văn Thành {i}-{j}"
            members.append(
                {
                    "id": uuid.uuid4(),
                    "external_id": f"{parent.code}-{i:05d}-{j}",
                    "full_name": full_name,
                    "name_search": fold(full_name),
                    "name_sort": name_sort_key(full_name),
                    "unit_id": unit_id,
                    "membership": Membership.official,
                    "status": MemberStatus.active,
                    "declaration": Declaration.declared_none if j % 2 else Declaration.not_declared,
                    "is_leader": j == 0,
                }
            )
    async with db.sessionmaker() as s:
        await s.execute(insert(Unit), units)
        if members:
            await s.execute(insert(Member), members)
        await s.commit()
    return [u["id"] for u in units]


async def assert_counters_exact() -> None:
    maintained, rebuilt = await maintained_and_rebuilt()
    assert counter_diff(maintained, rebuilt) == {}


class TestAtProvinceSize:
    async def test_a_snapshot_that_creates_3000_units_applies(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        body = {
            "mode": "snapshot",
            "scope_unit_code": "A",
            "units": [
                {
                    "code": f"A.N{i:05d}",
                    "name": f"Chi bộ mới {i}",
                    "level": "cell",
                    "parent_code": "A",
                }
                for i in range(UNITS)
            ],
            "members": [
                {
                    "external_id": f"N-{i:05d}",
                    "full_name": f"Trần Văn Minh {i}",
                    "unit_code": f"A.N{i:05d}",
                    "membership": "official",
                    "is_leader": i % 7 == 0,
                }
                for i in range(UNITS)
            ],
        }
        r = await post_sync(
            client, org.headers("partner_a"), body, dry_run=False, allow_mass_deactivation=True
        )
        assert r.status_code == 201, r.text
        sync = r.json()
        assert sync["status"] == "applied"
        assert sync["counts"]["created"] == UNITS
        a = await folded_rollup(org.a.id)
        assert (a.members_active, a.leaders_active) == (UNITS, (UNITS + 6) // 7)
        await assert_counters_exact()

    async def test_publishing_to_an_audience_of_3000_units(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await bulk_cells(org.a)
        await recount()
        doc = await make_document(session, org.a, status=DocumentStatus.draft)
        r = await client.post(
            f"/api/v1/documents/{doc.id}/publish", headers=org.headers("manager_a")
        )
        assert r.status_code == 200, r.text
        a = await folded_rollup(org.a.id)
        assert a.ack_expected == UNITS + 1  # the cells' members and `me` in A.1
        await assert_counters_exact()

    async def test_moving_a_subtree_of_3000_units(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        await bulk_cells(org.a)
        await recount()
        r = await client.patch(
            f"/api/v1/units/{org.a.id}",
            json={"parent_id": str(org.b.id)},
            headers=org.headers("admin"),
        )
        assert r.status_code == 200, r.text
        b = await folded_rollup(org.b.id)
        assert b.members_active == UNITS + 1
        await assert_counters_exact()

    async def test_recount_covers_3000_units(self, org: Org) -> None:
        await bulk_cells(org.a, members_each=2)
        async with db.sessionmaker() as s:
            assert await counters.recount_all(s) == UNITS + 7
            await s.commit()
        async with db.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(UnitStats)) == UNITS + 7
            assert await s.scalar(select(func.sum(UnitStats.members_active))) == 2 * UNITS + 1
        root = await folded_rollup(org.root.id)
        assert (root.members_active, root.members_declared) == (2 * UNITS + 1, UNITS)
