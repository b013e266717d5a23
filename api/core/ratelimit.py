"""Fixed-window rate limits: the policies, their windows, the headers and the 429
problem. Pure rules: the counts themselves are kept in shared state (the database, or
Redis when configured) by api/services/ratelimit.py, so that core imports no model."""

from __future__ import annotations

from dataclasses import dataclass

from api.core.config import get_settings
from api.core.errors import RateLimited
from api.core.i18n import msg


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    limit: int
    window: int  # seconds


@dataclass(frozen=True, slots=True)
class Usage:
    count: int
    reset: int  # seconds until the window ends


def window_of(policy: Policy, now: float) -> tuple[int, int]:
    """(start of the window `now` falls in, seconds until it ends)."""
    start = int(now) - int(now) % policy.window
    return start, start + policy.window - int(now)


def headers(policy: Policy, usage: Usage) -> dict[str, str]:
    remaining = max(policy.limit - usage.count, 0)
    return {
        "RateLimit-Policy": f'"{policy.name}";q={policy.limit};w={policy.window}',
        "RateLimit": f'"{policy.name}";r={remaining};t={usage.reset}',
    }


def exceeded(policy: Policy, usage: Usage) -> RateLimited:
    return RateLimited(
        "rate_limited",
        msg("http.rate_limited", reset=usage.reset),
        headers={"Retry-After": str(max(usage.reset, 1)), **headers(policy, usage)},
    )


def login_policy() -> Policy:
    """Failed logins per (account, client address) pair: the one hard limit an attacker
    cannot spend for someone else (issue 14, finding 6)."""
    s = get_settings()
    return Policy("login", s.login_max_failures, s.login_window_seconds)


def login_address_policy() -> Policy:
    """Failed logins per client address, whatever the account: a much higher budget, as
    one address may be a whole office behind NAT."""
    s = get_settings()
    return Policy("login-address", s.login_max_failures_per_address, s.login_window_seconds)


def login_account_policy() -> Policy:
    """Failed logins per account from every address: never refused (that would let
    anyone lock an account out), but each attempt past the budget waits longer."""
    s = get_settings()
    return Policy("login-account", s.login_max_failures, s.login_window_seconds)


def login_delay(failures: int) -> float:
    """Seconds an attempt at an account waits once `failures` (this one included) exceed
    the budget: 0.5 s doubling per failure, at most `login_max_delay_seconds`."""
    s = get_settings()
    over = failures - s.login_max_failures
    if over <= 0:
        return 0.0
    return float(min(0.5 * 2 ** min(over - 1, 16), s.login_max_delay_seconds))
