"""Evidence files of reported posts (SPEC §5 "Reported posts"): type by content, size
limit, names, download, who may add and read them, closed reports, immutable storage."""

from __future__ import annotations

import hashlib
import io
import stat
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.models import ReportEvidence
from api.services.reports import evidence as reports_evidence
from tests.support.factories import REPORTS_URL, file_report, make_member_user, png_bytes
from tests.support.problems import assert_problem, assert_status
from tests.support.reads import audit_actions, count_rows, walk
from tests.support.world import Org, build_org

REPORTS = REPORTS_URL
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 200
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x22" * 200
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
GIF = b"GIF89a" + b"\x00" * 100
WAVE = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 100


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def evidence_url(rid: str) -> str:
    return f"{REPORTS}/{rid}/evidence"


async def upload(
    client: httpx.AsyncClient,
    rid: str,
    headers: dict[str, str],
    content: bytes | None = None,
    filename: str = "shot.png",
    content_type: str = "image/png",
) -> httpx.Response:
    data = png_bytes() if content is None else content
    return await client.post(
        evidence_url(rid), headers=headers, files={"file": (filename, data, content_type)}
    )


def stored_path(sha256: str) -> Path:
    return Path(get_settings().storage_dir) / sha256[:2] / sha256[2:4] / sha256


def stored_files() -> set[Path]:
    root = Path(get_settings().storage_dir)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


@pytest.fixture
async def report(client: httpx.AsyncClient, org: Org) -> dict[str, Any]:
    """An open report filed by org.me (A1)."""
    return await file_report(client, org.headers("member"))


async def move(
    client: httpx.AsyncClient, rid: str, headers: dict[str, str], to: str, **extra: Any
) -> None:
    r = await client.post(f"{REPORTS}/{rid}/transitions", json={"to": to, **extra}, headers=headers)
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------------------------------
# Upload
# ---------------------------------------------------------------------------------------


