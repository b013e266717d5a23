"""The statistics counters (api/services/counters/): `qd85 recount` / recount_all on a
database built by factories (which bypass the counters), its idempotence, touch() on its
own, and no lost update under concurrent writers (PostgreSQL only)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import db, utcnow
from api.core.enums import AccountStatus, Declaration, DocumentStatus, MemberStatus
from api.models import DocumentAcknowledgement, Report, UnitRollup, UnitStats
from api.services import counters
from tests.cli import run_qd85
from tests.support.factories import make_account, make_document, make_member
from tests.support.stats import (
    Api,
    assert_figures,
    brute_force,
    counter_diff,
    counter_rows,
    load_world,
    maintained_and_rebuilt,
    recount,
)
from tests.support.world import Org, build_org


async def _factory_world(session: AsyncSession, org: Org) -> None:
    """Rows of every counted kind, written directly (no counters maintained)."""
    people = [
        await make_member(session, org.a1, is_leader=True),
        await make_member(session, org.a1, status=MemberStatus.exempt),
        await make_member(session, org.a2, declaration=Declaration.declared_none),
        await make_member(session, org.b1, is_leader=True),
        await make_member(session, org.b2, status=MemberStatus.transferred),
        await make_member(session, org.a),
    ]
    await make_account(session, people[0], status=AccountStatus.verified)
    await make_account(session, people[0], "https://www.youtube.com/@kenh.mau.1")
    await make_account(session, people[1], status=AccountStatus.compromised)
    await make_account(session, people[3], "https://www.tiktok.com/@mau.b1")
    await make_account(session, people[4], status=AccountStatus.pending)
    await make_account(session, people[3], status=AccountStatus.rejected)
    doc = await make_document(session, org.a)
    await make_document(session, org.root, status=DocumentStatus.archived)
    old = await make_document(session, org.a1, revision=2)
    await make_document(session, org.b, requires_ack=False)
    for member, d, rev in (
        (org.me, doc, 1),
        (people[0], doc, 1),
        (people[0], old, 1),
        (people[5], doc, 1),
        (people[3], doc, 1),
    ):
        session.add(
            DocumentAcknowledgement(
                document_id=d.id, member_id=member.id, revision=rev, acknowledged_at=utcnow()
            )
        )
    now = utcnow()
    for i, (member, status) in enumerate(
        (
            (org.me, "resolved"),
            (org.me, "submitted"),
            (people[3], "resolved"),
            (people[5], "escalated"),
            (people[0], "withdrawn"),
        )
    ):
        session.add(
            Report(
                reporter_member_id=member.id,
                unit_id=member.unit_id,
                url=f"https://x.com/a/status/{i}",
                canonical_url=f"https://x.com/a/status/{i}",
                content_hash=f"{i:064d}",
                platform="x",
                category="scam",
                description="Lừa đảo",
                description_search="lua dao",
                proposed_action="monitor",
                status=status,
                priority="normal",
                due_at=now - timedelta(hours=1),
                created_at=now - timedelta(hours=10 + i),
                updated_at=now,
                closed_at=now - timedelta(hours=i) if status == "resolved" else None,
            )
        )
    await session.commit()


async def _figures_match(client: httpx.AsyncClient, org: Org) -> None:
    w = await load_world()
    api = Api(client, org.headers("admin"))
    for unit in (org.root, org.a, org.b):
        for row in (await api.compliance(unit.id))["rows"]:
            target = unit.id if row["is_total"] else uuid.UUID(row["unit_id"])
            assert_figures(row, brute_force(w, target), median_abs=1.5e-4, where=row["unit_name"])


class TestRecount:
    async def test_recount_all_rebuilds_what_factories_bypassed(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        await _factory_world(session, org)
        api = Api(client, org.headers("admin"))
        before = (await api.compliance(org.root.id, group_by="self"))["rows"][0]
        assert (before["members_active"], before["accounts_total"], before["reports_filed"]) == (
            0,
            0,
            0,
        )
        async with db.sessionmaker() as s:
            assert await counters.recount_all(s) == 7
            await s.commit()
        total = (await api.compliance(org.root.id, group_by="self"))["rows"][0]
        # me, people 0, 2, 3, 5 are active; people 0 and 3 lead.
        assert (total["members_active"], total["leaders_active"]) == (5, 2)
        # Claimed: verified, pending youtube, compromised, pending tiktok, transferred's pending.
        assert (total["accounts_total"], total["accounts_verified"], total["accounts_pending"]) == (
            5,
            1,
            3,
        )
        assert (total["reports_filed"], total["reports_open"], total["reports_resolved"]) == (
            5,
            2,
            2,
        )
        assert total["reports_overdue"] == 2
        # Resolved after 10 h (me) and 12 − 2 = 10 h (people[3]).
        assert total["median_hours_to_resolve"] == 10.0
        await _figures_match(client, org)

    async def test_recount_twice_gives_the_same_rows(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        await _factory_world(session, org)
        await recount()
        async with db.sessionmaker() as s:
            first = await counter_rows(s)
            n_stats = await s.scalar(select(func.count()).select_from(UnitStats))
            n_rollups = await s.scalar(select(func.count()).select_from(UnitRollup))
        await recount()
        async with db.sessionmaker() as s:
            assert await counter_rows(s) == first
            assert await s.scalar(select(func.count()).select_from(UnitStats)) == n_stats == 7
            assert await s.scalar(select(func.count()).select_from(UnitRollup)) == n_rollups == 7
        assert first["unit_stats"]
        assert first["unit_rollups"]
        assert first["unit_document_acks"]
        maintained, rebuilt = await maintained_and_rebuilt()
        assert maintained == rebuilt

    async def test_the_qd85_recount_command(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        await _factory_world(session, org)
        await db.dispose()  # the command opens its own connections
        status, out, err = await run_qd85("recount")
        assert status == 0, err
        assert out.strip() == "recounted the statistics of 7 units"
        await _figures_match(client, org)
        maintained, rebuilt = await maintained_and_rebuilt()
        assert maintained == rebuilt

    async def test_qd85_recount_on_an_unreachable_database_is_one_line(self) -> None:
        env = {"QD85_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:9/none"}
        status, _out, err = await run_qd85("recount", env=env)
        assert status != 0
        assert len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err


class TestTouch:
    async def test_touch_recounts_the_unit_and_its_ancestors_only(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        await recount()
        await make_member(session, org.a1)
        await make_member(session, org.b1)  # not touched below: stays uncounted
        async with db.sessionmaker() as s:
            await counters.touch(s, [org.a1.id])
            await s.commit()
        rows = {
            r["unit_code"]: r["members_active"]
            for r in (await Api(client, org.headers("admin")).compliance(org.root.id))["rows"]
        }
        assert rows == {"A": 2, "B": 0, None: 2}
        maintained, rebuilt = await maintained_and_rebuilt()
        diff = counter_diff(maintained, rebuilt, {org.b1.id: "B1", org.b.id: "B", org.root.id: "R"})
        assert set(diff) == {
            "unit_stats[B1]",
            "unit_rollups[B1]",
            "unit_rollups[B]",
            "unit_rollups[R]",
        }

    async def test_touch_with_nothing_is_a_no_op(self, session: AsyncSession) -> None:
        org = await build_org(session)
        await recount()
        async with db.sessionmaker() as s:
            before = await counter_rows(s)
            await counters.touch(s, [])
            await counters.touch(s, [None])
            assert await counter_rows(s) == before
        assert org.root.id in before["unit_rollups"]


class TestConcurrency:
    async def test_concurrent_writers_in_one_unit_lose_no_update(
        self, client: httpx.AsyncClient, session: AsyncSession, is_postgres: bool
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite serialises writers; row locks are PostgreSQL's")
        org = await build_org(session)
        await recount()
        api = Api(client, org.headers("manager_a"))
        n = 12
        created = await asyncio.gather(
            *(api.member(org.a1.id, is_leader=i % 3 == 0) for i in range(n))
        )
        ids = [c["id"] for c in created]
        # Concurrent declarations by different members of the same unit, and declarations
        # of "no accounts", and members moving in from a sibling.
        movers = [
            (await Api(client, org.headers("admin")).member(org.a2.id))["id"] for _ in range(4)
        ]
        await asyncio.gather(
            *(api.declare(m, "facebook") for m in ids[:6]),
            *(api.declare_none(m) for m in ids[6:]),
            *(api.patch_member(m, unit_id=org.a1.id) for m in movers),
        )
        member_headers = []
        async with db.sessionmaker() as s:
            from tests.support.stats import login_for

            for m in ids[:6]:
                member_headers.append(await login_for(s, m))
        doc = await Api(client, org.headers("admin")).document(org.a.id)
        await asyncio.gather(
            *(api.ack(doc["id"], h) for h in member_headers),
            *(api.report(h) for h in member_headers),
        )
        row = (await Api(client, org.headers("admin")).compliance(org.a1.id, group_by="self"))[
            "rows"
        ][0]
        assert row["members_active"] == 1 + n + 4
        assert row["members_declared"] == n
        assert (row["acks_done"], row["reports_filed"], row["accounts_total"]) == (6, 6, 6)
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}

    async def test_concurrent_acknowledgements_across_units(
        self, client: httpx.AsyncClient, session: AsyncSession, is_postgres: bool
    ) -> None:
        """Writers in different units meet in the common ancestors' rollups."""
        if not is_postgres:
            pytest.skip("SQLite serialises writers; row locks are PostgreSQL's")
        org = await build_org(session)
        await recount()
        admin = Api(client, org.headers("admin"))
        units = [org.a1, org.a2, org.b1, org.b2]
        members = [(await admin.member(u.id))["id"] for u in units for _ in range(3)]
        async with db.sessionmaker() as s:
            from tests.support.stats import login_for

            headers = [await login_for(s, m) for m in members]
        doc = await admin.document(org.root.id)
        await asyncio.gather(*(admin.ack(doc["id"], h) for h in headers))
        total = (await admin.compliance(org.root.id, group_by="self"))["rows"][0]
        assert (total["acks_done"], total["acks_expected"]) == (12, 13)  # and `me`
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}
