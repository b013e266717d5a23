"""Token grants (password, client credentials, refresh with rotation), revocation."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import commit_so_far, utcnow
from api.core.errors import BadRequest, Unauthorized
from api.core.i18n import Message, msg
from api.core.security import (
    InvalidToken,
    create_access_token,
    create_refresh_token,
    decode_token,
    verify_password_off_loop,
)
from api.models import ApiClient, RefreshToken, User
from api.services import ratelimit
from api.services.authz import Principal
from api.services.identity import load_client_principal, load_user_principal
from api.services.users import verify_client_secret


@dataclass
class IssuedTokens:
    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None


def _invalid_grant(message: Message) -> BadRequest:
    err = BadRequest("invalid_grant", message)
    err.extra = {"error": "invalid_grant"}
    return err


def _scope(principal: Principal) -> str:
    return " ".join(sorted(r.value for r in principal.roles))


class _Throttle:
    """The login budgets of one attempt (issue 14, finding 6, after OWASP's
    authentication guidance): the (account, address) pair is refused past
    `login_max_failures`, the address past `login_max_failures_per_address`, and the
    account across all addresses is only slowed down (a progressive delay), so that
    nobody can lock a member out by guessing from elsewhere. Each attempt is counted
    before the secret is checked, with one atomic increment per key: parallel guesses
    cannot overtake a limit."""

    def __init__(self, account: str, addr: str) -> None:
        self.pair = (ratelimit.login_policy(), f"{account}|addr:{addr}")
        self.address = (ratelimit.login_address_policy(), f"addr:{addr}")
        self.account = (ratelimit.login_account_policy(), account)

    async def admit(self) -> None:
        for policy, key in (self.pair, self.address):
            usage = await ratelimit.limiter.hit(policy, key)
            if usage.count > policy.limit:
                raise ratelimit.exceeded(policy, usage)
        policy, key = self.account
        delay = ratelimit.login_delay((await ratelimit.limiter.hit(policy, key)).count)
        if delay:
            await asyncio.sleep(delay)

    async def forgive(self) -> None:
        """After a success: the pair's and the account's failures are forgiven; the
        address only gets this attempt back (others behind it may still be guessing)."""
        for policy, key in (self.pair, self.account):
            await ratelimit.limiter.reset(policy, key)
        await ratelimit.limiter.undo(*self.address)


async def _issue_refresh(
    session: AsyncSession, user_id: uuid.UUID, token_version: int, family: str
) -> str:
    token, jti, expires_at = create_refresh_token(user_id, token_version, family)
    session.add(RefreshToken(jti=jti, family_id=family, user_id=user_id, expires_at=expires_at))
    await session.flush()
    return token


async def password_grant(
    session: AsyncSession, username: str, password: str, client_addr: str
) -> IssuedTokens:
    name = username.strip().lower()
    throttle = _Throttle(f"user:{name}", client_addr)
    await throttle.admit()
    user = await session.scalar(select(User).where(User.username == name)) if name else None
    ok = await verify_password_off_loop(password, user.password_hash if user else None)
    principal = await load_user_principal(session, user.id, None) if ok and user else None
    if principal is None or user is None:
        raise _invalid_grant(msg("auth.wrong_password"))
    await throttle.forgive()
    access, expires_in = create_access_token(user.id, "user", user.token_version)
    refresh = await _issue_refresh(session, user.id, user.token_version, uuid.uuid4().hex)
    return IssuedTokens(access, expires_in, _scope(principal), refresh)


async def client_credentials_grant(
    session: AsyncSession, client_id: str, client_secret: str, client_addr: str
) -> IssuedTokens:
    throttle = _Throttle(f"client:{client_id[:64]}", client_addr)
    await throttle.admit()
    client = await session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    ok = client is not None and client.active and verify_client_secret(client, client_secret)
    principal = await load_client_principal(session, client.id, None) if ok and client else None
    if principal is None or client is None:
        err = Unauthorized("invalid_client", msg("auth.invalid_client"))
        err.extra = {"error": "invalid_client"}
        raise err
    await throttle.forgive()
    access, expires_in = create_access_token(client.id, "client", client.token_version)
    return IssuedTokens(access, expires_in, _scope(principal))


async def refresh_grant(session: AsyncSession, refresh_token: str) -> IssuedTokens:
    """Rotate: the presented token is spent and a new one of the same family issued.
    Presenting a spent token again revokes the family (someone holds a stolen copy)."""
    try:
        claims = decode_token(refresh_token, "refresh")
    except InvalidToken as exc:
        raise _invalid_grant(msg("auth.refresh_token_invalid")) from exc
    now = utcnow()
    spent = await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.jti == claims.jti,
            RefreshToken.rotated_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(rotated_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        # Unknown, revoked or already rotated: treat as reuse and end the whole family.
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == claims.family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        # Committed although the request fails: the revocation must stand. In the request's
        # session, not a transaction of its own: on SQLite the UPDATE above holds the lock.
        await commit_so_far(session)
        raise _invalid_grant(msg("auth.refresh_token_reused"))
    principal = await load_user_principal(session, claims.sub, claims.token_version)
    if principal is None:
        raise _invalid_grant(msg("auth.session_ended"))
    assert claims.family is not None
    access, expires_in = create_access_token(claims.sub, "user", claims.token_version)
    refresh = await _issue_refresh(session, claims.sub, claims.token_version, claims.family)
    return IssuedTokens(access, expires_in, _scope(principal), refresh)


async def revoke(session: AsyncSession, token: str) -> None:
    """RFC 7009: revoke the refresh token's family; unknown tokens are not an error."""
    try:
        claims = decode_token(token, "refresh")
    except InvalidToken:
        return
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == claims.family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
