"""The generated authorization matrix: for every route of `app.routes`, every role and
every position of the object it names, the exact status (and problem code) that
`tests/authz/table.py` computes. One test per route: the organisation is built once and
the cases run in turn (a fresh object for each case expected to change one), mismatches
are collected and shown together as (role, position, expected, got).

Beyond the status, every answer: carries the security headers; has a status the OpenAPI
document lists for the operation; a read of one object answers with that object; a list
shows exactly what the caller's scope allows of the seeded objects; and a refused write
leaves everything stored as it was (every table, the version sums, the file store: the
fingerprint of tests/support/reads.py). Hand-written role tables elsewhere check only
what this cannot (response bodies, what a success changed, exact list contents)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi import routing as fastapi_routing

from api.core.errors import PROBLEM_MEDIA_TYPE
from api.main import PUBLIC_PATHS, create_app
from api.services.authz import ROLE_ACTIONS
from tests.authz.table import (
    ENTRIES,
    PUBLIC,
    ROLES,
    SCOPES,
    SPEC_ROLE_ACTIONS,
    Entry,
    Expect,
    Who,
)
from tests.authz.targets import Matrix, Target, build_matrix
from tests.support.reads import diff, fingerprint

CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 422: "validation_failed"}


def routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route, included routers flattened; HEAD is the
    GET it comes with."""
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    found = iterate(app.routes) if iterate else app.routes
    return {
        (method, getattr(r, "path", ""))
        for r in found
        for method in (getattr(r, "methods", None) or ())
        if method != "HEAD"
    }


def table_gaps(app: FastAPI) -> tuple[list[str], list[str]]:
    """(routes without an entry, entries without a route), as 'METHOD path'."""
    app_routes = routes(app)
    listed = {e.key for e in ENTRIES} | {(p.method, p.path) for p in PUBLIC}
    missing = sorted(f"{m} {p}" for m, p in app_routes - listed)
    stale = sorted(f"{m} {p}" for m, p in listed - app_routes)
    return missing, stale


class TestTable:
    def test_every_route_has_an_entry_and_every_entry_a_route(self, app: FastAPI) -> None:
        missing, stale = table_gaps(app)
        assert missing == [], "routes missing from tests/authz/table.py (ENTRIES or PUBLIC)"
        assert stale == [], "entries of tests/authz/table.py that no route serves"

    def test_a_new_route_without_an_entry_is_reported(self) -> None:
        probe = create_app()
        extra = APIRouter(prefix="/api/v1/extra")

        @extra.post("/{thing_id}/poke")
        async def poke(thing_id: str) -> dict[str, str]:
            return {}

        probe.include_router(extra)
        assert table_gaps(probe) == (["POST /api/v1/extra/{thing_id}/poke"], [])

    def test_public_entries_are_exactly_the_public_paths(self, app: FastAPI) -> None:
        public = {(p.method, p.path) for p in PUBLIC}
        assert {p for _, p in public} == PUBLIC_PATHS
        assert {(m, p) for m, p in routes(app) if p in PUBLIC_PATHS} == public
        assert not {e.path for e in ENTRIES} & PUBLIC_PATHS

    def test_one_entry_per_route_and_variant(self) -> None:
        ids = [e.id for e in ENTRIES]
        assert len(ids) == len(set(ids))

    def test_each_entry_has_one_success_status(self) -> None:
        def successes(e: Entry) -> set[int]:
            return {_status(e.expected(who, at)) for who, at in e.cases()} & set(range(200, 300))

        assert {e.id: successes(e) for e in ENTRIES if successes(e) - {e.ok}} == {}

    def test_role_actions_are_spec_section_4(self) -> None:
        assert ROLE_ACTIONS == SPEC_ROLE_ACTIONS


async def test_public_routes_need_no_token(client: httpx.AsyncClient) -> None:
    w = await build_matrix(client)
    got = {}
    for p in PUBLIC:
        r = await client.request(p.method, p.path, **(p.send(w) if p.send else {}))
        got[f"{p.method} {p.path}"] = r.status_code
        assert _headers(r, ROLES[-1]) is None, (p.path, r.headers)
    assert got == {f"{p.method} {p.path}": p.status for p in PUBLIC}


# --------------------------------------------------------------------------- the matrix


def _headers(r: httpx.Response, who: Who) -> str | None:
    """Security headers on every response; authenticated answers are never cached."""
    if r.headers.get("x-content-type-options") != "nosniff":
        return "no X-Content-Type-Options: nosniff"
    if r.headers.get("referrer-policy") != "no-referrer":
        return "no Referrer-Policy: no-referrer"
    if who.kind is not None and r.headers.get("cache-control") != "no-store":
        return f"authenticated answer with Cache-Control {r.headers.get('cache-control')!r}"
    return None


