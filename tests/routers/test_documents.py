"""Guidance documents (SPEC §5 "Guidance documents"): the role × scope matrix of every
route, visibility (drafts, ancestors' audiences, the manager-and-member union), CRUD with
its validation, publish/archive, revisions, If-Match, the attached file, list filters and
pagination, audit and the demo seed. Acknowledgements: test_documents_acks.py."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.enums import DocumentStatus, Role
from api.models import AuditEvent, Document, DocumentAcknowledgement, DocumentRevision, Unit
from tests.support.factories import auth, make_document, make_member, make_unit, make_user
from tests.support.problems import assert_problem, assert_status
from tests.support.reads import audit_actions, count_rows, fetch, walk
from tests.support.world import ROLES, Org, build_org

DOCS = "/api/v1/documents"
DS = DocumentStatus
PDF_BYTES = b"%PDF-1.7\n" + b"1 0 obj << >> endobj\n" * 50 + b"%%EOF\n"


def docx_bytes() -> bytes:
    """The same bytes at every call: entries get a fixed time (`writestr` with a name
    stamps the current time, so two calls across a 2-second boundary differed)."""
    buffer = io.BytesIO()
    stamp = (2026, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", stamp), "<Types/>")
        archive.writestr(zipfile.ZipInfo("word/document.xml", stamp), "<w:document/>")
    return buffer.getvalue()


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def doc_url(doc_id: Any, tail: str = "") -> str:
    return f"{DOCS}/{doc_id}{tail}"


def new_doc(audience: Unit, **extra: Any) -> dict[str, Any]:
    body = {
        "code": "12-HD/TU",
        "title": "Hướng dẫn quán triệt",
        "doc_type": "guidance",
        "issuer": "Ban Tuyên giáo Tỉnh ủy",
        "issued_on": "2024-05-02",
        "summary": "Tóm tắt",
        "body": "## Nội dung\n\nĐọc kỹ.",
        "audience_unit_id": str(audience.id),
    }
    body.update(extra)
    return body


def upload(data: bytes, name: str = "quy-dinh.pdf", ctype: str = "application/pdf") -> Any:
    return {"file": (name, data, ctype)}


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


async def writes() -> tuple[int, ...]:
    """Rows a refused request must not add: documents by status, revisions, acks, audit."""
    return (
        await count_rows(Document),
        await count_rows(Document, Document.status == DS.published),
        await count_rows(Document, Document.status == DS.archived),
        await count_rows(DocumentRevision),
        await count_rows(DocumentAcknowledgement),
        await count_rows(AuditEvent),
    )


# ---------------------------------------------------------------------------------------
# Role × scope matrix
# ---------------------------------------------------------------------------------------

OK = 0
# Documents addressed to A (the member's ancestor), A1 (the member's own unit), A2 (in
# manager_a's scope, not addressed to the member) and R (the root: above manager_a).
TARGETS = ("a", "a1", "a2", "root")
READ = {
    "admin": (OK, OK, OK, OK),
    "manager_a": (OK, OK, OK, OK),
    "manager_b": (404, 404, 404, OK),
    "reviewer_a": (404, 404, 404, 404),
    "member": (OK, OK, 404, OK),
    "partner_a": (404, 404, 404, 404),
    "analyst_a": (404, 404, 404, 404),
    "anon": (401, 401, 401, 401),
}
READ_DRAFT = {
    **READ,
    "manager_a": (OK, OK, OK, 404),
    "manager_b": (404, 404, 404, 404),
    "member": (404, 404, 404, 404),
}
MANAGE = {
    **READ,
    "manager_a": (OK, OK, OK, 403),
    "manager_b": (404, 404, 404, 403),
    "member": (403, 403, 404, 403),
}
ACK = {
    **READ,
    "admin": (403, 403, 403, 403),  # no member record
    "manager_a": (403, 403, 403, 403),
    "manager_b": (404, 404, 404, 403),
}
ACK_LIST = {**READ, "member": (403, 403, 404, 403)}
# name -> (method, tail, document status, with a file, body kind, matrix, success status)
ROUTES: dict[str, tuple[str, str, DocumentStatus, bool, str | None, dict[str, Any], int]] = {
    "get": ("GET", "", DS.published, False, None, READ, 200),
    "get_draft": ("GET", "", DS.draft, False, None, READ_DRAFT, 200),
    "update": ("PATCH", "", DS.published, False, "json", MANAGE, 200),
    "delete": ("DELETE", "", DS.draft, False, None, READ_DRAFT, 204),
    "publish": ("POST", "/publish", DS.draft, False, None, READ_DRAFT, 200),
    "archive": ("POST", "/archive", DS.published, False, None, MANAGE, 200),
    "upload_file": ("PUT", "/file", DS.published, False, "file", MANAGE, 200),
    "download_file": ("GET", "/file", DS.published, True, None, READ, 200),
    "delete_file": ("DELETE", "/file", DS.published, True, None, MANAGE, 200),
    "list_revisions": ("GET", "/revisions", DS.published, False, None, READ, 200),
    "acknowledge": ("POST", "/acknowledgements", DS.published, False, "json", ACK, 201),
    "list_acknowledgements": ("GET", "/acknowledgements", DS.published, False, None, ACK_LIST, 200),
}


def target_unit(org: Org, target: str) -> Unit:
    return {"a": org.a, "a1": org.a1, "a2": org.a2, "root": org.root}[target]


class TestRoleMatrix:
    @pytest.mark.parametrize("role", ROLES)
    @pytest.mark.parametrize("route", list(ROUTES))
    async def test_route(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, route: str, role: str
    ) -> None:
        method, tail, status, with_file, body_kind, matrix, success = ROUTES[route]
        for target, expected in zip(TARGETS, matrix[role], strict=True):
            doc = await make_document(
                session,
                target_unit(org, target),
                status=status,
                file=PDF_BYTES if with_file else None,
            )
            kwargs: dict[str, Any] = {"headers": org.headers(role)}
            if body_kind == "json":
                kwargs["json"] = {"ack_due_at": "2030-01-01T00:00:00Z"} if route == "update" else {}
            elif body_kind == "file":
                kwargs["files"] = upload(docx_bytes(), "moi.docx")
            before = await writes()
            r = await client.request(method, doc_url(doc.id, tail), **kwargs)
            where = f"{route} by {role} on {target}"
            if expected != OK:
                assert_status(r, expected)
                assert await writes() == before, where
                assert (await fetch(Document, doc.id)).version == doc.version, where
                continue
            assert r.status_code == success, f"{where}: {r.text}"
            after = await fetch(Document, doc.id)
            if route in ("get", "get_draft"):
                assert r.json()["id"] == str(doc.id), where
                assert r.headers["etag"] == f'"{doc.version}"'
            elif route == "update":
                assert after.ack_due_at.year == 2030, where
                assert after.revision == 1, where  # metadata: no new revision
            elif route == "delete":
                assert after is None, where
            elif route == "publish":
                assert after.status is DS.published, where
                assert (
                    await count_rows(DocumentRevision, DocumentRevision.document_id == doc.id) == 1
                )
            elif route == "archive":
                assert after.status is DS.archived, where
            elif route == "upload_file":
                assert r.json()["file"]["content_type"].endswith("wordprocessingml.document")
                assert after.revision == 2, where
            elif route == "download_file":
                assert r.content == PDF_BYTES, where
            elif route == "delete_file":
                assert r.json()["file"] is None, where
                assert after.file_sha256 is None, where
                assert after.revision == 2, where
            elif route == "list_revisions":
                assert [i["revision"] for i in r.json()["items"]] == [1], where
            elif route == "acknowledge":
                assert r.json()["member_id"] == str(org.me.id), where
                assert await count_rows(DocumentAcknowledgement) == before[4] + 1
            elif route == "list_acknowledgements":
                assert "items" in r.json(), where
            if method != "GET":
                assert await count_rows(AuditEvent) > before[5], where

    @pytest.mark.parametrize(
        ("role", "expected"),
        [
            ("admin", 201),
            ("manager_a", 201),
            ("manager_b", 422),
            ("reviewer_a", 403),
            ("member", 403),
            ("partner_a", 403),
            ("analyst_a", 403),
            ("anon", 401),
        ],
    )
    async def test_create(
        self, client: httpx.AsyncClient, org: Org, role: str, expected: int
    ) -> None:
        for audience in (org.a, org.a1):
            r = await client.post(DOCS, json=new_doc(audience), headers=org.headers(role))
            if expected != 201:
                assert_status(r, expected)
                assert await count_rows(Document) == 0
                continue
            assert r.status_code == 201, r.text
            data = r.json()
            assert r.headers["location"] == f"{DOCS}/{data['id']}"
            assert r.headers["etag"] == '"1"'
            assert (data["status"], data["revision"], data["audience_unit_id"]) == (
                "draft",
                1,
                str(audience.id),
            )

    @pytest.mark.parametrize(
        ("role", "expected"),
        [
            ("admin", {"a", "a1", "a2", "root", "b", "a_draft", "root_draft"}),
            ("manager_a", {"a", "a1", "a2", "root", "a_draft"}),
            ("manager_b", {"root", "b"}),
            ("member", {"a", "a1", "root"}),
            ("reviewer_a", 403),
            ("partner_a", 403),
            ("analyst_a", 403),
            ("anon", 401),
        ],
    )
    async def test_list(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        role: str,
        expected: set[str] | int,
    ) -> None:
        units = {"a": org.a, "a1": org.a1, "a2": org.a2, "root": org.root, "b": org.b}
        ids = {k: str((await make_document(session, u)).id) for k, u in units.items()}
        ids["a_draft"] = str((await make_document(session, org.a, status=DS.draft)).id)
        ids["root_draft"] = str((await make_document(session, org.root, status=DS.draft)).id)
        ids["a_archived"] = str((await make_document(session, org.a, status=DS.archived)).id)
        r = await client.get(DOCS, headers=org.headers(role))
        if isinstance(expected, int):
            assert_status(r, expected)
            return
        assert r.status_code == 200, r.text
        assert {d["id"] for d in r.json()["items"]} == {ids[k] for k in expected}

    async def test_unknown_or_malformed_id_is_404(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        for url in (doc_url(uuid.uuid4()), doc_url("not-a-uuid"), doc_url(uuid.uuid4(), "/file")):
            assert_problem(await client.get(url, headers=org.headers("admin")), 404, "not_found")


# ---------------------------------------------------------------------------------------
# Visibility
# ---------------------------------------------------------------------------------------


class TestVisibility:
    async def test_a_draft_is_invisible_to_members(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        draft = await make_document(session, org.a1, status=DS.draft)
        h = org.headers("member")
        for tail in ("", "/revisions", "/acknowledgements"):
            assert_problem(await client.get(doc_url(draft.id, tail), headers=h), 404, "not_found")
        r = await client.post(doc_url(draft.id, "/acknowledgements"), json={}, headers=h)
        assert_problem(r, 404, "not_found")
        assert (await client.get(DOCS, headers=h)).json()["items"] == []
        r = await client.get(DOCS, params={"status": "draft"}, headers=h)
        assert r.json()["items"] == []
        # Once published, the member sees it and is asked to acknowledge it.
        r = await client.post(doc_url(draft.id, "/publish"), headers=org.headers("manager_a"))
        assert r.status_code == 200, r.text
        r = await client.get(doc_url(draft.id), headers=h)
        assert r.status_code == 200
        assert (r.json()["ack_state"], r.json()["acknowledged_at"]) == ("pending", None)

    async def test_archived_documents_are_readable_but_listed_only_on_request(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        archived = await make_document(session, org.a1, status=DS.archived)
        h = org.headers("member")
        r = await client.get(doc_url(archived.id), headers=h)
        assert r.status_code == 200
        assert (r.json()["status"], r.json()["ack_state"]) == ("archived", None)
        assert (await client.get(DOCS, headers=h)).json()["items"] == []
        r = await client.get(DOCS, params={"status": "archived"}, headers=h)
        assert [d["id"] for d in r.json()["items"]] == [str(archived.id)]

    async def test_a_manager_who_is_a_member_sees_the_union(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        """manager_b's own member record is in A1: B's drafts (as manager) plus what is
        published to A1 (as member), never A's drafts."""
        member = await make_member(session, org.a1, full_name="Đinh Văn Kiên")
        user = await make_user(session, grants=[(Role.manager, org.b)], member=member)
        h = auth(user)
        docs = {
            "b_draft": await make_document(session, org.b, status=DS.draft),
            "b1": await make_document(session, org.b1),
            "a1": await make_document(session, org.a1),
            "a_draft": await make_document(session, org.a, status=DS.draft),
            "a2": await make_document(session, org.a2),
        }
        r = await client.get(DOCS, headers=h)
        assert {d["id"] for d in r.json()["items"]} == {
            str(docs[k].id) for k in ("b_draft", "b1", "a1")
        }
        states = {d["id"]: d["ack_state"] for d in r.json()["items"]}
        assert states == {
            str(docs["b_draft"].id): None,
            str(docs["b1"].id): None,
            str(docs["a1"].id): "pending",
        }
        assert_problem(await client.get(doc_url(docs["a_draft"].id), headers=h), 404, "not_found")
        # As a member they acknowledge A1's document, not B1's (not addressed to them).
        r = await client.post(doc_url(docs["a1"].id, "/acknowledgements"), headers=h)
        assert r.status_code == 201, r.text
        r = await client.post(doc_url(docs["b1"].id, "/acknowledgements"), headers=h)
        assert_problem(r, 404, "not_found")
        # As a member they cannot edit what is addressed to them.
        r = await client.patch(doc_url(docs["a1"].id), json={"issuer": "x"}, headers=h)
        assert_problem(r, 403, "forbidden")

    async def test_visibility_follows_the_members_unit(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc_b = await make_document(session, org.b1)
        h = org.headers("member")
        assert_problem(await client.get(doc_url(doc_b.id), headers=h), 404, "not_found")
        r = await client.patch(
            f"/api/v1/members/{org.me.id}",
            json={"unit_id": str(org.b1.id)},
            headers=org.headers("admin"),
        )
        assert r.status_code == 200, r.text
        assert (await client.get(doc_url(doc_b.id), headers=h)).status_code == 200


# ---------------------------------------------------------------------------------------
# Create: validation
# ---------------------------------------------------------------------------------------


class TestCreate:
    async def test_created_draft_as_read(self, client: httpx.AsyncClient, org: Org) -> None:
        body = new_doc(
            org.a, code="85-QÐ/TW", title="Quy  đi\u0323nh ", ack_due_at="2026-12-31T23:00:00+07:00"
        )
        r = await client.post(DOCS, json=body, headers=org.headers("manager_a"))
        assert r.status_code == 201, r.text
        data = r.json()
        assert data["code"] == "85-QĐ/TW"  # the look-alike Ð becomes Đ
        assert data["title"] == "Quy định"  # NFC, whitespace collapsed
        assert data["ack_due_at"] == "2026-12-31T16:00:00Z"
        assert data["body"] == "## Nội dung\n\nĐọc kỹ."
        assert (data["has_body"], data["file"], data["requires_ack"]) == (True, None, True)
        assert (data["ack_state"], data["acknowledged_at"], data["version"]) == (None, None, 1)
        assert data["created_by_id"] == str(org.principals["manager_a"].id)
        assert (data["published_at"], data["archived_at"]) == (None, None)

    async def test_without_body_or_summary(self, client: httpx.AsyncClient, org: Org) -> None:
        body = new_doc(org.a)
        del body["body"], body["summary"]
        r = await client.post(DOCS, json=body, headers=org.headers("manager_a"))
        assert r.status_code == 201, r.text
        assert (r.json()["body"], r.json()["has_body"], r.json()["summary"]) == (None, False, None)

    @pytest.mark.parametrize(
        ("change", "loc"),
        [
            ({"doc_type": "memo"}, "doc_type"),
            ({"code": "x" * 65}, "code"),
            ({"code": "  "}, "code"),
            ({"title": "t" * 501}, "title"),
            ({"title": "a\x00b"}, "title"),
            ({"issuer": "i" * 201}, "issuer"),
            ({"summary": "s" * 4001}, "summary"),
            ({"body": "b" * 100_001}, "body"),
            ({"body": "bad \x07 bell"}, "body"),
            ({"ack_due_at": "2026-12-31T17:00:00"}, "ack_due_at"),  # naive
            ({"ack_due_at": "tomorrow"}, "ack_due_at"),
            ({"issued_on": "2024-13-01"}, "issued_on"),
            ({"requires_ack": "perhaps"}, "requires_ack"),
            ({"audience_unit_id": "not-a-uuid"}, "audience_unit_id"),
            ({"status": "published"}, "status"),  # no mass assignment
            ({"revision": 7}, "revision"),
        ],
    )
    async def test_bad_field_is_422(
        self, client: httpx.AsyncClient, org: Org, change: dict[str, Any], loc: str
    ) -> None:
        r = await client.post(DOCS, json=new_doc(org.a, **change), headers=org.headers("admin"))
        body = assert_problem(r, 422, "validation_failed")
        assert ["body", loc] in [e["loc"][:2] for e in body["errors"]], body
        assert await count_rows(Document) == 0

    @pytest.mark.parametrize(
        "missing", ["code", "title", "doc_type", "issuer", "issued_on", "audience_unit_id"]
    )
    async def test_missing_field_is_422(
        self, client: httpx.AsyncClient, org: Org, missing: str
    ) -> None:
        body = new_doc(org.a)
        del body[missing]
        r = await client.post(DOCS, json=body, headers=org.headers("admin"))
        problem = assert_problem(r, 422, "validation_failed")
        assert [e["loc"] for e in problem["errors"]] == [["body", missing]]

    async def test_long_vietnamese_body_fits(self, client: httpx.AsyncClient, org: Org) -> None:
        """100,000 Vietnamese letters stay under the 1 MB JSON limit even escaped."""
        r = await client.post(
            DOCS, json=new_doc(org.a, body="ệ" * 100_000), headers=org.headers("admin")
        )
        assert r.status_code == 201, r.text[:300]

    async def test_audience_outside_scope_or_unknown_is_422(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        h = org.headers("manager_a")
        for audience in (org.b1.id, org.root.id, uuid.uuid4()):
            body = new_doc(org.a, audience_unit_id=str(audience))
            problem = assert_problem(
                await client.post(DOCS, json=body, headers=h), 422, "validation_failed"
            )
            assert problem["errors"][0]["loc"] == ["body", "audience_unit_id"]
        assert await count_rows(Document) == 0

    async def test_dissolved_audience_is_409(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        from api.core.enums import UnitStatus

        gone = await make_unit(session, org.a, status=UnitStatus.dissolved)
        r = await client.post(DOCS, json=new_doc(gone), headers=org.headers("manager_a"))
        assert_problem(r, 409, "unit_dissolved")

    async def test_malformed_json_is_400(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.post(
            DOCS,
            content=b'{"code": ',
            headers={**org.headers("admin"), "Content-Type": "application/json"},
        )
        assert_problem(r, 400, "invalid_json")

    async def test_idempotency_key(self, client: httpx.AsyncClient, org: Org) -> None:
        h = {**org.headers("manager_a"), "Idempotency-Key": "doc-1"}
        first = await client.post(DOCS, json=new_doc(org.a), headers=h)
        again = await client.post(DOCS, json=new_doc(org.a), headers=h)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert await count_rows(Document) == 1
        r = await client.post(DOCS, json=new_doc(org.a, title="Khác"), headers=h)
        assert_problem(r, 422, "idempotency_key_mismatch")


# ---------------------------------------------------------------------------------------
# Update, revisions, If-Match
# ---------------------------------------------------------------------------------------


async def revisions(client: httpx.AsyncClient, org: Org, doc_id: Any) -> list[dict[str, Any]]:
    r = await client.get(doc_url(doc_id, "/revisions"), headers=org.headers("member"))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


class TestUpdate:
    async def test_a_draft_is_edited_in_place(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a, status=DS.draft)
        h = org.headers("manager_a")
        for change in ({"body": "Bản 2"}, {"title": "Tiêu đề mới", "summary": "Mới"}):
            r = await client.patch(doc_url(doc.id), json=change, headers=h)
            assert r.status_code == 200, r.text
            assert r.json()["revision"] == 1
        after = await fetch(Document, doc.id)
        assert (after.body, after.title, after.revision, after.version) == (
            "Bản 2",
            "Tiêu đề mới",
            1,
            3,
        )
        assert await count_rows(DocumentRevision) == 0
        r = await client.get(doc_url(doc.id, "/revisions"), headers=h)
        assert r.json() == {"items": [], "next_cursor": None}

    @pytest.mark.parametrize("field", ["body", "title", "summary"])
    async def test_content_of_a_published_document_makes_a_revision(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, field: str
    ) -> None:
        doc = await make_document(session, org.a, body="Bản đầu", summary="Tóm tắt đầu")
        r = await client.patch(
            doc_url(doc.id), json={field: "Nội dung mới"}, headers=org.headers("manager_a")
        )
        assert r.status_code == 200, r.text
        assert (r.json()["revision"], r.json()[field]) == (2, "Nội dung mới")
        history = await revisions(client, org, doc.id)
        assert [h["revision"] for h in history] == [2, 1]
        assert history[0][field] == "Nội dung mới"
        assert (
            history[1][field]
            == {"body": "Bản đầu", "summary": "Tóm tắt đầu", "title": doc.title}[field]
        )
        assert history[0]["created_by_id"] == str(org.principals["manager_a"].id)
        assert await audit_actions(doc.id) == ["document.update"]

    @pytest.mark.parametrize(
        "change",
        [
            {"ack_due_at": "2030-01-01T00:00:00Z"},
            {"requires_ack": False},
            {"issuer": "Ban khác"},
            {"code": "2-KH/TU"},
            {"doc_type": "plan"},
            {"issued_on": "2024-02-02"},
        ],
    )
    async def test_metadata_changes_in_place(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, change: dict[str, Any]
    ) -> None:
        doc = await make_document(session, org.a)
        r = await client.patch(doc_url(doc.id), json=change, headers=org.headers("manager_a"))
        assert r.status_code == 200, r.text
        assert r.json()["revision"] == 1
        assert await count_rows(DocumentRevision, DocumentRevision.document_id == doc.id) == 1
        assert await audit_actions(doc.id) == ["document.update"]

    async def test_moving_the_audience(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a1)
        h = org.headers("manager_a")
        r = await client.patch(
            doc_url(doc.id), json={"audience_unit_id": str(org.a2.id)}, headers=h
        )
        assert (r.status_code, r.json()["revision"]) == (200, 1)
        assert_problem(
            await client.get(doc_url(doc.id), headers=org.headers("member")), 404, "not_found"
        )
        r = await client.patch(doc_url(doc.id), json={"audience_unit_id": str(org.b.id)}, headers=h)
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body", "audience_unit_id"]

    async def test_no_change_writes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a, body="Giữ nguyên")
        r = await client.patch(
            doc_url(doc.id),
            json={"body": "Giữ nguyên", "issuer": doc.issuer},
            headers=org.headers("manager_a"),
        )
        assert r.status_code == 200
        assert (r.json()["version"], r.json()["revision"]) == (1, 1)
        assert await audit_actions(doc.id) == []

    @pytest.mark.parametrize(
        "field",
        ["code", "title", "doc_type", "issuer", "issued_on", "audience_unit_id", "requires_ack"],
    )
    async def test_null_for_a_required_field_is_422(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, field: str
    ) -> None:
        doc = await make_document(session, org.a)
        r = await client.patch(doc_url(doc.id), json={field: None}, headers=org.headers("admin"))
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["body", field]

    @pytest.mark.parametrize(
        "change",
        [
            {"title": ""},
            {"body": "x" * 100_001},
            {"ack_due_at": "2030-01-01T00:00:00"},
            {"doc_type": "memo"},
            {"status": "archived"},
            {"revision": 3},
        ],
    )
    async def test_bad_patch_is_422(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, change: dict[str, Any]
    ) -> None:
        doc = await make_document(session, org.a)
        r = await client.patch(doc_url(doc.id), json=change, headers=org.headers("admin"))
        assert_problem(r, 422, "validation_failed")
        assert (await fetch(Document, doc.id)).version == 1

    async def test_a_published_document_keeps_a_body_or_a_file(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a)
        h = org.headers("admin")
        assert_problem(
            await client.patch(doc_url(doc.id), json={"body": None}, headers=h),
            422,
            "validation_failed",
        )
        with_file = await make_document(session, org.a, file=PDF_BYTES)
        r = await client.patch(doc_url(with_file.id), json={"body": None}, headers=h)
        assert (r.status_code, r.json()["revision"], r.json()["has_body"]) == (200, 2, False)
        r = await client.delete(doc_url(with_file.id, "/file"), headers=h)
        assert_problem(r, 422, "validation_failed")

    async def test_archived_documents_are_read_only(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a, status=DS.archived, file=PDF_BYTES)
        h = org.headers("admin")
        before = await writes()
        calls = [
            client.patch(doc_url(doc.id), json={"title": "Mới"}, headers=h),
            client.put(doc_url(doc.id, "/file"), files=upload(PDF_BYTES + b"x"), headers=h),
            client.delete(doc_url(doc.id, "/file"), headers=h),
        ]
        for call in calls:
            assert_problem(await call, 409, "conflict")
        assert await writes() == before


class TestIfMatch:
    @pytest.mark.parametrize(
        ("method", "tail", "status", "json"),
        [
            ("PATCH", "", DS.published, {"issuer": "Ban mới"}),
            ("POST", "/publish", DS.draft, None),
            ("POST", "/archive", DS.published, None),
            ("DELETE", "", DS.draft, None),
            ("DELETE", "/file", DS.published, None),
        ],
    )
    async def test_stale_then_current(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        method: str,
        tail: str,
        status: DocumentStatus,
        json: Any,
    ) -> None:
        doc = await make_document(session, org.a, status=status, file=PDF_BYTES)
        h = org.headers("manager_a")
        for stale in ('"0"', '"2"', 'W/"9"', "garbage", '"abc"'):
            r = await client.request(
                method, doc_url(doc.id, tail), json=json, headers={**h, "If-Match": stale}
            )
            assert_problem(r, 412, "version_mismatch")
        assert (await fetch(Document, doc.id)).version == 1
        r = await client.request(
            method, doc_url(doc.id, tail), json=json, headers={**h, "If-Match": 'W/"1"'}
        )
        assert r.status_code in (200, 204), r.text
        if r.status_code == 200:
            assert r.headers["etag"] == '"2"' == f'"{r.json()["version"]}"'

    async def test_upload_honours_if_match(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a, status=DS.draft)
        h = org.headers("manager_a")
        r = await client.put(
            doc_url(doc.id, "/file"), files=upload(PDF_BYTES), headers={**h, "If-Match": '"7"'}
        )
        assert_problem(r, 412, "version_mismatch")
        r = await client.put(
            doc_url(doc.id, "/file"), files=upload(PDF_BYTES), headers={**h, "If-Match": '"1"'}
        )
        assert (r.status_code, r.headers["etag"]) == (200, '"2"')


# ---------------------------------------------------------------------------------------
# publish / archive / delete
# ---------------------------------------------------------------------------------------


class TestTransitions:
    async def test_publish_records_revision_one(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a, status=DS.draft, body="Nội dung")
        r = await client.post(doc_url(doc.id, "/publish"), headers=org.headers("manager_a"))
        assert r.status_code == 200, r.text
        data = r.json()
        assert (data["status"], data["revision"]) == ("published", 1)
        assert data["published_at"] is not None
        [rev] = await revisions(client, org, doc.id)
        assert (rev["revision"], rev["body"], rev["title"]) == (1, "Nội dung", doc.title)

    async def test_publishing_needs_a_body_or_a_file(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        empty = await make_document(session, org.a, status=DS.draft, body=None)
        h = org.headers("manager_a")
        r = await client.post(doc_url(empty.id, "/publish"), headers=h)
        assert_problem(r, 422, "validation_failed")
        assert (await fetch(Document, empty.id)).status is DS.draft
        r = await client.put(doc_url(empty.id, "/file"), files=upload(PDF_BYTES), headers=h)
        assert r.status_code == 200, r.text
        r = await client.post(doc_url(empty.id, "/publish"), headers=h)
        assert r.status_code == 200, r.text
        [rev] = await revisions(client, org, empty.id)
        assert (rev["body"], rev["file"]["content_type"]) == (None, "application/pdf")

    @pytest.mark.parametrize(
        ("tail", "status"),
        [
            ("/publish", DS.published),
            ("/publish", DS.archived),
            ("/archive", DS.draft),
            ("/archive", DS.archived),
        ],
    )
    async def test_invalid_transition_is_409(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        tail: str,
        status: DocumentStatus,
    ) -> None:
        doc = await make_document(session, org.a, status=status)
        before = await writes()
        r = await client.post(doc_url(doc.id, tail), headers=org.headers("admin"))
        assert_problem(r, 409, "invalid_transition")
        assert await writes() == before

    @pytest.mark.parametrize("status", [DS.published, DS.archived])
    async def test_only_drafts_are_deleted(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, status: DocumentStatus
    ) -> None:
        doc = await make_document(session, org.a, status=status)
        r = await client.delete(doc_url(doc.id), headers=org.headers("admin"))
        assert_problem(r, 409, "conflict")
        assert await fetch(Document, doc.id) is not None

    async def test_archive_stops_acknowledgements(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a1)
        r = await client.post(doc_url(doc.id, "/archive"), headers=org.headers("manager_a"))
        assert (r.status_code, r.json()["status"]) == (200, "archived")
        assert r.json()["archived_at"] is not None
        r = await client.post(doc_url(doc.id, "/acknowledgements"), headers=org.headers("member"))
        assert_problem(r, 409, "document_not_published")


# ---------------------------------------------------------------------------------------
# The attached file
# ---------------------------------------------------------------------------------------


class TestFile:
    async def test_upload_and_download(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        import hashlib

        doc = await make_document(session, org.a1, status=DS.draft)
        h = org.headers("manager_a")
        name = "../../Quy đi\u0323nh 85 (bản gốc).pdf"
        r = await client.put(
            doc_url(doc.id, "/file"), files=upload(PDF_BYTES, name, "image/png"), headers=h
        )
        assert r.status_code == 200, r.text
        assert r.json()["file"] == {
            "filename": "Quy định 85 (bản gốc).pdf",
            "content_type": "application/pdf",
            "size": len(PDF_BYTES),
            "sha256": hashlib.sha256(PDF_BYTES).hexdigest(),
        }
        assert r.json()["revision"] == 1  # a draft: in place
        assert await audit_actions(doc.id) == ["document.file"]
        await client.post(doc_url(doc.id, "/publish"), headers=h)
        r = await client.get(doc_url(doc.id, "/file"), headers=org.headers("member"))
        assert r.status_code == 200
        assert r.content == PDF_BYTES
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-length"] == str(len(PDF_BYTES))
        assert r.headers["x-content-type-options"] == "nosniff"
        disposition = r.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="Quy dinh 85 (ban goc).pdf"')
        assert "filename*=UTF-8''Quy%20%C4%91%E1%BB%8Bnh%2085" in disposition

    async def test_docx(self, client: httpx.AsyncClient, session: AsyncSession, org: Org) -> None:
        doc = await make_document(session, org.a, status=DS.draft)
        r = await client.put(
            doc_url(doc.id, "/file"),
            files=upload(docx_bytes(), "hd.docx"),
            headers=org.headers("admin"),
        )
        assert r.status_code == 200, r.text
        ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        assert r.json()["file"]["content_type"] == ctype
        r = await client.get(doc_url(doc.id, "/file"), headers=org.headers("admin"))
        assert (r.headers["content-type"], r.content) == (ctype, docx_bytes())

    @pytest.mark.parametrize(
        ("data", "status", "code"),
        [
            (b"", 422, "invalid_file"),
            (PNG_BYTES, 415, "unsupported_media_type"),
            (b"just some text, named .pdf", 415, "unsupported_media_type"),
            (b"PK\x03\x04 not really a zip", 415, "unsupported_media_type"),
        ],
    )
    async def test_bad_content(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        data: bytes,
        status: int,
        code: str,
    ) -> None:
        doc = await make_document(session, org.a, status=DS.draft)
        before = await writes()
        r = await client.put(
            doc_url(doc.id, "/file"), files=upload(data), headers=org.headers("admin")
        )
        assert_problem(r, status, code)
        assert await writes() == before
        assert (await fetch(Document, doc.id)).file_sha256 is None

    @pytest.mark.parametrize(
        ("content", "ctype", "status", "code"),
        [
            (b'{"file": "x"}', "application/json", 415, "unsupported_media_type"),
            (None, None, 415, "unsupported_media_type"),
            (b"garbage", "multipart/form-data", 422, "validation_failed"),  # no boundary
            (
                b"--xyz\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--xyz--\r\n",
                "multipart/form-data; boundary=xyz",
                422,
                "validation_failed",
            ),  # part without a name
            (
                b'--xyz\r\nContent-Disposition: form-data; name="other"\r\n\r\nabc\r\n--xyz--\r\n',
                "multipart/form-data; boundary=xyz",
                422,
                "validation_failed",
            ),  # no file field
            (
                b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--xyz--\r\n',
                "multipart/form-data; boundary=xyz",
                422,
                "validation_failed",
            ),
        ],  # a text field
    )
    async def test_malformed_upload(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        content: bytes | None,
        ctype: str | None,
        status: int,
        code: str,
    ) -> None:
        doc = await make_document(session, org.a, status=DS.draft)
        headers = {**org.headers("admin"), **({"Content-Type": ctype} if ctype else {})}
        r = await client.put(doc_url(doc.id, "/file"), content=content, headers=headers)
        assert_problem(r, status, code)
        assert (await fetch(Document, doc.id)).file_sha256 is None

    async def test_two_files_are_422(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a, status=DS.draft)
        files = [
            ("file", ("a.pdf", PDF_BYTES, "application/pdf")),
            ("file", ("b.pdf", PDF_BYTES, "application/pdf")),
        ]
        r = await client.put(doc_url(doc.id, "/file"), files=files, headers=org.headers("admin"))
        assert_problem(r, 422, "validation_failed")

    async def test_too_large_is_413(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(get_settings(), "max_document_body", 10_000)
        doc = await make_document(session, org.a, status=DS.draft)
        h = org.headers("admin")
        url = doc_url(doc.id, "/file")
        # Over the limit plus multipart framing: refused by the body limit.
        big = PDF_BYTES + b"0" * 100_000
        assert_problem(
            await client.put(url, files=upload(big), headers=h), 413, "payload_too_large"
        )
        # Within the framing allowance but over the file limit: refused after parsing.
        over = PDF_BYTES + b"0" * 10_000
        assert_problem(
            await client.put(url, files=upload(over), headers=h), 413, "payload_too_large"
        )
        assert (await fetch(Document, doc.id)).file_sha256 is None
        # At the limit: accepted.
        exact = PDF_BYTES + b"0" * (10_000 - len(PDF_BYTES))
        r = await client.put(url, files=upload(exact), headers=h)
        assert (r.status_code, r.json()["file"]["size"]) == (200, 10_000)

    async def test_the_20_mb_limit_holds_by_default(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        assert get_settings().max_document_body == 20_000_000
        doc = await make_document(session, org.a, status=DS.draft)
        big = PDF_BYTES + b"0" * 20_100_000
        r = await client.put(
            doc_url(doc.id, "/file"), files=upload(big), headers=org.headers("admin")
        )
        assert_problem(r, 413, "payload_too_large")

    async def test_a_new_file_on_a_published_document_is_a_new_revision(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a, file=PDF_BYTES)
        h = org.headers("manager_a")
        url = doc_url(doc.id, "/file")
        r = await client.put(url, files=upload(PDF_BYTES, "cùng-nội-dung.pdf"), headers=h)
        assert (r.status_code, r.json()["revision"]) == (200, 1)  # same bytes: not new content
        assert r.json()["file"]["filename"] == "cùng-nội-dung.pdf"
        r = await client.put(url, files=upload(PDF_BYTES + b"\n% v2"), headers=h)
        assert (r.status_code, r.json()["revision"]) == (200, 2)
        history = await revisions(client, org, doc.id)
        assert [x["file"]["size"] for x in history] == [len(PDF_BYTES) + 5, len(PDF_BYTES)]
        r = await client.delete(url, headers=h)
        assert (r.status_code, r.json()["revision"], r.json()["file"]) == (200, 3, None)
        assert_problem(await client.get(url, headers=h), 404, "not_found")
        assert_problem(await client.delete(url, headers=h), 404, "not_found")
        assert await audit_actions(doc.id) == ["document.file"] * 3


# ---------------------------------------------------------------------------------------
# Revisions history
# ---------------------------------------------------------------------------------------


class TestRevisions:
    async def test_pages_newest_first(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a, revision=5)
        pages = await walk(client, doc_url(doc.id, "/revisions"), org.headers("member"), limit=2)
        assert [[x["revision"] for x in p] for p in pages] == [[5, 4], [3, 2], [1]]

    async def test_bad_cursor_is_422(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a)
        r = await client.get(
            doc_url(doc.id, "/revisions"), params={"cursor": "abc"}, headers=org.headers("admin")
        )
        assert_problem(r, 422, "invalid_cursor")


# ---------------------------------------------------------------------------------------
# GET /documents filters and pagination
# ---------------------------------------------------------------------------------------


class TestListFilters:
    async def ids(
        self, client: httpx.AsyncClient, org: Org, role: str = "admin", **params: Any
    ) -> list[str]:
        r = await client.get(DOCS, params=params, headers=org.headers(role))
        assert r.status_code == 200, r.text
        return [d["id"] for d in r.json()["items"]]

    async def test_filters(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        from api.core.enums import DocType

        reg = await make_document(
            session,
            org.a,
            code="85-QĐ/TW",
            title="Quy định về mạng xã hội",
            doc_type=DocType.regulation,
        )
        plan = await make_document(
            session,
            org.a1,
            code="7-KH/ĐU",
            title="Kế hoạch học tập",
            doc_type=DocType.plan,
            requires_ack=False,
        )
        draft = await make_document(session, org.a, status=DS.draft, title="Dự thảo")
        assert set(await self.ids(client, org)) == {str(reg.id), str(plan.id), str(draft.id)}
        assert await self.ids(client, org, doc_type="plan") == [str(plan.id)]
        assert await self.ids(client, org, status="draft") == [str(draft.id)]
        assert await self.ids(client, org, requires_ack="false") == [str(plan.id)]
        assert await self.ids(client, org, audience_unit_id=str(org.a1.id)) == [str(plan.id)]
        assert await self.ids(client, org, q="DINH ve MANG") == [str(reg.id)]
        assert await self.ids(client, org, q="85-qd") == [str(reg.id)]
        assert await self.ids(client, org, q="kh/đu") == [str(plan.id)]
        assert await self.ids(client, org, q="100%") == []
        assert await self.ids(client, org, "member", ack_state="pending") == [str(reg.id)]

    @pytest.mark.parametrize(
        "params",
        [
            {"status": "deleted"},
            {"doc_type": "memo"},
            {"requires_ack": "perhaps"},
            {"ack_state": "later"},
            {"limit": "0"},
            {"limit": "201"},
            {"q": "x" * 201},
            {"audience_unit_id": "nope"},
        ],
    )
    async def test_bad_parameter_is_422(
        self, client: httpx.AsyncClient, org: Org, params: dict[str, str]
    ) -> None:
        r = await client.get(DOCS, params=params, headers=org.headers("member"))
        assert_problem(r, 422, "validation_failed")

    async def test_ack_state_is_for_members(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(DOCS, params={"ack_state": "done"}, headers=org.headers("manager_a"))
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["query", "ack_state"]

    @pytest.mark.parametrize(
        "cursor", ["abc", "eyJ4Ijoi", "WyJkb2N1bWVudHMiLFsiMjAyNC0xMy0wMSIsIjEiXV0"]
    )
    async def test_bad_cursor_is_422(
        self, client: httpx.AsyncClient, org: Org, cursor: str
    ) -> None:
        r = await client.get(DOCS, params={"cursor": cursor}, headers=org.headers("admin"))
        assert_problem(r, 422, "invalid_cursor")

    async def test_bad_date_in_a_well_formed_cursor_is_422(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        from api.core.pagination import encode_cursor

        cursor = encode_cursor("documents", ["2024-13-01", uuid.uuid4()])
        r = await client.get(DOCS, params={"cursor": cursor}, headers=org.headers("admin"))
        assert_problem(r, 422, "invalid_cursor")

    async def test_pagination_newest_issued_first(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        from datetime import date

        made = []
        for i in range(57):
            # Pairs share an issue date: the id breaks the tie.
            made.append(await make_document(session, org.a1, issued_on=date(2024, 1, 1 + i // 2)))
        expected = [
            str(d.id) for d in sorted(made, key=lambda d: (d.issued_on, d.id), reverse=True)
        ]
        for role in ("admin", "member"):
            pages = await walk(client, DOCS, org.headers(role), limit=10)
            assert [len(p) for p in pages] == [10] * 5 + [7]
            assert [d["id"] for p in pages for d in p] == expected

    async def test_items_carry_no_body(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        await make_document(session, org.a, body="Nội dung dài")
        await make_document(session, org.a, body=None, file=PDF_BYTES)
        items = (await client.get(DOCS, headers=org.headers("member"))).json()["items"]
        assert all("body" not in d for d in items)
        assert sorted((d["has_body"], d["file"] is not None) for d in items) == [
            (False, True),
            (True, False),
        ]


# ---------------------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------------------


class TestAudit:
    async def test_every_change_is_audited(self, client: httpx.AsyncClient, org: Org) -> None:
        h = org.headers("manager_a")
        doc_id = (await client.post(DOCS, json=new_doc(org.a1), headers=h)).json()["id"]
        steps: list[Callable[[], Any]] = [
            lambda: client.patch(doc_url(doc_id), json={"summary": "Sửa"}, headers=h),
            lambda: client.put(doc_url(doc_id, "/file"), files=upload(PDF_BYTES), headers=h),
            lambda: client.post(doc_url(doc_id, "/publish"), headers=h),
            lambda: client.post(
                doc_url(doc_id, "/acknowledgements"), headers=org.headers("member")
            ),
            lambda: client.patch(doc_url(doc_id), json={"body": "Bản sửa đổi"}, headers=h),
            lambda: client.delete(doc_url(doc_id, "/file"), headers=h),
            lambda: client.post(doc_url(doc_id, "/archive"), headers=h),
        ]
        for step in steps:
            r = await step()
            assert r.status_code in (200, 201), r.text
        assert await audit_actions(uuid.UUID(doc_id)) == [
            "document.create",
            "document.update",
            "document.file",
            "document.publish",
            "document.acknowledge",
            "document.update",
            "document.file",
            "document.archive",
        ]
        draft_id = (await client.post(DOCS, json=new_doc(org.a), headers=h)).json()["id"]
        assert (await client.delete(doc_url(draft_id), headers=h)).status_code == 204
        assert await audit_actions(uuid.UUID(draft_id)) == ["document.create", "document.delete"]

    async def test_event_details(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        import hashlib

        from sqlalchemy import select

        from api.core.db import db

        doc = await make_document(session, org.a1, body="Cũ")
        await client.patch(
            doc_url(doc.id),
            json={"body": "Mới", "issuer": "Ban mới"},
            headers=org.headers("manager_a"),
        )
        await client.post(doc_url(doc.id, "/acknowledgements"), headers=org.headers("member"))
        async with db.sessionmaker() as s:
            events = list(
                (
                    await s.scalars(
                        select(AuditEvent)
                        .where(AuditEvent.entity_id == doc.id)
                        .order_by(AuditEvent.at, AuditEvent.id)
                    )
                ).all()
            )
        update, ack = events
        assert (update.actor_id, update.unit_id) == (org.principals["manager_a"].id, org.a1.id)

        def digest(text: str) -> str:
            return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

        assert update.changes == {
            "body": [digest("Cũ"), digest("Mới")],
            "issuer": [doc.issuer, "Ban mới"],
            "revision": [1, 2],
        }
        assert (ack.actor_id, ack.unit_id) == (org.principals["member"].id, org.a1.id)
        assert ack.changes == {"member_id": str(org.me.id), "revision": 2}

    async def test_refused_requests_write_no_event(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a)
        before = await count_rows(AuditEvent)
        h = org.headers("admin")
        assert_problem(
            await client.post(doc_url(doc.id, "/publish"), headers=h), 409, "invalid_transition"
        )
        assert_problem(
            await client.patch(doc_url(doc.id), json={"body": None}, headers=h),
            422,
            "validation_failed",
        )
        assert await count_rows(AuditEvent) == before


# ---------------------------------------------------------------------------------------
# Demo data
# ---------------------------------------------------------------------------------------


class TestDemoSeed:
    async def test_the_three_documents_are_seeded_once(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        from sqlalchemy import select

        from api.services.demo import seed

        for _ in range(2):
            await seed(session)
            await session.commit()
        docs = list((await session.scalars(select(Document).order_by(Document.issued_on))).all())
        assert [
            (d.code, d.issued_on.isoformat(), d.status, d.revision, d.requires_ack) for d in docs
        ] == [
            ("37-QĐ/TW", "2021-10-25", DS.published, 1, True),
            ("85-QĐ/TW", "2022-10-07", DS.published, 1, True),
            ("99-HD/BTGTW", "2023-03-20", DS.published, 1, True),
        ]
        assert {d.issuer for d in docs} == {
            "Ban Bí thư",
            "Ban Tuyên giáo Trung ương",
            "Ban Chấp hành Trung ương",
        }
        assert all("minh họa" in (d.summary or "") for d in docs)
        assert await count_rows(DocumentRevision) == 3
        root = await session.scalar(select(Unit).where(Unit.code == "TW"))
        assert {d.audience_unit_id for d in docs} == {root.id}  # type: ignore[union-attr]
        # The plain demo member sees all three, pending.
        from api.models import User

        user = await session.scalar(select(User).where(User.username == "an.nv"))
        r = await client.get(DOCS, params={"ack_state": "pending"}, headers=auth(user))  # type: ignore[arg-type]
        assert [d["code"] for d in r.json()["items"]] == ["99-HD/BTGTW", "85-QĐ/TW", "37-QĐ/TW"]


# ---------------------------------------------------------------------------------------
# Concurrency (PostgreSQL)
# ---------------------------------------------------------------------------------------


class TestConcurrency:
    async def test_concurrent_content_edits_each_make_a_revision(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org, is_postgres: bool
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite has no row locks; the race needs PostgreSQL")
        import asyncio

        doc = await make_document(session, org.a)
        h = org.headers("manager_a")
        responses = await asyncio.gather(
            *(client.patch(doc_url(doc.id), json={"body": f"Bản {i}"}, headers=h) for i in range(5))
        )
        assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
        assert sorted(r.json()["revision"] for r in responses) == [2, 3, 4, 5, 6]
        after = await fetch(Document, doc.id)
        assert (after.revision, after.version) == (6, 6)
        history = await revisions(client, org, doc.id)
        assert [x["revision"] for x in history] == [6, 5, 4, 3, 2, 1]
        assert history[0]["body"] == after.body
        assert await audit_actions(doc.id) == ["document.update"] * 5

    @pytest.mark.parametrize("if_match", [None, '"1"'])
    async def test_concurrent_publish(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        is_postgres: bool,
        if_match: str | None,
    ) -> None:
        if not is_postgres:
            pytest.skip("SQLite has no row locks; the race needs PostgreSQL")
        import asyncio

        doc = await make_document(session, org.a, status=DS.draft)
        h = {**org.headers("manager_a"), **({"If-Match": if_match} if if_match else {})}
        responses = await asyncio.gather(
            *(client.post(doc_url(doc.id, "/publish"), headers=h) for _ in range(5))
        )
        loser, code = (412, "version_mismatch") if if_match else (409, "invalid_transition")
        assert sorted(r.status_code for r in responses) == [200] + [loser] * 4
        for r in responses:
            if r.status_code != 200:
                assert_problem(r, loser, code)
        assert await count_rows(DocumentRevision, DocumentRevision.document_id == doc.id) == 1
        assert await audit_actions(doc.id) == ["document.publish"]
