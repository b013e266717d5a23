"""Handling reported posts (SPEC §5 "Reported posts"): the whole state table, the fields
each move requires, who may make which move, If-Match, the timeline and the audit; and
PATCH (assignee, priority)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import MemberStatus, ReportStatus, Role
from api.models import AuditEvent, Report, User
from tests.support.factories import (
    REPORTS_URL,
    auth,
    file_report,
    make_member_user,
    make_user,
    png_bytes,
)
from tests.support.problems import assert_problem, assert_status
from tests.support.reads import audit_actions, count_rows, fetch, walk
from tests.support.world import Org, build_org

REPORTS = REPORTS_URL
RS = ReportStatus
TERMINAL = {RS.resolved, RS.dismissed, RS.withdrawn}
# The state table of SPEC §5: every (from, to) not listed is 409 `invalid_transition`.
LEGAL = {
    (RS.submitted, RS.in_review),
    (RS.submitted, RS.dismissed),
    (RS.in_review, RS.dismissed),
    (RS.in_review, RS.escalated),
    (RS.in_review, RS.resolved),
    (RS.escalated, RS.resolved),
    (RS.submitted, RS.withdrawn),
}
# The fields each target requires (and the only ones it accepts besides `comment`).
FIELDS: dict[ReportStatus, dict[str, str]] = {
    RS.submitted: {},
    RS.in_review: {},
    RS.escalated: {"authority": "Công an tỉnh A", "reference": "CV-123/2026"},
    RS.resolved: {"outcome": "refuted"},
    RS.dismissed: {},
    RS.withdrawn: {},
}
# How to bring a new report to each status: (who, target) moves.
PATHS: dict[ReportStatus, list[tuple[str, ReportStatus]]] = {
    RS.submitted: [],
    RS.in_review: [("reviewer_a", RS.in_review)],
    RS.escalated: [("reviewer_a", RS.in_review), ("reviewer_a", RS.escalated)],
    RS.resolved: [("reviewer_a", RS.in_review), ("reviewer_a", RS.resolved)],
    RS.dismissed: [("reviewer_a", RS.dismissed)],
    RS.withdrawn: [("member", RS.withdrawn)],
}


def move_url(rid: str) -> str:
    return f"{REPORTS}/{rid}/transitions"


def move_body(to: ReportStatus, comment: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"to": to.value, **FIELDS[to], **({"comment": comment} if comment else {}), **extra}


async def move(
    client: httpx.AsyncClient, rid: str, headers: dict[str, str], to: ReportStatus, **extra: Any
) -> httpx.Response:
    return await client.post(move_url(rid), json=move_body(to, **extra), headers=headers)


async def report_in(client: httpx.AsyncClient, org: Org, status: ReportStatus) -> str:
    """A report filed by org.me (A1), brought to `status` through the API."""
    rid: str = (await file_report(client, org.headers("member")))["id"]
    for who, to in PATHS[status]:
        r = await move(client, rid, org.headers(who), to)
        assert r.status_code == 200, r.text
    return rid


async def timeline(client: httpx.AsyncClient, rid: str, headers: dict[str, str]) -> list[Any]:
    pages = await walk(client, f"{REPORTS}/{rid}/timeline", headers)
    return [entry for page in pages for entry in page]


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


def refused(r: httpx.Response, status: int, code: str, where: str) -> dict[str, Any]:
    """assert_problem, naming the case first when the status differs."""
    assert r.status_code == status, f"{where}: {r.text}"
    return assert_problem(r, status, code)


def rid_of(rid: str) -> uuid.UUID:
    return uuid.UUID(rid)


async def user_of(session: AsyncSession, member_id: uuid.UUID) -> uuid.UUID:
    user_id: uuid.UUID = (
        await session.scalars(select(User.id).where(User.member_id == member_id))
    ).one()
    return user_id


# ---------------------------------------------------------------------------------------
# The state table
# ---------------------------------------------------------------------------------------


class TestStateTable:
    @pytest.mark.parametrize("start", list(RS))
    async def test_every_move_from(
        self, client: httpx.AsyncClient, org: Org, start: ReportStatus
    ) -> None:
        """Every target from `start`: the refused ones on one report (they leave it as it
        was), each legal one on a report of its own."""
        shared = await report_in(client, org, start)
        for to in RS:
            legal = (start, to) in LEGAL
            rid = await report_in(client, org, start) if legal else shared
            await self.check_move(client, org, rid, start, to)

    async def check_move(
        self, client: httpx.AsyncClient, org: Org, rid: str, start: ReportStatus, to: ReportStatus
    ) -> None:
        where = f"{start.value} -> {to.value}"
        before = await fetch(Report, rid_of(rid))
        moves_before = (await audit_actions(rid_of(rid))).count("report.transition")
        who = "member" if to is RS.withdrawn else "reviewer_a"
        r = await move(client, rid, org.headers(who), to, comment="Ghi chú")
        after = await fetch(Report, rid_of(rid))
        if (start, to) not in LEGAL:
            assert r.status_code == 409, f"{where}: {r.text}"
            body = assert_problem(r, 409, "invalid_transition")
            assert start.value in body["detail"], where
            assert to.value in body["detail"], where
            assert (after.status, after.version, after.closed_at) == (
                before.status,
                before.version,
                before.closed_at,
            ), where
            moves = (await audit_actions(rid_of(rid))).count("report.transition")
            assert moves == moves_before, where
            return
        assert r.status_code == 200, f"{where}: {r.text}"
        data = r.json()
        assert data["status"] == to.value == after.status.value, where
        assert data["version"] == after.version == before.version + 1, where
        assert r.headers["etag"] == f'"{after.version}"', where
        assert (data["closed_at"] is not None) is (to in TERMINAL), where
        assert (after.closed_at is not None) is (to in TERMINAL), where
        for name, value in FIELDS[to].items():
            assert data[name] == value, where
        assert data["reporter_member_id"] == str(org.me.id), where
        entry = (await timeline(client, rid, org.headers("member")))[-1]
        assert (entry["kind"], entry["from_status"], entry["to_status"], entry["comment"]) == (
            "transition",
            start.value,
            to.value,
            "Ghi chú",
        ), where
        assert entry["actor_id"] == str(org.principals[who].id), where
        assert entry["data"] == FIELDS[to], where
        actions = await audit_actions(rid_of(rid))
        assert actions.count("report.transition") == moves_before + 1, where
        assert actions[-1] == "report.transition", where

    def test_the_table_is_the_specification(self) -> None:
        from api.services.reports import WORKFLOW

        assert set(WORKFLOW) == LEGAL
        assert {k for k, m in WORKFLOW.items() if m.by == "reporter"} == {
            (RS.submitted, RS.withdrawn)
        }

    async def test_full_path_to_resolution_through_the_authorities(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        rid = (await file_report(client, org.headers("member")))["id"]
        h = org.headers("manager_a")
        steps = [
            (RS.in_review, "Đang xác minh"),
            (RS.escalated, "Chuyển công an"),
            (RS.resolved, "Đã gỡ bài"),
        ]
        for to, comment in steps:
            r = await move(
                client,
                rid,
                h,
                to,
                comment=comment,
                **({"outcome": "removed"} if to is RS.resolved else {}),
            )
            assert r.status_code == 200, r.text
        data = r.json()
        assert (data["status"], data["outcome"], data["authority"], data["reference"]) == (
            "resolved",
            "removed",
            "Công an tỉnh A",
            "CV-123/2026",
        )
        assert data["closed_at"] is not None
        assert data["version"] == 4
        entries = await timeline(client, rid, org.headers("member"))
        assert [(e["kind"], e["to_status"], e["comment"]) for e in entries] == [
            ("filed", "submitted", None),
            *[("transition", t.value, c) for t, c in steps],
        ]
        assert await audit_actions(rid_of(rid)) == ["report.file"] + ["report.transition"] * 3


# ---------------------------------------------------------------------------------------
# Fields of a move
# ---------------------------------------------------------------------------------------

MISSING: list[tuple[ReportStatus, dict[str, Any], str]] = [
    (RS.in_review, {"to": "resolved"}, "outcome"),
    (RS.escalated, {"to": "resolved", "comment": "xong"}, "outcome"),
    (RS.in_review, {"to": "escalated", "reference": "CV-1"}, "authority"),
    (RS.in_review, {"to": "escalated", "authority": "Công an tỉnh A"}, "reference"),
]
FOREIGN: list[tuple[ReportStatus, dict[str, Any], str]] = [
    (RS.submitted, {"to": "in_review", "outcome": "refuted"}, "outcome"),
    (RS.submitted, {"to": "dismissed", "outcome": "no_action"}, "outcome"),
    (RS.in_review, {"to": "resolved", "outcome": "refuted", "authority": "Công an"}, "authority"),
    (RS.in_review, {"to": "dismissed", "reference": "CV-1"}, "reference"),
]
MALFORMED: list[dict[str, Any]] = [
    {},  # no target
    {"to": "closed"},
    {"to": "resolved", "outcome": "deleted"},
    {"to": "in_review", "comment": "x" * 2001},
    {"to": "in_review", "status": "resolved"},
    {"to": "escalated", "authority": "a" * 201, "reference": "CV-1"},
]


class TestMoveFields:
    async def test_missing_or_foreign_field_is_422(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        reports = {
            start: await report_in(client, org, start)
            for start in (RS.submitted, RS.in_review, RS.escalated)
        }
        for start, body, field in MISSING + FOREIGN:
            rid = reports[start]
            r = await client.post(move_url(rid), json=body, headers=org.headers("reviewer_a"))
            problem = refused(r, 422, "validation_failed", f"{start.value} {body}")
            assert problem["errors"][0]["loc"] == ["body", field], body
            assert (await fetch(Report, rid_of(rid))).status is start

    async def test_malformed_body_is_422(self, client: httpx.AsyncClient, org: Org) -> None:
        rid = await report_in(client, org, RS.in_review)
        for body in MALFORMED:
            r = await client.post(move_url(rid), json=body, headers=org.headers("reviewer_a"))
            refused(r, 422, "validation_failed", str(body))
        assert (await fetch(Report, rid_of(rid))).version == 2


# ---------------------------------------------------------------------------------------
# Who moves
# ---------------------------------------------------------------------------------------


class TestWhoMoves:
    async def test_reporter_may_not_handle(self, client: httpx.AsyncClient, org: Org) -> None:
        rid = await report_in(client, org, RS.submitted)
        for to in (RS.in_review, RS.dismissed):
            r = await move(client, rid, org.headers("member"), to)
            refused(r, 403, "forbidden", to.value)
        assert (await fetch(Report, rid_of(rid))).status is RS.submitted

    async def test_reporter_who_is_a_manager_in_scope_never_handles_own_report(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        boss, h = await make_member_user(session, org.a1, grants=[(Role.manager, org.a)])
        rid = (await file_report(client, h))["id"]
        for to in (RS.in_review, RS.dismissed):
            assert_problem(await move(client, rid, h, to), 403, "forbidden")
        r = await client.patch(f"{REPORTS}/{rid}", json={"priority": "high"}, headers=h)
        assert_problem(r, 403, "forbidden")
        r = await client.get(f"{REPORTS}/{rid}", headers=h)
        assert r.json()["reporter_member_id"] == str(boss.id)
        # …but handles the reports of others, and withdraws their own.
        other = await report_in(client, org, RS.submitted)
        assert (await move(client, other, h, RS.in_review)).status_code == 200
        r = await move(client, rid, h, RS.withdrawn)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "withdrawn"

    async def test_reviewer_of_a_lower_unit_handles_reports_filed_there(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        a1_reviewer = auth(await make_user(session, grants=[(Role.reviewer, org.a1)]))
        a2_reviewer = auth(await make_user(session, grants=[(Role.reviewer, org.a2)]))
        rid = await report_in(client, org, RS.submitted)
        assert_status(await move(client, rid, a2_reviewer, RS.in_review), 404)
        assert (await move(client, rid, a1_reviewer, RS.in_review)).status_code == 200


# ---------------------------------------------------------------------------------------
# If-Match
# ---------------------------------------------------------------------------------------


class TestIfMatch:
    async def test_transition_honours_if_match(self, client: httpx.AsyncClient, org: Org) -> None:
        rid = await report_in(client, org, RS.submitted)
        h = org.headers("reviewer_a")
        r = await client.post(
            move_url(rid), json=move_body(RS.in_review), headers={**h, "If-Match": '"2"'}
        )
        assert_problem(r, 412, "version_mismatch")
        assert (await fetch(Report, rid_of(rid))).status is RS.submitted
        r = await client.post(
            move_url(rid), json=move_body(RS.in_review), headers={**h, "If-Match": '"1"'}
        )
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == '"2"'
        r = await client.post(
            move_url(rid), json=move_body(RS.dismissed), headers={**h, "If-Match": '"1"'}
        )
        assert_problem(r, 412, "version_mismatch")
        assert (await fetch(Report, rid_of(rid))).status is RS.in_review

    async def test_patch_honours_if_match(self, client: httpx.AsyncClient, org: Org) -> None:
        rid = await report_in(client, org, RS.submitted)
        h = org.headers("manager_a")
        r = await client.patch(
            f"{REPORTS}/{rid}", json={"priority": "urgent"}, headers={**h, "If-Match": '"7"'}
        )
        assert_problem(r, 412, "version_mismatch")
        assert (await fetch(Report, rid_of(rid))).priority.value == "normal"
        r = await client.patch(
            f"{REPORTS}/{rid}", json={"priority": "urgent"}, headers={**h, "If-Match": '"1"'}
        )
        assert r.status_code == 200, r.text
        assert (r.json()["priority"], r.headers["etag"]) == ("urgent", '"2"')
        get = await client.get(f"{REPORTS}/{rid}", headers=h)
        assert get.headers["etag"] == '"2"'

    async def test_filing_a_duplicate_changes_the_primary_version(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        first = await file_report(client, org.headers("member"))
        _, peer_h = await make_member_user(session, org.a1)
        await file_report(client, peer_h, url=first["url"])
        r = await client.post(
            move_url(first["id"]),
            json=move_body(RS.in_review),
            headers={**org.headers("reviewer_a"), "If-Match": '"1"'},
        )
        assert_problem(r, 412, "version_mismatch")


# ---------------------------------------------------------------------------------------
# PATCH: assignee and priority
# ---------------------------------------------------------------------------------------


class TestPatch:
    async def test_assign_set_priority_and_unassign(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        rid = await report_in(client, org, RS.submitted)
        h = org.headers("manager_a")
        reviewer = str(org.principals["reviewer_a"].id)
        r = await client.patch(f"{REPORTS}/{rid}", json={"assignee_id": reviewer}, headers=h)
        assert r.status_code == 200, r.text
        assert (r.json()["assignee_id"], r.json()["version"], r.headers["etag"]) == (
            reviewer,
            2,
            '"2"',
        )
        r = await client.patch(f"{REPORTS}/{rid}", json={"priority": "high"}, headers=h)
        assert (r.json()["priority"], r.json()["assignee_id"]) == ("high", reviewer)
        r = await client.patch(f"{REPORTS}/{rid}", json={"assignee_id": None}, headers=h)
        assert r.status_code == 200, r.text
        assert (r.json()["assignee_id"], r.json()["priority"]) == (None, "high")
        row = await fetch(Report, rid_of(rid))
        assert (row.assignee_id, row.priority.value, row.version) == (None, "high", 4)
        entries = await timeline(client, rid, org.headers("member"))
        assert [(e["kind"], e["data"]) for e in entries[1:]] == [
            ("assignment", {"assignee_id": reviewer}),
            ("priority", {"priority": "high"}),
            ("assignment", {"assignee_id": None}),
        ]
        assert all(e["actor_id"] == str(org.principals["manager_a"].id) for e in entries[1:])
        assert await audit_actions(rid_of(rid)) == ["report.file"] + ["report.update"] * 3

    async def test_both_fields_at_once_and_a_no_op(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        rid = await report_in(client, org, RS.in_review)
        h = org.headers("reviewer_a")
        me = str(org.principals["reviewer_a"].id)
        r = await client.patch(
            f"{REPORTS}/{rid}", json={"assignee_id": me, "priority": "low"}, headers=h
        )
        assert r.status_code == 200, r.text
        assert (r.json()["assignee_id"], r.json()["priority"], r.json()["version"]) == (
            me,
            "low",
            3,
        )
        kinds = [e["kind"] for e in await timeline(client, rid, h)]
        assert sorted(kinds[-2:]) == ["assignment", "priority"]
        audits = await count_rows(AuditEvent, AuditEvent.entity_id == rid_of(rid))
        r = await client.patch(
            f"{REPORTS}/{rid}", json={"assignee_id": me, "priority": "low"}, headers=h
        )
        assert r.status_code == 200, r.text
        assert (r.json()["version"], r.headers["etag"]) == (3, '"3"')
        assert len(await timeline(client, rid, h)) == len(kinds)
        assert await count_rows(AuditEvent, AuditEvent.entity_id == rid_of(rid)) == audits

    async def test_admin_and_a_lower_reviewer_are_assignable(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        rid = await report_in(client, org, RS.submitted)
        a1_reviewer = await make_user(session, grants=[(Role.reviewer, org.a1)])
        for user in (org.principals["admin"], a1_reviewer):
            r = await client.patch(
                f"{REPORTS}/{rid}",
                json={"assignee_id": str(user.id)},
                headers=org.headers("manager_a"),
            )
            assert r.status_code == 200, r.text
            assert r.json()["assignee_id"] == str(user.id)

    async def test_closed_report_takes_no_assignee_or_priority(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        """Closed reports are read only, as for evidence (409 report_closed)."""
        for status in (RS.resolved, RS.dismissed, RS.withdrawn):
            rid = await report_in(client, org, status)
            r = await client.patch(
                f"{REPORTS}/{rid}",
                headers=org.headers("manager_a"),
                json={"priority": "urgent", "assignee_id": str(org.principals["reviewer_a"].id)},
            )
            assert_problem(r, 409, "report_closed")
            r = await client.get(f"{REPORTS}/{rid}", headers=org.headers("manager_a"))
            assert (r.json()["status"], r.json()["priority"]) == (status.value, "normal")

    async def test_invalid_assignee_is_422(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        boss, boss_h = await make_member_user(session, org.a2, grants=[(Role.reviewer, org.a)])
        rid = (await file_report(client, boss_h))["id"]  # boss is a party: the reporter
        inactive = await make_user(session, grants=[(Role.reviewer, org.a)], active=False)
        gone, _ = await make_member_user(
            session, org.a1, grants=[(Role.reviewer, org.a)], status=MemberStatus.removed
        )
        candidates = {
            "out of scope": org.principals["manager_b"].id,
            "a member without grants": org.principals["member"].id,
            "an API client": org.principals["partner_a"].id,
            "unknown": uuid.uuid4(),
            "inactive": inactive.id,
            "a removed member": await user_of(session, gone.id),
            "a party (the reporter)": await user_of(session, boss.id),
        }
        for who, assignee in candidates.items():
            r = await client.patch(
                f"{REPORTS}/{rid}",
                json={"assignee_id": str(assignee)},
                headers=org.headers("manager_a"),
            )
            problem = refused(r, 422, "validation_failed", who)
            assert problem["errors"][0]["loc"] == ["body", "assignee_id"], who
        row = await fetch(Report, rid_of(rid))
        assert (row.assignee_id, row.version) == (None, 1)

    async def test_invalid_body_is_422(self, client: httpx.AsyncClient, org: Org) -> None:
        rid = await report_in(client, org, RS.submitted)
        for body in (
            {"priority": None},
            {"priority": "extreme"},
            {"assignee_id": "someone"},
            {"status": "resolved"},
            {"description": "sửa"},
        ):
            r = await client.patch(f"{REPORTS}/{rid}", json=body, headers=org.headers("manager_a"))
            refused(r, 422, "validation_failed", str(body))
        row = await fetch(Report, rid_of(rid))
        assert (row.priority.value, row.version) == ("normal", 1)


# ---------------------------------------------------------------------------------------
# Timeline
# ---------------------------------------------------------------------------------------


class TestTimeline:
    async def test_every_kind_oldest_first_across_pages(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        first = await file_report(client, org.headers("member"))
        rid = first["id"]
        h = org.headers("manager_a")
        _, peer_h = await make_member_user(session, org.a1)
        await file_report(client, peer_h, url=first["url"])  # duplicate_linked
        await client.patch(f"{REPORTS}/{rid}", json={"priority": "high"}, headers=h)
        await client.patch(
            f"{REPORTS}/{rid}",
            headers=h,
            json={"assignee_id": str(org.principals["reviewer_a"].id)},
        )
        r = await client.post(
            f"{REPORTS}/{rid}/evidence",
            headers=org.headers("member"),
            files={"file": ("a.png", png_bytes(), "image/png")},
        )
        assert r.status_code == 201, r.text
        assert (await move(client, rid, h, RS.in_review, comment="Xem")).status_code == 200
        pages = await walk(client, f"{REPORTS}/{rid}/timeline", h, limit=2)
        assert [len(p) for p in pages] == [2, 2, 2]
        entries = [e for p in pages for e in p]
        assert [e["kind"] for e in entries] == [
            "filed",
            "duplicate_linked",
            "priority",
            "assignment",
            "evidence",
            "transition",
        ]
        assert len({e["id"] for e in entries}) == 6
        ats = [e["at"] for e in entries]
        assert ats == sorted(ats)
        linked = entries[1]
        assert (linked["actor_type"], linked["actor_id"]) == ("system", None)
        assert entries[4]["data"]["size"] == len(png_bytes())
        assert entries[5]["comment"] == "Xem"

    async def test_bad_cursor_and_limit(self, client: httpx.AsyncClient, org: Org) -> None:
        rid = await report_in(client, org, RS.submitted)
        h = org.headers("member")
        r = await client.get(f"{REPORTS}/{rid}/timeline", params={"cursor": "garbage"}, headers=h)
        assert_problem(r, 422, "invalid_cursor")
        r = await client.get(f"{REPORTS}/{rid}/timeline", params={"limit": 0}, headers=h)
        assert_problem(r, 422, "validation_failed")


async def test_unknown_report_is_404_everywhere(client: httpx.AsyncClient, org: Org) -> None:
    missing = uuid.uuid4()
    h = org.headers("admin")
    for method, path, kwargs in (
        ("GET", f"{REPORTS}/{missing}", {}),
        ("PATCH", f"{REPORTS}/{missing}", {"json": {"priority": "high"}}),
        ("POST", move_url(str(missing)), {"json": {"to": "in_review"}}),
        ("GET", f"{REPORTS}/{missing}/timeline", {}),
        ("GET", f"{REPORTS}/{missing}/evidence", {}),
        ("GET", f"{REPORTS}/{missing}/evidence/{uuid.uuid4()}", {}),
        ("POST", f"{REPORTS}/{missing}/evidence", {"files": {"file": ("a.png", png_bytes())}}),
    ):
        r = await client.request(method, path, headers=h, **kwargs)  # type: ignore[arg-type]
        assert_problem(r, 404, "not_found")
    r = await client.get(f"{REPORTS}/not-a-uuid", headers=h)  # a malformed id names nothing
    assert_problem(r, 404, "not_found")


class TestAllowedTransitions:
    """A report as read lists the moves this caller may make now, with their required
    fields; each listed move is accepted from that caller and every other target is
    refused (403 or 409): the list is the server's rule, not a copy of it."""

    CALLERS = ("member", "reviewer_a", "manager_a", "admin")

    @pytest.mark.parametrize("start", [RS.submitted, RS.in_review, RS.escalated, RS.resolved])
    async def test_the_list_is_what_the_server_accepts(
        self, client: httpx.AsyncClient, org: Org, start: ReportStatus
    ) -> None:
        for who in self.CALLERS:
            shared = await report_in(client, org, start)
            r = await client.get(f"{REPORTS}/{shared}", headers=org.headers(who))
            assert r.status_code == 200, r.text
            listed = {m["to"]: m["requires"] for m in r.json()["allowed_transitions"]}
            for to in RS:
                where = f"{who}: {start.value} -> {to.value}"
                if to.value in listed:
                    assert listed[to.value] == sorted(FIELDS[to]), where
                    rid = await report_in(client, org, start)
                    assert (await move(client, rid, org.headers(who), to)).status_code == 200, where
                else:
                    r = await move(client, shared, org.headers(who), to)
                    assert r.status_code in (403, 409), f"{where}: {r.text}"

    async def test_who_may_do_what_on_a_new_report(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        rid = await report_in(client, org, RS.submitted)

        async def listed(who: str) -> list[tuple[str, list[str]]]:
            r = await client.get(f"{REPORTS}/{rid}", headers=org.headers(who))
            return [(m["to"], m["requires"]) for m in r.json()["allowed_transitions"]]

        assert await listed("member") == [("withdrawn", [])]  # the reporter
        assert await listed("reviewer_a") == [("in_review", []), ("dismissed", [])]
        r = await move(client, rid, org.headers("reviewer_a"), RS.in_review)
        assert [m["to"] for m in r.json()["allowed_transitions"]] == [
            "dismissed",
            "escalated",
            "resolved",
        ]
        assert await listed("member") == []  # withdrawn only from submitted
        resolved = {m["to"]: m["requires"] for m in r.json()["allowed_transitions"]}
        assert resolved == {
            "dismissed": [],
            "escalated": ["authority", "reference"],
            "resolved": ["outcome"],
        }
