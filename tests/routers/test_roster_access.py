"""Who may sync and read syncs, where (role × scope for every route), rows and scopes
outside a partner's subtree, and concurrent applies."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import db
from api.core.enums import Role
from api.models import AuditEvent, Member, RosterSync
from tests.routers.test_roster_support import (
    SYNCS,
    Roster,
    apply,
    make_roster,
    member_by_external_id,
    post_sync,
    preview,
    row,
    snapshot,
    snapshot_rows,
)
from tests.support.factories import auth, make_client, make_unit
from tests.support.problems import assert_problem, assert_status
from tests.support.reads import count_rows
from tests.support.world import ROLES


@pytest.fixture
async def roster(session: AsyncSession) -> Roster:
    return await make_roster(session)


B_SNAPSHOT = {
    "mode": "snapshot",
    "scope_unit_code": "B",
    "members": [row("B-001", "Đỗ Thị Giang", "B.1", membership="official")],
}
CREATE = {
    "admin": 201,
    "partner_a": 201,
    "manager_a": 403,
    "manager_b": 403,
    "reviewer_a": 403,
    "member": 403,
    "analyst_a": 403,
    "anon": 401,
}
LIST = {**CREATE, "admin": 200, "partner_a": 200}
# On a sync of A (made by partner_a) and a sync of B (made by admin).
READ = {
    "admin": (200, 200),
    "partner_a": (200, 404),
    "manager_a": (404, 404),
    "manager_b": (404, 404),
    "reviewer_a": (404, 404),
    "member": (404, 404),
    "analyst_a": (404, 404),
    "anon": (401, 401),
}


async def two_syncs(client: httpx.AsyncClient, roster: Roster) -> tuple[str, str]:
    a = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))
    b = await preview(client, roster, role="admin", body=B_SNAPSHOT)
    return a["id"], b["id"]


class TestRoleMatrix:
    @pytest.mark.parametrize("role", ROLES)
    async def test_create(self, client: httpx.AsyncClient, roster: Roster, role: str) -> None:
        r = await post_sync(client, roster.headers(role), snapshot())
        assert_status(r, CREATE[role])
        assert await count_rows(RosterSync) == (1 if CREATE[role] == 201 else 0)

    @pytest.mark.parametrize("role", ROLES)
    async def test_create_csv_checks_the_role_before_the_body(
        self, client: httpx.AsyncClient, roster: Roster, role: str
    ) -> None:
        r = await post_sync(
            client, roster.headers(role), b"not,a\nroster", content_type="text/plain"
        )
        expected = CREATE[role]
        if expected == 201:
            assert_problem(r, 415, "unsupported_media_type")
        else:
            assert_status(r, expected)

    @pytest.mark.parametrize("role", ROLES)
    async def test_list(self, client: httpx.AsyncClient, roster: Roster, role: str) -> None:
        a, b = await two_syncs(client, roster)
        r = await client.get(SYNCS, headers=roster.headers(role))
        assert_status(r, LIST[role])
        if r.status_code == 200:
            ids = {s["id"] for s in r.json()["items"]}
            assert ids == ({a, b} if role == "admin" else {a})

    @pytest.mark.parametrize("route", ["", "/changes", "/unit-changes"])
    @pytest.mark.parametrize("role", ROLES)
    async def test_reads(
        self, client: httpx.AsyncClient, roster: Roster, role: str, route: str
    ) -> None:
        a, b = await two_syncs(client, roster)
        for sync_id, expected in zip((a, b), READ[role], strict=True):
            r = await client.get(f"{SYNCS}/{sync_id}{route}", headers=roster.headers(role))
            assert_status(r, expected)

    @pytest.mark.parametrize("role", ROLES)
    async def test_apply(self, client: httpx.AsyncClient, roster: Roster, role: str) -> None:
        a, b = await two_syncs(client, roster)
        before = await count_rows(Member, Member.external_id == "N-001")
        for sync_id, expected in zip((a, b), READ[role], strict=True):
            r = await apply(client, roster, sync_id, role=role, allow_mass_deactivation=True)
            assert_status(r, expected)
        applied = READ[role][0] == 200
        assert await count_rows(Member, Member.external_id == "N-001") == before + (
            1 if applied else 0
        )

    async def test_unknown_sync_is_404(self, client: httpx.AsyncClient, roster: Roster) -> None:
        for url in (f"{SYNCS}/00000000-0000-4000-8000-000000000000", f"{SYNCS}/not-a-uuid/changes"):
            assert_problem(await client.get(url, headers=roster.headers("admin")), 404, "not_found")
        r = await client.post(
            f"{SYNCS}/00000000-0000-4000-8000-000000000000/apply", headers=roster.headers("admin")
        )
        assert_problem(r, 404, "not_found")

    async def test_an_admin_may_apply_a_partners_sync(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        a, _ = await two_syncs(client, roster)
        r = await apply(client, roster, a, role="admin")
        assert r.status_code == 200
        assert r.json()["applied_by_type"] == "user"

    async def test_another_partner_of_the_same_scope_sees_the_sync(
        self, client: httpx.AsyncClient, roster: Roster, session: AsyncSession
    ) -> None:
        a, b = await two_syncs(client, roster)
        other, _ = await make_client(session, Role.partner, roster.org.a1)
        assert (await client.get(f"{SYNCS}/{a}", headers=auth(other))).status_code == 404, (
            "a partner of A.1 does not cover a sync of A"
        )
        root, _ = await make_client(session, Role.partner, roster.org.root)
        assert (await client.get(f"{SYNCS}/{a}", headers=auth(root))).status_code == 200
        assert (await client.get(f"{SYNCS}/{b}", headers=auth(root))).status_code == 200


class TestPartnerScope:
    async def test_a_snapshot_of_another_subtree_is_422(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        for scope in ("B", "R", "NOPE"):
            body = {**B_SNAPSHOT, "scope_unit_code": scope}
            r = await post_sync(client, roster.headers("partner_a"), body)
            problem = assert_problem(r, 422, "validation_failed")
            assert problem["errors"][0]["loc"] == ["body", "scope_unit_code"]
        assert await count_rows(RosterSync) == 0

    async def test_a_snapshot_of_a_dissolved_unit_is_409(
        self, client: httpx.AsyncClient, roster: Roster, session: AsyncSession
    ) -> None:
        cell = await make_unit(session, roster.org.a, code="A.8", name="Chi bộ 8")
        r = await client.post(
            f"/api/v1/units/{cell.id}/dissolve", headers=roster.headers("manager_a")
        )
        assert r.status_code == 200, r.text
        r = await post_sync(client, roster.headers("partner_a"), snapshot([], scope="A.8"))
        assert_problem(r, 409, "unit_dissolved")

    async def test_a_snapshot_of_part_of_the_scope(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        rows = [
            row("A-001", "Nguyễn Văn An", "A.1", membership="official"),
            row("A-003", "Phạm Văn Cường", "A.1", membership="official"),
        ]
        sync = await preview(client, roster, body=snapshot(rows, scope="A.1"))
        # A-003 is in A.2 now: moved into A.1; only A.1's absent members are deactivated.
        assert sync["counts"]["moved"] == 1
        deactivated = {
            r["external_id"]
            for r in (
                await client.get(
                    f"{SYNCS}/{sync['id']}/changes",
                    params={"action": "deactivate"},
                    headers=roster.headers("partner_a"),
                )
            ).json()["items"]
        }
        assert "A-005" not in deactivated
        assert "A-002" in deactivated

    async def test_rows_outside_the_partners_subtree_are_rejected(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = {
            "mode": "upsert",
            "members": [
                row("N-701", "Ninh Văn Một", "B.1", membership="official"),  # target outside
                row("B-001", "Đỗ Thị Giang", "A.1", membership="official"),  # member outside
                row("N-702", "Ninh Văn Hai", "A.2", membership="official"),
            ],
        }
        sync = await preview(client, roster, body=body)
        assert [(e["row"], e["code"], e["field"]) for e in sync["errors"]] == [
            (1, "out_of_scope", "unit_code"),
            (2, "out_of_scope", "external_id"),
        ]
        assert sync["counts"]["created"] == 1
        r = await apply(client, roster, sync["id"], skip_rejected=True)
        assert r.status_code == 200
        b = await member_by_external_id("B-001")
        assert b is not None
        assert b.unit_id == roster.org.b1.id

    async def test_an_upsert_scope_limits_the_rows(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = {
            "mode": "upsert",
            "scope_unit_code": "A.1",
            "members": [
                row("A-003", "Phạm Văn Cường", "A.2"),
                row("A-001", "Nguyễn Văn An", "A.1"),
            ],
        }
        sync = await preview(client, roster, body=body)
        assert [(e["external_id"], e["code"]) for e in sync["errors"]] == [
            ("A-003", "out_of_scope")
        ]

    async def test_an_admin_may_move_a_member_across_subtrees(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = {
            "mode": "upsert",
            "scope_unit_code": "A",
            "members": [row("B-001", "Đỗ Thị Giang", "A.1", membership="official")],
        }
        sync = await preview(client, roster, role="admin", body=body)
        assert sync["counts"]["moved"] == 1
        assert (await apply(client, roster, sync["id"], role="admin")).status_code == 200

    async def test_a_partner_whose_unit_left_its_scope_gets_409_on_apply(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = {
            "mode": "upsert",
            "members": [row("N-801", "Mai Văn Tám", "A.2", membership="official")],
        }
        sync = await preview(client, roster, body=body)
        r = await client.patch(
            f"/api/v1/units/{roster.org.a2.id}",
            json={"parent_id": str(roster.org.b.id)},
            headers=roster.headers("admin"),
        )
        assert r.status_code == 200, r.text
        assert_problem(await apply(client, roster, sync["id"]), 409, "roster_changed")


@pytest.mark.parametrize("n", [2, 4])
async def test_concurrent_applies_apply_once(
    client: httpx.AsyncClient, roster: Roster, is_postgres: bool, n: int
) -> None:
    if not is_postgres:
        pytest.skip("SQLite serialises writers; the race is a PostgreSQL concern")
    sync = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))

    async def go(role: str) -> httpx.Response:
        return await apply(client, roster, sync["id"], role=role)

    results = await asyncio.gather(*(go("partner_a" if i % 2 else "admin") for i in range(n)))
    assert [r.status_code for r in results] == [200] * n, [r.text for r in results]
    assert {r.json()["applied_at"] for r in results} == {results[0].json()["applied_at"]}
    assert await count_rows(Member, Member.external_id == "N-001") == 1
    async with db.sessionmaker() as s:
        applies = await s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "roster_sync.apply")
        )
        a2: Any = await s.scalar(select(Member).where(Member.external_id == "A-002"))
    assert applies == 1
    assert a2.version == 2, "the update ran once"
