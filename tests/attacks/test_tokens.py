"""Token attacks beyond tests/routers/test_jwt.py (which checks each forgery against
GET /auth/me) and test_auth.py (rotation, reuse, revocation): here a forged or stale
access token is used on a *write* and must write nothing; forged, expired and misused
refresh tokens must neither mint tokens nor touch the victim's session family (no
rotation, no revocation a forger could trigger); a rotation race has one winner; the
verified-token cache never outlives a token."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core import security
from api.core.config import get_settings
from api.core.db import db
from api.core.enums import Role, UnitLevel
from api.core.security import create_access_token, create_refresh_token
from api.models import RefreshToken, Unit, User
from tests.support.factories import TOKEN_URL, auth, make_client, make_unit, make_user
from tests.support.problems import assert_problem, assert_unauthorized
from tests.support.reads import diff, fingerprint

OTHER_KEY = "another-secret-of-at-least-32-characters!"
REVOKE_URL = "/api/v1/auth/revoke"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _plain(claims: dict[str, Any]) -> dict[str, Any]:
    return {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}


def _sign(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A JWT assembled by hand (headers PyJWT refuses to write), HMAC-SHA256 signed with
    `key`, or with an empty signature when key is None."""
    head = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_plain(claims)).encode())}"
    if key is None:
        return head + "."
    return f"{head}.{_b64(hmac.new(key, head.encode(), hashlib.sha256).digest())}"


def _access_claims(sub: uuid.UUID, tv: int, **overrides: Any) -> dict[str, Any]:
    s = get_settings()
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "sub": str(sub),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=15),
        "typ": "access",
        "kind": "user",
        "tv": tv,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _real_key() -> bytes:
    return get_settings().secret_key.encode()


# --- access tokens on a write ----------------------------------------------------------------

_PAST = timedelta(hours=-1)
_LATER = timedelta(minutes=5)


def _t(delta: timedelta) -> datetime:
    return datetime.now(UTC) + delta


# name -> builder(user) giving the Authorization header value. Each changes one thing of
# a token that would otherwise be accepted (the control test below proves that).
ACCESS_ATTACKS: dict[str, Callable[[User], str]] = {
    "other_key": lambda u: (
        "Bearer "
        + _sign({"alg": "HS256"}, _access_claims(u.id, u.token_version), OTHER_KEY.encode())
    ),
    "empty_key": lambda u: (
        "Bearer " + _sign({"alg": "HS256"}, _access_claims(u.id, u.token_version), b"")
    ),
    "alg_none": lambda u: (
        "Bearer " + _sign({"alg": "none"}, _access_claims(u.id, u.token_version), None)
    ),
    "alg_none_uppercase": lambda u: (
        "Bearer " + _sign({"alg": "NONE"}, _access_claims(u.id, u.token_version), None)
    ),
    "rs256_header_hmac_signature": lambda u: (
        "Bearer " + _sign({"alg": "RS256"}, _access_claims(u.id, u.token_version), _real_key())
    ),
    "kid_path_injection": lambda u: (
        "Bearer "
        + _sign(
            {"alg": "HS256", "kid": "../../../../dev/null"},
            _access_claims(u.id, u.token_version),
            b"",
        )
    ),
    "jku_elsewhere": lambda u: (
        "Bearer "
        + _sign(
            {"alg": "HS256", "jku": "https://evil.example/jwks"},
            _access_claims(u.id, u.token_version),
            OTHER_KEY.encode(),
        )
    ),
    "expired": lambda u: (
        "Bearer "
        + _sign(
            {"alg": "HS256"},
            _access_claims(
                u.id,
                u.token_version,
                iat=_t(_PAST),
                nbf=_t(_PAST),
                exp=_t(_PAST + timedelta(minutes=15)),
            ),
            _real_key(),
        )
    ),
    "not_yet_valid": lambda u: (
        "Bearer "
        + _sign(
            {"alg": "HS256"},
            _access_claims(u.id, u.token_version, nbf=_t(_LATER), exp=_t(_LATER * 4)),
            _real_key(),
        )
    ),
    "wrong_audience": lambda u: (
        "Bearer "
        + _sign(
            {"alg": "HS256"}, _access_claims(u.id, u.token_version, aud="qd85-admin"), _real_key()
        )
    ),
    "wrong_issuer": lambda u: (
        "Bearer "
        + _sign(
            {"alg": "HS256"}, _access_claims(u.id, u.token_version, iss="qd85-staging"), _real_key()
        )
    ),
    "missing_exp": lambda u: (
        "Bearer "
        + _sign(
            {"alg": "HS256"},
            {k: v for k, v in _access_claims(u.id, u.token_version).items() if k != "exp"},
            _real_key(),
        )
    ),
    "missing_sub": lambda u: (
        "Bearer "
        + _sign(
            {"alg": "HS256"},
            {k: v for k, v in _access_claims(u.id, u.token_version).items() if k != "sub"},
            _real_key(),
        )
    ),
    "typ_refresh": lambda u: (
        "Bearer "
        + _sign(
            {"alg": "HS256"},
            _access_claims(u.id, u.token_version, typ="refresh", fam="x"),
            _real_key(),
        )
    ),
    "stale_token_version": lambda u: (
        "Bearer " + _sign({"alg": "HS256"}, _access_claims(u.id, u.token_version - 1), _real_key())
    ),
    "unknown_principal": lambda u: (
        "Bearer " + _sign({"alg": "HS256"}, _access_claims(uuid.uuid4(), 1), _real_key())
    ),
    "signature_stripped": lambda u: (
        "Bearer " + auth(u)["Authorization"].split(" ", 1)[1].rsplit(".", 1)[0] + "."
    ),
    "signature_of_another_token": lambda u: "Bearer " + _swap_signature(u),
    "garbage": lambda u: "Bearer ' OR 1=1 --",
    "nul_appended": lambda u: auth(u)["Authorization"] + "\x00",
    "two_tokens": lambda u: (
        auth(u)["Authorization"] + " " + auth(u)["Authorization"].split(" ", 1)[1]
    ),
}


