"""/api/v1/me: the caller's own record, and the data-subject export (SPEC §5 Members)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.enums import MemberStatus, Role
from api.core.security import hash_password
from api.models import User
from tests.support.factories import PASSWORD, auth, make_member, make_user
from tests.support.problems import assert_problem
from tests.support.world import Org, build_org

URL = "/api/v1/me"


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


class TestGetMe:
    async def test_linked_member_gets_own_record_with_unit(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.get(URL, headers=org.headers("member"))
        assert r.status_code == 200, r.text
        me = r.json()
        assert me["id"] == str(org.me.id)
        assert me["full_name"] == "Lê Thị Hoa"
        assert me["unit_id"] == str(org.a1.id)
        assert me["unit"]["id"] == str(org.a1.id)
        assert me["unit"]["code"] == "A.1"
        assert me["unit"]["name"] == "Chi bộ A1"
        assert me["declaration"] == "not_declared"
        assert r.headers["etag"] == '"1"'

    async def test_user_with_grants_and_member_gets_the_member(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        leader = await make_member(session, org.a2, full_name="Trần Văn An", is_leader=True)
        user = await make_user(session, member=leader, grants=[(Role.manager, org.a)])
        r = await client.get(URL, headers=auth(user))
        assert r.status_code == 200, r.text
        assert (r.json()["id"], r.json()["unit"]["code"]) == (str(leader.id), "A.2")

    @pytest.mark.parametrize("role", ["admin", "manager_a", "reviewer_a", "partner_a", "analyst_a"])
    async def test_principal_without_member_is_404(
        self, client: httpx.AsyncClient, org: Org, role: str
    ) -> None:
        r = await client.get(URL, headers=org.headers(role))
        assert_problem(r, 404, "not_found")

    async def test_anonymous_is_401(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(URL)
        assert_problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")

    async def test_garbage_token_is_401(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(URL, headers={"Authorization": "Bearer abc.def.ghi"})
        assert_problem(r, 401, "invalid_token")

    async def test_reflects_updates_and_unit_moves(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.patch(
            f"/api/v1/members/{org.me.id}",
            json={"unit_id": str(org.a2.id), "position": "Bí thư"},
            headers=org.headers("manager_a"),
        )
        assert r.status_code == 200
        r = await client.get(URL, headers=org.headers("member"))
        assert (r.json()["unit"]["code"], r.json()["position"], r.json()["version"]) == (
            "A.2",
            "Bí thư",
            2,
        )
        assert r.headers["etag"] == '"2"'

    @pytest.mark.parametrize(
        "status", [MemberStatus.transferred, MemberStatus.removed, MemberStatus.deceased]
    )
    async def test_member_who_left_the_roster_is_401(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, status: MemberStatus
    ) -> None:
        org.me.status = status
        session.add(org.me)
        await session.commit()
        r = await client.get(URL, headers=org.headers("member"))
        assert_problem(r, 401, "invalid_token")

    async def test_exempt_member_still_reads_own_record(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        org.me.status = MemberStatus.exempt
        session.add(org.me)
        await session.commit()
        r = await client.get(URL, headers=org.headers("member"))
        assert r.status_code == 200
        assert r.json()["status"] == "exempt"


class TestExportMe:
    async def test_member_export_holds_everything_about_them(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        # A manager edits my record: that event is about me.
        r = await client.patch(
            f"/api/v1/members/{org.me.id}",
            json={"phone": "0912 345 678"},
            headers=org.headers("manager_a"),
        )
        assert r.status_code == 200
        r = await client.get(f"{URL}/export", headers=org.headers("member"))
        assert r.status_code == 200, r.text
        data = r.json()
        assert set(data) == {
            "exported_at",
            "member",
            "unit",
            "user",
            "grants",
            "audit_about_me",
            "audit_by_me",
            "audit_by_me_truncated",
            "accounts",
            "reports",
        }
        assert data["member"]["id"] == str(org.me.id)
        assert data["member"]["phone"] == "+84912345678"
        assert data["unit"]["id"] == str(org.a1.id)
        assert data["user"]["id"] == str(org.principals["member"].id)
        assert data["user"]["username"] == org.principals["member"].username
        assert set(data["user"]) == {"id", "username", "active", "created_at"}
        assert data["grants"] == []
        about = [(e["action"], e["entity_id"]) for e in data["audit_about_me"]]
        assert about == [("member.update", str(org.me.id))]
        assert data["audit_about_me"][0]["changes"] == {"phone": [None, "+84912345678"]}
        assert data["audit_about_me"][0]["actor_id"] == str(org.principals["manager_a"].id)
        assert data["audit_by_me"] == []
        assert data["audit_by_me_truncated"] is False
        assert data["exported_at"].endswith(("Z", "+00:00"))

    async def test_export_never_contains_secrets(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        """A user created (and given a new password) through the API: the audit trail about
        them is in the export, the password and its hash are not."""
        member = await make_member(session, org.a2, full_name="Phạm Thị Lan")
        body = {
            "username": "lan.pt",
            "password": "a-long-passphrase-1",
            "member_id": str(member.id),
            "grants": [],
        }
        r = await client.post("/api/v1/users", json=body, headers=org.headers("admin"))
        assert r.status_code == 201, r.text
        user_id = r.json()["id"]
        r = await client.patch(
            f"/api/v1/users/{user_id}",
            json={"password": "another-passphrase-2"},
            headers=org.headers("admin"),
        )
        assert r.status_code == 200, r.text
        user = await session.get(User, uuid.UUID(user_id))
        assert user is not None
        r = await client.get(f"{URL}/export", headers=auth(user))
        assert r.status_code == 200, r.text
        text = r.text
        assert "argon2" not in text
        assert "password_hash" not in text
        assert "secret_hash" not in text
        assert "a-long-passphrase-1" not in text
        assert "another-passphrase-2" not in text
        assert user.password_hash not in text
        actions = [e["action"] for e in r.json()["audit_about_me"]]
        assert actions[:2] == ["user.create", "user.update"]
        assert r.json()["member"]["id"] == str(member.id)

    async def test_manager_export_has_grants_and_actions_by_them(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        for position in ("Một", "Hai", "Ba"):
            r = await client.patch(
                f"/api/v1/members/{org.me.id}",
                json={"position": position},
                headers=org.headers("manager_a"),
            )
            assert r.status_code == 200
        r = await client.get(f"{URL}/export", headers=org.headers("manager_a"))
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["member"] is None
        assert data["unit"] is None
        assert data["user"]["id"] == str(org.principals["manager_a"].id)
        assert data["grants"] == [{"role": "manager", "unit_id": str(org.a.id)}]
        assert data["audit_about_me"] == []
        # Newest first.
        assert [e["changes"]["position"][1] for e in data["audit_by_me"]] == ["Ba", "Hai", "Một"]
        assert {e["entity_id"] for e in data["audit_by_me"]} == {str(org.me.id)}
        assert data["audit_by_me_truncated"] is False

    async def test_admin_export(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(f"{URL}/export", headers=org.headers("admin"))
        assert r.status_code == 200
        assert r.json()["grants"] == [{"role": "admin", "unit_id": None}]
        assert r.json()["member"] is None

    async def test_client_export_has_no_user(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(f"{URL}/export", headers=org.headers("partner_a"))
        assert r.status_code == 200, r.text
        data = r.json()
        assert (data["member"], data["unit"], data["user"], data["grants"]) == (
            None,
            None,
            None,
            [],
        )
        assert "secret" not in r.text

    async def test_anonymous_is_401(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(f"{URL}/export")
        assert_problem(r, 401, "unauthorized")

    async def test_export_of_another_member_is_not_possible(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        """The export is always the caller's: no parameter can point it at someone else."""
        other = await make_member(session, org.a1, full_name="Đinh Văn Tài")
        r = await client.get(
            f"{URL}/export", params={"member_id": str(other.id)}, headers=org.headers("member")
        )
        assert r.status_code == 200
        assert r.json()["member"]["id"] == str(org.me.id)
        assert "Đinh Văn Tài" not in r.text


