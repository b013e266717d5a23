"""Two API nodes sharing one S3 store (issue 18): two real uvicorn processes on the test
database (and Redis when one answers on 127.0.0.1:6379), both with QD85_STORAGE_BACKEND=s3
on the session's SeaweedFS (tests/seaweed.py). A file uploaded through one node downloads
through the other; with SeaweedFS stopped, uploads answer 503 `service_unavailable` with
Retry-After while reads that do not need the store go on, and both nodes recover by
themselves when it returns. On PostgreSQL, the statistics folder that runs in every node
folds on one node at a time (its advisory lock), while reads through either node stay
exact. (Rate limits, idempotency and revocations across nodes:
tests/replicas/test_replicas.py.)"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from api.core.enums import Role
from api.models import CounterDelta
from api.services import counters
from tests.conftest import TEST_DATABASE_URL
from tests.replicas.test_replicas import REDIS_URL, REPLICA_ENV, Replica, _redis_up
from tests.seaweed import Seaweed
from tests.support.factories import file_report, make_member_user, make_unit, png_bytes
from tests.support.problems import assert_problem

RECOVERY_SECONDS = 60.0
FOLD_INTERVAL = 0.2


@pytest.fixture(scope="module")
def nodes(
    database: str, seaweed: Seaweed, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    env = {
        **os.environ,
        **REPLICA_ENV,
        "QD85_DATABASE_URL": database,
        **seaweed.env(prefix=f"nodes-{uuid.uuid4().hex[:8]}/"),
        "QD85_FOLD_INTERVAL_SECONDS": str(FOLD_INTERVAL),
    }
    env.pop("QD85_REDIS_URL", None)
    if _redis_up():
        env["QD85_REDIS_URL"] = REDIS_URL
    logs = tmp_path_factory.mktemp("s3-nodes")
    started: list[Replica] = []
    try:
        for n in (1, 2):
            started.append(Replica(env, logs / f"node{n}.log"))
        for node in started:
            node.wait_ready()
        yield started[0].base_url, started[1].base_url
    finally:
        for node in started:
            node.stop()


@pytest.fixture
async def clients(nodes: tuple[str, str]) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    async with (
        httpx.AsyncClient(base_url=nodes[0], timeout=30) as a,
        httpx.AsyncClient(base_url=nodes[1], timeout=30) as b,
    ):
        yield a, b


async def _upload(client: httpx.AsyncClient, rid: str, headers: dict[str, str], data: bytes) -> Any:
    return await client.post(
        f"/api/v1/reports/{rid}/evidence",
        headers=headers,
        files={"file": ("ảnh.png", data, "image/png")},
    )


class TestFilesAcrossNodes:
    async def test_a_file_uploaded_through_one_node_downloads_through_the_other(
        self, clients: tuple[httpx.AsyncClient, ...], session: AsyncSession
    ) -> None:
        a, b = clients
        _, headers = await make_member_user(session, await make_unit(session))
        report = await file_report(a, headers)
        content = png_bytes(2_500_000)  # spooled to disk by the node, streamed to the store
        r = await _upload(a, report["id"], headers, content)
        assert r.status_code == 201, r.text
        assert r.json()["sha256"] == hashlib.sha256(content).hexdigest()
        down = await b.get(r.headers["location"], headers=headers)
        assert down.status_code == 200, down.text
        assert down.content == content
        assert down.headers["content-type"] == "image/png"
        for client in (a, b):
            ready = await client.get("/readyz")
            assert ready.json() == {"status": "ready", "database": "ok", "store": "s3"}


class TestStoreOutage:
    async def test_uploads_are_503_while_the_store_is_down_and_recover_when_it_returns(
        self, clients: tuple[httpx.AsyncClient, ...], session: AsyncSession, seaweed: Seaweed
    ) -> None:
        a, b = clients
        _, headers = await make_member_user(session, await make_unit(session))
        report = await file_report(a, headers)
        stored = await _upload(a, report["id"], headers, png_bytes(4000))
        assert stored.status_code == 201, stored.text
        seaweed.stop()
        try:
            for client in (a, b):
                r = await _upload(client, report["id"], headers, png_bytes(5000))
                assert_problem(r, 503, "service_unavailable")
                assert int(r.headers["retry-after"]) >= 1
                # The stored bytes cannot be served now: 503 too, not a broken 200.
                assert_problem(
                    await client.get(stored.headers["location"], headers=headers),
                    503,
                    "service_unavailable",
                )
                assert_problem(await client.get("/readyz"), 503, "service_unavailable")
                # Everything else reads on: the report, its evidence list, the login.
                got = await client.get(f"/api/v1/reports/{report['id']}", headers=headers)
                assert got.status_code == 200, got.text
                listed = await client.get(
                    f"/api/v1/reports/{report['id']}/evidence", headers=headers
                )
                assert [e["id"] for e in listed.json()["items"]] == [stored.json()["id"]]
                assert (await client.get("/healthz")).status_code == 200
        finally:
            seaweed.start()
        # Back: no restart of the nodes, no reset; both upload and serve again.
        deadline = time.monotonic() + RECOVERY_SECONDS
        for n, client in enumerate((a, b)):
            while True:
                r = await _upload(client, report["id"], headers, png_bytes(6000 + n))
                if r.status_code == 201 or time.monotonic() > deadline:
                    break
                assert_problem(r, 503, "service_unavailable")
                await asyncio.sleep(0.5)
            assert r.status_code == 201, r.text
            down = await client.get(stored.headers["location"], headers=headers)
            assert down.status_code == 200
            assert down.content == png_bytes(4000)


@pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"), reason="SQLite folds inside each write"
)
class TestFolderAcrossNodes:
    async def test_the_folder_runs_on_one_node_at_a_time(
        self, clients: tuple[httpx.AsyncClient, ...], session: AsyncSession
    ) -> None:
        """Both nodes run the folder every FOLD_INTERVAL. While a third holder (this test)
        has the folder's advisory lock, neither node folds — the deltas written through
        both stay pending — yet statistics read through either node are exact; once the
        lock is free, a node folds them all, and the figures do not change."""
        unit = await make_unit(session)
        people = [await make_member_user(session, unit) for _ in range(2)]
        stats = {"unit_id": str(unit.id), "group_by": "self"}
        _, analyst = await make_member_user(session, unit, grants=[(Role.analyst, unit)])
        engine = create_async_engine(TEST_DATABASE_URL)
        try:
            async with engine.connect() as holder:
                await holder.execute(select(func.pg_advisory_lock(counters.FOLD_LOCK)))
                await holder.commit()
                for n, (client, (member, headers)) in enumerate(zip(clients, people, strict=True)):
                    r = await client.post(
                        f"/api/v1/members/{member.id}/accounts",
                        headers=headers,
                        json={
                            "url": f"https://www.facebook.com/qd85.nodes.{n}.{uuid.uuid4().hex[:6]}"
                        },
                    )
                    assert r.status_code == 201, r.text
                await asyncio.sleep(FOLD_INTERVAL * 10)  # every node tried several times
                assert await _pending(engine, unit.id) == 2
                for client in clients:
                    r = await client.get("/api/v1/stats/compliance", params=stats, headers=analyst)
                    assert r.json()["rows"][0]["accounts_total"] == 2, r.text
                await holder.execute(select(func.pg_advisory_unlock(counters.FOLD_LOCK)))
                await holder.commit()
            for _ in range(int(20 / FOLD_INTERVAL)):
                if not await _pending(engine, unit.id):
                    break
                await asyncio.sleep(FOLD_INTERVAL)
            assert await _pending(engine, unit.id) == 0
            for client in clients:
                r = await client.get("/api/v1/stats/compliance", params=stats, headers=analyst)
                assert r.json()["rows"][0]["accounts_total"] == 2, r.text
        finally:
            await engine.dispose()


async def _pending(engine: Any, unit_id: Any) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(
            select(func.count()).select_from(CounterDelta).where(CounterDelta.unit_id == unit_id)
        )
        return int(found or 0)
