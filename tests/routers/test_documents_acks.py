"""Acknowledgements of guidance documents: the member's acknowledgement (idempotent, bound
to the current revision, Idempotency-Key, concurrency), the member's own state in the
lists, and the managers' pending/done lists, exact on a fixture of known members."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.db import db, utcnow
from api.core.enums import Declaration, DocumentStatus, Membership, MemberStatus, Role
from api.core.text_vi import fold, name_sort_key
from api.models import AuditEvent, Document, DocumentAcknowledgement, Member
from tests.support.factories import auth, make_document, make_member, make_user
from tests.support.problems import assert_problem
from tests.support.reads import count_rows, walk
from tests.support.world import Org, build_org

DOCS = "/api/v1/documents"
Ack = DocumentAcknowledgement


def ack_url(doc_id: Any) -> str:
    return f"{DOCS}/{doc_id}/acknowledgements"


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


async def add_ack(
    session: AsyncSession, doc: Any, member: Member, revision: int | None = None
) -> Ack:
    ack = Ack(
        document_id=doc.id,
        member_id=member.id,
        revision=revision or doc.revision,
        acknowledged_at=utcnow() - timedelta(hours=1),
    )
    session.add(ack)
    await session.commit()
    return ack


# ---------------------------------------------------------------------------------------
# POST /documents/{id}/acknowledgements
# ---------------------------------------------------------------------------------------


class TestAcknowledge:
    async def test_first_time_201_then_the_same_record(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a)
        h = org.headers("member")
        first = await client.post(ack_url(doc.id), headers=h)
        assert first.status_code == 201, first.text
        body = first.json()
        assert set(body) == {"document_id", "member_id", "revision", "acknowledged_at"}
        assert (body["document_id"], body["member_id"], body["revision"]) == (
            str(doc.id),
            str(org.me.id),
            1,
        )
        for payload in ({}, None):
            again = await client.post(ack_url(doc.id), json=payload, headers=h)
            assert again.status_code == 200, again.text
            assert again.json() == body
        assert await count_rows(Ack) == 1
        assert await count_rows(AuditEvent, AuditEvent.action == "document.acknowledge") == 1
        r = await client.get(f"{DOCS}/{doc.id}", headers=h)
        assert (r.json()["ack_state"], r.json()["acknowledged_at"]) == (
            "done",
            body["acknowledged_at"],
        )

    async def test_bad_body_is_422(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a)
        for payload in ({"revision": 1}, {"member_id": str(uuid.uuid4())}):
            r = await client.post(ack_url(doc.id), json=payload, headers=org.headers("member"))
            assert_problem(r, 422, "validation_failed")
        r = await client.post(
            ack_url(doc.id),
            content=b"{",
            headers={**org.headers("member"), "Content-Type": "application/json"},
        )
        assert_problem(r, 400, "invalid_json")
        assert await count_rows(Ack) == 0

    async def test_not_addressed_draft_archived_unknown(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        h = org.headers("member")
        cases = [
            (await make_document(session, org.a2), 404, "not_found"),  # a sibling cell
            (await make_document(session, org.b), 404, "not_found"),
            (await make_document(session, org.a1, status=DocumentStatus.draft), 404, "not_found"),
            (
                await make_document(session, org.a1, status=DocumentStatus.archived),
                409,
                "document_not_published",
            ),
        ]
        for doc, status, code in cases:
            assert_problem(await client.post(ack_url(doc.id), headers=h), status, code)
        assert_problem(await client.post(ack_url(uuid.uuid4()), headers=h), 404, "not_found")
        assert await count_rows(Ack) == 0

    async def test_a_document_not_requiring_acknowledgement(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a1, requires_ack=False)
        h = org.headers("member")
        r = await client.get(f"{DOCS}/{doc.id}", headers=h)
        assert r.json()["ack_state"] is None  # nothing asked
        assert (await client.get(DOCS, params={"ack_state": "pending"}, headers=h)).json()[
            "items"
        ] == []
        assert (await client.post(ack_url(doc.id), headers=h)).status_code == 201
        r = await client.get(DOCS, params={"ack_state": "done"}, headers=h)
        assert [d["id"] for d in r.json()["items"]] == [str(doc.id)]

    async def test_a_new_revision_asks_again(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a1, body="Bản 1")
        member, manager = org.headers("member"), org.headers("manager_a")
        first = await client.post(ack_url(doc.id), headers=member)
        assert (first.status_code, first.json()["revision"]) == (201, 1)
        r = await client.patch(f"{DOCS}/{doc.id}", json={"body": "Bản 2"}, headers=manager)
        assert r.json()["revision"] == 2
        r = await client.get(f"{DOCS}/{doc.id}", headers=member)
        assert (r.json()["revision"], r.json()["ack_state"], r.json()["acknowledged_at"]) == (
            2,
            "pending",
            None,
        )
        r = await client.get(DOCS, params={"ack_state": "pending"}, headers=member)
        assert [d["id"] for d in r.json()["items"]] == [str(doc.id)]
        r = await client.get(ack_url(doc.id), params={"state": "pending"}, headers=manager)
        assert [i["member_id"] for i in r.json()["items"]] == [str(org.me.id)]
        second = await client.post(ack_url(doc.id), headers=member)
        assert (second.status_code, second.json()["revision"]) == (201, 2)
        assert await count_rows(Ack, Ack.member_id == org.me.id) == 2  # revision 1 is kept
        r = await client.get(ack_url(doc.id), params={"state": "done"}, headers=manager)
        assert [(i["member_id"], i["revision"]) for i in r.json()["items"]] == [(str(org.me.id), 2)]
        # A metadata change asks nothing again.
        await client.patch(
            f"{DOCS}/{doc.id}", json={"ack_due_at": "2031-01-01T00:00:00Z"}, headers=manager
        )
        r = await client.get(f"{DOCS}/{doc.id}", headers=member)
        assert (r.json()["revision"], r.json()["ack_state"]) == (2, "done")

    async def test_the_manager_and_member_sees_own_state_reset_by_own_edit(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        """A manager who is also an addressed member edits the content: the response no
        longer shows their acknowledgement of the old revision."""
        member = await make_member(session, org.a1, full_name="Cao Văn Sơn")
        h = auth(await make_user(session, grants=[(Role.manager, org.a)], member=member))
        doc = await make_document(session, org.a1)
        assert (await client.post(ack_url(doc.id), headers=h)).status_code == 201
        r = await client.patch(f"{DOCS}/{doc.id}", json={"issuer": "Khác"}, headers=h)
        assert r.json()["ack_state"] == "done"
        r = await client.patch(f"{DOCS}/{doc.id}", json={"title": "Khác"}, headers=h)
        assert (r.json()["revision"], r.json()["ack_state"], r.json()["acknowledged_at"]) == (
            2,
            "pending",
            None,
        )

    async def test_idempotency_key(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a1)
        other = await make_document(session, org.a1)
        h = {**org.headers("member"), "Idempotency-Key": "ack-1"}
        first = await client.post(ack_url(doc.id), headers=h)
        again = await client.post(ack_url(doc.id), json={}, headers=h)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert await count_rows(AuditEvent, AuditEvent.action == "document.acknowledge") == 1
        r = await client.post(ack_url(other.id), headers=h)  # same key, another document
        assert_problem(r, 422, "idempotency_key_mismatch")
        assert await count_rows(Ack) == 1

    async def test_concurrent_acknowledgements_make_one_record(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, is_postgres: bool
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
        doc = await make_document(session, org.a1)
        h = org.headers("member")
        responses = await asyncio.gather(
            *(client.post(ack_url(doc.id), headers=h) for _ in range(6))
        )
        assert sorted(r.status_code for r in responses) == [200] * 5 + [201], [
            r.text for r in responses
        ]
        assert len({r.json()["acknowledged_at"] for r in responses}) == 1
        assert await count_rows(Ack) == 1
        assert await count_rows(AuditEvent, AuditEvent.action == "document.acknowledge") == 1


# ---------------------------------------------------------------------------------------
# The member's list
# ---------------------------------------------------------------------------------------


class TestMemberList:
    async def test_own_state_and_deadline(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        due = utcnow().replace(microsecond=0) + timedelta(days=10)
        pending = await make_document(session, org.root, ack_due_at=due)
        done = await make_document(session, org.a)
        await add_ack(session, done, org.me)
        stale = await make_document(session, org.a1, revision=2)
        await add_ack(session, stale, org.me, revision=1)  # an older revision
        others = await make_document(session, org.a1)
        peer = await make_member(session, org.a1, full_name="Trần Văn Bình")
        await add_ack(session, others, peer)  # someone else's acknowledgement
        h = org.headers("member")
        items = {d["id"]: d for d in (await client.get(DOCS, headers=h)).json()["items"]}
        assert {k: v["ack_state"] for k, v in items.items()} == {
            str(pending.id): "pending",
            str(done.id): "done",
            str(stale.id): "pending",
            str(others.id): "pending",
        }
        assert items[str(pending.id)]["ack_due_at"] == due.isoformat().replace("+00:00", "Z")
        assert items[str(done.id)]["acknowledged_at"] is not None
        assert items[str(stale.id)]["acknowledged_at"] is None
        r = await client.get(DOCS, params={"ack_state": "pending"}, headers=h)
        assert {d["id"] for d in r.json()["items"]} == {
            str(pending.id),
            str(stale.id),
            str(others.id),
        }
        r = await client.get(DOCS, params={"ack_state": "done"}, headers=h)
        assert [d["id"] for d in r.json()["items"]] == [str(done.id)]


# ---------------------------------------------------------------------------------------
# GET /documents/{id}/acknowledgements (managers)
# ---------------------------------------------------------------------------------------

NAMES = {  # key -> (name, unit)
    "an": ("Nguyễn Văn An", "a1"),
    "binh": ("Trần Thị Bình", "a1"),
    "cuong": ("Phạm Văn Cường", "a2"),
    "dung": ("Đỗ Thị Dung", "a2"),
    "dat": ("Đào Văn Đạt", "b2"),
    "em": ("Vũ Văn Em", "b1"),
}
ORDER = ["an", "binh", "cuong", "dung", "dat", "em", "hoa"]  # Vietnamese: Dung < Đạt < Em


class TestManagerLists:
    @pytest.fixture
    async def people(self, session: AsyncSession, org: Org) -> dict[str, Member]:
        units = {"a1": org.a1, "a2": org.a2, "b1": org.b1, "b2": org.b2}
        people = {
            k: await make_member(session, units[u], full_name=n) for k, (n, u) in NAMES.items()
        }
        people["hoa"] = org.me
        # Not active: never listed.
        await make_member(
            session, org.a1, full_name="Hồ Văn Giang", status=MemberStatus.transferred
        )
        await make_member(session, org.a2, full_name="Lý Thị Hạnh", status=MemberStatus.exempt)
        return people

    @pytest.fixture
    async def doc(self, session: AsyncSession, org: Org, people: dict[str, Member]) -> Document:
        """Addressed to the root, at revision 2: Cường and Hoa acknowledged it, Bình only
        revision 1, Đạt both."""
        doc = await make_document(session, org.root, revision=2)
        for key in ("cuong", "hoa", "dat"):
            await add_ack(session, doc, people[key])
        for key in ("binh", "dat"):
            await add_ack(session, doc, people[key], revision=1)
        return doc

    async def listed(
        self, client: httpx.AsyncClient, org: Org, doc: Any, role: str = "admin", **params: Any
    ) -> list[tuple[str, str, Any]]:
        pages = await walk(client, ack_url(doc.id), org.headers(role), **params)
        return [(i["full_name"].split()[-1], i["state"], i["revision"]) for p in pages for i in p]

    @staticmethod
    def expect(
        people: dict[str, Member], keys: list[str], state: str
    ) -> list[tuple[str, str, int]]:
        return [(people[k].full_name.split()[-1], state, 2) for k in ORDER if k in keys]

    @pytest.mark.parametrize(
        ("role", "done", "pending"),
        [
            ("admin", ["cuong", "hoa", "dat"], ["an", "binh", "dung", "em"]),
            ("manager_a", ["cuong", "hoa"], ["an", "binh", "dung"]),
            ("manager_b", ["dat"], ["em"]),
        ],
    )
    async def test_exact_lists_by_scope(
        self,
        client: httpx.AsyncClient,
        org: Org,
        people: dict[str, Member],
        doc: Document,
        role: str,
        done: list[str],
        pending: list[str],
    ) -> None:
        assert await self.listed(client, org, doc, role, state="done") == self.expect(
            people, done, "done"
        )
        assert await self.listed(client, org, doc, role, state="pending") == self.expect(
            people, pending, "pending"
        )
        both = await self.listed(client, org, doc, role)
        assert both == [
            x
            for k in ORDER
            for x in self.expect(people, [k], "done" if k in done else "pending")
            if k in done + pending
        ]

    async def test_item_shape(
        self, client: httpx.AsyncClient, org: Org, people: dict[str, Member], doc: Document
    ) -> None:
        r = await client.get(
            ack_url(doc.id), params={"unit_id": str(org.a2.id)}, headers=org.headers("manager_a")
        )
        assert r.status_code == 200, r.text
        cuong, dung = r.json()["items"]
        assert set(cuong) == {
            "member_id",
            "full_name",
            "unit_id",
            "revision",
            "state",
            "acknowledged_at",
        }
        assert (cuong["member_id"], cuong["unit_id"], cuong["state"]) == (
            str(people["cuong"].id),
            str(org.a2.id),
            "done",
        )
        assert cuong["acknowledged_at"] is not None
        assert (dung["state"], dung["acknowledged_at"]) == ("pending", None)

    async def test_unit_filter(
        self, client: httpx.AsyncClient, org: Org, people: dict[str, Member], doc: Document
    ) -> None:
        assert await self.listed(client, org, doc, "admin", unit_id=str(org.b.id)) == [
            ("Đạt", "done", 2),
            ("Em", "pending", 2),
        ]
        # A unit outside the caller's scope, or unknown: nobody.
        assert await self.listed(client, org, doc, "manager_a", unit_id=str(org.b.id)) == []
        assert await self.listed(client, org, doc, "admin", unit_id=str(uuid.uuid4())) == []

    async def test_a_document_addressed_to_one_cell(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, people: dict[str, Member]
    ) -> None:
        doc = await make_document(session, org.a1)
        await add_ack(session, doc, org.me)
        assert await self.listed(client, org, doc, "manager_a") == [
            ("An", "pending", 1),
            ("Bình", "pending", 1),
            ("Hoa", "done", 1),
        ]

    async def test_pages(
        self, client: httpx.AsyncClient, org: Org, people: dict[str, Member], doc: Document
    ) -> None:
        pages = await walk(client, ack_url(doc.id), org.headers("admin"), state="pending", limit=2)
        assert [[i["full_name"] for i in p] for p in pages] == [
            ["Nguyễn Văn An", "Trần Thị Bình"],
            ["Đỗ Thị Dung", "Vũ Văn Em"],
        ]

    @pytest.mark.parametrize(
        ("params", "code"),
        [
            ({"state": "later"}, "validation_failed"),
            ({"unit_id": "x"}, "validation_failed"),
            ({"limit": "500"}, "validation_failed"),
            ({"cursor": "zzz"}, "invalid_cursor"),
        ],
    )
    async def test_bad_parameters(
        self, client: httpx.AsyncClient, org: Org, doc: Document, params: dict[str, str], code: str
    ) -> None:
        r = await client.get(ack_url(doc.id), params=params, headers=org.headers("admin"))
        assert_problem(r, 422, code)

    async def test_a_cursor_of_another_state_is_refused(
        self, client: httpx.AsyncClient, org: Org, people: dict[str, Member], doc: Document
    ) -> None:
        h = org.headers("admin")
        r = await client.get(ack_url(doc.id), params={"state": "pending", "limit": 1}, headers=h)
        cursor = r.json()["next_cursor"]
        r = await client.get(ack_url(doc.id), params={"state": "done", "cursor": cursor}, headers=h)
        assert_problem(r, 422, "invalid_cursor")


class TestAtScale:
    async def test_pending_and_done_exact_over_many_pages(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        """260 members with generated Vietnamese names spread over A1/A2/B1, every third
        acknowledged: the walked lists equal the expected ones exactly, page by page."""
        rng = random.Random(85)
        families = ["Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Đỗ", "Vũ", "Bùi", "Hoàng", "Ngô"]
        middles = ["Văn", "Thị", "Minh", "Quốc", "Thu", "Đức", ""]
        givens = [
            "An",
            "Ân",
            "Anh",
            "Ánh",
            "Bình",
            "Cường",
            "Dũng",
            "Duy",
            "Đạt",
            "Đào",
            "Giang",
            "Hà",
            "Hạ",
            "Hải",
            "Lan",
            "Long",
            "Ngọc",
            "Oanh",
            "Ơn",
            "Tú",
            "Tư",
            "Ư",
        ]
        units = [org.a1, org.a2, org.b1]
        members = []
        for i in range(260):
            name = " ".join(
                x for x in (rng.choice(families), rng.choice(middles), rng.choice(givens)) if x
            )
            members.append(
                Member(
                    full_name=name,
                    name_search=fold(name),
                    name_sort=name_sort_key(name),
                    unit_id=units[i % 3].id,
                    external_id=f"SC{i:05d}",
                    membership=Membership.official,
                    status=MemberStatus.active,
                    declaration=Declaration.not_declared,
                    is_leader=False,
                )
            )
        session.add_all(members)
        await session.commit()
        doc = await make_document(session, org.root)
        acked = set()
        for m in members[::3]:
            session.add(
                Ack(document_id=doc.id, member_id=m.id, revision=1, acknowledged_at=utcnow())
            )
            acked.add(m.id)
        await session.commit()
        everyone = [*members, org.me]
        in_a = {org.a1.id, org.a2.id}
        for role, scope in (("admin", None), ("manager_a", in_a)):
            for state in ("pending", "done"):
                want = sorted(
                    (m.name_sort, m.id)
                    for m in everyone
                    if (scope is None or m.unit_id in scope)
                    and ((m.id in acked) == (state == "done"))
                )
                pages = await walk(
                    client, ack_url(doc.id), org.headers(role), state=state, limit=50
                )
                got = [uuid.UUID(i["member_id"]) for p in pages for i in p]
                assert got == [mid for _, mid in want], (role, state)
                assert all(len(p) == 50 for p in pages[:-1])

    async def test_statements_per_page_do_not_grow_with_the_audience(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """One statement for the page (plus the principal and the document): the same
        count for 3 members as for 150, and nothing is fetched beyond a page."""
        monkeypatch.setattr(get_settings(), "principal_cache_seconds", 0)
        doc = await make_document(session, org.root)
        h = org.headers("manager_a")

        async def count_statements() -> tuple[int, list[int]]:
            with statements() as seen:
                r = await client.get(ack_url(doc.id), params={"limit": 20}, headers=h)
            assert r.status_code == 200
            return len(seen), [len(r.json()["items"])]

        small = await count_statements()
        session.add_all(
            Member(
                full_name=f"Nguyễn Văn Số {i}",
                name_search=f"nguyen van so {i}",
                name_sort=name_sort_key(f"Nguyễn Văn Số {i}"),
                unit_id=org.a2.id,
                external_id=f"ST{i:05d}",
                membership=Membership.official,
                status=MemberStatus.active,
                declaration=Declaration.not_declared,
                is_leader=False,
            )
            for i in range(150)
        )
        await session.commit()
        large = await count_statements()
        assert small == (large[0], [1])
        assert large[1] == [20]


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    target = db.engine.sync_engine
    event.listen(target, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", record)
