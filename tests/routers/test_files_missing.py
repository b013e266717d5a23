"""A row that references a file the store no longer holds (an operator removed it, the
store lost it): the download answers 404 `file_missing`, counted in
`qd85_files_missing_total`, instead of a bare 500 (issue 18). Local store here; the S3
store, streamed and presigned: tests/storage/test_s3store.py."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.services.files import FILES_MISSING, storage
from tests.support.factories import file_report, make_document, png_bytes
from tests.support.problems import assert_problem
from tests.support.world import Org, build_org

PDF_BYTES = b"%PDF-1.7\n" + b"1 0 obj << >> endobj\n" * 40 + b"%%EOF\n"


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


def _missing_count() -> float:
    return FILES_MISSING.labels("local")._value.get()  # type: ignore[no-any-return]


class TestFileMissingFromTheStore:
    async def test_evidence(self, client: httpx.AsyncClient, org: Org) -> None:
        report = await file_report(client, org.headers("member"))
        r = await client.post(
            f"/api/v1/reports/{report['id']}/evidence",
            headers=org.headers("member"),
            files={"file": ("ảnh.png", png_bytes(2000), "image/png")},
        )
        assert r.status_code == 201, r.text
        await storage().delete(r.json()["sha256"])
        before = _missing_count()
        down = await client.get(r.headers["location"], headers=org.headers("manager_a"))
        assert_problem(down, 404, "file_missing")
        assert _missing_count() == before + 1
        # The report itself still reads: only its file is gone.
        again = await client.get(f"/api/v1/reports/{report['id']}", headers=org.headers("member"))
        assert again.status_code == 200

    async def test_a_document_file(
        self, client: httpx.AsyncClient, session: AsyncSession, org: Org
    ) -> None:
        doc = await make_document(session, org.a, file=PDF_BYTES)
        await storage().delete(doc.file_sha256)
        down = await client.get(f"/api/v1/documents/{doc.id}/file", headers=org.headers("member"))
        assert_problem(down, 404, "file_missing")
        english = await client.get(
            f"/api/v1/documents/{doc.id}/file",
            headers={**org.headers("member"), "Accept-Language": "en"},
        )
        assert english.json()["detail"].startswith("This file is missing from the file store")
