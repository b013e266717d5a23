"""Hostile file names and contents on the two upload endpoints (report evidence,
document file). A file is stored under its SHA-256 only: the name given is display text,
cut to its last segment and cleaned, and never reaches the file system; it comes back
in an `attachment` disposition that cannot break the header. A refused upload leaves no
row, no audit event and no file (not even a temporary one)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.core.db import db
from api.models import AuditEvent, Document, ReportEvidence
from tests.support.factories import png_bytes, report_body
from tests.support.problems import summary
from tests.support.reads import diff, fingerprint, storage_root, stored_files
from tests.support.world import World, build_world

BOUNDARY = "qd85-attack-boundary"
EXTENSION = {"image/png": ".png", "application/pdf": ".pdf"}
PDF = b"%PDF-1.4\n" + b"0" * 300 + b"\n%%EOF\n"
NAMES = [
    b"../../etc/passwd",
    b"..\\..\\windows\\win.ini",
    b"/etc/passwd",
    b"C:\\Windows\\evil.png",
    b"evil\x00.png",
    b"\x00",
    b"<script>alert(1)</script>.png",
    b"' OR 1=1 --.png",
    b"..",
    b".",
    b"",
    b" ",
    b"a" * 1000 + b".png",
    b"\xff\xfe.png",
    "\u202egnp.exe".encode(),
    b"%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    b"x\r\nX-Injected: 1",
    b"x;\tfilename=other.exe",
    "t\u1ec7p \u0111\u00ednh k\u00e8m.pdf".encode(),
    b"....//....//etc/passwd",
    b"\\\\server\\share\\x",
]


def _multipart(filename: bytes, content: bytes, content_type: bytes = b"image/png") -> bytes:
    """A hand-made body (httpx would encode some of these names itself)."""
    return (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\n'
        + b"Content-Type: "
        + content_type
        + b"\r\n\r\n"
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def _headers(base: dict[str, str]) -> dict[str, str]:
    return {**base, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def _evidence(client: httpx.AsyncClient, w: World, body: bytes) -> httpx.Response:
    url = f"/api/v1/reports/{w.ids['report']}/evidence"
    return await client.post(url, content=body, headers=_headers(w.member_h))


async def _document(client: httpx.AsyncClient, w: World, body: bytes) -> httpx.Response:
    url = f"/api/v1/documents/{w.ids['document']}/file"
    return await client.put(url, content=body, headers=_headers(w.admin_h))


def _clean(name: str) -> list[str]:
    """What is wrong with a stored display name (nothing: [])."""
    problems = []
    if not name or len(name) > 200:
        problems.append("length")
    if any(c in name for c in '/\\"<>|:*?') or name.startswith("."):
        problems.append("path or markup characters")
    if not all(c.isprintable() for c in name):
        problems.append("control or format characters")
    return problems


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await build_world(client, objects=True)


class TestHostileFileNames:
    @pytest.mark.parametrize("endpoint", ["evidence", "document"])
    async def test_names_are_display_text_only(
        self, client: httpx.AsyncClient, world: World, endpoint: str
    ) -> None:
        upload, content, kind = {
            "evidence": (_evidence, png_bytes(300), "image/png"),
            "document": (_document, PDF, "application/pdf"),
        }[endpoint]
        failures = []
        outside = {p for p in _tree(storage_root().parent) if not p.startswith("files/")}
        for i, given in enumerate(NAMES):
            if endpoint == "evidence" and i and i % 15 == 0:  # at most 20 files a report
                new = await client.post(
                    "/api/v1/reports", json=report_body(), headers=world.member_h
                )
                world.ids["report"] = new.json()["id"]
            # A distinct content each time, so every upload really is stored.
            data = content + given
            r = await upload(client, world, _multipart(given, data))
            if r.status_code not in (200, 201):
                failures.append(f"{given!r}: {summary(r)}")
                continue
            name = r.json()["filename"] if endpoint == "evidence" else r.json()["file"]["filename"]
            if problems := _clean(name):
                failures.append(f"{given!r} stored as {name!r}: {problems}")
            if not name.lower().endswith(EXTENSION[kind]):  # issue 14: the sniffed type's
                failures.append(f"{given!r} stored as {name!r}: not {EXTENSION[kind]}")
            down_url = (
                f"/api/v1/reports/{world.ids['report']}/evidence/{r.json()['id']}"
                if endpoint == "evidence"
                else f"/api/v1/documents/{world.ids['document']}/file"
            )
            down = await client.get(down_url, headers=world.admin_h)
            disposition = down.headers["content-disposition"]
            if (down.status_code, down.content) != (200, data):
                failures.append(f"{given!r}: download {down.status_code}")
            if not disposition.lower().endswith(EXTENSION[kind]):
                failures.append(f"{given!r}: disposition {disposition!r} names another type")
            if not disposition.startswith("attachment;") or re.search(r"[\r\n\x00]", disposition):
                failures.append(f"{given!r}: disposition {disposition!r}")
            if (
                down.headers["content-type"] != kind
                or down.headers["x-content-type-options"] != "nosniff"
            ):
                failures.append(f"{given!r}: served as {down.headers['content-type']}")
        assert failures == []
        await _assert_store_holds_only_hashes(outside)
        await _assert_no_raw_name_stored()

    async def test_html_behind_an_image_signature_is_served_as_an_image(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        """A PNG/HTML polyglot named .html is an image by its content: served as such,
        as an attachment, with nosniff (a browser will not run it)."""
        data = png_bytes(64) + b"<html><script>alert(1)</script></html>"
        r = await _evidence(client, world, _multipart(b"page.html", data, b"text/html"))
        assert r.status_code == 201, r.text
        assert r.json()["content_type"] == "image/png"
        down = await client.get(
            f"/api/v1/reports/{world.ids['report']}/evidence/{r.json()['id']}",
            headers=world.member_h,
        )
        assert down.headers["content-type"] == "image/png"
        assert down.headers["content-disposition"].startswith("attachment;")
        # Issue 14, finding 10: the name's extension follows the content, not the caller.
        assert r.json()["filename"] == "page.png"
        assert down.headers["content-disposition"].endswith("filename*=UTF-8''page.png")
        assert down.headers["x-content-type-options"] == "nosniff"


def _tree(root: Path) -> set[str]:
    """Every file under `root` but the SQLite database."""
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith("test.db")
    }


async def _assert_store_holds_only_hashes(outside_before: set[str]) -> None:
    """The store holds files named by their SHA-256, and nothing appeared beside it
    (the test run's directory) or where a traversal name points."""
    files = stored_files()
    assert files
    for path in files:
        assert re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}", path), path
    run_dir = storage_root().parent
    assert {p for p in _tree(run_dir) if not p.startswith("files/")} == outside_before
    for target in ("etc/passwd", "windows/win.ini", "server/share/x"):
        for up in (1, 2):  # the run's directory, and the temporary directory
            assert not (storage_root() / ("../" * up) / target).resolve().exists(), (up, target)


