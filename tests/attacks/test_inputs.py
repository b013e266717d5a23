"""Hostile input on every write endpoint (members, units, accounts, reports, documents,
users, clients): code-looking strings are data where a field is free text (stored and
returned verbatim, never executed) and refused where a field has a format; NUL, lone
surrogates, invalid UTF-8, over-long strings, 1 MB bodies, deeply nested JSON, huge
arrays and numbers are 4xx problems with a stable code. A refused request writes
nothing: every table (and the file store) is compared before and after."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.attacks.writes import (
    LOOKALIKES,
    MARKUP,
    PASSWORD_FIELDS,
    TARGETS,
    TEXT,
    Target,
    call,
    prepare,
)
from tests.support.factories import login, report_body
from tests.support.problems import assert_safe_response, summary
from tests.support.reads import diff, fingerprint
from tests.support.world import Org, World, build_org, build_world


def _field_errors(r: httpx.Response) -> list[str]:
    """The field each error of a 422 names (its loc after "body"; an optional field's loc
    goes on with pydantic's union branch, e.g. `["body", "name", "none"]`)."""
    return [str(e["loc"][1]) for e in r.json().get("errors") or [] if len(e["loc"]) > 1]


@dataclass
class Case:
    label: str
    body: bytes | dict[str, Any]
    status: int
    code: str
    field: str | None = None  # the field a 422 must name
    markers: tuple[str, ...] = MARKUP  # must not appear in the problem's title or detail


async def _refuse_all(
    client: httpx.AsyncClient, w: World, t: Target, cases: list[Case], failures: list[str]
) -> None:
    """Send each case; expect its problem, and no change to anything stored by any."""
    if not cases:
        return
    await prepare(client, w, t)
    before = await fingerprint()
    for case in cases:
        r = await call(client, w, t, case.body)
        assert_safe_response(r, *case.markers)
        got = summary(r)
        if got != f"{case.status} {case.code}":
            failures.append(f"{t.name} {case.label}: {got}, expected {case.status} {case.code}")
        elif case.field is not None and case.field not in _field_errors(r):
            failures.append(f"{t.name} {case.label}: errors {r.json().get('errors')}")
    if changed := diff(before, await fingerprint()):
        failures.append(f"{t.name} {[c.label for c in cases]}: refused but wrote {changed}")


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await build_world(client, objects=True)


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


# --- code-looking strings -----------------------------------------------------------------------


class TestLookalikeStrings:
    async def test_refused_where_the_field_has_a_format(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        failures: list[str] = []
        for t in TARGETS:
            cases = [
                # A refused link's detail quotes its host: see TestProblemsEchoNoMarkup.
                Case(
                    f"{name}={label}",
                    {**t.body(world), name: text},
                    422,
                    t.code(name),
                    name,
                    () if name in t.codes else MARKUP,
                )
                for name, accepted in t.fields.items()
                for label, text in LOOKALIKES.items()
                if label not in accepted
            ]
            await _refuse_all(client, world, t, cases, failures)
        assert failures == []

    async def test_stored_and_returned_verbatim_where_the_field_is_text(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        """One request per look-alike and endpoint, with every field that takes it set to
        it; each comes back exactly as sent, in the answer and when read again."""
        members = int((await fingerprint())["members"])
        failures: list[str] = []
        for t in TARGETS:
            for label, text in LOOKALIKES.items():
                # A password costs an argon2 hash: one look-alike is enough there.
                names = [
                    n
                    for n, accepted in t.fields.items()
                    if label in accepted and (n not in PASSWORD_FIELDS or label == "sql_drop")
                ]
                if not names:
                    continue
                await prepare(client, world, t)
                r = await call(client, world, t, {**t.body(world), **dict.fromkeys(names, text)})
                assert_safe_response(r)
                if r.status_code != t.ok:
                    failures.append(f"{t.name} {names}={label}: {summary(r)}")
                    continue
                again = None
                if t.read is not None:
                    again = await client.get(t.read(world, r.json()), headers=world.admin_h)
                    assert again.headers["content-type"] == "application/json"
                for name in names:
                    if name in PASSWORD_FIELDS:
                        assert text not in r.text
                        continue
                    echo = t.echo.get(name, name)
                    if echo in r.json() and r.json()[echo] != text:
                        failures.append(f"{t.name} {name}={label}: answered {r.json()[echo]!r}")
                    if again is not None and (got := t.pick(again.json(), echo)) != text:
                        failures.append(f"{t.name} {name}={label}: read back {got!r}")
        assert failures == []
        # Every table is still there and holds what it should: the world's members and
        # one per look-alike request of members.create.
        assert int((await fingerprint())["members"]) == members + 4

    async def test_a_code_looking_password_is_just_a_password(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        """Stored as a hash and usable to log in; the same text as a username finds nobody."""
        password = LOOKALIKES["sql_or"] + " and more"
        r = await client.post(
            "/api/v1/users",
            json={"username": "odd.password", "password": password},
            headers=org.admin_h,
        )
        assert r.status_code == 201, r.text
        assert (await login(client, "odd.password", password)).status_code == 200
        r = await login(client, LOOKALIKES["sql_or"], password)
        assert (r.status_code, r.json()["code"]) == (400, "invalid_grant")

    async def test_search_text_is_not_a_pattern(self, client: httpx.AsyncClient, org: Org) -> None:
        """`%`, `_` and `\\` in ?q= match themselves (LIKE wildcards are escaped), and a
        quote ends nothing."""
        h = org.admin_h
        names = {
            "Trăm Phần % Trăm": "%",
            "Gạch_Dưới Văn": "_",
            "Xuyệt \\ Ngược": "\\",
            LOOKALIKES["sql_or"]: "' or",
        }
        for full_name in names:
            r = await client.post(
                "/api/v1/members",
                headers=h,
                json={"full_name": full_name, "unit_id": str(org.a1.id), "membership": "official"},
            )
            assert r.status_code == 201, r.text
        for full_name, q in names.items():
            r = await client.get("/api/v1/members", params={"q": q}, headers=h)
            assert r.status_code == 200, r.text
            assert [m["full_name"] for m in r.json()["items"]] == [full_name], q
        r = await client.get("/api/v1/members", params={"q": "%' OR '%'='"}, headers=h)
        assert r.json()["items"] == []
        for url in (
            "/api/v1/units",
            "/api/v1/users",
            "/api/v1/documents",
            "/api/v1/reports",
            "/api/v1/accounts",
        ):
            for q in ("' OR 1=1 --", "%' OR '%'='", '"; DROP TABLE members; --', "%", "_"):
                r = await client.get(url, params={"q": q}, headers=h)
                assert r.status_code == 200, (url, q, r.text)
                assert r.json()["items"] == [], (url, q)


# --- values that are refused ------------------------------------------------------------------

# name -> (value, status, code), tried in every string field of every write endpoint. A
# URL field answers its own code for a string that is no link.
REFUSED_VALUES: dict[str, tuple[Any, int, str]] = {
    "nul": ("a\x00b", 422, "validation_failed"),
    "control_char": ("a\x1bb", 422, "validation_failed"),
    "lone_surrogate": ("a\ud800b", 422, "validation_failed"),
    "over_any_max_length": ("x" * 100_001, 422, "validation_failed"),
    "number_10e30": (10**30, 422, "validation_failed"),
    "negative_number": (-1, 422, "validation_failed"),
    "array_10k": ([0] * 10_000, 422, "validation_failed"),
    "operator_object": ({"$ne": ""}, 422, "validation_failed"),
}
URL_CODES = {"nul", "control_char"}
PASSWORD_ACCEPTS = {"nul", "control_char"}  # see test_password_takes_any_character


class TestRefusedValues:
    async def test_every_string_field(self, client: httpx.AsyncClient, world: World) -> None:
        failures: list[str] = []
        for t in TARGETS:
            cases = [
                Case(
                    f"{name}={attack}",
                    {**t.body(world), name: value},
                    status,
                    t.code(name) if attack in URL_CODES else code,
                    name,
                )
                for attack, (value, status, code) in REFUSED_VALUES.items()
                for name in t.fields
                if not (name in PASSWORD_FIELDS and attack in PASSWORD_ACCEPTS)
            ]
            await _refuse_all(client, world, t, cases, failures)
        assert failures == []

    async def test_password_takes_any_character(self, client: httpx.AsyncClient, org: Org) -> None:
        """A password is hashed, never stored or compared as text: control characters
        (NUL included) are accepted, on both backends, and work at login."""
        password = "correct\x00horse\x1bbattery"
        r = await client.post(
            "/api/v1/users",
            json={"username": "nul.password", "password": password},
            headers=org.admin_h,
        )
        assert r.status_code == 201, r.text
        assert (await login(client, "nul.password", password)).status_code == 200


# --- bodies that are refused whole --------------------------------------------------------------


def _raw(t: Target, w: World, value: bytes) -> bytes:
    """The target's valid body with its first string field's value replaced by raw bytes."""
    body = t.body(w)
    body[next(iter(t.fields))] = "@@RAW@@"
    return json.dumps(body).encode().replace(b'"@@RAW@@"', value)


NESTED = b"[" * 10_000 + b"]" * 10_000
# name -> (body builder, status, code), sent to every write endpoint.
REFUSED_BODIES: dict[str, tuple[Any, int, str]] = {
    "invalid_utf8": (lambda t, w: _raw(t, w, b'"\xff\xfe"'), 400, "invalid_json"),
    "overlong_utf8_slash": (
        lambda t, w: _raw(t, w, b'"..\xc0\xaf..\xc0\xafetc"'),
        400,
        "invalid_json",
    ),
    # Python's JSON decoder lets an encoded surrogate through; the string check refuses it.
    "utf8_encoded_surrogate": (
        lambda t, w: _raw(t, w, b'"\xed\xa0\x80"'),
        422,
        "validation_failed",
    ),
    "nested_10000_deep": (lambda t, w: NESTED, 400, "invalid_json"),
    "nested_10000_deep_in_a_field": (lambda t, w: _raw(t, w, NESTED), 400, "invalid_json"),
    "integer_of_5000_digits": (lambda t, w: _raw(t, w, b"9" * 5000), 400, "invalid_json"),
    "nan_literal": (lambda t, w: _raw(t, w, b"NaN"), 422, "validation_failed"),
    "infinity_literal": (lambda t, w: _raw(t, w, b"-Infinity"), 422, "validation_failed"),
    "truncated": (lambda t, w: json.dumps(t.body(w)).encode()[:-3], 400, "invalid_json"),
    "990k_string": (
        lambda t, w: _raw(t, w, b'"' + b"x" * 990_000 + b'"'),
        422,
        "validation_failed",
    ),
    "1mb_string": (
        lambda t, w: _raw(t, w, b'"' + b"x" * 1_000_001 + b'"'),
        413,
        "payload_too_large",
    ),
    "array_of_300k_in_a_field": (
        lambda t, w: _raw(t, w, b"[" + b"0," * 299_999 + b"0]"),
        422,
        "validation_failed",
    ),
    "array_of_100k": (lambda t, w: b"[" + b"0," * 99_999 + b"0]", 422, "validation_failed"),
    "array_of_1m": (lambda t, w: b"[" + b"0," * 999_999 + b"0]", 413, "payload_too_large"),
    "a_string": (lambda t, w: b'"<script>alert(1)</script>"', 422, "validation_failed"),
    "empty": (lambda t, w: b"", 422, "validation_failed"),
}
# Bodies FastAPI cannot decode at all (it raises a bare 400) are `invalid_json` too.
UNDECODABLE = [
    "integer_of_5000_digits",
    "invalid_utf8",
    "nested_10000_deep",
    "nested_10000_deep_in_a_field",
    "overlong_utf8_slash",
]


class TestRefusedBodies:
    async def test_every_write_endpoint(self, client: httpx.AsyncClient, world: World) -> None:
        failures: list[str] = []
        for t in TARGETS:
            cases = [
                Case(attack, build(t, world), status, code)
                for attack, (build, status, code) in REFUSED_BODIES.items()
            ]
            await _refuse_all(client, world, t, cases, failures)
        assert failures == []

    @pytest.mark.parametrize("attack", UNDECODABLE)
    async def test_undecodable_json_is_invalid_json(
        self, client: httpx.AsyncClient, org: Org, attack: str
    ) -> None:
        body = REFUSED_BODIES[attack][0](ORG_TARGET, org)
        r = await client.post(
            "/api/v1/members",
            content=body,
            headers={**org.admin_h, "Content-Type": "application/json"},
        )
        assert summary(r) == "400 invalid_json"


# members.create with unit A1 of an Org (for the builders of REFUSED_BODIES).
ORG_TARGET: Any = Target(
    "members.create",
    "POST",
    lambda w: "/api/v1/members",
    lambda w: {"full_name": "Phạm Văn Mới", "unit_id": str(w.a1.id), "membership": "official"},  # type: ignore[attr-defined]
    lambda w: w.admin_h,
    {"full_name": TEXT},
)


# --- numbers -----------------------------------------------------------------------------

# The path ids that a loader dependency (api/loaders.py) loads before the query is read.
LOADED_IDS = {"unit_id", "member_id", "account_id", "report_id", "document_id", "user_id"}
BAD_LIMITS = ["-1", "0", "201", str(10**30), "9" * 5000, "1e3", "1.5", "NaN", "0x10", ""]


def _list_routes(app: Any) -> list[str]:
    """Every GET route that takes ?limit=, with its path parameters filled with ids."""
    from fastapi import routing as fastapi_routing

    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    routes = iterate(app.routes) if iterate else app.routes
    found = []
    for route in routes:
        dependant = getattr(route, "dependant", None)
        if "GET" not in (getattr(route, "methods", None) or ()) or dependant is None:
            continue
        if any(p.name == "limit" for p in dependant.query_params):
            found.append(route.path)
    return sorted(set(found))


class TestNumbers:
    async def test_page_size_out_of_range_on_every_list(
        self, app: Any, client: httpx.AsyncClient, org: Org
    ) -> None:
        routes = _list_routes(app)
        assert len(routes) >= 12
        failures = []
        for path in routes:
            url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
            # An unknown id loaded by api/loaders.py answers 404 before the query is
            # validated (docs/architecture.md, "Loaders"); the others still 422.
            loaded = set(re.findall(r"\{([^}]+)\}", path)) & LOADED_IDS
            for limit in BAD_LIMITS:
                r = await client.get(url, params={"limit": limit}, headers=org.admin_h)
                assert_safe_response(r)
                errors = [tuple(e["loc"]) for e in (r.json().get("errors") or [])]
                if loaded:
                    if summary(r) != "404 not_found":
                        failures.append(f"{path}?limit={limit[:20]}: {summary(r)} {errors}")
                elif summary(r) != "422 validation_failed" or ("query", "limit") not in errors:
                    failures.append(f"{path}?limit={limit[:20]}: {summary(r)} {errors}")
        assert failures == []

    async def test_numeric_body_field(self, client: httpx.AsyncClient, world: World) -> None:
        failures: list[str] = []
        for t in TARGETS[:2]:  # units.create, units.update
            cases = [
                Case(
                    f"days={value!r}",
                    {**t.body(world), "declaration_deadline_days": value},
                    422,
                    "validation_failed",
                    "declaration_deadline_days",
                )
                for value in (-1, 0, 3651, 10**30, 1e308, -1e308, 1.5, [30], {"$gt": 0}, "thirty")
            ]
            await _refuse_all(client, world, t, cases, failures)
        assert failures == []

    async def test_forged_cursor(self, client: httpx.AsyncClient, org: Org) -> None:
        cursors = [
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "x" * 1000,
            "eyJ9",
            "W10",
            "WyJ4Il0",
            "WyJtZW1iZXJzIiwgWzEsIDIsIDMsIDQsIDVdXQ",
            "8J+Sqfg",
        ]
        for cursor in cursors:
            for url in ("/api/v1/members", "/api/v1/reports", "/api/v1/audit-events"):
                r = await client.get(url, params={"cursor": cursor}, headers=org.admin_h)
                assert summary(r) == "422 invalid_cursor", (url, cursor, r.text)
                assert_safe_response(r, *MARKUP)


# Datetimes at the edges of the calendar: valid RFC 3339, but their conversion to UTC
# leaves the range of Python's datetime (year 1 at +14:00, year 9999 at -14:00). Date-times
# are accepted from 1900 to 9000 (UTC) only (api/schemas/common.py).
EDGE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
QUERY_TIMES = [
    ("/api/v1/reports", "from"),
    ("/api/v1/reports", "to"),
    ("/api/v1/audit-events", "from"),
    ("/api/v1/stats/compliance", "from"),
    ("/api/v1/stats/compliance", "to"),
    ("/api/v1/stats/reports", "to"),
]


class TestEdgeDatetimes:
    @pytest.mark.parametrize(("url", "param"), QUERY_TIMES)
    async def test_query_bounds(
        self, client: httpx.AsyncClient, org: Org, url: str, param: str
    ) -> None:
        for value in EDGE_TIMES:
            r = await client.get(url, params={param: value}, headers=org.admin_h)
            assert summary(r) == "422 validation_failed", (value, r.text)

    async def test_query_bounds_within_the_range_are_fine(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        for url, param in QUERY_TIMES[:5]:
            for value in ("1900-01-01T00:00:00Z", "8999-12-31T23:59:59Z"):
                r = await client.get(url, params={param: value}, headers=org.admin_h)
                assert r.status_code == 200, (url, param, value, r.text)
            for value in ("1899-12-31T23:59:59Z", "9000-01-01T00:00:00Z"):
                r = await client.get(url, params={param: value}, headers=org.admin_h)
                assert summary(r) == "422 validation_failed", (url, param, value, r.text)

    @pytest.mark.parametrize("field", ["documents.ack_due_at", "reports.observed_at"])
    async def test_body_fields(self, client: httpx.AsyncClient, org: Org, field: str) -> None:
        bodies = {
            "documents.ack_due_at": (
                "/api/v1/documents",
                org.admin_h,
                {
                    "code": "HD-1",
                    "title": "Hướng dẫn",
                    "doc_type": "guidance",
                    "issuer": "Ban",
                    "issued_on": "2026-01-05",
                    "audience_unit_id": str(org.a1.id),
                },
            ),
            "reports.observed_at": ("/api/v1/reports", org.member_h, report_body()),
        }
        url, headers, body = bodies[field]
        name = field.split(".")[1]
        before = await fingerprint()
        for value in EDGE_TIMES:
            r = await client.post(url, json={**body, name: value}, headers=headers)
            assert summary(r) == "422 validation_failed", (value, r.text)
        assert diff(before, await fingerprint()) == {}


class TestLoadedBeforeValidated:
    """docs/architecture.md, "Loaders": an id that a loader (api/loaders.py) cannot load
    answers 404 before the body is validated (the object does not exist for the caller);
    a malformed If-Match is still answered first (412)."""

    async def test_unknown_object_with_an_invalid_body_is_404(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        cases = [
            ("POST", "/api/v1/reports/{id}/transitions", {"to": "nowhere"}),
            ("POST", "/api/v1/units/{id}/merge", {"into_unit_id": "not-a-uuid"}),
            ("PATCH", "/api/v1/documents/{id}", {"requires_ack": "maybe"}),
            ("POST", "/api/v1/accounts/{id}/reject", {}),
        ]
        failures = []
        for method, path, body in cases:
            url = path.format(id=uuid.uuid4())
            r = await client.request(method, url, json=body, headers=org.admin_h)
            assert_safe_response(r)
            if summary(r) != "404 not_found":
                failures.append(f"{method} {path}: {summary(r)}")
        assert failures == []

    async def test_a_malformed_if_match_answers_before_the_loader(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.patch(
            f"/api/v1/units/{uuid.uuid4()}", json={}, headers={**org.admin_h, "If-Match": "x"}
        )
        assert summary(r) == "412 version_mismatch"

    async def test_a_body_that_is_not_json_answers_before_the_loader(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        # FastAPI reads the JSON body before it runs any dependency.
        r = await client.patch(
            f"/api/v1/units/{uuid.uuid4()}",
            content=b"{not json",
            headers={**org.admin_h, "Content-Type": "application/json"},
        )
        assert summary(r) == "400 invalid_json"
