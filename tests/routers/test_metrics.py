"""GET /metrics (issue 14, finding 7): it served route counts and process details to
anyone. With QD85_METRICS_TOKEN it needs that bearer token; in production without one it
is off."""

from __future__ import annotations

import httpx
import pytest

from api.core.config import get_settings
from tests.support.problems import assert_problem

TOKEN = "metrics-" + "x" * 32


class TestMetricsAccess:
    async def test_with_a_token_configured_anonymous_is_401(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "metrics_token", TOKEN)
        r = await client.get("/metrics")
        assert_problem(r, 401, "invalid_token")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert "http_requests" not in r.text
        assert "process_" not in r.text

    @pytest.mark.parametrize(
        "header", ["Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer", TOKEN]
    )
    async def test_a_wrong_token_is_401(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, header: str
    ) -> None:
        monkeypatch.setattr(get_settings(), "metrics_token", TOKEN)
        r = await client.get("/metrics", headers={"Authorization": header})
        assert_problem(r, 401, "invalid_token")

    async def test_the_token_gets_the_metrics(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "metrics_token", TOKEN)
        r = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")

    async def test_production_without_a_token_is_off(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "env", "production")
        assert_problem(await client.get("/metrics"), 404, "not_found")
        monkeypatch.setattr(get_settings(), "metrics_token", TOKEN)
        r = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200