async def test_password_hash_fixture_is_argon2() -> None:
    """Guards the export assertions above: the stored hashes really are argon2 strings."""
    assert hash_password(PASSWORD).startswith("$argon2")


class TestMyReports:
    BODY = {  # noqa: RUF012
        "url": "https://tin-gia.com.vn/bai-viet-1",
        "category": "fake_news",
        "description": "Tin bịa đặt",
        "proposed_action": "refute",
    }

    async def _file(self, client: httpx.AsyncClient, org: Org, role: str, n: int) -> str:
        body = dict(self.BODY, url=f"https://tin-gia.com.vn/bai-viet-{n}")
        r = await client.post("/api/v1/reports", json=body, headers=org.headers(role))
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def test_me_lists_own_reports_newest_first_with_reporter(
        self, client: httpx.AsyncClient, org: Org, session: AsyncSession
    ) -> None:
        first = await self._file(client, org, "member", 1)
        second = await self._file(client, org, "member", 2)
        other = await make_member(session, org.a1, full_name="Trần Văn Bảo")
        other_user = await make_user(session, member=other)
        r = await client.post(
            "/api/v1/reports",
            json=dict(self.BODY, url="https://tin-gia.com.vn/khac"),
            headers=auth(other_user),
        )
        assert r.status_code == 201, r.text
        r = await client.get(URL, headers=org.headers("member"))
        assert r.status_code == 200, r.text
        reports = r.json()["reports"]
        assert [x["id"] for x in reports] == [second, first]
        assert {x["reporter_member_id"] for x in reports} == {str(org.me.id)}

    async def test_me_caps_reports_and_export_has_all(
        self, client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "report_rate_limit", 100)
        ids = [await self._file(client, org, "member", n) for n in range(22)]
        r = await client.get(URL, headers=org.headers("member"))
        assert [x["id"] for x in r.json()["reports"]] == ids[::-1][:20]
        r = await client.get(f"{URL}/export", headers=org.headers("member"))
        assert r.status_code == 200, r.text
        assert sorted(x["id"] for x in r.json()["reports"]) == sorted(ids)

    async def test_export_without_member_has_no_reports(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.get(f"{URL}/export", headers=org.headers("admin"))
        assert r.status_code == 200, r.text
        assert r.json()["reports"] == []


class TestMyPendingDocuments:
    async def _publish(
        self, client: httpx.AsyncClient, org: Org, unit_id: uuid.UUID, code: str
    ) -> str:
        body = {
            "code": code,
            "title": "Hướng dẫn thực hiện",
            "doc_type": "guidance",
            "issuer": "Ban Tuyên giáo",
            "issued_on": "2026-11-01",
            "body": "Nội dung",
            "audience_unit_id": str(unit_id),
        }
        r = await client.post("/api/v1/documents", json=body, headers=org.headers("manager_a"))
        assert r.status_code == 201, r.text
        doc_id = str(r.json()["id"])
        r = await client.post(
            f"/api/v1/documents/{doc_id}/publish", headers=org.headers("manager_a")
        )
        assert r.status_code == 200, r.text
        return doc_id

    async def test_pending_until_acknowledged(self, client: httpx.AsyncClient, org: Org) -> None:
        addressed = await self._publish(client, org, org.a.id, "01-HD/A")
        await self._publish(client, org, org.a2.id, "02-HD/A2")  # not addressed to A1
        r = await client.get(URL, headers=org.headers("member"))
        assert r.status_code == 200, r.text
        pending = r.json()["pending_documents"]
        assert [d["id"] for d in pending] == [addressed]
        assert pending[0]["ack_state"] == "pending"
        r = await client.post(
            f"/api/v1/documents/{addressed}/acknowledgements", headers=org.headers("member")
        )
        assert r.status_code == 201, r.text
        r = await client.get(URL, headers=org.headers("member"))
        assert r.json()["pending_documents"] == []
