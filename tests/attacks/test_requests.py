"""Hostile paths, query strings and headers: traversal, NUL and code in any path
parameter of any route are 404 (never a file, never a 5xx), NUL in a query is refused
before any handler, and hostile headers are refused or ignored, never reflected. Also
the places where a problem once echoed the caller's input."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.attacks.writes import MARKUP
from tests.support.factories import report_body
from tests.support.problems import assert_safe_response, summary
from tests.support.reads import diff, fingerprint
from tests.support.world import Org, World, build_org, build_world


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await build_world(client, objects=True)


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route with a path parameter."""
    from fastapi import routing as fastapi_routing

    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    routes = iterate(app.routes) if iterate else app.routes
    return sorted(
        (method, str(getattr(r, "path", "")))
        for r in routes
        if "{" in str(getattr(r, "path", ""))
        for method in (getattr(r, "methods", None) or ())
        if method != "HEAD"
    )


# Path segments as sent (percent-encoded): the server decodes them before routing.
PATH_ATTACKS = {
    "traversal": "..%2F..%2F..%2Fetc%2Fpasswd",
    "dot_dot": "%2e%2e",
    "backslashes": "..%5C..%5Cwindows%5Cwin.ini",
    "absolute": "%2Fetc%2Fpasswd",
    "nul": "abc%00def",
    "nul_after_an_id": f"{uuid.uuid4()}%00",
    "script": "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "sql": "%27%20OR%201%3D1%20--",
    "negative": "-1",
    "huge": "9" * 40,
    "invalid_utf8": "%ff%fe",
    "uuid_with_spaces": f"%20{uuid.uuid4()}%20",
}


