from __future__ import annotations

import asyncio
import os

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from starlette.responses import Response

from api.core.db import db
from api.core.errors import problem_responses

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
    """Readiness: the database answers (503 problem otherwise)."""
    async with asyncio.timeout(READY_TIMEOUT_SECONDS):
        await db.ping()
    return {"status": "ready"}


@router.get("/metrics", name="metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus metrics (aggregated across workers when PROMETHEUS_MULTIPROC_DIR is set)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        data = generate_latest(registry)
    else:
        data = generate_latest(DEFAULT_REGISTRY)
    return Response(data, media_type=CONTENT_TYPE_LATEST)
