"""Filing reported posts (SPEC §5 "Reported posts"): who files, the body's validation,
canonical links, deadlines, impersonation, the link to declared accounts, the rate limit
and Idempotency-Key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import Settings, get_settings
from api.core.enums import AccountStatus, ReportCategory, Role
from api.models import AuditEvent, RateLimitBucket, Report
from tests.support.factories import (
    REPORTS_URL,
    auth,
    file_report,
    make_account,
    make_member,
    make_member_user,
    make_unit,
    make_user,
    report_body,
)
from tests.support.problems import assert_problem, assert_status
from tests.support.reads import audit_actions, count_rows, fetch
from tests.support.world import Org, build_org

REPORTS = REPORTS_URL
DECLARED = "https://www.facebook.com/nguyen.van.an"


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


@pytest.fixture
async def reporter(session: AsyncSession) -> dict[str, str]:
    """Auth headers of a member user in a unit of its own (cheaper than the whole org)."""
    return (await make_member_user(session, await make_unit(session)))[1]


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def timeline(client: httpx.AsyncClient, rid: str, headers: dict[str, str]) -> list[Any]:
    r = await client.get(f"{REPORTS}/{rid}/timeline", headers=headers)
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["items"]
    return items


# ---------------------------------------------------------------------------------------
# Who files, and what a new report looks like
# ---------------------------------------------------------------------------------------


class TestFiling:
    async def test_member_files_a_report(self, client: httpx.AsyncClient, org: Org) -> None:
        raw = "https://m.facebook.com/some.page/posts/1234567890?fbclid=IwAR0abc&utm_source=zalo"
        body = report_body(
            url=raw,
            category="distortion",
            proposed_action="request_takedown",
            observed_at="2026-11-27T20:15:00+07:00",
        )
        before = datetime.now(UTC)
        r = await client.post(REPORTS, json=body, headers=org.headers("member"))
        assert r.status_code == 201, r.text
        data = r.json()
        assert r.headers["location"] == f"{REPORTS}/{data['id']}"
        assert r.headers["etag"] == '"1"'
        assert data["reporter_member_id"] == str(org.me.id)
        assert data["unit_id"] == str(org.a1.id)
        assert data["url"] == raw
        assert data["canonical_url"] == "https://www.facebook.com/somepage/posts/1234567890"
        assert (data["platform"], data["category"], data["proposed_action"]) == (
            "facebook",
            "distortion",
            "request_takedown",
        )
        assert data["description"] == body["description"]
        assert when(data["observed_at"]) == datetime(2026, 11, 27, 13, 15, tzinfo=UTC)
        assert (data["status"], data["priority"], data["version"]) == ("submitted", "normal", 1)
        assert data["report_count"] == 1
        for empty in (
            "assignee_id",
            "duplicate_of",
            "closed_at",
            "outcome",
            "authority",
            "reference",
            "subject_member_id",
            "impersonated_member_id",
            "impersonated_unit_id",
        ):
            assert data[empty] is None, empty
        assert data["overdue"] is False
        assert before - timedelta(seconds=1) <= when(data["created_at"]) <= datetime.now(UTC)
        assert await count_rows(Report) == 1
        assert await audit_actions(uuid.UUID(data["id"])) == ["report.file"]
        [filed] = await timeline(client, data["id"], org.headers("member"))
        assert (filed["kind"], filed["to_status"], filed["from_status"]) == (
            "filed",
            "submitted",
            None,
        )
        assert (filed["actor_type"], filed["actor_id"]) == (
            "user",
            str(org.principals["member"].id),
        )
        r = await client.get(r.headers["location"], headers=org.headers("member"))
        assert r.status_code == 200, r.text
        assert {**r.json(), "observed_at": None} == {**data, "observed_at": None}
        assert r.json()["observed_at"] == "2026-11-27T13:15:00Z"
        assert r.headers["etag"] == '"1"'

    async def test_created_report_answers_observed_at_in_utc(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        data = await file_report(
            client, org.headers("member"), observed_at="2026-11-27T20:15:00+07:00"
        )
        assert data["observed_at"] == "2026-11-27T13:15:00Z"

    async def test_a_manager_who_is_a_member_files_from_their_own_unit(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        boss, h = await make_member_user(session, org.b1, grants=[(Role.manager, org.a)])
        data = await file_report(client, h)
        assert (data["reporter_member_id"], data["unit_id"]) == (str(boss.id), str(org.b1.id))


# ---------------------------------------------------------------------------------------
# Body validation
# ---------------------------------------------------------------------------------------

INVALID_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown category", {"category": "rumour"}, "category"),
    ("unknown proposed_action", {"proposed_action": "ban_them"}, "proposed_action"),
    ("unknown platform", {"platform": "myspace"}, "platform"),
    ("naive observed_at", {"observed_at": "2026-11-27T20:15:00"}, "observed_at"),
    ("not a date", {"observed_at": "yesterday"}, "observed_at"),
    ("description too long", {"description": "đ" * 4001}, "description"),
    ("blank description", {"description": "   "}, "description"),
    ("control character", {"description": "a\x00b"}, "description"),
    ("empty url", {"url": ""}, "url"),
    ("url too long", {"url": "https://example.com/" + "a" * 2040}, "url"),
    ("unknown field", {"status": "resolved"}, "status"),
    ("reporter given", {"reporter_member_id": str(uuid.uuid4())}, "reporter_member_id"),
    ("bad uuid", {"impersonated_member_id": "nobody"}, "impersonated_member_id"),
]
REQUIRED = ("url", "category", "description", "proposed_action")


class TestValidation:
    @pytest.mark.parametrize(
        ("overrides", "field"),
        [(o, f) for _, o, f in INVALID_BODIES],
        ids=[name for name, _, _ in INVALID_BODIES],
    )
    async def test_invalid_body(
        self,
        client: httpx.AsyncClient,
        reporter: dict[str, str],
        overrides: dict[str, Any],
        field: str,
    ) -> None:
        r = await client.post(REPORTS, json=report_body(**overrides), headers=reporter)
        body = assert_problem(r, 422, "validation_failed")
        assert any(e["loc"][-1] == field for e in body["errors"]), body["errors"]
        assert await count_rows(Report) == 0

    @pytest.mark.parametrize("missing", REQUIRED)
    async def test_missing_field(
        self, client: httpx.AsyncClient, reporter: dict[str, str], missing: str
    ) -> None:
        body = report_body()
        del body[missing]
        r = await client.post(REPORTS, json=body, headers=reporter)
        problem = assert_problem(r, 422, "validation_failed")
        assert [e["loc"] for e in problem["errors"]] == [["body", missing]]
        assert await count_rows(Report) == 0

    async def test_longest_description_and_normalised_text(
        self, client: httpx.AsyncClient, reporter: dict[str, str]
    ) -> None:
        data = await file_report(client, reporter, description="đ" * 4000)
        assert data["description"] == "đ" * 4000
        nfd = "Nguye\u0302\u0303n va\u0306n \u00d0a\u0323i"  # NFD marks and the look-alike Ð
        data = await file_report(client, reporter, description=nfd)
        assert data["description"] == "Nguyễn văn Đại"


# ---------------------------------------------------------------------------------------
# Links: canonical form and what is refused
# ---------------------------------------------------------------------------------------

VALID_LINKS: list[tuple[str, str | None, str, str]] = [
    (
        "https://m.facebook.com/some.page/posts/1?fbclid=abc&__tn__=R",
        None,
        "https://www.facebook.com/somepage/posts/1",
        "facebook",
    ),
    (
        "facebook.com/some.page/posts/1",
        "facebook",
        "https://www.facebook.com/somepage/posts/1",
        "facebook",
    ),
    (
        "https://youtu.be/dQw4w9WgXcQ?si=xyz&t=10",
        None,
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "youtube",
    ),
    (
        "https://mobile.twitter.com/VTVDigital/status/123?s=20",
        "x",
        "https://x.com/VTVDigital/status/123",
        "x",
    ),
    (
        "https://www.tiktok.com/@some.user/video/7234567890123456789?is_from_webapp=1",
        None,
        "https://www.tiktok.com/@some.user/video/7234567890123456789",
        "tiktok",
    ),
    (
        "https://www.Example.com/tin-tuc/bai-viet?utm_source=fb&id=5#top",
        None,
        "https://example.com/tin-tuc/bai-viet?id=5",
        "website",
    ),
    ("https://baomoi.vn/x.html", "other", "https://baomoi.vn/x.html", "other"),
    (
        "https://www.facebook.com/Fake.Page.Name?ref=share",
        None,  # a fake page itself
        "https://www.facebook.com/fakepagename",
        "facebook",
    ),
]
INVALID_LINKS: list[tuple[str, str | None]] = [
    ("javascript:alert(1)", None),
    ("data:text/html,<b>hi</b>", None),
    ("ftp://example.com/post", None),
    ("http://127.0.0.1/post/1", None),
    ("http://[::1]/post/1", None),
    ("http://localhost:8000/post/1", None),
    ("https://intranet.local/post/1", None),
    ("https://user:secret@example.com/post", None),
    ("https://www.facebook.com/some.page/posts/1", "youtube"),  # platform mismatch
    ("https://www.example.com/post/1", "facebook"),  # platform mismatch
    ("https://www.facebook.com/some.page/posts/1", "website"),  # platform host as website
    ("@some.user", None),  # a bare handle
    ("some_user", None),  # a bare handle
    ("https://www.facebook.com/", None),  # home page, no content
    ("https://m.youtube.com", None),  # home page, no content
    ("https://youtu.be/", None),  # short link host without content
]


class TestLinks:
    @pytest.mark.parametrize(("url", "platform", "canonical", "expected_platform"), VALID_LINKS)
    async def test_link_is_canonicalised(
        self,
        client: httpx.AsyncClient,
        reporter: dict[str, str],
        url: str,
        platform: str | None,
        canonical: str,
        expected_platform: str,
    ) -> None:
        data = await file_report(client, reporter, url=url, platform=platform)
        assert (data["url"], data["canonical_url"], data["platform"]) == (
            url,
            canonical,
            expected_platform,
        )

    @pytest.mark.parametrize(("url", "platform"), INVALID_LINKS)
    async def test_invalid_link_is_422(
        self, client: httpx.AsyncClient, reporter: dict[str, str], url: str, platform: str | None
    ) -> None:
        r = await client.post(
            REPORTS,
            json=report_body(url=url, platform=platform),
            headers={**reporter, "Accept-Language": "en"},
        )
        body = assert_problem(r, 422, "invalid_url")
        assert body["errors"][0]["loc"] == ["body", "url"]
        assert body["detail"]  # says what is wrong
        assert await count_rows(Report) == 0
        assert await count_rows(RateLimitBucket) == 0  # refused before counting

    @pytest.mark.parametrize("handle", ["@some.user", "some.user"])
    async def test_bare_handle_with_a_platform_is_422(
        self, client: httpx.AsyncClient, reporter: dict[str, str], handle: str
    ) -> None:
        r = await client.post(
            REPORTS, json=report_body(url=handle, platform="facebook"), headers=reporter
        )
        assert_problem(r, 422, "invalid_url")


# ---------------------------------------------------------------------------------------
# Deadlines
# ---------------------------------------------------------------------------------------

FAST = {ReportCategory.secret_leak, ReportCategory.impersonation, ReportCategory.incitement}


class TestDeadlines:
    @pytest.mark.parametrize("category", list(ReportCategory))
    async def test_due_at_by_category(
        self, client: httpx.AsyncClient, reporter: dict[str, str], category: ReportCategory
    ) -> None:
        hours = 24 if category in FAST else 72
        before = datetime.now(UTC)
        data = await file_report(client, reporter, category=category.value)
        after = datetime.now(UTC)
        due, created = when(data["due_at"]), when(data["created_at"])
        assert abs(due - created - timedelta(hours=hours)) <= timedelta(seconds=1)
        assert before + timedelta(hours=hours, seconds=-1) <= due
        assert due <= after + timedelta(hours=hours, seconds=1)
        assert data["overdue"] is False

    async def test_policy_comes_from_settings(
        self, client: httpx.AsyncClient, reporter: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert Settings.model_fields["report_due_default_hours"].default == 72
        monkeypatch.setattr(get_settings(), "report_due_hours", {"scam": 48})
        monkeypatch.setattr(get_settings(), "report_due_default_hours", 100)
        for category, hours in (("scam", 48), ("secret_leak", 100), ("fake_news", 100)):
            data = await file_report(client, reporter, category=category)
            delta = when(data["due_at"]) - when(data["created_at"])
            assert abs(delta - timedelta(hours=hours)) <= timedelta(seconds=1), category


# ---------------------------------------------------------------------------------------
# Impersonation
# ---------------------------------------------------------------------------------------


class TestImpersonation:
    async def test_impersonated_member_makes_their_unit_the_subject_unit(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        victim, victim_h = await make_member_user(session, org.b1)
        data = await file_report(
            client,
            org.headers("member"),
            category="impersonation",
            impersonated_member_id=str(victim.id),
        )
        assert data["impersonated_member_id"] == str(victim.id)
        assert data["subject_member_id"] is None
        row = await fetch(Report, uuid.UUID(data["id"]))
        assert row.subject_unit_id == org.b1.id
        r = await client.get(f"{REPORTS}/{data['id']}", headers=org.headers("manager_b"))
        assert r.status_code == 200, r.text
        # A party: the impersonated member does not see the report (nor its reporter).
        assert_status(await client.get(f"{REPORTS}/{data['id']}", headers=victim_h), 404)

    async def test_impersonated_unit_is_the_subject_unit(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        data = await file_report(
            client,
            org.headers("member"),
            category="impersonation",
            impersonated_unit_id=str(org.b2.id),
        )
        assert data["impersonated_unit_id"] == str(org.b2.id)
        assert (await fetch(Report, uuid.UUID(data["id"]))).subject_unit_id == org.b2.id
        for role in ("manager_b", "manager_a"):
            r = await client.get(f"{REPORTS}/{data['id']}", headers=org.headers(role))
            assert r.status_code == 200, (role, r.text)

    @pytest.mark.parametrize("field", ["impersonated_member_id", "impersonated_unit_id"])
    async def test_unknown_impersonated_target_is_422(
        self, client: httpx.AsyncClient, org: Org, field: str
    ) -> None:
        r = await client.post(
            REPORTS, json=report_body(**{field: str(uuid.uuid4())}), headers=org.headers("member")
        )
        body = assert_problem(r, 422, "validation_failed")
        assert body["errors"][0]["loc"] == ["body", field]
        assert await count_rows(Report) == 0

    async def test_member_and_unit_together_is_422(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        victim = await make_member(session, org.b1)
        body = report_body(
            impersonated_member_id=str(victim.id), impersonated_unit_id=str(org.b1.id)
        )
        r = await client.post(REPORTS, json=body, headers=org.headers("member"))
        assert_problem(r, 422, "validation_failed")
        assert await count_rows(Report) == 0

    @pytest.mark.parametrize("field", ["impersonated_member_id", "impersonated_unit_id"])
    async def test_unknown_impersonated_target_with_a_declared_account_link_is_422(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, field: str
    ) -> None:
        await make_account(session, await make_member(session, org.b1), DECLARED)
        body = report_body(url=f"{DECLARED}/posts/1", **{field: str(uuid.uuid4())})
        r = await client.post(REPORTS, json=body, headers=org.headers("member"))
        assert_problem(r, 422, "validation_failed")


# ---------------------------------------------------------------------------------------
# Link to members: the subject of a report
# ---------------------------------------------------------------------------------------

SUBJECT_LINKS: list[tuple[str, str]] = [
    (DECLARED, f"{DECLARED}/posts/123"),
    (DECLARED, "https://m.facebook.com/nguyen.van.an/posts/123?fbclid=x"),
    (DECLARED, "https://www.facebook.com/NguyenVanAn"),  # the account itself
    (
        "https://www.facebook.com/profile.php?id=100012345678901",
        "https://www.facebook.com/permalink.php?story_fbid=42&id=100012345678901",
    ),
    ("https://www.tiktok.com/@nguyen.van.an", "https://www.tiktok.com/@Nguyen.Van.An/video/72345"),
    ("https://x.com/nguyenvanan", "https://twitter.com/NguyenVanAn/status/1234567890"),
]


class TestSubject:
    async def test_report_on_a_declared_account_names_its_member(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        holders = {}
        for declared in dict.fromkeys(d for d, _ in SUBJECT_LINKS):
            holders[declared] = await make_member(session, org.b1, full_name="Nguyễn Văn An")
            await make_account(session, holders[declared], declared)
        for declared, reported in SUBJECT_LINKS:
            subject = holders[declared]
            r = await client.post(
                REPORTS, json=report_body(url=reported), headers=org.headers("member")
            )
            # 200: another spelling of a link this member already reported (one open report).
            assert r.status_code in (200, 201), r.text
            data = r.json()
            assert data["subject_member_id"] == str(subject.id), reported
            assert data["reporter_member_id"] == str(org.me.id)
            row = await fetch(Report, uuid.UUID(data["id"]))
            assert (row.subject_member_id, row.subject_unit_id) == (subject.id, org.b1.id)

    async def test_subject_unit_managers_see_the_report(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        subject = await make_member(session, org.b1)
        await make_account(session, subject, DECLARED)
        outsider = auth(await make_user(session, grants=[(Role.manager, org.b2)]))
        data = await file_report(client, org.headers("member"), url=f"{DECLARED}/posts/123")
        for headers, seen in (
            (org.headers("manager_b"), True),
            (org.headers("manager_a"), True),
            (org.headers("reviewer_a"), True),
            (outsider, False),
        ):
            r = await client.get(f"{REPORTS}/{data['id']}", headers=headers)
            assert r.status_code == (200 if seen else 404), r.text
            listed = await client.get(REPORTS, headers=headers)
            assert listed.status_code == 200, listed.text
            ids = [i["id"] for i in listed.json()["items"]]
            assert ids == ([data["id"]] if seen else [])
            if seen:  # handlers who are not parties know the reporter
                assert r.json()["reporter_member_id"] == str(org.me.id)

    async def test_account_declared_through_the_api(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        subject, subject_h = await make_member_user(session, org.b1)
        r = await client.post(
            f"/api/v1/members/{subject.id}/accounts",
            json={"url": "https://m.facebook.com/Nguyen.Van.An"},
            headers=subject_h,
        )
        assert r.status_code == 201, r.text
        data = await file_report(client, org.headers("member"), url=f"{DECLARED}/posts/9")
        assert data["subject_member_id"] == str(subject.id)
        r = await client.get(f"{REPORTS}/{data['id']}", headers=org.headers("manager_b"))
        assert r.status_code == 200, r.text

    async def test_only_active_declarations_link(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        cases = [
            (AccountStatus.pending, True),
            (AccountStatus.verified, True),
            (AccountStatus.compromised, True),
            (AccountStatus.rejected, False),
            (AccountStatus.closed, False),
        ]
        for n, (status, linked) in enumerate(cases):
            declared = f"{DECLARED}{n}"
            subject = await make_member(session, org.b1)
            await make_account(session, subject, declared, status=status)
            data = await file_report(client, org.headers("member"), url=f"{declared}/posts/1")
            assert data["subject_member_id"] == (str(subject.id) if linked else None), status
            r = await client.get(f"{REPORTS}/{data['id']}", headers=org.headers("manager_b"))
            assert r.status_code == (200 if linked else 404), (status, r.text)

    async def test_undeclared_link_has_no_subject(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await make_account(session, await make_member(session, org.b1), DECLARED)
        data = await file_report(
            client, org.headers("member"), url="https://www.facebook.com/someone.else/posts/1"
        )
        assert data["subject_member_id"] is None
        assert (await fetch(Report, uuid.UUID(data["id"]))).subject_unit_id is None
        assert_status(
            await client.get(f"{REPORTS}/{data['id']}", headers=org.headers("manager_b")), 404
        )


# ---------------------------------------------------------------------------------------
# Rate limit
# ---------------------------------------------------------------------------------------


@pytest.fixture
def low_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    """Three reports per member per (very long) window, so it never rolls over mid-test."""
    monkeypatch.setattr(get_settings(), "report_rate_limit", 3)
    monkeypatch.setattr(get_settings(), "report_rate_window_seconds", 10**9)
    return 3


class TestRateLimit:
    def test_default_policy(self) -> None:
        fields = Settings.model_fields
        assert (
            fields["report_rate_limit"].default,
            fields["report_rate_window_seconds"].default,
        ) == (
            20,
            3600,
        )

    async def test_limit_per_member(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, low_limit: int
    ) -> None:
        for _ in range(low_limit):
            await file_report(client, org.headers("member"))
        r = await client.post(REPORTS, json=report_body(), headers=org.headers("member"))
        assert_problem(r, 429, "rate_limited")
        retry = int(r.headers["retry-after"])
        assert 1 <= retry <= 10**9
        assert r.headers["ratelimit-policy"] == f'"report";q={low_limit};w={10**9}'
        assert r.headers["ratelimit"].startswith('"report";r=0;t=')
        assert await count_rows(Report) == low_limit
        # Shared state: the counters are rows of rate_limit_buckets, not process memory.
        assert await count_rows(RateLimitBucket, RateLimitBucket.key.contains(str(org.me.id))) == 1
        # Another member has a budget of their own.
        _, peer_h = await make_member_user(session, org.a1)
        await file_report(client, peer_h)
        assert await count_rows(Report) == low_limit + 1
        r = await client.post(REPORTS, json=report_body(), headers=org.headers("member"))
        assert_problem(r, 429, "rate_limited")

    async def test_refused_requests_do_not_use_the_budget(
        self, client: httpx.AsyncClient, org: Org, low_limit: int
    ) -> None:
        for _ in range(low_limit + 2):
            r = await client.post(
                REPORTS, json=report_body(url="javascript:alert(1)"), headers=org.headers("member")
            )
            assert_problem(r, 422, "invalid_url")
            r = await client.post(
                REPORTS, json=report_body(category="nope"), headers=org.headers("member")
            )
            assert_problem(r, 422, "validation_failed")
        for _ in range(low_limit):
            await file_report(client, org.headers("member"))

    async def test_an_idempotent_replay_is_not_a_new_filing(
        self, client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "report_rate_limit", 1)
        monkeypatch.setattr(get_settings(), "report_rate_window_seconds", 10**9)
        h = {**org.headers("member"), "Idempotency-Key": "once"}
        body = report_body()
        first = await client.post(REPORTS, json=body, headers=h)
        assert first.status_code == 201, first.text
        again = await client.post(REPORTS, json=body, headers=h)
        assert again.status_code == 201, again.text
        assert again.headers["idempotent-replayed"] == "true"
        r = await client.post(REPORTS, json=report_body(), headers=org.headers("member"))
        assert_problem(r, 429, "rate_limited")


# ---------------------------------------------------------------------------------------
# Idempotency-Key
# ---------------------------------------------------------------------------------------


class TestIdempotency:
    async def test_same_key_same_body_replays(self, client: httpx.AsyncClient, org: Org) -> None:
        h = {**org.headers("member"), "Idempotency-Key": "report-2026-11-27-001"}
        body = report_body()
        first = await client.post(REPORTS, json=body, headers=h)
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
        second = await client.post(REPORTS, json=body, headers=h)
        assert second.status_code == 201, second.text
        assert second.headers["idempotent-replayed"] == "true"
        assert second.json() == first.json()
        assert second.headers["location"] == first.headers["location"]
        assert second.headers["etag"] == first.headers["etag"]
        assert await count_rows(Report) == 1
        assert await count_rows(AuditEvent, AuditEvent.action == "report.file") == 1

    async def test_same_key_other_body_is_422(self, client: httpx.AsyncClient, org: Org) -> None:
        h = {**org.headers("member"), "Idempotency-Key": "k1"}
        body = report_body()
        assert (await client.post(REPORTS, json=body, headers=h)).status_code == 201
        r = await client.post(REPORTS, json={**body, "description": "Khác"}, headers=h)
        assert_problem(r, 422, "idempotency_key_mismatch")
        assert await count_rows(Report) == 1

    async def test_keys_are_per_principal_and_per_key(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        body = report_body()
        _, peer_h = await make_member_user(session, org.a1)
        # The same key under another principal is another request; another key of the same
        # member is a new request too (which gets the member's open report back: 200).
        for headers, status in (
            ({**org.headers("member"), "Idempotency-Key": "k"}, 201),
            ({**org.headers("member"), "Idempotency-Key": "other"}, 200),
            ({**peer_h, "Idempotency-Key": "k"}, 201),
        ):
            r = await client.post(REPORTS, json=body, headers=headers)
            assert r.status_code == status, r.text
            assert "idempotent-replayed" not in r.headers
        assert await count_rows(Report) == 2  # one primary, one duplicate
        assert await count_rows(Report, Report.duplicate_of.is_(None)) == 1

    @pytest.mark.parametrize("key", ["has space", "x" * 256, ""])
    async def test_malformed_key_is_422(
        self, client: httpx.AsyncClient, org: Org, key: str
    ) -> None:
        r = await client.post(
            REPORTS, json=report_body(), headers={**org.headers("member"), "Idempotency-Key": key}
        )
        assert_problem(r, 422, "validation_failed")
        assert await count_rows(Report) == 0
