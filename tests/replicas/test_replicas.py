"""Two service processes on one database behave as one (SPEC §2: no per-process state):
login and report rate limits, Idempotency-Key replays, tokens and their revocation hold
across them. Each module run starts two real `uvicorn api.main:create_app` processes on
free ports of 127.0.0.1 against the test database (SQLite file or PostgreSQL), with the
same secret; the limiter counts in the database, and again in Redis when one answers on
127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.core.db import db
from api.core.enums import Role
from api.models import Account, Report
from tests.support.factories import (
    PASSWORD,
    auth,
    make_member_user,
    make_unit,
    make_user,
    report_body,
)
from tests.support.problems import assert_problem

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/15"
LOGIN_LIMIT = 4
REPORT_LIMIT = 3
WINDOW = 3600
CACHE_SECONDS = 1.0
REPLICA_ENV = {
    "QD85_LOGIN_MAX_FAILURES": str(LOGIN_LIMIT),
    "QD85_LOGIN_WINDOW_SECONDS": str(WINDOW),
    "QD85_REPORT_RATE_LIMIT": str(REPORT_LIMIT),
    "QD85_REPORT_RATE_WINDOW_SECONDS": str(WINDOW),
    "QD85_PRINCIPAL_CACHE_SECONDS": str(CACHE_SECONDS),
    "QD85_LOG_REQUESTS": "false",
}
TOKEN_URL = "/api/v1/auth/token"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Replica:
    """`uvicorn api.main:create_app --factory` in its own process group, stopped by PID."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"replica exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("replica did not answer /healthz")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


def _backends() -> list[Any]:
    return [
        pytest.param("database", id="database"),
        pytest.param(
            "redis",
            id="redis",
            marks=pytest.mark.skipif(not _redis_up(), reason="no Redis at 127.0.0.1:6379"),
        ),
    ]


@pytest.fixture(scope="module", params=_backends())
def replicas(
    request: pytest.FixtureRequest, database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    """Two processes on the test database: (limiter backend, base URL 1, base URL 2)."""
    env = {**os.environ, **REPLICA_ENV, "QD85_DATABASE_URL": database}
    env.pop("QD85_REDIS_URL", None)
    if request.param == "redis":
        env["QD85_REDIS_URL"] = REDIS_URL
    logs = tmp_path_factory.mktemp("replicas")
    started: list[Replica] = []
    try:
        for n in (1, 2):
            started.append(Replica(env, logs / f"replica{n}.log"))
        for replica in started:
            replica.wait_ready()
        yield request.param, started[0].base_url, started[1].base_url
    finally:
        for replica in started:
            replica.stop()


@pytest.fixture
async def clients(replicas: tuple[str, str, str]) -> Any:
    backend, one, two = replicas
    if backend == "redis":
        import redis.asyncio as redis

        r = redis.from_url(REDIS_URL)
        try:  # the per-address login key is shared by every test
            async for key in r.scan_iter("rl:login:*"):
                await r.delete(key)
        finally:
            await r.aclose()
    await _away_from_a_window_edge()
    async with (
        httpx.AsyncClient(base_url=one, timeout=30) as a,
        httpx.AsyncClient(base_url=two, timeout=30) as b,
    ):
        yield a, b


async def _away_from_a_window_edge(margin: float = 15.0) -> None:
    """Limits count in fixed windows: start well inside one."""
    left = WINDOW - time.time() % WINDOW
    if left < margin:
        await asyncio.sleep(left + 0.5)


async def _count(model: Any, *where: Any) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        TOKEN_URL, data={"grant_type": "password", "username": username, "password": password}
    )


def _retry_after(r: httpx.Response, window: int) -> int:
    value = int(r.headers["retry-after"])
    assert 1 <= value <= window
    return value


class TestRateLimitsAcrossReplicas:
    async def test_login_failures_on_both_processes_share_one_budget(
        self, clients: Any, session: Any
    ) -> None:
        a, b = clients
        name = f"replica.{uuid.uuid4().hex[:10]}"
        await make_user(session, grants=[(Role.admin, None)], username=name)
        for i in range(LOGIN_LIMIT):
            assert_problem(await _login((a, b)[i % 2], name, "guess-guess"), 400, "invalid_grant")
        for client in (a, b):  # the budget is spent for both, even with the right password
            r = await _login(client, name, PASSWORD)
            body = assert_problem(r, 429, "rate_limited")
            assert "access_token" not in body
            _retry_after(r, WINDOW)
            assert r.headers["ratelimit-policy"] == f'"login";q={LOGIN_LIMIT};w={WINDOW}'

    async def test_report_filing_on_both_processes_shares_one_budget(
        self, clients: Any, session: Any
    ) -> None:
        a, b = clients
        unit = await make_unit(session)
        member, headers = await make_member_user(session, unit)
        for i in range(REPORT_LIMIT):
            r = await (a, b)[i % 2].post("/api/v1/reports", json=report_body(), headers=headers)
            assert r.status_code == 201, r.text
        for client in (b, a):
            r = await client.post("/api/v1/reports", json=report_body(), headers=headers)
            assert_problem(r, 429, "rate_limited")
            _retry_after(r, WINDOW)
        assert await _count(Report, Report.reporter_member_id == member.id) == REPORT_LIMIT