class TestUpload:
    async def test_reporter_uploads_and_downloads(
        self, client: httpx.AsyncClient, org: Org, report: dict[str, Any]
    ) -> None:
        content = png_bytes(5000)
        r = await upload(client, report["id"], org.headers("member"), content, "ảnh chụp.png")
        assert r.status_code == 201, r.text
        body = r.json()
        assert set(body) == {"id", "filename", "content_type", "size", "sha256", "created_at"}
        assert r.headers["location"] == f"{evidence_url(report['id'])}/{body['id']}"
        assert (body["filename"], body["content_type"], body["size"]) == (
            "ảnh chụp.png",
            "image/png",
            5000,
        )
        assert body["sha256"] == hashlib.sha256(content).hexdigest()
        down = await client.get(r.headers["location"], headers=org.headers("manager_a"))
        assert down.status_code == 200, down.text
        assert down.content == content
        assert down.headers["content-type"] == "image/png"
        assert down.headers["content-length"] == "5000"
        assert down.headers["content-disposition"] == (
            "attachment; filename*=UTF-8''%E1%BA%A3nh%20ch%E1%BB%A5p.png"
        )
        listed = await client.get(evidence_url(report["id"]), headers=org.headers("member"))
        assert listed.json() == {"items": [body], "next_cursor": None}
        [entry] = [
            e
            for e in (
                await client.get(
                    f"{REPORTS}/{report['id']}/timeline", headers=org.headers("member")
                )
            ).json()["items"]
            if e["kind"] == "evidence"
        ]
        assert entry["data"] == {"evidence_id": body["id"], "sha256": body["sha256"], "size": 5000}
        assert entry["actor_id"] == str(org.principals["member"].id)
        assert await audit_actions(uuid.UUID(report["id"])) == ["report.file", "report.evidence"]

    async def test_type_is_recognised_by_content(
        self, client: httpx.AsyncClient, org: Org, report: dict[str, Any]
    ) -> None:
        # The shown name's extension follows the content (issue 14, finding 10).
        cases = [
            (png_bytes(), "x.pdf", "text/plain", "image/png", "x.png"),
            (JPEG, "a.bin", "application/octet-stream", "image/jpeg", "a.jpg"),
            (WEBP, "a.webp", "image/webp", "image/webp", "a.webp"),
            (PDF, "scan.png", "image/png", "application/pdf", "scan.pdf"),
        ]
        for content, filename, declared, expected, shown in cases:
            r = await upload(
                client, report["id"], org.headers("member"), content, filename, declared
            )
            assert r.status_code == 201, f"{expected}: {r.text}"
            assert (r.json()["content_type"], r.json()["filename"]) == (expected, shown)
            down = await client.get(
                f"{evidence_url(report['id'])}/{r.json()['id']}", headers=org.headers("member")
            )
            assert (down.content, down.headers["content-type"]) == (content, expected)
        assert await count_rows(ReportEvidence) == len(cases)

    async def test_other_content_is_415(
        self, client: httpx.AsyncClient, org: Org, report: dict[str, Any]
    ) -> None:
        files_before = stored_files()
        cases = {
            "text": (b"just some text, not an image", "a.png", "image/png"),
            "gif": (GIF, "a.gif", "image/gif"),
            "wave": (WAVE, "a.webp", "image/webp"),
            "docx": (docx(), "a.pdf", "application/pdf"),
            "html": (b"<html><script>", "a.pdf", "application/pdf"),
            "truncated pdf": (b"%PD", "a.pdf", "application/pdf"),
        }
        for name, (content, filename, declared) in cases.items():
            r = await upload(
                client, report["id"], org.headers("member"), content, filename, declared
            )
            assert r.status_code == 415, f"{name}: {r.text}"
            assert_problem(r, 415, "unsupported_media_type")
        assert await count_rows(ReportEvidence) == 0
        assert stored_files() == files_before

    async def test_empty_file_is_422(
        self, client: httpx.AsyncClient, org: Org, report: dict[str, Any]
    ) -> None:
        r = await upload(client, report["id"], org.headers("member"), b"")
        body = assert_problem(r, 422, "invalid_file")
        assert body["errors"][0]["loc"] == ["body", "file"]
        assert await count_rows(ReportEvidence) == 0

    async def test_missing_file_field_is_422(
        self, client: httpx.AsyncClient, org: Org, report: dict[str, Any]
    ) -> None:
        cases: dict[str, dict[str, Any]] = {
            "other field": {"files": {"upload": ("a.png", png_bytes(), "image/png")}},
            "text field": {"data": {"file": "not a file"}},
            "json": {"json": {"file": "aGVsbG8="}},
            "no body": {},
        }
        for name, kwargs in cases.items():
            r = await client.post(
                evidence_url(report["id"]), headers=org.headers("member"), **kwargs
            )
            assert r.status_code == 422, f"{name}: {r.text}"
            assert_problem(r, 422, "validation_failed")
        assert await count_rows(ReportEvidence) == 0

    async def test_filename_is_sanitised(
        self, client: httpx.AsyncClient, org: Org, report: dict[str, Any]
    ) -> None:
        cases = [
            ("../../etc/passwd.png", "passwd.png"),
            ("..\\..\\Windows\\win.png", "win.png"),
            ("/abs/path/x.png", "x.png"),
            ("<a|b>*?:.png", "ab.png"),
            ("..", "file.png"),
            ("tab\there.png", "tabhere.png"),
            (" . ", "file.png"),
        ]
        boundary = "qd85-boundary"
        headers = {
            **org.headers("member"),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        for given, expected in cases:
            # A hand-made multipart body: httpx would percent-encode some characters itself.
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{given}"'  # noqa: E501
                    f"\r\nContent-Type: image/png\r\n\r\n"
                ).encode()
                + png_bytes()
                + f"\r\n--{boundary}--\r\n".encode()
            )
            r = await client.post(evidence_url(report["id"]), content=body, headers=headers)
            assert r.status_code == 201, f"{given!r}: {r.text}"
            name = r.json()["filename"]
            assert name == expected, given
            assert "/" not in name
            assert "\\" not in name
            down = await client.get(
                f"{evidence_url(report['id'])}/{r.json()['id']}", headers=org.headers("member")
            )
            disposition = down.headers["content-disposition"]
            assert disposition == f"attachment; filename*=UTF-8''{expected}", given


# ---------------------------------------------------------------------------------------
# Size
# ---------------------------------------------------------------------------------------


