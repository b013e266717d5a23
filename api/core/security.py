"""Tokens (PyJWT, HS256 only) and password hashing (pwdlib, argon2)."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from pwdlib import PasswordHash

from api.core.config import get_settings

ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 4096
LEEWAY_SECONDS = 10
TokenType = Literal["access", "refresh"]
PrincipalKind = Literal["user", "client"]

_hasher = PasswordHash.recommended()
# Verified against when the username is unknown, so timing does not reveal which exist.
_DUMMY_HASH = _hasher.hash("qd85-dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a corrupt stored hash must not become a 500 on login
        return False


async def hash_password_off_loop(password: str) -> str:
    """`hash_password` in a worker thread (api/core/offload.py): ~50 ms of a core each."""
    from api.core.offload import PASSWORDS

    return await PASSWORDS.run(hash_password, password)


async def verify_password_off_loop(password: str, password_hash: str | None) -> bool:
    """`verify_password` in a worker thread: a burst of logins does not stall the loop."""
    from api.core.offload import PASSWORDS

    return await PASSWORDS.run(verify_password, password, password_hash)


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenClaims:
    sub: uuid.UUID
    kind: PrincipalKind
    typ: TokenType
    jti: str
    token_version: int
    expires_at: datetime
    family: str | None = None


def _encode(claims: dict[str, Any], lifetime: timedelta) -> tuple[str, datetime]:
    settings = get_settings()
    now = datetime.now(UTC)
    exp = now + lifetime
    payload = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": exp,
        "jti": claims.pop("jti", None) or uuid.uuid4().hex,
        **claims,
    }
    typ = "at+jwt" if claims["typ"] == "access" else "rt+jwt"
    token = jwt.encode(payload, settings.secret_key, algorithm=ALGORITHM, headers={"typ": typ})
    return token, exp


def create_access_token(sub: uuid.UUID, kind: PrincipalKind, token_version: int) -> tuple[str, int]:
    settings = get_settings()
    lifetime = timedelta(minutes=settings.access_token_minutes)
    token, _ = _encode(
        {"sub": str(sub), "kind": kind, "typ": "access", "tv": token_version}, lifetime
    )
    return token, int(lifetime.total_seconds())


def create_refresh_token(
    sub: uuid.UUID, token_version: int, family: str
) -> tuple[str, str, datetime]:
    """Returns (token, jti, expires_at)."""
    settings = get_settings()
    jti = uuid.uuid4().hex
    token, exp = _encode(
        {
            "sub": str(sub),
            "kind": "user",
            "typ": "refresh",
            "tv": token_version,
            "fam": family,
            "jti": jti,
        },
        timedelta(days=settings.refresh_token_days),
    )
    return token, jti, exp


class InvalidToken(Exception):
    pass


class _VerifiedTokens:
    """Access tokens whose signature and claims were already verified in this process,
    so a client's every request does not pay PyJWT again. Only validity of the token
    itself is cached (expiry is re-checked on each use); whether the principal may still
    use it is decided by the principal check."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._items: OrderedDict[str, TokenClaims] = OrderedDict()

    def get(self, token: str) -> TokenClaims | None:
        claims = self._items.get(token)
        if claims is None:
            return None
        if claims.expires_at.timestamp() + LEEWAY_SECONDS < time.time():
            self._items.pop(token, None)
            return None
        return claims

    def put(self, token: str, claims: TokenClaims) -> None:
        self._items[token] = claims
        if len(self._items) > self._size:
            self._items.popitem(last=False)


_verified_access = _VerifiedTokens()


def decode_access_token(token: str) -> TokenClaims:
    claims = _verified_access.get(token)
    if claims is None:
        claims = decode_token(token, "access")
        _verified_access.put(token, claims)
    return claims


def decode_token(token: str, expected_typ: TokenType) -> TokenClaims:
    """Verify signature (HS256 only), iss, aud, exp, nbf, iat and the token type."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("token missing or too long")
    settings = get_settings()
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    try:
        if payload.get("typ") != expected_typ:
            raise InvalidToken("wrong token type")
        kind = payload["kind"]
        if kind not in ("user", "client"):
            raise InvalidToken("bad kind")
        tv = payload["tv"]
        if not isinstance(tv, int) or isinstance(tv, bool):
            raise InvalidToken("bad token version")
        family = payload.get("fam")
        if expected_typ == "refresh" and not isinstance(family, str):
            raise InvalidToken("refresh token without family")
        return TokenClaims(
            sub=uuid.UUID(str(payload["sub"])),
            kind=kind,
            typ=expected_typ,
            jti=str(payload["jti"]),
            token_version=tv,
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            family=family,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidToken("malformed claims") from exc