def _swap_signature(user: User) -> str:
    """The header and claims of one valid token with the signature of another (they
    differ in their jti)."""
    mine = auth(user)["Authorization"].split(" ", 1)[1]
    other = auth(user)["Authorization"].split(" ", 1)[1]
    return f"{mine.rsplit('.', 1)[0]}.{other.rsplit('.', 1)[1]}"


@pytest.fixture
async def writer(session: AsyncSession) -> tuple[User, Unit]:
    unit = await make_unit(session, level=UnitLevel.cell)
    user = await make_user(session, grants=[(Role.admin, None)], username="token.victim")
    user.token_version = 2  # so that "token version - 1" is a version that existed
    session.add(user)
    await session.commit()
    return user, unit


def _member_body(unit: Unit) -> dict[str, Any]:
    return {"full_name": "Nguyễn Văn Mới", "unit_id": str(unit.id), "membership": "official"}


class TestAccessTokenOnAWrite:
    async def test_control_a_valid_token_writes(
        self, client: httpx.AsyncClient, writer: tuple[User, Unit]
    ) -> None:
        user, unit = writer
        valid = _sign({"alg": "HS256"}, _access_claims(user.id, user.token_version), _real_key())
        r = await client.post(
            "/api/v1/members", json=_member_body(unit), headers={"Authorization": f"Bearer {valid}"}
        )
        assert r.status_code == 201, r.text

    async def test_each_forgery_is_refused_with_a_challenge_and_writes_nothing(
        self, client: httpx.AsyncClient, writer: tuple[User, Unit]
    ) -> None:
        user, unit = writer
        before = await fingerprint()
        failures = []
        for attack, forge in ACCESS_ATTACKS.items():
            r = await client.post(
                "/api/v1/members", json=_member_body(unit), headers={"Authorization": forge(user)}
            )
            body = r.json()
            got = (r.status_code, body.get("code"), r.headers.get("www-authenticate"))
            if got != (401, "invalid_token", 'Bearer realm="qd85"') or "errors" in body:
                failures.append(f"{attack}: {got} {body.get('errors')}")  # "errors": body read
        assert failures == []
        assert diff(before, await fingerprint()) == {}

    async def test_disabled_principal(
        self, client: httpx.AsyncClient, session: AsyncSession, writer: tuple[User, Unit]
    ) -> None:
        user, unit = writer
        headers = auth(user)
        user.active = False
        session.add(user)
        await session.commit()
        before = await fingerprint()
        assert_unauthorized(
            await client.post("/api/v1/members", json=_member_body(unit), headers=headers)
        )
        assert diff(before, await fingerprint()) == {}

    async def test_token_in_the_query_string_is_not_a_credential(
        self, client: httpx.AsyncClient, writer: tuple[User, Unit]
    ) -> None:
        user, unit = writer
        token = auth(user)["Authorization"].split(" ", 1)[1]
        r = await client.post(
            "/api/v1/members", params={"access_token": token}, json=_member_body(unit)
        )
        assert_unauthorized(r, "unauthorized")

    async def test_token_in_a_cookie_is_not_a_credential(
        self, client: httpx.AsyncClient, writer: tuple[User, Unit]
    ) -> None:
        user, _ = writer
        token = auth(user)["Authorization"].split(" ", 1)[1]
        r = await client.get("/api/v1/auth/me", headers={"Cookie": f"access_token={token}"})
        assert_unauthorized(r, "unauthorized")

    async def test_revoked_client_token_writes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, writer: tuple[User, Unit]
    ) -> None:
        admin, _ = writer
        parent = await make_unit(session, level=UnitLevel.provincial)
        partner, _ = await make_client(session, Role.partner, parent)
        old = auth(partner)
        r = await client.delete(f"/api/v1/clients/{partner.id}", headers=auth(admin))
        assert r.status_code == 204, r.text
        before = await fingerprint()
        r = await client.post(
            "/api/v1/roster/syncs",
            params={"dry_run": "false"},
            json={"mode": "upsert", "members": []},
            headers=old,
        )
        assert_unauthorized(r)
        assert diff(before, await fingerprint()) == {}