class TestPathParameters:
    async def test_every_parameter_of_every_route(
        self, app: FastAPI, client: httpx.AsyncClient, world: World
    ) -> None:
        """404 `not_found` (a malformed id names nothing), or a 422 when the body is
        invalid too, or a required query parameter (an export's `format`) is missing (the
        errors then name both); nothing written, nothing echoed."""
        routes = _routes(app)
        assert len(routes) >= 40
        before = await fingerprint()
        failures = []
        for method, template in routes:
            params = re.findall(r"\{([^}]+)\}", template)
            for param in params:
                for label, segment in PATH_ATTACKS.items():
                    url = template.replace("{" + param + "}", segment)
                    url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), url)
                    body = None if method in ("GET", "DELETE") else b"{}"
                    r = await client.request(
                        method,
                        url,
                        content=body,
                        headers={**world.admin_h, "Content-Type": "application/json"},
                    )
                    assert_safe_response(r, *MARKUP)
                    got = summary(r)
                    locs = {e["loc"][0] for e in r.json().get("errors") or []}
                    if got == "422 validation_failed" and locs in (
                        {"path", "body"},
                        {"path", "query"},
                    ):
                        continue
                    if got != "404 not_found":
                        failures.append(f"{method} {template} {param}={label}: {got} {locs}")
        assert failures == []
        assert diff(before, await fingerprint()) == {}

    async def test_no_file_is_served_from_a_path(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        """The download routes take ids, never names: a traversal reaches no file."""
        for url in (
            f"/api/v1/documents/{PATH_ATTACKS['traversal']}/file",
            f"/api/v1/reports/{world.ids['report']}/evidence/{PATH_ATTACKS['traversal']}",
            f"/api/v1/reports/{world.ids['report']}/evidence/..%2F..%2F..%2Fdata%2Ffiles",
        ):
            r = await client.get(url, headers=world.member_h)
            assert summary(r) == "404 not_found", (url, r.text)
            assert "root:" not in r.text


NUL_QUERIES = [
    ("GET", "/api/v1/members?q=a%00b"),
    ("GET", "/api/v1/members?cursor=%00"),
    ("GET", "/api/v1/reports?limit=1%00"),
    ("GET", "/api/v1/units?q=%00%27%20OR%201%3D1"),
    ("POST", "/api/v1/roster/syncs?mode=upsert&scope_unit_code=A%00"),
    ("POST", "/api/v1/members?x=%00"),
]


class TestQueryStrings:
    async def test_nul_is_refused_before_any_handler(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        before = await fingerprint()
        body = {"full_name": "x", "unit_id": str(world.org.a1.id), "membership": "official"}
        for method, url in NUL_QUERIES:
            headers = world.org.headers("partner_a") if "roster" in url else world.admin_h
            r = await client.request(
                method, url, headers=headers, json=body if method == "POST" else None
            )
            assert summary(r) == "422 validation_failed", (url, r.text)
            assert r.json()["errors"][0]["loc"] == ["query"]
        assert diff(before, await fingerprint()) == {}

    async def test_undecodable_escapes_are_replaced_not_fatal(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        """Invalid UTF-8 in a query becomes U+FFFD: an ordinary search that finds nothing
        (no 500 from the driver on PostgreSQL)."""
        for q in ("%ff%fe", "%ED%A0%80", "%C0%AF", "%F4%90%80%80"):
            for url in ("/api/v1/members", "/api/v1/users", "/api/v1/documents"):
                r = await client.get(f"{url}?q={q}", headers=world.admin_h)
                assert r.status_code == 200, (url, q, r.text)
                assert r.json()["items"] == []


def _raw(base: dict[str, str], extra: dict[str, bytes]) -> list[tuple[bytes, bytes]]:
    """Headers as bytes, so that values can hold any byte (NUL included)."""
    return [(k.encode(), v.encode()) for k, v in base.items()] + [
        (k.encode(), v) for k, v in extra.items()
    ]


class TestHeaders:
    async def test_bad_idempotency_key_is_refused(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        before = await fingerprint()
        for key in (b"k\x00", b"x" * 256, "kh\u00f3a".encode(), b"' OR 1=1 --", b"", b"a\tb"):
            r = await client.post(
                "/api/v1/reports",
                json=report_body(),
                headers=_raw(world.member_h, {"Idempotency-Key": key}),
            )
            assert summary(r) == "422 validation_failed", (key, r.text)
            assert r.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
        assert diff(before, await fingerprint()) == {}

    async def test_bad_if_match_is_412(self, client: httpx.AsyncClient, world: World) -> None:
        before = await fingerprint()
        for if_match in (b'"1"\x00', b"' OR 1=1 --", b'"9999999999999"', b'W/"-1"', b'"1", "2"'):
            r = await client.patch(
                f"/api/v1/members/{world.ids['member']}",
                json={"position": "Bí thư"},
                headers=_raw(world.admin_h, {"If-Match": if_match}),
            )
            assert summary(r) == "412 version_mismatch", (if_match, r.text)
        assert diff(before, await fingerprint()) == {}

    async def test_json_sent_as_something_else_is_refused(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        before = await fingerprint()
        body = f'{{"full_name":"An","unit_id":"{world.org.a1.id}","membership":"official"}}'
        for content_type in (
            b"application/json\x00",
            b"text/html",
            b"application/xml",
            b"application/x-www-form-urlencoded",
            b"multipart/form-data; boundary=<script>",
        ):
            r = await client.post(
                "/api/v1/members",
                content=body.encode(),
                headers=_raw(world.admin_h, {"Content-Type": content_type}),
            )
            assert summary(r) == "422 validation_failed", (content_type, r.text)
            assert_safe_response(r, *MARKUP)
        assert diff(before, await fingerprint()) == {}

    async def test_hostile_request_id_and_language_are_not_reflected(
        self, client: httpx.AsyncClient
    ) -> None:
        for value in (b"a\x00b", b"<script>", b"' OR 1=1 --", b"x" * 5000):
            r = await client.get(
                "/api/v1/nowhere",
                headers=_raw({}, {"X-Request-ID": value, "Accept-Language": value}),
            )
            assert summary(r) == "404 not_found"
            assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
            assert r.json()["request_id"] == r.headers["x-request-id"]
            assert r.headers["content-language"] in ("vi", "en")
            assert value.decode("latin-1") not in r.text


class TestProblemsEchoNoMarkup:
    """A problem's `title` and `detail` are shown to people (the clients render them in
    alerts); none should carry the caller's markup. `assert_safe_response` checks this
    on every refusal above; these are the places where it does not hold yet."""

    async def test_instance_is_a_uri_reference(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(f"/api/v1/members/{PATH_ATTACKS['script']}", headers=org.admin_h)
        assert summary(r) == "404 not_found"
        assert re.fullmatch(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*", r.json()["instance"])

    @pytest.mark.parametrize(
        ("url", "who"), [("/api/v1/reports", "member"), ("/members/{me}/accounts", "member")]
    )
    async def test_refused_link_detail(
        self, client: httpx.AsyncClient, org: Org, url: str, who: str
    ) -> None:
        path = url if url.startswith("/api") else "/api/v1" + url.format(me=org.me.id)
        body = (
            report_body(url="<script>alert(1)</script>")
            if "reports" in url
            else {"url": "https://<script>alert(1)</script>/x"}
        )
        r = await client.post(path, json=body, headers=org.member_h)
        assert r.status_code == 422, r.text
        assert_safe_response(r, *MARKUP)

    @pytest.mark.parametrize("case", ["unknown_field", "content_type"])
    async def test_roster_detail(self, client: httpx.AsyncClient, org: Org, case: str) -> None:
        body, content_type = {
            "unknown_field": (
                b'{"mode": "upsert", "<script>alert(1)</script>": 1}',
                "application/json",
            ),
            "content_type": (b"{}", "text/<script>alert(1)</script>"),
        }[case]
        r = await client.post(
            "/api/v1/roster/syncs",
            content=body,
            headers={**org.partner_h, "Content-Type": content_type},
        )
        assert r.status_code in (415, 422), r.text
        assert_safe_response(r, *MARKUP)

    async def test_lists_and_reads_are_json_whatever_the_data(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        """Stored markup comes back as JSON data only, with nosniff: never as HTML."""
        r = await client.post(
            "/api/v1/members",
            json={
                "full_name": "<script>alert(1)</script>",
                "unit_id": str(world.org.a1.id),
                "membership": "official",
            },
            headers={**world.admin_h, "Accept": "text/html"},
        )
        assert r.status_code == 201, r.text
        for url in (
            "/api/v1/members",
            f"/api/v1/members/{r.json()['id']}",
            "/api/v1/members?q=%3Cscript%3E",
        ):
            got = await client.get(url, headers={**world.admin_h, "Accept": "text/html"})
            assert got.status_code == 200
            assert_safe_response(got)
            assert "<script>alert(1)</script>" in got.text
