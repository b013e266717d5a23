"""`/docs` (Swagger UI) and `/redoc`, served with their assets from installed packages:
the scripts and styles of `fastapi-offline` and our own `api/static/swagger-init.js`, so
offices on closed networks can read the documentation (no CDN; issue 14, finding 11).

Each page has a Content-Security-Policy that allows exactly what it needs from this
origin: scripts and styles from `'self'` (Swagger UI and Redoc set inline style
attributes, hence `style-src 'unsafe-inline'`; no inline script runs), images from
`'self'` and `data:`, `connect-src 'self'` for the OpenAPI document and "Try it out",
Redoc's search worker from `blob:`. Every other response gets the API's
`default-src 'none'` (api/core/middleware.py)."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html
from starlette.responses import FileResponse, HTMLResponse, Response

from api.core.errors import NotFound

DOCS_URL, REDOC_URL, OAUTH2_REDIRECT_URL = "/docs", "/redoc", "/docs/oauth2-redirect"
ASSETS_URL = "/docs/assets/{name}"
_PACKAGE_ASSETS = {
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "application/javascript",
    "favicon.png": "image/png",
}
_OWN_ASSETS = {"swagger-init.js": "application/javascript"}

_COMMON = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
SWAGGER_CSP = (
    f"{_COMMON}; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'"
)
REDOC_CSP = (
    f"{_COMMON}; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; worker-src blob:"
)

_SWAGGER_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} – Swagger UI</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/docs/assets/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-init.js"></script>
</body></html>
"""
_REDOC_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} – ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/docs/assets/favicon.png"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/docs/assets/redoc.standalone.js"></script>
</body></html>
"""


def _asset_path(name: str) -> Path | None:
    if name in _PACKAGE_ASSETS:
        return Path(str(resources.files("fastapi_offline") / "static" / name))
    if name in _OWN_ASSETS:
        return Path(str(resources.files("api") / "static" / name))
    return None


def _redirect_page() -> tuple[str, str]:
    """FastAPI's OAuth2 redirect page and a CSP allowing its one inline script by hash."""
    html = bytes(get_swagger_ui_oauth2_redirect_html().body).decode()
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in scripts
    )
    return html, f"{_COMMON}; script-src {hashes}"


def install_docs(app: FastAPI) -> None:
    """Add the documentation routes (not in the OpenAPI document)."""
    swagger = _SWAGGER_HTML.format(title=app.title)
    redoc = _REDOC_HTML.format(title=app.title)
    redirect, redirect_csp = _redirect_page()

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger, headers={"Content-Security-Policy": SWAGGER_CSP})

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return HTMLResponse(redirect, headers={"Content-Security-Policy": redirect_csp})

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc_ui() -> HTMLResponse:
        return HTMLResponse(redoc, headers={"Content-Security-Policy": REDOC_CSP})

    @app.get(ASSETS_URL, include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        path = _asset_path(name)
        if path is None:
            raise NotFound()
        media_type = {**_PACKAGE_ASSETS, **_OWN_ASSETS}[name]
        return FileResponse(
            path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
        )
