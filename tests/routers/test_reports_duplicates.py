"""Duplicate reports (SPEC §5 "Reported posts"): a report whose canonical link matches an
open primary is linked to it, follows its workflow, may be withdrawn on its own; the oldest
live duplicate takes over a withdrawn primary; concurrent filings of one link end as one
primary (PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import db
from api.core.enums import ReportStatus
from api.models import Report
from tests.support.factories import REPORTS_URL, file_report, make_member_user, report_body
from tests.support.problems import assert_problem
from tests.support.reads import count_rows, fetch, walk
from tests.support.world import Org, build_org

REPORTS = REPORTS_URL
RS = ReportStatus
POST = "https://www.facebook.com/somepage/posts/1234567890"  # canonical (username as keyed)


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


@pytest.fixture
async def peers(session: AsyncSession, org: Org) -> list[dict[str, str]]:
    """Auth headers of four more members of A1 (each files once)."""
    return [(await make_member_user(session, org.a1))[1] for _ in range(4)]


async def get(client: httpx.AsyncClient, rid: str, headers: dict[str, str]) -> dict[str, Any]:
    r = await client.get(f"{REPORTS}/{rid}", headers=headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def move(
    client: httpx.AsyncClient, rid: str, headers: dict[str, str], to: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        f"{REPORTS}/{rid}/transitions", json={"to": to, **extra}, headers=headers
    )


async def entries(client: httpx.AsyncClient, rid: str, headers: dict[str, str]) -> list[Any]:
    return [e for page in await walk(client, f"{REPORTS}/{rid}/timeline", headers) for e in page]


async def state(rid: str) -> tuple[str, str | None, int]:
    """(status, duplicate_of, report_count) as committed."""
    row = await fetch(Report, uuid.UUID(rid))
    return row.status.value, (str(row.duplicate_of) if row.duplicate_of else None), row.report_count


# ---------------------------------------------------------------------------------------
# Linking
# ---------------------------------------------------------------------------------------

SAME_CONTENT: list[tuple[str, str]] = [
    (POST, "https://m.facebook.com/some.page/posts/1234567890?fbclid=IwAR0xyz&mibextid=abc"),
    (
        "https://www.facebook.com/permalink.php?story_fbid=42&id=100012345678901",
        "https://mbasic.facebook.com/permalink.php?id=100012345678901&story_fbid=42&__tn__=R",
    ),
    (
        "https://youtu.be/dQw4w9WgXcQ?si=abc",
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=share",
    ),
    ("https://twitter.com/vtvdigital/status/1?s=20", "https://x.com/vtvdigital/status/1"),
    ("http://www.example.com/tin/a/?utm_source=fb#top", "https://example.com/tin/a"),
]
OTHER_CONTENT: list[tuple[str, str]] = [
    (POST, "https://www.facebook.com/somepage/posts/1234567891"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube.com/watch?v=aaaaaaaaaaa"),
    ("https://example.com/tin/a", "https://example.org/tin/a"),
    ("https://example.com/tin?id=1", "https://example.com/tin?id=2"),
]


class TestLinking:
    async def test_second_report_is_linked_to_the_open_primary(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        primary = await file_report(client, org.headers("member"), url=POST)
        r = await client.post(REPORTS, json=report_body(url=POST + "?fbclid=x"), headers=peers[0])
        assert r.status_code == 201, r.text
        dup = r.json()
        assert r.headers["location"] == f"{REPORTS}/{dup['id']}"
        assert (dup["duplicate_of"], dup["status"], dup["report_count"]) == (
            primary["id"],
            "submitted",
            1,
        )
        assert dup["canonical_url"] == primary["canonical_url"] == POST
        assert dup["reporter_member_id"] != primary["reporter_member_id"]
        # The reporter sees the link; the primary counts both reports.
        assert (await get(client, dup["id"], peers[0]))["duplicate_of"] == primary["id"]
        seen = await get(client, primary["id"], org.headers("manager_a"))
        assert (seen["report_count"], seen["duplicate_of"], seen["version"]) == (2, None, 2)
        assert (await get(client, primary["id"], org.headers("member")))["report_count"] == 2
        linked = [
            e
            for e in await entries(client, primary["id"], org.headers("manager_a"))
            if e["kind"] == "duplicate_linked"
        ]
        assert [e["data"] for e in linked] == [{"report_id": dup["id"]}]
        [filed] = await entries(client, dup["id"], peers[0])
        assert (filed["kind"], filed["data"]) == ("filed", {"duplicate_of": primary["id"]})
        # A third one adds up.
        third = await file_report(client, peers[1], url=POST)
        assert third["duplicate_of"] == primary["id"]
        assert await state(primary["id"]) == ("submitted", None, 3)
        assert await count_rows(Report) == 3

    async def test_same_canonical_link_is_a_duplicate(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        for first, second in SAME_CONTENT:
            primary = await file_report(client, org.headers("member"), url=first)
            dup = await file_report(client, peers[0], url=second)
            assert dup["canonical_url"] == primary["canonical_url"], second
            assert dup["duplicate_of"] == primary["id"], second
            assert dup["url"] == second  # the link as pasted is kept

    async def test_other_content_is_not_a_duplicate(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        for first, second in OTHER_CONTENT:
            await file_report(client, org.headers("member"), url=first)
            other = await file_report(client, peers[0], url=second)
            assert (other["duplicate_of"], other["report_count"]) == (None, 1), second

    async def test_redirects_to_different_sites_are_not_duplicates(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        first = await file_report(
            client,
            org.headers("member"),
            url="https://l.facebook.com/l.php?u=https%3A%2F%2Fscam-one.com%2F",
        )
        second = await file_report(
            client, peers[0], url="https://l.facebook.com/l.php?u=https%3A%2F%2Fother.net%2Fx"
        )
        assert second["duplicate_of"] is None
        assert first["canonical_url"] != second["canonical_url"]

    async def test_website_articles_differing_by_query_are_not_duplicates(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        first = await file_report(
            client, org.headers("member"), platform="website", url="https://example.com/tin?id=5"
        )
        second = await file_report(
            client, peers[0], platform="website", url="https://example.com/tin?id=6"
        )
        assert second["duplicate_of"] is None
        assert first["canonical_url"] == "https://example.com/tin?id=5"

    async def test_same_post_under_another_spelling_of_the_username_is_a_duplicate(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        primary = await file_report(client, org.headers("member"), url=POST)
        dup = await file_report(
            client, peers[0], url="https://www.facebook.com/SomePage/posts/1234567890"
        )
        assert dup["duplicate_of"] == primary["id"]

    async def test_the_same_member_filing_twice_gets_their_report_back(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        """report_count counts reporters of the open link: the same member re-filing it
        gets their open report back (200), whether it is the primary or a duplicate."""
        primary = await file_report(client, org.headers("member"), url=POST)
        r = await client.post(REPORTS, json=report_body(url=POST), headers=org.headers("member"))
        assert r.status_code == 200, r.text
        assert r.json()["id"] == primary["id"]
        dup = await file_report(client, peers[0], url=POST)
        r = await client.post(REPORTS, json=report_body(url=POST + "?fbclid=z"), headers=peers[0])
        assert r.status_code == 200, r.text
        assert r.json()["id"] == dup["id"]
        assert await state(primary["id"]) == ("submitted", None, 2)

    async def test_duplicate_takes_the_primary_status(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        h = org.headers("reviewer_a")
        for n, status in enumerate((RS.in_review, RS.escalated)):
            url = f"{POST}{n}"
            primary = await file_report(client, org.headers("member"), url=url)
            assert (await move(client, primary["id"], h, "in_review")).status_code == 200
            if status is RS.escalated:
                r = await move(client, primary["id"], h, "escalated", authority="CA", reference="1")
                assert r.status_code == 200, r.text
            dup = await file_report(client, peers[0], url=url)
            assert (dup["duplicate_of"], dup["status"]) == (primary["id"], status.value)
            assert await state(primary["id"]) == (status.value, None, 2)

    async def test_a_closed_primary_lets_a_new_one_start(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        closings: dict[str, list[tuple[str, dict[str, Any]]]] = {
            "dismissed": [("reviewer_a", {"to": "dismissed"})],
            "resolved": [
                ("reviewer_a", {"to": "in_review"}),
                ("reviewer_a", {"to": "resolved", "outcome": "refuted"}),
            ],
            "withdrawn": [("member", {"to": "withdrawn"})],
        }
        for n, (name, steps) in enumerate(closings.items()):
            url = f"{POST}{n}"
            old = await file_report(client, org.headers("member"), url=url)
            for who, body in steps:
                r = await client.post(
                    f"{REPORTS}/{old['id']}/transitions", json=body, headers=org.headers(who)
                )
                assert r.status_code == 200, r.text
            new = await file_report(client, peers[0], url=url)
            assert (new["duplicate_of"], new["status"], new["report_count"]) == (
                None,
                "submitted",
                1,
            ), name
            again = await file_report(client, peers[1], url=url)
            assert again["duplicate_of"] == new["id"], name
            assert (await state(old["id"]))[2] == 1, name
            assert (await state(new["id"]))[2] == 2, name


# ---------------------------------------------------------------------------------------
# Duplicates follow their primary
# ---------------------------------------------------------------------------------------


class TestFollowing:
    async def test_moves_on_the_primary_are_mirrored(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        primary = await file_report(client, org.headers("member"), url=POST)
        dups = [await file_report(client, h, url=POST) for h in peers[:2]]
        h = org.headers("manager_a")
        steps: list[tuple[str, dict[str, Any]]] = [
            ("in_review", {"comment": "Đang xem"}),
            ("escalated", {"authority": "Công an tỉnh A", "reference": "CV-9"}),
            ("resolved", {"outcome": "account_locked", "comment": "Đã khóa"}),
        ]
        for to, extra in steps:
            r = await move(client, primary["id"], h, to, **extra)
            assert r.status_code == 200, r.text
            for dup, dup_h in zip(dups, peers, strict=False):
                seen = await get(client, dup["id"], dup_h)
                assert seen["status"] == to
                assert seen["duplicate_of"] == primary["id"]
        for dup, dup_h in zip(dups, peers, strict=False):
            seen = await get(client, dup["id"], dup_h)
            assert (seen["outcome"], seen["authority"], seen["reference"]) == (
                "account_locked",
                "Công an tỉnh A",
                "CV-9",
            )
            assert seen["closed_at"] is not None
            assert seen["version"] == 4
            moves = [
                e for e in await entries(client, dup["id"], dup_h) if e["kind"] == "transition"
            ]
            assert [(m["from_status"], m["to_status"], m["comment"]) for m in moves] == [
                ("submitted", "in_review", "Đang xem"),
                ("in_review", "escalated", None),
                ("escalated", "resolved", "Đã khóa"),
            ]
            assert all(m["data"] == {"with_primary": primary["id"]} for m in moves)

    async def test_dismissing_the_primary_dismisses_its_duplicates(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        primary = await file_report(client, org.headers("member"), url=POST)
        dup = await file_report(client, peers[0], url=POST)
        assert (
            await move(client, primary["id"], org.headers("reviewer_a"), "dismissed")
        ).status_code == 200
        seen = await get(client, dup["id"], peers[0])
        assert (seen["status"], seen["closed_at"] is not None) == ("dismissed", True)

    async def test_a_duplicate_is_not_moved_on_its_own(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        primary = await file_report(client, org.headers("member"), url=POST)
        dup = await file_report(client, peers[0], url=POST)
        for to in ("in_review", "dismissed"):
            r = await move(client, dup["id"], org.headers("manager_a"), to)
            assert r.status_code == 409, f"{to}: {r.text}"
            assert_problem(r, 409, "invalid_transition")
        assert await state(dup["id"]) == ("submitted", primary["id"], 1)

    async def test_a_duplicate_in_review_cannot_be_resolved_on_its_own(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        primary = await file_report(client, org.headers("member"), url=POST)
        dup = await file_report(client, peers[0], url=POST)
        assert (
            await move(client, primary["id"], org.headers("reviewer_a"), "in_review")
        ).status_code == 200
        r = await move(client, dup["id"], org.headers("reviewer_a"), "resolved", outcome="refuted")
        assert_problem(r, 409, "invalid_transition")
        assert (await state(dup["id"]))[0] == "in_review"

    async def test_duplicate_reporter_withdraws(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        primary = await file_report(client, org.headers("member"), url=POST)
        dup = await file_report(client, peers[0], url=POST)
        kept = await file_report(client, peers[1], url=POST)
        assert await state(primary["id"]) == ("submitted", None, 3)
        r = await move(client, dup["id"], peers[0], "withdrawn", comment="Nhầm")
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["duplicate_of"]) == ("withdrawn", primary["id"])
        assert await state(primary["id"]) == ("submitted", None, 2)
        # The withdrawn one no longer follows its primary; the live one does.
        r = await move(client, primary["id"], org.headers("reviewer_a"), "dismissed")
        assert r.status_code == 200, r.text
        assert (await state(dup["id"]))[0] == "withdrawn"
        assert (await state(kept["id"]))[0] == "dismissed"

    async def test_duplicate_in_review_cannot_be_withdrawn(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        primary = await file_report(client, org.headers("member"), url=POST)
        dup = await file_report(client, peers[0], url=POST)
        assert (
            await move(client, primary["id"], org.headers("reviewer_a"), "in_review")
        ).status_code == 200
        assert_problem(
            await move(client, dup["id"], peers[0], "withdrawn"), 409, "invalid_transition"
        )
        assert await state(primary["id"]) == ("in_review", None, 2)


# ---------------------------------------------------------------------------------------
# A withdrawn primary hands over to its oldest live duplicate
# ---------------------------------------------------------------------------------------


class TestPromotion:
    async def test_oldest_live_duplicate_becomes_the_primary(
        self, client: httpx.AsyncClient, org: Org, peers: list[dict[str, str]]
    ) -> None:
        primary = await file_report(client, org.headers("member"), url=POST)
        gone, heir, third, fourth = [await file_report(client, h, url=POST) for h in peers]
        assert (await move(client, gone["id"], peers[0], "withdrawn")).status_code == 200
        assert await state(primary["id"]) == ("submitted", None, 4)
        r = await move(client, primary["id"], org.headers("member"), "withdrawn")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "withdrawn"
        assert await state(heir["id"]) == ("submitted", None, 3)
        assert await state(third["id"]) == ("submitted", heir["id"], 1)
        assert await state(fourth["id"]) == ("submitted", heir["id"], 1)
        assert (await state(gone["id"]))[:2] == ("withdrawn", primary["id"])
        promoted = [
            e for e in await entries(client, heir["id"], peers[1]) if e["kind"] == "promoted"
        ]
        assert [e["data"] for e in promoted] == [{"previous_primary": primary["id"]}]
        seen = await get(client, heir["id"], peers[1])
        assert (seen["duplicate_of"], seen["report_count"]) == (None, 3)
        # The heir is now the open primary: new reports link to it, moves mirror from it.
        fifth = await file_report(client, org.headers("member"), url=POST)
        assert fifth["duplicate_of"] == heir["id"]
        assert await state(heir["id"]) == ("submitted", None, 4)
        r = await move(client, heir["id"], org.headers("reviewer_a"), "in_review")
        assert r.status_code == 200, r.text
        for rid in (third["id"], fourth["id"], fifth["id"]):
            assert (await state(rid))[0] == "in_review"
        assert (await state(primary["id"]))[0] == "withdrawn"

    async def test_withdrawing_a_lone_primary(self, client: httpx.AsyncClient, org: Org) -> None:
        primary = await file_report(client, org.headers("member"), url=POST)
        r = await move(client, primary["id"], org.headers("member"), "withdrawn")
        assert r.status_code == 200, r.text
        assert r.json()["closed_at"] is not None
        assert await count_rows(Report, Report.open_key.is_not(None)) == 0


# ---------------------------------------------------------------------------------------
# Concurrency (PostgreSQL)
# ---------------------------------------------------------------------------------------


class TestConcurrency:
    async def test_ten_members_report_one_link_at_once(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, is_postgres: bool
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
        headers = [(await make_member_user(session, org.a1))[1] for _ in range(10)]
        variants = [POST, POST + "?fbclid=abc", POST.replace("www.", "m.")]
        responses = await asyncio.gather(
            *(
                client.post(REPORTS, json=report_body(url=variants[i % 3]), headers=h)
                for i, h in enumerate(headers)
            )
        )
        assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
        reports = [r.json() for r in responses]
        [primary] = [r for r in reports if r["duplicate_of"] is None]
        assert sorted(r["duplicate_of"] for r in reports if r is not primary) == [primary["id"]] * 9
        assert await state(primary["id"]) == ("submitted", None, 10)
        assert await count_rows(Report, Report.duplicate_of == uuid.UUID(primary["id"])) == 9
        linked = [
            e
            for e in await entries(client, primary["id"], org.headers("admin"))
            if e["kind"] == "duplicate_linked"
        ]
        assert len(linked) == 9

    async def test_filing_while_the_primary_closes(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, is_postgres: bool
    ) -> None:
        """Whatever the interleaving, no open report hangs on a closed primary and at most
        one open primary exists."""
        if not is_postgres:
            pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
        primary = await file_report(client, org.headers("member"), url=POST)
        headers = [(await make_member_user(session, org.a1))[1] for _ in range(6)]
        responses = await asyncio.gather(
            move(client, primary["id"], org.headers("reviewer_a"), "dismissed"),
            *(client.post(REPORTS, json=report_body(url=POST), headers=h) for h in headers),
        )
        assert [r.status_code for r in responses] == [200] + [201] * 6, [r.text for r in responses]
        async with db.sessionmaker() as s:
            rows = {r.id: r for r in (await s.scalars(select(Report))).all()}
        open_ = {RS.submitted, RS.in_review, RS.escalated}
        for row in rows.values():
            if row.duplicate_of is not None:
                assert rows[row.duplicate_of].status == row.status, (row.status, row.duplicate_of)
        open_primaries = [r for r in rows.values() if r.duplicate_of is None and r.status in open_]
        assert len(open_primaries) <= 1
        for p in open_primaries:
            live = [r for r in rows.values() if r.duplicate_of == p.id]
            assert p.report_count == 1 + len(live)

    async def test_two_handlers_move_one_report_at_once(
        self, client: httpx.AsyncClient, org: Org, is_postgres: bool
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite has no row locks; the race needs PostgreSQL")
        primary = await file_report(client, org.headers("member"), url=POST)
        responses = await asyncio.gather(
            *(
                move(client, primary["id"], org.headers(role), "in_review")
                for role in ("reviewer_a", "manager_a", "admin")
            )
        )
        assert sorted(r.status_code for r in responses) == [200, 409, 409], [
            r.text for r in responses
        ]
        for r in responses:
            if r.status_code == 409:
                assert_problem(r, 409, "invalid_transition")
        row = await fetch(Report, uuid.UUID(primary["id"]))
        assert (row.status, row.version) == (RS.in_review, 2)
