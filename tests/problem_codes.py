"""Every problem the suite provokes is documented on its operation (a pytest plugin,
loaded by tests/conftest.py).

The OpenAPI document lists, per operation and status, the problem codes a client may
meet (api/openapi/tables.py: CONFLICTS, UNPROCESSABLE, NOT_FOUND and the per-status defaults);
generated clients and the SPA branch on them. Those lists are written by hand, so this
plugin proves them complete against what the code really answers: it records every 4xx
problem rendered inside a matched route during the run (method, route template, status,
code) and, at the end, fails the run when the committed `openapi/openapi.json` has no
example of that code under that operation's status. A partial run checks what it ran.

Out of scope: 5xx (the fault tests provoke 500s and 503s on purpose; 503 is documented
where a file store is involved), problems answered before routing (an unknown path, 405,
a body over the size limit), which belong to no operation, and tests marked
`fault_injection`, which make a service raise what it never raises (a version conflict
from a list)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.core import errors

SPEC = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
RECORDED: set[tuple[str, str, int, str]] = set()
_injecting = False


def _recording(original: Any) -> Any:
    def record(request: Any, code: str, **kwargs: Any) -> Any:
        response = original(request, code, **kwargs)
        route = request.scope.get("route")
        path = getattr(route, "path", None)
        if path is not None and 400 <= response.status_code < 500 and not _injecting:
            RECORDED.add((request.method.lower(), path, response.status_code, code))
        return response

    return record


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fault_injection: the test makes the code raise what it never raises; "
        "its problems are not checked against the OpenAPI document",
    )
    errors._problem_response = _recording(errors._problem_response)  # type: ignore[attr-defined]


def pytest_runtest_setup(item: pytest.Item) -> None:
    global _injecting
    _injecting = item.get_closest_marker("fault_injection") is not None


def undocumented(spec: dict[str, Any], seen: set[tuple[str, str, int, str]]) -> list[str]:
    """`METHOD path status code` of each recorded problem the document does not list."""
    missing = []
    for method, path, status, code in sorted(seen):
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None:  # a route outside the API document (a test's own, /healthz)
            continue
        response = operation["responses"].get(str(status))
        content = (response or {}).get("content", {}).get(errors.PROBLEM_MEDIA_TYPE, {})
        if code not in content.get("examples", {}):
            missing.append(f"{method.upper()} {path} {status} {code}")
    return missing


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not RECORDED:
        return
    missing = undocumented(json.loads(SPEC.read_text(encoding="utf-8")), RECORDED)
    if not missing:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [
        "problems answered but not documented on their operation in openapi/openapi.json",
        "(add the code to CONFLICTS / UNPROCESSABLE / NOT_FOUND in api/openapi/tables.py, then",
        "`qd85 openapi --out openapi/openapi.json`):",
        *(f"  {line}" for line in missing),
    ]
    if reporter is not None:
        reporter.write_line("\n".join(lines), red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
