"""/api/v1/units: the organisation tree (SPEC §5 Units), one class per endpoint."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import MemberStatus, UnitLevel, UnitStatus
from api.core.pagination import encode_cursor
from api.models import AuditEvent, Member, Unit
from tests.support.factories import make_member, make_unit
from tests.support.problems import assert_problem, assert_status
from tests.support.reads import audit_actions, count_rows, fetch, walk
from tests.support.world import Org, build_org

URL = "/api/v1/units"
A_CODES = {"A", "A.1", "A.2"}
B_CODES = {"B", "B.1", "B.2"}
ALL_CODES = {"R"} | A_CODES | B_CODES


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


def unit_body(parent: Unit | None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": f"NEW.{uuid.uuid4().hex[:8]}",
        "name": "Chi bộ Khu phố 1",
        "level": "cell",
    }
    if parent is not None:
        body["parent_id"] = str(parent.id)
    body.update(overrides)
    return body


class TestListUnits:
    @pytest.mark.parametrize(
        ("role", "expected"),
        [
            ("admin", ALL_CODES),
            ("manager_a", A_CODES),
            ("manager_b", B_CODES),
            ("reviewer_a", A_CODES),
            ("member", 403),
            ("partner_a", A_CODES),
            ("analyst_a", 403),
            ("anon", 401),
        ],
    )
    async def test_role_matrix(
        self, client: httpx.AsyncClient, org: Org, role: str, expected: set[str] | int
    ) -> None:
        r = await client.get(URL, headers=org.headers(role))
        if isinstance(expected, int):
            assert_status(r, expected)
        else:
            assert r.status_code == 200, r.text
            assert {u["code"] for u in r.json()["items"]} == expected
            assert r.json()["next_cursor"] is None

    async def test_invalid_token_is_401(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(URL, headers={"Authorization": "Bearer not.a.jwt"})
        assert_problem(r, 401, "invalid_token")

    async def test_items_are_ordered_by_code_with_every_field(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.get(URL, headers=org.headers("admin"))
        items = r.json()["items"]
        assert [u["code"] for u in items] == ["A", "A.1", "A.2", "B", "B.1", "B.2", "R"]
        a1 = next(u for u in items if u["code"] == "A.1")
        assert a1 == {
            "id": str(org.a1.id),
            "code": "A.1",
            "name": "Chi bộ A1",
            "level": "cell",
            "parent_id": str(org.a.id),
            "status": "active",
            "merged_into_id": None,
            "declaration_required": True,
            "declaration_deadline_days": 30,
            "version": 1,
            "created_at": a1["created_at"],
            "updated_at": a1["updated_at"],
        }
        assert a1["created_at"].endswith(("Z", "+00:00"))

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"parent_id": "PARENT_A"}, ["A.1", "A.2"]),
            ({"level": "provincial"}, ["A", "B"]),
            ({"level": "central"}, ["R"]),
            ({"status": "dissolved"}, ["B.2"]),
            ({"status": "active", "parent_id": "PARENT_B"}, ["B.1"]),
            ({"q": "dang bo tinh"}, ["A", "B"]),
            ({"q": "ĐẢNG BỘ TỈNH A"}, ["A"]),
            ({"q": "chi bo b"}, ["B.1", "B.2"]),
            ({"q": "A.1"}, ["A.1"]),
            ({"q": "%"}, []),
            ({"q": "không có"}, []),
        ],
    )
    async def test_filters(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        params: dict[str, str],
        expected: list[str],
    ) -> None:
        org.b2.status = UnitStatus.dissolved
        session.add(org.b2)
        await session.commit()
        ids = {"PARENT_A": str(org.a.id), "PARENT_B": str(org.b.id)}
        query = {k: ids.get(v, v) for k, v in params.items()}
        r = await client.get(URL, params=query, headers=org.headers("admin"))
        assert r.status_code == 200, r.text
        assert [u["code"] for u in r.json()["items"]] == expected

    async def test_parent_filter_cannot_reveal_out_of_scope_children(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.get(
            URL, params={"parent_id": str(org.b.id)}, headers=org.headers("manager_a")
        )
        assert r.status_code == 200
        assert r.json()["items"] == []

    async def test_keyset_pagination_walks_every_unit_once(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        for i in range(23):
            await make_unit(session, org.a2, code=f"A.2.{i:02d}")
        pages = await walk(client, URL, org.headers("manager_a"), limit=7)
        assert [len(p) for p in pages] == [7, 7, 7, 5]
        codes = [u["code"] for page in pages for u in page]
        expected = sorted(A_CODES | {f"A.2.{i:02d}" for i in range(23)})
        assert codes == expected
        assert len(set(codes)) == 26

    async def test_exact_last_page_has_no_next_cursor(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        pages = await walk(client, URL, org.headers("admin"), limit=7)
        assert [len(p) for p in pages] == [7]
        pages = await walk(client, URL, org.headers("admin"), limit=1)
        assert [len(p) for p in pages] == [1] * 7

    async def test_default_limit_is_50(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        for i in range(50):
            await make_unit(session, org.a1, code=f"Z{i:03d}")
        r = await client.get(URL, headers=org.headers("admin"))
        assert len(r.json()["items"]) == 50
        assert r.json()["next_cursor"] is not None

    @pytest.mark.parametrize(
        "cursor",
        ["garbage", "!!!", "eyJ4IjoxfQ", "W10", "WyJtZW1iZXJzOm5hbWUiLFsiYSIsIngiXV0", "x" * 1001],
    )
    async def test_bad_cursor_is_422(
        self, client: httpx.AsyncClient, org: Org, cursor: str
    ) -> None:
        r = await client.get(URL, params={"cursor": cursor}, headers=org.headers("admin"))
        code = "validation_failed" if len(cursor) > 1000 else "invalid_cursor"
        assert_problem(r, 422, code)

    @pytest.mark.parametrize(
        "values",
        [["\x00", str(uuid.UUID(int=0))], ["A", "not-a-uuid"], [1, str(uuid.UUID(int=0))], ["A"]],
    )
    async def test_forged_cursor_is_422(
        self, client: httpx.AsyncClient, org: Org, values: list[Any]
    ) -> None:
        cursor = encode_cursor("units", values)
        r = await client.get(URL, params={"cursor": cursor}, headers=org.headers("admin"))
        assert_problem(r, 422, "invalid_cursor")

    @pytest.mark.parametrize("params", [{"q": "\x00"}, {"q": "Chi\x00bộ"}, {"level": "cell\x00"}])
    async def test_nul_in_query_is_422_not_500(
        self, client: httpx.AsyncClient, org: Org, params: dict[str, str]
    ) -> None:
        r = await client.get(URL, params=params, headers=org.headers("admin"))
        assert_problem(r, 422, "validation_failed")

    async def test_cursor_of_another_list_is_rejected(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await make_member(session, org.a1)
        r = await client.get("/api/v1/members", params={"limit": 1}, headers=org.headers("admin"))
        cursor = r.json()["next_cursor"]
        assert cursor
        r = await client.get(URL, params={"cursor": cursor}, headers=org.headers("admin"))
        assert_problem(r, 422, "invalid_cursor")

    @pytest.mark.parametrize(
        "params",
        [
            {"limit": 201},
            {"limit": 0},
            {"limit": -1},
            {"limit": "ten"},
            {"level": "district"},
            {"status": "deleted"},
            {"parent_id": "not-a-uuid"},
            {"q": "x" * 201},
        ],
    )
    async def test_bad_query_is_422(
        self, client: httpx.AsyncClient, org: Org, params: dict[str, Any]
    ) -> None:
        r = await client.get(URL, params=params, headers=org.headers("admin"))
        body = assert_problem(r, 422, "validation_failed")
        assert body["errors"]
        assert body["errors"][0]["loc"][0] == "query"

    async def test_limit_200_is_accepted(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(URL, params={"limit": 200}, headers=org.headers("admin"))
        assert r.status_code == 200
        assert len(r.json()["items"]) == 7


class TestCreateUnit:
    async def test_created_unit_is_returned_with_location_etag_and_audit(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        body = unit_body(org.a1, code="A.1.01", name="Tổ đảng số 1", level="group")
        r = await client.post(URL, json=body, headers=org.headers("manager_a"))
        assert r.status_code == 201, r.text
        created = r.json()
        assert r.headers["location"] == f"/api/v1/units/{created['id']}"
        assert r.headers["etag"] == '"1"'
        assert created["code"] == "A.1.01"
        assert created["name"] == "Tổ đảng số 1"
        assert created["level"] == "group"
        assert created["parent_id"] == str(org.a1.id)
        assert created["status"] == "active"
        assert created["merged_into_id"] is None
        assert created["declaration_required"] is True
        assert created["declaration_deadline_days"] == 30
        assert created["version"] == 1
        row = await fetch(Unit, uuid.UUID(created["id"]))
        assert row.path == f"{org.a1.path}{row.id.hex}/"
        assert row.depth == org.a1.depth + 1
        assert await audit_actions(row.id) == ["unit.create"]
        # The new unit is readable at once, and in the creator's scope.
        r = await client.get(f"{URL}/{created['id']}", headers=org.headers("manager_a"))
        assert r.status_code == 200

    async def test_settings_are_stored(self, client: httpx.AsyncClient, org: Org) -> None:
        body = unit_body(org.a1, declaration_required=False, declaration_deadline_days=90)
        r = await client.post(URL, json=body, headers=org.headers("admin"))
        assert r.status_code == 201, r.text
        assert r.json()["declaration_required"] is False
        assert r.json()["declaration_deadline_days"] == 90

    async def test_only_admin_creates_a_root(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(
            URL, json=unit_body(None, level="central"), headers=org.headers("manager_a")
        )
        assert_problem(r, 403, "forbidden")
        r = await client.post(
            URL, json=unit_body(None, level="central"), headers=org.headers("admin")
        )
        assert r.status_code == 201, r.text
        assert r.json()["parent_id"] is None
        row = await fetch(Unit, uuid.UUID(r.json()["id"]))
        assert (row.path, row.depth) == (f"/{row.id.hex}/", 0)

    async def test_duplicate_code_is_409(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(URL, json=unit_body(org.a1, code="A.2"), headers=org.headers("admin"))
        assert_problem(r, 409, "duplicate")
        assert await count_rows(Unit) == 7

    async def test_code_is_case_sensitive(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(URL, json=unit_body(org.a1, code="a.2"), headers=org.headers("admin"))
        assert r.status_code == 201, r.text

    async def test_unknown_parent_is_422(self, client: httpx.AsyncClient, org: Org) -> None:
        body = unit_body(None, parent_id=str(uuid.uuid4()))
        r = await client.post(URL, json=body, headers=org.headers("admin"))
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body", "parent_id"]
        assert await count_rows(Unit) == 7

    async def test_dissolved_parent_is_409(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        org.a2.status = UnitStatus.dissolved
        session.add(org.a2)
        await session.commit()
        r = await client.post(URL, json=unit_body(org.a2), headers=org.headers("manager_a"))
        assert_problem(r, 409, "unit_dissolved")
        assert await count_rows(Unit) == 7

    async def test_names_are_stored_nfc_with_dj_fixed(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        nfd = unicodedata.normalize("NFD", "  Chi bộ   Ðoàn Kết  ")
        assert nfd != unicodedata.normalize("NFC", nfd)
        r = await client.post(URL, json=unit_body(org.a1, name=nfd), headers=org.headers("admin"))
        assert r.status_code == 201, r.text
        assert r.json()["name"] == "Chi bộ Đoàn Kết"
        assert "\u0110" in r.json()["name"]
        assert "\u00d0" not in r.json()["name"]
        r = await client.get(URL, params={"q": "doan ket"}, headers=org.headers("admin"))
        assert [u["name"] for u in r.json()["items"]] == ["Chi bộ Đoàn Kết"]

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"name": 123}, "name"),
            ({"name": ""}, "name"),
            ({"name": "   "}, "name"),
            ({"name": "x" * 301}, "name"),
            ({"name": "Chi bộ\x00"}, "name"),
            ({"name": "\u0958" * 300}, "name"),  # 600 characters once NFC
            ({"code": "x" * 65}, "code"),
            ({"code": "A B"}, "code"),
            ({"code": ""}, "code"),
            ({"code": 7}, "code"),
            ({"level": "district"}, "level"),
            ({"level": None}, "level"),
            ({"parent_id": "A1"}, "parent_id"),
            ({"declaration_required": "maybe"}, "declaration_required"),
            ({"declaration_deadline_days": 0}, "declaration_deadline_days"),
            ({"declaration_deadline_days": 3651}, "declaration_deadline_days"),
            ({"declaration_deadline_days": "soon"}, "declaration_deadline_days"),
            ({"status": "active"}, "status"),
            ({"path": "/x/"}, "path"),
            ({"version": 5}, "version"),
        ],
    )
    async def test_bad_body_is_422_and_writes_nothing(
        self, client: httpx.AsyncClient, org: Org, overrides: dict[str, Any], field: str
    ) -> None:
        r = await client.post(
            URL, json=unit_body(org.a1, **overrides), headers=org.headers("admin")
        )
        problem = assert_problem(r, 422, "validation_failed")
        assert any(e["loc"][:2] == ["body", field] for e in problem["errors"]), problem["errors"]
        assert all({"loc", "msg", "type"} <= e.keys() for e in problem["errors"])
        assert await count_rows(Unit) == 7
        assert await count_rows(AuditEvent, AuditEvent.action == "unit.create") == 0

    async def test_longest_name_in_a_script_that_nfd_expands(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        """Hangul syllables are three letters in NFD: the search form must still fit."""
        r = await client.post(
            URL, json=unit_body(org.a1, name="한" * 300), headers=org.headers("admin")
        )
        assert r.status_code == 201, r.text
        assert r.json()["name"] == "한" * 300
        r = await client.get(URL, params={"q": "한한"}, headers=org.headers("admin"))
        assert len(r.json()["items"]) == 1

    @pytest.mark.parametrize("missing", ["code", "name", "level"])
    async def test_missing_field_is_422(
        self, client: httpx.AsyncClient, org: Org, missing: str
    ) -> None:
        body = unit_body(org.a1)
        del body[missing]
        r = await client.post(URL, json=body, headers=org.headers("admin"))
        problem = assert_problem(r, 422, "validation_failed")
        assert ["body", missing] in [e["loc"] for e in problem["errors"]]

    @pytest.mark.parametrize("content", [b"{", b'{"code": "X",}', b"\xff\xfe", b"not json"])
    async def test_malformed_json_is_400(
        self, client: httpx.AsyncClient, org: Org, content: bytes
    ) -> None:
        headers = {**org.headers("admin"), "Content-Type": "application/json"}
        r = await client.post(URL, content=content, headers=headers)
        assert_problem(r, 400, "invalid_json")
        assert await count_rows(Unit) == 7

    @pytest.mark.parametrize("payload", [[], "unit", 1, None])
    async def test_non_object_json_is_422(
        self, client: httpx.AsyncClient, org: Org, payload: Any
    ) -> None:
        r = await client.post(URL, json=payload, headers=org.headers("admin"))
        assert_problem(r, 422, "validation_failed")
        assert await count_rows(Unit) == 7

    async def test_problem_is_localised_but_code_is_not(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        vi = await client.post(
            URL, json=unit_body(org.a1, code="A.2"), headers=org.headers("admin")
        )
        en = await client.post(
            URL,
            json=unit_body(org.a1, code="A.2"),
            headers={**org.headers("admin"), "Accept-Language": "en"},
        )
        assert vi.json()["code"] == en.json()["code"] == "duplicate"
        assert en.json()["title"] == "Already exists"
        assert vi.json()["title"] != en.json()["title"]


class TestGetUnit:
    async def test_manager_sees_the_root_of_their_grant_but_not_its_parent(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.get(f"{URL}/{org.a.id}", headers=org.headers("manager_a"))
        assert r.status_code == 200
        r = await client.get(f"{URL}/{org.root.id}", headers=org.headers("manager_a"))
        assert_problem(r, 404, "not_found")

    async def test_etag_matches_version(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(f"{URL}/{org.a1.id}", headers=org.headers("admin"))
        assert r.headers["etag"] == '"1"'
        assert r.json()["version"] == 1

    async def test_unknown_id_is_404(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(f"{URL}/{uuid.uuid4()}", headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")

    async def test_malformed_id_is_404(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(f"{URL}/not-a-uuid", headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")

    async def test_out_of_scope_and_missing_look_the_same(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        hidden = await client.get(f"{URL}/{org.b1.id}", headers=org.headers("manager_a"))
        missing = await client.get(f"{URL}/{uuid.uuid4()}", headers=org.headers("manager_a"))
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["detail"] == missing.json()["detail"]


class TestUpdateUnit:
    async def test_rename_bumps_version_and_audits(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.patch(
            f"{URL}/{org.a1.id}",
            json={"name": "Chi bộ Khu phố 1", "declaration_deadline_days": 45},
            headers={**org.headers("manager_a"), "If-Match": '"1"'},
        )
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "Chi bộ Khu phố 1"
        assert r.json()["declaration_deadline_days"] == 45
        assert r.json()["version"] == 2
        assert r.headers["etag"] == '"2"'
        assert r.json()["updated_at"] >= r.json()["created_at"]
        assert await audit_actions(org.a1.id) == ["unit.update"]
        r = await client.get(URL, params={"q": "khu pho 1"}, headers=org.headers("admin"))
        assert [u["code"] for u in r.json()["items"]] == ["A.1"]

    async def test_audit_event_is_readable_by_admin(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        await client.patch(
            f"{URL}/{org.a1.id}", json={"name": "Tên mới"}, headers=org.headers("manager_a")
        )
        r = await client.get(
            "/api/v1/audit-events",
            params={"entity_id": str(org.a1.id)},
            headers=org.headers("admin"),
        )
        assert r.status_code == 200, r.text
        [event] = r.json()["items"]
        assert event["action"] == "unit.update"
        assert event["actor_id"] == str(org.principals["manager_a"].id)
        assert event["changes"] == {"name": ["Chi bộ A1", "Tên mới"]}

    async def test_empty_patch_changes_nothing(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.patch(f"{URL}/{org.a1.id}", json={}, headers=org.headers("admin"))
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 1
        assert await audit_actions(org.a1.id) == []

    async def test_stale_if_match_is_412(self, client: httpx.AsyncClient, org: Org) -> None:
        ok = await client.patch(
            f"{URL}/{org.a1.id}",
            json={"name": "Một"},
            headers={**org.headers("admin"), "If-Match": '"1"'},
        )
        assert ok.status_code == 200
        stale = await client.patch(
            f"{URL}/{org.a1.id}",
            json={"name": "Hai"},
            headers={**org.headers("admin"), "If-Match": '"1"'},
        )
        assert_problem(stale, 412, "version_mismatch")
        assert (await fetch(Unit, org.a1.id)).name == "Một"

    @pytest.mark.parametrize(
        ("if_match", "status"), [('"1"', 200), ("*", 200), ("1", 412), ('"x"', 412), ('"2"', 412)]
    )
    async def test_if_match_forms(
        self, client: httpx.AsyncClient, org: Org, if_match: str, status: int
    ) -> None:
        r = await client.patch(
            f"{URL}/{org.a1.id}",
            json={"name": "Tên mới"},
            headers={**org.headers("admin"), "If-Match": if_match},
        )
        assert r.status_code == status, r.text

    async def test_move_takes_the_subtree_along(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        child = await make_unit(session, org.a1, code="A.1.1", level=UnitLevel.group)
        grandchild = await make_unit(session, child, code="A.1.1.1", level=UnitLevel.group)
        r = await client.patch(
            f"{URL}/{org.a1.id}", json={"parent_id": str(org.b.id)}, headers=org.headers("admin")
        )
        assert r.status_code == 200, r.text
        assert r.json()["parent_id"] == str(org.b.id)
        assert r.json()["version"] == 2
        moved, c, g = [await fetch(Unit, u.id) for u in (org.a1, child, grandchild)]
        assert moved.path == f"{org.b.path}{org.a1.id.hex}/"
        assert c.path == f"{moved.path}{child.id.hex}/"
        assert g.path == f"{c.path}{grandchild.id.hex}/"
        assert (moved.depth, c.depth, g.depth) == (2, 3, 4)
        assert c.parent_id == org.a1.id
        # Scope follows the tree: the subtree (and its member) now belongs to B's managers.
        for unit in (org.a1, child, grandchild):
            r = await client.get(f"{URL}/{unit.id}", headers=org.headers("manager_b"))
            assert r.status_code == 200
            r = await client.get(f"{URL}/{unit.id}", headers=org.headers("manager_a"))
            assert r.status_code == 404
        r = await client.get(f"/api/v1/members/{org.me.id}", headers=org.headers("manager_b"))
        assert r.status_code == 200
        r = await client.get(
            f"{URL}/{org.b.id}/tree", params={"depth": 6}, headers=org.headers("admin")
        )
        b1, a1 = r.json()["children"][1], r.json()["children"][0]
        assert (a1["code"], b1["code"]) == ("A.1", "B.1")
        assert a1["children"][0]["children"][0]["code"] == "A.1.1.1"
        assert await audit_actions(org.a1.id) == ["unit.update"]

    async def test_move_within_scope_by_manager(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        child = await make_unit(session, org.a1, code="A.1.1", level=UnitLevel.group)
        r = await client.patch(
            f"{URL}/{child.id}",
            json={"parent_id": str(org.a2.id)},
            headers=org.headers("manager_a"),
        )
        assert r.status_code == 200, r.text
        row = await fetch(Unit, child.id)
        assert (row.parent_id, row.path, row.depth) == (
            org.a2.id,
            f"{org.a2.path}{child.id.hex}/",
            3,
        )

    async def test_sibling_paths_that_share_a_prefix_are_not_moved(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        untouched = {u.id: u.path for u in (org.root, org.a, org.a2, org.b, org.b1, org.b2)}
        await client.patch(
            f"{URL}/{org.a1.id}", json={"parent_id": str(org.b1.id)}, headers=org.headers("admin")
        )
        for unit_id, path in untouched.items():
            assert (await fetch(Unit, unit_id)).path == path

    @pytest.mark.parametrize("target", ["self", "child", "grandchild"])
    async def test_move_under_own_subtree_is_409(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, target: str
    ) -> None:
        child = await make_unit(session, org.a1, code="A.1.1")
        grandchild = await make_unit(session, child, code="A.1.1.1")
        new_parent = {"self": org.a, "child": org.a1, "grandchild": grandchild}[target]
        r = await client.patch(
            f"{URL}/{org.a.id}",
            json={"parent_id": str(new_parent.id)},
            headers=org.headers("admin"),
        )
        assert_problem(r, 409, "unit_cycle")
        row = await fetch(Unit, org.a.id)
        assert (row.parent_id, row.path, row.version) == (org.root.id, org.a.path, 1)
        assert (await fetch(Unit, grandchild.id)).path == grandchild.path

    async def test_move_out_of_scope_is_422(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.patch(
            f"{URL}/{org.a1.id}",
            json={"parent_id": str(org.b1.id)},
            headers=org.headers("manager_a"),
        )
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body", "parent_id"]
        assert (await fetch(Unit, org.a1.id)).parent_id == org.a.id

    async def test_move_under_unknown_unit_is_422(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.patch(
            f"{URL}/{org.a1.id}",
            json={"parent_id": str(uuid.uuid4())},
            headers=org.headers("admin"),
        )
        assert_problem(r, 422, "validation_failed")

    async def test_move_under_dissolved_unit_is_409(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        org.a2.status = UnitStatus.dissolved
        session.add(org.a2)
        await session.commit()
        r = await client.patch(
            f"{URL}/{org.a1.id}", json={"parent_id": str(org.a2.id)}, headers=org.headers("admin")
        )
        assert_problem(r, 409, "unit_dissolved")

    async def test_only_admin_makes_a_root(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.patch(
            f"{URL}/{org.a1.id}", json={"parent_id": None}, headers=org.headers("manager_a")
        )
        assert_problem(r, 403, "forbidden")
        r = await client.patch(
            f"{URL}/{org.a1.id}", json={"parent_id": None}, headers=org.headers("admin")
        )
        assert r.status_code == 200, r.text
        assert r.json()["parent_id"] is None
        row = await fetch(Unit, org.a1.id)
        assert (row.path, row.depth) == (f"/{org.a1.id.hex}/", 0)

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": 5}, "name"),
            ({"name": ""}, "name"),
            ({"name": "x" * 301}, "name"),
            ({"level": "commune"}, "level"),
            ({"parent_id": "nope"}, "parent_id"),
            ({"declaration_deadline_days": -1}, "declaration_deadline_days"),
            ({"code": "NEW"}, "code"),
            ({"status": "dissolved"}, "status"),
            ({"merged_into_id": str(uuid.UUID(int=1))}, "merged_into_id"),
            ({"version": 9}, "version"),
        ],
    )
    async def test_bad_body_is_422_and_changes_nothing(
        self, client: httpx.AsyncClient, org: Org, body: dict[str, Any], field: str
    ) -> None:
        r = await client.patch(f"{URL}/{org.a1.id}", json=body, headers=org.headers("admin"))
        problem = assert_problem(r, 422, "validation_failed")
        assert any(e["loc"][:2] == ["body", field] for e in problem["errors"]), problem["errors"]
        row = await fetch(Unit, org.a1.id)
        assert (row.version, row.code, row.status, row.name) == (
            1,
            "A.1",
            UnitStatus.active,
            "Chi bộ A1",
        )

    @pytest.mark.parametrize(
        "field", ["name", "level", "declaration_required", "declaration_deadline_days"]
    )
    async def test_null_for_a_required_field_is_422(
        self, client: httpx.AsyncClient, org: Org, field: str
    ) -> None:
        r = await client.patch(
            f"{URL}/{org.a1.id}", json={field: None}, headers=org.headers("admin")
        )
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body", field]
        assert (await fetch(Unit, org.a1.id)).version == 1

    async def test_malformed_json_is_400(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.patch(
            f"{URL}/{org.a1.id}",
            content=b'{"name": ',
            headers={**org.headers("admin"), "Content-Type": "application/json"},
        )
        assert_problem(r, 400, "invalid_json")

    async def test_unknown_unit_is_404(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.patch(
            f"{URL}/{uuid.uuid4()}", json={"name": "x"}, headers=org.headers("admin")
        )
        assert_problem(r, 404, "not_found")


class TestUnitTree:
    @staticmethod
    def codes_by_level(node: dict[str, Any]) -> list[list[str]]:
        levels: list[list[str]] = []
        frontier = [node]
        while frontier:
            levels.append([n["code"] for n in frontier])
            frontier = [c for n in frontier for c in n["children"]]
        return levels

    @pytest.mark.parametrize(
        ("depth", "expected"),
        [
            (0, [["R"]]),
            (1, [["R"], ["A", "B"]]),
            (2, [["R"], ["A", "B"], ["A.1", "A.2", "B.1", "B.2"]]),
            (3, [["R"], ["A", "B"], ["A.1", "A.2", "B.1", "B.2"], ["A.1.1"]]),
            (6, [["R"], ["A", "B"], ["A.1", "A.2", "B.1", "B.2"], ["A.1.1"], ["A.1.1.1"]]),
            (None, [["R"], ["A", "B"], ["A.1", "A.2", "B.1", "B.2"]]),
        ],
    )
    async def test_depth_limits_the_subtree(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        depth: int | None,
        expected: list[list[str]],
    ) -> None:
        child = await make_unit(session, org.a1, code="A.1.1")
        await make_unit(session, child, code="A.1.1.1")
        params = {} if depth is None else {"depth": depth}
        r = await client.get(
            f"{URL}/{org.root.id}/tree", params=params, headers=org.headers("admin")
        )
        assert r.status_code == 200, r.text
        assert self.codes_by_level(r.json()) == expected

    async def test_tree_nodes_carry_unit_fields(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(
            f"{URL}/{org.a.id}/tree", params={"depth": 1}, headers=org.headers("partner_a")
        )
        tree = r.json()
        assert tree["id"] == str(org.a.id)
        assert tree["parent_id"] == str(org.root.id)
        assert tree["children"][0]["parent_id"] == str(org.a.id)
        assert tree["children"][0]["children"] == []
        assert tree["children"][0]["status"] == "active"

    @pytest.mark.parametrize("depth", [-1, 7, "deep"])
    async def test_bad_depth_is_422(self, client: httpx.AsyncClient, org: Org, depth: Any) -> None:
        r = await client.get(
            f"{URL}/{org.a.id}/tree", params={"depth": depth}, headers=org.headers("admin")
        )
        assert_problem(r, 422, "validation_failed")

    async def test_unknown_unit_is_404(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(f"{URL}/{uuid.uuid4()}/tree", headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")


class TestMergeUnit:
    async def test_merge_moves_children_and_members_and_dissolves(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        child = await make_unit(session, org.a1, code="A.1.1", level=UnitLevel.group)
        grandchild = await make_unit(session, child, code="A.1.1.1", level=UnitLevel.group)
        other = await make_member(session, org.a1, status=MemberStatus.exempt)
        deep = await make_member(session, child)
        r = await client.post(
            f"{URL}/{org.a1.id}/merge",
            json={"into_unit_id": str(org.a2.id)},
            headers={**org.headers("manager_a"), "If-Match": '"1"'},
        )
        assert r.status_code == 200, r.text
        merged = r.json()
        assert merged["status"] == "dissolved"
        assert merged["merged_into_id"] == str(org.a2.id)
        assert merged["version"] == 2
        assert r.headers["etag"] == '"2"'
        # Members of the merged unit now belong to the target; their version moved on.
        for m in (org.me, other):
            row = await fetch(Member, m.id)
            assert (row.unit_id, row.version) == (org.a2.id, 2)
        assert (await fetch(Member, deep.id)).unit_id == child.id
        # Child units (with their subtrees) hang under the target.
        c, g = await fetch(Unit, child.id), await fetch(Unit, grandchild.id)
        assert (c.parent_id, c.path, c.depth) == (org.a2.id, f"{org.a2.path}{child.id.hex}/", 3)
        assert (g.parent_id, g.path, g.depth) == (child.id, f"{c.path}{grandchild.id.hex}/", 4)
        # The re-parented child reads differently now, so its version (and ETag) moved on;
        # the grandchild's representation did not change.
        r = await client.get(f"{URL}/{child.id}", headers=org.headers("manager_a"))
        assert (r.json()["parent_id"], r.json()["version"], r.headers["etag"]) == (
            str(org.a2.id),
            2,
            '"2"',
        )
        assert g.version == 1
        # History stays: the dissolved unit is still readable, and the tree shows the result.
        r = await client.get(f"{URL}/{org.a1.id}", headers=org.headers("manager_a"))
        assert r.json()["status"] == "dissolved"
        r = await client.get(
            f"{URL}/{org.a2.id}/tree", params={"depth": 2}, headers=org.headers("manager_a")
        )
        assert [n["code"] for n in r.json()["children"]] == ["A.1.1"]
        assert r.json()["children"][0]["children"][0]["code"] == "A.1.1.1"
        r = await client.get(
            "/api/v1/members", params={"unit_id": str(org.a2.id)}, headers=org.headers("admin")
        )
        assert {m["id"] for m in r.json()["items"]} == {str(org.me.id), str(other.id), str(deep.id)}
        assert await audit_actions(org.a1.id) == ["unit.merge"]
        assert await audit_actions(org.a2.id) == ["unit.merge_in"]
        # The member's login keeps working after the move.
        r = await client.get("/api/v1/me", headers=org.headers("member"))
        assert r.json()["unit"]["id"] == str(org.a2.id)

    async def test_merge_into_an_ancestor(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        child = await make_unit(session, org.a1, code="A.1.1")
        r = await client.post(
            f"{URL}/{org.a1.id}/merge",
            json={"into_unit_id": str(org.a.id)},
            headers=org.headers("admin"),
        )
        assert r.status_code == 200, r.text
        c = await fetch(Unit, child.id)
        assert (c.parent_id, c.path, c.depth) == (org.a.id, f"{org.a.path}{child.id.hex}/", 2)
        assert (await fetch(Member, org.me.id)).unit_id == org.a.id

    @pytest.mark.parametrize("target", ["self", "child"])
    async def test_merge_into_own_subtree_is_409(
        self, client: httpx.AsyncClient, org: Org, target: str
    ) -> None:
        into = org.a if target == "self" else org.a1
        r = await client.post(
            f"{URL}/{org.a.id}/merge",
            json={"into_unit_id": str(into.id)},
            headers=org.headers("admin"),
        )
        assert_problem(r, 409, "unit_cycle")
        assert (await fetch(Unit, org.a.id)).status is UnitStatus.active
        assert (await fetch(Unit, org.a1.id)).parent_id == org.a.id

    async def test_merge_of_or_into_dissolved_unit_is_409(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        org.a2.status = UnitStatus.dissolved
        session.add(org.a2)
        await session.commit()
        r = await client.post(
            f"{URL}/{org.a1.id}/merge",
            json={"into_unit_id": str(org.a2.id)},
            headers=org.headers("admin"),
        )
        assert_problem(r, 409, "unit_dissolved")
        r = await client.post(
            f"{URL}/{org.a2.id}/merge",
            json={"into_unit_id": str(org.a1.id)},
            headers=org.headers("admin"),
        )
        assert_problem(r, 409, "unit_dissolved")
        assert (await fetch(Member, org.me.id)).unit_id == org.a1.id

    async def test_target_out_of_scope_is_422(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(
            f"{URL}/{org.a1.id}/merge",
            json={"into_unit_id": str(org.b1.id)},
            headers=org.headers("manager_a"),
        )
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body", "into_unit_id"]
        assert (await fetch(Member, org.me.id)).unit_id == org.a1.id

    async def test_stale_if_match_is_412_and_moves_nothing(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.post(
            f"{URL}/{org.a1.id}/merge",
            json={"into_unit_id": str(org.a2.id)},
            headers={**org.headers("admin"), "If-Match": '"7"'},
        )
        assert_problem(r, 412, "version_mismatch")
        assert (await fetch(Member, org.me.id)).unit_id == org.a1.id
        assert (await fetch(Unit, org.a1.id)).status is UnitStatus.active
        assert await count_rows(AuditEvent, AuditEvent.action.like("unit.%")) == 0

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"into_unit_id": "x"},
            {"into_unit_id": None},
            {"into": "x", "into_unit_id": str(uuid.UUID(int=3))},
        ],
    )
    async def test_bad_body_is_422(
        self, client: httpx.AsyncClient, org: Org, body: dict[str, Any]
    ) -> None:
        r = await client.post(f"{URL}/{org.a1.id}/merge", json=body, headers=org.headers("admin"))
        assert_problem(r, 422, "validation_failed")
        assert (await fetch(Unit, org.a1.id)).status is UnitStatus.active

    async def test_malformed_json_is_400(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(
            f"{URL}/{org.a1.id}/merge",
            content=b"{into}",
            headers={**org.headers("admin"), "Content-Type": "application/json"},
        )
        assert_problem(r, 400, "invalid_json")


class TestDissolveUnit:
    async def test_dissolve_empty_unit(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(
            f"{URL}/{org.a2.id}/dissolve", headers={**org.headers("manager_a"), "If-Match": '"1"'}
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "dissolved"
        assert r.json()["merged_into_id"] is None
        assert r.headers["etag"] == '"2"'
        assert await audit_actions(org.a2.id) == ["unit.dissolve"]
        # History stays readable, and listable by status.
        r = await client.get(URL, params={"status": "dissolved"}, headers=org.headers("manager_a"))
        assert [u["code"] for u in r.json()["items"]] == ["A.2"]

    @pytest.mark.parametrize("member_status", [MemberStatus.active, MemberStatus.exempt])
    async def test_unit_with_active_members_is_409(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        member_status: MemberStatus,
    ) -> None:
        await make_member(session, org.a2, status=member_status)
        r = await client.post(f"{URL}/{org.a2.id}/dissolve", headers=org.headers("admin"))
        assert_problem(r, 409, "unit_not_empty")
        assert (await fetch(Unit, org.a2.id)).status is UnitStatus.active
        assert await audit_actions(org.a2.id) == []

    async def test_unit_with_active_children_is_409(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.post(f"{URL}/{org.b.id}/dissolve", headers=org.headers("admin"))
        assert_problem(r, 409, "unit_not_empty")

    async def test_former_members_and_dissolved_children_do_not_block(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        for status in (MemberStatus.transferred, MemberStatus.removed, MemberStatus.deceased):
            await make_member(session, org.b1, status=status)
        r = await client.post(f"{URL}/{org.b1.id}/dissolve", headers=org.headers("admin"))
        assert r.status_code == 200, r.text
        r = await client.post(f"{URL}/{org.b2.id}/dissolve", headers=org.headers("admin"))
        assert r.status_code == 200, r.text
        r = await client.post(f"{URL}/{org.b.id}/dissolve", headers=org.headers("admin"))
        assert r.status_code == 200, r.text

    async def test_dissolving_twice_is_409(self, client: httpx.AsyncClient, org: Org) -> None:
        assert (
            await client.post(f"{URL}/{org.a2.id}/dissolve", headers=org.headers("admin"))
        ).status_code == 200
        r = await client.post(f"{URL}/{org.a2.id}/dissolve", headers=org.headers("admin"))
        assert_problem(r, 409, "unit_dissolved")
        assert await audit_actions(org.a2.id) == ["unit.dissolve"]

    async def test_stale_if_match_is_412(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(
            f"{URL}/{org.a2.id}/dissolve", headers={**org.headers("admin"), "If-Match": '"2"'}
        )
        assert_problem(r, 412, "version_mismatch")
        assert (await fetch(Unit, org.a2.id)).status is UnitStatus.active

    async def test_cannot_create_under_a_dissolved_unit(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        await client.post(f"{URL}/{org.a2.id}/dissolve", headers=org.headers("admin"))
        r = await client.post(URL, json=unit_body(org.a2), headers=org.headers("admin"))
        assert_problem(r, 409, "unit_dissolved")
        body = {"full_name": "Trần Văn An", "unit_id": str(org.a2.id), "membership": "official"}
        r = await client.post("/api/v1/members", json=body, headers=org.headers("admin"))
        assert_problem(r, 409, "unit_dissolved")

    async def test_unknown_unit_is_404(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(f"{URL}/{uuid.uuid4()}/dissolve", headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")


class TestNoDeletion:
    @pytest.mark.parametrize("method", ["DELETE", "PUT"])
    async def test_units_are_never_deleted_or_replaced(
        self, client: httpx.AsyncClient, org: Org, method: str
    ) -> None:
        r = await client.request(method, f"{URL}/{org.a2.id}", headers=org.headers("admin"))
        assert_problem(r, 405, "method_not_allowed")
        assert await count_rows(Unit) == 7
