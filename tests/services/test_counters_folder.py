"""The write path of the statistics (issue 13): a counted write appends its deltas and
never touches a row shared with writers elsewhere; reads add the pending deltas, so they
are exact at once; the folder merges deltas into the rollups without losing or
double-counting any, whatever crashes or runs beside it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import db
from api.main import create_app
from api.models import Account, CounterDelta, DocumentAcknowledgement, Member
from api.services import counters
from api.services.counters import writes as counter_writes
from tests.cli import run_qd85
from tests.support.stats import Api, counter_diff, login_for, maintained_and_rebuilt, recount
from tests.support.world import Org, build_org

COMPLIANCE = "/api/v1/stats/compliance"


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    org = await build_org(session)
    await recount()
    return org


async def pending() -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(CounterDelta)) or 0)


async def unfolded_total(client: httpx.AsyncClient, org: Org, unit: Any = None) -> dict[str, Any]:
    """The root's (or a unit's) total row as read now, without folding anything."""
    r = await client.get(
        COMPLIANCE,
        params={"unit_id": str((unit or org.root).id), "group_by": "self"},
        headers=org.headers("admin"),
    )
    assert r.status_code == 200, r.text
    row: dict[str, Any] = r.json()["rows"][0]
    return row


def postgres_only(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("SQLite folds inside each write (one writer at a time): nothing pends")


class TestReadYourWrites:
    """Each kind of counted write, then at once a statistics read that includes it."""

    async def test_every_counted_write_is_in_the_next_read(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, is_postgres: bool
    ) -> None:
        admin = Api(client, org.headers("admin"))
        before = await unfolded_total(client, org)
        m = await admin.member(org.a1.id, is_leader=True)
        row = await unfolded_total(client, org)
        assert (row["members_active"], row["leaders_active"]) == (
            before["members_active"] + 1,
            before["leaders_active"] + 1,
        )
        await admin.declare(m["id"])
        row = await unfolded_total(client, org)
        assert (row["accounts_total"], row["members_declared"]) == (
            before["accounts_total"] + 1,
            before["members_declared"] + 1,
        )
        doc = await admin.document(org.a.id)
        row = await unfolded_total(client, org)
        assert row["acks_expected"] == before["acks_expected"] + 2  # `me` and m, both in A
        headers = await login_for(session, uuid.UUID(m["id"]))
        await admin.ack(doc["id"], headers)
        row = await unfolded_total(client, org)
        assert row["acks_done"] == before["acks_done"] + 1
        report = await admin.report(headers)
        row = await unfolded_total(client, org)
        assert (row["reports_filed"], row["reports_open"]) == (
            before["reports_filed"] + 1,
            before["reports_open"] + 1,
        )
        for to in ("in_review", "resolved"):
            await admin.move_report(report["id"], to)
        row = await unfolded_total(client, org)
        assert (row["reports_open"], row["reports_resolved"]) == (
            before["reports_open"],
            before["reports_resolved"] + 1,
        )
        await admin.patch_member(m["id"], status="transferred")
        row = await unfolded_total(client, org, org.a)
        assert row["members_active"] == 1  # `me` alone in A now
        if is_postgres:
            assert await pending() > 0, "the reads above were served with deltas pending"
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}
        assert await pending() == 0


class TestFolder:
    async def _some_writes(self, client: httpx.AsyncClient, org: Org, n: int = 6) -> None:
        admin = Api(client, org.headers("admin"))
        for i, unit in enumerate([org.a1, org.a2, org.b1, org.b2] * (n // 4 + 1)):
            if i == n:
                break
            m = await admin.member(unit.id, is_leader=i % 2 == 0)
            await admin.declare(m["id"])

    async def test_a_crash_between_append_and_fold_loses_nothing(
        self, client: httpx.AsyncClient, org: Org, is_postgres: bool
    ) -> None:
        postgres_only(is_postgres)
        await self._some_writes(client, org)
        waiting = await pending()
        assert waiting > 0
        read = await unfolded_total(client, org)
        async with db.sessionmaker() as s:
            assert await counters.fold(s) == waiting
            await s.rollback()  # the folder dies before its commit
        assert await pending() == waiting
        assert await unfolded_total(client, org) == read
        async with db.sessionmaker() as s:
            assert await counters.fold_all(s) == waiting
        assert await pending() == 0
        assert await unfolded_total(client, org) == read
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}

    async def test_medians_settle_while_counts_fold(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, is_postgres: bool
    ) -> None:
        """A resolved report's delta waits `settle` seconds for its median refresh; every
        other delta folds, and the counts read meanwhile are exact."""
        postgres_only(is_postgres)
        admin = Api(client, org.headers("admin"))
        m = await admin.member(org.a1.id)
        report = await admin.report(await login_for(session, uuid.UUID(m["id"])))
        for to in ("in_review", "resolved"):
            await admin.move_report(report["id"], to)
        await self._some_writes(client, org, n=2)
        read = await unfolded_total(client, org)
        assert read["reports_resolved"] >= 1
        assert read["median_hours_to_resolve"] is None
        async with db.sessionmaker() as s:
            assert await counters.fold_all(s, settle=3600) > 0
        settling = await pending()
        async with db.sessionmaker() as s:
            held = await s.scalars(select(CounterDelta.reports))
            assert all(held), "only median-changing deltas wait"
        assert settling >= 1
        assert await unfolded_total(client, org) == read
        async with db.sessionmaker() as s:
            assert await counters.fold_all(s, settle=0.001) == settling  # now old enough
        assert await pending() == 0
        row = await unfolded_total(client, org)
        assert row["median_hours_to_resolve"] is not None
        assert {k: v for k, v in row.items() if k != "median_hours_to_resolve"} == {
            k: v for k, v in read.items() if k != "median_hours_to_resolve"
        }
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}

    async def test_two_folders_at_once_double_count_nothing(
        self, client: httpx.AsyncClient, org: Org, is_postgres: bool
    ) -> None:
        postgres_only(is_postgres)
        await self._some_writes(client, org, 12)
        waiting = await pending()

        async def folder() -> int:
            async with db.sessionmaker() as s:
                return await counters.fold_all(s)

        for _ in range(3):  # small batches, so that the two interleave
            counters_batch = counters.FOLD_BATCH
            counters.FOLD_BATCH = 2
            try:
                done = await asyncio.gather(folder(), folder(), folder())
            finally:
                counters.FOLD_BATCH = counters_batch
            assert sum(done) == waiting
            if await pending() == 0:
                break
        assert await pending() == 0
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}

    async def test_the_qd85_fold_command(
        self, client: httpx.AsyncClient, org: Org, is_postgres: bool
    ) -> None:
        await self._some_writes(client, org, 2)
        waiting = await pending()
        await db.dispose()  # the command opens its own connections
        status, out, err = await run_qd85("fold")
        assert status == 0, err
        assert out.strip() == f"folded {waiting} pending statistics deltas"
        assert await pending() == 0
        if is_postgres:
            assert waiting > 0


# --------------------------------------------------------------------------- no shared row


@pytest.fixture
def hold_first_write(monkeypatch: pytest.MonkeyPatch) -> tuple[asyncio.Event, asyncio.Event]:
    """The first counted write to finish its counters then waits, its transaction open
    with every lock it took, until `release` is set; `entered` says it got there."""
    entered, release = asyncio.Event(), asyncio.Event()
    real = counter_writes.fold_inline
    held = False

    async def hold(session: AsyncSession) -> None:
        nonlocal held
        if not held:
            held = True
            entered.set()
            await release.wait()
        await real(session)

    monkeypatch.setattr(counter_writes, "fold_inline", hold)  # what the writes call
    return entered, release


Write = Callable[[], Awaitable[httpx.Response]]


class TestDisjointWriters:
    """On PostgreSQL, with one write's transaction held open in province A, a write of
    the same kind in province B commits within a second: no row is shared up the tree.
    A write in the held write's own cell does wait (its counters are that cell's), which
    shows the hold is real."""

    @pytest.fixture
    async def writers(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, is_postgres: bool
    ) -> dict[str, Any]:
        postgres_only(is_postgres)
        admin = Api(client, org.headers("admin"))
        people = {
            key: (await admin.member(unit.id))["id"]
            for key, unit in (("a", org.a1), ("a_too", org.a1), ("b", org.b1))
        }
        headers = {k: await login_for(session, uuid.UUID(v)) for k, v in people.items()}
        docs = {"a": await admin.document(org.a.id), "b": await admin.document(org.b.id)}
        drafts = {
            k: await admin.document(u.id, publish=False) for k, u in (("a", org.a), ("b", org.b))
        }
        return {
            "admin": admin,
            "people": people,
            "headers": headers,
            "docs": docs,
            "drafts": drafts,
        }

    async def _race(
        self,
        held_write: Write,
        other: Write,
        same_cell: Write | None,
        hold: tuple[asyncio.Event, asyncio.Event],
    ) -> None:
        entered, release = hold
        first = asyncio.create_task(held_write())
        try:
            await asyncio.wait_for(entered.wait(), 10)
            r = await asyncio.wait_for(other(), 1.0)  # TimeoutError: it waited on A
            assert r.status_code in (200, 201), r.text
            if same_cell is not None:
                blocked = asyncio.create_task(same_cell())
                await asyncio.sleep(0.5)
                assert not blocked.done(), "a write in the held write's own cell waits"
        finally:
            release.set()
        assert (await first).status_code in (200, 201)
        if same_cell is not None:
            assert (await blocked).status_code in (200, 201)
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}

    async def test_declarations(
        self,
        client: httpx.AsyncClient,
        writers: dict[str, Any],
        hold_first_write: tuple[asyncio.Event, asyncio.Event],
    ) -> None:
        admin, people = writers["admin"], writers["people"]
        await self._race(
            lambda: admin.declare(people["a"]),
            lambda: admin.declare(people["b"]),
            lambda: admin.declare(people["a_too"]),
            hold_first_write,
        )

    async def test_acknowledgements(
        self,
        client: httpx.AsyncClient,
        writers: dict[str, Any],
        hold_first_write: tuple[asyncio.Event, asyncio.Event],
    ) -> None:
        admin, h, docs = writers["admin"], writers["headers"], writers["docs"]
        await self._race(
            lambda: admin.ack(docs["a"]["id"], h["a"]),
            lambda: admin.ack(docs["b"]["id"], h["b"]),
            lambda: admin.ack(docs["a"]["id"], h["a_too"]),
            hold_first_write,
        )

    async def test_report_filings(
        self,
        client: httpx.AsyncClient,
        writers: dict[str, Any],
        hold_first_write: tuple[asyncio.Event, asyncio.Event],
    ) -> None:
        admin, h = writers["admin"], writers["headers"]

        def file(key: str) -> Write:
            async def go() -> httpx.Response:
                return await admin.call(
                    "POST",
                    "/reports",
                    (201,),
                    headers=h[key],
                    json={
                        "url": f"https://www.facebook.com/trang.xau/posts/{uuid.uuid4().int % 10**9}",  # noqa: E501
                        "category": "fake_news",
                        "proposed_action": "refute",
                        "description": "Bài viết xuyên tạc chủ trương.",
                    },
                )

            return go

        await self._race(file("a"), file("b"), file("a_too"), hold_first_write)

    async def test_document_publishes(
        self,
        client: httpx.AsyncClient,
        writers: dict[str, Any],
        hold_first_write: tuple[asyncio.Event, asyncio.Event],
    ) -> None:
        admin, drafts = writers["admin"], writers["drafts"]
        await self._race(
            lambda: admin.call("POST", f"/documents/{drafts['a']['id']}/publish"),
            lambda: admin.call("POST", f"/documents/{drafts['b']['id']}/publish"),
            None,
            hold_first_write,
        )


# --------------------------------------------------------------------------- under load


class TestWhileWritersRun:
    async def test_two_app_instances_write_while_a_reader_checks(
        self, session: AsyncSession, org: Org, is_postgres: bool
    ) -> None:
        """Two app instances declare accounts and acknowledge a document across the tree
        while the folder runs and a reader reads the root's figures: every read lies
        between the committed counts just before and just after it; at the end the
        figures equal a recount."""
        apps = [create_app(), create_app()]
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=a, client=("127.0.0.1", 50000 + i)),
                base_url="http://test",
            )
            for i, a in enumerate(apps)
        ]
        units = [org.a1, org.a2, org.b1, org.b2]
        try:
            admins = [Api(c, org.headers("admin")) for c in clients]
            members = [(await admins[0].member(u.id))["id"] for u in units for _ in range(4)]
            headers = [await login_for(session, uuid.UUID(m)) for m in members]
            doc = await admins[0].document(org.root.id)
            stop = asyncio.Event()

            async def committed() -> tuple[int, int]:
                async with db.read_sessionmaker() as s:
                    accounts = await s.scalar(
                        select(func.count())
                        .select_from(Account)
                        .where(Account.claim_key.is_not(None))
                    )
                    acks = await s.scalar(
                        select(func.count())
                        .select_from(DocumentAcknowledgement)
                        .join(Member, Member.id == DocumentAcknowledgement.member_id)
                        .where(DocumentAcknowledgement.document_id == uuid.UUID(doc["id"]))
                    )
                return int(accounts or 0), int(acks or 0)

            async def reader() -> int:
                reads = 0
                while not stop.is_set():
                    low = await committed()
                    r = await clients[reads % 2].get(
                        COMPLIANCE,
                        params={"unit_id": str(org.root.id), "group_by": "self"},
                        headers=org.headers("admin"),
                    )
                    high = await committed()
                    row = r.json()["rows"][0]
                    assert low[0] <= row["accounts_total"] <= high[0]
                    assert low[1] <= row["acks_done"] <= high[1]
                    reads += 1
                return reads

            async def folder() -> None:
                while not stop.is_set():
                    async with db.sessionmaker() as s:
                        await counters.fold_all(s)
                    await asyncio.sleep(0.01)

            async def writer(i: int) -> None:
                api = admins[i % 2]
                await api.declare(members[i])
                await api.ack(doc["id"], headers[i])

            read_task = asyncio.create_task(reader())
            fold_task = asyncio.create_task(folder())
            await asyncio.gather(*(writer(i) for i in range(len(members))))
            stop.set()
            assert await read_task > 0
            await fold_task
            final = await unfolded_total(clients[0], org)
            assert (final["accounts_total"], final["acks_done"]) == (len(members), len(members))
        finally:
            for c in clients:
                await c.aclose()
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}
