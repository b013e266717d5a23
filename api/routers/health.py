from __future__ import annotations

import asyncio
import hmac
import os

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from starlette.responses import Response

from api.core.config import get_settings
from api.core.db import db
from api.core.errors import NotFound, Unauthorized, problem_responses
from api.core.i18n import msg
from api.services.files import StoreUnavailable, storage

router = APIRouter(tags=["health"])


@router.get("/healthz", name="healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


# A readiness probe answers quickly: a database that does not answer a SELECT 1 on a new
# connection (outside the request pool) within this bound is "not ready", not a hung probe.
READY_TIMEOUT_SECONDS = 3.0


@router.get("/readyz", name="readyz", responses=problem_responses(503))
async def readyz() -> dict[str, str]:
    """Readiness: the database and the file store answer (503 problem otherwise, saying
    which)."""
    async with asyncio.timeout(READY_TIMEOUT_SECONDS):
        await db.ping()
    store = storage()
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await store.ping()
    except TimeoutError as exc:
        raise StoreUnavailable("timeout") from exc
    return {"status": "ready", "database": "ok", "store": store.name}


@router.get(
    "/metrics", name="metrics", response_class=Response, responses=problem_responses(401, 404)
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics (aggregated across workers when PROMETHEUS_MULTIPROC_DIR is set).
    With `QD85_METRICS_TOKEN` set, only for `Authorization: Bearer <that token>` (401
    otherwise); in production without it, off (404)."""
    settings = get_settings()
    if settings.metrics_token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), settings.metrics_token.encode()
        ):
            raise Unauthorized(
                "invalid_token",
                msg("health.metrics_token_required"),
            )
    elif settings.env == "production":
        raise NotFound()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        data = generate_latest(registry)
    else:
        data = generate_latest(DEFAULT_REGISTRY)
    return Response(data, media_type=CONTENT_TYPE_LATEST)
