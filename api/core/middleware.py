"""One pure-ASGI middleware for every request: request id, access log, metrics, body size
limit and security headers (cheaper than a stack of BaseHTTPMiddleware layers)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from prometheus_client import Counter, Gauge, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.config import Settings
from api.core.context import client_addr_var, request_id_var
from api.core.errors import AppError
from api.core.i18n import msg

log = logging.getLogger("qd85.request")

REQUESTS = Counter("qd85_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "qd85_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 2.5, 5, 10),
)
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class BodyTooLarge(AppError):
    default_code = "payload_too_large"


def body_limit(settings: Settings, path: str) -> int:
    """Per-route body limits of SPEC §3."""
    if path.startswith("/api/v1/roster/syncs"):
        return settings.max_roster_body
    if path.startswith("/api/v1/reports/") and path.endswith("/evidence"):
        return settings.max_evidence_body + 64_000  # multipart framing
    if path.startswith("/api/v1/documents/") and path.endswith("/file"):
        return settings.max_document_body + 64_000
    return settings.max_json_body


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        "payload_too_large",
        msg("http.body_too_large", limit=limit),
    )


def _nul_in_query() -> AppError:
    return AppError(
        "validation_failed",
        msg("http.nul_in_query"),
        extra={"errors": [{"loc": ["query"], "msg": "NUL character", "type": "value_error"}]},
    )


API_CSP = b"default-src 'none'; frame-ancestors 'none'"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READS = frozenset({"GET", "HEAD"})
GATE_WAITING = Gauge(
    "qd85_admission_waiting",
    "API requests waiting for a place in this process (api/core/middleware.py Admission)",
    multiprocess_mode="livesum",
)
ADMISSION_WAIT = Histogram(
    "qd85_admission_wait_seconds",
    "Time API requests waited for a place in this process (0 when one was free)",
    ["kind"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
_ID_SEGMENT = re.compile(r"/(?:[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}|\d+)(?=/|$)")


def flow_of(method: str, path: str) -> str:
    """The kind of request, for fair admission: the method and the path with its ids
    taken out (`POST /api/v1/documents/{}/acknowledgements`)."""
    return f"{method} {_ID_SEGMENT.sub('/{}', path)}"


class Admission:
    """At most `places` API requests run at once in this worker; the others wait here,
    before their handler starts, holding no connection and no lock, and are admitted
    first come, first served, except that a kind of request (`flow_of`: the method and
    the path without ids) already running half the places yields the next place to
    another kind that waits.

    Why a limit: a worker is one event loop. In a burst (a national campaign of
    acknowledgements, a declaration deadline) every request in flight takes its turn on
    the loop at each database round trip, so with dozens in flight each is slowed by all
    the others. `places` requests keep the cores and the database busy; the rest wait.

    Why first come, first served: under a load the machine cannot keep up with, every
    request waits somewhere, and the total wait is fixed by the load (64 clients without
    pause hold 64 requests in the system, whatever the order). Letting reads pass (the
    write gate of 2026-12-05) put the whole wait on the writes: reads in 50 ms, writes
    in 600 ms. One queue shares the wait evenly, so a write takes a little longer than
    a read, by its own cost. Giving each kind an equal share of places instead (tried
    the same day) let cheap kinds through and starved the costly ones: report moves,
    slowed by their unit's lock, waited 1.3 s against a member read's 0.1 s.

    Why the half share: a single queue would put a committee's dashboard behind every
    acknowledgement of a campaign. No kind may take more than half the places while
    another waits, so the dashboard's readers get the next places to free up, and
    when nothing else waits the one kind uses them all. One set of queues per event
    loop (a test may run several)."""

    def __init__(self, places: int) -> None:
        self.places = places
        self._loops: dict[asyncio.AbstractEventLoop, _Queues] = {}

    def _here(self) -> _Queues:
        loop = asyncio.get_running_loop()
        here = self._loops.get(loop)
        if here is None:
            self._loops = {k: v for k, v in self._loops.items() if not k.is_closed()}
            here = self._loops[loop] = _Queues(self.places)
        return here

    @asynccontextmanager
    async def place(self, flow: str) -> AsyncIterator[Callable[[], None]]:
        """Wait for a place; yields `release`, which gives it up early (once)."""
        here = self._here()
        await here.enter(flow)
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                here.leave(flow)

        try:
            yield release
        finally:
            release()


class _Queues:
    def __init__(self, places: int) -> None:
        self.free = places
        # A kind running this many (half the places) yields a freed place to other kinds.
        self.share = max(1, places // 2)
        self.arrivals = 0
        # Requests running, per kind.
        self.running: dict[str, int] = {}
        # Kinds with waiters; each its waiters (arrival number, turn), oldest first.
        self.waiting: dict[str, deque[tuple[int, asyncio.Future[None]]]] = {}

    async def enter(self, flow: str) -> None:
        kind = "read" if flow.startswith(("GET ", "HEAD ")) else "write"
        if self.free > 0 and not self.waiting:
            self.free -= 1
            self.running[flow] = self.running.get(flow, 0) + 1
            ADMISSION_WAIT.labels(kind).observe(0)
            return
        started = time.perf_counter()
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.arrivals += 1
        self.waiting.setdefault(flow, deque()).append((self.arrivals, turn))
        GATE_WAITING.inc()
        try:
            await turn
            ADMISSION_WAIT.labels(kind).observe(time.perf_counter() - started)
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.leave(flow)  # given a place, then cancelled: pass it on
            else:
                self._forget(flow, turn)
            raise
        finally:
            GATE_WAITING.dec()

    def leave(self, flow: str) -> None:
        """A place is free: to the oldest waiter, unless its kind already runs its share
        (half the places) and another kind waits: then to that kind's oldest."""
        left = self.running[flow] - 1
        if left:
            self.running[flow] = left
        else:
            del self.running[flow]
        while self.waiting:
            under = [f for f in self.waiting if self.running.get(f, 0) < self.share]
            flow = min(under or self.waiting, key=lambda f: self.waiting[f][0][0])
            queue = self.waiting[flow]
            _, turn = queue.popleft()
            if not queue:
                del self.waiting[flow]
            if not turn.done():
                turn.set_result(None)
                self.running[flow] = self.running.get(flow, 0) + 1
                return
        self.free += 1

    def _forget(self, flow: str, turn: asyncio.Future[None]) -> None:
        queue = self.waiting.get(flow)
        if queue is None:
            return
        for item in queue:
            if item[1] is turn:
                queue.remove(item)
                break
        if not queue:
            del self.waiting[flow]


