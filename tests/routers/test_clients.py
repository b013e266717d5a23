"""/api/v1/clients (admin only): role matrix, the secret shown only at creation and
rotation, revocation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import ApiClient, AuditEvent
from tests.support.factories import TOKEN_URL
from tests.support.problems import assert_documented, assert_problem, assert_unauthorized
from tests.support.reads import count_rows, fetch
from tests.support.world import Org, build_org

CLIENTS = "/api/v1/clients"
NON_ADMIN = ["manager_a", "manager_b", "reviewer_a", "member", "partner_a", "analyst_a"]


def _expect(response: httpx.Response, status: int) -> None:
    if status == 401:
        assert_unauthorized(response, "unauthorized")
    elif status == 403:
        assert_problem(response, 403, "forbidden")
    else:
        assert response.status_code == status, response.text


def _role_matrix(admin_status: int) -> Any:
    return pytest.mark.parametrize(
        ("role", "status"),
        [("admin", admin_status), *((r, 403) for r in NON_ADMIN), ("anon", 401)],
    )


def _assert_no_secret(response: httpx.Response, org: Org) -> None:
    assert "client_secret" not in response.text
    assert "secret_hash" not in response.text
    for secret in org.secrets.values():
        assert secret not in response.text


async def _token(client: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


class TestListClients:
    @_role_matrix(200)
    async def test_role_matrix(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: str, status: int
    ) -> None:
        org = await build_org(session)
        r = await client.get(CLIENTS, headers=org.headers(role))
        _expect(r, status)
        assert_documented(app, r)
        if status == 200:
            items = r.json()["items"]
            assert {c["id"] for c in items} == {
                str(org.principals["partner_a"].id),
                str(org.principals["analyst_a"].id),
            }
            _assert_no_secret(r, org)

    async def test_pagination(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        for i in range(3):
            body = {"name": f"Script {i}", "role": "analyst", "unit_id": str(org.b.id)}
            assert (
                await client.post(CLIENTS, json=body, headers=org.headers("admin"))
            ).status_code == 201
        first = (
            await client.get(CLIENTS, params={"limit": 3}, headers=org.headers("admin"))
        ).json()
        assert len(first["items"]) == 3
        assert first["next_cursor"]
        second = (
            await client.get(
                CLIENTS,
                params={"limit": 3, "cursor": first["next_cursor"]},
                headers=org.headers("admin"),
            )
        ).json()
        assert len(second["items"]) == 2
        assert second["next_cursor"] is None
        ids = [c["id"] for c in first["items"] + second["items"]]
        assert len(set(ids)) == 5


class TestCreateClient:
    async def test_secret_is_returned_once_and_works(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        body = {"name": "Thống kê tỉnh", "role": "analyst", "unit_id": str(org.b.id)}
        r = await client.post(CLIENTS, json=body, headers=org.headers("admin"))
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["role"] == "analyst"
        assert created["unit_id"] == str(org.b.id)
        assert created["active"] is True
        assert created["client_id"].startswith("qd85_")
        assert len(created["client_secret"]) >= 32
        assert "secret_hash" not in created
        assert r.headers["location"] == f"{CLIENTS}/{created['id']}"
        assert r.headers["cache-control"] == "no-store"
        stored = await fetch(ApiClient, uuid.UUID(created["id"]))
        assert created["client_secret"] not in stored.secret_hash
        token = await _token(client, created["client_id"], created["client_secret"])
        assert token.status_code == 200, token.text
        assert token.json()["scope"] == "analyst"
        # Never again: not in the read, the list or the audit trail.
        for url in (f"{CLIENTS}/{created['id']}", CLIENTS, "/api/v1/audit-events"):
            again = await client.get(url, headers=org.headers("admin"))
            assert again.status_code == 200, again.text
            assert created["client_secret"] not in again.text
            assert stored.secret_hash not in again.text

    @pytest.mark.parametrize("role", ["admin", "manager", "reviewer", "member", "nobody"])
    async def test_role_must_be_partner_or_analyst(
        self, client: httpx.AsyncClient, session: AsyncSession, role: str
    ) -> None:
        org = await build_org(session)
        body = {"name": "Bad role", "role": role, "unit_id": str(org.a.id)}
        r = await client.post(CLIENTS, json=body, headers=org.headers("admin"))
        assert_problem(r, 422, "validation_failed")
        assert await count_rows(ApiClient) == 2

    async def test_unknown_unit(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        body = {"name": "Nowhere", "role": "partner", "unit_id": str(uuid.uuid4())}
        r = await client.post(CLIENTS, json=body, headers=org.headers("admin"))
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body", "unit_id"]

    @pytest.mark.parametrize(
        "body",
        [
            {"role": "partner"},
            {"name": "", "role": "partner"},
            {"name": "x" * 201, "role": "partner"},
            {"name": "Extra", "role": "partner", "client_secret": "chosen-by-caller"},
        ],
    )
    async def test_invalid_body(
        self, client: httpx.AsyncClient, session: AsyncSession, body: dict[str, Any]
    ) -> None:
        org = await build_org(session)
        r = await client.post(
            CLIENTS, json={**body, "unit_id": str(org.a.id)}, headers=org.headers("admin")
        )
        assert_problem(r, 422, "validation_failed")
        assert await count_rows(ApiClient) == 2


class TestGetClient:
    @_role_matrix(200)
    async def test_role_matrix(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, role: str, status: int
    ) -> None:
        org = await build_org(session)
        target = org.principals["partner_a"]
        r = await client.get(f"{CLIENTS}/{target.id}", headers=org.headers(role))
        _expect(r, status)
        assert_documented(app, r)
        if status == 200:
            assert r.json()["client_id"] == target.client_id  # type: ignore[union-attr]
            _assert_no_secret(r, org)

    async def test_unknown_id(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        r = await client.get(f"{CLIENTS}/{uuid.uuid4()}", headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")


class TestRevokeClient:
    async def test_revoke_keeps_the_record_and_is_idempotent(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        target = org.principals["partner_a"]
        admin = org.headers("admin")
        assert (await client.delete(f"{CLIENTS}/{target.id}", headers=admin)).status_code == 204
        assert (await client.delete(f"{CLIENTS}/{target.id}", headers=admin)).status_code == 204
        r = await client.get(f"{CLIENTS}/{target.id}", headers=admin)
        assert r.status_code == 200
        assert r.json()["active"] is False
        assert (
            await count_rows(
                AuditEvent, AuditEvent.action == "client.revoke", AuditEvent.entity_id == target.id
            )
            == 1
        )
        token = await _token(client, target.client_id, org.secrets["partner_a"])  # type: ignore[union-attr]
        assert_problem(token, 401, "invalid_client")

    async def test_unknown_id(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        r = await client.delete(f"{CLIENTS}/{uuid.uuid4()}", headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")

    async def test_client_cannot_revoke_itself(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        target = org.principals["partner_a"]
        r = await client.delete(f"{CLIENTS}/{target.id}", headers=org.headers("partner_a"))
        assert_problem(r, 403, "forbidden")


class TestRotateSecret:
    async def test_new_secret_is_shown_once_and_works(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        target = org.principals["partner_a"]
        r = await client.post(f"{CLIENTS}/{target.id}/rotate-secret", headers=org.headers("admin"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["id"] == str(target.id)
        assert body["client_id"] == target.client_id  # type: ignore[union-attr]
        assert body["version"] == 2
        assert body["client_secret"] != org.secrets["partner_a"]
        assert r.headers["cache-control"] == "no-store"
        token = await _token(client, target.client_id, body["client_secret"])  # type: ignore[union-attr]
        assert token.status_code == 200, token.text
        read = await client.get(f"{CLIENTS}/{target.id}", headers=org.headers("admin"))
        assert body["client_secret"] not in read.text
        assert "client_secret" not in read.text

    async def test_revoked_client_cannot_be_rotated(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        target = org.principals["partner_a"]
        admin = org.headers("admin")
        await client.delete(f"{CLIENTS}/{target.id}", headers=admin)
        r = await client.post(f"{CLIENTS}/{target.id}/rotate-secret", headers=admin)
        assert_problem(r, 409, "conflict")
        assert "client_secret" not in r.text

    async def test_unknown_id(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        r = await client.post(
            f"{CLIENTS}/{uuid.uuid4()}/rotate-secret", headers=org.headers("admin")
        )
        assert_problem(r, 404, "not_found")
