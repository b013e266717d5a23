"""JWT hardening: every forged, stale or misused token is 401 `invalid_token` with a
Bearer challenge, and never reaches a handler."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.enums import Role
from api.core.security import create_refresh_token
from api.models import User
from tests.support.factories import auth, login, make_user
from tests.support.problems import assert_unauthorized

ME = "/api/v1/auth/me"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(user: User, **overrides: Any) -> dict[str, Any]:
    s = get_settings()
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "sub": str(user.id),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=15),
        "typ": "access",
        "kind": "user",
        "tv": user.token_version,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _forge(claims: dict[str, Any], *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or get_settings().secret_key, algorithm=algorithm)


def _raw_token(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A token assembled by hand (for headers PyJWT refuses to write), HMAC-SHA256 signed
    with `key`, or unsigned when key is None."""
    plain = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(plain).encode())}"
    if key is None:
        return signing_input + "."
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(sig)}"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def user(session: AsyncSession) -> User:
    return await make_user(session, grants=[(Role.admin, None)], username="jwt.target")


class TestValidToken:
    async def test_forged_with_the_real_key_is_accepted(
        self, client: httpx.AsyncClient, user: User
    ) -> None:
        """Control: the forging helpers produce a valid token, so each rejection below is
        caused by the one thing that test changes."""
        r = await client.get(ME, headers=_bearer(_forge(_claims(user))))
        assert r.status_code == 200, r.text
        r = await client.get(
            ME,
            headers=_bearer(
                _raw_token(
                    {"alg": "HS256", "typ": "JWT"},
                    _claims(user),
                    get_settings().secret_key.encode(),
                )
            ),
        )
        assert r.status_code == 200, r.text

    async def test_small_clock_skew_is_tolerated(
        self, client: httpx.AsyncClient, user: User
    ) -> None:
        soon = datetime.now(UTC) + timedelta(seconds=3)
        r = await client.get(ME, headers=_bearer(_forge(_claims(user, nbf=soon, iat=soon))))
        assert r.status_code == 200, r.text