class _Exchange:
    """What the middleware learns of the response as it is sent."""

    __slots__ = ("started", "status")

    def __init__(self) -> None:
        self.started = False
        self.status = 500


def _limited(receive: Receive, limit: int) -> Receive:
    """`receive` that refuses a body growing past `limit` bytes (413)."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                # An HTTPException: FastAPI turns any other error raised while it reads
                # the body into a 400; this one reaches the handler as a 413 problem.
                raise HTTPException(413)
        return message

    return limited_receive


class RequestMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._admission = Admission(settings.concurrency) if settings.concurrency else None
        self._hsts = (
            f"max-age={settings.hsts_seconds}; includeSubDomains".encode()
            if settings.hsts_seconds
            else b""
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        client = scope.get("client")
        client_addr = client[0] if client else None
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        rid_token = request_id_var.set(request_id)
        addr_token = client_addr_var.set(client_addr)
        limit = body_limit(self.settings, scope["path"])
        exchange = _Exchange()
        send_wrapper = self._secured(send, exchange, request_id, b"authorization" in headers)
        try:
            await self._dispatch(
                scope, _limited(receive, limit), send_wrapper, headers.get(b"content-length"), limit
            )
        except Exception as exc:
            # Rendered here, inside this middleware, so 500/503 problems carry the request
            # id and security headers like every other response, and are logged once.
            if exchange.started:
                raise
            from starlette.requests import Request

            from api.core.errors import unexpected_error_handler

            response = await unexpected_error_handler(Request(scope), exc)
            await response(scope, _empty_receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            self._record(scope, request_id, client_addr, exchange.status, elapsed)
            request_id_var.reset(rid_token)
            client_addr_var.reset(addr_token)

    def _secured(
        self, send: Send, exchange: _Exchange, request_id: str, authenticated: bool
    ) -> Send:
        """`send` that adds the request id and the security headers to the response, and
        notes its status."""
        hsts = self._hsts

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.started = True
                exchange.status = message["status"]
                out = list(message.get("headers", []))
                out.append((b"x-request-id", request_id.encode()))
                out.append((b"x-content-type-options", b"nosniff"))
                out.append((b"referrer-policy", b"no-referrer"))
                # API answers are data: nothing in them may load or be framed. The docs
                # pages set a policy of their own (api/core/docs.py).
                if not any(k.lower() == b"content-security-policy" for k, _ in out):
                    out.append((b"content-security-policy", API_CSP))
                out.append((b"x-frame-options", b"DENY"))
                if hsts:
                    out.append((b"strict-transport-security", hsts))
                if authenticated and not any(k.lower() == b"cache-control" for k, _ in out):
                    out.append((b"cache-control", b"no-store"))
                message["headers"] = out
            await send(message)

        return send_wrapper

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, declared: bytes | None, limit: int
    ) -> None:
        """Refuse what is refused before the app runs (a declared body over the limit, NUL
        in the query), else run the app (API requests through admission)."""
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, send, _too_large(limit))
        elif b"%00" in scope.get("query_string", b""):
            # No parameter may hold NUL: PostgreSQL text cannot store or compare it.
            await self._reject(scope, send, _nul_in_query())
        elif self._admission is not None and scope["path"].startswith("/api/"):
            await self._admitted(scope, receive, send, limit)
        else:
            await self.app(scope, receive, send)

    def _record(
        self, scope: Scope, request_id: str, client_addr: str | None, status: int, elapsed: float
    ) -> None:
        """The request's metrics and, when enabled, its access-log line."""
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        REQUESTS.labels(scope["method"], template, str(status)).inc()
        LATENCY.labels(scope["method"], template).observe(elapsed)
        if self.settings.log_requests:
            principal = scope["state"].get("principal")
            log.info(
                orjson.dumps(
                    {
                        "event": "request",
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client": client_addr,
                        "principal": str(principal.id) if principal is not None else None,
                    }
                ).decode()
            )

    async def _admitted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """An API request through the admission queue. A write's JSON body (at most 1 MB)
        is read first, so a slow client holds no place while it sends. Uploads (evidence,
        a document's file, a roster: the routes with a larger body limit) and CORS
        preflights are not queued: uploads stream to disk at the client's pace, which a
        place would wait on, and their hashing and parsing already run in bounded worker
        threads (api/core/offload.py)."""
        assert self._admission is not None
        method = scope["method"]
        flow = flow_of(method, scope["path"])
        if method in READS:
            async with self._admission.place(flow) as release:
                await self.app(scope, receive, _releasing(send, release))
            return
        if method not in WRITES or limit > self.settings.max_json_body:
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except HTTPException:
            await self._reject(scope, send, _too_large(limit))
            return
        async with self._admission.place(flow) as release:
            await self.app(scope, _replay(body, receive), _releasing(send, release))

    async def _reject(self, scope: Scope, send: Send, error: AppError) -> None:
        from starlette.requests import Request

        from api.core.errors import app_error_handler

        response = await app_error_handler(Request(scope), error)
        await response(scope, _empty_receive, send)


async def _read_body(receive: Receive) -> list[Message]:
    """The request's body messages, up to its end or the client's disconnect."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _releasing(send: Send, release: Callable[[], None]) -> Send:
    """The place is given up when the answer starts: the handler's work (and a write's
    commit) is done by then, and a long download or a slow client's socket must not hold
    a place while the body goes out."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            release()
        await send(message)

    return wrapped


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


async def _empty_receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}