class TestIdempotencyAcrossReplicas:
    async def test_a_key_used_on_one_process_replays_on_the_other(
        self, clients: Any, session: Any
    ) -> None:
        a, b = clients
        member, headers = await make_member_user(session, await make_unit(session))
        keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        body = {"url": f"https://www.facebook.com/replica.{uuid.uuid4().hex[:12]}"}
        url = f"/api/v1/members/{member.id}/accounts"
        first = await a.post(url, json=body, headers=keyed)
        assert first.status_code == 201, first.text
        again = await b.post(url, json=body, headers=keyed)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert again.headers["location"] == first.headers["location"]
        assert await _count(Account, Account.member_id == member.id) == 1

    async def test_the_same_key_with_another_body_on_the_other_process_is_422(
        self, clients: Any, session: Any
    ) -> None:
        a, b = clients
        member, headers = await make_member_user(session, await make_unit(session))
        keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        url = f"/api/v1/members/{member.id}/accounts"
        r = await a.post(url, json={"url": "https://www.facebook.com/replica.one"}, headers=keyed)
        assert r.status_code == 201, r.text
        r = await b.post(url, json={"url": "https://www.facebook.com/replica.two"}, headers=keyed)
        assert_problem(r, 422, "idempotency_key_mismatch")
        assert await _count(Account, Account.member_id == member.id) == 1

    @pytest.mark.parametrize("target", ["account", "report"])
    async def test_the_same_key_sent_to_both_at_once_writes_one_row(
        self, clients: Any, session: Any, target: str
    ) -> None:
        """Both requests pass the replay check before either commits; the write or the
        key's unique index makes the second wait for the first. The first answers 201;
        the second either replays it (201, `Idempotent-Replayed`) or answers 409
        `idempotency_in_progress` (retrying then replays)."""
        a, b = clients
        unit = await make_unit(session)
        seen: Counter[str] = Counter()
        for _ in range(4):  # a member per round: the report budget is per member
            member, headers = await make_member_user(session, unit)
            keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
            if target == "account":
                url = f"/api/v1/members/{member.id}/accounts"
                body: dict[str, Any] = {
                    "url": f"https://www.facebook.com/both.{uuid.uuid4().hex[:12]}"
                }
            else:
                url, body = "/api/v1/reports", report_body()
            answers = await asyncio.gather(
                a.post(url, json=body, headers=keyed), b.post(url, json=body, headers=keyed)
            )
            seen.update(
                f"{r.status_code} {r.headers.get('idempotent-replayed', '')}".strip()
                for r in answers
            )
            created = [r for r in answers if r.status_code == 201]
            assert created, [(r.status_code, r.text[:300]) for r in answers]
            for r in answers:
                if r.status_code != 201:
                    assert_problem(r, 409, "idempotency_in_progress")
            if len(created) == 2:
                assert created[0].json() == created[1].json()
                assert sorted(r.headers.get("idempotent-replayed", "") for r in created) == [
                    "",
                    "true",
                ]
            retry = await (a, b)[len(seen) % 2].post(url, json=body, headers=keyed)
            assert retry.status_code == 201
            assert retry.json() == created[0].json()
            assert retry.headers["idempotent-replayed"] == "true"
            model, column = (
                (Account, Account.member_id)
                if target == "account"
                else (Report, Report.reporter_member_id)
            )
            assert await _count(model, column == member.id) == 1, [
                (r.status_code, r.headers.get("idempotent-replayed"), r.text[:400]) for r in answers
            ]
        print(f"concurrent same-key answers ({target}): {dict(seen)}")  # noqa: T201 - shown with -s


class TestTokensAcrossReplicas:
    async def test_a_token_issued_by_one_process_works_on_the_other(
        self, clients: Any, session: Any
    ) -> None:
        a, b = clients
        name = f"replica.{uuid.uuid4().hex[:10]}"
        user = await make_user(session, grants=[(Role.admin, None)], username=name)
        r = await _login(a, name, PASSWORD)
        assert r.status_code == 200, r.text
        tokens = r.json()
        me = await b.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 200, me.text
        assert me.json()["id"] == str(user.id)
        # The refresh token rotates on the other process, and its reuse revokes the family.
        data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        assert (await b.post(TOKEN_URL, data=data)).status_code == 200
        assert_problem(await a.post(TOKEN_URL, data=data), 400, "invalid_grant")

    async def test_a_revocation_on_one_process_holds_on_the_other_within_the_cache_bound(
        self, clients: Any, session: Any
    ) -> None:
        a, b = clients
        admin = auth(await make_user(session, grants=[(Role.admin, None)]))
        unit = await make_unit(session)
        user = await make_user(session, grants=[(Role.reviewer, unit)])
        headers = auth(user)
        for client in (a, b):  # both processes have checked (and cached) the principal
            assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
        r = await a.patch(f"/api/v1/users/{user.id}", json={"active": False}, headers=admin)
        assert r.status_code == 200, r.text
        revoked = time.monotonic()
        assert_problem(await a.get("/api/v1/auth/me", headers=headers), 401, "invalid_token")
        while True:
            r = await b.get("/api/v1/auth/me", headers=headers)
            if r.status_code == 401:
                break
            assert r.status_code == 200
            assert time.monotonic() - revoked < CACHE_SECONDS + 1.0, (
                "still accepted on the other process"
            )
            await asyncio.sleep(0.05)
        assert_problem(r, 401, "invalid_token")