class TestRejectedTokens:
    async def test_alg_none(self, client: httpx.AsyncClient, user: User) -> None:
        token = _raw_token({"alg": "none", "typ": "JWT"}, _claims(user), None)
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_alg_none_with_a_valid_signature_appended(
        self, client: httpx.AsyncClient, user: User
    ) -> None:
        token = _raw_token({"alg": "none"}, _claims(user), get_settings().secret_key.encode())
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_wrong_key(self, client: httpx.AsyncClient, user: User) -> None:
        token = _forge(_claims(user), key="another-secret-of-at-least-32-characters!")
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    @pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
    async def test_hs512_with_the_real_key(self, client: httpx.AsyncClient, user: User) -> None:
        token = _forge(_claims(user), algorithm="HS512")
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_rs256_header_with_an_hmac_signature(
        self, client: httpx.AsyncClient, user: User
    ) -> None:
        """Key confusion: an RS256 header over a signature made with the HMAC secret."""
        token = _raw_token(
            {"alg": "RS256", "typ": "JWT"}, _claims(user), get_settings().secret_key.encode()
        )
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_tampered_payload(self, client: httpx.AsyncClient, user: User) -> None:
        header, _, sig = _forge(_claims(user)).split(".")
        other = _claims(user, sub=str(uuid.uuid4()))
        payload = _b64(
            json.dumps(
                {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in other.items()}
            ).encode()
        )
        assert_unauthorized(await client.get(ME, headers=_bearer(f"{header}.{payload}.{sig}")))

    async def test_expired(self, client: httpx.AsyncClient, user: User) -> None:
        past = datetime.now(UTC) - timedelta(hours=1)
        token = _forge(_claims(user, iat=past, nbf=past, exp=past + timedelta(minutes=15)))
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_not_yet_valid(self, client: httpx.AsyncClient, user: User) -> None:
        later = datetime.now(UTC) + timedelta(minutes=5)
        token = _forge(_claims(user, nbf=later, exp=later + timedelta(minutes=15)))
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_issued_in_the_future(self, client: httpx.AsyncClient, user: User) -> None:
        later = datetime.now(UTC) + timedelta(minutes=5)
        token = _forge(_claims(user, iat=later))
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_audience_list_without_ours(self, client: httpx.AsyncClient, user: User) -> None:
        token = _forge(_claims(user, aud=["api-one", "api-two"]))
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_wrong_audience(self, client: httpx.AsyncClient, user: User) -> None:
        token = _forge(_claims(user, aud="some-other-api"))
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_wrong_issuer(self, client: httpx.AsyncClient, user: User) -> None:
        token = _forge(_claims(user, iss="https://evil.example"))
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    @pytest.mark.parametrize("claim", ["jti", "exp", "iat", "nbf", "iss", "aud", "sub", "tv"])
    async def test_missing_claim(self, client: httpx.AsyncClient, user: User, claim: str) -> None:
        claims = _claims(user)
        del claims[claim]
        assert_unauthorized(await client.get(ME, headers=_bearer(_forge(claims))))

    @pytest.mark.parametrize("tv", ["1", 1.5, True, None])
    async def test_malformed_token_version(
        self, client: httpx.AsyncClient, user: User, tv: Any
    ) -> None:
        claims = _claims(user)
        claims["tv"] = tv
        assert_unauthorized(await client.get(ME, headers=_bearer(_forge(claims))))

    async def test_sub_not_a_uuid(self, client: httpx.AsyncClient, user: User) -> None:
        token = _forge(_claims(user, sub="admin"))
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_user_id_presented_as_a_client(
        self, client: httpx.AsyncClient, user: User
    ) -> None:
        token = _forge(_claims(user, kind="client"))
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_unknown_kind(self, client: httpx.AsyncClient, user: User) -> None:
        token = _forge(_claims(user, kind="service"))
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_refresh_token_used_as_access_token(
        self, client: httpx.AsyncClient, user: User
    ) -> None:
        issued = (await login(client, user.username)).json()
        assert_unauthorized(await client.get(ME, headers=_bearer(issued["refresh_token"])))
        minted, _, _ = create_refresh_token(user.id, user.token_version, uuid.uuid4().hex)
        assert_unauthorized(await client.get(ME, headers=_bearer(minted)))

    async def test_typ_claim_missing(self, client: httpx.AsyncClient, user: User) -> None:
        claims = _claims(user)
        del claims["typ"]
        assert_unauthorized(await client.get(ME, headers=_bearer(_forge(claims))))

    async def test_deactivated_user(
        self, client: httpx.AsyncClient, session: AsyncSession, user: User
    ) -> None:
        headers = auth(user)
        user.active = False
        session.add(user)
        await session.commit()
        assert_unauthorized(await client.get(ME, headers=headers))

    async def test_deleted_user(self, client: httpx.AsyncClient, user: User) -> None:
        token = _forge(_claims(user, sub=str(uuid.uuid4())))
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    @pytest.mark.parametrize("delta", [-1, 1])
    async def test_wrong_token_version(
        self, client: httpx.AsyncClient, user: User, delta: int
    ) -> None:
        token = _forge(_claims(user, tv=user.token_version + delta))
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    @pytest.mark.parametrize(
        "token", ["garbage", "a.b.c", "Bearer", "....", "eyJhbGciOiJIUzI1NiJ9.e30.", "x" * 10]
    )
    async def test_garbage(self, client: httpx.AsyncClient, token: str) -> None:
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_eight_kilobyte_token(self, client: httpx.AsyncClient, user: User) -> None:
        token = _forge(_claims(user, pad="x" * 8192))
        assert len(token) > 8192
        assert_unauthorized(await client.get(ME, headers=_bearer(token)))

    async def test_wrong_scheme(self, client: httpx.AsyncClient, user: User) -> None:
        token = auth(user)["Authorization"].split(" ", 1)[1]
        r = await client.get(ME, headers={"Authorization": f"Token {token}"})
        assert_unauthorized(r, "unauthorized")

    async def test_rejection_happens_before_the_handler(
        self, client: httpx.AsyncClient, user: User
    ) -> None:
        """A bad token on a write is 401, not a validation error from the body."""
        token = _forge(_claims(user), key="another-secret-of-at-least-32-characters!")
        r = await client.post("/api/v1/users", json={}, headers=_bearer(token))
        assert_unauthorized(r)
