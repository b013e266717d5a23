"""Two API nodes sharing one S3 store (issue 18): two real uvicorn processes on the test
database (and Redis when one answers on 127.0.0.1:6379), both with QD85_STORAGE_BACKEND=s3
on the session's SeaweedFS (tests/seaweed.py). A file uploaded through one node downloads
through the other; with SeaweedFS stopped, uploads answer 503 `service_unavailable` with
Retry-After while reads that do not need the store go on, and both nodes recover by
themselves when it returns. (Rate limits, idempotency and revocations across nodes:
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
from sqlalchemy.ext.asyncio import AsyncSession

from tests.replicas.test_replicas import REDIS_URL, REPLICA_ENV, Replica, _redis_up
from tests.seaweed import Seaweed
from tests.support.factories import file_report, make_member_user, make_unit, png_bytes
from tests.support.problems import assert_problem

RECOVERY_SECONDS = 60.0


@pytest.fixture(scope="module")
def nodes(
    database: str, seaweed: Seaweed, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    env = {
        **os.environ, **REPLICA_ENV, "QD85_DATABASE_URL": database,
        **seaweed.env(prefix=f"nodes-{uuid.uuid4().hex[:8]}/"),
    }  # fmt: skip
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
        f"/api/v1/reports/{rid}/evidence", headers=headers,
        files={"file": ("ảnh.png", data, "image/png")},
    )  # fmt: skip


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
                assert_problem(await client.get(stored.headers["location"], headers=headers),
                               503, "service_unavailable")  # fmt: skip
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
