"""Cross-cutting conventions of SPEC §3: secure-by-default routes, problem documents,
body limits, security headers, health and metrics, meta, the published OpenAPI
document, migrations in sync with the models, CORS."""

from __future__ import annotations

import asyncio
import enum
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncSession

import api.core.enums as enums_module
from api.cli import alembic_config
from api.core.config import Settings
from api.core.enums import LABELS, Role
from api.deps import get_principal
from api.main import PUBLIC_PATHS, create_app
from api.models import AuditEvent, Member
from tests.support.factories import auth, make_unit, make_user
from tests.support.problems import assert_problem, assert_unauthorized
from tests.support.reads import count_rows

OPENAPI_FILE = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
PROBLEM_REF = "#/components/schemas/Problem"


# --- (a) secure by default ---------------------------------------------------------------


def _routes(app: FastAPI) -> Iterator[Any]:
    """Every route of the app, with included routers flattened (FastAPI keeps included
    routers as branches of app.routes; iter_route_contexts yields their effective routes)."""
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    yield from iterate(app.routes) if iterate else app.routes


def _depends_on(dependant: Dependant | None, target: Any) -> bool:
    if dependant is None:
        return False
    if dependant.call is target:
        return True
    return any(_depends_on(sub, target) for sub in dependant.dependencies)


def unprotected_routes(app: FastAPI) -> list[str]:
    """'METHOD path' of every route outside PUBLIC_PATHS without get_principal."""
    return sorted(
        f"{','.join(sorted(getattr(r, 'methods', None) or []))} {r.path}"
        for r in _routes(app)
        if r.path not in PUBLIC_PATHS
        and not _depends_on(getattr(r, "dependant", None), get_principal)
    )


def _protected(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, r.path)
        for r in _routes(app)
        if r.path not in PUBLIC_PATHS
        for method in (getattr(r, "methods", None) or [])
        if method != "HEAD"
    )


