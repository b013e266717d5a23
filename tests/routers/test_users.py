"""/api/v1/users: role × scope matrix, validation, concurrency, secrets never returned."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import Role
from api.models import AuditEvent, Grant, User
from tests.support.factories import PASSWORD, auth, login, make_member, make_user
from tests.support.problems import assert_documented, assert_problem, assert_unauthorized
from tests.support.reads import count_rows, fetch
from tests.support.world import build_org

USERS = "/api/v1/users"
NEW_PASSWORD = "a-long-enough-passphrase"
FORBIDDEN_ROLES = ["reviewer_a", "member", "partner_a", "analyst_a"]


def _assert_no_secrets(response: httpx.Response, *passwords: str) -> None:
    text = response.text
    assert "password" not in text
    assert "$argon2" not in text
    for p in (PASSWORD, *passwords):
        assert p not in text


def _expect(response: httpx.Response, status: int) -> None:
    codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 422: "validation_failed"}
    if status < 400:
        assert response.status_code == status, response.text
    elif status == 401:
        assert_unauthorized(response, "unauthorized")
    else:
        assert_problem(response, status, codes[status])


class TestListUsers:
    async def test_admin_sees_every_user(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        r = await client.get(USERS, headers=org.headers("admin"))
        names = [u["username"] for u in r.json()["items"]]
        assert names == sorted(["root.admin", "manager.a", "manager.b", "reviewer.a", "member.a"])
        _assert_no_secrets(r)

    async def test_manager_sees_member_users_in_scope_only(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        mem_b = await make_member(session, org.b1)
        await make_user(session, member=mem_b, username="member.b")
        r = await client.get(USERS, headers=org.headers("manager_a"))
        assert [u["username"] for u in r.json()["items"]] == ["member.a"]
        r = await client.get(USERS, headers=org.headers("manager_b"))
        assert [u["username"] for u in r.json()["items"]] == ["member.b"]

    async def test_filter_by_username_part(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        r = await client.get(USERS, params={"q": "MANAGER"}, headers=org.headers("admin"))
        assert [u["username"] for u in r.json()["items"]] == ["manager.a", "manager.b"]
        r = await client.get(USERS, params={"q": "%"}, headers=org.headers("admin"))
        assert r.json()["items"] == []

    async def test_pagination(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(5):
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(USERS, params=params, headers=org.headers("admin"))).json()
            seen += [u["username"] for u in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(["root.admin", "manager.a", "manager.b", "reviewer.a", "member.a"])

    async def test_bad_cursor(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        r = await client.get(USERS, params={"cursor": "zzz"}, headers=org.headers("admin"))
        assert_problem(r, 422, "invalid_cursor")


class TestCreateUser:
    async def test_admin_creates_user_with_grants(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        body = {
            "username": "New.Reviewer",
            "password": NEW_PASSWORD,
            "grants": [
                {"role": "reviewer", "unit_id": str(org.b.id)},
                {"role": "analyst", "unit_id": str(org.a.id)},
            ],
        }
        r = await client.post(USERS, json=body, headers=org.headers("admin"))
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["username"] == "new.reviewer"
        assert out["member_id"] is None
        assert out["active"] is True
        assert out["version"] == 1
        assert sorted((g["role"], g["unit_id"]) for g in out["grants"]) == [
            ("analyst", str(org.a.id)),
            ("reviewer", str(org.b.id)),
        ]
        assert r.headers["location"] == f"/api/v1/users/{out['id']}"
        assert r.headers["etag"] == '"1"'
        _assert_no_secrets(r, NEW_PASSWORD)
        login_r = await login(client, "new.reviewer", NEW_PASSWORD)
        assert login_r.status_code == 200, login_r.text
        assert login_r.json()["scope"] == "analyst reviewer"

    async def test_admin_grant_drops_the_unit(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        body = {
            "username": "second.admin",
            "password": NEW_PASSWORD,
            "grants": [{"role": "admin", "unit_id": str(org.a.id)}],
        }
        r = await client.post(USERS, json=body, headers=org.headers("admin"))
        assert r.status_code == 201, r.text
        assert r.json()["grants"] == [{"role": "admin", "unit_id": None}]

    async def test_password_with_surrounding_spaces_logs_in_as_typed(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        password = "  spaced passphrase  "
        body = {"username": "spaced", "password": password, "grants": []}
        r = await client.post(USERS, json=body, headers=org.headers("admin"))
        assert r.status_code == 201, r.text
        assert (await login(client, "spaced", password)).status_code == 200

    async def test_manager_may_not_grant_roles(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        other_a = await make_member(session, org.a1)
        body = {
            "username": "sneaky",
            "password": NEW_PASSWORD,
            "member_id": str(other_a.id),
            "grants": [{"role": "reviewer", "unit_id": str(org.a1.id)}],
        }
        r = await client.post(USERS, json=body, headers=org.headers("manager_a"))
        assert_problem(r, 403, "forbidden")
        assert await count_rows(User, User.username == "sneaky") == 0

    async def test_manager_may_not_create_unlinked_users(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        body = {"username": "floating", "password": NEW_PASSWORD}
        r = await client.post(USERS, json=body, headers=org.headers("manager_a"))
        assert_problem(r, 403, "forbidden")

    async def test_manager_out_of_scope_member_is_unknown(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        mem_b = await make_member(session, org.b1)
        body = {"username": "far.away", "password": NEW_PASSWORD, "member_id": str(mem_b.id)}
        r = await client.post(USERS, json=body, headers=org.headers("manager_a"))
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body", "member_id"]

    async def test_unknown_member(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        body = {"username": "ghost", "password": NEW_PASSWORD, "member_id": str(uuid.uuid4())}
        r = await client.post(USERS, json=body, headers=org.headers("admin"))
        assert_problem(r, 422, "validation_failed")

    async def test_member_already_has_a_login(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        body = {"username": "second.login", "password": NEW_PASSWORD, "member_id": str(org.me.id)}
        r = await client.post(USERS, json=body, headers=org.headers("admin"))
        assert_problem(r, 409, "duplicate")

    @pytest.mark.parametrize("password", ["sh0rt-pw", "123456789", ""])
    async def test_short_password(
        self, client: httpx.AsyncClient, session: AsyncSession, password: str
    ) -> None:
        org = await build_org(session)
        body = {"username": "weak", "password": password}
        r = await client.post(USERS, json=body, headers=org.headers("admin"))
        problem = assert_problem(r, 422, "validation_failed")
        assert [e["loc"] for e in problem["errors"]] == [["body", "password"]]
        if password:
            assert password not in r.text

    @pytest.mark.parametrize("username", ["Root.Admin", "root.admin"])
    async def test_duplicate_username(
        self, client: httpx.AsyncClient, session: AsyncSession, username: str
    ) -> None:
        org = await build_org(session)
        body = {"username": username, "password": NEW_PASSWORD}
        r = await client.post(USERS, json=body, headers=org.headers("admin"))
        assert_problem(r, 409, "duplicate")
        assert await count_rows(User) == 5

    @pytest.mark.parametrize("role", ["partner", "member"])
    async def test_grant_role_not_for_users(
        self, client: httpx.AsyncClient, session: AsyncSession, role: str
    ) -> None:
        org = await build_org(session)
        body = {
            "username": "odd.role",
            "password": NEW_PASSWORD,
            "grants": [{"role": role, "unit_id": str(org.a.id)}],
        }
        r = await client.post(USERS, json=body, headers=org.headers("admin"))
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body", "grants", 0]
        assert await count_rows(User, User.username == "odd.role") == 0

    @pytest.mark.parametrize(
        "grant",
        [
            {"role": "reviewer"},
            {"role": "reviewer", "unit_id": "not-a-uuid"},
            {"role": "superuser", "unit_id": None},
            {"role": "manager", "unit_id": "UNKNOWN"},
        ],
    )
    async def test_bad_grants(
        self, client: httpx.AsyncClient, session: AsyncSession, grant: dict[str, Any]
    ) -> None:
        org = await build_org(session)
        if grant.get("unit_id") == "UNKNOWN":
            grant = {**grant, "unit_id": str(uuid.uuid4())}
        body = {"username": "bad.grant", "password": NEW_PASSWORD, "grants": [grant]}
        r = await client.post(USERS, json=body, headers=org.headers("admin"))
        assert_problem(r, 422, "validation_failed")
        assert await count_rows(User, User.username == "bad.grant") == 0

    @pytest.mark.parametrize(
        "body",
        [
            {"username": "ab", "password": NEW_PASSWORD},
            {"username": "has space", "password": NEW_PASSWORD},
            {"username": "ok.name", "password": NEW_PASSWORD, "active": False},
            {"username": "ok.name", "password": NEW_PASSWORD, "password_hash": "x"},
            {"password": NEW_PASSWORD},
        ],
    )
    async def test_invalid_body(
        self, client: httpx.AsyncClient, session: AsyncSession, body: dict[str, Any]
    ) -> None:
        org = await build_org(session)
        r = await client.post(USERS, json=body, headers=org.headers("admin"))
        assert_problem(r, 422, "validation_failed")

    async def test_audit_event_without_the_password(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        other_a = await make_member(session, org.a1)
        body = {"username": "audited", "password": NEW_PASSWORD, "member_id": str(other_a.id)}
        r = await client.post(USERS, json=body, headers=org.headers("manager_a"))
        assert r.status_code == 201, r.text
        user_id = uuid.UUID(r.json()["id"])
        assert (
            await count_rows(
                AuditEvent,
                AuditEvent.entity_id == user_id,
                AuditEvent.action == "user.create",
                AuditEvent.actor_id == org.principals["manager_a"].id,
                AuditEvent.unit_id == org.a1.id,
            )
            == 1
        )


class TestGetUser:
    @pytest.mark.parametrize(
        ("role", "status"),
        [
            ("admin", 200),
            ("manager_a", 200),
            ("manager_b", 404),
            ("reviewer_a", 403),
            ("member", 403),
            ("partner_a", 403),
            ("analyst_a", 403),
            ("anon", 401),
        ],
    )
    async def test_member_user_matrix(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: str, status: int
    ) -> None:
        org = await build_org(session)
        target = org.principals["member"]
        r = await client.get(f"{USERS}/{target.id}", headers=org.headers(role))
        _expect(r, status)
        assert_documented(app, r)
        if status == 200:
            body = r.json()
            assert body["username"] == "member.a"
            assert body["member_id"] == str(org.me.id)
            assert body["grants"] == []
            assert r.headers["etag"] == '"1"'
            _assert_no_secrets(r)

    async def test_manager_cannot_see_unlinked_users(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        r = await client.get(
            f"{USERS}/{org.principals['reviewer_a'].id}", headers=org.headers("manager_a")
        )
        assert_problem(r, 404, "not_found")

    async def test_unknown_id(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        r = await client.get(f"{USERS}/{uuid.uuid4()}", headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")

    async def test_malformed_id(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        r = await client.get(f"{USERS}/not-a-uuid", headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")


class TestUpdateUser:
    @pytest.mark.parametrize(
        ("role", "status"),
        [
            ("admin", 200),
            ("manager_a", 200),
            ("manager_b", 404),
            ("reviewer_a", 403),
            ("member", 403),
            ("partner_a", 403),
            ("analyst_a", 403),
            ("anon", 401),
        ],
    )
    async def test_password_change_matrix(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: str, status: int
    ) -> None:
        org = await build_org(session)
        target = org.principals["member"]
        r = await client.patch(
            f"{USERS}/{target.id}", json={"password": NEW_PASSWORD}, headers=org.headers(role)
        )
        _expect(r, status)
        assert_documented(app, r)
        changed = status == 200
        assert (await login(client, "member.a", NEW_PASSWORD)).status_code == (
            200 if changed else 400
        )
        if changed:
            assert r.json()["version"] == 2
            assert r.headers["etag"] == '"2"'
            _assert_no_secrets(r, NEW_PASSWORD)

    async def test_manager_may_deactivate_member_login(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        target = org.principals["member"]
        r = await client.patch(
            f"{USERS}/{target.id}", json={"active": False}, headers=org.headers("manager_a")
        )
        assert r.status_code == 200, r.text
        assert r.json()["active"] is False
        assert (await fetch(User, target.id)).active is False

    async def test_manager_may_not_add_grants(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        target = org.principals["member"]
        r = await client.patch(
            f"{USERS}/{target.id}",
            json={"grants": [{"role": "manager", "unit_id": str(org.a.id)}]},
            headers=org.headers("manager_a"),
        )
        assert_problem(r, 403, "forbidden")
        assert await count_rows(Grant, Grant.user_id == target.id) == 0

    async def test_manager_may_not_touch_users_with_grants(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        """A member of A1 who is also a reviewer is visible to the manager, not editable."""
        org = await build_org(session)
        linked = await make_member(session, org.a1)
        staff = await make_user(session, grants=[(Role.reviewer, org.a)], member=linked)
        r = await client.patch(
            f"{USERS}/{staff.id}", json={"active": False}, headers=org.headers("manager_a")
        )
        assert_problem(r, 403, "forbidden")
        assert (await fetch(User, staff.id)).active is True

    async def test_admin_changes_grants(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        target = org.principals["reviewer_a"]
        r = await client.patch(
            f"{USERS}/{target.id}",
            json={"grants": [{"role": "manager", "unit_id": str(org.b.id)}]},
            headers=org.headers("admin"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["grants"] == [{"role": "manager", "unit_id": str(org.b.id)}]
        assert await count_rows(Grant, Grant.user_id == target.id) == 1

    @pytest.mark.parametrize("role", ["partner", "member"])
    async def test_grant_role_not_for_users(
        self, client: httpx.AsyncClient, session: AsyncSession, role: str
    ) -> None:
        org = await build_org(session)
        target = org.principals["reviewer_a"]
        r = await client.patch(
            f"{USERS}/{target.id}",
            json={"grants": [{"role": role, "unit_id": str(org.a.id)}]},
            headers=org.headers("admin"),
        )
        assert_problem(r, 422, "validation_failed")
        assert (await fetch(User, target.id)).version == 1

    async def test_new_password_is_taken_as_typed(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        target = org.principals["member"]
        password = " trailing and leading "
        r = await client.patch(
            f"{USERS}/{target.id}", json={"password": password}, headers=org.headers("admin")
        )
        assert r.status_code == 200, r.text
        assert (await login(client, "member.a", password)).status_code == 200
        assert_problem(await login(client, "member.a", password.strip()), 400, "invalid_grant")

    async def test_short_password(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        target = org.principals["member"]
        r = await client.patch(
            f"{USERS}/{target.id}", json={"password": "tooshort"}, headers=org.headers("admin")
        )
        assert_problem(r, 422, "validation_failed")

    async def test_unknown_field(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        target = org.principals["member"]
        for field, value in (("username", "renamed"), ("password_hash", "x"), ("token_version", 0)):
            r = await client.patch(
                f"{USERS}/{target.id}", json={field: value}, headers=org.headers("admin")
            )
            assert_problem(r, 422, "validation_failed")

    async def test_stale_if_match(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        target = org.principals["member"]
        url = f"{USERS}/{target.id}"
        admin = org.headers("admin")
        r = await client.patch(url, json={"active": False}, headers={**admin, "If-Match": '"1"'})
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == '"2"'
        r = await client.patch(url, json={"active": True}, headers={**admin, "If-Match": '"1"'})
        assert_problem(r, 412, "version_mismatch")
        assert (await fetch(User, target.id)).active is False
        r = await client.patch(url, json={"active": True}, headers={**admin, "If-Match": "junk"})
        assert_problem(r, 412, "version_mismatch")
        r = await client.patch(url, json={"active": True}, headers={**admin, "If-Match": 'W/"2"'})
        assert r.status_code == 200, r.text

    async def test_admin_cannot_deactivate_self(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        me = org.principals["admin"]
        r = await client.patch(
            f"{USERS}/{me.id}", json={"active": False}, headers=org.headers("admin")
        )
        assert_problem(r, 409, "conflict")

    async def test_no_change_keeps_version_and_tokens(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        target = org.principals["member"]
        old = auth(target)
        r = await client.patch(
            f"{USERS}/{target.id}", json={"active": True}, headers=org.headers("admin")
        )
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 1
        assert (await client.get("/api/v1/auth/me", headers=old)).status_code == 200
        assert await count_rows(AuditEvent, AuditEvent.action == "user.update") == 0

    async def test_unknown_id(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        r = await client.patch(
            f"{USERS}/{uuid.uuid4()}", json={"active": False}, headers=org.headers("admin")
        )
        assert_problem(r, 404, "not_found")
