"""Contract fuzzing: Schemathesis against the OpenAPI document the app serves, for every
operation, as an admin and as a plain member (a user linked to a member), with every
check (server errors, response schemas, documented status codes and content types,
response headers, negative-data rejection, positive-data acceptance, Allow headers,
ignored auth, …). Any finding fails the test.

Each test item is one (operation, role). A small organisation is seeded once for the
module (units, members, accounts, a report with evidence, documents, a roster sync) and
kept from one item to the next; the generated path parameters and body references are,
some of the time, swapped for the ids of those objects so that requests reach real rows
and not only 404s.

Deterministic (derandomised Hypothesis, no example database) and bounded;
QD85_FUZZ_EXAMPLES raises the examples per operation and generation mode for a deeper
local run (e.g. QD85_FUZZ_EXAMPLES=100).

The app runs (through Schemathesis's ASGI transport) in an event-loop thread that this
module owns; the module's own database work (seed, re-login, cleanup) runs there too, so
the engine's pooled connections never cross event loops.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis.strategies as st
import pytest
import schemathesis
import schemathesis.python.asgi
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.openapi.checks import RejectedPositiveData

from api.core.config import get_settings
from api.core.db import db
from api.core.enums import DocumentStatus, Role
from api.main import create_app
from api.models import Unit
from tests.support.factories import (
    auth,
    empty_database,
    file_report,
    make_account,
    make_document,
    make_member,
    make_user,
    png_bytes,
)
from tests.support.world import Org, build_org

EXAMPLES = int(os.environ.get("QD85_FUZZ_EXAMPLES", "5"))
ROLES = ("admin", "member")

APP = create_app()


@asynccontextmanager
async def _engine_kept(_app: Any) -> AsyncIterator[None]:
    yield


# Schemathesis ends the app's lifespan after every test item (and the first one in the
# loop that loaded the document), and qd85's closes the database engine: here the module
# owns the engine instead (`app_loop`).
APP.router.lifespan_context = _engine_kept
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.generation.update(
    modes=list(GenerationMode),  # positive and negative
    max_examples=EXAMPLES,
    deterministic=True,
    database="none",
)
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
schema.config.checks.update(included_check_names=["all"])
# 412 is what If-Match answers, malformed (rejection) or stale (state, like 409): the
# document gives its format, but no request generator can know an object's version.
for _check in (
    schema.config.checks.positive_data_acceptance,
    schema.config.checks.negative_data_rejection,
):
    _check.expected_statuses = [*_check.expected_statuses, "412"]

load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if not isinstance(check, type)]

# Seeded ids for the running item's role, by the parameter or body field that names them.
KNOWN: dict[str, list[str]] = {}
BODY_REFERENCES = {
    "parent_id": "unit_id",
    "into_unit_id": "unit_id",
    "unit_id": "unit_id",
    "audience_unit_id": "unit_id",
    "impersonated_unit_id": "unit_id",
    "member_id": "member_id",
    "impersonated_member_id": "member_id",
    "assignee_id": "assignee",
}


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _maybe_known(value: Any, kind: str) -> st.SearchStrategy[Any]:
    """The generated value, or (when it is a well-formed id) one of the seeded ids."""
    if kind in KNOWN and _is_uuid(value):
        return st.sampled_from([value, *KNOWN[kind]])
    return st.just(value)


@schema.hook
def flatmap_path_parameters(_ctx: Any, path_parameters: dict[str, Any] | None) -> Any:
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries({k: _maybe_known(v, k) for k, v in path_parameters.items()})


@schema.hook
def flatmap_body(_ctx: Any, body: Any) -> Any:
    if not isinstance(body, dict) or not any(k in BODY_REFERENCES for k in body):
        return st.just(body)
    return st.fixed_dictionaries(
        {
            k: _maybe_known(v, BODY_REFERENCES[k]) if k in BODY_REFERENCES else st.just(v)
            for k, v in body.items()
        }
    )


# Rejections (422, or 415 for an upload) of schema-valid requests that no schema can
# express: they depend on the server's state, on the caller, or on several parameters
# together. Each is narrow: a problem `code` of its own, or one `validation_failed` error
# by (type, location, message), where None matches any.
NOT_EXPRESSIBLE: dict[tuple[str, str | None, tuple[Any, ...] | None, str | None], str] = {
    (
        "invalid_cursor",
        None,
        None,
        None,
    ): "cursors are opaque: a well-formed string the server did not issue names no page",
    (
        "validation_failed",
        "reference",
        None,
        None,
    ): "a well-formed id in the body that names no object in the caller's scope (or, for an "
    "assignee, no handler of the report)",
    (
        "validation_failed",
        "missing",
        ("query", "unit_id"),
        "required here",
    ): "the default unit is the caller's one scope root; others (admins) must name one",
    (
        "validation_failed",
        "value_error",
        ("query", "ack_state"),
        "only for members",
    ): "the own-acknowledgement filter needs a caller linked to a member",
    (
        "validation_failed",
        "value_error",
        ("query", "from"),
        "too many periods",
    ): "a series of more than 1000 periods (from, to and interval together)",
    (
        "validation_failed",
        "value_error",
        ("query", "to"),
        "not after from",
    ): "an empty or reversed period (from and to together)",
    (
        "validation_failed",
        "value_error",
        ("body", "scope_unit_code"),
        "differs from the query parameter",
    ): "the scope named twice, in the body and the query, differently",
    (
        "validation_failed",
        "value_error",
        ("body", "mode"),
        "differs from the query parameter",
    ): "the mode named twice, in the body and the query, differently",
    (
        "validation_failed",
        "missing",
        ("body", "scope_unit_code"),
        "required for a snapshot",
    ): "a snapshot names its scope in the body or in the query",
    (
        "invalid_url",
        None,
        None,
        None,
    ): "a reported link the server cannot resolve to content (per-platform URL grammar)",
    (
        "invalid_account_url",
        None,
        None,
        None,
    ): "an account link the server cannot resolve to an account (per-platform URL grammar)",
    (
        "unsupported_media_type",
        None,
        None,
        None,
    ): "an uploaded file (multipart only) is recognised by its content, not by its schema",
    (
        "validation_failed",
        "datetime_range",
        None,
        None,
    ): "date-times are accepted from 1900 to 9000 (UTC); JSON Schema cannot bound a date-time",
    (
        "idempotency_key_mismatch",
        None,
        None,
        None,
    ): "an Idempotency-Key already used, by an earlier example, with another body",
    (
        "validation_failed",
        "value_error",
        ("body", "url"),
        "exactly one of url, handle",
    ): "an account is declared by `url` or by `handle`, exactly one (described, not a union: "
    "generators turn such unions into fragments that lose fields)",
    (
        "validation_failed",
        "validation_failed",
        ("body", "impersonated_unit_id"),
        "Give the impersonated member or the impersonated unit, not both.",
    ): "at most one impersonated reference (described, not a union, as above)",
}


def _matches(key: tuple[Any, ...], code: str, error: dict[str, Any] | None) -> bool:
    k_code, k_type, k_loc, k_msg = key
    if k_code != code:
        return False
    if k_type is None:  # the problem's own code says it all
        return True
    return (
        error is not None
        and error.get("type") == k_type
        and (k_loc is None or tuple(error.get("loc", ())) == k_loc)
        and (k_msg is None or error.get("msg") == k_msg)
    )


def _not_expressible(case: Any, response: Any) -> bool:
    if response.status_code != 422 and not (
        response.status_code == 415 and case.media_type == "multipart/form-data"
    ):
        return False
    try:
        problem = response.json()
    except ValueError:
        return False
    code, errors = problem.get("code"), problem.get("errors") or [None]
    return all(any(_matches(key, code, e) for key in NOT_EXPRESSIBLE) for e in errors)


# Roster files other than JSON are opaque strings in the document (their grammar - rows,
# headers and their Vietnamese aliases, encodings - is prose): whether a generated string
# is a valid roster file is beyond any schema, both ways. Their JSON twin is checked.
ROSTER_FILES = frozenset(
    {
        "application/x-ndjson",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
# The document gives NDJSON as a string (it goes on the wire as text) and XLSX as binary.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
schemathesis.serializer.alias(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream"
)


@schema.hook
def filter_failure(_ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    if isinstance(failure, RejectedPositiveData | AcceptedNegativeData) and (
        case.media_type in ROSTER_FILES
    ):
        return False
    return not (isinstance(failure, RejectedPositiveData) and _not_expressible(case, response))


@pytest.fixture(scope="module")
async def _engine_released() -> None:
    """The engine of pytest's event loop is closed: the app loop makes its own."""
    await db.dispose()


