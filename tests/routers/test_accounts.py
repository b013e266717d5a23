"""Declared social accounts (SPEC §5 "Declared social accounts"), one class per concern:
the role × scope matrix of every route, declaration consistency, canonical duplicates,
concurrency, the state table, If-Match, Idempotency-Key, audit, list filters and /me."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import AccountStatus, Declaration, Role
from api.models import Account, AuditEvent, Member
from tests.support.factories import auth, make_account, make_member, make_user
from tests.support.problems import assert_problem, assert_status
from tests.support.reads import audit_actions, count_rows, fetch, walk
from tests.support.world import ROLES, Org, build_org

ACCOUNTS = "/api/v1/accounts"
FB = "https://www.facebook.com/some.user"
FB_KEY = "facebook:user:someuser"
S = AccountStatus


def accounts_of(member_id: uuid.UUID) -> str:
    return f"/api/v1/members/{member_id}/accounts"


def declaration_of(member_id: uuid.UUID) -> str:
    return f"/api/v1/members/{member_id}/declaration"


def action_url(account_id: uuid.UUID, action: str) -> str:
    return f"{ACCOUNTS}/{account_id}/{action}"


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


@pytest.fixture
async def people(session: AsyncSession, org: Org) -> dict[str, Member]:
    """`me` (the member user's record, A1), a `peer` in A1 and `b` in B1."""
    return {
        "me": org.me,
        "peer": await make_member(session, org.a1, full_name="Trần Văn Bình"),
        "b": await make_member(session, org.b1, full_name="Vũ Thị Dung"),
    }


async def declare(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    member_id: uuid.UUID,
    url: str = FB,
    **extra: Any,
) -> httpx.Response:
    return await client.post(accounts_of(member_id), json={"url": url, **extra}, headers=headers)


async def member_state(member_id: uuid.UUID) -> tuple[Declaration, bool]:
    """(declaration, declared_at is set) as committed."""
    m = await fetch(Member, member_id)
    return m.declaration, m.declared_at is not None


async def writes() -> tuple[int, int, int]:
    """Rows that a denied request must not add or change: accounts, audit events and
    accounts that are no longer pending."""
    return (
        await count_rows(Account),
        await count_rows(AuditEvent),
        await count_rows(Account, Account.status != S.pending),
    )


# ---------------------------------------------------------------------------------------
# Role × scope matrix
# ---------------------------------------------------------------------------------------

OK = 0
TARGETS = ("me", "peer", "b")  # own record (A1), another member in A1, a member in B1
# role -> expected outcome for targets (me, peer, b); OK means the route's success status.
MEMBER_WRITE = {
    "admin": (OK, OK, OK),
    "manager_a": (OK, OK, 404),
    "manager_b": (404, 404, OK),
    "reviewer_a": (403, 403, 404),
    "member": (OK, 404, 404),
    "partner_a": (403, 403, 404),  # sees the member, has no account rights
    "analyst_a": (404, 404, 404),
    "anon": (401, 401, 401),
}
MEMBER_READ = {**MEMBER_WRITE, "reviewer_a": (OK, OK, 404)}
ACCOUNT_READ = {**MEMBER_READ, "partner_a": (404, 404, 404)}
ACCOUNT_WRITE = {**ACCOUNT_READ, "reviewer_a": (403, 403, 404)}
ACCOUNT_VERIFY = {**ACCOUNT_WRITE, "member": (403, 404, 404)}  # never the owner
# name -> (method, on member or account, body, matrix, success status)
ROUTES: dict[str, tuple[str, str, Any, dict[str, tuple[int, int, int]], int]] = {
    "declare": ("POST", "member", {"url": FB}, MEMBER_WRITE, 201),
    "list_for_member": ("GET", "member", None, MEMBER_READ, 200),
    "declaration": ("POST", "member", {"has_accounts": False}, MEMBER_WRITE, 200),
    "get": ("GET", "account", None, ACCOUNT_READ, 200),
    "update": ("PATCH", "account", {"purpose": "work"}, ACCOUNT_WRITE, 200),
    "verify": ("POST", "account", {"note": "ok"}, ACCOUNT_VERIFY, 200),
    "reject": ("POST", "account", {"note": "not theirs"}, ACCOUNT_VERIFY, 200),
    "close": ("POST", "account", None, ACCOUNT_WRITE, 200),
    "compromised": ("POST", "account", None, ACCOUNT_WRITE, 200),
}
NEW_STATUS = {
    "verify": "verified",
    "reject": "rejected",
    "close": "closed",
    "compromised": "compromised",
    "update": "pending",
}


class TestRoleMatrix:
    @pytest.mark.parametrize("role", ROLES)
    @pytest.mark.parametrize("route", list(ROUTES))
    async def test_route(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        people: dict[str, Member],
        route: str,
        role: str,
    ) -> None:
        method, on, body, matrix, success = ROUTES[route]
        for target, expected in zip(TARGETS, matrix[role], strict=True):
            member = people[target]
            # `declaration` needs a member without active accounts; the rest need one.
            account = None
            if route != "declaration":
                account = await make_account(session, member)
            if on == "member":
                url = (
                    accounts_of(member.id) if route != "declaration" else declaration_of(member.id)
                )
            else:
                assert account is not None
                url = f"{ACCOUNTS}/{account.id}"
                if route in ("verify", "reject", "close", "compromised"):
                    url = action_url(account.id, route)
            if route == "declare":
                body = {"url": f"https://www.tiktok.com/@{target}.{role}"}
            before = await writes()
            r = await client.request(method, url, json=body, headers=org.headers(role))
            where = f"{route} by {role} on {target}"
            if expected != OK:
                assert_status(r, expected)
                assert await writes() == before, where
                continue
            assert r.status_code == success, f"{where}: {r.text}"
            data = r.json()
            if route == "declare":
                assert data["member_id"] == str(member.id)
                assert data["canonical_key"] == f"tiktok:handle:{target}.{role}"
                assert await count_rows(Account, Account.member_id == member.id) == 2
            elif route == "list_for_member":
                assert [a["id"] for a in data["items"]] == [str(account.id)], where  # type: ignore[union-attr]
            elif route == "declaration":
                assert data["declaration"] == "declared_none"
                assert await member_state(member.id) == (Declaration.declared_none, True)
            elif route == "get":
                assert data["id"] == str(account.id), where  # type: ignore[union-attr]
                assert r.headers["etag"] == '"1"'
            else:
                assert data["status"] == NEW_STATUS[route], where
                assert (await fetch(Account, account.id)).status == NEW_STATUS[route]  # type: ignore[union-attr]
                assert await count_rows(AuditEvent) > before[1], where

    @pytest.mark.parametrize(
        ("role", "expected"),
        [
            ("admin", {"me", "peer", "b"}),
            ("manager_a", {"me", "peer"}),
            ("manager_b", {"b"}),
            ("reviewer_a", {"me", "peer"}),
            ("member", 403),
            ("partner_a", 403),
            ("analyst_a", 403),
            ("anon", 401),
        ],
    )
    async def test_list_accounts(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        people: dict[str, Member],
        role: str,
        expected: set[str] | int,
    ) -> None:
        ids = {k: str((await make_account(session, m)).id) for k, m in people.items()}
        r = await client.get(ACCOUNTS, headers=org.headers(role))
        if isinstance(expected, int):
            assert_status(r, expected)
        else:
            assert r.status_code == 200, r.text
            assert {a["id"] for a in r.json()["items"]} == {ids[k] for k in expected}

    @pytest.mark.parametrize("action", ["verify", "reject"])
    async def test_owner_who_is_a_manager_may_not_review_own_account(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        people: dict[str, Member],
        action: str,
    ) -> None:
        boss_member = await make_member(session, org.a1, full_name="Nguyễn Văn Bí Thư")
        boss = auth(await make_user(session, member=boss_member, grants=[(Role.manager, org.a)]))
        own = await make_account(session, boss_member)
        peers = await make_account(session, people["peer"])
        body = {"note": "checked"}
        assert_problem(
            await client.post(action_url(own.id, action), json=body, headers=boss), 403, "forbidden"
        )
        assert (await fetch(Account, own.id)).status == S.pending
        assert await audit_actions(own.id) == []
        r = await client.post(action_url(peers.id, action), json=body, headers=boss)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == NEW_STATUS[action]
        assert r.json()["reviewed_by_id"] is not None

    async def test_owner_who_is_a_manager_may_close_and_edit_own_account(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        boss_member = await make_member(session, org.a1, full_name="Nguyễn Văn Bí Thư")
        boss = auth(await make_user(session, member=boss_member, grants=[(Role.manager, org.a)]))
        own = await make_account(session, boss_member)
        r = await client.patch(f"{ACCOUNTS}/{own.id}", json={"display_name": "Hoa"}, headers=boss)
        assert r.status_code == 200, r.text
        r = await client.post(action_url(own.id, "close"), headers=boss)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "closed"

    async def test_unknown_account_is_404(self, client: httpx.AsyncClient, org: Org) -> None:
        missing = uuid.uuid4()
        assert_problem(
            await client.get(f"{ACCOUNTS}/{missing}", headers=org.headers("admin")),
            404,
            "not_found",
        )
        r = await client.post(action_url(missing, "close"), headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")
        r = await declare(client, org.headers("admin"), missing)
        assert_problem(r, 404, "not_found")


# ---------------------------------------------------------------------------------------
# Declaration consistency
# ---------------------------------------------------------------------------------------


class TestDeclaration:
    async def test_declaring_an_account_marks_the_member_declared(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        assert await member_state(org.me.id) == (Declaration.not_declared, False)
        r = await declare(client, org.headers("member"), org.me.id)
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "pending"
        assert r.json()["canonical_key"] == FB_KEY
        assert r.headers["location"] == f"{ACCOUNTS}/{r.json()['id']}"
        assert r.headers["etag"] == '"1"'
        assert await member_state(org.me.id) == (Declaration.declared, True)

    async def test_declaring_none_without_accounts(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.post(
            declaration_of(org.me.id), json={"has_accounts": False}, headers=org.headers("member")
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["member_id"], body["declaration"], body["active_accounts"]) == (
            str(org.me.id),
            "declared_none",
            0,
        )
        assert body["declared_at"] is not None
        assert await member_state(org.me.id) == (Declaration.declared_none, True)

    async def test_declaring_none_with_active_accounts_is_409(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        assert (await declare(client, org.headers("member"), org.me.id)).status_code == 201
        r = await client.post(
            declaration_of(org.me.id), json={"has_accounts": False}, headers=org.headers("member")
        )
        assert_problem(r, 409, "declaration_conflict")
        assert await member_state(org.me.id) == (Declaration.declared, True)

    async def test_has_accounts_without_any_is_409(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.post(
            declaration_of(org.me.id), json={"has_accounts": True}, headers=org.headers("member")
        )
        assert_problem(r, 409, "declaration_conflict")
        assert await member_state(org.me.id) == (Declaration.not_declared, False)

    async def test_has_accounts_confirms_the_declared_ones(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        assert (await declare(client, org.headers("member"), org.me.id)).status_code == 201
        r = await client.post(
            declaration_of(org.me.id), json={"has_accounts": True}, headers=org.headers("member")
        )
        assert r.status_code == 200, r.text
        assert (r.json()["declaration"], r.json()["active_accounts"]) == ("declared", 1)

    @pytest.mark.parametrize(
        "body", [{}, {"has_accounts": "maybe"}, {"has_accounts": False, "x": 1}]
    )
    async def test_bad_declaration_body_is_422(
        self, client: httpx.AsyncClient, org: Org, body: dict[str, Any]
    ) -> None:
        r = await client.post(declaration_of(org.me.id), json=body, headers=org.headers("member"))
        assert_problem(r, 422, "validation_failed")
        assert await member_state(org.me.id) == (Declaration.not_declared, False)

    async def test_declaring_after_declared_none_marks_declared(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        h = org.headers("member")
        r = await client.post(declaration_of(org.me.id), json={"has_accounts": False}, headers=h)
        assert r.status_code == 200
        assert (await declare(client, h, org.me.id)).status_code == 201
        assert await member_state(org.me.id) == (Declaration.declared, True)

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            (None, (Declaration.not_declared, False)),
            ({"declare_none": False}, (Declaration.not_declared, False)),
            ({"declare_none": True}, (Declaration.declared_none, True)),
        ],
    )
    async def test_closing_the_last_active_account(
        self,
        client: httpx.AsyncClient,
        org: Org,
        body: dict[str, Any] | None,
        expected: tuple[Declaration, bool],
    ) -> None:
        h = org.headers("member")
        account_id = (await declare(client, h, org.me.id)).json()["id"]
        r = await client.post(f"{ACCOUNTS}/{account_id}/close", json=body, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "closed"
        assert await member_state(org.me.id) == expected
        got = await client.get("/api/v1/me", headers=h)
        assert got.json()["declaration"] == expected[0].value

    async def test_rejecting_the_last_account_returns_to_not_declared(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        account_id = (await declare(client, org.headers("member"), org.me.id)).json()["id"]
        r = await client.post(
            f"{ACCOUNTS}/{account_id}/reject",
            json={"note": "not hers"},
            headers=org.headers("manager_a"),
        )
        assert r.status_code == 200, r.text
        assert await member_state(org.me.id) == (Declaration.not_declared, False)

    @pytest.mark.parametrize("body", [None, {"declare_none": True}])
    async def test_closing_one_of_two_keeps_declared(
        self, client: httpx.AsyncClient, org: Org, body: dict[str, Any] | None
    ) -> None:
        h = org.headers("member")
        first = (await declare(client, h, org.me.id)).json()["id"]
        assert (await declare(client, h, org.me.id, "https://x.com/hoa")).status_code == 201
        r = await client.post(f"{ACCOUNTS}/{first}/close", json=body, headers=h)
        assert r.status_code == 200, r.text
        assert await member_state(org.me.id) == (Declaration.declared, True)

    async def test_compromised_account_still_counts_as_declared(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        h = org.headers("member")
        account_id = (await declare(client, h, org.me.id)).json()["id"]
        assert (
            await client.post(f"{ACCOUNTS}/{account_id}/compromised", headers=h)
        ).status_code == 200
        assert await member_state(org.me.id) == (Declaration.declared, True)
        r = await client.post(declaration_of(org.me.id), json={"has_accounts": False}, headers=h)
        assert_problem(r, 409, "declaration_conflict")


# ---------------------------------------------------------------------------------------
# Canonical duplicates and input validation
# ---------------------------------------------------------------------------------------


class TestCanonicalDuplicates:
    async def test_same_member_other_url_shape_gets_the_same_account(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        h = org.headers("member")
        first = await declare(client, h, org.me.id, "https://m.facebook.com/Some.User?fbclid=1")
        assert first.status_code == 201, first.text
        again = await declare(client, h, org.me.id, "facebook.com/someuser")
        assert again.status_code == 200, again.text
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["canonical_key"] == FB_KEY
        assert await count_rows(Account) == 1
        assert await audit_actions(uuid.UUID(first.json()["id"])) == ["account.declare"]

    async def test_a_manager_declaring_it_for_the_same_member_gets_it_back(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        first = await declare(client, org.headers("member"), org.me.id)
        again = await declare(client, org.headers("manager_a"), org.me.id, "fb.com/someuser/")
        assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])

    async def test_another_member_is_409(
        self, client: httpx.AsyncClient, org: Org, people: dict[str, Member]
    ) -> None:
        assert (await declare(client, org.headers("member"), org.me.id)).status_code == 201
        r = await declare(
            client, org.headers("manager_a"), people["peer"].id, "facebook.com/someuser"
        )
        assert_problem(r, 409, "duplicate_account")
        r = await declare(
            client, org.headers("admin"), people["b"].id, "https://m.facebook.com/SOME.USER"
        )
        assert_problem(r, 409, "duplicate_account")
        assert await count_rows(Account) == 1
        assert await member_state(people["peer"].id) == (Declaration.not_declared, False)

    @pytest.mark.parametrize(("action", "body"), [("close", None), ("reject", {"note": "no"})])
    async def test_released_account_may_be_declared_by_another_member(
        self,
        client: httpx.AsyncClient,
        org: Org,
        people: dict[str, Member],
        action: str,
        body: dict[str, Any] | None,
    ) -> None:
        first = (await declare(client, org.headers("member"), org.me.id)).json()["id"]
        r = await client.post(
            f"{ACCOUNTS}/{first}/{action}", json=body, headers=org.headers("manager_a")
        )
        assert r.status_code == 200, r.text
        r = await declare(
            client, org.headers("manager_a"), people["peer"].id, "facebook.com/someuser"
        )
        assert r.status_code == 201, r.text
        assert r.json()["member_id"] == str(people["peer"].id)
        assert await count_rows(Account) == 2
        assert await count_rows(Account, Account.claim_key == FB_KEY) == 1
        # ... and the first member cannot take it back while the second holds it.
        assert_problem(
            await declare(client, org.headers("member"), org.me.id), 409, "duplicate_account"
        )

    async def test_handle_with_platform(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(
            accounts_of(org.me.id),
            json={
                "platform": "zalo",
                "handle": "0912 345 678",
                "kind": "profile",
                "purpose": "work",
                "display_name": "Hoa Zalo",
            },
            headers=org.headers("member"),
        )
        assert r.status_code == 201, r.text
        data = r.json()
        assert (data["platform"], data["canonical_key"], data["purpose"], data["display_name"]) == (
            "zalo",
            "zalo:phone:+84912345678",
            "work",
            "Hoa Zalo",
        )

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"url": "https://www.facebook.com/search/top?q=hoa"}, "url"),
            ({"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}, "url"),
            ({"url": "javascript:alert(1)"}, "url"),
            ({"platform": "youtube", "url": "https://www.facebook.com/someuser"}, "url"),
            ({"platform": "zalo", "handle": "12"}, "handle"),
        ],
    )
    async def test_not_an_account_is_422(
        self, client: httpx.AsyncClient, org: Org, body: dict[str, Any], field: str
    ) -> None:
        before = await writes()
        r = await client.post(accounts_of(org.me.id), json=body, headers=org.headers("member"))
        problem = assert_problem(r, 422, "invalid_account_url")
        assert problem["errors"][0]["loc"] == ["body", field]
        assert problem["errors"][0]["msg"]
        assert await writes() == before == (0, before[1], 0)
        assert await member_state(org.me.id) == (Declaration.not_declared, False)

    @pytest.mark.parametrize(
        "body",
        [
            {"platform": "myspace", "url": FB},
            {"url": FB, "handle": "someuser", "platform": "facebook"},
            {"platform": "facebook"},
            {},
            {"url": FB, "status": "verified"},
            {"url": FB, "kind": "friend"},
            {"url": FB, "purpose": "fun"},
            {"url": "x" * 2049},
        ],
    )
    async def test_bad_body_is_422(
        self, client: httpx.AsyncClient, org: Org, body: dict[str, Any]
    ) -> None:
        r = await client.post(accounts_of(org.me.id), json=body, headers=org.headers("member"))
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"]
        assert await count_rows(Account) == 0
        assert await member_state(org.me.id) == (Declaration.not_declared, False)


# ---------------------------------------------------------------------------------------
# Concurrency (PostgreSQL)
# ---------------------------------------------------------------------------------------


class TestConcurrency:
    async def test_twenty_members_race_for_one_account(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, is_postgres: bool
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
        users = []
        for i in range(20):
            member = await make_member(session, org.a1, full_name=f"Đỗ Văn Tranh {i}")
            users.append((member, auth(await make_user(session, member=member))))
        responses = await asyncio.gather(
            *(declare(client, h, m.id, "https://m.facebook.com/Some.User") for m, h in users)
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * 19, [r.text for r in responses]
        for r in responses:
            if r.status_code == 409:
                assert_problem(r, 409, "duplicate_account")
        [winner] = [r.json() for r in responses if r.status_code == 201]
        assert await count_rows(Account) == 1
        assert await count_rows(Account, Account.claim_key.is_not(None)) == 1
        assert await count_rows(Account, Account.claim_key == FB_KEY) == 1
        declared = [m.id for m, _ in users if (await member_state(m.id))[0] is Declaration.declared]
        assert declared == [uuid.UUID(winner["member_id"])]

    async def test_one_member_racing_identical_declarations(
        self, client: httpx.AsyncClient, org: Org, is_postgres: bool
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
        h = org.headers("member")
        responses = await asyncio.gather(*(declare(client, h, org.me.id) for _ in range(5)))
        assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201], [
            r.text for r in responses
        ]
        assert len({r.json()["id"] for r in responses}) == 1
        assert await count_rows(Account) == 1
        assert await count_rows(AuditEvent, AuditEvent.action == "account.declare") == 1
        assert await member_state(org.me.id) == (Declaration.declared, True)

    async def test_one_member_declaring_different_accounts_at_once(
        self, client: httpx.AsyncClient, org: Org, is_postgres: bool
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite has no row locks; the race needs PostgreSQL")
        h = org.headers("member")
        responses = await asyncio.gather(
            *(declare(client, h, org.me.id, f"https://x.com/hoa{i}") for i in range(5))
        )
        assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
        assert await count_rows(Account, Account.member_id == org.me.id) == 5
        assert await member_state(org.me.id) == (Declaration.declared, True)

    @pytest.mark.parametrize("if_match", [None, '"1"'])
    async def test_concurrent_reviews_of_one_account(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        people: dict[str, Member],
        is_postgres: bool,
        if_match: str | None,
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite has no row locks; the race needs PostgreSQL")
        account = await make_account(session, people["peer"])
        h = {**org.headers("manager_a"), **({"If-Match": if_match} if if_match else {})}
        responses = await asyncio.gather(
            *(client.post(action_url(account.id, "verify"), headers=h) for _ in range(5))
        )
        statuses = sorted(r.status_code for r in responses)
        loser = 412 if if_match else 409
        assert statuses == [200] + [loser] * 4, [r.text for r in responses]
        code = "version_mismatch" if if_match else "invalid_transition"
        for r in responses:
            if r.status_code != 200:
                assert_problem(r, loser, code)
        after = await fetch(Account, account.id)
        assert (after.status, after.version) == (S.verified, 2)
        assert await audit_actions(account.id) == ["account.verify"]

    async def test_closing_the_last_two_accounts_at_once(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, is_postgres: bool
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite has no row locks; the race needs PostgreSQL")
        first = await make_account(session, org.me)
        second = await make_account(session, org.me)
        h = org.headers("member")
        responses = await asyncio.gather(
            *(client.post(action_url(a.id, "close"), headers=h) for a in (first, second))
        )
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        assert await member_state(org.me.id) == (Declaration.not_declared, False)


# ---------------------------------------------------------------------------------------
# State table, If-Match, PATCH
# ---------------------------------------------------------------------------------------

ACTIONS = ("verify", "reject", "close", "compromised")
LEGAL = {
    ("verify", S.pending): S.verified,
    ("reject", S.pending): S.rejected,
    ("close", S.pending): S.closed,
    ("close", S.verified): S.closed,
    ("close", S.compromised): S.closed,
    ("close", S.rejected): S.closed,
    ("compromised", S.pending): S.compromised,
    ("compromised", S.verified): S.compromised,
}
CLAIMING = {S.pending, S.verified, S.compromised}
ACTION_BODY: dict[str, Any] = {
    "verify": {"note": "Đã đối chiếu"},
    "reject": {"note": "Không phải của đảng viên"},
    "close": None,
    "compromised": {"note": "Bị chiếm quyền"},
}


class TestStateTable:
    @pytest.mark.parametrize("status", list(S))
    @pytest.mark.parametrize("action", ACTIONS)
    async def test_every_action_from_every_status(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        people: dict[str, Member],
        action: str,
        status: AccountStatus,
    ) -> None:
        account = await make_account(session, people["peer"], FB, status=status)
        r = await client.post(
            action_url(account.id, action),
            json=ACTION_BODY[action],
            headers=org.headers("manager_a"),
        )
        after = await fetch(Account, account.id)
        target = LEGAL.get((action, status))
        if target is None:
            assert_problem(r, 409, "invalid_transition")
            assert (after.status, after.version) == (status, 1)
            assert await audit_actions(account.id) == []
            return
        assert r.status_code == 200, r.text
        assert r.json()["status"] == target.value
        assert r.json()["version"] == 2
        assert r.headers["etag"] == '"2"'
        assert after.status is target
        assert after.claim_key == (FB_KEY if target in CLAIMING else None)
        assert await audit_actions(account.id) == [f"account.{action}"]
        if action in ("verify", "reject"):
            assert r.json()["reviewed_by_id"] == str(org.principals["manager_a"].id)
            assert r.json()["reviewed_at"] is not None
            assert r.json()["review_note"] == ACTION_BODY[action]["note"]

    async def test_verify_without_body(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, people: dict[str, Member]
    ) -> None:
        account = await make_account(session, people["peer"])
        r = await client.post(action_url(account.id, "verify"), headers=org.headers("manager_a"))
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["review_note"]) == ("verified", None)

    @pytest.mark.parametrize(
        "body", [None, {}, {"note": ""}, {"note": "   "}, {"note": "x" * 1001}]
    )
    async def test_reject_requires_a_note(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        people: dict[str, Member],
        body: dict[str, Any] | None,
    ) -> None:
        account = await make_account(session, people["peer"])
        r = await client.post(
            action_url(account.id, "reject"), json=body, headers=org.headers("manager_a")
        )
        assert_problem(r, 422, "validation_failed")
        assert (await fetch(Account, account.id)).status is S.pending

    async def test_action_with_unknown_field_is_422(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, people: dict[str, Member]
    ) -> None:
        account = await make_account(session, people["peer"])
        r = await client.post(
            action_url(account.id, "close"),
            json={"status": "verified"},
            headers=org.headers("manager_a"),
        )
        assert_problem(r, 422, "validation_failed")
        assert (await fetch(Account, account.id)).status is S.pending


class TestIfMatch:
    @pytest.mark.parametrize("action", ["update", *ACTIONS])
    async def test_stale_then_current(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        people: dict[str, Member],
        action: str,
    ) -> None:
        account = await make_account(session, people["peer"])
        h = org.headers("manager_a")
        got = await client.get(f"{ACCOUNTS}/{account.id}", headers=h)
        etag = got.headers["etag"]
        assert etag == '"1"'

        async def send(if_match: str) -> httpx.Response:
            if action == "update":
                return await client.patch(
                    f"{ACCOUNTS}/{account.id}",
                    json={"purpose": "work"},
                    headers={**h, "If-Match": if_match},
                )
            return await client.post(
                action_url(account.id, action),
                json=ACTION_BODY[action],
                headers={**h, "If-Match": if_match},
            )

        for stale in ['"2"', '"0"', "garbage"]:
            assert_problem(await send(stale), 412, "version_mismatch")
        after = await fetch(Account, account.id)
        assert (after.status, after.purpose.value, after.version) == (S.pending, "personal", 1)
        assert await audit_actions(account.id) == []
        r = await send(etag)
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == '"2"'
        assert r.json()["version"] == 2
        assert (await client.get(f"{ACCOUNTS}/{account.id}", headers=h)).headers["etag"] == '"2"'
        if action == "update":
            # The old ETag is now stale.
            assert_problem(await send(etag), 412, "version_mismatch")


class TestUpdate:
    async def test_patch_changes_display_name_kind_purpose(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        account = await make_account(session, org.me)
        body = {"display_name": "Trang của Hoa", "kind": "page", "purpose": "propaganda"}
        r = await client.patch(f"{ACCOUNTS}/{account.id}", json=body, headers=org.headers("member"))
        assert r.status_code == 200, r.text
        assert {k: r.json()[k] for k in body} == body
        assert (r.json()["status"], r.json()["version"]) == ("pending", 2)
        after = await fetch(Account, account.id)
        assert (after.display_name, after.kind.value, after.purpose.value) == (
            "Trang của Hoa",
            "page",
            "propaganda",
        )
        assert await audit_actions(account.id) == ["account.update"]

    async def test_patch_without_change_writes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        account = await make_account(session, org.me)
        r = await client.patch(
            f"{ACCOUNTS}/{account.id}", json={"purpose": "personal"}, headers=org.headers("member")
        )
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 1
        assert await audit_actions(account.id) == []

    @pytest.mark.parametrize(
        "body",
        [
            {"status": "verified"},
            {"status": "closed", "purpose": "work"},
            {"url": "https://facebook.com/other"},
            {"canonical_key": "facebook:user:x"},
            {"kind": "friend"},
            {"kind": None},
            {"purpose": None},
        ],
    )
    async def test_patch_rejects_other_fields(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, body: dict[str, Any]
    ) -> None:
        account = await make_account(session, org.me)
        r = await client.patch(
            f"{ACCOUNTS}/{account.id}", json=body, headers=org.headers("manager_a")
        )
        assert_problem(r, 422, "validation_failed")
        after = await fetch(Account, account.id)
        assert (after.status, after.purpose.value, after.version) == (S.pending, "personal", 1)


# ---------------------------------------------------------------------------------------
# Idempotency-Key
# ---------------------------------------------------------------------------------------


class TestIdempotency:
    async def test_declare_replay_and_mismatch(self, client: httpx.AsyncClient, org: Org) -> None:
        h = {**org.headers("member"), "Idempotency-Key": "declare-1"}
        first = await declare(client, h, org.me.id)
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
        again = await declare(client, h, org.me.id)
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert await count_rows(Account) == 1
        assert await count_rows(AuditEvent, AuditEvent.action == "account.declare") == 1
        r = await declare(client, h, org.me.id, "https://x.com/hoa")
        assert_problem(r, 422, "idempotency_key_mismatch")
        assert await count_rows(Account) == 1

    async def test_declaration_replay_and_mismatch(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        h = {**org.headers("member"), "Idempotency-Key": "none-1"}
        url = declaration_of(org.me.id)
        first = await client.post(url, json={"has_accounts": False}, headers=h)
        assert first.status_code == 200, first.text
        again = await client.post(url, json={"has_accounts": False}, headers=h)
        assert again.status_code == 200
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert await count_rows(AuditEvent, AuditEvent.action == "member.declaration") == 1
        r = await client.post(url, json={"has_accounts": True}, headers=h)
        assert_problem(r, 422, "idempotency_key_mismatch")

    async def test_keys_are_per_principal(self, client: httpx.AsyncClient, org: Org) -> None:
        first = await declare(client, {**org.headers("member"), "Idempotency-Key": "k"}, org.me.id)
        other = await declare(
            client, {**org.headers("manager_a"), "Idempotency-Key": "k"}, org.me.id
        )
        assert (first.status_code, other.status_code) == (201, 200)
        assert "idempotent-replayed" not in other.headers


# ---------------------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------------------


class TestAudit:
    async def test_every_change_is_audited(
        self, client: httpx.AsyncClient, org: Org, people: dict[str, Member]
    ) -> None:
        member, manager = org.headers("member"), org.headers("manager_a")
        account_id = (await declare(client, member, org.me.id)).json()["id"]
        calls = [
            ("PATCH", f"{ACCOUNTS}/{account_id}", {"display_name": "Hoa"}, manager),
            ("POST", f"{ACCOUNTS}/{account_id}/verify", {"note": "ok"}, manager),
            ("POST", f"{ACCOUNTS}/{account_id}/compromised", None, member),
            ("POST", f"{ACCOUNTS}/{account_id}/close", {"declare_none": True}, member),
        ]
        for method, url, body, h in calls:
            r = await client.request(method, url, json=body, headers=h)
            assert r.status_code == 200, (url, r.text)
        assert await audit_actions(uuid.UUID(account_id)) == [
            "account.declare",
            "account.update",
            "account.verify",
            "account.compromised",
            "account.close",
        ]
        second = (await declare(client, member, people["peer"].id)).status_code
        assert second == 404  # a member cannot declare for someone else
        other = (await declare(client, manager, people["peer"].id, "https://x.com/binh")).json()[
            "id"
        ]
        r = await client.post(f"{ACCOUNTS}/{other}/reject", json={"note": "no"}, headers=manager)
        assert r.status_code == 200
        assert await audit_actions(uuid.UUID(other)) == ["account.declare", "account.reject"]
        r = await client.post(
            declaration_of(people["peer"].id), json={"has_accounts": False}, headers=manager
        )
        assert r.status_code == 200
        assert await audit_actions(people["peer"].id) == ["member.declaration"]

    async def test_event_details(self, client: httpx.AsyncClient, org: Org) -> None:
        from sqlalchemy import select

        from api.core.db import db

        account_id = (await declare(client, org.headers("member"), org.me.id)).json()["id"]
        r = await client.post(
            f"{ACCOUNTS}/{account_id}/reject", json={"note": "no"}, headers=org.headers("manager_a")
        )
        assert r.status_code == 200
        async with db.sessionmaker() as s:
            stmt = select(AuditEvent).where(AuditEvent.entity_type == "account")
            events = list((await s.scalars(stmt.order_by(AuditEvent.at, AuditEvent.id))).all())
        declare_event, reject_event = events
        assert declare_event.actor_id == org.principals["member"].id
        assert declare_event.unit_id == org.a1.id
        assert declare_event.entity_type == "account"
        assert declare_event.changes["canonical_key"] == FB_KEY
        assert reject_event.actor_id == org.principals["manager_a"].id
        assert reject_event.changes["status"] == ["pending", "rejected"]
        assert reject_event.changes["member_declaration"] == "not_declared"

    async def test_refused_requests_write_no_event(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        account = await make_account(session, org.me, FB, status=S.closed)
        before = await count_rows(AuditEvent)
        h = org.headers("manager_a")
        assert_problem(
            await client.post(action_url(account.id, "verify"), headers=h),
            409,
            "invalid_transition",
        )
        r = await client.post(declaration_of(org.me.id), json={"has_accounts": True}, headers=h)
        assert_problem(r, 409, "declaration_conflict")
        assert await count_rows(AuditEvent) == before


# ---------------------------------------------------------------------------------------
# GET /api/v1/accounts filters
# ---------------------------------------------------------------------------------------


class TestListFilters:
    @pytest.fixture
    async def spread(
        self, session: AsyncSession, org: Org, people: dict[str, Member]
    ) -> dict[str, str]:
        a2 = await make_member(session, org.a2, full_name="Phạm Văn Cường")
        return {
            "me_fb": str((await make_account(session, org.me, FB)).id),
            "me_yt": str(
                (await make_account(session, org.me, "youtube.com/@hoale", status=S.verified)).id
            ),
            "peer_x": str(
                (await make_account(session, people["peer"], "x.com/binh", status=S.closed)).id
            ),
            "a2_yt": str((await make_account(session, a2, "https://youtube.com/@cuong")).id),
            "b_yt": str(
                (
                    await make_account(session, people["b"], "youtube.com/@dung", status=S.verified)
                ).id
            ),
        }

    async def ids(
        self, client: httpx.AsyncClient, org: Org, role: str = "admin", **params: Any
    ) -> set[str]:
        r = await client.get(ACCOUNTS, params=params, headers=org.headers(role))
        assert r.status_code == 200, r.text
        return {a["id"] for a in r.json()["items"]}

    async def test_unit_filter_includes_subtree(
        self, client: httpx.AsyncClient, org: Org, spread: dict[str, str]
    ) -> None:
        s = spread
        assert await self.ids(client, org, unit_id=str(org.a.id)) == {
            s["me_fb"],
            s["me_yt"],
            s["peer_x"],
            s["a2_yt"],
        }
        assert await self.ids(client, org, unit_id=str(org.a1.id)) == {
            s["me_fb"],
            s["me_yt"],
            s["peer_x"],
        }
        assert await self.ids(client, org, unit_id=str(org.b.id)) == {s["b_yt"]}
        assert await self.ids(client, org, unit_id=str(org.root.id)) == set(s.values())
        assert await self.ids(client, org, unit_id=str(uuid.uuid4())) == set()
        # A unit outside the caller's scope gives nothing, not the other scope's accounts.
        assert await self.ids(client, org, "manager_a", unit_id=str(org.b.id)) == set()
        assert await self.ids(client, org, "manager_b", unit_id=str(org.root.id)) == {s["b_yt"]}

    async def test_platform_and_status(
        self, client: httpx.AsyncClient, org: Org, spread: dict[str, str]
    ) -> None:
        s = spread
        assert await self.ids(client, org, platform="youtube") == {
            s["me_yt"],
            s["a2_yt"],
            s["b_yt"],
        }
        assert await self.ids(client, org, status="verified") == {s["me_yt"], s["b_yt"]}
        assert await self.ids(client, org, status="closed") == {s["peer_x"]}
        assert await self.ids(client, org, "manager_a", platform="youtube", status="verified") == {
            s["me_yt"]
        }
        assert await self.ids(client, org, platform="tiktok") == set()
        for bad in (
            {"platform": "myspace"},
            {"status": "deleted"},
            {"unit_id": "nope"},
            {"limit": 0},
        ):
            r = await client.get(ACCOUNTS, params=bad, headers=org.headers("admin"))
            assert_problem(r, 422, "validation_failed")

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("hoa", {"me_fb", "me_yt"}),
            ("Lê Thị Hoa", {"me_fb", "me_yt"}),
            ("LE THI", {"me_fb", "me_yt"}),
            ("cường", {"a2_yt"}),
            ("binh", {"peer_x"}),
            ("someuser", {"me_fb"}),
            ("%", set()),
            ("nobody", set()),
        ],
    )
    async def test_q(
        self,
        client: httpx.AsyncClient,
        org: Org,
        spread: dict[str, str],
        q: str,
        expected: set[str],
    ) -> None:
        assert await self.ids(client, org, q=q) == {spread[k] for k in expected}

    async def test_pagination_over_120_accounts(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        made = {
            str((await make_account(session, org.me, f"https://www.tiktok.com/@hoa{i}")).id)
            for i in range(120)
        }
        pages = await walk(client, ACCOUNTS, org.headers("manager_a"), limit=50)
        assert [len(p) for p in pages] == [50, 50, 20]
        ids = [a["id"] for p in pages for a in p]
        assert len(ids) == len(set(ids)) == 120
        assert set(ids) == made
        stamps = [(a["created_at"], a["id"]) for p in pages for a in p]
        assert stamps == sorted(stamps)
        member_pages = await walk(client, accounts_of(org.me.id), org.headers("member"), limit=50)
        assert [len(p) for p in member_pages] == [50, 50, 20]
        assert [a["id"] for p in member_pages for a in p] == ids

    async def test_member_only_user_may_not_list(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await make_account(session, org.me)
        assert_problem(await client.get(ACCOUNTS, headers=org.headers("member")), 403, "forbidden")
        r = await client.get(
            ACCOUNTS, params={"unit_id": str(org.a1.id)}, headers=org.headers("member")
        )
        assert_problem(r, 403, "forbidden")


# ---------------------------------------------------------------------------------------
# GET /api/v1/me
# ---------------------------------------------------------------------------------------


class TestMe:
    async def test_me_lists_own_accounts(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, people: dict[str, Member]
    ) -> None:
        h = org.headers("member")
        r = await client.get("/api/v1/me", headers=h)
        assert r.json()["accounts"] == []
        first = (await declare(client, h, org.me.id)).json()
        second = (await declare(client, h, org.me.id, "https://youtube.com/@hoale")).json()
        closed = await make_account(session, org.me, "x.com/hoa", status=S.closed)
        await make_account(session, people["peer"], "x.com/binh")
        r = await client.get("/api/v1/me", headers=h)
        assert r.status_code == 200, r.text
        accounts = r.json()["accounts"]
        assert [a["id"] for a in accounts] == [first["id"], second["id"], str(closed.id)]
        assert accounts[0]["canonical_key"] == FB_KEY
        assert accounts[2]["status"] == "closed"
        assert r.json()["declaration"] == "declared"


class TestSearchByPageName:
    """Issue 14, finding 12: `?q=` matched keys and member names but not `display_name`,
    so a manager could not find a fan page by its title."""

    async def test_the_title_is_searched_without_diacritics_and_follows_edits(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        h = org.headers("manager_a")
        r = await client.post(
            accounts_of(org.me.id),
            json={
                "url": "https://www.facebook.com/trangtin.dh2026",
                "kind": "page",
                "display_name": "Trang tin Xã Đông Hòa",
                "purpose": "propaganda",
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
        account = r.json()

        async def found(q: str) -> bool:
            page = await client.get(ACCOUNTS, params={"q": q}, headers=h)
            assert page.status_code == 200, page.text
            return account["id"] in {a["id"] for a in page.json()["items"]}

        assert await found("xa dong hoa")
        assert await found("TRANG TIN XÃ ĐÔNG")
        assert not await found("tan dinh")
        r = await client.patch(
            f"{ACCOUNTS}/{account['id']}",
            json={"display_name": "Fanpage Chi bộ Tân Định"},
            headers=h,
        )
        assert r.status_code == 200, r.text
        assert await found("chi bo tan dinh")
        assert not await found("dong hoa")
        r = await client.patch(
            f"{ACCOUNTS}/{account['id']}", json={"display_name": None}, headers=h
        )
        assert r.status_code == 200, r.text
        assert not await found("tan dinh")

    async def test_out_of_scope_pages_stay_hidden(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        b_member = await make_member(session, org.b1, full_name="Vũ Thị Dung")
        await make_account(
            session,
            b_member,
            "https://www.facebook.com/trangb.2026",
            display_name="Trang tin Phường Bến Nghé",
        )
        await session.commit()
        r = await client.get(ACCOUNTS, params={"q": "ben nghe"}, headers=org.headers("manager_a"))
        assert r.json()["items"] == []
        r = await client.get(ACCOUNTS, params={"q": "ben nghe"}, headers=org.headers("admin"))
        assert len(r.json()["items"]) == 1