class _Later(datetime):
    """PyJWT's clock, 16 minutes on."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return datetime.now(tz) + timedelta(minutes=16)


class TestVerifiedTokenCache:
    async def test_a_cached_token_is_refused_once_it_expires(
        self, client: httpx.AsyncClient, writer: tuple[User, Unit], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Verified once (and so cached), then used after its 15 minutes: refused, the cache
        checks the expiry on every use. Both clocks are moved (the cache's and PyJWT's):
        no sleeping."""
        user, _ = writer
        headers = auth(user)
        assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
        assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
        real = time.time
        monkeypatch.setattr(security, "time", SimpleNamespace(time=lambda: real() + 16 * 60))
        monkeypatch.setattr(jwt.api_jwt, "datetime", _Later)
        assert_unauthorized(await client.get("/api/v1/auth/me", headers=headers))
        # Back in real time the token is good again: the refusal came from the clocks.
        monkeypatch.setattr(jwt.api_jwt, "datetime", datetime)
        monkeypatch.setattr(security, "time", SimpleNamespace(time=real))
        assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200


# --- refresh tokens ------------------------------------------------------------------------------


def _decoded(token: str) -> dict[str, Any]:
    s = get_settings()
    return jwt.decode(
        token, s.secret_key, algorithms=["HS256"], audience=s.jwt_audience, issuer=s.jwt_issuer
    )


def _refresh_like(
    real: str, *, key: bytes | None, header: dict[str, Any] | None = None, **overrides: Any
) -> str:
    """The victim's refresh token (same sub, family and jti) re-signed after changes."""
    claims = {**_decoded(real), **overrides}
    return _sign(
        header or {"alg": "HS256", "typ": "rt+jwt"},
        {k: v for k, v in claims.items() if v is not None},
        key,
    )


REFRESH_FORGERIES: dict[str, Callable[[str], str]] = {
    "other_key": lambda t: _refresh_like(t, key=OTHER_KEY.encode()),
    "alg_none": lambda t: _refresh_like(t, key=None, header={"alg": "none"}),
    "hs512_header": lambda t: _refresh_like(t, key=_real_key(), header={"alg": "HS512"}),
    "expired": lambda t: _refresh_like(
        t, key=_real_key(), exp=int(datetime.now(UTC).timestamp()) - 60
    ),
    "not_yet_valid": lambda t: _refresh_like(
        t, key=_real_key(), nbf=int(datetime.now(UTC).timestamp()) + 600
    ),
    "wrong_audience": lambda t: _refresh_like(t, key=_real_key(), aud="qd85-admin"),
    "wrong_issuer": lambda t: _refresh_like(t, key=_real_key(), iss="qd85-staging"),
    "without_family": lambda t: _refresh_like(t, key=_real_key(), fam=None),
    "typ_access": lambda t: _refresh_like(t, key=_real_key(), typ="access"),
    "tampered_sub": lambda t: _refresh_like(t, key=OTHER_KEY.encode(), sub=str(uuid.uuid4())),
    "truncated": lambda t: t[:-5],
    "garbage": lambda t: "' OR 1=1 --",
}


async def _family(token: str) -> list[tuple[str, bool, bool]]:
    """(jti, rotated, revoked) of every row of the token's family, by jti."""
    family = _decoded(token)["fam"]
    async with db.sessionmaker() as s:
        rows = (
            await s.scalars(
                select(RefreshToken)
                .where(RefreshToken.family_id == family)
                .order_by(RefreshToken.jti)
            )
        ).all()
        return [(r.jti, r.rotated_at is not None, r.revoked_at is not None) for r in rows]


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": token}
    )


async def _session_of(session: AsyncSession, user: User) -> dict[str, Any]:
    """What a password login returns, minted directly (an argon2 check per test would
    dominate the run): an access token and a refresh token of a new family."""
    token, jti, expires_at = create_refresh_token(user.id, user.token_version, uuid.uuid4().hex)
    session.add(
        RefreshToken(
            jti=jti, family_id=_decoded(token)["fam"], user_id=user.id, expires_at=expires_at
        )
    )
    await session.commit()
    access, _ = create_access_token(user.id, "user", user.token_version)
    return {"access_token": access, "refresh_token": token}


