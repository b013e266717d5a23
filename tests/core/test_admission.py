"""Admission (api/core/middleware.py: Admission): at most `concurrency` API requests run at
once in a worker; the rest wait before their handler starts and are admitted first come,
first served, except that a kind running half the places yields to another kind. A JSON
body reaches the handler whole, uploads and non-API paths are not queued, a waiter that
goes away gives its turn up, and 0 turns it off."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api.core.config import Settings
from api.core.middleware import Admission, RequestMiddleware, flow_of


class Inner:
    """An ASGI app whose requests wait for `release`, counting how many run at once and
    noting the order they entered; it echoes the body it read."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = 0
        self.peak = 0
        self.order: list[str] = []

    @property
    def entered(self) -> int:
        return len(self.order)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.order.append(f"{scope['method']} {scope['path']}")
        self.running += 1
        self.peak = max(self.peak, self.running)
        await self.release.wait()
        self.running -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def _client(inner: Inner, places: int) -> httpx.AsyncClient:
    settings = Settings(concurrency=places, log_requests=False)
    app: Any = RequestMiddleware(inner, settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def _until(condition: Any) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


def test_a_kind_of_request_is_its_method_and_path_without_ids() -> None:
    doc = "0b6d3c9e-5f1a-4f7e-9a52-2d8f1e6c0a11"
    assert flow_of("POST", f"/api/v1/documents/{doc}/acknowledgements") == (
        "POST /api/v1/documents/{}/acknowledgements"
    )
    assert flow_of("GET", "/api/v1/stats/compliance") == "GET /api/v1/stats/compliance"
    assert flow_of("GET", "/api/v1/members/42") == "GET /api/v1/members/{}"


async def test_requests_past_the_limit_wait_and_get_their_bodies() -> None:
    inner = Inner()
    async with _client(inner, 2) as client:
        writes = [asyncio.create_task(client.post("/api/v1/x", json={"n": n})) for n in range(5)]
        await _until(lambda: inner.entered == 2)
        await asyncio.sleep(0.05)
        assert inner.entered == 2  # three wait their turn
        inner.release.set()
        answers = await asyncio.gather(*writes)
    assert [a.json() for a in answers] == [{"n": n} for n in range(5)]  # bodies replayed
    assert (inner.entered, inner.peak) == (5, 2)


async def test_first_come_first_served() -> None:
    """One place, held; then acknowledgements and a statistics read queue: they are let
    in in the order they came, whatever their kind."""
    inner = Inner()
    async with _client(inner, 1) as client:
        first = asyncio.create_task(client.get("/api/v1/members/1"))
        await _until(lambda: inner.entered == 1)
        waiting = []
        for path in ("documents/0/acks", "stats/compliance", "documents/1/acks"):
            method = "GET" if path.startswith("stats") else "POST"
            waiting.append(asyncio.create_task(client.request(method, f"/api/v1/{path}")))
            await asyncio.sleep(0.01)  # arrival order
        await asyncio.sleep(0.05)
        assert inner.entered == 1
        while inner.entered < 4:  # one place: let the requests through one by one
            inner.release.set()
            await asyncio.sleep(0)
            inner.release.clear()
            await asyncio.sleep(0.02)
        inner.release.set()
        await asyncio.gather(first, *waiting)
    assert inner.order == [
        "GET /api/v1/members/1",
        "POST /api/v1/documents/0/acks",
        "GET /api/v1/stats/compliance",
        "POST /api/v1/documents/1/acks",
    ]
    assert inner.peak == 1


async def test_uploads_and_health_checks_are_not_queued() -> None:
    inner = Inner()
    async with _client(inner, 1) as client:
        first = asyncio.create_task(client.post("/api/v1/x", json={}))
        await _until(lambda: inner.entered == 1)
        upload = asyncio.create_task(client.post("/api/v1/reports/r/evidence", content=b"x"))
        health = asyncio.create_task(client.get("/healthz"))
        await _until(lambda: inner.entered == 3)
        inner.release.set()
        await asyncio.gather(first, upload, health)
    assert inner.peak == 3


async def test_an_oversized_json_body_is_413_before_the_queue() -> None:
    inner = Inner()
    async with _client(inner, 1) as client:

        async def chunks() -> Any:  # no Content-Length: the limit is met while reading
            for _ in range(3):
                yield b"x" * 600_000

        r = await client.post("/api/v1/x", content=chunks())
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    assert inner.entered == 0


async def test_zero_admits_every_request() -> None:
    inner = Inner()
    async with _client(inner, 0) as client:
        writes = [asyncio.create_task(client.post("/api/v1/x", json={})) for _ in range(6)]
        await _until(lambda: inner.entered == 6)
        inner.release.set()
        await asyncio.gather(*writes)
    assert inner.peak == 6


async def test_a_waiter_that_goes_away_gives_up_its_turn() -> None:
    """A client gone while waiting (its task cancelled) leaves no hole: the place goes to
    the next waiter, and once everyone left every place is free again."""
    admission = Admission(1)
    holding = admission.place("GET /a")
    await holding.__aenter__()
    gone = asyncio.create_task(admission.place("GET /b").__aenter__())
    after = admission.place("GET /c")
    waiting = asyncio.create_task(after.__aenter__())
    await asyncio.sleep(0.01)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    await holding.__aexit__(None, None, None)
    await asyncio.wait_for(waiting, 1)  # /c got the place /b gave up
    await after.__aexit__(None, None, None)
    again = admission.place("GET /d")
    await asyncio.wait_for(again.__aenter__(), 1)  # free again, at once
    await again.__aexit__(None, None, None)


async def test_an_answer_that_has_started_holds_no_place() -> None:
    """A long download (an export streaming its rows, a file to a slow phone) gives its
    place up when its answer starts."""
    body_sent = asyncio.Event()
    finish = asyncio.Event()
    entered: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        entered.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/api/v1/export":
            await send({"type": "http.response.body", "body": b"a", "more_body": True})
            body_sent.set()
            await finish.wait()  # still streaming
        await send({"type": "http.response.body", "body": b"b"})

    settings = Settings(concurrency=1, log_requests=False)
    middleware: Any = RequestMiddleware(app, settings)
    transport = httpx.ASGITransport(app=middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        export = asyncio.create_task(client.get("/api/v1/export"))
        await asyncio.wait_for(body_sent.wait(), 1)
        r = await asyncio.wait_for(client.get("/api/v1/members/1"), 1)  # not behind it
        assert r.status_code == 200
        finish.set()
        assert (await export).content == b"ab"
    assert entered == ["/api/v1/export", "/api/v1/members/1"]


async def test_a_kind_running_half_the_places_yields_to_another() -> None:
    """Two places, both held by acknowledgements; two more acknowledgements and then a
    statistics read wait. When an acknowledgement ends, its kind still runs one place
    (half of two), so the read gets it before the older acknowledgements."""
    admission = Admission(2)
    ack = "POST /api/v1/documents/{}/acknowledgements"
    held = [admission.place(ack) for _ in range(2)]
    for place in held:
        await place.__aenter__()
    order: list[str] = []

    async def wait(flow: str, name: str) -> None:
        async with admission.place(flow):
            order.append(name)
            await asyncio.sleep(0.05)

    waiters = [asyncio.create_task(wait(ack, f"ack{n}")) for n in range(2)]
    await asyncio.sleep(0.01)
    waiters.append(asyncio.create_task(wait("GET /api/v1/stats/compliance", "stats")))
    await asyncio.sleep(0.01)
    await held[0].__aexit__(None, None, None)
    await asyncio.sleep(0.01)
    assert order == ["stats"]
    await held[1].__aexit__(None, None, None)
    await asyncio.gather(*waiters)
    assert order == ["stats", "ack0", "ack1"]
