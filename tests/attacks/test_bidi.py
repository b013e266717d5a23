"""Invisible and bidirectional control characters (issue 14, finding 9): "Nguyễn
\\u202eThị" displays as another name. They are refused (422 `validation_failed` on the
field) in member and unit names, codes, usernames and external ids, through every
entrance (members API, units API, users API, documents, roster rows); Markdown bodies keep
them. Nothing is written by a refused request."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.factories import make_document
from tests.support.problems import summary
from tests.support.reads import diff, fingerprint
from tests.support.world import Org, build_org

# One of each class named in the finding, and the neighbours refused with them.
MARKS = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\ufeff",
    "\u2060",
    "\u061c",
]


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


def _targets(org: Org, mark: str) -> list[tuple[str, str, dict[str, Any], str]]:
    unit = str(org.a1.id)
    member = {"full_name": "Nguyễn Văn An", "unit_id": unit, "membership": "official"}
    return [
        ("POST", "/api/v1/members", {**member, "full_name": f"Nguyễn {mark}Thị"}, "full_name"),
        ("POST", "/api/v1/members", {**member, "external_id": f"DV{mark}1"}, "external_id"),
        ("PATCH", f"/api/v1/members/{org.me.id}", {"full_name": f"Lê{mark} Hoa"}, "full_name"),
        (
            "POST",
            "/api/v1/units",
            {"code": f"A.1.{mark}9", "name": "Chi bộ 9", "level": "group", "parent_id": unit},
            "code",
        ),
        (
            "POST",
            "/api/v1/units",
            {"code": "A.1.9", "name": f"Chi bộ{mark} 9", "level": "group", "parent_id": unit},
            "name",
        ),
        ("PATCH", f"/api/v1/units/{unit}", {"name": f"{mark}Chi bộ"}, "name"),
        (
            "POST",
            "/api/v1/users",
            {
                "username": f"an{mark}.nv",
                "password": "a-long-passphrase",
                "member_id": str(org.me.id),
            },
            "username",
        ),
    ]


class TestRefusedWherever:
    @pytest.mark.parametrize("mark", MARKS, ids=[f"U+{ord(m):04X}" for m in MARKS])
    async def test_names_codes_usernames_and_external_ids(
        self, client: httpx.AsyncClient, org: Org, mark: str
    ) -> None:
        before = await fingerprint()
        failures = []
        for method, url, body, field in _targets(org, mark):
            r = await client.request(method, url, json=body, headers=org.admin_h)
            locs = (
                [x for e in r.json().get("errors", []) for x in e["loc"]]
                if r.status_code == 422
                else []
            )
            if summary(r) != "422 validation_failed" or field not in locs:
                failures.append(f"{method} {url} {field}: {summary(r)} {locs}")
        assert failures == []
        assert diff(before, await fingerprint()) == {}

    async def test_a_document_code(
        self, client: httpx.AsyncClient, org: Org, session: AsyncSession
    ) -> None:
        document = await make_document(session, org.a1)
        await session.commit()
        r = await client.patch(
            f"/api/v1/documents/{document.id}",
            json={"code": "85-QĐ\u202e/TW"},
            headers=org.admin_h,
        )
        assert summary(r) == "422 validation_failed", r.text
        assert "code" in r.json()["errors"][0]["loc"]

    async def test_a_roster_row_is_rejected_on_its_field(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        rows = [
            {
                "external_id": "DV-B1",
                "full_name": "Nguyễn \u202eThị",
                "unit_code": "A.1",
                "membership": "official",
            },
            {
                "external_id": "DV-B2",
                "full_name": "Trần Văn Bình",
                "unit_code": "A.1",
                "membership": "official",
            },
        ]
        r = await client.post(
            "/api/v1/roster/syncs",
            content=json.dumps({"mode": "upsert", "members": rows}),
            headers={**org.partner_h, "Content-Type": "application/json"},
        )
        assert r.status_code == 201, r.text
        sync = r.json()
        assert (sync["counts"]["created"], sync["counts"]["rejected"]) == (1, 1)
        (error,) = sync["errors"]
        assert (error["row"], error["code"], error["field"]) == (
            1,
            "validation_failed",
            "full_name",
        )


class TestKeptWhereTheyBelong:
    async def test_a_markdown_body_keeps_them(
        self, client: httpx.AsyncClient, org: Org, session: AsyncSession
    ) -> None:
        document = await make_document(session, org.a1)
        await session.commit()
        body = "Văn bản có ký tự \u202bעברית\u202c và\u200bkhoảng trắng"
        r = await client.patch(
            f"/api/v1/documents/{document.id}", json={"body": body}, headers=org.admin_h
        )
        assert r.status_code == 200, r.text
        got = await client.get(f"/api/v1/documents/{document.id}", headers=org.admin_h)
        assert got.json()["body"] == body
