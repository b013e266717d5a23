"""The "s3" file store (issue 18) against a real SeaweedFS (tests/seaweed.py): content
addressed and written once, the hash checked by the store before an object exists under
its key, presigned downloads with the API's headers, and an unreachable store answering
503 `service_unavailable` with Retry-After while other reads go on."""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.services import s3store
from api.services.files import FILES_MISSING, StoreUnavailable, close_stores, storage
from api.services.s3store import S3Storage
from tests.seaweed import Seaweed
from tests.support.factories import file_report, png_bytes
from tests.support.problems import assert_problem
from tests.support.world import Org, build_org

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once closed


def spooled(data: bytes) -> Any:
    """As Starlette hands an upload over: a spooled temporary file (on disk past 1 MB)."""
    f = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115 - closed by the caller
    f.write(data)
    f.seek(0)
    return f


async def _read(store: S3Storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in await store.open(key)])


@pytest.fixture
async def s3(seaweed: Seaweed) -> AsyncIterator[S3Storage]:
    store = S3Storage(
        bucket=seaweed.bucket,
        endpoint=seaweed.endpoint,
        access_key="qd85",
        secret_key="x",
        prefix=f"unit-{uuid.uuid4().hex[:8]}/",
        presign_seconds=60,
        timeout=5,
    )
    yield store
    await store.aclose()


