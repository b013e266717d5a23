"""The SPA client (web/dist), served at `/` when built: static files, `index.html` for
client routes, and a strict Content-Security-Policy. The API's own paths are never
shadowed: routes are matched first, and an unknown `/api/...` path stays a 404 problem."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# No inline script anywhere (Vite emits module scripts by URL). Styles may be inline:
# Ant Design writes its CSS-in-JS into <style> elements at run time. connect-src is the
# API, served from this same origin.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# Paths that belong to the API even when no route matched them: a 404 problem, not the app.
_API_SEGMENTS = frozenset({"api", "docs", "openapi.json", "healthz", "readyz", "metrics"})


class SpaFiles(StaticFiles):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, html=True, check_dir=True)
        self.index = directory / "index.html"

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path.split("/", 1)[0] in _API_SEGMENTS:
            raise HTTPException(404)
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or _looks_like_file(path):
                raise
            # A client route (/reports/123): the app's shell, which routes in the browser.
            response = FileResponse(self.index)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Frame-Options"] = "DENY"
        if path.startswith("assets/"):
            # Vite names them by content hash: cache them for good.
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response


def _looks_like_file(path: str) -> bool:
    """`/assets/missing.js` is a 404; `/documents/85-QĐ` is a client route."""
    last = path.rsplit("/", 1)[-1]
    return path.startswith("assets/") or (
        "." in last
        and last.rsplit(".", 1)[-1]
        in {"js", "css", "map", "png", "svg", "ico", "json", "txt", "woff2"}
    )


def web_directory(configured: str) -> Path | None:
    """The built SPA's folder when it holds an index.html, else None (not built)."""
    if not configured:
        return None
    path = Path(configured)
    return path if (path / "index.html").is_file() else None
