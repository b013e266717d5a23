"""Shared-state rate limits: the database backend, and Redis (when a server answers)."""

from __future__ import annotations

import socket
import uuid

import pytest

from api.services.ratelimit import Policy, RateLimiter, exceeded, headers

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def _backends() -> list[pytest.param]:  # type: ignore[name-defined]
    return [
        pytest.param(None, id="database"),
        pytest.param(
            REDIS_URL,
            id="redis",
            marks=pytest.mark.skipif(not _redis_up(), reason="no Redis at :6379"),
        ),
    ]


@pytest.mark.parametrize("redis_url", _backends())
class TestRateLimiter:
    async def test_counts_within_a_window_and_resets(self, redis_url: str | None) -> None:
        limiter = RateLimiter(redis_url)
        policy = Policy("t", limit=3, window=300)
        key = uuid.uuid4().hex
        try:
            assert (await limiter.peek(policy, key)).count == 0
            counts = [(await limiter.hit(policy, key)).count for _ in range(4)]
            assert counts == [1, 2, 3, 4]
            assert (await limiter.peek(policy, key)).count == 4
            await limiter.undo(policy, key)
            assert (await limiter.peek(policy, key)).count == 3
            await limiter.reset(policy, key)
            await limiter.undo(policy, key)  # never below zero
            assert (await limiter.peek(policy, key)).count == 0
        finally:
            await limiter.close()

    async def test_two_limiters_share_one_budget(self, redis_url: str | None) -> None:
        """Two replicas = two limiter instances over the same store."""
        a, b = RateLimiter(redis_url), RateLimiter(redis_url)
        policy = Policy("t2", limit=5, window=300)
        key = uuid.uuid4().hex
        try:
            await a.hit(policy, key)
            await b.hit(policy, key)
            assert (await a.peek(policy, key)).count == 2
            assert (await b.peek(policy, key)).count == 2
        finally:
            await a.close()
            await b.close()


def test_exceeded_problem_carries_retry_after_and_ratelimit_headers() -> None:
    from api.core.ratelimit import Usage

    policy = Policy("login", limit=10, window=300)
    err = exceeded(policy, Usage(count=10, reset=42))
    assert err.status == 429
    assert err.code == "rate_limited"
    assert err.headers["Retry-After"] == "42"
    assert err.headers["RateLimit-Policy"] == '"login";q=10;w=300'
    assert headers(policy, Usage(count=4, reset=7))["RateLimit"] == '"login";r=6;t=7'
