"""Security headers and offline docs (issue 14, finding 11): API responses forbid loading
and framing anything; HSTS when configured; /docs and /redoc serve their assets from the
installed package (no CDN) under a policy that allows exactly those."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

from api.core.config import Settings
from api.main import create_app

API_CSP = "default-src 'none'; frame-ancestors 'none'"


async def _get(app: object, url: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        return await c.get(url)


class TestApiHeaders:
    @pytest.mark.parametrize(
        "url",
        ["/healthz", "/api/v1/meta/enums", "/api/v1/members", "/api/v1/nowhere", "/openapi.json"],
    )
    async def test_every_answer_forbids_loading_and_framing(
        self, client: httpx.AsyncClient, url: str
    ) -> None:
        r = await client.get(url)
        assert r.headers["content-security-policy"] == API_CSP
        assert r.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in r.headers

    async def test_hsts_when_configured(self) -> None:
        app = create_app(Settings(hsts_seconds=31_536_000))
        r = await _get(app, "/healthz")
        assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


class TestOfflineDocs:
    @pytest.mark.parametrize(
        ("page", "needs"),
        [
            ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js"}),
            ("/redoc", {"redoc.standalone.js"}),
        ],
    )
    async def test_pages_load_only_local_assets_allowed_by_their_policy(
        self, client: httpx.AsyncClient, page: str, needs: set[str]
    ) -> None:
        r = await client.get(page)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["x-frame-options"] == "DENY"
        policy = r.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "http" not in policy  # no CDN or other origin
        assert "frame-ancestors 'none'" in policy
        assert "<script>" not in r.text  # no inline script to allow
        urls = _assets(r.text)
        assert all(u.startswith("/docs/assets/") for u in urls), urls
        assert needs <= {u.rsplit("/", 1)[1] for u in urls}
        for url in urls:
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 100, url
            kind = asset.headers["content-type"]
            assert kind.split(";")[0] in ("application/javascript", "text/css", "image/png"), url

    async def test_redoc_may_start_its_search_worker(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/redoc")
        assert "worker-src blob:" in r.headers["content-security-policy"]

    async def test_the_oauth2_redirect_script_is_allowed_by_its_hash(
        self, client: httpx.AsyncClient
    ) -> None:
        r = await client.get("/docs/oauth2-redirect")
        (script,) = re.findall(r"<script>(.*?)</script>", r.text, flags=re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"script-src 'sha256-{digest}'" in r.headers["content-security-policy"]

    @pytest.mark.parametrize(
        "name", ["../config.py", "..%2f..%2fapi%2fcore%2fconfig.py", "nope.js"]
    )
    async def test_only_the_listed_assets_are_served(
        self, client: httpx.AsyncClient, name: str
    ) -> None:
        r = await client.get(f"/docs/assets/{name}")
        assert r.status_code == 404

    async def test_production_hides_the_docs(self) -> None:
        app = create_app(Settings(env="production", secret_key="p" * 40))
        for url in ("/docs", "/redoc", "/docs/assets/swagger-ui-bundle.js"):
            assert (await _get(app, url)).status_code == 404
