"""`qd85 storage gc | verify | migrate` (issue 18), on the local store and on a real
SeaweedFS bucket: gc removes only unreferenced objects older than the grace period, verify
finds missing, resized and altered objects, migrate copies a local store into the bucket,
resumes, and reports what does not match its name."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import stat
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.db import utcnow
from api.services import storage_admin
from api.services.files import LocalStorage, Storage, close_stores, storage
from api.services.s3store import S3Storage
from tests.seaweed import Seaweed
from tests.support.factories import make_document, make_unit

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
LATER = timedelta(days=2)
GRACE = timedelta(days=1)


@pytest.fixture(params=["local", "s3"])
async def store(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[Storage]:
    """The app's configured store, emptied: a fresh directory, or a fresh bucket prefix."""
    settings = get_settings()
    if request.param == "s3":
        seaweed: Seaweed = request.getfixturevalue("seaweed")
        for name, value in {
            "storage_backend": "s3",
            "storage_s3_endpoint": seaweed.endpoint,
            "storage_s3_bucket": seaweed.bucket,
            "storage_s3_access_key": "qd85",
            "storage_s3_prefix": f"adm-{uuid.uuid4().hex[:8]}/",
        }.items():
            monkeypatch.setattr(settings, name, value)
    else:
        monkeypatch.setattr(settings, "storage_dir", str(tmp_path / "files"))
    yield storage()
    await close_stores()


async def _keys(store: Storage) -> set[str]:
    return {item.key async for item in store.list()}


async def _referenced_file(session: AsyncSession, content: bytes = PDF) -> str:
    doc = await make_document(session, await make_unit(session), file=content)
    return str(doc.file_sha256)


async def _overwrite(store: Storage, key: str, data: bytes) -> None:
    """Put other bytes under `key`, behind the store's back (a damaged object)."""
    if isinstance(store, LocalStorage):
        path = store.path_of(key)
        os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
        path.write_bytes(data)
    else:
        assert isinstance(store, S3Storage)
        client = await store._client()
        await client.put_object(Bucket=store.bucket, Key=store.object_key(key), Body=data)


class TestGc:
    async def test_removes_only_unreferenced_objects_past_the_grace_period(
        self, store: Storage, session: AsyncSession
    ) -> None:
        kept = await _referenced_file(session)
        orphan = (await store.put(io.BytesIO(b"orphan: its request failed"))).key
        # Now: everything is younger than the grace period.
        young = await storage_admin.gc(session, store, grace=GRACE)
        assert (young.scanned, young.young, young.removed) == (2, 2, [])
        # Later: the orphan goes, the referenced file stays.
        dry = await storage_admin.gc(
            session, store, grace=GRACE, now=utcnow() + LATER, dry_run=True
        )
        assert dry.removed == [orphan]
        assert await _keys(store) == {kept, orphan}
        done = await storage_admin.gc(session, store, grace=GRACE, now=utcnow() + LATER)
        assert (done.removed, done.referenced) == ([orphan], 1)
        assert await _keys(store) == {kept}

    async def test_storing_existing_content_again_refreshes_it(self, store: Storage) -> None:
        """An upload of content already stored (and unreferenced) makes it young again, so
        gc spares it while that request commits the row that will reference it."""
        key = (await store.put(io.BytesIO(b"uploaded twice"))).key
        before = [i.modified async for i in store.list()]
        await asyncio.sleep(1.1)  # S3 times are in whole seconds
        assert (await store.put(io.BytesIO(b"uploaded twice"))).key == key
        after = [i.modified async for i in store.list()]
        assert after[0] > before[0]


class TestVerify:
    async def test_a_consistent_store_passes(self, store: Storage, session: AsyncSession) -> None:
        await _referenced_file(session)
        await _referenced_file(session, PDF + b"% second\n")
        result = await storage_admin.verify(session, store, sample=10)
        assert (result.ok, result.checked, result.hashed) == (True, 2, 2)

    async def test_missing_resized_and_altered_objects_are_reported(
        self, store: Storage, session: AsyncSession
    ) -> None:
        missing = await _referenced_file(session, PDF + b"% a\n")
        resized = await _referenced_file(session, PDF + b"% b\n")
        altered = await _referenced_file(session, PDF + b"% c\n")
        await store.delete(missing)
        await _overwrite(store, resized, b"shorter")
        await _overwrite(store, altered, PDF + b"% X\n")  # same size, other bytes
        result = await storage_admin.verify(session, store, sample=10)
        assert not result.ok
        assert result.missing == [missing]
        assert result.wrong_size == [(resized, len(PDF) + 4, 7)]
        assert result.wrong_hash == [altered]


class TestVerifyCommand:
    async def test_exits_non_zero_when_a_referenced_object_is_missing(
        self, session: AsyncSession, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setattr(get_settings(), "storage_dir", str(tmp_path / "files"))
        key = await _referenced_file(session)
        env = {**os.environ, "QD85_STORAGE_DIR": str(tmp_path / "files")}

        async def run() -> tuple[int, str]:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "api.cli",
                "storage",
                "verify",
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            out, _ = await proc.communicate()
            return proc.returncode or 0, out.decode()

        code, out = await run()
        assert code == 0, out
        assert "1 referenced objects checked, 1 read and hashed; 0 missing" in out
        await storage().delete(key)
        code, out = await run()
        assert code == 1
        assert f"missing {key}" in out


class TestMigrate:
    async def test_copies_a_local_store_into_the_bucket_and_resumes(
        self, seaweed: Seaweed, tmp_path: Path
    ) -> None:
        source = LocalStorage(tmp_path / "local")
        contents = [PDF + bytes([n]) * n for n in range(1, 4)]
        keys = {(await source.put(io.BytesIO(c))).key for c in contents}
        target = S3Storage(
            bucket=seaweed.bucket,
            endpoint=seaweed.endpoint,
            access_key="qd85",
            prefix=f"mig-{uuid.uuid4().hex[:8]}/",
            timeout=5,
        )
        try:
            # A first run that got one object across before it stopped.
            first = next(iter(keys))
            with source.path_of(first).open("rb") as handle:
                await target.put(handle)
            result = await storage_admin.migrate(source, target)
            assert (result.copied, result.skipped, result.failed) == (2, 1, [])
            assert await _keys(target) == keys
            for content in contents:
                key = hashlib.sha256(content).hexdigest()
                assert b"".join([c async for c in await target.open(key)]) == content
            again = await storage_admin.migrate(source, target)
            assert (again.copied, again.skipped) == (0, 3)
        finally:
            await target.aclose()

    async def test_a_local_file_that_does_not_match_its_name_is_reported_not_copied(
        self, seaweed: Seaweed, tmp_path: Path
    ) -> None:
        source = LocalStorage(tmp_path / "local")
        key = (await source.put(io.BytesIO(PDF))).key
        await _overwrite(source, key, PDF[:-1] + b"?")  # damaged on disk
        target = S3Storage(
            bucket=seaweed.bucket,
            endpoint=seaweed.endpoint,
            access_key="qd85",
            prefix=f"mig-{uuid.uuid4().hex[:8]}/",
            timeout=5,
        )
        try:
            result = await storage_admin.migrate(source, target)
            assert result.copied == 0
            assert [k for k, _ in result.failed] == [key]
            assert key not in await _keys(target)
        finally:
            await target.aclose()
