"""/api/v1/members: the roster (SPEC §5 Members), one class per endpoint."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import Declaration, Membership, MemberStatus, UnitStatus
from api.core.pagination import encode_cursor
from api.core.text_vi import fold, name_sort_key
from api.models import AuditEvent, IdempotencyRecord, Member
from tests.support.factories import PASSWORD, auth, make_member, make_unit, make_user
from tests.support.problems import assert_problem, assert_status
from tests.support.reads import audit_actions, count_rows, fetch, walk
from tests.support.world import Org, build_org

URL = "/api/v1/members"


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


@pytest.fixture
async def roster(session: AsyncSession, org: Org) -> dict[str, Member]:
    """Besides `me` (Lê Thị Hoa, A1): one more member in A2 and one in B1."""
    return {
        "me": org.me,
        "a2": await make_member(session, org.a2, full_name="Phạm Văn Cường"),
        "b1": await make_member(session, org.b1, full_name="Vũ Thị Dung"),
    }


def member_body(unit: uuid.UUID, /, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": f"DV-{uuid.uuid4().hex[:10]}",
        "full_name": "Nguyễn Văn An",
        "unit_id": str(unit),
        "membership": "official",
    }
    body.update(overrides)
    return body


async def names(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    r = await client.get(URL, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return [m["full_name"] for m in r.json()["items"]]


class TestListMembers:
    @pytest.mark.parametrize(
        ("role", "expected"),
        [
            ("admin", {"me", "a2", "b1"}),
            ("manager_a", {"me", "a2"}),
            ("manager_b", {"b1"}),
            ("reviewer_a", {"me", "a2"}),
            ("member", 403),
            ("partner_a", {"me", "a2"}),
            ("analyst_a", 403),
            ("anon", 401),
        ],
    )
    async def test_role_matrix(
        self,
        client: httpx.AsyncClient,
        org: Org,
        roster: dict[str, Member],
        role: str,
        expected: set[str] | int,
    ) -> None:
        r = await client.get(URL, headers=org.headers(role))
        if isinstance(expected, int):
            assert_status(r, expected)
        else:
            assert r.status_code == 200, r.text
            assert {m["id"] for m in r.json()["items"]} == {str(roster[k].id) for k in expected}

    async def test_item_shape(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(URL, headers=org.headers("admin"))
        [item] = r.json()["items"]
        assert set(item) == {
            "id",
            "external_id",
            "full_name",
            "unit_id",
            "membership",
            "status",
            "position",
            "is_leader",
            "email",
            "phone",
            "declaration",
            "declared_at",
            "version",
            "created_at",
            "updated_at",
        }
        assert item["unit_id"] == str(org.a1.id)
        assert item["declaration"] == "not_declared"

    @pytest.mark.parametrize(
        "q",
        [
            "nguyen van duc",
            "Nguyễn Văn Đức",
            "DUC",
            "đức",
            "Đ",
            "van duc",
            "  nguyen   van  ",
            "NGUYEN VAN DUC",
        ],
    )
    async def test_search_is_case_and_diacritic_insensitive(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, q: str
    ) -> None:
        await make_member(session, org.a1, full_name="Nguyễn Văn Đức")
        await make_member(session, org.a1, full_name="Trần Thị Mai")
        assert await names(client, org.headers("admin"), q=q) == ["Nguyễn Văn Đức"]

    async def test_search_matches_substrings_and_escapes_wildcards(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await make_member(session, org.a1, full_name="Nguyễn Văn Đức")
        await make_member(session, org.a1, full_name="Đỗ Đức Dũng")
        assert await names(client, org.headers("admin"), q="duc") == [
            "Đỗ Đức Dũng",
            "Nguyễn Văn Đức",
        ]
        assert await names(client, org.headers("admin"), q="%") == []
        assert await names(client, org.headers("admin"), q="_") == []
        assert await names(client, org.headers("admin"), q="nguyen duc") == []

    async def test_search_by_nfd_query(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await make_member(session, org.a1, full_name="Nguyễn Văn Đức")
        q = unicodedata.normalize("NFD", "Nguyễn Văn Ðức")
        assert await names(client, org.headers("admin"), q=q) == ["Nguyễn Văn Đức"]

    async def test_sort_by_name_is_vietnamese(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        for full_name in [
            "Nguyễn Thị Bình",
            "Trần Văn An",
            "Lê Văn An",
            "Đặng Văn Đông",
            "Dương Văn Dũng",
            "Nguyễn Văn Ánh",
            "Nguyễn Văn Anh",
            "Bùi Thị Ân",
        ]:
            await make_member(session, org.a2, full_name=full_name)
        got = await names(client, org.headers("admin"), unit_id=str(org.a2.id), sort="name")
        # Given name first (An < Anh < Ánh < Ân < Bình < Dũng < Đông), then family name.
        assert got == [
            "Lê Văn An",
            "Trần Văn An",
            "Nguyễn Văn Anh",
            "Nguyễn Văn Ánh",
            "Bùi Thị Ân",
            "Nguyễn Thị Bình",
            "Dương Văn Dũng",
            "Đặng Văn Đông",
        ]
        assert got.index("Trần Văn An") < got.index("Nguyễn Thị Bình")
        assert await names(client, org.headers("admin"), unit_id=str(org.a2.id)) == got

    async def test_sort_by_updated_at_is_oldest_change_first(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        first = await make_member(session, org.a2, full_name="Trần Văn An")
        second = await make_member(session, org.a2, full_name="Nguyễn Thị Bình")
        third = await make_member(session, org.a2, full_name="Lê Văn Cường")
        r = await client.patch(
            f"{URL}/{first.id}", json={"position": "Bí thư"}, headers=org.headers("admin")
        )
        assert r.status_code == 200
        r = await client.get(
            URL,
            params={"unit_id": str(org.a2.id), "sort": "updated_at"},
            headers=org.headers("admin"),
        )
        assert [m["id"] for m in r.json()["items"]] == [
            str(second.id),
            str(third.id),
            str(first.id),
        ]
        stamps = [m["updated_at"] for m in r.json()["items"]]
        assert stamps == sorted(stamps)

    async def test_updated_at_pages_break_ties_by_id(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        """A merge moves members in one statement, so they share one updated_at."""
        created = {str((await make_member(session, org.a2)).id) for _ in range(5)}
        r = await client.post(
            f"/api/v1/units/{org.a2.id}/merge",
            json={"into_unit_id": str(org.a1.id)},
            headers=org.headers("admin"),
        )
        assert r.status_code == 200
        pages = await walk(client, URL, org.headers("admin"), sort="updated_at", limit=2)
        ids = [m["id"] for page in pages for m in page]
        assert [len(p) for p in pages] == [2, 2, 2]
        assert len(ids) == len(set(ids)) == 6
        assert created | {str(org.me.id)} == set(ids)

    async def test_unit_filter_includes_the_subtree(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, roster: dict[str, Member]
    ) -> None:
        deep_unit = await make_unit(session, org.a2, code="A.2.1")
        deep = await make_member(session, deep_unit, full_name="Hoàng Văn Em")
        for unit, expected in [
            (org.root, {"Lê Thị Hoa", "Phạm Văn Cường", "Vũ Thị Dung", "Hoàng Văn Em"}),
            (org.a, {"Lê Thị Hoa", "Phạm Văn Cường", "Hoàng Văn Em"}),
            (org.a2, {"Phạm Văn Cường", "Hoàng Văn Em"}),
            (deep_unit, {"Hoàng Văn Em"}),
            (org.b, {"Vũ Thị Dung"}),
            (org.b2, set()),
        ]:
            for role in ("admin", "manager_a" if unit is not org.b else "manager_b"):
                got = await names(client, org.headers(role), unit_id=str(unit.id))
                visible = (
                    expected
                    if role == "admin" or unit is not org.root
                    else expected - {"Vũ Thị Dung"}
                )
                assert set(got) == visible, (unit.code, role)
        assert deep.unit_id == deep_unit.id

    async def test_unit_filter_out_of_scope_or_unknown_is_empty(
        self, client: httpx.AsyncClient, org: Org, roster: dict[str, Member]
    ) -> None:
        assert await names(client, org.headers("manager_a"), unit_id=str(org.b.id)) == []
        assert await names(client, org.headers("manager_a"), unit_id=str(uuid.uuid4())) == []

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"status": "active"}, {"Active Leader", "Active Plain"}),
            ({"status": "exempt"}, {"Exempt Probationary"}),
            ({"status": "removed"}, set()),
            ({"membership": "probationary"}, {"Exempt Probationary"}),
            ({"membership": "none"}, {"Active Plain"}),
            ({"is_leader": "true"}, {"Active Leader"}),
            ({"is_leader": "false"}, {"Active Plain", "Exempt Probationary"}),
            ({"declaration": "declared"}, {"Active Leader"}),
            ({"declaration": "declared_none"}, {"Exempt Probationary"}),
            ({"declaration": "not_declared"}, {"Active Plain"}),
            ({"status": "active", "is_leader": "false"}, {"Active Plain"}),
        ],
    )
    async def test_filters(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        params: dict[str, str],
        expected: set[str],
    ) -> None:
        await make_member(
            session,
            org.b1,
            full_name="Active Leader",
            is_leader=True,
            declaration=Declaration.declared,
        )
        await make_member(session, org.b1, full_name="Active Plain", membership=Membership.none)
        await make_member(
            session,
            org.b1,
            full_name="Exempt Probationary",
            status=MemberStatus.exempt,
            membership=Membership.probationary,
            declaration=Declaration.declared_none,
        )
        got = await names(client, org.headers("manager_b"), **params)
        assert set(got) == expected

    async def test_pagination_at_scale(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        given = [
            "An",
            "Bình",
            "Cường",
            "Dũng",
            "Đức",
            "Giang",
            "Hà",
            "Khánh",
            "Long",
            "Minh",
            "Nam",
            "Phúc",
        ]
        family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
        full_names = [f"{f} Văn {g}" for f in family for g in given]
        session.add_all(
            Member(
                full_name=n,
                name_search=fold(n),
                name_sort=name_sort_key(n),
                unit_id=org.b2.id,
                external_id=f"P{i:04d}",
                membership=Membership.official,
            )
            for i, n in enumerate(full_names)
        )
        await session.commit()
        pages = await walk(client, URL, org.headers("manager_b"), limit=50, unit_id=str(org.b2.id))
        assert [len(p) for p in pages] == [50, 50, 20]
        ids = [m["id"] for page in pages for m in page]
        assert len(set(ids)) == 120
        got = [m["full_name"] for page in pages for m in page]
        assert got == sorted(full_names, key=name_sort_key)
        assert got[:3] == ["Bùi Văn An", "Đặng Văn An", "Đỗ Văn An"]
        assert got[-1] == "Vũ Văn Phúc"
        assert await count_rows(Member, Member.unit_id == org.b2.id) == 120

    async def test_cursor_is_bound_to_the_sort(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await make_member(session, org.a1)
        r = await client.get(URL, params={"limit": 1, "sort": "name"}, headers=org.headers("admin"))
        cursor = r.json()["next_cursor"]
        r = await client.get(
            URL, params={"cursor": cursor, "sort": "updated_at"}, headers=org.headers("admin")
        )
        assert_problem(r, 422, "invalid_cursor")
        r = await client.get(
            URL, params={"cursor": cursor, "sort": "name"}, headers=org.headers("admin")
        )
        assert len(r.json()["items"]) == 1

    @pytest.mark.parametrize(
        ("sort", "values"),
        [
            ("name", ["\x00", str(uuid.UUID(int=0))]),
            ("name", [1, str(uuid.UUID(int=0))]),
            ("updated_at", ["0001-01-01T00:00:00+01:00", str(uuid.UUID(int=0))]),
            ("updated_at", ["9999-12-31T23:59:59-01:00", str(uuid.UUID(int=0))]),
            ("updated_at", ["2025-01-01T00:00:00", str(uuid.UUID(int=0))]),
            ("updated_at", ["yesterday", str(uuid.UUID(int=0))]),
        ],
    )
    async def test_forged_cursor_is_422_not_500(
        self, client: httpx.AsyncClient, org: Org, sort: str, values: list[Any]
    ) -> None:
        cursor = encode_cursor(f"members:{sort}", values)
        r = await client.get(
            URL, params={"cursor": cursor, "sort": sort}, headers=org.headers("admin")
        )
        assert_problem(r, 422, "invalid_cursor")

    async def test_cursor_with_another_utc_offset_is_accepted(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        cursor = encode_cursor(
            "members:updated_at", ["2000-01-01T07:00:00+07:00", str(uuid.UUID(int=0))]
        )
        r = await client.get(
            URL, params={"cursor": cursor, "sort": "updated_at"}, headers=org.headers("admin")
        )
        assert r.status_code == 200
        assert [m["id"] for m in r.json()["items"]] == [str(org.me.id)]

    @pytest.mark.parametrize("q", ["\x00", "Nguyễn\x00"])
    async def test_nul_in_query_is_422_not_500(
        self, client: httpx.AsyncClient, org: Org, q: str
    ) -> None:
        r = await client.get(URL, params={"q": q}, headers=org.headers("admin"))
        assert_problem(r, 422, "validation_failed")

    @pytest.mark.parametrize("cursor", ["zzz", "eyJhIjogMX0", "WyJtZW1iZXJzOm5hbWUiLFsxLDJdXQ"])
    async def test_bad_cursor_is_422(
        self, client: httpx.AsyncClient, org: Org, cursor: str
    ) -> None:
        r = await client.get(URL, params={"cursor": cursor}, headers=org.headers("admin"))
        assert_problem(r, 422, "invalid_cursor")

    @pytest.mark.parametrize(
        "params",
        [
            {"limit": 201},
            {"limit": 0},
            {"sort": "age"},
            {"status": "retired"},
            {"membership": "full"},
            {"is_leader": "maybe"},
            {"declaration": "yes"},
            {"unit_id": "A1"},
            {"q": "x" * 201},
        ],
    )
    async def test_bad_query_is_422(
        self, client: httpx.AsyncClient, org: Org, params: dict[str, Any]
    ) -> None:
        r = await client.get(URL, params=params, headers=org.headers("admin"))
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"][0] == "query"


class TestCreateMember:
    async def test_create_returns_member_with_location_etag_and_audit(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        body = member_body(
            org.a1.id,
            external_id="DV-0001234",
            position="Bí thư chi bộ",
            is_leader=True,
            email="An.NV@Example.VN",
            phone="0912 345 678",
            status="exempt",
            membership="probationary",
        )
        r = await client.post(URL, json=body, headers=org.headers("manager_a"))
        assert r.status_code == 201, r.text
        m = r.json()
        assert r.headers["location"] == f"{URL}/{m['id']}"
        assert r.headers["etag"] == '"1"'
        assert m["external_id"] == "DV-0001234"
        assert m["full_name"] == "Nguyễn Văn An"
        assert m["unit_id"] == str(org.a1.id)
        assert (m["membership"], m["status"]) == ("probationary", "exempt")
        assert (m["position"], m["is_leader"]) == ("Bí thư chi bộ", True)
        assert m["email"] == "An.NV@example.vn"
        assert m["phone"] == "+84912345678"
        assert (m["declaration"], m["declared_at"], m["version"]) == ("not_declared", None, 1)
        assert await audit_actions(uuid.UUID(m["id"])) == ["member.create"]
        r = await client.get(f"{URL}/{m['id']}", headers=org.headers("manager_a"))
        assert r.json() == m

    async def test_defaults(self, client: httpx.AsyncClient, org: Org) -> None:
        body = {"full_name": "Trần Văn An", "unit_id": str(org.a1.id), "membership": "none"}
        r = await client.post(URL, json=body, headers=org.headers("admin"))
        assert r.status_code == 201, r.text
        m = r.json()
        assert (
            m["external_id"],
            m["status"],
            m["is_leader"],
            m["email"],
            m["phone"],
            m["position"],
        ) == (
            None,
            "active",
            False,
            None,
            None,
            None,
        )

    async def test_vietnamese_text_is_stored_nfc(self, client: httpx.AsyncClient, org: Org) -> None:
        nfd = unicodedata.normalize("NFD", "Nguyễn  Văn   Ðức ")
        r = await client.post(
            URL,
            json=member_body(
                org.a1.id, full_name=nfd, position=unicodedata.normalize("NFD", "Phó bí thư")
            ),
            headers=org.headers("admin"),
        )
        assert r.status_code == 201, r.text
        assert r.json()["full_name"] == "Nguyễn Văn Đức"
        assert unicodedata.is_normalized("NFC", r.json()["full_name"])
        assert "\u0110" in r.json()["full_name"]
        assert "\u00d0" not in r.json()["full_name"]
        assert r.json()["position"] == "Phó bí thư"
        row = await fetch(Member, uuid.UUID(r.json()["id"]))
        assert row.full_name == "Nguyễn Văn Đức"
        assert row.name_search == "nguyen van duc"
        r = await client.get(URL, params={"q": "nguyen van duc"}, headers=org.headers("admin"))
        assert [m["full_name"] for m in r.json()["items"]] == ["Nguyễn Văn Đức"]

    async def test_longest_name_in_a_script_that_nfd_expands(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        """Hangul syllables are three letters in NFD: the search form must still fit."""
        r = await client.post(
            URL, json=member_body(org.a1.id, full_name="김" * 200), headers=org.headers("admin")
        )
        assert r.status_code == 201, r.text
        assert await names(client, org.headers("admin"), q="김김") == ["김" * 200]

    async def test_duplicate_external_id_is_409(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(
            URL, json=member_body(org.a1.id, external_id="DV-1"), headers=org.headers("admin")
        )
        assert r.status_code == 201
        r = await client.post(
            URL, json=member_body(org.b1.id, external_id="DV-1"), headers=org.headers("admin")
        )
        assert_problem(r, 409, "duplicate")
        assert await count_rows(Member, Member.external_id == "DV-1") == 1

    async def test_members_without_external_id_do_not_collide(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        for _ in range(2):
            body = member_body(org.a1.id)
            del body["external_id"]
            r = await client.post(URL, json=body, headers=org.headers("admin"))
            assert r.status_code == 201, r.text
        assert await count_rows(Member, Member.external_id.is_(None)) == 2

    @pytest.mark.parametrize("unit", ["b1", "unknown"])
    async def test_unit_out_of_scope_is_422(
        self, client: httpx.AsyncClient, org: Org, unit: str
    ) -> None:
        unit_id = org.b1.id if unit == "b1" else uuid.uuid4()
        r = await client.post(URL, json=member_body(unit_id), headers=org.headers("manager_a"))
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"] == [
            {"loc": ["body", "unit_id"], "msg": "unknown unit", "type": "reference"}
        ]
        assert await count_rows(Member) == 1

    async def test_dissolved_unit_is_409(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        org.a2.status = UnitStatus.dissolved
        session.add(org.a2)
        await session.commit()
        r = await client.post(URL, json=member_body(org.a2.id), headers=org.headers("admin"))
        assert_problem(r, 409, "unit_dissolved")

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"full_name": ""}, "full_name"),
            ({"full_name": "   "}, "full_name"),
            ({"full_name": 42}, "full_name"),
            ({"full_name": "x" * 201}, "full_name"),
            ({"full_name": "Nguyễn\x07Văn"}, "full_name"),
            ({"full_name": "\u0958" * 200}, "full_name"),  # 400 characters once NFC
            ({"position": "\u0958" * 101}, "position"),
            ({"full_name": None}, "full_name"),
            ({"unit_id": "A1"}, "unit_id"),
            ({"membership": "member"}, "membership"),
            ({"status": "dead"}, "status"),
            ({"is_leader": "sometimes"}, "is_leader"),
            ({"position": "x" * 201}, "position"),
            ({"external_id": "has space"}, "external_id"),
            ({"external_id": "x" * 65}, "external_id"),
            ({"external_id": ""}, "external_id"),
            ({"email": "not-an-email"}, "email"),
            ({"email": "a@b"}, "email"),
            ({"email": "a b@example.vn"}, "email"),
            ({"email": "x" * 250 + "@example.vn"}, "email"),
            ({"email": "a\x00b@example.vn"}, "email"),
            ({"email": "a\x01b@example.vn"}, "email"),
            ({"phone": "12"}, "phone"),
            ({"phone": "call me"}, "phone"),
            ({"phone": "+0912345678"}, "phone"),
            ({"declaration": "declared"}, "declaration"),
            ({"declared_at": "2025-01-01T00:00:00Z"}, "declared_at"),
            ({"version": 3}, "version"),
            ({"id": str(uuid.UUID(int=5))}, "id"),
            ({"citizen_id": "001234567890"}, "citizen_id"),
        ],
    )
    async def test_bad_body_is_422_and_writes_nothing(
        self, client: httpx.AsyncClient, org: Org, overrides: dict[str, Any], field: str
    ) -> None:
        r = await client.post(
            URL, json=member_body(org.a1.id, **overrides), headers=org.headers("admin")
        )
        problem = assert_problem(r, 422, "validation_failed")
        assert any(e["loc"][:2] == ["body", field] for e in problem["errors"]), problem["errors"]
        assert await count_rows(Member) == 1
        assert await count_rows(AuditEvent, AuditEvent.action == "member.create") == 0

    @pytest.mark.parametrize("missing", ["full_name", "unit_id", "membership"])
    async def test_missing_required_field_is_422(
        self, client: httpx.AsyncClient, org: Org, missing: str
    ) -> None:
        body = member_body(org.a1.id)
        del body[missing]
        r = await client.post(URL, json=body, headers=org.headers("admin"))
        problem = assert_problem(r, 422, "validation_failed")
        assert ["body", missing] in [e["loc"] for e in problem["errors"]]

    @pytest.mark.parametrize(
        ("phone", "stored"),
        [
            ("0912 345 678", "+84912345678"),
            ("0912.345.678", "+84912345678"),
            ("84912345678", "+84912345678"),
            ("+84 912-345-678", "+84912345678"),
            ("(024) 3825 3531", "+842438253531"),
            ("0084912345678", "+84912345678"),
        ],
    )
    async def test_phone_is_stored_e164(
        self, client: httpx.AsyncClient, org: Org, phone: str, stored: str
    ) -> None:
        r = await client.post(
            URL, json=member_body(org.a1.id, phone=phone), headers=org.headers("admin")
        )
        assert r.status_code == 201, r.text
        assert r.json()["phone"] == stored
        assert (await fetch(Member, uuid.UUID(r.json()["id"]))).phone == stored

    async def test_malformed_json_is_400(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(
            URL,
            content=b'{"full_name": "An"',
            headers={**org.headers("admin"), "Content-Type": "application/json"},
        )
        assert_problem(r, 400, "invalid_json")
        assert await count_rows(Member) == 1


class TestCreateMemberIdempotency:
    async def test_replay_returns_the_first_response(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        headers = {**org.headers("manager_a"), "Idempotency-Key": "sync-2025-001"}
        body = member_body(org.a1.id)
        first = await client.post(URL, json=body, headers=headers)
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
        second = await client.post(URL, json=body, headers=headers)
        assert second.status_code == 201
        assert second.json() == first.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert second.headers["location"] == first.headers["location"]
        assert second.headers["etag"] == first.headers["etag"]
        assert await count_rows(Member, Member.external_id == body["external_id"]) == 1
        assert await count_rows(AuditEvent, AuditEvent.action == "member.create") == 1
        assert await count_rows(IdempotencyRecord) == 1

    async def test_same_key_different_body_is_422(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        headers = {**org.headers("admin"), "Idempotency-Key": "k-1"}
        r = await client.post(URL, json=member_body(org.a1.id, external_id="X-1"), headers=headers)
        assert r.status_code == 201
        r = await client.post(URL, json=member_body(org.a1.id, external_id="X-2"), headers=headers)
        assert_problem(r, 422, "idempotency_key_mismatch")
        assert await count_rows(Member, Member.external_id == "X-2") == 0

    async def test_keys_are_per_principal(self, client: httpx.AsyncClient, org: Org) -> None:
        body = member_body(org.a1.id)
        r = await client.post(
            URL, json=body, headers={**org.headers("admin"), "Idempotency-Key": "shared"}
        )
        assert r.status_code == 201
        body2 = member_body(org.a1.id)
        r = await client.post(
            URL, json=body2, headers={**org.headers("manager_a"), "Idempotency-Key": "shared"}
        )
        assert r.status_code == 201
        assert "idempotent-replayed" not in r.headers
        assert await count_rows(Member) == 3

    async def test_without_key_every_post_creates(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        body = member_body(org.a1.id)
        del body["external_id"]
        for _ in range(2):
            assert (
                await client.post(URL, json=body, headers=org.headers("admin"))
            ).status_code == 201
        assert await count_rows(Member) == 3
        assert await count_rows(IdempotencyRecord) == 0

    async def test_failed_request_is_not_stored(self, client: httpx.AsyncClient, org: Org) -> None:
        headers = {**org.headers("admin"), "Idempotency-Key": "retry-me"}
        body = member_body(org.a1.id, external_id=org.me.external_id)
        r = await client.post(URL, json=body, headers=headers)
        assert_problem(r, 409, "duplicate")
        assert await count_rows(IdempotencyRecord) == 0
        body["external_id"] = "NEW-1"
        r = await client.post(URL, json=body, headers=headers)
        assert r.status_code == 201, r.text

    @pytest.mark.parametrize("key", ["x" * 300, "has space", "ключ", ""])
    async def test_invalid_key_is_422(self, client: httpx.AsyncClient, org: Org, key: str) -> None:
        headers: dict[str, Any] = {**org.headers("admin"), "Idempotency-Key": key.encode()}
        r = await client.post(URL, json=member_body(org.a1.id), headers=headers)
        assert_problem(r, 422, "validation_failed")
        assert await count_rows(Member) == 1

    async def test_key_of_255_chars_is_accepted(self, client: httpx.AsyncClient, org: Org) -> None:
        headers = {**org.headers("admin"), "Idempotency-Key": "k" * 255}
        r = await client.post(URL, json=member_body(org.a1.id), headers=headers)
        assert r.status_code == 201, r.text


class TestGetMember:
    @pytest.mark.parametrize(
        ("role", "own", "other_in_a", "in_b"),
        [
            ("admin", 200, 200, 200),
            ("manager_a", 200, 200, 404),
            ("manager_b", 404, 404, 200),
            ("reviewer_a", 200, 200, 404),
            ("member", 200, 404, 404),
            ("partner_a", 200, 200, 404),
            ("analyst_a", 404, 404, 404),
            ("anon", 401, 401, 401),
        ],
    )
    async def test_role_matrix(
        self,
        client: httpx.AsyncClient,
        org: Org,
        roster: dict[str, Member],
        role: str,
        own: int,
        other_in_a: int,
        in_b: int,
    ) -> None:
        for key, expected in (("me", own), ("a2", other_in_a), ("b1", in_b)):
            r = await client.get(f"{URL}/{roster[key].id}", headers=org.headers(role))
            assert_status(r, expected)
            if expected == 200:
                assert r.json()["id"] == str(roster[key].id)
                assert r.headers["etag"] == '"1"'

    async def test_unknown_member_is_404(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(f"{URL}/{uuid.uuid4()}", headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")

    async def test_malformed_id_is_404(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(f"{URL}/12345", headers=org.headers("admin"))
        assert_problem(r, 404, "not_found")


class TestUpdateMember:
    async def test_update_fields_bumps_version_and_audits(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        body = {
            "full_name": unicodedata.normalize("NFD", "Lê Thị Hoà"),
            "position": "Bí thư",
            "is_leader": True,
            "membership": "probationary",
            "status": "exempt",
            "email": "hoa@example.vn",
            "phone": "0987654321",
            "external_id": "DV-NEW",
        }
        r = await client.patch(
            f"{URL}/{org.me.id}", json=body, headers={**org.headers("manager_a"), "If-Match": '"1"'}
        )
        assert r.status_code == 200, r.text
        m = r.json()
        assert m["full_name"] == "Lê Thị Hoà"
        assert unicodedata.is_normalized("NFC", m["full_name"])
        assert (m["position"], m["is_leader"], m["membership"], m["status"]) == (
            "Bí thư",
            True,
            "probationary",
            "exempt",
        )
        assert (m["email"], m["phone"], m["external_id"]) == (
            "hoa@example.vn",
            "+84987654321",
            "DV-NEW",
        )
        assert m["version"] == 2
        assert r.headers["etag"] == '"2"'
        assert await audit_actions(org.me.id) == ["member.update"]
        r = await client.get(
            "/api/v1/audit-events",
            params={"entity_id": str(org.me.id)},
            headers=org.headers("manager_a"),
        )
        [event] = r.json()["items"]
        assert event["changes"]["position"] == [None, "Bí thư"]
        assert event["changes"]["external_id"][1] == "DV-NEW"
        assert await names_by_q(client, org, "le thi hoa") == ["Lê Thị Hoà"]

    async def test_clearing_optional_fields(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        m = await make_member(
            session, org.a1, email="x@example.vn", phone="+84912345678", position="Đảng viên"
        )
        r = await client.patch(
            f"{URL}/{m.id}",
            json={"email": None, "phone": None, "position": None},
            headers=org.headers("admin"),
        )
        assert r.status_code == 200, r.text
        assert (r.json()["email"], r.json()["phone"], r.json()["position"]) == (None, None, None)

    @pytest.mark.parametrize("field", ["full_name", "unit_id", "membership", "status", "is_leader"])
    async def test_null_required_field_is_422(
        self, client: httpx.AsyncClient, org: Org, field: str
    ) -> None:
        r = await client.patch(
            f"{URL}/{org.me.id}", json={field: None}, headers=org.headers("admin")
        )
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body", field]
        assert (await fetch(Member, org.me.id)).version == 1

    async def test_empty_patch_changes_nothing(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.patch(f"{URL}/{org.me.id}", json={}, headers=org.headers("admin"))
        assert r.status_code == 200
        assert r.json()["version"] == 1
        assert await audit_actions(org.me.id) == []

    async def test_stale_if_match_is_412(self, client: httpx.AsyncClient, org: Org) -> None:
        headers = {**org.headers("manager_a"), "If-Match": '"1"'}
        assert (
            await client.patch(f"{URL}/{org.me.id}", json={"position": "A"}, headers=headers)
        ).status_code == 200
        r = await client.patch(f"{URL}/{org.me.id}", json={"position": "B"}, headers=headers)
        assert_problem(r, 412, "version_mismatch")
        row = await fetch(Member, org.me.id)
        assert (row.position, row.version) == ("A", 2)

    async def test_move_to_another_unit_in_scope(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.patch(
            f"{URL}/{org.me.id}", json={"unit_id": str(org.a2.id)}, headers=org.headers("manager_a")
        )
        assert r.status_code == 200, r.text
        assert r.json()["unit_id"] == str(org.a2.id)
        r = await client.get(
            URL, params={"unit_id": str(org.a2.id)}, headers=org.headers("manager_a")
        )
        assert [m["id"] for m in r.json()["items"]] == [str(org.me.id)]

    async def test_admin_move_across_provinces_is_seen_by_both_managers(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.patch(
            f"{URL}/{org.me.id}", json={"unit_id": str(org.b1.id)}, headers=org.headers("admin")
        )
        assert r.status_code == 200, r.text
        params = {"entity_id": str(org.me.id)}
        seen_a = await client.get(
            "/api/v1/audit-events", params=params, headers=org.headers("manager_a")
        )
        seen_b = await client.get(
            "/api/v1/audit-events", params=params, headers=org.headers("manager_b")
        )
        assert [e["action"] for e in seen_a.json()["items"]] == ["member.transfer_out"]
        assert [e["action"] for e in seen_b.json()["items"]] == ["member.update"]
        assert seen_a.json()["items"][0]["changes"]["unit_id"] == [str(org.a1.id), str(org.b1.id)]

    async def test_move_out_of_scope_is_422(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.patch(
            f"{URL}/{org.me.id}", json={"unit_id": str(org.b1.id)}, headers=org.headers("manager_a")
        )
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body", "unit_id"]
        assert (await fetch(Member, org.me.id)).unit_id == org.a1.id

    async def test_duplicate_external_id_is_409(
        self, client: httpx.AsyncClient, org: Org, roster: dict[str, Member]
    ) -> None:
        r = await client.patch(
            f"{URL}/{org.me.id}",
            json={"external_id": roster["b1"].external_id},
            headers=org.headers("admin"),
        )
        assert_problem(r, 409, "duplicate")
        assert (await fetch(Member, org.me.id)).external_id == org.me.external_id

    async def test_own_external_id_is_not_a_duplicate(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.patch(
            f"{URL}/{org.me.id}",
            json={"external_id": org.me.external_id},
            headers=org.headers("admin"),
        )
        assert r.status_code == 200
        assert r.json()["version"] == 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"declaration": "declared"}, "declaration"),
            ({"declared_at": "2025-01-01T00:00:00Z"}, "declared_at"),
            ({"version": 5}, "version"),
            ({"status": "gone"}, "status"),
            ({"full_name": "y" * 201}, "full_name"),
            ({"email": "nope"}, "email"),
            ({"phone": "abc"}, "phone"),
            ({"is_leader": [1]}, "is_leader"),
        ],
    )
    async def test_bad_body_is_422(
        self, client: httpx.AsyncClient, org: Org, body: dict[str, Any], field: str
    ) -> None:
        r = await client.patch(f"{URL}/{org.me.id}", json=body, headers=org.headers("admin"))
        problem = assert_problem(r, 422, "validation_failed")
        assert any(e["loc"][:2] == ["body", field] for e in problem["errors"]), problem["errors"]
        row = await fetch(Member, org.me.id)
        assert (row.version, row.declaration) == (1, Declaration.not_declared)

    async def test_malformed_json_is_400(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.patch(
            f"{URL}/{org.me.id}",
            content=b"{'a': 1}",
            headers={**org.headers("admin"), "Content-Type": "application/json"},
        )
        assert_problem(r, 400, "invalid_json")

    async def test_deactivated_member_loses_their_login(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.patch(
            f"{URL}/{org.me.id}", json={"status": "removed"}, headers=org.headers("admin")
        )
        assert r.status_code == 200
        r = await client.get("/api/v1/me", headers=org.headers("member"))
        assert_problem(r, 401, "invalid_token")


class TestNoDeletion:
    async def test_members_are_never_deleted(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.delete(f"{URL}/{org.me.id}", headers=org.headers("admin"))
        assert_problem(r, 405, "method_not_allowed")
        assert await count_rows(Member) == 1


async def names_by_q(client: httpx.AsyncClient, org: Org, q: str) -> list[str]:
    return await names(client, org.headers("admin"), q=q)


class TestLeavingTheRosterEndsSessions:
    """Issue 14, finding 5: a member set to `transferred` and back to `active` got their
    old access and refresh tokens working again."""

    @pytest.mark.parametrize("away", ["transferred", "removed", "deceased"])
    async def test_old_tokens_stay_dead_after_reactivation(
        self, client: httpx.AsyncClient, org: Org, session: AsyncSession, away: str
    ) -> None:
        member = await make_member(session, org.a1, full_name="Đỗ Văn Hải")
        user = await make_user(session, member=member)
        await session.commit()
        login = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": user.username, "password": PASSWORD},
        )
        assert login.status_code == 200, login.text
        access = {"Authorization": f"Bearer {login.json()['access_token']}"}
        refresh = login.json()["refresh_token"]
        assert (await client.get("/api/v1/me", headers=access)).status_code == 200
        for status in (away, "active"):
            r = await client.patch(
                f"{URL}/{member.id}", json={"status": status}, headers=org.headers("manager_a")
            )
            assert_status(r, 200)
        assert_problem(await client.get("/api/v1/me", headers=access), 401, "invalid_token")
        r = await client.post(
            "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
        )
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_grant"
        # A new login works: the member is back.
        again = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": user.username, "password": PASSWORD},
        )
        assert again.status_code == 200, again.text

    async def test_active_to_exempt_keeps_the_session(
        self, client: httpx.AsyncClient, org: Org, session: AsyncSession
    ) -> None:
        member = await make_member(session, org.a1)
        headers = auth(await make_user(session, member=member))
        await session.commit()
        r = await client.patch(
            f"{URL}/{member.id}", json={"status": "exempt"}, headers=org.headers("manager_a")
        )
        assert_status(r, 200)
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
