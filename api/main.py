"""The application factory: routers, middleware, error handlers, lifespan, OpenAPI."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.core.config import Settings, get_settings
from api.core.db import db
from api.core.docs import install_docs
from api.core.errors import PROBLEM_MEDIA_TYPE, install_error_handlers
from api.core.middleware import RequestMiddleware
from api.idempotency import KEY_RE as IDEMPOTENCY_KEY_RE
from api.openapi import refine
from api.routers import (
    accounts,
    audit,
    auth,
    clients,
    documents,
    health,
    me,
    members,
    meta,
    reports,
    roster,
    stats,
    units,
    users,
)
from api.services import counters
from api.services.files import close_stores
from api.services.ratelimit import limiter
from api.web import SpaFiles, web_directory

DESCRIPTION = """System of record for Regulation 85-QĐ/TW: the party organisation tree,
the member roster, declared social accounts, reported posts, guidance documents and
compliance statistics. Errors are RFC 9457 problems with a stable `code`; lists are
cursor-paginated; see SPEC.md for the conventions."""

# Routes reachable without a token. Everything else must depend on get_principal
# (tests/routers/test_conventions.py walks app.routes and enforces this).
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/docs/assets/{name}",
        "/api/v1/auth/token",
        "/api/v1/auth/revoke",
        "/api/v1/meta/enums",
        "/api/v1/meta/version",
    }
)


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    folder = None
    if settings.fold_interval_seconds > 0 and settings.database_url.startswith("postgresql"):
        # SQLite folds inside each write (one writer at a time); see counters.fold.
        folder = asyncio.create_task(
            counters.keep_folding(
                db.sessionmaker, settings.fold_interval_seconds, settings.median_refresh_seconds
            )
        )
    yield
    if folder is not None:
        folder.cancel()
        with suppress(asyncio.CancelledError):
            await folder
    await limiter.close()
    await close_stores()
    await db.dispose()


def _configure_logging() -> None:
    """JSON lines on stderr for the qd85 loggers, unless the host configured logging."""
    logger = logging.getLogger("qd85")
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def _warn_development_key() -> None:
    # Only QD85_ENV=development gets here with it (config refuses it elsewhere).
    logging.getLogger("qd85").warning(
        json.dumps(
            {
                "event": "development_secret_key",
                "message": "QD85_SECRET_KEY is the committed development key: anyone can sign "
                "tokens for this server. Set a random value before exposing it.",
            }
        )
    )


def _add_cors(app: FastAPI, origins: list[str]) -> None:
    """The browsers' cross-origin access for `QD85_CORS_ORIGINS`: the request headers the
    API reads and the response headers a client needs."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "Idempotency-Key",
            "Accept-Language",
            "X-Request-ID",
        ],
        expose_headers=[
            "ETag",
            "Location",
            "Retry-After",
            "RateLimit",
            "RateLimit-Policy",
            "X-Request-ID",
            "Idempotent-Replayed",
        ],
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    _configure_logging()
    if settings.uses_development_key:
        _warn_development_key()
    app = FastAPI(
        title="qd85",
        version=meta.package_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,  # api/core/docs.py serves /docs and /redoc without a CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    if settings.env != "production":
        install_docs(app)
    for module in (
        health,
        auth,
        meta,
        units,
        members,
        accounts,
        reports,
        documents,
        roster,
        me,
        users,
        clients,
        stats,
        audit,
    ):
        app.include_router(module.router)
    app.include_router(auth.me_router)
    if settings.cors_origins:
        _add_cors(app, settings.cors_origins)
    web = web_directory(settings.web_dir)
    if web is not None:
        # Last: every API route, /docs and /openapi.json match before it.
        app.mount("/", SpaFiles(web), name="web")
    app.add_middleware(RequestMiddleware, settings=settings)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        openapi_version="3.1.0",
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    # FastAPI's default validation-error body is replaced by our problem document.
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path, path_item in schema.get("paths", {}).items():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                _describe_parameter(parameter)
            _add_common_problems(path, operation)
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                if status == "422" and ref.endswith("/HTTPValidationError"):
                    response["description"] = "Validation failed"
                    response["content"] = {
                        PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }
                elif content.get(PROBLEM_MEDIA_TYPE) and "application/json" in content:
                    del content["application/json"]
    app.openapi_schema = refine(schema)
    return app.openapi_schema


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _add_common_problems(path: str, operation: dict[str, Any]) -> None:
    """The problems any route may answer besides its own, whatever it declares: the request
    middleware's (NUL in the query 422, a body over its limit 413), a body that cannot be
    parsed (400), and a database that does not answer (503, on every route that uses it:
    the authenticated ones and the token endpoints)."""
    responses = operation["responses"]
    responses.setdefault("422", _problem("Validation failed"))
    if "requestBody" in operation:
        responses.setdefault("400", _problem("Bad request: the body cannot be parsed"))
        responses.setdefault("413", _problem("Body too large"))
    if operation.get("security") or path.startswith("/api/v1/auth/"):
        responses.setdefault("503", _problem("Database unavailable"))
    operation["responses"] = dict(sorted(responses.items()))


# Header formats the dependencies check by hand (a malformed If-Match is a 412, like a
# stale one; a malformed Idempotency-Key is a 422), so FastAPI cannot document them.
HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "If-Match": {"type": "string", "pattern": r'^\s*(\*|(W/)?"[0-9]{1,12}")\s*$'},
    "Idempotency-Key": {"type": "string", "pattern": IDEMPOTENCY_KEY_RE.pattern},
}


def _describe_parameter(parameter: dict[str, Any]) -> None:
    """A query, header or path parameter is absent or a string on the wire, never null:
    `anyOf: [T, null]` (how FastAPI renders `T | None = None`) is documented as T."""
    schema = parameter.get("schema", {})
    branches = schema.get("anyOf")
    if branches and {"type": "null"} in branches:
        rest = [b for b in branches if b != {"type": "null"}]
        del schema["anyOf"]
        if len(rest) == 1:
            schema.update(rest[0])
        else:
            schema["anyOf"] = rest
    if parameter.get("in") == "header" and parameter.get("name") in HEADER_SCHEMAS:
        schema.update(HEADER_SCHEMAS[parameter["name"]])
    if (
        parameter.get("in") == "query"
        and schema.get("type") == "string"
        and not {"pattern", "format", "enum", "const"} & schema.keys()
    ):
        # RequestMiddleware refuses NUL anywhere in the query (422): PostgreSQL text
        # cannot hold it.
        schema["pattern"] = r"^[^\x00]*$"
