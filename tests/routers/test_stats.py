"""Compliance statistics (SPEC §5 "Statistics"): the role × scope matrix of the three
endpoints, every figure equal to the length of the matching filtered list, the report
time series around Vietnam midnight, the per-document acknowledgement rates, CSV, and
bad input. Data is built through the API (which maintains the counters); the factory rows
of build_org are counted once with recount_all before anything else."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import utcnow
from api.core.enums import Role
from tests.support.factories import auth, make_unit, make_user, set_report
from tests.support.problems import assert_problem
from tests.support.reads import walk
from tests.support.stats import (
    API,
    COMPLIANCE,
    FIGURES,
    PLATFORMS,
    SERIES,
    STATS,
    Api,
    assert_figures,
    brute_force,
    counter_diff,
    document_brute_force,
    load_world,
    login_for,
    maintained_and_rebuilt,
    recount,
)
from tests.support.world import Org, build_org

ROLES = (
    "admin",
    "manager_a",
    "manager_b",
    "reviewer_a",
    "member",
    "partner_a",
    "analyst_a",
    "anon",
)
TARGETS = (None, "root", "a", "a1", "b")


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    org = await build_org(session)
    await recount()  # build_org's member `me` is a factory row: count it once
    return org


def _unit(org: Org, name: str | None) -> Any:
    return None if name is None else getattr(org, name)


# --------------------------------------------------------------------------- role × scope


def _expected(role: str, target: str | None, endpoint: str) -> int:
    if role == "anon":
        return 401
    if role in ("member", "partner_a"):
        return 403
    if role == "admin":
        return 200
    scope = "b" if role == "manager_b" else "a"
    if endpoint == "documents" and scope == "b":
        return 404  # the document addresses A: out of manager_b's scope
    if target is None:
        return 200
    return 200 if target.startswith(scope) else 404


async def _stats_get(
    client: httpx.AsyncClient,
    endpoint: str,
    headers: dict[str, str],
    unit: Any = None,
    doc_id: Any = None,
    **params: Any,
) -> httpx.Response:
    if unit is not None:
        params["unit_id"] = str(unit.id)
    url = {"compliance": COMPLIANCE, "reports": SERIES}.get(endpoint) or (
        f"{STATS}/documents/{doc_id}"
    )
    return await client.get(url, params=params, headers=headers)


class TestRoleScopeMatrix:
    @pytest.mark.parametrize("endpoint", ["compliance", "reports", "documents"])
    @pytest.mark.parametrize("role", ROLES)
    async def test_matrix(
        self, client: httpx.AsyncClient, session: AsyncSession, role: str, endpoint: str
    ) -> None:
        """Every unit of TARGETS (None: the default unit) for one role and endpoint."""
        org = await build_org(session)
        doc_id = None
        if endpoint == "documents":
            doc = await Api(client, org.headers("admin")).document(org.a.id)
            doc_id = doc["id"]
        codes = {401: "unauthorized", 403: "forbidden", 404: "not_found"}
        for target in TARGETS:
            r = await _stats_get(client, endpoint, org.headers(role), _unit(org, target), doc_id)
            status = _expected(role, target, endpoint)
            if status != 200:
                assert r.status_code == status, (target, r.text)
                assert_problem(r, status, codes[status])
                continue
            assert r.status_code == 200, (target, r.text)
            if target is not None:
                default = _unit(org, target)
            elif endpoint == "documents":
                default = org.a  # the audience unit
            else:
                default = org.root if role == "admin" else (org.b if role == "manager_b" else org.a)
            assert r.json()["unit_id"] == str(default.id), target

    @pytest.mark.parametrize("endpoint", ["compliance", "reports"])
    async def test_two_disjoint_grants_need_a_unit(
        self, client: httpx.AsyncClient, session: AsyncSession, endpoint: str
    ) -> None:
        org = await build_org(session)
        h = auth(await make_user(session, grants=[(Role.manager, org.a1), (Role.analyst, org.b)]))
        assert_problem(await _stats_get(client, endpoint, h), 422, "validation_failed")
        for unit, status in ((org.a1, 200), (org.b2, 200), (org.a, 404), (org.a2, 404)):
            r = await _stats_get(client, endpoint, h, unit)
            assert r.status_code == status, (unit.code, r.text)

    async def test_nested_grants_default_to_the_outer_one(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        h = auth(await make_user(session, grants=[(Role.analyst, org.a1), (Role.manager, org.a)]))
        r = await client.get(COMPLIANCE, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["unit_id"] == str(org.a.id)

    async def test_admin_with_two_roots_needs_a_unit(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        org = await build_org(session)
        await make_unit(session, code="R2", name="Cây thứ hai")
        assert_problem(
            await client.get(COMPLIANCE, headers=org.headers("admin")), 422, "validation_failed"
        )

    async def test_a_user_without_stats_rights_is_403_even_with_a_unit(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        for role in ("member", "partner_a"):
            for endpoint in ("compliance", "reports"):
                r = await _stats_get(client, endpoint, org.headers(role), org.a)
                assert_problem(r, 403, "forbidden")

    async def test_document_addressed_above_the_scope_defaults_to_the_callers_part(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        doc = await Api(client, org.headers("admin")).document(org.root.id)
        r = await client.get(
            f"{STATS}/documents/{doc['id']}",
            params={"unit_id": str(org.a.id)},
            headers=org.headers("manager_a"),
        )
        assert r.status_code == 200, r.text  # explicitly: fine
        r = await client.get(f"{STATS}/documents/{doc['id']}", headers=org.headers("manager_a"))
        assert r.status_code == 200, r.text
        assert r.json()["unit_id"] == str(org.a.id)


# --------------------------------------------------------------------------- exactness


def _flat(pages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page]


class Lists:
    """The figures as lengths of the filtered lists, read as admin."""

    def __init__(
        self, client: httpx.AsyncClient, headers: dict[str, str], required_docs: list[str]
    ) -> None:
        self.client, self.headers, self.docs = client, headers, required_docs

    async def reports(self, unit: Any, **params: Any) -> list[dict[str, Any]]:
        return await self.items("/reports", unit, **params)

    async def items(self, url: str, unit: Any, **params: Any) -> list[dict[str, Any]]:
        return _flat(
            await walk(self.client, API + url, self.headers, unit_id=str(unit), limit=7, **params)
        )

    async def figures(self, unit: Any) -> dict[str, Any]:
        active = await self.items("/members", unit, status="active")
        leaders = await self.items("/members", unit, status="active", is_leader="true")
        declared = [
            *await self.items("/members", unit, status="active", declaration="declared"),
            *await self.items("/members", unit, status="active", declaration="declared_none"),
        ]
        by_status = {
            s: await self.items("/accounts", unit, status=s)
            for s in ("pending", "verified", "compromised")
        }
        claimed = [a for items in by_status.values() for a in items]
        holders = {a["member_id"] for a in claimed}
        reports = await self.reports(unit)
        resolved = await self.reports(unit, status="resolved")
        done = expected = 0
        for doc in self.docs:
            url = f"/documents/{doc}/acknowledgements"
            d = len(await self.items(url, unit, state="done"))
            done += d
            expected += d + len(await self.items(url, unit, state="pending"))
        hours = sorted(
            (
                datetime.fromisoformat(r["closed_at"]) - datetime.fromisoformat(r["created_at"])
            ).total_seconds()
            / 3600
            for r in resolved
        )
        return {
            "members_active": len(active),
            "leaders_active": len(leaders),
            "members_declared": len(declared),
            "declaration_rate": len(declared) / len(active) if active else None,
            "members_with_accounts": sum(1 for m in active if m["id"] in holders),
            "leaders_with_accounts": sum(1 for m in leaders if m["id"] in holders),
            "accounts_total": len(claimed),
            "accounts_verified": len(by_status["verified"]),
            "accounts_pending": len(by_status["pending"]),
            "accounts_by_platform": {
                p: sum(1 for a in claimed if a["platform"] == p) for p in PLATFORMS
            },
            "acks_done": done,
            "acks_expected": expected,
            "ack_rate": done / expected if expected else None,
            "reports_filed": len(reports),
            "reports_open": len(
                await self.reports(unit, status=["submitted", "in_review", "escalated"])
            ),
            "reports_overdue": len(await self.reports(unit, overdue="true")),
            "reports_resolved": len(resolved),
            "median_hours_to_resolve": _median(hours),
        }


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    mid = len(values) // 2
    m = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return round(m, 4)


async def build_scenario(
    client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> dict[str, Any]:
    """Known data on the org tree, built through the API; returns the ids it made."""
    api = Api(client, org.headers("admin"))
    ids: dict[str, Any] = {}
    m = {}
    for name, unit, extra in (
        ("m1", org.a1, {"is_leader": True}),
        ("m2", org.a1, {}),
        ("m3", org.a1, {"status": "exempt"}),
        ("m4", org.a2, {"is_leader": True}),
        ("m5", org.a2, {"is_leader": True}),
        ("m6", org.a2, {}),
        ("m7", org.b1, {}),
        ("m8", org.b2, {"is_leader": True}),
        ("m9", org.a, {}),
    ):
        m[name] = (await api.member(unit.id, **extra))["id"]
    acc, declared = {}, {}
    for key, member, platform in (
        ("m1fb", "m1", "facebook"),
        ("m1yt", "m1", "youtube"),
        ("m2tt", "m2", "tiktok"),
        ("m4za", "m4", "zalo"),
        ("m5ig", "m5", "instagram"),
        ("m6x", "m6", "x"),
        ("m7tg", "m7", "telegram"),
        ("m8li", "m8", "linkedin"),
        ("m9web", "m9", "website"),
        ("m3th", "m3", "threads"),
    ):
        declared[key] = (await api.declare(m[member], platform)).json()
        acc[key] = declared[key]["id"]
    await api.account_action(acc["m1fb"], "verify")
    await api.account_action(acc["m2tt"], "reject")
    await api.declare_none(m["m2"])
    await api.account_action(acc["m4za"], "verify")
    await api.account_action(acc["m4za"], "compromised")
    await api.account_action(acc["m6x"], "close")
    await api.account_action(acc["m8li"], "verify")
    await api.patch_member(m["m5"], status="transferred")  # keeps an active declaration
    await api.patch_member(m["m6"], unit_id=org.b1.id)
    await api.patch_member(m["m2"], is_leader=True)
    # Reports, filed by members with logins.
    me = org.headers("member")
    h4, h7, h9 = [await login_for(session, m[k]) for k in ("m4", "m7", "m9")]
    r1 = await api.report(me)
    r2 = await api.report(me, category="secret_leak")
    r3 = await api.report(me, category="scam", platform="facebook")
    r4 = await api.report(
        h4, url="https://www.tiktok.com/@trang.gia/video/1", category="impersonation"
    )
    r5 = await api.report(me, url="https://www.tiktok.com/@trang.gia/video/1")  # a duplicate
    assert r5["duplicate_of"] == r4["id"]
    r6 = await api.report(h7)
    r7 = await api.report(h9)
    # About m7 (B1), filed in A1: it counts where it was filed, never where its subject is.
    r8 = await api.report(me, url=declared["m7tg"]["canonical_url"], category="defamation")
    assert r8["subject_member_id"] == m["m7"]
    for rid, path in (
        (r1, ["in_review", "resolved"]),
        (r2, ["in_review", "escalated"]),
        (r3, ["dismissed"]),
        (r4, ["in_review"]),
    ):
        for to in path:
            await api.move_report(rid["id"], to)
    await api.move_report(r6["id"], "withdrawn", headers=h7)
    past = utcnow() - timedelta(hours=1)
    for r in (r2, r3, r7, r5):
        await set_report(r["id"], due_at=past)  # overdue is live: no recount needed
    # Documents and acknowledgements.
    d1 = await api.document(org.a.id)
    d2 = await api.document(org.a1.id)
    d3 = await api.document(org.root.id, requires_ack=False)
    await api.document(org.a.id, publish=False)  # a draft counts for nothing
    d5 = await api.document(org.b.id)
    h1 = await login_for(session, m["m1"])
    for doc, who in ((d1, me), (d2, me), (d1, h1), (d1, h4), (d3, h7), (d3, h1), (d5, h7)):
        await api.ack(doc["id"], who)
    await api.ack(d1["id"], h7, expect=(404,))  # B is not addressed
    await api.revise(d2["id"])  # me's acknowledgement of d2 is of an old revision now
    await api.call("POST", f"/documents/{d5['id']}/archive")
    ids.update(
        members=m,
        accounts=acc,
        required=[d1["id"], d2["id"]],
        d5=d5["id"],
        reports=[r1, r2, r3, r4, r5, r6, r7],
        about_b=r8,
    )
    return ids


class TestExactAgainstLists:
    async def test_every_figure_equals_the_filtered_lists(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        ids = await build_scenario(client, session, org)
        lists = Lists(client, org.headers("admin"), ids["required"])
        cache: dict[uuid.UUID, dict[str, Any]] = {}
        api = Api(client, org.headers("admin"))
        for unit in (org.root, org.a, org.a1, org.a2, org.b, org.b1, org.b2):
            body = await api.compliance(unit.id)
            assert body["group_by"] == "child"
            rows = body["rows"]
            children = [
                u for u in (org.a, org.a1, org.a2, org.b, org.b1, org.b2) if u.parent_id == unit.id
            ]
            assert [r["unit_id"] for r in rows] == [
                *sorted(
                    (str(c.id) for c in children),
                    key=lambda i: next(c.name for c in children if str(c.id) == i),
                ),
                None,
            ]
            for row in rows:
                target = unit.id if row["is_total"] else uuid.UUID(row["unit_id"])
                if target not in cache:
                    cache[target] = await lists.figures(target)
                assert_figures(
                    row, cache[target], median_abs=1e-4, where=f"{unit.code}/{row['unit_code']}"
                )
            self_row = (await api.compliance(unit.id, group_by="self"))["rows"]
            assert len(self_row) == 1
            assert self_row[0]["unit_id"] == str(unit.id)
            assert self_row[0]["is_total"] is False
            assert {k: self_row[0][k] for k in FIGURES} == {k: rows[-1][k] for k in FIGURES}

    async def test_known_figures_by_hand(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        """The same scenario counted by hand: the lists and the stats could agree on a wrong
        definition, the hand count cannot."""
        await build_scenario(client, session, org)
        rows = (await Api(client, org.headers("admin")).compliance(org.a.id))["rows"]
        a1, a2, total = rows
        assert (a1["unit_code"], a2["unit_code"], total["unit_name"]) == ("A.1", "A.2", "Tổng cộng")
        # A1: me, m1 (leader), m2 (made a leader) active; m3 exempt.
        assert (a1["members_active"], a1["leaders_active"], a1["members_declared"]) == (3, 2, 2)
        assert a1["declaration_rate"] == 2 / 3
        # m1 holds facebook (verified) and youtube (pending); m2's tiktok was rejected;
        # m3 (exempt) holds threads: counted in accounts, not in members.
        assert (a1["members_with_accounts"], a1["leaders_with_accounts"]) == (1, 1)
        assert (a1["accounts_total"], a1["accounts_verified"], a1["accounts_pending"]) == (3, 1, 2)
        assert a1["accounts_by_platform"] == dict.fromkeys(PLATFORMS, 0) | {
            "facebook": 1,
            "youtube": 1,
            "threads": 1,
        }
        # A2: m4 active leader (zalo compromised), m5 transferred (instagram pending).
        assert (a2["members_active"], a2["leaders_active"], a2["members_with_accounts"]) == (
            1,
            1,
            1,
        )
        assert (a2["accounts_total"], a2["accounts_verified"], a2["accounts_pending"]) == (2, 0, 1)
        # d1 (to A): me, m1, m4 acknowledged, m2 and m9 not; d2 (to A1) revised: nobody.
        # Expected: 5 active in A for d1 (me, m1, m2, m4, m9) + 3 in A1 for d2.
        assert (total["acks_done"], total["acks_expected"]) == (3, 8)
        assert (a1["acks_done"], a1["acks_expected"]) == (2, 6)
        assert total["ack_rate"] == 3 / 8
        # Reports of A's subtree: r1..r5 and r8 (me in A1, m4 in A2), r7 (m9 in A directly).
        filed = (total["reports_filed"], total["reports_open"], total["reports_resolved"])
        assert filed == (7, 5, 1)
        assert (a1["reports_filed"], a1["reports_open"], a1["reports_overdue"]) == (5, 3, 2)
        assert (a2["reports_filed"], a2["reports_open"], a2["reports_overdue"]) == (1, 1, 0)
        assert total["reports_overdue"] == 3  # r2 (escalated), r5 (duplicate in review), r7
        assert total["median_hours_to_resolve"] is not None
        assert a2["median_hours_to_resolve"] is None
        api = Api(client, org.headers("admin"))
        (b,) = (await api.compliance(org.b.id, group_by="self"))["rows"]
        assert (b["reports_filed"], b["reports_open"]) == (1, 0)  # r6 (withdrawn); r8 is about B
        assert (b["members_active"], b["accounts_total"]) == (3, 2)  # m6 (moved in), m7, m8

    async def test_figures_equal_the_brute_force_and_the_maintained_counters_a_rebuild(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await build_scenario(client, session, org)
        w = await load_world()
        api = Api(client, org.headers("admin"))
        for unit in (org.root, org.a, org.b):
            for row in (await api.compliance(unit.id))["rows"]:
                target = unit.id if row["is_total"] else uuid.UUID(row["unit_id"])
                assert_figures(row, brute_force(w, target), where=row["unit_name"])
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}

    async def test_from_to_bound_the_report_figures(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        ids = await build_scenario(client, session, org)
        r1, r2, r3, r4, r5, r6, r7 = ids["reports"]
        base = datetime(2026, 3, 1, tzinfo=UTC)
        for i, r in enumerate((r1, r2, r3, r4, r5, r6, r7)):
            await set_report(r["id"], created_at=base + timedelta(days=i))
        await set_report(r1["id"], closed_at=base + timedelta(hours=5, minutes=30))
        # created_at/closed_at changed under the maintained median: rebuild it.
        await recount()
        w = await load_world()
        api = Api(client, org.headers("admin"))
        windows = [
            (base + timedelta(days=1), base + timedelta(days=4)),
            (base, base + timedelta(days=1)),
            (base + timedelta(days=10), base + timedelta(days=11)),
        ]
        for start, end in windows:
            params = {"from": start.isoformat(), "to": end.isoformat()}
            for unit in (org.root, org.a):
                body = await api.compliance(unit.id, **params)
                assert body["from"] == start.isoformat().replace("+00:00", "Z")
                for row in body["rows"]:
                    target = unit.id if row["is_total"] else uuid.UUID(row["unit_id"])
                    assert_figures(
                        row,
                        brute_force(w, target, start=start, end=end),
                        where=f"{start} {row['unit_name']}",
                    )
                    listed = _flat(
                        await walk(
                            client,
                            f"{API}/reports",
                            org.headers("admin"),
                            unit_id=str(target),
                            **params,
                        )
                    )
                    assert row["reports_filed"] == len(listed)
                self_row = (await api.compliance(unit.id, group_by="self", **params))["rows"][0]
                assert_figures(self_row, brute_force(w, unit.id, start=start, end=end))
        # r1 resolved 5.5 h after filing: the only resolved report.
        row = (
            await api.compliance(
                org.a1.id,
                group_by="self",
                **{"from": base.isoformat(), "to": (base + timedelta(days=1)).isoformat()},
            )
        )["rows"][0]
        assert (row["reports_filed"], row["reports_resolved"]) == (1, 1)
        assert row["median_hours_to_resolve"] == 5.5
        # An offset other than Z means the same instant.
        local = base.astimezone(datetime.fromisoformat("2026-03-01T07:00+07:00").tzinfo)
        row2 = (
            await api.compliance(
                org.a1.id,
                group_by="self",
                **{"from": local.isoformat(), "to": (local + timedelta(days=1)).isoformat()},
            )
        )["rows"][0]
        assert row2["reports_filed"] == 1

    async def test_overdue_is_live(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        api = Api(client, org.headers("admin"))
        report = await api.report(org.headers("member"))
        row = (await api.compliance(org.a1.id, group_by="self"))["rows"][0]
        assert (row["reports_open"], row["reports_overdue"]) == (1, 0)
        await set_report(report["id"], due_at=utcnow() - timedelta(seconds=1))
        row = (await api.compliance(org.a1.id, group_by="self"))["rows"][0]
        assert (row["reports_open"], row["reports_overdue"]) == (1, 1)
        await api.move_report(report["id"], "dismissed")
        row = (await api.compliance(org.a1.id, group_by="self"))["rows"][0]
        assert (row["reports_open"], row["reports_overdue"], row["reports_filed"]) == (0, 0, 1)

    async def test_median_of_known_durations(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        api = Api(client, org.headers("admin"))
        t0 = datetime(2026, 5, 1, 8, tzinfo=UTC)
        made = []
        for h in (2.0, 7.25, 30.0, 1.5):
            rep = await api.report(org.headers("member"))
            await api.move_report(rep["id"], "in_review")
            await api.move_report(rep["id"], "resolved")
            made.append((rep["id"], h))
        for rid, h in made:
            await set_report(rid, created_at=t0, closed_at=t0 + timedelta(hours=h))
        await recount()
        for unit in (org.a1, org.a, org.root):
            row = (await api.compliance(unit.id, group_by="self"))["rows"][0]
            assert row["median_hours_to_resolve"] == 4.625  # (2 + 7.25) / 2
        # An odd count, and 4 decimals.
        await set_report(made[0][0], closed_at=t0 + timedelta(seconds=1))
        await set_report(made[3][0], closed_at=t0 + timedelta(hours=100))
        await recount()
        row = (await api.compliance(org.a.id, group_by="self"))["rows"][0]
        assert row["median_hours_to_resolve"] == 18.625  # (7.25 + 30) / 2
        await set_report(made[3][0], status="dismissed")
        await recount()
        row = (await api.compliance(org.a.id, group_by="self"))["rows"][0]
        assert row["median_hours_to_resolve"] == 7.25
        await set_report(made[1][0], closed_at=t0 + timedelta(seconds=3601))
        await recount()
        row = (await api.compliance(org.a.id, group_by="self"))["rows"][0]
        assert row["median_hours_to_resolve"] == 1.0003  # 1 h 1 s = 1.000277… h


# --------------------------------------------------------------------------- moves, merges


class TestTreeChanges:
    async def test_a_unit_move_moves_its_figures(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await build_scenario(client, session, org)
        api = Api(client, org.headers("admin"))
        await api.call("PATCH", f"/units/{org.a1.id}", json={"parent_id": str(org.b.id)})
        w = await load_world()
        for unit in (org.root, org.a, org.b):
            for row in (await api.compliance(unit.id))["rows"]:
                target = unit.id if row["is_total"] else uuid.UUID(row["unit_id"])
                assert_figures(row, brute_force(w, target), where=row["unit_name"])
        b_row = (await api.compliance(org.b.id, group_by="self"))["rows"][0]
        # A1's members are under B now; d1 (to A) no longer addresses them.
        assert b_row["members_active"] == 3 + 3  # B1: m6, m7; B2: m8; A1: me, m1, m2
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}

    async def test_a_merge_moves_its_members_figures(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await build_scenario(client, session, org)
        api = Api(client, org.headers("admin"))
        before = (await api.compliance(org.root.id, group_by="self"))["rows"][0]
        await api.call("POST", f"/units/{org.a1.id}/merge", json={"into_unit_id": str(org.b1.id)})
        after = (await api.compliance(org.root.id, group_by="self"))["rows"][0]
        assert after["members_active"] == before["members_active"]
        w = await load_world()
        for unit in (org.root, org.a, org.b):
            for row in (await api.compliance(unit.id))["rows"]:
                target = unit.id if row["is_total"] else uuid.UUID(row["unit_id"])
                assert_figures(row, brute_force(w, target), where=row["unit_name"])


# --------------------------------------------------------------------------- series


def _iso(d: datetime) -> str:
    return d.isoformat().replace("+00:00", "Z")


class TestReportSeries:
    async def _reports_at(
        self, client: httpx.AsyncClient, org: Org, spec: list[tuple[str, dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """Reports filed by `me` (A1) at known instants, with the given fields."""
        api = Api(client, org.headers("admin"))
        made = []
        for when, fields in spec:
            status = fields.pop("status", None)
            rep = await api.report(org.headers("member"), **fields)
            if status:
                await api.move_report(rep["id"], status)
            await set_report(rep["id"], created_at=datetime.fromisoformat(when))
            made.append(rep)
        return made

    async def test_day_week_month_around_vietnam_midnight(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        # 2026-03-01 is a Sunday. 16:59Z is 23:59 on Sunday in Vietnam, 17:01Z is 00:01 on
        # Monday 2 March; 2026-02-28T17:01Z is already 1 March in Vietnam.
        await self._reports_at(
            client,
            org,
            [
                ("2026-03-01T16:59:00+00:00", {}),
                ("2026-03-01T17:01:00+00:00", {}),
                ("2026-03-01T17:00:00+00:00", {"category": "scam"}),
                ("2026-02-28T16:59:00+00:00", {}),
                ("2026-02-28T17:01:00+00:00", {}),
            ],
        )
        params = {
            "unit_id": str(org.a.id),
            "from": "2026-02-01T00:00:00Z",
            "to": "2026-03-10T00:00:00Z",
            "by": "category",
        }
        h = org.headers("analyst_a")

        async def points(interval: str) -> list[tuple[str, str, int]]:
            r = await client.get(SERIES, params={**params, "interval": interval}, headers=h)
            assert r.status_code == 200, r.text
            body = r.json()
            assert (body["interval"], body["by"], body["unit_id"]) == (
                interval,
                "category",
                str(org.a.id),
            )
            return [(p["period_start"], p["key"], p["count"]) for p in body["points"]]

        assert await points("day") == [
            ("2026-02-27T17:00:00Z", "fake_news", 1),  # 28 Feb VN
            ("2026-02-28T17:00:00Z", "fake_news", 2),  # 1 Mar VN: 28 Feb 17:01Z, 1 Mar 16:59Z
            ("2026-03-01T17:00:00Z", "fake_news", 1),  # 2 Mar VN
            ("2026-03-01T17:00:00Z", "scam", 1),
        ]
        assert await points("week") == [
            ("2026-02-22T17:00:00Z", "fake_news", 3),  # week of Monday 23 Feb VN
            ("2026-03-01T17:00:00Z", "fake_news", 1),  # week of Monday 2 Mar VN
            ("2026-03-01T17:00:00Z", "scam", 1),
        ]
        assert await points("month") == [
            ("2026-01-31T17:00:00Z", "fake_news", 1),  # February VN
            ("2026-02-28T17:00:00Z", "fake_news", 3),  # March VN
            ("2026-02-28T17:00:00Z", "scam", 1),
        ]

    async def test_by_platform_and_status_and_the_bounds(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        await self._reports_at(
            client,
            org,
            [
                (
                    "2026-04-10T03:00:00+00:00",
                    {"url": "https://www.youtube.com/watch?v=abcdefghijk"},
                ),
                ("2026-04-10T04:00:00+00:00", {"status": "in_review"}),
                ("2026-04-10T05:00:00+00:00", {"status": "dismissed"}),
                ("2026-04-11T00:00:00+00:00", {}),  # exactly `to`: excluded
                ("2026-04-09T23:59:59+00:00", {}),  # before `from`: excluded
                ("2026-04-10T00:00:00+00:00", {"status": "in_review"}),  # exactly `from`: included
            ],
        )
        params = {
            "unit_id": str(org.root.id),
            "from": "2026-04-10T00:00:00Z",
            "to": "2026-04-11T00:00:00Z",
            "interval": "month",
        }
        h = org.headers("admin")
        r = await client.get(SERIES, params={**params, "by": "platform"}, headers=h)
        assert r.status_code == 200, r.text
        assert [(p["period_start"], p["key"], p["count"]) for p in r.json()["points"]] == [
            ("2026-03-31T17:00:00Z", "facebook", 3),
            ("2026-03-31T17:00:00Z", "youtube", 1),
        ]
        r = await client.get(SERIES, params={**params, "by": "status"}, headers=h)
        assert [(p["key"], p["count"]) for p in r.json()["points"]] == [
            ("dismissed", 1),
            ("in_review", 2),
            ("submitted", 1),
        ]
        assert r.json()["from"] == "2026-04-10T00:00:00Z"
        # Out of the subtree: nothing.
        r = await client.get(SERIES, params={**params, "unit_id": str(org.b.id)}, headers=h)
        assert r.json()["points"] == []
        # The same counts as the list filtered by filing time.
        items = _flat(
            await walk(
                client,
                f"{API}/reports",
                h,
                unit_id=str(org.root.id),
                **{"from": params["from"], "to": params["to"]},
            )
        )
        assert len(items) == 4

    async def test_default_range_is_30_days_to_now(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        api = Api(client, org.headers("admin"))
        recent = await api.report(org.headers("member"))
        old = await api.report(org.headers("member"))
        await set_report(old["id"], created_at=utcnow() - timedelta(days=31))
        r = await client.get(SERIES, headers=org.headers("manager_a"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert sum(p["count"] for p in body["points"]) == 1
        span = datetime.fromisoformat(body["to"]) - datetime.fromisoformat(body["from"])
        assert span == timedelta(days=30)
        assert recent["id"]


# --------------------------------------------------------------------------- documents


class TestDocumentStats:
    async def _setup(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> tuple[Api, dict[str, Any]]:
        api = Api(client, org.headers("admin"))
        people: dict[str, Any] = {"me": (str(org.me.id), org.headers("member"))}
        for name, unit, extra in (
            ("x1", org.a1, {}),
            ("x2", org.a1, {}),
            ("x3", org.a1, {"status": "exempt"}),
            ("y1", org.a2, {}),
            ("z1", org.a, {}),
            ("b1", org.b1, {}),
        ):
            mid = (await api.member(unit.id, **extra))["id"]
            people[name] = (mid, await login_for(session, mid))
        return api, people

    async def test_addressed_and_acknowledged_per_child(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        api, people = await self._setup(client, session, org)
        doc = await api.document(org.a.id)
        for who in ("me", "x1", "z1"):
            await api.ack(doc["id"], people[who][1])
        r = await client.get(f"{STATS}/documents/{doc['id']}", headers=org.headers("manager_a"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["document_id"], body["revision"], body["unit_id"]) == (
            doc["id"],
            1,
            str(org.a.id),
        )
        got = [
            (x["unit_code"], x["addressed"], x["acknowledged"], x["ack_rate"], x["is_total"])
            for x in body["rows"]
        ]
        # A1: me, x1, x2 active (x3 exempt); A2: y1; A itself: z1 (total only).
        assert got == [
            ("A.1", 3, 2, 2 / 3, False),
            ("A.2", 1, 0, 0.0, False),
            (None, 5, 3, 3 / 5, True),
        ]
        assert body["rows"][-1]["unit_name"] == "Tổng cộng"
        w = await load_world()
        for row in body["rows"]:
            target = org.a.id if row["is_total"] else uuid.UUID(row["unit_id"])
            assert (row["addressed"], row["acknowledged"]) == document_brute_force(
                w, uuid.UUID(doc["id"]), target
            )

    async def test_a_child_whose_subtree_holds_the_audience(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        api, people = await self._setup(client, session, org)
        doc = await api.document(org.a1.id)
        await api.ack(doc["id"], people["x2"][1])
        await api.ack(doc["id"], people["y1"][1], expect=(404,))  # A2 is not addressed
        r = await client.get(
            f"{STATS}/documents/{doc['id']}",
            params={"unit_id": str(org.root.id)},
            headers=org.headers("admin"),
        )
        assert r.status_code == 200, r.text
        got = [
            (x["unit_code"], x["addressed"], x["acknowledged"], x["ack_rate"])
            for x in r.json()["rows"]
        ]
        assert got == [("A", 3, 1, 1 / 3), ("B", 0, 0, None), (None, 3, 1, 1 / 3)]
        # Default: the audience unit A1 (a leaf: the total row only).
        r = await client.get(f"{STATS}/documents/{doc['id']}", headers=org.headers("analyst_a"))
        assert [(x["unit_id"], x["addressed"], x["acknowledged"]) for x in r.json()["rows"]] == [
            (None, 3, 1)
        ]
        w = await load_world()
        for unit in (org.root, org.a, org.a1, org.a2, org.b):
            r = await client.get(
                f"{STATS}/documents/{doc['id']}",
                params={"unit_id": str(unit.id)},
                headers=org.headers("admin"),
            )
            for row in r.json()["rows"]:
                target = unit.id if row["is_total"] else uuid.UUID(row["unit_id"])
                assert (row["addressed"], row["acknowledged"]) == document_brute_force(
                    w, uuid.UUID(doc["id"]), target
                )

    async def test_a_new_revision_asks_again(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        api, people = await self._setup(client, session, org)
        doc = await api.document(org.a1.id)
        for who in ("me", "x1", "x2"):
            await api.ack(doc["id"], people[who][1])
        url = f"{STATS}/documents/{doc['id']}"
        total = (await client.get(url, headers=org.headers("admin"))).json()["rows"][-1]
        assert (total["addressed"], total["acknowledged"], total["ack_rate"]) == (3, 3, 1.0)
        a1 = (await api.compliance(org.a1.id, group_by="self"))["rows"][0]
        assert (a1["acks_done"], a1["acks_expected"]) == (3, 3)
        await api.revise(doc["id"])
        body = (await client.get(url, headers=org.headers("admin"))).json()
        assert body["revision"] == 2
        assert (body["rows"][-1]["addressed"], body["rows"][-1]["acknowledged"]) == (3, 0)
        a1 = (await api.compliance(org.a1.id, group_by="self"))["rows"][0]
        assert (a1["acks_done"], a1["acks_expected"], a1["ack_rate"]) == (0, 3, 0.0)
        await api.ack(doc["id"], people["x1"][1])
        body = (await client.get(url, headers=org.headers("admin"))).json()
        assert body["rows"][-1]["acknowledged"] == 1
        a1 = (await api.compliance(org.a1.id, group_by="self"))["rows"][0]
        assert (a1["acks_done"], a1["acks_expected"]) == (1, 3)
        # A member who leaves stops counting on both sides.
        await api.patch_member(people["x1"][0], status="transferred")
        body = (await client.get(url, headers=org.headers("admin"))).json()
        assert (body["rows"][-1]["addressed"], body["rows"][-1]["acknowledged"]) == (2, 0)
        a1 = (await api.compliance(org.a1.id, group_by="self"))["rows"][0]
        assert (a1["acks_done"], a1["acks_expected"]) == (0, 2)

    async def test_a_document_without_required_ack_has_a_rate_but_no_expected(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        api, people = await self._setup(client, session, org)
        doc = await api.document(org.a1.id, requires_ack=False)
        await api.ack(doc["id"], people["x1"][1])
        body = (
            await client.get(f"{STATS}/documents/{doc['id']}", headers=org.headers("admin"))
        ).json()
        assert (body["rows"][-1]["addressed"], body["rows"][-1]["acknowledged"]) == (3, 1)
        a1 = (await api.compliance(org.a1.id, group_by="self"))["rows"][0]
        assert (a1["acks_done"], a1["acks_expected"], a1["ack_rate"]) == (0, 0, None)

    async def test_an_archived_document_keeps_its_acknowledgements(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        api, people = await self._setup(client, session, org)
        doc = await api.document(org.a1.id)
        for who in ("me", "x1"):
            await api.ack(doc["id"], people[who][1])
        await api.call("POST", f"/documents/{doc['id']}/archive")
        r = await client.get(f"{STATS}/documents/{doc['id']}", headers=org.headers("admin"))
        assert r.status_code == 200, r.text
        total = r.json()["rows"][-1]
        assert (total["addressed"], total["acknowledged"]) == (3, 2)

    async def test_archiving_stops_the_compliance_expectation(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        api, people = await self._setup(client, session, org)
        doc = await api.document(org.a1.id)
        await api.ack(doc["id"], people["x1"][1])
        a1 = (await api.compliance(org.a1.id, group_by="self"))["rows"][0]
        assert (a1["acks_done"], a1["acks_expected"]) == (1, 3)
        await api.call("POST", f"/documents/{doc['id']}/archive")
        a1 = (await api.compliance(org.a1.id, group_by="self"))["rows"][0]
        assert (a1["acks_done"], a1["acks_expected"]) == (0, 0)

    async def test_unknown_draft_and_out_of_scope_documents_are_404(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        api = Api(client, org.headers("admin"))
        draft = await api.document(org.a.id, publish=False)
        to_b = await api.document(org.b1.id)
        for doc_id, role in (
            (uuid.uuid4(), "admin"),
            (draft["id"], "admin"),
            (draft["id"], "manager_a"),
            (to_b["id"], "manager_a"),
            (to_b["id"], "analyst_a"),
            (to_b["id"], "reviewer_a"),
        ):
            r = await client.get(f"{STATS}/documents/{doc_id}", headers=org.headers(role))
            assert_problem(r, 404, "not_found")
        # A malformed id in the path names no object (the project's convention).
        r = await client.get(f"{STATS}/documents/not-a-uuid", headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")
        # In scope, but a unit_id outside it.
        to_a = await api.document(org.a.id)
        r = await client.get(
            f"{STATS}/documents/{to_a['id']}",
            params={"unit_id": str(org.b.id)},
            headers=org.headers("manager_a"),
        )
        assert_problem(r, 404, "not_found")


# --------------------------------------------------------------------------- CSV


def _parse_csv(r: httpx.Response) -> list[dict[str, str]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "charset=utf-8" in r.headers["content-type"].lower()
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="' in disposition
    assert disposition.endswith('.csv"')
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content[3:].decode("utf-8")
    assert not text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert len(set(header)) == len(header)
    assert not any(h in ("", None) for h in header)
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _same(csv_value: str, json_value: Any, column: str) -> None:
    if isinstance(json_value, float) and csv_value:
        assert float(csv_value) == json_value, column
    else:
        assert csv_value == _cell(json_value), (column, csv_value, json_value)


class TestCsv:
    @pytest.mark.parametrize("how", ["format", "accept"])
    async def test_compliance_csv_equals_the_json(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, how: str
    ) -> None:
        await build_scenario(client, session, org)
        h = org.headers("admin")
        for group_by in ("child", "self"):
            params = {"unit_id": str(org.root.id), "group_by": group_by}
            js = (await client.get(COMPLIANCE, params=params, headers=h)).json()["rows"]
            if how == "format":
                r = await client.get(COMPLIANCE, params={**params, "format": "csv"}, headers=h)
            else:
                r = await client.get(COMPLIANCE, params=params, headers={**h, "Accept": "text/csv"})
            rows = _parse_csv(r)
            assert len(rows) == len(js)
            for c, j in zip(rows, js, strict=True):
                for key, val in j.items():
                    if key == "accounts_by_platform":
                        for p, n in val.items():
                            _same(c[f"accounts_{p}"], n, p)
                    else:
                        _same(c[key], val, key)
                assert set(c) == {k for k in j if k != "accounts_by_platform"} | {
                    f"accounts_{p}" for p in PLATFORMS
                }
        names = [row["unit_name"] for row in rows]
        assert names == ["Trung ương"]
        r = await client.get(
            COMPLIANCE, params={"unit_id": str(org.root.id), "format": "csv"}, headers=h
        )
        assert [row["unit_name"] for row in _parse_csv(r)] == [
            "Đảng bộ Tỉnh A",
            "Đảng bộ Tỉnh B",
            "Tổng cộng",
        ]
        assert "Đảng bộ Tỉnh A".encode() in r.content  # NFC bytes, not escaped

    async def test_series_csv_equals_the_json(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await build_scenario(client, session, org)
        h = org.headers("reviewer_a")
        for by in ("category", "status", "platform"):
            params = {"by": by, "interval": "day"}
            js = (await client.get(SERIES, params=params, headers=h)).json()
            assert js["points"], by
            for r in (
                await client.get(SERIES, params={**params, "format": "csv"}, headers=h),
                await client.get(SERIES, params=params, headers={**h, "Accept": "text/csv"}),
            ):
                rows = _parse_csv(r)
                assert [(x["period_start"], x["key"], int(x["count"])) for x in rows] == [
                    (p["period_start"], p["key"], p["count"]) for p in js["points"]
                ]

    async def test_document_csv_equals_the_json(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        ids = await build_scenario(client, session, org)
        h = org.headers("manager_a")
        url = f"{STATS}/documents/{ids['required'][0]}"
        js = (await client.get(url, headers=h)).json()["rows"]
        for r in (
            await client.get(url, params={"format": "csv"}, headers=h),
            await client.get(url, headers={**h, "Accept": "text/csv"}),
        ):
            rows = _parse_csv(r)
            assert [x["unit_name"] for x in rows] == ["Chi bộ A1", "Chi bộ A2", "Tổng cộng"]
            assert len(rows) == len(js)
            for c, j in zip(rows, js, strict=True):
                assert set(c) == set(j)
                for key, val in j.items():
                    _same(c[key], val, key)

    async def test_json_wins_when_both_are_accepted_and_format_json_overrides(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        h = org.headers("admin")
        r = await client.get(COMPLIANCE, headers={**h, "Accept": "application/json, text/csv"})
        assert r.headers["content-type"].startswith("application/json")
        r = await client.get(
            COMPLIANCE, params={"format": "json"}, headers={**h, "Accept": "text/csv"}
        )
        assert r.headers["content-type"].startswith("application/json")
        r = await client.get(
            COMPLIANCE, params={"format": "csv"}, headers={**h, "Accept": "application/json"}
        )
        assert r.headers["content-type"].startswith("text/csv")

    async def test_errors_stay_problem_json_when_csv_is_asked(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.get(
            COMPLIANCE,
            params={"unit_id": str(org.b.id), "format": "csv"},
            headers=org.headers("manager_a"),
        )
        assert_problem(r, 404, "not_found")


# --------------------------------------------------------------------------- bad input


class TestBadInput:
    @pytest.mark.parametrize(
        ("url", "params"),
        [
            (COMPLIANCE, {"from": "2026-03-01T00:00:00"}),
            (COMPLIANCE, {"to": "2026-03-01T00:00:00"}),
            (SERIES, {"from": "2026-03-01T00:00:00", "to": "2026-03-02T00:00:00Z"}),
            (SERIES, {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02"}),
            (COMPLIANCE, {"from": "yesterday"}),
            (SERIES, {"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T00:00:00Z"}),
            (SERIES, {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}),
            (COMPLIANCE, {"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T00:00:00Z"}),
            (COMPLIANCE, {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}),
            (
                SERIES,
                {"from": "2020-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z", "interval": "day"},
            ),
            (SERIES, {"interval": "year"}),
            (SERIES, {"interval": "DAY"}),
            (SERIES, {"by": "unit"}),
            (COMPLIANCE, {"group_by": "grandchild"}),
            (COMPLIANCE, {"format": "ods"}),
            (SERIES, {"format": "pdf"}),
            (COMPLIANCE, {"unit_id": "not-a-uuid"}),
            (SERIES, {"unit_id": "12345"}),
        ],
    )
    async def test_422(
        self, client: httpx.AsyncClient, org: Org, url: str, params: dict[str, str]
    ) -> None:
        r = await client.get(url, params=params, headers=org.headers("admin"))
        body = assert_problem(r, 422, "validation_failed")
        assert body["errors"], body
        assert all({"loc", "msg", "type"} <= e.keys() for e in body["errors"])

    async def test_document_endpoint_bad_params(self, client: httpx.AsyncClient, org: Org) -> None:
        doc = await Api(client, org.headers("admin")).document(org.a.id)
        url = f"{STATS}/documents/{doc['id']}"
        for params in ({"unit_id": "x"}, {"format": "html"}):
            assert_problem(
                await client.get(url, params=params, headers=org.headers("admin")),
                422,
                "validation_failed",
            )
        r = await client.get(
            url, params={"unit_id": str(uuid.uuid4())}, headers=org.headers("admin")
        )
        assert_problem(r, 404, "not_found")

    async def test_a_long_range_with_a_coarser_interval_is_fine(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        params = {"from": "2020-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}
        for interval in ("week", "month"):
            r = await client.get(
                SERIES, params={**params, "interval": interval}, headers=org.headers("admin")
            )
            assert r.status_code == 200, r.text
        # 1,000 days is the limit for days.
        start = datetime(2024, 1, 1, tzinfo=UTC)
        ok = {"from": _iso(start), "to": _iso(start + timedelta(days=999)), "interval": "day"}
        assert (
            await client.get(SERIES, params=ok, headers=org.headers("admin"))
        ).status_code == 200

    async def test_unknown_unit_is_404_everywhere(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        for url in (COMPLIANCE, SERIES):
            for role in ("admin", "manager_a", "analyst_a"):
                r = await client.get(
                    url, params={"unit_id": str(uuid.uuid4())}, headers=org.headers(role)
                )
                assert_problem(r, 404, "not_found")

    async def test_localised_problem(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(
            COMPLIANCE,
            params={"unit_id": str(org.b.id)},
            headers={**org.headers("manager_a"), "Accept-Language": "en"},
        )
        body = assert_problem(r, 404, "not_found")
        assert body["detail"] == "Unit not found."
        r = await client.get(
            COMPLIANCE, params={"unit_id": str(org.b.id)}, headers=org.headers("manager_a")
        )
        assert assert_problem(r, 404, "not_found")["detail"] == "Không tìm thấy đơn vị."


# --------------------------------------------------------------------------- roster sync


class TestRosterSync:
    async def test_an_applied_sync_is_counted(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        """The roster's apply must maintain the counters like every other writer."""
        api = Api(client, org.headers("admin"))
        await api.member(org.a2.id, external_id="RS-0009", full_name="Trịnh Văn Chín")
        body = {
            "mode": "upsert",
            "members": [
                {
                    "external_id": "RS-0001",
                    "full_name": "Nguyễn Văn Một",
                    "unit_code": "A.1",
                    "membership": "official",
                    "is_leader": True,
                },
                {
                    "external_id": "RS-0002",
                    "full_name": "Trần Thị Hai",
                    "unit_code": "A.2",
                    "membership": "probationary",
                },
                {
                    "external_id": "RS-0003",
                    "full_name": "Lê Văn Ba",
                    "unit_code": "A.2",
                    "membership": "official",
                    "status": "exempt",
                },
                {
                    "external_id": "RS-0009",
                    "full_name": "Trịnh Văn Chín",
                    "unit_code": "A.1",
                    "membership": "official",
                },  # moved from A2
            ],
        }
        r = await client.post(
            f"{API}/roster/syncs",
            params={"dry_run": "false"},
            json=body,
            headers=org.headers("partner_a"),
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "applied"
        rows = (await api.compliance(org.a.id))["rows"]
        got = {x["unit_code"]: (x["members_active"], x["leaders_active"]) for x in rows}
        # A1: me, RS-0001 (leader), RS-0009; A2: RS-0002.
        assert got == {"A.1": (3, 1), "A.2": (1, 0), None: (4, 1)}
        w = await load_world()
        for row in rows:
            target = org.a.id if row["is_total"] else uuid.UUID(row["unit_id"])
            assert_figures(row, brute_force(w, target), where=str(row["unit_code"]))
        # A snapshot of A: a move, an update, a creation, two deactivations.
        me = org.me
        snapshot = {
            "mode": "snapshot",
            "scope_unit_code": "A",
            "members": [
                {
                    "external_id": me.external_id,
                    "full_name": me.full_name,
                    "unit_code": "A.1",
                    "membership": "official",
                },
                {
                    "external_id": "RS-0001",
                    "full_name": "Nguyễn Văn Một",
                    "unit_code": "A.2",
                    "membership": "official",
                    "is_leader": True,
                },
                {
                    "external_id": "RS-0002",
                    "full_name": "Trần Thị Hai",
                    "unit_code": "A.2",
                    "membership": "probationary",
                    "is_leader": True,
                },
                {
                    "external_id": "RS-0010",
                    "full_name": "Phan Văn Mười",
                    "unit_code": "A.1",
                    "membership": "official",
                },
            ],
        }
        r = await client.post(
            f"{API}/roster/syncs",
            json=snapshot,
            headers=org.headers("partner_a"),
            params={"dry_run": "false", "allow_mass_deactivation": "true"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "applied"
        assert r.json()["counts"]["deactivated"] == 2
        rows = (await api.compliance(org.a.id))["rows"]
        got = {x["unit_code"]: (x["members_active"], x["leaders_active"]) for x in rows}
        assert got == {"A.1": (2, 0), "A.2": (2, 2), None: (4, 2)}
        w = await load_world()
        for unit in (org.root, org.a):
            for row in (await api.compliance(unit.id))["rows"]:
                target = unit.id if row["is_total"] else uuid.UUID(row["unit_id"])
                assert_figures(row, brute_force(w, target), where=str(row["unit_code"]))
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}


class TestRosterSyncMovesWhatMembersOwn:
    async def test_accounts_declarations_and_acknowledgements_follow_the_member(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        """A sync moves and deactivates members who hold accounts, a declaration and
        acknowledgements: the counters (updated by contribution, not recounted) equal a
        rebuild and a brute-force recount."""
        api = Api(client, org.headers("admin"))
        doc = await api.document(org.root.id)
        a1_doc = await api.document(org.a1.id)
        people = []
        for n in range(3):
            m = await api.member(
                org.a1.id, external_id=f"RS-1{n}", full_name=f"Đỗ Văn Tên {n}", is_leader=n == 0
            )
            account = (await api.declare(m["id"], handle=f"do.van.ten.{n}x")).json()
            await api.account_action(account["id"], "verify")
            headers = await login_for(session, uuid.UUID(m["id"]))
            await api.ack(doc["id"], headers)
            await api.ack(a1_doc["id"], headers)
            people.append(m)
        me = org.me
        snapshot = {
            "mode": "snapshot",
            "scope_unit_code": "A",
            "members": [
                {
                    "external_id": me.external_id,
                    "full_name": me.full_name,
                    "unit_code": "A.1",
                    "membership": "official",
                },
                # moved to A2: the A1 document no longer addresses them, the root one still does
                {
                    "external_id": "RS-10",
                    "full_name": "Đỗ Văn Tên 0",
                    "unit_code": "A.2",
                    "membership": "official",
                    "is_leader": True,
                },
                # exempt now: no longer active anywhere
                {
                    "external_id": "RS-11",
                    "full_name": "Đỗ Văn Tên 1",
                    "unit_code": "A.1",
                    "membership": "official",
                    "status": "exempt",
                },
                {
                    "external_id": "RS-20",
                    "full_name": "Người Mới",
                    "unit_code": "A.2",
                    "membership": "probationary",
                },
            ],
        }  # RS-12 is absent: deactivated
        r = await client.post(
            f"{API}/roster/syncs",
            json=snapshot,
            headers=org.headers("partner_a"),
            params={"dry_run": "false", "allow_mass_deactivation": "true"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "applied", r.json()
        maintained, rebuilt = await maintained_and_rebuilt()
        assert counter_diff(maintained, rebuilt) == {}
        w = await load_world()
        for unit in (org.root, org.a):
            for row in (await api.compliance(unit.id))["rows"]:
                target = unit.id if row["is_total"] else uuid.UUID(row["unit_id"])
                assert_figures(row, brute_force(w, target), where=str(row["unit_code"]))
        rows = {x["unit_code"]: x for x in (await api.compliance(org.a.id))["rows"]}
        assert (rows["A.2"]["members_with_accounts"], rows["A.2"]["acks_done"]) == (1, 1)
        assert (rows["A.1"]["members_active"], rows["A.1"]["acks_done"]) == (1, 0)
        assert rows[None]["accounts_verified"] == 3  # accounts count whatever the status