class TestS3Store:
    async def test_a_file_is_stored_under_its_sha256_and_reads_back(self, s3: S3Storage) -> None:
        data = png_bytes(3 << 20)  # past the spool's memory part: streamed from disk
        with spooled(data) as f:
            stored = await s3.put(f)
            assert f.tell() == 0  # rewound for the caller
        assert stored.key == hashlib.sha256(data).hexdigest()
        assert stored.size == len(data)
        assert await s3.size(stored.key) == len(data)
        assert await _read(s3, stored.key) == data
        listed = [item async for item in s3.list()]
        assert [(i.key, i.size) for i in listed] == [(stored.key, len(data))]

    async def test_the_same_content_twice_is_one_object(self, s3: S3Storage) -> None:
        first = await s3.put(io.BytesIO(b"same bytes"))
        second = await s3.put(io.BytesIO(b"same bytes"))
        assert first == second
        assert len([item async for item in s3.list()]) == 1

    async def test_bytes_that_do_not_match_their_hash_are_refused_and_not_stored(
        self, s3: S3Storage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The key's SHA-256 goes with the PUT (x-amz-checksum-sha256): the store refuses
        the object unless the bytes it received have that hash. Here the hash is another
        content's (as if the file changed between hashing and sending)."""
        data = b"the real content" * 100
        other = hashlib.sha256(b"other content").hexdigest()
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        monkeypatch.setattr(s3store, "hash_file", lambda f: (other, md5, len(data)))
        with pytest.raises(ClientError) as caught:
            await s3.put(io.BytesIO(data))
        assert caught.value.response["Error"]["Code"] == "BadDigest"
        assert await s3.size(other) is None
        assert [item async for item in s3.list()] == []

    async def test_a_presigned_url_serves_the_object_with_the_given_headers(
        self, s3: S3Storage
    ) -> None:
        stored = await s3.put(io.BytesIO(PDF))
        disposition = "attachment; filename*=UTF-8''v%C4%83n-b%E1%BA%A3n.pdf"
        url = await s3.download_url(stored.key, disposition, "application/pdf")
        assert url is not None
        assert "X-Amz-Expires=60" in url
        async with httpx.AsyncClient() as direct:
            r = await direct.get(url)
        assert r.status_code == 200
        assert r.content == PDF
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"] == disposition

    async def test_delete_removes_the_object(self, s3: S3Storage) -> None:
        stored = await s3.put(io.BytesIO(b"to be collected"))
        await s3.delete(stored.key)
        assert await s3.size(stored.key) is None

    async def test_an_unreachable_store_is_unavailable_not_an_error(self) -> None:
        store = S3Storage(
            bucket="qd85-none",
            endpoint=f"http://127.0.0.1:{_closed_port()}",
            access_key="qd85",
            secret_key="x",
            timeout=2,
        )
        try:
            with pytest.raises(StoreUnavailable) as caught:
                await store.put(io.BytesIO(b"x"))
            assert caught.value.status == 503
            assert caught.value.code == "service_unavailable"
            assert caught.value.headers["Retry-After"] == "5"
            for probe in (store.ping(), store.size("a" * 64), store.open("a" * 64)):
                with pytest.raises(StoreUnavailable):
                    await probe
        finally:
            await store.aclose()


# ---------------------------------------------------------------------------------------
# Through the API, with QD85_STORAGE_BACKEND=s3
# ---------------------------------------------------------------------------------------


@pytest.fixture
async def on_s3(seaweed: Seaweed, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """The app's settings switched to the SeaweedFS bucket (a fresh prefix per test)."""
    settings = get_settings()
    for name, value in {
        "storage_backend": "s3",
        "storage_s3_endpoint": seaweed.endpoint,
        "storage_s3_bucket": seaweed.bucket,
        "storage_s3_access_key": "qd85",
        "storage_s3_prefix": f"api-{uuid.uuid4().hex[:8]}/",
        "storage_timeout_seconds": 5.0,
    }.items():
        monkeypatch.setattr(settings, name, value)
    yield settings
    await close_stores()


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


async def _upload(client: httpx.AsyncClient, rid: str, headers: dict[str, str], data: bytes) -> Any:
    return await client.post(
        f"/api/v1/reports/{rid}/evidence",
        headers=headers,
        files={"file": ("ảnh chụp.png", data, "image/png")},
    )


class TestEvidenceOnS3:
    async def test_an_uploaded_file_is_in_the_bucket_and_streams_back(
        self, client: httpx.AsyncClient, org: Org, on_s3: Any
    ) -> None:
        report = await file_report(client, org.headers("member"))
        content = png_bytes(200_000)
        r = await _upload(client, report["id"], org.headers("member"), content)
        assert r.status_code == 201, r.text
        key = r.json()["sha256"]
        assert await storage().size(key) == len(content)
        down = await client.get(r.headers["location"], headers=org.headers("manager_a"))
        assert down.status_code == 200, down.text
        assert down.content == content
        assert down.headers["content-type"] == "image/png"
        assert down.headers["etag"] == f'"{key}"'
        assert down.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")

    async def test_with_presigning_the_download_redirects_to_the_object(
        self, client: httpx.AsyncClient, org: Org, on_s3: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        report = await file_report(client, org.headers("member"))
        content = png_bytes(5000)
        r = await _upload(client, report["id"], org.headers("member"), content)
        assert r.status_code == 201, r.text
        streamed = await client.get(r.headers["location"], headers=org.headers("member"))
        monkeypatch.setattr(on_s3, "storage_s3_presign_seconds", 120)
        down = await client.get(r.headers["location"], headers=org.headers("member"))
        assert down.status_code == 307
        assert down.headers["cache-control"] == "no-store"
        async with httpx.AsyncClient() as direct:
            target = await direct.get(down.headers["location"])
        assert target.status_code == 200
        assert target.content == content
        for header in ("content-type", "content-disposition"):
            assert target.headers[header] == streamed.headers[header]
        # Still authorised by the API first: a manager of another unit gets 404, not a URL.
        outsider = await client.get(r.headers["location"], headers=org.headers("manager_b"))
        assert_problem(outsider, 404, "not_found")

    async def test_a_referenced_object_missing_from_the_bucket_is_404_file_missing(
        self, client: httpx.AsyncClient, org: Org, on_s3: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Streamed or presigned: the same problem, not a bare 500 or the store's 404."""
        report = await file_report(client, org.headers("member"))
        r = await _upload(client, report["id"], org.headers("member"), png_bytes(3000))
        assert r.status_code == 201, r.text
        await storage().delete(r.json()["sha256"])
        before = FILES_MISSING.labels("s3")._value.get()
        down = await client.get(r.headers["location"], headers=org.headers("member"))
        assert_problem(down, 404, "file_missing")
        monkeypatch.setattr(on_s3, "storage_s3_presign_seconds", 120)
        down = await client.get(r.headers["location"], headers=org.headers("member"))
        assert_problem(down, 404, "file_missing")
        assert FILES_MISSING.labels("s3")._value.get() == before + 2

    async def test_an_unreachable_store_makes_uploads_503_while_reads_go_on(
        self, client: httpx.AsyncClient, org: Org, on_s3: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        report = await file_report(client, org.headers("member"))
        headers = org.headers("member")
        store_endpoint = on_s3.storage_s3_endpoint
        monkeypatch.setattr(on_s3, "storage_s3_endpoint", f"http://127.0.0.1:{_closed_port()}")
        r = await _upload(client, report["id"], headers, png_bytes(1000))
        assert_problem(r, 503, "service_unavailable")
        assert r.headers["retry-after"] == "5"
        assert (
            await client.get(f"/api/v1/reports/{report['id']}", headers=headers)
        ).status_code == 200
        listed = await client.get(f"/api/v1/reports/{report['id']}/evidence", headers=headers)
        assert listed.status_code == 200
        assert listed.json()["items"] == []
        assert_problem(await client.get("/readyz"), 503, "service_unavailable")
        await storage().aclose()
        # Reachable again: the next upload works, nothing to reset.
        monkeypatch.setattr(on_s3, "storage_s3_endpoint", store_endpoint)
        r = await _upload(client, report["id"], headers, png_bytes(1000))
        assert r.status_code == 201, r.text
        assert (await client.get("/readyz")).json()["store"] == "s3"