class TestSize:
    def test_default_limit_is_ten_megabytes(self) -> None:
        from api.core.config import Settings

        assert Settings.model_fields["max_evidence_body"].default == 10_000_000

    async def test_limit(
        self,
        client: httpx.AsyncClient,
        org: Org,
        report: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(get_settings(), "max_evidence_body", 1000)
        h = org.headers("member")
        files_before = stored_files()
        r = await upload(client, report["id"], h, png_bytes(1001))
        assert_problem(r, 413, "payload_too_large")
        r = await upload(client, report["id"], h, png_bytes(200_000))  # beyond the body limit too
        assert_problem(r, 413, "payload_too_large")
        assert await count_rows(ReportEvidence) == 0
        assert stored_files() == files_before
        r = await upload(client, report["id"], h, png_bytes(1000))
        assert r.status_code == 201, r.text
        assert r.json()["size"] == 1000

    async def test_at_most_twenty_files(
        self,
        client: httpx.AsyncClient,
        org: Org,
        report: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        assert reports_evidence.MAX_EVIDENCE == 20
        monkeypatch.setattr(reports_evidence, "MAX_EVIDENCE", 2)
        h = org.headers("member")
        for n in range(2):
            assert (await upload(client, report["id"], h, png_bytes(300 + n))).status_code == 201
        assert_problem(await upload(client, report["id"], h), 409, "evidence_limit")
        assert await count_rows(ReportEvidence) == 2


# ---------------------------------------------------------------------------------------
# Who adds and reads evidence
# ---------------------------------------------------------------------------------------


class TestWho:
    async def test_download_is_authorised_like_the_report(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        org: Org,
        report: dict[str, Any],
    ) -> None:
        eid = (await upload(client, report["id"], org.headers("member"))).json()["id"]
        other = await file_report(client, org.headers("member"))
        other_eid = (await upload(client, other["id"], org.headers("member"))).json()["id"]
        url = f"{evidence_url(report['id'])}/{eid}"
        for role in ("member", "admin", "manager_a", "reviewer_a"):
            assert (await client.get(url, headers=org.headers(role))).status_code == 200, role
        _, peer_h = await make_member_user(session, org.a1)
        for h in (
            org.headers("manager_b"),
            org.headers("partner_a"),
            org.headers("analyst_a"),
            peer_h,
        ):
            assert_status(await client.get(url, headers=h), 404)
        assert_status(await client.get(url), 401)
        h = org.headers("member")
        for wrong in (
            f"{evidence_url(report['id'])}/{other_eid}",  # another report's file
            f"{evidence_url(report['id'])}/{uuid.uuid4()}",
            f"{evidence_url(str(uuid.uuid4()))}/{eid}",
        ):
            assert_problem(await client.get(wrong, headers=h), 404, "not_found")

    async def test_closed_report_takes_no_evidence(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        closings: dict[str, list[tuple[str, dict[str, Any]]]] = {
            "dismissed": [("reviewer_a", {"to": "dismissed"})],
            "resolved": [
                ("reviewer_a", {"to": "in_review"}),
                ("reviewer_a", {"to": "resolved", "outcome": "removed"}),
            ],
            "withdrawn": [("member", {"to": "withdrawn"})],
        }
        for name, steps in closings.items():
            report = await file_report(client, org.headers("member"))
            kept = await upload(client, report["id"], org.headers("member"))
            for who, body in steps:
                await move(client, report["id"], org.headers(who), **body)
            for role in ("member", "manager_a"):
                r = await upload(client, report["id"], org.headers(role), png_bytes(999))
                assert r.status_code == 409, f"{name} by {role}: {r.text}"
                assert_problem(r, 409, "report_closed")
            # What was given stays readable.
            r = await client.get(
                f"{evidence_url(report['id'])}/{kept.json()['id']}", headers=org.headers("member")
            )
            assert r.status_code == 200, r.text
        assert await count_rows(ReportEvidence) == len(closings)

    async def test_evidence_on_an_escalated_report(
        self, client: httpx.AsyncClient, org: Org, report: dict[str, Any]
    ) -> None:
        await move(client, report["id"], org.headers("reviewer_a"), "in_review")
        await move(
            client,
            report["id"],
            org.headers("reviewer_a"),
            "escalated",
            authority="CA",
            reference="1",
        )
        assert (await upload(client, report["id"], org.headers("member"))).status_code == 201


# ---------------------------------------------------------------------------------------
# Listing and immutable storage
# ---------------------------------------------------------------------------------------


class TestStorage:
    async def test_same_bytes_twice_two_rows_one_read_only_file(
        self, client: httpx.AsyncClient, org: Org, report: dict[str, Any]
    ) -> None:
        content = png_bytes(4321)
        first = (await upload(client, report["id"], org.headers("member"), content, "a.png")).json()
        path = stored_path(first["sha256"])
        assert path.read_bytes() == content
        mode = path.stat().st_mode
        assert mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0
        before = path.stat()
        second = await upload(client, report["id"], org.headers("manager_a"), content, "b.png")
        assert second.status_code == 201, second.text
        assert second.json()["id"] != first["id"]
        assert second.json()["sha256"] == first["sha256"]
        assert await count_rows(ReportEvidence) == 2
        after = path.stat()
        # Not rewritten (same file, same mode); its time is refreshed so that
        # `qd85 storage gc` spares it while the second request commits (issue 18).
        assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
        assert after.st_mtime_ns >= before.st_mtime_ns
        assert path.read_bytes() == content
        assert [p for p in stored_files() if p.name == first["sha256"]] == [path]

    async def test_list_oldest_first_across_pages(
        self, client: httpx.AsyncClient, org: Org, report: dict[str, Any]
    ) -> None:
        uploaded = [
            (
                await upload(
                    client, report["id"], org.headers("member"), png_bytes(500 + n), f"{n}.png"
                )
            ).json()["id"]
            for n in range(3)
        ]
        pages = await walk(client, evidence_url(report["id"]), org.headers("reviewer_a"), limit=2)
        assert [len(p) for p in pages] == [2, 1]
        assert [e["id"] for p in pages for e in p] == uploaded
