"""Fixed-window rate limits in shared state: the database, or Redis when configured,
so that every replica counts against the same budget."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from api.core.config import get_settings
from api.core.db import db, upsert_insert
from api.core.errors import RateLimited
from api.models import RateLimitBucket


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    limit: int
    window: int  # seconds


@dataclass(frozen=True, slots=True)
class Usage:
    count: int
    reset: int  # seconds until the window ends


def _window(policy: Policy, now: float) -> tuple[int, int]:
    start = int(now) - int(now) % policy.window
    return start, start + policy.window - int(now)


# Decrement only an existing positive counter (DECR would create a -1).
_REDIS_UNDO = "local v = redis.call('GET', KEYS[1]) if v and tonumber(v) > 0 then redis.call('DECR', KEYS[1]) end"


class RateLimiter:
    """Counts in Redis when a URL is configured (QD85_REDIS_URL), else in the database."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._redis: Any = None
        self._redis_url = redis_url

    def _redis_client(self) -> Any:
        url = self._redis_url or get_settings().redis_url
        if not url:
            return None
        if self._redis is None:
            import redis.asyncio as redis

            self._redis = redis.from_url(url)
        return self._redis

    async def peek(self, policy: Policy, key: str) -> Usage:
        start, reset = _window(policy, time.time())
        full_key = f"rl:{policy.name}:{key}"
        client = self._redis_client()
        if client is not None:
            value = await client.get(f"{full_key}:{start}")
            return Usage(int(value or 0), reset)
        async with db.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(RateLimitBucket.window_start, RateLimitBucket.count).where(
                        RateLimitBucket.key == full_key
                    )
                )
            ).first()
        count = int(row[1]) if row is not None and row[0] == start else 0
        return Usage(count, reset)

    async def hit(self, policy: Policy, key: str) -> Usage:
        """Count one event, committed at once (outside the request's transaction)."""
        start, reset = _window(policy, time.time())
        full_key = f"rl:{policy.name}:{key}"
        client = self._redis_client()
        if client is not None:
            redis_key = f"{full_key}:{start}"
            async with client.pipeline(transaction=True) as pipe:
                pipe.incr(redis_key)
                pipe.expire(redis_key, policy.window + 5)
                count, _ = await pipe.execute()
            return Usage(int(count), reset)
        engine = db.engine
        table = RateLimitBucket.__table__
        ins = upsert_insert(engine.dialect.name, table).values(
            key=full_key, window_start=start, count=1
        )
        stmt = ins.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": _case_same_window(table, ins.excluded.window_start),
                "window_start": ins.excluded.window_start,
            },
        ).returning(table.c.count)
        async with engine.begin() as conn:
            count = (await conn.execute(stmt)).scalar_one()
        return Usage(int(count), reset)

    async def undo(self, policy: Policy, key: str) -> None:
        """Take back one event of the current window (never below zero)."""
        start, _ = _window(policy, time.time())
        full_key = f"rl:{policy.name}:{key}"
        client = self._redis_client()
        if client is not None:
            await client.eval(_REDIS_UNDO, 1, f"{full_key}:{start}")
            return
        async with db.engine.begin() as conn:
            await conn.execute(
                update(RateLimitBucket)
                .where(RateLimitBucket.key == full_key, RateLimitBucket.window_start == start,
                       RateLimitBucket.count > 0)
                .values(count=RateLimitBucket.count - 1)
            )  # fmt: skip

    async def reset(self, policy: Policy, key: str) -> None:
        full_key = f"rl:{policy.name}:{key}"
        client = self._redis_client()
        if client is not None:
            start, _ = _window(policy, time.time())
            await client.delete(f"{full_key}:{start}")
            return
        async with db.engine.begin() as conn:
            await conn.execute(delete(RateLimitBucket).where(RateLimitBucket.key == full_key))

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def _case_same_window(table: Any, new_start: Any) -> Any:
    from sqlalchemy import case

    return case((table.c.window_start == new_start, table.c.count + 1), else_=1)


def headers(policy: Policy, usage: Usage) -> dict[str, str]:
    remaining = max(policy.limit - usage.count, 0)
    return {
        "RateLimit-Policy": f'"{policy.name}";q={policy.limit};w={policy.window}',
        "RateLimit": f'"{policy.name}";r={remaining};t={usage.reset}',
    }


def exceeded(policy: Policy, usage: Usage) -> RateLimited:
    return RateLimited(
        "rate_limited",
        f"Quá nhiều lần thử; hãy thử lại sau {usage.reset} giây.",
        f"Too many attempts; retry in {usage.reset} seconds.",
        headers={"Retry-After": str(max(usage.reset, 1)), **headers(policy, usage)},
    )


limiter = RateLimiter()


def login_policy() -> Policy:
    """Failed logins per (account, client address) pair: the one hard limit an attacker
    cannot spend for someone else (issue 14, finding 6)."""
    s = get_settings()
    return Policy("login", s.login_max_failures, s.login_window_seconds)


def login_address_policy() -> Policy:
    """Failed logins per client address, whatever the account: a much higher budget, as
    one address may be a whole office behind NAT."""
    s = get_settings()
    return Policy("login-address", s.login_max_failures_per_address, s.login_window_seconds)


def login_account_policy() -> Policy:
    """Failed logins per account from every address: never refused (that would let
    anyone lock an account out), but each attempt past the budget waits longer."""
    s = get_settings()
    return Policy("login-account", s.login_max_failures, s.login_window_seconds)


def login_delay(failures: int) -> float:
    """Seconds an attempt at an account waits once `failures` (this one included) exceed
    the budget: 0.5 s doubling per failure, at most `login_max_delay_seconds`."""
    s = get_settings()
    over = failures - s.login_max_failures
    if over <= 0:
        return 0.0
    return float(min(0.5 * 2 ** min(over - 1, 16), s.login_max_delay_seconds))
