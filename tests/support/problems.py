"""Assertions on answers: problem documents (RFC 9457) with their status and code, the
statuses the OpenAPI document lists, and what an answer to a hostile request may show."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI

PROBLEM = "application/problem+json"
JSON_TYPES = ("application/json", PROBLEM)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= body.keys()
    if status == 401:
        assert response.headers["www-authenticate"].startswith(("Bearer", "Basic"))
    return body


def assert_status(response: httpx.Response, status: int) -> None:
    """Exact status; error statuses must also carry the matching problem code."""
    codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 422: "validation_failed"}
    if status < 400:
        assert response.status_code == status, response.text
    else:
        assert_problem(response, status, codes[status])


def assert_unauthorized(response: httpx.Response, code: str = "invalid_token") -> None:
    """401 problem with this code and a Bearer challenge."""
    assert_problem(response, 401, code)
    assert response.headers["www-authenticate"].startswith("Bearer")


def assert_documented(app: FastAPI, response: httpx.Response) -> None:
    """The response's status is one the OpenAPI document lists for its operation."""
    method = response.request.method.lower()
    path = response.request.url.path
    for template, item in app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method in item:
            documented = set(item[method]["responses"])
            assert str(response.status_code) in documented, (
                f"{method.upper()} {template} answered {response.status_code}, "
                f"documented {sorted(documented)}"
            )
            return
    raise AssertionError(f"no documented operation for {method.upper()} {path}")


def assert_safe_response(r: httpx.Response, *markers: str) -> None:
    """JSON or a problem (never HTML or text), with nosniff, and no marker in the
    human-readable parts of a problem (title, detail)."""
    kind = r.headers.get("content-type", "").split(";")[0].strip()
    assert kind in JSON_TYPES, (r.status_code, kind, r.text[:300])
    assert r.headers.get("x-content-type-options") == "nosniff"
    if kind == PROBLEM:
        body = r.json()
        for marker in markers:
            assert marker not in str(body.get("title")), body
            assert marker not in str(body.get("detail")), body


def summary(r: httpx.Response) -> str:
    """'status code' of an answer, for assertion messages."""
    try:
        code = r.json().get("code")
    except ValueError:
        code = None
    return f"{r.status_code} {code}"
