"""The built SPA served at / (api/web.py): static files, the index for client routes,
a strict CSP, and the API's paths unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.core.config import get_settings
from api.main import create_app
from api.web import CSP

INDEX = (
    '<!doctype html><div id="root"></div><script type="module" src="/assets/index-abc.js"></script>'
)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX, encoding="utf-8")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)", encoding="utf-8")
    return tmp_path


async def _client(web_dir: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = get_settings().model_copy(update={"web_dir": web_dir})
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def web(dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(str(dist)):
        yield c


class TestServesTheApp:
    async def test_root_is_the_index_with_a_strict_csp(self, web: httpx.AsyncClient) -> None:
        r = await web.get("/")
        assert r.status_code == 200
        assert r.text == INDEX
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
        assert "connect-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["cache-control"] == "no-cache"

    @pytest.mark.parametrize(
        "path", ["/reports/5b0e6a1e-0000-4000-8000-000000000000", "/documents", "/sign-in"]
    )
    async def test_client_routes_fall_back_to_the_index(
        self, web: httpx.AsyncClient, path: str
    ) -> None:
        r = await web.get(path)
        assert r.status_code == 200
        assert r.text == INDEX
        assert "content-security-policy" in r.headers

    async def test_hashed_assets_are_cached_for_good(self, web: httpx.AsyncClient) -> None:
        r = await web.get("/assets/index-abc.js")
        assert r.status_code == 200
        assert "immutable" in r.headers["cache-control"]

    async def test_a_missing_asset_is_404_not_the_index(self, web: httpx.AsyncClient) -> None:
        r = await web.get("/assets/gone-123.js")
        assert r.status_code == 404


class TestApiUnchanged:
    async def test_unknown_api_path_is_a_404_problem(self, web: httpx.AsyncClient) -> None:
        r = await web.get("/api/v1/nothing-here")
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "not_found"

    async def test_api_docs_and_openapi_still_answer(self, web: httpx.AsyncClient) -> None:
        assert (await web.get("/api/v1/meta/version")).status_code == 200
        assert (await web.get("/openapi.json")).json()["openapi"].startswith("3.1")
        assert (await web.get("/healthz")).json() == {"status": "ok"}
        docs = await web.get("/docs")
        assert docs.status_code == 200
        # The docs page keeps its own policy (api/core/docs.py), not the SPA's.
        assert docs.headers["content-security-policy"] != CSP

    async def test_api_responses_carry_the_api_csp_not_the_spas(
        self, web: httpx.AsyncClient
    ) -> None:
        r = await web.get("/api/v1/meta/enums")
        assert r.headers["content-security-policy"].startswith("default-src 'none'")
        assert r.headers["content-security-policy"] != CSP


class TestNotBuilt:
    async def test_without_an_index_nothing_is_served_at_root(self, tmp_path: Path) -> None:
        async for c in _client(str(tmp_path)):
            r = await c.get("/")
            assert r.status_code == 404
            assert r.json()["code"] == "not_found"

    async def test_an_empty_setting_turns_it_off(
        self, dist: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(dist.parent)
        async for c in _client(""):
            assert (await c.get("/")).status_code == 404
