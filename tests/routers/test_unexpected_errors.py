"""Unexpected failures: a bare 500 problem with the request id; an unreachable database
is a 503 problem. Both carry the same headers as every other response."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from api.core.enums import Role
from api.services import members
from tests.support.factories import auth, make_unit, make_user


@pytest.fixture
async def admin_headers(session) -> dict[str, str]:  # type: ignore[no-untyped-def]
    unit = await make_unit(session)
    return auth(
        await make_user(session, grants=[(Role.admin, None)], username=f"adm{unit.code.lower()}")
    )


@pytest.mark.fault_injection
class TestUnexpectedErrors:
    async def test_bug_gives_bare_500_problem_with_request_id(
        self,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        async def boom(*_a: object, **_k: object) -> None:
            raise RuntimeError("secret internals")

        monkeypatch.setattr(members, "list_members", boom)
        r = await client.get(
            "/api/v1/members", headers={**admin_headers, "X-Request-ID": "req-500-test"}
        )
        assert r.status_code == 500
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["code"] == "internal_error"
        assert body["request_id"] == "req-500-test"
        assert "secret internals" not in r.text
        assert r.headers["x-request-id"] == "req-500-test"
        assert r.headers["x-content-type-options"] == "nosniff"

    async def test_database_unreachable_gives_503(
        self,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        async def down(*_a: object, **_k: object) -> None:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

        monkeypatch.setattr(members, "list_members", down)
        r = await client.get("/api/v1/members", headers=admin_headers)
        assert r.status_code == 503
        assert r.json()["code"] == "service_unavailable"
        assert r.headers["retry-after"] == "5"
        assert "x-request-id" in r.headers

    async def test_concurrent_version_change_is_409_not_500(
        self,
        client: httpx.AsyncClient,
        admin_headers: dict[str, str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        async def stale(*_a: object, **_k: object) -> None:
            raise StaleDataError("UPDATE statement on table 'members' expected to update 1 row(s)")

        monkeypatch.setattr(members, "list_members", stale)
        r = await client.get("/api/v1/members", headers=admin_headers)
        assert r.status_code == 409
        assert r.json()["code"] == "conflict"
