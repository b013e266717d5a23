"""Rate-limit counts in shared state: the database, or Redis when configured, so that
every replica counts against the same budget. Each count commits at once, in a
transaction of its own (`own_transaction`): a failed login that is rolled back still
counts. The rules (policies, windows, headers, the 429 problem) are api/core/ratelimit.py,
re-exported here so that a service needs one module for rate limits."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlalchemy import case, delete, select, update
from sqlalchemy.sql.dml import ReturningInsert

from api.core.config import get_settings
from api.core.db import db, own_transaction, upsert_insert
from api.core.ratelimit import (
    Policy,
    Usage,
    exceeded,
    headers,
    login_account_policy,
    login_address_policy,
    login_delay,
    login_policy,
    window_of,
)
from api.models import RateLimitBucket

if TYPE_CHECKING:  # imported when first used (only with QD85_REDIS_URL)
    from redis.asyncio import Redis

__all__ = [
    "Policy",
    "RateLimiter",
    "Usage",
    "exceeded",
    "headers",
    "limiter",
    "login_account_policy",
    "login_address_policy",
    "login_delay",
    "login_policy",
]

# Decrement only an existing positive counter (DECR would create a -1).
_REDIS_UNDO = (
    "local v = redis.call('GET', KEYS[1]) "
    "if v and tonumber(v) > 0 then redis.call('DECR', KEYS[1]) end"
)
_BUCKETS = RateLimitBucket.__table__


def _full_key(policy: Policy, key: str) -> str:
    return f"rl:{policy.name}:{key}"


def _count_hit(dialect_name: str, full_key: str, start: int) -> ReturningInsert[int]:
    """Upsert the bucket: +1 within its window, 1 in a new one; returns the count."""
    ins = upsert_insert(dialect_name, _BUCKETS).values(key=full_key, window_start=start, count=1)
    same_window = _BUCKETS.c.window_start == ins.excluded.window_start
    stmt: ReturningInsert[int] = ins.on_conflict_do_update(
        index_elements=[_BUCKETS.c.key],
        set_={
            "count": case((same_window, _BUCKETS.c.count + 1), else_=1),
            "window_start": ins.excluded.window_start,
        },
    ).returning(_BUCKETS.c.count)
    return stmt


class RateLimiter:
    """Counts in Redis when a URL is configured (QD85_REDIS_URL), else in the database."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._redis: Redis | None = None
        self._redis_url = redis_url

    def _redis_client(self) -> Redis | None:
        url = self._redis_url or get_settings().redis_url
        if not url:
            return None
        if self._redis is None:
            import redis.asyncio as redis

            self._redis = redis.from_url(url)
        return self._redis

    async def peek(self, policy: Policy, key: str) -> Usage:
        start, reset = window_of(policy, time.time())
        full_key = _full_key(policy, key)
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
        start, reset = window_of(policy, time.time())
        full_key = _full_key(policy, key)
        client = self._redis_client()
        if client is not None:
            redis_key = f"{full_key}:{start}"
            async with client.pipeline(transaction=True) as pipe:
                pipe.incr(redis_key)
                pipe.expire(redis_key, policy.window + 5)
                count, _ = await pipe.execute()
            return Usage(int(count), reset)
        async with own_transaction() as conn:
            stmt = _count_hit(conn.dialect.name, full_key, start)
            count = (await conn.execute(stmt)).scalar_one()
        return Usage(int(count), reset)

    async def undo(self, policy: Policy, key: str) -> None:
        """Take back one event of the current window (never below zero)."""
        start, _ = window_of(policy, time.time())
        full_key = _full_key(policy, key)
        client = self._redis_client()
        if client is not None:
            await client.eval(_REDIS_UNDO, 1, f"{full_key}:{start}")
            return
        async with own_transaction() as conn:
            await conn.execute(
                update(RateLimitBucket)
                .where(
                    RateLimitBucket.key == full_key,
                    RateLimitBucket.window_start == start,
                    RateLimitBucket.count > 0,
                )
                .values(count=RateLimitBucket.count - 1)
            )

    async def reset(self, policy: Policy, key: str) -> None:
        full_key = _full_key(policy, key)
        client = self._redis_client()
        if client is not None:
            start, _ = window_of(policy, time.time())
            await client.delete(f"{full_key}:{start}")
            return
        async with own_transaction() as conn:
            await conn.execute(delete(RateLimitBucket).where(RateLimitBucket.key == full_key))

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


limiter = RateLimiter()
