"""Who sees reported posts (SPEC §5 "Reported posts"): the reporter, handlers in scope of
the reporter's or the subject's unit; the subject never learns the reporter; list filters,
keyset pagination and overdue reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import Role
from tests.support.factories import (
    REPORTS_URL,
    auth,
    file_report,
    make_account,
    make_member,
    make_member_user,
    make_user,
    png_bytes,
    set_report,
)
from tests.support.problems import assert_problem, assert_status
from tests.support.reads import walk
from tests.support.world import Org, build_org

REPORTS = REPORTS_URL
DECLARED = "https://www.facebook.com/nguyen.van.an"


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every item of the list (all pages)."""
    return [i for page in await walk(client, REPORTS, headers, **params) for i in page]


async def ids(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> set[str]:
    return {i["id"] for i in await listed(client, headers, **params)}


async def move(
    client: httpx.AsyncClient, rid: str, headers: dict[str, str], to: str, **extra: Any
) -> None:
    r = await client.post(f"{REPORTS}/{rid}/transitions", json={"to": to, **extra}, headers=headers)
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------------------------------
# The subject never learns the reporter
# ---------------------------------------------------------------------------------------


@dataclass
class Subjected:
    report: dict[str, Any]
    subject_h: dict[str, str]  # the subject's own user, a handler in scope
    subject_user_id: uuid.UUID


@pytest.fixture(params=["manager_of_both_units", "manager_of_subject_unit", "reviewer"])
async def subjected(
    request: pytest.FixtureRequest, client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> Subjected:
    """A report by org.me (A1) on a post of a member who is also a handler in scope."""
    unit, role, scope = {
        "manager_of_both_units": (org.a2, Role.manager, org.a),
        "manager_of_subject_unit": (org.b1, Role.manager, org.b),
        "reviewer": (org.a2, Role.reviewer, org.root),
    }[request.param]
    subject = await make_member(session, unit, full_name="Nguyễn Văn An")
    user = await make_user(session, member=subject, grants=[(role, scope)])
    await make_account(session, subject, DECLARED)
    report = await file_report(client, org.headers("member"), url=f"{DECLARED}/posts/123")
    assert report["subject_member_id"] == str(subject.id)
    return Subjected(report, auth(user), user.id)


class TestReporterHidden:
    async def test_subject_reads_without_reporter(
        self, client: httpx.AsyncClient, org: Org, subjected: Subjected
    ) -> None:
        rid, h = subjected.report["id"], subjected.subject_h
        r = await client.get(f"{REPORTS}/{rid}", headers=h)
        assert r.status_code == 200, r.text
        assert "reporter_member_id" not in r.json()
        assert r.json()["unit_id"] == str(org.a1.id)  # the unit, never the person
        [item] = await listed(client, h)
        assert item["id"] == rid
        assert "reporter_member_id" not in item
        for role in ("admin", "manager_a", "member"):
            r = await client.get(f"{REPORTS}/{rid}", headers=org.headers(role))
            assert r.json()["reporter_member_id"] == str(org.me.id), role

    async def test_subject_timeline_hides_the_reporter_entries_only(
        self, client: httpx.AsyncClient, org: Org, subjected: Subjected
    ) -> None:
        rid, h = subjected.report["id"], subjected.subject_h
        r = await client.post(
            f"{REPORTS}/{rid}/evidence",
            headers=org.headers("member"),
            files={"file": ("shot.png", png_bytes(), "image/png")},
        )
        assert r.status_code == 201, r.text
        await move(client, rid, org.headers("admin"), "in_review", comment="Tiếp nhận")
        hidden = await client.get(f"{REPORTS}/{rid}/timeline", headers=h)
        assert hidden.status_code == 200, hidden.text
        entries = hidden.json()["items"]
        assert [e["kind"] for e in entries] == ["filed", "evidence", "transition"]
        for entry in entries[:2]:  # the reporter's own entries
            assert (entry["actor_type"], entry["actor_id"]) == (None, None), entry
        admin_id = str(org.principals["admin"].id)
        assert (entries[2]["actor_type"], entries[2]["actor_id"]) == ("user", admin_id)
        shown = (
            await client.get(f"{REPORTS}/{rid}/timeline", headers=org.headers("manager_a"))
        ).json()
        member_id = str(org.principals["member"].id)
        assert [e["actor_id"] for e in shown["items"]] == [member_id, member_id, admin_id]

    async def test_subject_may_not_handle(
        self, client: httpx.AsyncClient, org: Org, subjected: Subjected
    ) -> None:
        rid, h = subjected.report["id"], subjected.subject_h
        for body in ({"to": "in_review"}, {"to": "dismissed"}):
            r = await client.post(f"{REPORTS}/{rid}/transitions", json=body, headers=h)
            assert_problem(r, 403, "forbidden")
        r = await client.patch(f"{REPORTS}/{rid}", json={"priority": "low"}, headers=h)
        assert_problem(r, 403, "forbidden")
        r = await client.post(
            f"{REPORTS}/{rid}/evidence",
            headers=h,
            files={"file": ("x.png", png_bytes(), "image/png")},
        )
        assert_problem(r, 403, "forbidden")
        r = await client.patch(
            f"{REPORTS}/{rid}",
            headers=org.headers("admin"),
            json={"assignee_id": str(subjected.subject_user_id)},
        )
        assert_problem(r, 422, "validation_failed")
        r = await client.get(f"{REPORTS}/{rid}", headers=h)
        assert (r.json()["status"], r.json()["priority"], r.json()["version"]) == (
            "submitted",
            "normal",
            1,
        )

    async def test_subject_manager_cannot_learn_the_reporter_from_the_audit_trail(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        subject = await make_member(session, org.a2)
        boss = auth(await make_user(session, member=subject, grants=[(Role.manager, org.a)]))
        await make_account(session, subject, DECLARED)
        report = await file_report(client, org.headers("member"), url=f"{DECLARED}/posts/1")
        r = await client.get(
            "/api/v1/audit-events", params={"entity_id": report["id"]}, headers=boss
        )
        assert r.status_code == 200, r.text
        actors = {e["actor_id"] for e in r.json()["items"]}
        assert str(org.principals["member"].id) not in actors

    async def test_plain_subject_and_impersonated_members_see_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        subject, subject_h = await make_member_user(session, org.a1)
        await make_account(session, subject, DECLARED)
        victim, victim_h = await make_member_user(session, org.a2)
        about = await file_report(client, org.headers("member"), url=f"{DECLARED}/posts/1")
        fake = await file_report(
            client,
            org.headers("member"),
            category="impersonation",
            url="https://www.facebook.com/fake.victim.page",
            impersonated_member_id=str(victim.id),
        )
        for h, rid in ((subject_h, about["id"]), (victim_h, fake["id"])):
            for path in ("", "/timeline", "/evidence"):
                assert_status(await client.get(f"{REPORTS}/{rid}{path}", headers=h), 404)
            assert await ids(client, h) == set()

    async def test_impersonated_member_who_handles_does_not_see_the_reporter(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        victim = await make_member(session, org.b1)
        victim_h = auth(await make_user(session, member=victim, grants=[(Role.manager, org.b)]))
        fake = await file_report(
            client,
            org.headers("member"),
            category="impersonation",
            url="https://www.facebook.com/fake.victim.page",
            impersonated_member_id=str(victim.id),
        )
        r = await client.get(f"{REPORTS}/{fake['id']}", headers=victim_h)
        assert r.status_code == 200, r.text
        assert "reporter_member_id" not in r.json()
        r = await client.post(
            f"{REPORTS}/{fake['id']}/transitions", json={"to": "in_review"}, headers=victim_h
        )
        assert_problem(r, 403, "forbidden")
        r = await client.get(f"{REPORTS}/{fake['id']}", headers=org.headers("manager_b"))
        assert r.json()["reporter_member_id"] == str(org.me.id)


# ---------------------------------------------------------------------------------------
# Who sees which report
# ---------------------------------------------------------------------------------------


@dataclass
class World:
    reports: dict[str, dict[str, Any]]  # me (A1), a2 (filed in A2), b1 (filed in B1), about_b
    headers: dict[str, dict[str, str]]
    subject_id: uuid.UUID


@pytest.fixture
async def world(client: httpx.AsyncClient, session: AsyncSession, org: Org) -> World:
    """Four reports: `me` by org.me (A1), `a2` by a member of A2, `b1` by a member of B1,
    `about_b` by org.me about a member of B2 (a declared account)."""
    _, a2_h = await make_member_user(session, org.a2)
    _, b1_h = await make_member_user(session, org.b1)
    subject = await make_member(session, org.b2)
    await make_account(session, subject, DECLARED)
    me = org.headers("member")
    reports = {
        "me": await file_report(client, me, description="Bài viết xuyên tạc về Đảng bộ tỉnh"),
        "a2": await file_report(
            client,
            a2_h,
            category="scam",
            description="Lừa giảm 100% học phí",
            url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        ),
        "b1": await file_report(
            client,
            b1_h,
            category="hostile_view",
            description="Quan điểm sai trái",
            url="https://www.tiktok.com/@abc.def/video/1",
        ),
        "about_b": await file_report(
            client, me, url=f"{DECLARED}/posts/5", description="Đảng viên đăng tin chưa kiểm chứng"
        ),
    }
    b2_manager = auth(await make_user(session, grants=[(Role.manager, org.b2)]))
    headers = {
        **{
            role: org.headers(role)
            for role in (
                "admin",
                "manager_a",
                "manager_b",
                "reviewer_a",
                "member",
                "partner_a",
                "analyst_a",
                "anon",
            )
        },
        "a2": a2_h,
        "b1": b1_h,
        "b2_manager": b2_manager,
    }
    return World(reports, headers, subject.id)


LIST_VISIBILITY: dict[str, set[str] | int] = {
    "admin": {"me", "a2", "b1", "about_b"},
    "manager_a": {"me", "a2", "about_b"},
    "reviewer_a": {"me", "a2", "about_b"},
    "manager_b": {"b1", "about_b"},
    "b2_manager": {"about_b"},
    "member": {"me", "about_b"},
    "a2": {"a2"},
    "b1": {"b1"},
    "partner_a": 403,
    "analyst_a": 403,
    "anon": 401,
}


class TestVisibility:
    async def test_list_and_items(self, client: httpx.AsyncClient, world: World) -> None:
        """Each caller of LIST_VISIBILITY in turn: the list, and GET of every report."""
        for who, expected in LIST_VISIBILITY.items():
            h = world.headers[who]
            r = await client.get(REPORTS, headers=h)
            if isinstance(expected, int):
                assert r.status_code == expected, f"{who}: {r.text}"
                assert_status(r, expected)
                for report in world.reports.values():
                    r = await client.get(f"{REPORTS}/{report['id']}", headers=h)
                    assert_status(r, 401 if expected == 401 else 404)
                continue
            assert r.status_code == 200, f"{who}: {r.text}"
            assert await ids(client, h) == {world.reports[k]["id"] for k in expected}, who
            for key, report in world.reports.items():
                r = await client.get(f"{REPORTS}/{report['id']}", headers=h)
                if key in expected:
                    assert r.status_code == 200, (who, key, r.text)
                else:
                    assert r.status_code == 404, (who, key, r.text)
                    assert_status(r, 404)


# ---------------------------------------------------------------------------------------
# List filters
# ---------------------------------------------------------------------------------------


class TestFilters:
    async def test_status_is_repeatable(
        self, client: httpx.AsyncClient, org: Org, world: World
    ) -> None:
        h = world.headers["admin"]
        await move(client, world.reports["a2"]["id"], h, "in_review")
        await move(client, world.reports["b1"]["id"], h, "in_review")
        await move(client, world.reports["b1"]["id"], h, "escalated", authority="CA", reference="1")
        await move(client, world.reports["me"]["id"], org.headers("member"), "withdrawn")
        r = world.reports
        assert await ids(client, h, status="submitted") == {r["about_b"]["id"]}
        assert await ids(client, h, status=["in_review", "escalated"]) == {
            r["a2"]["id"],
            r["b1"]["id"],
        }
        assert await ids(client, h, status=["withdrawn", "resolved"]) == {r["me"]["id"]}
        assert await ids(client, world.headers["manager_b"], status="in_review") == set()

    async def test_category_platform_subject(self, client: httpx.AsyncClient, world: World) -> None:
        h, r = world.headers["admin"], world.reports
        assert await ids(client, h, category="scam") == {r["a2"]["id"]}
        assert await ids(client, h, platform="youtube") == {r["a2"]["id"]}
        assert await ids(client, h, platform="facebook") == {r["me"]["id"], r["about_b"]["id"]}
        assert await ids(client, h, platform="facebook", category="scam") == set()
        assert await ids(client, h, subject_member_id=str(world.subject_id)) == {r["about_b"]["id"]}
        assert await ids(
            client, world.headers["manager_b"], subject_member_id=str(world.subject_id)
        ) == {r["about_b"]["id"]}

    async def test_unit_means_filed_in_the_subtree(
        self, client: httpx.AsyncClient, org: Org, world: World
    ) -> None:
        """`unit_id` is the reporter's unit at filing (the unit the statistics count a
        report in); `about_b` was filed in A1 about a member of B2."""
        h, r = world.headers["admin"], world.reports
        cases = {
            org.root.id: {"me", "a2", "b1", "about_b"},
            org.a.id: {"me", "a2", "about_b"},
            org.a1.id: {"me", "about_b"},
            org.a2.id: {"a2"},
            org.b.id: {"b1"},
            org.b2.id: set(),
            org.b1.id: {"b1"},
            uuid.uuid4(): set(),
        }
        for unit_id, expected in cases.items():
            assert await ids(client, h, unit_id=str(unit_id)) == {r[k]["id"] for k in expected}
        # Intersected with the caller's scope (manager_b sees `about_b` through its subject).
        assert await ids(client, world.headers["manager_a"], unit_id=str(org.b.id)) == set()
        assert await ids(client, world.headers["manager_b"], unit_id=str(org.a1.id)) == {
            r["about_b"]["id"]
        }
        assert await ids(client, world.headers["manager_b"], unit_id=str(org.a2.id)) == set()

    async def test_assignee(self, client: httpx.AsyncClient, org: Org, world: World) -> None:
        reviewer = str(org.principals["reviewer_a"].id)
        rid = world.reports["a2"]["id"]
        r = await client.patch(
            f"{REPORTS}/{rid}", json={"assignee_id": reviewer}, headers=world.headers["manager_a"]
        )
        assert r.status_code == 200, r.text
        assert await ids(client, world.headers["admin"], assignee_id=reviewer) == {rid}
        assert await ids(client, world.headers["admin"], assignee_id=str(uuid.uuid4())) == set()

    async def test_mine(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, world: World
    ) -> None:
        _, boss_h = await make_member_user(session, org.a1, grants=[(Role.manager, org.a)])
        own = await file_report(client, boss_h)
        assert await ids(client, boss_h, mine="true") == {own["id"]}
        assert len(await ids(client, boss_h)) == 4  # me, a2, about_b and own
        assert await ids(client, world.headers["member"], mine="true") == {
            world.reports["me"]["id"],
            world.reports["about_b"]["id"],
        }
        assert await ids(client, world.headers["admin"], mine="true") == set()

    async def test_q_is_diacritic_and_case_insensitive(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        cases: dict[str, set[str]] = {
            "xuyen tac": {"me"},
            "XUYÊN TẠC": {"me"},
            "dang": {"me", "about_b"},
            "Đảng bộ": {"me"},
            "100%": {"a2"},
            "%": {"a2"},
            "_": set(),
            "kiem chung": {"about_b"},
            "không có": set(),
        }
        for q, expected in cases.items():
            found = await ids(client, world.headers["admin"], q=q)
            assert found == {world.reports[k]["id"] for k in expected}, q

    async def test_from_to(self, client: httpx.AsyncClient, world: World) -> None:
        r = world.reports
        for day, key in enumerate(("me", "a2", "b1", "about_b"), start=1):
            await set_report(r[key]["id"], created_at=datetime(2026, 1, day, tzinfo=UTC))
        h = world.headers["admin"]
        since = {"from": "2026-01-02T07:00:00+07:00"}  # = 2026-01-02T00:00Z, inclusive
        assert await ids(client, h, **since) == {r[k]["id"] for k in ("a2", "b1", "about_b")}
        assert await ids(client, h, to="2026-01-03T00:00:00Z") == {r["me"]["id"], r["a2"]["id"]}
        assert await ids(client, h, to="2026-01-03T00:00:00.000001Z", **since) == {
            r["a2"]["id"],
            r["b1"]["id"],
        }
        assert await ids(client, h, **{"from": "2026-01-05T00:00:00Z"}) == set()

    @pytest.mark.parametrize(
        "params",
        [
            {"from": "2026-01-02T00:00:00"},
            {"to": "2026-01-02"},
            {"from": "yesterday"},
            {"status": "closed"},
            {"category": "rumour"},
            {"platform": "myspace"},
            {"unit_id": "A.1"},
            {"assignee_id": "nobody"},
            {"overdue": "maybe"},
            {"limit": 0},
            {"limit": 201},
            {"q": "x" * 201},
        ],
    )
    async def test_invalid_filter_is_422(
        self, client: httpx.AsyncClient, session: AsyncSession, params: dict[str, Any]
    ) -> None:
        admin = auth(await make_user(session, grants=[(Role.admin, None)]))
        r = await client.get(REPORTS, params=params, headers=admin)
        assert_problem(r, 422, "validation_failed")

    async def test_bad_cursor_is_422(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(REPORTS, params={"cursor": "AAAA"}, headers=org.headers("admin"))
        assert_problem(r, 422, "invalid_cursor")


# ---------------------------------------------------------------------------------------
# Keyset pagination
# ---------------------------------------------------------------------------------------


class TestPagination:
    async def test_newest_first_without_gaps_or_repeats(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        filed = [await file_report(client, org.headers("member")) for _ in range(8)]
        tie = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # four reports share one instant
        for report in filed[2:6]:
            await set_report(report["id"], created_at=tie)
        pages = await walk(client, REPORTS, org.headers("manager_a"), limit=3)
        assert [len(p) for p in pages] == [3, 3, 2]
        items = [i for p in pages for i in p]
        assert len({i["id"] for i in items}) == 8
        assert {i["id"] for i in items} == {f["id"] for f in filed}
        keys = [(datetime.fromisoformat(i["created_at"]), uuid.UUID(i["id"])) for i in items]
        assert keys == sorted(keys, reverse=True)
        # With a filter, page by page.
        await move(client, filed[3]["id"], org.headers("manager_a"), "dismissed")
        await move(client, filed[7]["id"], org.headers("manager_a"), "dismissed")
        pages = await walk(client, REPORTS, org.headers("member"), limit=2, status="submitted")
        assert [len(p) for p in pages] == [2, 2, 2]
        assert {i["id"] for p in pages for i in p} == {
            f["id"] for k, f in enumerate(filed) if k not in (3, 7)
        }

    async def test_default_page(self, client: httpx.AsyncClient, org: Org) -> None:
        await file_report(client, org.headers("member"))
        r = await client.get(REPORTS, headers=org.headers("member"))
        assert r.status_code == 200, r.text
        assert set(r.json()) == {"items", "next_cursor"}
        assert r.json()["next_cursor"] is None


# ---------------------------------------------------------------------------------------
# Overdue
# ---------------------------------------------------------------------------------------


class TestOverdue:
    async def test_open_reports_past_due_are_overdue(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        h = org.headers("manager_a")
        past = datetime.now(UTC) - timedelta(hours=1)
        late = await file_report(client, org.headers("member"))
        late_escalated = await file_report(client, org.headers("member"))
        closed = await file_report(client, org.headers("member"))
        on_time = await file_report(client, org.headers("member"))
        await move(client, late_escalated["id"], h, "in_review")
        await move(client, late_escalated["id"], h, "escalated", authority="CA", reference="1")
        await move(client, closed["id"], h, "in_review")
        await move(client, closed["id"], h, "resolved", outcome="refuted")
        for report in (late, late_escalated, closed):
            await set_report(report["id"], due_at=past)
        expected = {
            late["id"]: True,
            late_escalated["id"]: True,
            closed["id"]: False,
            on_time["id"]: False,
        }
        for rid, overdue in expected.items():
            r = await client.get(f"{REPORTS}/{rid}", headers=org.headers("member"))
            assert r.json()["overdue"] is overdue, rid
        assert await ids(client, h, overdue="true") == {late["id"], late_escalated["id"]}
        assert await ids(client, h, overdue="false") == {closed["id"], on_time["id"]}
        assert {i["id"]: i["overdue"] for i in await listed(client, h)} == expected


# ---------------------------------------------------------------------------------------
# A handling queue by deadline (sort=due_at)
# ---------------------------------------------------------------------------------------


class TestSortByDeadline:
    async def test_nearest_deadline_first_page_by_page(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        now = datetime.now(UTC)
        filed = [await file_report(client, org.headers("member")) for _ in range(5)]
        # Deadlines out of filing order, two of them equal (the id breaks the tie).
        offsets = [30, -2, 5, 5, 1]
        for report, hours in zip(filed, offsets, strict=True):
            await set_report(report["id"], due_at=now + timedelta(hours=hours))
        h = org.headers("manager_a")
        pages = await walk(client, REPORTS, h, sort="due_at", limit=2)
        assert [len(p) for p in pages] == [2, 2, 1]
        items = [i for p in pages for i in p]
        keys = [(datetime.fromisoformat(i["due_at"]), uuid.UUID(i["id"])) for i in items]
        assert keys == sorted(keys)
        assert items[0]["id"] == filed[1]["id"]
        assert items[0]["overdue"] is True
        assert items[-1]["id"] == filed[0]["id"]
        # With filters, the same order.
        late = await ids(client, h, sort="due_at", overdue="true")
        assert late == {filed[1]["id"]}

    async def test_a_cursor_of_the_other_order_is_refused(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        for _ in range(3):
            await file_report(client, org.headers("member"))
        h = org.headers("manager_a")
        r = await client.get(REPORTS, params={"limit": 1}, headers=h)
        cursor = r.json()["next_cursor"]
        assert cursor
        r = await client.get(
            REPORTS, params={"limit": 1, "sort": "due_at", "cursor": cursor}, headers=h
        )
        assert_problem(r, 422, "invalid_cursor")

    async def test_an_unknown_sort_is_422(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(REPORTS, params={"sort": "priority"}, headers=org.headers("manager_a"))
        assert_problem(r, 422, "validation_failed")
