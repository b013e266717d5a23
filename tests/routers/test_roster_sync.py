"""Roster sync semantics (SPEC §5 "Roster sync"): counts on a known roster, the diff,
apply and its safety rules (guard, rejected rows, 409 on a changed roster, one
transaction, idempotence), tokens, units, audit, Idempotency-Key."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import db
from api.core.enums import MemberStatus, SyncStatus
from api.core.text_vi import fold, name_sort_key
from api.models import AuditEvent, Member, RosterSync, Unit, User
from api.services.roster.apply import STEPS
from tests.routers.test_roster_support import (
    EXPECTED_COUNTS,
    SYNCS,
    Roster,
    all_changes,
    apply,
    fail_after,
    make_roster,
    member_by_external_id,
    members_state,
    post_sync,
    preview,
    row,
    snapshot,
    snapshot_rows,
    token_versions,
)
from tests.support.factories import auth, make_member, make_unit, make_user
from tests.support.problems import assert_problem
from tests.support.reads import count_rows, fetch


@pytest.fixture
async def roster(session: AsyncSession) -> Roster:
    return await make_roster(session)


def by_external_id(changes: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    return {c["external_id"]: c for c in changes}


class TestPreview:
    async def test_counts_are_exact_on_the_known_roster(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        before = await members_state()
        r = await post_sync(client, roster.headers("partner_a"), snapshot())
        assert r.status_code == 201, r.text
        sync = r.json()
        assert r.headers["location"] == f"{SYNCS}/{sync['id']}"
        assert sync["status"] == "previewed"
        assert sync["mode"] == "snapshot"
        assert sync["source"] == "json"
        assert sync["scope_unit_code"] == "A"
        assert sync["counts"] == EXPECTED_COUNTS
        assert sync["rows_total"] == 18
        assert sync["scope_members"] == 16
        assert sync["mass_deactivation"] is False
        assert sync["applied_at"] is None
        assert sync["actor_type"] == "client"
        assert [(e["row"], e["external_id"], e["code"], e["field"]) for e in sync["errors"]] == [
            (16, "N-002", "validation_failed", "membership"),
            (17, "N-003", "unknown_unit", "unit_code"),
            (18, "N-004", "out_of_scope", "unit_code"),
        ]
        assert await members_state() == before, "a preview changes nothing"
        assert await count_rows(RosterSync) == 1
        got = await client.get(f"{SYNCS}/{sync['id']}", headers=roster.headers("partner_a"))
        assert got.status_code == 200
        assert got.json() == sync

    async def test_the_diff_says_what_each_row_does(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        sync = await preview(client, roster)
        changes = await all_changes(client, roster, sync["id"], limit=4)
        assert [c["row"] for c in changes] == list(range(1, 21))
        rows = by_external_id(changes)
        assert rows["A-001"]["action"] == "unchanged"
        assert rows["A-001"]["changes"] == {}
        assert rows["A-002"]["action"] == "update"
        assert rows["A-002"]["changes"] == {"membership": ["probationary", "official"]}
        assert rows["A-003"]["action"] == "move"
        assert rows["A-003"]["changes"] == {"unit_code": ["A.2", "A.1"]}
        assert rows["A-003"]["member_id"] == str(roster.members["A-003"].id)
        assert rows["A-004"]["action"] == "reactivate"
        assert rows["A-004"]["changes"] == {"status": ["transferred", "active"]}
        created = rows["N-001"]
        assert created["action"] == "create"
        assert created["changes"] == {
            "full_name": [None, "Đặng Thị Lan"],
            "unit_code": [None, "A.2"],
            "membership": [None, "probationary"],
            "status": [None, "active"],
            "is_leader": [None, False],
            "email": [None, "lan.dt@example.vn"],
        }
        assert created["member_id"] is not None
        for ext, code in (
            ("N-002", "validation_failed"),
            ("N-003", "unknown_unit"),
            ("N-004", "out_of_scope"),
        ):
            assert rows[ext]["action"] == "rejected"
            assert rows[ext]["error"]["code"] == code
            assert rows[ext]["member_id"] is None
        # Absent members follow the body's rows, in external_id order.
        absent = changes[18:]
        assert [c["action"] for c in absent] == ["deactivate", "deactivate"]
        assert {c["external_id"] for c in absent} == {"A-005", roster.org.me.external_id}
        assert all(c["changes"] == {"status": ["active", "transferred"]} for c in absent)

    async def test_changes_filter_by_action(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        sync = await preview(client, roster)
        for action, n in (("deactivate", 2), ("unchanged", 11), ("rejected", 3), ("create", 1)):
            items = await all_changes(client, roster, sync["id"], action=action, limit=2)
            assert len(items) == n
            assert {c["action"] for c in items} == {action}
        r = await client.get(
            f"{SYNCS}/{sync['id']}/changes",
            params={"action": "deleted"},
            headers=roster.headers("partner_a"),
        )
        assert_problem(r, 422, "validation_failed")
        r = await client.get(
            f"{SYNCS}/{sync['id']}/changes",
            params={"cursor": "bogus"},
            headers=roster.headers("partner_a"),
        )
        assert_problem(r, 422, "invalid_cursor")

    async def test_upsert_touches_only_the_rows_given(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = {
            "mode": "upsert",
            "members": [
                row("A-003", "Phạm Văn Cường", "A.2", phone=None),  # clears the phone
                row("A-005", "Vũ Văn Em", "A.2", position="Bí thư chi bộ", is_leader=True),
            ],
        }
        sync = await preview(client, roster, body=body)
        assert sync["counts"] == {**dict.fromkeys(EXPECTED_COUNTS, 0), "updated": 2}
        assert sync["scope_unit_code"] == "A", "an upsert is placed at the partner's unit"
        rows = by_external_id(await all_changes(client, roster, sync["id"]))
        assert rows["A-003"]["changes"] == {"phone": ["+84912345678", None]}
        assert rows["A-005"]["changes"] == {
            "position": [None, "Bí thư chi bộ"],
            "is_leader": [False, True],
        }
        r = await apply(client, roster, sync["id"])
        assert r.status_code == 200, r.text
        a3 = await member_by_external_id("A-003")
        assert a3 is not None
        assert a3.phone is None
        assert a3.membership == "official"
        a4 = await member_by_external_id("A-004")
        assert a4 is not None
        assert a4.status == MemberStatus.transferred, "an upsert deactivates nobody"

    async def test_upsert_keeps_an_off_roster_status_unless_given(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = {"mode": "upsert", "members": [row("A-004", "Hoàng Thị Dung", "A.2")]}
        sync = await preview(client, roster, body=body)
        assert sync["counts"]["unchanged"] == 1
        body["members"][0]["status"] = "đang sinh hoạt"
        sync = await preview(client, roster, body=body)
        assert sync["counts"]["reactivated"] == 1

    async def test_duplicate_external_ids_reject_every_occurrence(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        rows = [
            *snapshot_rows(bad=False),
            row("A-001", "Nguyễn Văn An", "A.2", membership="official"),
        ]
        sync = await preview(client, roster, body=snapshot(rows))
        assert sync["counts"]["rejected"] == 2
        errors = {(e["row"], e["code"]) for e in sync["errors"]}
        assert errors == {(1, "duplicate_external_id"), (16, "duplicate_external_id")}
        changes = by_external_id(await all_changes(client, roster, sync["id"], action="deactivate"))
        assert "A-001" not in changes, "a member named by a rejected row is not deactivated"

    async def test_exempt_members_count_as_on_the_roster(
        self, client: httpx.AsyncClient, roster: Roster, session: AsyncSession
    ) -> None:
        await make_member(
            session,
            roster.org.a1,
            external_id="A-200",
            full_name="Lý Văn Quý",
            status=MemberStatus.exempt,
        )
        sync = await preview(client, roster)
        assert sync["counts"]["deactivated"] == 3
        assert sync["scope_members"] == 17


class TestApply:
    async def test_apply_then_an_identical_resend_is_all_unchanged(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = snapshot(snapshot_rows(bad=False))
        sync = await preview(client, roster, body=body)
        r = await apply(client, roster, sync["id"])
        assert r.status_code == 200, r.text
        applied = r.json()
        assert applied["status"] == "applied"
        assert applied["applied_at"] is not None
        assert applied["applied_by_id"] == str(roster.org.principals["partner_a"].id)

        a2, a3, a4, a5 = [
            await member_by_external_id(x) for x in ("A-002", "A-003", "A-004", "A-005")
        ]
        assert a2 is not None
        assert a2.membership == "official"
        assert a2.version == 2
        assert a3 is not None
        assert a3.unit_id == roster.org.a1.id
        assert a3.phone == "+84912345678"
        assert a4 is not None
        assert a4.status == MemberStatus.active
        assert a5 is not None
        assert a5.status == MemberStatus.transferred
        me = await fetch(Member, roster.org.me.id)
        assert me.status == MemberStatus.transferred
        new = await member_by_external_id("N-001")
        assert new is not None
        assert (new.full_name, new.unit_id, new.version) == ("Đặng Thị Lan", roster.org.a2.id, 1)
        assert (new.name_search, new.name_sort) == (
            fold("Đặng Thị Lan"),
            name_sort_key("Đặng Thị Lan"),
        )
        assert new.declaration == "not_declared"
        no_id = await fetch(Member, roster.members["no-id"].id)
        assert no_id.status == MemberStatus.active, "members without external_id are left alone"
        b = await fetch(Member, roster.members["B-001"].id)
        assert b.version == 1

        again = await preview(client, roster, body=body)
        assert again["counts"] == {
            **dict.fromkeys(EXPECTED_COUNTS, 0),
            "unchanged": again["rows_total"],
        }
        assert again["rows_total"] == 15

    async def test_members_are_findable_and_sorted_after_a_sync(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        sync = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))
        assert (await apply(client, roster, sync["id"])).status_code == 200
        r = await client.get(
            "/api/v1/members", params={"q": "dang thi lan"}, headers=roster.headers("admin")
        )
        assert [m["external_id"] for m in r.json()["items"]] == ["N-001"]

    async def test_applying_twice_changes_nothing_the_second_time(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        sync = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))
        first = await apply(client, roster, sync["id"])
        assert first.status_code == 200
        state = await members_state()
        second = await apply(client, roster, sync["id"])
        assert second.status_code == 200
        assert second.json() == first.json()
        assert await members_state() == state
        async with db.sessionmaker() as s:
            applies = await s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "roster_sync.apply")
            )
        assert applies == 1

    async def test_dry_run_false_previews_and_applies_in_one_call(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        r = await post_sync(
            client, roster.headers("partner_a"), snapshot(snapshot_rows(bad=False)), dry_run=False
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "applied"
        assert (await member_by_external_id("N-001")) is not None

    async def test_rejected_rows_block_apply_unless_skipped(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        before = await members_state()
        sync = await preview(client, roster)
        body = assert_problem(
            await apply(client, roster, sync["id"]), 422, "sync_has_rejected_rows"
        )
        assert body["sync_id"] == sync["id"]
        assert await members_state() == before
        r = await client.get(f"{SYNCS}/{sync['id']}", headers=roster.headers("partner_a"))
        assert r.json()["status"] == "previewed"
        r = await apply(client, roster, sync["id"], skip_rejected=True)
        assert r.status_code == 200, r.text
        assert r.json()["counts"] == EXPECTED_COUNTS
        assert r.json()["skip_rejected"] is True, "the flag it was applied with is kept"
        assert (await member_by_external_id("N-002")) is None
        assert (await member_by_external_id("N-001")) is not None

    async def test_skip_rejected_at_creation(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        r = await post_sync(client, roster.headers("partner_a"), snapshot(), dry_run=False)
        body = assert_problem(r, 422, "sync_has_rejected_rows")
        kept = await client.get(f"{SYNCS}/{body['sync_id']}", headers=roster.headers("partner_a"))
        assert kept.json()["status"] == "previewed", "the preview is kept as evidence"
        r = await post_sync(
            client, roster.headers("partner_a"), snapshot(), dry_run=False, skip_rejected=True
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "applied"
        assert r.json()["skip_rejected"] is True

    async def test_members_leaving_the_roster_lose_their_tokens(
        self, client: httpx.AsyncClient, roster: Roster, session: AsyncSession
    ) -> None:
        member_user = roster.org.principals["member"]
        other = await make_user(session, member=roster.members["A-001"])  # stays on the roster
        headers = auth(member_user)
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
        versions = await token_versions()
        sync = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))
        assert (await apply(client, roster, sync["id"])).status_code == 200
        after = await token_versions()
        assert after[member_user.id] == versions[member_user.id] + 1
        assert after[other.id] == versions[other.id]
        assert_problem(await client.get("/api/v1/me", headers=headers), 401, "invalid_token")

    async def test_an_explicit_status_off_the_roster_also_invalidates_tokens(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        me = roster.org.me
        member_user = roster.org.principals["member"]
        body = {
            "mode": "upsert",
            "members": [row(me.external_id or "", me.full_name, "A.1", status="deceased")],
        }
        sync = await preview(client, roster, body=body)
        assert sync["counts"]["updated"] == 1
        versions = await token_versions()
        assert (await apply(client, roster, sync["id"])).status_code == 200
        assert (await token_versions())[member_user.id] == versions[member_user.id] + 1

    async def test_the_statistics_counters_follow_the_sync(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        from tests.support.stats import folded_rollup

        sync = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))
        assert (await apply(client, roster, sync["id"])).status_code == 200
        cells = [roster.org.a1.id, roster.org.a2.id]
        active = await count_rows(
            Member, Member.status == MemberStatus.active, Member.unit_id.in_(cells)
        )
        assert active == 16
        rollup = await folded_rollup(roster.org.a.id)
        assert rollup.members_active == active


class TestMassDeactivation:
    async def test_guard_refuses_apply_but_keeps_the_preview(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        rows = snapshot_rows(bad=False)[:4]  # A-001..A-004 only: 12 of 16 would go
        sync = await preview(client, roster, body=snapshot(rows))
        assert sync["counts"]["deactivated"] == 12
        assert sync["mass_deactivation"] is True
        before = await members_state()
        body = assert_problem(await apply(client, roster, sync["id"]), 422, "mass_deactivation")
        assert body["sync_id"] == sync["id"]
        assert await members_state() == before
        r = await apply(client, roster, sync["id"], allow_mass_deactivation=True)
        assert r.status_code == 200, r.text
        assert r.json()["allow_mass_deactivation"] is True
        # A-004 came back; the 12 absent left.
        assert await count_rows(Member, Member.status == MemberStatus.transferred) == 12

    async def test_dry_run_false_is_refused_unless_allowed(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        rows = snapshot_rows(bad=False)[:4]
        r = await post_sync(client, roster.headers("partner_a"), snapshot(rows), dry_run=False)
        assert_problem(r, 422, "mass_deactivation")
        r = await post_sync(
            client,
            roster.headers("partner_a"),
            snapshot(rows),
            dry_run=False,
            allow_mass_deactivation=True,
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "applied"
        assert r.json()["allow_mass_deactivation"] is True

    @pytest.mark.parametrize(("absent", "refused"), [(4, False), (5, True)])
    async def test_the_limit_is_more_than_20_percent(
        self,
        client: httpx.AsyncClient,
        roster: Roster,
        session: AsyncSession,
        absent: int,
        refused: bool,
    ) -> None:
        # 4 more members make 20 on the roster of A: 4 absent is 20% (allowed), 5 is 25%.
        for i in range(4):
            await make_member(
                session, roster.org.a1, external_id=f"A-30{i}", full_name=f"Mai Văn Tư {i}"
            )
        extra = [row(f"A-30{i}", f"Mai Văn Tư {i}", "A.1", membership="official") for i in range(4)]
        rows = snapshot_rows(bad=False) + extra[: 4 - (absent - 2)]
        sync = await preview(client, roster, body=snapshot(rows))
        assert sync["scope_members"] == 20
        assert sync["counts"]["deactivated"] == absent
        assert sync["mass_deactivation"] is refused


class TestRosterChanged:
    async def test_a_member_edited_since_the_preview_is_409(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        sync = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))
        a2 = roster.members["A-002"]
        r = await client.patch(
            f"/api/v1/members/{a2.id}",
            json={"position": "Chi ủy viên"},
            headers=roster.headers("manager_a"),
        )
        assert r.status_code == 200
        before = await members_state()
        body = assert_problem(await apply(client, roster, sync["id"]), 409, "roster_changed")
        assert body["sync_id"] == sync["id"]
        assert await members_state() == before
        r = await client.get(f"{SYNCS}/{sync['id']}", headers=roster.headers("partner_a"))
        assert r.json()["status"] == "previewed"
        # A fresh preview sees the edit and applies.
        fresh = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))
        assert (await apply(client, roster, fresh["id"])).status_code == 200

    async def test_a_member_added_to_the_scope_is_409(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        sync = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))
        r = await client.post(
            "/api/v1/members",
            headers=roster.headers("manager_a"),
            json={
                "full_name": "Kiều Văn Mới",
                "unit_id": str(roster.org.a2.id),
                "membership": "official",
                "external_id": "A-900",
            },
        )
        assert r.status_code == 201
        assert_problem(await apply(client, roster, sync["id"]), 409, "roster_changed")

    async def test_a_member_created_elsewhere_with_the_same_external_id_is_409(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = {
            "mode": "upsert",
            "members": [row("N-010", "Tạ Văn Mười", "A.1", membership="official")],
        }
        sync = await preview(client, roster, body=body)
        r = await client.post(
            "/api/v1/members",
            headers=roster.headers("admin"),
            json={
                "full_name": "Tạ Văn Mười",
                "unit_id": str(roster.org.b1.id),
                "membership": "official",
                "external_id": "N-010",
            },
        )
        assert r.status_code == 201
        assert_problem(await apply(client, roster, sync["id"]), 409, "roster_changed")
        assert await count_rows(Member, Member.external_id == "N-010") == 1

    async def test_a_dissolved_target_unit_is_409(
        self, client: httpx.AsyncClient, roster: Roster, session: AsyncSession
    ) -> None:
        cell = await make_unit(session, roster.org.a, code="A.9", name="Chi bộ 9")
        body = {
            "mode": "upsert",
            "members": [row("N-020", "Lưu Thị Hai", "A.9", membership="official")],
        }
        sync = await preview(client, roster, body=body)
        r = await client.post(
            f"/api/v1/units/{cell.id}/dissolve", headers=roster.headers("manager_a")
        )
        assert r.status_code == 200, r.text
        assert_problem(await apply(client, roster, sync["id"]), 409, "roster_changed")


class TestFailureDuringApply:
    @pytest.mark.parametrize(
        "step",
        [
            "checks",
            "units",
            "keys",
            "create",
            "update",
            "deactivate",
            "tokens",
            "statistics",
            "done",
        ],
    )
    async def test_nothing_is_applied_and_the_sync_is_marked_failed(
        self, client: httpx.AsyncClient, roster: Roster, monkeypatch: pytest.MonkeyPatch, step: str
    ) -> None:
        sync = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))
        before, tokens = await members_state(), await token_versions()

        failure = RuntimeError(f"injected failure at {step}")
        monkeypatch.setitem(STEPS, step, fail_after(STEPS[step], failure))
        r = await apply(client, roster, sync["id"])
        body = assert_problem(r, 500, "internal_error")
        assert body["sync_id"] == sync["id"]
        assert await members_state() == before
        assert await token_versions() == tokens
        failed = (
            await client.get(f"{SYNCS}/{sync['id']}", headers=roster.headers("partner_a"))
        ).json()
        assert failed["status"] == "failed"
        assert failed["failure_code"] == "apply_failed"
        assert "RuntimeError" in failed["failure_detail"]
        monkeypatch.undo()
        assert_problem(await apply(client, roster, sync["id"]), 409, "sync_not_applicable")
        async with db.sessionmaker() as s:
            actions = set((await s.scalars(select(AuditEvent.action))).all())
        assert "roster_sync.apply" not in actions


class TestUnits:
    async def test_a_snapshot_creates_and_renames_units(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = snapshot(
            [*snapshot_rows(bad=False), row("N-030", "Cao Văn Ba", "A.3.1", membership="official")]
        )
        body["units"] = [
            {
                "code": "A.3.1",
                "name": "Tổ đảng 1",
                "level": "group",
                "parent_code": "A.3",
            },  # child first
            {"code": "A.3", "name": "Chi bộ  3", "level": "chi bộ", "parent_code": "A"},
            {"code": "A.1", "name": "Chi bộ A1 (mới)", "level": "cell", "parent_code": "A"},
            {"code": "A.2", "name": "Chi bộ A2", "level": "cell"},
            {"code": "B.9", "name": "Ngoài", "level": "cell", "parent_code": "B"},
            {"code": "A.4", "name": "Mồ côi", "level": "cell", "parent_code": "X.X"},
            {"code": "A.2", "name": "Chi bộ A2", "level": "cell", "parent_code": "B"},
        ]
        sync = await preview(client, roster, body=body)
        assert sync["unit_counts"] == {"created": 2, "updated": 1, "unchanged": 0, "rejected": 4}
        assert sync["counts"]["created"] == 2
        r = await client.get(
            f"{SYNCS}/{sync['id']}/unit-changes", headers=roster.headers("partner_a")
        )
        units = {(u["row"], u["code"]): u for u in r.json()["items"]}
        assert units[(2, "A.3")]["action"] == "create"
        assert units[(2, "A.3")]["name"] == "Chi bộ 3"
        assert units[(3, "A.1")]["changes"] == {"name": ["Chi bộ A1", "Chi bộ A1 (mới)"]}
        assert units[(5, "B.9")]["error"]["code"] == "unknown_parent"
        assert units[(6, "A.4")]["error"]["code"] == "unknown_parent"
        assert units[(4, "A.2")]["error"]["code"] == "duplicate_code"
        assert {e["kind"] for e in sync["errors"]} == {"unit"}
        r = await apply(client, roster, sync["id"], skip_rejected=True)
        assert r.status_code == 200, r.text
        async with db.sessionmaker() as s:
            a3 = await s.scalar(select(Unit).where(Unit.code == "A.3"))
            a31 = await s.scalar(select(Unit).where(Unit.code == "A.3.1"))
            a1 = await s.get(Unit, roster.org.a1.id)
        assert a3 is not None
        assert a31 is not None
        assert a1 is not None
        assert a3.path == f"{roster.org.a.path}{a3.id.hex}/"
        assert a3.depth == roster.org.a.depth + 1
        assert a31.parent_id == a3.id
        assert a31.path == f"{a3.path}{a31.id.hex}/"
        assert (a3.level, a31.level) == ("cell", "group")
        assert a1.name == "Chi bộ A1 (mới)"
        assert a1.version == 2
        new = await member_by_external_id("N-030")
        assert new is not None
        assert new.unit_id == a31.id
        # The new units are where the API finds them.
        r = await client.get(f"/api/v1/units/{a31.id}", headers=roster.headers("manager_a"))
        assert r.status_code == 200

    async def test_units_only_in_a_snapshot(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = {
            "mode": "upsert",
            "units": [{"code": "A.5", "name": "x", "level": "cell", "parent_code": "A"}],
            "members": [],
        }
        r = await post_sync(client, roster.headers("partner_a"), body)
        assert_problem(r, 422, "validation_failed")


class TestAuditAndEvidence:
    async def test_one_event_per_preview_and_apply_with_the_counts(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        sync = await preview(client, roster, body=snapshot(snapshot_rows(bad=False)))
        assert (await apply(client, roster, sync["id"])).status_code == 200
        async with db.sessionmaker() as s:
            events = (
                await s.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.entity_id == uuid.UUID(sync["id"]))
                    .order_by(AuditEvent.at)
                )
            ).all()
        assert [e.action for e in events] == ["roster_sync.preview", "roster_sync.apply"]
        assert all(e.unit_id == roster.org.a.id and e.actor_type == "client" for e in events)
        assert events[1].changes["created"] == 1
        assert events[1].changes["deactivated"] == 2
        # Managers of A see the events in their audit trail.
        r = await client.get(
            "/api/v1/audit-events",
            params={"entity_id": sync["id"]},
            headers=roster.headers("manager_a"),
        )
        assert len(r.json()["items"]) == 2

    async def test_list_newest_first_with_filters(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        ids = [
            (await preview(client, roster, body=snapshot(snapshot_rows(bad=False))))["id"]
            for _ in range(3)
        ]
        assert (await apply(client, roster, ids[0])).status_code == 200
        headers = roster.headers("partner_a")
        seen: list[str] = []
        cursor = None
        while True:
            r = await client.get(
                SYNCS,
                params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                headers=headers,
            )
            assert r.status_code == 200
            seen += [s["id"] for s in r.json()["items"]]
            if (cursor := r.json()["next_cursor"]) is None:
                break
        assert seen == ids[::-1]
        r = await client.get(SYNCS, params={"status": "applied"}, headers=headers)
        assert [s["id"] for s in r.json()["items"]] == [ids[0]]
        assert "errors" not in r.json()["items"][0]

    async def test_the_sync_row_records_who_and_when(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        sync = await preview(client, roster, role="admin", body=snapshot(snapshot_rows(bad=False)))
        assert (await apply(client, roster, sync["id"], role="partner_a")).status_code == 200
        stored = await fetch(RosterSync, uuid.UUID(sync["id"]))
        assert stored.actor_type == "user"
        assert stored.actor_id == roster.org.principals["admin"].id
        assert stored.applied_by_type == "client"
        assert stored.status == SyncStatus.applied
        assert stored.created == 1
        assert stored.unchanged == 11


class TestIdempotencyKey:
    async def test_replay_and_mismatch(self, client: httpx.AsyncClient, roster: Roster) -> None:
        headers = {**roster.headers("partner_a"), "Idempotency-Key": "sync-2026-11-28"}
        first = await post_sync(client, headers, snapshot())
        assert first.status_code == 201
        again = await post_sync(client, headers, snapshot())
        assert again.status_code == 201
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["idempotent-replayed"] == "true"
        assert await count_rows(RosterSync) == 1
        other = await post_sync(client, headers, snapshot(snapshot_rows(bad=False)))
        assert_problem(other, 422, "idempotency_key_mismatch")
        query = await post_sync(client, headers, snapshot(), dry_run=False, skip_rejected=True)
        assert_problem(query, 422, "idempotency_key_mismatch")


async def test_user_principal_cache_does_not_outlive_a_sync(
    client: httpx.AsyncClient, roster: Roster
) -> None:
    """The member user's token fails right after the apply (same process)."""
    headers = auth(roster.org.principals["member"])
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    r = await post_sync(
        client, roster.headers("partner_a"), snapshot(snapshot_rows(bad=False)), dry_run=False
    )
    assert r.status_code == 201
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    async with db.sessionmaker() as s:
        assert (await s.get(User, roster.org.principals["member"].id)) is not None
