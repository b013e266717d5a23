"""The write gate (api/core/middleware.py: WriteGate): at most `write_concurrency` writes
run at once in a worker, the rest wait before their handler starts, reads never wait,
a JSON body reaches the handler whole, uploads are not gated, and 0 turns it off."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from api.core.config import Settings
from api.core.middleware import RequestMiddleware


class Inner:
    """An ASGI app whose writes wait for `release`, counting how many run at once; it
    echoes the body it read."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = 0
        self.peak = 0
        self.entered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if scope["method"] != "GET":
            self.entered += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
            await self.release.wait()
            self.running -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def _client(inner: Inner, limit: int) -> httpx.AsyncClient:
    settings = Settings(write_concurrency=limit, log_requests=False)
    app: Any = RequestMiddleware(inner, settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def _until(condition: Any) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


async def test_writes_past_the_limit_wait_while_reads_pass() -> None:
    inner = Inner()
    async with _client(inner, 2) as client:
        writes = [asyncio.create_task(client.post("/api/v1/x", json={"n": n})) for n in range(5)]
        await _until(lambda: inner.entered == 2)
        await asyncio.sleep(0.05)
        assert inner.entered == 2  # three wait at the gate
        read = await asyncio.wait_for(client.get("/api/v1/x"), 2)  # not behind them
        assert read.status_code == 200
        inner.release.set()
        answers = await asyncio.gather(*writes)
    assert [a.json() for a in answers] == [{"n": n} for n in range(5)]  # bodies replayed
    assert (inner.entered, inner.peak) == (5, 2)


async def test_uploads_are_not_gated() -> None:
    inner = Inner()
    async with _client(inner, 1) as client:
        first = asyncio.create_task(client.post("/api/v1/x", json={}))
        await _until(lambda: inner.entered == 1)
        upload = asyncio.create_task(client.post("/api/v1/reports/r/evidence", content=b"x"))
        await _until(lambda: inner.entered == 2)
        inner.release.set()
        await asyncio.gather(first, upload)
    assert inner.peak == 2


async def test_an_oversized_json_body_is_413_before_the_gate() -> None:
    inner = Inner()
    async with _client(inner, 1) as client:

        async def chunks() -> Any:  # no Content-Length: the limit is met while reading
            for _ in range(3):
                yield b"x" * 600_000

        r = await client.post("/api/v1/x", content=chunks())
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    assert inner.entered == 0


async def test_zero_admits_every_write() -> None:
    inner = Inner()
    async with _client(inner, 0) as client:
        writes = [asyncio.create_task(client.post("/api/v1/x", json={})) for _ in range(6)]
        await _until(lambda: inner.entered == 6)
        inner.release.set()
        await asyncio.gather(*writes)
    assert inner.peak == 6