class TestSecureByDefault:
    def test_every_route_outside_public_paths_requires_a_principal(self, app: FastAPI) -> None:
        assert unprotected_routes(app) == [], (
            "these routes neither require get_principal nor appear in api.main.PUBLIC_PATHS"
        )

    def test_the_walker_catches_an_unprotected_route(self) -> None:
        """The check above can fail: a route added without auth is reported, also when it
        sits on a nested router."""
        probe = create_app()
        inner = APIRouter(prefix="/inner")

        @inner.get("/open")
        async def open_route() -> dict[str, str]:
            return {}

        @inner.get("/closed", dependencies=[Depends(get_principal)])
        async def closed_route() -> dict[str, str]:
            return {}

        outer = APIRouter(prefix="/api/v1/leak")
        outer.include_router(inner)
        probe.include_router(outer)
        assert unprotected_routes(probe) == ["GET /api/v1/leak/inner/open"]

    def test_every_public_path_exists(self, app: FastAPI) -> None:
        paths = {r.path for r in _routes(app)}
        assert sorted(PUBLIC_PATHS - paths) == []

    def test_public_paths_are_what_the_spec_makes_public(self) -> None:
        assert {p for p in PUBLIC_PATHS if p.startswith("/api/")} == {
            "/api/v1/auth/token",
            "/api/v1/auth/revoke",
            "/api/v1/meta/enums",
            "/api/v1/meta/version",
        }

    async def test_every_protected_route_answers_401_without_a_token(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        routes = _protected(app)
        assert len(routes) >= 20
        failures = []
        for method, path in routes:
            url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
            r = await client.request(method, url)
            if r.status_code != 401 or "www-authenticate" not in r.headers:
                failures.append(f"{method} {path}: {r.status_code}")
            else:
                assert r.json()["code"] == "unauthorized"
        assert failures == []

    async def test_every_protected_route_answers_401_to_a_forged_token(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        import jwt

        forged = jwt.encode({"sub": str(uuid.uuid4()), "typ": "access"}, "x" * 32, "HS256")
        failures = []
        for method, path in _protected(app):
            url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
            r = await client.request(method, url, headers={"Authorization": f"Bearer {forged}"})
            if r.status_code != 401 or r.json()["code"] != "invalid_token":
                failures.append(f"{method} {path}: {r.status_code}")
        assert failures == []

    async def test_public_meta_needs_no_token(self, client: httpx.AsyncClient) -> None:
        for path in ("/api/v1/meta/enums", "/api/v1/meta/version", "/healthz"):
            assert (await client.get(path)).status_code == 200, path


# --- (c) problem documents -----------------------------------------------------------------


class TestProblemFormat:
    async def test_unknown_path_is_a_problem(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/api/v1/nowhere")
        body = assert_problem(r, 404, "not_found")
        assert body["type"] == "https://qd85.vn/problems/not_found"
        assert body["instance"] == "/api/v1/nowhere"
        assert body["title"] == "Không tìm thấy"
        assert body["request_id"] == r.headers["x-request-id"]
        assert r.headers["content-language"] == "vi"

    async def test_missing_object_is_a_problem(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, grants=[(Role.admin, None)])
        missing = uuid.uuid4()
        r = await client.get(f"/api/v1/users/{missing}", headers=auth(admin))
        body = assert_problem(r, 404, "not_found")
        assert body["instance"] == f"/api/v1/users/{missing}"
        assert body["detail"]

    @pytest.mark.parametrize(
        ("accept", "lang"),
        [
            ("en", "en"),
            ("en-US,en;q=0.9", "en"),
            ("vi", "vi"),
            ("fr", "vi"),
            ("", "vi"),
            ("vi;q=0.4, en;q=0.8", "en"),
            ("en;q=0.2, vi", "vi"),
            ("en;q=abc", "vi"),
            ("en;q=0", "vi"),
            ("*", "vi"),
        ],
    )
    async def test_title_and_detail_follow_accept_language(
        self, client: httpx.AsyncClient, accept: str, lang: str
    ) -> None:
        r = await client.get("/api/v1/auth/me", headers={"Accept-Language": accept})
        body = assert_problem(r, 401, "unauthorized")
        assert r.headers["content-language"] == lang
        if lang == "en":
            assert body["title"] == "Authentication required"
            assert body["detail"] == "A bearer token is required."
        else:
            assert body["title"] == "Chưa xác thực"
            assert body["detail"] == "Cần đăng nhập (Bearer token)."

    async def test_401_carries_a_bearer_challenge(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/api/v1/users")
        assert_unauthorized(r, "unauthorized")
        assert r.headers["www-authenticate"] == 'Bearer realm="qd85"'

    async def test_validation_problem_lists_errors(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, grants=[(Role.admin, None)])
        r = await client.post(
            "/api/v1/users",
            json={"username": "x"},
            headers={**auth(admin), "Accept-Language": "en"},
        )
        body = assert_problem(r, 422, "validation_failed")
        assert body["title"] == "Validation failed"
        locs = sorted(tuple(e["loc"]) for e in body["errors"])
        assert locs == [("body", "password"), ("body", "username")]
        assert all({"loc", "msg", "type"} == e.keys() for e in body["errors"])

    async def test_malformed_json_is_400(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, grants=[(Role.admin, None)])
        r = await client.post(
            "/api/v1/users",
            content=b'{"username": ',
            headers={**auth(admin), "Content-Type": "application/json"},
        )
        assert_problem(r, 400, "invalid_json")

    async def test_unexpected_error_is_a_bare_500_problem(self) -> None:
        probe = create_app()

        @probe.get("/boom")
        async def boom() -> None:
            raise RuntimeError("secret internal detail")

        transport = httpx.ASGITransport(app=probe, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            r = await c.get("/boom", headers={"X-Request-ID": "req-500", "Accept-Language": "en"})
        body = assert_problem(r, 500, "internal_error")
        assert body["request_id"] == "req-500"
        assert body["title"] == "Internal server error"
        assert "secret internal detail" not in r.text
        assert "Traceback" not in r.text

    async def test_wrong_method_is_405_problem(self, client: httpx.AsyncClient) -> None:
        r = await client.delete("/healthz")
        assert_problem(r, 405, "method_not_allowed")
        assert r.headers["allow"] == "GET"


# --- (d) body size ----------------------------------------------------------------------------


def _big_member_json() -> bytes:
    body = {
        "full_name": "Nguyễn Văn Lớn",
        "unit_id": str(uuid.uuid4()),
        "membership": "official",
        "position": "x",
        "padding": "x" * 1_100_000,
    }
    data = json.dumps(body).encode()
    assert len(data) > 1_100_000
    return data


class TestBodyLimit:
    async def test_declared_length_over_1mb_is_413(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, grants=[(Role.admin, None)])
        before = await count_rows(AuditEvent)
        r = await client.post(
            "/api/v1/members",
            content=_big_member_json(),
            headers={**auth(admin), "Content-Type": "application/json"},
        )
        body = assert_problem(r, 413, "payload_too_large")
        assert body["instance"] == "/api/v1/members"
        assert "x-request-id" in r.headers
        assert await count_rows(Member) == 0
        assert await count_rows(AuditEvent) == before

    async def test_streamed_body_over_1mb_is_413(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, grants=[(Role.admin, None)])
        data = _big_member_json()

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 64_000):
                yield data[i : i + 64_000]

        r = await client.post(
            "/api/v1/members",
            content=chunks(),
            headers={**auth(admin), "Content-Type": "application/json"},
        )
        assert "content-length" not in r.request.headers
        assert r.request.headers["transfer-encoding"] == "chunked"
        assert_problem(r, 413, "payload_too_large")
        assert await count_rows(Member) == 0

    async def test_lying_content_length_is_still_caught(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        """A small Content-Length does not let a large body through."""
        admin = await make_user(session, grants=[(Role.admin, None)])
        data = _big_member_json()

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 64_000):
                yield data[i : i + 64_000]

        r = await client.post(
            "/api/v1/members",
            content=chunks(),
            headers={**auth(admin), "Content-Type": "application/json", "Content-Length": "100"},
        )
        assert_problem(r, 413, "payload_too_large")
        assert await count_rows(Member) == 0

    async def test_body_under_the_limit_is_processed(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        """Control: the same route with a body just under 1 MB reaches validation."""
        admin = await make_user(session, grants=[(Role.admin, None)])
        body = {
            "full_name": "Nguyễn Văn Nhỏ",
            "unit_id": str(uuid.uuid4()),
            "membership": "official",
            "padding": "x" * 990_000,
        }
        r = await client.post("/api/v1/members", json=body, headers=auth(admin))
        assert_problem(r, 422, "validation_failed")

    async def test_token_endpoint_is_limited_too(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/api/v1/auth/token",
            content=b"grant_type=password&username=x&password=" + b"y" * 1_100_000,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert_problem(r, 413, "payload_too_large")


# --- (e) headers ------------------------------------------------------------------------------


class TestHeaders:
    async def test_security_headers_on_every_response(self, client: httpx.AsyncClient) -> None:
        for r in (await client.get("/healthz"), await client.get("/api/v1/users")):
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "no-referrer"

    async def test_authenticated_responses_are_not_cached(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, grants=[(Role.admin, None)])
        r = await client.get("/api/v1/users", headers=auth(admin))
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store"
        r = await client.get("/api/v1/users/not-a-uuid", headers=auth(admin))
        assert r.headers["cache-control"] == "no-store"

    async def test_request_id_is_echoed(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/healthz", headers={"X-Request-ID": "abc-123.DEF_4"})
        assert r.headers["x-request-id"] == "abc-123.DEF_4"

    @pytest.mark.parametrize(
        "incoming", [None, b"", b"has space", b"x" * 65, "bad\u00e9id".encode("latin-1"), b"a;b"]
    )
    async def test_request_id_is_generated_when_missing_or_unsafe(
        self, client: httpx.AsyncClient, incoming: bytes | None
    ) -> None:
        headers = {} if incoming is None else {"X-Request-ID": incoming}
        r = await client.get("/api/v1/nowhere", headers=headers)
        generated = r.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated)
        assert r.json()["request_id"] == generated

    async def test_each_request_gets_its_own_id(self, client: httpx.AsyncClient) -> None:
        ids = {(await client.get("/healthz")).headers["x-request-id"] for _ in range(3)}
        assert len(ids) == 3


# --- (f) health and metrics ------------------------------------------------------------------


class TestHealth:
    async def test_healthz(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/healthz")
        assert r.status_code == 200
        assert r.json() == {"status": "ok"}

    async def test_readyz(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/readyz")
        assert r.status_code == 200
        assert r.json() == {"status": "ready", "database": "ok", "store": "local"}

    async def test_readyz_without_a_database_is_503(
        self, app: FastAPI, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from sqlalchemy.ext.asyncio import create_async_engine

        from api.core.db import db

        unreachable = create_async_engine("postgresql+asyncpg://qd85@127.0.0.1:1/none")
        monkeypatch.setattr(db, "_engine", unreachable)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                r = await c.get("/readyz")
        finally:
            await unreachable.dispose()
        assert_problem(r, 503, "service_unavailable")
        assert r.headers["retry-after"] == "5"
        # Liveness does not depend on the database.
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            assert (await c.get("/healthz")).status_code == 200

    async def test_readyz_with_an_unusable_file_store_is_503(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """The store is part of readiness (issue 18): here a storage directory that cannot
        be created (its parent is a file)."""
        from api.core.config import get_settings

        blocker = tmp_path / "a-file"
        blocker.write_bytes(b"")
        monkeypatch.setattr(get_settings(), "storage_dir", str(blocker / "files"))
        r = await client.get("/readyz")
        assert_problem(r, 503, "service_unavailable")
        assert r.headers["retry-after"] == str(get_settings().storage_retry_after_seconds)

    async def test_metrics(self, client: httpx.AsyncClient) -> None:
        await client.get("/healthz")
        r = await client.get("/metrics")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        assert "# TYPE qd85_http_requests_total counter" in r.text
        assert 'qd85_http_requests_total{method="GET",route="/healthz",status="200"}' in r.text
        assert "qd85_http_request_duration_seconds_bucket" in r.text

    async def test_metrics_label_unmatched_paths_without_the_raw_path(
        self, client: httpx.AsyncClient
    ) -> None:
        """Unknown paths share one label, so scanners cannot blow up the series count."""
        await client.get(f"/scan/{uuid.uuid4()}")
        text = (await client.get("/metrics")).text
        assert 'route="unmatched"' in text
        assert "/scan/" not in text

    async def test_metrics_use_the_route_template(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, grants=[(Role.admin, None)])
        user_id = uuid.uuid4()
        await client.get(f"/api/v1/users/{user_id}", headers=auth(admin))
        text = (await client.get("/metrics")).text
        assert 'route="/api/v1/users/{user_id}",status="404"' in text
        assert str(user_id) not in text


# --- (g) meta ---------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class TestMeta:
    async def test_enums_lists_every_enumeration_with_labels(
        self, client: httpx.AsyncClient
    ) -> None:
        r = await client.get("/api/v1/meta/enums")
        assert r.status_code == 200
        body = r.json()
        declared = {
            _snake(name): obj
            for name, obj in vars(enums_module).items()
            if isinstance(obj, type)
            and issubclass(obj, enum.Enum)
            and obj.__module__ == enums_module.__name__
        }
        assert set(body) == set(declared) == set(LABELS)
        for name, cls in declared.items():
            assert [v["code"] for v in body[name]] == [m.value for m in cls], name
            for value in body[name]:
                assert set(value) == {"code", "vi", "en"}
                assert value["vi"].strip()
                assert value["en"].strip()

    async def test_enum_labels(self, client: httpx.AsyncClient) -> None:
        body = (await client.get("/api/v1/meta/enums")).json()

        def label(enum_name: str, code: str) -> tuple[str, str]:
            (value,) = [v for v in body[enum_name] if v["code"] == code]
            return value["vi"], value["en"]

        assert label("report_category", "fake_news") == ("Tin giả", "Fake news")
        assert label("member_status", "exempt") == ("Miễn sinh hoạt", "Exempt")
        assert label("unit_level", "cell") == ("Chi bộ trực thuộc", "Party cell")
        assert label("role", "manager")[1] == "Manager (party committee)"
        assert [v["code"] for v in body["role"]] == [
            "admin",
            "manager",
            "reviewer",
            "member",
            "partner",
            "analyst",
        ]

    async def test_version(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/api/v1/meta/version")
        assert r.status_code == 200
        try:
            expected = version("qd85")
        except PackageNotFoundError:
            expected = "0.0.0"
        assert r.json() == {"name": "qd85", "version": expected, "api": "v1"}


# --- (h) OpenAPI ------------------------------------------------------------------------------


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete", "head", "options"}:
                yield method, path, operation


class TestOpenAPI:
    def test_committed_document_is_current(self, app: FastAPI) -> None:
        committed = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
        assert app.openapi() == committed, (
            "openapi/openapi.json is out of date: run `qd85 openapi` and commit the result"
        )

    async def test_served_document_is_the_committed_one(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/openapi.json")
        assert r.status_code == 200
        served = r.json()
        assert served["openapi"] == "3.1.0"
        assert served == json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))

    def test_operation_ids_are_tag_dash_name_and_unique(self, app: FastAPI) -> None:
        schema = app.openapi()
        seen: list[str] = []
        for method, path, op in _operations(schema):
            assert len(op.get("tags", [])) == 1, f"{method} {path}: tags {op.get('tags')}"
            tag = op["tags"][0]
            assert re.fullmatch(rf"{re.escape(tag)}-[a-z][a-z_]*", op["operationId"]), (
                f"{method} {path}: operationId {op['operationId']!r}"
            )
            seen.append(op["operationId"])
        assert len(seen) == len(set(seen))
        assert len(seen) >= 30

    def test_error_responses_use_the_problem_schema(self, app: FastAPI) -> None:
        schema = app.openapi()
        assert "Problem" in schema["components"]["schemas"]
        assert "HTTPValidationError" not in schema["components"]["schemas"]
        bad = []
        for method, path, op in _operations(schema):
            for status, response in op["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                content = response.get("content", {})
                ref = content.get("application/problem+json", {}).get("schema", {}).get("$ref")
                if ref != PROBLEM_REF or set(content) != {"application/problem+json"}:
                    bad.append(f"{method} {path} {status}")
        assert bad == []

    def test_protected_operations_document_401(self, app: FastAPI) -> None:
        schema = app.openapi()
        missing = [
            f"{method} {path}"
            for method, path, op in _operations(schema)
            if path not in PUBLIC_PATHS and "401" not in op["responses"]
        ]
        assert missing == []

    def test_json_request_bodies_have_examples(self, app: FastAPI) -> None:
        schema = app.openapi()
        components = schema["components"]["schemas"]
        missing = []
        for method, path, op in _operations(schema):
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                ref = content["application/json"]["schema"].get("$ref", "")
                component = components.get(ref.rsplit("/", 1)[-1], {})
                if not component.get("examples") and not content["application/json"].get(
                    "examples"
                ):
                    missing.append(f"{method} {path}")
        assert missing == []


# --- (i) migrations ---------------------------------------------------------------------------


class TestMigrations:
    async def test_models_and_migrations_agree(self, database: str) -> None:
        from alembic import command

        await asyncio.to_thread(command.check, alembic_config(database))


# --- (j) CORS ---------------------------------------------------------------------------------


@pytest.fixture
async def cors_client() -> AsyncIterator[httpx.AsyncClient]:
    cors_app = create_app(Settings(cors_origins=["https://app.example"]))
    transport = httpx.ASGITransport(app=cors_app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


class TestCORS:
    async def test_preflight_from_an_allowed_origin(self, cors_client: httpx.AsyncClient) -> None:
        r = await cors_client.options(
            "/api/v1/members",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, if-match, idempotency-key",
            },
        )
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == "https://app.example"
        assert "PATCH" in r.headers["access-control-allow-methods"]
        allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
        assert {"authorization", "if-match", "idempotency-key", "accept-language"} <= allowed

    async def test_responses_expose_etag_location_retry_after(
        self, cors_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        """Access-Control-Expose-Headers belongs on the actual response (a preflight
        carries the Allow-* headers); check both the success and the problem path."""
        unit = await make_unit(session)
        admin = await make_user(session, grants=[(Role.admin, None)])
        for r in (
            await cors_client.get(
                f"/api/v1/units/{unit.id}", headers={**auth(admin), "Origin": "https://app.example"}
            ),
            await cors_client.get("/api/v1/users", headers={"Origin": "https://app.example"}),
        ):
            assert r.headers["access-control-allow-origin"] == "https://app.example"
            exposed = {
                h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")
            }
            assert {"etag", "location", "retry-after", "ratelimit", "ratelimit-policy"} <= exposed

    async def test_other_origins_are_not_allowed(self, cors_client: httpx.AsyncClient) -> None:
        r = await cors_client.options(
            "/api/v1/members",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert r.status_code == 400
        assert "access-control-allow-origin" not in r.headers
        r = await cors_client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers

    async def test_no_cors_without_configuration(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/healthz", headers={"Origin": "https://app.example"})
        assert "access-control-allow-origin" not in r.headers
