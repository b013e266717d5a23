"""POST /api/v1/auth/token, POST /api/v1/auth/revoke, GET /api/v1/auth/me and the
invalidation of outstanding tokens (SPEC §4)."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid

import httpx
import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.db import db
from api.core.enums import MemberStatus, Role
from api.models import RefreshToken, Unit, User
from tests.support.factories import (
    PASSWORD,
    TOKEN_URL,
    auth,
    login,
    make_client,
    make_member,
    make_unit,
    make_user,
)
from tests.support.problems import assert_problem, assert_unauthorized
from tests.support.reads import count_rows
from tests.support.world import build_org


def _claims(token: str) -> dict[str, object]:
    s = get_settings()
    return jwt.decode(
        token, s.secret_key, algorithms=["HS256"], audience=s.jwt_audience, issuer=s.jwt_issuer
    )


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": token}
    )


async def _family_rows(token: str) -> list[RefreshToken]:
    family = _claims(token)["fam"]
    async with db.sessionmaker() as s:
        return list(
            (await s.scalars(select(RefreshToken).where(RefreshToken.family_id == family))).all()
        )


class TestPasswordGrant:
    async def test_success_returns_access_refresh_and_scope(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        unit = await make_unit(session)
        member = await make_member(session, unit)
        user = await make_user(
            session, grants=[(Role.manager, unit)], member=member, username="an.nv"
        )
        r = await login(client, "an.nv")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 15 * 60
        assert body["scope"] == "manager member"
        assert r.headers["cache-control"] == "no-store"
        access = _claims(body["access_token"])
        assert access["sub"] == str(user.id)
        assert access["typ"] == "access"
        assert {"iss", "aud", "sub", "jti", "iat", "exp", "typ"} <= access.keys()
        assert access["exp"] - access["iat"] == 15 * 60
        refresh = _claims(body["refresh_token"])
        assert refresh["typ"] == "refresh"
        assert refresh["sub"] == str(user.id)
        assert await count_rows(RefreshToken, RefreshToken.user_id == user.id) == 1
        me = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
        assert me.status_code == 200, me.text
        assert me.json()["id"] == str(user.id)

    async def test_username_is_case_insensitive(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="binh.tt")
        r = await login(client, "  Binh.TT ")
        assert r.status_code == 200, r.text
        assert r.json()["scope"] == "admin"

    async def test_wrong_password_is_invalid_grant(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="chi.lt")
        r = await login(client, "chi.lt", "not-the-password")
        body = assert_problem(r, 400, "invalid_grant")
        assert body["error"] == "invalid_grant"
        assert "access_token" not in r.text

    async def test_unknown_user_looks_like_wrong_password(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="dung.pv")
        wrong = await login(client, "dung.pv", "not-the-password")
        unknown = await login(client, "nobody.here", "not-the-password")
        b1 = assert_problem(wrong, 400, "invalid_grant")
        b2 = assert_problem(unknown, 400, "invalid_grant")
        assert (b1["title"], b1["detail"]) == (b2["title"], b2["detail"])

    async def test_inactive_user_is_invalid_grant(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="em.off", active=False)
        assert_problem(await login(client, "em.off"), 400, "invalid_grant")

    async def test_user_of_transferred_member_is_invalid_grant(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        unit = await make_unit(session)
        member = await make_member(session, unit, status=MemberStatus.transferred)
        await make_user(session, member=member, username="gone.away")
        assert_problem(await login(client, "gone.away"), 400, "invalid_grant")

    async def test_user_of_exempt_member_may_log_in(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        unit = await make_unit(session)
        member = await make_member(session, unit, status=MemberStatus.exempt)
        await make_user(session, member=member, username="exempt.one")
        r = await login(client, "exempt.one")
        assert r.status_code == 200, r.text
        assert r.json()["scope"] == "member"

    async def test_missing_username_is_a_problem(self, client: httpx.AsyncClient) -> None:
        r = await client.post(TOKEN_URL, data={"grant_type": "password", "password": PASSWORD})
        body = assert_problem(r, 400, "invalid_grant")
        assert body["error"] == "invalid_request"

    async def test_missing_grant_type_is_validation_failed(self, client: httpx.AsyncClient) -> None:
        r = await client.post(TOKEN_URL, data={"username": "x", "password": PASSWORD})
        body = assert_problem(r, 422, "validation_failed")
        assert any(e["loc"][-1] == "grant_type" for e in body["errors"])

    async def test_json_body_instead_of_form_is_rejected(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            TOKEN_URL, json={"grant_type": "password", "username": "x", "password": PASSWORD}
        )
        assert 400 <= r.status_code < 500
        assert r.headers["content-type"].startswith("application/problem+json")


class TestClientCredentialsGrant:
    async def test_form_credentials(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        unit = await make_unit(session)
        api_client, secret = await make_client(session, Role.partner, unit)
        r = await client.post(
            TOKEN_URL,
            data={
                "grant_type": "client_credentials",
                "client_id": api_client.client_id,
                "client_secret": secret,
            },
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["scope"] == "partner"
        assert body["refresh_token"] is None
        claims = _claims(body["access_token"])
        assert claims["sub"] == str(api_client.id)
        assert claims["kind"] == "client"

    async def test_http_basic_credentials(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        unit = await make_unit(session)
        api_client, secret = await make_client(session, Role.analyst, unit)
        r = await client.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials"},
            headers=_basic(api_client.client_id, secret),
        )
        assert r.status_code == 200, r.text
        assert r.json()["scope"] == "analyst"

    async def test_wrong_secret_is_invalid_client(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        unit = await make_unit(session)
        api_client, _ = await make_client(session, Role.partner, unit)
        r = await client.post(
            TOKEN_URL,
            data={
                "grant_type": "client_credentials",
                "client_id": api_client.client_id,
                "client_secret": "wrong",
            },
        )
        body = assert_problem(r, 401, "invalid_client")
        assert body["error"] == "invalid_client"
        assert "www-authenticate" in r.headers

    async def test_wrong_basic_secret_is_invalid_client(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        unit = await make_unit(session)
        api_client, _ = await make_client(session, Role.partner, unit)
        r = await client.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials"},
            headers=_basic(api_client.client_id, "wrong"),
        )
        assert_problem(r, 401, "invalid_client")
        assert r.headers["www-authenticate"] == 'Basic realm="qd85"'

    async def test_unknown_client_is_invalid_client(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            TOKEN_URL,
            data={
                "grant_type": "client_credentials",
                "client_id": "qd85_nope",
                "client_secret": "x",
            },
        )
        assert_problem(r, 401, "invalid_client")

    async def test_revoked_client_is_invalid_client(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        partner = org.principals["partner_a"]
        r = await client.delete(f"/api/v1/clients/{partner.id}", headers=org.headers("admin"))
        assert r.status_code == 204, r.text
        r = await client.post(
            TOKEN_URL,
            data={
                "grant_type": "client_credentials",
                "client_id": partner.client_id,  # type: ignore[union-attr]
                "client_secret": org.secrets["partner_a"],
            },
        )
        assert_problem(r, 401, "invalid_client")

    async def test_missing_client_id_is_a_problem(self, client: httpx.AsyncClient) -> None:
        r = await client.post(TOKEN_URL, data={"grant_type": "client_credentials"})
        body = assert_problem(r, 400, "invalid_grant")
        assert body["error"] == "invalid_request"


class TestRefreshTokenGrant:
    async def test_rotation_issues_a_new_refresh_token(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await make_user(session, grants=[(Role.admin, None)], username="rot.one")
        first = (await login(client, "rot.one")).json()
        r = await _refresh(client, first["refresh_token"])
        assert r.status_code == 200, r.text
        second = r.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert second["scope"] == "admin"
        assert _claims(second["refresh_token"])["fam"] == _claims(first["refresh_token"])["fam"]
        assert _claims(second["access_token"])["sub"] == str(user.id)
        rows = await _family_rows(first["refresh_token"])
        assert len(rows) == 2
        assert sum(1 for t in rows if t.rotated_at is not None) == 1
        # The rotated token's successor works in turn.
        third = await _refresh(client, second["refresh_token"])
        assert third.status_code == 200, third.text

    async def test_reusing_a_rotated_token_revokes_the_family(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="rot.two")
        first = (await login(client, "rot.two")).json()
        second = (await _refresh(client, first["refresh_token"])).json()
        reuse = await _refresh(client, first["refresh_token"])
        assert_problem(reuse, 400, "invalid_grant")
        # The newest token of the family was revoked by the reuse.
        assert_problem(await _refresh(client, second["refresh_token"]), 400, "invalid_grant")
        rows = await _family_rows(first["refresh_token"])
        assert len(rows) == 2
        assert all(t.revoked_at is not None for t in rows)

    async def test_other_families_survive_a_reuse(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="rot.three")
        laptop = (await login(client, "rot.three")).json()
        phone = (await login(client, "rot.three")).json()
        await _refresh(client, laptop["refresh_token"])
        assert_problem(await _refresh(client, laptop["refresh_token"]), 400, "invalid_grant")
        assert (await _refresh(client, phone["refresh_token"])).status_code == 200

    async def test_access_token_is_not_a_refresh_token(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="rot.four")
        tokens = (await login(client, "rot.four")).json()
        assert_problem(await _refresh(client, tokens["access_token"]), 400, "invalid_grant")

    async def test_garbage_refresh_token_is_invalid_grant(self, client: httpx.AsyncClient) -> None:
        assert_problem(await _refresh(client, "not.a.jwt"), 400, "invalid_grant")

    async def test_refresh_after_password_change_is_invalid_grant(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, grants=[(Role.admin, None)])
        user = await make_user(session, grants=[(Role.analyst, None)], username="rot.five")
        tokens = (await login(client, "rot.five")).json()
        r = await client.patch(
            f"/api/v1/users/{user.id}",
            json={"password": "a-brand-new-passphrase"},
            headers=auth(admin),
        )
        assert r.status_code == 200, r.text
        assert_problem(await _refresh(client, tokens["refresh_token"]), 400, "invalid_grant")

    async def test_missing_refresh_token_is_a_problem(self, client: httpx.AsyncClient) -> None:
        r = await client.post(TOKEN_URL, data={"grant_type": "refresh_token"})
        body = assert_problem(r, 400, "invalid_grant")
        assert body["error"] == "invalid_request"


class TestUnsupportedGrant:
    async def test_unknown_grant_type(self, client: httpx.AsyncClient) -> None:
        r = await client.post(TOKEN_URL, data={"grant_type": "authorization_code", "code": "x"})
        body = assert_problem(r, 400, "unsupported_grant_type")
        assert body["error"] == "unsupported_grant_type"

    async def test_over_long_grant_type_is_validation_failed(
        self, client: httpx.AsyncClient
    ) -> None:
        r = await client.post(TOKEN_URL, data={"grant_type": "x" * 200})
        assert_problem(r, 422, "validation_failed")


async def _away_from_a_window_edge(window: int = 300, margin: float = 20.0) -> None:
    """The login limit counts in fixed windows; start a burst well inside one so that
    the counts of a test are not split across two windows."""
    left = window - time.time() % window
    if left < margin:
        await asyncio.sleep(left + 0.5)


class TestLoginRateLimit:
    @pytest.fixture(autouse=True)
    async def _inside_one_window(self) -> None:
        await _away_from_a_window_edge()

    async def test_ten_failures_lock_the_username_even_for_the_right_password(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="brute.me")
        for _ in range(10):
            assert_problem(await login(client, "brute.me", "guess-guess"), 400, "invalid_grant")
        r = await login(client, "brute.me")
        body = assert_problem(r, 429, "rate_limited")
        assert "access_token" not in body
        retry_after = int(r.headers["retry-after"])
        assert 1 <= retry_after <= 300
        assert r.headers["ratelimit-policy"] == '"login";q=10;w=300'
        assert r.headers["ratelimit"].startswith('"login";r=0;t=')

    async def test_failures_from_one_address_across_usernames(
        self, client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "login_max_failures_per_address", 30)
        await make_user(session, grants=[(Role.admin, None)], username="victim")
        for i in range(30):
            assert_problem(await login(client, f"spray{i}", "guess-guess"), 400, "invalid_grant")
        r = await login(client, "victim")
        assert_problem(r, 429, "rate_limited")
        assert r.headers["ratelimit-policy"] == '"login-address";q=30;w=300'


class TestLockoutIsNotAWeapon:
    """Issue 14, finding 6: ten bad passwords for a username, or ten failures from one
    address (a committee office behind NAT), refused the right password for 5 minutes."""

    @pytest.fixture(autouse=True)
    async def _inside_one_window(self) -> None:
        await _away_from_a_window_edge()

    @staticmethod
    def _from(app: object, addr: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(addr, 40000))  # type: ignore[arg-type]
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    async def test_the_right_password_from_another_address_gets_in(
        self, app: object, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "login_max_delay_seconds", 0.5)
        await make_user(session, grants=[(Role.admin, None)], username="target.user")
        async with (
            self._from(app, "203.0.113.7") as attacker,
            self._from(app, "198.51.100.2") as owner,
        ):
            for _ in range(12):
                await login(attacker, "target.user", "guess-guess")
            assert_problem(await login(attacker, "target.user"), 429, "rate_limited")
            started = time.monotonic()
            r = await login(owner, "target.user")
            assert r.status_code == 200, r.text
            assert time.monotonic() - started >= 0.5  # slowed down, not locked out

    async def test_an_office_behind_one_address_is_not_locked_by_a_few_typos(
        self, app: object, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="clerk.one")
        async with self._from(app, "192.0.2.10") as office:
            for i in range(15):  # fifteen colleagues mistype once each
                assert_problem(
                    await login(office, f"colleague{i}", "typo-typo"), 400, "invalid_grant"
                )
            assert (await login(office, "clerk.one")).status_code == 200

    async def test_attempts_at_one_account_slow_down_progressively(
        self, app: object, session: AsyncSession
    ) -> None:
        limit = get_settings().login_max_failures
        from api.core.ratelimit import login_delay

        assert [login_delay(limit + n) for n in range(0, 6)] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0]
        assert login_delay(limit + 40) == get_settings().login_max_delay_seconds

    async def test_nine_failures_then_success_resets_the_username(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="forgetful")
        for _ in range(9):
            await login(client, "forgetful", "guess-guess")
        assert (await login(client, "forgetful")).status_code == 200
        assert_problem(await login(client, "forgetful", "guess-guess"), 400, "invalid_grant")

    async def test_failed_client_secrets_are_limited_too(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        unit = await make_unit(session)
        api_client, secret = await make_client(session, Role.partner, unit)
        data = {"grant_type": "client_credentials", "client_id": api_client.client_id}
        for _ in range(10):
            r = await client.post(TOKEN_URL, data={**data, "client_secret": "wrong"})
            assert_problem(r, 401, "invalid_client")
        r = await client.post(TOKEN_URL, data={**data, "client_secret": secret})
        assert_problem(r, 429, "rate_limited")
        assert "retry-after" in r.headers


class TestRevoke:
    async def test_revoke_ends_the_family(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="bye.bye")
        first = (await login(client, "bye.bye")).json()
        second = (await _refresh(client, first["refresh_token"])).json()
        r = await client.post("/api/v1/auth/revoke", data={"token": first["refresh_token"]})
        assert r.status_code == 200, r.text
        assert r.json() == {}
        assert_problem(await _refresh(client, second["refresh_token"]), 400, "invalid_grant")
        assert all(t.revoked_at is not None for t in await _family_rows(first["refresh_token"]))

    async def test_revoke_leaves_other_sessions(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, grants=[(Role.admin, None)], username="two.devices")
        laptop = (await login(client, "two.devices")).json()
        phone = (await login(client, "two.devices")).json()
        await client.post("/api/v1/auth/revoke", data={"token": laptop["refresh_token"]})
        assert (await _refresh(client, phone["refresh_token"])).status_code == 200
        assert_problem(await _refresh(client, laptop["refresh_token"]), 400, "invalid_grant")

    async def test_garbage_token_is_accepted_silently(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/api/v1/auth/revoke", data={"token": "garbage"})
        assert r.status_code == 200, r.text

    async def test_missing_token_is_validation_failed(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.post("/api/v1/auth/revoke", data={}), 422, "validation_failed")


class TestAuthMe:
    async def test_user(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        unit = await make_unit(session)
        member = await make_member(session, unit)
        user = await make_user(
            session, grants=[(Role.reviewer, unit)], member=member, username="me.user"
        )
        r = await client.get("/api/v1/auth/me", headers=auth(user))
        assert r.status_code == 200, r.text
        assert r.json() == {
            "kind": "user",
            "id": str(user.id),
            "name": "me.user",
            "member_id": str(member.id),
            "roles": ["member", "reviewer"],
            "grants": [{"role": "reviewer", "unit_id": str(unit.id)}],
        }
        assert r.headers["cache-control"] == "no-store"

    async def test_client(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        unit = await make_unit(session)
        api_client, _ = await make_client(session, Role.analyst, unit)
        r = await client.get("/api/v1/auth/me", headers=auth(api_client))
        assert r.status_code == 200, r.text
        assert r.json() == {
            "kind": "client",
            "id": str(api_client.id),
            "name": api_client.client_id,
            "member_id": None,
            "roles": ["analyst"],
            "grants": [{"role": "analyst", "unit_id": str(unit.id)}],
        }

    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get("/api/v1/auth/me"), "unauthorized")


class TestTokenInvalidation:
    """Outstanding access tokens die with a password, grant or activity change (SPEC §4)."""

    async def _setup(self, session: AsyncSession) -> tuple[dict[str, str], User, Unit]:
        unit = await make_unit(session)
        admin = await make_user(session, grants=[(Role.admin, None)])
        user = await make_user(session, grants=[(Role.reviewer, unit)])
        return auth(admin), user, unit

    async def test_password_change(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        admin, user, _ = await self._setup(session)
        old = auth(user)
        assert (await client.get("/api/v1/auth/me", headers=old)).status_code == 200
        r = await client.patch(
            f"/api/v1/users/{user.id}", json={"password": "another-passphrase"}, headers=admin
        )
        assert r.status_code == 200, r.text
        assert_unauthorized(await client.get("/api/v1/auth/me", headers=old))
        # and the new password works.
        assert (await login(client, user.username, "another-passphrase")).status_code == 200
        assert_problem(await login(client, user.username), 400, "invalid_grant")

    async def test_grant_change(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        admin, user, unit = await self._setup(session)
        old = auth(user)
        r = await client.patch(
            f"/api/v1/users/{user.id}",
            json={"grants": [{"role": "manager", "unit_id": str(unit.id)}]},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        assert_unauthorized(await client.get("/api/v1/auth/me", headers=old))

    async def test_same_grants_keep_the_token(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin, user, unit = await self._setup(session)
        old = auth(user)
        r = await client.patch(
            f"/api/v1/users/{user.id}",
            json={"grants": [{"role": "reviewer", "unit_id": str(unit.id)}]},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        assert (await client.get("/api/v1/auth/me", headers=old)).status_code == 200

    async def test_deactivation(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        admin, user, _ = await self._setup(session)
        old = auth(user)
        r = await client.patch(f"/api/v1/users/{user.id}", json={"active": False}, headers=admin)
        assert r.status_code == 200, r.text
        assert_unauthorized(await client.get("/api/v1/auth/me", headers=old))
        # Reactivation does not revive the old token.
        r = await client.patch(f"/api/v1/users/{user.id}", json={"active": True}, headers=admin)
        assert r.status_code == 200, r.text
        assert_unauthorized(await client.get("/api/v1/auth/me", headers=old))

    async def test_member_transferred(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        unit = await make_unit(session)
        member = await make_member(session, unit)
        admin = await make_user(session, grants=[(Role.admin, None)])
        user = await make_user(session, member=member)
        old = auth(user)
        assert (await client.get("/api/v1/auth/me", headers=old)).status_code == 200
        r = await client.patch(
            f"/api/v1/members/{member.id}", json={"status": "transferred"}, headers=auth(admin)
        )
        assert r.status_code == 200, r.text
        assert_unauthorized(await client.get("/api/v1/auth/me", headers=old))
        assert_problem(await login(client, user.username), 400, "invalid_grant")

    async def test_client_revoked(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        org = await build_org(session)
        partner = org.principals["partner_a"]
        old = org.headers("partner_a")
        assert (await client.get("/api/v1/auth/me", headers=old)).status_code == 200
        r = await client.delete(f"/api/v1/clients/{partner.id}", headers=org.headers("admin"))
        assert r.status_code == 204, r.text
        assert_unauthorized(await client.get("/api/v1/auth/me", headers=old))

    async def test_client_secret_rotated(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        partner = org.principals["partner_a"]
        old = org.headers("partner_a")
        r = await client.post(
            f"/api/v1/clients/{partner.id}/rotate-secret", headers=org.headers("admin")
        )
        assert r.status_code == 200, r.text
        new_secret = r.json()["client_secret"]
        assert_unauthorized(await client.get("/api/v1/auth/me", headers=old))
        creds = {"grant_type": "client_credentials", "client_id": partner.client_id}  # type: ignore[union-attr]
        old_secret = await client.post(
            TOKEN_URL, data={**creds, "client_secret": org.secrets["partner_a"]}
        )
        assert_problem(old_secret, 401, "invalid_client")
        fresh = await client.post(TOKEN_URL, data={**creds, "client_secret": new_secret})
        assert fresh.status_code == 200, fresh.text
        me = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}
        )
        assert me.status_code == 200

    async def test_deleted_user_token(self, client: httpx.AsyncClient) -> None:
        from api.core.security import create_access_token

        token, _ = create_access_token(uuid.uuid4(), "user", 1)
        r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert_unauthorized(r)


class TestLoginBurst:
    async def test_parallel_guesses_cannot_overtake_the_budget(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        """Each attempt is counted atomically before the password is checked."""
        user = await make_user(session, username="burst.target")
        limit = get_settings().login_max_failures
        responses = await asyncio.gather(
            *[
                client.post(
                    TOKEN_URL,
                    data={
                        "grant_type": "password",
                        "username": user.username,
                        "password": f"wrong-{i}",
                    },
                )
                for i in range(limit + 15)
            ]
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(400) == limit
        assert statuses.count(429) == 15

    async def test_successes_do_not_use_up_the_address_budget(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        limit = get_settings().login_max_failures
        users = [await make_user(session, username=f"office{i}") for i in range(limit + 5)]
        for user in users:  # one address (an office behind NAT), many good logins
            r = await client.post(
                TOKEN_URL,
                data={"grant_type": "password", "username": user.username, "password": PASSWORD},
            )
            assert r.status_code == 200, r.text
