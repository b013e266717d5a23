"""GET /api/v1/audit-events: who reads what, filters, newest-first pagination, and no
secret ever written into an event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import db
from api.models import ApiClient, AuditEvent, User
from tests.support.factories import make_member
from tests.support.problems import assert_problem
from tests.support.world import Org, build_org

EVENTS = "/api/v1/audit-events"


async def _add_member(client: httpx.AsyncClient, org: Org, unit_id: uuid.UUID, name: str) -> str:
    r = await client.post(
        "/api/v1/members",
        json={"full_name": name, "unit_id": str(unit_id), "membership": "official"},
        headers=org.headers("admin"),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _events(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[Any]:
    r = await client.get(EVENTS, params={"limit": 200, **params}, headers=headers)
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["items"]
    return items


async def _world(client: httpx.AsyncClient, session: AsyncSession) -> tuple[Org, str, str]:
    """The organisation (two client.create events in A by the system) plus one member created by
    the admin in A1 and one in B1."""
    org = await build_org(session)
    in_a = await _add_member(client, org, org.a1.id, "Trần Văn Ánh")
    in_b = await _add_member(client, org, org.b1.id, "Phạm Thị Bình")
    return org, in_a, in_b


class TestListAuditEvents:
    async def test_admin_sees_everything(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org, in_a, in_b = await _world(client, session)
        items = await _events(client, org.headers("admin"))
        assert sorted(e["action"] for e in items) == [
            "client.create",
            "client.create",
            "member.create",
            "member.create",
        ]
        member_events = {e["entity_id"]: e for e in items if e["action"] == "member.create"}
        assert set(member_events) == {in_a, in_b}
        event = member_events[in_a]
        assert event["actor_type"] == "user"
        assert event["actor_id"] == str(org.principals["admin"].id)
        assert event["entity_type"] == "member"
        assert event["unit_id"] == str(org.a1.id)
        assert event["client_addr"] == "127.0.0.1"
        assert event["request_id"]
        assert event["changes"]["full_name"] == "Trần Văn Ánh"
        system = [e for e in items if e["action"] == "client.create"]
        assert all(e["actor_type"] == "system" and e["actor_id"] is None for e in system)

    async def test_request_id_is_the_callers(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        r = await client.post(
            "/api/v1/members",
            json={"full_name": "Lý Văn Cường", "unit_id": str(org.a1.id), "membership": "none"},
            headers={**org.headers("admin"), "X-Request-ID": "trace-abc-123"},
        )
        assert r.status_code == 201, r.text
        items = await _events(client, org.headers("admin"), action="member.create")
        assert [e["request_id"] for e in items] == ["trace-abc-123"]

    async def test_manager_sees_own_subtree_only(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org, in_a, in_b = await _world(client, session)
        a_items = await _events(client, org.headers("manager_a"))
        assert sorted(e["action"] for e in a_items) == [
            "client.create",
            "client.create",
            "member.create",
        ]
        assert {e["entity_id"] for e in a_items if e["entity_type"] == "member"} == {in_a}
        b_items = await _events(client, org.headers("manager_b"))
        assert [(e["action"], e["entity_id"]) for e in b_items] == [("member.create", in_b)]

    async def test_manager_cannot_find_other_subtree_by_filter(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org, _in_a, in_b = await _world(client, session)
        assert await _events(client, org.headers("manager_a"), entity_id=in_b) == []

    async def test_events_without_a_unit_are_admin_only(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        """A user without a member has no place in the tree: only admins see its events."""
        org = await build_org(session)
        r = await client.post(
            "/api/v1/users",
            json={
                "username": "floating.analyst",
                "password": "long-enough-pass",
                "grants": [{"role": "analyst", "unit_id": str(org.a.id)}],
            },
            headers=org.headers("admin"),
        )
        assert r.status_code == 201, r.text
        admin_items = await _events(client, org.headers("admin"), action="user.create")
        assert [e["entity_id"] for e in admin_items] == [r.json()["id"]]
        assert admin_items[0]["unit_id"] is None
        assert await _events(client, org.headers("manager_a"), action="user.create") == []

    async def test_filters(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org, in_a, _in_b = await _world(client, session)
        admin = org.headers("admin")
        partner_id = str(org.principals["partner_a"].id)
        by_type = await _events(client, admin, entity_type="client")
        assert sorted(e["entity_id"] for e in by_type) == sorted(
            [partner_id, str(org.principals["analyst_a"].id)]
        )
        by_entity = await _events(client, admin, entity_id=in_a)
        assert [(e["action"], e["entity_id"]) for e in by_entity] == [("member.create", in_a)]
        by_actor = await _events(client, admin, actor_id=str(org.principals["admin"].id))
        assert sorted(e["action"] for e in by_actor) == ["member.create", "member.create"]
        by_action = await _events(client, admin, action="client.create")
        assert len(by_action) == 2
        assert await _events(client, admin, action="client.delete") == []
        combined = await _events(client, admin, entity_type="member", action="client.create")
        assert combined == []

    async def test_time_window(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org, _in_a, _in_b = await _world(client, session)
        admin = org.headers("admin")
        items = await _events(client, admin)
        newest = datetime.fromisoformat(items[0]["at"])
        oldest = datetime.fromisoformat(items[-1]["at"])
        assert newest.tzinfo is not None
        everything = await _events(client, admin, **{"from": oldest.isoformat()})
        assert len(everything) == 4
        # `to` is exclusive: the newest event is left out.
        before_newest = await _events(client, admin, to=newest.isoformat())
        assert len(before_newest) == 3
        assert items[0]["id"] not in {e["id"] for e in before_newest}
        # `from` is inclusive.
        only_newest = await _events(client, admin, **{"from": newest.isoformat()})
        assert [e["id"] for e in only_newest] == [items[0]["id"]]
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        assert await _events(client, admin, **{"from": future}) == []
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        assert await _events(client, admin, to=past) == []
        # Another offset, same instant.
        plus7 = newest.astimezone(timezone(timedelta(hours=7))).isoformat()
        assert plus7.endswith("+07:00")
        assert len(await _events(client, admin, **{"from": plus7})) == 1

    @pytest.mark.parametrize(
        "params",
        [
            {"from": "yesterday"},
            {"to": "2025-13-01T00:00:00Z"},
            {"entity_id": "nope"},
            {"actor_id": "123"},
            {"limit": 0},
            {"limit": 201},
            {"from": "2025-01-01T00:00:00"},
            {"to": "2025-01-01"},
        ],
    )
    async def test_bad_filters(
        self, client: httpx.AsyncClient, session: AsyncSession, params: dict[str, Any]
    ) -> None:
        org = await build_org(session)
        r = await client.get(EVENTS, params=params, headers=org.headers("admin"))
        assert_problem(r, 422, "validation_failed")

    async def test_bad_cursor(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        r = await client.get(EVENTS, params={"cursor": "garbage"}, headers=org.headers("admin"))
        assert_problem(r, 422, "invalid_cursor")

    async def test_pagination_newest_first(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        created = [await _add_member(client, org, org.a1.id, f"Đỗ Văn Số {i}") for i in range(5)]
        admin = org.headers("admin")
        seen: list[dict[str, Any]] = []
        cursor: str | None = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": 2, "action": "member.create"}
            if cursor:
                params["cursor"] = cursor
            r = await client.get(EVENTS, params=params, headers=admin)
            assert r.status_code == 200, r.text
            page = r.json()
            pages += 1
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3
        assert [e["entity_id"] for e in seen] == list(reversed(created))
        stamps = [(e["at"], e["id"]) for e in seen]
        assert stamps == sorted(stamps, reverse=True)

    async def test_cursor_from_another_list_is_rejected(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        users = await client.get("/api/v1/users", params={"limit": 1}, headers=org.headers("admin"))
        cursor = users.json()["next_cursor"]
        assert cursor
        r = await client.get(EVENTS, params={"cursor": cursor}, headers=org.headers("admin"))
        assert_problem(r, 422, "invalid_cursor")

    async def test_no_write_endpoints(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        admin = org.headers("admin")
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            r = await client.request(method, EVENTS, headers=admin, json={})
            assert_problem(r, 405, "method_not_allowed")


class TestAuditHasNoSecrets:
    async def test_passwords_and_client_secrets_never_recorded(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        other_a = await make_member(session, org.a1)
        admin = org.headers("admin")
        password = "first-Secret-passphrase"
        second_password = "second-Secret-passphrase"
        r = await client.post(
            "/api/v1/users",
            json={"username": "secretive", "password": password, "member_id": str(other_a.id)},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        user_id = r.json()["id"]
        r = await client.patch(
            f"/api/v1/users/{user_id}", json={"password": second_password}, headers=admin
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            "/api/v1/clients",
            json={"name": "Partner X", "role": "partner", "unit_id": str(org.a.id)},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        created = r.json()
        r = await client.post(f"/api/v1/clients/{created['id']}/rotate-secret", headers=admin)
        assert r.status_code == 200, r.text
        rotated = r.json()["client_secret"]

        async with db.sessionmaker() as s:
            hashes = list((await s.scalars(select(User.password_hash))).all())
            hashes += list((await s.scalars(select(ApiClient.secret_hash))).all())
        secrets = [password, second_password, created["client_secret"], rotated, *hashes]

        items = await _events(client, admin)
        actions = sorted(e["action"] for e in items)
        assert actions == sorted(
            [
                "client.create",
                "client.create",
                "user.create",
                "user.update",
                "client.create",
                "client.rotate_secret",
            ]
        )
        api_text = (await client.get(EVENTS, params={"limit": 200}, headers=admin)).text
        async with db.sessionmaker() as s:
            stored = [e.changes for e in (await s.scalars(select(AuditEvent))).all()]
        for text in (api_text, repr(stored)):
            for secret in secrets:
                assert secret not in text
            assert "$argon2" not in text
        by_action = {e["action"]: e for e in items}
        assert by_action["user.create"]["changes"]["password"] == "[redacted]"
        assert by_action["user.update"]["changes"]["password"] == "[redacted]"
        assert by_action["client.rotate_secret"]["changes"]["client_secret"] == "[redacted]"
