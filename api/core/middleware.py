"""One pure-ASGI middleware for every request: request id, access log, metrics, body size
limit and security headers (cheaper than a stack of BaseHTTPMiddleware layers)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
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
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
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
GATE_WAITING = Gauge(
    "qd85_write_gate_waiting",
    "Writes waiting for the write gate in this process",
    multiprocess_mode="livesum",
)


class WriteGate:
    """At most `limit` writes run at once in this worker; the rest wait here, before their
    handler starts, in arrival order. Reads pass straight through.

    Why: a worker is one event loop. In a burst (a national campaign of acknowledgements,
    a declaration deadline) dozens of writes in flight each take their turn on the loop
    at every database round trip, so a statistics or member read queues behind all of
    them (issue 13's campaign: root stats p99 in seconds with 64 writers). Admitted
    writes are enough to keep the cores and the database busy, so throughput holds,
    while a read waits behind at most `limit` writes. Waiting writes hold no database
    connection and no lock. One semaphore per event loop (a test may run several)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._gates: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            self._gates = {k: v for k, v in self._gates.items() if not k.is_closed()}
            gate = self._gates[loop] = asyncio.Semaphore(self.limit)
        return gate

    async def __aenter__(self) -> None:
        gate = self._gate()
        if gate.locked():
            GATE_WAITING.inc()
            try:
                await gate.acquire()
            finally:
                GATE_WAITING.dec()
        else:
            await gate.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._gate().release()


class RequestMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._writes = WriteGate(settings.write_concurrency) if settings.write_concurrency else None
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
        authenticated = b"authorization" in headers
        limit = body_limit(self.settings, scope["path"])
        status_holder = [500]

        declared = headers.get(b"content-length")
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

        response_started = [False]
        hsts = self._hsts

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_started[0] = True
                status_holder[0] = message["status"]
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

        try:
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await self._reject(scope, send_wrapper, _too_large(limit))
            elif b"%00" in scope.get("query_string", b""):
                # No parameter may hold NUL: PostgreSQL text cannot store or compare it.
                await self._reject(scope, send_wrapper, _nul_in_query())
            elif self._writes is not None and scope["method"] in WRITES:
                await self._gated(scope, limited_receive, send_wrapper, limit)
            else:
                await self.app(scope, limited_receive, send_wrapper)
        except Exception as exc:
            # Rendered here, inside this middleware, so 500/503 problems carry the request
            # id and security headers like every other response, and are logged once.
            if response_started[0]:
                raise
            from starlette.requests import Request

            from api.core.errors import unexpected_error_handler

            response = await unexpected_error_handler(Request(scope), exc)
            await response(scope, _empty_receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(scope["method"], template, str(status_holder[0])).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            if self.settings.log_requests:
                principal = state.get("principal")
                log.info(
                    orjson.dumps(
                        {
                            "event": "request",
                            "request_id": request_id,
                            "method": scope["method"],
                            "path": scope["path"],
                            "route": template,
                            "status": status_holder[0],
                            "duration_ms": round(elapsed * 1000, 2),
                            "client": client_addr,
                            "principal": str(principal.id) if principal is not None else None,
                        }
                    ).decode()
                )
            request_id_var.reset(rid_token)
            client_addr_var.reset(addr_token)

    async def _gated(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """A write through the gate. Its JSON body (at most 1 MB) is read first, so a slow
        client holds no place while it sends. Uploads (evidence, a document's file, a
        roster: the routes with a larger body limit) are not gated: they stream to disk
        at the client's pace, which a place in the gate would wait on, and their hashing
        and parsing already run in bounded worker threads (api/core/offload.py)."""
        assert self._writes is not None
        if limit > self.settings.max_json_body:
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except HTTPException:
            await self._reject(scope, send, _too_large(limit))
            return
        async with self._writes:
            await self.app(scope, _replay(body, receive), send)

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


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


async def _empty_receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}