@pytest.fixture(scope="module")
def app_loop(_engine_released: None) -> Iterator[BlockingPortal]:
    """One event loop, in a thread, for the app (Schemathesis's ASGI transport runs it
    there) and for this module's own database work: the engine's pooled connections
    belong to one loop. Its engine is disposed of at the end, in that loop."""
    with start_blocking_portal() as portal, pytest.MonkeyPatch.context() as patch:
        patch.setattr(schemathesis.python.asgi, "_get_portal", lambda: portal)
        yield portal
        portal.call(db.dispose)


@pytest.fixture
def _empty_tables() -> None:
    """Overrides tests/conftest.py's: the seeded data is kept from one operation to the
    next (seeding it for each of ~150 items would cost more than the fuzzing), and
    emptied once, when the module is done (`seeded`)."""


@dataclass
class Seeded:
    org: Org
    headers: dict[str, dict[str, str]]
    known: dict[str, dict[str, list[str]]]


@pytest.fixture(scope="module")
def seeded(app_loop: BlockingPortal) -> Iterator[Seeded]:
    """The organisation of tests/support/world.py with a few objects of every kind. Each
    role gets its own ids to aim at: the admin those of other people (so that its
    fuzzing cannot lock the member out), the member its own and some it may not touch.
    Report filing is not rate limited here (its 429 is documented and tested elsewhere);
    login throttling stays as configured."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(get_settings(), "report_rate_limit", 1_000_000)
        yield app_loop.call(_seed)
    app_loop.call(empty_database)


async def _seed() -> Seeded:
    async with db.sessionmaker() as session:
        org = await build_org(session)
        colleague = await make_member(session, org.a1, full_name="Trần Văn Bình")
        outsider = await make_member(session, org.b1, full_name="Đỗ Thị Giang")
        own_account = await make_account(session, org.me)
        other_account = await make_account(session, colleague)
        documents = [
            str((await make_document(session, org.a)).id),
            str((await make_document(session, org.a, status=DocumentStatus.draft)).id),
        ]
    transport = httpx.ASGITransport(app=APP, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        report = await file_report(client, org.headers("member"))
        r = await client.post(
            f"/api/v1/reports/{report['id']}/evidence",
            headers=org.headers("member"),
            files={"file": ("shot.png", png_bytes(), "image/png")},
        )
        assert r.status_code == 201, r.text
        evidence = r.json()
        r = await client.post(
            "/api/v1/roster/syncs",
            headers=org.headers("admin"),
            json={
                "mode": "upsert",
                "members": [
                    {
                        "external_id": "X-1",
                        "full_name": "Phạm Văn Cường",
                        "unit_code": "A.1",
                        "membership": "official",
                    }
                ],
            },
        )
        assert r.status_code == 201, r.text
        sync = r.json()
    shared = {
        "unit_id": [str(u.id) for u in (org.root, org.a, org.a1, org.b, org.b1)],
        "report_id": [report["id"]],
        "evidence_id": [evidence["id"]],
        "document_id": documents,
        "sync_id": [sync["id"]],
        "client_id": [str(org.principals["partner_a"].id)],
        "assignee": [str(org.principals["reviewer_a"].id), str(org.principals["manager_a"].id)],
    }
    known = {
        "admin": {
            **shared,
            "member_id": [str(colleague.id), str(outsider.id)],
            "account_id": [str(other_account.id)],
            "user_id": [str(org.principals["manager_b"].id)],
        },
        "member": {
            **shared,
            "member_id": [str(org.me.id), str(colleague.id)],
            "account_id": [str(own_account.id), str(other_account.id)],
            "user_id": [str(org.principals["member"].id), str(org.principals["admin"].id)],
        },
    }
    return Seeded(org, {role: org.headers(role) for role in ROLES}, known)


async def _relogin(seeded: Seeded, role: str) -> None:
    """A fresh principal for `role` when the fuzzing so far has locked the last one out
    (e.g. a roster snapshot that moved the member out of the roster)."""
    transport = httpx.ASGITransport(app=APP, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.get("/api/v1/auth/me", headers=seeded.headers[role])
    if r.status_code != 401:
        return
    async with db.sessionmaker() as session:
        if role == "admin":
            user = await make_user(session, grants=[(Role.admin, None)])
        else:
            unit = await session.get(Unit, seeded.org.a1.id)
            assert unit is not None
            member = await make_member(session, unit)
            user = await make_user(session, member=member)
            seeded.known[role]["member_id"][0] = str(member.id)
            seeded.known[role]["user_id"][0] = str(user.id)
    seeded.headers[role] = auth(user)


@pytest.fixture
def headers(role: str, seeded: Seeded, app_loop: BlockingPortal) -> dict[str, str]:
    """The role's bearer headers (of a principal that still works), and its ids for the
    hooks."""
    app_loop.call(_relogin, seeded, role)
    KNOWN.clear()
    KNOWN.update(seeded.known[role])
    return seeded.headers[role]


@schema.parametrize()
@pytest.mark.parametrize("role", ROLES)
# One seeded organisation for the module, shared by every example on purpose; and no
# timing health check, which a busy CI machine could trip.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_operation(case: Any, role: str, headers: dict[str, str]) -> None:
    case.call_and_validate(headers=headers, checks=ALL_CHECKS)