def _verdict(r: httpx.Response, expect: Expect) -> str | None:
    """None when the response is exactly what was expected, else what differs."""
    status, code = (expect, CODES.get(expect)) if isinstance(expect, int) else expect
    if r.status_code != status:
        return f"got {r.status_code} {r.text[:160]}"
    if status < 400:
        return None
    if not r.headers.get("content-type", "").startswith(PROBLEM_MEDIA_TYPE):
        return f"not a problem document: {r.headers.get('content-type')}"
    if (got := r.json().get("code")) != code:
        return f"problem code {got!r}, expected {code!r}"
    if status == 401 and not r.headers.get("www-authenticate", "").startswith("Bearer"):
        return "401 without WWW-Authenticate: Bearer"
    return None


async def _send(
    client: httpx.AsyncClient, entry: Entry, w: Matrix, who: Who, t: Target
) -> httpx.Response:
    request: dict[str, Any] = entry.send(w, t) if entry.send else {}
    url = entry.path.format(**t.ids)
    return await client.request(entry.method, url, headers=w.headers(who.name), **request)


async def _seed(w: Matrix, entry: Entry) -> dict[str, str]:
    """For a list: object id → position name of one object of `entry.seed` per scope
    position."""
    if entry.seed is None:
        return {}
    seeded = {}
    for at in SCOPES:
        t = await w.target(entry.seed, "", at, ROLES[0], fresh=False)
        seeded[next(iter(t.ids.values()))] = at.name
    return seeded


def _scoped_list(entry: Entry, who: Who, seeded: dict[str, str], r: httpx.Response) -> str | None:
    """Scope in the query: an admin lists every seeded object, anybody else none of those
    at the entry's hidden positions."""
    listed = {item["id"] for item in r.json()["items"]}
    if who.admin:
        missing = sorted(place for ident, place in seeded.items() if ident not in listed)
        return f"the list misses the objects at {missing}" if missing else None
    hidden = {at.name for at in entry.hidden}
    leaked = sorted(place for ident, place in seeded.items() if ident in listed and place in hidden)
    return f"the list shows the objects at {leaked}" if leaked else None


def _status(expect: Expect) -> int:
    return expect if isinstance(expect, int) else expect[0]


def _show(cases: Iterable[tuple[str, str, Expect, str]]) -> str:
    return "\n".join(
        f"  {role:<9} {place:<9} expected {expect!s:<24} {why}"
        for role, place, expect, why in cases
    )


def _documented(app: FastAPI, entry: Entry, r: httpx.Response) -> str | None:
    """The status is one the OpenAPI document lists for the operation."""
    responses = app.openapi()["paths"][entry.path][entry.method.lower()]["responses"]
    return None if str(r.status_code) in responses else f"{r.status_code} is not documented"


def _same_object(entry: Entry, t: Target, r: httpx.Response) -> str | None:
    """A read of one object answers with that object (the last id of the path)."""
    if entry.method != "GET" or not entry.path.endswith("}") or not t.ids:
        return None
    if not r.headers.get("content-type", "").startswith("application/json"):
        return None
    name = entry.path.rsplit("{", 1)[1].rstrip("}")
    got = r.json().get("id") if isinstance(r.json(), dict) else None
    return None if got is None or got == t.ids.get(name) else f"answered with {got}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
async def test_route(app: FastAPI, client: httpx.AsyncClient, entry: Entry) -> None:
    w = await build_matrix(client)
    seeded = await _seed(w, entry)
    wrong: list[tuple[str, str, Expect, str]] = []
    known: list[tuple[str, str, Expect, str]] = []
    for who, at in entry.cases():
        expect = entry.expected(who, at)
        refused = _status(expect) >= 400
        t = await w.target(entry.target, entry.state, at, who, fresh=entry.mutates and not refused)
        stored = await fingerprint() if entry.mutates and refused else None
        r = await _send(client, entry, w, who, t)
        why = _verdict(r, expect) or _headers(r, who) or _documented(app, entry, r)
        if why is None and not refused:
            why = _same_object(entry, t, r)
        if why is None and not refused and entry.check is not None:
            why = entry.check(who, at, r)
        if why is None and not refused and seeded:
            why = _scoped_list(entry, who, seeded, r)
        if why is None and stored is not None and (wrote := diff(stored, await fingerprint())):
            why = f"refused, but it wrote {sorted(wrote)}"
        if refused and r.status_code < 400:
            w.forget(entry.target, entry.state, at, who)
        if why is not None:
            (known if (who.name, at.name) in entry.bugs else wrong).append(
                (who.name, at.name, expect, why)
            )
    fixed = sorted(set(entry.bugs) - {(role, place) for role, place, _, _ in known})
    if wrong:
        pytest.fail(
            f"{entry.id}: {len(wrong)} case(s) answer otherwise\n{_show(wrong)}", pytrace=False
        )
    if fixed:
        pytest.fail(
            f"{entry.id}: known bugs no longer reproduce, drop them: {fixed}", pytrace=False
        )
    if known:
        pytest.xfail(f"{entry.id}: known authorization bug(s)\n{_show(known)}")
