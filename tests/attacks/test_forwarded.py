"""Forwarded headers (issue 14, finding 4): a rotating X-Forwarded-For bypassed the
per-address login limit, because uvicorn trusts forwarded headers from 127.0.0.1 by
default. `qd85 serve` now believes them only from QD85_TRUSTED_PROXIES (default none).

The process tests start a real `qd85 serve` on 127.0.0.1 (port QD85_TEST_SERVE_PORT, or a
free one) against the test database, and stop it by its process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.cli import serve_options
from api.core.config import Settings
from tests.support.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 3


def _port() -> int:
    if os.environ.get("QD85_TEST_SERVE_PORT"):
        return int(os.environ["QD85_TEST_SERVE_PORT"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(database: str, tmp: Path, **env: str) -> Iterator[str]:
    port = _port()
    log = (tmp / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={
            **os.environ,
            "QD85_DATABASE_URL": database,
            "QD85_LOG_REQUESTS": "false",
            "QD85_LOGIN_MAX_FAILURES_PER_ADDRESS": str(LIMIT),
            **env,
        },
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp / f"serve-{port}.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "qd85 serve did not start"
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        log.close()


def _fail(base: str, username: str, forwarded: str) -> int:
    r = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": "wrong-guess"},
        headers={"X-Forwarded-For": forwarded},
        timeout=30,
    )
    return r.status_code


class TestServeOptions:
    def test_no_proxy_is_trusted_by_default(self) -> None:
        assert serve_options(Settings()) == {"proxy_headers": False, "forwarded_allow_ips": ""}

    def test_configured_proxies_are_passed_to_uvicorn(self) -> None:
        settings = Settings(trusted_proxies="10.0.0.1, 192.168.0.0/16")
        assert serve_options(settings) == {
            "proxy_headers": True,
            "forwarded_allow_ips": "10.0.0.1,192.168.0.0/16",
        }

    def test_a_proxy_that_is_not_an_address_refuses_to_start(self) -> None:
        with pytest.raises(ValidationError, match="QD85_TRUSTED_PROXIES"):
            Settings(trusted_proxies="proxy.internal")


def _login(base: str, username: str) -> int:
    r = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
        timeout=30,
    )
    return r.status_code


class TestForwardedHeadersAgainstTheLoginLimit:
    """The per-address budget (QD85_LOGIN_MAX_FAILURES_PER_ADDRESS, here 3): guesses at
    many usernames from one address, each with a new X-Forwarded-For."""

    async def test_a_rotating_forwarded_for_does_not_reset_the_budget(
        self, database: str, session: AsyncSession, tmp_path: Path
    ) -> None:
        user = await make_user(session, username="xff.colleague")
        await session.commit()
        with serve(database, tmp_path) as base:
            statuses = [_fail(base, f"spray{i}", f"198.51.100.{i}") for i in range(LIMIT + 2)]
            colleague = _login(base, user.username)
        assert statuses == [400] * LIMIT + [429, 429]
        assert colleague == 429  # the address's budget is spent, whatever the header said

    async def test_behind_a_trusted_proxy_the_forwarded_client_counts(
        self, database: str, session: AsyncSession, tmp_path: Path
    ) -> None:
        user = await make_user(session, username="xff.proxied")
        await session.commit()
        with serve(database, tmp_path, QD85_TRUSTED_PROXIES="127.0.0.1") as base:
            # A client forging its own X-Forwarded-For: the proxy appends the address it
            # saw; the rightmost address that is not a trusted proxy is the client.
            forged = [
                _fail(base, f"spray{i}", f"10.9.9.{i}, 203.0.113.5") for i in range(LIMIT + 1)
            ]
            other = _login(base, user.username)  # no header: the proxy itself, a new budget
        assert forged == [400] * LIMIT + [429]
        assert other == 200
