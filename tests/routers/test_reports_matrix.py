"""Role × scope matrix of every reports route, on a report filed by org.me (a member of
A1) that carries one evidence file. `peer` is another member of A1 with a user."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import AuditEvent, Report, ReportEvidence
from tests.support.factories import (
    REPORTS_URL,
    file_report,
    make_member_user,
    png_bytes,
    report_body,
)
from tests.support.problems import assert_status
from tests.support.reads import count_rows, fetch
from tests.support.world import ROLES, Org, build_org

REPORTS = REPORTS_URL
WHO = (*ROLES[:5], "peer", *ROLES[5:])  # admin … member, peer, partner_a, analyst_a, anon
EVIDENCE = png_bytes(777)

#                 admin manager_a manager_b reviewer_a member peer partner_a analyst_a anon
READ = dict(zip(WHO, (200, 200, 404, 200, 200, 404, 404, 404, 401), strict=True))
HANDLE = dict(zip(WHO, (200, 200, 404, 200, 403, 404, 404, 404, 401), strict=True))
MATRIX: dict[str, dict[str, int]] = {
    "create": dict(zip(WHO, (403, 403, 403, 403, 201, 201, 403, 403, 401), strict=True)),
    "list": dict(zip(WHO, (200, 200, 200, 200, 200, 200, 403, 403, 401), strict=True)),
    "get": READ,
    "update": HANDLE,
    "transition": HANDLE,
    "withdraw": dict(zip(WHO, (403, 403, 404, 403, 200, 404, 404, 404, 401), strict=True)),
    "timeline": READ,
    "add_evidence": dict(zip(WHO, (201, 201, 404, 201, 201, 404, 404, 404, 401), strict=True)),
    "list_evidence": READ,
    "download_evidence": READ,
}
# Who finds the report in GET /reports.
SEES = {"admin", "manager_a", "reviewer_a", "member"}


WRITES = {"update", "transition", "withdraw", "add_evidence"}  # a fresh report per caller


@dataclass
class Case:
    org: Org
    headers: dict[str, dict[str, str]]
    member_of: dict[str, uuid.UUID]  # the member each member principal files as


@dataclass
class Target:
    report: dict[str, Any]
    evidence_id: str


@pytest.fixture
async def case(session: AsyncSession) -> Case:
    org = await build_org(session)
    peer, peer_h = await make_member_user(session, org.a1, full_name="Trần Văn Bình")
    headers = {role: org.headers(role) for role in ROLES} | {"peer": peer_h}
    return Case(org, headers, {"member": org.me.id, "peer": peer.id})


async def new_target(client: httpx.AsyncClient, case: Case) -> Target:
    """A report filed by org.me (A1) with one evidence file."""
    report = await file_report(client, case.org.headers("member"))
    r = await client.post(
        f"{REPORTS}/{report['id']}/evidence",
        headers=case.org.headers("member"),
        files={"file": ("shot.png", EVIDENCE, "image/png")},
    )
    assert r.status_code == 201, r.text
    return Target(report, r.json()["id"])


async def call(
    client: httpx.AsyncClient, target: Target, route: str, h: dict[str, str]
) -> httpx.Response:
    base = f"{REPORTS}/{target.report['id']}"
    match route:
        case "create":
            return await client.post(REPORTS, json=report_body(), headers=h)
        case "list":
            return await client.get(REPORTS, headers=h)
        case "get":
            return await client.get(base, headers=h)
        case "update":
            return await client.patch(base, json={"priority": "urgent"}, headers=h)
        case "transition":
            return await client.post(f"{base}/transitions", json={"to": "in_review"}, headers=h)
        case "withdraw":
            return await client.post(f"{base}/transitions", json={"to": "withdrawn"}, headers=h)
        case "timeline":
            return await client.get(f"{base}/timeline", headers=h)
        case "add_evidence":
            return await client.post(
                f"{base}/evidence",
                headers=h,
                files={"file": ("more.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
            )
        case "list_evidence":
            return await client.get(f"{base}/evidence", headers=h)
        case "download_evidence":
            return await client.get(f"{base}/evidence/{target.evidence_id}", headers=h)
    raise AssertionError(route)


async def snapshot() -> tuple[int, int, int, int]:
    """What a refused request must leave as it was: reports, evidence rows, report audit
    events, and reports changed since filing (all counted in a fresh session)."""
    return (
        await count_rows(Report),
        await count_rows(ReportEvidence),
        await count_rows(AuditEvent, AuditEvent.entity_type == "report"),
        await count_rows(Report, Report.version > 1),
    )


class TestMatrix:
    """One test per route; each caller of WHO in turn (on a fresh report for writes)."""

    @pytest.mark.parametrize("route", list(MATRIX))
    async def test_route(self, client: httpx.AsyncClient, case: Case, route: str) -> None:
        shared = await new_target(client, case)
        for who in WHO:
            target = await new_target(client, case) if route in WRITES else shared
            expected = MATRIX[route][who]
            before = await snapshot()
            r = await call(client, target, route, case.headers[who])
            where = f"{route} by {who}"
            if expected >= 400:
                try:
                    assert_status(r, expected)
                except AssertionError as exc:
                    raise AssertionError(f"{where}: {exc}") from exc
                assert await snapshot() == before, where
                continue
            assert r.status_code == expected, f"{where}: {r.text}"
            await check_success(case, target, route, who, r, before)


async def check_success(
    case: Case,
    target: Target,
    route: str,
    who: str,
    r: httpx.Response,
    before: tuple[int, int, int, int],
) -> None:
    where = f"{route} by {who}"
    rid = uuid.UUID(target.report["id"])
    row = await fetch(Report, rid)
    data = r.json() if route != "download_evidence" else None
    if route == "create":
        assert data is not None
        assert data["reporter_member_id"] == str(case.member_of[who]), where
        assert await count_rows(Report) == before[0] + 1, where
    elif route == "list":
        assert data is not None
        ids = [i["id"] for i in data["items"]]
        assert ids == ([target.report["id"]] if who in SEES else []), where
    elif route in ("get", "update", "transition", "withdraw"):
        assert data is not None
        assert data["id"] == target.report["id"], where
        assert data["reporter_member_id"] == str(case.org.me.id), where  # no caller is a subject
        expected_state = {
            "get": ("submitted", "normal", 1),
            "update": ("submitted", "urgent", 2),
            "transition": ("in_review", "normal", 2),
            "withdraw": ("withdrawn", "normal", 2),
        }[route]
        assert (data["status"], data["priority"], data["version"]) == expected_state, where
        assert (row.status.value, row.priority.value, row.version) == expected_state, where
        assert r.headers["etag"] == f'"{row.version}"', where
    elif route == "timeline":
        assert data is not None
        assert [e["kind"] for e in data["items"]] == ["filed", "evidence"], where
    elif route == "add_evidence":
        assert data is not None
        assert (data["content_type"], data["filename"]) == ("application/pdf", "more.pdf"), where
        assert await count_rows(ReportEvidence, ReportEvidence.report_id == rid) == 2, where
    elif route == "list_evidence":
        assert data is not None
        assert [e["id"] for e in data["items"]] == [target.evidence_id], where
    else:
        assert r.content == EVIDENCE, where
        assert r.headers["content-type"] == "image/png", where
        assert r.headers["etag"] == f'"{hashlib.sha256(EVIDENCE).hexdigest()}"', where
        assert r.headers["content-disposition"].startswith("attachment;"), where
