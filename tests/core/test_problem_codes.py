"""The problem-code check of tests/problem_codes.py can fail: a code an operation does not
list, or a status it does not document, is reported; a documented one is not."""

from __future__ import annotations

import json

from tests.problem_codes import SPEC, undocumented


def test_the_check_reports_what_the_document_does_not_list() -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    seen = {
        ("post", "/api/v1/documents", 409, "unit_dissolved"),  # documented
        ("post", "/api/v1/documents", 409, "unit_cycle"),  # not on this operation
        ("get", "/api/v1/members", 412, "version_mismatch"),  # a status it does not answer
        ("get", "/healthz-of-a-test", 404, "not_found"),  # outside the document
    }
    assert undocumented(spec, seen) == [
        "GET /api/v1/members 412 version_mismatch",
        "POST /api/v1/documents 409 unit_cycle",
    ]