async def _assert_no_raw_name_stored() -> None:
    """No stored name (evidence rows, documents, the audit trail) holds a path
    separator sequence, a NUL or markup from the names sent."""
    async with db.sessionmaker() as s:
        texts = [str(v) for v in (await s.scalars(select(ReportEvidence.filename))).all()]
        texts += [str(v) for v in (await s.scalars(select(Document.file_name))).all()]
        texts += [str(e.changes) for e in (await s.scalars(select(AuditEvent))).all()]
    for text in texts:
        for bad in ("../", "..\\", "\x00", "<script", "\r", "\n", "/etc/"):
            assert bad not in text, (bad, text)


REFUSED: dict[str, tuple[bytes, str, str]] = {
    # name -> (multipart body, expected for evidence, expected for the document file)
    "html_with_a_traversal_name": (
        _multipart(b"../../x.png", b"<html><script>alert(1)</script>"),
        "415 unsupported_media_type",
        "415 unsupported_media_type",
    ),
    "empty_file": (_multipart(b"../../empty.pdf", b""), "422 invalid_file", "422 invalid_file"),
    "gif_named_png": (
        _multipart(b"x.png", b"GIF89a" + b"\x00" * 50),
        "415 unsupported_media_type",
        "415 unsupported_media_type",
    ),
    "no_closing_boundary": (
        _multipart(b"a.pdf", PDF)[:-20],
        "422 validation_failed",
        "422 validation_failed",
    ),
    "not_multipart": (
        b'{"file": "JVBERi0="}',
        "422 validation_failed",
        "415 unsupported_media_type",
    ),
}


class TestRefusedUploads:
    async def test_nothing_is_written(self, client: httpx.AsyncClient, world: World) -> None:
        before = await fingerprint()
        results: dict[str, Any] = {}
        for case, (body, *_) in REFUSED.items():
            content_type = (
                "application/json"
                if case == "not_multipart"
                else f"multipart/form-data; boundary={BOUNDARY}"
            )
            for endpoint, url, method, headers in (
                (
                    "evidence",
                    f"/api/v1/reports/{world.ids['report']}/evidence",
                    "POST",
                    world.member_h,
                ),
                (
                    "document",
                    f"/api/v1/documents/{world.ids['document']}/file",
                    "PUT",
                    world.admin_h,
                ),
            ):
                r = await client.request(
                    method, url, content=body, headers={**headers, "Content-Type": content_type}
                )
                results[f"{case} {endpoint}"] = summary(r)
        expected = {
            f"{case} {endpoint}": status
            for case, (_, *statuses) in REFUSED.items()
            for endpoint, status in zip(("evidence", "document"), statuses, strict=True)
        }
        assert results == expected
        assert diff(before, await fingerprint()) == {}