@pytest.fixture
async def victim_user(session: AsyncSession) -> User:
    return await make_user(session, grants=[(Role.admin, None)], username="refresh.victim")


@pytest.fixture
async def victim(session: AsyncSession, victim_user: User) -> dict[str, Any]:
    """A logged-in user's tokens."""
    return await _session_of(session, victim_user)


class TestForgedRefreshTokens:
    async def test_refused_without_touching_the_family(
        self, client: httpx.AsyncClient, victim: dict[str, Any]
    ) -> None:
        """A forger who knows the victim's family and jti can neither rotate nor revoke
        it: the signature and claims are verified before any row is touched."""
        real = victim["refresh_token"]
        family = await _family(real)
        before = await fingerprint()
        failures = []
        for attack, forge in REFRESH_FORGERIES.items():
            forged = forge(real)
            r = await _refresh(client, forged)
            if (r.status_code, r.json().get("code"), r.json().get("error")) != (
                400,
                "invalid_grant",
                "invalid_grant",
            ) or "access_token" in r.json():
                failures.append(f"{attack}: refresh {r.status_code} {r.text[:100]}")
            r = await client.post(REVOKE_URL, data={"token": forged})
            if (r.status_code, r.json()) != (200, {}):
                failures.append(f"{attack}: revoke {r.status_code}")
            if await _family(real) != family:
                failures.append(f"{attack}: the family changed")
        assert failures == []
        assert diff(before, await fingerprint()) == {}
        # The victim's session goes on.
        assert (await _refresh(client, real)).status_code == 200

    async def test_an_access_token_cannot_revoke_the_session(
        self, client: httpx.AsyncClient, victim: dict[str, Any]
    ) -> None:
        family = await _family(victim["refresh_token"])
        r = await client.post(REVOKE_URL, data={"token": victim["access_token"]})
        assert r.status_code == 200
        assert await _family(victim["refresh_token"]) == family
        assert (await _refresh(client, victim["refresh_token"])).status_code == 200


class TestReplayedRefreshTokens:
    async def test_replay_revokes_the_family_and_mints_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        victim_user: User,
        victim: dict[str, Any],
    ) -> None:
        """The thief's replay of a rotated token: no new token is written, every token of
        the family is revoked (the rightful holder's newest one too), others untouched."""
        stolen = victim["refresh_token"]
        rotated = await _refresh(client, stolen)
        assert rotated.status_code == 200
        newest = rotated.json()["refresh_token"]
        elsewhere = (await _session_of(session, victim_user))["refresh_token"]
        before = await fingerprint()
        assert_problem(await _refresh(client, stolen), 400, "invalid_grant")
        # Only revocations, of the stolen token and its successor; no token is minted.
        assert diff(before, await fingerprint()) == {"refresh_tokens.revoked_at": ("0", "2")}
        assert sorted((rotated_, revoked) for _, rotated_, revoked in await _family(stolen)) == [
            (False, True),
            (True, True),
        ]
        assert_problem(await _refresh(client, newest), 400, "invalid_grant")
        assert_problem(await _refresh(client, stolen), 400, "invalid_grant")
        assert (await _refresh(client, elsewhere)).status_code == 200

    async def test_replay_after_logout(
        self, client: httpx.AsyncClient, victim: dict[str, Any]
    ) -> None:
        token = victim["refresh_token"]
        assert (await client.post(REVOKE_URL, data={"token": token})).status_code == 200
        before = await fingerprint()
        assert_problem(await _refresh(client, token), 400, "invalid_grant")
        assert (await client.post(REVOKE_URL, data={"token": token})).status_code == 200
        assert diff(before, await fingerprint()) == {}

    async def test_two_parallel_rotations_have_one_winner(
        self, client: httpx.AsyncClient, victim: dict[str, Any]
    ) -> None:
        """The same refresh token twice at once (a double-clicked retry, or a thief racing
        the owner): one rotation succeeds, the other is a reuse and ends the family; never
        two sessions, never a 500."""
        token = victim["refresh_token"]
        first, second = await asyncio.gather(_refresh(client, token), _refresh(client, token))
        statuses = sorted((first.status_code, second.status_code))
        assert statuses == [200, 400], (first.text, second.text)
        loser = first if first.status_code == 400 else second
        assert_problem(loser, 400, "invalid_grant")
        winner = first if first.status_code == 200 else second
        assert all(revoked for _, _, revoked in await _family(token))
        assert_problem(await _refresh(client, winner.json()["refresh_token"]), 400, "invalid_grant")

    async def test_refresh_for_a_deactivated_user_mints_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        victim_user: User,
        victim: dict[str, Any],
    ) -> None:
        user = victim_user
        user.active = False
        session.add(user)
        await session.commit()
        before = await fingerprint()
        assert_problem(await _refresh(client, victim["refresh_token"]), 400, "invalid_grant")
        assert diff(before, await fingerprint()) == {}
